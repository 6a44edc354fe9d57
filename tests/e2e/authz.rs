//! The authorization matrix of the REST API: every route (read from the gateway's source, so a
//! new route without a row here fails the test) is called by nobody, an agent, an admin and API
//! tokens of each scope, and answers 401/403 exactly where its row says; then an admin of
//! another workspace calls every route that names an object of this one with that object's id
//! and gets 404, lists show none of this workspace's ids, and the objects are unchanged.

use crate::chat::{ADMIN_EMAIL, ADMIN_PASSWORD, Distributed, first_exchange};
use crate::token;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use switchboard_proto::agent::v1 as agent_pb;
use switchboard_proto::common::v1::AgentRole;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Anyone (pages, health, login).
    Public,
    /// Authenticates inside its own protocol (WebSocket `auth` frame).
    Socket,
    /// Any bearer; ends that session (checked on its own below).
    Logout,
    /// Any agent's session; API tokens have none.
    Session,
    /// An admin's or supervisor's session.
    Manager,
    /// An admin's session or an `admin` token.
    Admin,
    /// Any agent's session or any token.
    Read,
    /// Any agent's session or a `write`/`admin` token.
    Write,
    /// An admin's session or any token (the workspace's whole event feed).
    Feed,
}

/// Every route of the gateway with who may call it.
const ROUTES: &[(&str, &str, Access)] = &[
    ("GET", "/", Access::Public),
    ("GET", "/healthz", Access::Public),
    ("POST", "/v1/auth/login", Access::Public),
    ("POST", "/v1/auth/logout", Access::Logout),
    ("GET", "/v1/visitor/ws", Access::Socket),
    ("GET", "/v1/agent/ws", Access::Socket),
    ("GET", "/v1/me", Access::Session),
    ("GET", "/v1/me/sessions", Access::Session),
    ("DELETE", "/v1/me/sessions/{session_id}", Access::Session),
    ("POST", "/v1/me/sessions/revoke-others", Access::Session),
    ("GET", "/v1/me/two-factor", Access::Session),
    ("POST", "/v1/me/two-factor/setup", Access::Session),
    ("POST", "/v1/me/two-factor/enable", Access::Session),
    ("POST", "/v1/me/two-factor/disable", Access::Session),
    ("GET", "/v1/queue", Access::Session),
    ("GET", "/v1/canned-replies", Access::Session),
    ("POST", "/v1/canned-replies", Access::Session),
    ("PATCH", "/v1/canned-replies/{id}", Access::Session),
    ("DELETE", "/v1/canned-replies/{id}", Access::Session),
    ("PUT", "/v1/conversations/{id}/tags", Access::Session),
    ("GET", "/v1/directory", Access::Session),
    ("GET", "/v1/search", Access::Session),
    ("GET", "/v1/visitors/{id}", Access::Session),
    ("POST", "/v1/announcements", Access::Manager),
    ("GET", "/v1/conversations", Access::Read),
    ("GET", "/v1/conversations/{id}", Access::Read),
    ("GET", "/v1/conversations/{id}/messages", Access::Read),
    ("POST", "/v1/conversations/{id}/messages", Access::Write),
    ("POST", "/v1/conversations/{id}/close", Access::Write),
    ("GET", "/v1/events", Access::Feed),
    ("GET", "/v1/admin/overview", Access::Admin),
    ("GET", "/v1/admin/identity-secret", Access::Admin),
    ("GET", "/v1/admin/agents", Access::Admin),
    ("POST", "/v1/admin/agents", Access::Admin),
    ("PATCH", "/v1/admin/agents/{agent_id}", Access::Admin),
    (
        "POST",
        "/v1/admin/agents/{agent_id}/password",
        Access::Admin,
    ),
    (
        "POST",
        "/v1/admin/agents/{agent_id}/sessions/revoke",
        Access::Admin,
    ),
    (
        "POST",
        "/v1/admin/agents/{agent_id}/two-factor/reset",
        Access::Admin,
    ),
    ("GET", "/v1/admin/departments", Access::Admin),
    ("POST", "/v1/admin/departments", Access::Admin),
    (
        "PATCH",
        "/v1/admin/departments/{department_id}",
        Access::Admin,
    ),
    ("GET", "/v1/admin/audit", Access::Admin),
    ("GET", "/v1/admin/audit/export", Access::Admin),
    ("DELETE", "/v1/admin/visitors/{visitor_id}", Access::Admin),
    (
        "GET",
        "/v1/admin/visitors/{visitor_id}/export",
        Access::Admin,
    ),
    ("GET", "/v1/admin/retention", Access::Admin),
    ("PUT", "/v1/admin/retention", Access::Admin),
    ("GET", "/v1/admin/api-tokens", Access::Admin),
    ("POST", "/v1/admin/api-tokens", Access::Admin),
    ("DELETE", "/v1/admin/api-tokens/{token_id}", Access::Admin),
    ("GET", "/v1/admin/webhooks", Access::Admin),
    ("POST", "/v1/admin/webhooks", Access::Admin),
    ("PATCH", "/v1/admin/webhooks/{webhook_id}", Access::Admin),
    ("DELETE", "/v1/admin/webhooks/{webhook_id}", Access::Admin),
    (
        "POST",
        "/v1/admin/webhooks/{webhook_id}/rotate-secret",
        Access::Admin,
    ),
    (
        "GET",
        "/v1/admin/webhooks/{webhook_id}/deliveries",
        Access::Admin,
    ),
    (
        "POST",
        "/v1/admin/webhook-deliveries/{delivery_id}/replay",
        Access::Admin,
    ),
    ("GET", "/v1/admin/integrations/settings", Access::Admin),
    ("PUT", "/v1/admin/integrations/settings", Access::Admin),
];

/// The `(method, path)` of every `.route(...)` in the gateway's source.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("gateway/src");
    let mut files = vec![root];
    let mut found = BTreeSet::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read dir") {
                files.push(entry.expect("entry").path());
            }
            continue;
        }
        if path.extension().is_none_or(|ext| ext != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("read source");
        let mut rest = source.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            // The call's arguments: up to the matching parenthesis.
            let mut depth = 1;
            let end = rest
                .char_indices()
                .find(|(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(rest.len(), |(index, _)| index);
            let call = &rest[..end];
            let Some(path) = call.split('"').nth(1).filter(|path| path.starts_with('/')) else {
                continue;
            };
            let handlers = &call[call.find(',').unwrap_or(0)..];
            for method in ["get", "post", "put", "patch", "delete"] {
                let calls = handlers
                    .match_indices(&format!("{method}("))
                    .any(|(index, _)| {
                        index == 0
                            || !handlers[..index]
                                .chars()
                                .last()
                                .is_some_and(|c| c.is_alphanumeric() || c == '_')
                    });
                if calls {
                    found.insert((method.to_uppercase(), path.to_owned()));
                }
            }
        }
    }
    found
}

#[test]
fn every_route_of_the_gateway_has_a_row_in_the_matrix() {
    let matrix: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(method, path, _)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(matrix.len(), ROUTES.len(), "no duplicate rows");
    let source = routes_in_source();
    let missing: Vec<_> = source.difference(&matrix).collect();
    let stale: Vec<_> = matrix.difference(&source).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes without a row: {missing:?}; rows without a route: {stale:?}"
    );
}

async fn call(
    http: &reqwest::Client,
    method: &str,
    url: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, String) {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = http.request(method, url);
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

/// `path` with every `{param}` replaced by `value`.
fn fill(path: &str, value: &str) -> String {
    let mut filled = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').expect("closing brace") + open;
        filled.push_str(&rest[..open]);
        filled.push_str(value);
        rest = &rest[close + 1..];
    }
    filled.push_str(rest);
    filled
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Nobody,
    Agent,
    Admin,
    ReadToken,
    WriteToken,
    AdminToken,
}

/// Whether `caller` gets past authorization for `access` (401/403 otherwise).
fn let_in(access: Access, caller: Caller) -> Option<StatusCode> {
    use Caller::{Admin, AdminToken, Agent, Nobody, ReadToken, WriteToken};
    let refused = match (access, caller) {
        (Access::Public | Access::Socket | Access::Logout, _) => return None,
        (_, Nobody) => StatusCode::UNAUTHORIZED,
        (_, Admin) => return None,
        (Access::Session | Access::Manager, ReadToken | WriteToken | AdminToken) => {
            StatusCode::UNAUTHORIZED
        }
        (Access::Session | Access::Read | Access::Write, Agent) => return None,
        (Access::Read | Access::Feed, ReadToken | WriteToken | AdminToken) => return None,
        (Access::Write, WriteToken | AdminToken) => return None,
        (Access::Admin, AdminToken) => return None,
        (Access::Manager | Access::Admin | Access::Feed, Agent)
        | (Access::Write | Access::Admin, ReadToken)
        | (Access::Admin, WriteToken) => StatusCode::FORBIDDEN,
    };
    Some(refused)
}

#[tokio::test]
async fn every_route_checks_role_scope_and_workspace() {
    let system = Distributed::start(1).await;
    let base = system.base(0);
    let http = reqwest::Client::new();

    // Workspace A: a chat, an agent, a department, a canned reply, a webhook, tokens.
    let chat = first_exchange(&base, &base).await;
    let admin = token(&http, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let post = |url: String, bearer: String, body: Value| {
        let http = http.clone();
        async move {
            let (status, text) = call(&http, "POST", &url, Some(&bearer), Some(body)).await;
            assert!(status.is_success(), "{url}: {status} {text}");
            serde_json::from_str::<Value>(&text).unwrap_or(Value::Null)
        }
    };
    let agent_id = post(
        format!("{base}/v1/admin/agents"),
        admin.clone(),
        json!({ "name": "Ari", "email": "ari@acme.example", "password": "ari-password-1" }),
    )
    .await["agent"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let agent = token(&http, &base, "ari@acme.example", "ari-password-1").await;
    let department_id = post(
        format!("{base}/v1/admin/departments"),
        admin.clone(),
        json!({ "name": "Billing" }),
    )
    .await["department"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let reply_id = post(
        format!("{base}/v1/canned-replies"),
        admin.clone(),
        json!({ "shortcut": "/hi", "text": "Hello!", "scope": "workspace" }),
    )
    .await["reply"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, _) = call(
        &http,
        "PUT",
        &format!("{base}/v1/admin/integrations/settings"),
        Some(&admin),
        Some(json!({ "allow_private_network": true })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let webhook_id = post(
        format!("{base}/v1/admin/webhooks"),
        admin.clone(),
        json!({ "url": "http://127.0.0.1:9/hook", "events": ["conversation.closed"] }),
    )
    .await["webhook"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut tokens = Vec::new();
    for scope in ["read", "write", "admin"] {
        let created = post(
            format!("{base}/v1/admin/api-tokens"),
            admin.clone(),
            json!({ "name": format!("{scope} token"), "scopes": [scope], "rate_per_minute": 60000 }),
        )
        .await;
        tokens.push((
            created["api_token"]["id"].as_str().expect("id").to_owned(),
            created["token"].as_str().expect("token").to_owned(),
        ));
    }
    let conversation_id = chat.conversation_id.clone();
    let (_, visitor) = call(
        &http,
        "GET",
        &format!("{base}/v1/conversations/{conversation_id}"),
        Some(&admin),
        None,
    )
    .await;
    let visitor_id =
        serde_json::from_str::<Value>(&visitor).expect("json")["conversation"]["visitor_id"]
            .as_str()
            .expect("visitor id")
            .to_owned();

    // 1. Roles and scopes, with ids that exist nowhere and bodies that are not valid, so that
    //    getting past authorization changes nothing.
    let callers = [
        (Caller::Nobody, None),
        (Caller::Agent, Some(agent.clone())),
        (Caller::Admin, Some(admin.clone())),
        (Caller::ReadToken, Some(tokens[0].1.clone())),
        (Caller::WriteToken, Some(tokens[1].1.clone())),
        (Caller::AdminToken, Some(tokens[2].1.clone())),
    ];
    let nowhere = uuid::Uuid::now_v7().to_string();
    let mut checked = 0;
    for (method, path, access) in ROUTES {
        if matches!(access, Access::Public | Access::Socket | Access::Logout) {
            continue;
        }
        let url = format!("{base}{}", fill(path, &nowhere));
        let body = (*method != "GET" && *method != "DELETE").then(|| json!({ "unknown_field": 1 }));
        for (caller, bearer) in &callers {
            let (status, text) = call(&http, method, &url, bearer.as_deref(), body.clone()).await;
            match let_in(*access, *caller) {
                Some(refused) => assert_eq!(
                    status, refused,
                    "{caller:?} {method} {path}: expected {refused}, got {status} {text}"
                ),
                None => assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "{caller:?} {method} {path}: refused with {status} {text}"
                ),
            }
            assert!(
                !status.is_server_error(),
                "{caller:?} {method} {path}: {status} {text}"
            );
            checked += 1;
        }
    }
    assert!(checked > 300, "{checked}");
    // Logout needs a bearer and ends only the session it names.
    let (status, _) = call(&http, "POST", &format!("{base}/v1/auth/logout"), None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // 2. Workspace B's admin reaches nothing of workspace A.
    let mut agents = switchboard_proto::agent::v1::agent_management_service_client::AgentManagementServiceClient::connect(
        system.agents_url.clone(),
    )
    .await
    .expect("agents gRPC");
    let other = agents
        .create_workspace(agent_pb::CreateWorkspaceRequest {
            name: "Globex".into(),
        })
        .await
        .expect("workspace")
        .into_inner()
        .workspace
        .expect("workspace");
    agents
        .create_agent(agent_pb::CreateAgentRequest {
            workspace_id: other.id.clone(),
            name: "Gus".into(),
            email: "gus@globex.example".into(),
            password: "gus-password-1".into(),
            role: AgentRole::Admin as i32,
            max_concurrent: 3,
            ..Default::default()
        })
        .await
        .expect("admin of B");
    let intruder = token(&http, &base, "gus@globex.example", "gus-password-1").await;
    let (_, a_workspace) = call(&http, "GET", &format!("{base}/v1/me"), Some(&admin), None).await;
    let a_workspace_id =
        serde_json::from_str::<Value>(&a_workspace).expect("json")["workspace"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
    let targeted: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/v1/conversations/{conversation_id}"), None),
        (
            "GET",
            format!("/v1/conversations/{conversation_id}/messages"),
            None,
        ),
        (
            "POST",
            format!("/v1/conversations/{conversation_id}/messages"),
            Some(json!({ "client_msg_id": "x1", "text": "hijack" })),
        ),
        (
            "POST",
            format!("/v1/conversations/{conversation_id}/close"),
            None,
        ),
        (
            "PUT",
            format!("/v1/conversations/{conversation_id}/tags"),
            Some(json!({ "tags": ["hijacked"] })),
        ),
        ("GET", format!("/v1/visitors/{visitor_id}"), None),
        (
            "GET",
            format!("/v1/admin/visitors/{visitor_id}/export"),
            None,
        ),
        ("DELETE", format!("/v1/admin/visitors/{visitor_id}"), None),
        (
            "PATCH",
            format!("/v1/admin/agents/{agent_id}"),
            Some(json!({ "disabled": true })),
        ),
        (
            "POST",
            format!("/v1/admin/agents/{agent_id}/password"),
            Some(json!({ "password": "taken-over-123" })),
        ),
        (
            "POST",
            format!("/v1/admin/agents/{agent_id}/sessions/revoke"),
            None,
        ),
        (
            "POST",
            format!("/v1/admin/agents/{agent_id}/two-factor/reset"),
            None,
        ),
        (
            "PATCH",
            format!("/v1/admin/departments/{department_id}"),
            Some(json!({ "name": "Hijacked" })),
        ),
        (
            "PATCH",
            format!("/v1/canned-replies/{reply_id}"),
            Some(json!({ "text": "hijacked" })),
        ),
        ("DELETE", format!("/v1/canned-replies/{reply_id}"), None),
        (
            "PATCH",
            format!("/v1/admin/webhooks/{webhook_id}"),
            Some(json!({ "enabled": false })),
        ),
        ("DELETE", format!("/v1/admin/webhooks/{webhook_id}"), None),
        (
            "POST",
            format!("/v1/admin/webhooks/{webhook_id}/rotate-secret"),
            None,
        ),
        (
            "GET",
            format!("/v1/admin/webhooks/{webhook_id}/deliveries"),
            None,
        ),
        (
            "DELETE",
            format!("/v1/admin/api-tokens/{}", tokens[0].0),
            None,
        ),
    ];
    for (method, path, body) in &targeted {
        let (status, text) = call(
            &http,
            method,
            &format!("{base}{path}"),
            Some(&intruder),
            body.clone(),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "B's admin {method} {path}: {status} {text}"
        );
    }
    let secrets = [
        a_workspace_id.as_str(),
        conversation_id.as_str(),
        visitor_id.as_str(),
        agent_id.as_str(),
        department_id.as_str(),
        reply_id.as_str(),
        webhook_id.as_str(),
        tokens[0].0.as_str(),
    ];
    for path in [
        "/v1/conversations",
        "/v1/queue",
        "/v1/search?q=shipped",
        "/v1/directory",
        "/v1/canned-replies",
        "/v1/events",
        "/v1/admin/overview",
        "/v1/admin/agents",
        "/v1/admin/departments",
        "/v1/admin/webhooks",
        "/v1/admin/api-tokens",
        "/v1/admin/audit?limit=500",
        "/v1/admin/audit/export",
    ] {
        let (status, text) = call(
            &http,
            "GET",
            &format!("{base}{path}"),
            Some(&intruder),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "B's admin GET {path}: {text}");
        // B's audit log records the ids B itself sent in its refused attempts; what it must
        // not hold is anything of A that B did not already know.
        let unknown_to_b: &[&str] = if path.starts_with("/v1/admin/audit") {
            &[
                a_workspace_id.as_str(),
                "ari@acme.example",
                "Billing",
                "read token",
            ]
        } else {
            &secrets
        };
        for secret in unknown_to_b {
            assert!(
                !text.contains(secret),
                "B's admin GET {path} shows A's {secret}"
            );
        }
    }

    // 3. A's objects are as they were.
    let (status, messages) = call(
        &http,
        "GET",
        &format!("{base}/v1/conversations/{conversation_id}/messages"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let messages: Value = serde_json::from_str(&messages).expect("json");
    assert_eq!(messages["messages"].as_array().map(Vec::len), Some(2));
    let (_, conversation) = call(
        &http,
        "GET",
        &format!("{base}/v1/conversations/{conversation_id}"),
        Some(&admin),
        None,
    )
    .await;
    let conversation: Value = serde_json::from_str(&conversation).expect("json");
    assert_ne!(conversation["conversation"]["status"], "closed");
    assert!(
        conversation["conversation"]["tags"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    assert_eq!(
        call(&http, "GET", &format!("{base}/v1/me"), Some(&agent), None)
            .await
            .0,
        StatusCode::OK,
        "Ari is still signed in"
    );
    let (status, _) = call(
        &http,
        "POST",
        &format!("{base}/v1/auth/login"),
        None,
        Some(json!({ "email": "ari@acme.example", "password": "ari-password-1" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "Ari's password is unchanged");
    let (_, webhooks) = call(
        &http,
        "GET",
        &format!("{base}/v1/admin/webhooks"),
        Some(&admin),
        None,
    )
    .await;
    let webhooks: Value = serde_json::from_str(&webhooks).expect("json");
    assert_eq!(webhooks["webhooks"][0]["enabled"], true);
    let (status, _) = call(
        &http,
        "GET",
        &format!("{base}/v1/conversations"),
        Some(&tokens[0].1),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "A's read token still works");
    drop(chat);
}
