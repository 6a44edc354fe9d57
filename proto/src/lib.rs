//! The one gRPC contract of Switchboard, generated from `proto/switchboard/**`.
//!
//! Modules mirror the proto packages (`switchboard.<area>.v1`). Only this crate runs protoc, so a
//! message used by two services is the same Rust type in both. Domain types live in the service
//! crates, which convert to and from these at their gRPC edge.

#![allow(missing_docs, unreachable_pub, clippy::all)]

/// Types shared by every service.
pub mod common {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("switchboard.common.v1");
    }
}

/// Agent management: workspaces, agents, departments, sessions, presence.
pub mod agent {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("switchboard.agent.v1");
    }
}

/// Conversation history: visitors, conversations, messages.
pub mod history {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("switchboard.history.v1");
    }
}

/// Routing: queues and assignment.
pub mod routing {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("switchboard.routing.v1");
    }
}

/// Events carried on NATS (or the embedded in-process bus).
pub mod events {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("switchboard.events.v1");
    }
}

/// Integrations: webhooks and their deliveries.
pub mod integrations {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("switchboard.integrations.v1");
    }
}

/// Encoded file descriptor set of every package, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    tonic::include_file_descriptor_set!("switchboard_descriptor");
