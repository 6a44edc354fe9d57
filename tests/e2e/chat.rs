//! Protocol v1 end to end: visitor ↔ agent chat, resume on another gateway, crash recovery,
//! idempotent retries, bad input and slow consumers — against the real binary.

use crate::process::{Process, Switchboard};
use crate::ws_client::WsClient;
use crate::{STARTUP, grpc_serving, login, me, wait_healthy};
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_platform::testing::{TestDb, TestNats, free_port, wait_until};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

pub(crate) const ADMIN_EMAIL: &str = "admin@acme.example";
pub(crate) const ADMIN_PASSWORD: &str = "correct-horse-battery";

/// Every component in one process on a SQLite data directory.
pub(crate) struct AllInOne {
    process: Process,
    pub(crate) base: String,
    env: Vec<(&'static str, String)>,
}

impl AllInOne {
    pub(crate) async fn start(data: &std::path::Path, extra: &[(&'static str, String)]) -> Self {
        let port = free_port();
        let mut env = vec![
            ("SWITCHBOARD_DATA_DIR", data.display().to_string()),
            ("SWITCHBOARD_HTTP_ADDR", format!("127.0.0.1:{port}")),
            ("SWITCHBOARD_BOOTSTRAP_EMAIL", ADMIN_EMAIL.to_owned()),
            ("SWITCHBOARD_BOOTSTRAP_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ];
        env.extend_from_slice(extra);
        let mut process = Process::start(Switchboard::AllInOne, &env);
        let base = format!("http://127.0.0.1:{port}");
        process.wait_healthy(&base).await;
        Self { process, base, env }
    }

    /// Kills the process with SIGKILL and starts it again on the same data and port.
    async fn crash_and_restart(&mut self) {
        self.process.kill();
        self.process = Process::start(Switchboard::AllInOne, &self.env);
        self.process.wait_healthy(&self.base).await;
    }
}

/// Services as separate processes on PostgreSQL + NATS, with `gateways` gateways.
pub(crate) struct Distributed {
    /// The PostgreSQL database all services use, for tests that check rows.
    pub(crate) database_url: String,
    /// agent-management's gRPC address, for tests that set up what REST cannot (a second
    /// workspace).
    pub(crate) agents_url: String,
    gateways: Vec<(Process, String)>,
    services: Vec<Process>,
    /// `/metrics` URLs of agent-management, conversation-history, routing and integrations.
    metrics: Vec<String>,
}

impl Distributed {
    pub(crate) async fn start(gateways: usize) -> Self {
        Self::start_with(gateways, &[]).await
    }

    /// Like [`Self::start`], with extra settings for every process.
    pub(crate) async fn start_with(gateways: usize, extra: &[(&'static str, String)]) -> Self {
        let db = TestDb::fresh().await;
        let nats = TestNats::new();
        let ports = [free_port(), free_port(), free_port(), free_port()];
        let url = |port: u16| format!("http://127.0.0.1:{port}");
        let shared = vec![
            ("SWITCHBOARD_DATABASE_URL", db.url.clone()),
            ("SWITCHBOARD_NATS_URL", nats.url.clone()),
            (
                "SWITCHBOARD_SUBJECT_PREFIX",
                nats.subjects.prefix().to_owned(),
            ),
            ("SWITCHBOARD_AGENTS_URL", url(ports[0])),
            ("SWITCHBOARD_HISTORY_URL", url(ports[1])),
            ("SWITCHBOARD_ROUTING_URL", url(ports[2])),
            ("SWITCHBOARD_INTEGRATIONS_URL", url(ports[3])),
            ("SWITCHBOARD_BOOTSTRAP_EMAIL", ADMIN_EMAIL.to_owned()),
            ("SWITCHBOARD_BOOTSTRAP_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ];
        let mut shared = shared;
        shared.extend_from_slice(extra);
        let mut services = Vec::new();
        let mut metrics = Vec::new();
        for (command, port) in [
            (Switchboard::Agents, ports[0]),
            (Switchboard::History, ports[1]),
            (Switchboard::Routing, ports[2]),
            (Switchboard::Integrations, ports[3]),
        ] {
            let mut env = shared.clone();
            env.push(("SWITCHBOARD_GRPC_ADDR", format!("127.0.0.1:{port}")));
            let metrics_port = free_port();
            env.push((
                "SWITCHBOARD_METRICS_ADDR",
                format!("127.0.0.1:{metrics_port}"),
            ));
            metrics.push(format!("http://127.0.0.1:{metrics_port}/metrics"));
            let mut service = Process::start(command, &env);
            service
                .wait_up(&format!("{command:?} to serve"), || grpc_serving(port))
                .await;
            services.push(service);
        }
        let mut started = Vec::new();
        for _ in 0..gateways {
            let port = free_port();
            let mut env = shared.clone();
            env.push(("SWITCHBOARD_HTTP_ADDR", format!("127.0.0.1:{port}")));
            let base = url(port);
            let mut gateway = Process::start(Switchboard::Gateway, &env);
            gateway.wait_healthy(&base).await;
            started.push((gateway, base.clone()));
        }
        // agent-management serves before its bootstrap (which goes through its own gRPC API)
        // has created the admin: wait until the admin can log in.
        if let Some((_, base)) = started.first() {
            let http = reqwest::Client::new();
            wait_until(STARTUP, "the bootstrapped admin to log in", || async {
                login(&http, base, ADMIN_EMAIL, ADMIN_PASSWORD)
                    .await
                    .status()
                    .is_success()
            })
            .await;
        }
        Self {
            database_url: db.url.clone(),
            agents_url: url(ports[0]),
            gateways: started,
            services,
            metrics,
        }
    }

    pub(crate) fn base(&self, gateway: usize) -> String {
        self.gateways[gateway].1.clone()
    }
}

/// A visitor and an online agent who have exchanged their first two messages.
pub(crate) struct Chat {
    pub(crate) visitor: WsClient,
    pub(crate) visitor_token: String,
    pub(crate) agent: WsClient,
    pub(crate) agent_token: String,
    pub(crate) site_key: String,
    pub(crate) conversation_id: String,
}

pub(crate) fn message(client_msg_id: &str, text: &str, conversation_id: Option<&str>) -> Value {
    let mut frame = json!({ "type": "message", "client_msg_id": client_msg_id, "text": text });
    if let Some(id) = conversation_id {
        frame["conversation_id"] = json!(id);
    }
    frame
}

/// Logs the admin in as an agent on `agent_base`, opens a visitor on `visitor_base`, and checks
/// the first exchange: ack seq 1, assignment, delivery both ways.
pub(crate) async fn first_exchange(visitor_base: &str, agent_base: &str) -> Chat {
    let http = reqwest::Client::new();
    let session: Value = login(&http, agent_base, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .json()
        .await
        .expect("json");
    let agent_token = session["token"].as_str().expect("token").to_owned();
    let whoami: Value = me(&http, agent_base, &agent_token)
        .await
        .json()
        .await
        .expect("json");
    let site_key = whoami["workspace"]["site_key"]
        .as_str()
        .expect("site key")
        .to_owned();
    let agent_id = whoami["agent"]["id"].as_str().expect("agent id").to_owned();

    let (mut agent, welcome) = WsClient::agent(agent_base, &agent_token).await;
    assert_eq!(welcome["agent_id"], agent_id.as_str());
    agent
        .send(json!({ "type": "status", "status": "online" }))
        .await;
    assert_eq!(agent.expect("status").await["status"], "online");

    let (mut visitor, welcome) = WsClient::visitor(visitor_base, &site_key, None).await;
    let visitor_token = welcome["visitor_token"]
        .as_str()
        .expect("visitor token")
        .to_owned();
    assert!(welcome["conversation"].is_null());
    visitor
        .send(message("m1", "Hello, is my order shipped?", None))
        .await;
    let ack = visitor.expect("ack").await;
    assert_eq!(
        (
            ack["client_msg_id"].as_str(),
            ack["seq"].as_u64(),
            ack["duplicate"].as_bool()
        ),
        (Some("m1"), Some(1), Some(false))
    );
    let conversation_id = ack["conversation_id"]
        .as_str()
        .expect("conversation")
        .to_owned();

    let assigned = agent.expect("assigned").await;
    assert_eq!(assigned["conversation"]["id"], conversation_id.as_str());
    let first = agent.expect("message").await;
    assert_eq!(
        (first["seq"].as_u64(), first["text"].as_str()),
        (Some(1), Some("Hello, is my order shipped?"))
    );
    assert_eq!(first["sender"]["kind"], "visitor");

    agent
        .send(message(
            "a1",
            "Yes, it left this morning.",
            Some(&conversation_id),
        ))
        .await;
    let ack = agent.expect("ack").await;
    assert_eq!(ack["seq"].as_u64(), Some(2));
    let echoes = visitor.messages_until(&conversation_id, 2).await;
    let seqs: Vec<u64> = echoes
        .iter()
        .filter_map(|frame| frame["seq"].as_u64())
        .collect();
    assert_eq!(
        seqs,
        vec![1, 2],
        "the visitor sees its own message and the reply, in order"
    );
    assert_eq!(echoes[1]["text"], "Yes, it left this morning.");
    assert_eq!(echoes[1]["sender"]["name"], "Administrator");
    let state = visitor.expect("conversation").await;
    assert!(state["status"] == "queued" || state["status"] == "assigned");

    // Typing reaches the other side (not stored, not echoed to the typist).
    visitor
        .send(json!({ "type": "typing", "conversation_id": conversation_id, "state": true }))
        .await;
    let typing = agent.expect("typing").await;
    assert_eq!(
        (typing["state"].as_bool(), typing["sender"]["kind"].as_str()),
        (Some(true), Some("visitor"))
    );
    Chat {
        visitor,
        visitor_token,
        agent,
        agent_token,
        site_key,
        conversation_id,
    }
}

/// Sends `count` agent messages and returns their seqs (from the acks).
async fn agent_sends(chat: &mut Chat, prefix: &str, count: usize) -> Vec<u64> {
    let mut seqs = Vec::new();
    for n in 0..count {
        let id = format!("{prefix}-{n}");
        chat.agent
            .send(message(
                &id,
                &format!("update {n}"),
                Some(&chat.conversation_id),
            ))
            .await;
        let ack = chat.agent.expect("ack").await;
        assert_eq!(ack["client_msg_id"], id.as_str());
        seqs.push(ack["seq"].as_u64().expect("seq"));
    }
    seqs
}

#[tokio::test]
async fn visitor_and_agent_chat_in_all_in_one() {
    let data = tempfile::tempdir().expect("tempdir");
    let aio = AllInOne::start(data.path(), &[]).await;
    first_exchange(&aio.base, &aio.base).await;
}

#[tokio::test]
async fn visitor_and_agent_chat_in_distributed_mode() {
    let system = Distributed::start(1).await;
    first_exchange(&system.base(0), &system.base(0)).await;
    drop(system.services);
}

#[tokio::test]
async fn visitor_resumes_on_another_gateway_after_a_crash_without_gap_or_duplicate() {
    let mut system = Distributed::start(2).await;
    let (gateway_1, gateway_2) = (system.base(0), system.base(1));
    let mut chat = first_exchange(&gateway_1, &gateway_2).await;

    system.gateways[0].0.kill(); // abrupt: no close frames
    let sent = agent_sends(&mut chat, "while-away", 5).await;
    assert_eq!(sent, vec![3, 4, 5, 6, 7]);

    let (mut visitor, welcome) =
        WsClient::visitor(&gateway_2, &chat.site_key, Some(&chat.visitor_token)).await;
    assert_eq!(
        welcome["conversation"]["id"],
        chat.conversation_id.as_str(),
        "same visitor, same conversation"
    );
    visitor
        .send(json!({ "type": "resume", "conversation_id": chat.conversation_id, "after_seq": 2 }))
        .await;
    let missed = visitor.messages_until(&chat.conversation_id, 7).await;
    let seqs: Vec<u64> = missed
        .iter()
        .filter_map(|frame| frame["seq"].as_u64())
        .collect();
    assert_eq!(
        seqs,
        vec![3, 4, 5, 6, 7],
        "every missed message once, in order"
    );
    let resumed = visitor.expect("resumed").await;
    assert_eq!(
        (resumed["recovered"].as_bool(), resumed["last_seq"].as_u64()),
        (Some(true), Some(7))
    );

    // Live again: the next message arrives once.
    let next = agent_sends(&mut chat, "after", 1).await;
    let live = visitor.messages_until(&chat.conversation_id, next[0]).await;
    assert_eq!(live.len(), 1);

    // The visitor's first message retried after the reconnect: same seq, flagged duplicate.
    visitor
        .send(message("m1", "Hello, is my order shipped?", None))
        .await;
    let ack = visitor.expect("ack").await;
    assert_eq!(
        (ack["seq"].as_u64(), ack["duplicate"].as_bool()),
        (Some(1), Some(true))
    );
    visitor.send(json!({ "type": "ping" })).await;
    visitor.expect("pong").await;
    assert!(
        visitor
            .unread()
            .iter()
            .all(|frame| frame["type"] != "message"),
        "a duplicate creates no message: {:?}",
        visitor.unread()
    );
    drop(system);
}

#[tokio::test]
async fn all_in_one_killed_mid_conversation_keeps_every_acked_message() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut aio = AllInOne::start(data.path(), &[]).await;
    let mut chat = first_exchange(&aio.base, &aio.base).await;
    let acked = agent_sends(&mut chat, "before-crash", 3).await;
    assert_eq!(acked, vec![3, 4, 5]);

    aio.crash_and_restart().await;

    let (mut visitor, welcome) =
        WsClient::visitor(&aio.base, &chat.site_key, Some(&chat.visitor_token)).await;
    assert_eq!(
        welcome["conversation"]["last_seq"].as_u64(),
        Some(5),
        "every acked message survived SIGKILL"
    );
    visitor
        .send(json!({ "type": "resume", "conversation_id": chat.conversation_id, "after_seq": 2 }))
        .await;
    let rest: Vec<u64> = visitor
        .messages_until(&chat.conversation_id, 5)
        .await
        .iter()
        .filter_map(|frame| frame["seq"].as_u64())
        .collect();
    assert_eq!(rest, vec![3, 4, 5]);
    assert_eq!(visitor.expect("resumed").await["recovered"], true);

    // The agent's session survived too; a full resume replays the whole conversation.
    let (mut agent, welcome) = WsClient::agent(&aio.base, &chat.agent_token).await;
    let open = welcome["conversations"].as_array().expect("conversations");
    assert!(
        open.iter()
            .any(|conversation| conversation["id"] == chat.conversation_id.as_str())
    );
    agent
        .send(json!({ "type": "resume", "conversation_id": chat.conversation_id, "after_seq": 0 }))
        .await;
    let all: Vec<u64> = agent
        .messages_until(&chat.conversation_id, 5)
        .await
        .iter()
        .filter_map(|frame| frame["seq"].as_u64())
        .collect();
    assert_eq!(all, vec![1, 2, 3, 4, 5]);
}

fn raw_text_frame(bytes: Vec<u8>) -> Message {
    Message::Frame(Frame::message(bytes, OpCode::Data(Data::Text), true))
}

#[tokio::test]
async fn bad_input_gets_stable_codes_and_changes_nothing() {
    let data = tempfile::tempdir().expect("tempdir");
    let aio = AllInOne::start(data.path(), &[]).await;
    let http = reqwest::Client::new();
    let session: Value = login(&http, &aio.base, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .json()
        .await
        .expect("json");
    let token = session["token"].as_str().expect("token").to_owned();
    let whoami: Value = me(&http, &aio.base, &token)
        .await
        .json()
        .await
        .expect("json");
    let site_key = whoami["workspace"]["site_key"]
        .as_str()
        .expect("site key")
        .to_owned();

    // Nobody is online, so the conversation stays queued and no agent may write to it.
    let (mut visitor, _) = WsClient::visitor(&aio.base, &site_key, None).await;
    visitor.send(message("ok-1", "first", None)).await;
    let conversation_id = visitor.expect("ack").await["conversation_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (mut other, _) = WsClient::visitor(&aio.base, &site_key, None).await;

    let too_long = "x".repeat(8 * 1024 + 1);
    let visitor_cases = [
        (json!("not an object"), "invalid_frame"),
        (json!({ "type": "dance" }), "unknown_type"),
        (
            json!({ "type": "message", "text": "no id" }),
            "invalid_frame",
        ),
        (
            json!({ "type": "message", "client_msg_id": 7, "text": "wrong type" }),
            "invalid_frame",
        ),
        (
            json!({ "type": "resume", "conversation_id": conversation_id, "after_seq": -1 }),
            "invalid_frame",
        ),
        (
            json!({ "type": "resume", "conversation_id": conversation_id, "after_seq": 999 }),
            "invalid_frame",
        ),
        (message("big", &too_long, None), "message_too_long"),
        (message("blank", "   ", None), "empty_message"),
        (message("", "no id", None), "invalid_client_msg_id"),
        (
            message("has space", "bad id", None),
            "invalid_client_msg_id",
        ),
        (
            message("x1", "hi", Some("not-a-uuid")),
            "conversation_not_found",
        ),
        (
            message("x2", "hi", Some(&uuid::Uuid::now_v7().to_string())),
            "conversation_not_found",
        ),
        (
            json!({ "type": "status", "status": "online" }),
            "invalid_frame",
        ),
    ];
    for (frame, code) in visitor_cases {
        visitor.send(frame.clone()).await;
        let error = visitor.expect("error").await;
        assert_eq!(error["code"], code, "{frame}");
    }
    visitor.send_raw(Message::Text("{not json".into())).await;
    assert_eq!(visitor.expect("error").await["code"], "invalid_json");
    visitor
        .send_raw(Message::Binary(vec![1, 2, 3].into()))
        .await;
    assert_eq!(
        visitor.expect("error").await["code"],
        "binary_not_supported"
    );
    // Another visitor naming this conversation: it does not exist for them.
    other
        .send(message("steal", "hi", Some(&conversation_id)))
        .await;
    assert_eq!(
        other.expect("error").await["code"],
        "conversation_not_found"
    );
    other
        .send(json!({ "type": "resume", "conversation_id": conversation_id, "after_seq": 0 }))
        .await;
    assert_eq!(
        other.expect("error").await["code"],
        "conversation_not_found"
    );

    // An agent writing to a conversation that is not assigned to it.
    let (mut agent, _) = WsClient::agent(&aio.base, &token).await;
    agent
        .send(message("agent-1", "hello?", Some(&conversation_id)))
        .await;
    let error = agent.expect("error").await;
    assert_eq!(
        (error["code"].as_str(), error["client_msg_id"].as_str()),
        (Some("not_assigned"), Some("agent-1"))
    );
    agent.send(message("agent-2", "where?", None)).await;
    assert_eq!(agent.expect("error").await["code"], "invalid_frame");

    // Frames the protocol itself refuses close the socket with the right code.
    let (mut broken, _) = WsClient::visitor(&aio.base, &site_key, None).await;
    broken
        .send_raw(raw_text_frame(vec![b'{', 0xff, 0xfe, b'}']))
        .await;
    assert_eq!(broken.close_code(Duration::from_secs(10)).await, Some(1007));
    let (mut huge, _) = WsClient::visitor(&aio.base, &site_key, None).await;
    huge.send_raw(Message::Text("y".repeat(70 * 1024).into()))
        .await;
    assert_eq!(huge.close_code(Duration::from_secs(10)).await, Some(1009));
    let mut bad_token =
        WsClient::connect(&format!("{}/v1/agent/ws", aio.base.replace("http", "ws"))).await;
    bad_token
        .send(json!({ "type": "auth", "token": "forged" }))
        .await;
    assert_eq!(bad_token.expect("error").await["code"], "invalid_token");
    assert_eq!(
        bad_token.close_code(Duration::from_secs(10)).await,
        Some(1008)
    );
    let mut no_auth =
        WsClient::connect(&format!("{}/v1/agent/ws", aio.base.replace("http", "ws"))).await;
    no_auth.send(json!({ "type": "ping" })).await;
    assert_eq!(no_auth.expect("error").await["code"], "auth_required");
    assert_eq!(
        no_auth.close_code(Duration::from_secs(10)).await,
        Some(1008)
    );
    let mut no_site = WsClient::connect(&format!(
        "{}/v1/visitor/ws?site_key=nope",
        aio.base.replace("http", "ws")
    ))
    .await;
    assert_eq!(no_site.expect("error").await["code"], "invalid_site_key");
    assert_eq!(
        no_site.close_code(Duration::from_secs(10)).await,
        Some(1008)
    );

    // One visitor may hold at most 10 sockets on a gateway (the default).
    let welcome_token = {
        let (_, welcome) = WsClient::visitor(&aio.base, &site_key, None).await;
        welcome["visitor_token"].as_str().expect("token").to_owned()
    };
    let mut tabs = Vec::new();
    for _ in 0..10 {
        tabs.push(
            WsClient::visitor(&aio.base, &site_key, Some(&welcome_token))
                .await
                .0,
        );
    }
    let url = format!(
        "{}/v1/visitor/ws?site_key={site_key}&visitor_token={welcome_token}",
        aio.base.replace("http", "ws")
    );
    let mut eleventh = WsClient::connect(&url).await;
    assert_eq!(
        eleventh.expect("error").await["code"],
        "too_many_connections"
    );
    assert_eq!(
        eleventh.close_code(Duration::from_secs(10)).await,
        Some(1008)
    );
    drop(tabs);

    // A flood is rate limited, and the socket keeps working afterwards.
    for _ in 0..100 {
        visitor.send(json!({ "type": "ping" })).await;
    }
    assert_eq!(visitor.expect("error").await["code"], "rate_limited");

    // Nothing above changed the conversation, and the gateway still serves everyone.
    let (mut check, _) = WsClient::visitor(&aio.base, &site_key, None).await;
    check.send(json!({ "type": "ping" })).await;
    assert_eq!(check.expect("pong").await["type"], "pong");
    let (mut replay, _) = WsClient::agent(&aio.base, &token).await;
    replay
        .send(json!({ "type": "resume", "conversation_id": conversation_id, "after_seq": 0 }))
        .await;
    let resumed = replay.expect("resumed").await;
    assert_eq!(
        resumed["last_seq"].as_u64(),
        Some(1),
        "only the one valid message was stored"
    );
    assert_eq!(
        http.get(format!("{}/healthz", aio.base))
            .send()
            .await
            .expect("healthz")
            .status(),
        200
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected_and_others_are_unaffected() {
    let data = tempfile::tempdir().expect("tempdir");
    let limits = [
        ("SWITCHBOARD_WS_OUTBOUND_QUEUE", "8".to_owned()),
        ("SWITCHBOARD_WS_FRAMES_PER_SECOND", "100000".to_owned()),
        ("SWITCHBOARD_WS_FRAMES_BURST", "100000".to_owned()),
    ];
    let aio = AllInOne::start(data.path(), &limits).await;
    let mut chat = first_exchange(&aio.base, &aio.base).await;
    let addr: std::net::SocketAddr = aio
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("addr");
    let url = format!(
        "ws://{addr}/v1/visitor/ws?site_key={}&visitor_token={}",
        chat.site_key, chat.visitor_token
    );
    let mut slow = WsClient::connect_with_small_buffer(&url, addr).await;
    slow.expect("welcome").await;
    slow.send(json!({ "type": "resume", "conversation_id": chat.conversation_id, "after_seq": 2 }))
        .await;
    slow.expect("resumed").await;
    // From here on `slow` reads nothing until the flood is over.

    let healthy_conversation = chat.conversation_id.clone();
    let mut healthy = std::mem::replace(&mut chat.visitor, WsClient::connect(&url).await);
    let flood = 800u64;
    let reader = tokio::spawn(async move {
        let messages = healthy
            .messages_until(&healthy_conversation, 2 + flood)
            .await;
        messages
            .iter()
            .filter_map(|frame| frame["seq"].as_u64())
            .collect::<Vec<u64>>()
    });
    let text = "z".repeat(6000);
    for n in 0..flood {
        let id = format!("flood-{n}");
        chat.agent
            .send(message(&id, &text, Some(&chat.conversation_id)))
            .await;
        let ack = chat.agent.expect("ack").await;
        assert_eq!(ack["client_msg_id"], id.as_str());
        // The agent's own echoes are drained so that only `slow` falls behind.
        while chat.agent.unread().len() > 64 {
            chat.agent.next().await;
        }
    }
    let seen = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .expect("healthy reader finishes")
        .expect("reader");
    assert_eq!(
        seen,
        (3..=2 + flood).collect::<Vec<u64>>(),
        "a healthy socket gets every message in order"
    );
    // A socket jammed by its own unread backlog cannot always receive the close frame behind it;
    // either way it is disconnected, and what it did get is an in-order, gap-free prefix.
    let closed = slow.closed_within(Duration::from_secs(60)).await;
    assert!(
        matches!(closed, Some(Some(1013) | None)),
        "the slow socket is disconnected (1013): {closed:?}"
    );
    let received: Vec<u64> = slow
        .unread()
        .iter()
        .filter(|frame| frame["type"] == "message")
        .filter_map(|frame| frame["seq"].as_u64())
        .collect();
    assert!(
        received.len() < usize::try_from(flood).expect("small"),
        "it was cut off before the end"
    );
    assert_eq!(
        received,
        (3..3 + received.len() as u64).collect::<Vec<u64>>(),
        "a gap-free prefix"
    );
}

#[tokio::test]
async fn a_silent_peer_is_dropped_after_missed_heartbeats() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let data = tempfile::tempdir().expect("tempdir");
    let aio = AllInOne::start(
        data.path(),
        &[("SWITCHBOARD_WS_HEARTBEAT_SECS", "1".to_owned())],
    )
    .await;
    let http = reqwest::Client::new();
    let session: Value = login(&http, &aio.base, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .json()
        .await
        .expect("json");
    let whoami: Value = me(&http, &aio.base, session["token"].as_str().expect("token"))
        .await
        .json()
        .await
        .expect("json");
    let site_key = whoami["workspace"]["site_key"].as_str().expect("site key");
    // A raw TCP peer: it upgrades, then never reads a frame and so never answers a ping.
    let addr = aio.base.trim_start_matches("http://");
    let mut peer = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "GET /v1/visitor/ws?site_key={site_key} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    peer.write_all(request.as_bytes())
        .await
        .expect("upgrade request");
    let mut received = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        let mut buffer = [0u8; 4096];
        loop {
            match peer.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the server hung up on a peer that never answered its pings"
    );
    let text = String::from_utf8_lossy(&received);
    assert!(
        text.starts_with("HTTP/1.1 101"),
        "the upgrade succeeded: {text}"
    );
    // 0x89 = ping frame, 0x88 = close frame, 0x03e9 = 1001 going away.
    assert!(
        received.windows(1).any(|byte| byte[0] == 0x89),
        "server pinged"
    );
    assert!(
        received
            .windows(4)
            .any(|w| w[0] == 0x88 && w[2] == 0x03 && w[3] == 0xe9),
        "closed with 1001"
    );
}

#[tokio::test]
async fn a_backlog_longer_than_the_socket_queue_is_replayed_in_full() {
    let data = tempfile::tempdir().expect("tempdir");
    let fast = [
        ("SWITCHBOARD_WS_FRAMES_PER_SECOND", "100000".to_owned()),
        ("SWITCHBOARD_WS_FRAMES_BURST", "100000".to_owned()),
    ];
    let aio = AllInOne::start(data.path(), &fast).await;
    let mut chat = first_exchange(&aio.base, &aio.base).await;
    // Default outbound queue: 256 frames. The backlog is more than twice that.
    let sent = agent_sends(&mut chat, "backlog", 600).await;
    assert_eq!(sent.last().copied(), Some(602));
    let (mut visitor, _) =
        WsClient::visitor(&aio.base, &chat.site_key, Some(&chat.visitor_token)).await;
    visitor
        .send(json!({ "type": "resume", "conversation_id": chat.conversation_id, "after_seq": 0 }))
        .await;
    let seqs: Vec<u64> = visitor
        .messages_until(&chat.conversation_id, 602)
        .await
        .iter()
        .filter_map(|frame| frame["seq"].as_u64())
        .collect();
    assert_eq!(seqs, (1..=602).collect::<Vec<u64>>());
    let resumed = visitor.expect("resumed").await;
    assert_eq!(
        (resumed["recovered"].as_bool(), resumed["last_seq"].as_u64()),
        (Some(true), Some(602))
    );
}

/// Returns the sum of every sample of `name` (all label sets) in a Prometheus text page.
pub(crate) fn metric(page: &str, name: &str) -> f64 {
    page.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

pub(crate) async fn scrape(url: &str) -> String {
    let response = reqwest::get(url).await.expect("scrape");
    assert_eq!(response.status(), 200, "{url}");
    response.text().await.expect("metrics text")
}

#[tokio::test]
async fn metrics_count_a_chat_in_distributed_mode() {
    let system = Distributed::start(1).await;
    let mut chat = first_exchange(&system.base(0), &system.base(0)).await;
    agent_sends(&mut chat, "metered", 3).await;
    chat.visitor.messages_until(&chat.conversation_id, 5).await;
    let gateway = scrape(&format!("{}/metrics", system.base(0))).await;
    for name in [
        "switchboard_ws_connections_opened_total",
        "switchboard_ws_connections",
        "switchboard_ws_frames_received_total",
        "switchboard_ws_frames_sent_total",
        "switchboard_ws_acks_total",
        "switchboard_ws_ack_seconds_count",
        "switchboard_message_delivery_seconds_count",
    ] {
        assert!(
            metric(&gateway, name) > 0.0,
            "gateway {name} is zero or missing"
        );
    }
    let history = scrape(&system.metrics[1]).await;
    for name in [
        "switchboard_messages_appended_total",
        "switchboard_outbox_published_total",
        "switchboard_outbox_lag_seconds_count",
        "switchboard_grpc_server_requests_total",
        "switchboard_grpc_server_request_duration_seconds_count",
    ] {
        assert!(
            metric(&history, name) > 0.0,
            "history {name} is zero or missing"
        );
    }
    let routing = scrape(&system.metrics[2]).await;
    for name in [
        "switchboard_routing_assignments_total",
        "switchboard_routing_queue_wait_seconds_count",
    ] {
        assert!(
            metric(&routing, name) > 0.0,
            "routing {name} is zero or missing"
        );
    }
    let agents = scrape(&system.metrics[0]).await;
    assert!(metric(&agents, "switchboard_agent_status_changes_total") > 0.0);

    // A resume is counted with its outcome.
    chat.visitor
        .send(json!({ "type": "resume", "conversation_id": chat.conversation_id, "after_seq": 0 }))
        .await;
    chat.visitor.expect("resumed").await;
    let gateway = scrape(&format!("{}/metrics", system.base(0))).await;
    assert!(
        gateway.contains("switchboard_ws_resumes_total{outcome=\"recovered\"}"),
        "resumes by outcome"
    );

    // With the only agent away, a second visitor's message waits in the queue: the sweep
    // measures it per department, and agent-management counts agents by status.
    chat.agent
        .send(json!({ "type": "status", "status": "away" }))
        .await;
    // (A `status` frame from earlier in the chat may still be unread.)
    while chat.agent.expect("status").await["status"] != "away" {}
    let (mut waiting, _) = WsClient::visitor(&system.base(0), &chat.site_key, None).await;
    let mut offline = message("w1", "Anyone there?", None);
    offline["email"] = json!("waiting@example.com");
    waiting.send(offline).await;
    let waiting_conversation = waiting.expect("ack").await["conversation_id"]
        .as_str()
        .expect("conversation id")
        .to_owned();
    wait_until(
        Duration::from_secs(20),
        "the waiting conversation in the per-department queue gauges",
        || async {
            let routing = scrape(&system.metrics[2]).await;
            metric(&routing, "switchboard_routing_department_queue_length") >= 1.0
                && metric(&routing, "switchboard_routing_queue_length") >= 1.0
                && routing.contains(
                    "switchboard_routing_department_oldest_wait_seconds{department=\"none\"}",
                )
        },
    )
    .await;
    wait_until(
        Duration::from_secs(20),
        "agents counted by status",
        || async {
            let agents = scrape(&system.metrics[0]).await;
            agents.contains("switchboard_agents{status=\"away\"} 1")
                && agents.contains("switchboard_agents{status=\"online\"} 0")
        },
    )
    .await;
    // The waiting visitor gives up: a conversation closed while queued counts as abandoned.
    waiting
        .send(json!({ "type": "close", "conversation_id": waiting_conversation }))
        .await;
    wait_until(
        Duration::from_secs(20),
        "the abandoned conversation counted",
        || async {
            let routing = scrape(&system.metrics[2]).await;
            metric(&routing, "switchboard_routing_abandoned_total") >= 1.0
                && metric(&routing, "switchboard_routing_department_queue_length") == 0.0
        },
    )
    .await;
    // Every durable consumer reports its backlog (0 once it has caught up).
    wait_until(
        Duration::from_secs(20),
        "NATS consumer backlog gauges",
        || async {
            let routing = scrape(&system.metrics[2]).await;
            routing.contains("switchboard_nats_consumer_pending{durable=")
                && routing.contains("switchboard_nats_consumer_ack_pending{durable=")
        },
    )
    .await;
    // The pool gauges are published by the health probe every 2 s.
    wait_until(Duration::from_secs(10), "database pool gauges", || async {
        metric(
            &scrape(&system.metrics[1]).await,
            "switchboard_db_pool_connections",
        ) > 0.0
    })
    .await;
}

/// A private nginx (Debian's) in front of the given gateways, round robin, WebSocket-aware.
struct Nginx {
    child: std::process::Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Nginx {
    async fn start(gateways: &[String]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let upstreams: String = gateways
            .iter()
            .map(|base| {
                format!(
                    "server {} max_fails=1 fail_timeout=10s;\n",
                    base.trim_start_matches("http://")
                )
            })
            .collect();
        let prefix = dir.path().display();
        let conf = format!(
            "daemon off; master_process off; pid {prefix}/nginx.pid; error_log {prefix}/error.log;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n access_log off;\n client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;\n\
             fastcgi_temp_path {prefix}/fastcgi; uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;\n\
             upstream gateways {{\n{upstreams}}}\n\
             map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}\n\
             server {{ listen 127.0.0.1:{port};\n location / {{ proxy_pass http://gateways; proxy_http_version 1.1;\n\
             proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade;\n\
             proxy_read_timeout 120s; proxy_next_upstream error timeout http_502; }} }}\n}}\n"
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, conf).expect("write nginx.conf");
        let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|candidate| std::path::Path::new(candidate).exists())
            .expect("nginx is required for this test (apt-get install nginx)");
        let child = std::process::Command::new(binary)
            .arg("-c")
            .arg(&path)
            .arg("-p")
            .arg(dir.path())
            // One process (master_process off) with no inherited pipes, so killing it ends it.
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nginx starts");
        let base = format!("http://127.0.0.1:{port}");
        wait_healthy(&reqwest::Client::new(), &base).await;
        Self {
            child,
            base,
            _dir: dir,
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn behind_nginx_clients_spread_over_gateways_and_resume_when_one_dies() {
    let mut system = Distributed::start(2).await;
    let nginx = Nginx::start(&[system.base(0), system.base(1)]).await;
    let mut chat = first_exchange(&nginx.base, &nginx.base).await;
    let mut visitors = Vec::new();
    for n in 0..4 {
        let (mut visitor, _) = WsClient::visitor(&nginx.base, &chat.site_key, None).await;
        visitor
            .send(message(&format!("spread-{n}"), "hello", None))
            .await;
        assert_eq!(visitor.expect("ack").await["seq"].as_u64(), Some(1));
        visitors.push(visitor);
    }
    for gateway in 0..2 {
        let page = scrape(&format!("{}/metrics", system.base(gateway))).await;
        assert!(
            metric(&page, "switchboard_ws_connections_opened_total") > 0.0,
            "gateway {gateway} took sockets"
        );
    }

    system.gateways[0].0.kill();
    // Whoever was on the dead gateway comes back through nginx, which sends them to the other.
    let (mut agent, _) = WsClient::agent(&nginx.base, &chat.agent_token).await;
    for n in 0..3 {
        agent
            .send(message(
                &format!("after-crash-{n}"),
                "still here",
                Some(&chat.conversation_id),
            ))
            .await;
        assert_eq!(agent.expect("ack").await["seq"].as_u64(), Some(3 + n));
    }
    let (mut visitor, welcome) =
        WsClient::visitor(&nginx.base, &chat.site_key, Some(&chat.visitor_token)).await;
    assert_eq!(welcome["conversation"]["id"], chat.conversation_id.as_str());
    visitor
        .send(json!({ "type": "resume", "conversation_id": chat.conversation_id, "after_seq": 2 }))
        .await;
    let seqs: Vec<u64> = visitor
        .messages_until(&chat.conversation_id, 5)
        .await
        .iter()
        .filter_map(|frame| frame["seq"].as_u64())
        .collect();
    assert_eq!(seqs, vec![3, 4, 5]);
    assert_eq!(visitor.expect("resumed").await["recovered"], true);
    chat.agent = agent;
}

#[tokio::test]
async fn an_expired_session_token_is_refused_on_the_agent_socket() {
    let data = tempfile::tempdir().expect("tempdir");
    let aio = AllInOne::start(
        data.path(),
        &[("SWITCHBOARD_SESSION_TTL_SECS", "1".to_owned())],
    )
    .await;
    let http = reqwest::Client::new();
    let session: Value = login(&http, &aio.base, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .json()
        .await
        .expect("json");
    let token = session["token"].as_str().expect("token").to_owned();
    wait_until(Duration::from_secs(15), "the session to expire", || async {
        me(&http, &aio.base, &token).await.status() == 401
    })
    .await;
    let mut socket =
        WsClient::connect(&format!("{}/v1/agent/ws", aio.base.replace("http", "ws"))).await;
    socket.send(json!({ "type": "auth", "token": token })).await;
    assert_eq!(socket.expect("error").await["code"], "invalid_token");
    assert_eq!(socket.close_code(Duration::from_secs(10)).await, Some(1008));
}
