//! What each subcommand runs. `all-in-one` wires every component over real gRPC on loopback,
//! exactly as separate processes would talk, so the embedded default exercises the same code
//! paths as the distributed mode.

use crate::bootstrap;
use crate::cli::Command;
use crate::config::Settings;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use switchboard_platform::bus::SharedBus;
use switchboard_platform::bus::memory::MemoryBus;
use switchboard_platform::bus::nats::{NatsBus, NatsSettings};
use switchboard_platform::subjects::Subjects;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

/// How long a component may take to report SERVING at start-up.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CommandError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("bootstrap failed: {0}")]
    Bootstrap(String),
    #[error("event bus: {0}")]
    Bus(#[from] switchboard_platform::bus::BusError),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Component(String),
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}

/// Runs `command` until `signal` completes (or a component fails).
pub(crate) async fn run(
    command: Command,
    settings: Settings,
    signal: impl Future<Output = ()> + Send + 'static,
) -> Result<(), CommandError> {
    let shutdown = CancellationToken::new();
    let on_signal = shutdown.clone();
    tokio::spawn(async move {
        signal.await;
        on_signal.cancel();
    });
    match command {
        Command::AllInOne => all_in_one(settings, shutdown).await,
        Command::Agents | Command::History | Command::Routing | Command::Integrations => {
            service(command, settings, shutdown).await
        }
        Command::Gateway => gateway(settings, shutdown).await,
        Command::Migrate => migrate(settings).await,
    }
}

/// Components of this process, supervised: the first one to fail stops the others.
struct Supervisor {
    components: JoinSet<(&'static str, Result<(), String>)>,
    shutdown: CancellationToken,
}

impl Supervisor {
    fn new(shutdown: CancellationToken) -> Self {
        Self {
            components: JoinSet::new(),
            shutdown,
        }
    }

    fn spawn<F, E>(&mut self, name: &'static str, component: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display,
    {
        self.components
            .spawn(async move { (name, component.await.map_err(|error| error.to_string())) });
    }

    /// Waits until the gRPC component at `addr` reports SERVING, failing early if it stops.
    async fn until_serving(
        &mut self,
        name: &'static str,
        addr: SocketAddr,
    ) -> Result<(), CommandError> {
        let probe = wait_serving(addr);
        tokio::select! {
            serving = probe => serving.map_err(|()| CommandError::Component(format!("{name} did not become ready"))),
            Some(Ok((stopped, result))) = self.components.join_next() => Err(CommandError::Component(match result {
                Err(error) => format!("{stopped} failed to start: {error}"),
                Ok(()) => format!("{stopped} stopped during start-up"),
            })),
            () = self.shutdown.cancelled() => Err(CommandError::Component("interrupted during start-up".into())),
        }
    }

    /// Runs until shutdown or the first component stopping; then stops and waits for the rest.
    async fn wait(mut self, grace: Duration) -> Result<(), CommandError> {
        let mut failure = None;
        tokio::select! {
            () = self.shutdown.cancelled() => {}
            Some(joined) = self.components.join_next() => {
                failure = match joined {
                    Ok((name, Err(error))) => Some(format!("{name} failed: {error}")),
                    // Finishing because shutdown began (the select saw the task first) is fine.
                    Ok((_, Ok(()))) if self.shutdown.is_cancelled() => None,
                    Ok((name, Ok(()))) => Some(format!("{name} stopped unexpectedly")),
                    Err(error) => Some(format!("component panicked: {error}")),
                };
            }
        }
        self.shutdown.cancel();
        // Components bound their own drains by `grace`; this bounds the whole stop.
        let drained = tokio::time::timeout(grace + Duration::from_secs(5), async {
            while let Some(joined) = self.components.join_next().await {
                if let Ok((name, Err(error))) = joined {
                    tracing::warn!(component = name, %error, "component stopped with error");
                }
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!("components did not stop in time");
        }
        failure.map_or(Ok(()), |failure| Err(CommandError::Component(failure)))
    }
}

async fn wait_serving(addr: SocketAddr) -> Result<(), ()> {
    let deadline = tokio::time::Instant::now() + STARTUP_TIMEOUT;
    let channel = switchboard_platform::grpc::channel(&format!("http://{addr}")).map_err(|_| ())?;
    let mut client = HealthClient::new(channel);
    loop {
        let response = client
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await;
        if matches!(&response, Ok(response) if response.get_ref().status == ServingStatus::Serving as i32)
        {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn bind(addr: &str) -> Result<TcpListener, CommandError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| CommandError::Bind {
            addr: addr.to_owned(),
            source,
        })
}

fn local_url(listener: &TcpListener) -> Result<(SocketAddr, String), CommandError> {
    let addr = listener.local_addr().map_err(|source| CommandError::Bind {
        addr: "listener".into(),
        source,
    })?;
    Ok((addr, format!("http://{addr}")))
}

async fn nats_bus(settings: &Settings, url: &str) -> Result<SharedBus, CommandError> {
    let nats = NatsSettings::new(url, Subjects::new(settings.subject_prefix.clone()));
    Ok(Arc::new(NatsBus::connect(&nats).await?))
}

/// Database URLs of agents, history, routing and integrations: the configured one for all, or
/// one SQLite file each in the data directory.
fn database_urls(settings: &Settings) -> Result<[String; 4], CommandError> {
    if let Some(url) = &settings.database_url {
        return Ok([url.clone(), url.clone(), url.clone(), url.clone()]);
    }
    std::fs::create_dir_all(&settings.data_dir).map_err(|source| CommandError::DataDir {
        path: settings.data_dir.display().to_string(),
        source,
    })?;
    let file =
        |name: &str| switchboard_platform::db::sqlite_file_url(&settings.data_dir.join(name));
    Ok([
        file("agents.db"),
        file("history.db"),
        file("routing.db"),
        file("integrations.db"),
    ])
}

async fn all_in_one(settings: Settings, shutdown: CancellationToken) -> Result<(), CommandError> {
    let [agents_db, history_db, routing_db, integrations_db] = database_urls(&settings)?;
    let bus: SharedBus = match &settings.nats_url {
        Some(url) => nats_bus(&settings, url).await?,
        None => Arc::new(MemoryBus::new()),
    };
    let http = bind(&settings.http_addr).await?;
    let agents_listener = bind("127.0.0.1:0").await?;
    let history_listener = bind("127.0.0.1:0").await?;
    let routing_listener = bind("127.0.0.1:0").await?;
    let integrations_listener = bind("127.0.0.1:0").await?;
    let (agents_addr, agents_url) = local_url(&agents_listener)?;
    let (integrations_addr, integrations_url) = local_url(&integrations_listener)?;
    let (history_addr, history_url) = local_url(&history_listener)?;
    let (routing_addr, routing_url) = local_url(&routing_listener)?;
    let mut supervisor = Supervisor::new(shutdown.clone());
    // Routing first: its consumers must be registered before the others publish events.
    let routing = settings.routing(routing_db, agents_url.clone(), history_url.clone());
    supervisor.spawn(
        "routing",
        switchboard_routing::run(routing, routing_listener, bus.clone(), shutdown.clone()),
    );
    supervisor.until_serving("routing", routing_addr).await?;
    // Integrations' consumer too (the in-process bus delivers only to registered consumers).
    let integrations = settings.integrations(integrations_db);
    supervisor.spawn(
        "integrations",
        switchboard_integrations::run(
            integrations,
            integrations_listener,
            bus.clone(),
            shutdown.clone(),
        ),
    );
    supervisor
        .until_serving("integrations", integrations_addr)
        .await?;
    let agents = settings.agents(agents_db);
    supervisor.spawn(
        "agent-management",
        switchboard_agent_management::run(agents, agents_listener, bus.clone(), shutdown.clone()),
    );
    let history = settings.history(history_db);
    supervisor.spawn(
        "conversation-history",
        switchboard_conversation_history::run(
            history,
            history_listener,
            bus.clone(),
            shutdown.clone(),
        ),
    );
    supervisor
        .until_serving("agent-management", agents_addr)
        .await?;
    supervisor
        .until_serving("conversation-history", history_addr)
        .await?;
    let report = bootstrap::ensure(&agents_url, &settings)
        .await
        .map_err(|status| CommandError::Bootstrap(status.message().to_owned()))?;
    let (http_addr, public_url) = local_url(&http)?;
    let gateway = settings.gateway(agents_url, history_url, routing_url, integrations_url);
    supervisor.spawn(
        "gateway",
        switchboard_gateway::run(gateway, http, bus, shutdown.clone()),
    );
    tracing::info!(%http_addr, "all components running");
    bootstrap::announce(&report, Some(&public_url));
    supervisor.wait(settings.shutdown_grace()).await
}

async fn service(
    command: Command,
    settings: Settings,
    shutdown: CancellationToken,
) -> Result<(), CommandError> {
    let addr = settings
        .grpc_socket_addr(command)
        .map_err(CommandError::Component)?;
    let (Some(database_url), Some(nats_url)) =
        (settings.database_url.clone(), settings.nats_url.clone())
    else {
        return Err(CommandError::Component(
            "database and NATS URLs are required".into(),
        ));
    };
    let listener = bind(&addr.to_string()).await?;
    let (addr, _) = local_url(&listener)?;
    let metrics_addr = settings
        .metrics_socket_addr(command)
        .map_err(CommandError::Component)?;
    let metrics = bind(&metrics_addr.to_string()).await?;
    let bus = nats_bus(&settings, &nats_url).await?;
    let mut supervisor = Supervisor::new(shutdown.clone());
    supervisor.spawn(
        "metrics",
        switchboard_platform::metrics::serve(metrics, shutdown.clone()),
    );
    match command {
        Command::Agents => {
            let config = settings.agents(database_url);
            supervisor.spawn(
                "agent-management",
                switchboard_agent_management::run(config, listener, bus, shutdown),
            );
            supervisor.until_serving("agent-management", addr).await?;
            let report = bootstrap::ensure(&format!("http://{addr}"), &settings)
                .await
                .map_err(|status| CommandError::Bootstrap(status.message().to_owned()))?;
            bootstrap::announce(&report, None);
        }
        Command::History => {
            let config = settings.history(database_url);
            supervisor.spawn(
                "conversation-history",
                switchboard_conversation_history::run(config, listener, bus, shutdown),
            );
        }
        Command::Integrations => {
            let config = settings.integrations(database_url);
            supervisor.spawn(
                "integrations",
                switchboard_integrations::run(config, listener, bus, shutdown),
            );
        }
        _ => {
            let config = settings.routing(
                database_url,
                settings.agents_url.clone(),
                settings.history_url.clone(),
            );
            supervisor.spawn(
                "routing",
                switchboard_routing::run(config, listener, bus, shutdown),
            );
        }
    }
    supervisor.wait(settings.shutdown_grace()).await
}

async fn gateway(settings: Settings, shutdown: CancellationToken) -> Result<(), CommandError> {
    let Some(nats_url) = settings.nats_url.clone() else {
        return Err(CommandError::Component("the NATS URL is required".into()));
    };
    let http = bind(&settings.http_addr).await?;
    let bus = nats_bus(&settings, &nats_url).await?;
    let config = settings.gateway(
        settings.agents_url.clone(),
        settings.history_url.clone(),
        settings.routing_url.clone(),
        settings.integrations_url.clone(),
    );
    let mut supervisor = Supervisor::new(shutdown.clone());
    supervisor.spawn(
        "gateway",
        switchboard_gateway::run(config, http, bus, shutdown),
    );
    supervisor.wait(settings.shutdown_grace()).await
}

async fn migrate(settings: Settings) -> Result<(), CommandError> {
    let [agents_db, history_db, routing_db, integrations_db] = database_urls(&settings)?;
    let agents = switchboard_platform::db::connect(&agents_db).await?;
    switchboard_agent_management::db::migrate(&agents).await?;
    let history = switchboard_platform::db::connect(&history_db).await?;
    switchboard_conversation_history::db::migrate(&history).await?;
    let routing = switchboard_platform::db::connect(&routing_db).await?;
    switchboard_routing::db::migrate(&routing).await?;
    let integrations = switchboard_platform::db::connect(&integrations_db).await?;
    switchboard_integrations::db::migrate(&integrations).await?;
    println!("migrations applied");
    Ok(())
}
