//! Customer satisfaction: an agent closes with a rating request, the visitor rates once.

use crate::chat::{ADMIN_EMAIL, ADMIN_PASSWORD, AllInOne, message};
use crate::ws_client::WsClient;
use crate::{me, token};
use serde_json::{Value, json};

#[tokio::test]
async fn a_visitor_rates_a_conversation_once_when_the_agent_asks() {
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

    let open = |text: &'static str| {
        let base = base.clone();
        let site_key = site_key.to_owned();
        async move {
            let (mut visitor, _) = WsClient::visitor(&base, &site_key, None).await;
            visitor.send(message("v1", text, None)).await;
            let id = visitor.expect("ack").await["conversation_id"]
                .as_str()
                .expect("id")
                .to_owned();
            (visitor, id)
        }
    };
    let (mut visitor, rated_id) = open("Thanks for the help").await;
    agent.expect("assigned").await;
    let rate = |score: Value| json!({ "type": "rate", "conversation_id": rated_id, "score": score, "comment": "Quick and kind" });

    visitor.send(rate(json!(5))).await;
    assert_eq!(
        visitor.expect("error").await["code"],
        "rating_not_requested",
        "still open"
    );
    agent
        .send(json!({ "type": "close", "conversation_id": rated_id, "request_rating": true }))
        .await;
    let closed = loop {
        let frame = visitor.expect("conversation").await;
        if frame["status"] == "closed" {
            break frame;
        }
    };
    assert_eq!(closed["rating_requested"], true);
    for bad in [json!(0), json!(6)] {
        visitor.send(rate(bad)).await;
        assert_eq!(visitor.expect("error").await["code"], "invalid_frame");
    }
    visitor.send(rate(json!(-1))).await;
    assert_eq!(visitor.expect("error").await["code"], "invalid_frame");
    agent.send(rate(json!(5))).await;
    assert_eq!(
        agent.expect("error").await["code"],
        "invalid_frame",
        "agents do not rate"
    );
    let (mut stranger, _) = WsClient::visitor(&base, site_key, None).await;
    stranger.send(rate(json!(1))).await;
    assert_eq!(
        stranger.expect("error").await["code"],
        "conversation_not_found"
    );

    visitor.send(rate(json!(5))).await;
    let rated = visitor.expect("rated").await;
    assert_eq!(
        (rated["conversation_id"].as_str(), rated["score"].as_u64()),
        (Some(rated_id.as_str()), Some(5))
    );
    visitor.send(rate(json!(1))).await;
    assert_eq!(
        visitor.expect("error").await["code"],
        "already_rated",
        "only once"
    );

    // Closed without a request: nothing to rate.
    let (mut other, other_id) = open("Another question").await;
    agent.expect("assigned").await;
    agent
        .send(json!({ "type": "close", "conversation_id": other_id }))
        .await;
    let closed = loop {
        let frame = other.expect("conversation").await;
        if frame["status"] == "closed" {
            break frame;
        }
    };
    assert_eq!(closed["rating_requested"], false);
    other
        .send(json!({ "type": "rate", "conversation_id": other_id, "score": 4 }))
        .await;
    assert_eq!(other.expect("error").await["code"], "rating_not_requested");
}
