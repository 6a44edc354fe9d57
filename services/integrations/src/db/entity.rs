//! sea-orm entities of the integrations tables.

pub mod delivery;
pub mod settings;
pub mod webhook;
