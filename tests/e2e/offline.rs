//! Business hours and offline messages: outside a department's hours the visitor is told, may
//! leave a message with an email, and an agent answers it when back.

use crate::chat::{ADMIN_EMAIL, ADMIN_PASSWORD, Distributed, message};
use crate::ws_client::WsClient;
use crate::{me, token};
use serde_json::{Value, json};
use std::time::Duration;

/// Hours in a zone where it is now between 06:00 and 18:00, open only tomorrow (local), so the
/// department is closed now and the test never runs near a boundary.
fn closed_now() -> Value {
    use chrono::{Datelike, Timelike};
    let now = chrono::Utc::now();
    let (zone, offset) = if now.hour() >= 12 {
        ("Etc/GMT+6", -6)
    } else {
        ("Etc/GMT-6", 6)
    };
    let tomorrow = (now + chrono::Duration::hours(offset))
        .weekday()
        .number_from_monday()
        % 7
        + 1;
    json!({
        "time_zone": zone,
        "intervals": [{ "weekday": tomorrow, "open": "09:00", "close": "17:00" }],
    })
}

fn visitor_url(base: &str, site_key: &str, department: &str) -> String {
    format!(
        "{}/v1/visitor/ws?site_key={site_key}&department={department}",
        base.replace("http://", "ws://")
    )
}

#[tokio::test]
async fn outside_business_hours_a_message_waits_as_an_offline_conversation_for_an_agent() {
    let system = Distributed::start(1).await;
    let base = system.base(0);
    let http = reqwest::Client::new();
    let token = token(&http, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let whoami: Value = me(&http, &base, &token).await.json().await.expect("json");
    let site_key = whoami["workspace"]["site_key"].as_str().expect("site key");
    let admin_id = whoami["agent"]["id"].as_str().expect("id").to_owned();

    let refused = http
        .post(format!("{base}/v1/admin/departments"))
        .bearer_auth(&token)
        .json(&json!({ "name": "Night", "business_hours": { "time_zone": "Mars/Olympus", "intervals": [] } }))
        .send()
        .await
        .expect("create");
    assert_eq!(refused.status(), 400);
    let created: Value = http
        .post(format!("{base}/v1/admin/departments"))
        .bearer_auth(&token)
        .json(&json!({ "name": "Night", "business_hours": closed_now() }))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    assert_eq!(created["department"]["business_hours"], closed_now());
    let department = created["department"]["id"].as_str().expect("id").to_owned();
    let joined = http
        .patch(format!("{base}/v1/admin/agents/{admin_id}"))
        .bearer_auth(&token)
        .json(&json!({ "department_ids": [department] }))
        .send()
        .await
        .expect("join");
    assert_eq!(joined.status(), 200);

    // An unknown department is refused at the door.
    let mut lost = WsClient::connect(&visitor_url(
        &base,
        site_key,
        &uuid::Uuid::now_v7().to_string(),
    ))
    .await;
    assert_eq!(lost.expect("error").await["code"], "invalid_department");
    assert_eq!(lost.close_code(Duration::from_secs(20)).await, Some(1008));

    let mut visitor = WsClient::connect(&visitor_url(&base, site_key, &department)).await;
    let welcome = visitor.expect("welcome").await;
    assert_eq!(
        welcome["availability"],
        json!({ "open": false, "reason": "outside_hours" })
    );
    let mut bad = message("v0", "Call me back", None);
    bad["email"] = json!("not-an-email");
    visitor.send(bad).await;
    let error = visitor.expect("error").await;
    assert_eq!(error["code"], "invalid_email");
    assert_eq!(error["client_msg_id"], "v0");
    let mut offline = message("v1", "My order never arrived, please email me.", None);
    offline["email"] = json!("ann@example.com");
    visitor.send(offline).await;
    let ack = visitor.expect("ack").await;
    assert_eq!(ack["seq"], 1, "the refused message stored nothing");
    let conversation_id = ack["conversation_id"].as_str().expect("id").to_owned();

    // Hours do not stop an agent who is online from answering: when back, it gets the message.
    let (mut agent, _) = WsClient::agent(&base, &token).await;
    agent
        .send(json!({ "type": "status", "status": "online" }))
        .await;
    let assigned = agent.expect("assigned").await;
    let conversation = &assigned["conversation"];
    assert_eq!(conversation["id"], conversation_id.as_str());
    assert_eq!(conversation["offline"], true);
    assert_eq!(conversation["contact_email"], "ann@example.com");
    assert_eq!(conversation["department"], department.as_str());
    assert_eq!(
        agent.expect("message").await["text"],
        "My order never arrived, please email me."
    );
    agent
        .send(message(
            "a1",
            "Sorry! A new parcel is on its way.",
            Some(&conversation_id),
        ))
        .await;
    agent.expect("ack").await;
    let reply = loop {
        let frame = visitor.expect("message").await;
        if frame["client_msg_id"] == "a1" {
            break frame;
        }
    };
    assert_eq!(reply["seq"], 2);
}
