//! sea-orm entities, one per table. They stay inside the store: the layers above see domain types
//! and the store's own row structs.

pub mod api_token;
pub mod audit_head;
pub mod audit_log;
pub mod calendar_day;
pub mod enterprise;
pub mod organisation;
pub mod session;
pub mod user;
pub mod user_role;
