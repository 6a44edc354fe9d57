//! Preparing a workspace through the admin REST API: log in as admin, read the site key, create
//! a department and the agents of this run, and log each agent in.
//!
//! Every run gets its own department, so routing hands this run's visitors only to this run's
//! agents, whatever else is online in the workspace. Agents are never deleted (the API has no
//! delete); their emails carry the run id.

use crate::error::{BenchError, Result};
use futures_util::{StreamExt, TryStreamExt, stream};
use serde_json::{Value, json};
use std::time::Duration;

/// Logins and agent creations running at once (each hashes a password on the server).
const REST_CONCURRENCY: usize = 4;
/// Bound on every REST call.
const REST_TIMEOUT: Duration = Duration::from_secs(60);

/// The workspace as this run uses it.
#[derive(Debug, Clone)]
pub(crate) struct Workspace {
    /// The visitor widget's site key.
    pub(crate) site_key: String,
    /// The department created for this run.
    pub(crate) department_id: String,
    /// The agents created for this run, in index order.
    pub(crate) agents: Vec<AgentAccount>,
}

/// One created and logged-in agent.
#[derive(Debug, Clone)]
pub(crate) struct AgentAccount {
    /// Its session token, for the `auth` frame.
    pub(crate) token: String,
}

/// Creates the department and `count` agents of run `run_id` with room for `capacity`
/// conversations each, through the admin API at `base`.
pub(crate) async fn prepare(
    base: &str,
    admin_email: &str,
    admin_password: &str,
    run_id: &str,
    count: usize,
    capacity: usize,
) -> Result<Workspace> {
    let http = reqwest::Client::builder()
        .timeout(REST_TIMEOUT)
        .build()
        .map_err(|source| BenchError::Http {
            what: "build the HTTP client".into(),
            source,
        })?;
    let rest = Rest { http, base };
    let session = rest.login(admin_email, admin_password).await?;
    if session["agent"]["role"] != "admin" {
        return Err(BenchError::Config(format!(
            "{admin_email} is not an admin of its workspace (role {})",
            session["agent"]["role"]
        )));
    }
    let admin_token = text(&session["token"], "login: token")?;
    let me = rest
        .call(
            rest.http.get(rest.url("/v1/me")).bearer_auth(&admin_token),
            "GET /v1/me",
            200,
        )
        .await?;
    let site_key = text(
        &me["workspace"]["site_key"],
        "GET /v1/me: workspace.site_key",
    )?;
    let department = rest
        .call(
            rest.http
                .post(rest.url("/v1/admin/departments"))
                .bearer_auth(&admin_token)
                .json(&json!({ "name": format!("bench {run_id}") })),
            "create the bench department",
            201,
        )
        .await?;
    let department_id = text(&department["department"]["id"], "department.id")?;
    let password = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let agents = stream::iter(0..count)
        .map(|index| {
            let (rest, admin_token, department_id, password) =
                (&rest, &admin_token, &department_id, &password);
            async move {
                let email = format!("bench-{run_id}-{index}@bench.example");
                let created = rest
                    .call(
                        rest.http
                            .post(rest.url("/v1/admin/agents"))
                            .bearer_auth(admin_token)
                            .json(&json!({
                                "name": format!("Bench agent {index}"),
                                "email": email,
                                "password": password,
                                "role": "agent",
                                "max_concurrent": capacity,
                                "department_ids": [department_id],
                            })),
                        &format!("create agent {email}"),
                        201,
                    )
                    .await?;
                text(&created["agent"]["id"], "agent.id")?;
                let session = rest.login(&email, password).await?;
                let token = text(&session["token"], "login: token")?;
                Ok::<_, BenchError>(AgentAccount { token })
            }
        })
        .buffered(REST_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(Workspace {
        site_key,
        department_id,
        agents,
    })
}

struct Rest<'a> {
    http: reqwest::Client,
    base: &'a str,
}

impl Rest<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.trim_end_matches('/'))
    }

    async fn login(&self, email: &str, password: &str) -> Result<Value> {
        self.call(
            self.http
                .post(self.url("/v1/auth/login"))
                .json(&json!({ "email": email, "password": password })),
            &format!("log in as {email}"),
            200,
        )
        .await
    }

    /// Sends `request` and returns its JSON body when the status is `expected`.
    async fn call(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
        expected: u16,
    ) -> Result<Value> {
        let http_error = |source| BenchError::Http {
            what: what.to_owned(),
            source,
        };
        let response = request.send().await.map_err(http_error)?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(http_error)?;
        if status != expected {
            let mut body = body;
            body.truncate(body.floor_char_boundary(500));
            return Err(BenchError::Api {
                what: what.to_owned(),
                status,
                body,
            });
        }
        serde_json::from_str(&body).map_err(|error| BenchError::Api {
            what: what.to_owned(),
            status,
            body: format!("not JSON ({error})"),
        })
    }
}

fn text(value: &Value, what: &str) -> Result<String> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| BenchError::Protocol {
            who: "admin API".into(),
            message: format!("{what} missing in the answer"),
        })
}
