//! The audit log, visitor export and erasure, and retention through the admin REST API, in
//! distributed mode on PostgreSQL: who did what from where is recorded (client address behind a
//! trusted proxy, forged headers ignored), pages and exports are complete, an erased visitor is
//! gone from the database, and agents reach none of it.

use crate::chat::{ADMIN_EMAIL, ADMIN_PASSWORD, Distributed, first_exchange};
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use std::collections::HashSet;
use switchboard_conversation_history::db::entity::{conversation, message, visitor};
use uuid::Uuid;

/// The client address the admin's requests claim through the (trusted, loopback) proxy hop.
const PROXIED_CLIENT: &str = "203.0.113.7";
const USER_AGENT: &str = "switchboard-e2e-audit/1.0";

/// Calls the API as if through a reverse proxy on loopback that adds `X-Forwarded-For`, with a
/// forged `x-switchboard-client-ip` the gateway must drop.
async fn call(
    http: &reqwest::Client,
    method: Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = http
        .request(method, url)
        .header("x-forwarded-for", PROXIED_CLIENT)
        .header("x-switchboard-client-ip", "198.51.100.66")
        .header("user-agent", USER_AGENT);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn login(
    http: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> (StatusCode, Value) {
    call(
        http,
        Method::POST,
        format!("{base}/v1/auth/login"),
        None,
        Some(json!({ "email": email, "password": password })),
    )
    .await
}

/// Every audit event, newest first, read two at a time through the cursor.
async fn all_audit_events(http: &reqwest::Client, base: &str, token: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut url = format!("{base}/v1/admin/audit?limit=2");
    loop {
        let (status, page) = call(http, Method::GET, url.clone(), Some(token), None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let batch = page["events"].as_array().expect("events").clone();
        assert!(batch.len() <= 2);
        events.extend(batch);
        match page["next_before"].as_u64() {
            Some(before) => url = format!("{base}/v1/admin/audit?limit=2&before={before}"),
            None => return events,
        }
    }
}

fn find<'a>(events: &'a [Value], action: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|event| event["action"] == action)
        .collect()
}

#[tokio::test]
async fn admins_export_and_erase_visitors_set_retention_and_every_step_is_audited() {
    let system = Distributed::start(1).await;
    let base = system.base(0);
    let http = reqwest::Client::new();
    let db = switchboard_platform::db::connect(&system.database_url)
        .await
        .expect("db");

    let (status, session) = login(&http, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let admin = session["token"].as_str().expect("token").to_owned();
    let admin_id = session["agent"]["id"].as_str().expect("id").to_owned();

    // Admin actions in agent-management, audited in their own transactions.
    let (status, created) = call(
        &http,
        Method::POST,
        format!("{base}/v1/admin/agents"),
        Some(&admin),
        Some(json!({ "name": "Bo", "email": "bo@acme.example", "password": "first-password" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let bo_id = created["agent"]["id"].as_str().expect("id").to_owned();
    let (status, _) = call(
        &http,
        Method::POST,
        format!("{base}/v1/admin/agents/{bo_id}/password"),
        Some(&admin),
        Some(json!({ "password": "second-password" })),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = login(&http, &base, "bo@acme.example", "first-password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, bo_session) = login(&http, &base, "bo@acme.example", "second-password").await;
    assert_eq!(status, StatusCode::OK);
    let bo = bo_session["token"].as_str().expect("token").to_owned();

    // A visitor chats with the admin.
    let chat = first_exchange(&base, &base).await;
    let conversation_id: Uuid = chat.conversation_id.parse().expect("uuid");
    let visitor_id = conversation::Entity::find_by_id(conversation_id)
        .one(&db)
        .await
        .expect("query")
        .expect("conversation row")
        .visitor_id;

    // Agents and strangers reach none of it.
    let admin_routes = [
        (Method::GET, format!("{base}/v1/admin/audit")),
        (Method::GET, format!("{base}/v1/admin/audit/export")),
        (
            Method::GET,
            format!("{base}/v1/admin/visitors/{visitor_id}/export"),
        ),
        (
            Method::DELETE,
            format!("{base}/v1/admin/visitors/{visitor_id}"),
        ),
        (Method::GET, format!("{base}/v1/admin/retention")),
        (Method::PUT, format!("{base}/v1/admin/retention")),
    ];
    for (method, url) in &admin_routes {
        let body = (method == Method::PUT).then(|| json!({ "days": 1 }));
        let (status, answer) =
            call(&http, method.clone(), url.clone(), Some(&bo), body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {url}: {answer}");
        assert_eq!(answer["error"]["code"], "forbidden");
        let (status, _) = call(&http, method.clone(), url.clone(), None, body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {url}");
    }
    assert_eq!(
        message::Entity::find()
            .filter(message::Column::ConversationId.eq(conversation_id))
            .count(&db)
            .await
            .expect("count"),
        2,
        "an agent's refused erase changed nothing"
    );

    // Export: everything stored about the visitor.
    let (status, export) = call(
        &http,
        Method::GET,
        format!("{base}/v1/admin/visitors/{visitor_id}/export"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{export}");
    assert_eq!(export["visitor"]["id"], visitor_id.to_string());
    assert_eq!(export["complete"], true);
    let conversations = export["conversations"].as_array().expect("conversations");
    assert_eq!(conversations.len(), 1);
    let texts: Vec<(u64, &str)> = conversations[0]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            (
                m["seq"].as_u64().expect("seq"),
                m["text"].as_str().expect("text"),
            )
        })
        .collect();
    assert_eq!(
        texts,
        vec![
            (1, "Hello, is my order shipped?"),
            (2, "Yes, it left this morning.")
        ]
    );
    let (status, missing) = call(
        &http,
        Method::GET,
        format!("{base}/v1/admin/visitors/{}/export", Uuid::now_v7()),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["error"]["code"], "visitor_not_found");

    // Retention: bad values refused, a good one stored.
    for days in [json!(-1), json!(3651), json!("ten")] {
        let (status, answer) = call(
            &http,
            Method::PUT,
            format!("{base}/v1/admin/retention"),
            Some(&admin),
            Some(json!({ "days": days })),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{days}: {answer}");
    }
    let (status, retention) = call(
        &http,
        Method::PUT,
        format!("{base}/v1/admin/retention"),
        Some(&admin),
        Some(json!({ "days": 90 })),
    )
    .await;
    assert_eq!(
        (status, retention["days"].as_u64()),
        (StatusCode::OK, Some(90))
    );
    let (_, retention) = call(
        &http,
        Method::GET,
        format!("{base}/v1/admin/retention"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(retention["days"], 90);

    // Erase: gone from the database, and a second erase is a 404.
    let (status, erased) = call(
        &http,
        Method::DELETE,
        format!("{base}/v1/admin/visitors/{visitor_id}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    assert_eq!(erased["erased"]["conversations"], 1);
    assert_eq!(erased["erased"]["messages"], 2);
    assert_eq!(
        visitor::Entity::find_by_id(visitor_id)
            .count(&db)
            .await
            .expect("count"),
        0
    );
    assert_eq!(
        conversation::Entity::find_by_id(conversation_id)
            .count(&db)
            .await
            .expect("count"),
        0
    );
    assert_eq!(
        message::Entity::find()
            .filter(message::Column::ConversationId.eq(conversation_id))
            .count(&db)
            .await
            .expect("count"),
        0
    );
    let (status, again) = call(
        &http,
        Method::DELETE,
        format!("{base}/v1/admin/visitors/{visitor_id}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("visitor_not_found"))
    );

    // The audit log, read page by page.
    let events = all_audit_events(&http, &base, &admin).await;
    let ids: Vec<u64> = events
        .iter()
        .map(|event| event["id"].as_u64().expect("id"))
        .collect();
    assert!(
        ids.windows(2).all(|pair| pair[0] > pair[1]),
        "newest first, no repeats: {ids:?}"
    );
    let created = find(&events, "agent.create");
    assert_eq!(created.len(), 1);
    let created = created[0];
    assert_eq!(created["actor_id"], admin_id.as_str());
    assert_eq!(created["target_id"], bo_id.as_str());
    assert_eq!(created["outcome"], "succeeded");
    assert_eq!(
        created["client_ip"], PROXIED_CLIENT,
        "the proxied client, not the forged header"
    );
    assert_eq!(created["user_agent"], USER_AGENT);
    assert_eq!(created["detail"]["email"], "bo@acme.example");
    assert!(
        created.to_string().find("first-password").is_none(),
        "no password in the log"
    );
    assert_eq!(
        find(&events, "agent.password_reset")[0]["target_id"],
        bo_id.as_str()
    );
    let failed = find(&events, "auth.login_failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["target_id"], bo_id.as_str());
    assert!(failed[0]["actor_id"].is_null());
    assert_eq!(failed[0]["outcome"], "failed");
    let logins: HashSet<&str> = find(&events, "auth.login")
        .iter()
        .filter_map(|event| event["actor_id"].as_str())
        .collect();
    assert!(logins.contains(bo_id.as_str()) && logins.contains(admin_id.as_str()));
    let exports = find(&events, "visitor.export");
    let outcomes: Vec<&str> = exports
        .iter()
        .filter_map(|event| event["outcome"].as_str())
        .collect();
    assert_eq!(
        outcomes,
        vec!["failed", "succeeded"],
        "newest first: the unknown visitor failed"
    );
    let retention = find(&events, "retention.update");
    assert_eq!(
        retention.len(),
        1,
        "refused values are not audited as changes"
    );
    assert_eq!(retention[0]["detail"]["days"], "90");
    let erasures = find(&events, "visitor.erase");
    assert_eq!(erasures.len(), 2);
    assert_eq!(erasures[1]["outcome"], "succeeded");
    assert_eq!(erasures[1]["detail"]["messages"], "2");
    assert_eq!(erasures[1]["target_id"], visitor_id.to_string());
    assert_eq!(erasures[0]["outcome"], "failed");

    // Filters and bad input.
    let (status, auth_only) = call(
        &http,
        Method::GET,
        format!("{base}/v1/admin/audit?action=auth."),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let auth_only = auth_only["events"].as_array().expect("events");
    assert!(!auth_only.is_empty());
    assert!(auth_only.iter().all(|event| {
        event["action"]
            .as_str()
            .expect("action")
            .starts_with("auth.")
    }));
    let (status, bo_only) = call(
        &http,
        Method::GET,
        format!("{base}/v1/admin/audit?actor_id={bo_id}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        bo_only["events"]
            .as_array()
            .expect("events")
            .iter()
            .all(|event| event["actor_id"] == bo_id.as_str())
    );
    for query in ["since=yesterday", "limit=501", "before=-3", "colour=red"] {
        let (status, answer) = call(
            &http,
            Method::GET,
            format!("{base}/v1/admin/audit?{query}"),
            Some(&admin),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid_argument");
    }

    // The NDJSON export holds every event the pages held (plus its own entry, newest).
    let response = http
        .get(format!("{base}/v1/admin/audit/export"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("export");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"].to_str().expect("type"),
        "application/x-ndjson"
    );
    let lines: Vec<Value> = response
        .text()
        .await
        .expect("body")
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines[0]["action"], "audit.export");
    let exported: Vec<u64> = lines[1..]
        .iter()
        .map(|event| event["id"].as_u64().expect("id"))
        .collect();
    assert_eq!(&exported[exported.len() - ids.len()..], ids.as_slice());
}
