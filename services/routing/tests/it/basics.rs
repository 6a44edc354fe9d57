//! The basic routing rules on both back ends: assignment to an online agent, queueing while
//! nobody is online, capacity freed on close.

use super::*;

struct Setup {
    workspace_id: String,
    department_id: String,
    agent_id: String,
}

/// A workspace with one department and one agent of capacity 2 in it (offline).
async fn workspace_with_agent(system: &System) -> Setup {
    let workspace_id = system.workspace().await;
    let department_id = system
        .department(
            &workspace_id,
            agent_pb::RoutingStrategy::LeastLoaded,
            0,
            &[],
        )
        .await;
    let agent_id = system.agent(&workspace_id, 2, &[&department_id], &[]).await;
    Setup {
        workspace_id,
        department_id,
        agent_id,
    }
}

async fn open(system: &System, setup: &Setup) -> String {
    system
        .open(&setup.workspace_id, None, Some(&setup.department_id))
        .await
}

async fn assigns_to_the_online_agent(backend: Backend) {
    let system = spawn(backend).await;
    let setup = workspace_with_agent(&system).await;
    system
        .set_status(&setup.workspace_id, &setup.agent_id, AgentStatus::Online)
        .await;
    let id = open(&system, &setup).await;
    assert_eq!(
        system.wait_assigned(&setup.workspace_id, &id).await,
        setup.agent_id
    );
}

async fn queues_until_an_agent_comes_online(backend: Backend) {
    let system = spawn(backend).await;
    let setup = workspace_with_agent(&system).await;
    let id = open(&system, &setup).await;
    system.wait_queued(&setup.workspace_id, &id).await;
    let drained = system
        .routing
        .clone()
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
        system.conversation(&setup.workspace_id, &id).await.status,
        ConversationStatus::Queued as i32
    );

    system
        .set_status(&setup.workspace_id, &setup.agent_id, AgentStatus::Online)
        .await;
    assert_eq!(
        system.wait_assigned(&setup.workspace_id, &id).await,
        setup.agent_id
    );
}

async fn capacity_is_respected_and_freed_on_close(backend: Backend) {
    let system = spawn(backend).await;
    let setup = workspace_with_agent(&system).await; // max_concurrent = 2
    system
        .set_status(&setup.workspace_id, &setup.agent_id, AgentStatus::Online)
        .await;
    let first = open(&system, &setup).await;
    let second = open(&system, &setup).await;
    system.wait_assigned(&setup.workspace_id, &first).await;
    system.wait_assigned(&setup.workspace_id, &second).await;
    let third = open(&system, &setup).await;
    system.wait_queued(&setup.workspace_id, &third).await;
    let drained = system
        .routing
        .clone()
        .drain_queue(pb::DrainQueueRequest {
            workspace_id: setup.workspace_id.clone(),
        })
        .await
        .expect("drain")
        .into_inner();
    assert_eq!(drained.still_queued, 1, "the agent is at capacity");
    system.close(&setup.workspace_id, &first).await;
    assert_eq!(
        system.wait_assigned(&setup.workspace_id, &third).await,
        setup.agent_id
    );
    let history = system.assignments(&setup.workspace_id, true).await;
    let first_row = history
        .iter()
        .find(|row| row.conversation_id == first)
        .expect("first is in the history");
    assert_eq!(first_row.end_reason.as_deref(), Some("closed"));
    assert!(first_row.ended_at.is_some());
    assert_eq!(history.len(), 3, "one assignment per conversation");
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
