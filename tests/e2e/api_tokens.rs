//! API tokens and the public conversation API: scopes decide what a token reaches, the secret is
//! shown once and stored only hashed, revoked tokens stop working at once with a stable code,
//! each token has its own rate limit, and a bot's message reaches the visitor like any other.

use crate::chat::{ADMIN_EMAIL, ADMIN_PASSWORD, AllInOne, first_exchange};
use crate::{me, token};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn call(
    http: &reqwest::Client,
    method: Method,
    url: String,
    bearer: &str,
    body: Option<Value>,
) -> (StatusCode, Value, Option<String>) {
    let mut request = http.request(method, url).bearer_auth(bearer);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body, retry_after)
}

/// Creates a token and returns (id, secret).
async fn create_token(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    body: Value,
) -> (String, String) {
    let (status, created, _) = call(
        http,
        Method::POST,
        format!("{base}/v1/admin/api-tokens"),
        admin,
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["token"].as_str().expect("token").to_owned();
    assert!(secret.starts_with("sbk_") && secret.len() == 68, "{secret}");
    assert_eq!(
        created["api_token"]["prefix"].as_str(),
        Some(&secret[..12]),
        "the prefix tells tokens apart"
    );
    (
        created["api_token"]["id"].as_str().expect("id").to_owned(),
        secret,
    )
}

#[tokio::test]
async fn api_tokens_reach_what_their_scopes_allow_until_revoked() {
    let data = tempfile::tempdir().expect("tempdir");
    let system = AllInOne::start(data.path(), &[]).await;
    let base = system.base.clone();
    let http = reqwest::Client::new();
    let mut chat = first_exchange(&base, &base).await;
    let conversation_id = chat.conversation_id.clone();
    let admin = token(&http, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin_id = me(&http, &base, &admin)
        .await
        .json::<Value>()
        .await
        .expect("json")["agent"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let tokens_url = format!("{base}/v1/admin/api-tokens");

    // Bad input: clear codes, nothing created.
    for body in [
        json!({ "name": "x", "scopes": ["superuser"] }),
        json!({ "name": "x", "scopes": [] }),
        json!({ "name": "", "scopes": ["read"] }),
        json!({ "name": "x", "scopes": ["read"], "rate_per_minute": 70000 }),
        json!({ "name": "x", "scopes": ["read"], "expires_in_days": 4000 }),
        json!({ "name": "x", "scopes": ["read"], "colour": "red" }),
    ] {
        let (status, answer, _) = call(
            &http,
            Method::POST,
            tokens_url.clone(),
            &admin,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
    }
    let (_, listed, _) = call(&http, Method::GET, tokens_url.clone(), &admin, None).await;
    assert_eq!(listed["api_tokens"].as_array().map(Vec::len), Some(0));

    let (reader_id, reader) = create_token(
        &http,
        &base,
        &admin,
        json!({ "name": "BI export", "scopes": ["read"] }),
    )
    .await;
    let (_, writer) = create_token(
        &http,
        &base,
        &admin,
        json!({ "name": "Order bot", "scopes": ["write"], "expires_in_days": 30 }),
    )
    .await;
    let (admin_token_id, admin_token) = create_token(
        &http,
        &base,
        &admin,
        json!({ "name": "Provisioning", "scopes": ["admin"] }),
    )
    .await;
    let (_, slow) = create_token(
        &http,
        &base,
        &admin,
        json!({ "name": "Slow", "scopes": ["read"], "rate_per_minute": 6 }),
    )
    .await;
    let (_, listed, _) = call(&http, Method::GET, tokens_url.clone(), &admin, None).await;
    let listed_text = listed.to_string();
    for secret in [&reader, &writer, &admin_token, &slow] {
        assert!(
            !listed_text.contains(&secret[12..]),
            "secrets are never listed"
        );
    }
    assert_eq!(listed["api_tokens"].as_array().map(Vec::len), Some(4));

    // read: conversations and messages, with cursor paging; no writes, no admin.
    let (status, page, _) = call(
        &http,
        Method::GET,
        format!("{base}/v1/conversations?limit=1"),
        &reader,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["conversations"][0]["id"], conversation_id.as_str());
    let after = page["next_after"]
        .as_str()
        .expect("a full page has a cursor");
    let (_, next, _) = call(
        &http,
        Method::GET,
        format!("{base}/v1/conversations?limit=1&after={after}"),
        &reader,
        None,
    )
    .await;
    assert_eq!(next["conversations"].as_array().map(Vec::len), Some(0));
    assert!(next["next_after"].is_null());
    let (status, messages, _) = call(
        &http,
        Method::GET,
        format!("{base}/v1/conversations/{conversation_id}/messages"),
        &reader,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let seqs: Vec<u64> = messages["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|message| message["seq"].as_u64())
        .collect();
    assert_eq!(seqs, vec![1, 2]);
    let bot_message = json!({ "client_msg_id": "bot-1", "text": "Your order #1042 shipped." });
    let messages_url = format!("{base}/v1/conversations/{conversation_id}/messages");
    let (status, answer, _) = call(
        &http,
        Method::POST,
        messages_url.clone(),
        &reader,
        Some(bot_message.clone()),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    for token in [&reader, &writer] {
        let (status, _, _) = call(
            &http,
            Method::GET,
            format!("{base}/v1/admin/agents"),
            token,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, _, _) = call(
        &http,
        Method::GET,
        format!("{base}/v1/events"),
        &reader,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "integrations read the event feed");

    // write: a bot message reaches the visitor; a retry returns the original.
    let (status, sent, _) = call(
        &http,
        Method::POST,
        messages_url.clone(),
        &writer,
        Some(bot_message.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    assert_eq!(sent["message"]["seq"], 3);
    assert_eq!(sent["message"]["sender"]["kind"], "system");
    assert_eq!(sent["message"]["sender"]["name"], "Order bot");
    let delivered = chat.visitor.messages_until(&conversation_id, 3).await;
    let last = delivered.last().expect("delivered");
    assert_eq!(
        (last["seq"].as_u64(), last["text"].as_str()),
        (Some(3), Some("Your order #1042 shipped."))
    );
    let (status, retried, _) = call(
        &http,
        Method::POST,
        messages_url.clone(),
        &writer,
        Some(bot_message),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            retried["duplicate"].as_bool(),
            retried["message"]["seq"].as_u64()
        ),
        (Some(true), Some(3))
    );
    for (body, code) in [
        (
            json!({ "client_msg_id": "bot-2", "text": "   " }),
            "invalid_argument",
        ),
        (
            json!({ "client_msg_id": "bot-3", "text": "x".repeat(9000) }),
            "message_too_large",
        ),
    ] {
        let (_, answer, _) = call(
            &http,
            Method::POST,
            messages_url.clone(),
            &writer,
            Some(body),
        )
        .await;
        assert_eq!(answer["error"]["code"], code);
    }
    let (status, missing, _) = call(
        &http,
        Method::GET,
        format!("{base}/v1/conversations/{}", uuid::Uuid::now_v7()),
        &writer,
        None,
    )
    .await;
    assert_eq!(
        (status, missing["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("conversation_not_found"))
    );
    let (status, closed, _) = call(
        &http,
        Method::POST,
        format!("{base}/v1/conversations/{conversation_id}/close"),
        &writer,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["conversation"]["status"], "closed");
    let (status, late, _) = call(
        &http,
        Method::POST,
        messages_url.clone(),
        &writer,
        Some(json!({ "client_msg_id": "bot-4", "text": "still there?" })),
    )
    .await;
    assert_eq!(
        (status, late["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("conversation_closed"))
    );

    // admin: admin routes, audited as the token.
    let (status, department, _) = call(
        &http,
        Method::POST,
        format!("{base}/v1/admin/departments"),
        &admin_token,
        Some(json!({ "name": "Provisioned" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{department}");
    let (_, audit, _) = call(
        &http,
        Method::GET,
        format!("{base}/v1/admin/audit?limit=500"),
        &admin,
        None,
    )
    .await;
    let events = audit["events"].as_array().expect("events");
    let provisioned = events
        .iter()
        .find(|event| event["action"] == "department.create")
        .expect("department.create audited");
    assert_eq!(
        provisioned["actor_id"],
        format!("token:{admin_token_id}").as_str()
    );
    let created: Vec<&Value> = events
        .iter()
        .filter(|event| event["action"] == "api_token.create")
        .collect();
    assert_eq!(created.len(), 4);
    assert!(
        created
            .iter()
            .all(|event| event["actor_id"] == admin_id.as_str())
    );
    assert!(
        !audit.to_string().contains(&reader[12..]),
        "no secret in the audit log"
    );

    // Per-token rate limit: 6 a minute allows a burst of 1, then 429 with Retry-After; other
    // tokens are unaffected.
    let read_url = format!("{base}/v1/conversations/{conversation_id}");
    let (status, _, _) = call(&http, Method::GET, read_url.clone(), &slow, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, limited, retry_after) =
        call(&http, Method::GET, read_url.clone(), &slow, None).await;
    assert_eq!(
        (status, limited["error"]["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
    let retry_after: u64 = retry_after.expect("Retry-After").parse().expect("seconds");
    assert!((1..=60).contains(&retry_after));
    let (status, _, _) = call(&http, Method::GET, read_url.clone(), &reader, None).await;
    assert_eq!(status, StatusCode::OK);

    // Revocation takes effect on the next request, with its own code; last use is recorded.
    let (status, revoked, _) = call(
        &http,
        Method::DELETE,
        format!("{tokens_url}/{reader_id}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(revoked["api_token"]["revoked_at"].is_string());
    assert!(revoked["api_token"]["last_used_at"].is_string());
    let (status, refused, _) = call(&http, Method::GET, read_url.clone(), &reader, None).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("token_revoked"))
    );
    let forged = format!("sbk_{}", "0".repeat(64));
    let (status, refused, _) = call(&http, Method::GET, read_url.clone(), &forged, None).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let (status, _, _) = call(
        &http,
        Method::DELETE,
        format!("{tokens_url}/{}", uuid::Uuid::now_v7()),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A token cannot open an agent socket: those need a session.
    let (status, _, _) = call(&http, Method::GET, format!("{base}/v1/me"), &writer, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
