//! The delivery check over every message of a run.
//!
//! Two views, both required to be clean:
//!
//! - **Per message** (from the [`Record`]s): each acked message reached the other side exactly
//!   once and came back to its sender exactly once, with its text intact; no two messages were
//!   acked with the same `(conversation, seq)`.
//! - **Per receiver** (from each socket's [`ConnLog`]): in every conversation it follows, the
//!   `seq`s it was given — of both sides' messages, since they share the numbering — are
//!   1, 2, 3, … up to the last acked seq of the conversation: none twice, none skipped, none late.
//!
//! Seqs above the conversation's last acked bench message are left out (the closing system
//! messages of the clean-up, or a message whose ack never came, which is counted as `unacked`).

use super::Record;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// The `seq`s one socket received, per conversation, in arrival order.
#[derive(Debug)]
pub(crate) struct ConnLog {
    /// Conversation id → seqs in the order they arrived.
    pub(crate) conversations: HashMap<String, Vec<u64>>,
}

/// Result of the loss/duplicate/order check; every count must be zero for a run to pass.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Messages checked (every phase).
    pub messages: u64,
    /// Conversation streams checked (one per socket and conversation).
    pub streams: u64,
    /// Acked messages the other side never received.
    pub lost: u64,
    /// Extra receipts of a message, on either side.
    pub duplicated: u64,
    /// Frames whose seq was not the next one for that receiver.
    pub out_of_order: u64,
    /// Seqs a receiver never got (1 up to the conversation's last acked seq).
    pub missing_seqs: u64,
    /// Frames with a seq the receiver had already got.
    pub repeated_seqs: u64,
    /// Acked messages that never came back to their sender.
    pub echo_missing: u64,
    /// Messages neither acked nor refused with an `error` frame.
    pub unacked: u64,
    /// Acks marked `duplicate` or sent twice (the bench never retries).
    pub duplicate_acks: u64,
    /// Receipts whose text differs from what was sent.
    pub corrupted: u64,
    /// `(conversation, seq)` pairs acked for two different messages.
    pub seq_conflicts: u64,
}

impl Check {
    /// Returns whether nothing was lost, duplicated, reordered or changed.
    pub fn passed(&self) -> bool {
        let Self {
            messages: _,
            streams: _,
            lost,
            duplicated,
            out_of_order,
            missing_seqs,
            repeated_seqs,
            echo_missing,
            unacked,
            duplicate_acks,
            corrupted,
            seq_conflicts,
        } = self;
        [
            lost,
            duplicated,
            out_of_order,
            missing_seqs,
            repeated_seqs,
            echo_missing,
            unacked,
            duplicate_acks,
            corrupted,
            seq_conflicts,
        ]
        .iter()
        .all(|count| **count == 0)
    }
}

/// Checks every message in `messages` against what the sockets in `logs` received.
pub(crate) fn check(messages: &HashMap<String, Record>, logs: &[ConnLog]) -> Check {
    let mut result = Check {
        messages: messages.len() as u64,
        ..Check::default()
    };
    let mut last_acked: HashMap<&str, u64> = HashMap::new();
    let mut acked_seqs: HashSet<(&str, u64)> = HashSet::new();
    for record in messages.values() {
        result.duplicated += u64::from(record.delivered.saturating_sub(1))
            + u64::from(record.echoed.saturating_sub(1));
        result.corrupted += u64::from(record.corrupted);
        if record.rejected.is_some() {
            continue;
        }
        let Some(ack) = &record.acked else {
            result.unacked += 1;
            continue;
        };
        if ack.duplicate || record.ack_count > 1 {
            result.duplicate_acks += 1;
        }
        if !acked_seqs.insert((ack.conversation_id.as_str(), ack.seq)) {
            result.seq_conflicts += 1;
        }
        let last = last_acked.entry(ack.conversation_id.as_str()).or_default();
        *last = (*last).max(ack.seq);
        if record.delivered == 0 {
            result.lost += 1;
        }
        if record.echoed == 0 {
            result.echo_missing += 1;
        }
    }
    for log in logs {
        for (conversation_id, seqs) in &log.conversations {
            let last = last_acked
                .get(conversation_id.as_str())
                .copied()
                .unwrap_or(0);
            result.streams += 1;
            let mut seen = HashSet::new();
            let mut highest = 0;
            for &seq in seqs.iter().filter(|&&seq| seq <= last) {
                if !seen.insert(seq) {
                    result.repeated_seqs += 1;
                    continue;
                }
                if seq != highest + 1 {
                    result.out_of_order += 1;
                }
                highest = highest.max(seq);
            }
            result.missing_seqs += (1..=last).filter(|seq| !seen.contains(seq)).count() as u64;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Recorder, Side, message_text};

    fn logs(seqs: &[(&str, &[u64])]) -> Vec<ConnLog> {
        seqs.iter()
            .map(|(conversation, seqs)| ConnLog {
                conversations: HashMap::from([((*conversation).to_owned(), seqs.to_vec())]),
            })
            .collect()
    }

    /// Two messages in conversation `c`, both acked, echoed and delivered.
    fn clean_run() -> Recorder {
        let recorder = Recorder::new().expect("recorder");
        for (seq, (id, side, other)) in [
            ("v0-0", Side::Visitor, Side::Agent),
            ("a0-0", Side::Agent, Side::Visitor),
        ]
        .into_iter()
        .enumerate()
        {
            let text = message_text(id, 20);
            recorder.sent(id, side, text.len());
            recorder.acked(id, "c", seq as u64 + 1, false);
            recorder.received(side, Some(id), &text);
            recorder.received(other, Some(id), &text);
        }
        recorder
    }

    #[test]
    fn a_clean_run_passes() {
        let finished = clean_run().finish();
        let result = check(
            &finished.messages,
            &logs(&[("c", &[1, 2]), ("c", &[1, 2, 3])]),
        );
        assert!(result.passed(), "{result:?}");
        assert_eq!((result.messages, result.streams), (2, 2));
    }

    #[test]
    fn gaps_repeats_and_reordering_are_counted_per_receiver() {
        let finished = clean_run().finish();
        let result = check(
            &finished.messages,
            &logs(&[("c", &[2, 1]), ("c", &[1, 1, 2]), ("c", &[1])]),
        );
        assert_eq!(result.out_of_order, 2);
        assert_eq!(result.repeated_seqs, 1);
        assert_eq!(result.missing_seqs, 1);
        assert!(!result.passed());
    }

    #[test]
    fn lost_duplicated_and_unacked_messages_are_counted() {
        let recorder = clean_run();
        let text = message_text("v0-1", 20);
        recorder.received(Side::Agent, Some("v0-0"), &message_text("v0-0", 20));
        recorder.sent("v0-1", Side::Visitor, text.len());
        recorder.acked("v0-1", "c", 3, false);
        recorder.received(Side::Visitor, Some("v0-1"), "bench:v0-1 changed");
        recorder.sent("v0-2", Side::Visitor, text.len());
        recorder.acked("a0-0", "c", 2, false);
        let result = check(&recorder.finish().messages, &[]);
        assert_eq!(result.duplicated, 1);
        assert_eq!(result.lost, 1);
        assert_eq!(result.corrupted, 1);
        assert_eq!(result.unacked, 1);
        assert_eq!(result.duplicate_acks, 1);
    }
}
