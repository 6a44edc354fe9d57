//! The web pages, embedded in the binary: the demo site with the visitor widget (`/`), the widget
//! itself (`/widget.js`), the agent console (`/agent`) and the admin dashboard (`/admin`).
//!
//! Files live in `gateway/web/` and are compiled in with `include_str!`, so `switchboard` needs
//! no web server and no files next to it. They are plain HTML/CSS/JS with no build step.

use crate::error::ApiError;
use crate::state::Gateway;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
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

/// Routes of the embedded pages.
pub fn routes() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/", get(demo))
        .route(
            "/widget.js",
            get(|| asset(WIDGET, "text/javascript; charset=utf-8")),
        )
        .route("/agent", get(|| async { Html(AGENT) }))
        .route("/admin", get(|| async { Html(ADMIN) }))
        .route(
            "/assets/admin.js",
            get(|| asset(ADMIN_JS, "text/javascript; charset=utf-8")),
        )
        .route(
            "/assets/agent.js",
            get(|| asset(AGENT_JS, "text/javascript; charset=utf-8")),
        )
        .route(
            "/assets/common.js",
            get(|| asset(COMMON_JS, "text/javascript; charset=utf-8")),
        )
        .route(
            "/assets/i18n.js",
            get(|| asset(I18N_JS, "text/javascript; charset=utf-8")),
        )
        .route(
            "/assets/app.css",
            get(|| asset(APP_CSS, "text/css; charset=utf-8")),
        )
}

async fn asset(body: &'static str, content_type: &'static str) -> Response {
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
            Html(DEMO.replace("{{SITE_KEY}}", &html_attribute(&workspace.site_key))).into_response()
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
