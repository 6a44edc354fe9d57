//! Login throttling: repeated failures lock an email for a while, whatever the password, and
//! only that email; unknown emails behave the same (no enumeration); success clears the count.

use super::{bootstrap, spawn_with};
use std::time::Duration;
use switchboard_platform::testing::{TestDb, wait_until};
use switchboard_proto::agent::v1 as pb;
use tonic::Code;

async fn locks_an_email_after_repeated_failures(database_url: String) {
    let mut app = spawn_with(database_url, |config| {
        config.login_max_failures = 3;
        config.login_lock_secs = 2;
    })
    .await;
    bootstrap(&mut app.client).await;
    let login = |email: &'static str, password: &'static str| {
        let mut client = app.client.clone();
        async move {
            client
                .login(pb::LoginRequest {
                    email: email.into(),
                    password: password.into(),
                    totp_code: None,
                })
                .await
        }
    };
    // Two failures, then a success: the count starts again.
    for _ in 0..2 {
        let refused = login("ada@example.com", "nope").await.expect_err("wrong");
        assert_eq!(refused.code(), Code::Unauthenticated);
    }
    login("ada@example.com", "s3cret-password")
        .await
        .expect("login");
    for _ in 0..2 {
        login("ada@example.com", "nope").await.expect_err("wrong");
    }
    login("ada@example.com", "s3cret-password")
        .await
        .expect("count cleared by success");

    // Three failures in a row lock the email, even for the right password.
    for _ in 0..3 {
        let refused = login("ADA@example.com ", "nope").await.expect_err("wrong");
        assert_eq!(refused.code(), Code::Unauthenticated);
    }
    let locked = login("ada@example.com", "s3cret-password")
        .await
        .expect_err("locked");
    assert_eq!(locked.code(), Code::ResourceExhausted);
    let retry_after: u64 = locked
        .metadata()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .expect("retry-after");
    assert!((1..=2).contains(&retry_after), "{retry_after}");

    // An unknown email answers exactly like a known one.
    for _ in 0..3 {
        let refused = login("nobody@example.com", "nope")
            .await
            .expect_err("unknown");
        assert_eq!(refused.code(), Code::Unauthenticated);
    }
    let unknown = login("nobody@example.com", "nope")
        .await
        .expect_err("locked");
    assert_eq!(unknown.code(), Code::ResourceExhausted);

    // The lock ends by itself.
    wait_until(Duration::from_secs(10), "the lock to end", || {
        let mut client = app.client.clone();
        async move {
            client
                .login(pb::LoginRequest {
                    email: "ada@example.com".into(),
                    password: "s3cret-password".into(),
                    totp_code: None,
                })
                .await
                .is_ok()
        }
    })
    .await;
}

#[tokio::test]
async fn repeated_failed_logins_lock_the_email_for_a_while_on_postgres() {
    locks_an_email_after_repeated_failures(TestDb::fresh().await.url).await;
}

#[tokio::test]
async fn repeated_failed_logins_lock_the_email_for_a_while_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    locks_an_email_after_repeated_failures(switchboard_platform::testing::sqlite_url(
        dir.path(),
        "agents.db",
    ))
    .await;
}
