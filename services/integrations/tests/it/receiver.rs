//! A webhook receiver on loopback: records every request, answers with a status the test sets,
//! and verifies signatures the way a customer's endpoint would.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use std::sync::{Arc, Mutex};

/// One request as received.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) id: String,
    pub(crate) timestamp: i64,
    pub(crate) signature: String,
    pub(crate) body: String,
    /// The status the receiver answered.
    pub(crate) answered: u16,
}

impl Received {
    /// Returns the JSON body.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("json body")
    }
}

#[derive(Debug, Default)]
struct Inner {
    received: Vec<Received>,
    /// Answer this status to the next `failures` requests, then 200.
    failures: usize,
    failure_status: u16,
}

/// A running receiver.
#[derive(Debug, Clone)]
pub(crate) struct Receiver {
    pub(crate) url: String,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    /// Starts a receiver answering 200.
    pub(crate) async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/hooks", listener.local_addr().expect("addr"));
        let app = axum::Router::new()
            .route("/hooks", axum::routing::post(receive))
            .with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, inner }
    }

    /// Fails the next `count` requests with `status`.
    pub(crate) fn fail_next(&self, count: usize, status: u16) {
        let mut inner = self.inner.lock().expect("lock");
        inner.failures = count;
        inner.failure_status = status;
    }

    /// Returns every request so far.
    pub(crate) fn received(&self) -> Vec<Received> {
        self.inner.lock().expect("lock").received.clone()
    }

    /// Returns the requests answered 2xx.
    pub(crate) fn accepted(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|request| (200..300).contains(&request.answered))
            .collect()
    }
}

async fn receive(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut inner = inner.lock().expect("lock");
    let answered = if inner.failures > 0 {
        inner.failures -= 1;
        inner.failure_status
    } else {
        200
    };
    inner.received.push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp").parse().unwrap_or_default(),
        signature: header("webhook-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
        answered,
    });
    StatusCode::from_u16(answered).unwrap_or(StatusCode::OK)
}
