//! Every NATS subject and stream name Switchboard uses, built by functions.
//!
//! Call sites never spell a subject. A [`Subjects`] value carries the prefix (`switchboard` in
//! production, a random one per test) so that tests sharing one NATS server never see each
//! other's traffic. Layout:
//!
//! | subject | carries |
//! |---|---|
//! | `<prefix>.conversation.<id>.lifecycle` | opened, assigned, closed |
//! | `<prefix>.conversation.<id>.message` | messages appended to the conversation |
//! | `<prefix>.agent.<id>.presence` | agent status changes |
//! | `<prefix>.agent.<id>.inbox` | conversations assigned to the agent |
//! | `<prefix>.live.conversation.<id>.typing` | typing indicators (not stored) |
//!
//! All but `live.*` are stored in the JetStream stream [`Subjects::events_stream`]; `live.*`
//! subjects are plain NATS publishes that nobody needs after the moment has passed.

/// Builds subjects and stream names under one prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subjects {
    prefix: String,
}

impl Default for Subjects {
    fn default() -> Self {
        Self::new("switchboard")
    }
}

impl Subjects {
    /// Returns a builder for `prefix` (a single NATS token such as `switchboard`).
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    /// Returns the prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Returns the subject of lifecycle events of one conversation.
    pub fn conversation_lifecycle(&self, conversation_id: &str) -> String {
        format!("{}.conversation.{conversation_id}.lifecycle", self.prefix)
    }

    /// Returns the subject of messages of one conversation.
    pub fn conversation_message(&self, conversation_id: &str) -> String {
        format!("{}.conversation.{conversation_id}.message", self.prefix)
    }

    /// Returns the subject of every event of one conversation.
    pub fn conversation_all(&self, conversation_id: &str) -> String {
        format!("{}.conversation.{conversation_id}.>", self.prefix)
    }

    /// Returns the filter matching every stored event of every conversation (lifecycle,
    /// messages and notes), in stream order.
    pub fn all_conversations(&self) -> String {
        format!("{}.conversation.>", self.prefix)
    }

    /// Returns the filter matching lifecycle events of every conversation.
    pub fn all_conversation_lifecycles(&self) -> String {
        format!("{}.conversation.*.lifecycle", self.prefix)
    }

    /// Returns the subject of presence changes of one agent.
    pub fn agent_presence(&self, agent_id: &str) -> String {
        format!("{}.agent.{agent_id}.presence", self.prefix)
    }

    /// Returns the subject of conversations assigned to one agent.
    pub fn agent_inbox(&self, agent_id: &str) -> String {
        format!("{}.agent.{agent_id}.inbox", self.prefix)
    }

    /// Returns the subject of every stored event of one agent.
    pub fn agent_all(&self, agent_id: &str) -> String {
        format!("{}.agent.{agent_id}.>", self.prefix)
    }

    /// Returns the (not stored) typing subject of one conversation.
    pub fn conversation_typing(&self, conversation_id: &str) -> String {
        format!("{}.live.conversation.{conversation_id}.typing", self.prefix)
    }

    /// Returns the (not stored) subject where gateways share their connection counts.
    pub fn gateway_stats(&self) -> String {
        format!("{}.live.gateways.stats", self.prefix)
    }

    /// Returns the (not stored) subject of read receipts of one conversation.
    pub fn conversation_read(&self, conversation_id: &str) -> String {
        format!("{}.live.conversation.{conversation_id}.read", self.prefix)
    }

    /// Returns the (not stored) subject of announcements to a workspace's online agents.
    pub fn workspace_announcements(&self, workspace_id: &str) -> String {
        format!("{}.live.workspace.{workspace_id}.announcement", self.prefix)
    }

    /// Returns the (not stored) subject of queue position updates of one conversation.
    pub fn conversation_queue(&self, conversation_id: &str) -> String {
        format!("{}.live.conversation.{conversation_id}.queue", self.prefix)
    }

    /// Returns the subject of internal notes of one conversation (agents only).
    pub fn conversation_note(&self, conversation_id: &str) -> String {
        format!("{}.conversation.{conversation_id}.note", self.prefix)
    }

    /// Returns the filter matching every live (not stored) subject of one conversation.
    pub fn conversation_live(&self, conversation_id: &str) -> String {
        format!("{}.live.conversation.{conversation_id}.>", self.prefix)
    }

    /// Returns the filter matching presence changes of every agent.
    pub fn all_agent_presence(&self) -> String {
        format!("{}.agent.*.presence", self.prefix)
    }

    /// Returns the subjects stored by the events stream.
    pub fn events_stream_subjects(&self) -> Vec<String> {
        vec![
            format!("{}.conversation.>", self.prefix),
            format!("{}.agent.>", self.prefix),
        ]
    }

    /// Returns the JetStream stream holding every durable event (`SWITCHBOARD_EVENTS`).
    pub fn events_stream(&self) -> String {
        format!(
            "{}_EVENTS",
            self.prefix.to_uppercase().replace(['-', '.'], "_")
        )
    }

    /// Returns the durable consumer name for `consumer` under this prefix.
    pub fn durable(&self, consumer: &str) -> String {
        format!("{}-{consumer}", self.prefix.replace('.', "-"))
    }
}

/// Returns whether `subject` matches the NATS `filter` (`*` one token, `>` the rest).
pub fn matches(filter: &str, subject: &str) -> bool {
    let mut filter_tokens = filter.split('.');
    let mut subject_tokens = subject.split('.');
    loop {
        match (filter_tokens.next(), subject_tokens.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(f), Some(s)) if f == s => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_subjects_under_prefix() {
        let subjects = Subjects::new("t1");
        assert_eq!(
            subjects.conversation_message("c"),
            "t1.conversation.c.message"
        );
        assert_eq!(subjects.agent_presence("a"), "t1.agent.a.presence");
        assert_eq!(Subjects::default().events_stream(), "SWITCHBOARD_EVENTS");
        assert_eq!(Subjects::new("sb-t.x").events_stream(), "SB_T_X_EVENTS");
    }

    #[test]
    fn matches_wildcards_like_nats() {
        assert!(matches("a.*.c", "a.b.c"));
        assert!(!matches("a.*.c", "a.b.d"));
        assert!(matches("a.>", "a.b.c"));
        assert!(!matches("a.>", "a"));
        assert!(matches("a.b", "a.b"));
        assert!(!matches("a.b", "a.b.c"));
        assert!(!matches("a.b.c", "a.b"));
        let subjects = Subjects::new("p");
        assert!(matches(
            &subjects.all_conversation_lifecycles(),
            &subjects.conversation_lifecycle("x")
        ));
        assert!(!matches(
            &subjects.all_conversation_lifecycles(),
            &subjects.conversation_message("x")
        ));
        assert!(matches(
            &subjects.conversation_all("x"),
            &subjects.conversation_message("x")
        ));
    }
}
