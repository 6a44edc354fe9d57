//! One socket's conversation with the gateway: identification, then frame by frame.

use super::follow::{self, Follower, Start, TypingEvent};
use super::limits::{ConnectionSlot, RateLimiter};
use super::protocol::{self, ClientFrame, ErrorCode, Sender, ServerFrame};
use super::{Inbound, Outbound, VisitorQuery, next_text, view};
use crate::state::Gateway;
use crate::stats::{ConnectionStats, Kind};
use axum::extract::ws::WebSocket;
use futures_util::StreamExt;
use futures_util::stream::SplitStream;
use prost::Message as _;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard_platform::trace::SpanLink;
use switchboard_proto::agent::v1 as agent_pb;
use switchboard_proto::common::v1::{ConversationStatus, SenderKind};
use switchboard_proto::events::v1::{Envelope, envelope::Payload};
use switchboard_proto::history::v1 as history_pb;
use switchboard_proto::routing::v1 as routing_pb;
use tokio::task::JoinHandle;
use tonic::Code;
use tracing::Instrument as _;
use uuid::Uuid;

/// Who is on the other end.
#[derive(Debug, Clone)]
enum Identity {
    Visitor { visitor_id: Uuid, name: String },
    Agent { agent_id: Uuid, name: String },
}

/// The conversations a socket follows, shared with its agent-inbox task.
type Follows = Arc<Mutex<HashMap<Uuid, JoinHandle<()>>>>;

struct Session {
    gateway: Arc<Gateway>,
    outbound: Outbound,
    workspace_id: Uuid,
    identity: Identity,
    connection_id: String,
    follows: Follows,
    limiter: RateLimiter,
    /// Visitors: the conversation a message without `conversation_id` goes to.
    open_conversation: Option<Uuid>,
    /// Visitors: the department new conversations go to.
    department_id: Option<Uuid>,
    /// The connection's span, which each frame's span links to.
    connection_span: Option<SpanLink>,
}

/// Runs a visitor socket.
pub(super) async fn visitor(
    gateway: Arc<Gateway>,
    outbound: Outbound,
    mut reader: SplitStream<WebSocket>,
    query: VisitorQuery,
    user_agent: Option<String>,
) {
    let Some((session, _slot)) = identify_visitor(&gateway, &outbound, query, user_agent).await
    else {
        return;
    };
    let _counted = ConnectionStats::count(&gateway, session.workspace_id, Kind::Visitor);
    session.run(&mut reader).await;
}

async fn identify_visitor(
    gateway: &Arc<Gateway>,
    outbound: &Outbound,
    query: VisitorQuery,
    user_agent: Option<String>,
) -> Option<(Session, ConnectionSlot)> {
    let refuse = |code: ErrorCode, message: &str, close: u16| {
        outbound.send(&ServerFrame::error(code, message, None));
        outbound.close_with(close, message);
    };
    let site_key = query.site_key.unwrap_or_default();
    let workspace = match gateway
        .peers
        .agents
        .clone()
        .get_workspace_by_site_key(agent_pb::GetWorkspaceBySiteKeyRequest { site_key })
        .await
    {
        Ok(response) => response.into_inner().workspace,
        Err(status) if matches!(status.code(), Code::NotFound | Code::InvalidArgument) => None,
        Err(_) => {
            refuse(ErrorCode::Unavailable, "service unavailable, retry", 1013);
            return None;
        }
    };
    let Some(workspace_id) = workspace.and_then(|workspace| Uuid::parse_str(&workspace.id).ok())
    else {
        refuse(ErrorCode::InvalidSiteKey, "unknown site key", 1008);
        return None;
    };
    let department_id = match query.department.as_deref().filter(|id| !id.is_empty()) {
        None => None,
        Some(id) => match Uuid::parse_str(id) {
            Ok(id) => Some(id),
            Err(_) => {
                refuse(ErrorCode::InvalidDepartment, "unknown department", 1008);
                return None;
            }
        },
    };
    let availability = match availability(gateway, workspace_id, department_id).await {
        Ok(availability) => availability,
        Err(status) if status.code() == Code::NotFound => {
            refuse(ErrorCode::InvalidDepartment, "unknown department", 1008);
            return None;
        }
        Err(_) => {
            refuse(ErrorCode::Unavailable, "service unavailable, retry", 1013);
            return None;
        }
    };
    let mut metadata = HashMap::new();
    if let Some(agent) = user_agent {
        metadata.insert("user_agent".to_owned(), agent);
    }
    if let Some(page) = query.page_url {
        metadata.insert("page_url".to_owned(), page.chars().take(1000).collect());
    }
    // A malformed token is treated like none: the browser simply becomes a new visitor.
    let token = query.visitor_token.filter(|token| {
        !token.is_empty() && token.len() <= 128 && token.bytes().all(|byte| byte.is_ascii_graphic())
    });
    let identity = verified_identity(
        gateway,
        workspace_id,
        query.user_id,
        query.user_hash,
        query.user_name,
        query.user_email,
    )
    .await;
    let (external_id, display_name) = match identity {
        Some(identity) => {
            metadata.insert("verified".to_owned(), "true".to_owned());
            if let Some(email) = identity.email {
                metadata.insert("email".to_owned(), email);
            }
            (Some(identity.user_id), identity.name.unwrap_or_default())
        }
        None => (None, String::new()),
    };
    let upserted = gateway
        .peers
        .history
        .clone()
        .upsert_visitor(history_pb::UpsertVisitorRequest {
            workspace_id: workspace_id.to_string(),
            visitor_token: token,
            external_id,
            display_name,
            metadata,
            ..Default::default()
        })
        .await;
    let Ok(upserted) = upserted.map(tonic::Response::into_inner) else {
        refuse(ErrorCode::Unavailable, "service unavailable, retry", 1013);
        return None;
    };
    let visitor = upserted.visitor?;
    let visitor_id = Uuid::parse_str(&visitor.id).ok()?;
    let Some(slot) = gateway
        .visitors
        .acquire(visitor_id, gateway.config.max_connections_per_visitor)
    else {
        refuse(
            ErrorCode::TooManyConnections,
            "too many open connections",
            1008,
        );
        return None;
    };
    let mut session = Session::new(
        gateway.clone(),
        outbound.clone(),
        workspace_id,
        Identity::Visitor {
            visitor_id,
            name: visitor.display_name,
        },
    );
    let open = gateway
        .peers
        .history
        .clone()
        .list_conversations(history_pb::ListConversationsRequest {
            workspace_id: workspace_id.to_string(),
            visitor_id: Some(visitor_id.to_string()),
            page: Some(switchboard_proto::common::v1::PageRequest { limit: 10 }),
            ..Default::default()
        })
        .await
        .ok()
        .and_then(|response| {
            response
                .into_inner()
                .conversations
                .into_iter()
                .find(|conversation| conversation.status != ConversationStatus::Closed as i32)
        });
    session.department_id = department_id;
    session.send(ServerFrame::VisitorWelcome {
        visitor_id: visitor_id.to_string(),
        visitor_token: upserted.visitor_token,
        conversation: open.as_ref().map(view::visitor_conversation),
        availability,
    });
    // Not followed yet: the client resumes from its own last seq, so that what it receives
    // stays in order and without duplicates.
    session.open_conversation =
        open.and_then(|conversation| Uuid::parse_str(&conversation.id).ok());
    Some((session, slot))
}

/// A customer the site vouched for with a valid signature.
struct VerifiedIdentity {
    user_id: String,
    name: Option<String>,
    email: Option<String>,
}

/// Returns the site's signed identity when its signature is valid. Anything else (no hash, a
/// wrong one, malformed fields, agent-management unreachable) is ignored: the visitor stays
/// anonymous and is never merged with the customer's history.
async fn verified_identity(
    gateway: &Gateway,
    workspace_id: Uuid,
    user_id: Option<String>,
    user_hash: Option<String>,
    name: Option<String>,
    email: Option<String>,
) -> Option<VerifiedIdentity> {
    // The same rule as history's external ids: at most 64 printable ASCII characters.
    let user_id = user_id.filter(|id| {
        !id.is_empty() && id.len() <= 64 && id.bytes().all(|byte| byte.is_ascii_graphic())
    })?;
    let user_hash = user_hash.filter(|hash| hash.len() == 64)?;
    let verified = gateway
        .peers
        .agents
        .clone()
        .verify_visitor_identity(agent_pb::VerifyVisitorIdentityRequest {
            workspace_id: workspace_id.to_string(),
            user_id: user_id.clone(),
            user_hash: user_hash.to_ascii_lowercase(),
        })
        .await
        .is_ok_and(|response| response.get_ref().verified);
    let outcome = if verified { "verified" } else { "rejected" };
    metrics::counter!("switchboard_visitor_identities_total", "outcome" => outcome).increment(1);
    if !verified {
        return None;
    }
    Some(VerifiedIdentity {
        user_id,
        name: name
            .map(|name| name.trim().chars().take(100).collect::<String>())
            .filter(|name| !name.is_empty()),
        email: email.filter(|email| switchboard_platform::validate::is_email(email)),
    })
}

/// Asks agent-management whether someone can answer the workspace (department) now.
async fn availability(
    gateway: &Gateway,
    workspace_id: Uuid,
    department_id: Option<Uuid>,
) -> Result<protocol::AvailabilityView, tonic::Status> {
    let response = gateway
        .peers
        .agents
        .clone()
        .get_availability(agent_pb::GetAvailabilityRequest {
            workspace_id: workspace_id.to_string(),
            department_id: department_id.map(|id| id.to_string()),
        })
        .await?
        .into_inner();
    Ok(protocol::AvailabilityView {
        open: response.open,
        reason: (!response.open).then_some(response.reason),
    })
}

/// Runs an agent socket: `auth` first, within the configured time.
pub(super) async fn agent(
    gateway: Arc<Gateway>,
    outbound: Outbound,
    mut reader: SplitStream<WebSocket>,
) {
    let deadline = Duration::from_secs(gateway.config.auth_timeout_secs.max(1));
    let first = tokio::time::timeout(deadline, next_text(&mut reader, &outbound, &gateway)).await;
    let refuse = |code: ErrorCode, message: &str| {
        outbound.send(&ServerFrame::error(code, message, None));
        outbound.close_with(1008, message);
    };
    let token = match first {
        Err(_) => return refuse(ErrorCode::AuthRequired, "no auth frame in time"),
        Ok(Inbound::Gone) => return,
        Ok(Inbound::Text(text)) => match protocol::parse(&text) {
            Ok(ClientFrame::Auth { token }) => token,
            _ => return refuse(ErrorCode::AuthRequired, "the first frame must be auth"),
        },
    };
    let validated = gateway
        .peers
        .agents
        .clone()
        .validate_token(agent_pb::ValidateTokenRequest {
            token: token.clone(),
        })
        .await;
    let (agent, workspace) = match validated.map(tonic::Response::into_inner) {
        Ok(agent_pb::ValidateTokenResponse {
            agent: Some(agent),
            workspace: Some(workspace),
        }) => (agent, workspace),
        Ok(_) => return refuse(ErrorCode::InvalidToken, "invalid or expired token"),
        Err(status) if status.code() == Code::Unauthenticated => {
            return refuse(ErrorCode::InvalidToken, "invalid or expired token");
        }
        Err(_) => {
            outbound.send(&ServerFrame::error(
                ErrorCode::Unavailable,
                "service unavailable, retry",
                None,
            ));
            return outbound.close_with(1013, "service unavailable");
        }
    };
    let (Ok(agent_id), Ok(workspace_id)) =
        (Uuid::parse_str(&agent.id), Uuid::parse_str(&workspace.id))
    else {
        return refuse(ErrorCode::InvalidToken, "invalid or expired token");
    };
    let session = Session::new(
        gateway.clone(),
        outbound.clone(),
        workspace_id,
        Identity::Agent {
            agent_id,
            name: agent.name.clone(),
        },
    );
    // Subscribe to the inbox (and presence) before listing, so no assignment falls between.
    let inbox = match gateway
        .bus
        .subscribe(&gateway.subjects.agent_all(&agent.id))
        .await
    {
        Ok(inbox) => inbox,
        Err(_) => {
            outbound.send(&ServerFrame::error(
                ErrorCode::Unavailable,
                "service unavailable, retry",
                None,
            ));
            return outbound.close_with(1013, "service unavailable");
        }
    };
    let assigned = gateway
        .peers
        .history
        .clone()
        .list_conversations(history_pb::ListConversationsRequest {
            workspace_id: workspace.id.clone(),
            agent_id: Some(agent.id.clone()),
            status: ConversationStatus::Assigned as i32,
            page: Some(switchboard_proto::common::v1::PageRequest { limit: 500 }),
            ..Default::default()
        })
        .await
        .map(|response| response.into_inner().conversations)
        .unwrap_or_default();
    session.send(ServerFrame::AgentWelcome {
        agent_id: agent.id.clone(),
        name: agent.name,
        workspace_id: workspace.id,
        conversations: assigned.iter().map(view::conversation).collect(),
        status: view::agent_status(agent.status).to_owned(),
    });
    let inbox_task = tokio::spawn(watch_inbox(
        session.follower(),
        session.follows.clone(),
        agent_id,
        inbox,
    ));
    let announcements_task = tokio::spawn(watch_announcements(
        gateway.clone(),
        outbound.clone(),
        workspace_id,
        agent.department_ids.clone(),
    ));
    let lease = PresenceLease {
        gateway: gateway.clone(),
        workspace_id: workspace_id.to_string(),
        agent_id: agent_id.to_string(),
        connection_id: session.connection_id.clone(),
        token,
    };
    let lease_task = tokio::spawn(lease.clone().keep_alive(outbound.clone()));
    let _counted = ConnectionStats::count(&gateway, workspace_id, Kind::Agent);
    session.run(&mut reader).await;
    inbox_task.abort();
    announcements_task.abort();
    lease_task.abort();
    lease.end().await;
}

/// Forwards the workspace's announcements meant for this agent (all, or its departments').
async fn watch_announcements(
    gateway: Arc<Gateway>,
    outbound: Outbound,
    workspace_id: Uuid,
    department_ids: Vec<String>,
) {
    let subject = gateway
        .subjects
        .workspace_announcements(&workspace_id.to_string());
    let mut announcements = match gateway.bus.subscribe(&subject).await {
        Ok(subscription) => subscription,
        Err(error) => {
            tracing::warn!(%workspace_id, %error, "cannot subscribe to announcements");
            return;
        }
    };
    loop {
        let event = tokio::select! {
            () = outbound.closed() => return,
            event = announcements.next() => event,
        };
        let Some(event) = event else { return };
        let Ok(announcement) = serde_json::from_slice::<protocol::Announcement>(&event.payload)
        else {
            continue;
        };
        let for_me = announcement
            .department_id
            .as_ref()
            .is_none_or(|department| department_ids.contains(department));
        if for_me {
            outbound.send(&ServerFrame::Announcement(announcement));
        }
    }
}

/// This socket's share of its agent's presence: renewed every heartbeat while the socket is
/// open, ended when it closes. Each renewal also checks the socket's session token, so a
/// session that was revoked (or expired) closes its open sockets within a heartbeat. agent-management sets the agent offline once every lease of it
/// has been gone for the grace period, so a reload or a gateway restart does not cost the agent
/// its conversations, but a vanished agent does not keep them.
#[derive(Debug, Clone)]
struct PresenceLease {
    gateway: Arc<Gateway>,
    workspace_id: String,
    agent_id: String,
    connection_id: String,
    token: String,
}

impl PresenceLease {
    async fn keep_alive(self, outbound: Outbound) {
        let period = super::limits::at_least_one_second(self.gateway.config.heartbeat_secs);
        // Three missed renewals before the lease lapses (a gateway that died stops renewing).
        let ttl = u32::try_from(period.as_secs().saturating_mul(3)).unwrap_or(u32::MAX);
        let mut tick = tokio::time::interval(period);
        loop {
            tokio::select! {
                () = outbound.closed() => return,
                _ = tick.tick() => {}
            }
            let request = agent_pb::RenewPresenceRequest {
                workspace_id: self.workspace_id.clone(),
                agent_id: self.agent_id.clone(),
                connection_id: self.connection_id.clone(),
                ttl_secs: ttl,
            };
            match self
                .gateway
                .peers
                .agents
                .clone()
                .renew_presence(request)
                .await
            {
                Ok(_) => {}
                Err(status) if status.code() == Code::PermissionDenied => {
                    return account_disabled(&outbound);
                }
                Err(status) => {
                    tracing::warn!(agent_id = %self.agent_id, %status, "cannot renew presence lease");
                }
            }
            let session = self
                .gateway
                .peers
                .agents
                .clone()
                .validate_token(agent_pb::ValidateTokenRequest {
                    token: self.token.clone(),
                })
                .await;
            if matches!(&session, Err(status) if status.code() == Code::Unauthenticated) {
                outbound.send(&ServerFrame::error(
                    ErrorCode::InvalidToken,
                    "session ended",
                    None,
                ));
                return outbound.close_with(1008, "session ended");
            }
        }
    }

    async fn end(&self) {
        let request = agent_pb::EndPresenceRequest {
            workspace_id: self.workspace_id.clone(),
            agent_id: self.agent_id.clone(),
            connection_id: self.connection_id.clone(),
        };
        if let Err(status) = self
            .gateway
            .peers
            .agents
            .clone()
            .end_presence(request)
            .await
        {
            // The lease then lapses on its own after its TTL.
            tracing::warn!(agent_id = %self.agent_id, %status, "cannot end presence lease");
        }
    }
}

/// Tells an agent about each conversation assigned to it and starts following it from the
/// beginning, so the visitor's first messages arrive right after `assigned`.
async fn watch_inbox(
    follower: Follower,
    follows: Follows,
    agent_id: Uuid,
    mut inbox: switchboard_platform::bus::Subscription,
) {
    loop {
        let event = tokio::select! {
            () = follower.outbound.closed() => return,
            event = inbox.next() => event,
        };
        let Some(event) = event else { return };
        let assigned = match Envelope::decode(event.payload.as_ref()) {
            Ok(Envelope {
                payload: Some(Payload::ConversationAssigned(assigned)),
                ..
            }) => assigned,
            // One status across every tab and gateway of the agent.
            Ok(Envelope {
                payload: Some(Payload::AgentStatusChanged(changed)),
                ..
            }) => {
                if changed.reason == "disabled" {
                    return account_disabled(&follower.outbound);
                }
                follower.outbound.send(&ServerFrame::Status {
                    status: view::agent_status(changed.status).to_owned(),
                });
                continue;
            }
            // Handed to another agent: stop following, say who has it now.
            Ok(Envelope {
                payload: Some(Payload::ConversationTransferred(transferred)),
                ..
            }) => {
                if let Some(conversation) = transferred.conversation
                    && let Ok(id) = Uuid::parse_str(&conversation.id)
                    && conversation.assigned_agent_id.as_deref()
                        != Some(agent_id.to_string().as_str())
                {
                    stop_following(&follows, id);
                    follow::state_changed(&follower, &conversation).await;
                }
                continue;
            }
            // Taken away (the agent left, or the conversation went to a department): stop
            // following.
            Ok(Envelope {
                payload: Some(Payload::ConversationRequeued(requeued)),
                ..
            }) => {
                if let Some(conversation) = requeued.conversation
                    && let Ok(id) = Uuid::parse_str(&conversation.id)
                {
                    stop_following(&follows, id);
                    follower.outbound.send(&ServerFrame::Conversation {
                        conversation_id: conversation.id,
                        status: view::status(conversation.status),
                        agent: None,
                        rating_requested: false,
                    });
                }
                continue;
            }
            _ => continue,
        };
        let Some(conversation) = assigned.conversation else {
            continue;
        };
        let (Some(holder), Ok(id)) = (
            conversation.assigned_agent_id.as_deref(),
            Uuid::parse_str(&conversation.id),
        ) else {
            continue;
        };
        if holder != agent_id.to_string() || is_following(&follows, id) {
            continue;
        }
        follower.outbound.send(&ServerFrame::Assigned {
            conversation: view::conversation(&conversation),
        });
        let start = Start {
            after_seq: 0,
            announce: false,
        };
        if let Ok(task) = follow::start(follower.clone(), id, start).await {
            replace_follow(&follows, id, task);
        }
    }
}

/// Ends an agent socket whose account was disabled.
fn account_disabled(outbound: &Outbound) {
    outbound.send(&ServerFrame::error(
        ErrorCode::InvalidToken,
        "account disabled",
        None,
    ));
    outbound.close_with(1008, "account disabled");
}

fn stop_following(follows: &Follows, id: Uuid) {
    let task = follows
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .remove(&id);
    if let Some(task) = task {
        task.abort();
    }
}

fn is_following(follows: &Follows, id: Uuid) -> bool {
    follows
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(&id)
        .is_some_and(|task| !task.is_finished())
}

fn replace_follow(follows: &Follows, id: Uuid, task: JoinHandle<()>) {
    let previous = follows
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert(id, task);
    if let Some(previous) = previous {
        previous.abort();
    }
}

impl Session {
    /// Creates the session of an identified client; call it inside the connection's span,
    /// which every frame's span then links to.
    fn new(
        gateway: Arc<Gateway>,
        outbound: Outbound,
        workspace_id: Uuid,
        identity: Identity,
    ) -> Self {
        let limiter = RateLimiter::new(
            gateway.config.frames_per_second,
            gateway.config.frames_burst,
            Instant::now(),
        );
        Self {
            gateway,
            outbound,
            workspace_id,
            identity,
            connection_id: Uuid::new_v4().to_string(),
            follows: Arc::default(),
            limiter,
            open_conversation: None,
            department_id: None,
            connection_span: SpanLink::of(&tracing::Span::current()),
        }
    }

    /// Returns the span one inbound frame is handled in: a new trace (or the browser's, when
    /// the frame carries a `traceparent`), linked to the connection's span, so that a socket
    /// open for hours is many short traces rather than one endless one.
    fn frame_span(&self, kind: &'static str, traceparent: Option<&str>) -> tracing::Span {
        let span = tracing::info_span!(
            parent: None,
            "ws.frame",
            otel.name = %format!("ws {kind}"),
            otel.kind = "server",
            ws.frame.type = kind,
            ws.connection.id = %self.connection_id,
            workspace_id = %self.workspace_id,
            trace_id = tracing::field::Empty,
        );
        if let Some(traceparent) = traceparent {
            switchboard_platform::trace::continue_trace(&span, traceparent);
        }
        if let Some(connection) = &self.connection_span {
            connection.add_to(&span);
        }
        switchboard_platform::trace::record_trace_id(&span);
        span
    }

    fn follower(&self) -> Follower {
        Follower {
            gateway: self.gateway.clone(),
            outbound: self.outbound.clone(),
            workspace_id: self.workspace_id,
            connection_id: self.connection_id.clone(),
            is_agent: matches!(self.identity, Identity::Agent { .. }),
        }
    }

    fn send(&self, frame: ServerFrame) {
        self.outbound.send(&frame);
    }

    fn fail(&self, code: ErrorCode, message: impl Into<String>, client_msg_id: Option<String>) {
        self.send(ServerFrame::error(code, message, client_msg_id));
    }

    /// Follows `id` from `after_seq`, replacing any follower it had.
    async fn follow(&self, id: Uuid, after_seq: u64, announce: bool) -> bool {
        match follow::start(
            self.follower(),
            id,
            Start {
                after_seq,
                announce,
            },
        )
        .await
        {
            Ok(task) => {
                replace_follow(&self.follows, id, task);
                true
            }
            Err(()) => {
                self.fail(
                    ErrorCode::Unavailable,
                    "cannot follow the conversation, retry",
                    None,
                );
                false
            }
        }
    }

    async fn run(mut self, reader: &mut SplitStream<WebSocket>) {
        while let Inbound::Text(text) = next_text(reader, &self.outbound, &self.gateway).await {
            let protocol::Parsed {
                frame: parsed,
                traceparent,
            } = protocol::parse_traced(&text);
            if !self.limiter.allow(Instant::now()) {
                // Name the dropped message so the client knows what to send again.
                let client_msg_id = match &parsed {
                    // Cut like every echoed id (docs/protocol.md §6): the frame was not
                    // validated, so its id may be up to a frame long.
                    Ok(ClientFrame::Message { client_msg_id, .. }) => {
                        Some(client_msg_id.chars().take(64).collect())
                    }
                    Ok(_) => None,
                    Err(error) => error.client_msg_id.clone(),
                };
                self.fail(
                    ErrorCode::RateLimited,
                    "too many frames, slow down",
                    client_msg_id,
                );
                continue;
            }
            match parsed {
                Ok(frame) => {
                    metrics::counter!("switchboard_ws_frames_received_total", "type" => frame.kind()).increment(1);
                    let span = self.frame_span(frame.kind(), traceparent.as_deref());
                    self.handle(frame).instrument(span).await;
                }
                Err(error) => self.fail(error.code, error.message, error.client_msg_id),
            }
        }
        for (_, task) in self
            .follows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .drain()
        {
            task.abort();
        }
    }

    async fn handle(&mut self, frame: ClientFrame) {
        match frame {
            ClientFrame::Ping => self.send(ServerFrame::Pong),
            ClientFrame::Auth { .. } => {
                self.fail(ErrorCode::InvalidFrame, "already authenticated", None)
            }
            ClientFrame::Message {
                client_msg_id,
                text,
                conversation_id,
                email,
            } => {
                self.message(client_msg_id, text, conversation_id, email)
                    .await;
            }
            ClientFrame::Resume {
                conversation_id,
                after_seq,
            } => {
                if let Some(conversation) = self.visible(&conversation_id, None).await
                    && let Ok(id) = Uuid::parse_str(&conversation.id)
                {
                    if after_seq > conversation.last_seq {
                        // A client ahead of the server holds data from another history (a
                        // restore from backup): it must page through history instead.
                        return self.fail(
                            ErrorCode::InvalidFrame,
                            "after_seq is beyond the conversation's last seq",
                            None,
                        );
                    }
                    self.follow(id, after_seq, true).await;
                    if conversation.status == ConversationStatus::Queued as i32
                        && matches!(self.identity, Identity::Visitor { .. })
                    {
                        self.send_queue_position(&conversation.id).await;
                    }
                }
            }
            ClientFrame::Typing {
                conversation_id,
                state,
            } => {
                if let Some(conversation) = self.visible(&conversation_id, None).await {
                    self.typing(&conversation.id, state).await;
                }
            }
            ClientFrame::Close {
                conversation_id,
                request_rating,
            } => self.close(&conversation_id, request_rating).await,
            ClientFrame::Read {
                conversation_id,
                seq,
            } => self.read(&conversation_id, seq).await,
            ClientFrame::Rate {
                conversation_id,
                score,
                comment,
            } => self.rate(&conversation_id, score, comment).await,
            ClientFrame::Status { status } => self.status(&status).await,
            ClientFrame::Claim { conversation_id } => self.claim(&conversation_id).await,
            ClientFrame::Transfer {
                conversation_id,
                to_agent_id,
                to_department_id,
                note,
            } => {
                self.transfer(&conversation_id, to_agent_id, to_department_id, note)
                    .await;
            }
            ClientFrame::Note {
                conversation_id,
                text,
            } => self.note(&conversation_id, &text).await,
        }
    }

    /// Returns the conversation when this client may see it; otherwise reports why.
    async fn visible(
        &self,
        conversation_id: &str,
        client_msg_id: Option<&str>,
    ) -> Option<history_pb::Conversation> {
        let not_found = || {
            self.fail(
                ErrorCode::ConversationNotFound,
                "conversation not found",
                client_msg_id.map(ToOwned::to_owned),
            );
        };
        if Uuid::parse_str(conversation_id).is_err() {
            not_found();
            return None;
        }
        let request = history_pb::GetConversationRequest {
            workspace_id: self.workspace_id.to_string(),
            conversation_id: conversation_id.to_owned(),
        };
        let conversation = match self
            .gateway
            .peers
            .history
            .clone()
            .get_conversation(request)
            .await
        {
            Ok(response) => response.into_inner().conversation,
            Err(status) => {
                self.service_error(&status, client_msg_id);
                return None;
            }
        };
        let conversation = conversation?;
        match &self.identity {
            // A visitor sees only its own conversations; anything else "does not exist".
            Identity::Visitor { visitor_id, .. }
                if conversation.visitor_id != visitor_id.to_string() =>
            {
                not_found();
                None
            }
            _ => Some(conversation),
        }
    }

    fn service_error(&self, status: &tonic::Status, client_msg_id: Option<&str>) {
        let (code, message) = match status.code() {
            Code::NotFound => (ErrorCode::ConversationNotFound, "conversation not found"),
            Code::PermissionDenied => (
                ErrorCode::NotAssigned,
                "the conversation is not assigned to you",
            ),
            Code::FailedPrecondition => {
                (ErrorCode::ConversationClosed, "the conversation is closed")
            }
            Code::InvalidArgument => (ErrorCode::InvalidFrame, status.message()),
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
                (ErrorCode::Unavailable, "service unavailable, retry")
            }
            _ => {
                tracing::error!(code = ?status.code(), message = status.message(), "service call failed");
                (ErrorCode::Internal, "internal error")
            }
        };
        self.fail(code, message, client_msg_id.map(ToOwned::to_owned));
    }

    async fn message(
        &mut self,
        client_msg_id: String,
        text: String,
        conversation_id: Option<String>,
        email: Option<String>,
    ) {
        let id = Some(client_msg_id.clone());
        let email = email
            .map(|email| email.trim().to_owned())
            .filter(|email| !email.is_empty());
        if email
            .as_deref()
            .is_some_and(|email| !switchboard_platform::validate::is_email(email))
        {
            return self.fail(
                ErrorCode::InvalidEmail,
                "email: must be an email address",
                id,
            );
        }
        let received = Instant::now();
        if client_msg_id.is_empty()
            || client_msg_id.len() > 64
            || !client_msg_id.bytes().all(|b| b.is_ascii_graphic())
        {
            let shown = client_msg_id.chars().take(64).collect::<String>();
            return self.fail(
                ErrorCode::InvalidClientMsgId,
                "client_msg_id must be 1-64 printable ASCII characters",
                Some(shown).filter(|shown| !shown.is_empty()),
            );
        }
        if text.trim().is_empty() {
            return self.fail(ErrorCode::EmptyMessage, "text must not be empty", id);
        }
        if text.len() > self.gateway.config.max_text_bytes {
            return self.fail(
                ErrorCode::MessageTooLong,
                format!(
                    "text must be at most {} bytes",
                    self.gateway.config.max_text_bytes
                ),
                id,
            );
        }
        let conversation_id = match (conversation_id, &self.identity) {
            (Some(given), _) => {
                let Some(conversation) = self.visible(&given, Some(&client_msg_id)).await else {
                    return;
                };
                let Ok(uuid) = Uuid::parse_str(&conversation.id) else {
                    return;
                };
                if !is_following(&self.follows, uuid)
                    && !self.follow(uuid, conversation.last_seq, false).await
                {
                    return;
                }
                uuid
            }
            (None, Identity::Agent { .. }) => {
                return self.fail(ErrorCode::InvalidFrame, "conversation_id is required", id);
            }
            (None, Identity::Visitor { .. }) => {
                match self.visitor_conversation(&client_msg_id, email).await {
                    Some(uuid) => uuid,
                    None => return,
                }
            }
        };
        let (sender_kind, sender_id, sender_name) = match &self.identity {
            Identity::Visitor { visitor_id, name } => (SenderKind::Visitor, visitor_id, name),
            Identity::Agent { agent_id, name } => (SenderKind::Agent, agent_id, name),
        };
        let request = history_pb::AppendMessageRequest {
            workspace_id: self.workspace_id.to_string(),
            conversation_id: conversation_id.to_string(),
            sender_kind: sender_kind as i32,
            sender_id: sender_id.to_string(),
            client_msg_id: client_msg_id.clone(),
            text,
            sender_name: sender_name.clone(),
        };
        match self
            .gateway
            .peers
            .history
            .clone()
            .append_message(request)
            .await
        {
            Ok(response) => {
                let response = response.into_inner();
                let seq = response.message.map_or(0, |message| message.seq);
                let duplicate = if response.duplicate { "true" } else { "false" };
                metrics::counter!("switchboard_ws_acks_total", "duplicate" => duplicate)
                    .increment(1);
                switchboard_platform::metrics::observe("switchboard_ws_ack_seconds", received);
                self.send(ServerFrame::Ack {
                    client_msg_id,
                    conversation_id: conversation_id.to_string(),
                    seq,
                    duplicate: response.duplicate,
                    trace_id: switchboard_platform::trace::trace_id(&tracing::Span::current()),
                });
            }
            Err(status) => {
                if status.code() == Code::FailedPrecondition
                    && self.open_conversation == Some(conversation_id)
                {
                    self.open_conversation = None;
                }
                self.service_error(&status, Some(&client_msg_id));
            }
        }
    }

    /// Returns the visitor's open conversation, opening (and following) a new one if needed.
    async fn visitor_conversation(
        &mut self,
        client_msg_id: &str,
        email: Option<String>,
    ) -> Option<Uuid> {
        if let Some(open) = self.open_conversation {
            if is_following(&self.follows, open) {
                return Some(open);
            }
            // Known from the welcome but not followed on this socket yet.
            let conversation = self.visible(&open.to_string(), Some(client_msg_id)).await?;
            if conversation.status != ConversationStatus::Closed as i32 {
                return self
                    .follow(open, conversation.last_seq, false)
                    .await
                    .then_some(open);
            }
            self.open_conversation = None;
        }
        let Identity::Visitor { visitor_id, .. } = &self.identity else {
            return None;
        };
        // Nobody can answer now: the conversation is an offline message, answered later (by
        // email when the visitor left one). If availability cannot be read, assume open.
        let offline = availability(&self.gateway, self.workspace_id, self.department_id)
            .await
            .is_ok_and(|availability| !availability.open);
        let request = history_pb::OpenConversationRequest {
            workspace_id: self.workspace_id.to_string(),
            visitor_id: visitor_id.to_string(),
            department_id: self.department_id.map(|id| id.to_string()),
            offline,
            contact_email: email.filter(|_| offline),
        };
        let opened = match self
            .gateway
            .peers
            .history
            .clone()
            .open_conversation(request)
            .await
        {
            Ok(response) => response.into_inner().conversation?,
            Err(status) => {
                self.service_error(&status, Some(client_msg_id));
                return None;
            }
        };
        let id = Uuid::parse_str(&opened.id).ok()?;
        if !self.follow(id, 0, false).await {
            return None;
        }
        self.open_conversation = Some(id);
        self.send(ServerFrame::Conversation {
            conversation_id: opened.id,
            status: view::status(opened.status),
            agent: None,
            rating_requested: false,
        });
        Some(id)
    }

    async fn typing(&self, conversation_id: &str, state: bool) {
        let sender = match &self.identity {
            Identity::Visitor { visitor_id, name } => Sender {
                kind: "visitor".into(),
                id: visitor_id.to_string(),
                name: name.clone(),
            },
            Identity::Agent { agent_id, name } => Sender {
                kind: "agent".into(),
                id: agent_id.to_string(),
                name: name.clone(),
            },
        };
        let event = TypingEvent {
            conversation_id: conversation_id.to_owned(),
            state,
            sender,
            connection_id: self.connection_id.clone(),
        };
        let Ok(payload) = serde_json::to_vec(&event) else {
            return;
        };
        let subject = self.gateway.subjects.conversation_typing(conversation_id);
        if self
            .gateway
            .bus
            .publish_live(&subject, payload.into())
            .await
            .is_err()
        {
            self.fail(ErrorCode::Unavailable, "service unavailable, retry", None);
        }
    }

    async fn status(&self, status: &str) {
        let Identity::Agent { agent_id, .. } = &self.identity else {
            return self.fail(ErrorCode::InvalidFrame, "only agents have a status", None);
        };
        let Some(wanted) = view::agent_status_from(status) else {
            return self.fail(
                ErrorCode::InvalidFrame,
                "status must be online, away or offline",
                None,
            );
        };
        let request = agent_pb::SetAgentStatusRequest {
            workspace_id: self.workspace_id.to_string(),
            agent_id: agent_id.to_string(),
            status: wanted as i32,
        };
        match self
            .gateway
            .peers
            .agents
            .clone()
            .set_agent_status(request)
            .await
        {
            Ok(_) => self.send(ServerFrame::Status {
                status: status.to_owned(),
            }),
            Err(status) if status.code() == Code::PermissionDenied => {
                account_disabled(&self.outbound);
            }
            Err(status) => self.service_error(&status, None),
        }
    }

    /// Tells a visitor where its waiting conversation stands (live updates come from the
    /// follower). Best effort: without routing the visitor just sees "queued".
    async fn send_queue_position(&self, conversation_id: &str) {
        let request = routing_pb::GetQueuePositionRequest {
            workspace_id: self.workspace_id.to_string(),
            conversation_id: conversation_id.to_owned(),
        };
        match self
            .gateway
            .peers
            .routing
            .clone()
            .get_queue_position(request)
            .await
        {
            Ok(response) if response.get_ref().queued => {
                let position = response.into_inner();
                self.send(ServerFrame::Queue {
                    conversation_id: conversation_id.to_owned(),
                    position: position.position,
                    expected_wait_secs: position.expected_wait_secs,
                });
            }
            Ok(_) => {}
            Err(status) => {
                tracing::warn!(%conversation_id, %status, "cannot read queue position");
            }
        }
    }

    /// Returns the conversation when this agent holds it; otherwise reports why.
    async fn held(
        &self,
        conversation_id: &str,
    ) -> Option<(Uuid, String, history_pb::Conversation)> {
        let Identity::Agent { agent_id, name } = &self.identity else {
            self.fail(ErrorCode::InvalidFrame, "agents only", None);
            return None;
        };
        let conversation = self.visible(conversation_id, None).await?;
        if conversation.assigned_agent_id.as_deref() != Some(agent_id.to_string().as_str()) {
            self.fail(
                ErrorCode::NotAssigned,
                "the conversation is not assigned to you",
                None,
            );
            return None;
        }
        Some((*agent_id, name.clone(), conversation))
    }

    /// Hands a conversation to another agent or a department; the receiving side sees the
    /// history and the note, this socket gets `conversation` with the new holder (or queued).
    async fn transfer(
        &self,
        conversation_id: &str,
        to_agent_id: Option<String>,
        to_department_id: Option<String>,
        note: Option<String>,
    ) {
        if to_agent_id.is_some() == to_department_id.is_some() {
            return self.fail(
                ErrorCode::InvalidFrame,
                "give exactly one of to_agent_id and to_department_id",
                None,
            );
        }
        if note
            .as_deref()
            .is_some_and(|text| text.len() > self.gateway.config.max_text_bytes)
        {
            return self.fail(ErrorCode::MessageTooLong, "the note is too long", None);
        }
        let target_is_uuid = to_agent_id
            .as_deref()
            .or(to_department_id.as_deref())
            .is_some_and(|id| Uuid::parse_str(id).is_ok());
        if !target_is_uuid {
            return self.fail(
                ErrorCode::TargetNotFound,
                "no such agent or department",
                None,
            );
        }
        let Some((agent_id, name, conversation)) = self.held(conversation_id).await else {
            return;
        };
        let request = routing_pb::TransferConversationRequest {
            workspace_id: self.workspace_id.to_string(),
            conversation_id: conversation.id,
            from_agent_id: agent_id.to_string(),
            from_agent_name: name,
            to_agent_id,
            to_department_id,
            note,
        };
        let Err(status) = self
            .gateway
            .peers
            .routing
            .clone()
            .transfer_conversation(request)
            .await
        else {
            return;
        };
        let (code, message) = match status.code() {
            Code::NotFound => (ErrorCode::TargetNotFound, "no such agent or department"),
            Code::ResourceExhausted => (
                ErrorCode::AtCapacity,
                "that agent holds as many conversations as they can",
            ),
            Code::FailedPrecondition if status.message().starts_with("target") => {
                (ErrorCode::NotAvailable, "that agent is offline or disabled")
            }
            Code::FailedPrecondition => (
                ErrorCode::NotAssigned,
                "the conversation is not assigned to you",
            ),
            Code::InvalidArgument if status.message().starts_with("to_agent_id") => {
                (ErrorCode::InvalidFrame, "you cannot transfer to yourself")
            }
            Code::InvalidArgument => (ErrorCode::InvalidFrame, status.message()),
            _ => return self.service_error(&status, None),
        };
        self.fail(code, message, None);
    }

    /// Adds an internal note to a conversation the agent holds.
    async fn note(&self, conversation_id: &str, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return self.fail(ErrorCode::EmptyMessage, "the note is empty", None);
        }
        if text.len() > self.gateway.config.max_text_bytes {
            return self.fail(ErrorCode::MessageTooLong, "the note is too long", None);
        }
        let Some((agent_id, name, conversation)) = self.held(conversation_id).await else {
            return;
        };
        let request = history_pb::AddNoteRequest {
            workspace_id: self.workspace_id.to_string(),
            conversation_id: conversation.id,
            author_id: agent_id.to_string(),
            author_name: name,
            text: text.to_owned(),
        };
        if let Err(status) = self.gateway.peers.history.clone().add_note(request).await {
            self.service_error(&status, None);
        }
    }

    /// An agent takes a waiting conversation; on success the agent inbox delivers `assigned`.
    async fn claim(&self, conversation_id: &str) {
        let Identity::Agent { agent_id, .. } = &self.identity else {
            return self.fail(
                ErrorCode::InvalidFrame,
                "only agents claim conversations",
                None,
            );
        };
        if Uuid::parse_str(conversation_id).is_err() {
            return self.fail(
                ErrorCode::ConversationNotFound,
                "conversation not found",
                None,
            );
        }
        let request = routing_pb::ClaimConversationRequest {
            workspace_id: self.workspace_id.to_string(),
            conversation_id: conversation_id.to_owned(),
            agent_id: agent_id.to_string(),
        };
        let Err(status) = self
            .gateway
            .peers
            .routing
            .clone()
            .claim_conversation(request)
            .await
        else {
            return;
        };
        let (code, message) = match (status.code(), status.message()) {
            (Code::FailedPrecondition, "conversation already assigned") => (
                ErrorCode::AlreadyAssigned,
                "someone already took this conversation",
            ),
            (Code::FailedPrecondition, "conversation closed") => {
                (ErrorCode::ConversationClosed, "the conversation is closed")
            }
            (Code::FailedPrecondition, _) => (
                ErrorCode::NotAvailable,
                "go online or away to take conversations",
            ),
            (Code::ResourceExhausted, _) => (
                ErrorCode::AtCapacity,
                "you hold as many conversations as you can",
            ),
            (Code::PermissionDenied, _) => (
                ErrorCode::NotInDepartment,
                "the conversation waits for a department you are not in",
            ),
            _ => return self.service_error(&status, None),
        };
        self.fail(code, message, None);
    }

    /// Records a read receipt and tells the other sockets following the conversation.
    async fn read(&self, conversation_id: &str, seq: u64) {
        let Some(conversation) = self.visible(conversation_id, None).await else {
            return;
        };
        let (kind, reader_kind, reader_id, name) = match &self.identity {
            Identity::Visitor { visitor_id, name } => {
                ("visitor", SenderKind::Visitor, visitor_id, name)
            }
            Identity::Agent { agent_id, name } => ("agent", SenderKind::Agent, agent_id, name),
        };
        let request = history_pb::MarkReadRequest {
            workspace_id: self.workspace_id.to_string(),
            conversation_id: conversation.id.clone(),
            reader_kind: reader_kind as i32,
            reader_id: reader_id.to_string(),
            seq,
        };
        let marked = match self.gateway.peers.history.clone().mark_read(request).await {
            Ok(response) => response.into_inner(),
            Err(status) => return self.service_error(&status, None),
        };
        if !marked.advanced {
            return;
        }
        let event = follow::ReadEvent {
            conversation_id: conversation.id.clone(),
            reader: Sender {
                kind: kind.to_owned(),
                id: reader_id.to_string(),
                name: name.clone(),
            },
            seq: marked.mark.map_or(seq, |mark| mark.last_read_seq),
            connection_id: self.connection_id.clone(),
        };
        let subject = self.gateway.subjects.conversation_read(&conversation.id);
        let payload = serde_json::to_vec(&event).unwrap_or_default();
        if let Err(error) = self
            .gateway
            .bus
            .publish_live(&subject, payload.into())
            .await
        {
            // Stored anyway; others see it on their next resume.
            tracing::warn!(%error, "cannot publish read receipt");
        }
    }

    /// A visitor rates its closed conversation.
    async fn rate(&self, conversation_id: &str, score: u8, comment: Option<String>) {
        let Identity::Visitor { visitor_id, .. } = &self.identity else {
            return self.fail(
                ErrorCode::InvalidFrame,
                "only visitors rate conversations",
                None,
            );
        };
        if !(1..=5).contains(&score) {
            return self.fail(ErrorCode::InvalidFrame, "score must be 1 to 5", None);
        }
        if comment
            .as_deref()
            .is_some_and(|comment| comment.len() > self.gateway.config.max_text_bytes)
        {
            return self.fail(ErrorCode::MessageTooLong, "the comment is too long", None);
        }
        if Uuid::parse_str(conversation_id).is_err() {
            return self.fail(
                ErrorCode::ConversationNotFound,
                "conversation not found",
                None,
            );
        }
        let request = history_pb::RateConversationRequest {
            workspace_id: self.workspace_id.to_string(),
            conversation_id: conversation_id.to_owned(),
            visitor_id: visitor_id.to_string(),
            score: u32::from(score),
            comment,
        };
        match self
            .gateway
            .peers
            .history
            .clone()
            .rate_conversation(request)
            .await
        {
            Ok(_) => self.send(ServerFrame::Rated {
                conversation_id: conversation_id.to_owned(),
                score,
            }),
            Err(status) => match status.code() {
                Code::AlreadyExists => {
                    self.fail(ErrorCode::AlreadyRated, "you rated this conversation", None);
                }
                Code::FailedPrecondition => self.fail(
                    ErrorCode::RatingNotRequested,
                    "this conversation is not waiting for a rating",
                    None,
                ),
                _ => self.service_error(&status, None),
            },
        }
    }

    async fn close(&mut self, conversation_id: &str, request_rating: bool) {
        let Some(conversation) = self.visible(conversation_id, None).await else {
            return;
        };
        if let Identity::Agent { agent_id, .. } = &self.identity
            && conversation.assigned_agent_id.as_deref() != Some(agent_id.to_string().as_str())
        {
            return self.fail(
                ErrorCode::NotAssigned,
                "the conversation is not assigned to you",
                None,
            );
        }
        let request = history_pb::CloseConversationRequest {
            workspace_id: self.workspace_id.to_string(),
            conversation_id: conversation.id.clone(),
            // Only the agent asks for a rating; a visitor closing its own chat is not asked.
            request_rating: request_rating && matches!(self.identity, Identity::Agent { .. }),
        };
        match self
            .gateway
            .peers
            .history
            .clone()
            .close_conversation(request)
            .await
        {
            Ok(_) => {
                if self.open_conversation.map(|id| id.to_string()) == Some(conversation.id) {
                    self.open_conversation = None;
                }
            }
            Err(status) => self.service_error(&status, None),
        }
    }
}
