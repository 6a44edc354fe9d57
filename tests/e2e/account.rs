//! Account security: an agent sees its sessions (where from), ends one or all others (open
//! sockets of an ended session close within a heartbeat), turns on TOTP two-factor (codes good
//! once), and an admin can end an agent's sessions and reset its two-factor; all audited.

use crate::chat::{ADMIN_EMAIL, ADMIN_PASSWORD, AllInOne};
use crate::token;
use crate::ws_client::WsClient;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_agent_management::two_factor;

async fn call(
    http: &reqwest::Client,
    method: Method,
    url: String,
    bearer: Option<&str>,
    user_agent: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = http.request(method, url).header("user-agent", user_agent);
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn login(
    http: &reqwest::Client,
    base: &str,
    user_agent: &str,
    totp: Option<&str>,
) -> (StatusCode, Value) {
    let mut body = json!({ "email": "cy@acme.example", "password": "cy-password-1" });
    if let Some(totp) = totp {
        body["totp"] = json!(totp);
    }
    call(
        http,
        Method::POST,
        format!("{base}/v1/auth/login"),
        None,
        user_agent,
        Some(body),
    )
    .await
}

async fn session_token(http: &reqwest::Client, base: &str, user_agent: &str) -> String {
    let (status, session) = login(http, base, user_agent, None).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    session["token"].as_str().expect("token").to_owned()
}

async fn status_of(http: &reqwest::Client, base: &str, token: &str) -> StatusCode {
    call(
        http,
        Method::GET,
        format!("{base}/v1/me"),
        Some(token),
        "probe",
        None,
    )
    .await
    .0
}

/// The code of `secret` for the step `offset` steps from now.
fn code_at(secret: &str, offset: i64) -> String {
    let bytes = data_encoding::BASE32_NOPAD
        .decode(secret.as_bytes())
        .expect("base32 secret");
    let step = two_factor::step_at(chrono::Utc::now().timestamp()) + offset;
    format!("{:06}", two_factor::code(&bytes, step))
}

#[tokio::test]
async fn agents_manage_their_sessions_and_two_factor_and_admins_can_step_in() {
    let data = tempfile::tempdir().expect("tempdir");
    let system = AllInOne::start(
        data.path(),
        &[("SWITCHBOARD_WS_HEARTBEAT_SECS", "1".to_owned())],
    )
    .await;
    let base = system.base.clone();
    let http = reqwest::Client::new();
    let admin = token(&http, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, created) = call(
        &http,
        Method::POST,
        format!("{base}/v1/admin/agents"),
        Some(&admin),
        "admin-browser",
        Some(json!({ "name": "Cy", "email": "cy@acme.example", "password": "cy-password-1" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let cy_id = created["agent"]["id"].as_str().expect("id").to_owned();

    // Two devices; the laptop sees both, itself marked current.
    let laptop = session_token(&http, &base, "Laptop/1.0").await;
    let phone = session_token(&http, &base, "Phone/2.0").await;
    let (status, listed) = call(
        &http,
        Method::GET,
        format!("{base}/v1/me/sessions"),
        Some(&laptop),
        "Laptop/1.0",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let sessions = listed["sessions"].as_array().expect("sessions").clone();
    assert_eq!(sessions.len(), 2);
    let phone_session = sessions
        .iter()
        .find(|session| session["user_agent"] == "Phone/2.0")
        .expect("the phone's session");
    assert_eq!(phone_session["current"], false);
    assert_eq!(phone_session["client_ip"], "127.0.0.1");
    assert!(
        sessions
            .iter()
            .any(|session| session["user_agent"] == "Laptop/1.0" && session["current"] == true)
    );
    assert!(
        !listed.to_string().contains(&laptop),
        "no token in the list"
    );

    // Ending the phone's session closes its open socket within a heartbeat.
    let (mut phone_socket, _) = WsClient::agent(&base, &phone).await;
    let phone_id = phone_session["id"].as_str().expect("id");
    let (status, ended) = call(
        &http,
        Method::DELETE,
        format!("{base}/v1/me/sessions/{phone_id}"),
        Some(&laptop),
        "Laptop/1.0",
        None,
    )
    .await;
    assert_eq!(
        (status, ended["revoked"].as_u64()),
        (StatusCode::OK, Some(1))
    );
    assert_eq!(
        status_of(&http, &base, &phone).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(phone_socket.expect("error").await["code"], "invalid_token");
    assert_eq!(
        phone_socket.close_code(Duration::from_secs(10)).await,
        Some(1008)
    );
    for bad in ["not-hex-at-all!!", "0000000000000000"] {
        let (status, _) = call(
            &http,
            Method::DELETE,
            format!("{base}/v1/me/sessions/{bad}"),
            Some(&laptop),
            "Laptop/1.0",
            None,
        )
        .await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND,
            "{bad}: {status}"
        );
    }

    // "Sign out everywhere else".
    let tablet = session_token(&http, &base, "Tablet/3.0").await;
    let (status, ended) = call(
        &http,
        Method::POST,
        format!("{base}/v1/me/sessions/revoke-others"),
        Some(&laptop),
        "Laptop/1.0",
        None,
    )
    .await;
    assert_eq!(
        (status, ended["revoked"].as_u64()),
        (StatusCode::OK, Some(1))
    );
    assert_eq!(
        status_of(&http, &base, &tablet).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(status_of(&http, &base, &laptop).await, StatusCode::OK);

    // Two-factor: set up, confirmed by a first code, then needed at every login, each code once.
    let me_2fa = format!("{base}/v1/me/two-factor");
    let (_, state) = call(
        &http,
        Method::GET,
        me_2fa.clone(),
        Some(&laptop),
        "Laptop/1.0",
        None,
    )
    .await;
    assert_eq!(state["enabled"], false);
    let (status, setup) = call(
        &http,
        Method::POST,
        format!("{me_2fa}/setup"),
        Some(&laptop),
        "Laptop/1.0",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let secret = setup["secret"].as_str().expect("secret").to_owned();
    assert!(
        setup["otpauth_uri"]
            .as_str()
            .expect("uri")
            .contains(&format!("secret={secret}"))
    );
    let accepted: Vec<String> = (-1..=1).map(|offset| code_at(&secret, offset)).collect();
    let wrong = (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|code| !accepted.contains(code))
        .expect("a wrong code");
    let (status, refused) = call(
        &http,
        Method::POST,
        format!("{me_2fa}/enable"),
        Some(&laptop),
        "Laptop/1.0",
        Some(json!({ "code": wrong })),
    )
    .await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_totp"))
    );
    // Kept: the same code must later be refused, even if the clock moved to the next step.
    let first = code_at(&secret, 0);
    let (status, _) = call(
        &http,
        Method::POST,
        format!("{me_2fa}/enable"),
        Some(&laptop),
        "Laptop/1.0",
        Some(json!({ "code": first })),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, state) = call(
        &http,
        Method::GET,
        me_2fa.clone(),
        Some(&laptop),
        "Laptop/1.0",
        None,
    )
    .await;
    assert_eq!(state["enabled"], true);

    let (status, answer) = login(&http, &base, "Laptop/1.0", None).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("totp_required"))
    );
    assert!(answer.get("token").is_none());
    // The code that confirmed the setup was used: it cannot sign in.
    let (status, answer) = login(&http, &base, "Laptop/1.0", Some(&first)).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_totp"))
    );
    let next = code_at(&secret, 1);
    let (status, answer) = login(&http, &base, "Laptop/1.0", Some(&next)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = login(&http, &base, "Laptop/1.0", Some(&next)).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_totp")),
        "a code is good once"
    );
    let (status, answer) = call(
        &http,
        Method::POST,
        format!("{me_2fa}/disable"),
        Some(&laptop),
        "Laptop/1.0",
        Some(json!({ "code": wrong })),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_totp"))
    );

    // The admin's levers: an agent may not pull them; the admin resets two-factor (lost phone)
    // and ends every session.
    for path in [
        format!("/v1/admin/agents/{cy_id}/two-factor/reset"),
        format!("/v1/admin/agents/{cy_id}/sessions/revoke"),
    ] {
        let (status, _) = call(
            &http,
            Method::POST,
            format!("{base}{path}"),
            Some(&laptop),
            "Laptop/1.0",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let (status, _) = call(
        &http,
        Method::POST,
        format!("{base}/v1/admin/agents/{cy_id}/two-factor/reset"),
        Some(&admin),
        "admin-browser",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let fresh = session_token(&http, &base, "Laptop/1.0").await;
    let (status, ended) = call(
        &http,
        Method::POST,
        format!("{base}/v1/admin/agents/{cy_id}/sessions/revoke"),
        Some(&admin),
        "admin-browser",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(ended["revoked"].as_u64().expect("count") >= 2);
    for token in [&laptop, &fresh] {
        assert_eq!(
            status_of(&http, &base, token).await,
            StatusCode::UNAUTHORIZED
        );
    }
    let (status, unknown) = call(
        &http,
        Method::POST,
        format!(
            "{base}/v1/admin/agents/{}/sessions/revoke",
            uuid::Uuid::now_v7()
        ),
        Some(&admin),
        "admin-browser",
        None,
    )
    .await;
    assert_eq!(
        (status, unknown["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("agent_not_found"))
    );

    let (_, audit) = call(
        &http,
        Method::GET,
        format!("{base}/v1/admin/audit?action=auth.&limit=500"),
        Some(&admin),
        "admin-browser",
        None,
    )
    .await;
    let actions: Vec<&str> = audit["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|event| event["action"].as_str())
        .collect();
    for expected in [
        "auth.sessions_revoke",
        "auth.two_factor_enable",
        "auth.two_factor_reset",
        "auth.login_failed",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    assert!(
        !audit.to_string().contains(&secret),
        "no TOTP secret in the log"
    );
}
