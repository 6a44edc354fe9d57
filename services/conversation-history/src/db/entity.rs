//! sea-orm entities of conversation history.

pub mod conversation;
pub mod message;
pub mod note;
pub mod read_mark;
pub mod retention_policy;
pub mod visitor;
