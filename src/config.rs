//! Settings of the `switchboard` binary: one flat set of `SWITCHBOARD_*` keys, mapped onto each
//! component's own config. Validation happens here, before anything binds, so that a bad value
//! ends the process with one line and exit code 64.

use crate::cli::Command;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Every setting of the binary. Environment: `SWITCHBOARD_<FIELD IN UPPER CASE>`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Settings {
    /// Where the gateway listens (HTTP and WebSocket).
    pub(crate) http_addr: String,
    /// Where the embedded mode keeps its SQLite files.
    pub(crate) data_dir: PathBuf,
    /// PostgreSQL URL; required by the separate service commands.
    pub(crate) database_url: Option<String>,
    /// NATS URL; required by the separate service commands.
    pub(crate) nats_url: Option<String>,
    /// Prefix of every NATS subject and stream.
    pub(crate) subject_prefix: String,
    /// Where a separate service command listens for gRPC (default per service: 50051-50053).
    pub(crate) grpc_addr: Option<String>,
    /// Where a separate service command serves `/metrics` (default per service: 9101-9103);
    /// the gateway and all-in-one serve it on the HTTP address.
    pub(crate) metrics_addr: Option<String>,
    /// Peer addresses for separate processes.
    pub(crate) agents_url: String,
    pub(crate) history_url: String,
    pub(crate) routing_url: String,
    pub(crate) integrations_url: String,
    /// First admin, created when the database has no workspace yet.
    pub(crate) bootstrap_email: Option<String>,
    pub(crate) bootstrap_password: Option<SecretString>,
    pub(crate) bootstrap_workspace: String,
    /// `text` or `json`.
    pub(crate) log_format: String,
    pub(crate) shutdown_grace_secs: u64,
    pub(crate) max_text_bytes: usize,
    pub(crate) session_ttl_secs: u64,
    /// How long an agent with no socket left keeps its status and conversations.
    pub(crate) presence_grace_secs: u64,
    /// OTLP/gRPC endpoint traces are exported to (e.g. `http://otel-collector:4317`); none when
    /// unset.
    pub(crate) otlp_endpoint: Option<String>,
    /// Close assigned conversations quiet for this long (0 = never).
    pub(crate) auto_close_secs: u64,
    /// Comma-separated addresses/CIDRs of reverse proxies whose `X-Forwarded-For` the gateway
    /// believes for the client address (audit log, rate limits).
    pub(crate) trusted_proxies: String,
    /// How often conversation-history deletes conversations past their workspace's retention.
    pub(crate) retention_sweep_secs: u64,
    /// Apply migrations when a service starts (turn off when a deploy job runs `migrate`).
    pub(crate) migrate_on_start: bool,
    /// WebSocket limits of the gateway (see docs/protocol.md).
    pub(crate) ws_max_frame_bytes: usize,
    pub(crate) ws_outbound_queue: usize,
    pub(crate) ws_frames_per_second: u32,
    pub(crate) ws_frames_burst: u32,
    pub(crate) ws_max_connections_per_visitor: usize,
    /// Open WebSockets one client address may hold on a gateway (offices behind one NAT share
    /// an address: keep it generous).
    pub(crate) ws_max_connections_per_address: usize,
    pub(crate) ws_heartbeat_secs: u64,
    pub(crate) ws_replay_limit: usize,
    /// Serve the web pages from this directory instead of the copies built into the binary
    /// (front-end work without rebuilding; point it at `gateway/web`).
    pub(crate) web_dir: Option<PathBuf>,
    /// Failed logins of one email within 15 minutes that lock it, and for how long (seconds).
    pub(crate) login_max_failures: u32,
    pub(crate) login_lock_secs: u64,
    /// Attempts of one webhook delivery before it is dead-lettered.
    pub(crate) webhook_max_attempts: u32,
    /// Wait before a webhook's first retry (doubling each time), in milliseconds.
    pub(crate) webhook_retry_base_ms: u64,
    /// How long a webhook receiver may take to answer, in milliseconds.
    pub(crate) webhook_timeout_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            http_addr: "127.0.0.1:8080".to_owned(),
            data_dir: PathBuf::from("./switchboard-data"),
            database_url: None,
            nats_url: None,
            subject_prefix: "switchboard".to_owned(),
            grpc_addr: None,
            metrics_addr: None,
            agents_url: "http://127.0.0.1:50051".to_owned(),
            history_url: "http://127.0.0.1:50052".to_owned(),
            routing_url: "http://127.0.0.1:50053".to_owned(),
            integrations_url: "http://127.0.0.1:50054".to_owned(),
            bootstrap_email: None,
            bootstrap_password: None,
            bootstrap_workspace: "My workspace".to_owned(),
            log_format: "text".to_owned(),
            shutdown_grace_secs: 10,
            max_text_bytes: 8 * 1024,
            session_ttl_secs: 12 * 3600,
            presence_grace_secs: 30,
            otlp_endpoint: None,
            auto_close_secs: 30 * 60,
            retention_sweep_secs: 60 * 60,
            trusted_proxies: "127.0.0.0/8,::1/128".to_owned(),
            migrate_on_start: true,
            ws_max_frame_bytes: 64 * 1024,
            ws_outbound_queue: 256,
            ws_frames_per_second: 20,
            ws_frames_burst: 40,
            ws_max_connections_per_visitor: 10,
            ws_max_connections_per_address: 1_000,
            ws_heartbeat_secs: 20,
            ws_replay_limit: 10_000,
            web_dir: None,
            login_max_failures: 5,
            login_lock_secs: 15 * 60,
            webhook_max_attempts: 12,
            webhook_retry_base_ms: 1_000,
            webhook_timeout_ms: 10_000,
        }
    }
}

/// Returns where traces go: `SWITCHBOARD_OTLP_ENDPOINT` when set, else the standard
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`; nowhere when
/// `OTEL_SDK_DISABLED=true`. Other `OTEL_*` variables (service name, resource attributes,
/// sampler, exporter timeouts and headers) are read by the OpenTelemetry SDK itself.
fn otlp_endpoint(own: Option<String>, env: impl Fn(&str) -> Option<String>) -> Option<String> {
    if env("OTEL_SDK_DISABLED").is_some_and(|value| value.trim().eq_ignore_ascii_case("true")) {
        return None;
    }
    own.or_else(|| env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
        .or_else(|| env("OTEL_EXPORTER_OTLP_ENDPOINT"))
}

impl Settings {
    /// Loads defaults < `SWITCHBOARD_CONFIG` file < environment.
    pub(crate) fn load() -> Result<Self, String> {
        let mut settings =
            switchboard_platform::config::load::<Self>().map_err(|error| error.to_string())?;
        settings.otlp_endpoint =
            otlp_endpoint(settings.otlp_endpoint, |name| std::env::var(name).ok());
        Ok(settings)
    }

    /// Checks the settings `command` needs; empty strings count as unset.
    pub(crate) fn validate(mut self, command: Command) -> Result<Self, String> {
        for optional in [
            &mut self.database_url,
            &mut self.nats_url,
            &mut self.grpc_addr,
            &mut self.metrics_addr,
            &mut self.bootstrap_email,
            &mut self.otlp_endpoint,
        ] {
            if optional
                .as_deref()
                .is_some_and(|value| value.trim().is_empty())
            {
                *optional = None;
            }
        }
        if let Some(endpoint) = &self.otlp_endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(format!(
                "SWITCHBOARD_OTLP_ENDPOINT must be an http(s) URL, got {endpoint:?}"
            ));
        }
        if self
            .bootstrap_password
            .as_ref()
            .is_some_and(|secret| secret.expose_secret().is_empty())
        {
            self.bootstrap_password = None;
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(format!(
                "SWITCHBOARD_LOG_FORMAT must be text or json, not {:?}",
                self.log_format
            ));
        }
        self.trusted_proxy_nets()?;
        if self.max_text_bytes == 0 || self.max_text_bytes > 1024 * 1024 {
            return Err("SWITCHBOARD_MAX_TEXT_BYTES must be between 1 and 1048576".to_owned());
        }
        if self.ws_max_frame_bytes < self.max_text_bytes + 1024 {
            return Err("SWITCHBOARD_WS_MAX_FRAME_BYTES must exceed SWITCHBOARD_MAX_TEXT_BYTES by at least 1024".to_owned());
        }
        if self.webhook_max_attempts == 0
            || self.webhook_max_attempts > 50
            || self.webhook_retry_base_ms == 0
            || self.webhook_timeout_ms == 0
        {
            return Err("SWITCHBOARD_WEBHOOK_MAX_ATTEMPTS must be 1-50 and SWITCHBOARD_WEBHOOK_RETRY_BASE_MS / SWITCHBOARD_WEBHOOK_TIMEOUT_MS positive".to_owned());
        }
        if self.ws_outbound_queue == 0
            || self.ws_frames_per_second == 0
            || self.ws_max_connections_per_visitor == 0
            || self.ws_max_connections_per_address == 0
        {
            return Err("SWITCHBOARD_WS_* limits must be positive".to_owned());
        }
        if let Some(url) = &self.database_url
            && !(url.starts_with("postgres://")
                || url.starts_with("postgresql://")
                || url.starts_with("sqlite:"))
        {
            return Err(
                "SWITCHBOARD_DATABASE_URL must start with postgres://, postgresql:// or sqlite:"
                    .to_owned(),
            );
        }
        if let Some(url) = &self.nats_url
            && !url.starts_with("nats://")
        {
            return Err("SWITCHBOARD_NATS_URL must start with nats://".to_owned());
        }
        if let Some(email) = &self.bootstrap_email
            && !email.contains('@')
        {
            return Err("SWITCHBOARD_BOOTSTRAP_EMAIL must be an email address".to_owned());
        }
        if let Some(password) = &self.bootstrap_password
            && password.expose_secret().chars().count() < 8
        {
            return Err(
                "SWITCHBOARD_BOOTSTRAP_PASSWORD must have at least 8 characters".to_owned(),
            );
        }
        match command {
            Command::AllInOne => {
                self.http_socket_addr()?;
            }
            Command::Gateway => {
                self.http_socket_addr()?;
                if self.nats_url.is_none() {
                    return Err(
                        "SWITCHBOARD_NATS_URL is required to run the gateway on its own".to_owned(),
                    );
                }
            }
            Command::Routing | Command::History | Command::Agents | Command::Integrations => {
                if self.database_url.is_none() || self.nats_url.is_none() {
                    return Err(
                        "SWITCHBOARD_DATABASE_URL and SWITCHBOARD_NATS_URL are required to run a service on its own"
                            .to_owned(),
                    );
                }
                self.grpc_socket_addr(command)?;
                self.metrics_socket_addr(command)?;
            }
            Command::Migrate => {}
        }
        for (name, url) in [
            ("SWITCHBOARD_AGENTS_URL", &self.agents_url),
            ("SWITCHBOARD_HISTORY_URL", &self.history_url),
            ("SWITCHBOARD_ROUTING_URL", &self.routing_url),
            ("SWITCHBOARD_INTEGRATIONS_URL", &self.integrations_url),
        ] {
            if !url.starts_with("http://") && !url.starts_with("https://") {
                return Err(format!("{name} must start with http:// or https://"));
            }
        }
        Ok(self)
    }

    /// Returns the gateway's listen address.
    pub(crate) fn http_socket_addr(&self) -> Result<SocketAddr, String> {
        self.http_addr.parse().map_err(|_| {
            format!(
                "SWITCHBOARD_HTTP_ADDR must be host:port, not {:?}",
                self.http_addr
            )
        })
    }

    /// Returns where a separate service command listens.
    pub(crate) fn grpc_socket_addr(&self, command: Command) -> Result<SocketAddr, String> {
        let default = match command {
            Command::Agents => "127.0.0.1:50051",
            Command::History => "127.0.0.1:50052",
            Command::Integrations => "127.0.0.1:50054",
            _ => "127.0.0.1:50053",
        };
        let addr = self.grpc_addr.as_deref().unwrap_or(default);
        addr.parse()
            .map_err(|_| format!("SWITCHBOARD_GRPC_ADDR must be host:port, not {addr:?}"))
    }

    /// Returns where a separate service command serves `/metrics`.
    pub(crate) fn metrics_socket_addr(&self, command: Command) -> Result<SocketAddr, String> {
        let default = match command {
            Command::Agents => "127.0.0.1:9101",
            Command::History => "127.0.0.1:9102",
            Command::Integrations => "127.0.0.1:9104",
            _ => "127.0.0.1:9103",
        };
        let addr = self.metrics_addr.as_deref().unwrap_or(default);
        addr.parse()
            .map_err(|_| format!("SWITCHBOARD_METRICS_ADDR must be host:port, not {addr:?}"))
    }

    /// Returns whether logs are JSON lines.
    pub(crate) fn log_json(&self) -> bool {
        self.log_format == "json"
    }

    /// Returns the shutdown grace period.
    pub(crate) fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// Returns agent-management's config on `database_url`.
    pub(crate) fn agents(&self, database_url: String) -> switchboard_agent_management::Config {
        switchboard_agent_management::Config {
            database_url,
            subject_prefix: self.subject_prefix.clone(),
            migrate: self.migrate_on_start,
            session_ttl_secs: self.session_ttl_secs,
            shutdown_grace_secs: self.shutdown_grace_secs,
            presence_grace_secs: self.presence_grace_secs,
            login_max_failures: self.login_max_failures.max(1),
            login_lock_secs: self.login_lock_secs,
            ..switchboard_agent_management::Config::default()
        }
    }

    /// Parses `SWITCHBOARD_TRUSTED_PROXIES`: addresses (a host each) or CIDRs.
    fn trusted_proxy_nets(&self) -> Result<Vec<ipnet::IpNet>, String> {
        self.trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        format!("SWITCHBOARD_TRUSTED_PROXIES: {entry:?} is not an address or CIDR")
                    })
            })
            .collect()
    }

    /// Returns conversation-history's config on `database_url`.
    pub(crate) fn history(&self, database_url: String) -> switchboard_conversation_history::Config {
        switchboard_conversation_history::Config {
            database_url,
            subject_prefix: self.subject_prefix.clone(),
            migrate: self.migrate_on_start,
            max_text_bytes: self.max_text_bytes,
            shutdown_grace_secs: self.shutdown_grace_secs,
            auto_close_secs: self.auto_close_secs,
            retention_sweep_ms: self.retention_sweep_secs.saturating_mul(1000),
            ..switchboard_conversation_history::Config::default()
        }
    }

    /// Returns routing's config on `database_url`, calling the given peers.
    pub(crate) fn routing(
        &self,
        database_url: String,
        agents_url: String,
        history_url: String,
    ) -> switchboard_routing::Config {
        switchboard_routing::Config {
            database_url,
            subject_prefix: self.subject_prefix.clone(),
            migrate: self.migrate_on_start,
            agents_url,
            history_url,
            shutdown_grace_secs: self.shutdown_grace_secs,
            ..switchboard_routing::Config::default()
        }
    }

    /// Returns integrations' config on `database_url`.
    pub(crate) fn integrations(&self, database_url: String) -> switchboard_integrations::Config {
        switchboard_integrations::Config {
            database_url,
            subject_prefix: self.subject_prefix.clone(),
            migrate: self.migrate_on_start,
            shutdown_grace_secs: self.shutdown_grace_secs,
            max_attempts: self.webhook_max_attempts,
            retry_base_ms: self.webhook_retry_base_ms,
            request_timeout_ms: self.webhook_timeout_ms,
            ..switchboard_integrations::Config::default()
        }
    }

    /// Returns the gateway's config calling the given peers.
    pub(crate) fn gateway(
        &self,
        agents_url: String,
        history_url: String,
        routing_url: String,
        integrations_url: String,
    ) -> switchboard_gateway::Config {
        switchboard_gateway::Config {
            agents_url,
            history_url,
            routing_url,
            integrations_url,
            subject_prefix: self.subject_prefix.clone(),
            max_text_bytes: self.max_text_bytes,
            max_frame_bytes: self.ws_max_frame_bytes,
            outbound_queue: self.ws_outbound_queue,
            frames_per_second: self.ws_frames_per_second,
            frames_burst: self.ws_frames_burst.max(self.ws_frames_per_second),
            max_connections_per_visitor: self.ws_max_connections_per_visitor,
            max_connections_per_address: self.ws_max_connections_per_address,
            heartbeat_secs: self.ws_heartbeat_secs,
            replay_limit: self.ws_replay_limit,
            shutdown_grace_secs: self.shutdown_grace_secs,
            web_dir: self.web_dir.clone(),
            // Checked by `validate`.
            trusted_proxies: self.trusted_proxy_nets().unwrap_or_default(),
            ..switchboard_gateway::Config::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::otlp_endpoint;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn the_standard_otel_variables_name_the_trace_endpoint_unless_switchboard_s_own_does() {
        let own = Some("http://mine:4317".to_owned());
        let standard = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")];
        assert_eq!(otlp_endpoint(own.clone(), env(&standard)), own);
        assert_eq!(
            otlp_endpoint(None, env(&standard)).as_deref(),
            Some("http://collector:4317")
        );
        let both = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4317"),
        ];
        assert_eq!(
            otlp_endpoint(None, env(&both)).as_deref(),
            Some("http://traces:4317")
        );
        assert_eq!(otlp_endpoint(None, env(&[])), None);
        let disabled = [
            ("OTEL_SDK_DISABLED", "true"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
        ];
        assert_eq!(otlp_endpoint(own, env(&disabled)), None);
    }
}
