//! Running the `switchboard` binary as a child process: start with an environment, read its
//! console, stop it with SIGTERM, kill it on drop.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// The subcommands under test.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Switchboard {
    AllInOne,
    Agents,
    History,
    Routing,
    Integrations,
    Gateway,
}

impl Switchboard {
    fn args(self) -> &'static [&'static str] {
        match self {
            Self::AllInOne => &[],
            Self::Agents => &["agents"],
            Self::History => &["history"],
            Self::Routing => &["routing"],
            Self::Integrations => &["integrations"],
            Self::Gateway => &["gateway"],
        }
    }
}

fn command(which: Switchboard, env: &[(&str, String)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    command.args(which.args());
    // Only what the test sets: a developer's own SWITCHBOARD_* must not leak in.
    for (key, _) in std::env::vars() {
        if key.starts_with("SWITCHBOARD_") {
            command.env_remove(key);
        }
    }
    command.env(
        "RUST_LOG",
        std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
    );
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

/// A running `switchboard` process.
pub(crate) struct Process {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    /// The last lines of stderr (unless `TEST_LOG` passes stderr through), for failure messages.
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
}

/// How many stderr lines a [`Process`] keeps to explain an early exit.
const STDERR_TAIL: usize = 40;

impl Process {
    /// Starts `which` with `env`.
    pub(crate) fn start(which: Switchboard, env: &[(&str, String)]) -> Self {
        let mut command = command(which, env);
        command.stdout(Stdio::piped()).stdin(Stdio::null());
        let capture_stderr = std::env::var_os("TEST_LOG").is_none();
        if capture_stderr {
            command.stderr(Stdio::piped());
        }
        let mut child = command.spawn().expect("switchboard binary runs");
        let stdout = child.stdout.take().expect("stdout piped");
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(stderr) = child.stderr.take() {
            let tail = Arc::clone(&stderr_tail);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let mut tail = tail.lock().expect("stderr tail lock");
                    if tail.len() == STDERR_TAIL {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            });
        }
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
            stderr_tail,
        }
    }

    /// Waits (up to [`crate::STARTUP`]) until `condition` holds, failing at once if the process
    /// exits meanwhile.
    pub(crate) async fn wait_up<F, Fut>(&mut self, what: &str, mut condition: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + crate::STARTUP;
        while !condition().await {
            self.assert_running(what);
            assert!(
                Instant::now() < deadline,
                "timed out after {:?} waiting for {what}",
                crate::STARTUP
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the process answers `GET {base}/healthz` with 200.
    pub(crate) async fn wait_healthy(&mut self, base: &str) {
        let http = reqwest::Client::new();
        self.wait_up(&format!("{base}/healthz to answer 200"), || async {
            matches!(http.get(format!("{base}/healthz")).send().await, Ok(response) if response.status() == 200)
        })
        .await;
    }

    /// Panics, with the exit status and the last stderr lines, if the process has exited.
    ///
    /// Called while waiting for a process to come up, so a service that failed at start (a port
    /// taken, a bad setting) fails the test at once with its reason instead of after a timeout.
    pub(crate) fn assert_running(&mut self, what: &str) {
        if let Some(status) = self.child.try_wait().expect("wait") {
            // Give the reader thread a moment to drain the pipe the process just closed.
            std::thread::sleep(Duration::from_millis(100));
            let tail = self.stderr_tail.lock().expect("stderr tail lock");
            let tail: Vec<&str> = tail.iter().map(String::as_str).collect();
            panic!(
                "{what} exited early ({status}); last stderr:\n{}",
                tail.join("\n")
            );
        }
    }

    /// Runs `which` to completion (bounded by `timeout`) and returns its output.
    pub(crate) fn run_to_end(
        which: Switchboard,
        env: &[(&str, String)],
        timeout: Duration,
    ) -> Output {
        let mut child = command(which, env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .expect("switchboard binary runs");
        let deadline = Instant::now() + timeout;
        while child.try_wait().expect("wait").is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("switchboard did not exit within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().expect("output")
    }

    /// Waits for a stdout line containing `marker` and returns what follows it on that line.
    pub(crate) fn wait_for_stdout(&mut self, timeout: Duration, marker: &str) -> String {
        if let Some(line) = self.seen.iter().find(|line| line.contains(marker)) {
            return after(line, marker);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(marker).then(|| after(&line, marker));
                    self.seen.push(line);
                    if let Some(rest) = found {
                        return rest;
                    }
                }
                Err(_) => panic!(
                    "no {marker:?} on stdout within {timeout:?}; saw {:?}",
                    self.seen
                ),
            }
        }
    }

    /// Kills the process abruptly (SIGKILL) and reaps it.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and returns the exit code, or `None` if it had to be killed after `timeout`.
    ///
    /// Async on purpose: the test's own gRPC connections must keep being driven while the
    /// process drains, or the server waits for them until its grace period ends.
    pub(crate) async fn terminate(&mut self, timeout: Duration) -> Option<i32> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM delivered");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn after(line: &str, marker: &str) -> String {
    line.split_once(marker)
        .map(|(_, rest)| rest.to_owned())
        .unwrap_or_default()
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
