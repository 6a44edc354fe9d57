//! Queue position and expected wait, pushed on the conversation's live subject.

use super::*;
use futures_util::StreamExt;
use prost::Message as _;
use switchboard_proto::events::v1::QueuePosition;

async fn position(system: &System, workspace_id: &str, id: &str) -> pb::GetQueuePositionResponse {
    system
        .routing
        .clone()
        .get_queue_position(pb::GetQueuePositionRequest {
            workspace_id: workspace_id.to_owned(),
            conversation_id: id.to_owned(),
        })
        .await
        .expect("position")
        .into_inner()
}

async fn next_position(updates: &mut switchboard_platform::bus::Subscription) -> QueuePosition {
    let event = tokio::time::timeout(Duration::from_secs(20), updates.next())
        .await
        .expect("a position update in time")
        .expect("subscription open");
    QueuePosition::decode(event.payload.as_ref()).expect("QueuePosition")
}

async fn position_updates_follow_the_queue(backend: Backend) {
    let system = spawn(backend).await;
    let workspace_id = system.workspace().await;
    let agent = system.agent(&workspace_id, 1, &[], &[]).await;
    let mut waiting = Vec::new();
    for _ in 0..3 {
        let id = system.open(&workspace_id, None, None).await;
        system.wait_queued(&workspace_id, &id).await;
        waiting.push(id);
    }
    let last = waiting[2].clone();
    let mut updates = system
        .bus
        .subscribe(&system.subjects.conversation_queue(&last))
        .await
        .expect("subscribe");
    let asked = position(&system, &workspace_id, &last).await;
    assert!(asked.queued);
    assert_eq!(asked.position, 3);
    assert_eq!(
        asked.expected_wait_secs, None,
        "no finished chats to estimate from"
    );

    // The agent comes online and takes the first: the last moves up.
    system
        .set_status(&workspace_id, &agent, AgentStatus::Online)
        .await;
    assert_eq!(
        system.wait_assigned(&workspace_id, &waiting[0]).await,
        agent
    );
    let mut update = next_position(&mut updates).await;
    while update.position == 3 {
        update = next_position(&mut updates).await;
    }
    assert_eq!(update.conversation_id, last);
    assert_eq!(update.position, 2);

    // A finished chat gives a handling time: the next update carries an expected wait.
    system.close(&workspace_id, &waiting[0]).await;
    assert_eq!(
        system.wait_assigned(&workspace_id, &waiting[1]).await,
        agent
    );
    let mut update = next_position(&mut updates).await;
    while update.position == 2 {
        update = next_position(&mut updates).await;
    }
    assert_eq!(update.position, 1);
    let expected = update
        .expected_wait_secs
        .expect("an estimate after a finished chat");
    assert!(expected >= 1);
    assert_eq!(position(&system, &workspace_id, &last).await.position, 1);

    system.close(&workspace_id, &waiting[1]).await;
    system.wait_assigned(&workspace_id, &last).await;
    assert!(!position(&system, &workspace_id, &last).await.queued);
}

#[tokio::test]
async fn position_updates_follow_the_queue_on_postgres_and_nats() {
    position_updates_follow_the_queue(Backend::Distributed).await;
}

#[tokio::test]
async fn position_updates_follow_the_queue_embedded() {
    position_updates_follow_the_queue(Backend::Embedded).await;
}
