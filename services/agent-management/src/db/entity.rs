//! sea-orm entities of agent management.

pub mod agent;
pub mod agent_department;
pub mod agent_totp;
pub mod api_token;
pub mod audit_event;
pub mod canned_reply;
pub mod department;
pub mod login_attempt;
pub mod login_session;
pub mod presence_lease;
pub mod workspace;
