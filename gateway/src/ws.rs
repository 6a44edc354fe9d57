//! The WebSocket edge: `/v1/visitor/ws` and `/v1/agent/ws`, protocol v1 (docs/protocol.md).
//!
//! Each socket has a reader (this module and [`session`]), one writer task fed by a bounded
//! queue, and one [`follow`] task per conversation it watches. Nothing a socket knows is kept
//! anywhere else: a client that reconnects to any gateway resumes from its own last `seq`.
//! A client that cannot keep up fills its queue and is closed with 1013; a silent peer is
//! detected by pings and closed; malformed input gets an `error` frame (or 1007/1008/1009).

pub mod follow;
pub mod limits;
pub mod protocol;
mod session;
pub mod view;

use crate::state::Gateway;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use protocol::{ErrorCode, ServerFrame};
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

/// How long one frame may take to reach a client before it counts as a slow consumer.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Sending side of one socket, shared by its reader and followers.
#[derive(Debug, Clone)]
pub struct Outbound {
    queue: mpsc::Sender<String>,
    done: CancellationToken,
    close: Arc<Mutex<Option<(u16, String)>>>,
}

impl Outbound {
    /// Queues a frame; a full queue closes the socket with 1013 (slow consumer). Returns whether
    /// the frame was queued.
    pub fn send(&self, frame: &ServerFrame) -> bool {
        match self.queue.try_send(frame.to_text()) {
            Ok(()) => {
                metrics::counter!("switchboard_ws_frames_sent_total").increment(1);
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.close_slow();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Queues a frame, waiting for room for at most the write timeout: for replays, which may
    /// be far longer than the queue and must not count as a slow client while it keeps reading.
    /// Returns whether the frame was queued.
    pub async fn send_waiting(&self, frame: &ServerFrame) -> bool {
        let queued = tokio::select! {
            () = self.closed() => return false,
            queued = tokio::time::timeout(WRITE_TIMEOUT, self.queue.send(frame.to_text())) => queued,
        };
        match queued {
            Ok(Ok(())) => {
                metrics::counter!("switchboard_ws_frames_sent_total").increment(1);
                true
            }
            Ok(Err(_)) => false,
            Err(_) => {
                self.close_slow();
                false
            }
        }
    }

    /// Closes a socket whose client does not keep up (1013); it resumes after reconnecting.
    fn close_slow(&self) {
        metrics::counter!("switchboard_ws_slow_consumer_closes_total").increment(1);
        self.close_with(1013, "too slow: reconnect and resume from your last seq");
    }

    /// Closes the socket with `code`; the first reason given wins.
    pub fn close_with(&self, code: u16, reason: &str) {
        let mut close = self
            .close
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if close.is_none() {
            *close = Some((code, reason.to_owned()));
        }
        self.done.cancel();
    }

    /// Completes once the socket is closing.
    pub async fn closed(&self) {
        self.done.cancelled().await;
    }

    fn close_frame(&self) -> (u16, String) {
        self.close
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
            .unwrap_or((1000, String::new()))
    }
}

/// Query of the visitor endpoint.
#[derive(Debug, Deserialize)]
pub struct VisitorQuery {
    pub site_key: Option<String>,
    pub visitor_token: Option<String>,
    pub page_url: Option<String>,
    /// Department the widget routes to (`data-department`); its hours decide availability.
    pub department: Option<String>,
    /// The site's signed-in customer (`data-user-id`), used only with a valid `user_hash`.
    pub user_id: Option<String>,
    /// Hex HMAC-SHA256 of `user_id` under the workspace's identity secret (`data-user-hash`).
    pub user_hash: Option<String>,
    /// Name and email of the verified customer, shown to agents.
    pub user_name: Option<String>,
    pub user_email: Option<String>,
}

fn configure(upgrade: WebSocketUpgrade, gateway: &Gateway) -> WebSocketUpgrade {
    let max = gateway.config.max_frame_bytes;
    // Small buffers: idle sockets are the common case (see the performance notes).
    upgrade
        .read_buffer_size(4096)
        .write_buffer_size(4096)
        .max_message_size(max)
        .max_frame_size(max)
}

/// `GET /v1/visitor/ws?site_key=K[&visitor_token=T]`.
pub async fn visitor_socket(
    upgrade: WebSocketUpgrade,
    Query(query): Query<VisitorQuery>,
    headers: HeaderMap,
    State(gateway): State<Arc<Gateway>>,
) -> Response {
    let address_slot = match address_slot(&gateway, &headers) {
        Ok(slot) => slot,
        Err(refused) => return refused.into_response(),
    };
    let user_agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(|agent| agent.chars().take(256).collect::<String>());
    configure(upgrade, &gateway).on_upgrade(move |socket| {
        async move {
            let _address_slot = address_slot;
            let _counted = ConnectionGauge::new("visitor");
            let (outbound, reader) = open(socket, &gateway);
            session::visitor(gateway, outbound, reader, query, user_agent).await;
        }
        .instrument(connection_span("visitor"))
    })
}

/// `GET /v1/agent/ws`; the first frame must be `auth`.
pub async fn agent_socket(
    upgrade: WebSocketUpgrade,
    headers: HeaderMap,
    State(gateway): State<Arc<Gateway>>,
) -> Response {
    let address_slot = match address_slot(&gateway, &headers) {
        Ok(slot) => slot,
        Err(refused) => return refused.into_response(),
    };
    configure(upgrade, &gateway).on_upgrade(move |socket| {
        async move {
            let _address_slot = address_slot;
            let _counted = ConnectionGauge::new("agent");
            let (outbound, reader) = open(socket, &gateway);
            session::agent(gateway, outbound, reader).await;
        }
        .instrument(connection_span("agent"))
    })
}

/// Takes one of the client address's socket slots (the address the gateway resolved, see
/// [`crate::client`]), or answers 429 `too_many_connections` before the upgrade: a flood of
/// connections from one address cannot take the gateway's sockets from everyone else.
fn address_slot(
    gateway: &Gateway,
    headers: &HeaderMap,
) -> Result<Option<limits::ConnectionSlot<std::net::IpAddr>>, crate::error::ApiError> {
    let Some(address) = headers
        .get(switchboard_platform::actor::CLIENT_IP)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<std::net::IpAddr>().ok())
    else {
        // No peer address (a test router without connect info): nothing to count by.
        return Ok(None);
    };
    match gateway
        .addresses
        .acquire(address, gateway.config.max_connections_per_address)
    {
        Some(slot) => Ok(Some(slot)),
        None => {
            metrics::counter!("switchboard_ws_refused_total", "reason" => "address_limit")
                .increment(1);
            Err(crate::error::ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "too_many_connections",
                "too many open connections from this address",
            )
            .with_retry_after(5))
        }
    }
}

/// Returns the span of one socket's life: identification (its gRPC calls are children) and
/// the end of the session. Each frame gets a trace of its own that links here.
fn connection_span(kind: &'static str) -> tracing::Span {
    tracing::info_span!(
        parent: None,
        "ws.connection",
        otel.name = %format!("ws {kind} connection"),
        otel.kind = "server",
        ws.kind = kind,
    )
}

/// Counts an open socket in `switchboard_ws_connections{kind}` for as long as it lives.
struct ConnectionGauge(&'static str);

impl ConnectionGauge {
    fn new(kind: &'static str) -> Self {
        metrics::gauge!("switchboard_ws_connections", "kind" => kind).increment(1.0);
        metrics::counter!("switchboard_ws_connections_opened_total", "kind" => kind).increment(1);
        Self(kind)
    }
}

impl Drop for ConnectionGauge {
    fn drop(&mut self) {
        metrics::gauge!("switchboard_ws_connections", "kind" => self.0).decrement(1.0);
    }
}

/// Splits a socket into its reader and a writer task fed by a bounded queue.
fn open(socket: WebSocket, gateway: &Gateway) -> (Outbound, SplitStream<WebSocket>) {
    let (sink, stream) = socket.split();
    let (queue, frames) = mpsc::channel(gateway.config.outbound_queue.max(1));
    let outbound = Outbound {
        queue,
        done: CancellationToken::new(),
        close: Arc::default(),
    };
    let heartbeat = limits::at_least_one_second(gateway.config.heartbeat_secs);
    tokio::spawn(write(sink, frames, outbound.clone(), heartbeat));
    (outbound, stream)
}

async fn write(
    mut sink: SplitSink<WebSocket, Message>,
    mut frames: mpsc::Receiver<String>,
    outbound: Outbound,
    heartbeat: Duration,
) {
    let mut ping = tokio::time::interval(heartbeat);
    ping.tick().await;
    loop {
        let message = tokio::select! {
            () = outbound.closed() => break,
            frame = frames.recv() => match frame {
                Some(text) => Message::Text(text.into()),
                None => break,
            },
            _ = ping.tick() => Message::Ping(Vec::new().into()),
        };
        // Sending first: a frame already taken from the queue (often the error explaining a
        // close) still goes out; a send that cannot progress is abandoned on close.
        let sent = tokio::select! {
            biased;
            sent = tokio::time::timeout(WRITE_TIMEOUT, sink.send(message)) => sent,
            () = outbound.closed() => break,
        };
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(_)) => {
                outbound.close_with(1006, "");
                break;
            }
            Err(_) => {
                outbound.close_slow();
                break;
            }
        }
    }
    let (code, reason) = outbound.close_frame();
    if code != 1006 && code != 1013 {
        // Frames queued before the close (typically the error that explains it) go out first;
        // a slow consumer's backlog does not, it resumes instead.
        let flush = async {
            while let Ok(text) = frames.try_recv() {
                if sink.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), flush).await;
    }
    if code != 1006 {
        let close = Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }));
        let _ = tokio::time::timeout(Duration::from_secs(1), sink.send(close)).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
}

/// What the reader got from the socket.
enum Inbound {
    Text(String),
    /// The socket is done (closed, broken, or closed by us).
    Gone,
}

/// Reads the next text frame, handling everything else the protocol says about frames:
/// binary frames get an error, oversized frames close with 1009, invalid UTF-8 with 1007, and a
/// peer silent for three heartbeats is dropped.
async fn next_text(
    reader: &mut SplitStream<WebSocket>,
    outbound: &Outbound,
    gateway: &Gateway,
) -> Inbound {
    let idle = limits::at_least_one_second(gateway.config.heartbeat_secs) * 3;
    loop {
        let next = tokio::select! {
            () = outbound.closed() => return Inbound::Gone,
            () = gateway.shutdown.cancelled() => {
                outbound.close_with(1001, "server going away; reconnect");
                return Inbound::Gone;
            }
            next = tokio::time::timeout(idle, reader.next()) => next,
        };
        match next {
            Err(_) => {
                outbound.close_with(1001, "no heartbeat");
                return Inbound::Gone;
            }
            Ok(None) | Ok(Some(Ok(Message::Close(_)))) => {
                outbound.close_with(1000, "");
                return Inbound::Gone;
            }
            Ok(Some(Ok(Message::Text(text)))) => return Inbound::Text(text.to_string()),
            Ok(Some(Ok(Message::Binary(_)))) => {
                outbound.send(&ServerFrame::error(
                    ErrorCode::BinaryNotSupported,
                    "frames are JSON text",
                    None,
                ));
            }
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            Ok(Some(Err(error))) => {
                let (code, reason) = close_for(&error);
                outbound.close_with(code, reason);
                return Inbound::Gone;
            }
        }
    }
}

/// Returns the close code for a protocol-level read error.
fn close_for(error: &axum::Error) -> (u16, &'static str) {
    use tungstenite::error::{CapacityError, Error};
    let inner = std::error::Error::source(error).and_then(|source| source.downcast_ref::<Error>());
    match inner {
        Some(Error::Capacity(CapacityError::MessageTooLong { .. })) => (1009, "frame too large"),
        Some(Error::Utf8(_)) => (1007, "invalid UTF-8"),
        _ => (1002, "protocol error"),
    }
}
