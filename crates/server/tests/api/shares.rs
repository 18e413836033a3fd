//! Share links: one clip shown anonymously, without location unless included; expiry on
//! the test clock, revocation and deletion of the clip answer `410`; another user's ids
//! answer `404`; anonymous lookups are rate-limited per address.

use crate::both_engines;
use crate::helpers::TestApp;
use crate::streaming::{
    check_ranges, clip_metadata, ffprobe_duration, get, reference_cut, upload_clip,
};
use crate::tus::{json, metadata, video};
use chrono::Duration;
use dashvault_server::clock::Clock;
use serde_json::{json, Value};

/// Shares `clip` as `token`'s owner with `body`; returns the answer's JSON.
async fn share(app: &TestApp, token: &str, clip: &str, body: Value) -> Value {
    let response = app
        .http
        .post(app.url(&format!("/api/v1/clips/{clip}/shares")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// An anonymous `GET`.
async fn anonymous(app: &TestApp, path: &str) -> reqwest::Response {
    app.http.get(app.url(path)).send().await.unwrap()
}

async fn revoke(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    app.http
        .delete(app.url(&format!("/api/v1/shares/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// The share's three anonymous URLs all answer `status`.
async fn assert_links(app: &TestApp, url: &str, status: u16) {
    let token = url.strip_prefix("/s/").unwrap();
    for path in [
        format!("/api/v1/shared/{token}"),
        format!("{url}/video"),
        format!("{url}/thumbnail"),
    ] {
        assert_eq!(anonymous(app, &path).await.status(), status, "{path}");
    }
}

/// A share shows that one clip to anyone (video byte-identical to the location-free cut,
/// with ranges) until it expires on the clock; revoked or deleted clips answer `410`.
async fn shares_live_until_expired_revoked_or_deleted(app: TestApp) {
    let owner = app.sign_in("+14155550100").await;
    let bytes = video("shared", 0);
    let clip = upload_clip(&app, &owner, &bytes, &clip_metadata()).await;
    let made = share(&app, &owner, &clip, json!({"expires_in": 3600})).await;
    let url = made["url"].as_str().unwrap().to_owned();
    let token = url.strip_prefix("/s/").unwrap().to_owned();
    assert!(token.len() >= 22, "at least 128 bits: {token}");
    assert!(token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(made["expires_at"], "2026-11-20T09:00:00Z");
    assert_eq!(made["include_location"], false);
    assert_eq!(made["allow_download"], false);
    assert!(
        !app.database_dump().await.contains(&token),
        "only the hash is stored"
    );

    let view = anonymous(&app, &format!("/api/v1/shared/{token}")).await;
    assert_eq!(view.status(), 200);
    let view: Value = view.json().await.unwrap();
    assert_eq!(view["video_url"], format!("/s/{token}/video"));
    assert_eq!(view["thumbnail_url"], format!("/s/{token}/thumbnail"));
    assert_eq!(view["incidents"][0]["type"], "hard_brake");
    assert_eq!(view["start"], "2026-11-20T07:30:10Z");
    assert_eq!(
        view["download_url"],
        Value::Null,
        "downloads were not allowed"
    );
    let inline = anonymous(&app, &format!("{url}/video?download=1")).await;
    assert!(
        inline.headers().get("content-disposition").is_none(),
        "a download the owner did not allow is only watched"
    );
    let text = view.to_string();
    for secret in [&clip, "device", "+1415", "drive"] {
        assert!(!text.contains(secret), "{secret} leaks in {text}");
    }
    check_ranges(
        &app,
        &format!("{url}/video"),
        "",
        &reference_cut(&bytes, true),
    )
    .await;
    let picture = anonymous(&app, &format!("{url}/thumbnail")).await;
    assert_eq!(picture.status(), 200);
    assert_eq!(picture.headers()["content-type"], "image/jpeg");

    let list = json(&app, &format!("/api/v1/clips/{clip}/shares"), &owner).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], made["id"]);
    assert_eq!(list["items"][0]["revoked"], false);

    app.clock.advance(Duration::seconds(3599));
    assert_links(&app, &url, 200).await;
    app.clock.advance(Duration::seconds(1));
    assert_links(&app, &url, 410).await;
    let gone: Value = anonymous(&app, &format!("/api/v1/shared/{token}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(gone["error"]["code"], "gone");

    let saved = share(&app, &owner, &clip, json!({"allow_download": true})).await;
    let saved_token = saved["url"]
        .as_str()
        .unwrap()
        .strip_prefix("/s/")
        .unwrap()
        .to_owned();
    let view: Value = anonymous(&app, &format!("/api/v1/shared/{saved_token}"))
        .await
        .json()
        .await
        .unwrap();
    let download = view["download_url"].as_str().unwrap().to_owned();
    assert_eq!(download, format!("/s/{saved_token}/video?download=1"));
    let file = anonymous(&app, &download).await;
    assert_eq!(file.status(), 200);
    assert!(file.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));

    let forever = share(&app, &owner, &clip, json!({})).await;
    assert_eq!(forever["expires_at"], Value::Null);
    let forever_url = forever["url"].as_str().unwrap().to_owned();
    app.clock.advance(Duration::days(20));
    assert_links(&app, &forever_url, 200).await;
    assert_eq!(
        revoke(&app, &owner, forever["id"].as_str().unwrap())
            .await
            .status(),
        204
    );
    assert_links(&app, &forever_url, 410).await;
    assert_eq!(
        revoke(&app, &owner, forever["id"].as_str().unwrap())
            .await
            .status(),
        204
    );
    let list = json(&app, &format!("/api/v1/clips/{clip}/shares"), &owner).await;
    assert_eq!(list["items"][2]["revoked"], true);

    let last = share(&app, &owner, &clip, json!({"include_location": true})).await;
    let last_url = last["url"].as_str().unwrap().to_owned();
    assert_links(&app, &last_url, 200).await;
    let me = json(&app, "/api/v1/me", &owner).await;
    let user: uuid::Uuid = me["id"].as_str().unwrap().parse().unwrap();
    let now = app.clock.now();
    app.state
        .repo
        .delete_clip(user, clip.parse().unwrap(), now)
        .await
        .unwrap();
    assert_links(&app, &last_url, 410).await;
    assert_links(&app, "/s/never-issued-token-aaaaaaaaaaaaaaaa", 404).await;

    for bad in [
        json!({"expires_in": 0}),
        json!({"expires_in": -5}),
        json!({"expire": 5}),
    ] {
        let clip2 = upload_clip(&app, &owner, &video("other", 0), &clip_metadata()).await;
        let response = app
            .http
            .post(app.url(&format!("/api/v1/clips/{clip2}/shares")))
            .bearer_auth(&owner)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{bad}");
    }
}

/// A GoPro clip with GPS in its `gpmd` track: shared without location, its video holds
/// no telemetry byte (no GPMF key, no `gpmd` track, no `udta`) and still plays; shared
/// with location, it is the owner's cut.
async fn shared_video_carries_no_location(app: TestApp) {
    let owner = app.sign_in("+14155550100").await;
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/media-samples/gopro__gpmf-parser/hero7.mp4"
    );
    let bytes = std::fs::read(sample).unwrap_or_else(|e| panic!("the GoPro sample {sample}: {e}"));
    // The camera's own GPS time (GPSU), so that its fixes fall within the clip.
    let meta = metadata(&[("kind", "clip"), ("start", "2019-05-06T18:15:07Z")]);
    let clip = upload_clip(&app, &owner, &bytes, &meta).await;
    let markers: [&[u8]; 5] = [b"GPS5", b"DEVC", b"gpmd", b"GPMF", b"udta"];
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);

    let own = get(&app, &format!("/api/v1/clips/{clip}/video"), &owner, &[]).await;
    let own = own.bytes().await.unwrap();
    assert!(
        contains(&own, b"GPS5"),
        "the owner's cut keeps the bytes between samples"
    );

    let private = share(&app, &owner, &clip, json!({})).await;
    let shared = anonymous(&app, &format!("{}/video", private["url"].as_str().unwrap())).await;
    assert_eq!(shared.status(), 200);
    let shared = shared.bytes().await.unwrap();
    for marker in markers {
        assert!(
            !contains(&shared, marker),
            "{} in the shared video",
            String::from_utf8_lossy(marker)
        );
    }
    assert_eq!(shared, reference_cut(&bytes, true));
    let duration = ffprobe_duration(&shared);
    assert!((duration - 11.75).abs() < 0.1, "{duration}");

    let view = anonymous(
        &app,
        &format!("/api/v1/shared/{}", &private["url"].as_str().unwrap()[3..]),
    )
    .await;
    let view: Value = view.json().await.unwrap();
    assert_eq!(
        view["telemetry"]["route"],
        json!([]),
        "no route without consent"
    );
    assert!(
        !view["telemetry"]["g"].as_array().unwrap().is_empty(),
        "G-force is shown"
    );

    let public = share(&app, &owner, &clip, json!({"include_location": true})).await;
    let view = anonymous(
        &app,
        &format!("/api/v1/shared/{}", &public["url"].as_str().unwrap()[3..]),
    )
    .await;
    let view: Value = view.json().await.unwrap();
    let route = view["telemetry"]["route"].as_array().unwrap();
    assert!(!route.is_empty(), "the route is shown with consent");
    assert!(
        (route[0][1].as_f64().unwrap() - 33.12684).abs() < 0.001,
        "{}",
        route[0]
    );
    let with = anonymous(&app, &format!("{}/video", public["url"].as_str().unwrap())).await;
    assert_eq!(with.bytes().await.unwrap(), own);
}

/// Another user's clip and share ids answer `404` on every share endpoint.
async fn another_users_shares_are_not_found(app: TestApp) {
    let owner = app.sign_in("+14155550100").await;
    let other = app.sign_in("+14155550101").await;
    let clip = upload_clip(&app, &owner, &video("mine", 0), &clip_metadata()).await;
    let made = share(&app, &owner, &clip, json!({})).await;
    let response = app
        .http
        .post(app.url(&format!("/api/v1/clips/{clip}/shares")))
        .bearer_auth(&other)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let listed = get(&app, &format!("/api/v1/clips/{clip}/shares"), &other, &[]).await;
    assert_eq!(listed.status(), 404);
    assert_eq!(
        revoke(&app, &other, made["id"].as_str().unwrap())
            .await
            .status(),
        404
    );
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_eq!(revoke(&app, &owner, &unknown).await.status(), 404);
    assert_links(&app, made["url"].as_str().unwrap(), 200).await;
    let anonymous_list = anonymous(&app, &format!("/api/v1/clips/{clip}/shares")).await;
    assert_eq!(anonymous_list.status(), 401);
}

/// Anonymous lookups beyond the limit from one address answer `429` with `Retry-After`,
/// until the minute has passed on the clock.
async fn share_lookups_are_rate_limited(app: TestApp) {
    let limit = dashvault_server::routes::shares::LOOKUPS_PER_MINUTE;
    for _ in 0..limit {
        assert_eq!(
            anonymous(&app, "/api/v1/shared/unknown").await.status(),
            404
        );
    }
    let refused = anonymous(&app, "/api/v1/shared/unknown").await;
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "60");
    assert_eq!(anonymous(&app, "/s/unknown/video").await.status(), 429);
    app.clock.advance(Duration::seconds(60));
    assert_eq!(
        anonymous(&app, "/api/v1/shared/unknown").await.status(),
        404
    );
}

both_engines!(
    shares_live_until_expired_revoked_or_deleted,
    shared_video_carries_no_location,
    another_users_shares_are_not_found,
    share_lookups_are_rate_limited,
);
