//! Arbitrary bytes as a client text frame, through `protocol::parse_traced`.
//!
//! Invariants (docs/protocol.md, sections 2 and 6): parsing never panics; `parse` agrees with
//! `parse_traced`; a frame that is not JSON is `invalid_json` and nothing else is; a parse error is
//! one of `invalid_json`, `invalid_frame`, `unknown_type`, serialises, and echoes the frame's
//! `client_msg_id` cut to 64 characters; a parsed frame's kind is one of the twelve types and
//! equals its `"type"`; the kept `traceparent` is exactly the frame's well-formed (lowercase,
//! version 00) one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use switchboard_fuzz::{
    KNOWN_TYPES, check_frame_error, expected_client_msg_id, expected_traceparent,
    is_w3c_traceparent,
};
use switchboard_gateway::ws::protocol::{ErrorCode, parse, parse_traced};
use switchboard_gateway::ws::view;

fuzz_target!(|data: &[u8]| {
    // The session only ever sees valid UTF-8: axum closes the socket with 1007 otherwise.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = parse_traced(text);
    assert_eq!(parse(text), parsed.frame, "parse and parse_traced disagree");
    let json: Option<Value> = serde_json::from_str(text).ok();

    match &parsed.frame {
        Ok(frame) => {
            let json = json.as_ref().expect("a parsed frame is JSON");
            assert!(
                KNOWN_TYPES.contains(&frame.kind()),
                "kind {:?}",
                frame.kind()
            );
            let kind = serde_json::to_value(frame.kind()).expect("a kind serialises");
            assert_eq!(
                json.get("type"),
                Some(&kind),
                "kind differs from the frame's type"
            );
        }
        Err(error) => {
            check_frame_error(error);
            assert!(
                matches!(
                    error.code,
                    ErrorCode::InvalidJson | ErrorCode::InvalidFrame | ErrorCode::UnknownType
                ),
                "the parser reported {:?}",
                error.code
            );
            assert_eq!(
                error.code == ErrorCode::InvalidJson,
                json.is_none(),
                "invalid_json must mean exactly: not JSON"
            );
            assert_eq!(error.client_msg_id, expected_client_msg_id(json.as_ref()));
        }
    }

    assert_eq!(
        parsed.traceparent.as_deref(),
        expected_traceparent(json.as_ref())
    );
    if let Some(traceparent) = &parsed.traceparent {
        assert_eq!(
            view::trace_id_of(traceparent).as_deref(),
            Some(&traceparent[3..35])
        );
    }
    // Also the raw text as a traceparent: no panic on any string, and only well-formed ones
    // name a trace.
    assert_eq!(view::trace_id_of(text).is_some(), is_w3c_traceparent(text));
});
