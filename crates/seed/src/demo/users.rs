//! The demo's accounts: one per role (two samplers), each in its organisation, the enterprise user
//! bound to the registry's first entry.

use choucha_domain::role::Role;
use choucha_service::users::{self, NewUserInput};
use choucha_service::{Result, Services};
use choucha_store::users as store_users;

use super::organisations::{LOCAL_ORG, ORGS};
use super::registry::{demo_enterprise, demo_enterprise_uscc};
use super::{
    AUDIT_NAME, CITY_ORG, DemoAccount, DemoProgress, PASSWORD, SHANXI_CENTRE_ORG, TIANFANGBIAO_ORG, TIANJIN51_ORG,
};

pub(super) struct DemoUser {
    username: &'static str,
    display_name: &'static str,
    role: Role,
    org: Option<&'static str>,
    phone: &'static str,
    /// Samplers show their identity on site (DESIGN.md rule 2): a synthetic number with a valid
    /// GB 11643 check digit is derived from this birth date and sequence.
    id_card: Option<(&'static str, &'static str, &'static str)>,
}

/// One account per role; two samplers, since a sampling needs at least two (DESIGN.md rule 2).
/// Samplers and testers work for different institutions (抽检分离, rule 1).
pub(super) const USERS: &[DemoUser] = &[
    // The three administrators (三权分立): accounts, roles, the audit log.
    DemoUser {
        username: "admin",
        display_name: "系统管理员",
        role: Role::SystemAdmin,
        org: None,
        phone: "",
        id_card: None,
    },
    DemoUser {
        username: "security",
        display_name: "安全管理员",
        role: Role::SecurityAdmin,
        org: None,
        phone: "",
        id_card: None,
    },
    DemoUser {
        username: "auditor",
        display_name: "审计管理员",
        role: Role::AuditAdmin,
        org: None,
        phone: "",
        id_card: None,
    },
    DemoUser {
        username: "regulator",
        display_name: "王建国",
        role: Role::Regulator,
        org: Some(CITY_ORG),
        phone: "0352-0000001",
        id_card: None,
    },
    // A second regulator of the bureau: an announcement is approved by someone other than its drafter.
    DemoUser {
        username: "regulator2",
        display_name: "李秀英",
        role: Role::Regulator,
        org: Some(CITY_ORG),
        phone: "0352-0000002",
        id_card: None,
    },
    DemoUser {
        username: "local_regulator",
        display_name: "李秀英",
        role: Role::LocalRegulator,
        org: Some(LOCAL_ORG),
        phone: "0352-0000002",
        id_card: None,
    },
    DemoUser {
        username: "sampler",
        display_name: "张伟",
        role: Role::Sampler,
        org: Some(TIANJIN51_ORG),
        phone: "13800000001",
        id_card: Some(("120104", "19880512", "031")),
    },
    DemoUser {
        username: "sampler2",
        display_name: "刘洋",
        role: Role::Sampler,
        org: Some(TIANJIN51_ORG),
        phone: "13800000002",
        id_card: Some(("120105", "19920807", "052")),
    },
    DemoUser {
        username: "sample_custodian",
        display_name: "陈静",
        role: Role::SampleCustodian,
        org: Some(TIANFANGBIAO_ORG),
        phone: "13800000003",
        id_card: None,
    },
    DemoUser {
        username: "tester",
        display_name: "赵磊",
        role: Role::Tester,
        org: Some(TIANFANGBIAO_ORG),
        phone: "13800000004",
        id_card: None,
    },
    DemoUser {
        username: "report_approver",
        display_name: "孙丽",
        role: Role::ReportApprover,
        org: Some(TIANFANGBIAO_ORG),
        phone: "13800000005",
        id_card: None,
    },
    // The laboratory of 天津五十一站, which tests Datong's 车用柴油: a custodian, two testers and two
    // reviewers/approvers, so a report can be prepared, reviewed and approved by three people (rule 15).
    DemoUser {
        username: "tj_custodian",
        display_name: "马丽",
        role: Role::SampleCustodian,
        org: Some(TIANJIN51_ORG),
        phone: "13800000011",
        id_card: None,
    },
    DemoUser {
        username: "tj_tester",
        display_name: "高强",
        role: Role::Tester,
        org: Some(TIANJIN51_ORG),
        phone: "13800000012",
        id_card: None,
    },
    DemoUser {
        username: "tj_tester2",
        display_name: "林芳",
        role: Role::Tester,
        org: Some(TIANJIN51_ORG),
        phone: "13800000013",
        id_card: None,
    },
    DemoUser {
        username: "tj_reviewer",
        display_name: "郭明",
        role: Role::ReportApprover,
        org: Some(TIANJIN51_ORG),
        phone: "13800000014",
        id_card: None,
    },
    DemoUser {
        username: "tj_approver",
        display_name: "何平",
        role: Role::ReportApprover,
        org: Some(TIANJIN51_ORG),
        phone: "13800000015",
        id_card: None,
    },
    // The laboratory of 山西省检验检测中心, which takes re-tests of other institutions' samples
    // (rule 18: another institution where possible).
    DemoUser {
        username: "sx_custodian",
        display_name: "韩雪",
        role: Role::SampleCustodian,
        org: Some(SHANXI_CENTRE_ORG),
        phone: "13800000021",
        id_card: None,
    },
    DemoUser {
        username: "sx_tester",
        display_name: "冯涛",
        role: Role::Tester,
        org: Some(SHANXI_CENTRE_ORG),
        phone: "13800000022",
        id_card: None,
    },
    DemoUser {
        username: "sx_reviewer",
        display_name: "曹颖",
        role: Role::ReportApprover,
        org: Some(SHANXI_CENTRE_ORG),
        phone: "13800000023",
        id_card: None,
    },
    DemoUser {
        username: "sx_approver",
        display_name: "彭军",
        role: Role::ReportApprover,
        org: Some(SHANXI_CENTRE_ORG),
        phone: "13800000024",
        id_card: None,
    },
    DemoUser {
        username: "enterprise",
        display_name: "周涛",
        role: Role::Enterprise,
        org: None,
        phone: "13800000006",
        id_card: None,
    },
];

/// The demo usernames by role (the browser tests sign in as each).
pub fn usernames() -> Vec<(&'static str, Role)> {
    USERS.iter().map(|u| (u.username, u.role)).collect()
}

/// A resident identity number (GB 11643): region (6), birth date (8), sequence (3), check character.
pub(super) fn id_card_no(region: &str, birth: &str, seq: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let body = format!("{region}{birth}{seq}");
    let sum: u32 = body.chars().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap_or(0) * w).sum();
    format!("{body}{}", CHECK[(sum % 11) as usize])
}

pub(super) async fn load_users(
    s: &Services,
    progress: &mut impl FnMut(DemoProgress),
) -> Result<(usize, Vec<DemoAccount>)> {
    let enterprise_uscc = demo_enterprise_uscc().to_string();
    let enterprise_name = demo_enterprise().name;
    let mut created = 0;
    let mut accounts = Vec::with_capacity(USERS.len());
    for (i, u) in USERS.iter().enumerate() {
        let exists = store_users::find_by_username(s.store().reader(), u.username).await?.is_some();
        if !exists {
            let input = NewUserInput {
                username: u.username.into(),
                display_name: u.display_name.into(),
                password: PASSWORD.into(),
                roles: vec![u.role.as_str().into()],
                org_code: u.org.map(str::to_string),
                enterprise_uscc: (u.role == Role::Enterprise).then(|| enterprise_uscc.clone()),
                phone: u.phone.into(),
                id_card_no: u.id_card.map(|(r, b, q)| id_card_no(r, b, q)).unwrap_or_default(),
            };
            users::create_as_system(s, AUDIT_NAME, input).await?;
            created += 1;
        }
        let belongs_to = match (u.org, u.role) {
            (Some(code), _) => ORGS.iter().find(|o| o.code == code).map(|o| o.name.to_string()),
            (None, Role::Enterprise) => Some(enterprise_name.clone()),
            (None, _) => None,
        };
        accounts.push(DemoAccount {
            username: u.username.into(),
            display_name: u.display_name.into(),
            roles: vec![u.role.as_str().into()],
            role_labels: u.role.label().into(),
            belongs_to,
            created: !exists,
        });
        progress(DemoProgress::Users { done: i + 1, total: USERS.len() });
    }
    Ok((created, accounts))
}
