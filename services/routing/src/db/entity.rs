//! sea-orm entities of routing.

pub mod assignment;
pub mod queue_entry;
