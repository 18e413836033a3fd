//! The Twilio-compatible sender, against a local HTTP server that records what it gets.

use crate::helpers::{code_in, spawn_app_with, Engine};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use dashvault_server::config::SmsConfig;
use std::sync::{Arc, Mutex};

type Received = Arc<Mutex<Vec<(String, String, String)>>>;

async fn record(
    State(received): State<Received>,
    axum::extract::Path(sid): axum::extract::Path<String>,
    headers: HeaderMap,
    body: String,
) -> &'static str {
    let auth = headers["authorization"].to_str().unwrap().to_owned();
    received.lock().unwrap().push((sid, auth, body));
    r#"{"sid": "SM1"}"#
}

#[tokio::test]
async fn twilio_sender_posts_the_code() {
    let received: Received = Arc::default();
    let gateway = Router::new()
        .route("/2010-04-01/Accounts/{sid}/Messages.json", post(record))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, gateway).await });

    let app = spawn_app_with(Engine::Sqlite, |config| {
        config.sms = SmsConfig::Twilio {
            account_sid: "AC123".into(),
            auth_token: "secret-token".into(),
            from: "+15005550006".into(),
            base_url: format!("http://{gateway_addr}"),
        };
    })
    .await;
    assert_eq!(app.request_code("+14155550100").await.status(), 202);

    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let (sid, auth, body) = &received[0];
    assert_eq!(sid, "AC123");
    use base64::Engine as _;
    let expected = base64::engine::general_purpose::STANDARD.encode("AC123:secret-token");
    assert_eq!(auth, &format!("Basic {expected}"));
    let field = |name: &str| {
        form_urlencoded::parse(body.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(field("To").as_deref(), Some("+14155550100"));
    assert_eq!(field("From").as_deref(), Some("+15005550006"));
    let text = field("Body").unwrap();
    let code = code_in(&text);
    assert_eq!(app.verify("+14155550100", &code).await.status(), 200);
}

#[tokio::test]
async fn a_failing_gateway_is_a_503() {
    let app = spawn_app_with(Engine::Sqlite, |config| {
        config.sms = SmsConfig::Twilio {
            account_sid: "AC123".into(),
            auth_token: "t".into(),
            from: "+15005550006".into(),
            base_url: "http://127.0.0.1:9".into(),
        };
    })
    .await;
    let response = app.request_code("+14155550100").await;
    assert_eq!(response.status(), 503);
}
