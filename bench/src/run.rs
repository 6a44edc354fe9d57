//! Orchestration of one run: set up the workspace, connect agents then visitors, wait until every
//! conversation is assigned, then warmup → measure → drain → stop, and build the [`Report`].
//!
//! Connections are spread round-robin over `--gateway`s (agents and visitors each evenly) and
//! over `--source-ip`s (all connections together). A failure before the load starts (a refused
//! login, a socket that cannot connect or identify, setup taking too long) ends the run with an
//! error; failures during the load are counted in the report.

use crate::client::Target;
use crate::config::{Config, DEFAULT_SERVER_FRAMES_PER_SECOND, Plan};
use crate::error::{BenchError, Result};
use crate::session::{self, Context};
use crate::setup;
use crate::stats::check::{self, ConnLog};
use crate::stats::report::{
    Counts, Errors, Latencies, Percentiles, Report, Settings, Throughput, Timing,
};
use crate::stats::{Phase, Recorder};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep};

/// How often the orchestrator looks at the counters while waiting.
const POLL: Duration = Duration::from_millis(50);
/// How long the connection tasks get to clean up and hand in their logs.
const STOP_GRACE: Duration = Duration::from_secs(30);

type Tasks = JoinSet<Result<ConnLog>>;

/// Runs the benchmark described by `config` and returns its report.
pub async fn run(config: Config) -> Result<Report> {
    let plan = config.plan()?;
    let admin_password = config.admin_password()?;
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let started = Instant::now();
    let recorder = Recorder::new()?;
    if plan.busiest_socket_rate() > DEFAULT_SERVER_FRAMES_PER_SECOND {
        let warning = format!(
            "the busiest socket sends {:.1} frames/s, above the gateway's default limit of \
             {DEFAULT_SERVER_FRAMES_PER_SECOND}/s: expect rate_limited errors unless the server \
             runs with a higher SWITCHBOARD_WS_FRAMES_PER_SECOND (or use more agents)",
            plan.busiest_socket_rate()
        );
        if !config.quiet {
            eprintln!("warning: {warning}");
        }
        recorder.warn(warning);
    }
    let gateways = resolve(&config).await?;
    let admin_base = config
        .gateways
        .first()
        .ok_or_else(|| BenchError::Config("at least one --gateway is needed".into()))?;
    let workspace = setup::prepare(
        admin_base,
        &config.admin_email,
        &admin_password,
        &run_id,
        config.agents,
        plan.agent_capacity,
    )
    .await?;
    let context = Arc::new(Context {
        recorder,
        plan: plan.clone(),
        text_bytes: config.text_bytes,
        site_key: workspace.site_key,
        department_id: workspace.department_id,
        connect_permits: Semaphore::new(config.connect_concurrency),
        handshake_timeout: Duration::from_secs(config.setup_timeout),
    });
    // Dropped (and so aborted) when `run` returns, whichever way.
    let mut background = JoinSet::new();
    if !config.quiet {
        background.spawn(progress(context.clone(), config.clone()));
    }
    let mut run = Run {
        config: &config,
        context,
        phase: watch::channel(Phase::Setup).0,
        tasks: Tasks::new(),
        setup_deadline: started + Duration::from_secs(config.setup_timeout),
    };
    let tokens = workspace.agents.into_iter().map(|agent| agent.token);
    let mut timing = match run.start(&gateways, tokens, started).await {
        Ok(timing) => timing,
        Err(error) => {
            run.stop().await;
            return Err(error);
        }
    };
    run.load().await;
    (timing.drain_secs, timing.drain_timed_out) = run.drain().await;
    let logs = run.stop().await;
    Ok(report(
        &config,
        &plan,
        run_id,
        &run.context.recorder,
        &logs,
        timing,
    ))
}

/// A run in progress: the connection tasks and the phase they follow.
struct Run<'a> {
    config: &'a Config,
    context: Arc<Context>,
    phase: watch::Sender<Phase>,
    tasks: Tasks,
    setup_deadline: Instant,
}

impl Run<'_> {
    /// Connects the agents, then the visitors, waits until every conversation is assigned and
    /// has carried one message end to end; returns the setup and settle times.
    async fn start(
        &mut self,
        gateways: &[Target],
        tokens: impl Iterator<Item = String>,
        started: Instant,
    ) -> Result<Timing> {
        let config = self.config;
        // Gateways round-robin per side; source addresses round-robin over all connections,
        // advancing once per round of gateways so every gateway sees every source address.
        let target = |connection: usize, index: usize| -> Target {
            let mut target = gateways[index % gateways.len()].clone();
            if !config.source_ips.is_empty() {
                let source = (connection / gateways.len()) % config.source_ips.len();
                target.source = Some(config.source_ips[source]);
            }
            target
        };
        for (index, token) in tokens.enumerate() {
            let (context, phase) = (self.context.clone(), self.phase.subscribe());
            let target = target(index, index);
            self.tasks
                .spawn(session::agent(context, index, token, target, phase));
        }
        let context = self.context.clone();
        let recorder = &context.recorder;
        self.wait_for(|| recorder.agents_online.load(Ordering::Relaxed) >= config.agents)
            .await?;
        for index in 0..config.visitors {
            let (context, phase) = (self.context.clone(), self.phase.subscribe());
            let target = target(config.agents + index, index);
            self.tasks
                .spawn(session::visitor(context, index, target, phase));
        }
        self.wait_for(|| {
            recorder.visitors_assigned.load(Ordering::Relaxed) >= config.visitors
                && recorder.agent_conversations_ready.load(Ordering::Relaxed) >= config.visitors
        })
        .await?;
        let setup_secs = started.elapsed().as_secs_f64();
        self.enter(Phase::Settle);
        // Opening messages plus one probe per visitor, all acked, delivered and echoed.
        let expected = 2 * config.visitors as u64;
        self.wait_for(|| recorder.all_settled() && recorder.snapshot().sent >= expected)
            .await?;
        Ok(Timing {
            setup_secs,
            settle_secs: started.elapsed().as_secs_f64() - setup_secs,
            measured_secs: 0.0,
            drain_secs: 0.0,
            drain_timed_out: false,
        })
    }

    /// Warmup, then the measured window; Ctrl-C cuts either short.
    async fn load(&self) {
        let recorder = &self.context.recorder;
        self.enter(Phase::Warmup);
        if load_for(self.config.warmup()).await {
            recorder.warn("interrupted during warmup".into());
            return;
        }
        self.enter(Phase::Measure);
        if load_for(self.config.duration()).await {
            recorder.warn("interrupted: measured window cut short".into());
        }
    }

    /// Stops sending and waits for the messages in flight; returns how long it took and
    /// whether it gave up.
    async fn drain(&self) -> (f64, bool) {
        let recorder = &self.context.recorder;
        self.enter(Phase::Drain);
        let started = Instant::now();
        let deadline = started + Duration::from_secs(self.config.drain_timeout);
        while !recorder.all_settled() && Instant::now() < deadline {
            sleep(POLL).await;
        }
        let timed_out = !recorder.all_settled();
        if timed_out {
            recorder.warn(format!(
                "drain timed out after {} s with messages still in flight",
                self.config.drain_timeout
            ));
        }
        (started.elapsed().as_secs_f64(), timed_out)
    }

    fn enter(&self, next: Phase) {
        self.context.recorder.set_phase(next);
        self.phase.send_replace(next);
    }

    /// Waits until `ready`, failing on the setup deadline or when any connection task ends
    /// (before the load, every connection must stay up).
    async fn wait_for(&mut self, ready: impl Fn() -> bool) -> Result<()> {
        while !ready() {
            if let Some(finished) = self.tasks.try_join_next() {
                return Err(match finished {
                    Ok(Err(error)) => error,
                    Ok(Ok(_)) => BenchError::Protocol {
                        who: "setup".into(),
                        message: format!(
                            "a connection closed before the load started: {}",
                            self.context.recorder.warnings().join("; ")
                        ),
                    },
                    Err(error) => BenchError::Internal(format!("connection task: {error}")),
                });
            }
            if Instant::now() >= self.setup_deadline {
                return Err(BenchError::SetupTimeout {
                    secs: self.config.setup_timeout,
                    detail: setup_line(&self.context, self.config),
                });
            }
            sleep(POLL).await;
        }
        Ok(())
    }

    /// Enters the stop phase and collects the logs of every connection task.
    async fn stop(&mut self) -> Vec<ConnLog> {
        self.enter(Phase::Stop);
        let recorder = &self.context.recorder;
        let deadline = Instant::now() + STOP_GRACE;
        let mut logs = Vec::with_capacity(self.tasks.len());
        while let Ok(Some(finished)) =
            tokio::time::timeout_at(deadline, self.tasks.join_next()).await
        {
            match finished {
                Ok(Ok(log)) => logs.push(log),
                Ok(Err(error)) => recorder.warn(error.to_string()),
                Err(error) => recorder.error("task_failed", error.to_string()),
            }
        }
        if !self.tasks.is_empty() {
            recorder.warn(format!(
                "{} connections did not stop in time",
                self.tasks.len()
            ));
            self.tasks.abort_all();
        }
        logs
    }
}

/// Resolves each gateway once.
async fn resolve(config: &Config) -> Result<Vec<Target>> {
    let mut targets = Vec::with_capacity(config.gateways.len());
    for gateway in &config.gateways {
        let source = config.source_ips.first().copied();
        targets.push(Target::resolve(gateway, source).await?);
    }
    Ok(targets)
}

/// Lets the load run for `duration`; returns true when interrupted by Ctrl-C.
async fn load_for(duration: Duration) -> bool {
    tokio::select! {
        () = sleep(duration) => false,
        signal = tokio::signal::ctrl_c() => signal.is_ok(),
    }
}

fn setup_line(context: &Context, config: &Config) -> String {
    let recorder = &context.recorder;
    format!(
        "agents online {}/{}, visitors connected {}/{}, assigned {}/{}, agent-side ready {}/{}",
        recorder.agents_online.load(Ordering::Relaxed),
        config.agents,
        recorder.visitors_connected.load(Ordering::Relaxed),
        config.visitors,
        recorder.visitors_assigned.load(Ordering::Relaxed),
        config.visitors,
        recorder.agent_conversations_ready.load(Ordering::Relaxed),
        config.visitors,
    )
}

/// Prints one progress line a second on stderr.
async fn progress(context: Arc<Context>, config: Config) {
    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.tick().await;
    let mut previous = 0;
    loop {
        ticker.tick().await;
        let phase = context.recorder.phase();
        let elapsed = started.elapsed().as_secs();
        if phase == Phase::Setup {
            eprintln!("[{elapsed:>4}s setup] {}", setup_line(&context, &config));
            continue;
        }
        let now = context.recorder.snapshot();
        let p99 = now.e2e_p99.map_or_else(
            || "-".to_owned(),
            |p99| format!("{:.2} ms", p99.as_secs_f64() * 1e3),
        );
        eprintln!(
            "[{elapsed:>4}s {:<7}] sent {} ({}/s)  acked {}  received {}  errors {}  e2e p99 {p99}",
            phase.name(),
            now.sent,
            now.sent - previous,
            now.acked,
            now.delivered,
            now.errors,
        );
        previous = now.sent;
    }
}

fn report(
    config: &Config,
    plan: &Plan,
    run_id: String,
    recorder: &Recorder,
    logs: &[ConnLog],
    mut timing: Timing,
) -> Report {
    let finished = recorder.finish();
    let check = check::check(&finished.messages, logs);
    let secs = finished.measured.as_secs_f64();
    timing.measured_secs = secs;
    let per_sec = |count: u64| if secs > 0.0 { count as f64 / secs } else { 0.0 };
    let errors = Errors {
        total: finished.errors.values().sum(),
        by_kind: finished.errors,
    };
    let passed = check.passed() && errors.total == 0 && secs > 0.0;
    Report {
        run_id,
        settings: Settings {
            gateways: config.gateways.clone(),
            source_ips: config.source_ips.iter().map(ToString::to_string).collect(),
            visitors: config.visitors,
            agents: config.agents,
            agent_capacity: plan.agent_capacity,
            rate: config.rate,
            direction: config.direction,
            duration_secs: config.duration,
            warmup_secs: config.warmup,
            text_bytes: config.text_bytes,
        },
        timing,
        counts: Counts {
            sent: finished.sent,
            acked: finished.acked,
            delivered: finished.delivered,
            foreign: finished.foreign,
        },
        throughput: Throughput {
            target_per_sec: config.rate,
            sent_per_sec: per_sec(finished.window[0]),
            acked_per_sec: per_sec(finished.window[1]),
            delivered_per_sec: per_sec(finished.window[2]),
        },
        latency_ms: Latencies {
            end_to_end: Percentiles::from_micros(&finished.e2e),
            ack: Percentiles::from_micros(&finished.ack),
        },
        errors,
        check,
        warnings: finished.warnings,
        passed,
    }
}
