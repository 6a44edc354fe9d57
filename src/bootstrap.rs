//! First start: create a workspace and its admin when the database has none, and tell the
//! person at the console how to log in.
//!
//! The admin's credentials come from `SWITCHBOARD_BOOTSTRAP_EMAIL` / `_PASSWORD`; without a
//! password, a random one is generated and printed once. There is never a fixed default password.

use crate::config::Settings;
use secrecy::ExposeSecret;
use switchboard_proto::agent::v1::{
    BootstrapRequest, agent_management_service_client::AgentManagementServiceClient,
};

/// Admin email used when none is configured.
const DEFAULT_ADMIN_EMAIL: &str = "admin@switchboard.local";

/// What bootstrap did.
#[derive(Debug)]
pub(crate) struct Report {
    /// A workspace was created now.
    created: bool,
    email: String,
    /// The password, when it was generated here (shown once).
    generated_password: Option<String>,
    site_key: String,
}

/// Creates the first workspace and admin through agent-management unless one exists.
pub(crate) async fn ensure(agents_url: &str, settings: &Settings) -> Result<Report, tonic::Status> {
    let channel = switchboard_platform::grpc::channel(agents_url)
        .map_err(|error| tonic::Status::unavailable(error.to_string()))?;
    let email = settings
        .bootstrap_email
        .clone()
        .unwrap_or_else(|| DEFAULT_ADMIN_EMAIL.to_owned());
    let (password, generated) = match &settings.bootstrap_password {
        Some(password) => (password.expose_secret().to_owned(), false),
        None => (
            switchboard_agent_management::auth::generate_password(),
            true,
        ),
    };
    let response = AgentManagementServiceClient::new(channel)
        .bootstrap(BootstrapRequest {
            workspace_name: settings.bootstrap_workspace.clone(),
            admin_name: "Administrator".to_owned(),
            admin_email: email.clone(),
            admin_password: password.clone(),
        })
        .await?
        .into_inner();
    Ok(Report {
        created: response.created,
        email,
        generated_password: (response.created && generated).then_some(password),
        site_key: response
            .workspace
            .map(|workspace| workspace.site_key)
            .unwrap_or_default(),
    })
}

/// Prints how to reach and log in to Switchboard; `url` is the UI address when this process
/// serves one.
pub(crate) fn announce(report: &Report, url: Option<&str>) {
    println!();
    match url {
        Some(url) => println!("Switchboard is running at {url}"),
        None => println!("Switchboard agent-management is running"),
    }
    if report.created {
        println!("  created workspace and admin {}", report.email);
    }
    match (&report.generated_password, report.created) {
        (Some(password), _) => println!(
            "  log in as {} with password {password}  (generated; shown only this once)",
            report.email
        ),
        (None, true) => println!(
            "  log in as {} with SWITCHBOARD_BOOTSTRAP_PASSWORD",
            report.email
        ),
        (None, false) => println!("  log in with your existing admin account"),
    }
    println!("  site key for the visitor widget: {}", report.site_key);
    println!();
}
