//! The library API: filtered cursor listings, details with telemetry read from a
//! simulated camera's files, deletion (blob removed by the job), tombstones, and every
//! endpoint tried with another user's ids.

use crate::helpers::TestApp;
use crate::tus::{json, metadata, video, Tus};
use crate::{all_backends, both_engines};
use dashvault_server::jobs::{JobEnd, Outcome, Worker, WorkerConfig};
use dashvault_simulate::{parse_incidents, simulate_camera, FileKind, Options};
use dashvault_store::blob::BlobKey;
use futures_util::TryStreamExt;
use serde_json::{json as json_value, Value};
use std::time::Instant;

/// A device of the user signed in with `session`: its id and token.
pub async fn device(app: &TestApp, session: &str, serial: &str) -> (String, String) {
    let created: Value = app
        .http
        .post(app.url("/api/v1/devices"))
        .bearer_auth(session)
        .json(&json_value!({"model": "BlackVue DR900X-2CH", "serial": serial, "name": serial}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        created["id"].as_str().unwrap().to_owned(),
        created["token"].as_str().unwrap().to_owned(),
    )
}

/// Upload `bytes` with `meta` as `token` (a device's), asserting it was filed.
async fn upload(app: &TestApp, token: &str, bytes: &[u8], meta: &str) {
    let (_, done) = Tus::new(app, token).upload(bytes, meta, 1 << 20).await;
    assert_eq!(done.status(), 204, "{:?}", done.text().await);
}

fn clip_meta(start: &str, view: &str, incidents: &[(&str, &str)]) -> String {
    let incidents: Vec<Value> = incidents
        .iter()
        .map(|(kind, at)| json_value!({"type": kind, "at": at, "severity": 0.7}))
        .collect();
    metadata(&[
        ("kind", "clip"),
        ("clip", "auto"),
        ("start", start),
        ("view", view),
        ("incidents", &Value::from(incidents).to_string()),
    ])
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn status(app: &TestApp, method: reqwest::Method, path: &str, token: &str) -> u16 {
    app.http
        .request(method, app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Listings: newest first, the contract's fields, cursor pages, every filter, a device
/// token sees its owner's library, wrong parameters are `400`.
async fn clips_list_with_filters_and_cursors(app: TestApp) {
    let session = app.sign_in("+14155550100").await;
    let (car, car_token) = device(&app, &session, "car").await;
    let (_, van_token) = device(&app, &session, "van").await;
    let clips = [
        (
            &car_token,
            "morning",
            "2026-11-18T08:00:00Z",
            "road",
            vec![("hard_brake", "2026-11-18T08:00:01Z")],
        ),
        (
            &car_token,
            "evening",
            "2026-11-19T22:30:00Z",
            "cabin",
            vec![],
        ),
        (
            &van_token,
            "night",
            "2026-11-20T01:00:00Z",
            "road",
            vec![("collision", "2026-11-20T01:00:01Z")],
        ),
    ];
    for (token, seed, start, view, incidents) in &clips {
        upload(
            &app,
            token,
            &video(seed, 0),
            &clip_meta(start, view, incidents),
        )
        .await;
    }
    let all = json(&app, "/api/v1/clips", &session).await;
    assert_eq!(all["next_cursor"], Value::Null);
    let items = all["items"].as_array().unwrap();
    let starts: Vec<&str> = items.iter().map(|i| i["start"].as_str().unwrap()).collect();
    assert_eq!(
        starts,
        [
            "2026-11-20T01:00:00Z",
            "2026-11-19T22:30:00Z",
            "2026-11-18T08:00:00Z"
        ]
    );
    let night = &items[0];
    let id = night["id"].as_str().unwrap();
    assert_eq!(night["kind"], "auto");
    assert_eq!(night["view"], "road");
    assert_eq!(night["device_name"], "van");
    assert_eq!(night["incidents"][0]["type"], "collision");
    assert_eq!(night["cloud_saved"], true);
    assert_eq!(night["duration"], 2.0);
    assert_eq!(night["duration_ms"], 2000);
    assert_eq!(night["end"], "2026-11-20T01:00:02Z");
    assert_eq!(
        night["thumbnail_url"],
        format!("/api/v1/clips/{id}/thumbnail")
    );
    assert_eq!(night["video_url"], format!("/api/v1/clips/{id}/video"));
    assert_eq!(
        night["download_url"],
        format!("/api/v1/clips/{id}/video?download=1")
    );
    assert_eq!(night["drive"], Value::Null);

    let first = json(&app, "/api/v1/clips?limit=2", &session).await;
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let second = json(
        &app,
        &format!("/api/v1/clips?limit=2&cursor={cursor}"),
        &session,
    )
    .await;
    assert_eq!([ids(&first), ids(&second)].concat(), ids(&all));
    assert_eq!(second["next_cursor"], Value::Null);
    let exact = ids(&all).len();
    let whole = json(&app, &format!("/api/v1/clips?limit={exact}"), &session).await;
    assert_eq!(ids(&whole).len(), exact);
    assert_eq!(
        whole["next_cursor"],
        Value::Null,
        "an exactly full last page offers no empty next one"
    );

    let filtered = |query: &'static str| {
        let (app, session) = (&app, &session);
        async move {
            json(app, &format!("/api/v1/clips?{query}"), session).await["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(filtered("type=collision").await, 1);
    assert_eq!(filtered("type=collision&type=hard_brake").await, 2);
    assert_eq!(filtered("type=swerve,sharp_turn").await, 0);
    assert_eq!(filtered("view=cabin").await, 1);
    assert_eq!(filtered("from=2026-11-19&to=2026-11-19").await, 1);
    assert_eq!(filtered("from=2026-11-19T23:00:00Z").await, 1);
    assert_eq!(filtered("time_from=22:00&time_to=02:00").await, 2);
    assert_eq!(filtered("time_from=07:00&time_to=09:00").await, 1);
    assert_eq!(filtered("archived=true").await, 0);
    let by_car = json(&app, &format!("/api/v1/clips?device={car}"), &session).await;
    assert_eq!(by_car["items"].as_array().unwrap().len(), 2);

    let as_device = json(&app, "/api/v1/clips", &van_token).await;
    assert_eq!(
        ids(&as_device),
        ids(&all),
        "a device token acts for its owner"
    );
    for bad in [
        "type=speeding",
        "view=rear",
        "limit=500",
        "cursor=nonsense",
        "from=monday",
    ] {
        let response = app
            .get_with(&format!("/api/v1/clips?{bad}"), &session)
            .await;
        assert_eq!(response.status(), 400, "{bad}");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"]["code"]
                .as_str()
                .unwrap()
                .starts_with("invalid_"),
            "{bad}: {body}"
        );
    }
    assert_eq!(
        status(&app, reqwest::Method::GET, "/api/v1/clips", "dvs_nope").await,
        401
    );
}

/// A simulated one-minute drive (road video, `.gps`, `.3gf`) and a clip inside it,
/// uploaded by the camera's device token.
async fn simulated_drive(app: &TestApp, token: &str) -> dashvault_simulate::Camera {
    let dir = tempfile::tempdir().unwrap();
    let mut options = Options::new(dir.path(), 1);
    options.start = "2026-11-20T07:30:00Z".parse().unwrap();
    options.incidents = parse_incidents("hard_brake@30").unwrap();
    let camera = simulate_camera(&options).unwrap();
    for file in &camera.files {
        let bytes = std::fs::read(dir.path().join(&file.path)).unwrap();
        let name = file.path.rsplit('/').next().unwrap();
        let kind = match file.kind {
            FileKind::Video => "recording",
            FileKind::Gps | FileKind::Accel => "sidecar",
        };
        let start = file.start.to_rfc3339();
        upload(
            app,
            token,
            &bytes,
            &metadata(&[("kind", kind), ("start", &start), ("filename", name)]),
        )
        .await;
    }
    let at = camera.incidents[0].at.to_rfc3339();
    let start = (camera.start + chrono::Duration::seconds(29)).to_rfc3339();
    upload(
        app,
        token,
        &video("brake", 0),
        &clip_meta(&start, "road", &[("hard_brake", &at)]),
    )
    .await;
    camera
}

/// Details carry the downsampled route, speed and G-force (from the files and the
/// device's sidecars) and the incident markers; drive items carry their clips.
async fn details_carry_telemetry(app: TestApp) {
    let session = app.sign_in("+14155550100").await;
    let (_, token) = device(&app, &session, "car").await;
    let camera = simulated_drive(&app, &token).await;
    let drives = json(&app, "/api/v1/drives", &session).await;
    let drive = &drives["items"][0];
    let drive_id = drive["id"].as_str().unwrap();
    assert_eq!(drive["views"], json_value!(["road"]));
    assert_eq!(drive["archived"], false);
    assert_eq!(drive["restored_until"], Value::Null);
    assert_eq!(
        drive["segments_url"],
        format!("/api/v1/drives/{drive_id}/segments")
    );
    assert_eq!(drive["clips"].as_array().unwrap().len(), 1);
    let clip_id = drive["clips"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(drive["clips"][0]["drive"], drive_id);

    let started = Instant::now();
    let detail = json(&app, &format!("/api/v1/drives/{drive_id}"), &session).await;
    let took = started.elapsed();
    eprintln!("GET /api/v1/drives/{{id}} of a 1-minute drive took {took:?}");
    let t = &detail["telemetry"];
    let route = t["route"].as_array().unwrap();
    assert!(
        route.len() >= 50 && route.len() <= 121,
        "{} route points",
        route.len()
    );
    assert!(t["speed"].as_array().unwrap().len() >= 50);
    let g = t["g"].as_array().unwrap();
    assert!(
        g.len() >= 100 && g.len() <= 121,
        "{} g points: 10 Hz kept at 2 a second",
        g.len()
    );
    for p in g {
        let v: Vec<f64> = p
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let magnitude = (v[1] * v[1] + v[2] * v[2] + v[3] * v[3]).sqrt();
        assert!((0.3..4.0).contains(&magnitude), "g in units of g: {v:?}");
        assert!((0.0..=60.0).contains(&v[0]));
    }
    let markers = detail["markers"].as_array().unwrap();
    assert_eq!(markers.len(), 1);
    assert_eq!(markers[0]["type"], "hard_brake");
    let expected_t = (camera.incidents[0].at - camera.start).num_milliseconds() as f64 / 1000.0;
    assert!((markers[0]["t"].as_f64().unwrap() - expected_t).abs() < 0.01);

    let clip = json(&app, &format!("/api/v1/clips/{clip_id}"), &session).await;
    assert_eq!(clip["id"], clip_id.as_str());
    assert_eq!(clip["markers"][0]["t"], 1.0);
    let route = clip["telemetry"]["route"].as_array().unwrap();
    assert!(
        !route.is_empty() && route.len() <= 5,
        "the clip's 2 s of GPS: {route:?}"
    );
    assert!(route
        .iter()
        .all(|p| (0.0..=2.0).contains(&p[0].as_f64().unwrap())));
    assert!(!clip["telemetry"]["g"].as_array().unwrap().is_empty());
}

/// The stored blob key of `clip_id`.
async fn clip_blob(app: &TestApp, session: &str, clip_id: &str) -> BlobKey {
    let me = json(app, "/api/v1/me", session).await;
    let user: uuid::Uuid = me["id"].as_str().unwrap().parse().unwrap();
    let clip = app
        .state
        .repo
        .clip(user, clip_id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    BlobKey::new(clip.file.blob_key).unwrap()
}

/// Run queued jobs until none is left.
async fn drain(app: &TestApp) {
    let worker = Worker::for_state(&app.state, WorkerConfig::default());
    while let Outcome::Ran(ran) = worker.run_one().await.unwrap() {
        assert_eq!(ran.end, JobEnd::Done, "{ran:?}");
    }
}

/// Deleting a clip: `204`, gone from lists and details, `204` again, a tombstone for
/// the agent, and its blob (and thumbnail) removed once the job ran. Deleting a drive
/// removes its recordings' blobs and keeps its clip.
async fn delete_removes_rows_then_blobs(app: TestApp) {
    let session = app.sign_in("+14155550100").await;
    let (_, token) = device(&app, &session, "car").await;
    let recording = video("drive", 0);
    upload(
        &app,
        &token,
        &recording,
        &metadata(&[("kind", "recording"), ("start", "2026-11-20T07:00:00Z")]),
    )
    .await;
    upload(
        &app,
        &token,
        &video("inside", 0),
        &clip_meta("2026-11-20T07:00:01Z", "road", &[]),
    )
    .await;
    // Unique content: the S3 bucket (and so the thumbnail cache) is shared between tests.
    let alone_seed = format!("alone-{}", uuid::Uuid::new_v4());
    upload(
        &app,
        &token,
        &video(&alone_seed, 0),
        &clip_meta("2026-11-20T09:00:00Z", "road", &[]),
    )
    .await;
    let clips = json(&app, "/api/v1/clips", &session).await;
    let alone = clips["items"][0]["id"].as_str().unwrap().to_owned();
    let inside = clips["items"][1]["id"].as_str().unwrap().to_owned();
    let sha = clips["items"][0]["sha256"].as_str().unwrap().to_owned();
    let blob = clip_blob(&app, &session, &alone).await;
    let thumbnail = app
        .get_with(&format!("/api/v1/clips/{alone}/thumbnail"), &session)
        .await;
    assert_eq!(thumbnail.status(), 200);
    assert_eq!(
        thumbnails_of(&app, &sha).await,
        1,
        "the thumbnail is cached"
    );
    assert!(app.state.blobs.exists(&blob).await.unwrap());

    let path = format!("/api/v1/clips/{alone}");
    assert_eq!(
        status(&app, reqwest::Method::DELETE, &path, &session).await,
        204
    );
    assert_eq!(
        status(&app, reqwest::Method::GET, &path, &session).await,
        404
    );
    assert_eq!(
        status(&app, reqwest::Method::DELETE, &path, &session).await,
        204,
        "idempotent"
    );
    assert_eq!(
        ids(&json(&app, "/api/v1/clips", &session).await),
        std::slice::from_ref(&inside)
    );
    assert!(
        app.state.blobs.exists(&blob).await.unwrap(),
        "the job removes the blob"
    );
    drain(&app).await;
    assert!(
        !app.state.blobs.exists(&blob).await.unwrap(),
        "blob gone after the job"
    );
    assert_eq!(thumbnails_of(&app, &sha).await, 0, "its thumbnail goes too");

    let tombstones = json(&app, "/api/v1/tombstones", &token).await;
    assert_eq!(tombstones["items"].as_array().unwrap().len(), 1);
    let tombstone = &tombstones["items"][0];
    assert_eq!(tombstone["kind"], "clip");
    assert_eq!(tombstone["id"], alone.as_str());
    assert_eq!(tombstone["sha256"], json_value!([sha]));
    let seq = tombstone["seq"].as_i64().unwrap();

    let drive = json(&app, "/api/v1/drives", &session).await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = json(&app, "/api/v1/me", &session).await;
    let user: uuid::Uuid = me["id"].as_str().unwrap().parse().unwrap();
    let recording_blobs: Vec<BlobKey> = app
        .state
        .repo
        .drive_recordings(user, drive.parse().unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|r| BlobKey::new(r.file.blob_key).unwrap())
        .collect();
    assert_eq!(recording_blobs.len(), 1);
    let drive_path = format!("/api/v1/drives/{drive}");
    assert_eq!(
        status(&app, reqwest::Method::DELETE, &drive_path, &token).await,
        204
    );
    assert_eq!(
        status(&app, reqwest::Method::GET, &drive_path, &session).await,
        404
    );
    assert_eq!(
        status(&app, reqwest::Method::DELETE, &drive_path, &session).await,
        204
    );
    let kept = json(&app, &format!("/api/v1/clips/{inside}"), &session).await;
    assert_eq!(kept["drive"], Value::Null, "the drive's clip is kept");
    drain(&app).await;
    let sha_of_recording = crate::tus::sha256_hex(&recording);
    let after = json(&app, &format!("/api/v1/tombstones?after={seq}"), &token).await;
    assert_eq!(after["items"][0]["kind"], "drive");
    assert_eq!(after["items"][0]["sha256"], json_value!([sha_of_recording]));
    let page = json(&app, "/api/v1/tombstones?limit=1", &token).await;
    assert_eq!(page["next_cursor"], seq.to_string());
    let inside_blob = clip_blob(&app, &session, &inside).await;
    assert!(
        app.state.blobs.exists(&inside_blob).await.unwrap(),
        "the kept clip's blob stays"
    );
    for key in recording_blobs {
        assert!(
            !app.state.blobs.exists(&key).await.unwrap(),
            "the drive's recording is gone"
        );
    }
}

/// Cached thumbnails of the content `sha`.
async fn thumbnails_of(app: &TestApp, sha: &str) -> usize {
    let prefix = BlobKey::new("thumbnails").unwrap();
    let blobs: Vec<_> = app
        .state
        .blobs
        .list(Some(&prefix))
        .try_collect()
        .await
        .unwrap();
    blobs
        .iter()
        .filter(|b| b.key.as_str().starts_with(&format!("thumbnails/{sha}-")))
        .count()
}

all_backends!(delete_removes_rows_then_blobs);

/// Every library endpoint with the other user's ids answers `404` and changes nothing;
/// lists and tombstones show nothing of the other user.
async fn other_users_ids_are_not_found(app: TestApp) {
    let alice = app.sign_in("+14155550100").await;
    let bob = app.sign_in("+14155550101").await;
    let (_, alice_car) = device(&app, &alice, "car").await;
    let (_, bob_car) = device(&app, &bob, "bike").await;
    upload(
        &app,
        &alice_car,
        &video("a-drive", 0),
        &metadata(&[("kind", "recording"), ("start", "2026-11-20T07:00:00Z")]),
    )
    .await;
    upload(
        &app,
        &alice_car,
        &video("a-clip", 0),
        &clip_meta(
            "2026-11-20T07:00:01Z",
            "road",
            &[("collision", "2026-11-20T07:00:01Z")],
        ),
    )
    .await;
    let clip = json(&app, "/api/v1/clips", &alice).await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let drive = json(&app, "/api/v1/drives", &alice).await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for token in [&bob, &bob_car] {
        for (method, path) in [
            (reqwest::Method::GET, format!("/api/v1/clips/{clip}")),
            (reqwest::Method::GET, format!("/api/v1/drives/{drive}")),
            (reqwest::Method::DELETE, format!("/api/v1/clips/{clip}")),
            (reqwest::Method::DELETE, format!("/api/v1/drives/{drive}")),
            (reqwest::Method::GET, "/api/v1/clips/not-a-uuid".to_owned()),
        ] {
            assert_eq!(
                status(&app, method.clone(), &path, token).await,
                404,
                "{method} {path}"
            );
        }
        for list in [
            "/api/v1/clips",
            "/api/v1/drives",
            "/api/v1/tombstones",
            "/api/v1/clips?type=collision",
        ] {
            let page = json(&app, list, token).await;
            assert_eq!(page["items"], json_value!([]), "{list}");
        }
    }
    let unknown = uuid::Uuid::now_v7();
    assert_eq!(
        status(
            &app,
            reqwest::Method::DELETE,
            &format!("/api/v1/clips/{unknown}"),
            &alice
        )
        .await,
        404
    );
    assert_eq!(
        json(&app, "/api/v1/clips", &alice).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        status(
            &app,
            reqwest::Method::DELETE,
            &format!("/api/v1/clips/{clip}"),
            &alice
        )
        .await,
        204
    );
    assert_eq!(
        status(
            &app,
            reqwest::Method::DELETE,
            &format!("/api/v1/clips/{clip}"),
            &bob
        )
        .await,
        404,
        "another user's deleted clip is as unknown as any"
    );
    assert_eq!(
        json(&app, "/api/v1/tombstones", &bob).await["items"],
        json_value!([])
    );
    assert_eq!(
        json(&app, "/api/v1/tombstones", &alice).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// A ride keeps the incident of a clip deleted from it: in its list item and on its
/// timeline.
async fn a_ride_keeps_the_incident_of_a_deleted_clip(app: TestApp) {
    let session = app.sign_in("+14155550100").await;
    let (_, token) = device(&app, &session, "car").await;
    upload(
        &app,
        &token,
        &video("ride", 0),
        &metadata(&[("kind", "recording"), ("start", "2026-11-20T07:00:00Z")]),
    )
    .await;
    upload(
        &app,
        &token,
        &video("brake", 0),
        &clip_meta(
            "2026-11-20T07:00:01Z",
            "road",
            &[("hard_brake", "2026-11-20T07:00:02Z")],
        ),
    )
    .await;
    let clip = json(&app, "/api/v1/clips", &session).await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let seen = |drives: Value| {
        let drive = drives["items"][0].clone();
        (
            drive["id"].as_str().unwrap().to_owned(),
            drive["incidents"].clone(),
        )
    };
    let (drive, before) = seen(json(&app, "/api/v1/drives", &session).await);
    let incident =
        json_value!([{"type": "hard_brake", "at": "2026-11-20T07:00:02Z", "severity": 0.7}]);
    assert_eq!(before, incident);
    let path = format!("/api/v1/clips/{clip}");
    assert_eq!(
        status(&app, reqwest::Method::DELETE, &path, &session).await,
        204
    );
    let (_, after) = seen(json(&app, "/api/v1/drives", &session).await);
    assert_eq!(after, incident, "the ride keeps it");
    let detail = json(&app, &format!("/api/v1/drives/{drive}"), &session).await;
    assert_eq!(detail["clips"], json_value!([]));
    assert_eq!(detail["markers"].as_array().unwrap().len(), 1, "{detail}");
    assert_eq!(detail["markers"][0]["type"], "hard_brake");
}

both_engines!(
    a_ride_keeps_the_incident_of_a_deleted_clip,
    clips_list_with_filters_and_cursors,
    details_carry_telemetry,
    other_users_ids_are_not_found,
);
