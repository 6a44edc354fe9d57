//! gRPC adapter of conversation history: validates requests, calls the store, converts results.

pub mod convert;

use crate::config::Limits;
use crate::store::{
    ConversationFilter, NewMessage, NewNote, Rating, SenderKind, Store, VisitorUpsert, status,
};
use std::sync::Arc;
use switchboard_platform::grpc::{invalid_argument, parse_uuid};
use switchboard_proto::common::v1::{ConversationStatus, SenderKind as PbSenderKind};
use switchboard_proto::history::v1::{
    self as pb, conversation_history_service_server::ConversationHistoryService,
};
use tonic::{Request, Response, Status};

/// Longest `client_msg_id`, sender id or display name accepted.
const MAX_ID_LEN: usize = 64;
/// Most metadata entries and longest metadata value.
const MAX_METADATA_ENTRIES: usize = 32;
const MAX_METADATA_VALUE: usize = 1024;
/// Page sizes.
const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 500;

type GrpcResult<T> = Result<Response<T>, Status>;

/// Checks an email address given by a visitor: one '@', a dot in the domain, no spaces,
/// at most 254 characters. Returns it trimmed.
pub fn contact_email(value: &str) -> Result<String, Status> {
    let value = value.trim();
    if !switchboard_platform::validate::is_email(value) {
        return Err(invalid_argument(
            "contact_email",
            "must be an email address",
        ));
    }
    Ok(value.to_owned())
}

/// Most tags on one conversation.
const MAX_TAGS: usize = 20;

/// Implements `switchboard.history.v1.ConversationHistoryService`.
#[derive(Debug, Clone)]
pub struct HistoryGrpc {
    store: Arc<Store>,
    limits: Limits,
}

impl HistoryGrpc {
    /// Returns the adapter over `store`, enforcing `limits`.
    pub fn new(store: Arc<Store>, limits: Limits) -> Self {
        Self { store, limits }
    }
}

fn optional_uuid(field: &str, value: Option<&str>) -> Result<Option<uuid::Uuid>, Status> {
    value
        .filter(|value| !value.trim().is_empty())
        .map(|value| parse_uuid(field, value))
        .transpose()
}

fn page_limit(page: Option<&switchboard_proto::common::v1::PageRequest>) -> u64 {
    let limit = page.map_or(0, |page| page.limit);
    u64::from(if limit == 0 {
        DEFAULT_PAGE
    } else {
        limit.min(MAX_PAGE)
    })
}

/// Returns a trimmed display name of at most 64 characters.
fn display_name(field: &str, value: &str) -> Result<String, Status> {
    let value = value.trim();
    if value.chars().count() > MAX_ID_LEN {
        return Err(invalid_argument(field, "is too long"));
    }
    Ok(value.to_owned())
}

/// Returns `value` when it is a non-empty identifier of printable ASCII without spaces.
fn identifier(field: &str, value: &str) -> Result<String, Status> {
    if value.is_empty() {
        return Err(invalid_argument(field, "must not be empty"));
    }
    if value.len() > MAX_ID_LEN || !value.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(invalid_argument(
            field,
            "must be at most 64 printable ASCII characters",
        ));
    }
    Ok(value.to_owned())
}

#[tonic::async_trait]
impl ConversationHistoryService for HistoryGrpc {
    async fn upsert_visitor(
        &self,
        request: Request<pb::UpsertVisitorRequest>,
    ) -> GrpcResult<pb::UpsertVisitorResponse> {
        let request = request.into_inner();
        if request.metadata.len() > MAX_METADATA_ENTRIES
            || request
                .metadata
                .iter()
                .any(|(key, value)| key.len() > MAX_ID_LEN || value.len() > MAX_METADATA_VALUE)
        {
            return Err(invalid_argument("metadata", "too many or too long entries"));
        }
        let display_name = display_name("display_name", &request.display_name)?;
        let visitor_token = request
            .visitor_token
            .as_deref()
            .filter(|token| !token.is_empty())
            .map(|token| {
                // Tokens are longer than ids: "vt_" and 64 hex digits.
                if token.len() > 128 || !token.bytes().all(|byte| byte.is_ascii_graphic()) {
                    return Err(invalid_argument("visitor_token", "malformed token"));
                }
                Ok(token.to_owned())
            })
            .transpose()?;
        let external_id = request
            .external_id
            .as_deref()
            .filter(|id| !id.is_empty())
            .map(|id| identifier("external_id", id))
            .transpose()?;
        let upsert = VisitorUpsert {
            workspace_id: parse_uuid("workspace_id", &request.workspace_id)?,
            visitor_id: optional_uuid("visitor_id", request.visitor_id.as_deref())?,
            visitor_token,
            external_id,
            display_name: if display_name.is_empty() {
                "Visitor".to_owned()
            } else {
                display_name.to_owned()
            },
            metadata: request.metadata.into_iter().collect(),
        };
        let (visitor, created, visitor_token) = self.store.upsert_visitor(upsert).await?;
        Ok(Response::new(pb::UpsertVisitorResponse {
            visitor: Some(convert::visitor(&visitor)),
            created,
            visitor_token: visitor_token.unwrap_or_default(),
        }))
    }

    async fn get_visitor(
        &self,
        request: Request<pb::GetVisitorRequest>,
    ) -> GrpcResult<pb::GetVisitorResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let visitor_id = parse_uuid("visitor_id", &request.visitor_id)?;
        let visitor = self.store.visitor(workspace_id, visitor_id).await?;
        Ok(Response::new(pb::GetVisitorResponse {
            visitor: Some(convert::visitor(&visitor)),
        }))
    }

    async fn erase_visitor(
        &self,
        request: Request<pb::EraseVisitorRequest>,
    ) -> GrpcResult<pb::EraseVisitorResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let visitor_id = parse_uuid("visitor_id", &request.visitor_id)?;
        let deleted = self.store.erase_visitor(workspace_id, visitor_id).await?;
        Ok(Response::new(pb::EraseVisitorResponse {
            conversations: deleted.conversations,
            messages: deleted.messages,
            notes: deleted.notes,
        }))
    }

    async fn get_retention(
        &self,
        request: Request<pb::GetRetentionRequest>,
    ) -> GrpcResult<pb::GetRetentionResponse> {
        let workspace_id = parse_uuid("workspace_id", &request.get_ref().workspace_id)?;
        let policy = self.store.retention(workspace_id).await?;
        Ok(Response::new(pb::GetRetentionResponse {
            policy: Some(retention_to_proto(policy)),
        }))
    }

    async fn set_retention(
        &self,
        request: Request<pb::SetRetentionRequest>,
    ) -> GrpcResult<pb::SetRetentionResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        if request.days > crate::store::privacy::MAX_RETENTION_DAYS {
            return Err(invalid_argument(
                "days",
                "must be 0 (keep forever) or between 1 and 3650",
            ));
        }
        let policy = self.store.set_retention(workspace_id, request.days).await?;
        Ok(Response::new(pb::SetRetentionResponse {
            policy: Some(retention_to_proto(policy)),
        }))
    }

    async fn open_conversation(
        &self,
        request: Request<pb::OpenConversationRequest>,
    ) -> GrpcResult<pb::OpenConversationResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let visitor_id = parse_uuid("visitor_id", &request.visitor_id)?;
        let department_id = optional_uuid("department_id", request.department_id.as_deref())?;
        let contact_email = request
            .contact_email
            .as_deref()
            .map(contact_email)
            .transpose()?;
        if contact_email.is_some() && !request.offline {
            return Err(invalid_argument(
                "contact_email",
                "only offline messages carry an email",
            ));
        }
        let offline = request.offline.then_some(contact_email);
        let conversation = self
            .store
            .open_conversation(workspace_id, visitor_id, department_id, offline)
            .await?;
        Ok(Response::new(pb::OpenConversationResponse {
            conversation: Some(convert::conversation(&conversation)),
        }))
    }

    async fn get_conversation(
        &self,
        request: Request<pb::GetConversationRequest>,
    ) -> GrpcResult<pb::GetConversationResponse> {
        let workspace_id = parse_uuid("workspace_id", &request.get_ref().workspace_id)?;
        let id = parse_uuid("conversation_id", &request.get_ref().conversation_id)?;
        let conversation = self.store.conversation(workspace_id, id).await?;
        Ok(Response::new(pb::GetConversationResponse {
            conversation: Some(convert::conversation(&conversation)),
        }))
    }

    async fn list_conversations(
        &self,
        request: Request<pb::ListConversationsRequest>,
    ) -> GrpcResult<pb::ListConversationsResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let status = match ConversationStatus::try_from(request.status) {
            Ok(ConversationStatus::Unspecified) => None,
            Ok(ConversationStatus::Queued) => Some(status::QUEUED),
            Ok(ConversationStatus::Assigned) => Some(status::ASSIGNED),
            Ok(ConversationStatus::Closed) => Some(status::CLOSED),
            Err(_) => return Err(invalid_argument("status", "unknown status")),
        };
        let filter = ConversationFilter {
            visitor_id: optional_uuid("visitor_id", request.visitor_id.as_deref())?,
            agent_id: optional_uuid("agent_id", request.agent_id.as_deref())?,
            status,
            limit: page_limit(request.page.as_ref()),
            after_id: request
                .after_id
                .as_deref()
                .map(|after| optional_uuid("after_id", Some(after).filter(|id| !id.is_empty())))
                .transpose()?,
        };
        let limit = filter.limit;
        let paged = filter.after_id.is_some();
        let conversations = self.store.conversations(workspace_id, filter).await?;
        let next_after_id = (paged && conversations.len() as u64 == limit)
            .then(|| conversations.last().map(|last| last.id.to_string()))
            .flatten();
        Ok(Response::new(pb::ListConversationsResponse {
            conversations: conversations.iter().map(convert::conversation).collect(),
            next_after_id,
        }))
    }

    async fn assign_conversation(
        &self,
        request: Request<pb::AssignConversationRequest>,
    ) -> GrpcResult<pb::AssignConversationResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let id = parse_uuid("conversation_id", &request.conversation_id)?;
        let agent_id = parse_uuid("agent_id", &request.agent_id)?;
        let from_agent_id = request
            .from_agent_id
            .as_deref()
            .map(|id| parse_uuid("from_agent_id", id))
            .transpose()?;
        let conversation = self
            .store
            .assign(workspace_id, id, agent_id, from_agent_id)
            .await?;
        Ok(Response::new(pb::AssignConversationResponse {
            conversation: Some(convert::conversation(&conversation)),
        }))
    }

    async fn requeue_conversation(
        &self,
        request: Request<pb::RequeueConversationRequest>,
    ) -> GrpcResult<pb::RequeueConversationResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let id = parse_uuid("conversation_id", &request.conversation_id)?;
        let previous_agent_id = parse_uuid("previous_agent_id", &request.previous_agent_id)?;
        let reason = request.reason.trim();
        if reason.is_empty() || reason.len() > 64 {
            return Err(invalid_argument("reason", "must be 1 to 64 characters"));
        }
        let notice = request.notice.as_deref().map(str::trim);
        if notice.is_some_and(|text| text.is_empty() || text.len() > 1024) {
            return Err(invalid_argument("notice", "must be 1 to 1024 bytes"));
        }
        let department_id = request
            .department_id
            .as_deref()
            .map(|id| parse_uuid("department_id", id))
            .transpose()?;
        let (conversation, requeued) = self
            .store
            .requeue(
                workspace_id,
                id,
                previous_agent_id,
                reason,
                notice,
                department_id,
            )
            .await?;
        Ok(Response::new(pb::RequeueConversationResponse {
            conversation: Some(convert::conversation(&conversation)),
            requeued,
        }))
    }

    async fn set_conversation_tags(
        &self,
        request: Request<pb::SetConversationTagsRequest>,
    ) -> GrpcResult<pb::SetConversationTagsResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let id = parse_uuid("conversation_id", &request.conversation_id)?;
        if request.tags.len() > MAX_TAGS {
            return Err(invalid_argument("tags", "at most 20 tags"));
        }
        let mut tags = Vec::with_capacity(request.tags.len());
        for tag in &request.tags {
            let tag = tag.trim().to_lowercase();
            if tag.is_empty() || tag.chars().count() > 32 || tag.chars().any(char::is_control) {
                return Err(invalid_argument(
                    "tags",
                    "each tag must be 1 to 32 characters",
                ));
            }
            tags.push(tag);
        }
        tags.sort();
        tags.dedup();
        let conversation = self.store.set_tags(workspace_id, id, &tags).await?;
        Ok(Response::new(pb::SetConversationTagsResponse {
            conversation: Some(convert::conversation(&conversation)),
        }))
    }

    async fn add_note(
        &self,
        request: Request<pb::AddNoteRequest>,
    ) -> GrpcResult<pb::AddNoteResponse> {
        let request = request.into_inner();
        let text = request.text.trim();
        if text.is_empty() {
            return Err(invalid_argument("text", "must not be empty"));
        }
        if text.len() > self.limits.max_text_bytes {
            return Err(invalid_argument(
                "text",
                &format!("must be at most {} bytes", self.limits.max_text_bytes),
            ));
        }
        let author_id = parse_uuid("author_id", &request.author_id)?;
        let note = self
            .store
            .add_note(NewNote {
                workspace_id: parse_uuid("workspace_id", &request.workspace_id)?,
                conversation_id: parse_uuid("conversation_id", &request.conversation_id)?,
                author_id: author_id.to_string(),
                author_name: request.author_name.trim().chars().take(200).collect(),
                text: text.to_owned(),
            })
            .await?;
        Ok(Response::new(pb::AddNoteResponse {
            note: Some(convert::note(&note)),
        }))
    }

    async fn list_notes(
        &self,
        request: Request<pb::ListNotesRequest>,
    ) -> GrpcResult<pb::ListNotesResponse> {
        let workspace_id = parse_uuid("workspace_id", &request.get_ref().workspace_id)?;
        let id = parse_uuid("conversation_id", &request.get_ref().conversation_id)?;
        let notes = self.store.notes(workspace_id, id).await?;
        Ok(Response::new(pb::ListNotesResponse {
            notes: notes.iter().map(convert::note).collect(),
        }))
    }

    async fn mark_read(
        &self,
        request: Request<pb::MarkReadRequest>,
    ) -> GrpcResult<pb::MarkReadResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let id = parse_uuid("conversation_id", &request.conversation_id)?;
        let reader_kind = match PbSenderKind::try_from(request.reader_kind) {
            Ok(PbSenderKind::Visitor) => SenderKind::Visitor,
            Ok(PbSenderKind::Agent) => SenderKind::Agent,
            _ => return Err(invalid_argument("reader_kind", "must be VISITOR or AGENT")),
        };
        let reader_id = parse_uuid("reader_id", &request.reader_id)?.to_string();
        let (mark, advanced) = self
            .store
            .mark_read(workspace_id, id, reader_kind, &reader_id, request.seq)
            .await?;
        Ok(Response::new(pb::MarkReadResponse {
            mark: Some(convert::read_mark(&mark)),
            advanced,
        }))
    }

    async fn count_messages(
        &self,
        request: Request<pb::CountMessagesRequest>,
    ) -> GrpcResult<pb::CountMessagesResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let since = request
            .since
            .as_ref()
            .and_then(|at| {
                chrono::DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).unwrap_or(0))
            })
            .ok_or_else(|| invalid_argument("since", "must be a valid time"))?;
        let count = self.store.count_messages(workspace_id, since).await?;
        Ok(Response::new(pb::CountMessagesResponse { count }))
    }

    async fn search_messages(
        &self,
        request: Request<pb::SearchMessagesRequest>,
    ) -> GrpcResult<pb::SearchMessagesResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let query = request.query.trim();
        let length = query.chars().count();
        if !(2..=200).contains(&length) || query.chars().any(char::is_control) {
            return Err(invalid_argument("query", "must be 2 to 200 characters"));
        }
        let limit = request
            .page
            .as_ref()
            .map_or(50, |page| page.limit)
            .clamp(1, 200);
        let messages = self
            .store
            .search(workspace_id, query, u64::from(limit))
            .await?;
        Ok(Response::new(pb::SearchMessagesResponse {
            messages: messages.iter().map(convert::message).collect(),
        }))
    }

    async fn list_reads(
        &self,
        request: Request<pb::ListReadsRequest>,
    ) -> GrpcResult<pb::ListReadsResponse> {
        let workspace_id = parse_uuid("workspace_id", &request.get_ref().workspace_id)?;
        let id = parse_uuid("conversation_id", &request.get_ref().conversation_id)?;
        let marks = self.store.read_marks(workspace_id, id).await?;
        Ok(Response::new(pb::ListReadsResponse {
            marks: marks.iter().map(convert::read_mark).collect(),
        }))
    }

    async fn rate_conversation(
        &self,
        request: Request<pb::RateConversationRequest>,
    ) -> GrpcResult<pb::RateConversationResponse> {
        let request = request.into_inner();
        if !(1..=5).contains(&request.score) {
            return Err(invalid_argument("score", "must be 1 to 5"));
        }
        let comment = request
            .comment
            .as_deref()
            .map(str::trim)
            .filter(|comment| !comment.is_empty())
            .map(ToOwned::to_owned);
        if comment
            .as_deref()
            .is_some_and(|comment| comment.len() > self.limits.max_text_bytes)
        {
            return Err(invalid_argument("comment", "is too long"));
        }
        let conversation = self
            .store
            .rate(Rating {
                workspace_id: parse_uuid("workspace_id", &request.workspace_id)?,
                conversation_id: parse_uuid("conversation_id", &request.conversation_id)?,
                visitor_id: parse_uuid("visitor_id", &request.visitor_id)?,
                score: i32::try_from(request.score).unwrap_or(0),
                comment,
            })
            .await?;
        Ok(Response::new(pb::RateConversationResponse {
            conversation: Some(convert::conversation(&conversation)),
        }))
    }

    async fn close_conversation(
        &self,
        request: Request<pb::CloseConversationRequest>,
    ) -> GrpcResult<pb::CloseConversationResponse> {
        let workspace_id = parse_uuid("workspace_id", &request.get_ref().workspace_id)?;
        let id = parse_uuid("conversation_id", &request.get_ref().conversation_id)?;
        let request_rating = request.get_ref().request_rating;
        let conversation = self.store.close(workspace_id, id, request_rating).await?;
        Ok(Response::new(pb::CloseConversationResponse {
            conversation: Some(convert::conversation(&conversation)),
        }))
    }

    async fn append_message(
        &self,
        request: Request<pb::AppendMessageRequest>,
    ) -> GrpcResult<pb::AppendMessageResponse> {
        let request = request.into_inner();
        let sender_kind = match PbSenderKind::try_from(request.sender_kind) {
            Ok(PbSenderKind::Visitor) => SenderKind::Visitor,
            Ok(PbSenderKind::Agent) => SenderKind::Agent,
            Ok(PbSenderKind::System) => SenderKind::System,
            Ok(PbSenderKind::Unspecified) | Err(_) => {
                return Err(invalid_argument("sender_kind", "must be set"));
            }
        };
        if request.text.trim().is_empty() {
            return Err(invalid_argument("text", "must not be empty"));
        }
        if request.text.len() > self.limits.max_text_bytes {
            return Err(invalid_argument(
                "text",
                &format!("must be at most {} bytes", self.limits.max_text_bytes),
            ));
        }
        let new = NewMessage {
            workspace_id: parse_uuid("workspace_id", &request.workspace_id)?,
            conversation_id: parse_uuid("conversation_id", &request.conversation_id)?,
            sender_kind,
            sender_id: identifier("sender_id", &request.sender_id)?,
            client_msg_id: identifier("client_msg_id", &request.client_msg_id)?,
            text: request.text,
            sender_name: display_name("sender_name", &request.sender_name)?,
        };
        let appended = self.store.append(new).await?;
        Ok(Response::new(pb::AppendMessageResponse {
            message: Some(convert::message(&appended.message)),
            duplicate: appended.duplicate,
        }))
    }

    async fn list_messages(
        &self,
        request: Request<pb::ListMessagesRequest>,
    ) -> GrpcResult<pb::ListMessagesResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let id = parse_uuid("conversation_id", &request.conversation_id)?;
        let after_seq = i64::try_from(request.after_seq)
            .map_err(|_| invalid_argument("after_seq", "out of range"))?;
        let (messages, has_more) = self
            .store
            .messages(
                workspace_id,
                id,
                after_seq,
                page_limit(request.page.as_ref()),
            )
            .await?;
        Ok(Response::new(pb::ListMessagesResponse {
            messages: messages.iter().map(convert::message).collect(),
            has_more,
        }))
    }
}

/// A stored retention policy as sent; none means kept forever (0 days).
fn retention_to_proto(
    policy: Option<crate::db::entity::retention_policy::Model>,
) -> pb::RetentionPolicy {
    policy.map_or_else(pb::RetentionPolicy::default, |policy| pb::RetentionPolicy {
        days: u32::try_from(policy.days).unwrap_or(0),
        updated_at: Some(switchboard_platform::grpc::timestamp(policy.updated_at)),
    })
}
