//! The gateway: where browsers meet Switchboard.
//!
//! Serves the HTTP API (`/healthz`, `/v1/auth/login`, `/v1/me`) and the WebSocket protocol
//! ([`ws`], docs/protocol.md), turning requests and frames into gRPC calls on agent-management,
//! conversation-history and routing, and bus events into frames. It keeps no state another
//! gateway could not rebuild, so any number of gateways can run side by side and clients may
//! reconnect to any of them. Errors reach clients as stable snake_case codes, never as internal
//! text.

pub mod account;
pub mod admin;
pub mod api;
pub mod client;
pub mod config;
pub mod console;
pub mod error;
pub mod http;
pub mod peers;
pub mod principal;
pub mod privacy;
pub mod state;
pub mod stats;
pub mod tokens;
pub mod web;
pub mod webhooks;
pub mod ws;

pub use config::Config;

use std::sync::Arc;
use switchboard_platform::bus::SharedBus;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Why the gateway stopped.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("invalid peer address: {0}")]
    Peer(#[from] tonic::transport::Error),
    #[error("http server failed: {0}")]
    Serve(#[from] std::io::Error),
}

/// Serves the gateway on `listener` until `shutdown`, then closes sockets (1001) and drains
/// requests for the grace period.
pub async fn run(
    config: Config,
    listener: TcpListener,
    bus: SharedBus,
    shutdown: CancellationToken,
) -> Result<(), GatewayError> {
    let peers = peers::Peers::connect(&config)?;
    let gateway = Arc::new(state::Gateway::new(
        peers,
        bus,
        config.clone(),
        shutdown.clone(),
    ));
    tokio::spawn(stats::exchange(gateway.clone()));
    let app = http::router(gateway);
    tracing::info!(addr = ?listener.local_addr().ok(), "gateway serving");
    let grace = config.shutdown_grace();
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.clone().cancelled_owned());
    let server = std::future::IntoFuture::into_future(server);
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result?,
        () = shutdown.cancelled() => match tokio::time::timeout(grace, &mut server).await {
            Ok(result) => result?,
            Err(_) => tracing::warn!(?grace, "grace period over, abandoning open requests"),
        },
    }
    tracing::info!("gateway stopped");
    Ok(())
}
