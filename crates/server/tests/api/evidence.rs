//! Evidence over the API on both engines: a filed clip and its deletion are in the
//! ledger (one chain), the same file uploaded again adds nothing; the bundle, activity and
//! route of a clip answer `404` to another user; the evidence key is public; a clip's
//! activity pages by cursor and its entries go with the clip.

use crate::both_engines;
use crate::helpers::TestApp;
use crate::streaming::{clip_metadata, upload_clip};
use crate::tus::{json, video};
use dashvault_store::model::{LedgerAction, LedgerEntry};
use dashvault_store::testkit::evidence::assert_one_chain;
use serde_json::Value;

/// Every entry of the app's ledger.
async fn ledger(app: &TestApp) -> Vec<LedgerEntry> {
    app.state.repo.ledger_entries(0, 1000).await.unwrap()
}

async fn ledger_follows_filing_and_deletion(app: TestApp) {
    let owner = app.sign_in("+14155550100").await;
    let bytes = video("ledgered", 0);
    let clip = upload_clip(&app, &owner, &bytes, &clip_metadata()).await;
    let filed = ledger(&app).await;
    assert_eq!(filed.len(), 1);
    assert_eq!(filed[0].record.action, LedgerAction::Store);
    assert_eq!(filed[0].record.file.kind, "clip");
    assert_eq!(filed[0].record.file.object_id.to_string(), clip);
    assert_eq!(filed[0].record.file.size, bytes.len() as u64);
    upload_clip(&app, &owner, &bytes, &clip_metadata()).await;
    assert_eq!(
        ledger(&app).await.len(),
        1,
        "the same file again is one object"
    );
    let deleted = app
        .http
        .delete(app.url(&format!("/api/v1/clips/{clip}")))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let all = ledger(&app).await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].record.action, LedgerAction::Delete);
    assert_eq!(all[1].record.file, filed[0].record.file);
    assert_one_chain(&all);
}

async fn evidence_is_the_owners_and_the_key_is_public(app: TestApp) {
    let owner = app.sign_in("+14155550100").await;
    let other = app.sign_in("+14155550101").await;
    let clip = upload_clip(&app, &owner, &video("evidence", 1), &clip_metadata()).await;
    for path in ["evidence", "activity", "route.gpx"] {
        let path = format!("/api/v1/clips/{clip}/{path}");
        let answer = app.get_with(&path, &other).await;
        assert_eq!(answer.status(), 404, "{path}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }
    let key: Value = app
        .http
        .get(app.url("/api/v1/evidence/key"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(key["algorithm"], "ed25519");
    assert_eq!(key["public_key"], app.state.evidence.public_base64());

    let bundle = app
        .get_with(&format!("/api/v1/clips/{clip}/evidence"), &owner)
        .await;
    assert_eq!(bundle.status(), 200);
    let length: usize = bundle.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(bundle.bytes().await.unwrap().len(), length);
    // Two requests from the start 10 s apart are one viewing; a minute later, another.
    for wait in [0, 10, 60] {
        app.clock.advance(chrono::Duration::seconds(wait));
        let played = app
            .get_with(&format!("/api/v1/clips/{clip}/video"), &owner)
            .await;
        assert_eq!(played.status(), 200);
    }
    let page = json(
        &app,
        &format!("/api/v1/clips/{clip}/activity?limit=2"),
        &owner,
    )
    .await;
    let actions: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["play", "play"]);
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let rest = json(
        &app,
        &format!("/api/v1/clips/{clip}/activity?limit=2&cursor={cursor}"),
        &owner,
    )
    .await;
    assert_eq!(rest["items"][0]["action"], "evidence_export");
    assert_eq!(rest["items"][0]["via"], "session");
    assert_eq!(rest["next_cursor"], Value::Null);
    let bad = app
        .get_with(&format!("/api/v1/clips/{clip}/activity?limit=0"), &owner)
        .await;
    assert_eq!(bad.status(), 400);
}

both_engines!(
    ledger_follows_filing_and_deletion,
    evidence_is_the_owners_and_the_key_is_public
);
