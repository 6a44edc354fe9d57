//! The delivery worker: sends due deliveries, signs them, retries with back-off, dead-letters.
//!
//! Woken by new deliveries (same process) and by a short poll (retries coming due, deliveries
//! accepted by another replica). At most `max_in_flight` requests run at once; a slow or dead
//! receiver holds one slot for at most the request timeout and never affects chat, which only
//! ever wrote an outbox row.

use crate::config::Config;
use crate::db::entity::{delivery, webhook};
use crate::signing;
use crate::store::{Attempt, Store};
use crate::url_guard;
use chrono::Utc;
use rand::Rng as _;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

/// How long a claimed delivery stays ours beyond the request timeout.
const LEASE_MARGIN: Duration = Duration::from_secs(30);

/// Sends deliveries.
#[derive(Debug, Clone)]
pub struct Worker {
    store: Store,
    http: reqwest::Client,
    config: Arc<Config>,
    wake: Arc<crate::events::Wake>,
}

impl Worker {
    /// Returns a worker over `store`; `wake` is notified when deliveries are added.
    pub fn new(
        store: Store,
        config: Config,
        wake: Arc<crate::events::Wake>,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_millis(config.request_timeout_ms.max(1)))
            .user_agent(concat!("Switchboard-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            store,
            http,
            config: Arc::new(config),
            wake,
        })
    }

    /// Sends due deliveries until `shutdown`; in-flight requests finish (within their timeout).
    pub async fn run(self, shutdown: CancellationToken) {
        let slots = Arc::new(Semaphore::new(self.config.max_in_flight.max(1)));
        let poll = Duration::from_millis(self.config.poll_interval_ms.max(10));
        let lease = Duration::from_millis(self.config.request_timeout_ms) + LEASE_MARGIN;
        let tasks = tokio_util::task::TaskTracker::new();
        let mut last_gauge = Instant::now() - Duration::from_secs(60);
        loop {
            if last_gauge.elapsed() >= Duration::from_secs(5) {
                last_gauge = Instant::now();
                match self.store.backlog().await {
                    Ok(backlog) => {
                        metrics::gauge!("switchboard_webhook_backlog").set(backlog as f64);
                    }
                    Err(error) => tracing::warn!(%error, "cannot measure the webhook backlog"),
                }
            }
            match self
                .store
                .due(self.config.max_in_flight.max(1) as u64 * 2)
                .await
            {
                Ok(due) => {
                    for delivery in due {
                        let Ok(slot) = slots.clone().acquire_owned().await else {
                            break;
                        };
                        match self.store.claim(&delivery, lease).await {
                            Ok(true) => {
                                let worker = self.clone();
                                tasks.spawn(async move {
                                    worker.attempt(delivery).await;
                                    drop(slot);
                                    // The conversation's next delivery may be due now: look
                                    // at once rather than at the next poll.
                                    worker.wake.deliveries.notify_one();
                                });
                            }
                            Ok(false) => {}
                            Err(error) => tracing::warn!(%error, "cannot claim a delivery"),
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot read due deliveries"),
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.wake.deliveries.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
        tasks.close();
        tasks.wait().await;
    }

    /// Makes one attempt of a claimed delivery and records it.
    async fn attempt(&self, delivery: delivery::Model) {
        let span = tracing::info_span!(
            "webhook.deliver",
            otel.kind = "client",
            webhook.id = %delivery.webhook_id,
            webhook.event_type = %delivery.event_type,
            webhook.delivery_id = delivery.id,
            webhook.attempt = delivery.attempts + 1,
        );
        if let Some(parent) = &delivery.trace_parent {
            switchboard_platform::trace::continue_trace(&span, parent);
        }
        async {
            let endpoint = match self
                .store
                .webhook(delivery.workspace_id, delivery.webhook_id)
                .await
            {
                Ok(endpoint) => endpoint,
                // Deleted meanwhile: its deliveries went with it.
                Err(crate::IntegrationsError::WebhookNotFound) => return,
                Err(error) => {
                    tracing::warn!(%error, "cannot read the webhook of a delivery");
                    return;
                }
            };
            if !endpoint.enabled {
                // Paused: keep the delivery, without spending an attempt.
                let later = Utc::now() + chrono::Duration::seconds(60);
                if let Err(error) = self.store.postpone(delivery.id, later).await {
                    tracing::warn!(%error, "cannot postpone a delivery");
                }
                return;
            }
            let started = Instant::now();
            let outcome = self.send(&endpoint, &delivery).await;
            metrics::histogram!("switchboard_webhook_delivery_seconds")
                .record(started.elapsed().as_secs_f64());
            let attempt = match outcome {
                Ok(status_code) => Attempt::Delivered { status_code },
                Err((status_code, error)) => Attempt::Failed {
                    status_code,
                    error,
                    retry_at: self.retry_at(delivery.attempts + 1),
                },
            };
            let label = match &attempt {
                Attempt::Delivered { .. } => "delivered",
                Attempt::Failed { retry_at: Some(_), .. } => "failed",
                Attempt::Failed { retry_at: None, .. } => "dead",
            };
            metrics::counter!("switchboard_webhook_deliveries_total", "outcome" => label)
                .increment(1);
            if label == "dead" {
                tracing::warn!(webhook_id = %delivery.webhook_id, delivery_id = delivery.id, "webhook delivery dead-lettered");
            }
            if let Err(error) = self.store.record(delivery.id, attempt).await {
                // The lease expires and the delivery is attempted again: at least once.
                tracing::warn!(%error, delivery_id = delivery.id, "cannot record a delivery attempt");
            }
        }
        .instrument(span)
        .await;
    }

    /// Posts the delivery; returns the HTTP status, or the status (0: none) and why it failed.
    async fn send(
        &self,
        endpoint: &webhook::Model,
        delivery: &delivery::Model,
    ) -> Result<u16, (u16, String)> {
        let url = url_guard::parse(&endpoint.url).map_err(|error| (0, error.to_string()))?;
        let allow_private = self
            .store
            .allows_private_network(endpoint.workspace_id)
            .await
            .map_err(|_| (0, "settings unavailable".to_owned()))?;
        url_guard::check(&url, allow_private)
            .await
            .map_err(|error| (0, error.to_string()))?;
        let now = Utc::now();
        let mut secrets = vec![endpoint.secret.as_str()];
        if let (Some(previous), Some(until)) = (
            &endpoint.previous_secret,
            endpoint.previous_secret_expires_at,
        ) && until > now
        {
            secrets.push(previous);
        }
        let timestamp = now.timestamp();
        let body = delivery.payload.as_bytes();
        let signature = signing::signature_header(&secrets, &delivery.message_id, timestamp, body);
        let response = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &delivery.message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(delivery.payload.clone())
            .send()
            .await
            .map_err(|error| (0, describe(&error)))?;
        let status = response.status();
        if status.is_success() {
            Ok(status.as_u16())
        } else {
            Err((status.as_u16(), format!("HTTP {}", status.as_u16())))
        }
    }

    /// Returns when to try again after `attempts` attempts, or `None` to dead-letter.
    fn retry_at(&self, attempts: i32) -> Option<chrono::DateTime<Utc>> {
        if attempts < 0 || attempts as u32 >= self.config.max_attempts {
            return None;
        }
        let exponent = (attempts.max(1) - 1).min(30) as u32;
        let wait = self
            .config
            .retry_base_ms
            .saturating_mul(1u64 << exponent)
            .min(self.config.retry_max_ms);
        let jittered = (wait as f64 * rand::rng().random_range(0.8..1.2)) as i64;
        Some(Utc::now() + chrono::Duration::milliseconds(jittered))
    }
}

/// Returns why a request failed, without URLs or internal detail.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timeout".to_owned()
    } else if error.is_connect() {
        "connection failed".to_owned()
    } else {
        "request failed".to_owned()
    }
}
