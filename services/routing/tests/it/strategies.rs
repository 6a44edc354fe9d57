//! Each department strategy end to end on PostgreSQL + NATS. Every scenario is built so that
//! the other strategies would choose a different agent.

use super::*;
use agent_pb::RoutingStrategy;

/// `count` agents of capacity 10 in `department_id`; their ids sort in creation order.
async fn agents(
    system: &System,
    workspace_id: &str,
    department_id: &str,
    count: usize,
) -> Vec<String> {
    let mut agents = Vec::new();
    for _ in 0..count {
        agents.push(system.agent(workspace_id, 10, &[department_id], &[]).await);
    }
    let mut sorted = agents.clone();
    sorted.sort();
    assert_eq!(agents, sorted, "UUIDv7 ids sort in creation order");
    agents
}

async fn online(system: &System, workspace_id: &str, agent_id: &str) {
    system
        .set_status(workspace_id, agent_id, AgentStatus::Online)
        .await;
}

async fn route(system: &System, workspace_id: &str, department_id: &str) -> (String, String) {
    let id = system.open(workspace_id, None, Some(department_id)).await;
    let agent = system.wait_assigned(workspace_id, &id).await;
    (id, agent)
}

#[tokio::test]
async fn round_robin_takes_turns_even_when_a_less_loaded_agent_is_online() {
    let system = spawn(Backend::Distributed).await;
    let workspace_id = system.workspace().await;
    let department_id = system
        .department(&workspace_id, RoutingStrategy::RoundRobin, 0, &[])
        .await;
    let [a, b, c] =
        <[String; 3]>::try_from(agents(&system, &workspace_id, &department_id, 3).await)
            .expect("three agents");
    online(&system, &workspace_id, &a).await;
    online(&system, &workspace_id, &b).await;
    assert_eq!(route(&system, &workspace_id, &department_id).await.1, a);
    assert_eq!(route(&system, &workspace_id, &department_id).await.1, b);
    assert_eq!(route(&system, &workspace_id, &department_id).await.1, a);
    // C arrives idle and empty: least-loaded and longest-idle would pick C; the turn is B's.
    online(&system, &workspace_id, &c).await;
    assert_eq!(route(&system, &workspace_id, &department_id).await.1, b);
    assert_eq!(route(&system, &workspace_id, &department_id).await.1, c);
    assert_eq!(route(&system, &workspace_id, &department_id).await.1, a);
}

#[tokio::test]
async fn longest_idle_picks_the_agent_inactive_the_longest() {
    let system = spawn(Backend::Distributed).await;
    let workspace_id = system.workspace().await;
    let department_id = system
        .department(&workspace_id, RoutingStrategy::LongestIdle, 0, &[])
        .await;
    let agents = agents(&system, &workspace_id, &department_id, 3).await;
    for agent in &agents {
        online(&system, &workspace_id, agent).await;
    }
    let (first, to_a) = route(&system, &workspace_id, &department_id).await;
    let (_, to_b) = route(&system, &workspace_id, &department_id).await;
    let (_, to_c) = route(&system, &workspace_id, &department_id).await;
    assert_eq!([&to_a, &to_b, &to_c], [&agents[0], &agents[1], &agents[2]]);
    // A finishes a chat: A has the fewest (least-loaded picks A) and comes next in turn
    // (round-robin picks A), but B has been idle the longest.
    system.close(&workspace_id, &first).await;
    system.wait_released(&workspace_id, &first).await;
    assert_eq!(
        route(&system, &workspace_id, &department_id).await.1,
        agents[1]
    );
}

#[tokio::test]
async fn a_returning_visitor_goes_back_to_its_agent_within_the_sticky_window() {
    let system = spawn(Backend::Distributed).await;
    let workspace_id = system.workspace().await;
    let department_id = system
        .department(&workspace_id, RoutingStrategy::LeastLoaded, 3600, &[])
        .await;
    let [a, b] = <[String; 2]>::try_from(agents(&system, &workspace_id, &department_id, 2).await)
        .expect("two agents");
    online(&system, &workspace_id, &a).await;
    let visitor = system.visitor(&workspace_id).await;
    let first = system
        .open(&workspace_id, Some(&visitor), Some(&department_id))
        .await;
    assert_eq!(system.wait_assigned(&workspace_id, &first).await, a);
    system.close(&workspace_id, &first).await;
    system.wait_released(&workspace_id, &first).await;
    // A gets busy with two others; then B comes online, empty and never used.
    route(&system, &workspace_id, &department_id).await;
    route(&system, &workspace_id, &department_id).await;
    online(&system, &workspace_id, &b).await;
    let back = system
        .open(&workspace_id, Some(&visitor), Some(&department_id))
        .await;
    assert_eq!(
        system.wait_assigned(&workspace_id, &back).await,
        a,
        "the returning visitor goes to its last agent"
    );
    // Someone new goes to the least-loaded agent.
    assert_eq!(route(&system, &workspace_id, &department_id).await.1, b);
}

#[tokio::test]
async fn required_skills_narrow_the_candidates() {
    let system = spawn(Backend::Distributed).await;
    let workspace_id = system.workspace().await;
    let department_id = system
        .department(&workspace_id, RoutingStrategy::LeastLoaded, 0, &["lang:zh"])
        .await;
    // A sorts first, is idle and empty: every strategy would pick A without skills.
    let a = system
        .agent(&workspace_id, 10, &[&department_id], &["billing"])
        .await;
    let b = system
        .agent(
            &workspace_id,
            10,
            &[&department_id],
            &["lang:zh", "billing"],
        )
        .await;
    online(&system, &workspace_id, &a).await;
    online(&system, &workspace_id, &b).await;
    assert_eq!(route(&system, &workspace_id, &department_id).await.1, b);
    assert_eq!(route(&system, &workspace_id, &department_id).await.1, b);
    // Without the skill nobody else qualifies: it waits rather than going to A.
    system
        .agents
        .clone()
        .update_agent(agent_pb::UpdateAgentRequest {
            workspace_id: workspace_id.clone(),
            agent_id: b.clone(),
            max_concurrent: Some(2),
            ..Default::default()
        })
        .await
        .expect("lower capacity");
    let waiting = system.open(&workspace_id, None, Some(&department_id)).await;
    system.wait_queued(&workspace_id, &waiting).await;
    let drained = system
        .routing
        .clone()
        .drain_queue(pb::DrainQueueRequest {
            workspace_id: workspace_id.clone(),
        })
        .await
        .expect("drain")
        .into_inner();
    assert_eq!(drained.still_queued, 1, "A lacks the skill, B is full");
}

#[tokio::test]
async fn an_offline_agents_conversations_go_to_the_departments_fallback() {
    let system = spawn(Backend::Distributed).await;
    let workspace_id = system.workspace().await;
    let night = system
        .department(&workspace_id, RoutingStrategy::LeastLoaded, 0, &[])
        .await;
    let day = system
        .agents
        .clone()
        .create_department(agent_pb::CreateDepartmentRequest {
            workspace_id: workspace_id.clone(),
            name: "Day".into(),
            fallback_department_id: Some(night.clone()),
            ..Default::default()
        })
        .await
        .expect("department with a fallback")
        .into_inner()
        .department
        .expect("department");
    assert_eq!(day.fallback_department_id.as_deref(), Some(night.as_str()));
    let refused = system
        .agents
        .clone()
        .update_department(agent_pb::UpdateDepartmentRequest {
            workspace_id: workspace_id.clone(),
            department_id: day.id.clone(),
            fallback_department_id: Some(day.id.clone()),
            ..Default::default()
        })
        .await
        .expect_err("its own fallback");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);

    let day_agent = system.agent(&workspace_id, 3, &[&day.id], &[]).await;
    let night_agent = system.agent(&workspace_id, 3, &[&night], &[]).await;
    online(&system, &workspace_id, &day_agent).await;
    let id = system.open(&workspace_id, None, Some(&day.id)).await;
    assert_eq!(system.wait_assigned(&workspace_id, &id).await, day_agent);
    online(&system, &workspace_id, &night_agent).await;
    system
        .set_status(&workspace_id, &day_agent, AgentStatus::Offline)
        .await;
    wait_until(
        Duration::from_secs(20),
        "the conversation to reach the fallback department's agent",
        || async {
            system
                .conversation(&workspace_id, &id)
                .await
                .assigned_agent_id
                .as_deref()
                == Some(night_agent.as_str())
        },
    )
    .await;
    let conversation = system.conversation(&workspace_id, &id).await;
    assert_eq!(conversation.department_id.as_deref(), Some(night.as_str()));
}
