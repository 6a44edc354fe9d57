//! The console's REST tools: canned replies (personal and shared) and conversation tags, with
//! who may change what, and bad input refused without change.

use crate::chat::{ADMIN_EMAIL, ADMIN_PASSWORD, AllInOne, message};
use crate::ws_client::WsClient;
use crate::{me, token};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = http.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn shortcuts(http: &reqwest::Client, base: &str, token: &str) -> Vec<(String, String)> {
    let (status, body) = call(
        http,
        reqwest::Method::GET,
        format!("{base}/v1/canned-replies"),
        token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    body["replies"]
        .as_array()
        .expect("replies")
        .iter()
        .map(|reply| {
            (
                reply["shortcut"].as_str().unwrap_or_default().to_owned(),
                reply["scope"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn canned_replies_and_tags_respect_roles_and_refuse_bad_input() {
    let data = tempfile::tempdir().expect("tempdir");
    let system = AllInOne::start(data.path(), &[]).await;
    let base = system.base.clone();
    let http = reqwest::Client::new();
    let admin = token(&http, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, _) = call(
        &http,
        reqwest::Method::POST,
        format!("{base}/v1/admin/agents"),
        &admin,
        Some(json!({ "name": "Bea", "email": "bea@acme.example", "password": "bea-password" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let agent = token(&http, &base, "bea@acme.example", "bea-password").await;
    let post = |token: String, body: Value| {
        let http = http.clone();
        let url = format!("{base}/v1/canned-replies");
        async move { call(&http, reqwest::Method::POST, url, &token, Some(body)).await }
    };

    let (status, shared) = post(
        admin.clone(),
        json!({ "shortcut": "/Hello", "text": "Hello! How can I help?", "scope": "workspace" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(shared["reply"]["shortcut"], "hello", "normalised");
    let (status, own) = post(
        agent.clone(),
        json!({ "shortcut": "bye", "text": "Thanks for chatting, bye!" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(own["reply"]["scope"], "personal");
    let own_id = own["reply"]["id"].as_str().expect("id").to_owned();
    let shared_id = shared["reply"]["id"].as_str().expect("id").to_owned();

    // Bad input and missing rights: each refused, nothing stored.
    for (token, body, expected) in [
        (
            agent.clone(),
            json!({ "shortcut": "x", "text": "t", "scope": "workspace" }),
            StatusCode::FORBIDDEN,
        ),
        (
            agent.clone(),
            json!({ "shortcut": "has space", "text": "t" }),
            StatusCode::BAD_REQUEST,
        ),
        (
            agent.clone(),
            json!({ "shortcut": "", "text": "t" }),
            StatusCode::BAD_REQUEST,
        ),
        (
            agent.clone(),
            json!({ "shortcut": "ok", "text": "  " }),
            StatusCode::BAD_REQUEST,
        ),
        (
            agent.clone(),
            json!({ "shortcut": "ok", "text": "x".repeat(5000) }),
            StatusCode::BAD_REQUEST,
        ),
        (
            agent.clone(),
            json!({ "shortcut": "ok", "text": "t", "scope": "team" }),
            StatusCode::BAD_REQUEST,
        ),
        (
            agent.clone(),
            json!({ "shortcut": "bye", "text": "again" }),
            StatusCode::BAD_REQUEST,
        ),
        (
            agent.clone(),
            json!({ "shortcut": "ok", "text": "t", "extra": 1 }),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, body) = post(token, body.clone()).await;
        assert_eq!(status, expected, "{body}");
    }
    assert_eq!(
        shortcuts(&http, &base, &agent).await,
        [
            ("bye".to_owned(), "personal".to_owned()),
            ("hello".to_owned(), "workspace".to_owned())
        ]
    );
    assert_eq!(
        shortcuts(&http, &base, &admin).await,
        [("hello".to_owned(), "workspace".to_owned())],
        "personal replies stay personal"
    );
    let (status, _) = call(
        &http,
        reqwest::Method::PATCH,
        format!("{base}/v1/canned-replies/{shared_id}"),
        &agent,
        Some(json!({ "text": "hijacked" })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &http,
        reqwest::Method::DELETE,
        format!("{base}/v1/canned-replies/{own_id}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "someone else's personal reply"
    );
    let (status, updated) = call(
        &http,
        reqwest::Method::PATCH,
        format!("{base}/v1/canned-replies/{own_id}"),
        &agent,
        Some(json!({ "text": "Thank you, goodbye!" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["reply"]["text"], "Thank you, goodbye!");
    let (status, _) = call(
        &http,
        reqwest::Method::DELETE,
        format!("{base}/v1/canned-replies/{own_id}"),
        &agent,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &http,
        reqwest::Method::DELETE,
        format!("{base}/v1/canned-replies/{}", uuid::Uuid::now_v7()),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Every agent sees its colleagues and departments, to choose transfer targets.
    let (status, directory) = call(
        &http,
        reqwest::Method::GET,
        format!("{base}/v1/directory"),
        &agent,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut names: Vec<&str> = directory["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .filter_map(|agent| agent["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Administrator", "Bea"]);
    assert!(directory["agents"][0]["load"].is_number());
    assert!(directory["departments"].is_array());
    let (status, _) = call(
        &http,
        reqwest::Method::GET,
        format!("{base}/v1/directory"),
        "not-a-token",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Tags: by the agent holding the conversation (or an admin), never shown to the visitor.
    let whoami: Value = me(&http, &base, &admin).await.json().await.expect("json");
    let site_key = whoami["workspace"]["site_key"].as_str().expect("site key");
    let (mut holder, _) = WsClient::agent(&base, &admin).await;
    holder
        .send(json!({ "type": "status", "status": "online" }))
        .await;
    holder.expect("status").await;
    let (mut visitor, welcome) = WsClient::visitor(&base, site_key, None).await;
    let visitor_token = welcome["visitor_token"].as_str().expect("token").to_owned();
    visitor.send(message("v1", "Hi", None)).await;
    let conversation_id = visitor.expect("ack").await["conversation_id"]
        .as_str()
        .expect("conversation")
        .to_owned();
    holder.expect("assigned").await;
    let tags_url = format!("{base}/v1/conversations/{conversation_id}/tags");
    let (status, _) = call(
        &http,
        reqwest::Method::PUT,
        tags_url.clone(),
        &agent,
        Some(json!({ "tags": ["mine"] })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not the agent holding it");
    for bad in [
        json!({ "tags": ["x".repeat(33)] }),
        json!({ "tags": (0..21).map(|n| format!("t{n}")).collect::<Vec<_>>() }),
        json!({ "tags": [""] }),
        json!({ "tags": "vip" }),
    ] {
        let (status, _) = call(
            &http,
            reqwest::Method::PUT,
            tags_url.clone(),
            &admin,
            Some(bad.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let (status, _) = call(
        &http,
        reqwest::Method::PUT,
        format!("{base}/v1/conversations/{}/tags", uuid::Uuid::now_v7()),
        &admin,
        Some(json!({ "tags": ["vip"] })),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, tagged) = call(
        &http,
        reqwest::Method::PUT,
        tags_url,
        &admin,
        Some(json!({ "tags": ["VIP", "refund", " vip "] })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tagged["conversation"]["tags"], json!(["refund", "vip"]));
    let (_, agent_welcome) = WsClient::agent(&base, &admin).await;
    assert_eq!(
        agent_welcome["conversations"][0]["tags"],
        json!(["refund", "vip"])
    );
    // Search finds the visitor's message for agents; bad queries and strangers are refused.
    let (status, found) = call(
        &http,
        reqwest::Method::GET,
        format!("{base}/v1/search?q=Hi"),
        &agent,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["results"][0]["text"], "Hi");
    assert_eq!(
        found["results"][0]["conversation_id"],
        conversation_id.as_str()
    );
    let (status, _) = call(
        &http,
        reqwest::Method::GET,
        format!("{base}/v1/search?q=H"),
        &agent,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(
        &http,
        reqwest::Method::GET,
        format!("{base}/v1/search?q=Hi"),
        "nope",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, visitor_welcome) = WsClient::visitor(&base, site_key, Some(&visitor_token)).await;
    assert_eq!(
        visitor_welcome["conversation"]["id"],
        conversation_id.as_str()
    );
    assert!(
        visitor_welcome["conversation"].get("tags").is_none(),
        "tags are internal: {visitor_welcome}"
    );
}

#[tokio::test]
async fn announcements_reach_the_online_agents_they_are_meant_for() {
    let data = tempfile::tempdir().expect("tempdir");
    let system = AllInOne::start(data.path(), &[]).await;
    let base = system.base.clone();
    let http = reqwest::Client::new();
    let admin = token(&http, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, department) = call(
        &http,
        reqwest::Method::POST,
        format!("{base}/v1/admin/departments"),
        &admin,
        Some(json!({ "name": "Sales" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let sales = department["department"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for (name, departments) in [("bea", json!([sales])), ("cem", json!([]))] {
        let (status, _) = call(
            &http,
            reqwest::Method::POST,
            format!("{base}/v1/admin/agents"),
            &admin,
            Some(json!({
                "name": name, "email": format!("{name}@acme.example"),
                "password": "agent-password", "department_ids": departments
            })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let bea_token = token(&http, &base, "bea@acme.example", "agent-password").await;
    let cem_token = token(&http, &base, "cem@acme.example", "agent-password").await;
    let (mut bea, _) = WsClient::agent(&base, &bea_token).await;
    let (mut cem, _) = WsClient::agent(&base, &cem_token).await;
    let announce = |token: String, body: Value| {
        let http = http.clone();
        let url = format!("{base}/v1/announcements");
        async move { call(&http, reqwest::Method::POST, url, &token, Some(body)).await }
    };

    for (token, body, expected) in [
        (
            cem_token.clone(),
            json!({ "text": "hi all" }),
            StatusCode::FORBIDDEN,
        ),
        (
            admin.clone(),
            json!({ "text": "  " }),
            StatusCode::BAD_REQUEST,
        ),
        (
            admin.clone(),
            json!({ "text": "x".repeat(2001) }),
            StatusCode::BAD_REQUEST,
        ),
        (
            admin.clone(),
            json!({ "text": "hi", "department_id": uuid::Uuid::now_v7().to_string() }),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, _) = announce(token, body.clone()).await;
        assert_eq!(status, expected, "{body}");
    }
    // Subscriptions start right after welcome; wait until an announcement gets through.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let first = loop {
        let (status, _) = announce(
            admin.clone(),
            json!({ "text": "Sales meeting at 3", "department_id": sales }),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        bea.send(json!({ "type": "ping" })).await;
        bea.expect("pong").await;
        if let Some(index) = bea
            .unread()
            .iter()
            .position(|frame| frame["type"] == "announcement")
        {
            break bea.unread()[index].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no announcement arrived"
        );
    };
    assert_eq!(first["text"], "Sales meeting at 3");
    assert_eq!(first["author"]["name"], "Administrator");
    assert_eq!(first["department_id"], sales.as_str());

    let (status, _) = announce(admin.clone(), json!({ "text": "Lunch is served" })).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    // Cem is in no department: the first announcement he gets must be the workspace-wide one.
    let everyone = cem.expect("announcement").await;
    assert_eq!(
        everyone["text"], "Lunch is served",
        "Cem got an announcement for Sales: {everyone}"
    );
    assert!(everyone["department_id"].is_null());
    loop {
        if bea.expect("announcement").await["text"] == "Lunch is served" {
            break;
        }
    }
}

#[tokio::test]
async fn the_dashboard_counts_connections_per_gateway_and_recent_messages() {
    let system = crate::chat::Distributed::start(2).await;
    let (first, second) = (system.base(0), system.base(1));
    let http = reqwest::Client::new();
    let admin = token(&http, &first, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let whoami: Value = me(&http, &first, &admin).await.json().await.expect("json");
    let site_key = whoami["workspace"]["site_key"].as_str().expect("site key");
    let (mut visitor, _) = WsClient::visitor(&first, site_key, None).await;
    let (_agent, _) = WsClient::agent(&second, &admin).await;
    visitor.send(message("v1", "hello", None)).await;
    visitor.expect("ack").await;
    let overview = |base: String| {
        let http = http.clone();
        let admin = admin.clone();
        async move {
            call(
                &http,
                reqwest::Method::GET,
                format!("{base}/v1/admin/overview"),
                &admin,
                None,
            )
            .await
            .1
        }
    };
    // Gateways share their counts every few seconds: wait until the first sees both.
    switchboard_platform::testing::wait_until(
        std::time::Duration::from_secs(30),
        "the overview to show a visitor and an agent on two gateways",
        || async {
            let view = overview(first.clone()).await;
            let gateways = view["gateways"].as_array().cloned().unwrap_or_default();
            let totals =
                |key: &str| -> u64 { gateways.iter().filter_map(|g| g[key].as_u64()).sum() };
            let busy = gateways
                .iter()
                .filter(|g| {
                    g["visitors"].as_u64().unwrap_or(0) + g["agents"].as_u64().unwrap_or(0) > 0
                })
                .count();
            gateways.len() == 2 && totals("visitors") == 1 && totals("agents") == 1 && busy == 2
        },
    )
    .await;
    let view = overview(second.clone()).await;
    assert!(
        view["messages_last_minute"].as_u64().unwrap_or(0) >= 1,
        "{view}"
    );
}

#[tokio::test]
async fn admin_rest_refuses_bad_capacities_strategies_and_hours_without_change() {
    let data = tempfile::tempdir().expect("tempdir");
    let system = AllInOne::start(data.path(), &[]).await;
    let base = system.base.clone();
    let http = reqwest::Client::new();
    let admin = token(&http, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, created) = call(
        &http,
        reqwest::Method::POST,
        format!("{base}/v1/admin/agents"),
        &admin,
        Some(json!({ "name": "Bea", "email": "bea@acme.example", "password": "bea-password", "max_concurrent": 2 })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let bea = created["agent"]["id"].as_str().expect("id").to_owned();
    let (status, created) = call(
        &http,
        reqwest::Method::POST,
        format!("{base}/v1/admin/departments"),
        &admin,
        Some(json!({ "name": "Sales" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let sales = created["department"]["id"].as_str().expect("id").to_owned();
    let agent_url = format!("{base}/v1/admin/agents/{bea}");
    let department_url = format!("{base}/v1/admin/departments/{sales}");
    for (url, body) in [
        (&agent_url, json!({ "max_concurrent": -1 })),
        (&agent_url, json!({ "max_concurrent": 0 })),
        (&agent_url, json!({ "max_concurrent": 101 })),
        (&agent_url, json!({ "role": "owner" })),
        (
            &agent_url,
            json!({ "department_ids": [uuid::Uuid::now_v7().to_string()] }),
        ),
        (&agent_url, json!({ "unknown": true })),
        (&department_url, json!({ "strategy": "random" })),
        (&department_url, json!({ "sticky_window_secs": -5 })),
        (
            &department_url,
            json!({ "business_hours": { "time_zone": "Asia/Shanghai", "intervals": [{ "weekday": 9, "open": "09:00", "close": "18:00" }] } }),
        ),
        (
            &department_url,
            json!({ "business_hours": { "time_zone": "Nowhere/City", "intervals": [] } }),
        ),
    ] {
        let (status, body_back) = call(
            &http,
            reqwest::Method::PATCH,
            url.clone(),
            &admin,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {body_back}");
    }
    let (status, agents) = call(
        &http,
        reqwest::Method::GET,
        format!("{base}/v1/admin/agents"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let bea_now = agents["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|agent| agent["id"] == bea.as_str())
        .expect("listed")
        .clone();
    assert_eq!(bea_now["max_concurrent"], 2, "nothing changed");
    assert_eq!(bea_now["role"], "agent");
    assert_eq!(bea_now["department_ids"], json!([]));
    let (_, departments) = call(
        &http,
        reqwest::Method::GET,
        format!("{base}/v1/admin/departments"),
        &admin,
        None,
    )
    .await;
    let department = &departments["departments"][0];
    assert_eq!(department["strategy"], "least_loaded");
    assert_eq!(department["sticky_window_secs"], 0);
    assert!(department["business_hours"].is_null());
}
