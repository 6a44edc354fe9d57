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
