//! Devices: register, list, rename, new token, remove — and never another user's.

use crate::both_engines;
use crate::helpers::TestApp;
use serde_json::{json, Value};

async fn register(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/devices"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn device_lifecycle(app: TestApp) {
    let owner = app.sign_in("+14155550100").await;
    let response = register(
        &app,
        &owner,
        json!({"model": "BlackVue DR900X-2CH", "serial": "B9X123", "has_cabin_camera": true}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let first_token = created["token"].as_str().unwrap().to_owned();
    assert!(first_token.starts_with("dvd_"));
    assert_eq!(created["device"]["name"], "BlackVue DR900X-2CH");
    assert_eq!(created["device"]["has_cabin_camera"], true);
    assert_eq!(created["device"]["uploads_drives"], true);

    let list: Value = app
        .get_with("/api/v1/devices", &owner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    let renamed: Value = app
        .http
        .patch(app.url(&format!("/api/v1/devices/{id}")))
        .bearer_auth(&owner)
        .json(&json!({"name": "Family car"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["name"], "Family car");

    let replaced: Value = app
        .http
        .post(app.url(&format!("/api/v1/devices/{id}/token")))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let second_token = replaced["token"].as_str().unwrap();
    assert_ne!(second_token, first_token);
    let repo = &app.state.repo;
    let hash = |t: &str| dashvault_server::auth::secret::token_hash(t);
    assert!(repo
        .device_by_token(&hash(&first_token))
        .await
        .unwrap()
        .is_none());
    assert!(repo
        .device_by_token(&hash(second_token))
        .await
        .unwrap()
        .is_some());

    let deleted = app
        .http
        .delete(app.url(&format!("/api/v1/devices/{id}")))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(repo
        .device_by_token(&hash(second_token))
        .await
        .unwrap()
        .is_none());
    let gone = app.get_with(&format!("/api/v1/devices/{id}"), &owner).await;
    assert_eq!(gone.status(), 404);
}

async fn another_users_device_is_404(app: TestApp) {
    let owner = app.sign_in("+14155550100").await;
    let other = app.sign_in("+14155550111").await;
    let created: Value = register(&app, &owner, json!({"model": "M", "serial": "S"}))
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/devices/{id}");
    let unknown = format!("/api/v1/devices/{}", uuid::Uuid::now_v7());

    let theirs = app.get_with(&path, &other).await;
    let missing = app.get_with(&unknown, &other).await;
    assert_eq!(theirs.status(), 404);
    assert_eq!(theirs.text().await.unwrap(), missing.text().await.unwrap());
    for response in [
        app.http
            .patch(app.url(&path))
            .bearer_auth(&other)
            .json(&json!({"name": "x"})),
        app.http
            .post(app.url(&format!("{path}/token")))
            .bearer_auth(&other),
        app.http.delete(app.url(&path)).bearer_auth(&other),
    ] {
        assert_eq!(response.send().await.unwrap().status(), 404);
    }
    let list: Value = app
        .get_with("/api/v1/devices", &other)
        .await
        .json()
        .await
        .unwrap();
    assert!(list["items"].as_array().unwrap().is_empty());
    let still: Value = app.get_with(&path, &owner).await.json().await.unwrap();
    assert_eq!(still["name"], "M", "untouched by the other user");
}

async fn a_device_token_is_not_a_session(app: TestApp) {
    let owner = app.sign_in("+14155550100").await;
    let created: Value = register(&app, &owner, json!({"model": "M", "serial": "S"}))
        .await
        .json()
        .await
        .unwrap();
    let device_token = created["token"].as_str().unwrap();
    assert_eq!(app.get_with("/api/v1/me", device_token).await.status(), 401);
    assert_eq!(
        app.get_with("/api/v1/devices", device_token).await.status(),
        401
    );
}

async fn invalid_device_fields_are_400(app: TestApp) {
    let owner = app.sign_in("+14155550100").await;
    for body in [
        json!({"model": "", "serial": "S"}),
        json!({"model": "M", "serial": "a\nb"}),
        json!({"model": "M", "serial": "x".repeat(201)}),
        json!({"model": "M"}),
        json!({"model": "M", "serial": "S", "colour": "red"}),
    ] {
        let response = register(&app, &owner, body.clone()).await;
        assert_eq!(response.status(), 400, "{body}");
    }
    let list: Value = app
        .get_with("/api/v1/devices", &owner)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        list["items"].as_array().unwrap().is_empty(),
        "nothing stored"
    );
}

/// A `PATCH` of a device with `body`.
async fn change(app: &TestApp, token: &str, id: &str, body: Value) -> reqwest::Response {
    app.http
        .patch(app.url(&format!("/api/v1/devices/{id}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The Cameras page's figures: a time zone set, checked and cleared; the agent's last
/// contact; the bytes and time of what it uploaded.
async fn time_zone_last_seen_and_usage(app: TestApp) {
    let owner = app.sign_in("+14155550100").await;
    let created: Value = register(&app, &owner, json!({"model": "Viofo A129", "serial": "V1"}))
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let device_token = created["token"].as_str().unwrap().to_owned();
    assert_eq!(created["device"]["timezone"], Value::Null);
    assert_eq!(created["device"]["last_seen_at"], Value::Null);
    assert_eq!(created["device"]["stored_bytes"], 0);

    let zoned = change(&app, &owner, &id, json!({"timezone": "Asia/Tokyo"})).await;
    assert_eq!(zoned.status(), 200);
    let zoned: Value = zoned.json().await.unwrap();
    assert_eq!(
        (zoned["timezone"].as_str(), zoned["name"].as_str()),
        (Some("Asia/Tokyo"), Some("Viofo A129"))
    );
    for (body, code) in [
        (json!({"timezone": "Mars/Olympus_Mons"}), "invalid_timezone"),
        (json!({}), "invalid_field"),
        (json!({"name": " "}), "invalid_field"),
    ] {
        let refused = change(&app, &owner, &id, body.clone()).await;
        assert_eq!(refused.status(), 400, "{body}");
        let refused: Value = refused.json().await.unwrap();
        assert_eq!(refused["error"]["code"], code, "{body}");
    }
    let device: Value = app
        .get_with(&format!("/api/v1/devices/{id}"), &owner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        device["timezone"], "Asia/Tokyo",
        "a refused change changes nothing"
    );
    let cleared: Value = change(&app, &owner, &id, json!({"timezone": "", "name": "Van"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (cleared["timezone"].clone(), cleared["name"].clone()),
        (Value::Null, json!("Van"))
    );

    let bytes = crate::tus::video("camera-usage", 1000);
    crate::streaming::upload_clip(
        &app,
        &device_token,
        &bytes,
        &crate::streaming::clip_metadata(),
    )
    .await;
    let device: Value = app
        .get_with(&format!("/api/v1/devices/{id}"), &owner)
        .await
        .json()
        .await
        .unwrap();
    assert!(device["last_seen_at"].is_string(), "{device}");
    assert_eq!(device["uploads_waiting"], Value::Null, "never reported");
    let report = |token: String, body: Value| {
        let app = &app;
        async move {
            app.http
                .put(app.url("/api/v1/agent/status"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        report(device_token.clone(), json!({"uploads_waiting": 2})).await,
        204
    );
    assert_eq!(
        report(owner.clone(), json!({"uploads_waiting": 5})).await,
        401,
        "a session is no agent"
    );
    assert_eq!(
        report(device_token.clone(), json!({"uploads_waiting": -1})).await,
        400
    );
    assert!(device["last_upload_at"].is_string(), "{device}");
    assert_eq!(device["stored_bytes"], bytes.len() as u64, "{device}");
    let device: Value = app
        .get_with(&format!("/api/v1/devices/{id}"), &owner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(device["uploads_waiting"], 2, "{device}");
}

both_engines!(
    time_zone_last_seen_and_usage,
    device_lifecycle,
    another_users_device_is_404,
    a_device_token_is_not_a_session,
    invalid_device_fields_are_400,
);
