//! The result of a run: [`Report`], as JSON for scripts or as a short human summary.

use super::check::Check;
use crate::config::Direction;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// Everything one run measured and checked.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Random id of the run (in the department name and the agents' emails).
    pub run_id: String,
    /// What was asked for.
    pub settings: Settings,
    /// How long each phase took, in seconds.
    pub timing: Timing,
    /// Totals over every phase.
    pub counts: Counts,
    /// Rates inside the measured window, per second.
    pub throughput: Throughput,
    /// Latencies of the messages sent in the measured window, in milliseconds.
    pub latency_ms: Latencies,
    /// Failures seen on the sockets (error frames by code, dropped sockets, …).
    pub errors: Errors,
    /// The loss/duplicate/order check over every message.
    pub check: Check,
    /// Details of the first failures and anything else worth a look.
    pub warnings: Vec<String>,
    /// True when the check passed and there were no errors.
    pub passed: bool,
}

/// The run's settings, as used.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Gateway base URLs.
    pub gateways: Vec<String>,
    /// Local addresses connected from (empty: chosen by the kernel).
    pub source_ips: Vec<String>,
    /// Visitor connections.
    pub visitors: usize,
    /// Agent connections.
    pub agents: usize,
    /// `max_concurrent` of each agent.
    pub agent_capacity: usize,
    /// Target messages per second, in total.
    pub rate: f64,
    /// Who sent.
    pub direction: Direction,
    /// Measured seconds asked for.
    pub duration_secs: u64,
    /// Warmup seconds.
    pub warmup_secs: u64,
    /// Bytes per message text.
    pub text_bytes: usize,
}

/// Phase durations in seconds.
#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    /// REST setup, connecting, opening and assigning every conversation.
    pub setup_secs: f64,
    /// Until one message per visitor went through end to end (the server caught up with the
    /// setup's backlog).
    pub settle_secs: f64,
    /// The measured window, as it really was.
    pub measured_secs: f64,
    /// Waiting for in-flight messages after sending stopped.
    pub drain_secs: f64,
    /// True when `--drain-timeout` ended the drain with messages still in flight (they count
    /// as lost or unacked).
    pub drain_timed_out: bool,
}

/// Totals over every phase (setup's opening messages and warmup included).
#[derive(Debug, Clone, Serialize)]
pub struct Counts {
    /// Messages sent.
    pub sent: u64,
    /// Messages acked.
    pub acked: u64,
    /// Messages received by the other side (first receipts).
    pub delivered: u64,
    /// `message` frames that were not this run's (system messages).
    pub foreign: u64,
}

/// Rates inside the measured window.
#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    /// What was asked for.
    pub target_per_sec: f64,
    /// Messages sent.
    pub sent_per_sec: f64,
    /// Acks received.
    pub acked_per_sec: f64,
    /// First receipts by the other side.
    pub delivered_per_sec: f64,
}

/// The two latencies measured.
#[derive(Debug, Clone, Serialize)]
pub struct Latencies {
    /// Send → first receipt by the other side.
    pub end_to_end: Percentiles,
    /// Send → `ack` on the sending socket.
    pub ack: Percentiles,
}

/// Percentiles of one latency, in milliseconds (`null` without samples).
#[derive(Debug, Clone, Serialize)]
pub struct Percentiles {
    /// Samples.
    pub samples: u64,
    /// Smallest.
    pub min: Option<f64>,
    /// Median.
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// 99.9th percentile.
    pub p999: Option<f64>,
    /// Largest.
    pub max: Option<f64>,
    /// Mean.
    pub mean: Option<f64>,
}

impl Percentiles {
    /// Reads a histogram of microseconds.
    pub(crate) fn from_micros(histogram: &Histogram<u64>) -> Self {
        let empty = histogram.is_empty();
        let ms = |micros: u64| (!empty).then(|| micros as f64 / 1000.0);
        Self {
            samples: histogram.len(),
            min: ms(histogram.min()),
            p50: ms(histogram.value_at_quantile(0.50)),
            p90: ms(histogram.value_at_quantile(0.90)),
            p99: ms(histogram.value_at_quantile(0.99)),
            p999: ms(histogram.value_at_quantile(0.999)),
            max: ms(histogram.max()),
            mean: (!empty).then(|| histogram.mean().round() / 1000.0),
        }
    }
}

/// Failures seen on the sockets.
#[derive(Debug, Clone, Serialize)]
pub struct Errors {
    /// All of them.
    pub total: u64,
    /// By `error.code`, or `disconnected`, `send_failed`, `invalid_frame_from_server`, …
    pub by_kind: BTreeMap<String, u64>,
}

impl Report {
    /// Returns the report as one pretty-printed JSON object.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }
}

fn ms(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |value| format!("{value:.2} ms"))
}

impl fmt::Display for Percentiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  ({} samples)",
            ms(self.p50),
            ms(self.p90),
            ms(self.p99),
            ms(self.p999),
            ms(self.max),
            self.samples
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.settings;
        writeln!(
            f,
            "run {}: {} visitors, {} agents (capacity {}), direction {}, {} msg/s for {} s after {} s warmup, {} B texts",
            self.run_id,
            s.visitors,
            s.agents,
            s.agent_capacity,
            s.direction,
            s.rate,
            s.duration_secs,
            s.warmup_secs,
            s.text_bytes
        )?;
        let t = &self.throughput;
        writeln!(
            f,
            "throughput   sent {:.1}/s  acked {:.1}/s  delivered {:.1}/s  (target {}/s, {:.1} s measured)",
            t.sent_per_sec,
            t.acked_per_sec,
            t.delivered_per_sec,
            t.target_per_sec,
            self.timing.measured_secs
        )?;
        writeln!(f, "end-to-end   {}", self.latency_ms.end_to_end)?;
        writeln!(f, "ack          {}", self.latency_ms.ack)?;
        let c = &self.counts;
        writeln!(
            f,
            "messages     sent {}  acked {}  delivered {}  (setup {:.1} s, settle {:.1} s, drain {:.1} s{})",
            c.sent,
            c.acked,
            c.delivered,
            self.timing.setup_secs,
            self.timing.settle_secs,
            self.timing.drain_secs,
            if self.timing.drain_timed_out {
                ", timed out"
            } else {
                ""
            }
        )?;
        let k = &self.check;
        writeln!(
            f,
            "check        lost {}  duplicated {}  out-of-order {}  missing seqs {}  repeated seqs {}  \
             echo missing {}  unacked {}  duplicate acks {}  corrupted {}  seq conflicts {}  \
             ({} messages, {} streams)",
            k.lost,
            k.duplicated,
            k.out_of_order,
            k.missing_seqs,
            k.repeated_seqs,
            k.echo_missing,
            k.unacked,
            k.duplicate_acks,
            k.corrupted,
            k.seq_conflicts,
            k.messages,
            k.streams
        )?;
        write!(f, "errors       {}", self.errors.total)?;
        for (kind, count) in &self.errors.by_kind {
            write!(f, "  {kind} {count}")?;
        }
        writeln!(f)?;
        for warning in &self.warnings {
            writeln!(f, "warning      {warning}")?;
        }
        write!(
            f,
            "result       {}",
            if self.passed { "PASS" } else { "FAIL" }
        )
    }
}
