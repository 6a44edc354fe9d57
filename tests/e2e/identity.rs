//! Visitor identity verification: a site signs its customer's id with the workspace secret; a
//! valid signature makes the customer one visitor on every device (agents see them verified,
//! with their past chats); a missing or wrong signature is ignored and never merges histories.

use crate::chat::{ADMIN_EMAIL, ADMIN_PASSWORD, AllInOne, message};
use crate::ws_client::WsClient;
use crate::{me, token};
use hmac::Mac as _;
use serde_json::{Value, json};

fn sign(secret: &str, user_id: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Opens a visitor socket with extra query parameters; returns it with its welcome.
async fn visitor(base: &str, query: &str) -> (WsClient, Value) {
    let url = format!("{}/v1/visitor/ws?{query}", base.replace("http://", "ws://"));
    let mut client = WsClient::connect(&url).await;
    let welcome = client.expect("welcome").await;
    (client, welcome)
}

#[tokio::test]
async fn a_signed_customer_is_one_visitor_everywhere_and_a_bad_signature_merges_nothing() {
    let data = tempfile::tempdir().expect("tempdir");
    let aio = AllInOne::start(data.path(), &[]).await;
    let http = reqwest::Client::new();
    let admin = token(&http, &aio.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let whoami: Value = me(&http, &aio.base, &admin)
        .await
        .json()
        .await
        .expect("json");
    let site_key = whoami["workspace"]["site_key"]
        .as_str()
        .expect("site key")
        .to_owned();
    let secret: Value = http
        .get(format!("{}/v1/admin/identity-secret", aio.base))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("secret")
        .json()
        .await
        .expect("json");
    let secret = secret["secret"].as_str().expect("secret").to_owned();
    let signed = |user: &str| {
        format!(
            "site_key={site_key}&user_id={user}&user_hash={}&user_name=Kari%20Nordmann&user_email=kari%40example.no",
            sign(&secret, user)
        )
    };

    // First device: the customer leaves a message.
    let (mut laptop, welcome) = visitor(&aio.base, &signed("cust-7")).await;
    let customer = welcome["visitor_id"].as_str().expect("id").to_owned();
    let mut first = message("m1", "Where is order 1042?", None);
    first["email"] = json!("kari@example.no");
    laptop.send(first).await;
    let conversation = laptop.expect("ack").await["conversation_id"]
        .as_str()
        .expect("conversation")
        .to_owned();

    // Second device, no token: the same customer, with the open conversation.
    let (_phone, welcome) = visitor(&aio.base, &signed("cust-7")).await;
    assert_eq!(welcome["visitor_id"], customer.as_str());
    assert_eq!(welcome["conversation"]["id"], conversation.as_str());

    // A wrong signature (or none) is ignored: a stranger, with nothing of the customer's.
    for query in [
        format!(
            "site_key={site_key}&user_id=cust-7&user_hash={}",
            sign("not-the-secret", "cust-7")
        ),
        format!("site_key={site_key}&user_id=cust-7"),
        format!("site_key={site_key}&user_id=cust-7&user_hash=zz"),
    ] {
        let (_, welcome) = visitor(&aio.base, &query).await;
        assert_ne!(welcome["visitor_id"], customer.as_str(), "{query}");
        assert!(welcome["conversation"].is_null(), "{query}");
    }

    // An anonymous visitor who signs in keeps its chat: it becomes the customer's.
    let (mut anonymous, welcome) = visitor(&aio.base, &format!("site_key={site_key}")).await;
    let anonymous_id = welcome["visitor_id"].as_str().expect("id").to_owned();
    let anonymous_token = welcome["visitor_token"].as_str().expect("token").to_owned();
    let mut hello = message("a1", "Hi, just browsing", None);
    hello["email"] = json!("ola@example.no");
    anonymous.send(hello).await;
    anonymous.expect("ack").await;
    let (_, welcome) = visitor(
        &aio.base,
        &format!("{}&visitor_token={anonymous_token}", signed("cust-8")),
    )
    .await;
    assert_eq!(welcome["visitor_id"], anonymous_id.as_str());

    // Agents see the verified customer and their chats; strangers are not verified.
    let card: Value = http
        .get(format!("{}/v1/visitors/{customer}", aio.base))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("visitor")
        .json()
        .await
        .expect("json");
    assert_eq!(card["visitor"]["verified"], true);
    assert_eq!(card["visitor"]["external_id"], "cust-7");
    assert_eq!(card["visitor"]["name"], "Kari Nordmann");
    assert_eq!(card["visitor"]["email"], "kari@example.no");
    assert_eq!(card["conversations"][0]["id"], conversation.as_str());
    let unknown = http
        .get(format!("{}/v1/visitors/{}", aio.base, uuid::Uuid::new_v4()))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("visitor");
    assert_eq!(unknown.status(), 404);
    let anonymous_card = http
        .get(format!("{}/v1/visitors/not-a-uuid", aio.base))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("visitor");
    assert_eq!(anonymous_card.status(), 400);
}
