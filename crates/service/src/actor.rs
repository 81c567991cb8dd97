//! The acting user, as the service sees it, and the checks every use case starts with.

use choucha_domain::role::Role;
use choucha_store::audit::AuditActor;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    /// The organisation's division code (bureaus), used to scope registry access.
    pub org_division: Option<String>,
    pub org_kind: Option<String>,
    /// For enterprise users: the registry entry they act for.
    pub enterprise_id: Option<i64>,
}

impl Actor {
    /// Whether the actor holds `r`. Access is decided by the permission matrix
    /// ([`crate::access`]); this is for working out relations and for data scoping only.
    pub(crate) fn has(&self, r: Role) -> bool {
        self.roles.contains(&r)
    }

    pub fn audit_actor(&self) -> AuditActor {
        AuditActor { id: Some(self.user_id), name: format!("{}({})", self.display_name, self.username) }
    }

    /// The division prefix this user's registry access is limited to: bureau staff see their own
    /// area; admins and institution staff (who sample across a plan's area) are not limited.
    pub fn registry_scope(&self) -> Option<String> {
        if self.scope_any() == Some(crate::access::Scope::All) {
            return None;
        }
        match (self.org_kind.as_deref(), &self.org_division) {
            (Some("province_bureau" | "city_bureau" | "local_bureau"), Some(d)) => {
                choucha_domain::division::DivisionCode::parse(d).ok().map(|d| d.scope_prefix().to_string())
            }
            _ => None,
        }
    }
}
