//! One task per connection: a visitor or an agent speaking protocol v1 for the whole run.
//!
//! Each task connects, identifies (visitor `welcome`; agent `auth` → `welcome` → `status
//! online`), then follows the run's [`Phase`]s from a `watch` channel:
//!
//! - **setup**: a visitor opens its conversation with a first message and waits until it is
//!   assigned; an agent collects `assigned` conversations (the server follows those from seq 0 by
//!   itself, so no `resume` is needed, and one would replay them twice);
//! - **settle**: each visitor sends one message, which must arrive end to end before the load;
//! - **warmup/measure**: sends on a `tokio::time::Interval` (one per socket, started at a
//!   per-socket offset so senders do not fire together);
//! - **drain**: stops sending, keeps reading;
//! - **stop**: closes its conversations (visitors) or goes offline once they are closed
//!   (agents), so a later run against the same server starts clean, and returns its [`ConnLog`].
//!
//! Every frame read is handed to the [`Recorder`](crate::stats::Recorder); a socket closed by the
//! server before the stop phase is an error of the run, not of the tool.

use crate::client::{ClientFrame, Incoming, ServerFrame, Socket, Target};
use crate::config::Plan;
use crate::error::{BenchError, Result};
use crate::stats::check::ConnLog;
use crate::stats::{Phase, Recorder, Side, message_text};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use tokio::time::{Instant, Interval, MissedTickBehavior, timeout, timeout_at};

/// How long the clean-up at the end may take per socket.
const CLEANUP: Duration = Duration::from_secs(10);

/// What every connection task shares.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) recorder: Recorder,
    pub(crate) plan: Plan,
    pub(crate) text_bytes: usize,
    pub(crate) site_key: String,
    pub(crate) department_id: String,
    /// Bounds the connections being opened at once.
    pub(crate) connect_permits: Semaphore,
    /// Bounds each step of identification.
    pub(crate) handshake_timeout: Duration,
}

/// Runs visitor `index` through the whole run.
pub(crate) async fn visitor(
    context: Arc<Context>,
    index: usize,
    target: Target,
    phase: watch::Receiver<Phase>,
) -> Result<ConnLog> {
    let mut conn = Conn::new(context, Side::Visitor, index);
    let mut socket = {
        let context = conn.context.clone();
        let _permit = permit(&context).await?;
        let path = format!(
            "/v1/visitor/ws?site_key={}&department={}",
            conn.context.site_key, conn.context.department_id
        );
        let mut socket = target.connect(&path).await?;
        conn.expect(&mut socket, "welcome", |_, frame| {
            matches!(frame, ServerFrame::Welcome { .. })
        })
        .await?;
        socket
    };
    conn.context
        .recorder
        .visitors_connected
        .fetch_add(1, Ordering::Relaxed);
    // The first message opens the conversation; routing then assigns it to an agent.
    if !conn.send_next(&mut socket).await {
        return Ok(conn.into_log());
    }
    conn.run(socket, phase).await
}

/// Runs agent `index` (logged in with `token`) through the whole run.
pub(crate) async fn agent(
    context: Arc<Context>,
    index: usize,
    token: String,
    target: Target,
    phase: watch::Receiver<Phase>,
) -> Result<ConnLog> {
    let mut conn = Conn::new(context, Side::Agent, index);
    let socket = {
        let context = conn.context.clone();
        let _permit = permit(&context).await?;
        let mut socket = target.connect("/v1/agent/ws").await?;
        conn.send_frame(&mut socket, &ClientFrame::Auth { token: &token })
            .await?;
        conn.expect(&mut socket, "welcome", |conn, frame| match frame {
            ServerFrame::Welcome { conversations } => {
                if !conversations.is_empty() {
                    conn.context.recorder.warn(format!(
                        "{}: {} conversations from before this run are not followed",
                        conn.who,
                        conversations.len()
                    ));
                }
                true
            }
            _ => false,
        })
        .await?;
        conn.send_frame(&mut socket, &ClientFrame::Status { status: "online" })
            .await?;
        conn.expect(
            &mut socket,
            "status online",
            |_, frame| matches!(frame, ServerFrame::Status { status } if status == "online"),
        )
        .await?;
        socket
    };
    conn.context
        .recorder
        .agents_online
        .fetch_add(1, Ordering::Relaxed);
    conn.run(socket, phase).await
}

/// The state of one connection.
struct Conn {
    context: Arc<Context>,
    side: Side,
    index: usize,
    who: String,
    /// Messages sent so far; the next `client_msg_id` is `<v|a><index>-<sent>`.
    sent: u64,
    /// Conversations this socket follows, in the order it learnt them.
    conversations: Vec<String>,
    /// Conversations whose first `message` arrived (agents) or that were assigned (visitors).
    ready: HashSet<String>,
    closed: HashSet<String>,
    /// Round-robin position among `conversations` for the next send.
    next_conversation: usize,
    log: HashMap<String, Vec<u64>>,
}

impl Conn {
    fn new(context: Arc<Context>, side: Side, index: usize) -> Self {
        let who = match side {
            Side::Visitor => format!("visitor {index}"),
            Side::Agent => format!("agent {index}"),
        };
        Self {
            context,
            side,
            index,
            who,
            sent: 0,
            conversations: Vec::new(),
            ready: HashSet::new(),
            closed: HashSet::new(),
            next_conversation: 0,
            log: HashMap::new(),
        }
    }

    fn protocol_error(&self, message: String) -> BenchError {
        BenchError::Protocol {
            who: self.who.clone(),
            message,
        }
    }

    async fn send_frame(&self, socket: &mut Socket, frame: &ClientFrame<'_>) -> Result<()> {
        socket
            .send(frame)
            .await
            .map_err(|error| self.protocol_error(format!("send: {error}")))
    }

    /// Reads frames until `wanted` accepts one; an `error` frame or a close fails the setup.
    async fn expect(
        &mut self,
        socket: &mut Socket,
        what: &str,
        wanted: impl Fn(&Self, &ServerFrame) -> bool,
    ) -> Result<()> {
        let deadline = Instant::now() + self.context.handshake_timeout;
        loop {
            let Ok(incoming) = timeout_at(deadline, socket.next()).await else {
                return Err(self.protocol_error(format!("no {what} within the setup timeout")));
            };
            match incoming {
                Incoming::Frame(frame) if wanted(self, &frame) => return Ok(()),
                Incoming::Frame(ServerFrame::Error { code, message, .. }) => {
                    return Err(self.protocol_error(format!(
                        "error {code} ({message}) while waiting for {what}"
                    )));
                }
                Incoming::Frame(_) => {}
                Incoming::Garbage(text) => {
                    return Err(self.protocol_error(format!("not a server frame: {text}")));
                }
                Incoming::Closed(code) => {
                    return Err(self.protocol_error(format!(
                        "closed (code {code:?}) while waiting for {what}"
                    )));
                }
            }
        }
    }

    /// Reads and sends until the stop phase, then cleans up and returns the log.
    async fn run(
        mut self,
        mut socket: Socket,
        mut phase: watch::Receiver<Phase>,
    ) -> Result<ConnLog> {
        let mut ticker: Option<Interval> = None;
        let mut started = false;
        let mut probed = false;
        loop {
            tokio::select! {
                changed = phase.changed() => {
                    let now = if changed.is_ok() { *phase.borrow_and_update() } else { Phase::Stop };
                    if now == Phase::Settle && self.side == Side::Visitor && !probed {
                        probed = true;
                        if !self.send_next(&mut socket).await {
                            return Ok(self.into_log());
                        }
                    }
                    if now >= Phase::Drain {
                        ticker = None;
                    } else if now >= Phase::Warmup && !started {
                        started = true;
                        ticker = self.ticker();
                    }
                    if now == Phase::Stop {
                        break;
                    }
                }
                _ = tick(&mut ticker) => {
                    if !self.send_next(&mut socket).await {
                        return Ok(self.into_log());
                    }
                }
                incoming = socket.next() => {
                    if !self.handle(incoming) {
                        return Ok(self.into_log());
                    }
                }
            }
        }
        self.clean_up(socket).await;
        Ok(self.into_log())
    }

    /// Returns this socket's send interval, if it sends at all.
    fn ticker(&self) -> Option<Interval> {
        let rate = match self.side {
            Side::Visitor => self.context.plan.visitor_rate,
            Side::Agent => {
                self.context.plan.agent_rate_per_conversation * self.conversations.len() as f64
            }
        };
        if rate <= 0.0 || self.conversations.is_empty() {
            return None;
        }
        let period = Duration::from_secs_f64(1.0 / rate);
        // Golden-ratio offsets spread the sockets' first sends evenly over one period.
        let salt = if self.side == Side::Agent { 0.5 } else { 0.0 };
        let offset = (self.index as f64 * 0.618_033_988_75 + salt).fract();
        let mut interval =
            tokio::time::interval_at(Instant::now() + period.mul_f64(offset), period);
        // Behind schedule (the bench itself starved): skip, and let the report show the
        // rate actually sent rather than firing bursts the server would rate-limit.
        interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
        Some(interval)
    }

    /// Sends the next message; returns false when the socket is gone.
    async fn send_next(&mut self, socket: &mut Socket) -> bool {
        let prefix = if self.side == Side::Visitor { 'v' } else { 'a' };
        let client_msg_id = format!("{prefix}{}-{}", self.index, self.sent);
        let text = message_text(&client_msg_id, self.context.text_bytes);
        let conversation_id = if self.conversations.is_empty() {
            None
        } else {
            self.next_conversation = (self.next_conversation + 1) % self.conversations.len();
            Some(self.conversations[self.next_conversation].as_str())
        };
        let recorder = &self.context.recorder;
        if !recorder.sent(&client_msg_id, self.side, text.len()) {
            // The drain has begun: this tick came too late.
            return true;
        }
        self.sent += 1;
        let frame = ClientFrame::Message {
            client_msg_id: &client_msg_id,
            text: &text,
            conversation_id,
        };
        if let Err(error) = socket.send(&frame).await {
            recorder.error("send_failed", format!("{}: send: {error}", self.who));
            return false;
        }
        true
    }

    /// Handles one incoming frame; returns false when the socket is gone.
    fn handle(&mut self, incoming: Incoming) -> bool {
        let context = self.context.clone();
        let recorder = &context.recorder;
        let frame = match incoming {
            Incoming::Frame(frame) => frame,
            Incoming::Garbage(text) => {
                recorder.error(
                    "invalid_frame_from_server",
                    format!("{}: not a server frame: {text}", self.who),
                );
                return true;
            }
            Incoming::Closed(code) => {
                recorder.error(
                    "disconnected",
                    format!("{}: closed by the server (code {code:?})", self.who),
                );
                return false;
            }
        };
        match frame {
            ServerFrame::Ack {
                client_msg_id,
                conversation_id,
                seq,
                duplicate,
            } => {
                self.follow(&conversation_id);
                recorder.acked(&client_msg_id, &conversation_id, seq, duplicate);
            }
            ServerFrame::Message {
                conversation_id,
                seq,
                client_msg_id,
                sender,
                text,
            } => {
                self.follow(&conversation_id);
                if !recorder.received(self.side, client_msg_id.as_deref(), &text)
                    && sender.kind != "system"
                {
                    recorder.warn(format!(
                        "{}: message {client_msg_id:?} from a {} is not this run's",
                        self.who, sender.kind
                    ));
                }
                if self.side == Side::Agent && self.ready.insert(conversation_id.clone()) {
                    recorder
                        .agent_conversations_ready
                        .fetch_add(1, Ordering::Relaxed);
                }
                self.log.entry(conversation_id).or_default().push(seq);
            }
            ServerFrame::Assigned { conversation } => self.follow(&conversation.id),
            ServerFrame::Conversation {
                conversation_id,
                status,
            } => self.conversation_changed(conversation_id, &status),
            ServerFrame::Status { status } if status != "online" => {
                recorder.error(
                    "agent_status_changed",
                    format!("{}: status became {status}", self.who),
                );
            }
            ServerFrame::Error {
                code,
                message,
                client_msg_id,
            } => {
                recorder.error_frame(&code, client_msg_id.as_deref());
                recorder.warn(format!("{}: error {code}: {message}", self.who));
            }
            ServerFrame::Welcome { .. } | ServerFrame::Status { .. } | ServerFrame::Other => {}
        }
        true
    }

    fn follow(&mut self, conversation_id: &str) {
        if !self
            .conversations
            .iter()
            .any(|known| known == conversation_id)
        {
            self.conversations.push(conversation_id.to_owned());
        }
    }

    fn conversation_changed(&mut self, conversation_id: String, status: &str) {
        let context = self.context.clone();
        let recorder = &context.recorder;
        match (self.side, status) {
            (_, "closed") => {
                if recorder.phase() < Phase::Stop {
                    recorder.error(
                        "conversation_closed",
                        format!("{}: conversation {conversation_id} closed", self.who),
                    );
                }
                self.closed.insert(conversation_id);
            }
            (Side::Visitor, "assigned") => {
                self.follow(&conversation_id);
                if self.ready.insert(conversation_id) {
                    recorder.visitors_assigned.fetch_add(1, Ordering::Relaxed);
                }
            }
            (_, "queued") if !self.ready.is_empty() => recorder.error(
                "conversation_requeued",
                format!(
                    "{}: conversation {conversation_id} went back to the queue",
                    self.who
                ),
            ),
            _ => self.follow(&conversation_id),
        }
    }

    /// Leaves the server as it was: visitors close their conversations, agents wait for that
    /// and go offline. Problems here are warnings: the measurement is over.
    async fn clean_up(&mut self, mut socket: Socket) {
        let deadline = Instant::now() + CLEANUP;
        if self.side == Side::Visitor {
            for conversation_id in self.conversations.clone() {
                let frame = ClientFrame::Close {
                    conversation_id: &conversation_id,
                };
                if socket.send(&frame).await.is_err() {
                    return;
                }
            }
        }
        while self
            .conversations
            .iter()
            .any(|id| !self.closed.contains(id))
        {
            match timeout_at(deadline, socket.next()).await {
                Ok(Incoming::Frame(ServerFrame::Conversation {
                    conversation_id,
                    status,
                })) if status == "closed" => {
                    self.closed.insert(conversation_id);
                }
                Ok(Incoming::Closed(_)) => return,
                Ok(_) => {}
                Err(_) => {
                    self.context
                        .recorder
                        .warn(format!("{}: clean-up: conversations not closed", self.who));
                    break;
                }
            }
        }
        if self.side == Side::Agent {
            let offline = ClientFrame::Status { status: "offline" };
            if socket.send(&offline).await.is_ok() {
                let confirmed = timeout(CLEANUP, async {
                    loop {
                        match socket.next().await {
                            Incoming::Frame(ServerFrame::Status { status })
                                if status == "offline" =>
                            {
                                return;
                            }
                            Incoming::Closed(_) => return,
                            _ => {}
                        }
                    }
                })
                .await;
                if confirmed.is_err() {
                    self.context
                        .recorder
                        .warn(format!("{}: clean-up: offline not confirmed", self.who));
                }
            }
        }
        socket.close().await;
    }

    fn into_log(self) -> ConnLog {
        ConnLog {
            conversations: self.log,
        }
    }
}

/// Waits for a turn to open a connection.
async fn permit(context: &Context) -> Result<tokio::sync::SemaphorePermit<'_>> {
    context
        .connect_permits
        .acquire()
        .await
        .map_err(|_| BenchError::Internal("connect permits closed".into()))
}

/// Waits for the next tick, or forever without a ticker.
async fn tick(ticker: &mut Option<Interval>) {
    match ticker {
        Some(ticker) => {
            ticker.tick().await;
        }
        None => std::future::pending().await,
    }
}
