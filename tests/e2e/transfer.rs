//! Transfers and internal notes over the WebSocket: to an agent (capacity applies) and to a
//! department; notes reach agents only; refusals have stable codes and change nothing.

use crate::chat::{ADMIN_EMAIL, ADMIN_PASSWORD, Distributed, message};
use crate::ws_client::WsClient;
use crate::{me, token};
use serde_json::{Value, json};

async fn create(http: &reqwest::Client, base: &str, admin: &str, path: &str, body: Value) -> Value {
    let response = http
        .post(format!("{base}{path}"))
        .bearer_auth(admin)
        .json(&body)
        .send()
        .await
        .expect("create");
    assert_eq!(response.status(), 201, "{path}");
    response.json().await.expect("json")
}

async fn online(base: &str, token: &str) -> WsClient {
    let (mut agent, _) = WsClient::agent(base, token).await;
    agent
        .send(json!({ "type": "status", "status": "online" }))
        .await;
    while agent.expect("status").await["status"] != "online" {}
    agent
}

/// Reads everything the server sent so far (a `ping` is answered after it) and asserts that
/// no internal note is among it.
async fn assert_no_note(visitor: &mut WsClient) {
    visitor.send(json!({ "type": "ping" })).await;
    visitor.expect("pong").await;
    assert!(
        visitor.unread().iter().all(|frame| frame["type"] != "note"),
        "a visitor received an internal note: {:?}",
        visitor.unread()
    );
}

#[tokio::test]
async fn transfers_to_an_agent_and_a_department_carry_history_and_notes_but_not_to_the_visitor() {
    let system = Distributed::start(1).await;
    let base = system.base(0);
    let http = reqwest::Client::new();
    let admin = token(&http, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let whoami: Value = me(&http, &base, &admin).await.json().await.expect("json");
    let site_key = whoami["workspace"]["site_key"].as_str().expect("site key");
    let admin_id = whoami["agent"]["id"].as_str().expect("id").to_owned();
    let billing = create(
        &http,
        &base,
        &admin,
        "/v1/admin/departments",
        json!({ "name": "Billing" }),
    )
    .await["department"]["id"]
        .as_str()
        .expect("department")
        .to_owned();
    let bea = create(&http, &base, &admin, "/v1/admin/agents", json!({
        "name": "Bea", "email": "bea@acme.example", "password": "bea-password", "max_concurrent": 3
    }))
    .await["agent"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    create(
        &http,
        &base,
        &admin,
        "/v1/admin/agents",
        json!({
            "name": "Cem", "email": "cem@acme.example", "password": "cem-password",
            "max_concurrent": 3, "department_ids": [billing]
        }),
    )
    .await;
    let offline = create(
        &http,
        &base,
        &admin,
        "/v1/admin/agents",
        json!({
            "name": "Dee", "email": "dee@acme.example", "password": "dee-password"
        }),
    )
    .await["agent"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let mut first = online(&base, &admin).await;
    let (mut visitor, _) = WsClient::visitor(&base, site_key, None).await;
    visitor
        .send(message("v1", "I was charged twice", None))
        .await;
    let conversation_id = visitor.expect("ack").await["conversation_id"]
        .as_str()
        .expect("conversation")
        .to_owned();
    first.expect("assigned").await;
    first
        .send(json!({ "type": "note", "conversation_id": conversation_id, "text": "VIP, be kind" }))
        .await;
    let note = first.expect("note").await;
    assert_eq!(note["text"], "VIP, be kind");
    assert_eq!(note["author"]["name"], "Administrator");

    // To an agent, with a note.
    let bea_token = token(&http, &base, "bea@acme.example", "bea-password").await;
    let mut second = online(&base, &bea_token).await;
    first
        .send(json!({
            "type": "transfer", "conversation_id": conversation_id,
            "to_agent_id": bea, "note": "Refund approved, please confirm"
        }))
        .await;
    let handed = loop {
        let frame = first.expect("conversation").await;
        if frame["agent"]["id"] == bea.as_str() {
            break frame;
        }
    };
    assert_eq!(handed["status"], "assigned");
    let assigned = second.expect("assigned").await;
    assert_eq!(assigned["conversation"]["id"], conversation_id.as_str());
    assert_eq!(
        second.expect("message").await["text"],
        "I was charged twice"
    );
    let mut notes = [second.expect("note").await, second.expect("note").await];
    notes.sort_by_key(|note| note["id"].as_str().unwrap_or_default().to_owned());
    let texts: Vec<&str> = notes
        .iter()
        .filter_map(|note| note["text"].as_str())
        .collect();
    assert_eq!(texts, ["VIP, be kind", "Refund approved, please confirm"]);
    while visitor.expect("conversation").await["agent"]["name"] != "Bea" {}
    second
        .send(message(
            "b1",
            "Confirmed, refund is on its way.",
            Some(&conversation_id),
        ))
        .await;
    assert_eq!(second.expect("ack").await["seq"], 2);
    first
        .send(message("a-late", "still here?", Some(&conversation_id)))
        .await;
    assert_eq!(first.expect("error").await["code"], "not_assigned");

    // Refusals: nothing moves.
    let refusals = [
        (
            json!({ "to_agent_id": uuid::Uuid::now_v7().to_string() }),
            "target_not_found",
        ),
        (json!({ "to_agent_id": "nope" }), "target_not_found"),
        (
            json!({ "to_department_id": uuid::Uuid::now_v7().to_string() }),
            "target_not_found",
        ),
        (json!({ "to_agent_id": bea }), "invalid_frame"),
        (json!({ "to_agent_id": offline }), "not_available"),
        (json!({}), "invalid_frame"),
        (
            json!({ "to_agent_id": admin_id, "to_department_id": billing }),
            "invalid_frame",
        ),
    ];
    for (target, code) in refusals {
        let mut frame = json!({ "type": "transfer", "conversation_id": conversation_id });
        for (key, value) in target.as_object().expect("object") {
            frame[key] = value.clone();
        }
        second.send(frame.clone()).await;
        assert_eq!(second.expect("error").await["code"], code, "{frame}");
    }
    first
        .send(json!({ "type": "transfer", "conversation_id": conversation_id, "to_agent_id": admin_id }))
        .await;
    assert_eq!(first.expect("error").await["code"], "not_assigned");
    // The administrator is full (capacity 1, one chat): the transfer is refused.
    let capped = http
        .patch(format!("{base}/v1/admin/agents/{admin_id}"))
        .bearer_auth(&admin)
        .json(&json!({ "max_concurrent": 1 }))
        .send()
        .await
        .expect("patch");
    assert_eq!(capped.status(), 200);
    let (mut other_visitor, _) = WsClient::visitor(&base, site_key, None).await;
    other_visitor.send(message("o1", "Hello?", None)).await;
    other_visitor.expect("ack").await;
    first.expect("assigned").await;
    second
        .send(json!({ "type": "transfer", "conversation_id": conversation_id, "to_agent_id": admin_id }))
        .await;
    assert_eq!(second.expect("error").await["code"], "at_capacity");

    // To a department: the visitor is told and waits for Cem, who gets history and notes.
    let cem_token = token(&http, &base, "cem@acme.example", "cem-password").await;
    let mut third = online(&base, &cem_token).await;
    second
        .send(json!({ "type": "transfer", "conversation_id": conversation_id, "to_department_id": billing }))
        .await;
    let assigned = third.expect("assigned").await;
    assert_eq!(assigned["conversation"]["id"], conversation_id.as_str());
    assert_eq!(assigned["conversation"]["department"], billing.as_str());
    let replay = third.messages_until(&conversation_id, 3).await;
    assert_eq!(replay[2]["sender"]["kind"], "system");
    assert!(
        replay[2]["text"]
            .as_str()
            .is_some_and(|text| text.contains("Billing"))
    );
    assert_eq!(third.expect("note").await["text"], "VIP, be kind");
    while second.expect("conversation").await["status"] != "queued" {}
    let notice = loop {
        let frame = visitor.expect("message").await;
        if frame["sender"]["kind"] == "system" {
            break frame;
        }
    };
    assert_eq!(notice["seq"], 3);
    while visitor.expect("conversation").await["agent"]["name"] != "Cem" {}
    assert_no_note(&mut visitor).await;
}
