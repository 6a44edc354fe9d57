//! Integration tests of agent management on real PostgreSQL + NATS (and SQLite where noted).

mod admin;
mod lockout;

use futures_util::StreamExt;
use prost::Message as _;
use std::sync::Arc;
use std::time::Duration;
use switchboard_agent_management::Config;
use switchboard_platform::bus::SharedBus;
use switchboard_platform::testing::{TestDb, TestNats};
use switchboard_proto::agent::v1::{
    self as pb, agent_management_service_client::AgentManagementServiceClient,
};
use switchboard_proto::common::v1::AgentStatus;
use switchboard_proto::events::v1 as events;
use tokio_util::sync::CancellationToken;
use tonic::Code;
use tonic::transport::Channel;

struct Spawned {
    client: AgentManagementServiceClient<Channel>,
    channel: Channel,
    shutdown: CancellationToken,
    nats: TestNats,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn spawn(database_url: String) -> Spawned {
    spawn_with(database_url, |_| {}).await
}

/// Like [`spawn`], with `tweak` applied to the service's configuration.
async fn spawn_with(database_url: String, tweak: impl FnOnce(&mut Config)) -> Spawned {
    let nats = TestNats::new();
    let bus: SharedBus = Arc::new(nats.bus().await);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut config = Config {
        database_url,
        subject_prefix: nats.subjects.prefix().to_owned(),
        ..Config::default()
    };
    tweak(&mut config);
    let shutdown = CancellationToken::new();
    tokio::spawn(switchboard_agent_management::run(
        config,
        listener,
        bus,
        shutdown.clone(),
    ));
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("url")
        .connect_lazy();
    let mut client = AgentManagementServiceClient::new(channel.clone());
    switchboard_platform::testing::wait_until(
        Duration::from_secs(20),
        "agent-management to answer",
        || {
            let mut client = client.clone();
            async move {
                client
                    .list_departments(pb::ListDepartmentsRequest {
                        workspace_id: uuid::Uuid::nil().to_string(),
                    })
                    .await
                    .is_ok()
            }
        },
    )
    .await;
    client = client.clone();
    Spawned {
        client,
        channel,
        shutdown,
        nats,
    }
}

async fn bootstrap(client: &mut AgentManagementServiceClient<Channel>) -> pb::BootstrapResponse {
    client
        .bootstrap(pb::BootstrapRequest {
            workspace_name: "Acme".into(),
            admin_name: "Ada Admin".into(),
            admin_email: "Ada@Example.com".into(),
            admin_password: "s3cret-password".into(),
        })
        .await
        .expect("bootstrap")
        .into_inner()
}

async fn bootstrap_and_login_work(database_url: String) {
    let mut app = spawn(database_url).await;
    let first = bootstrap(&mut app.client).await;
    assert!(first.created);
    let workspace = first.workspace.expect("workspace");
    assert!(workspace.site_key.starts_with("site_"));
    let second = bootstrap(&mut app.client).await;
    assert!(
        !second.created,
        "bootstrap must not create a second workspace"
    );
    assert_eq!(second.workspace.expect("workspace").id, workspace.id);

    let login = app
        .client
        .login(pb::LoginRequest {
            email: "ada@example.com".into(),
            password: "s3cret-password".into(),
            totp_code: None,
        })
        .await
        .expect("login")
        .into_inner();
    assert_eq!(
        login.agent.as_ref().expect("agent").email,
        "ada@example.com"
    );
    let validated = app
        .client
        .validate_token(pb::ValidateTokenRequest {
            token: login.token.clone(),
        })
        .await
        .expect("validate")
        .into_inner();
    assert_eq!(
        validated.workspace.expect("workspace").site_key,
        workspace.site_key
    );

    let wrong = app
        .client
        .login(pb::LoginRequest {
            email: "ada@example.com".into(),
            password: "wrong-password".into(),
            totp_code: None,
        })
        .await
        .expect_err("wrong password");
    assert_eq!(wrong.code(), Code::Unauthenticated);
    let unknown = app
        .client
        .login(pb::LoginRequest {
            email: "nobody@example.com".into(),
            password: "s3cret-password".into(),
            totp_code: None,
        })
        .await
        .expect_err("unknown email");
    assert_eq!(unknown.code(), Code::Unauthenticated);
    assert_eq!(
        unknown.message(),
        wrong.message(),
        "unknown email and wrong password look the same"
    );

    app.client
        .logout(pb::LogoutRequest {
            token: login.token.clone(),
        })
        .await
        .expect("logout");
    let after = app
        .client
        .validate_token(pb::ValidateTokenRequest { token: login.token })
        .await
        .expect_err("token after logout");
    assert_eq!(after.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn bootstrap_and_login_on_postgres() {
    bootstrap_and_login_work(TestDb::fresh().await.url).await;
}

#[tokio::test]
async fn bootstrap_and_login_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    bootstrap_and_login_work(switchboard_platform::testing::sqlite_url(
        dir.path(),
        "agents.db",
    ))
    .await;
}

#[tokio::test]
async fn rejects_bad_input_without_changing_anything() {
    let mut app = spawn(TestDb::fresh().await.url).await;
    let workspace = bootstrap(&mut app.client)
        .await
        .workspace
        .expect("workspace");
    let valid = pb::CreateAgentRequest {
        workspace_id: workspace.id.clone(),
        name: "Bob".into(),
        email: "bob@example.com".into(),
        password: "password-123".into(),
        role: 0,
        max_concurrent: 2,
        department_ids: vec![],
        skills: vec![],
    };
    let cases = [
        (
            pb::CreateAgentRequest {
                email: "not-an-email".into(),
                ..valid.clone()
            },
            Code::InvalidArgument,
            "email",
        ),
        (
            pb::CreateAgentRequest {
                password: "short".into(),
                ..valid.clone()
            },
            Code::InvalidArgument,
            "password",
        ),
        (
            pb::CreateAgentRequest {
                name: "  ".into(),
                ..valid.clone()
            },
            Code::InvalidArgument,
            "name",
        ),
        (
            pb::CreateAgentRequest {
                workspace_id: "zzz".into(),
                ..valid.clone()
            },
            Code::InvalidArgument,
            "workspace_id",
        ),
        (
            pb::CreateAgentRequest {
                max_concurrent: 1000,
                ..valid.clone()
            },
            Code::InvalidArgument,
            "max_concurrent",
        ),
        (
            pb::CreateAgentRequest {
                workspace_id: uuid::Uuid::now_v7().to_string(),
                ..valid.clone()
            },
            Code::NotFound,
            "workspace",
        ),
        (
            pb::CreateAgentRequest {
                department_ids: vec![uuid::Uuid::now_v7().to_string()],
                ..valid.clone()
            },
            Code::NotFound,
            "department",
        ),
    ];
    for (request, code, mention) in cases {
        let status = app
            .client
            .create_agent(request)
            .await
            .expect_err("must fail");
        assert_eq!(status.code(), code, "{status:?}");
        assert!(
            status.message().contains(mention),
            "{status:?} should mention {mention}"
        );
    }
    let listed = app
        .client
        .list_agents(pb::ListAgentsRequest {
            workspace_id: workspace.id.clone(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(
        listed.agents.len(),
        1,
        "only the admin exists after rejected requests"
    );

    app.client
        .create_agent(valid.clone())
        .await
        .expect("valid agent");
    let duplicate = app
        .client
        .create_agent(valid)
        .await
        .expect_err("duplicate email");
    assert_eq!(duplicate.code(), Code::AlreadyExists);

    // An agent of another workspace is reported exactly like a missing one.
    let other = app
        .client
        .create_workspace(pb::CreateWorkspaceRequest {
            name: "Other".into(),
        })
        .await
        .expect("workspace")
        .into_inner()
        .workspace
        .expect("workspace");
    let admin_id = listed.agents[0].id.clone();
    let foreign = app
        .client
        .get_agent(pb::GetAgentRequest {
            workspace_id: other.id,
            agent_id: admin_id,
        })
        .await
        .expect_err("foreign agent");
    assert_eq!(foreign.code(), Code::NotFound);
}

#[tokio::test]
async fn status_change_is_published_through_the_outbox() {
    let mut app = spawn(TestDb::fresh().await.url).await;
    let boot = bootstrap(&mut app.client).await;
    let workspace = boot.workspace.expect("workspace");
    let admin = boot.admin.expect("admin");
    let client = async_nats::connect(&app.nats.url).await.expect("nats");
    let mut live = client
        .subscribe(app.nats.subjects.agent_presence(&admin.id))
        .await
        .expect("subscribe");
    client.flush().await.expect("flush");

    let updated = app
        .client
        .set_agent_status(pb::SetAgentStatusRequest {
            workspace_id: workspace.id.clone(),
            agent_id: admin.id.clone(),
            status: AgentStatus::Online as i32,
        })
        .await
        .expect("status")
        .into_inner()
        .agent
        .expect("agent");
    assert_eq!(updated.status, AgentStatus::Online as i32);

    let message = tokio::time::timeout(Duration::from_secs(10), live.next())
        .await
        .expect("event within 10 s")
        .expect("subscription open");
    let envelope = events::Envelope::decode(message.payload).expect("envelope");
    assert_eq!(envelope.workspace_id, workspace.id);
    match envelope.payload {
        Some(events::envelope::Payload::AgentStatusChanged(changed)) => {
            assert_eq!(changed.agent_id, admin.id);
            assert_eq!(changed.status, AgentStatus::Online as i32);
        }
        other => panic!("unexpected event {other:?}"),
    }
    let online = app
        .client
        .list_agents(pb::ListAgentsRequest {
            workspace_id: workspace.id,
            department_id: None,
            status: AgentStatus::Online as i32,
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(online.agents.len(), 1);
}

#[tokio::test]
async fn serves_reflection_for_every_switchboard_service() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let app = spawn(TestDb::fresh().await.url).await;
    let channel = app.channel.clone();
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::new(channel)
        .server_reflection_info(futures_util::stream::iter([request]))
        .await
        .expect("reflection answers")
        .into_inner();
    let response = responses.next().await.expect("one response").expect("ok");
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection response");
    };
    let names: Vec<String> = list
        .service
        .into_iter()
        .map(|service| service.name)
        .collect();
    for expected in [
        "switchboard.agent.v1.AgentManagementService",
        "grpc.health.v1.Health",
    ] {
        assert!(
            names.iter().any(|name| name == expected),
            "{expected} in {names:?}"
        );
    }
}
