//! Plumbing shared by every Switchboard component, and nothing else.
//!
//! This crate owns how a process is configured ([`config`]), observed ([`telemetry`], [`trace`]) and stopped
//! ([`shutdown`]); how gRPC servers and clients are built and how errors become `tonic::Status`
//! ([`grpc`]); how databases are opened ([`db`]); how events travel ([`bus`], [`subjects`]) and how
//! a committed database row becomes a published event ([`outbox`]). It deliberately holds no domain
//! types: conversations, agents and queues belong to the service crates.

pub mod actor;
pub mod bus;
pub mod config;
pub mod db;
pub mod grpc;
pub mod health;
pub mod metrics;
pub mod outbox;
pub mod service;
pub mod shutdown;
pub mod subjects;
pub mod telemetry;
pub mod trace;
pub mod validate;

#[cfg(feature = "testing")]
pub mod testing;
