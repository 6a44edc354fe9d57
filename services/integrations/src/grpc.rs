//! `IntegrationsService` over gRPC: request validation, proto ↔ store, errors → status codes.

use crate::db::entity::{delivery, webhook};
use crate::store::{self, Store};
use crate::{IntegrationsError, payload, signing, url_guard};
use chrono::Utc;
use sea_orm::Set;
use std::time::Duration;
use switchboard_platform::grpc::{parse_uuid, timestamp};
use switchboard_proto::integrations::v1::{
    self as pb, integrations_service_server::IntegrationsService,
};
use tonic::{Request, Response, Status};

/// Most endpoints one workspace may register.
const MAX_WEBHOOKS: usize = 20;
/// Longest description.
const MAX_DESCRIPTION: usize = 200;

/// The gRPC adapter.
#[derive(Debug, Clone)]
pub struct IntegrationsGrpc {
    store: Store,
    feed: crate::feed::Feed,
    secret_overlap: Duration,
}

impl IntegrationsGrpc {
    /// Returns the adapter; a rotated-out secret signs for `secret_overlap` more.
    pub fn new(store: Store, feed: crate::feed::Feed, secret_overlap: Duration) -> Self {
        Self {
            store,
            feed,
            secret_overlap,
        }
    }

    /// Checks a URL for a workspace: syntax always, addresses unless private ones are allowed.
    async fn checked_url(&self, workspace_id: uuid::Uuid, raw: &str) -> Result<String, Status> {
        let url = url_guard::parse(raw.trim())
            .map_err(|error| IntegrationsError::invalid("url", error.to_string()))?;
        let allow = self.store.allows_private_network(workspace_id).await?;
        url_guard::check(&url, allow)
            .await
            .map_err(|error| IntegrationsError::invalid("url", error.to_string()))?;
        Ok(url.to_string())
    }
}

fn events(requested: &[String]) -> Result<Vec<String>, IntegrationsError> {
    let mut events = Vec::new();
    for event in requested {
        if !payload::EVENT_TYPES.contains(&event.as_str()) {
            return Err(IntegrationsError::invalid(
                "events",
                format!(
                    "unknown event type {:?}; known: {}",
                    event.chars().take(40).collect::<String>(),
                    payload::EVENT_TYPES.join(", ")
                ),
            ));
        }
        if !events.contains(event) {
            events.push(event.clone());
        }
    }
    Ok(events)
}

fn description(text: &str) -> Result<String, IntegrationsError> {
    let text = text.trim();
    if text.chars().count() > MAX_DESCRIPTION {
        return Err(IntegrationsError::invalid(
            "description",
            format!("at most {MAX_DESCRIPTION} characters"),
        ));
    }
    Ok(text.to_owned())
}

fn webhook_view(model: &webhook::Model) -> pb::Webhook {
    pb::Webhook {
        id: model.id.to_string(),
        workspace_id: model.workspace_id.to_string(),
        url: model.url.clone(),
        events: model
            .events
            .split(',')
            .filter(|event| !event.is_empty())
            .map(str::to_owned)
            .collect(),
        enabled: model.enabled,
        description: model.description.clone(),
        created_at: Some(timestamp(model.created_at)),
        previous_secret_expires_at: model
            .previous_secret_expires_at
            .filter(|until| *until > Utc::now())
            .map(timestamp),
    }
}

fn delivery_view(model: &delivery::Model) -> pb::Delivery {
    let status = match model.status.as_str() {
        store::PENDING => pb::DeliveryStatus::Pending,
        store::DELIVERED => pb::DeliveryStatus::Delivered,
        store::DEAD => pb::DeliveryStatus::Dead,
        _ => pb::DeliveryStatus::Unspecified,
    };
    pb::Delivery {
        id: model.id.to_string(),
        webhook_id: model.webhook_id.to_string(),
        message_id: model.message_id.clone(),
        event_type: model.event_type.clone(),
        conversation_id: model.ordering_key.clone(),
        status: status as i32,
        attempts: model.attempts.max(0) as u32,
        last_status_code: model.last_status_code.max(0) as u32,
        last_error: model.last_error.clone(),
        created_at: Some(timestamp(model.created_at)),
        next_attempt_at: (model.status == store::PENDING).then(|| timestamp(model.next_attempt_at)),
        delivered_at: model.delivered_at.map(timestamp),
        payload: model.payload.clone(),
    }
}

fn delivery_id(raw: &str) -> Result<i64, Status> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| IntegrationsError::invalid("delivery_id", "not a delivery id").into())
}

#[tonic::async_trait]
impl IntegrationsService for IntegrationsGrpc {
    type SubscribeEventsStream =
        tokio_stream::wrappers::ReceiverStream<Result<pb::FeedEvent, Status>>;

    async fn list_events(
        &self,
        request: Request<pb::ListEventsRequest>,
    ) -> Result<Response<pb::ListEventsResponse>, Status> {
        let request = request.into_inner();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let after = self.feed.cursor(&request.after_cursor).await?;
        let limit = match request.limit {
            0 => 100,
            limit => limit.min(1000),
        };
        let events = self
            .feed
            .page(
                workspace_id,
                after,
                u64::from(limit),
                Duration::from_millis(u64::from(request.wait_ms)),
            )
            .await?;
        let next_cursor = events.last().map_or(after, |last| last.id).to_string();
        Ok(Response::new(pb::ListEventsResponse {
            events: events.iter().map(crate::feed::view).collect(),
            next_cursor,
        }))
    }

    async fn subscribe_events(
        &self,
        request: Request<pb::SubscribeEventsRequest>,
    ) -> Result<Response<Self::SubscribeEventsStream>, Status> {
        let request = request.into_inner();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let after = self.feed.cursor(&request.after_cursor).await?;
        Ok(Response::new(tokio_stream::wrappers::ReceiverStream::new(
            self.feed.subscribe(workspace_id, after),
        )))
    }

    async fn create_webhook(
        &self,
        request: Request<pb::CreateWebhookRequest>,
    ) -> Result<Response<pb::CreateWebhookResponse>, Status> {
        let request = request.into_inner();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let events = events(&request.events)?;
        let description = description(&request.description)?;
        let url = self.checked_url(workspace_id, &request.url).await?;
        if self.store.webhooks(workspace_id).await?.len() >= MAX_WEBHOOKS {
            return Err(Status::failed_precondition(format!(
                "a workspace has at most {MAX_WEBHOOKS} webhooks"
            )));
        }
        let secret = signing::new_secret();
        let created = self
            .store
            .create_webhook(workspace_id, url, &events, description, secret.clone())
            .await?;
        Ok(Response::new(pb::CreateWebhookResponse {
            webhook: Some(webhook_view(&created)),
            secret,
        }))
    }

    async fn list_webhooks(
        &self,
        request: Request<pb::ListWebhooksRequest>,
    ) -> Result<Response<pb::ListWebhooksResponse>, Status> {
        let workspace_id = parse_uuid("workspace_id", &request.into_inner().workspace_id)?;
        let webhooks = self.store.webhooks(workspace_id).await?;
        Ok(Response::new(pb::ListWebhooksResponse {
            webhooks: webhooks.iter().map(webhook_view).collect(),
        }))
    }

    async fn update_webhook(
        &self,
        request: Request<pb::UpdateWebhookRequest>,
    ) -> Result<Response<pb::UpdateWebhookResponse>, Status> {
        let request = request.into_inner();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let webhook_id = parse_uuid("webhook_id", &request.webhook_id)?;
        // Validate everything before changing anything.
        let url = match &request.url {
            Some(url) => Some(self.checked_url(workspace_id, url).await?),
            None => None,
        };
        let events = match &request.events {
            Some(filter) => Some(events(&filter.events)?),
            None => None,
        };
        let description = match &request.description {
            Some(text) => Some(description(text)?),
            None => None,
        };
        let current = self.store.webhook(workspace_id, webhook_id).await?;
        let updated = self
            .store
            .update_webhook(current, |active| {
                if let Some(url) = url {
                    active.url = Set(url);
                }
                if let Some(events) = events {
                    active.events = Set(events.join(","));
                }
                if let Some(description) = description {
                    active.description = Set(description);
                }
                if let Some(enabled) = request.enabled {
                    active.enabled = Set(enabled);
                }
            })
            .await?;
        Ok(Response::new(pb::UpdateWebhookResponse {
            webhook: Some(webhook_view(&updated)),
        }))
    }

    async fn rotate_webhook_secret(
        &self,
        request: Request<pb::RotateWebhookSecretRequest>,
    ) -> Result<Response<pb::RotateWebhookSecretResponse>, Status> {
        let request = request.into_inner();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let webhook_id = parse_uuid("webhook_id", &request.webhook_id)?;
        let current = self.store.webhook(workspace_id, webhook_id).await?;
        let secret = signing::new_secret();
        let overlap_until = Utc::now()
            + chrono::Duration::from_std(self.secret_overlap).unwrap_or(chrono::Duration::zero());
        let previous = current.secret.clone();
        let new_secret = secret.clone();
        let updated = self
            .store
            .update_webhook(current, |active| {
                active.secret = Set(new_secret);
                active.previous_secret = Set(Some(previous));
                active.previous_secret_expires_at = Set(Some(overlap_until));
            })
            .await?;
        Ok(Response::new(pb::RotateWebhookSecretResponse {
            webhook: Some(webhook_view(&updated)),
            secret,
        }))
    }

    async fn delete_webhook(
        &self,
        request: Request<pb::DeleteWebhookRequest>,
    ) -> Result<Response<pb::DeleteWebhookResponse>, Status> {
        let request = request.into_inner();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let webhook_id = parse_uuid("webhook_id", &request.webhook_id)?;
        self.store.delete_webhook(workspace_id, webhook_id).await?;
        Ok(Response::new(pb::DeleteWebhookResponse {}))
    }

    async fn list_deliveries(
        &self,
        request: Request<pb::ListDeliveriesRequest>,
    ) -> Result<Response<pb::ListDeliveriesResponse>, Status> {
        let request = request.into_inner();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let webhook_id = parse_uuid("webhook_id", &request.webhook_id)?;
        // The endpoint must be the workspace's: nothing is said about others.
        self.store.webhook(workspace_id, webhook_id).await?;
        let status = match pb::DeliveryStatus::try_from(request.status) {
            Ok(pb::DeliveryStatus::Unspecified) => None,
            Ok(pb::DeliveryStatus::Pending) => Some(store::PENDING),
            Ok(pb::DeliveryStatus::Delivered) => Some(store::DELIVERED),
            Ok(pb::DeliveryStatus::Dead) => Some(store::DEAD),
            Err(_) => return Err(IntegrationsError::invalid("status", "unknown status").into()),
        };
        let before = match request.cursor.as_str() {
            "" => None,
            cursor => Some(
                cursor
                    .parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .ok_or_else(|| IntegrationsError::invalid("cursor", "not a cursor"))?,
            ),
        };
        let limit = match request.limit {
            0 => 50,
            limit => limit.min(200),
        };
        let deliveries = self
            .store
            .deliveries(
                workspace_id,
                webhook_id,
                status,
                before,
                u64::from(limit) + 1,
            )
            .await?;
        let more = deliveries.len() > limit as usize;
        let page: Vec<_> = deliveries.into_iter().take(limit as usize).collect();
        let next_cursor = if more {
            page.last()
                .map(|last| last.id.to_string())
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListDeliveriesResponse {
            deliveries: page.iter().map(delivery_view).collect(),
            next_cursor,
        }))
    }

    async fn replay_delivery(
        &self,
        request: Request<pb::ReplayDeliveryRequest>,
    ) -> Result<Response<pb::ReplayDeliveryResponse>, Status> {
        let request = request.into_inner();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let id = delivery_id(&request.delivery_id)?;
        let replayed = self.store.replay(workspace_id, id).await?;
        tracing::info!(delivery_id = id, webhook_id = %replayed.webhook_id, "webhook delivery replayed");
        Ok(Response::new(pb::ReplayDeliveryResponse {
            delivery: Some(delivery_view(&replayed)),
        }))
    }

    async fn get_settings(
        &self,
        request: Request<pb::GetSettingsRequest>,
    ) -> Result<Response<pb::GetSettingsResponse>, Status> {
        let workspace_id = parse_uuid("workspace_id", &request.into_inner().workspace_id)?;
        let allow_private_network = self.store.allows_private_network(workspace_id).await?;
        Ok(Response::new(pb::GetSettingsResponse {
            settings: Some(pb::Settings {
                allow_private_network,
            }),
        }))
    }

    async fn update_settings(
        &self,
        request: Request<pb::UpdateSettingsRequest>,
    ) -> Result<Response<pb::UpdateSettingsResponse>, Status> {
        let request = request.into_inner();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let settings = request
            .settings
            .ok_or_else(|| IntegrationsError::invalid("settings", "required"))?;
        self.store
            .set_allow_private_network(workspace_id, settings.allow_private_network)
            .await?;
        Ok(Response::new(pb::UpdateSettingsResponse {
            settings: Some(settings),
        }))
    }
}
