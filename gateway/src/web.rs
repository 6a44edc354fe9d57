//! The web pages, embedded in the binary: the demo site with the visitor widget (`/`), the widget
//! itself (`/widget.js`), the agent console (`/agent`) and the admin dashboard (`/admin`).
//!
//! Files live in `gateway/web/` and are compiled in with `include_str!`, so `switchboard` needs
//! no web server and no files next to it. They are plain HTML/CSS/JS with no build step. With
//! `SWITCHBOARD_WEB_DIR` set, each request reads the file from that directory instead, so front-end
//! changes show on reload without rebuilding.

use crate::error::ApiError;
use crate::state::Gateway;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use std::borrow::Cow;
use std::sync::Arc;
use switchboard_proto::agent::v1::GetDefaultWorkspaceRequest;

const DEMO: &str = include_str!("../web/demo.html");
const WIDGET: &str = include_str!("../web/widget.js");
const AGENT: &str = include_str!("../web/agent.html");
const AGENT_JS: &str = include_str!("../web/agent.js");
const COMMON_JS: &str = include_str!("../web/common.js");
const I18N_JS: &str = include_str!("../web/i18n.js");
const APP_CSS: &str = include_str!("../web/app.css");
const ADMIN: &str = include_str!("../web/admin.html");
const ADMIN_JS: &str = include_str!("../web/admin.js");
const ADMIN_WEBHOOKS_JS: &str = include_str!("../web/admin-webhooks.js");
const ADMIN_AUDIT_JS: &str = include_str!("../web/admin-audit.js");
const ADMIN_TOKENS_JS: &str = include_str!("../web/admin-tokens.js");
const SECURITY_JS: &str = include_str!("../web/security.js");

/// Each page: URL path, file name in `gateway/web/`, embedded copy, content type.
const PAGES: [(&str, &str, &str, &str); 12] = [
    ("/widget.js", "widget.js", WIDGET, JS),
    ("/agent", "agent.html", AGENT, HTML),
    ("/admin", "admin.html", ADMIN, HTML),
    ("/assets/admin.js", "admin.js", ADMIN_JS, JS),
    (
        "/assets/admin-webhooks.js",
        "admin-webhooks.js",
        ADMIN_WEBHOOKS_JS,
        JS,
    ),
    (
        "/assets/admin-audit.js",
        "admin-audit.js",
        ADMIN_AUDIT_JS,
        JS,
    ),
    (
        "/assets/admin-tokens.js",
        "admin-tokens.js",
        ADMIN_TOKENS_JS,
        JS,
    ),
    ("/assets/security.js", "security.js", SECURITY_JS, JS),
    ("/assets/agent.js", "agent.js", AGENT_JS, JS),
    ("/assets/common.js", "common.js", COMMON_JS, JS),
    ("/assets/i18n.js", "i18n.js", I18N_JS, JS),
    ("/assets/app.css", "app.css", APP_CSS, CSS),
];
const JS: &str = "text/javascript; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Routes of the embedded pages.
pub fn routes() -> Router<Arc<Gateway>> {
    PAGES.into_iter().fold(
        Router::new().route("/", get(demo)),
        |router, (path, file, embedded, content_type)| {
            router.route(
                path,
                get(move |State(gateway): State<Arc<Gateway>>| async move {
                    asset(load(&gateway, file, embedded).await, content_type).await
                }),
            )
        },
    )
}

/// Returns a page: from `web_dir` when configured (falling back to the embedded copy when the
/// file cannot be read), else the embedded copy.
async fn load(gateway: &Gateway, file: &str, embedded: &'static str) -> Cow<'static, str> {
    let Some(dir) = &gateway.config.web_dir else {
        return Cow::Borrowed(embedded);
    };
    match tokio::fs::read_to_string(dir.join(file)).await {
        Ok(text) => Cow::Owned(text),
        Err(error) => {
            tracing::warn!(file, %error, "cannot read web file, serving the embedded copy");
            Cow::Borrowed(embedded)
        }
    }
}

async fn asset(body: Cow<'static, str>, content_type: &'static str) -> Response {
    // Not content-hashed yet, so browsers revalidate instead of caching stale code.
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The demo shop page, with the widget of the first workspace.
async fn demo(State(gateway): State<Arc<Gateway>>) -> Response {
    let workspace = gateway
        .peers
        .agents
        .clone()
        .get_default_workspace(GetDefaultWorkspaceRequest {})
        .await
        .map(|response| response.into_inner().workspace);
    match workspace {
        Ok(Some(workspace)) => {
            let page = load(&gateway, "demo.html", DEMO).await;
            Html(page.replace("{{SITE_KEY}}", &html_attribute(&workspace.site_key))).into_response()
        }
        Ok(None) => {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no workspace yet").into_response()
        }
        Err(status) => ApiError::from_status(&status, "not_found").into_response(),
    }
}

/// Escapes a value for a double-quoted HTML attribute.
fn html_attribute(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::html_attribute;

    #[test]
    fn escapes_attribute_values() {
        assert_eq!(html_attribute(r#"a"<b>&"#), "a&quot;&lt;b&gt;&amp;");
    }
}
