//! Account security at the edge: repeated failed logins are throttled with a stable code and a
//! `Retry-After`, and the lock holds even for the right password.

use crate::chat::{ADMIN_EMAIL, ADMIN_PASSWORD, AllInOne};
use crate::login;
use serde_json::Value;

#[tokio::test]
async fn repeated_failed_logins_answer_429_with_retry_after() {
    let data = tempfile::tempdir().expect("tempdir");
    let aio = AllInOne::start(data.path(), &[]).await;
    let http = reqwest::Client::new();
    for _ in 0..5 {
        let response = login(&http, &aio.base, ADMIN_EMAIL, "not-the-password").await;
        assert_eq!(response.status(), 401);
    }
    let response = login(&http, &aio.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .expect("Retry-After");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "too_many_attempts");
    // Nothing leaks: no token, no agent.
    assert!(body.get("token").is_none());
}

/// Opens a raw agent socket upgrade, optionally as forwarded for `forwarded_for`; returns the
/// socket or the HTTP status that refused the upgrade.
async fn open_socket(
    base: &str,
    forwarded_for: Option<&str>,
) -> Result<crate::ws_client::WsClient, (u16, String)> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("{}/v1/agent/ws", base.replace("http://", "ws://"))
        .into_client_request()
        .expect("request");
    if let Some(address) = forwarded_for {
        request
            .headers_mut()
            .insert("x-forwarded-for", address.parse().expect("header"));
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(crate::ws_client::WsClient::from_socket(socket)),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let body = response
                .body()
                .as_ref()
                .map(|body| String::from_utf8_lossy(body).into_owned())
                .unwrap_or_default();
            Err((response.status().as_u16(), body))
        }
        Err(error) => panic!("unexpected handshake error: {error}"),
    }
}

#[tokio::test]
async fn a_connection_flood_from_one_address_is_refused_and_others_still_connect() {
    let data = tempfile::tempdir().expect("tempdir");
    let aio = AllInOne::start(
        data.path(),
        &[("SWITCHBOARD_WS_MAX_CONNECTIONS_PER_ADDRESS", "3".to_owned())],
    )
    .await;
    // The test client is on loopback, a trusted proxy by default: it plays nginx, which appends
    // the address it saw to X-Forwarded-For.
    const FLOODER: &str = "198.51.100.9";
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(
            open_socket(&aio.base, Some(FLOODER))
                .await
                .expect("within the limit"),
        );
    }
    let (status, body) = open_socket(&aio.base, Some(FLOODER))
        .await
        .err()
        .expect("the fourth socket from one address is refused");
    assert_eq!(status, 429);
    let body: Value = serde_json::from_str(&body).expect("json error body");
    assert_eq!(body["error"]["code"], "too_many_connections");
    // Claiming another address in the header does not help: the proxy's hop is what counts.
    let (status, _) = open_socket(&aio.base, Some(&format!("203.0.113.99, {FLOODER}")))
        .await
        .err()
        .expect("a forged hop is not believed");
    assert_eq!(status, 429);

    // Everyone else still connects, and the held sockets still work.
    let mut other = open_socket(&aio.base, Some("203.0.113.50"))
        .await
        .expect("another address connects");
    let session: Value = login(
        &reqwest::Client::new(),
        &aio.base,
        ADMIN_EMAIL,
        ADMIN_PASSWORD,
    )
    .await
    .json()
    .await
    .expect("json");
    let token = session["token"].as_str().expect("token");
    for socket in [&mut held[0], &mut other] {
        socket
            .send(serde_json::json!({ "type": "auth", "token": token }))
            .await;
        assert!(socket.expect("welcome").await["agent_id"].is_string());
    }

    // Closing one frees its slot (once the gateway has seen the close).
    drop(held.pop());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match open_socket(&aio.base, Some(FLOODER)).await {
            Ok(socket) => {
                held.push(socket);
                break;
            }
            Err((status, _)) => {
                assert_eq!(status, 429);
                assert!(
                    std::time::Instant::now() < deadline,
                    "the closed socket's slot was never freed"
                );
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}
