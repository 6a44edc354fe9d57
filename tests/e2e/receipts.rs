//! Read receipts: each side learns how far the other has read, live and after a resume.

use crate::chat::{ADMIN_EMAIL, ADMIN_PASSWORD, AllInOne, message};
use crate::ws_client::WsClient;
use crate::{me, token};
use serde_json::{Value, json};

#[tokio::test]
async fn read_receipts_reach_the_other_side_and_survive_a_resume() {
    let data = tempfile::tempdir().expect("tempdir");
    let system = AllInOne::start(data.path(), &[]).await;
    let base = system.base.clone();
    let http = reqwest::Client::new();
    let token = token(&http, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let whoami: Value = me(&http, &base, &token).await.json().await.expect("json");
    let site_key = whoami["workspace"]["site_key"].as_str().expect("site key");
    let (mut agent, _) = WsClient::agent(&base, &token).await;
    agent
        .send(json!({ "type": "status", "status": "online" }))
        .await;
    agent.expect("status").await;
    let (mut visitor, welcome) = WsClient::visitor(&base, site_key, None).await;
    let visitor_token = welcome["visitor_token"].as_str().expect("token").to_owned();
    visitor.send(message("v1", "Is anyone there?", None)).await;
    let id = visitor.expect("ack").await["conversation_id"]
        .as_str()
        .expect("id")
        .to_owned();
    agent.expect("assigned").await;
    agent.expect("message").await;

    agent
        .send(json!({ "type": "read", "conversation_id": id, "seq": 1 }))
        .await;
    let receipt = visitor.expect("read").await;
    assert_eq!(receipt["seq"], 1);
    assert_eq!(receipt["reader"]["kind"], "agent");
    assert_eq!(receipt["reader"]["name"], "Administrator");

    // Bad reads are refused and change nothing; re-reading is not news.
    for (frame, code) in [
        (
            json!({ "type": "read", "conversation_id": id, "seq": 2 }),
            "invalid_frame",
        ),
        (
            json!({ "type": "read", "conversation_id": "nope", "seq": 1 }),
            "conversation_not_found",
        ),
        (
            json!({ "type": "read", "conversation_id": id, "seq": -1 }),
            "invalid_frame",
        ),
    ] {
        agent.send(frame.clone()).await;
        assert_eq!(agent.expect("error").await["code"], code, "{frame}");
    }
    agent
        .send(json!({ "type": "read", "conversation_id": id, "seq": 0 }))
        .await;
    let (mut stranger, _) = WsClient::visitor(&base, site_key, None).await;
    stranger
        .send(json!({ "type": "read", "conversation_id": id, "seq": 1 }))
        .await;
    assert_eq!(
        stranger.expect("error").await["code"],
        "conversation_not_found"
    );
    visitor.send(json!({ "type": "ping" })).await;
    visitor.expect("pong").await;
    assert!(
        visitor.unread().iter().all(|frame| frame["type"] != "read"),
        "no receipt for a read that did not move: {:?}",
        visitor.unread()
    );

    agent
        .send(message("a1", "Yes, how can I help?", Some(&id)))
        .await;
    agent.expect("ack").await;
    visitor.messages_until(&id, 2).await;
    visitor
        .send(json!({ "type": "read", "conversation_id": id, "seq": 2 }))
        .await;
    // The agent's own mark may be replayed to it first (its follow of the assigned
    // conversation sends every participant's mark): skip it.
    let receipt = loop {
        let read = agent.expect("read").await;
        if read["reader"]["kind"] != "agent" {
            break read;
        }
    };
    assert_eq!(
        (receipt["seq"].as_u64(), receipt["reader"]["kind"].as_str()),
        (Some(2), Some("visitor"))
    );

    // A reconnecting visitor learns the agent's mark after the replay.
    drop(visitor);
    let (mut back, _) = WsClient::visitor(&base, site_key, Some(&visitor_token)).await;
    back.send(json!({ "type": "resume", "conversation_id": id, "after_seq": 0 }))
        .await;
    back.messages_until(&id, 2).await;
    let mut marks = Vec::new();
    while marks.len() < 2 {
        let frame = back.expect("read").await;
        marks.push((
            frame["reader"]["kind"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            frame["seq"].as_u64().unwrap_or_default(),
        ));
    }
    marks.sort();
    assert_eq!(marks, [("agent".to_owned(), 1), ("visitor".to_owned(), 2)]);
}
