//! Integration tests of conversation history on real PostgreSQL + NATS, and SQLite for the
//! embedded mode.

mod privacy;

use futures_util::StreamExt;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use switchboard_conversation_history::Config;
use switchboard_platform::bus::SharedBus;
use switchboard_platform::testing::{NatsServerProcess, TcpProxy, TestDb, TestNats, wait_until};
use switchboard_proto::common::v1::{ConversationStatus, SenderKind};
use switchboard_proto::history::v1::{
    self as pb, conversation_history_service_client::ConversationHistoryServiceClient,
};
use tokio_util::sync::CancellationToken;
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

type Client = ConversationHistoryServiceClient<Channel>;

struct Spawned {
    client: Client,
    channel: Channel,
    shutdown: CancellationToken,
    nats: TestNats,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn spawn_with(database_url: String, nats: TestNats) -> Spawned {
    let config = Config {
        database_url,
        ..Config::default()
    };
    spawn_config(config, nats).await
}

async fn spawn_config(config: Config, nats: TestNats) -> Spawned {
    let bus: SharedBus = Arc::new(nats.bus().await);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let config = Config {
        subject_prefix: nats.subjects.prefix().to_owned(),
        ..config
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(switchboard_conversation_history::run(
        config,
        listener,
        bus,
        shutdown.clone(),
    ));
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("url")
        .connect_lazy();
    let client = Client::new(channel.clone());
    wait_until(Duration::from_secs(20), "history to answer", || {
        let mut client = client.clone();
        async move {
            let probe = pb::GetConversationRequest {
                workspace_id: uuid::Uuid::nil().to_string(),
                conversation_id: uuid::Uuid::nil().to_string(),
            };
            matches!(client.get_conversation(probe).await, Err(status) if status.code() == Code::NotFound)
        }
    })
    .await;
    Spawned {
        client,
        channel,
        shutdown,
        nats,
    }
}

async fn spawn(database_url: String) -> Spawned {
    spawn_with(database_url, TestNats::new()).await
}

struct Chat {
    workspace_id: String,
    visitor_id: String,
    conversation_id: String,
}

async fn open_chat(client: &mut Client) -> Chat {
    let workspace_id = uuid::Uuid::now_v7().to_string();
    let visitor = client
        .upsert_visitor(pb::UpsertVisitorRequest {
            workspace_id: workspace_id.clone(),
            display_name: "Vera".into(),
            metadata: [(
                "page_url".to_owned(),
                "https://shop.example/cart".to_owned(),
            )]
            .into(),
            ..Default::default()
        })
        .await
        .expect("visitor")
        .into_inner()
        .visitor
        .expect("visitor");
    let conversation = client
        .open_conversation(pb::OpenConversationRequest {
            workspace_id: workspace_id.clone(),
            visitor_id: visitor.id.clone(),
            department_id: None,
            ..Default::default()
        })
        .await
        .expect("open")
        .into_inner()
        .conversation
        .expect("conversation");
    Chat {
        workspace_id,
        visitor_id: visitor.id,
        conversation_id: conversation.id,
    }
}

fn visitor_message(chat: &Chat, client_msg_id: &str, text: &str) -> pb::AppendMessageRequest {
    pb::AppendMessageRequest {
        workspace_id: chat.workspace_id.clone(),
        conversation_id: chat.conversation_id.clone(),
        sender_kind: SenderKind::Visitor as i32,
        sender_id: chat.visitor_id.clone(),
        client_msg_id: client_msg_id.to_owned(),
        text: text.to_owned(),
        sender_name: "Vera".to_owned(),
    }
}

async fn all_messages(client: &mut Client, chat: &Chat) -> Vec<pb::Message> {
    let mut messages = Vec::new();
    let mut after_seq = 0;
    loop {
        let page = client
            .list_messages(pb::ListMessagesRequest {
                workspace_id: chat.workspace_id.clone(),
                conversation_id: chat.conversation_id.clone(),
                after_seq,
                page: Some(switchboard_proto::common::v1::PageRequest { limit: 7 }),
            })
            .await
            .expect("list")
            .into_inner();
        after_seq = page
            .messages
            .last()
            .map_or(after_seq, |message| message.seq);
        messages.extend(page.messages);
        if !page.has_more {
            return messages;
        }
    }
}

async fn retry_returns_the_original(database_url: String) {
    let mut app = spawn(database_url).await;
    let chat = open_chat(&mut app.client).await;
    let id = uuid::Uuid::now_v7().to_string();
    let first = app
        .client
        .append_message(visitor_message(&chat, &id, "hello"))
        .await
        .expect("append")
        .into_inner();
    assert!(!first.duplicate);
    assert_eq!(first.message.as_ref().expect("message").seq, 1);
    let other = uuid::Uuid::now_v7().to_string();
    app.client
        .append_message(visitor_message(&chat, &other, "second"))
        .await
        .expect("append");
    // The retry even carries different text: the key decides, and the original wins.
    let retry = app
        .client
        .append_message(visitor_message(&chat, &id, "hello again"))
        .await
        .expect("retry")
        .into_inner();
    assert!(retry.duplicate);
    assert_eq!(retry.message.as_ref().expect("message").seq, 1);
    assert_eq!(retry.message.expect("message").text, "hello");
    let stored = all_messages(&mut app.client, &chat).await;
    assert_eq!(
        stored.iter().map(|message| message.seq).collect::<Vec<_>>(),
        vec![1, 2]
    );
}

#[tokio::test]
async fn retry_returns_the_original_seq_on_postgres() {
    retry_returns_the_original(TestDb::fresh().await.url).await;
}

#[tokio::test]
async fn retry_returns_the_original_seq_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    retry_returns_the_original(switchboard_platform::testing::sqlite_url(
        dir.path(),
        "history.db",
    ))
    .await;
}

/// 20 concurrent appenders, each sending 10 messages and retrying every third one, must produce
/// seq exactly 1..=200 with every client_msg_id stored once.
async fn concurrent_appenders_get_gapless_seq(database_url: String) {
    let mut app = spawn(database_url).await;
    let chat = Arc::new(open_chat(&mut app.client).await);
    let mut tasks = Vec::new();
    for appender in 0..20 {
        let mut client = app.client.clone();
        let chat = chat.clone();
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for n in 0..10 {
                let id = format!("a{appender}-m{n}");
                let request = visitor_message(&chat, &id, &format!("message {n} of {appender}"));
                let ack = client
                    .append_message(request.clone())
                    .await
                    .expect("append")
                    .into_inner();
                let seq = ack.message.expect("message").seq;
                if n % 3 == 0 {
                    let retry = client
                        .append_message(request)
                        .await
                        .expect("retry")
                        .into_inner();
                    assert!(retry.duplicate);
                    assert_eq!(retry.message.expect("message").seq, seq);
                }
                acked.push((id, seq));
            }
            acked
        }));
    }
    let mut acked = Vec::new();
    for task in tasks {
        acked.extend(task.await.expect("appender"));
    }
    let stored = all_messages(&mut app.client, &chat).await;
    let seqs: Vec<u64> = stored.iter().map(|message| message.seq).collect();
    assert_eq!(
        seqs,
        (1..=200).collect::<Vec<u64>>(),
        "seq must be exactly 1..=200"
    );
    let ids: HashSet<&str> = stored
        .iter()
        .map(|message| message.client_msg_id.as_str())
        .collect();
    assert_eq!(ids.len(), 200, "every client_msg_id stored once");
    for (id, seq) in acked {
        let row = stored
            .iter()
            .find(|message| message.client_msg_id == id)
            .expect("acked message stored");
        assert_eq!(row.seq, seq, "ack of {id} names its stored seq");
    }
    let conversation = app
        .client
        .get_conversation(pb::GetConversationRequest {
            workspace_id: chat.workspace_id.clone(),
            conversation_id: chat.conversation_id.clone(),
        })
        .await
        .expect("get")
        .into_inner()
        .conversation
        .expect("conversation");
    assert_eq!(conversation.last_seq, 200);
}

#[tokio::test]
async fn concurrent_appenders_get_gapless_seq_on_postgres() {
    concurrent_appenders_get_gapless_seq(TestDb::fresh().await.url).await;
}

#[tokio::test]
async fn concurrent_appenders_get_gapless_seq_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    concurrent_appenders_get_gapless_seq(switchboard_platform::testing::sqlite_url(
        dir.path(),
        "history.db",
    ))
    .await;
}

#[tokio::test]
async fn bad_input_is_rejected_and_changes_nothing() {
    let mut app = spawn(TestDb::fresh().await.url).await;
    let chat = open_chat(&mut app.client).await;
    let other = open_chat(&mut app.client).await;
    app.client
        .append_message(visitor_message(&chat, "first", "hi"))
        .await
        .expect("append");
    let too_long = "x".repeat(8 * 1024 + 1);
    let cases: Vec<(pb::AppendMessageRequest, Code, &str)> = vec![
        (
            visitor_message(&chat, "c1", "   "),
            Code::InvalidArgument,
            "text",
        ),
        (
            visitor_message(&chat, "c2", &too_long),
            Code::InvalidArgument,
            "text",
        ),
        (
            visitor_message(&chat, "", "hi"),
            Code::InvalidArgument,
            "client_msg_id",
        ),
        (
            visitor_message(&chat, "has space", "hi"),
            Code::InvalidArgument,
            "client_msg_id",
        ),
        (
            pb::AppendMessageRequest {
                conversation_id: "nope".into(),
                ..visitor_message(&chat, "c3", "hi")
            },
            Code::InvalidArgument,
            "conversation_id",
        ),
        (
            pb::AppendMessageRequest {
                sender_kind: 0,
                ..visitor_message(&chat, "c4", "hi")
            },
            Code::InvalidArgument,
            "sender_kind",
        ),
        (
            pb::AppendMessageRequest {
                conversation_id: uuid::Uuid::now_v7().to_string(),
                ..visitor_message(&chat, "c5", "hi")
            },
            Code::NotFound,
            "conversation",
        ),
        // Right conversation, wrong workspace: indistinguishable from a missing conversation.
        (
            pb::AppendMessageRequest {
                workspace_id: other.workspace_id.clone(),
                ..visitor_message(&chat, "c6", "hi")
            },
            Code::NotFound,
            "conversation",
        ),
        // A visitor naming another visitor's conversation.
        (
            pb::AppendMessageRequest {
                sender_id: other.visitor_id.clone(),
                ..visitor_message(&chat, "c7", "hi")
            },
            Code::NotFound,
            "conversation",
        ),
        // An agent who does not hold the conversation.
        (
            pb::AppendMessageRequest {
                sender_kind: SenderKind::Agent as i32,
                sender_id: uuid::Uuid::now_v7().to_string(),
                ..visitor_message(&chat, "c8", "hi")
            },
            Code::PermissionDenied,
            "participant",
        ),
    ];
    for (request, code, mention) in cases {
        let status = app
            .client
            .append_message(request)
            .await
            .expect_err("must fail");
        assert_eq!(status.code(), code, "{status:?}");
        assert!(
            status.message().contains(mention),
            "{status:?} should mention {mention}"
        );
    }
    app.client
        .close_conversation(pb::CloseConversationRequest {
            workspace_id: chat.workspace_id.clone(),
            conversation_id: chat.conversation_id.clone(),
            request_rating: false,
        })
        .await
        .expect("close");
    let closed = app
        .client
        .append_message(visitor_message(&chat, "late", "hi"))
        .await
        .expect_err("closed");
    assert_eq!(closed.code(), Code::FailedPrecondition);
    // A retry of a message stored before the close still gets its original ack.
    let retry = app
        .client
        .append_message(visitor_message(&chat, "first", "hi"))
        .await
        .expect("retry")
        .into_inner();
    assert!(retry.duplicate);

    let stored = all_messages(&mut app.client, &chat).await;
    assert_eq!(stored.len(), 1, "rejected requests stored nothing");
    let conversation = app
        .client
        .get_conversation(pb::GetConversationRequest {
            workspace_id: chat.workspace_id.clone(),
            conversation_id: chat.conversation_id.clone(),
        })
        .await
        .expect("get")
        .into_inner()
        .conversation
        .expect("conversation");
    assert_eq!(conversation.last_seq, 1, "rejected requests spent no seq");
}

#[tokio::test]
async fn messages_committed_while_nats_is_down_are_published_once_it_returns() {
    let store = tempfile::tempdir().expect("tempdir");
    let mut server = NatsServerProcess::start(store.path());
    let nats = TestNats::on(server.url());
    let mut app = spawn_with(TestDb::fresh().await.url, nats).await;
    let chat = open_chat(&mut app.client).await;
    let subject = app
        .nats
        .subjects
        .conversation_message(&chat.conversation_id);

    server.kill();
    let ack = app
        .client
        .append_message(visitor_message(&chat, "while-down", "is anyone there?"))
        .await
        .expect("the database commit does not depend on NATS")
        .into_inner();
    assert_eq!(ack.message.expect("message").seq, 1);
    server.restart();

    let client = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(server.url())
        .await
        .expect("nats");
    let jetstream = async_nats::jetstream::new(client);
    let stream_name = app.nats.subjects.events_stream();
    let count_published = || {
        let jetstream = jetstream.clone();
        let stream_name = stream_name.clone();
        let subject = subject.clone();
        async move {
            let Ok(mut stream) = jetstream.get_stream(&stream_name).await else {
                return 0;
            };
            let Ok(info) = stream.info().await else {
                return 0;
            };
            if info.state.messages == 0 {
                return 0;
            }
            let consumer = stream
                .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig {
                    filter_subject: subject,
                    ..Default::default()
                })
                .await
                .expect("consumer");
            let mut messages = consumer.messages().await.expect("messages");
            let mut count = 0;
            while let Ok(Some(Ok(_))) =
                tokio::time::timeout(Duration::from_millis(300), messages.next()).await
            {
                count += 1;
            }
            count
        }
    };
    wait_until(
        Duration::from_secs(30),
        "the message to be published after NATS returned",
        || {
            let count = count_published();
            async move { count.await >= 1 }
        },
    )
    .await;
    // One more append proves the relay is past the first row; then the first is still there once.
    app.client
        .append_message(visitor_message(&chat, "after", "back"))
        .await
        .expect("append");
    wait_until(Duration::from_secs(30), "the second message", || {
        let count = count_published();
        async move { count.await >= 2 }
    })
    .await;
    assert_eq!(
        count_published().await,
        2,
        "each committed message is published exactly once"
    );
}

/// Returns `url` with its `host:port` replaced by `addr` (user, password and database kept).
fn url_via(url: &str, addr: std::net::SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("scheme");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let user = authority
        .rsplit_once('@')
        .map_or(String::new(), |(user, _)| format!("{user}@"));
    format!("{scheme}://{user}{addr}{path}")
}

/// Returns the `host:port` of a PostgreSQL `url`, resolved.
async fn server_addr(url: &str) -> std::net::SocketAddr {
    let rest = url.split_once("://").expect("scheme").1;
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host_port = if host_port
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse::<u16>().is_ok())
    {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    tokio::net::lookup_host(&host_port)
        .await
        .expect("resolve")
        .next()
        .expect("an address")
}

#[tokio::test]
async fn database_down_answers_unavailable_without_leaking_sql_and_recovers() {
    let db = TestDb::fresh().await;
    let mut proxy = TcpProxy::start(server_addr(&db.url).await).await;
    let mut app = spawn_with(url_via(&db.url, proxy.addr()), TestNats::new()).await;
    let health = HealthClient::new(app.channel.clone());
    let status_of = |health: &HealthClient<Channel>| {
        let mut health = health.clone();
        async move {
            health
                .check(HealthCheckRequest {
                    service: pb::conversation_history_service_server::SERVICE_NAME.to_owned(),
                })
                .await
                .ok()
                .map(|response| response.into_inner().status())
        }
    };
    let chat = open_chat(&mut app.client).await;
    app.client
        .append_message(visitor_message(&chat, "before", "hello"))
        .await
        .expect("append with the database up");
    wait_until(Duration::from_secs(20), "health to report serving", || {
        let status = status_of(&health);
        async move { status.await == Some(ServingStatus::Serving) }
    })
    .await;

    proxy.pause().await;
    let status = app
        .client
        .append_message(visitor_message(&chat, "while-down", "anyone?"))
        .await
        .expect_err("the database is down");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let opaque = switchboard_platform::grpc::unavailable(&std::io::Error::other("probe"));
    assert_eq!(status.message(), opaque.message(), "{status:?}");
    for leak in [
        "sql",
        "SQL",
        "postgres",
        "connection",
        "127.0.0.1",
        "sbtest_",
    ] {
        assert!(!status.message().contains(leak), "{status:?} leaks {leak}");
    }
    wait_until(
        Duration::from_secs(20),
        "health to report not serving",
        || {
            let status = status_of(&health);
            async move { status.await == Some(ServingStatus::NotServing) }
        },
    )
    .await;

    proxy.resume().await;
    // The client retries its message with the same key until the pool has reconnected.
    let recovered = std::cell::RefCell::new(None);
    wait_until(
        Duration::from_secs(30),
        "an append to succeed again",
        || {
            let mut client = app.client.clone();
            let request = visitor_message(&chat, "while-down", "anyone?");
            let recovered = &recovered;
            async move {
                let ack = client.append_message(request).await.ok();
                let done = ack.is_some();
                *recovered.borrow_mut() = ack.map(tonic::Response::into_inner);
                done
            }
        },
    )
    .await;
    let ack = recovered.into_inner().expect("recovered");
    assert!(!ack.duplicate, "the failed append stored nothing");
    assert_eq!(ack.message.expect("message").seq, 2);
    let stored = all_messages(&mut app.client, &chat).await;
    assert_eq!(
        stored
            .iter()
            .map(|message| (message.seq, message.client_msg_id.as_str()))
            .collect::<Vec<_>>(),
        vec![(1, "before"), (2, "while-down")]
    );
    wait_until(
        Duration::from_secs(20),
        "health to report serving again",
        || {
            let status = status_of(&health);
            async move { status.await == Some(ServingStatus::Serving) }
        },
    )
    .await;
}

#[tokio::test]
async fn quiet_assigned_conversations_are_closed_and_waiting_ones_are_not() {
    let config = Config {
        database_url: TestDb::fresh().await.url,
        auto_close_secs: 1,
        auto_close_sweep_ms: 200,
        ..Config::default()
    };
    let mut app = spawn_config(config, TestNats::new()).await;
    let quiet = open_chat(&mut app.client).await;
    let waiting = open_chat(&mut app.client).await;
    app.client
        .append_message(visitor_message(&quiet, "m1", "hello?"))
        .await
        .expect("append");
    app.client
        .assign_conversation(pb::AssignConversationRequest {
            workspace_id: quiet.workspace_id.clone(),
            conversation_id: quiet.conversation_id.clone(),
            agent_id: uuid::Uuid::now_v7().to_string(),
            from_agent_id: None,
        })
        .await
        .expect("assign");
    let reader = app.client.clone();
    let status = |chat: &Chat| {
        let mut client = reader.clone();
        let request = pb::GetConversationRequest {
            workspace_id: chat.workspace_id.clone(),
            conversation_id: chat.conversation_id.clone(),
        };
        async move {
            client
                .get_conversation(request)
                .await
                .expect("get")
                .into_inner()
                .conversation
                .expect("conversation")
                .status
        }
    };
    wait_until(
        Duration::from_secs(20),
        "the quiet conversation to close",
        || async { status(&quiet).await == ConversationStatus::Closed as i32 },
    )
    .await;
    let messages = all_messages(&mut app.client, &quiet).await;
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].seq, 2);
    assert_eq!(messages[1].sender_kind, SenderKind::System as i32);
    assert!(messages[1].text.contains("inactivity"));
    assert_eq!(
        status(&waiting).await,
        ConversationStatus::Queued as i32,
        "a conversation waiting for an agent is never closed for inactivity"
    );
    let late = app
        .client
        .append_message(visitor_message(&quiet, "m2", "still there?"))
        .await
        .expect_err("closed");
    assert_eq!(late.code(), Code::FailedPrecondition);
}

async fn read_marks_only_move_forward(database_url: String) {
    let mut app = spawn(database_url).await;
    let chat = open_chat(&mut app.client).await;
    for n in 1..=5 {
        app.client
            .append_message(visitor_message(&chat, &format!("m{n}"), "hi"))
            .await
            .expect("append");
    }
    let agent = uuid::Uuid::now_v7().to_string();
    let mark = |seq: u64| {
        let mut client = app.client.clone();
        let request = pb::MarkReadRequest {
            workspace_id: chat.workspace_id.clone(),
            conversation_id: chat.conversation_id.clone(),
            reader_kind: SenderKind::Agent as i32,
            reader_id: agent.clone(),
            seq,
        };
        async move { client.mark_read(request).await.map(|r| r.into_inner()) }
    };
    // Concurrent marks: whatever the order, the highest wins.
    let results = futures_util::future::join_all((1..=5).rev().map(mark)).await;
    assert!(results.iter().all(Result::is_ok));
    let beyond = mark(6).await.expect_err("beyond the last seq");
    assert_eq!(beyond.code(), Code::InvalidArgument);
    let back = mark(2).await.expect("older mark");
    assert!(!back.advanced);
    assert_eq!(back.mark.expect("mark").last_read_seq, 5);
    let other_visitor = app
        .client
        .mark_read(pb::MarkReadRequest {
            workspace_id: chat.workspace_id.clone(),
            conversation_id: chat.conversation_id.clone(),
            reader_kind: SenderKind::Visitor as i32,
            reader_id: uuid::Uuid::now_v7().to_string(),
            seq: 1,
        })
        .await
        .expect_err("not this conversation's visitor");
    assert_eq!(other_visitor.code(), Code::NotFound);
    let marks = app
        .client
        .list_reads(pb::ListReadsRequest {
            workspace_id: chat.workspace_id.clone(),
            conversation_id: chat.conversation_id.clone(),
        })
        .await
        .expect("list")
        .into_inner()
        .marks;
    assert_eq!(marks.len(), 1);
    assert_eq!(
        (marks[0].reader_id.as_str(), marks[0].last_read_seq),
        (agent.as_str(), 5)
    );
}

#[tokio::test]
async fn read_marks_only_move_forward_on_postgres() {
    read_marks_only_move_forward(TestDb::fresh().await.url).await;
}

#[tokio::test]
async fn read_marks_only_move_forward_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    read_marks_only_move_forward(switchboard_platform::testing::sqlite_url(
        dir.path(),
        "history.db",
    ))
    .await;
}

async fn search_finds_words_and_chinese_within_the_workspace(database_url: String) {
    let mut app = spawn(database_url).await;
    let chat = open_chat(&mut app.client).await;
    let other = open_chat(&mut app.client).await;
    for (chat, id, text) in [
        (&chat, "m1", "My parcel never arrived"),
        (&chat, "m2", "我的订单还没有到"),
        (&chat, "m3", "Refund 100% please_now"),
        (&other, "o1", "parcel of another workspace"),
    ] {
        app.client
            .append_message(visitor_message(chat, id, text))
            .await
            .expect("append");
    }
    let search = |workspace_id: String, query: &str| {
        let mut client = app.client.clone();
        let request = pb::SearchMessagesRequest {
            workspace_id,
            query: query.to_owned(),
            page: None,
        };
        async move {
            client
                .search_messages(request)
                .await
                .map(|r| r.into_inner().messages)
        }
    };
    let texts = |messages: Vec<pb::Message>| -> Vec<String> {
        messages.into_iter().map(|message| message.text).collect()
    };
    assert_eq!(
        texts(
            search(chat.workspace_id.clone(), "parcel")
                .await
                .expect("search")
        ),
        ["My parcel never arrived"],
        "the other workspace's parcel is not found"
    );
    assert_eq!(
        texts(
            search(chat.workspace_id.clone(), "never parcel")
                .await
                .expect("search")
        ),
        ["My parcel never arrived"]
    );
    assert!(
        texts(
            search(chat.workspace_id.clone(), "parcel refund")
                .await
                .expect("search")
        )
        .is_empty()
    );
    assert_eq!(
        texts(
            search(chat.workspace_id.clone(), "订单")
                .await
                .expect("search")
        ),
        ["我的订单还没有到"]
    );
    assert!(
        texts(
            search(chat.workspace_id.clone(), "100%")
                .await
                .expect("search")
        )
        .iter()
        .all(|text| text.contains("100%")),
        "% is matched literally"
    );
    for bad in ["x", "", &"y".repeat(201)] {
        let refused = search(chat.workspace_id.clone(), bad)
            .await
            .expect_err("bad query");
        assert_eq!(refused.code(), Code::InvalidArgument, "{bad:?}");
    }
}

#[tokio::test]
async fn search_finds_words_and_chinese_within_the_workspace_on_postgres() {
    search_finds_words_and_chinese_within_the_workspace(TestDb::fresh().await.url).await;
}

#[tokio::test]
async fn search_finds_words_and_chinese_within_the_workspace_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    search_finds_words_and_chinese_within_the_workspace(switchboard_platform::testing::sqlite_url(
        dir.path(),
        "history.db",
    ))
    .await;
}
