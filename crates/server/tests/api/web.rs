//! The web pages over HTTP: who sees what (another user's ids answer the same `404` page
//! as unknown ids, a signed-out visitor is sent to sign-in), the security headers, the
//! share page's `404`/`410`, and the embedded assets.

use crate::both_engines;
use crate::helpers::TestApp;
use crate::streaming::{clip_metadata, upload_clip};
use crate::tus::video;
use serde_json::Value;

async fn page(app: &TestApp, path: &str, token: Option<&str>) -> (u16, String, String) {
    let mut request = app.http.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let csp = response
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let final_path = response.url().path().to_owned();
    // minijinja escapes `/` in HTML as `&#x2f;`.
    let body = response.text().await.unwrap().replace("&#x2f;", "/");
    assert!(csp.contains("script-src 'self'"), "{path}: CSP {csp:?}");
    (status, final_path, body)
}

async fn pages_show_only_the_owners_library(app: TestApp) {
    let owner = app.sign_in("+14155550100").await;
    let other = app.sign_in("+14155550101").await;
    let clip = upload_clip(&app, &owner, &video("web-page", 0), &clip_metadata()).await;

    let (status, _, body) = page(&app, "/incidents", Some(&owner)).await;
    assert_eq!(status, 200);
    assert!(body.contains(&format!("/clips/{clip}")) && body.contains("Hard brake"));
    let (status, _, body) = page(&app, &format!("/clips/{clip}"), Some(&owner)).await;
    assert_eq!(status, 200);
    assert!(body.contains(&format!("/api/v1/clips/{clip}/video")));

    // Another user: an empty library, and the same 404 page as for an unknown id.
    let (_, _, body) = page(&app, "/incidents", Some(&other)).await;
    assert!(!body.contains(&clip) && body.contains("No incidents yet"));
    let unknown = uuid::Uuid::now_v7();
    let (_, _, not_found) = page(&app, &format!("/clips/{unknown}"), Some(&other)).await;
    for path in [
        format!("/clips/{clip}"),
        format!("/clips/{unknown}"),
        "/clips/not-an-id".to_owned(),
        format!("/rides/{clip}"),
    ] {
        let (status, _, body) = page(&app, &path, Some(&other)).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body, not_found, "{path}");
    }

    // Signed out: every library page leads to sign-in, which returns to it.
    let (_, _, body) = page(&app, "/", None).await;
    assert!(body.contains("data-next=\"/rides\""), "{body}");
    for path in [
        "/rides",
        "/incidents?type=hard_brake",
        &format!("/clips/{clip}"),
    ] {
        let (status, landed, body) = page(&app, path, None).await;
        assert_eq!((status, landed.as_str()), (200, "/"), "{path}");
        assert!(body.contains("id=\"phone-form\""), "{path}");
        assert!(
            body.contains(&format!("data-next=\"{path}\"")),
            "{path}: {body}"
        );
    }
    // Signed in, `/` is the page asked for, or MY RIDES.
    let (_, landed, _) = page(&app, "/", Some(&owner)).await;
    assert_eq!(landed, "/rides");
    let (_, landed, _) = page(&app, &format!("/?next=/clips/{clip}"), Some(&owner)).await;
    assert_eq!(landed, format!("/clips/{clip}"));
    // A `next` off this site is ignored, signed in or out (no open redirect).
    for hostile in [
        "//evil.example/x",
        "/\\evil.example",
        "https://evil.example/",
        "/\t/evil.example",
    ] {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("next", hostile)
            .finish();
        let response = app.get_with(&format!("/?{query}"), &owner).await;
        assert_eq!(response.url().as_str(), app.url("/rides"), "{hostile}");
        let (_, _, body) = page(&app, &format!("/?{query}"), None).await;
        assert!(body.contains("data-next=\"/rides\""), "{hostile}: {body}");
    }

    // A filter the API refuses is said on the page.
    let (status, _, body) = page(&app, "/incidents?type=wheelie", Some(&owner)).await;
    assert_eq!(status, 400);
    assert!(body.contains("wheelie"), "{body}");
}

async fn share_page_shows_one_clip_until_revoked(app: TestApp) {
    let owner = app.sign_in("+14155550100").await;
    let clip = upload_clip(&app, &owner, &video("web-share", 0), &clip_metadata()).await;
    let share: Value = app
        .http
        .post(app.url(&format!("/api/v1/clips/{clip}/shares")))
        .bearer_auth(&owner)
        .json(&serde_json::json!({ "expires_in": 3600 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = share["url"].as_str().unwrap();
    let (status, _, body) = page(&app, url, None).await;
    assert_eq!(status, 200);
    assert!(body.contains(&format!("{url}/video")) && body.contains("Hard brake"));
    assert!(!body.contains(&clip) && !body.contains("+14155550100"));
    assert!(
        body.contains(r#""speed":"#) && body.contains(r#""route":[]"#),
        "speed and G-force are shown, the route only when shared: {body}"
    );
    assert!(
        !body.contains("/rides") && !body.contains("/api/"),
        "{body}"
    );

    let revoked = app
        .http
        .delete(app.url(&format!("/api/v1/shares/{}", share["id"].as_str().unwrap())))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    let (status, _, body) = page(&app, url, None).await;
    assert_eq!(status, 410);
    assert!(body.contains("no longer works"));
    let (status, _, _) = page(&app, "/s/never-issued", None).await;
    assert_eq!(status, 404);
}

async fn assets_are_embedded(app: TestApp) {
    for (name, kind) in [
        ("app.css", "text/css"),
        ("player.js", "text/javascript"),
        ("manage.js", "text/javascript"),
        ("signin.js", "text/javascript"),
        ("app.js", "text/javascript"),
    ] {
        let response = app
            .http
            .get(app.url(&format!("/assets/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{name}");
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(kind));
    }
    let missing = app
        .http
        .get(app.url("/assets/../Cargo.toml"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

both_engines!(
    pages_show_only_the_owners_library,
    share_page_shows_one_clip_until_revoked,
    assets_are_embedded,
);
