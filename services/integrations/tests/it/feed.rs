//! The replayable event feed: a subscriber that went away resumes with its cursor and gets
//! exactly what it missed; long polls wake on new events; cursors are checked.

use super::spawn;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use switchboard_integrations::feed::Feed;
use switchboard_integrations::payload::Outgoing;
use switchboard_integrations::store::Store;
use switchboard_integrations::{IntegrationsError, events::Wake};
use switchboard_proto::integrations::v1 as pb;
use tonic::Code;
use uuid::Uuid;

/// Returns the next `count` events of `stream` (each within 20 s).
async fn next_events(
    stream: &mut tonic::Streaming<pb::FeedEvent>,
    count: usize,
) -> Vec<pb::FeedEvent> {
    let mut events = Vec::new();
    while events.len() < count {
        let event = tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .expect("an event in time")
            .expect("stream open")
            .expect("event");
        events.push(event);
    }
    events
}

fn texts(events: &[pb::FeedEvent]) -> Vec<String> {
    events
        .iter()
        .map(|event| {
            let body: serde_json::Value = serde_json::from_str(&event.payload).expect("json");
            match body["data"]["message"]["text"].as_str() {
                Some(text) => text.to_owned(),
                None => event.event_type.clone(),
            }
        })
        .collect()
}

#[tokio::test]
async fn a_subscriber_resumes_with_its_cursor_and_gets_exactly_the_missed_events() {
    let system = spawn(super::quick_retries(3)).await;
    let workspace = Uuid::new_v4().to_string();
    let mut integrations = system.integrations.clone();
    let conversation = system.open(&workspace).await;
    system.say(&workspace, &conversation, "one").await;
    let subscribe = |after: String| {
        let mut integrations = system.integrations.clone();
        let request = pb::SubscribeEventsRequest {
            workspace_id: workspace.clone(),
            after_cursor: after,
        };
        async move {
            integrations
                .subscribe_events(request)
                .await
                .expect("subscribe")
                .into_inner()
        }
    };
    let mut stream = subscribe(String::new()).await;
    let seen = next_events(&mut stream, 2).await;
    assert_eq!(texts(&seen), ["conversation.opened", "one"]);
    let cursor = seen[1].cursor.clone();
    drop(stream);

    // While the subscriber is away.
    system.say(&workspace, &conversation, "two").await;
    system.say(&workspace, &conversation, "three").await;
    // Another workspace's events are never in this feed.
    let other = Uuid::new_v4().to_string();
    system.open(&other).await;

    let mut stream = subscribe(cursor.clone()).await;
    let missed = next_events(&mut stream, 2).await;
    assert_eq!(
        texts(&missed),
        ["two", "three"],
        "exactly the missed events"
    );
    // Then it goes on live, without repeating anything.
    system.say(&workspace, &conversation, "four").await;
    let live = next_events(&mut stream, 1).await;
    assert_eq!(texts(&live), ["four"]);
    let cursors: Vec<i64> = missed
        .iter()
        .chain(&live)
        .map(|event| event.cursor.parse().expect("cursor"))
        .collect();
    assert!(cursors.windows(2).all(|pair| pair[0] < pair[1]));
    assert!(cursors[0] > cursor.parse::<i64>().expect("cursor"));

    // The same through a page: after the cursor, everything missed, in order.
    let page = integrations
        .list_events(pb::ListEventsRequest {
            workspace_id: workspace.clone(),
            after_cursor: cursor,
            ..Default::default()
        })
        .await
        .expect("page")
        .into_inner();
    assert_eq!(texts(&page.events), ["two", "three", "four"]);
    assert_eq!(page.next_cursor, live[0].cursor);

    // A long poll at the end of the feed returns as soon as the next event is stored.
    let waiting = tokio::spawn({
        let mut integrations = integrations.clone();
        let request = pb::ListEventsRequest {
            workspace_id: workspace.clone(),
            after_cursor: page.next_cursor.clone(),
            wait_ms: 20_000,
            ..Default::default()
        };
        async move { integrations.list_events(request).await }
    });
    system.say(&workspace, &conversation, "five").await;
    let woken = waiting.await.expect("join").expect("page").into_inner();
    assert_eq!(texts(&woken.events), ["five"]);

    // Cursors that are not this feed's are refused.
    for cursor in ["abc", "-1", "99999999999"] {
        let status = integrations
            .list_events(pb::ListEventsRequest {
                workspace_id: workspace.clone(),
                after_cursor: cursor.into(),
                ..Default::default()
            })
            .await
            .expect_err("bad cursor");
        assert_eq!(status.code(), Code::InvalidArgument, "{cursor}");
    }
}

#[tokio::test]
async fn a_cursor_older_than_the_retention_window_is_refused_not_silently_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = switchboard_platform::testing::sqlite_url(dir.path(), "integrations.db");
    let db = switchboard_platform::db::connect(&url).await.expect("db");
    switchboard_integrations::db::migrate(&db)
        .await
        .expect("migrate");
    let store = Store::new(db);
    let feed = Feed::new(store.clone(), Arc::new(Wake::default()));
    let workspace = Uuid::new_v4();
    let event = |n: usize| Outgoing {
        event_type: "message.created",
        conversation_id: "c1".into(),
        body: format!("{{\"n\":{n}}}"),
    };
    let long_ago = chrono::Utc::now() - chrono::Duration::days(30);
    for n in 1..=3 {
        assert!(
            store
                .record_event(workspace, &format!("e{n}"), &event(n), long_ago)
                .await
                .expect("record")
        );
    }
    // Recorded twice (a redelivery): kept once.
    assert!(
        !store
            .record_event(workspace, "e3", &event(3), long_ago)
            .await
            .expect("record")
    );
    store
        .record_event(workspace, "e4", &event(4), chrono::Utc::now())
        .await
        .expect("record");
    let first = store.events_after(workspace, 0, 10).await.expect("events");
    assert_eq!(first.len(), 4);
    let removed = store
        .purge(chrono::Utc::now() - chrono::Duration::days(7), 2)
        .await
        .expect("purge");
    assert_eq!(removed, 3, "old events go in batches, the new one stays");
    assert!(matches!(
        feed.cursor(&first[0].id.to_string()).await,
        Err(IntegrationsError::CursorExpired)
    ));
    // At the horizon, or from the start, reading goes on with what is kept.
    let horizon = feed
        .cursor(&first[2].id.to_string())
        .await
        .expect("horizon");
    assert_eq!(
        store
            .events_after(workspace, horizon, 10)
            .await
            .expect("events")
            .len(),
        1
    );
    assert_eq!(feed.cursor("").await.expect("start"), first[2].id);
}
