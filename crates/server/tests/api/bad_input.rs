//! Malformed requests get a 4xx with the error body, never a 500, and change nothing.

use crate::both_engines;
use crate::helpers::TestApp;
use serde_json::Value;

async fn send_raw(app: &TestApp, content_type: &str, body: Vec<u8>) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/auth/code"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn error_code(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].is_string(), "{body}");
    body["error"]["code"].as_str().unwrap().to_owned()
}

async fn malformed_bodies_are_refused_cleanly(app: TestApp) {
    let json = "application/json";
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (json, b"{\"phone\": ".to_vec(), 400, "invalid_json"),
        (json, b"[1, 2]".to_vec(), 400, "invalid_body"),
        (
            json,
            br#"{"phone": 14155550100}"#.to_vec(),
            400,
            "invalid_body",
        ),
        (
            json,
            br#"{"phone": "+14155550100", "admin": true}"#.to_vec(),
            400,
            "invalid_body",
        ),
        (
            "text/plain",
            br#"{"phone": "+14155550100"}"#.to_vec(),
            415,
            "unsupported_media_type",
        ),
        (json, vec![b' '; 2 * 1024 * 1024], 413, "payload_too_large"),
        (json, vec![0xff, 0xfe, 0x00], 400, "invalid_json"),
    ];
    for (content_type, body, status, code) in cases {
        let response = send_raw(&app, content_type, body).await;
        assert_eq!(error_code(response, status).await, code);
    }
    assert_eq!(app.sms.count(), 0, "no code was sent");
    let verify = app
        .http
        .post(app.url("/api/v1/auth/verify"))
        .json(&serde_json::json!({"phone": "+14155550100", "code": "12345x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(verify, 400).await, "invalid_code");
    let dump = app.database_dump().await;
    assert!(
        !dump.contains("+1415555"),
        "nothing about the number was stored"
    );
}

async fn unknown_paths_and_bad_ids_are_json_404(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    for path in ["/nope", "/api/v1/devices/not-a-uuid", "/api/v1/devices/%00"] {
        let response = app.get_with(path, &token).await;
        assert_eq!(error_code(response, 404).await, "not_found", "{path}");
    }
}

/// Answers made outside the handlers (a method the path does not take) carry the JSON
/// error body too, with the status's name as the code.
async fn rejections_outside_handlers_are_json(app: TestApp) {
    for (method, path) in [
        (reqwest::Method::DELETE, "/api/v1/me"),
        (reqwest::Method::POST, "/readyz"),
        (reqwest::Method::PUT, "/api/v1/uploads"),
    ] {
        let response = app
            .http
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{method} {path}"
        );
        assert_eq!(error_code(response, 405).await, "method_not_allowed");
    }
}

async fn missing_or_garbage_credentials_are_401(app: TestApp) {
    for auth in [
        None,
        Some("Bearer "),
        Some("Bearer dvs_nonsense"),
        Some("Basic abc"),
    ] {
        let mut request = app.http.get(app.url("/api/v1/me"));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.unwrap();
        assert_eq!(error_code(response, 401).await, "unauthorized");
    }
}

both_engines!(
    malformed_bodies_are_refused_cleanly,
    unknown_paths_and_bad_ids_are_json_404,
    rejections_outside_handlers_are_json,
    missing_or_garbage_credentials_are_401,
);
