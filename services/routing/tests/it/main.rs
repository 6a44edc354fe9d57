//! Integration tests of routing with real agent-management and conversation-history services:
//! on PostgreSQL + NATS JetStream, and on SQLite + the in-process bus (the embedded mode).

mod basics;
mod capacity;
mod claim;
mod position;
mod strategies;

use std::sync::Arc;
use std::time::Duration;
use switchboard_platform::bus::SharedBus;
use switchboard_platform::bus::memory::MemoryBus;
use switchboard_platform::subjects::Subjects;
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

/// Agent management, conversation history and one or more routing instances sharing one
/// routing database and bus.
#[allow(missing_debug_implementations)] // test harness; the bus is not Debug
pub struct System {
    pub agents: AgentManagementServiceClient<Channel>,
    pub history: ConversationHistoryServiceClient<Channel>,
    /// The first routing instance.
    pub routing: RoutingServiceClient<Channel>,
    /// Every routing instance.
    pub routings: Vec<RoutingServiceClient<Channel>>,
    /// A bus connection of the test itself, to watch live subjects.
    pub bus: SharedBus,
    pub subjects: Subjects,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Drop for System {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
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

/// Starts the three services with one routing instance.
pub async fn spawn(backend: Backend) -> System {
    spawn_with(backend, 1).await
}

/// Starts the three services with `routing_instances` routing instances (distributed only:
/// each has its own NATS connection, like separate processes).
pub async fn spawn_with(backend: Backend, routing_instances: usize) -> System {
    assert!(
        routing_instances == 1 || backend == Backend::Distributed,
        "several routing instances need PostgreSQL + NATS"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let nats = TestNats::new();
    let (subjects, urls) = match backend {
        Backend::Distributed => (
            nats.subjects.clone(),
            [
                TestDb::fresh().await.url,
                TestDb::fresh().await.url,
                TestDb::fresh().await.url,
            ],
        ),
        Backend::Embedded => {
            let url = |name| switchboard_platform::testing::sqlite_url(dir.path(), name);
            (
                Subjects::new("switchboard"),
                [url("agents.db"), url("history.db"), url("routing.db")],
            )
        }
    };
    let memory: SharedBus = Arc::new(MemoryBus::new());
    let bus = || {
        let nats = &nats;
        let memory = memory.clone();
        async move {
            match backend {
                Backend::Distributed => Arc::new(nats.bus().await) as SharedBus,
                Backend::Embedded => memory,
            }
        }
    };
    let prefix = subjects.prefix().to_owned();
    let [agents_db, history_db, routing_db] = urls;
    let shutdown = CancellationToken::new();
    let agents_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let history_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let (agents_url, agents_channel) = channel(&agents_listener);
    let (history_url, history_channel) = channel(&history_listener);
    let mut routings = Vec::new();
    for _ in 0..routing_instances {
        let routing_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (_, routing_channel) = channel(&routing_listener);
        let routing_config = switchboard_routing::Config {
            database_url: routing_db.clone(),
            subject_prefix: prefix.clone(),
            agents_url: agents_url.clone(),
            history_url: history_url.clone(),
            sweep_interval_ms: 200,
            ..Default::default()
        };
        let routing_run = switchboard_routing::run(
            routing_config,
            routing_listener,
            bus().await,
            shutdown.clone(),
        );
        tokio::spawn(async move {
            if let Err(error) = routing_run.await {
                eprintln!("routing exited with an error: {error}");
            }
        });
        let routing = RoutingServiceClient::new(routing_channel);
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
        routings.push(routing);
    }
    let agents_config = switchboard_agent_management::Config {
        database_url: agents_db,
        subject_prefix: prefix.clone(),
        ..Default::default()
    };
    tokio::spawn(switchboard_agent_management::run(
        agents_config,
        agents_listener,
        bus().await,
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
        bus().await,
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
    System {
        agents,
        history,
        routing: routings[0].clone(),
        routings,
        bus: bus().await,
        subjects,
        shutdown,
        _dir: dir,
    }
}

impl System {
    /// Creates a workspace; returns its id.
    pub async fn workspace(&self) -> String {
        self.agents
            .clone()
            .create_workspace(agent_pb::CreateWorkspaceRequest {
                name: "Acme".into(),
            })
            .await
            .expect("workspace")
            .into_inner()
            .workspace
            .expect("workspace")
            .id
    }

    /// Creates a department; returns its id.
    pub async fn department(
        &self,
        workspace_id: &str,
        strategy: agent_pb::RoutingStrategy,
        sticky_window_secs: u32,
        required_skills: &[&str],
    ) -> String {
        self.agents
            .clone()
            .create_department(agent_pb::CreateDepartmentRequest {
                workspace_id: workspace_id.to_owned(),
                name: format!("dept-{}", uuid::Uuid::now_v7()),
                strategy: strategy as i32,
                sticky_window_secs,
                required_skills: required_skills.iter().map(|s| (*s).to_owned()).collect(),
                ..Default::default()
            })
            .await
            .expect("department")
            .into_inner()
            .department
            .expect("department")
            .id
    }

    /// Creates an agent; returns its id.
    pub async fn agent(
        &self,
        workspace_id: &str,
        max_concurrent: u32,
        department_ids: &[&str],
        skills: &[&str],
    ) -> String {
        self.agents
            .clone()
            .create_agent(agent_pb::CreateAgentRequest {
                workspace_id: workspace_id.to_owned(),
                name: "Sam".into(),
                email: format!("sam-{}@example.com", uuid::Uuid::now_v7()),
                password: "password-123".into(),
                role: 0,
                max_concurrent,
                department_ids: department_ids.iter().map(|s| (*s).to_owned()).collect(),
                skills: skills.iter().map(|s| (*s).to_owned()).collect(),
            })
            .await
            .expect("agent")
            .into_inner()
            .agent
            .expect("agent")
            .id
    }

    pub async fn set_status(&self, workspace_id: &str, agent_id: &str, status: AgentStatus) {
        self.agents
            .clone()
            .set_agent_status(agent_pb::SetAgentStatusRequest {
                workspace_id: workspace_id.to_owned(),
                agent_id: agent_id.to_owned(),
                status: status as i32,
            })
            .await
            .expect("status");
    }

    /// Creates a visitor; returns its id.
    pub async fn visitor(&self, workspace_id: &str) -> String {
        self.history
            .clone()
            .upsert_visitor(history_pb::UpsertVisitorRequest {
                workspace_id: workspace_id.to_owned(),
                ..Default::default()
            })
            .await
            .expect("visitor")
            .into_inner()
            .visitor
            .expect("visitor")
            .id
    }

    /// Opens a conversation of `visitor_id` (a new visitor when `None`); returns its id.
    pub async fn open(
        &self,
        workspace_id: &str,
        visitor_id: Option<&str>,
        department_id: Option<&str>,
    ) -> String {
        let visitor_id = match visitor_id {
            Some(id) => id.to_owned(),
            None => self.visitor(workspace_id).await,
        };
        self.history
            .clone()
            .open_conversation(history_pb::OpenConversationRequest {
                workspace_id: workspace_id.to_owned(),
                visitor_id,
                department_id: department_id.map(str::to_owned),
                ..Default::default()
            })
            .await
            .expect("open")
            .into_inner()
            .conversation
            .expect("conversation")
            .id
    }

    pub async fn conversation(&self, workspace_id: &str, id: &str) -> history_pb::Conversation {
        self.history
            .clone()
            .get_conversation(history_pb::GetConversationRequest {
                workspace_id: workspace_id.to_owned(),
                conversation_id: id.to_owned(),
            })
            .await
            .expect("get")
            .into_inner()
            .conversation
            .expect("conversation")
    }

    pub async fn close(&self, workspace_id: &str, id: &str) {
        self.history
            .clone()
            .close_conversation(history_pb::CloseConversationRequest {
                workspace_id: workspace_id.to_owned(),
                conversation_id: id.to_owned(),
                request_rating: false,
            })
            .await
            .expect("close");
    }

    /// Waits until history shows the conversation assigned and routing has confirmed it;
    /// returns the agent.
    pub async fn wait_assigned(&self, workspace_id: &str, id: &str) -> String {
        wait_until(
            Duration::from_secs(20),
            "the conversation to be assigned",
            || async {
                self.conversation(workspace_id, id).await.status
                    == ConversationStatus::Assigned as i32
            },
        )
        .await;
        let agent_id = self
            .conversation(workspace_id, id)
            .await
            .assigned_agent_id
            .expect("assigned agent");
        wait_until(
            Duration::from_secs(20),
            "routing to record the assignment",
            || async {
                self.open_assignments(workspace_id)
                    .await
                    .iter()
                    .any(|assignment| {
                        assignment.conversation_id == id && assignment.agent_id == agent_id
                    })
            },
        )
        .await;
        agent_id
    }

    /// Waits until routing has ended every assignment of the conversation (after a close).
    pub async fn wait_released(&self, workspace_id: &str, id: &str) {
        wait_until(
            Duration::from_secs(20),
            "routing to release the conversation",
            || async {
                self.open_assignments(workspace_id)
                    .await
                    .iter()
                    .all(|assignment| assignment.conversation_id != id)
            },
        )
        .await;
    }

    pub async fn open_assignments(&self, workspace_id: &str) -> Vec<pb::Assignment> {
        self.assignments(workspace_id, false).await
    }

    pub async fn assignments(
        &self,
        workspace_id: &str,
        include_ended: bool,
    ) -> Vec<pb::Assignment> {
        self.routing
            .clone()
            .list_assignments(pb::ListAssignmentsRequest {
                workspace_id: workspace_id.to_owned(),
                agent_id: None,
                include_ended,
            })
            .await
            .expect("assignments")
            .into_inner()
            .assignments
    }

    pub async fn queue(&self, workspace_id: &str) -> Vec<pb::QueueEntry> {
        self.routing
            .clone()
            .list_queue(pb::ListQueueRequest {
                workspace_id: workspace_id.to_owned(),
            })
            .await
            .expect("queue")
            .into_inner()
            .entries
    }

    /// Waits until the conversation is in routing's queue.
    pub async fn wait_queued(&self, workspace_id: &str, id: &str) {
        wait_until(
            Duration::from_secs(20),
            "the conversation to be queued",
            || async {
                self.queue(workspace_id)
                    .await
                    .iter()
                    .any(|entry| entry.conversation_id == id)
            },
        )
        .await;
    }
}
