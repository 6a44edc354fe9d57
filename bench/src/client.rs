//! WebSocket connections and the protocol v1 frames the bench uses.
//!
//! [`Target`] says where one connection goes and from which local address; [`Socket`] is the
//! connected WebSocket with JSON frames in and out. Only the frames and fields the bench reads
//! are modelled; anything else parses as [`ServerFrame::Other`]. Plain `ws://` only.

use crate::error::{BenchError, Result};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

/// Where one connection goes.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// `ws://host:port` of the gateway.
    pub(crate) ws_base: String,
    /// The gateway's resolved address.
    pub(crate) addr: SocketAddr,
    /// The local address to bind before connecting, if any.
    pub(crate) source: Option<IpAddr>,
}

impl Target {
    /// Resolves `gateway` (`http://host:port`) once.
    pub(crate) async fn resolve(gateway: &str, source: Option<IpAddr>) -> Result<Self> {
        let authority = gateway
            .strip_prefix("http://")
            .map(|rest| rest.split('/').next().unwrap_or(rest))
            .filter(|authority| !authority.is_empty())
            .ok_or_else(|| BenchError::Config(format!("--gateway {gateway}: not http://host")))?;
        let host_port = if authority.rsplit_once(':').is_some_and(|(_, port)| {
            !port.is_empty() && port.bytes().all(|byte| byte.is_ascii_digit())
        }) {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        let addr = tokio::net::lookup_host(&host_port)
            .await
            .map_err(|error| BenchError::Config(format!("--gateway {gateway}: {error}")))?
            .next()
            .ok_or_else(|| BenchError::Config(format!("--gateway {gateway}: no address")))?;
        if let Some(source) = source
            && source.is_ipv4() != addr.is_ipv4()
        {
            return Err(BenchError::Config(format!(
                "--source-ip {source} cannot reach {addr} (address families differ)"
            )));
        }
        Ok(Self {
            ws_base: format!("ws://{authority}"),
            addr,
            source,
        })
    }

    /// Opens a WebSocket to `path` (with its query) on this target.
    pub(crate) async fn connect(&self, path: &str) -> Result<Socket> {
        let url = format!("{}{path}", self.ws_base);
        let failed = |error: &dyn std::fmt::Display| BenchError::Connect {
            url: url.clone(),
            message: hint(&error.to_string(), self.source),
        };
        let socket = if self.addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(|error| failed(&error))?;
        if let Some(source) = self.source {
            socket
                .bind(SocketAddr::new(source, 0))
                .map_err(|error| failed(&error))?;
        }
        let stream = socket
            .connect(self.addr)
            .await
            .map_err(|error| failed(&error))?;
        // Small frames, latency measured: Nagle would add up to 40 ms per frame.
        stream.set_nodelay(true).map_err(|error| failed(&error))?;
        let (socket, _) = tokio_tungstenite::client_async(url.as_str(), stream)
            .await
            .map_err(|error| failed(&error))?;
        Ok(Socket { socket })
    }
}

/// Adds what to do about the usual local limits to a connection error.
fn hint(error: &str, source: Option<IpAddr>) -> String {
    if error.contains("Too many open files") {
        format!("{error} (raise the limit: ulimit -n 65536)")
    } else if error.contains("Address already in use")
        || error.contains("Cannot assign requested address")
    {
        let from = source.map_or_else(|| "this address".to_owned(), |ip| ip.to_string());
        format!("{error} (ephemeral ports of {from} exhausted: add --source-ip 127.0.0.x)")
    } else {
        error.to_owned()
    }
}

/// A connected protocol v1 WebSocket.
#[derive(Debug)]
pub(crate) struct Socket {
    socket: WebSocketStream<TcpStream>,
}

/// What reading a socket gave.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// A frame of the protocol.
    Frame(ServerFrame),
    /// A text frame that is not a valid server frame.
    Garbage(String),
    /// The socket ended (close frame, error or end of stream), with the close code if any.
    Closed(Option<u16>),
}

impl Socket {
    /// Sends one client frame.
    pub(crate) async fn send(&mut self, frame: &ClientFrame<'_>) -> Result<(), String> {
        let text = serde_json::to_string(frame).map_err(|error| error.to_string())?;
        self.socket
            .send(Message::Text(text.into()))
            .await
            .map_err(|error| error.to_string())
    }

    /// Returns the next protocol frame, skipping WebSocket control frames.
    pub(crate) async fn next(&mut self) -> Incoming {
        loop {
            match self.socket.next().await {
                Some(Ok(Message::Text(text))) => {
                    return match serde_json::from_str(&text) {
                        Ok(frame) => Incoming::Frame(frame),
                        Err(error) => Incoming::Garbage(format!("{error}: {}", text.as_str())),
                    };
                }
                Some(Ok(Message::Close(frame))) => {
                    return Incoming::Closed(frame.map(|frame| u16::from(frame.code)));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Incoming::Closed(None),
            }
        }
    }

    /// Sends a normal close frame; the peer's answer is not awaited.
    pub(crate) async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

/// The client frames the bench sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ClientFrame<'a> {
    Auth {
        token: &'a str,
    },
    Status {
        status: &'a str,
    },
    Message {
        client_msg_id: &'a str,
        text: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        conversation_id: Option<&'a str>,
    },
    Close {
        conversation_id: &'a str,
    },
}

/// The server frames the bench reads.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ServerFrame {
    Welcome {
        #[serde(default)]
        conversations: Vec<ConversationView>,
    },
    Ack {
        client_msg_id: String,
        conversation_id: String,
        seq: u64,
        duplicate: bool,
    },
    Message {
        conversation_id: String,
        seq: u64,
        client_msg_id: Option<String>,
        sender: Sender,
        text: String,
    },
    Assigned {
        conversation: ConversationView,
    },
    Conversation {
        conversation_id: String,
        status: String,
    },
    Status {
        status: String,
    },
    Error {
        code: String,
        message: String,
        client_msg_id: Option<String>,
    },
    #[serde(other)]
    Other,
}

/// The conversation object of `welcome` and `assigned`.
#[derive(Debug, Deserialize)]
pub(crate) struct ConversationView {
    pub(crate) id: String,
}

/// `message.sender`.
#[derive(Debug, Deserialize)]
pub(crate) struct Sender {
    pub(crate) kind: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_frames_it_needs_and_ignores_the_rest() {
        let frame: ServerFrame = serde_json::from_str(
            r#"{"type":"message","conversation_id":"c","seq":3,"client_msg_id":"v1-2",
                "sender":{"kind":"visitor","id":"v","name":"Visitor"},"text":"hi",
                "created_at":"2025-06-03T09:14:07.512Z"}"#,
        )
        .expect("message frame");
        assert!(matches!(frame, ServerFrame::Message { seq: 3, .. }));
        let frame: ServerFrame =
            serde_json::from_str(r#"{"type":"queue","conversation_id":"c","position":1}"#)
                .expect("other frame");
        assert!(matches!(frame, ServerFrame::Other));
    }

    #[test]
    fn writes_frames_as_the_protocol_wants_them() {
        let frame = ClientFrame::Message {
            client_msg_id: "v1-0",
            text: "bench:v1-0",
            conversation_id: None,
        };
        assert_eq!(
            serde_json::to_string(&frame).expect("json"),
            r#"{"type":"message","client_msg_id":"v1-0","text":"bench:v1-0"}"#
        );
    }
}
