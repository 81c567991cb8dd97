//! sea-orm entities, one per table. They stay inside the store: the layers above see domain types
//! and the store's own row structs.

pub mod announcement;
pub mod api_token;
pub mod audit_head;
pub mod audit_log;
pub mod backup_request;
pub mod batch_allowance;
pub mod calendar_day;
pub mod custody_event;
pub mod delivery;
pub mod draw;
pub mod enterprise;
pub mod evidence;
pub mod inbox_item;
pub mod lab_report;
pub mod lab_result;
pub mod lab_sample;
pub mod lab_screening;
pub mod objection;
pub mod organisation;
pub mod plan;
pub mod plan_amendment;
pub mod plan_item;
pub mod quota_group;
pub mod record_signature;
pub mod rules_version;
pub mod sampler_conflict;
pub mod sampling_record;
pub mod sampling_task;
pub mod sampling_task_member;
pub mod session;
pub mod task_arrival;
pub mod task_outcome;
pub mod upload;
pub mod user;
pub mod user_role;
