//! Erasing a visitor and deleting conversations past retention, checked in the database.

use super::{Client, spawn_config, visitor_message};
use chrono::Utc;
use prost::Message as _;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use std::time::Duration;
use switchboard_conversation_history::Config;
use switchboard_conversation_history::db::entity::{
    conversation, message, note, read_mark, visitor,
};
use switchboard_platform::testing::{TestDb, TestNats, sqlite_url, wait_until};
use switchboard_proto::common::v1::SenderKind;
use switchboard_proto::events::v1::{Envelope, envelope::Payload};
use switchboard_proto::history::v1 as pb;
use tonic::Code;
use uuid::Uuid;

/// One visitor's conversation in a workspace the test chooses.
struct Thread {
    workspace_id: String,
    visitor_id: String,
    conversation_id: String,
}

impl Thread {
    fn chat(&self) -> super::Chat {
        super::Chat {
            workspace_id: self.workspace_id.clone(),
            visitor_id: self.visitor_id.clone(),
            conversation_id: self.conversation_id.clone(),
        }
    }

    fn conversation_uuid(&self) -> Uuid {
        self.conversation_id.parse().expect("uuid")
    }

    fn visitor_uuid(&self) -> Uuid {
        self.visitor_id.parse().expect("uuid")
    }
}

/// Opens a conversation for `visitor_id` (a new visitor when none) with `messages` messages,
/// a note and the visitor's read mark.
async fn thread(
    client: &mut Client,
    workspace_id: &str,
    visitor_id: Option<&str>,
    messages: usize,
) -> Thread {
    let visitor_id = match visitor_id {
        Some(id) => id.to_owned(),
        None => {
            client
                .upsert_visitor(pb::UpsertVisitorRequest {
                    workspace_id: workspace_id.to_owned(),
                    external_id: Some(format!("crm-{}", Uuid::now_v7())),
                    display_name: "Erin".into(),
                    metadata: [("email".to_owned(), "erin@example.com".to_owned())].into(),
                    ..Default::default()
                })
                .await
                .expect("visitor")
                .into_inner()
                .visitor
                .expect("visitor")
                .id
        }
    };
    let conversation_id = client
        .open_conversation(pb::OpenConversationRequest {
            workspace_id: workspace_id.to_owned(),
            visitor_id: visitor_id.clone(),
            ..Default::default()
        })
        .await
        .expect("open")
        .into_inner()
        .conversation
        .expect("conversation")
        .id;
    let thread = Thread {
        workspace_id: workspace_id.to_owned(),
        visitor_id,
        conversation_id,
    };
    for index in 0..messages {
        client
            .append_message(visitor_message(
                &thread.chat(),
                &format!("m{index}"),
                &format!("my card ends in 42{index}"),
            ))
            .await
            .expect("append");
    }
    client
        .add_note(pb::AddNoteRequest {
            workspace_id: workspace_id.to_owned(),
            conversation_id: thread.conversation_id.clone(),
            author_id: Uuid::now_v7().to_string(),
            author_name: "Ana".into(),
            text: "VIP customer".into(),
        })
        .await
        .expect("note");
    if messages > 0 {
        client
            .mark_read(pb::MarkReadRequest {
                workspace_id: workspace_id.to_owned(),
                conversation_id: thread.conversation_id.clone(),
                reader_kind: SenderKind::Visitor as i32,
                reader_id: thread.visitor_id.clone(),
                seq: 1,
            })
            .await
            .expect("read");
    }
    thread
}

async fn close(client: &mut Client, thread: &Thread) {
    client
        .close_conversation(pb::CloseConversationRequest {
            workspace_id: thread.workspace_id.clone(),
            conversation_id: thread.conversation_id.clone(),
            ..Default::default()
        })
        .await
        .expect("close");
}

/// Rows stored under a conversation: (conversation, messages, notes, read marks).
async fn rows(db: &DatabaseConnection, conversation_id: Uuid) -> (u64, u64, u64, u64) {
    (
        conversation::Entity::find_by_id(conversation_id)
            .count(db)
            .await
            .expect("count"),
        message::Entity::find()
            .filter(message::Column::ConversationId.eq(conversation_id))
            .count(db)
            .await
            .expect("count"),
        note::Entity::find()
            .filter(note::Column::ConversationId.eq(conversation_id))
            .count(db)
            .await
            .expect("count"),
        read_mark::Entity::find()
            .filter(read_mark::Column::ConversationId.eq(conversation_id))
            .count(db)
            .await
            .expect("count"),
    )
}

async fn visitor_rows(db: &DatabaseConnection, visitor_id: Uuid) -> u64 {
    visitor::Entity::find_by_id(visitor_id)
        .count(db)
        .await
        .expect("count")
}

async fn erasing_a_visitor_deletes_everything_it_said(database_url: String) {
    let nats = TestNats::new();
    let config = Config {
        database_url: database_url.clone(),
        ..Config::default()
    };
    let mut app = spawn_config(config, nats.clone()).await;
    let db = switchboard_platform::db::connect(&database_url)
        .await
        .expect("db");
    let workspace_id = Uuid::now_v7().to_string();
    let client = &mut app.client;
    let closed = thread(client, &workspace_id, None, 3).await;
    close(client, &closed).await;
    let open = thread(client, &workspace_id, Some(&closed.visitor_id), 2).await;
    let bystander = thread(client, &workspace_id, None, 2).await;

    // Another workspace cannot erase it, and trying changes nothing.
    let foreign = client
        .erase_visitor(pb::EraseVisitorRequest {
            workspace_id: Uuid::now_v7().to_string(),
            visitor_id: closed.visitor_id.clone(),
        })
        .await
        .expect_err("another workspace's visitor");
    assert_eq!(foreign.code(), Code::NotFound);
    let malformed = client
        .erase_visitor(pb::EraseVisitorRequest {
            workspace_id: workspace_id.clone(),
            visitor_id: "not-a-uuid".into(),
        })
        .await
        .expect_err("malformed id");
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert_eq!(rows(&db, closed.conversation_uuid()).await, (1, 3, 1, 1));

    let erased = client
        .erase_visitor(pb::EraseVisitorRequest {
            workspace_id: workspace_id.clone(),
            visitor_id: closed.visitor_id.clone(),
        })
        .await
        .expect("erase")
        .into_inner();
    assert_eq!(
        (erased.conversations, erased.messages, erased.notes),
        (2, 5, 2)
    );
    for gone in [&closed, &open] {
        assert_eq!(rows(&db, gone.conversation_uuid()).await, (0, 0, 0, 0));
    }
    assert_eq!(visitor_rows(&db, closed.visitor_uuid()).await, 0);
    assert_eq!(
        conversation::Entity::find()
            .filter(conversation::Column::VisitorId.eq(closed.visitor_uuid()))
            .count(&db)
            .await
            .expect("count"),
        0
    );
    // The other visitor of the workspace keeps everything.
    assert_eq!(rows(&db, bystander.conversation_uuid()).await, (1, 2, 1, 1));
    assert_eq!(visitor_rows(&db, bystander.visitor_uuid()).await, 1);

    // The open conversation was closed on the bus, so routing and gateways let go of it.
    let jetstream = async_nats::jetstream::new(async_nats::connect(&nats.url).await.expect("nats"));
    let subject = nats.subjects.conversation_lifecycle(&open.conversation_id);
    let stream_name = nats.subjects.events_stream();
    wait_until(
        Duration::from_secs(20),
        "the erased open conversation's close to be published",
        || async {
            let Ok(stream) = jetstream.get_stream(&stream_name).await else {
                return false;
            };
            let Ok(last) = stream.get_last_raw_message_by_subject(&subject).await else {
                return false;
            };
            matches!(
                Envelope::decode(last.payload).map(|envelope| envelope.payload),
                Ok(Some(Payload::ConversationClosed(_)))
            )
        },
    )
    .await;

    // Erasing again: the visitor is gone.
    let again = client
        .erase_visitor(pb::EraseVisitorRequest {
            workspace_id,
            visitor_id: closed.visitor_id.clone(),
        })
        .await
        .expect_err("already erased");
    assert_eq!(again.code(), Code::NotFound);
}

#[tokio::test]
async fn erasing_a_visitor_deletes_everything_it_said_on_postgres() {
    erasing_a_visitor_deletes_everything_it_said(TestDb::fresh().await.url).await;
}

#[tokio::test]
async fn erasing_a_visitor_deletes_everything_it_said_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    erasing_a_visitor_deletes_everything_it_said(sqlite_url(dir.path(), "history.db")).await;
}

/// Moves a conversation's times (and its visitor's creation) `days` into the past.
async fn age(db: &DatabaseConnection, thread: &Thread, days: i64, closed: bool) {
    let then = Utc::now() - chrono::Duration::days(days);
    let mut update = conversation::Entity::update_many()
        .col_expr(conversation::Column::CreatedAt, Expr::value(then))
        .col_expr(conversation::Column::UpdatedAt, Expr::value(then));
    if closed {
        update = update.col_expr(conversation::Column::ClosedAt, Expr::value(then));
    }
    update
        .filter(conversation::Column::Id.eq(thread.conversation_uuid()))
        .exec(db)
        .await
        .expect("age conversation");
    visitor::Entity::update_many()
        .col_expr(visitor::Column::CreatedAt, Expr::value(then))
        .filter(visitor::Column::Id.eq(thread.visitor_uuid()))
        .exec(db)
        .await
        .expect("age visitor");
}

async fn conversations_past_retention_are_deleted(database_url: String) {
    let config = Config {
        database_url: database_url.clone(),
        retention_sweep_ms: 100,
        ..Config::default()
    };
    let mut app = spawn_config(config, TestNats::new()).await;
    let db = switchboard_platform::db::connect(&database_url)
        .await
        .expect("db");
    let workspace_id = Uuid::now_v7().to_string();
    let elsewhere = Uuid::now_v7().to_string();
    let client = &mut app.client;

    let expired = thread(client, &workspace_id, None, 3).await;
    close(client, &expired).await;
    age(&db, &expired, 40, true).await;
    let recent = thread(client, &workspace_id, None, 2).await;
    close(client, &recent).await;
    age(&db, &recent, 10, true).await;
    // Open for 40 days: never deleted while open, whatever its age.
    let waiting = thread(client, &workspace_id, None, 1).await;
    age(&db, &waiting, 40, false).await;
    // Same age, but its workspace keeps everything.
    let kept = thread(client, &elsewhere, None, 2).await;
    close(client, &kept).await;
    age(&db, &kept, 400, true).await;

    let bad = client
        .set_retention(pb::SetRetentionRequest {
            workspace_id: workspace_id.clone(),
            days: 3651,
        })
        .await
        .expect_err("too long");
    assert_eq!(bad.code(), Code::InvalidArgument);
    let set = client
        .set_retention(pb::SetRetentionRequest {
            workspace_id: workspace_id.clone(),
            days: 30,
        })
        .await
        .expect("set")
        .into_inner()
        .policy
        .expect("policy");
    assert_eq!(set.days, 30);
    assert!(set.updated_at.is_some());

    wait_until(
        Duration::from_secs(20),
        "the expired conversation to be purged",
        || async { rows(&db, expired.conversation_uuid()).await.0 == 0 },
    )
    .await;
    assert_eq!(rows(&db, expired.conversation_uuid()).await, (0, 0, 0, 0));
    wait_until(
        Duration::from_secs(20),
        "the expired conversation's visitor (nothing left, as old) to be purged",
        || async { visitor_rows(&db, expired.visitor_uuid()).await == 0 },
    )
    .await;
    assert_eq!(rows(&db, recent.conversation_uuid()).await, (1, 2, 1, 1));
    assert_eq!(visitor_rows(&db, recent.visitor_uuid()).await, 1);
    assert_eq!(rows(&db, waiting.conversation_uuid()).await, (1, 1, 1, 1));
    assert_eq!(visitor_rows(&db, waiting.visitor_uuid()).await, 1);
    assert_eq!(rows(&db, kept.conversation_uuid()).await, (1, 2, 1, 1));

    // Back to "forever": the policy is gone and nothing more is deleted.
    client
        .set_retention(pb::SetRetentionRequest {
            workspace_id: workspace_id.clone(),
            days: 0,
        })
        .await
        .expect("unset");
    let policy = client
        .get_retention(pb::GetRetentionRequest { workspace_id })
        .await
        .expect("get")
        .into_inner()
        .policy
        .expect("policy");
    assert_eq!(policy.days, 0);
    assert!(policy.updated_at.is_none());
}

#[tokio::test]
async fn conversations_past_retention_are_deleted_on_postgres() {
    conversations_past_retention_are_deleted(TestDb::fresh().await.url).await;
}

#[tokio::test]
async fn conversations_past_retention_are_deleted_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    conversations_past_retention_are_deleted(sqlite_url(dir.path(), "history.db")).await;
}
