//! Integration tests of routing with real agent-management and conversation-history services:
//! on PostgreSQL + NATS JetStream, and on SQLite + the in-process bus (the embedded mode).

use std::sync::Arc;
use std::time::Duration;
use switchboard_platform::bus::SharedBus;
use switchboard_platform::bus::memory::MemoryBus;
use switchboard_platform::testing::{TestDb, TestNats, wait_until};
use switchboard_proto::agent::v1::{
    self as agent_pb, agent_management_service_client::AgentManagementServiceClient,
};
use switchboard_proto::common::v1::{AgentStatus, ConversationStatus};
use switchboard_proto::history::v1::{
    self as history_pb, conversation_history_service_client::ConversationHistoryServiceClient,
};
use switchboard_proto::routing::v1::{self as pb, routing_service_client::RoutingServiceClient};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

struct System {
    agents: AgentManagementServiceClient<Channel>,
    history: ConversationHistoryServiceClient<Channel>,
    routing: RoutingServiceClient<Channel>,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Drop for System {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

enum Backend {
    Distributed,
    Embedded,
}

fn channel(listener: &TcpListener) -> (String, Channel) {
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let channel = Channel::from_shared(url.clone())
        .expect("url")
        .connect_lazy();
    (url, channel)
}

async fn spawn(backend: Backend) -> System {
    let dir = tempfile::tempdir().expect("tempdir");
    let (bus, prefix, urls): (SharedBus, String, [String; 3]) = match backend {
        Backend::Distributed => {
            let nats = TestNats::new();
            let urls = [
                TestDb::fresh().await.url,
                TestDb::fresh().await.url,
                TestDb::fresh().await.url,
            ];
            (
                Arc::new(nats.bus().await),
                nats.subjects.prefix().to_owned(),
                urls,
            )
        }
        Backend::Embedded => {
            let url = |name| switchboard_platform::testing::sqlite_url(dir.path(), name);
            (
                Arc::new(MemoryBus::new()),
                "switchboard".to_owned(),
                [url("agents.db"), url("history.db"), url("routing.db")],
            )
        }
    };
    let [agents_db, history_db, routing_db] = urls;
    let shutdown = CancellationToken::new();
    let agents_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let history_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let routing_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let (agents_url, agents_channel) = channel(&agents_listener);
    let (history_url, history_channel) = channel(&history_listener);
    let (_, routing_channel) = channel(&routing_listener);
    let routing_config = switchboard_routing::Config {
        database_url: routing_db,
        subject_prefix: prefix.clone(),
        agents_url,
        history_url,
        sweep_interval_ms: 200,
        ..Default::default()
    };
    tokio::spawn(switchboard_routing::run(
        routing_config,
        routing_listener,
        bus.clone(),
        shutdown.clone(),
    ));
    let mut routing = RoutingServiceClient::new(routing_channel);
    wait_until(Duration::from_secs(20), "routing to answer", || {
        let mut routing = routing.clone();
        async move {
            routing
                .list_queue(pb::ListQueueRequest {
                    workspace_id: uuid::Uuid::nil().to_string(),
                })
                .await
                .is_ok()
        }
    })
    .await;
    let agents_config = switchboard_agent_management::Config {
        database_url: agents_db,
        subject_prefix: prefix.clone(),
        ..Default::default()
    };
    tokio::spawn(switchboard_agent_management::run(
        agents_config,
        agents_listener,
        bus.clone(),
        shutdown.clone(),
    ));
    let history_config = switchboard_conversation_history::Config {
        database_url: history_db,
        subject_prefix: prefix,
        ..Default::default()
    };
    tokio::spawn(switchboard_conversation_history::run(
        history_config,
        history_listener,
        bus,
        shutdown.clone(),
    ));
    let agents = AgentManagementServiceClient::new(agents_channel);
    let history = ConversationHistoryServiceClient::new(history_channel);
    wait_until(
        Duration::from_secs(20),
        "agents and history to answer",
        || {
            let (mut agents, mut history) = (agents.clone(), history.clone());
            async move {
                let nil = uuid::Uuid::nil().to_string();
                agents
                    .list_departments(agent_pb::ListDepartmentsRequest {
                        workspace_id: nil.clone(),
                    })
                    .await
                    .is_ok()
                    && history
                        .list_conversations(history_pb::ListConversationsRequest {
                            workspace_id: nil,
                            ..Default::default()
                        })
                        .await
                        .is_ok()
            }
        },
    )
    .await;
    routing = routing.clone();
    System {
        agents,
        history,
        routing,
        shutdown,
        _dir: dir,
    }
}

struct Setup {
    workspace_id: String,
    department_id: String,
    agent_id: String,
}

async fn workspace_with_agent(system: &mut System) -> Setup {
    let workspace = system
        .agents
        .create_workspace(agent_pb::CreateWorkspaceRequest {
            name: "Acme".into(),
        })
        .await
        .expect("workspace")
        .into_inner()
        .workspace
        .expect("workspace");
    let department = system
        .agents
        .create_department(agent_pb::CreateDepartmentRequest {
            workspace_id: workspace.id.clone(),
            name: "Sales".into(),
        })
        .await
        .expect("department")
        .into_inner()
        .department
        .expect("department");
    let agent = system
        .agents
        .create_agent(agent_pb::CreateAgentRequest {
            workspace_id: workspace.id.clone(),
            name: "Sam".into(),
            email: format!("sam-{}@example.com", uuid::Uuid::now_v7()),
            password: "password-123".into(),
            role: 0,
            max_concurrent: 2,
            department_ids: vec![department.id.clone()],
        })
        .await
        .expect("agent")
        .into_inner()
        .agent
        .expect("agent");
    Setup {
        workspace_id: workspace.id,
        department_id: department.id,
        agent_id: agent.id,
    }
}

async fn set_status(system: &mut System, setup: &Setup, status: AgentStatus) {
    system
        .agents
        .set_agent_status(agent_pb::SetAgentStatusRequest {
            workspace_id: setup.workspace_id.clone(),
            agent_id: setup.agent_id.clone(),
            status: status as i32,
        })
        .await
        .expect("status");
}

async fn open(system: &mut System, setup: &Setup) -> String {
    let visitor = system
        .history
        .upsert_visitor(history_pb::UpsertVisitorRequest {
            workspace_id: setup.workspace_id.clone(),
            ..Default::default()
        })
        .await
        .expect("visitor")
        .into_inner()
        .visitor
        .expect("visitor");
    system
        .history
        .open_conversation(history_pb::OpenConversationRequest {
            workspace_id: setup.workspace_id.clone(),
            visitor_id: visitor.id,
            department_id: Some(setup.department_id.clone()),
        })
        .await
        .expect("open")
        .into_inner()
        .conversation
        .expect("conversation")
        .id
}

async fn conversation(system: &System, setup: &Setup, id: &str) -> history_pb::Conversation {
    system
        .history
        .clone()
        .get_conversation(history_pb::GetConversationRequest {
            workspace_id: setup.workspace_id.clone(),
            conversation_id: id.to_owned(),
        })
        .await
        .expect("get")
        .into_inner()
        .conversation
        .expect("conversation")
}

async fn wait_assigned(system: &System, setup: &Setup, id: &str) {
    wait_until(
        Duration::from_secs(20),
        "the conversation to be assigned",
        || async {
            conversation(system, setup, id).await.status == ConversationStatus::Assigned as i32
        },
    )
    .await;
    let assigned = conversation(system, setup, id).await;
    assert_eq!(
        assigned.assigned_agent_id.as_deref(),
        Some(setup.agent_id.as_str())
    );
    wait_until(
        Duration::from_secs(20),
        "routing to record the assignment",
        || async {
            let mut routing = system.routing.clone();
            let assignments = routing
                .list_assignments(pb::ListAssignmentsRequest {
                    workspace_id: setup.workspace_id.clone(),
                    agent_id: None,
                })
                .await
                .expect("assignments")
                .into_inner()
                .assignments;
            assignments.iter().any(|assignment| {
                assignment.conversation_id == id && assignment.agent_id == setup.agent_id
            })
        },
    )
    .await;
}

async fn assigns_to_the_online_agent(backend: Backend) {
    let mut system = spawn(backend).await;
    let setup = workspace_with_agent(&mut system).await;
    set_status(&mut system, &setup, AgentStatus::Online).await;
    let id = open(&mut system, &setup).await;
    wait_assigned(&system, &setup, &id).await;
}

async fn queues_until_an_agent_comes_online(backend: Backend) {
    let mut system = spawn(backend).await;
    let setup = workspace_with_agent(&mut system).await;
    let id = open(&mut system, &setup).await;
    wait_until(
        Duration::from_secs(20),
        "the conversation to be queued",
        || async {
            let mut routing = system.routing.clone();
            let queue = routing
                .list_queue(pb::ListQueueRequest {
                    workspace_id: setup.workspace_id.clone(),
                })
                .await
                .expect("queue")
                .into_inner();
            queue
                .entries
                .iter()
                .any(|entry| entry.conversation_id == id)
        },
    )
    .await;
    let drained = system
        .routing
        .drain_queue(pb::DrainQueueRequest {
            workspace_id: setup.workspace_id.clone(),
        })
        .await
        .expect("drain")
        .into_inner();
    assert_eq!(
        (drained.assigned, drained.still_queued),
        (0, 1),
        "nobody is online"
    );
    assert_eq!(
        conversation(&system, &setup, &id).await.status,
        ConversationStatus::Queued as i32
    );

    set_status(&mut system, &setup, AgentStatus::Online).await;
    wait_assigned(&system, &setup, &id).await;
}

async fn capacity_is_respected_and_freed_on_close(backend: Backend) {
    let mut system = spawn(backend).await;
    let setup = workspace_with_agent(&mut system).await; // max_concurrent = 2
    set_status(&mut system, &setup, AgentStatus::Online).await;
    let first = open(&mut system, &setup).await;
    let second = open(&mut system, &setup).await;
    wait_assigned(&system, &setup, &first).await;
    wait_assigned(&system, &setup, &second).await;
    let third = open(&mut system, &setup).await;
    wait_until(
        Duration::from_secs(20),
        "the third conversation to be queued",
        || async {
            let mut routing = system.routing.clone();
            let queue = routing
                .list_queue(pb::ListQueueRequest {
                    workspace_id: setup.workspace_id.clone(),
                })
                .await
                .expect("queue")
                .into_inner();
            queue
                .entries
                .iter()
                .any(|entry| entry.conversation_id == third)
        },
    )
    .await;
    let drained = system
        .routing
        .drain_queue(pb::DrainQueueRequest {
            workspace_id: setup.workspace_id.clone(),
        })
        .await
        .expect("drain")
        .into_inner();
    assert_eq!(drained.still_queued, 1, "the agent is at capacity");
    system
        .history
        .close_conversation(history_pb::CloseConversationRequest {
            workspace_id: setup.workspace_id.clone(),
            conversation_id: first,
        })
        .await
        .expect("close");
    wait_assigned(&system, &setup, &third).await;
}

#[tokio::test]
async fn assigns_to_the_online_agent_on_postgres_and_nats() {
    assigns_to_the_online_agent(Backend::Distributed).await;
}

#[tokio::test]
async fn assigns_to_the_online_agent_embedded() {
    assigns_to_the_online_agent(Backend::Embedded).await;
}

#[tokio::test]
async fn queues_until_an_agent_comes_online_on_postgres_and_nats() {
    queues_until_an_agent_comes_online(Backend::Distributed).await;
}

#[tokio::test]
async fn queues_until_an_agent_comes_online_embedded() {
    queues_until_an_agent_comes_online(Backend::Embedded).await;
}

#[tokio::test]
async fn capacity_is_respected_and_freed_on_close_on_postgres_and_nats() {
    capacity_is_respected_and_freed_on_close(Backend::Distributed).await;
}

#[tokio::test]
async fn capacity_is_respected_and_freed_on_close_embedded() {
    capacity_is_respected_and_freed_on_close(Backend::Embedded).await;
}
