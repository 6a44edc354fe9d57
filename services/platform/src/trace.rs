//! W3C trace context on `tracing` spans: continuing a remote trace, linking spans, reading ids.
//!
//! Every helper works on spans that have not been entered yet, because current
//! tracing-opentelemetry ignores a parent set on a span that already started (shared/STACK.md
//! 1.5). Without an OpenTelemetry layer (no exporter configured) spans carry no trace context:
//! the helpers then do nothing and the getters return `None`, at no cost worth measuring.

use opentelemetry::trace::{SpanContext, TraceContextExt as _, TraceId};
use std::collections::HashMap;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Makes `span` a child of the remote span named by the W3C `traceparent` header value.
/// Malformed values are ignored (the span starts a new trace), as the W3C spec asks.
pub fn continue_trace(span: &tracing::Span, traceparent: &str) {
    let carrier: HashMap<String, String> =
        [("traceparent".to_owned(), traceparent.to_owned())].into();
    let parent =
        opentelemetry::global::get_text_map_propagator(|propagator| propagator.extract(&carrier));
    if parent.span().span_context().is_valid() {
        // Err only without an OpenTelemetry layer, where there is nothing to continue.
        let _ = span.set_parent(parent);
    }
}

/// A span's identity, kept so that later spans can link to it after it ended.
#[derive(Debug, Clone)]
pub struct SpanLink(SpanContext);

impl SpanLink {
    /// Returns the link to `span`, or `None` when it belongs to no trace.
    pub fn of(span: &tracing::Span) -> Option<Self> {
        let context = span.context().span().span_context().clone();
        context.is_valid().then_some(Self(context))
    }

    /// Adds a link from `span` to this one (e.g. a frame's span to its connection's).
    pub fn add_to(&self, span: &tracing::Span) {
        span.add_link(self.0.clone());
    }
}

/// Returns the trace id of `span` as 32 hex digits, or `None` when it belongs to no trace.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    let id = span.context().span().span_context().trace_id();
    (id != TraceId::INVALID).then(|| id.to_string())
}

/// Records `span`'s trace id in its `trace_id` field (declared `Empty`), so log lines written
/// inside it carry the id.
pub fn record_trace_id(span: &tracing::Span) {
    if let Some(id) = trace_id(span) {
        span.record("trace_id", tracing::field::display(id));
    }
}

/// Returns whether `value` is a well-formed W3C `traceparent` (version 00, non-zero ids).
pub fn is_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |part: &str, len: usize| {
        part.len() == len
            && part
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
    };
    let nonzero = |part: &str| part.bytes().any(|byte| byte != b'0');
    matches!(parts.as_slice(), [version, trace, parent, flags]
        if *version == "00"
            && hex(trace, 32) && nonzero(trace)
            && hex(parent, 16) && nonzero(parent)
            && hex(flags, 2))
}

#[cfg(test)]
mod tests {
    use super::is_traceparent;

    #[test]
    fn accepts_only_well_formed_version_00_traceparents() {
        assert!(is_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        ));
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert!(!is_traceparent(bad), "{bad:?}");
        }
    }
}
