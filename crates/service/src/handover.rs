//! Hand-over after sampling, as the web reaches it: the custody chain and dispatch
//! ([`crate::custody`]), the backup portion kept at the enterprise ([`crate::backup_requests`]),
//! arrival and not-sampled ([`crate::arrival`]), the entry deadline of rule 16
//! ([`crate::entry_deadlines`]), the plan's costs ([`crate::plan_costs`]), the inbox
//! ([`crate::inbox`]) and the task's forms ([`crate::task_documents`]). Each lives in its own module;
//! this one only names them together.

pub use crate::arrival::*;
pub use crate::backup_requests::*;
pub use crate::custody::*;
pub use crate::entry_deadlines::*;
pub use crate::inbox::*;
pub use crate::plan_costs::*;
pub use crate::task_documents::*;
