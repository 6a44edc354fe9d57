//! gRPC adapter of routing.

use crate::assign::Assigner;
use std::sync::Arc;
use switchboard_platform::grpc::{parse_uuid, timestamp};
use switchboard_proto::routing::v1::{self as pb, routing_service_server::RoutingService};
use tonic::{Request, Response, Status};

type GrpcResult<T> = Result<Response<T>, Status>;

/// Implements `switchboard.routing.v1.RoutingService`.
#[derive(Debug, Clone)]
pub struct RoutingGrpc {
    assigner: Arc<Assigner>,
}

impl RoutingGrpc {
    /// Returns the adapter over `assigner`.
    pub fn new(assigner: Arc<Assigner>) -> Self {
        Self { assigner }
    }
}

#[tonic::async_trait]
impl RoutingService for RoutingGrpc {
    async fn list_queue(
        &self,
        request: Request<pb::ListQueueRequest>,
    ) -> GrpcResult<pb::ListQueueResponse> {
        let workspace_id = parse_uuid("workspace_id", &request.get_ref().workspace_id)?;
        let entries = self.assigner.queue(workspace_id).await?;
        Ok(Response::new(pb::ListQueueResponse {
            entries: entries
                .into_iter()
                .map(|entry| pb::QueueEntry {
                    conversation_id: entry.conversation_id.to_string(),
                    workspace_id: entry.workspace_id.to_string(),
                    department_id: entry.department_id.map(|id| id.to_string()),
                    enqueued_at: Some(timestamp(entry.enqueued_at)),
                })
                .collect(),
        }))
    }

    async fn list_assignments(
        &self,
        request: Request<pb::ListAssignmentsRequest>,
    ) -> GrpcResult<pb::ListAssignmentsResponse> {
        let workspace_id = parse_uuid("workspace_id", &request.get_ref().workspace_id)?;
        let agent_id = request
            .get_ref()
            .agent_id
            .as_deref()
            .map(|id| parse_uuid("agent_id", id))
            .transpose()?;
        let assignments = self.assigner.assignments(workspace_id, agent_id).await?;
        Ok(Response::new(pb::ListAssignmentsResponse {
            assignments: assignments
                .into_iter()
                .map(|assignment| pb::Assignment {
                    conversation_id: assignment.conversation_id.to_string(),
                    workspace_id: assignment.workspace_id.to_string(),
                    agent_id: assignment.agent_id.to_string(),
                    assigned_at: Some(timestamp(assignment.assigned_at)),
                })
                .collect(),
        }))
    }

    async fn drain_queue(
        &self,
        request: Request<pb::DrainQueueRequest>,
    ) -> GrpcResult<pb::DrainQueueResponse> {
        let workspace_id = parse_uuid("workspace_id", &request.get_ref().workspace_id)?;
        let outcome = self.assigner.drain(workspace_id).await?;
        Ok(Response::new(pb::DrainQueueResponse {
            assigned: outcome.assigned,
            still_queued: outcome.still_queued,
        }))
    }
}
