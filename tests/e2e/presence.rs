//! Presence leases: an agent is present while one of its sockets is; when the last one is gone
//! for the grace period, its conversations go to another agent and the visitor is told.

use crate::chat::{ADMIN_EMAIL, ADMIN_PASSWORD, Distributed, message};
use crate::ws_client::WsClient;
use crate::{me, token};
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_platform::testing::wait_until;

/// Grace period of these tests, in seconds.
const GRACE_SECS: u64 = 2;

async fn start() -> Distributed {
    // A closed socket ends its lease at once; the lease TTL (three heartbeats) only matters
    // when a whole gateway dies, so the default heartbeat is kept: test clients that are not
    // reading at the moment must not be dropped for missed heartbeats.
    Distributed::start_with(
        1,
        &[("SWITCHBOARD_PRESENCE_GRACE_SECS", GRACE_SECS.to_string())],
    )
    .await
}

async fn agent_status(http: &reqwest::Client, base: &str, admin: &str, agent_id: &str) -> String {
    let agents: Value = http
        .get(format!("{base}/v1/admin/agents"))
        .bearer_auth(admin)
        .send()
        .await
        .expect("agents")
        .json()
        .await
        .expect("json");
    agents["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|agent| agent["id"] == agent_id)
        .map(|agent| agent["status"].as_str().unwrap_or_default().to_owned())
        .expect("agent listed")
}

async fn online(agent: &mut WsClient) {
    agent
        .send(json!({ "type": "status", "status": "online" }))
        .await;
    loop {
        if agent.expect("status").await["status"] == "online" {
            return;
        }
    }
}

#[tokio::test]
async fn a_vanished_agents_conversations_go_to_another_agent_after_the_grace_period() {
    let system = start().await;
    let base = system.base(0);
    let http = reqwest::Client::new();
    let admin = token(&http, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let whoami: Value = me(&http, &base, &admin).await.json().await.expect("json");
    let site_key = whoami["workspace"]["site_key"].as_str().expect("site key");
    let first_id = whoami["agent"]["id"].as_str().expect("id").to_owned();
    let created = http
        .post(format!("{base}/v1/admin/agents"))
        .bearer_auth(&admin)
        .json(&json!({
            "name": "Bea", "email": "bea@acme.example", "password": "bea-password", "max_concurrent": 3
        }))
        .send()
        .await
        .expect("create agent");
    assert_eq!(created.status(), 201);
    let second_token = token(&http, &base, "bea@acme.example", "bea-password").await;

    // Only the first agent is online when the visitor writes.
    let (mut first, _) = WsClient::agent(&base, &admin).await;
    online(&mut first).await;
    let (mut visitor, _) = WsClient::visitor(&base, site_key, None).await;
    visitor
        .send(message("v1", "Where is my parcel?", None))
        .await;
    let conversation_id = visitor.expect("ack").await["conversation_id"]
        .as_str()
        .expect("conversation")
        .to_owned();
    let assigned = first.expect("assigned").await;
    assert_eq!(assigned["conversation"]["id"], conversation_id.as_str());
    first
        .send(message("a1", "Let me check.", Some(&conversation_id)))
        .await;
    first.expect("ack").await;
    let (mut second, _) = WsClient::agent(&base, &second_token).await;
    online(&mut second).await;

    // The first agent's only socket dies without a goodbye.
    drop(first);

    // After the grace period: the visitor is told, and the conversation goes to Bea with its
    // whole history.
    let notice = loop {
        let frame = visitor.expect("message").await;
        if frame["sender"]["kind"] == "system" {
            break frame;
        }
    };
    assert!(
        notice["text"]
            .as_str()
            .is_some_and(|text| text.contains("no longer available")),
        "{notice}"
    );
    // The visitor's states: queued (opened), assigned (first agent), queued (requeued),
    // assigned (Bea).
    let mut states = Vec::new();
    while states.len() < 4 {
        let frame = visitor.expect("conversation").await;
        states.push((
            frame["status"].as_str().unwrap_or_default().to_owned(),
            frame["agent"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ));
    }
    assert_eq!(
        states,
        [
            ("queued".to_owned(), String::new()),
            ("assigned".to_owned(), "Administrator".to_owned()),
            ("queued".to_owned(), String::new()),
            ("assigned".to_owned(), "Bea".to_owned()),
        ]
    );
    let reassigned = second.expect("assigned").await;
    assert_eq!(reassigned["conversation"]["id"], conversation_id.as_str());
    let history = second.messages_until(&conversation_id, 3).await;
    let texts: Vec<&str> = history
        .iter()
        .filter_map(|frame| frame["text"].as_str())
        .collect();
    assert_eq!(texts[..2], ["Where is my parcel?", "Let me check."]);
    assert_eq!(history[2]["sender"]["kind"], "system");
    second
        .send(message(
            "b1",
            "Hi, Bea here, I have your order.",
            Some(&conversation_id),
        ))
        .await;
    second.expect("ack").await;
    let reply = loop {
        let frame = visitor.expect("message").await;
        if frame["client_msg_id"] == "b1" {
            break frame;
        }
    };
    assert_eq!(
        reply["seq"], 4,
        "gapless: visitor, agent, notice, new agent"
    );
    assert_eq!(
        agent_status(&http, &base, &admin, &first_id).await,
        "offline"
    );
}

#[tokio::test]
async fn one_status_across_tabs_and_a_closed_tab_does_not_end_presence() {
    let system = start().await;
    let base = system.base(0);
    let http = reqwest::Client::new();
    let admin = token(&http, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let whoami: Value = me(&http, &base, &admin).await.json().await.expect("json");
    let agent_id = whoami["agent"]["id"].as_str().expect("id").to_owned();

    let (mut tab1, _) = WsClient::agent(&base, &admin).await;
    let (mut tab2, _) = WsClient::agent(&base, &admin).await;
    online(&mut tab1).await;
    loop {
        if tab2.expect("status").await["status"] == "online" {
            break;
        }
    }
    tab2.send(json!({ "type": "status", "status": "away" }))
        .await;
    loop {
        if tab1.expect("status").await["status"] == "away" {
            break;
        }
    }
    online(&mut tab2).await;

    drop(tab1);
    // Absence check: give the grace period and a few sweeps their chance to (wrongly) fire.
    tokio::time::sleep(Duration::from_secs(GRACE_SECS + 3)).await;
    assert_eq!(
        agent_status(&http, &base, &admin, &agent_id).await,
        "online"
    );

    drop(tab2);
    wait_until(
        Duration::from_secs(20),
        "the agent to go offline after its last tab closed",
        || async { agent_status(&http, &base, &admin, &agent_id).await == "offline" },
    )
    .await;
}

#[tokio::test]
async fn disabling_an_agent_closes_its_sockets_and_hands_its_conversations_on() {
    let system = start().await;
    let base = system.base(0);
    let http = reqwest::Client::new();
    let admin = token(&http, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let whoami: Value = me(&http, &base, &admin).await.json().await.expect("json");
    let site_key = whoami["workspace"]["site_key"].as_str().expect("site key");
    let admin_id = whoami["agent"]["id"].as_str().expect("id").to_owned();
    let created: Value = http
        .post(format!("{base}/v1/admin/agents"))
        .bearer_auth(&admin)
        .json(&json!({ "name": "Bea", "email": "bea@acme.example", "password": "bea-password" }))
        .send()
        .await
        .expect("create agent")
        .json()
        .await
        .expect("json");
    let bea_id = created["agent"]["id"].as_str().expect("id").to_owned();
    let bea_token = token(&http, &base, "bea@acme.example", "bea-password").await;
    let (mut bea, _) = WsClient::agent(&base, &bea_token).await;
    online(&mut bea).await;
    let (mut visitor, _) = WsClient::visitor(&base, site_key, None).await;
    visitor.send(message("v1", "Hello", None)).await;
    let conversation_id = visitor.expect("ack").await["conversation_id"]
        .as_str()
        .expect("conversation")
        .to_owned();
    bea.expect("assigned").await;
    let (mut other, _) = WsClient::agent(&base, &admin).await;
    online(&mut other).await;

    let refused = http
        .patch(format!("{base}/v1/admin/agents/{admin_id}"))
        .bearer_auth(&admin)
        .json(&json!({ "disabled": true }))
        .send()
        .await
        .expect("patch");
    assert_eq!(refused.status(), 409, "an admin cannot disable itself");
    let disabled = http
        .patch(format!("{base}/v1/admin/agents/{bea_id}"))
        .bearer_auth(&admin)
        .json(&json!({ "disabled": true }))
        .send()
        .await
        .expect("patch");
    assert_eq!(disabled.status(), 200);

    let error = bea.expect("error").await;
    assert_eq!(error["code"], "invalid_token");
    assert_eq!(bea.close_code(Duration::from_secs(20)).await, Some(1008));
    let reassigned = other.expect("assigned").await;
    assert_eq!(reassigned["conversation"]["id"], conversation_id.as_str());
    while visitor.expect("conversation").await["agent"]["name"] != "Administrator" {}
}
