//! sea-orm entities of routing.

pub mod agent_load;
pub mod assignment;
pub mod drain_lease;
pub mod queue_entry;
pub mod rotation;
