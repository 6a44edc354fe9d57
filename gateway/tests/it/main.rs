//! Integration tests of the gateway with the real services in this process, on PostgreSQL and
//! NATS JetStream (the distributed mode's back ends), so spans can be captured in memory.

mod trace;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_platform::testing::{TestDb, TestNats, wait_until};
use switchboard_proto::agent::v1::{
    self as agent_pb, agent_management_service_client::AgentManagementServiceClient,
};
use switchboard_proto::integrations::v1::integrations_service_client::IntegrationsServiceClient;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

/// How long one expected frame may take.
const FRAME_TIMEOUT: Duration = Duration::from_secs(20);

/// Agent management, conversation history, routing, integrations and a gateway, each with its
/// own database and NATS connection, as separate processes would have.
#[derive(Debug)]
pub struct System {
    /// `http://127.0.0.1:PORT` of the gateway.
    pub base: String,
    pub agents: AgentManagementServiceClient<tonic::transport::Channel>,
    pub integrations: IntegrationsServiceClient<tonic::transport::Channel>,
    shutdown: CancellationToken,
}

impl Drop for System {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    (listener, url)
}

/// Starts every component on fresh PostgreSQL databases and a fresh NATS prefix.
pub async fn spawn() -> System {
    let nats = TestNats::new();
    let prefix = nats.subjects.prefix().to_owned();
    let shutdown = CancellationToken::new();
    let (agents_listener, agents_url) = listener().await;
    let (history_listener, history_url) = listener().await;
    let (routing_listener, routing_url) = listener().await;
    let (integrations_listener, integrations_url) = listener().await;
    let (gateway_listener, base) = listener().await;
    tokio::spawn(switchboard_integrations::run(
        switchboard_integrations::Config {
            database_url: TestDb::fresh().await.url,
            subject_prefix: prefix.clone(),
            poll_interval_ms: 50,
            ..Default::default()
        },
        integrations_listener,
        std::sync::Arc::new(nats.bus().await),
        shutdown.clone(),
    ));
    tokio::spawn(switchboard_agent_management::run(
        switchboard_agent_management::Config {
            database_url: TestDb::fresh().await.url,
            subject_prefix: prefix.clone(),
            ..Default::default()
        },
        agents_listener,
        std::sync::Arc::new(nats.bus().await),
        shutdown.clone(),
    ));
    tokio::spawn(switchboard_conversation_history::run(
        switchboard_conversation_history::Config {
            database_url: TestDb::fresh().await.url,
            subject_prefix: prefix.clone(),
            ..Default::default()
        },
        history_listener,
        std::sync::Arc::new(nats.bus().await),
        shutdown.clone(),
    ));
    tokio::spawn(switchboard_routing::run(
        switchboard_routing::Config {
            database_url: TestDb::fresh().await.url,
            subject_prefix: prefix.clone(),
            agents_url: agents_url.clone(),
            history_url: history_url.clone(),
            sweep_interval_ms: 500,
            ..Default::default()
        },
        routing_listener,
        std::sync::Arc::new(nats.bus().await),
        shutdown.clone(),
    ));
    tokio::spawn(switchboard_gateway::run(
        switchboard_gateway::Config {
            agents_url: agents_url.clone(),
            history_url,
            routing_url,
            integrations_url: integrations_url.clone(),
            subject_prefix: prefix,
            ..Default::default()
        },
        gateway_listener,
        std::sync::Arc::new(nats.bus().await),
        shutdown.clone(),
    ));
    let agents = AgentManagementServiceClient::new(
        tonic::transport::Channel::from_shared(agents_url)
            .expect("url")
            .connect_lazy(),
    );
    let http = reqwest::Client::new();
    wait_until(Duration::from_secs(30), "the gateway to be healthy", || {
        let request = http.get(format!("{base}/healthz"));
        async move {
            request
                .send()
                .await
                .is_ok_and(|response| response.status().is_success())
        }
    })
    .await;
    let integrations = IntegrationsServiceClient::new(
        tonic::transport::Channel::from_shared(integrations_url)
            .expect("url")
            .connect_lazy(),
    );
    System {
        base,
        agents,
        integrations,
        shutdown,
    }
}

impl System {
    /// Creates the workspace and its admin; returns the site key and the admin's token.
    pub async fn bootstrap(&self) -> (String, String) {
        let mut agents = self.agents.clone();
        let workspace = agents
            .bootstrap(agent_pb::BootstrapRequest {
                workspace_name: "Trace test".into(),
                admin_name: "Ada".into(),
                admin_email: "ada@example.com".into(),
                admin_password: "correct-horse-battery".into(),
            })
            .await
            .expect("bootstrap")
            .into_inner()
            .workspace
            .expect("workspace");
        let token = agents
            .login(agent_pb::LoginRequest {
                email: "ada@example.com".into(),
                password: "correct-horse-battery".into(),
                totp_code: None,
            })
            .await
            .expect("login")
            .into_inner()
            .token;
        (workspace.site_key, token)
    }
}

/// A protocol v1 socket for the tests.
#[derive(Debug)]
pub struct Socket(WebSocketStream<MaybeTlsStream<TcpStream>>);

impl Socket {
    /// Opens `path` (e.g. `/v1/agent/ws`) on the gateway at `base`.
    pub async fn open(base: &str, path: &str) -> Self {
        let url = format!("{}{path}", base.replace("http://", "ws://"));
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("websocket connects");
        Self(socket)
    }

    pub async fn send(&mut self, frame: Value) {
        self.0
            .send(Message::Text(frame.to_string().into()))
            .await
            .expect("send frame");
    }

    /// Returns the next frame of type `kind`, skipping others.
    pub async fn expect(&mut self, kind: &str) -> Value {
        let deadline = tokio::time::Instant::now() + FRAME_TIMEOUT;
        loop {
            let next = tokio::time::timeout_at(deadline, self.0.next())
                .await
                .unwrap_or_else(|_| panic!("no {kind} frame in time"));
            if let Some(Ok(Message::Text(text))) = next {
                let frame: Value = serde_json::from_str(&text).expect("json frame");
                if frame["type"] == kind {
                    return frame;
                }
                assert_ne!(frame["type"], "error", "unexpected error: {frame}");
            } else if !matches!(next, Some(Ok(_))) {
                panic!("socket ended while waiting for {kind}: {next:?}");
            }
        }
    }
}

/// Returns a fresh visitor socket (after its `welcome`).
pub async fn visitor(base: &str, site_key: &str) -> Socket {
    let mut socket = Socket::open(base, &format!("/v1/visitor/ws?site_key={site_key}")).await;
    socket.expect("welcome").await;
    socket
}

/// Returns an agent socket, authenticated and online.
pub async fn online_agent(base: &str, token: &str) -> Socket {
    let mut socket = Socket::open(base, "/v1/agent/ws").await;
    socket.send(json!({"type": "auth", "token": token})).await;
    socket.expect("welcome").await;
    socket
        .send(json!({"type": "status", "status": "online"}))
        .await;
    socket.expect("status").await;
    socket
}

/// Returns the workspace of the agent whose session `token` is.
pub async fn workspace_of(system: &System, token: &str) -> String {
    system
        .agents
        .clone()
        .validate_token(agent_pb::ValidateTokenRequest {
            token: token.to_owned(),
        })
        .await
        .expect("token")
        .into_inner()
        .workspace
        .expect("workspace")
        .id
}
