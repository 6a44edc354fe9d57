//! The load tool against the real all-in-one binary: every message of a short run in both
//! directions is acked, delivered once and in order, and the JSON report says so.

use crate::process::{Process, Switchboard};
use clap::Parser;
use serde_json::Value;
use switchboard_bench::{Config, Direction};
use switchboard_platform::testing::free_port;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_run_delivers_every_acked_message_once_and_in_order() {
    let data = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let env = [
        ("SWITCHBOARD_DATA_DIR", data.path().display().to_string()),
        ("SWITCHBOARD_HTTP_ADDR", format!("127.0.0.1:{port}")),
        (
            "SWITCHBOARD_BOOTSTRAP_EMAIL",
            "bench-admin@acme.example".to_owned(),
        ),
        (
            "SWITCHBOARD_BOOTSTRAP_PASSWORD",
            "bench-admin-password".to_owned(),
        ),
    ];
    let mut server = Process::start(Switchboard::AllInOne, &env);
    server.wait_healthy(&base).await;

    let config = Config::try_parse_from([
        "switchboard-bench",
        "--gateway",
        &base,
        "--admin-email",
        "bench-admin@acme.example",
        "--admin-password",
        "bench-admin-password",
        "--visitors",
        "20",
        "--agents",
        "3",
        "--rate",
        "100",
        "--duration",
        "3",
        "--warmup",
        "1",
        "--direction",
        "both",
        "--quiet",
    ])
    .expect("valid command line");
    assert_eq!(config.direction, Direction::Both);
    let report = switchboard_bench::run(config).await.expect("bench runs");

    let check = &report.check;
    assert!(
        report.counts.sent > 20,
        "more than the opening messages: {report}"
    );
    assert_eq!(report.counts.acked, report.counts.sent, "{report}");
    assert_eq!(report.counts.delivered, report.counts.acked, "{report}");
    assert_eq!(
        (check.lost, check.duplicated, check.out_of_order),
        (0, 0, 0),
        "{report}"
    );
    assert_eq!(
        (check.missing_seqs, check.repeated_seqs, check.unacked),
        (0, 0, 0),
        "{report}"
    );
    assert_eq!(check.messages, report.counts.sent);
    // 20 visitor streams + 20 agent-side streams, one conversation each.
    assert_eq!(check.streams, 40, "{report}");
    assert_eq!(report.errors.total, 0, "{report}");
    assert!(report.passed, "{report}");
    assert!(report.latency_ms.end_to_end.samples > 0, "{report}");

    let json: Value = serde_json::from_str(&report.to_json().expect("json")).expect("parses");
    for field in [
        "run_id",
        "settings",
        "timing",
        "counts",
        "throughput",
        "errors",
        "warnings",
    ] {
        assert!(!json[field].is_null(), "{field} in {json}");
    }
    assert_eq!(json["passed"], true);
    assert_eq!(json["settings"]["direction"], "both");
    assert_eq!(json["settings"]["agent_capacity"], 7);
    assert_eq!(json["check"]["lost"], 0);
    assert_eq!(json["check"]["duplicated"], 0);
    assert_eq!(json["check"]["out_of_order"], 0);
    assert_eq!(json["counts"]["sent"], report.counts.sent);
    for percentile in ["p50", "p90", "p99", "p999", "max"] {
        assert!(
            json["latency_ms"]["end_to_end"][percentile].is_f64(),
            "{percentile} in {json}"
        );
        assert!(
            json["latency_ms"]["ack"][percentile].is_f64(),
            "{percentile}"
        );
    }
    assert_eq!(
        server.terminate(std::time::Duration::from_secs(30)).await,
        Some(0)
    );
}
