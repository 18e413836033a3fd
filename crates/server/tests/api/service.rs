//! Health, readiness, metrics, request ids and the OpenAPI document.

use crate::helpers::{spawn_app, Engine};

#[tokio::test]
async fn health_ready_and_request_ids() {
    let app = spawn_app(Engine::Sqlite).await;
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let id = health.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_ne!(
        ready.headers()["x-request-id"],
        id.as_str(),
        "one id per request"
    );

    let given = app
        .http
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = spawn_app(Engine::Postgres).await;
    assert_eq!(
        app.http
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let name = app.database_url.rsplit('/').next().unwrap().to_owned();
    let admin_url = std::env::var("DASHVAULT_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
}

#[tokio::test]
async fn metrics_count_requests_by_route() {
    let app = spawn_app(Engine::Sqlite).await;
    app.request_code("+14155550100").await;
    app.request_code("bad").await;
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(r#"dashvault_http_requests_total{method="POST",route="/api/v1/auth/code",status="202"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"status="400"} 1"#), "{text}");
    assert!(text.contains("dashvault_sms_codes_sent_total 1"), "{text}");
    assert!(text.contains("dashvault_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn openapi_covers_every_endpoint() {
    let app = spawn_app(Engine::Sqlite).await;
    let doc: serde_json::Value = app
        .http
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let expected = [
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/api/v1/auth/code", "post"),
        ("/api/v1/auth/verify", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/devices", "post"),
        ("/api/v1/devices", "get"),
        ("/api/v1/devices/{id}", "get"),
        ("/api/v1/devices/{id}", "patch"),
        ("/api/v1/devices/{id}", "delete"),
        ("/api/v1/devices/{id}/token", "post"),
        ("/api/v1/agent/status", "put"),
        ("/api/v1/drives", "get"),
        ("/api/v1/clips", "get"),
        ("/api/v1/uploads", "options"),
        ("/api/v1/uploads", "post"),
        ("/api/v1/uploads/{id}", "head"),
        ("/api/v1/uploads/{id}", "get"),
        ("/api/v1/uploads/{id}/original", "get"),
        ("/api/v1/uploads/{id}", "patch"),
        ("/api/v1/uploads/{id}", "delete"),
        ("/api/v1/drives/{id}", "get"),
        ("/api/v1/drives/{id}", "delete"),
        ("/api/v1/clips/{id}", "get"),
        ("/api/v1/clips/{id}", "delete"),
        ("/api/v1/tombstones", "get"),
        ("/api/v1/drives/{id}/restore", "post"),
        ("/api/v1/admin/restores", "get"),
        ("/api/v1/admin/restores/{id}/approve", "post"),
        ("/api/v1/admin/restores/{id}/deny", "post"),
        ("/api/v1/clips/{id}/video", "get"),
        ("/api/v1/clips/{id}/thumbnail", "get"),
        ("/api/v1/drives/{id}/video", "get"),
        ("/api/v1/drives/{id}/segments", "get"),
        ("/api/v1/drives/{id}/thumbnail", "get"),
        ("/api/v1/clips/{id}/shares", "post"),
        ("/api/v1/clips/{id}/shares", "get"),
        ("/api/v1/shares/{id}", "delete"),
        ("/api/v1/shared/{token}", "get"),
        ("/s/{token}/video", "get"),
        ("/s/{token}/thumbnail", "get"),
        ("/api/v1/evidence/key", "get"),
        ("/api/v1/clips/{id}/evidence", "get"),
        ("/api/v1/clips/{id}/activity", "get"),
        ("/api/v1/clips/{id}/route.gpx", "get"),
        ("/api/v1/drives/{id}/route.gpx", "get"),
        ("/s/{token}/route.gpx", "get"),
    ];
    for (path, method) in expected {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is missing from the OpenAPI document"
        );
    }
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|ops| ops.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented,
        expected.len(),
        "an endpoint this test does not know"
    );
}
