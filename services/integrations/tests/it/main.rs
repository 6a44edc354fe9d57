//! Integration tests of webhooks: conversation-history produces real events (outbox → NATS
//! JetStream), integrations delivers them to real HTTP receivers on loopback; PostgreSQL for
//! both services.

mod feed;
mod receiver;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;
use switchboard_platform::testing::{TestDb, TestNats, wait_until};
use switchboard_proto::common::v1::SenderKind;
use switchboard_proto::history::v1::{
    self as history_pb, conversation_history_service_client::ConversationHistoryServiceClient,
};
use switchboard_proto::integrations::v1::{
    self as pb, integrations_service_client::IntegrationsServiceClient,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

/// conversation-history and integrations on PostgreSQL + NATS.
#[derive(Debug)]
pub struct System {
    pub history: ConversationHistoryServiceClient<Channel>,
    pub integrations: IntegrationsServiceClient<Channel>,
    shutdown: CancellationToken,
}

impl Drop for System {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn listener() -> (TcpListener, Channel) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let channel = Channel::from_shared(url).expect("url").connect_lazy();
    (listener, channel)
}

/// Starts both services; `config` adjusts integrations (retry timing, attempts).
pub async fn spawn(config: switchboard_integrations::Config) -> System {
    let nats = TestNats::new();
    let prefix = nats.subjects.prefix().to_owned();
    let shutdown = CancellationToken::new();
    let (history_listener, history_channel) = listener().await;
    let (integrations_listener, integrations_channel) = listener().await;
    tokio::spawn(switchboard_conversation_history::run(
        switchboard_conversation_history::Config {
            database_url: TestDb::fresh().await.url,
            subject_prefix: prefix.clone(),
            ..Default::default()
        },
        history_listener,
        Arc::new(nats.bus().await),
        shutdown.clone(),
    ));
    let integrations_run = switchboard_integrations::run(
        switchboard_integrations::Config {
            database_url: TestDb::fresh().await.url,
            subject_prefix: prefix,
            ..config
        },
        integrations_listener,
        Arc::new(nats.bus().await),
        shutdown.clone(),
    );
    tokio::spawn(async move {
        if let Err(error) = integrations_run.await {
            eprintln!("integrations exited with an error: {error}");
        }
    });
    let history = ConversationHistoryServiceClient::new(history_channel);
    let integrations = IntegrationsServiceClient::new(integrations_channel);
    wait_until(Duration::from_secs(20), "both services to answer", || {
        let (mut history, mut integrations) = (history.clone(), integrations.clone());
        async move {
            let nil = uuid::Uuid::nil().to_string();
            history
                .list_conversations(history_pb::ListConversationsRequest {
                    workspace_id: nil.clone(),
                    ..Default::default()
                })
                .await
                .is_ok()
                && integrations
                    .list_webhooks(pb::ListWebhooksRequest { workspace_id: nil })
                    .await
                    .is_ok()
        }
    })
    .await;
    System {
        history,
        integrations,
        shutdown,
    }
}

/// Retries fast, so failing receivers are retried within a test's time.
pub fn quick_retries(max_attempts: u32) -> switchboard_integrations::Config {
    switchboard_integrations::Config {
        max_attempts,
        retry_base_ms: 50,
        retry_max_ms: 400,
        poll_interval_ms: 50,
        request_timeout_ms: 2_000,
        ..Default::default()
    }
}

impl System {
    /// Lets `workspace_id`'s webhooks call loopback receivers.
    pub async fn allow_private(&self, workspace_id: &str) {
        self.integrations
            .clone()
            .update_settings(pb::UpdateSettingsRequest {
                workspace_id: workspace_id.to_owned(),
                settings: Some(pb::Settings {
                    allow_private_network: true,
                }),
            })
            .await
            .expect("settings");
    }

    /// Registers a webhook; returns it with its secret.
    pub async fn webhook(
        &self,
        workspace_id: &str,
        url: &str,
        events: &[&str],
    ) -> (pb::Webhook, String) {
        let created = self
            .integrations
            .clone()
            .create_webhook(pb::CreateWebhookRequest {
                workspace_id: workspace_id.to_owned(),
                url: url.to_owned(),
                events: events.iter().map(|event| (*event).to_owned()).collect(),
                description: "test receiver".into(),
            })
            .await
            .expect("create webhook")
            .into_inner();
        (created.webhook.expect("webhook"), created.secret)
    }

    /// Opens a conversation of a new visitor; returns its id.
    pub async fn open(&self, workspace_id: &str) -> String {
        let mut history = self.history.clone();
        let visitor = history
            .upsert_visitor(history_pb::UpsertVisitorRequest {
                workspace_id: workspace_id.to_owned(),
                ..Default::default()
            })
            .await
            .expect("visitor")
            .into_inner()
            .visitor
            .expect("visitor");
        history
            .open_conversation(history_pb::OpenConversationRequest {
                workspace_id: workspace_id.to_owned(),
                visitor_id: visitor.id,
                ..Default::default()
            })
            .await
            .expect("open")
            .into_inner()
            .conversation
            .expect("conversation")
            .id
    }

    /// Appends a message of the conversation's visitor; returns its seq.
    pub async fn say(&self, workspace_id: &str, conversation_id: &str, text: &str) -> u64 {
        let mut history = self.history.clone();
        let visitor_id = history
            .get_conversation(history_pb::GetConversationRequest {
                workspace_id: workspace_id.to_owned(),
                conversation_id: conversation_id.to_owned(),
            })
            .await
            .expect("conversation")
            .into_inner()
            .conversation
            .expect("conversation")
            .visitor_id;
        history
            .append_message(history_pb::AppendMessageRequest {
                workspace_id: workspace_id.to_owned(),
                conversation_id: conversation_id.to_owned(),
                sender_kind: SenderKind::Visitor as i32,
                sender_id: visitor_id,
                client_msg_id: uuid::Uuid::new_v4().to_string(),
                text: text.to_owned(),
                sender_name: "Test".into(),
            })
            .await
            .expect("append")
            .into_inner()
            .message
            .expect("message")
            .seq
    }
}
