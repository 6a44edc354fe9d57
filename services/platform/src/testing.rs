//! Test harness (feature `testing`): real PostgreSQL and real NATS, isolated per test.
//!
//! - [`TestDb::fresh`] creates `sbtest_<uuid>` on the server named by
//!   `SWITCHBOARD_TEST_DATABASE_URL` (default: the local trust-auth server).
//! - [`TestNats::new`] gives a random subject prefix (and so its own stream) on the server named by
//!   `SWITCHBOARD_TEST_NATS_URL`.
//! - [`NatsServerProcess`] runs a private `nats-server` that a test may kill and restart.
//! - [`TcpProxy`] sits between a service and a dependency so a test can cut the link and restore it.
//!
//! Missing servers fail the test loudly; nothing here skips.

use crate::subjects::Subjects;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Returns the PostgreSQL URL used to create test databases.
pub fn admin_database_url() -> String {
    std::env::var("SWITCHBOARD_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Returns the NATS URL used by tests.
pub fn nats_url() -> String {
    std::env::var("SWITCHBOARD_TEST_NATS_URL")
        .unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// Routes logs to the test output when `TEST_LOG` is set.
pub fn init_logs() {
    spans();
}

/// Every span finished in this test process (all tests share it; tell them apart by trace id).
/// Installs the capturing subscriber on first use; logs too when `TEST_LOG` is set.
pub fn spans() -> opentelemetry_sdk::trace::InMemorySpanExporter {
    static CAPTURE: std::sync::OnceLock<opentelemetry_sdk::trace::InMemorySpanExporter> =
        std::sync::OnceLock::new();
    CAPTURE
        .get_or_init(|| crate::telemetry::init_capture(std::env::var_os("TEST_LOG").is_some()))
        .clone()
}

/// A fresh, empty PostgreSQL database for one test.
#[derive(Debug, Clone)]
pub struct TestDb {
    /// Connection URL of the new database.
    pub url: String,
    /// Its name.
    pub name: String,
}

impl TestDb {
    /// Creates a new database; panics with the reason when PostgreSQL is unreachable.
    pub async fn fresh() -> Self {
        init_logs();
        let admin_url = admin_database_url();
        let admin = crate::db::connect(&admin_url)
            .await
            .unwrap_or_else(|error| {
                panic!("PostgreSQL at {admin_url} is required for this test: {error}")
            });
        let name = format!("sbtest_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|error| panic!("cannot create test database {name}: {error}"));
        let _ = admin.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(base, _)| base);
        Self {
            url: format!("{base}/{name}"),
            name,
        }
    }

    /// Connects to the test database.
    pub async fn connect(&self) -> DatabaseConnection {
        crate::db::connect(&self.url)
            .await
            .unwrap_or_else(|error| panic!("cannot connect to {}: {error}", self.url))
    }
}

/// Returns a SQLite URL for a file inside `dir`.
pub fn sqlite_url(dir: &Path, name: &str) -> String {
    crate::db::sqlite_file_url(&dir.join(name))
}

/// A NATS server address with a prefix no other test uses.
#[derive(Debug, Clone)]
pub struct TestNats {
    /// Server URL.
    pub url: String,
    /// Subjects under this test's prefix.
    pub subjects: Subjects,
}

impl TestNats {
    /// Returns a random prefix on the shared test server.
    pub fn new() -> Self {
        Self::on(nats_url())
    }

    /// Returns a random prefix on the server at `url`.
    pub fn on(url: String) -> Self {
        init_logs();
        let prefix = format!("sbt{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        Self {
            url,
            subjects: Subjects::new(prefix),
        }
    }

    /// Connects a bus for this prefix, with short retention so test streams do not pile up.
    pub async fn bus(&self) -> crate::bus::nats::NatsBus {
        let mut settings = crate::bus::nats::NatsSettings::new(&self.url, self.subjects.clone());
        settings.max_age = Duration::from_secs(3600);
        crate::bus::nats::NatsBus::connect(&settings)
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "NATS with JetStream at {} is required for this test: {error}",
                    self.url
                )
            })
    }
}

impl Default for TestNats {
    fn default() -> Self {
        Self::new()
    }
}

/// A private `nats-server -js` process that a test can stop and start again on the same port
/// and store directory.
#[derive(Debug)]
pub struct NatsServerProcess {
    port: u16,
    store: PathBuf,
    child: Option<Child>,
}

impl NatsServerProcess {
    /// Starts a server on a free port with its store in `store`.
    pub fn start(store: &Path) -> Self {
        let port = free_port();
        let mut server = Self {
            port,
            store: store.to_owned(),
            child: None,
        };
        server.restart();
        server
    }

    /// Returns `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server abruptly (SIGKILL) and waits for it to exit.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again (after [`Self::kill`]) and waits until it accepts connections.
    pub fn restart(&mut self) {
        self.kill();
        let binary = [
            "/usr/sbin/nats-server",
            "/usr/bin/nats-server",
            "nats-server",
        ]
        .into_iter()
        .find(|candidate| Path::new(candidate).exists())
        .unwrap_or("nats-server");
        let child = Command::new(binary)
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("nats-server is required for this test: {error}"));
        self.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "nats-server did not start on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NatsServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A TCP proxy on `127.0.0.1` that forwards every connection to `upstream` and that a test can
/// pause (the dependency "goes down") and resume on the same port.
///
/// This is the seed of the fault proxy: latency, blackholing and partial writes come later.
#[derive(Debug)]
pub struct TcpProxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    /// Stops the accept loop and every forwarded connection of the current run.
    running: Option<(CancellationToken, TaskTracker)>,
}

impl TcpProxy {
    /// Binds `127.0.0.1:0` and starts forwarding connections to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let mut proxy = Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            upstream,
            running: None,
        };
        proxy.resume().await;
        proxy
    }

    /// Returns the address clients should connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes every forwarded connection and stops listening, so new connections are refused;
    /// returns once both are done.
    pub async fn pause(&mut self) {
        if let Some((stop, tasks)) = self.running.take() {
            stop.cancel();
            tasks.close();
            tasks.wait().await;
        }
    }

    /// Listens again on the same port (no-op while running).
    pub async fn resume(&mut self) {
        if self.running.is_some() {
            return;
        }
        let listener = TcpSocket::new_v4()
            .and_then(|socket| {
                socket.set_reuseaddr(true)?;
                socket.bind(self.addr)?;
                socket.listen(1024)
            })
            .unwrap_or_else(|error| panic!("proxy cannot listen on {}: {error}", self.addr));
        self.addr = listener
            .local_addr()
            .unwrap_or_else(|error| panic!("proxy has no local address: {error}"));
        let (stop, tasks) = (CancellationToken::new(), TaskTracker::new());
        let upstream = self.upstream;
        tasks.spawn({
            let (stop, tasks) = (stop.clone(), tasks.clone());
            async move {
                loop {
                    let accepted = tokio::select! {
                        () = stop.cancelled() => return,
                        accepted = listener.accept() => accepted,
                    };
                    let Ok((mut client, _)) = accepted else {
                        continue;
                    };
                    let stop = stop.clone();
                    tasks.spawn(async move {
                        let Ok(mut server) = TcpStream::connect(upstream).await else {
                            return;
                        };
                        tokio::select! {
                            () = stop.cancelled() => {}
                            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        }
                    });
                }
            }
        });
        self.running = Some((stop, tasks));
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        if let Some((stop, _)) = self.running.take() {
            stop.cancel();
        }
    }
}

/// Returns a TCP port that was free a moment ago and that no other caller in this process got.
///
/// Ports come from 15000..32000, below Linux's ephemeral range (32768..60999): a port the kernel
/// handed out for `bind(0)` and that was then released can be taken again at once as the local end
/// of any outgoing connection (to PostgreSQL, NATS, another test's service), and a service started
/// on it a moment later fails to bind. A process-wide counter (starting at a point derived from
/// the pid, so two test binaries rarely overlap) keeps parallel tests from getting the same port.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const FIRST: u32 = 15_000;
    const SPAN: u32 = 17_000;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(7919) % SPAN,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    for _ in 0..SPAN {
        let offset = NEXT.fetch_add(1, Ordering::SeqCst) % SPAN;
        let port = u16::try_from(FIRST + offset).expect("port range fits u16");
        if StdListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("cannot find a free port in {FIRST}..{}", FIRST + SPAN)
}

/// Waits until `condition` holds, polling every 20 ms; panics with `what` after `timeout`.
pub async fn wait_until<F, Fut>(timeout: Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if condition().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
