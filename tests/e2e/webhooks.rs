//! Webhooks through the gateway's admin API on the embedded default (SQLite, in-process bus):
//! the SSRF guard and its workspace switch, admins only, signed deliveries of a visitor's
//! messages, dead-lettering and replay from the API.

use crate::chat::{ADMIN_EMAIL, ADMIN_PASSWORD, AllInOne, message, metric, scrape};
use crate::ws_client::WsClient;
use crate::{me, token};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_platform::testing::wait_until;

/// What a loopback receiver got: (webhook-id, timestamp, signature, body, answered status).
type Log = Arc<Mutex<Vec<(String, i64, String, String, u16)>>>;

/// Starts a receiver answering `status` (changeable) and logging every request.
async fn receiver(status: Arc<Mutex<u16>>) -> (String, Log) {
    let log: Log = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post({
            let log = log.clone();
            move |headers: HeaderMap, body: Bytes| {
                let (log, status) = (log.clone(), status.clone());
                async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|value| value.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let answered = *status.lock().expect("lock");
                    log.lock().expect("lock").push((
                        header("webhook-id"),
                        header("webhook-timestamp").parse().unwrap_or_default(),
                        header("webhook-signature"),
                        String::from_utf8_lossy(&body).into_owned(),
                        answered,
                    ));
                    StatusCode::from_u16(answered).unwrap_or(StatusCode::OK)
                }
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, log)
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test]
async fn webhooks_are_signed_dead_lettered_and_replayed_through_the_admin_api() {
    let data = tempfile::tempdir().expect("tempdir");
    let aio = AllInOne::start(
        data.path(),
        &[
            ("SWITCHBOARD_WEBHOOK_MAX_ATTEMPTS", "2".to_owned()),
            ("SWITCHBOARD_WEBHOOK_RETRY_BASE_MS", "50".to_owned()),
        ],
    )
    .await;
    let http = reqwest::Client::new();
    let admin = token(&http, &aio.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let whoami: Value = me(&http, &aio.base, &admin)
        .await
        .json()
        .await
        .expect("json");
    let site_key = whoami["workspace"]["site_key"].as_str().expect("site key");
    let answer = Arc::new(Mutex::new(200u16));
    let (url, log) = receiver(answer.clone()).await;
    let webhooks = format!("{}/v1/admin/webhooks", aio.base);

    // Loopback is refused until the workspace allows private networks.
    let (status, body) = call(
        &http,
        reqwest::Method::POST,
        webhooks.clone(),
        &admin,
        Some(json!({ "url": url })),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_argument")),
        "{body}"
    );
    let (status, body) = call(&http, reqwest::Method::GET, webhooks.clone(), &admin, None).await;
    assert_eq!(
        (status, body["webhooks"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    let settings = format!("{}/v1/admin/integrations/settings", aio.base);
    let (status, _) = call(
        &http,
        reqwest::Method::PUT,
        settings,
        &admin,
        Some(json!({ "allow_private_network": true })),
    )
    .await;
    assert_eq!(status, 200);
    let (status, created) = call(
        &http,
        reqwest::Method::POST,
        webhooks.clone(),
        &admin,
        Some(json!({ "url": url, "events": ["offline_message.created", "message.created"], "description": "CRM" })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("whsec_"));
    let webhook_id = created["webhook"]["id"].as_str().expect("id").to_owned();
    let (_, listed) = call(&http, reqwest::Method::GET, webhooks.clone(), &admin, None).await;
    assert!(
        listed.to_string().find("whsec_").is_none(),
        "secrets are never listed"
    );

    // Agents are not admins: nothing of this is theirs.
    let (status, _) = call(
        &http,
        reqwest::Method::POST,
        format!("{}/v1/admin/agents", aio.base),
        &admin,
        Some(json!({ "name": "Bo", "email": "bo@example.com", "password": "correct-horse-9" })),
    )
    .await;
    assert_eq!(status, 201);
    let agent = token(&http, &aio.base, "bo@example.com", "correct-horse-9").await;
    for (method, path) in [
        (reqwest::Method::GET, "/v1/admin/webhooks".to_owned()),
        (
            reqwest::Method::DELETE,
            format!("/v1/admin/webhooks/{webhook_id}"),
        ),
        (
            reqwest::Method::GET,
            format!("/v1/admin/webhooks/{webhook_id}/deliveries"),
        ),
    ] {
        let (status, body) = call(&http, method, format!("{}{path}", aio.base), &agent, None).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{path}"
        );
    }

    // A visitor leaves a message while nobody is online: an offline message, then a message.
    let (mut visitor, _) = WsClient::visitor(&aio.base, site_key, None).await;
    let mut first = message("m1", "Do you ship to Oslo?", None);
    first["email"] = json!("kari@example.no");
    visitor.send(first).await;
    visitor.expect("ack").await;
    wait_until(Duration::from_secs(20), "both events delivered", || async {
        log.lock().expect("lock").len() >= 2
    })
    .await;
    let delivered = log.lock().expect("lock").clone();
    let kinds: Vec<String> = delivered
        .iter()
        .map(|(_, _, _, body, _)| {
            serde_json::from_str::<Value>(body).expect("json")["type"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(kinds, ["offline_message.created", "message.created"]);
    for (id, timestamp, signature, body, _) in &delivered {
        assert!(switchboard_integrations::signing::verify(
            &secret,
            id,
            *timestamp,
            body.as_bytes(),
            signature
        ));
    }
    let body: Value = serde_json::from_str(&delivered[1].3).expect("json");
    assert_eq!(body["data"]["message"]["text"], "Do you ship to Oslo?");

    // The receiver breaks: the next message is tried twice, then dead-lettered.
    *answer.lock().expect("lock") = 503;
    visitor.send(message("m2", "Hello?", None)).await;
    visitor.expect("ack").await;
    let dead_url = format!(
        "{}/v1/admin/webhooks/{webhook_id}/deliveries?status=dead",
        aio.base
    );
    wait_until(
        Duration::from_secs(20),
        "the delivery dead-lettered",
        || async {
            let (_, page) = call(&http, reqwest::Method::GET, dead_url.clone(), &admin, None).await;
            page["deliveries"]
                .as_array()
                .is_some_and(|dead| dead.len() == 1)
        },
    )
    .await;
    let (_, page) = call(&http, reqwest::Method::GET, dead_url.clone(), &admin, None).await;
    let dead = &page["deliveries"][0];
    assert_eq!(
        (dead["attempts"].as_u64(), dead["last_status_code"].as_u64()),
        (Some(2), Some(503))
    );
    let (status, body) = call(
        &http,
        reqwest::Method::GET,
        format!(
            "{}/v1/admin/webhooks/{webhook_id}/deliveries?status=lost",
            aio.base
        ),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_argument"))
    );

    *answer.lock().expect("lock") = 200;
    let (status, replayed) = call(
        &http,
        reqwest::Method::POST,
        format!(
            "{}/v1/admin/webhook-deliveries/{}/replay",
            aio.base,
            dead["id"].as_str().expect("id")
        ),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        (status, replayed["delivery"]["status"].as_str()),
        (200, Some("pending"))
    );
    wait_until(Duration::from_secs(20), "the replay accepted", || async {
        log.lock()
            .expect("lock")
            .iter()
            .any(|(id, _, _, _, answered)| {
                *id == dead["message_id"].as_str().unwrap_or_default() && *answered == 200
            })
    })
    .await;
    let (_, page) = call(&http, reqwest::Method::GET, dead_url, &admin, None).await;
    assert_eq!(page["deliveries"].as_array().map(Vec::len), Some(0));

    // The event feed: everything so far, then, after the client's cursor, exactly what it
    // missed while away.
    let feed = |query: String| {
        let (http, admin) = (http.clone(), admin.clone());
        let url = format!("{}/v1/events{query}", aio.base);
        async move { call(&http, reqwest::Method::GET, url, &admin, None).await }
    };
    let (status, all) = feed(String::new()).await;
    assert_eq!(status, 200, "{all}");
    let texts = |page: &Value| -> Vec<String> {
        page["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|event| {
                event["data"]["message"]["text"].as_str().map_or_else(
                    || event["type"].as_str().unwrap_or_default().to_owned(),
                    str::to_owned,
                )
            })
            .collect()
    };
    assert_eq!(
        texts(&all),
        ["offline_message.created", "Do you ship to Oslo?", "Hello?"]
    );
    let cursor = all["next_cursor"].as_str().expect("cursor").to_owned();
    visitor.send(message("m3", "Still there?", None)).await;
    visitor.expect("ack").await;
    visitor.send(message("m4", "Bye", None)).await;
    visitor.expect("ack").await;
    let (_, missed) = feed(format!("?after={cursor}&wait=10")).await;
    let missed_texts = texts(&missed);
    // A long poll returns with what is there; the second message may follow in the next page.
    let (_, rest) = feed(format!(
        "?after={}&wait=10",
        missed["next_cursor"].as_str().expect("cursor")
    ))
    .await;
    let mut got = missed_texts;
    got.extend(texts(&rest));
    got.truncate(2);
    assert_eq!(got, ["Still there?", "Bye"]);
    for bad in ["?after=nope", "?after=99999999", "?limit=x"] {
        let (status, body) = feed(bad.to_owned()).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("invalid_argument")),
            "{bad}"
        );
    }
    let (status, _) = call(
        &http,
        reqwest::Method::GET,
        format!("{}/v1/events", aio.base),
        &agent,
        None,
    )
    .await;
    assert_eq!(status, 403, "the feed is for admins");

    // Deliveries are counted by outcome, timed, and the backlog is measured (all-in-one serves
    // every component's metrics on the gateway's /metrics).
    wait_until(Duration::from_secs(20), "webhook metrics", || async {
        let page = scrape(&format!("{}/metrics", aio.base)).await;
        metric(&page, "switchboard_webhook_deliveries_total") >= 5.0
            && page.contains("switchboard_webhook_deliveries_total{outcome=\"dead\"} 1")
            && page.contains("switchboard_webhook_deliveries_total{outcome=\"failed\"} 1")
            && metric(&page, "switchboard_webhook_delivery_seconds_count") >= 5.0
            && page.contains("switchboard_webhook_backlog 0")
    })
    .await;

    // Unknown ids answer 404 and change nothing.
    for path in [
        format!("/v1/admin/webhooks/{}", uuid::Uuid::new_v4()),
        "/v1/admin/webhooks/not-a-uuid".to_owned(),
    ] {
        let (status, _) = call(
            &http,
            reqwest::Method::DELETE,
            format!("{}{path}", aio.base),
            &admin,
            None,
        )
        .await;
        assert!(status == 404 || status == 400, "{path}: {status}");
    }
    let (_, listed) = call(&http, reqwest::Method::GET, webhooks, &admin, None).await;
    assert_eq!(listed["webhooks"].as_array().map(Vec::len), Some(1));

    // Every change went into the audit log, with its outcome (the unknown ids' deletes failed).
    let (status, audit) = call(
        &http,
        reqwest::Method::GET,
        format!("{}/v1/admin/audit?action=webhook.&limit=500", aio.base),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200, "{audit}");
    let entries: Vec<(String, String)> = audit["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| {
            (
                event["action"].as_str().expect("action").to_owned(),
                event["outcome"].as_str().expect("outcome").to_owned(),
            )
        })
        .collect();
    for expected in ["webhook.create", "webhook.replay"] {
        assert!(
            entries
                .iter()
                .any(|(action, outcome)| action == expected && outcome == "succeeded"),
            "{expected} in {entries:?}"
        );
    }
    assert!(
        entries
            .iter()
            .any(|(action, outcome)| action == "webhook.delete" && outcome == "failed"),
        "{entries:?}"
    );
    assert!(
        !audit.to_string().contains("whsec_"),
        "no signing secret in the audit log"
    );
}
