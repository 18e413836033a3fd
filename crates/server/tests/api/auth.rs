//! Every sign-in rule, each on its own, on both engines.

use crate::both_engines;
use crate::helpers::{spawn_app_with, Engine, TestApp};
use chrono::Duration;

const PHONE: &str = "+14155550100";

/// The `message` of an error answer.
async fn message(response: reqwest::Response) -> String {
    let body: serde_json::Value = response.json().await.unwrap();
    body["error"]["message"].as_str().unwrap().to_owned()
}

async fn valid_number_gets_202_invalid_gets_400(app: TestApp) {
    assert_eq!(app.request_code(" +1 415 555 0100 ").await.status(), 202);
    assert_eq!(app.sms.last_code(PHONE).len(), 6, "normalised to E.164");
    for bad in ["4155550100", "+1", "+999", "not a number", ""] {
        let response = app.request_code(bad).await;
        assert_eq!(response.status(), 400, "{bad}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_phone");
    }
}

async fn known_and_unknown_numbers_get_the_same_answer(app: TestApp) {
    app.sign_in(PHONE).await;
    app.clock.advance(Duration::seconds(31));
    let known = app.request_code(PHONE).await;
    let unknown = app.request_code("+14155550199").await;
    assert_eq!(known.status(), unknown.status());
    assert_eq!(known.text().await.unwrap(), unknown.text().await.unwrap());
}

async fn right_code_signs_in_and_sets_a_safe_cookie(app: TestApp) {
    assert_eq!(app.request_code(PHONE).await.status(), 202);
    let code = app.sms.last_code(PHONE);
    let response = app.verify(PHONE, &code).await;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let body: serde_json::Value = response.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert!(body["expires_at"].is_string());
    assert_eq!(body["user"]["phone"], PHONE);

    let me: serde_json::Value = app
        .get_with("/api/v1/me", token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["phone"], PHONE);
    let cookie_pair = cookie.split(';').next().unwrap();
    let by_cookie = app
        .http
        .get(app.url("/api/v1/me"))
        .header("cookie", cookie_pair)
        .send()
        .await
        .unwrap();
    assert_eq!(by_cookie.status(), 200);

    // A second sign-in finds the same user.
    app.clock.advance(Duration::seconds(31));
    let again = app.sign_in(PHONE).await;
    let me_again: serde_json::Value = app
        .get_with("/api/v1/me", &again)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], me_again["id"]);
}

async fn a_code_works_once(app: TestApp) {
    app.request_code(PHONE).await;
    let code = app.sms.last_code(PHONE);
    assert_eq!(app.verify(PHONE, &code).await.status(), 200);
    assert_eq!(app.verify(PHONE, &code).await.status(), 401);
}

async fn wrong_code_is_401_and_five_tries_kill_it(app: TestApp) {
    app.request_code(PHONE).await;
    let code = app.sms.last_code(PHONE);
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for _ in 0..5 {
        assert_eq!(app.verify(PHONE, wrong).await.status(), 401);
    }
    let response = app.verify(PHONE, &code).await;
    assert_eq!(response.status(), 429, "the right code after 5 wrong tries");
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    // A new code works again.
    app.clock.advance(Duration::seconds(retry as i64));
    app.request_code(PHONE).await;
    let fresh = app.sms.last_code(PHONE);
    assert_eq!(app.verify(PHONE, &fresh).await.status(), 200);
}

async fn a_code_expires_after_five_minutes(app: TestApp) {
    app.request_code(PHONE).await;
    let code = app.sms.last_code(PHONE);
    app.clock.advance(Duration::seconds(5 * 60));
    assert_eq!(
        app.verify(PHONE, &code).await.status(),
        401,
        "at the deadline"
    );

    app.request_code(PHONE).await;
    let code = app.sms.last_code(PHONE);
    app.clock.advance(Duration::seconds(5 * 60 - 1));
    assert_eq!(
        app.verify(PHONE, &code).await.status(),
        200,
        "just before it"
    );
}

async fn a_new_code_replaces_the_old_one(app: TestApp) {
    app.request_code(PHONE).await;
    let old = app.sms.last_code(PHONE);
    app.clock.advance(Duration::seconds(30));
    assert_eq!(app.request_code(PHONE).await.status(), 202);
    let new = app.sms.last_code(PHONE);
    if old != new {
        assert_eq!(app.verify(PHONE, &old).await.status(), 401);
    }
    assert_eq!(app.verify(PHONE, &new).await.status(), 200);
}

async fn resend_waits_30_seconds(app: TestApp) {
    assert_eq!(app.request_code(PHONE).await.status(), 202);
    app.clock.advance(Duration::seconds(10));
    let response = app.request_code(PHONE).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "20");
    assert_eq!(
        message(response).await,
        "a code was just sent; ask for another in 20 seconds"
    );
    assert_eq!(app.sms.count(), 1, "nothing sent while cooling down");
    app.clock.advance(Duration::seconds(20));
    assert_eq!(app.request_code(PHONE).await.status(), 202);
}

async fn per_number_hourly_limit(app: TestApp) {
    for _ in 0..5 {
        assert_eq!(app.request_code(PHONE).await.status(), 202);
        app.clock.advance(Duration::seconds(60));
    }
    let response = app.request_code(PHONE).await;
    assert_eq!(response.status(), 429);
    let retry: i64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        retry,
        3600 - 5 * 60,
        "until the oldest send leaves the hour"
    );
    assert_eq!(
        message(response).await,
        "too many codes sent to this number; try again in 55 minutes"
    );
    app.clock.advance(Duration::seconds(retry));
    assert_eq!(app.request_code(PHONE).await.status(), 202);
}

async fn session_slides_and_expires(app: TestApp) {
    let token = app.sign_in(PHONE).await;
    // Used every 20 days, a 30-day session lives on.
    for _ in 0..3 {
        app.clock.advance(Duration::days(20));
        assert_eq!(app.get_with("/api/v1/me", &token).await.status(), 200);
    }
    app.clock.advance(Duration::days(30));
    assert_eq!(app.get_with("/api/v1/me", &token).await.status(), 401);
}

async fn logout_revokes_the_session(app: TestApp) {
    let token = app.sign_in(PHONE).await;
    let response = app
        .http
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(app.get_with("/api/v1/me", &token).await.status(), 401);
}

async fn no_plaintext_code_or_token_in_the_database(app: TestApp) {
    app.request_code(PHONE).await;
    let code = app.sms.last_code(PHONE);
    let pending = app.database_dump().await;
    assert!(
        !pending.contains(&code),
        "the pending code is stored in plain text"
    );
    let response = app.verify(PHONE, &code).await;
    let body: serde_json::Value = response.json().await.unwrap();
    let session = body["token"].as_str().unwrap().to_owned();
    let device: serde_json::Value = app
        .http
        .post(app.url("/api/v1/devices"))
        .bearer_auth(&session)
        .json(&serde_json::json!({"model": "DR900X", "serial": "SN1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let device_token = device["token"].as_str().unwrap();
    let dump = app.database_dump().await;
    assert!(dump.contains(PHONE), "the dump does see the data");
    for secret in [
        session.as_str(),
        device_token,
        &session[4..],
        &device_token[4..],
    ] {
        assert!(!dump.contains(secret), "a token is stored in plain text");
    }
}

both_engines!(
    valid_number_gets_202_invalid_gets_400,
    known_and_unknown_numbers_get_the_same_answer,
    right_code_signs_in_and_sets_a_safe_cookie,
    a_code_works_once,
    wrong_code_is_401_and_five_tries_kill_it,
    a_code_expires_after_five_minutes,
    a_new_code_replaces_the_old_one,
    resend_waits_30_seconds,
    per_number_hourly_limit,
    session_slides_and_expires,
    logout_revokes_the_session,
    no_plaintext_code_or_token_in_the_database,
);

#[tokio::test]
async fn per_address_hourly_limit() {
    let app = spawn_app_with(Engine::Sqlite, |config| {
        config.auth.codes_per_ip_per_hour = 3;
    })
    .await;
    for n in 0..3 {
        let phone = format!("+1415555010{n}");
        assert_eq!(app.request_code(&phone).await.status(), 202);
    }
    let response = app.request_code("+14155550109").await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "3600");
    assert_eq!(
        message(response).await,
        "too many codes requested from this address; try again in 60 minutes"
    );
}

#[tokio::test]
async fn cookie_is_secure_behind_a_trusted_tls_proxy() {
    let app = spawn_app_with(Engine::Sqlite, |config| {
        config.auth.trust_proxy_headers = true;
    })
    .await;
    app.request_code(PHONE).await;
    let code = app.sms.last_code(PHONE);
    let response = app
        .http
        .post(app.url("/api/v1/auth/verify"))
        .header("x-forwarded-proto", "https")
        .json(&serde_json::json!({"phone": PHONE, "code": code}))
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}
