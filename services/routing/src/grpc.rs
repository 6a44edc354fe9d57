//! gRPC adapter of routing.

use crate::assign::{Assigner, ClaimRefused, TransferRefused, TransferRequest, TransferTarget};
use crate::db::entity::assignment;
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

fn assignment_to_proto(assignment: assignment::Model) -> pb::Assignment {
    pb::Assignment {
        conversation_id: assignment.conversation_id.to_string(),
        workspace_id: assignment.workspace_id.to_string(),
        agent_id: assignment.agent_id.to_string(),
        assigned_at: Some(timestamp(assignment.assigned_at)),
        ended_at: assignment.ended_at.map(timestamp),
        end_reason: assignment.end_reason,
        waiting_since: Some(timestamp(assignment.waiting_since)),
        queued_at: Some(timestamp(assignment.queued_at)),
        origin: assignment.origin,
    }
}

/// The stable status of each refused claim; clients match on the code and message.
fn refused(reason: ClaimRefused) -> Status {
    match reason {
        ClaimRefused::AlreadyAssigned => {
            Status::failed_precondition("conversation already assigned")
        }
        ClaimRefused::Closed => Status::failed_precondition("conversation closed"),
        ClaimRefused::AgentFull => Status::resource_exhausted("agent at capacity"),
        ClaimRefused::AgentUnavailable => {
            Status::failed_precondition("agent is offline or disabled")
        }
        ClaimRefused::NotInDepartment => {
            Status::permission_denied("agent is not in the conversation's department")
        }
    }
}

/// The stable status of each refused transfer.
fn transfer_refused(reason: TransferRefused) -> Status {
    match reason {
        TransferRefused::NotHeld => {
            Status::failed_precondition("conversation not held by this agent")
        }
        TransferRefused::TargetNotFound => Status::not_found("transfer target not found"),
        TransferRefused::TargetUnavailable => {
            Status::failed_precondition("target agent is offline or disabled")
        }
        TransferRefused::TargetFull => Status::resource_exhausted("target agent at capacity"),
        TransferRefused::SameAgent => {
            Status::invalid_argument("to_agent_id: cannot transfer to yourself")
        }
    }
}

/// Longest internal note accepted with a transfer, in bytes.
const MAX_NOTE_BYTES: usize = 8 * 1024;

#[tonic::async_trait]
impl RoutingService for RoutingGrpc {
    async fn transfer_conversation(
        &self,
        request: Request<pb::TransferConversationRequest>,
    ) -> GrpcResult<pb::TransferConversationResponse> {
        let request = request.into_inner();
        let target = match (&request.to_agent_id, &request.to_department_id) {
            (Some(agent), None) => TransferTarget::Agent(parse_uuid("to_agent_id", agent)?),
            (None, Some(department)) => {
                TransferTarget::Department(parse_uuid("to_department_id", department)?)
            }
            _ => {
                return Err(Status::invalid_argument(
                    "exactly one of to_agent_id and to_department_id must be set",
                ));
            }
        };
        let note = match request.note.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) if text.len() > MAX_NOTE_BYTES => {
                return Err(Status::invalid_argument("note: must be at most 8192 bytes"));
            }
            Some(text) => Some(text.to_owned()),
        };
        let transfer = TransferRequest {
            workspace_id: parse_uuid("workspace_id", &request.workspace_id)?,
            conversation_id: parse_uuid("conversation_id", &request.conversation_id)?,
            from: parse_uuid("from_agent_id", &request.from_agent_id)?,
            from_name: request.from_agent_name.chars().take(200).collect(),
            target,
            note,
        };
        let assignment = self
            .assigner
            .transfer(transfer)
            .await?
            .map_err(transfer_refused)?;
        Ok(Response::new(pb::TransferConversationResponse {
            assignment: assignment.map(assignment_to_proto),
        }))
    }

    async fn list_queue(
        &self,
        request: Request<pb::ListQueueRequest>,
    ) -> GrpcResult<pb::ListQueueResponse> {
        let workspace_id = parse_uuid("workspace_id", &request.get_ref().workspace_id)?;
        let entries = self.assigner.queue(workspace_id).await?;
        let mut places = std::collections::HashMap::new();
        Ok(Response::new(pb::ListQueueResponse {
            entries: entries
                .into_iter()
                .map(|entry| {
                    let place: &mut u32 = places.entry(entry.department_id).or_default();
                    *place += 1;
                    pb::QueueEntry {
                        conversation_id: entry.conversation_id.to_string(),
                        workspace_id: entry.workspace_id.to_string(),
                        department_id: entry.department_id.map(|id| id.to_string()),
                        enqueued_at: Some(timestamp(entry.enqueued_at)),
                        priority: entry.priority,
                        position: *place,
                        visitor_id: entry
                            .visitor_id
                            .map(|id| id.to_string())
                            .unwrap_or_default(),
                    }
                })
                .collect(),
        }))
    }

    async fn list_assignments(
        &self,
        request: Request<pb::ListAssignmentsRequest>,
    ) -> GrpcResult<pb::ListAssignmentsResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let agent_id = request
            .agent_id
            .as_deref()
            .map(|id| parse_uuid("agent_id", id))
            .transpose()?;
        let assignments = self
            .assigner
            .assignments(workspace_id, agent_id, request.include_ended)
            .await?;
        Ok(Response::new(pb::ListAssignmentsResponse {
            assignments: assignments.into_iter().map(assignment_to_proto).collect(),
        }))
    }

    async fn drain_queue(
        &self,
        request: Request<pb::DrainQueueRequest>,
    ) -> GrpcResult<pb::DrainQueueResponse> {
        let workspace_id = parse_uuid("workspace_id", &request.get_ref().workspace_id)?;
        let outcome = self
            .assigner
            .drain_and_wait(workspace_id, std::time::Duration::from_secs(10))
            .await?;
        Ok(Response::new(pb::DrainQueueResponse {
            assigned: outcome.assigned,
            still_queued: outcome.still_queued,
        }))
    }

    async fn claim_conversation(
        &self,
        request: Request<pb::ClaimConversationRequest>,
    ) -> GrpcResult<pb::ClaimConversationResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let conversation_id = parse_uuid("conversation_id", &request.conversation_id)?;
        let agent_id = parse_uuid("agent_id", &request.agent_id)?;
        let assignment = self
            .assigner
            .claim(workspace_id, conversation_id, agent_id)
            .await?
            .map_err(refused)?;
        Ok(Response::new(pb::ClaimConversationResponse {
            assignment: Some(assignment_to_proto(assignment)),
        }))
    }

    async fn get_queue_position(
        &self,
        request: Request<pb::GetQueuePositionRequest>,
    ) -> GrpcResult<pb::GetQueuePositionResponse> {
        let workspace_id = parse_uuid("workspace_id", &request.get_ref().workspace_id)?;
        let conversation_id = parse_uuid("conversation_id", &request.get_ref().conversation_id)?;
        let position = self
            .assigner
            .position(workspace_id, conversation_id)
            .await?;
        Ok(Response::new(match position {
            Some(position) => pb::GetQueuePositionResponse {
                queued: true,
                position: position.position,
                expected_wait_secs: position.expected_wait_secs,
            },
            None => pb::GetQueuePositionResponse::default(),
        }))
    }
}
