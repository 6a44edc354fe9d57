//! Everything measured during a run, with one clock.
//!
//! The [`Recorder`] is shared by every connection task. Each sent message gets a [`Record`] keyed
//! by its `client_msg_id`, holding the `Instant` it was sent; the ack and every receipt (echo to
//! the sender, delivery to the other side) are matched against it in the same process, so
//! latencies need no clock synchronisation. Histograms keep microseconds; only messages *sent*
//! while measuring are in them, but every message of every phase is checked ([`check`]).
//!
//! One `std::sync::Mutex` guards it all: a few lock operations per message are far below what
//! the server can take, and it is never held across an `.await`.

pub(crate) mod check;
pub(crate) mod report;

use crate::error::{BenchError, Result};
use hdrhistogram::Histogram;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The phases of a run, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    /// Connecting, opening conversations, waiting for assignment.
    Setup = 0,
    /// One message per visitor, delivered end to end before any load: the server has caught
    /// up with the setup's backlog (assignment events) when it gets through.
    Settle = 1,
    /// Load without measuring.
    Warmup = 2,
    /// Load, measured.
    Measure = 3,
    /// No new messages; waiting for those in flight.
    Drain = 4,
    /// Closing conversations and sockets.
    Stop = 5,
}

impl Phase {
    fn from_u8(value: u8) -> Self {
        match value {
            0 => Self::Setup,
            1 => Self::Settle,
            2 => Self::Warmup,
            3 => Self::Measure,
            4 => Self::Drain,
            _ => Self::Stop,
        }
    }

    /// Returns the phase's name for the progress line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Setup => "setup",
            Self::Settle => "settle",
            Self::Warmup => "warmup",
            Self::Measure => "measure",
            Self::Drain => "drain",
            Self::Stop => "stop",
        }
    }
}

/// Which side of a conversation a socket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Visitor,
    Agent,
}

/// One sent message.
#[derive(Debug)]
pub(crate) struct Record {
    side: Side,
    sent_at: Instant,
    measured: bool,
    /// Byte length of the text sent, to detect a changed text on receipt.
    text_len: usize,
    acked: Option<Ack>,
    ack_count: u32,
    rejected: Option<String>,
    delivered: u32,
    echoed: u32,
    corrupted: u32,
    settled: bool,
}

/// The first ack of a message.
#[derive(Debug, Clone)]
pub(crate) struct Ack {
    pub(crate) conversation_id: String,
    pub(crate) seq: u64,
    pub(crate) duplicate: bool,
}

/// Counters shown by the progress line.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Snapshot {
    pub(crate) sent: u64,
    pub(crate) acked: u64,
    pub(crate) delivered: u64,
    pub(crate) errors: u64,
    pub(crate) e2e_p99: Option<Duration>,
}

#[derive(Debug)]
struct Inner {
    messages: HashMap<String, Record>,
    e2e: Histogram<u64>,
    ack: Histogram<u64>,
    errors: BTreeMap<String, u64>,
    warnings: Vec<String>,
    sent: u64,
    acked: u64,
    delivered: u64,
    settled: u64,
    foreign: u64,
    /// Events inside the measured window: sent, acked, delivered.
    window: [u64; 3],
    measure_started: Option<Instant>,
    measure_ended: Option<Instant>,
}

/// Shared measurements of one run.
#[derive(Debug)]
pub(crate) struct Recorder {
    phase: AtomicU8,
    inner: Mutex<Inner>,
    /// Sockets ready: agents online, visitors with an assigned conversation, agent-side
    /// conversations whose opening message arrived.
    pub(crate) agents_online: AtomicUsize,
    pub(crate) visitors_connected: AtomicUsize,
    pub(crate) visitors_assigned: AtomicUsize,
    pub(crate) agent_conversations_ready: AtomicUsize,
}

/// The largest latency kept exactly (a minute, in microseconds); longer ones count as a minute.
const HISTOGRAM_MAX_MICROS: u64 = 60_000_000;
/// Distinct warnings kept in the report.
const MAX_WARNINGS: usize = 20;

fn histogram() -> Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, HISTOGRAM_MAX_MICROS, 3)
        .map_err(|error| BenchError::Internal(format!("latency histogram: {error:?}")))
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros())
        .unwrap_or(u64::MAX)
        .clamp(1, HISTOGRAM_MAX_MICROS)
}

impl Recorder {
    /// Returns an empty recorder in the setup phase.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            phase: AtomicU8::new(Phase::Setup as u8),
            inner: Mutex::new(Inner {
                messages: HashMap::new(),
                e2e: histogram()?,
                ack: histogram()?,
                errors: BTreeMap::new(),
                warnings: Vec::new(),
                sent: 0,
                acked: 0,
                delivered: 0,
                settled: 0,
                foreign: 0,
                window: [0; 3],
                measure_started: None,
                measure_ended: None,
            }),
            agents_online: AtomicUsize::new(0),
            visitors_connected: AtomicUsize::new(0),
            visitors_assigned: AtomicUsize::new(0),
            agent_conversations_ready: AtomicUsize::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns the current phase.
    pub(crate) fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::Acquire))
    }

    /// Enters `phase`, noting when measuring starts and ends.
    pub(crate) fn set_phase(&self, phase: Phase) {
        let mut inner = self.lock();
        let now = Instant::now();
        // Stored while holding the lock: `sent` reads it under the same lock.
        if phase == Phase::Measure {
            inner.measure_started = Some(now);
        } else if phase > Phase::Measure && inner.measure_ended.is_none() {
            inner.measure_ended = Some(now);
        }
        self.phase.store(phase as u8, Ordering::Release);
    }

    /// Notes that `client_msg_id` (of `text_len` bytes) is being sent now by `side`.
    ///
    /// Returns false, recording nothing, once the drain has begun: the message must then not be
    /// sent. Checked under the lock [`Self::set_phase`] takes, so after entering the drain no
    /// new message can appear behind the orchestrator's back.
    pub(crate) fn sent(&self, client_msg_id: &str, side: Side, text_len: usize) -> bool {
        let mut inner = self.lock();
        let phase = self.phase();
        if phase >= Phase::Drain {
            return false;
        }
        let measured = phase == Phase::Measure;
        inner.sent += 1;
        if measured {
            inner.window[0] += 1;
        }
        inner.messages.insert(
            client_msg_id.to_owned(),
            Record {
                side,
                sent_at: Instant::now(),
                measured,
                text_len,
                acked: None,
                ack_count: 0,
                rejected: None,
                delivered: 0,
                echoed: 0,
                corrupted: 0,
                settled: false,
            },
        );
        true
    }

    /// Notes an `ack`.
    pub(crate) fn acked(&self, client_msg_id: &str, conversation_id: &str, seq: u64, dup: bool) {
        let now = Instant::now();
        let in_window = self.phase() == Phase::Measure;
        let mut guard = self.lock();
        let inner = &mut *guard;
        let Some(record) = inner.messages.get_mut(client_msg_id) else {
            *inner.errors.entry("unknown_ack".into()).or_default() += 1;
            return;
        };
        record.ack_count += 1;
        if record.acked.is_some() {
            return;
        }
        record.acked = Some(Ack {
            conversation_id: conversation_id.to_owned(),
            seq,
            duplicate: dup,
        });
        if record.measured {
            inner
                .ack
                .saturating_record(micros(now.duration_since(record.sent_at)));
        }
        inner.acked += 1;
        if in_window {
            inner.window[1] += 1;
        }
        settle(record, &mut inner.settled);
    }

    /// Notes a `message` frame received by a socket of `receiver`, and returns whether it is a
    /// message of this run.
    pub(crate) fn received(&self, receiver: Side, client_msg_id: Option<&str>, text: &str) -> bool {
        let now = Instant::now();
        let in_window = self.phase() == Phase::Measure;
        let mut guard = self.lock();
        let inner = &mut *guard;
        let Some(record) = client_msg_id.and_then(|id| inner.messages.get_mut(id)) else {
            inner.foreign += 1;
            return false;
        };
        if text.len() != record.text_len || !client_msg_id.is_some_and(|id| text_matches(text, id))
        {
            record.corrupted += 1;
        }
        if record.side == receiver {
            record.echoed += 1;
        } else {
            record.delivered += 1;
            if record.delivered == 1 {
                if record.measured {
                    inner
                        .e2e
                        .saturating_record(micros(now.duration_since(record.sent_at)));
                }
                inner.delivered += 1;
                if in_window {
                    inner.window[2] += 1;
                }
            }
        }
        settle(record, &mut inner.settled);
        true
    }

    /// Notes an `error` frame; one naming a message of this run settles that message as refused.
    pub(crate) fn error_frame(&self, code: &str, client_msg_id: Option<&str>) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        *inner.errors.entry(code.to_owned()).or_default() += 1;
        if let Some(record) = client_msg_id.and_then(|id| inner.messages.get_mut(id))
            && record.rejected.is_none()
        {
            record.rejected = Some(code.to_owned());
            settle(record, &mut inner.settled);
        }
    }

    /// Counts a failure that is not an `error` frame (`disconnected`, `send_failed`, …).
    pub(crate) fn error(&self, kind: &str, detail: String) {
        let mut inner = self.lock();
        *inner.errors.entry(kind.to_owned()).or_default() += 1;
        push_warning(&mut inner.warnings, detail);
    }

    /// Keeps a note for the report that is not a failure of the system under test.
    pub(crate) fn warn(&self, detail: String) {
        push_warning(&mut self.lock().warnings, detail);
    }

    /// Returns the warnings so far.
    pub(crate) fn warnings(&self) -> Vec<String> {
        self.lock().warnings.clone()
    }

    /// Returns whether every sent message is acked (or refused), delivered and echoed.
    pub(crate) fn all_settled(&self) -> bool {
        let inner = self.lock();
        inner.settled == inner.sent
    }

    /// Returns the counters of the progress line.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let inner = self.lock();
        Snapshot {
            sent: inner.sent,
            acked: inner.acked,
            delivered: inner.delivered,
            errors: inner.errors.values().sum(),
            e2e_p99: (!inner.e2e.is_empty())
                .then(|| Duration::from_micros(inner.e2e.value_at_quantile(0.99))),
        }
    }

    /// Takes everything recorded, for the final check and report.
    pub(crate) fn finish(&self) -> Finished {
        let mut inner = self.lock();
        let measured = match (inner.measure_started, inner.measure_ended) {
            (Some(start), Some(end)) => end.duration_since(start),
            _ => Duration::ZERO,
        };
        Finished {
            messages: std::mem::take(&mut inner.messages),
            e2e: inner.e2e.clone(),
            ack: inner.ack.clone(),
            errors: std::mem::take(&mut inner.errors),
            warnings: std::mem::take(&mut inner.warnings),
            sent: inner.sent,
            acked: inner.acked,
            delivered: inner.delivered,
            foreign: inner.foreign,
            window: inner.window,
            measured,
        }
    }
}

fn push_warning(warnings: &mut Vec<String>, detail: String) {
    if warnings.len() < MAX_WARNINGS && !warnings.contains(&detail) {
        warnings.push(detail);
    }
}

/// Marks `record` settled (once) when nothing more is expected for it.
fn settle(record: &mut Record, settled: &mut u64) {
    let done = record.rejected.is_some()
        || (record.acked.is_some() && record.delivered > 0 && record.echoed > 0);
    if done && !record.settled {
        record.settled = true;
        *settled += 1;
    }
}

/// Returns the text the bench sends for `client_msg_id`, padded to `bytes`.
pub(crate) fn message_text(client_msg_id: &str, bytes: usize) -> String {
    let mut text = format!("bench:{client_msg_id} ");
    let pad = bytes.saturating_sub(text.len());
    text.extend(std::iter::repeat_n('x', pad));
    text
}

fn text_matches(text: &str, client_msg_id: &str) -> bool {
    text.strip_prefix("bench:")
        .and_then(|rest| rest.strip_prefix(client_msg_id))
        .and_then(|rest| rest.strip_prefix(' '))
        .is_some_and(|pad| pad.bytes().all(|byte| byte == b'x'))
}

/// What a run recorded, taken out of the [`Recorder`] at the end.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) messages: HashMap<String, Record>,
    pub(crate) e2e: Histogram<u64>,
    pub(crate) ack: Histogram<u64>,
    pub(crate) errors: BTreeMap<String, u64>,
    pub(crate) warnings: Vec<String>,
    pub(crate) sent: u64,
    pub(crate) acked: u64,
    pub(crate) delivered: u64,
    pub(crate) foreign: u64,
    pub(crate) window: [u64; 3],
    pub(crate) measured: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_text_has_the_id_and_the_size() {
        let text = message_text("v12-5", 32);
        assert_eq!(text.len(), 32);
        assert!(text_matches(&text, "v12-5"));
        assert!(!text_matches(&text, "v12-50"));
        assert_eq!(message_text("a1-99999", 4), "bench:a1-99999 ");
    }

    #[test]
    fn a_message_settles_when_acked_delivered_and_echoed() {
        let recorder = Recorder::new().expect("recorder");
        let text = message_text("v0-1", 16);
        recorder.sent("v0-1", Side::Visitor, text.len());
        recorder.acked("v0-1", "c", 1, false);
        assert!(recorder.received(Side::Visitor, Some("v0-1"), &text));
        assert!(!recorder.all_settled());
        assert!(recorder.received(Side::Agent, Some("v0-1"), &text));
        assert!(recorder.all_settled());
        assert!(!recorder.received(Side::Agent, Some("system-1"), "closed"));
        let snapshot = recorder.snapshot();
        assert_eq!(
            (snapshot.sent, snapshot.acked, snapshot.delivered),
            (1, 1, 1)
        );
    }

    #[test]
    fn nothing_is_sent_once_the_drain_began() {
        let recorder = Recorder::new().expect("recorder");
        recorder.set_phase(Phase::Measure);
        assert!(recorder.sent("v0-1", Side::Visitor, 10));
        recorder.set_phase(Phase::Drain);
        assert!(!recorder.sent("v0-2", Side::Visitor, 10));
        assert_eq!(recorder.snapshot().sent, 1);
    }

    #[test]
    fn a_refused_message_is_settled_and_counted_as_an_error() {
        let recorder = Recorder::new().expect("recorder");
        recorder.sent("v0-1", Side::Visitor, 10);
        recorder.error_frame("rate_limited", Some("v0-1"));
        assert!(recorder.all_settled());
        assert_eq!(recorder.snapshot().errors, 1);
    }
}
