//! The waiting queue over the WebSocket: visitors learn their place and see it move, agents
//! claim conversations themselves and get stable errors when they cannot.

use crate::chat::{ADMIN_EMAIL, ADMIN_PASSWORD, Distributed, message};
use crate::ws_client::WsClient;
use crate::{me, token};
use serde_json::{Value, json};

/// A visitor who wrote once; returns its socket and conversation id.
async fn waiting_visitor(base: &str, site_key: &str, text: &str) -> (WsClient, String) {
    let (mut visitor, _) = WsClient::visitor(base, site_key, None).await;
    visitor.send(message("first", text, None)).await;
    let ack = visitor.expect("ack").await;
    let conversation_id = ack["conversation_id"]
        .as_str()
        .expect("conversation")
        .to_owned();
    (visitor, conversation_id)
}

/// Waits until the visitor is told it is at `expected` (asking again with `resume`, which is
/// answered with the current place) and returns that `queue` frame. Earlier frames (live
/// updates, answers to earlier asks) may still be in flight, hence the loop.
async fn place(visitor: &mut WsClient, conversation_id: &str, expected: u64) -> Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut seen = Vec::new();
    while tokio::time::Instant::now() < deadline {
        visitor
            .send(json!({ "type": "resume", "conversation_id": conversation_id, "after_seq": 1 }))
            .await;
        let frame = visitor.expect("queue").await;
        assert_eq!(frame["conversation_id"], conversation_id);
        if frame["position"].as_u64() == Some(expected) {
            return frame;
        }
        seen.push(frame["position"].clone());
    }
    panic!("never told position {expected}; saw {seen:?}");
}

#[tokio::test]
async fn visitors_see_their_place_and_agents_claim_from_the_queue() {
    let system = Distributed::start(1).await;
    let base = system.base(0);
    let http = reqwest::Client::new();
    let token = token(&http, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let whoami: Value = me(&http, &base, &token).await.json().await.expect("json");
    let site_key = whoami["workspace"]["site_key"].as_str().expect("site key");
    let agent_id = whoami["agent"]["id"].as_str().expect("agent id").to_owned();

    // Away: routing gives this agent nothing, but it may claim.
    let (mut agent, _) = WsClient::agent(&base, &token).await;
    agent
        .send(json!({ "type": "status", "status": "away" }))
        .await;
    assert_eq!(agent.expect("status").await["status"], "away");

    let (mut first, first_id) = waiting_visitor(&base, site_key, "first in line").await;
    let (mut second, second_id) = waiting_visitor(&base, site_key, "second").await;
    let (mut third, third_id) = waiting_visitor(&base, site_key, "third").await;
    place(&mut first, &first_id, 1).await;
    place(&mut second, &second_id, 2).await;
    let before = place(&mut third, &third_id, 3).await;
    assert!(
        before["expected_wait_secs"].is_null(),
        "no estimate without finished chats or anyone online"
    );

    // The agent picks the second: the third moves up, live.
    agent
        .send(json!({ "type": "claim", "conversation_id": second_id }))
        .await;
    let assigned = agent.expect("assigned").await;
    assert_eq!(assigned["conversation"]["id"], second_id.as_str());
    assert_eq!(assigned["conversation"]["agent_id"], agent_id.as_str());
    let delivered = agent.expect("message").await;
    assert_eq!(delivered["text"], "second");
    let moved = loop {
        let frame = third.expect("queue").await;
        if frame["position"] != 3 {
            break frame;
        }
    };
    assert_eq!(moved["position"], 2);
    // The visitor saw `conversation` queued when it wrote; now assigned.
    let state = loop {
        let frame = second.expect("conversation").await;
        if frame["status"] != "queued" {
            break frame;
        }
    };
    assert_eq!(state["status"], "assigned");
    assert_eq!(state["agent"]["name"], "Administrator");
    agent
        .send(message("reply", "Hello from the agent", Some(&second_id)))
        .await;
    agent.expect("ack").await;
    let replies = second.messages_until(&second_id, 2).await;
    assert_eq!(
        replies.last().expect("reply")["text"],
        "Hello from the agent"
    );

    // Refusals, each with its stable code; none changes anything.
    agent
        .send(json!({ "type": "claim", "conversation_id": second_id }))
        .await;
    assert_eq!(agent.expect("error").await["code"], "already_assigned");
    agent
        .send(json!({ "type": "claim", "conversation_id": uuid::Uuid::now_v7().to_string() }))
        .await;
    assert_eq!(
        agent.expect("error").await["code"],
        "conversation_not_found"
    );
    agent
        .send(json!({ "type": "claim", "conversation_id": "not-a-uuid" }))
        .await;
    assert_eq!(
        agent.expect("error").await["code"],
        "conversation_not_found"
    );
    first
        .send(json!({ "type": "claim", "conversation_id": first_id }))
        .await;
    assert_eq!(first.expect("error").await["code"], "invalid_frame");

    let capped = http
        .patch(format!("{base}/v1/admin/agents/{agent_id}"))
        .bearer_auth(&token)
        .json(&json!({ "max_concurrent": 1 }))
        .send()
        .await
        .expect("patch");
    assert_eq!(capped.status(), 200);
    agent
        .send(json!({ "type": "claim", "conversation_id": first_id }))
        .await;
    assert_eq!(agent.expect("error").await["code"], "at_capacity");
    agent
        .send(json!({ "type": "status", "status": "offline" }))
        .await;
    agent.expect("status").await;
    agent
        .send(json!({ "type": "claim", "conversation_id": first_id }))
        .await;
    assert_eq!(agent.expect("error").await["code"], "not_available");

    // Going offline gave the claimed conversation back: it is first in line again (it has
    // waited longest), its visitor was told, and the others moved one place down.
    let notice = loop {
        let frame = second.expect("message").await;
        if frame["sender"]["kind"] == "system" {
            break frame;
        }
    };
    assert!(notice["text"].as_str().is_some_and(|text| !text.is_empty()));
    place(&mut second, &second_id, 1).await;
    place(&mut first, &first_id, 2).await;
    place(&mut third, &third_id, 3).await;
    let queue: Value = http
        .get(format!("{base}/v1/queue"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("queue")
        .json()
        .await
        .expect("json");
    let waiting: Vec<&str> = queue["entries"]
        .as_array()
        .expect("queue entries")
        .iter()
        .filter_map(|entry| entry["conversation_id"].as_str())
        .collect();
    assert_eq!(
        waiting,
        [second_id.as_str(), first_id.as_str(), third_id.as_str()]
    );
}
