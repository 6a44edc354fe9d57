//! Wire protocol v1: the JSON text frames of `/v1/visitor/ws` and `/v1/agent/ws`.
//!
//! Every frame is an object with a `"type"`. Parsing reports *why* a frame is bad with a stable
//! code (see [`ErrorCode`]), so a client can react without reading messages. docs/protocol.md is
//! the reference; keep the two in step.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A frame sent by a browser.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
/// Unknown fields are ignored, so clients can add fields without breaking older gateways.
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Agents only, first frame: the token from `POST /v1/auth/login`.
    Auth { token: String },
    /// A message to a conversation; a visitor may omit `conversation_id`.
    Message {
        client_msg_id: String,
        text: String,
        #[serde(default)]
        conversation_id: Option<String>,
        /// Visitors, when nobody can answer now: where to send the answer. Kept with the
        /// conversation this message opens (an offline message).
        #[serde(default)]
        email: Option<String>,
    },
    /// Replay every message with `seq > after_seq`, then continue live.
    Resume {
        conversation_id: String,
        after_seq: u64,
    },
    /// Typing indicator.
    Typing {
        conversation_id: String,
        state: bool,
    },
    /// Close a conversation; agents may ask the visitor for a rating.
    Close {
        conversation_id: String,
        #[serde(default)]
        request_rating: bool,
    },
    /// Everything up to `seq` has been shown to this reader (read receipt).
    Read { conversation_id: String, seq: u64 },
    /// Visitors: rate a closed conversation whose agent asked for it (1 to 5), once.
    Rate {
        conversation_id: String,
        score: u8,
        #[serde(default)]
        comment: Option<String>,
    },
    /// Agents: set your availability (`online`, `away` or `offline`).
    Status { status: String },
    /// Agents: take a waiting conversation yourself; `assigned` follows when it is yours.
    Claim { conversation_id: String },
    /// Agents: hand a conversation you hold to another agent or to a department's queue, with
    /// an optional internal note for the receiving side.
    Transfer {
        conversation_id: String,
        #[serde(default)]
        to_agent_id: Option<String>,
        #[serde(default)]
        to_department_id: Option<String>,
        #[serde(default)]
        note: Option<String>,
    },
    /// Agents: add an internal note (agents only, never shown to the visitor).
    Note {
        conversation_id: String,
        text: String,
    },
    /// Application-level keep-alive; answered by `pong`.
    Ping,
}

/// Answer to an agent's `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusView {
    pub status: String,
}

impl ClientFrame {
    /// Returns the frame's `type`, for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Auth { .. } => "auth",
            Self::Message { .. } => "message",
            Self::Resume { .. } => "resume",
            Self::Typing { .. } => "typing",
            Self::Close { .. } => "close",
            Self::Status { .. } => "status",
            Self::Claim { .. } => "claim",
            Self::Rate { .. } => "rate",
            Self::Read { .. } => "read",
            Self::Transfer { .. } => "transfer",
            Self::Note { .. } => "note",
            Self::Ping => "ping",
        }
    }
}

const KNOWN_TYPES: [&str; 12] = [
    "auth", "message", "resume", "typing", "close", "status", "claim", "transfer", "note", "rate",
    "read", "ping",
];

/// Stable error codes of `error` frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not JSON.
    InvalidJson,
    /// The frame is JSON but not a valid frame (not an object, no `type`, missing or wrong-typed
    /// fields).
    InvalidFrame,
    /// `type` is not one the protocol knows.
    UnknownType,
    /// Binary frames are not part of the protocol.
    BinaryNotSupported,
    /// `client_msg_id` is empty, too long or not printable ASCII.
    InvalidClientMsgId,
    /// `text` is empty.
    EmptyMessage,
    /// `text` is longer than the configured limit.
    MessageTooLong,
    /// The conversation does not exist or is not visible to this client.
    ConversationNotFound,
    /// An agent wrote to (or closed) a conversation not assigned to it.
    NotAssigned,
    /// The conversation is closed.
    ConversationClosed,
    /// Claim: someone already holds the conversation.
    AlreadyAssigned,
    /// Claim: you hold as many conversations as your capacity allows.
    AtCapacity,
    /// Claim: the conversation waits for a department you are not in.
    NotInDepartment,
    /// Claim: you are offline (go online or away first). Transfer: the chosen agent is offline
    /// or disabled.
    NotAvailable,
    /// Transfer: no such agent or department in your workspace.
    TargetNotFound,
    /// Visitor socket: the `department` parameter names no department of the workspace.
    InvalidDepartment,
    /// `rate`: the conversation is not closed with a rating request.
    RatingNotRequested,
    /// `rate`: the conversation was rated already.
    AlreadyRated,
    /// `email` is not an email address.
    InvalidEmail,
    /// Too many frames per second.
    RateLimited,
    /// An agent socket sent something before `auth`.
    AuthRequired,
    /// The token is unknown or expired.
    InvalidToken,
    /// The site key names no workspace.
    InvalidSiteKey,
    /// This visitor has too many open sockets.
    TooManyConnections,
    /// A service behind the gateway is down; retry.
    Unavailable,
    /// Something failed inside; nothing was changed that the client was told about.
    Internal,
}

/// Why a text frame could not be parsed, with the `client_msg_id` it carried, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    pub code: ErrorCode,
    pub message: String,
    pub client_msg_id: Option<String>,
}

/// Parses a text frame.
pub fn parse(text: &str) -> Result<ClientFrame, FrameError> {
    parse_traced(text).frame
}

/// A client frame as read, with the W3C trace context it may carry.
#[derive(Debug)]
pub struct Parsed {
    pub frame: Result<ClientFrame, FrameError>,
    /// The frame's optional `traceparent` (any frame type may carry one): the browser's span
    /// this frame continues. A malformed value is dropped, as W3C asks, so the frame starts a
    /// new trace instead.
    pub traceparent: Option<String>,
}

/// Parses a client frame and its optional `traceparent`; see [`parse`].
pub fn parse_traced(text: &str) -> Parsed {
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(_) => {
            return Parsed {
                frame: Err(FrameError {
                    code: ErrorCode::InvalidJson,
                    message: "frame is not valid JSON".into(),
                    client_msg_id: None,
                }),
                traceparent: None,
            };
        }
    };
    let client_msg_id: Option<String> = value
        .get("client_msg_id")
        .and_then(Value::as_str)
        .map(|id| id.chars().take(64).collect());
    let fail = |code, message: String| FrameError {
        code,
        message,
        client_msg_id: client_msg_id.clone(),
    };
    let traceparent = match value.get("traceparent") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(traceparent)) => {
            Ok(switchboard_platform::trace::is_traceparent(traceparent)
                .then(|| traceparent.clone()))
        }
        Some(_) => Err(fail(
            ErrorCode::InvalidFrame,
            "traceparent must be a string".into(),
        )),
    };
    let checked = match (value.get("type").and_then(Value::as_str), &traceparent) {
        (_, Err(error)) => Err(error.clone()),
        (None, _) => Err(fail(
            ErrorCode::InvalidFrame,
            "frame must be an object with a string \"type\"".into(),
        )),
        (Some(kind), _) if !KNOWN_TYPES.contains(&kind) => Err(fail(
            ErrorCode::UnknownType,
            format!("unknown frame type {:?}", truncate(kind)),
        )),
        (Some(_), _) => Ok(()),
    };
    let frame = checked.and_then(|()| {
        serde_json::from_value(value)
            .map_err(|error| fail(ErrorCode::InvalidFrame, error.to_string()))
    });
    Parsed {
        frame,
        traceparent: traceparent.ok().flatten(),
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(32).collect()
}

/// Who wrote a message or is typing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    /// `visitor`, `agent` or `system`.
    pub kind: String,
    pub id: String,
    pub name: String,
}

/// An announcement, as carried on the bus and sent to agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub id: String,
    pub text: String,
    pub author: AnnouncementAuthor,
    /// Only members of this department receive it; everyone when absent.
    pub department_id: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

/// Who sent an announcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnouncementAuthor {
    pub id: String,
    pub name: String,
}

/// Whether a visitor can expect an answer now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AvailabilityView {
    pub open: bool,
    /// `outside_hours` or `nobody_online` when not open.
    pub reason: Option<String>,
}

/// An agent as a visitor sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentRef {
    pub id: String,
    pub name: String,
}

/// A conversation as a client sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConversationView {
    pub id: String,
    pub visitor_id: String,
    pub department: Option<String>,
    /// `queued`, `assigned` or `closed`.
    pub status: &'static str,
    pub agent_id: Option<String>,
    pub last_seq: u64,
    /// Opened while nobody could answer (an offline message).
    pub offline: bool,
    /// Agents only: the email the visitor left with an offline message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    /// Agents only (internal classification); omitted for visitors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// A frame sent by the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// First frame of a visitor socket.
    #[serde(rename = "welcome")]
    VisitorWelcome {
        visitor_id: String,
        visitor_token: String,
        /// The visitor's open conversation; send `resume` to receive it.
        conversation: Option<ConversationView>,
        /// Whether someone can answer now; when not, the widget offers to leave a message.
        availability: AvailabilityView,
    },
    /// Answer to an agent's `auth`.
    #[serde(rename = "welcome")]
    AgentWelcome {
        agent_id: String,
        name: String,
        workspace_id: String,
        /// Open conversations assigned to the agent; send `resume` for those you show.
        conversations: Vec<ConversationView>,
        /// `online`, `away` or `offline`.
        status: String,
    },
    /// The message is committed; sent only after the database commit.
    Ack {
        client_msg_id: String,
        conversation_id: String,
        seq: u64,
        duplicate: bool,
        /// Trace of the send (32 hex digits) when the gateway records traces, else null.
        trace_id: Option<String>,
    },
    /// A message of a conversation, in `seq` order without gaps.
    Message {
        conversation_id: String,
        seq: u64,
        client_msg_id: String,
        sender: Sender,
        text: String,
        /// RFC 3339.
        created_at: String,
        /// Trace of the send when this frame was delivered live and traces are recorded; null
        /// in replays.
        trace_id: Option<String>,
    },
    /// Agents: a conversation was assigned to you.
    Assigned { conversation: ConversationView },
    /// A conversation's state changed.
    Conversation {
        conversation_id: String,
        status: &'static str,
        agent: Option<AgentRef>,
        /// Closed with a request to rate it (`rate`).
        rating_requested: bool,
    },
    /// Someone (on another socket) has read a followed conversation up to `seq`; sent live and,
    /// after a `resume`'s replay, for every participant's current mark.
    Read {
        conversation_id: String,
        reader: Sender,
        seq: u64,
    },
    /// Visitors: your rating is stored.
    Rated { conversation_id: String, score: u8 },
    /// Replay after `resume` is complete; `recovered: false` means page through history.
    Resumed {
        conversation_id: String,
        recovered: bool,
        last_seq: u64,
    },
    /// Agents: an internal note of a followed conversation (after the replay of a `resume`, and
    /// live).
    Note {
        conversation_id: String,
        id: String,
        author: AgentRef,
        text: String,
        /// RFC 3339.
        created_at: String,
    },
    /// Agents: a message from an admin or supervisor to the online agents of the workspace or
    /// of one department (live only: agents offline at the time do not get it later).
    Announcement(Announcement),
    /// Visitors: where a waiting conversation stands in the queue; sent on `resume` and
    /// whenever it changes. `expected_wait_secs` is absent until there is enough history.
    Queue {
        conversation_id: String,
        position: u32,
        expected_wait_secs: Option<u32>,
    },
    /// Someone else is typing (or stopped).
    Typing {
        conversation_id: String,
        state: bool,
        sender: Sender,
    },
    /// Answer to `ping`.
    Pong,
    /// Agents: your availability changed (answer to `status`).
    Status { status: String },
    /// The last frame could not be processed; nothing was changed.
    Error {
        code: ErrorCode,
        message: String,
        client_msg_id: Option<String>,
    },
}

impl ServerFrame {
    /// Returns an error frame.
    pub fn error(
        code: ErrorCode,
        message: impl Into<String>,
        client_msg_id: Option<String>,
    ) -> Self {
        Self::Error {
            code,
            message: message.into(),
            client_msg_id,
        }
    }

    /// Serialises the frame.
    pub fn to_text(&self) -> String {
        // Serialising these plain structs cannot fail; an empty frame would be a bug, not a crash.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_client_frame() {
        assert_eq!(parse(r#"{"type":"ping"}"#), Ok(ClientFrame::Ping));
        assert_eq!(
            parse(r#"{"type":"message","client_msg_id":"a","text":"hi"}"#),
            Ok(ClientFrame::Message {
                client_msg_id: "a".into(),
                text: "hi".into(),
                conversation_id: None,
                email: None,
            })
        );
        assert_eq!(
            parse(r#"{"type":"resume","conversation_id":"c","after_seq":3}"#),
            Ok(ClientFrame::Resume {
                conversation_id: "c".into(),
                after_seq: 3
            })
        );
        assert!(matches!(
            parse(r#"{"type":"typing","conversation_id":"c","state":true}"#),
            Ok(ClientFrame::Typing { state: true, .. })
        ));
    }

    #[test]
    fn any_frame_may_carry_a_traceparent_and_a_malformed_one_is_dropped() {
        let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parsed = parse_traced(&format!(r#"{{"type":"ping","traceparent":"{valid}"}}"#));
        assert_eq!(parsed.frame, Ok(ClientFrame::Ping));
        assert_eq!(parsed.traceparent.as_deref(), Some(valid));

        let malformed = parse_traced(r#"{"type":"ping","traceparent":"00-zz-01"}"#);
        assert_eq!(malformed.frame, Ok(ClientFrame::Ping));
        assert_eq!(malformed.traceparent, None);

        let wrong_type =
            parse_traced(r#"{"type":"message","client_msg_id":"m1","text":"hi","traceparent":7}"#);
        let error = wrong_type
            .frame
            .expect_err("a traceparent must be a string");
        assert_eq!(error.code, ErrorCode::InvalidFrame);
        assert_eq!(error.client_msg_id.as_deref(), Some("m1"));
    }

    #[test]
    fn reports_why_a_frame_is_bad() {
        let code = |text: &str| parse(text).map_err(|error| error.code).err();
        assert_eq!(code("not json"), Some(ErrorCode::InvalidJson));
        assert_eq!(code("[1,2]"), Some(ErrorCode::InvalidFrame));
        assert_eq!(code(r#"{"type":7}"#), Some(ErrorCode::InvalidFrame));
        assert_eq!(code(r#"{"type":"dance"}"#), Some(ErrorCode::UnknownType));
        assert_eq!(
            code(r#"{"type":"message","text":"hi"}"#),
            Some(ErrorCode::InvalidFrame)
        );
        assert_eq!(
            code(r#"{"type":"resume","conversation_id":"c","after_seq":"x"}"#),
            Some(ErrorCode::InvalidFrame)
        );
        assert_eq!(parse(r#"{"type":"ping","extra":1}"#), Ok(ClientFrame::Ping));
        let error = parse(r#"{"type":"message","client_msg_id":"m1"}"#).expect_err("missing text");
        assert_eq!(error.client_msg_id.as_deref(), Some("m1"));
        assert!(error.message.contains("text"));
    }

    #[test]
    fn serialises_server_frames_with_their_type() {
        let text = ServerFrame::Pong.to_text();
        assert_eq!(text, r#"{"type":"pong"}"#);
        let error = ServerFrame::error(ErrorCode::RateLimited, "slow down", None).to_text();
        assert!(error.contains(r#""code":"rate_limited""#));
        let welcome = ServerFrame::VisitorWelcome {
            visitor_id: "v".into(),
            visitor_token: "t".into(),
            conversation: None,
            availability: AvailabilityView {
                open: false,
                reason: Some("outside_hours".into()),
            },
        };
        let text = welcome.to_text();
        assert!(text.starts_with(r#"{"type":"welcome""#));
        assert!(text.contains(r#""availability":{"open":false,"reason":"outside_hours"}"#));
    }
}
