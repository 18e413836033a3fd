//! Suite cases for [`LibraryRepo`](crate::LibraryRepo): filtered keyset listings of
//! clips and drives, deletion in one step with a tombstone and a `delete_blobs` job,
//! the deletion log, and ownership everywhere.

use super::media::{file, recording};
use super::uploads::owner_with_device;
use super::{at, HOUR, MINUTE};
use crate::model::{
    Clip, ClipKind, Cursor, DeleteBlobs, Deletion, Incident, IncidentKind, JobState, LibraryFilter,
    NewClip, NewDevice, PageRequest, Sidecar, TelemetrySummary, TombstoneKind, View,
    DELETE_BLOBS_JOB,
};
use crate::Repo;
use std::sync::Arc;
use uuid::Uuid;

/// A clip of `device` starting at `start_ms` with incidents of `types`.
fn clip(user: Uuid, device: Uuid, sha: &str, start_ms: i64, view: View, types: &[&str]) -> NewClip {
    NewClip {
        id: Uuid::now_v7(),
        user_id: user,
        device_id: device,
        kind: ClipKind::Auto,
        view,
        incidents: types
            .iter()
            .map(|t| Incident {
                kind: (*t).to_owned(),
                at: at(start_ms + 5_000),
                severity: 0.5,
            })
            .collect(),
        file: file(sha, start_ms, 20_000),
        created_at: at(0),
    }
}

/// A second device of `user`.
async fn second_device(repo: &Arc<dyn Repo>, user: Uuid) -> Uuid {
    let device = NewDevice {
        id: Uuid::new_v4(),
        user_id: user,
        model: "BlackVue DR750X-1CH".into(),
        serial: format!("SN-second-{user}"),
        name: "Van".into(),
        has_cabin_camera: false,
        uploads_drives: false,
        token_hash: user.as_bytes().to_vec(),
        created_at: at(0),
    };
    repo.create_device(&device).await.expect("create_device");
    device.id
}

fn page(filter: LibraryFilter, limit: u32) -> PageRequest {
    PageRequest {
        filter,
        after: None,
        limit,
    }
}

async fn ids(repo: &Arc<dyn Repo>, user: Uuid, filter: LibraryFilter) -> Vec<Uuid> {
    repo.list_clips(user, &page(filter, 100))
        .await
        .expect("list_clips")
        .into_iter()
        .map(|c| c.id)
        .collect()
}

/// Clips list newest first; every filter narrows as documented; pages of two walk the
/// whole list exactly once even through clips starting at the same instant; another
/// user sees nothing.
pub async fn clip_listing_filters_and_pages(repo: Arc<dyn Repo>) {
    let (alice, car) = owner_with_device(&repo, "+14155550100").await;
    let (bob, _) = owner_with_device(&repo, "+14155550101").await;
    let van = second_device(&repo, alice.id).await;
    let add = |c: NewClip| {
        let repo = Arc::clone(&repo);
        async move { repo.add_clip(&c).await.expect("add_clip") }
    };
    // 08:00 day 0, 22:30 day 0, 01:00 day 1 (twice, same instant), 12:00 day 2.
    let morning = add(clip(
        alice.id,
        car,
        "a1",
        8 * HOUR,
        View::Road,
        &["hard_brake"],
    ))
    .await;
    let late = add(clip(
        alice.id,
        car,
        "a2",
        22 * HOUR + 30 * MINUTE,
        View::Cabin,
        &[],
    ))
    .await;
    let night_a = add(clip(
        alice.id,
        van,
        "a3",
        25 * HOUR,
        View::Road,
        &["collision"],
    ))
    .await;
    let night_b = add(clip(
        alice.id,
        car,
        "a4",
        25 * HOUR,
        View::Road,
        &["swerve", "hard_brake"],
    ))
    .await;
    let noon = add(clip(
        alice.id,
        van,
        "a5",
        60 * HOUR,
        View::Road,
        &["sharp_turn"],
    ))
    .await;
    let (night_hi, night_lo) = if night_a.id > night_b.id {
        (&night_a, &night_b)
    } else {
        (&night_b, &night_a)
    };
    let all = vec![noon.id, night_hi.id, night_lo.id, late.id, morning.id];
    assert_eq!(ids(&repo, alice.id, LibraryFilter::default()).await, all);
    assert!(ids(&repo, bob.id, LibraryFilter::default())
        .await
        .is_empty());

    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let request = PageRequest {
            filter: LibraryFilter::default(),
            after,
            limit: 2,
        };
        let items: Vec<Clip> = repo.list_clips(alice.id, &request).await.expect("page");
        walked.extend(items.iter().map(|c| c.id));
        match items.last() {
            Some(last) if items.len() == 2 => {
                after = Some(Cursor {
                    start: last.file.start,
                    id: last.id,
                })
            }
            _ => break,
        }
    }
    assert_eq!(walked, all, "pages walk the list once, ties broken by id");

    let types = |t: &[IncidentKind]| LibraryFilter {
        types: t.to_vec(),
        ..LibraryFilter::default()
    };
    assert_eq!(
        ids(&repo, alice.id, types(&[IncidentKind::HardBrake])).await,
        vec![night_b.id, morning.id]
    );
    assert_eq!(
        ids(
            &repo,
            alice.id,
            types(&[IncidentKind::Collision, IncidentKind::SharpTurn])
        )
        .await,
        vec![noon.id, night_a.id]
    );
    assert!(ids(&repo, alice.id, types(&[IncidentKind::SuddenStop]))
        .await
        .is_empty());
    let view = LibraryFilter {
        view: Some(View::Cabin),
        ..LibraryFilter::default()
    };
    assert_eq!(ids(&repo, alice.id, view).await, vec![late.id]);
    let device = LibraryFilter {
        device: Some(van),
        ..LibraryFilter::default()
    };
    assert_eq!(
        ids(&repo, alice.id, device).await,
        vec![noon.id, night_a.id]
    );
    let window = LibraryFilter {
        from: Some(at(22 * HOUR)),
        to: Some(at(25 * HOUR)),
        ..LibraryFilter::default()
    };
    assert_eq!(
        ids(&repo, alice.id, window).await,
        vec![late.id],
        "to is exclusive"
    );
    let evening = LibraryFilter {
        time_from_ms: Some(7 * 3_600_000),
        time_to_ms: Some(23 * 3_600_000),
        ..LibraryFilter::default()
    };
    assert_eq!(
        ids(&repo, alice.id, evening).await,
        vec![noon.id, late.id, morning.id]
    );
    let overnight = LibraryFilter {
        time_from_ms: Some(22 * 3_600_000),
        time_to_ms: Some(2 * 3_600_000),
        ..LibraryFilter::default()
    };
    assert_eq!(
        ids(&repo, alice.id, overnight).await,
        vec![night_hi.id, night_lo.id, late.id],
        "a window past midnight wraps"
    );
    let archived = |a: bool| LibraryFilter {
        archived: Some(a),
        ..LibraryFilter::default()
    };
    assert!(ids(&repo, alice.id, archived(true)).await.is_empty());
    assert_eq!(ids(&repo, alice.id, archived(false)).await.len(), 5);
}

/// Drives list newest first with their filters; the clips of a page of drives are the
/// clips their windows cover; a drive is found only by its owner.
pub async fn drive_listing_filters_and_clips(repo: Arc<dyn Repo>) {
    let (alice, car) = owner_with_device(&repo, "+14155550100").await;
    let (bob, _) = owner_with_device(&repo, "+14155550101").await;
    let add = |view, sha: &'static str, start| {
        let repo = Arc::clone(&repo);
        async move {
            repo.add_recording(&recording(alice.id, car, view, file(sha, start, 60_000)))
                .await
                .expect("add_recording")
        }
    };
    let first = add(View::Road, "b1", 0).await;
    add(View::Cabin, "b2", MINUTE).await;
    let second = add(View::Road, "b3", 10 * HOUR).await;
    let inside = repo
        .add_clip(&clip(
            alice.id,
            car,
            "b4",
            30_000,
            View::Road,
            &["collision"],
        ))
        .await
        .expect("clip");
    repo.add_clip(&clip(
        alice.id,
        car,
        "b5",
        5 * HOUR,
        View::Road,
        &["collision"],
    ))
    .await
    .expect("clip outside drives");
    let list = |filter| {
        let repo = Arc::clone(&repo);
        async move {
            repo.list_drives(alice.id, &page(filter, 50))
                .await
                .expect("list_drives")
                .into_iter()
                .map(|d| d.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(LibraryFilter::default()).await,
        vec![second.drive_id, first.drive_id]
    );
    let cabin = LibraryFilter {
        view: Some(View::Cabin),
        ..LibraryFilter::default()
    };
    assert_eq!(list(cabin).await, vec![first.drive_id]);
    let collisions = LibraryFilter {
        types: vec![IncidentKind::Collision],
        ..LibraryFilter::default()
    };
    assert_eq!(list(collisions).await, vec![first.drive_id]);
    let archived = |a| LibraryFilter {
        archived: Some(a),
        ..LibraryFilter::default()
    };
    assert!(list(archived(true)).await.is_empty());
    assert_eq!(list(archived(false)).await.len(), 2);

    let drive = repo
        .drive(alice.id, first.drive_id)
        .await
        .expect("drive")
        .expect("alice's drive");
    assert_eq!(drive.views, vec![View::Road, View::Cabin]);
    assert!(!drive.archived);
    assert_eq!(drive.restored_until, None);
    assert_eq!(
        repo.drive(bob.id, first.drive_id).await.expect("drive"),
        None
    );
    let drives = repo
        .list_drives(alice.id, &page(LibraryFilter::default(), 50))
        .await
        .expect("drives");
    let covered = repo
        .clips_of_drives(alice.id, &drives)
        .await
        .expect("clips_of_drives");
    assert_eq!(
        covered.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![inside.id]
    );
    assert_eq!(
        covered.first().and_then(|c| c.drive_id),
        Some(first.drive_id)
    );
    assert!(repo
        .clips_of_drives(bob.id, &drives)
        .await
        .expect("bob")
        .is_empty());
    assert!(repo
        .clips_of_drives(alice.id, &[])
        .await
        .expect("none")
        .is_empty());
}

fn sidecar(user: Uuid, device: Uuid, sha: &str, start_ms: i64) -> Sidecar {
    Sidecar {
        id: Uuid::now_v7(),
        user_id: user,
        device_id: device,
        drive_id: None,
        start: at(start_ms),
        blob_key: format!("media/{sha}"),
        size: 10,
        sha256: sha.repeat(32),
        telemetry: TelemetrySummary::default(),
        filename: Some("20260101_080000_N.gps".into()),
        created_at: at(0),
    }
}

/// The blob keys queued by the job a deletion enqueued.
async fn queued_keys(repo: &Arc<dyn Repo>) -> Vec<Vec<String>> {
    repo.list_jobs(&[JobState::Queued], 100)
        .await
        .expect("jobs")
        .into_iter()
        .filter(|j| j.kind == DELETE_BLOBS_JOB)
        .map(|j| {
            serde_json::from_value::<DeleteBlobs>(j.payload)
                .expect("payload")
                .keys
        })
        .collect()
}

/// Deleting a clip removes it, writes its tombstone and queues its blob's removal in
/// one step; deleting it again gives the tombstone; another user's or an unknown id is
/// not found and changes nothing.
pub async fn deleting_a_clip_leaves_a_tombstone_and_a_job(repo: Arc<dyn Repo>) {
    let (alice, car) = owner_with_device(&repo, "+14155550100").await;
    let (bob, _) = owner_with_device(&repo, "+14155550101").await;
    let kept = repo
        .add_clip(&clip(alice.id, car, "c1", 0, View::Road, &[]))
        .await
        .expect("clip");
    let doomed = repo
        .add_clip(&clip(alice.id, car, "c2", MINUTE, View::Road, &[]))
        .await
        .expect("clip");
    assert_eq!(
        repo.delete_clip(bob.id, doomed.id, at(HOUR))
            .await
            .expect("bob"),
        Deletion::NotFound
    );
    assert_eq!(
        repo.delete_clip(alice.id, Uuid::now_v7(), at(HOUR))
            .await
            .expect("unknown"),
        Deletion::NotFound
    );
    assert!(queued_keys(&repo).await.is_empty());
    assert!(repo.blob_key_in_use("media/c2").await.expect("in use"));

    let Deletion::Deleted {
        tombstone,
        blob_keys,
    } = repo
        .delete_clip(alice.id, doomed.id, at(HOUR))
        .await
        .expect("delete")
    else {
        panic!("the clip should have been deleted");
    };
    assert_eq!(blob_keys, vec!["media/c2".to_owned()]);
    assert_eq!(tombstone.kind, TombstoneKind::Clip);
    assert_eq!(tombstone.id, doomed.id);
    assert_eq!(tombstone.user_id, alice.id);
    assert_eq!(tombstone.sha256, vec![doomed.file.sha256.clone()]);
    assert_eq!(tombstone.deleted_at, at(HOUR));
    assert_eq!(queued_keys(&repo).await, vec![vec!["media/c2".to_owned()]]);
    assert_eq!(repo.clip(alice.id, doomed.id).await.expect("clip"), None);
    assert!(!repo.blob_key_in_use("media/c2").await.expect("in use"));
    assert!(!repo
        .content_in_use(&doomed.file.sha256)
        .await
        .expect("content"));
    assert!(repo
        .content_in_use(&kept.file.sha256)
        .await
        .expect("content"));
    let payloads = repo.list_jobs(&[JobState::Queued], 10).await.expect("jobs");
    let payload: Vec<DeleteBlobs> = payloads
        .into_iter()
        .filter_map(|j| serde_json::from_value(j.payload).ok())
        .collect();
    assert_eq!(
        payload,
        vec![DeleteBlobs {
            keys: vec!["media/c2".into()],
            sha256: vec![doomed.file.sha256.clone()],
        }]
    );
    assert!(repo.blob_key_in_use("media/c1").await.expect("in use"));
    assert_eq!(
        repo.delete_clip(alice.id, doomed.id, at(2 * HOUR))
            .await
            .expect("again"),
        Deletion::AlreadyDeleted(tombstone.clone())
    );
    assert_eq!(
        repo.delete_clip(bob.id, doomed.id, at(2 * HOUR))
            .await
            .expect("bob again"),
        Deletion::NotFound
    );
    assert_eq!(queued_keys(&repo).await.len(), 1, "nothing queued twice");
    assert_eq!(
        repo.clip(alice.id, kept.id)
            .await
            .expect("kept")
            .map(|c| c.id),
        Some(kept.id)
    );
    assert_eq!(
        repo.tombstones(alice.id, 0, 10).await.expect("tombstones"),
        vec![tombstone]
    );
    assert!(repo
        .tombstones(bob.id, 0, 10)
        .await
        .expect("bob")
        .is_empty());
}

/// Deleting a drive removes its recordings and the sidecars it covers, keeps its clips
/// (without a drive now), and records every removed file's SHA-256 in one tombstone;
/// tombstones page by seq.
pub async fn deleting_a_drive_keeps_its_clips(repo: Arc<dyn Repo>) {
    let (alice, car) = owner_with_device(&repo, "+14155550100").await;
    let (bob, _) = owner_with_device(&repo, "+14155550101").await;
    let road = repo
        .add_recording(&recording(alice.id, car, View::Road, file("d1", 0, 60_000)))
        .await
        .expect("road");
    let cabin = repo
        .add_recording(&recording(
            alice.id,
            car,
            View::Cabin,
            file("d2", 0, 60_000),
        ))
        .await
        .expect("cabin");
    let gps = repo
        .add_sidecar(&sidecar(alice.id, car, "d3", 0))
        .await
        .expect("sidecar");
    let later_gps = repo
        .add_sidecar(&sidecar(alice.id, car, "d4", 3 * HOUR))
        .await
        .expect("sidecar outside");
    let kept = repo
        .add_clip(&clip(
            alice.id,
            car,
            "d5",
            10_000,
            View::Road,
            &["hard_brake"],
        ))
        .await
        .expect("clip");
    assert_eq!(kept.drive_id, Some(road.drive_id));
    assert_eq!(
        repo.sidecars_between(alice.id, car, at(0), at(HOUR))
            .await
            .expect("sidecars")
            .into_iter()
            .map(|s| s.id)
            .collect::<Vec<_>>(),
        vec![gps.id]
    );
    assert!(repo
        .sidecars_between(bob.id, car, at(0), at(HOUR))
        .await
        .expect("bob")
        .is_empty());
    assert_eq!(
        repo.delete_drive(bob.id, road.drive_id, at(HOUR))
            .await
            .expect("bob"),
        Deletion::NotFound
    );

    let Deletion::Deleted {
        tombstone,
        mut blob_keys,
    } = repo
        .delete_drive(alice.id, road.drive_id, at(HOUR))
        .await
        .expect("delete")
    else {
        panic!("the drive should have been deleted");
    };
    blob_keys.sort();
    assert_eq!(blob_keys, ["media/d1", "media/d2", "media/d3"]);
    let mut shas = tombstone.sha256.clone();
    shas.sort();
    assert_eq!(shas, [road.file.sha256, cabin.file.sha256, gps.sha256]);
    assert_eq!(tombstone.kind, TombstoneKind::Drive);
    assert_eq!(
        repo.drive(alice.id, road.drive_id).await.expect("drive"),
        None
    );
    assert_eq!(repo.recording(alice.id, road.id).await.expect("rec"), None);
    assert_eq!(repo.sidecar(alice.id, gps.id).await.expect("sidecar"), None);
    assert!(repo
        .sidecar(alice.id, later_gps.id)
        .await
        .expect("kept")
        .is_some());
    let clip = repo
        .clip(alice.id, kept.id)
        .await
        .expect("clip")
        .expect("kept");
    assert_eq!(clip.drive_id, None, "the clip stays, without its drive");
    assert_eq!(
        repo.delete_drive(alice.id, road.drive_id, at(2 * HOUR))
            .await
            .expect("again"),
        Deletion::AlreadyDeleted(tombstone.clone())
    );

    let Deletion::Deleted {
        tombstone: second, ..
    } = repo
        .delete_clip(alice.id, kept.id, at(3 * HOUR))
        .await
        .expect("clip")
    else {
        panic!("the clip should have been deleted");
    };
    assert!(second.seq > tombstone.seq);
    assert_eq!(
        repo.tombstones(alice.id, 0, 1).await.expect("first page"),
        vec![tombstone.clone()]
    );
    assert_eq!(
        repo.tombstones(alice.id, tombstone.seq, 10)
            .await
            .expect("after"),
        vec![second]
    );
}

/// A ride keeps the incidents of its clips after they are deleted: each incident once
/// (two overlapping clips filed with the same one give one), only the owner's, only its
/// device's and window's.
pub async fn a_rides_incidents_outlive_its_clips(repo: Arc<dyn Repo>) {
    let (alice, car) = owner_with_device(&repo, "+14155550100").await;
    let (bob, bobs_car) = owner_with_device(&repo, "+14155550101").await;
    let van = second_device(&repo, alice.id).await;
    let road = repo
        .add_recording(&recording(alice.id, car, View::Road, file("i1", 0, 60_000)))
        .await
        .expect("road");
    let drive = repo
        .drive(alice.id, road.drive_id)
        .await
        .expect("drive")
        .expect("alice's drive");
    let brake = repo
        .add_clip(&clip(
            alice.id,
            car,
            "i2",
            10_000,
            View::Road,
            &["hard_brake", "swerve"],
        ))
        .await
        .expect("clip");
    // The same brake in an overlapping cabin clip, and incidents elsewhere.
    repo.add_clip(&clip(
        alice.id,
        car,
        "i3",
        10_000,
        View::Cabin,
        &["hard_brake"],
    ))
    .await
    .expect("cabin clip");
    for (user, device, sha, start) in [
        (alice.id, car, "i4", 2 * HOUR),
        (alice.id, van, "i5", 10_000),
        (bob.id, bobs_car, "i6", 10_000),
    ] {
        repo.add_clip(&clip(user, device, sha, start, View::Road, &["collision"]))
            .await
            .expect("other clip");
    }
    let kinds = |incidents: Vec<crate::model::DeviceIncident>| -> Vec<(Uuid, String, i64)> {
        incidents
            .into_iter()
            .map(|i| {
                (
                    i.device_id,
                    i.incident.kind,
                    (i.incident.at - at(0)).num_milliseconds(),
                )
            })
            .collect()
    };
    let expected = vec![
        (car, "hard_brake".to_owned(), 15_000),
        (car, "swerve".to_owned(), 15_000),
    ];
    let before = repo
        .incidents_of_drives(alice.id, std::slice::from_ref(&drive))
        .await
        .expect("incidents");
    assert_eq!(kinds(before), expected);
    assert!(matches!(
        repo.delete_clip(alice.id, brake.id, at(HOUR))
            .await
            .expect("delete"),
        Deletion::Deleted { .. }
    ));
    let after = repo
        .incidents_of_drives(alice.id, std::slice::from_ref(&drive))
        .await
        .expect("incidents");
    assert_eq!(kinds(after), expected);
    assert!(repo
        .incidents_of_drives(bob.id, std::slice::from_ref(&drive))
        .await
        .expect("bob")
        .is_empty());
    assert!(repo
        .incidents_of_drives(alice.id, &[])
        .await
        .expect("none")
        .is_empty());
}
