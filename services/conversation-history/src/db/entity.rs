//! sea-orm entities of conversation history.

pub mod conversation;
pub mod message;
pub mod visitor;
