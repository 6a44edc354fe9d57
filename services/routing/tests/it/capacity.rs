//! The capacity race: two routing instances share one database and one durable consumer; five
//! agents of capacity 3 go online at the same instant; 200 conversations open at once and are
//! closed at random as soon as they are assigned. The assignment history must show that no agent
//! ever held more than 3, that each conversation was held once, that the queue empties, and that
//! waiting conversations were served oldest first.

use super::*;
use futures_util::StreamExt;
use prost::Message as _;
use std::collections::{HashMap, HashSet};
use switchboard_proto::events::v1::{Envelope, envelope::Payload};
use tokio_util::sync::CancellationToken;

const AGENTS: usize = 5;
const CAPACITY: u32 = 3;
const CONVERSATIONS: usize = 200;

fn time(timestamp: Option<&prost_types::Timestamp>) -> (i64, i32) {
    let timestamp = timestamp.expect("timestamp set");
    (timestamp.seconds, timestamp.nanos)
}

fn micros(timestamp: Option<&prost_types::Timestamp>) -> i64 {
    let (seconds, nanos) = time(timestamp);
    seconds * 1_000_000 + i64::from(nanos / 1000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_holds_with_two_routing_instances_under_a_burst() {
    let system = Arc::new(spawn_with(Backend::Distributed, 2).await);
    let workspace_id = system.workspace().await;
    let mut agents = Vec::new();
    for _ in 0..AGENTS {
        agents.push(system.agent(&workspace_id, CAPACITY, &[], &[]).await);
    }
    // Assignments reach agents on their inbox subjects; the test plays every agent.
    let inbox_filter = format!("{}.agent.*.inbox", system.subjects.prefix());
    let mut inbox = system
        .bus
        .subscribe(&inbox_filter)
        .await
        .expect("subscribe");

    futures_util::future::join_all(
        agents
            .iter()
            .map(|agent_id| system.set_status(&workspace_id, agent_id, AgentStatus::Online)),
    )
    .await;
    let opened: Vec<String> = futures_util::future::join_all((0..CONVERSATIONS).map(|_| {
        let system = system.clone();
        let workspace_id = workspace_id.clone();
        async move { system.open(&workspace_id, None, None).await }
    }))
    .await;
    let opened: HashSet<String> = opened.into_iter().collect();
    assert_eq!(opened.len(), CONVERSATIONS);

    // Meanwhile agents keep claiming from the queue themselves, racing the drains of both
    // instances for the same capacity (a claim does not wait for a drain).
    let claiming = CancellationToken::new();
    let claimer = tokio::spawn({
        let (system, workspace_id, agents) = (system.clone(), workspace_id.clone(), agents.clone());
        let claiming = claiming.clone();
        async move {
            let mut claimed = 0usize;
            let mut turn = 0usize;
            while !claiming.is_cancelled() {
                let queue = system.queue(&workspace_id).await;
                for entry in queue.iter().rev().take(2) {
                    turn += 1;
                    let routing = &system.routings[turn % system.routings.len()];
                    let attempt = routing
                        .clone()
                        .claim_conversation(pb::ClaimConversationRequest {
                            workspace_id: workspace_id.clone(),
                            conversation_id: entry.conversation_id.clone(),
                            agent_id: agents[turn % agents.len()].clone(),
                        })
                        .await;
                    match attempt {
                        Ok(_) => claimed += 1,
                        Err(status) => assert!(
                            matches!(
                                status.code(),
                                tonic::Code::ResourceExhausted | tonic::Code::FailedPrecondition
                            ),
                            "unexpected claim error {status:?}"
                        ),
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            claimed
        }
    });

    // Each agent closes a conversation after a random handling time of up to 150 ms.
    let mut closing = tokio::task::JoinSet::new();
    let mut assigned = HashSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    while assigned.len() < CONVERSATIONS {
        let event = tokio::time::timeout_at(deadline, inbox.next())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "only {} of {CONVERSATIONS} conversations were assigned",
                    assigned.len()
                )
            })
            .expect("inbox subscription ended");
        let envelope = Envelope::decode(event.payload.as_ref()).expect("envelope");
        let Some(Payload::ConversationAssigned(event)) = envelope.payload else {
            continue;
        };
        let conversation = event.conversation.expect("conversation");
        assert!(opened.contains(&conversation.id), "an opened conversation");
        if !assigned.insert(conversation.id.clone()) {
            continue;
        }
        let system = system.clone();
        let workspace_id = workspace_id.clone();
        closing.spawn(async move {
            let handling = uuid::Uuid::new_v4().as_u128() % 150;
            tokio::time::sleep(Duration::from_millis(u64::try_from(handling).unwrap_or(0))).await;
            system.close(&workspace_id, &conversation.id).await;
        });
    }
    claiming.cancel();
    let claimed = claimer.await.expect("claimer");
    while let Some(result) = closing.join_next().await {
        result.expect("close task");
    }
    wait_until(
        Duration::from_secs(30),
        "every assignment to end and the queue to empty",
        || async {
            system.open_assignments(&workspace_id).await.is_empty()
                && system.queue(&workspace_id).await.is_empty()
        },
    )
    .await;

    let history = system.assignments(&workspace_id, true).await;
    // Every conversation was held exactly once (nobody was requeued in this test).
    let mut per_conversation: HashMap<&str, usize> = HashMap::new();
    for row in &history {
        *per_conversation.entry(&row.conversation_id).or_default() += 1;
        assert_eq!(row.end_reason.as_deref(), Some("closed"));
        assert!(
            agents.contains(&row.agent_id),
            "assigned to one of the agents"
        );
    }
    assert_eq!(per_conversation.len(), CONVERSATIONS);
    assert!(
        per_conversation.values().all(|count| *count == 1),
        "each conversation assigned exactly once: {per_conversation:?}"
    );

    // Replay each agent's assignments in time order: at no moment more than CAPACITY.
    for agent_id in &agents {
        let mut changes: Vec<(i64, i32)> = Vec::new();
        for row in history.iter().filter(|row| &row.agent_id == agent_id) {
            changes.push((micros(row.assigned_at.as_ref()), 1));
            changes.push((micros(row.ended_at.as_ref()), -1));
        }
        // At equal times the release comes first: the database ordered it before.
        changes.sort();
        let mut held = 0;
        let mut peak = 0;
        for (_, change) in changes {
            held += change;
            peak = peak.max(held);
            assert!(
                held <= i32::try_from(CAPACITY).unwrap_or(i32::MAX),
                "agent {agent_id} held {held} conversations at once"
            );
        }
        assert!(peak > 0, "every agent took part");
    }

    // Serving order: of two conversations both waiting in routing's queue, the one waiting
    // longer is assigned first. A drain serves a snapshot of the queue, so an entry that
    // arrived less than SNAPSHOT before a later one's assignment may be served after it. A
    // drain pass of this burst takes well under a second, but on a loaded 2-core machine
    // (benchmarks beside CI) one pass was seen to take longer than 0.5 s: allow 2 s, which
    // still catches a queue served newest-first or at random across passes.
    const SNAPSHOT_MICROS: i64 = 2_000_000;
    // Claims are explicit picks (from the back of the queue here) and are left out.
    let routed: Vec<&pb::Assignment> = history
        .iter()
        .filter(|row| row.origin == "routed")
        .collect();
    assert_eq!(
        history.len() - routed.len(),
        claimed,
        "every successful claim is in the history"
    );
    assert!(claimed > 0, "claims raced the drains");
    let mut out_of_order = Vec::new();
    for earlier in &routed {
        for later in &routed {
            let waited_longer =
                time(earlier.waiting_since.as_ref()) < time(later.waiting_since.as_ref());
            let served_after =
                micros(earlier.assigned_at.as_ref()) > micros(later.assigned_at.as_ref());
            let was_queued = micros(earlier.queued_at.as_ref()) + SNAPSHOT_MICROS
                < micros(later.assigned_at.as_ref());
            if waited_longer && served_after && was_queued {
                out_of_order.push((
                    earlier.conversation_id.clone(),
                    later.conversation_id.clone(),
                ));
            }
        }
    }
    assert!(
        out_of_order.is_empty(),
        "conversations served before others that waited longer: {out_of_order:?}"
    );
}
