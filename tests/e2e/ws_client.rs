//! A WebSocket client that speaks protocol v1, for the tests.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub(crate) const FRAME_TIMEOUT: Duration = Duration::from_secs(20);

/// One socket, with frames read but not yet asked for kept in order.
pub(crate) struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    unread: VecDeque<Value>,
    pub(crate) closed: Option<Option<CloseFrame>>,
}

impl WsClient {
    /// Connects to `url` (`ws://…`).
    pub(crate) async fn connect(url: &str) -> Self {
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("websocket connects");
        Self {
            socket,
            unread: VecDeque::new(),
            closed: None,
        }
    }

    /// Wraps an open socket.
    pub(crate) fn from_socket(socket: WebSocketStream<MaybeTlsStream<TcpStream>>) -> Self {
        Self {
            socket,
            unread: VecDeque::new(),
            closed: None,
        }
    }

    /// Connects over a socket with a tiny receive buffer, for slow-consumer tests.
    pub(crate) async fn connect_with_small_buffer(url: &str, addr: std::net::SocketAddr) -> Self {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("rcvbuf");
        let stream = socket.connect(addr).await.expect("connect");
        let (socket, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream))
            .await
            .expect("handshake");
        Self {
            socket,
            unread: VecDeque::new(),
            closed: None,
        }
    }

    /// Opens a visitor socket and returns it with its welcome frame.
    pub(crate) async fn visitor(base: &str, site_key: &str, token: Option<&str>) -> (Self, Value) {
        let mut url = format!(
            "{}/v1/visitor/ws?site_key={site_key}",
            base.replace("http://", "ws://")
        );
        if let Some(token) = token {
            url.push_str(&format!("&visitor_token={token}"));
        }
        let mut client = Self::connect(&url).await;
        let welcome = client.expect("welcome").await;
        (client, welcome)
    }

    /// Opens an agent socket, authenticates and returns it with its welcome frame.
    pub(crate) async fn agent(base: &str, token: &str) -> (Self, Value) {
        let mut client =
            Self::connect(&format!("{}/v1/agent/ws", base.replace("http://", "ws://"))).await;
        client.send(json!({ "type": "auth", "token": token })).await;
        let welcome = client.expect("welcome").await;
        (client, welcome)
    }

    pub(crate) async fn send(&mut self, frame: Value) {
        self.socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .expect("send");
    }

    pub(crate) async fn send_raw(&mut self, message: Message) {
        self.socket.send(message).await.expect("send");
    }

    /// Returns the next frame, failing the test after `FRAME_TIMEOUT`.
    pub(crate) async fn next(&mut self) -> Value {
        if let Some(frame) = self.unread.pop_front() {
            return frame;
        }
        self.read(FRAME_TIMEOUT).await.unwrap_or_else(|| {
            panic!(
                "no frame within {FRAME_TIMEOUT:?} (closed: {:?})",
                self.closed
            )
        })
    }

    async fn read(&mut self, timeout: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let message = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()??;
            match message {
                Ok(Message::Text(text)) => {
                    return Some(serde_json::from_str(&text).expect("server frames are JSON"));
                }
                Ok(Message::Close(frame)) => {
                    self.closed = Some(frame);
                    return None;
                }
                Ok(_) => {}
                Err(_) => {
                    self.closed.get_or_insert(None);
                    return None;
                }
            }
        }
    }

    /// Returns the next frame of type `kind`, keeping any others for later.
    pub(crate) async fn expect(&mut self, kind: &str) -> Value {
        if let Some(index) = self.unread.iter().position(|frame| frame["type"] == kind) {
            return self.unread.remove(index).expect("index exists");
        }
        let deadline = tokio::time::Instant::now() + FRAME_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.read(left).await.unwrap_or_else(|| {
                panic!(
                    "no {kind:?} frame (unread {:?}, closed {:?})",
                    self.unread, self.closed
                )
            });
            if frame["type"] == kind {
                return frame;
            }
            self.unread.push_back(frame);
        }
    }

    /// Returns the next `message` frames of `conversation_id` until one has `seq` `last`.
    pub(crate) async fn messages_until(&mut self, conversation_id: &str, last: u64) -> Vec<Value> {
        let mut messages = Vec::new();
        loop {
            let frame = self.expect("message").await;
            assert_eq!(frame["conversation_id"], conversation_id);
            let seq = frame["seq"].as_u64().expect("seq");
            messages.push(frame);
            if seq >= last {
                return messages;
            }
        }
    }

    /// Reads until the server closes the socket; returns the close code.
    pub(crate) async fn close_code(&mut self, timeout: Duration) -> Option<u16> {
        self.closed_within(timeout).await.flatten()
    }

    /// Reads until the socket ends: `None` if it is still open after `timeout`, otherwise the
    /// close code (`Some(None)` when the connection ended without a close frame).
    pub(crate) async fn closed_within(&mut self, timeout: Duration) -> Option<Option<u16>> {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.closed.is_none() {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return None;
            }
            if let Some(frame) = self.read(left).await {
                self.unread.push_back(frame);
            }
        }
        Some(
            self.closed
                .clone()
                .flatten()
                .map(|frame| u16::from(frame.code)),
        )
    }

    /// Returns every frame read so far and not asked for.
    pub(crate) fn unread(&self) -> &VecDeque<Value> {
        &self.unread
    }
}
