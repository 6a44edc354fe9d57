//! Oracles shared by the fuzz targets in `fuzz_targets/`.
//!
//! Each oracle restates a rule of docs/protocol.md independently of the gateway's code, so a
//! target compares the two instead of calling the gateway's helper on both sides. Nothing here
//! touches sockets, the bus or a database.

use serde_json::Value;
use switchboard_gateway::ws::protocol::{ErrorCode, FrameError, ServerFrame};

/// The twelve client frame types of protocol v1 (docs/protocol.md, section 2).
pub const KNOWN_TYPES: [&str; 12] = [
    "auth", "message", "resume", "typing", "close", "status", "claim", "transfer", "note", "rate",
    "read", "ping",
];

/// Longest `client_msg_id` an `error` frame echoes, in characters.
pub const MAX_ECHOED_CLIENT_MSG_ID: usize = 64;

/// Returns whether `value` is a W3C trace-context `traceparent` the gateway must honour:
/// `00-<32 hex>-<16 hex>-<2 hex>`, lowercase, with non-zero trace and parent ids.
pub fn is_w3c_traceparent(value: &str) -> bool {
    let bytes = value.as_bytes();
    let lower_hex = |range: std::ops::Range<usize>| {
        bytes[range]
            .iter()
            .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
    };
    let not_zero = |range: std::ops::Range<usize>| bytes[range].iter().any(|byte| *byte != b'0');
    bytes.len() == 55
        && bytes.starts_with(b"00-")
        && bytes[35] == b'-'
        && bytes[52] == b'-'
        && lower_hex(3..35)
        && lower_hex(36..52)
        && lower_hex(53..55)
        && not_zero(3..35)
        && not_zero(36..52)
}

/// Returns the wire name of an error code, asserting it serialises as a snake_case string.
pub fn code_name(code: ErrorCode) -> String {
    let Ok(Value::String(name)) = serde_json::to_value(code) else {
        panic!("{code:?} does not serialise as a string");
    };
    assert!(
        !name.is_empty()
            && name
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte == b'_'),
        "{code:?} serialises as {name:?}, not snake_case"
    );
    name
}

/// Asserts what every parse error must satisfy: a serialisable code, a message, a
/// `client_msg_id` of at most 64 characters, and an `error` frame that is JSON and says so.
pub fn check_frame_error(error: &FrameError) {
    let name = code_name(error.code);
    assert!(!error.message.is_empty(), "{name} without a message");
    if let Some(id) = &error.client_msg_id {
        assert!(
            id.chars().count() <= MAX_ECHOED_CLIENT_MSG_ID,
            "{name} echoes a client_msg_id of {} characters",
            id.chars().count()
        );
    }
    let text = ServerFrame::error(
        error.code,
        error.message.clone(),
        error.client_msg_id.clone(),
    )
    .to_text();
    let frame: Value = serde_json::from_str(&text).expect("an error frame is JSON");
    assert_eq!(frame["type"], "error");
    assert_eq!(frame["code"], Value::String(name));
    assert_eq!(frame["message"], Value::String(error.message.clone()));
    match &error.client_msg_id {
        Some(id) => assert_eq!(frame["client_msg_id"], Value::String(id.clone())),
        // Server frames include every field; a missing value is null, never left out.
        None => assert_eq!(frame.get("client_msg_id"), Some(&Value::Null)),
    }
}

/// Returns the `client_msg_id` an error about `frame` must carry: the string field, cut to 64
/// characters, or none.
pub fn expected_client_msg_id(frame: Option<&Value>) -> Option<String> {
    frame
        .and_then(|frame| frame.get("client_msg_id"))
        .and_then(Value::as_str)
        .map(|id| id.chars().take(MAX_ECHOED_CLIENT_MSG_ID).collect())
}

/// Returns the `traceparent` the gateway must keep from `frame`: a well-formed string field.
pub fn expected_traceparent(frame: Option<&Value>) -> Option<&str> {
    frame
        .and_then(|frame| frame.get("traceparent"))
        .and_then(Value::as_str)
        .filter(|value| is_w3c_traceparent(value))
}

