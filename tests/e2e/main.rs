//! Whole-system tests: the real `switchboard` binary, as `all-in-one` on SQLite and as separate
//! service processes on PostgreSQL + NATS, driven over HTTP and gRPC like a user would.

mod account;
mod api_tokens;
mod authz;
mod bench;
mod chat;
mod console;
mod identity;
mod offline;
mod presence;
mod privacy;
mod process;
mod queue;
mod rating;
mod receipts;
mod security;
mod transfer;
mod webhooks;
mod ws_client;

use process::{Process, Switchboard};
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_platform::testing::{TestDb, TestNats, free_port, wait_until};
use switchboard_proto::agent::v1::{
    self as agent_pb, agent_management_service_client::AgentManagementServiceClient,
};
use switchboard_proto::common::v1::{AgentStatus, ConversationStatus};
use switchboard_proto::history::v1::{
    self as history_pb, conversation_history_service_client::ConversationHistoryServiceClient,
};
use tonic::transport::Channel;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

pub(crate) const STARTUP: Duration = Duration::from_secs(60);

pub(crate) async fn wait_healthy(http: &reqwest::Client, base: &str) {
    wait_until(STARTUP, "/healthz to answer 200", || async {
        matches!(http.get(format!("{base}/healthz")).send().await, Ok(response) if response.status() == 200)
    })
    .await;
}

pub(crate) async fn login(
    http: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    http.post(format!("{base}/v1/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("login request")
}

/// Logs in and returns the session token.
pub(crate) async fn token(
    http: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> String {
    let session: serde_json::Value = login(http, base, email, password)
        .await
        .json()
        .await
        .expect("json");
    session["token"].as_str().expect("token").to_owned()
}

pub(crate) async fn me(http: &reqwest::Client, base: &str, token: &str) -> reqwest::Response {
    http.get(format!("{base}/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("me request")
}

#[tokio::test]
async fn all_in_one_starts_bootstraps_and_keeps_its_data() {
    let data = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let env = [
        ("SWITCHBOARD_DATA_DIR", data.path().display().to_string()),
        ("SWITCHBOARD_HTTP_ADDR", format!("127.0.0.1:{port}")),
    ];
    let mut first = Process::start(Switchboard::AllInOne, &env);
    let password = first
        .wait_for_stdout(STARTUP, "with password ")
        .split_whitespace()
        .next()
        .expect("password")
        .to_owned();
    let site_key = first
        .wait_for_stdout(STARTUP, "site key for the visitor widget: ")
        .trim()
        .to_owned();
    let http = reqwest::Client::new();
    wait_healthy(&http, &base).await;

    let response = login(&http, &base, "admin@switchboard.local", &password).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    let token = body["token"].as_str().expect("token").to_owned();
    assert_eq!(body["agent"]["role"], "admin");
    let whoami: Value = me(&http, &base, &token).await.json().await.expect("json");
    assert_eq!(whoami["workspace"]["site_key"], site_key.as_str());
    assert_eq!(whoami["agent"]["email"], "admin@switchboard.local");

    let wrong = login(&http, &base, "admin@switchboard.local", "not-the-password").await;
    assert_eq!(wrong.status(), 401);
    let wrong: Value = wrong.json().await.expect("json");
    assert_eq!(wrong["error"]["code"], "invalid_credentials");
    let anonymous = http.get(format!("{base}/v1/me")).send().await.expect("me");
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        anonymous.json::<Value>().await.expect("json")["error"]["code"],
        "unauthorized"
    );
    let garbage = http
        .post(format!("{base}/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("login");
    assert_eq!(garbage.status(), 400);
    assert_eq!(
        garbage.json::<Value>().await.expect("json")["error"]["code"],
        "invalid_json"
    );

    assert_eq!(
        first.terminate(Duration::from_secs(30)).await,
        Some(0),
        "SIGTERM stops all-in-one cleanly"
    );

    // Same data directory: no second workspace, the same credentials and session still work.
    let mut second = Process::start(Switchboard::AllInOne, &env);
    second.wait_for_stdout(STARTUP, "log in with your existing admin account");
    wait_healthy(&http, &base).await;
    assert_eq!(
        me(&http, &base, &token).await.status(),
        200,
        "sessions survive a restart"
    );
    assert_eq!(
        login(&http, &base, "admin@switchboard.local", &password)
            .await
            .status(),
        200
    );
    assert_eq!(second.terminate(Duration::from_secs(30)).await, Some(0));
}

#[tokio::test]
async fn invalid_configuration_exits_64_before_binding() {
    let port = free_port();
    let cases: Vec<(Switchboard, Vec<(&str, String)>)> = vec![
        (
            Switchboard::AllInOne,
            vec![("SWITCHBOARD_HTTP_ADDR", "not-an-address".into())],
        ),
        (
            Switchboard::AllInOne,
            vec![("SWITCHBOARD_BOOTSTRAP_PASSWORD", "short".into())],
        ),
        (
            Switchboard::AllInOne,
            vec![("SWITCHBOARD_NO_SUCH_SETTING", "1".into())],
        ),
        (
            Switchboard::AllInOne,
            vec![("SWITCHBOARD_CONFIG", "/nonexistent/switchboard.toml".into())],
        ),
        (
            Switchboard::AllInOne,
            vec![("SWITCHBOARD_OTLP_ENDPOINT", "collector:4317".into())],
        ),
        (
            Switchboard::Routing,
            vec![("SWITCHBOARD_GRPC_ADDR", format!("127.0.0.1:{port}"))],
        ),
    ];
    for (command, env) in cases {
        let output = Process::run_to_end(command, &env, Duration::from_secs(20));
        assert_eq!(output.status.code(), Some(64), "{command:?} {env:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with("invalid configuration: "), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "nothing stayed bound"
        );
    }
}

pub(crate) async fn grpc_serving(port: u16) -> bool {
    let Ok(channel) = Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .map(|endpoint| endpoint.connect_lazy())
    else {
        return false;
    };
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await;
    matches!(response, Ok(response) if response.get_ref().status == ServingStatus::Serving as i32)
}

#[tokio::test]
async fn services_run_as_separate_processes_on_postgres_and_nats() {
    let db = TestDb::fresh().await;
    let nats = TestNats::new();
    let [agents_port, history_port, routing_port, http_port] =
        [free_port(), free_port(), free_port(), free_port()];
    let url = |port: u16| format!("http://127.0.0.1:{port}");
    let shared = vec![
        ("SWITCHBOARD_DATABASE_URL", db.url.clone()),
        ("SWITCHBOARD_NATS_URL", nats.url.clone()),
        (
            "SWITCHBOARD_SUBJECT_PREFIX",
            nats.subjects.prefix().to_owned(),
        ),
        ("SWITCHBOARD_AGENTS_URL", url(agents_port)),
        ("SWITCHBOARD_HISTORY_URL", url(history_port)),
        ("SWITCHBOARD_ROUTING_URL", url(routing_port)),
        ("SWITCHBOARD_HTTP_ADDR", format!("127.0.0.1:{http_port}")),
        ("SWITCHBOARD_BOOTSTRAP_EMAIL", "owner@acme.example".into()),
        (
            "SWITCHBOARD_BOOTSTRAP_PASSWORD",
            "correct-horse-battery".into(),
        ),
    ];
    let with_grpc = |port: u16| {
        let mut env = shared.clone();
        env.push(("SWITCHBOARD_GRPC_ADDR", format!("127.0.0.1:{port}")));
        env.push((
            "SWITCHBOARD_METRICS_ADDR",
            format!("127.0.0.1:{}", free_port()),
        ));
        env
    };
    // Each service migrates its own tables in the one database on start; starting them one after
    // the other keeps the first-run migrations from racing each other.
    let mut agents = Process::start(Switchboard::Agents, &with_grpc(agents_port));
    agents
        .wait_up("agent-management to serve", || grpc_serving(agents_port))
        .await;
    let mut history = Process::start(Switchboard::History, &with_grpc(history_port));
    history
        .wait_up("conversation-history to serve", || {
            grpc_serving(history_port)
        })
        .await;
    let mut routing = Process::start(Switchboard::Routing, &with_grpc(routing_port));
    routing
        .wait_up("routing to serve", || grpc_serving(routing_port))
        .await;
    let mut gateway = Process::start(Switchboard::Gateway, &shared);
    let base = url(http_port);
    let http = reqwest::Client::new();
    gateway.wait_healthy(&base).await;
    agents.wait_for_stdout(STARTUP, "created workspace and admin owner@acme.example");

    let session: Value = login(&http, &base, "owner@acme.example", "correct-horse-battery")
        .await
        .json()
        .await
        .expect("json");
    let token = session["token"].as_str().expect("token");
    let whoami: Value = me(&http, &base, token).await.json().await.expect("json");
    let workspace_id = whoami["workspace"]["id"]
        .as_str()
        .expect("workspace")
        .to_owned();
    assert!(
        whoami["workspace"]["site_key"]
            .as_str()
            .expect("site key")
            .starts_with("site_")
    );

    let channel = |port| Channel::from_shared(url(port)).expect("url").connect_lazy();
    let mut agents_client = AgentManagementServiceClient::new(channel(agents_port));
    let mut history_client = ConversationHistoryServiceClient::new(channel(history_port));
    let department = agents_client
        .create_department(agent_pb::CreateDepartmentRequest {
            workspace_id: workspace_id.clone(),
            name: "Support".into(),
            ..Default::default()
        })
        .await
        .expect("department")
        .into_inner()
        .department
        .expect("department");
    let agent = agents_client
        .create_agent(agent_pb::CreateAgentRequest {
            workspace_id: workspace_id.clone(),
            name: "Alex".into(),
            email: "alex@acme.example".into(),
            password: "alex-password".into(),
            role: 0,
            max_concurrent: 3,
            department_ids: vec![department.id.clone()],
            skills: Vec::new(),
        })
        .await
        .expect("agent")
        .into_inner()
        .agent
        .expect("agent");
    agents_client
        .set_agent_status(agent_pb::SetAgentStatusRequest {
            workspace_id: workspace_id.clone(),
            agent_id: agent.id.clone(),
            status: AgentStatus::Online as i32,
        })
        .await
        .expect("online");
    let visitor = history_client
        .upsert_visitor(history_pb::UpsertVisitorRequest {
            workspace_id: workspace_id.clone(),
            ..Default::default()
        })
        .await
        .expect("visitor")
        .into_inner()
        .visitor
        .expect("visitor");
    let conversation = history_client
        .open_conversation(history_pb::OpenConversationRequest {
            workspace_id: workspace_id.clone(),
            visitor_id: visitor.id,
            department_id: Some(department.id),
            ..Default::default()
        })
        .await
        .expect("open")
        .into_inner()
        .conversation
        .expect("conversation");
    wait_until(
        STARTUP,
        "routing (its own process) to assign the conversation",
        || {
            let mut history_client = history_client.clone();
            let request = history_pb::GetConversationRequest {
                workspace_id: workspace_id.clone(),
                conversation_id: conversation.id.clone(),
            };
            let agent_id = agent.id.clone();
            async move {
                let current = history_client
                    .get_conversation(request)
                    .await
                    .expect("get")
                    .into_inner()
                    .conversation
                    .expect("c");
                current.status == ConversationStatus::Assigned as i32
                    && current.assigned_agent_id == Some(agent_id)
            }
        },
    )
    .await;

    // A service gone: /healthz says so (503) and names it.
    assert_eq!(routing.terminate(Duration::from_secs(30)).await, Some(0));
    let health = http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 503);
    let health: Value = health.json().await.expect("json");
    assert_eq!(health["services"]["routing"], "not_serving");
    assert_eq!(health["services"]["conversation-history"], "serving");

    for process in [&mut gateway, &mut history, &mut agents] {
        assert_eq!(
            process.terminate(Duration::from_secs(30)).await,
            Some(0),
            "SIGTERM stops each process cleanly"
        );
    }
}

#[tokio::test]
async fn admin_api_is_for_admins_of_their_own_workspace_only() {
    let data = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let env = [
        ("SWITCHBOARD_DATA_DIR", data.path().display().to_string()),
        ("SWITCHBOARD_HTTP_ADDR", format!("127.0.0.1:{port}")),
        (
            "SWITCHBOARD_BOOTSTRAP_EMAIL",
            "boss@acme.example".to_owned(),
        ),
        ("SWITCHBOARD_BOOTSTRAP_PASSWORD", "boss-password".to_owned()),
    ];
    let _server = Process::start(Switchboard::AllInOne, &env);
    let http = reqwest::Client::new();
    wait_healthy(&http, &base).await;
    let anonymous = http
        .get(format!("{base}/v1/admin/agents"))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);

    let admin: Value = login(&http, &base, "boss@acme.example", "boss-password")
        .await
        .json()
        .await
        .expect("json");
    let admin_token = admin["token"].as_str().expect("token").to_owned();
    let department: Value = http
        .post(format!("{base}/v1/admin/departments"))
        .bearer_auth(&admin_token)
        .json(&json!({ "name": "Sales" }))
        .send()
        .await
        .expect("department")
        .json()
        .await
        .expect("json");
    let department_id = department["department"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let created = http
        .post(format!("{base}/v1/admin/agents"))
        .bearer_auth(&admin_token)
        .json(&json!({
            "name": "Ada", "email": "ada@acme.example", "password": "ada-password",
            "role": "agent", "max_concurrent": 2, "department_ids": [department_id],
        }))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);
    let duplicate = http
        .post(format!("{base}/v1/admin/agents"))
        .bearer_auth(&admin_token)
        .json(&json!({ "name": "Ada 2", "email": "ada@acme.example", "password": "ada-password" }))
        .send()
        .await
        .expect("duplicate");
    assert_eq!(duplicate.status(), 409);
    let invalid = http
        .post(format!("{base}/v1/admin/agents"))
        .bearer_auth(&admin_token)
        .json(&json!({ "name": "Bad", "email": "not-an-email", "password": "ada-password" }))
        .send()
        .await
        .expect("invalid");
    assert_eq!(invalid.status(), 400);
    assert!(
        invalid.json::<Value>().await.expect("json")["error"]["message"]
            .as_str()
            .expect("message")
            .starts_with("email")
    );

    let listed: Value = http
        .get(format!("{base}/v1/admin/agents"))
        .bearer_auth(&admin_token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let ada = listed["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|agent| agent["email"] == "ada@acme.example")
        .expect("ada listed")
        .clone();
    assert_eq!(
        (ada["load"].as_u64(), ada["max_concurrent"].as_u64()),
        (Some(0), Some(2))
    );
    let overview: Value = http
        .get(format!("{base}/v1/admin/overview"))
        .bearer_auth(&admin_token)
        .send()
        .await
        .expect("overview")
        .json()
        .await
        .expect("json");
    assert_eq!(overview["agents_total"].as_u64(), Some(2));

    // An agent is not an admin: every admin route answers 403 and changes nothing.
    let agent: Value = login(&http, &base, "ada@acme.example", "ada-password")
        .await
        .json()
        .await
        .expect("json");
    let agent_token = agent["token"].as_str().expect("token");
    for path in [
        "/v1/admin/agents",
        "/v1/admin/departments",
        "/v1/admin/overview",
    ] {
        let response = http
            .get(format!("{base}{path}"))
            .bearer_auth(agent_token)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 403, "{path}");
        assert_eq!(
            response.json::<Value>().await.expect("json")["error"]["code"],
            "forbidden"
        );
    }
    let sneaky = http
        .post(format!("{base}/v1/admin/agents"))
        .bearer_auth(agent_token)
        .json(&json!({ "name": "Evil", "email": "evil@acme.example", "password": "evil-password" }))
        .send()
        .await
        .expect("request");
    assert_eq!(sneaky.status(), 403);
    assert_eq!(
        login(&http, &base, "evil@acme.example", "evil-password")
            .await
            .status(),
        401,
        "nothing was created"
    );
}

#[tokio::test]
async fn config_file_is_read_and_the_environment_wins_over_it() {
    let data = tempfile::tempdir().expect("tempdir");
    let (file_port, env_port) = (free_port(), free_port());
    let config = data.path().join("switchboard.toml");
    std::fs::write(
        &config,
        format!(
            "http_addr = \"127.0.0.1:{file_port}\"\ndata_dir = \"{}\"\n",
            data.path().display()
        ),
    )
    .expect("write config");
    let http = reqwest::Client::new();

    let mut from_file = Process::start(
        Switchboard::AllInOne,
        &[("SWITCHBOARD_CONFIG", config.display().to_string())],
    );
    wait_healthy(&http, &format!("http://127.0.0.1:{file_port}")).await;
    assert_eq!(from_file.terminate(Duration::from_secs(30)).await, Some(0));

    let env = [
        ("SWITCHBOARD_CONFIG", config.display().to_string()),
        ("SWITCHBOARD_HTTP_ADDR", format!("127.0.0.1:{env_port}")),
    ];
    let mut overridden = Process::start(Switchboard::AllInOne, &env);
    wait_healthy(&http, &format!("http://127.0.0.1:{env_port}")).await;
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", file_port)).is_err(),
        "the file's address is not used when the environment sets one"
    );
    assert_eq!(overridden.terminate(Duration::from_secs(30)).await, Some(0));
}
