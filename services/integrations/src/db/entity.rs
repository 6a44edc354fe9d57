//! sea-orm entities of the integrations tables.

pub mod delivery;
pub mod event;
pub mod horizon;
pub mod settings;
pub mod webhook;
