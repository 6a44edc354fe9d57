//! Agents taking conversations from the queue themselves.

use super::*;

/// A workspace whose conversations wait: its agents are away (routing skips them; they can
/// still claim).
async fn away_agents(system: &System, capacities: &[u32]) -> (String, Vec<String>) {
    let workspace_id = system.workspace().await;
    let mut agents = Vec::new();
    for capacity in capacities {
        let agent = system.agent(&workspace_id, *capacity, &[], &[]).await;
        system
            .set_status(&workspace_id, &agent, AgentStatus::Away)
            .await;
        agents.push(agent);
    }
    (workspace_id, agents)
}

async fn claim(
    system: &System,
    routing: usize,
    workspace_id: &str,
    conversation_id: &str,
    agent_id: &str,
) -> Result<pb::Assignment, tonic::Status> {
    system.routings[routing]
        .clone()
        .claim_conversation(pb::ClaimConversationRequest {
            workspace_id: workspace_id.to_owned(),
            conversation_id: conversation_id.to_owned(),
            agent_id: agent_id.to_owned(),
        })
        .await
        .map(|response| response.into_inner().assignment.expect("assignment"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_assign_a_conversation_exactly_once() {
    let system = spawn_with(Backend::Distributed, 2).await;
    let (workspace_id, agents) = away_agents(&system, &[3, 3]).await;
    let id = system.open(&workspace_id, None, None).await;
    system.wait_queued(&workspace_id, &id).await;
    let attempts = (0..10).map(|n| claim(&system, n % 2, &workspace_id, &id, &agents[n % 2]));
    let results = futures_util::future::join_all(attempts).await;
    let winners: Vec<&pb::Assignment> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "exactly one claim wins: {results:?}");
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
        assert_eq!(refused.message(), "conversation already assigned");
    }
    let winner = &winners[0].agent_id;
    assert_eq!(winners[0].origin, "claimed");
    let conversation = system.conversation(&workspace_id, &id).await;
    assert_eq!(conversation.status, ConversationStatus::Assigned as i32);
    assert_eq!(conversation.assigned_agent_id.as_ref(), Some(winner));
    let held = system.open_assignments(&workspace_id).await;
    assert_eq!(held.len(), 1);
    assert_eq!(&held[0].agent_id, winner);
    assert!(system.queue(&workspace_id).await.is_empty());
}

#[tokio::test]
async fn refused_claims_have_stable_errors_and_change_nothing() {
    let system = spawn(Backend::Distributed).await;
    let (workspace_id, agents) = away_agents(&system, &[1, 3]).await;
    let first = system.open(&workspace_id, None, None).await;
    let second = system.open(&workspace_id, None, None).await;
    system.wait_queued(&workspace_id, &first).await;
    system.wait_queued(&workspace_id, &second).await;

    claim(&system, 0, &workspace_id, &first, &agents[0])
        .await
        .expect("first claim");
    let full = claim(&system, 0, &workspace_id, &second, &agents[0])
        .await
        .expect_err("at capacity");
    assert_eq!(full.code(), tonic::Code::ResourceExhausted);
    assert_eq!(full.message(), "agent at capacity");

    let offline = system.agent(&workspace_id, 3, &[], &[]).await;
    let refused = claim(&system, 0, &workspace_id, &second, &offline)
        .await
        .expect_err("offline");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert_eq!(refused.message(), "agent is offline or disabled");

    let other_workspace = system.workspace().await;
    let stranger = system.agent(&other_workspace, 3, &[], &[]).await;
    let refused = claim(&system, 0, &workspace_id, &second, &stranger)
        .await
        .expect_err("agent of another workspace");
    assert_eq!(refused.code(), tonic::Code::NotFound);
    let refused = claim(&system, 0, &other_workspace, &second, &stranger)
        .await
        .expect_err("conversation of another workspace");
    assert_eq!(refused.code(), tonic::Code::NotFound);
    let refused = claim(&system, 0, &workspace_id, "not-a-uuid", &agents[1])
        .await
        .expect_err("malformed id");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);

    let department = system
        .department(
            &workspace_id,
            agent_pb::RoutingStrategy::LeastLoaded,
            0,
            &[],
        )
        .await;
    let in_department = system.open(&workspace_id, None, Some(&department)).await;
    system.wait_queued(&workspace_id, &in_department).await;
    let refused = claim(&system, 0, &workspace_id, &in_department, &agents[1])
        .await
        .expect_err("not in the department");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);

    system.close(&workspace_id, &second).await;
    system.wait_released(&workspace_id, &second).await;
    wait_until(
        Duration::from_secs(20),
        "the closed conversation to leave the queue",
        || async {
            system
                .queue(&workspace_id)
                .await
                .iter()
                .all(|entry| entry.conversation_id != second)
        },
    )
    .await;
    let refused = claim(&system, 0, &workspace_id, &second, &agents[1])
        .await
        .expect_err("closed");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert_eq!(refused.message(), "conversation closed");

    // Nothing changed: one open assignment (the first claim), the department's conversation
    // still waits.
    let held = system.open_assignments(&workspace_id).await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].conversation_id, first);
    let queue = system.queue(&workspace_id).await;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].conversation_id, in_department);
}

/// One trace follows a claim from routing into agent-management and conversation-history
/// (gRPC carries the W3C trace context) and on to the consumer of the event history published
/// (the outbox keeps the context, the bus carries it); spans are captured in memory.
async fn one_trace_covers_a_claim(backend: Backend) {
    let spans = switchboard_platform::testing::spans();
    let system = spawn(backend).await;
    let (workspace_id, agents) = away_agents(&system, &[3]).await;
    let id = system.open(&workspace_id, None, None).await;
    system.wait_queued(&workspace_id, &id).await;
    claim(&system, 0, &workspace_id, &id, &agents[0])
        .await
        .expect("claim");
    let named = |name: &str| {
        spans
            .get_finished_spans()
            .expect("spans")
            .into_iter()
            .filter(|span| span.name == name)
            .collect::<Vec<_>>()
    };
    // Server spans end when their response is flushed, possibly after the caller moved on:
    // wait until the claim's span and both downstream spans have been exported.
    let downstream = [
        "switchboard.agent.v1.AgentManagementService/GetAgent",
        "switchboard.history.v1.ConversationHistoryService/AssignConversation",
        "nats.consume",
    ];
    wait_until(
        Duration::from_secs(20),
        "the claim's trace to reach agent-management, history and the event consumer",
        || async {
            // Other tests of this process claim too (some refused, without AssignConversation):
            // some successful claim's trace must hold both downstream calls.
            named("switchboard.routing.v1.RoutingService/ClaimConversation")
                .iter()
                .map(|span| span.span_context.trace_id())
                .any(|claim| {
                    downstream.iter().all(|name| {
                        named(name)
                            .iter()
                            .any(|span| span.span_context.trace_id() == claim)
                    })
                })
        },
    )
    .await;
}

#[tokio::test]
async fn one_trace_covers_a_claim_across_services_and_the_event_bus_embedded() {
    one_trace_covers_a_claim(Backend::Embedded).await;
}

#[tokio::test]
async fn one_trace_covers_a_claim_across_services_and_nats_on_postgres() {
    one_trace_covers_a_claim(Backend::Distributed).await;
}

#[tokio::test]
async fn transfers_to_another_workspace_or_a_disabled_agent_are_refused_and_change_nothing() {
    let system = spawn(Backend::Distributed).await;
    let (workspace_id, agents) = away_agents(&system, &[3, 3]).await;
    let id = system.open(&workspace_id, None, None).await;
    system.wait_queued(&workspace_id, &id).await;
    claim(&system, 0, &workspace_id, &id, &agents[0])
        .await
        .expect("claim");
    let other_workspace = system.workspace().await;
    let foreign_department = system
        .department(
            &other_workspace,
            agent_pb::RoutingStrategy::LeastLoaded,
            0,
            &[],
        )
        .await;
    let foreign_agent = system.agent(&other_workspace, 3, &[], &[]).await;
    system
        .agents
        .clone()
        .update_agent(agent_pb::UpdateAgentRequest {
            workspace_id: workspace_id.clone(),
            agent_id: agents[1].clone(),
            disabled: Some(true),
            ..Default::default()
        })
        .await
        .expect("disable");
    let transfer = |to_agent: Option<&str>, to_department: Option<&str>| {
        let mut routing = system.routing.clone();
        let request = pb::TransferConversationRequest {
            workspace_id: workspace_id.clone(),
            conversation_id: id.clone(),
            from_agent_id: agents[0].clone(),
            from_agent_name: "Sam".into(),
            to_agent_id: to_agent.map(str::to_owned),
            to_department_id: to_department.map(str::to_owned),
            note: Some("should not be stored".into()),
        };
        async move { routing.transfer_conversation(request).await }
    };
    for (to_agent, to_department, code) in [
        (
            None,
            Some(foreign_department.as_str()),
            tonic::Code::NotFound,
        ),
        (Some(foreign_agent.as_str()), None, tonic::Code::NotFound),
        (
            Some(agents[1].as_str()),
            None,
            tonic::Code::FailedPrecondition,
        ),
    ] {
        let refused = transfer(to_agent, to_department)
            .await
            .expect_err("refused");
        assert_eq!(refused.code(), code, "{to_agent:?} {to_department:?}");
    }
    let conversation = system.conversation(&workspace_id, &id).await;
    assert_eq!(conversation.assigned_agent_id.as_ref(), Some(&agents[0]));
    assert_eq!(conversation.department_id, None);
    let held = system.open_assignments(&workspace_id).await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].agent_id, agents[0]);
    let notes = system
        .history
        .clone()
        .list_notes(history_pb::ListNotesRequest {
            workspace_id: workspace_id.clone(),
            conversation_id: id.clone(),
        })
        .await
        .expect("notes")
        .into_inner()
        .notes;
    assert!(notes.is_empty(), "a refused transfer leaves no note");
}
