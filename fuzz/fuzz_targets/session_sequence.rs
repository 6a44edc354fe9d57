//! One socket's life as a sequence of events, over the gateway's socket-free bookkeeping: the
//! per-socket token bucket (`limits::RateLimiter`), the per-visitor socket count
//! (`limits::VisitorConnections`), and the rendering of stored messages and statuses into server
//! frames (`view`).
//!
//! The session itself (`ws/session.rs`) and the seq cursor of a follower (`ws/follow.rs`) are async
//! code over a live `Gateway`, the bus and gRPC clients, so they are not driven here; see
//! docs/protocol.md, "Fuzzing".
//!
//! Invariants: no panic for any configuration or timing; in any window of time the bucket lets
//! through at most `burst + rate × window` frames, and a frame that arrives at least one refill
//! interval after the previous one always passes; a visitor gets a socket slot exactly while it
//! holds fewer than `max` (through any clone of the counter), and dropping a slot frees it; a
//! rendered `message` frame is JSON with the stored values, a known sender kind, a non-empty name
//! and an RFC 3339 `created_at` (or empty without a timestamp).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use switchboard_fuzz::KNOWN_TYPES;
use switchboard_gateway::ws::limits::{ConnectionSlot, RateLimiter, VisitorConnections};
use switchboard_gateway::ws::protocol::parse_traced;
use switchboard_gateway::ws::view;
use switchboard_proto::history::v1 as history_pb;
use uuid::Uuid;

/// Longest sequence looked at; the window check is quadratic.
const MAX_OPS: usize = 256;

#[derive(Debug, Arbitrary)]
struct Input {
    frames_per_second: u32,
    frames_burst: u32,
    ops: Vec<Op>,
}

#[derive(Debug, Arbitrary)]
enum Op {
    /// A text frame arrives `after_micros` after the previous event and asks for a token.
    Frame { after_micros: u32, text: String },
    /// Time passes.
    Wait { micros: u32 },
    /// Another socket of visitor `visitor % 4` opens, through counter handle `handle`.
    Open { visitor: u8, max: u8, handle: u8 },
    /// The socket holding slot `slot` (modulo the open ones) closes.
    Close { slot: u8 },
    /// Another handle on the same counter, as `Gateway` clones hand out.
    CloneCounter,
    /// A stored message is replayed to the socket.
    Replay(StoredMessage),
    /// A conversation or agent status number is rendered.
    Status(i32),
}

#[derive(Debug, Arbitrary)]
struct StoredMessage {
    conversation_id: String,
    seq: u64,
    sender_kind: i32,
    sender_id: String,
    sender_name: String,
    client_msg_id: String,
    text: String,
    created_at: Option<(i64, i32)>,
}

/// A call to the rate limiter, for the window check at the end.
struct Call {
    at: Duration,
    allowed: bool,
}

fuzz_target!(|input: Input| {
    let start = Instant::now();
    let mut now = Duration::ZERO;
    let mut limiter = RateLimiter::new(input.frames_per_second, input.frames_burst, start);
    let capacity = f64::from(input.frames_burst.max(1));
    let rate = f64::from(input.frames_per_second.max(1));
    let mut calls: Vec<Call> = Vec::new();

    let mut counters = vec![VisitorConnections::default()];
    let mut slots: Vec<(u8, ConnectionSlot)> = Vec::new();
    let mut held: HashMap<u8, usize> = HashMap::new();

    for op in input.ops.iter().take(MAX_OPS) {
        match op {
            Op::Frame { after_micros, text } => {
                now += Duration::from_micros(u64::from(*after_micros));
                // The reader parses first, then asks the bucket (ws/session.rs `run`).
                if let Ok(frame) = parse_traced(text).frame {
                    assert!(KNOWN_TYPES.contains(&frame.kind()));
                }
                let allowed = limiter.allow(start + now);
                if let Some(previous) = calls.last() {
                    // At least one token has refilled since the previous frame (the bucket never
                    // goes below zero), with a margin for float rounding.
                    let refilled = (now - previous.at).as_secs_f64() * rate;
                    assert!(
                        allowed || refilled < 1.0 + 1e-6,
                        "frame refused {:?} after the previous one at {rate}/s",
                        now - previous.at
                    );
                } else {
                    assert!(allowed, "the first frame of a full bucket was refused");
                }
                calls.push(Call { at: now, allowed });
            }
            Op::Wait { micros } => now += Duration::from_micros(u64::from(*micros)),
            Op::Open {
                visitor,
                max,
                handle,
            } => {
                let visitor = visitor % 4;
                let max = usize::from(max % 5);
                let counter = &counters[usize::from(*handle) % counters.len()];
                let count = held.entry(visitor).or_default();
                let slot = counter.acquire(Uuid::from_u128(u128::from(visitor) + 1), max);
                assert_eq!(
                    slot.is_some(),
                    *count < max,
                    "visitor {visitor} holds {count} of {max}"
                );
                if let Some(slot) = slot {
                    *count += 1;
                    slots.push((visitor, slot));
                }
            }
            Op::Close { slot } => {
                if !slots.is_empty() {
                    let (visitor, slot) = slots.swap_remove(usize::from(*slot) % slots.len());
                    drop(slot);
                    *held.get_mut(&visitor).expect("counted when opened") -= 1;
                }
            }
            Op::CloneCounter => {
                if counters.len() < 4 {
                    counters.push(counters[0].clone());
                }
            }
            Op::Replay(stored) => check_message(stored),
            Op::Status(status) => check_statuses(*status),
        }
    }

    check_windows(&calls, capacity, rate);

    // Every socket closed: every visitor starts from zero again.
    slots.clear();
    for visitor in 0..4u8 {
        let one = counters[0].acquire(Uuid::from_u128(u128::from(visitor) + 1), 1);
        assert!(
            one.is_some(),
            "visitor {visitor} still counted after all closed"
        );
    }
});

/// Asserts the token-bucket bound: frames allowed in `[a, b]` ≤ capacity + rate × (b − a).
fn check_windows(calls: &[Call], capacity: f64, rate: f64) {
    for (first, opening) in calls.iter().enumerate() {
        let mut allowed = 0u32;
        for call in &calls[first..] {
            allowed += u32::from(call.allowed);
            let bound = capacity + rate * (call.at - opening.at).as_secs_f64();
            assert!(
                f64::from(allowed) <= bound * (1.0 + 1e-9) + 1e-6,
                "{allowed} frames allowed in {:?} (bound {bound})",
                call.at - opening.at
            );
        }
    }
}

fn check_message(stored: &StoredMessage) {
    let message = history_pb::Message {
        conversation_id: stored.conversation_id.clone(),
        seq: stored.seq,
        sender_kind: stored.sender_kind,
        sender_id: stored.sender_id.clone(),
        client_msg_id: stored.client_msg_id.clone(),
        text: stored.text.clone(),
        created_at: stored
            .created_at
            .map(|(seconds, nanos)| prost_types::Timestamp { seconds, nanos }),
        sender_name: stored.sender_name.clone(),
    };
    let text = view::message(&message).to_text();
    let frame: Value = serde_json::from_str(&text).expect("a message frame is JSON");
    assert_eq!(frame["type"], "message");
    assert_eq!(frame["seq"], Value::from(stored.seq));
    assert_eq!(frame["text"], Value::String(stored.text.clone()));
    assert_eq!(
        frame["client_msg_id"],
        Value::String(stored.client_msg_id.clone())
    );
    assert_eq!(frame["trace_id"], Value::Null, "replays carry no trace id");
    let kind = frame["sender"]["kind"].as_str().expect("a sender kind");
    assert!(matches!(kind, "visitor" | "agent" | "system"), "{kind}");
    let name = frame["sender"]["name"].as_str().expect("a sender name");
    assert!(!name.is_empty(), "a message frame without a sender name");
    if !stored.sender_name.is_empty() {
        assert_eq!(name, stored.sender_name);
    }

    let created_at = frame["created_at"]
        .as_str()
        .expect("created_at is a string");
    match stored.created_at {
        None => assert_eq!(created_at, ""),
        Some((seconds, nanos)) => {
            // Years 0–9999 are what RFC 3339 can write; history only stores real instants.
            let representable = u32::try_from(nanos)
                .ok()
                .and_then(|nanos| chrono::DateTime::from_timestamp(seconds, nanos))
                .filter(|at| (0..=9999).contains(&chrono::Datelike::year(at)));
            if let Some(at) = representable {
                let parsed = chrono::DateTime::parse_from_rfc3339(created_at)
                    .unwrap_or_else(|error| panic!("created_at {created_at:?}: {error}"));
                assert!(created_at.ends_with('Z'), "{created_at} is not UTC");
                assert_eq!(parsed.timestamp(), at.timestamp(), "{created_at}");
                assert_eq!(
                    parsed.timestamp_subsec_millis(),
                    at.timestamp_subsec_millis(),
                    "{created_at}"
                );
            }
        }
    }
}

fn check_statuses(status: i32) {
    assert!(matches!(
        view::status(status),
        "queued" | "assigned" | "closed"
    ));
    let agent = view::agent_status(status);
    assert!(matches!(agent, "online" | "away" | "offline"));
    let back = view::agent_status_from(agent).expect("a rendered agent status parses");
    assert_eq!(view::agent_status(back as i32), agent);
}
