//! Webhooks end to end: signatures, retries until a receiver recovers, order per conversation,
//! dead-lettering, replay, secret rotation and refused input.

use super::receiver::{Received, Receiver};
use super::{quick_retries, spawn};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use switchboard_integrations::signing::verify;
use switchboard_platform::testing::wait_until;
use switchboard_proto::integrations::v1 as pb;
use tonic::Code;
use uuid::Uuid;

fn verified(request: &Received, secret: &str) -> bool {
    verify(
        secret,
        &request.id,
        request.timestamp,
        request.body.as_bytes(),
        &request.signature,
    )
}

#[tokio::test]
async fn a_receiver_that_fails_for_a_while_gets_every_event_once_in_order_and_signed() {
    let system = spawn(quick_retries(20)).await;
    let workspace = Uuid::new_v4().to_string();
    system.allow_private(&workspace).await;
    let receiver = Receiver::start().await;
    receiver.fail_next(8, 503);
    let (_, secret) = system.webhook(&workspace, &receiver.url, &[]).await;

    let mut conversations = Vec::new();
    for _ in 0..3 {
        let id = system.open(&workspace).await;
        for n in 1..=4 {
            assert_eq!(system.say(&workspace, &id, &format!("line {n}")).await, n);
        }
        conversations.push(id);
    }
    // Each conversation: opened, then four messages.
    let expected = conversations.len() * 5;
    wait_until(
        Duration::from_secs(60),
        "every event accepted by the recovered receiver",
        || async { receiver.accepted().len() >= expected },
    )
    .await;
    let received = receiver.received();
    assert_eq!(
        received
            .iter()
            .filter(|request| request.answered == 503)
            .count(),
        8,
        "the receiver failed eight times"
    );
    let now = chrono::Utc::now().timestamp();
    for request in &received {
        assert!(verified(request, &secret), "signature of {}", request.id);
        assert!(
            (now - request.timestamp).abs() < 300,
            "timestamp is current"
        );
    }
    let accepted = receiver.accepted();
    assert_eq!(accepted.len(), expected, "nothing accepted twice");
    let ids: HashSet<&str> = accepted.iter().map(|request| request.id.as_str()).collect();
    assert_eq!(ids.len(), expected, "exactly once per delivery id");
    for failed in received.iter().filter(|request| request.answered == 503) {
        assert!(
            ids.contains(failed.id.as_str()),
            "{} retried until accepted",
            failed.id
        );
    }
    let mut per_conversation: HashMap<String, Vec<String>> = HashMap::new();
    for request in &accepted {
        let body = request.json();
        let data = &body["data"];
        let conversation = data["conversation"]["id"]
            .as_str()
            .or(data["conversation_id"].as_str())
            .expect("conversation id")
            .to_owned();
        let step = match body["type"].as_str() {
            Some("message.created") => format!("message {}", data["message"]["seq"]),
            Some(kind) => kind.to_owned(),
            None => panic!("untyped body {body}"),
        };
        per_conversation.entry(conversation).or_default().push(step);
    }
    for id in &conversations {
        assert_eq!(
            per_conversation[id],
            [
                "conversation.opened",
                "message 1",
                "message 2",
                "message 3",
                "message 4"
            ],
            "conversation {id} in order"
        );
    }
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_is_dead_lettered_and_a_replay_delivers_it() {
    let system = spawn(quick_retries(3)).await;
    let workspace = Uuid::new_v4().to_string();
    system.allow_private(&workspace).await;
    let receiver = Receiver::start().await;
    receiver.fail_next(1_000, 500);
    let (webhook, secret) = system
        .webhook(&workspace, &receiver.url, &["message.created"])
        .await;
    let conversation = system.open(&workspace).await;
    system.say(&workspace, &conversation, "first").await;

    let list = |status: pb::DeliveryStatus| {
        let mut integrations = system.integrations.clone();
        let request = pb::ListDeliveriesRequest {
            workspace_id: workspace.clone(),
            webhook_id: webhook.id.clone(),
            status: status as i32,
            ..Default::default()
        };
        async move {
            integrations
                .list_deliveries(request)
                .await
                .expect("deliveries")
                .into_inner()
                .deliveries
        }
    };
    wait_until(
        Duration::from_secs(30),
        "the delivery dead-lettered",
        || async { !list(pb::DeliveryStatus::Dead).await.is_empty() },
    )
    .await;
    let dead = list(pb::DeliveryStatus::Dead).await.remove(0);
    assert_eq!(
        (
            dead.attempts,
            dead.last_status_code,
            dead.last_error.as_str()
        ),
        (3, 500, "HTTP 500")
    );
    assert_eq!(dead.event_type, "message.created");
    let attempts: Vec<Received> = receiver
        .received()
        .into_iter()
        .filter(|request| request.id == dead.message_id)
        .collect();
    assert_eq!(attempts.len(), 3, "three attempts, then no more");
    assert!(attempts.iter().all(|request| verified(request, &secret)));

    // A dead delivery does not hold the conversation's later events back.
    receiver.fail_next(0, 500);
    system.say(&workspace, &conversation, "second").await;
    wait_until(
        Duration::from_secs(20),
        "the next message delivered",
        || async { receiver.accepted().len() == 1 },
    )
    .await;
    assert_eq!(
        receiver.accepted()[0].json()["data"]["message"]["text"],
        "second"
    );

    let replayed = system
        .integrations
        .clone()
        .replay_delivery(pb::ReplayDeliveryRequest {
            workspace_id: workspace.clone(),
            delivery_id: dead.id.clone(),
        })
        .await
        .expect("replay")
        .into_inner()
        .delivery
        .expect("delivery");
    assert_eq!(replayed.status, pb::DeliveryStatus::Pending as i32);
    wait_until(Duration::from_secs(20), "the replay delivered", || async {
        receiver
            .accepted()
            .iter()
            .any(|request| request.id == dead.message_id)
    })
    .await;
    let delivered = list(pb::DeliveryStatus::Delivered).await;
    assert_eq!(delivered.len(), 2);
    assert!(list(pb::DeliveryStatus::Dead).await.is_empty());
    let first = receiver
        .accepted()
        .into_iter()
        .find(|request| request.id == dead.message_id)
        .expect("replayed");
    assert!(verified(&first, &secret));
    assert_eq!(first.json()["data"]["message"]["text"], "first");
}

#[tokio::test]
async fn after_a_rotation_both_secrets_verify_until_the_old_one_expires() {
    let system = spawn(quick_retries(3)).await;
    let workspace = Uuid::new_v4().to_string();
    system.allow_private(&workspace).await;
    let receiver = Receiver::start().await;
    let (webhook, old) = system.webhook(&workspace, &receiver.url, &[]).await;
    let rotated = system
        .integrations
        .clone()
        .rotate_webhook_secret(pb::RotateWebhookSecretRequest {
            workspace_id: workspace.clone(),
            webhook_id: webhook.id.clone(),
        })
        .await
        .expect("rotate")
        .into_inner();
    assert_ne!(rotated.secret, old);
    assert!(
        rotated
            .webhook
            .expect("webhook")
            .previous_secret_expires_at
            .is_some()
    );
    system.open(&workspace).await;
    wait_until(Duration::from_secs(20), "a delivery", || async {
        !receiver.accepted().is_empty()
    })
    .await;
    let request = &receiver.accepted()[0];
    assert_eq!(request.signature.split(' ').count(), 2);
    assert!(verified(request, &rotated.secret));
    assert!(verified(request, &old));
}

#[tokio::test]
async fn bad_input_is_refused_with_stable_codes_and_changes_nothing() {
    let system = spawn(quick_retries(3)).await;
    let workspace = Uuid::new_v4().to_string();
    let mut integrations = system.integrations.clone();
    let create = |url: &str, events: &[&str]| pb::CreateWebhookRequest {
        workspace_id: workspace.clone(),
        url: url.to_owned(),
        events: events.iter().map(|event| (*event).to_owned()).collect(),
        description: String::new(),
    };
    let refused = |result: Result<tonic::Response<pb::CreateWebhookResponse>, tonic::Status>| {
        let status = result.expect_err("refused");
        (status.code(), status.message().to_owned())
    };
    for (url, events, field) in [
        ("not a url", vec![], "url"),
        ("ftp://example.com/hook", vec![], "url"),
        // Loopback and private ranges, unless the workspace allows them.
        ("http://127.0.0.1:9/hook", vec![], "url"),
        ("http://10.0.0.8/hook", vec![], "url"),
        ("http://[::1]:9/hook", vec![], "url"),
        ("http://169.254.169.254/latest/meta-data", vec![], "url"),
        (
            "https://example.com/hook",
            vec!["message.deleted"],
            "events",
        ),
    ] {
        let (code, message) = refused(integrations.create_webhook(create(url, &events)).await);
        assert_eq!(code, Code::InvalidArgument, "{url}");
        assert!(
            message.starts_with(&format!("{field}:")),
            "{url}: {message}"
        );
    }
    let (code, _) = refused(
        integrations
            .create_webhook(pb::CreateWebhookRequest {
                workspace_id: "nope".into(),
                ..create("http://127.0.0.1:9/hook", &[])
            })
            .await,
    );
    assert_eq!(code, Code::InvalidArgument);
    assert!(
        integrations
            .list_webhooks(pb::ListWebhooksRequest {
                workspace_id: workspace.clone()
            })
            .await
            .expect("list")
            .into_inner()
            .webhooks
            .is_empty(),
        "nothing was created"
    );

    // Another workspace's endpoint, and unknown ids, are simply not found.
    system.allow_private(&workspace).await;
    let receiver = Receiver::start().await;
    let (webhook, _) = system.webhook(&workspace, &receiver.url, &[]).await;
    let other = Uuid::new_v4().to_string();
    for status in [
        integrations
            .delete_webhook(pb::DeleteWebhookRequest {
                workspace_id: other.clone(),
                webhook_id: webhook.id.clone(),
            })
            .await
            .expect_err("other workspace"),
        integrations
            .list_deliveries(pb::ListDeliveriesRequest {
                workspace_id: other.clone(),
                webhook_id: webhook.id.clone(),
                ..Default::default()
            })
            .await
            .expect_err("other workspace"),
        integrations
            .replay_delivery(pb::ReplayDeliveryRequest {
                workspace_id: workspace.clone(),
                delivery_id: "999999".into(),
            })
            .await
            .expect_err("unknown delivery"),
    ] {
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
    }
    for (cursor, delivery_id) in [("abc", "1"), ("-4", "x")] {
        let listed = integrations
            .list_deliveries(pb::ListDeliveriesRequest {
                workspace_id: workspace.clone(),
                webhook_id: webhook.id.clone(),
                cursor: cursor.into(),
                ..Default::default()
            })
            .await
            .expect_err("bad cursor");
        assert_eq!(listed.code(), Code::InvalidArgument);
        let replayed = integrations
            .replay_delivery(pb::ReplayDeliveryRequest {
                workspace_id: workspace.clone(),
                delivery_id: delivery_id.into(),
            })
            .await;
        if delivery_id == "x" {
            assert_eq!(replayed.expect_err("bad id").code(), Code::InvalidArgument);
        }
    }
    // An update with one bad field changes nothing.
    let updated = integrations
        .update_webhook(pb::UpdateWebhookRequest {
            workspace_id: workspace.clone(),
            webhook_id: webhook.id.clone(),
            url: Some("https://example.com/new".into()),
            events: Some(pb::EventFilter {
                events: vec!["nonsense".into()],
            }),
            ..Default::default()
        })
        .await
        .expect_err("bad events");
    assert_eq!(updated.code(), Code::InvalidArgument);
    let listed = integrations
        .list_webhooks(pb::ListWebhooksRequest {
            workspace_id: workspace.clone(),
        })
        .await
        .expect("list")
        .into_inner()
        .webhooks;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].url, receiver.url);
}
