//! Queries and transactions of conversation history. The only module that talks SQL.
//!
//! The append path is the heart of Switchboard's delivery promise:
//! 1. `UPDATE conversation SET last_seq = last_seq + 1 … RETURNING *` takes the conversation's
//!    row lock (PostgreSQL) or the write lock (SQLite), so concurrent appenders to one
//!    conversation queue up and each gets the next number — never `max(seq) + 1`;
//! 2. under that lock the idempotency key is checked again, so a concurrent retry of the same
//!    `client_msg_id` rolls back (giving the number back) and returns the original;
//! 3. the message and its `MessageAppended` outbox row are inserted and committed together.
//!
//! A rolled-back transaction changes nothing, so `seq` stays gapless.

use crate::HistoryError;
use crate::HistoryResult;
use crate::db::OUTBOX;
use crate::db::entity::{conversation, message, note, read_mark, visitor};
use crate::grpc::convert;
use chrono::Utc;
use prost::Message as _;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use std::collections::BTreeMap;
use switchboard_platform::outbox::OutboxNotifier;
use switchboard_platform::subjects::Subjects;
use switchboard_proto::events::v1::{self as events, envelope::Payload};
use uuid::Uuid;

pub mod privacy;

/// Conversation status as stored.
pub mod status {
    /// Waiting for an agent.
    pub const QUEUED: &str = "queued";
    /// An agent holds it.
    pub const ASSIGNED: &str = "assigned";
    /// Finished; no more messages.
    pub const CLOSED: &str = "closed";
}

/// Who sends a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderKind {
    Visitor,
    Agent,
    System,
}

impl SenderKind {
    /// Returns the stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Visitor => "visitor",
            Self::Agent => "agent",
            Self::System => "system",
        }
    }
}

/// A visitor's rating, validated.
#[derive(Debug, Clone)]
pub struct Rating {
    pub workspace_id: Uuid,
    pub conversation_id: Uuid,
    pub visitor_id: Uuid,
    /// 1 to 5.
    pub score: i32,
    pub comment: Option<String>,
}

/// Most conversations closed per inactivity check.
const INACTIVE_BATCH: u64 = 200;

/// What the visitor reads when a quiet conversation is closed.
const INACTIVE_NOTICE: &str =
    "This conversation was closed after a period of inactivity. Write again any time.";

/// Most notes returned for one conversation.
const MAX_NOTES: u64 = 500;

/// A validated internal note.
#[derive(Debug, Clone)]
pub struct NewNote {
    pub workspace_id: Uuid,
    pub conversation_id: Uuid,
    pub author_id: String,
    pub author_name: String,
    pub text: String,
}

/// A validated message to append.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub workspace_id: Uuid,
    pub conversation_id: Uuid,
    pub sender_kind: SenderKind,
    pub sender_id: String,
    pub client_msg_id: String,
    pub text: String,
    pub sender_name: String,
}

/// Outcome of an append.
#[derive(Debug, Clone)]
pub struct Appended {
    pub message: message::Model,
    /// The `client_msg_id` was already stored; `message` is the original.
    pub duplicate: bool,
}

/// A validated visitor upsert.
#[derive(Debug, Clone)]
pub struct VisitorUpsert {
    pub workspace_id: Uuid,
    pub visitor_id: Option<Uuid>,
    pub visitor_token: Option<String>,
    pub external_id: Option<String>,
    pub display_name: String,
    pub metadata: BTreeMap<String, String>,
}

/// Filters of a conversation listing.
#[derive(Debug, Clone, Default)]
pub struct ConversationFilter {
    pub visitor_id: Option<Uuid>,
    pub agent_id: Option<Uuid>,
    pub status: Option<&'static str>,
    pub limit: u64,
    /// Cursor paging in creation order: ids after this one (`Some(None)`: from the first).
    /// UUIDv7 ids sort by creation time.
    pub after_id: Option<Option<Uuid>>,
}

/// Data access of conversation history.
#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
    subjects: Subjects,
    notifier: OutboxNotifier,
}

impl Store {
    /// Returns a store on `db` publishing under `subjects`.
    pub fn new(db: DatabaseConnection, subjects: Subjects, notifier: OutboxNotifier) -> Self {
        Self {
            db,
            subjects,
            notifier,
        }
    }

    /// Returns the visitor with the given token, id or external id in the workspace, or creates
    /// one with a new token. Returns the visitor, whether it was created, and its token (`None`
    /// when it was found by id or external id: a token is only ever known to its browser).
    pub async fn upsert_visitor(
        &self,
        upsert: VisitorUpsert,
    ) -> HistoryResult<(visitor::Model, bool, Option<String>)> {
        // A verified customer is one visitor on every device: its external id wins over the
        // browser's token.
        if let Some(external_id) = &upsert.external_id
            && let Some(found) = visitor::Entity::find()
                .filter(visitor::Column::WorkspaceId.eq(upsert.workspace_id))
                .filter(visitor::Column::ExternalId.eq(external_id.as_str()))
                .one(&self.db)
                .await?
        {
            return Ok((found, false, None));
        }
        if let Some(token) = &upsert.visitor_token
            && let Some(found) = visitor::Entity::find()
                .filter(visitor::Column::WorkspaceId.eq(upsert.workspace_id))
                .filter(visitor::Column::TokenHash.eq(token_hash(token)))
                .one(&self.db)
                .await?
        {
            match (&upsert.external_id, &found.external_id) {
                // Anonymous until now, signed in on this browser: the chat so far joins the
                // customer's history.
                (Some(external_id), None) => {
                    let mut claimed: visitor::ActiveModel = found.into();
                    claimed.external_id = Set(Some(external_id.clone()));
                    if !upsert.display_name.is_empty() {
                        claimed.display_name = Set(upsert.display_name.clone());
                    }
                    let claimed = claimed.update(&self.db).await?;
                    return Ok((claimed, false, Some(token.clone())));
                }
                // Another customer's browser: never merge; a fresh visitor below.
                (Some(_), Some(_)) => {}
                (None, _) => return Ok((found, false, Some(token.clone()))),
            }
        }
        if let Some(id) = upsert.visitor_id
            && let Some(found) = visitor::Entity::find_by_id(id)
                .filter(visitor::Column::WorkspaceId.eq(upsert.workspace_id))
                .one(&self.db)
                .await?
        {
            return Ok((found, false, None));
        }
        let metadata = serde_json::to_value(&upsert.metadata).unwrap_or_default();
        let token = new_visitor_token();
        let created = visitor::ActiveModel {
            // Clients never choose ids: an unknown visitor_id gets a fresh visitor.
            id: Set(Uuid::now_v7()),
            workspace_id: Set(upsert.workspace_id),
            external_id: Set(upsert.external_id),
            display_name: Set(upsert.display_name),
            metadata: Set(metadata),
            created_at: Set(Utc::now()),
            token_hash: Set(Some(token_hash(&token))),
        }
        .insert(&self.db)
        .await?;
        Ok((created, true, Some(token)))
    }

    /// Returns a visitor of the workspace.
    pub async fn visitor(
        &self,
        workspace_id: Uuid,
        visitor_id: Uuid,
    ) -> HistoryResult<visitor::Model> {
        visitor::Entity::find_by_id(visitor_id)
            .filter(visitor::Column::WorkspaceId.eq(workspace_id))
            .one(&self.db)
            .await?
            .ok_or(HistoryError::VisitorNotFound)
    }

    /// Opens a new conversation in status `queued` and records `ConversationOpened`. With
    /// `offline`, it is an offline message (with the visitor's email, when given).
    pub async fn open_conversation(
        &self,
        workspace_id: Uuid,
        visitor_id: Uuid,
        department_id: Option<Uuid>,
        offline: Option<Option<String>>,
    ) -> HistoryResult<conversation::Model> {
        visitor::Entity::find_by_id(visitor_id)
            .filter(visitor::Column::WorkspaceId.eq(workspace_id))
            .one(&self.db)
            .await?
            .ok_or(HistoryError::VisitorNotFound)?;
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let conversation = conversation::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(workspace_id),
            visitor_id: Set(visitor_id),
            department_id: Set(department_id),
            status: Set(status::QUEUED.to_owned()),
            assigned_agent_id: Set(None),
            last_seq: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            closed_at: Set(None),
            tags: Set("[]".to_owned()),
            offline: Set(offline.is_some()),
            contact_email: Set(offline.flatten()),
            rating_requested: Set(false),
            rating_score: Set(None),
            rating_comment: Set(None),
            rated_at: Set(None),
        }
        .insert(&txn)
        .await?;
        let payload = Payload::ConversationOpened(events::ConversationOpened {
            conversation: Some(convert::conversation(&conversation)),
        });
        self.enqueue(
            &txn,
            &self
                .subjects
                .conversation_lifecycle(&conversation.id.to_string()),
            workspace_id,
            payload,
        )
        .await?;
        txn.commit().await?;
        self.notifier.notify();
        Ok(conversation)
    }

    /// Returns one conversation of a workspace.
    pub async fn conversation(
        &self,
        workspace_id: Uuid,
        id: Uuid,
    ) -> HistoryResult<conversation::Model> {
        find_conversation(&self.db, workspace_id, id).await
    }

    /// Lists conversations of a workspace, most recently active first.
    pub async fn conversations(
        &self,
        workspace_id: Uuid,
        filter: ConversationFilter,
    ) -> HistoryResult<Vec<conversation::Model>> {
        let mut query = conversation::Entity::find()
            .filter(conversation::Column::WorkspaceId.eq(workspace_id))
            .limit(filter.limit);
        query = match filter.after_id {
            None => query.order_by_desc(conversation::Column::UpdatedAt),
            Some(after) => {
                let query = query.order_by_asc(conversation::Column::Id);
                match after {
                    Some(after) => query.filter(conversation::Column::Id.gt(after)),
                    None => query,
                }
            }
        };
        if let Some(visitor_id) = filter.visitor_id {
            query = query.filter(conversation::Column::VisitorId.eq(visitor_id));
        }
        if let Some(agent_id) = filter.agent_id {
            query = query.filter(conversation::Column::AssignedAgentId.eq(agent_id));
        }
        if let Some(status) = filter.status {
            query = query.filter(conversation::Column::Status.eq(status));
        }
        Ok(query.all(&self.db).await?)
    }

    /// Records that `agent_id` holds a queued conversation, or, with `from_agent_id`, takes over
    /// a conversation that agent holds (a transfer); idempotent.
    ///
    /// Returns the conversation as it is afterwards: assigned to `agent_id`, or unchanged when it
    /// was already assigned (to anyone else than `from_agent_id`). A closed conversation is an
    /// error.
    pub async fn assign(
        &self,
        workspace_id: Uuid,
        id: Uuid,
        agent_id: Uuid,
        from_agent_id: Option<Uuid>,
    ) -> HistoryResult<conversation::Model> {
        let txn = self.db.begin().await?;
        let mut update = conversation::Entity::update_many()
            .col_expr(conversation::Column::Status, Expr::value(status::ASSIGNED))
            .col_expr(conversation::Column::AssignedAgentId, Expr::value(agent_id))
            .col_expr(conversation::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(conversation::Column::Id.eq(id))
            .filter(conversation::Column::WorkspaceId.eq(workspace_id));
        update = match from_agent_id {
            None => update.filter(conversation::Column::Status.eq(status::QUEUED)),
            Some(from) => update
                .filter(conversation::Column::Status.eq(status::ASSIGNED))
                .filter(conversation::Column::AssignedAgentId.eq(from)),
        };
        let updated = update.exec_with_returning(&txn).await?;
        let Some(conversation) = updated.into_iter().next() else {
            txn.rollback().await?;
            let current = find_conversation(&self.db, workspace_id, id).await?;
            if current.status == status::CLOSED {
                return Err(HistoryError::ConversationClosed);
            }
            return Ok(current);
        };
        // For the conversation's followers (visitors, routing): assigned, or transferred (then
        // also told to the agent who gave it away). The new agent's inbox gets it as assigned.
        let mut announcements = vec![(
            self.subjects.agent_inbox(&agent_id.to_string()),
            Payload::ConversationAssigned(events::ConversationAssigned {
                conversation: Some(convert::conversation(&conversation)),
            }),
        )];
        match from_agent_id {
            None => announcements.push((
                self.subjects.conversation_lifecycle(&id.to_string()),
                Payload::ConversationAssigned(events::ConversationAssigned {
                    conversation: Some(convert::conversation(&conversation)),
                }),
            )),
            Some(from) => {
                for subject in [
                    self.subjects.conversation_lifecycle(&id.to_string()),
                    self.subjects.agent_inbox(&from.to_string()),
                ] {
                    announcements.push((
                        subject,
                        Payload::ConversationTransferred(events::ConversationTransferred {
                            conversation: Some(convert::conversation(&conversation)),
                            previous_agent_id: from.to_string(),
                        }),
                    ));
                }
            }
        }
        for (subject, payload) in announcements {
            self.enqueue(&txn, &subject, workspace_id, payload).await?;
        }
        txn.commit().await?;
        self.notifier.notify();
        Ok(conversation)
    }

    /// Replaces a conversation's tags (already normalised by the caller).
    pub async fn set_tags(
        &self,
        workspace_id: Uuid,
        id: Uuid,
        tags: &[String],
    ) -> HistoryResult<conversation::Model> {
        let stored = serde_json::to_string(tags).unwrap_or_else(|_| "[]".to_owned());
        let updated = conversation::Entity::update_many()
            .col_expr(conversation::Column::Tags, Expr::value(stored))
            .col_expr(conversation::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(conversation::Column::Id.eq(id))
            .filter(conversation::Column::WorkspaceId.eq(workspace_id))
            .exec_with_returning(&self.db)
            .await?;
        updated
            .into_iter()
            .next()
            .ok_or(HistoryError::ConversationNotFound)
    }

    /// Adds an internal note to a conversation of the workspace and announces it to agents.
    pub async fn add_note(&self, new: NewNote) -> HistoryResult<note::Model> {
        find_conversation(&self.db, new.workspace_id, new.conversation_id).await?;
        let txn = self.db.begin().await?;
        let note = note::ActiveModel {
            id: Set(Uuid::now_v7()),
            conversation_id: Set(new.conversation_id),
            workspace_id: Set(new.workspace_id),
            author_id: Set(new.author_id),
            author_name: Set(new.author_name),
            text: Set(new.text),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        let payload = Payload::NoteAdded(events::NoteAdded {
            note: Some(convert::note(&note)),
        });
        self.enqueue(
            &txn,
            &self
                .subjects
                .conversation_note(&new.conversation_id.to_string()),
            new.workspace_id,
            payload,
        )
        .await?;
        txn.commit().await?;
        self.notifier.notify();
        Ok(note)
    }

    /// Returns a conversation's notes, oldest first.
    pub async fn notes(
        &self,
        workspace_id: Uuid,
        conversation_id: Uuid,
    ) -> HistoryResult<Vec<note::Model>> {
        find_conversation(&self.db, workspace_id, conversation_id).await?;
        Ok(note::Entity::find()
            .filter(note::Column::ConversationId.eq(conversation_id))
            .order_by_asc(note::Column::Id)
            .limit(MAX_NOTES)
            .all(&self.db)
            .await?)
    }

    /// Puts a conversation `previous_agent_id` holds back in the queue, appending `notice` as a
    /// system message in the same transaction. Returns the conversation and whether it changed:
    /// nothing changes unless that agent still holds it, so retries and redeliveries are safe.
    pub async fn requeue(
        &self,
        workspace_id: Uuid,
        id: Uuid,
        previous_agent_id: Uuid,
        reason: &str,
        notice: Option<&str>,
        department_id: Option<Uuid>,
    ) -> HistoryResult<(conversation::Model, bool)> {
        let txn = self.db.begin().await?;
        let now = Utc::now();
        let mut update = conversation::Entity::update_many();
        if let Some(department_id) = department_id {
            update = update.col_expr(
                conversation::Column::DepartmentId,
                Expr::value(department_id),
            );
        }
        let mut update = update
            .col_expr(conversation::Column::Status, Expr::value(status::QUEUED))
            .col_expr(
                conversation::Column::AssignedAgentId,
                Expr::value(Option::<Uuid>::None),
            )
            .col_expr(conversation::Column::UpdatedAt, Expr::value(now));
        if notice.is_some() {
            // The notice takes the next seq; the row lock of this update keeps seq gapless.
            update = update.col_expr(
                conversation::Column::LastSeq,
                Expr::col(conversation::Column::LastSeq).add(1),
            );
        }
        let updated = update
            .filter(conversation::Column::Id.eq(id))
            .filter(conversation::Column::WorkspaceId.eq(workspace_id))
            .filter(conversation::Column::Status.eq(status::ASSIGNED))
            .filter(conversation::Column::AssignedAgentId.eq(previous_agent_id))
            .exec_with_returning(&txn)
            .await?;
        let Some(conversation) = updated.into_iter().next() else {
            txn.rollback().await?;
            return Ok((find_conversation(&self.db, workspace_id, id).await?, false));
        };
        if let Some(text) = notice {
            self.append_system(&txn, &conversation, text, now).await?;
        }
        // Once for the conversation's followers (visitor, routing), once for the agent who had it.
        for subject in [
            self.subjects.conversation_lifecycle(&id.to_string()),
            self.subjects.agent_inbox(&previous_agent_id.to_string()),
        ] {
            let payload = Payload::ConversationRequeued(events::ConversationRequeued {
                conversation: Some(convert::conversation(&conversation)),
                previous_agent_id: previous_agent_id.to_string(),
                reason: reason.to_owned(),
            });
            self.enqueue(&txn, &subject, workspace_id, payload).await?;
        }
        txn.commit().await?;
        self.notifier.notify();
        metrics::counter!("switchboard_conversations_requeued_total").increment(1);
        Ok((conversation, true))
    }

    /// Moves a participant's read mark up to `seq` (never back). Returns the mark and whether
    /// it moved.
    pub async fn mark_read(
        &self,
        workspace_id: Uuid,
        conversation_id: Uuid,
        reader_kind: SenderKind,
        reader_id: &str,
        seq: u64,
    ) -> HistoryResult<(read_mark::Model, bool)> {
        let conversation = find_conversation(&self.db, workspace_id, conversation_id).await?;
        if reader_kind == SenderKind::Visitor && conversation.visitor_id.to_string() != reader_id {
            return Err(HistoryError::ConversationNotFound);
        }
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        if seq > conversation.last_seq {
            return Err(HistoryError::SeqBeyondLast);
        }
        // One statement, no read first: concurrent marks (and SQLite's single writer) need
        // no transaction upgrade, and the higher mark wins.
        let moved = read_mark::Entity::insert(read_mark::ActiveModel {
            conversation_id: Set(conversation_id),
            reader_kind: Set(reader_kind.as_str().to_owned()),
            reader_id: Set(reader_id.to_owned()),
            last_read_seq: Set(seq),
            updated_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::columns([
                read_mark::Column::ConversationId,
                read_mark::Column::ReaderKind,
                read_mark::Column::ReaderId,
            ])
            .update_columns([read_mark::Column::LastReadSeq, read_mark::Column::UpdatedAt])
            .action_and_where(read_mark::Column::LastReadSeq.lt(seq))
            .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        let mark = read_mark::Entity::find_by_id((
            conversation_id,
            reader_kind.as_str().to_owned(),
            reader_id.to_owned(),
        ))
        .one(&self.db)
        .await?
        .ok_or(HistoryError::ConversationNotFound)?;
        Ok((mark, moved > 0))
    }

    /// Finds up to `limit` messages of a workspace whose text contains every word of `query`,
    /// newest first. PostgreSQL matches whole words (`simple` text search) and, for text
    /// without spaces between words (Chinese, Japanese), substrings; SQLite's trigram index
    /// matches substrings of three characters or more, shorter words by a scan.
    pub async fn search(
        &self,
        workspace_id: Uuid,
        query: &str,
        limit: u64,
    ) -> HistoryResult<Vec<message::Model>> {
        use sea_orm::{DatabaseBackend, FromQueryResult, Statement};
        let words: Vec<&str> = query.split_whitespace().collect();
        let limit = i64::try_from(limit).unwrap_or(100);
        let backend = self.db.get_database_backend();
        let like = |word: &str| {
            let escaped = word
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        };
        let statement = match backend {
            DatabaseBackend::Postgres => {
                // Words in scripts written without spaces are matched as substrings.
                let cjk = words.iter().any(|word| !word.is_ascii());
                let mut values: Vec<sea_orm::Value> = vec![workspace_id.into(), query.into()];
                let mut substring = String::from("FALSE");
                if cjk {
                    substring = words
                        .iter()
                        .map(|word| {
                            values.push(like(word).into());
                            format!("m.text ILIKE ${} ESCAPE '\\'", values.len())
                        })
                        .collect::<Vec<_>>()
                        .join(" AND ");
                }
                values.push(limit.into());
                let sql = format!(
                    "SELECT m.* FROM message m JOIN conversation c ON c.id = m.conversation_id \
                     WHERE c.workspace_id = $1 \
                     AND (m.search @@ plainto_tsquery('simple', $2) OR ({substring})) \
                     ORDER BY m.created_at DESC, m.id DESC LIMIT ${}",
                    values.len()
                );
                Statement::from_sql_and_values(backend, sql, values)
            }
            _ => {
                // FTS5 trigram needs three characters; shorter words are matched by LIKE.
                let (long, short): (Vec<&str>, Vec<&str>) =
                    words.iter().partition(|word| word.chars().count() >= 3);
                let mut values: Vec<sea_orm::Value> = vec![workspace_id.into()];
                let mut conditions = Vec::new();
                if !long.is_empty() {
                    let expression = long
                        .iter()
                        .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
                        .collect::<Vec<_>>()
                        .join(" AND ");
                    values.push(expression.into());
                    conditions.push(
                        "m.id IN (SELECT rowid FROM message_fts WHERE message_fts MATCH ?)"
                            .to_owned(),
                    );
                }
                for word in short {
                    values.push(like(word).into());
                    conditions.push("m.text LIKE ? ESCAPE '\\'".to_owned());
                }
                values.push(limit.into());
                let sql = format!(
                    "SELECT m.* FROM message m JOIN conversation c ON c.id = m.conversation_id \
                     WHERE c.workspace_id = ? AND {} ORDER BY m.created_at DESC, m.id DESC LIMIT ?",
                    conditions.join(" AND ")
                );
                Statement::from_sql_and_values(backend, sql, values)
            }
        };
        Ok(message::Model::find_by_statement(statement)
            .all(&self.db)
            .await?)
    }

    /// Counts a workspace's messages created at or after `since`.
    pub async fn count_messages(
        &self,
        workspace_id: Uuid,
        since: chrono::DateTime<Utc>,
    ) -> HistoryResult<u64> {
        use sea_orm::PaginatorTrait;
        // Every message bumps its conversation's updated_at, so only conversations updated
        // since `since` can hold such messages (indexed by workspace, no message scan).
        let conversations: Vec<Uuid> = conversation::Entity::find()
            .select_only()
            .column(conversation::Column::Id)
            .filter(conversation::Column::WorkspaceId.eq(workspace_id))
            .filter(conversation::Column::UpdatedAt.gte(since))
            .into_tuple()
            .all(&self.db)
            .await?;
        if conversations.is_empty() {
            return Ok(0);
        }
        Ok(message::Entity::find()
            .filter(message::Column::ConversationId.is_in(conversations))
            .filter(message::Column::CreatedAt.gte(since))
            .count(&self.db)
            .await?)
    }

    /// Returns every participant's read mark of a conversation.
    pub async fn read_marks(
        &self,
        workspace_id: Uuid,
        conversation_id: Uuid,
    ) -> HistoryResult<Vec<read_mark::Model>> {
        find_conversation(&self.db, workspace_id, conversation_id).await?;
        Ok(read_mark::Entity::find()
            .filter(read_mark::Column::ConversationId.eq(conversation_id))
            .all(&self.db)
            .await?)
    }

    /// Records a visitor's rating of its closed conversation, when asked for and not yet given.
    pub async fn rate(&self, rating: Rating) -> HistoryResult<conversation::Model> {
        let current =
            find_conversation(&self.db, rating.workspace_id, rating.conversation_id).await?;
        if current.visitor_id != rating.visitor_id {
            return Err(HistoryError::ConversationNotFound);
        }
        if current.status != status::CLOSED || !current.rating_requested {
            return Err(HistoryError::RatingNotRequested);
        }
        let txn = self.db.begin().await?;
        let updated = conversation::Entity::update_many()
            .col_expr(conversation::Column::RatingScore, Expr::value(rating.score))
            .col_expr(
                conversation::Column::RatingComment,
                Expr::value(rating.comment),
            )
            .col_expr(conversation::Column::RatedAt, Expr::value(Utc::now()))
            .filter(conversation::Column::Id.eq(rating.conversation_id))
            .filter(conversation::Column::RatingScore.is_null())
            .exec_with_returning(&txn)
            .await?;
        let Some(conversation) = updated.into_iter().next() else {
            txn.rollback().await?;
            return Err(HistoryError::AlreadyRated);
        };
        self.enqueue(
            &txn,
            &self
                .subjects
                .conversation_lifecycle(&rating.conversation_id.to_string()),
            rating.workspace_id,
            Payload::ConversationRated(events::ConversationRated {
                conversation: Some(convert::conversation(&conversation)),
            }),
        )
        .await?;
        txn.commit().await?;
        self.notifier.notify();
        metrics::histogram!("switchboard_csat_score").record(f64::from(rating.score));
        Ok(conversation)
    }

    /// Closes assigned conversations without a message for `after`, each with a system message
    /// saying so (one transaction each; a message arriving meanwhile keeps it open). Returns how
    /// many were closed; at most a batch per call.
    pub async fn close_inactive(&self, after: std::time::Duration) -> HistoryResult<usize> {
        let cutoff = Utc::now() - chrono::Duration::from_std(after).unwrap_or_default();
        let quiet: Vec<Uuid> = conversation::Entity::find()
            .select_only()
            .column(conversation::Column::Id)
            .filter(conversation::Column::Status.eq(status::ASSIGNED))
            .filter(conversation::Column::UpdatedAt.lt(cutoff))
            .order_by_asc(conversation::Column::UpdatedAt)
            .limit(INACTIVE_BATCH)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut closed = 0;
        for id in quiet {
            let now = Utc::now();
            let txn = self.db.begin().await?;
            let updated = conversation::Entity::update_many()
                .col_expr(conversation::Column::Status, Expr::value(status::CLOSED))
                .col_expr(conversation::Column::ClosedAt, Expr::value(now))
                .col_expr(conversation::Column::UpdatedAt, Expr::value(now))
                .col_expr(
                    conversation::Column::LastSeq,
                    Expr::col(conversation::Column::LastSeq).add(1),
                )
                .filter(conversation::Column::Id.eq(id))
                .filter(conversation::Column::Status.eq(status::ASSIGNED))
                .filter(conversation::Column::UpdatedAt.lt(cutoff))
                .exec_with_returning(&txn)
                .await?;
            let Some(conversation) = updated.into_iter().next() else {
                txn.rollback().await?;
                continue;
            };
            self.append_system(&txn, &conversation, INACTIVE_NOTICE, now)
                .await?;
            let workspace_id = conversation.workspace_id;
            self.enqueue(
                &txn,
                &self.subjects.conversation_lifecycle(&id.to_string()),
                workspace_id,
                Payload::ConversationClosed(events::ConversationClosed {
                    conversation: Some(convert::conversation(&conversation)),
                }),
            )
            .await?;
            txn.commit().await?;
            closed += 1;
        }
        if closed > 0 {
            self.notifier.notify();
            metrics::counter!("switchboard_conversations_auto_closed_total")
                .increment(closed as u64);
        }
        Ok(closed)
    }

    /// Closes a conversation; closing a closed one changes nothing.
    pub async fn close(
        &self,
        workspace_id: Uuid,
        id: Uuid,
        request_rating: bool,
    ) -> HistoryResult<conversation::Model> {
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let updated = conversation::Entity::update_many()
            .col_expr(
                conversation::Column::RatingRequested,
                Expr::value(request_rating),
            )
            .col_expr(conversation::Column::Status, Expr::value(status::CLOSED))
            .col_expr(conversation::Column::ClosedAt, Expr::value(now))
            .col_expr(conversation::Column::UpdatedAt, Expr::value(now))
            .filter(conversation::Column::Id.eq(id))
            .filter(conversation::Column::WorkspaceId.eq(workspace_id))
            .filter(conversation::Column::Status.ne(status::CLOSED))
            .exec_with_returning(&txn)
            .await?;
        let Some(conversation) = updated.into_iter().next() else {
            txn.rollback().await?;
            return find_conversation(&self.db, workspace_id, id).await;
        };
        let payload = Payload::ConversationClosed(events::ConversationClosed {
            conversation: Some(convert::conversation(&conversation)),
        });
        self.enqueue(
            &txn,
            &self.subjects.conversation_lifecycle(&id.to_string()),
            workspace_id,
            payload,
        )
        .await?;
        txn.commit().await?;
        self.notifier.notify();
        Ok(conversation)
    }

    /// Appends a message with the next `seq`, or returns the original for a retried `client_msg_id`.
    /// Traced as `db.append_message`: the commit is where a send spends its time.
    #[tracing::instrument(
        name = "db.append_message",
        skip_all,
        fields(
            db.system = db_system(&self.db),
            conversation_id = %new.conversation_id,
        )
    )]
    pub async fn append(&self, new: NewMessage) -> HistoryResult<Appended> {
        let conversation =
            find_conversation(&self.db, new.workspace_id, new.conversation_id).await?;
        authorize(&conversation, &new, false)?;
        // Fast path for retries: no lock, no seq spent.
        if let Some(original) = find_original(&self.db, &new).await? {
            metrics::counter!("switchboard_messages_appended_total", "duplicate" => "true")
                .increment(1);
            return Ok(Appended {
                message: original,
                duplicate: true,
            });
        }
        let txn = self.db.begin().await?;
        let locked = conversation::Entity::update_many()
            .col_expr(
                conversation::Column::LastSeq,
                Expr::col(conversation::Column::LastSeq).add(1),
            )
            .col_expr(conversation::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(conversation::Column::Id.eq(new.conversation_id))
            .filter(conversation::Column::WorkspaceId.eq(new.workspace_id))
            .exec_with_returning(&txn)
            .await?;
        let Some(conversation) = locked.into_iter().next() else {
            txn.rollback().await?;
            return Err(HistoryError::ConversationNotFound);
        };
        if let Some(original) = find_original(&txn, &new).await? {
            txn.rollback().await?;
            metrics::counter!("switchboard_messages_appended_total", "duplicate" => "true")
                .increment(1);
            return Ok(Appended {
                message: original,
                duplicate: true,
            });
        }
        if let Err(error) = authorize(&conversation, &new, true) {
            txn.rollback().await?;
            return Err(error);
        }
        let message = message::ActiveModel {
            conversation_id: Set(new.conversation_id),
            seq: Set(conversation.last_seq),
            sender_kind: Set(new.sender_kind.as_str().to_owned()),
            sender_id: Set(new.sender_id.clone()),
            client_msg_id: Set(new.client_msg_id.clone()),
            text: Set(new.text.clone()),
            created_at: Set(Utc::now()),
            sender_name: Set(new.sender_name.clone()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let payload = Payload::MessageAppended(events::MessageAppended {
            message: Some(convert::message(&message)),
        });
        self.enqueue(
            &txn,
            &self
                .subjects
                .conversation_message(&new.conversation_id.to_string()),
            new.workspace_id,
            payload,
        )
        .await?;
        txn.commit().await?;
        self.notifier.notify();
        metrics::counter!("switchboard_messages_appended_total", "duplicate" => "false")
            .increment(1);
        Ok(Appended {
            message,
            duplicate: false,
        })
    }

    /// Returns up to `limit` messages with `seq > after_seq`, and whether more follow.
    pub async fn messages(
        &self,
        workspace_id: Uuid,
        conversation_id: Uuid,
        after_seq: i64,
        limit: u64,
    ) -> HistoryResult<(Vec<message::Model>, bool)> {
        find_conversation(&self.db, workspace_id, conversation_id).await?;
        let mut messages = message::Entity::find()
            .filter(message::Column::ConversationId.eq(conversation_id))
            .filter(message::Column::Seq.gt(after_seq))
            .order_by_asc(message::Column::Seq)
            .limit(limit + 1)
            .all(&self.db)
            .await?;
        let has_more = messages.len() as u64 > limit;
        messages.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok((messages, has_more))
    }

    /// Stores a system message at `conversation.last_seq` (the caller has just taken that seq
    /// with the conversation row locked) and records `MessageAppended`, inside `txn`.
    async fn append_system(
        &self,
        txn: &DatabaseTransaction,
        conversation: &conversation::Model,
        text: &str,
        now: chrono::DateTime<Utc>,
    ) -> HistoryResult<()> {
        let message = message::ActiveModel {
            conversation_id: Set(conversation.id),
            seq: Set(conversation.last_seq),
            sender_kind: Set(SenderKind::System.as_str().to_owned()),
            sender_id: Set(String::new()),
            client_msg_id: Set(format!("system-{}", Uuid::now_v7())),
            text: Set(text.to_owned()),
            created_at: Set(now),
            sender_name: Set(String::new()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        self.enqueue(
            txn,
            &self
                .subjects
                .conversation_message(&conversation.id.to_string()),
            conversation.workspace_id,
            Payload::MessageAppended(events::MessageAppended {
                message: Some(convert::message(&message)),
            }),
        )
        .await
    }

    async fn enqueue(
        &self,
        txn: &DatabaseTransaction,
        subject: &str,
        workspace_id: Uuid,
        payload: Payload,
    ) -> HistoryResult<()> {
        let event_id = Uuid::now_v7().to_string();
        let envelope = events::Envelope {
            event_id: event_id.clone(),
            occurred_at: Some(switchboard_platform::grpc::timestamp(Utc::now())),
            workspace_id: workspace_id.to_string(),
            payload: Some(payload),
        };
        OUTBOX
            .enqueue(txn, &event_id, subject, envelope.encode_to_vec())
            .await?;
        Ok(())
    }
}

/// Returns a new secret visitor token (256 random bits).
fn new_visitor_token() -> String {
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("vt_{}", hex::encode(bytes))
}

/// Returns the stored form of a visitor token.
fn token_hash(token: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

async fn find_conversation<C: ConnectionTrait>(
    conn: &C,
    workspace_id: Uuid,
    id: Uuid,
) -> HistoryResult<conversation::Model> {
    conversation::Entity::find_by_id(id)
        .filter(conversation::Column::WorkspaceId.eq(workspace_id))
        .one(conn)
        .await?
        .ok_or(HistoryError::ConversationNotFound)
}

async fn find_original<C: ConnectionTrait>(
    conn: &C,
    new: &NewMessage,
) -> HistoryResult<Option<message::Model>> {
    Ok(message::Entity::find()
        .filter(message::Column::ConversationId.eq(new.conversation_id))
        .filter(message::Column::SenderId.eq(new.sender_id.as_str()))
        .filter(message::Column::ClientMsgId.eq(new.client_msg_id.as_str()))
        .one(conn)
        .await?)
}

/// Checks that the sender may write to the conversation. A visitor naming someone else's
/// conversation is told it does not exist; `check_open` also refuses closed conversations
/// (retries of already stored messages are answered before this check).
fn authorize(
    conversation: &conversation::Model,
    new: &NewMessage,
    check_open: bool,
) -> HistoryResult<()> {
    match new.sender_kind {
        SenderKind::Visitor if conversation.visitor_id.to_string() != new.sender_id => {
            return Err(HistoryError::ConversationNotFound);
        }
        SenderKind::Agent
            if conversation
                .assigned_agent_id
                .map(|id| id.to_string())
                .as_deref()
                != Some(new.sender_id.as_str()) =>
        {
            return Err(HistoryError::NotParticipant);
        }
        _ => {}
    }
    if check_open && conversation.status == status::CLOSED {
        return Err(HistoryError::ConversationClosed);
    }
    Ok(())
}

/// Returns the OpenTelemetry `db.system` name of the connection's database.
fn db_system(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => "postgresql",
        sea_orm::DatabaseBackend::Sqlite => "sqlite",
        _ => "other",
    }
}
