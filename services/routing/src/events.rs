//! Routing's durable consumers: conversation lifecycle and agent presence.
//!
//! Handlers are idempotent (every write is an upsert or a conditional update) because the bus
//! delivers at least once and may redeliver out of order. A handler error leaves the event to
//! be delivered again; an undecodable event is logged and dropped, since no retry can fix it.

use crate::RoutingResult;
use crate::assign::Assigner;
use prost::Message as _;
use std::sync::Arc;
use switchboard_platform::bus::{ConsumerSpec, Event, HandlerError, SharedBus, handler};
use switchboard_platform::subjects::Subjects;
use switchboard_proto::common::v1::AgentStatus;
use switchboard_proto::events::v1::{Envelope, envelope::Payload};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

/// Registers routing's consumers on `bus`; they run on `tasks` until `shutdown`.
pub async fn start(
    bus: &SharedBus,
    subjects: &Subjects,
    assigner: Arc<Assigner>,
    tasks: &TaskTracker,
    shutdown: CancellationToken,
) -> RoutingResult<()> {
    for (name, filter) in [
        ("routing-lifecycle", subjects.all_conversation_lifecycles()),
        ("routing-presence", subjects.all_agent_presence()),
    ] {
        let assigner = assigner.clone();
        let consumer = bus
            .consume(
                ConsumerSpec {
                    durable: subjects.durable(name),
                    filter,
                },
                handler(move |event| handle(assigner.clone(), event)),
                shutdown.clone(),
            )
            .await?;
        tasks.spawn(async move {
            let _ = consumer.await;
        });
    }
    Ok(())
}

async fn handle(assigner: Arc<Assigner>, event: Event) -> Result<(), HandlerError> {
    let envelope = match Envelope::decode(event.payload.as_ref()) {
        Ok(envelope) => envelope,
        Err(error) => {
            tracing::error!(subject = %event.subject, %error, "undecodable event dropped");
            return Ok(());
        }
    };
    let drain_workspace = match envelope.payload {
        Some(Payload::ConversationOpened(opened)) => match opened.conversation {
            Some(conversation) => assigner.enqueue(&conversation).await?,
            None => None,
        },
        Some(Payload::ConversationAssigned(assigned)) => {
            if let Some(conversation) = assigned.conversation {
                assigner.record_assignment(&conversation).await?;
            }
            None
        }
        Some(Payload::ConversationTransferred(transferred)) => {
            if let Some(conversation) = transferred.conversation {
                assigner.record_assignment(&conversation).await?;
            }
            None
        }
        Some(Payload::ConversationClosed(closed)) => match closed.conversation {
            Some(conversation) => assigner.release(&conversation).await?,
            None => None,
        },
        Some(Payload::ConversationRequeued(requeued)) => {
            let ids = requeued.conversation.as_ref().and_then(|conversation| {
                Uuid::parse_str(&conversation.id)
                    .ok()
                    .zip(Uuid::parse_str(&requeued.previous_agent_id).ok())
            });
            let department = requeued
                .conversation
                .as_ref()
                .and_then(|conversation| conversation.department_id.as_deref())
                .and_then(|id| Uuid::parse_str(id).ok());
            match ids {
                Some((conversation_id, previous_agent_id)) => {
                    assigner
                        .requeued(
                            conversation_id,
                            previous_agent_id,
                            &requeued.reason,
                            department,
                        )
                        .await?;
                    Uuid::parse_str(&envelope.workspace_id).ok()
                }
                None => None,
            }
        }
        Some(Payload::AgentStatusChanged(changed))
            if changed.status == AgentStatus::Online as i32 =>
        {
            Uuid::parse_str(&envelope.workspace_id).ok()
        }
        Some(Payload::AgentStatusChanged(changed))
            if changed.status == AgentStatus::Offline as i32 =>
        {
            let ids = Uuid::parse_str(&envelope.workspace_id)
                .ok()
                .zip(Uuid::parse_str(&changed.agent_id).ok());
            match ids {
                Some((workspace_id, agent_id)) => {
                    let reason = if changed.reason == "disconnected" {
                        "agent_disconnected"
                    } else {
                        "agent_offline"
                    };
                    assigner.agent_left(workspace_id, agent_id, reason).await?
                }
                None => None,
            }
        }
        _ => None,
    };
    if let Some(workspace_id) = drain_workspace {
        // A failed drain is not a failed event: the queue entry is stored and the sweep retries.
        if let Err(error) = assigner.drain(workspace_id).await {
            tracing::warn!(%workspace_id, %error, "drain after event failed, sweep will retry");
        }
    }
    Ok(())
}
