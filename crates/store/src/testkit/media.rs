//! Suite cases for [`MediaRepo`](crate::MediaRepo): drives made of nearby recordings,
//! clips and sidecars attached to drives, idempotence by SHA-256, newest-first listing,
//! ownership.

use super::uploads::owner_with_device;
use super::{at, MINUTE};
use crate::model::{
    ClipKind, Clock, Incident, Keyframe, NewClip, NewRecording, RecordingKind, Sidecar,
    StoredObject, TelemetrySummary, VideoFile, View,
};
use crate::Repo;
use std::sync::Arc;
use uuid::Uuid;

/// Five minutes: recordings of one device at most this far apart are one drive.
const GAP: u64 = 5 * 60_000;

pub(super) fn file(sha: &str, start_ms: i64, duration_ms: u64) -> VideoFile {
    VideoFile {
        blob_key: format!("media/{sha}"),
        size: 1000,
        sha256: sha.repeat(64 / sha.len().max(1)),
        start: at(start_ms),
        duration_ms,
        codec: "avc1".into(),
        width: 320,
        height: 240,
        keyframes: vec![
            Keyframe { ms: 0, offset: 48 },
            Keyframe {
                ms: 1000,
                offset: 900,
            },
        ],
        telemetry: TelemetrySummary {
            gps_fixes: 2,
            accel_samples: 0,
            max_speed: Some(12.5),
            first_fix: Some([48.1, 11.5]),
            last_fix: Some([48.2, 11.6]),
            skipped: 0,
        },
        filename: Some("20260101_080000_NF.mp4".into()),
        clock: Clock::Camera,
        span_ms: None,
        original_size: None,
    }
}

pub(super) fn recording(user: Uuid, device: Uuid, view: View, file: VideoFile) -> NewRecording {
    NewRecording {
        id: Uuid::now_v7(),
        user_id: user,
        device_id: device,
        kind: RecordingKind::Recording,
        view,
        file,
        drive_gap_ms: GAP,
        created_at: at(0),
    }
}

/// Recordings within the gap form one drive (its window and views grow); a recording an
/// hour later starts a new one; drives list newest first, only for their owner.
pub async fn nearby_recordings_make_one_drive(repo: Arc<dyn Repo>) {
    let (alice, device) = owner_with_device(&repo, "+14155550100").await;
    let (bob, _) = owner_with_device(&repo, "+14155550101").await;
    let first = repo
        .add_recording(&recording(
            alice.id,
            device,
            View::Road,
            file("a", 0, 60_000),
        ))
        .await
        .expect("add");
    let cabin = repo
        .add_recording(&recording(
            alice.id,
            device,
            View::Cabin,
            file("b", MINUTE, 60_000),
        ))
        .await
        .expect("add");
    let later = repo
        .add_recording(&recording(
            alice.id,
            device,
            View::Road,
            file("c", 60 * MINUTE, 30_000),
        ))
        .await
        .expect("add");
    assert_eq!(first.drive_id, cabin.drive_id);
    assert_ne!(first.drive_id, later.drive_id);
    let drives = repo.drives(alice.id, 10).await.expect("drives");
    assert_eq!(drives.len(), 2);
    assert_eq!(drives[0].id, later.drive_id);
    assert_eq!(drives[1].id, first.drive_id);
    assert_eq!((drives[1].start, drives[1].end), (at(0), at(2 * MINUTE)));
    assert_eq!(drives[1].views, vec![View::Road, View::Cabin]);
    assert_eq!(drives[0].views, vec![View::Road]);
    let members = repo
        .drive_recordings(alice.id, first.drive_id)
        .await
        .expect("members");
    assert_eq!(members, vec![first.clone(), cabin]);
    assert_eq!(
        repo.recording(alice.id, first.id).await.expect("get"),
        Some(first.clone())
    );
    assert_eq!(repo.recording(bob.id, first.id).await.expect("get"), None);
    assert!(repo.drives(bob.id, 10).await.expect("drives").is_empty());
    assert!(repo
        .drive_recordings(bob.id, first.drive_id)
        .await
        .expect("members")
        .is_empty());
}

/// A file's clock, wall-clock span and original size are kept; a 30x time-lapse's drive
/// lasts its span, not its playing time; the sibling to rebuild a cut-off recording with
/// is the same device's and view's recording nearest in time, never a time-lapse, a
/// rebuilt one or another owner's.
pub async fn file_timing_and_the_nearest_sibling(repo: Arc<dyn Repo>) {
    let (alice, device) = owner_with_device(&repo, "+14155550100").await;
    let (bob, bob_device) = owner_with_device(&repo, "+14155550101").await;
    let mut lapse = file("t", 0, 60_000);
    lapse.clock = Clock::Gps;
    lapse.span_ms = Some(30 * 60_000);
    let mut lapse = recording(alice.id, device, View::Road, lapse);
    lapse.kind = RecordingKind::Timelapse;
    let lapse = repo.add_recording(&lapse).await.expect("add");
    assert_eq!(lapse.file.clock, Clock::Gps);
    assert_eq!(lapse.file.span_ms, Some(30 * 60_000));
    assert_eq!(lapse.file.speed(), 30.0);
    let drive = repo.drive(alice.id, lapse.drive_id).await.expect("drive");
    assert_eq!(drive.map(|d| d.end), Some(at(30 * MINUTE)));
    let mut rebuilt = file("r", 2 * MINUTE, 40_000);
    rebuilt.original_size = Some(700);
    let rebuilt = repo
        .add_recording(&recording(alice.id, device, View::Road, rebuilt))
        .await
        .expect("add");
    assert!(rebuilt.file.recovered());
    assert_eq!(rebuilt.drive_id, lapse.drive_id);
    for (sha, start, view) in [
        ("a", 0, View::Road),
        ("b", 5 * MINUTE, View::Road),
        ("c", 2 * MINUTE, View::Cabin),
    ] {
        repo.add_recording(&recording(alice.id, device, view, file(sha, start, 60_000)))
            .await
            .expect("add");
    }
    let nearest = |user, device, view, minute| {
        let repo = repo.clone();
        async move {
            repo.nearest_recording(user, device, view, at(minute * MINUTE))
                .await
                .expect("nearest")
                .map(|r| r.file.blob_key)
        }
    };
    assert_eq!(
        nearest(alice.id, device, View::Road, 2).await.as_deref(),
        Some("media/a")
    );
    assert_eq!(
        nearest(alice.id, device, View::Road, 4).await.as_deref(),
        Some("media/b")
    );
    assert_eq!(
        nearest(alice.id, device, View::Cabin, 0).await.as_deref(),
        Some("media/c")
    );
    assert_eq!(nearest(bob.id, bob_device, View::Road, 2).await, None);
    assert_eq!(nearest(bob.id, device, View::Road, 2).await, None);
}

/// The same file (owner and SHA-256) added twice is one recording; another owner may
/// store the same bytes as their own.
pub async fn same_file_is_one_object(repo: Arc<dyn Repo>) {
    let (alice, device) = owner_with_device(&repo, "+14155550100").await;
    let (bob, bob_device) = owner_with_device(&repo, "+14155550101").await;
    let once = repo
        .add_recording(&recording(
            alice.id,
            device,
            View::Road,
            file("d", 0, 60_000),
        ))
        .await
        .expect("add");
    let twice = repo
        .add_recording(&recording(
            alice.id,
            device,
            View::Road,
            file("d", 0, 60_000),
        ))
        .await
        .expect("add again");
    assert_eq!(once, twice);
    let sha = once.file.sha256.clone();
    assert_eq!(
        repo.object_by_sha256(alice.id, &sha).await.expect("by sha"),
        Some(StoredObject::Recording(once.id))
    );
    assert_eq!(
        repo.object_by_sha256(bob.id, &sha).await.expect("by sha"),
        None
    );
    let bobs = repo
        .add_recording(&recording(
            bob.id,
            bob_device,
            View::Road,
            file("d", 0, 60_000),
        ))
        .await
        .expect("bob's own");
    assert_ne!(bobs.id, once.id);
    assert_eq!(repo.drives(alice.id, 10).await.expect("drives").len(), 1);
    assert_eq!(repo.used_bytes(alice.id).await.expect("used"), 1000);
}

/// Clips keep their kind and incidents, list newest first, attach to the drive covering
/// their start, are one object per file, and are seen only by their owner.
pub async fn clips_keep_incidents_and_attach_to_drives(repo: Arc<dyn Repo>) {
    let (alice, device) = owner_with_device(&repo, "+14155550100").await;
    let (bob, _) = owner_with_device(&repo, "+14155550101").await;
    let drive = repo
        .add_recording(&recording(
            alice.id,
            device,
            View::Road,
            file("e", 0, 60_000),
        ))
        .await
        .expect("add");
    let incidents = vec![Incident {
        kind: "hard_brake".into(),
        at: at(20_000),
        severity: 0.75,
    }];
    let new_clip = |sha: &str, start: i64, kind: ClipKind| NewClip {
        id: Uuid::now_v7(),
        user_id: alice.id,
        device_id: device,
        kind,
        view: View::Road,
        incidents: incidents.clone(),
        file: file(sha, start, 40_000),
        created_at: at(0),
    };
    let inside = repo
        .add_clip(&new_clip("f", 10_000, ClipKind::Auto))
        .await
        .expect("clip");
    let outside = repo
        .add_clip(&new_clip("1", 30 * MINUTE, ClipKind::Manual))
        .await
        .expect("clip");
    assert_eq!(inside.drive_id, Some(drive.drive_id));
    assert_eq!(inside.incidents, incidents);
    assert_eq!(inside.kind, ClipKind::Auto);
    assert_eq!(outside.drive_id, None);
    let again = repo
        .add_clip(&new_clip("f", 10_000, ClipKind::Auto))
        .await
        .expect("clip again");
    assert_eq!(again, inside);
    assert_eq!(
        repo.clips(alice.id, 10).await.expect("clips"),
        vec![outside, inside.clone()]
    );
    assert_eq!(
        repo.clip(alice.id, inside.id).await.expect("clip"),
        Some(inside.clone())
    );
    assert_eq!(repo.clip(bob.id, inside.id).await.expect("clip"), None);
    assert!(repo.clips(bob.id, 10).await.expect("clips").is_empty());
}

/// A sidecar is kept once per file and attached to the drive covering its start.
pub async fn sidecars_attach_to_drives(repo: Arc<dyn Repo>) {
    let (alice, device) = owner_with_device(&repo, "+14155550100").await;
    let drive = repo
        .add_recording(&recording(
            alice.id,
            device,
            View::Road,
            file("2", 0, 60_000),
        ))
        .await
        .expect("add");
    let sidecar = Sidecar {
        id: Uuid::now_v7(),
        user_id: alice.id,
        device_id: device,
        drive_id: None,
        start: at(0),
        blob_key: "media/sidecar".into(),
        size: 77,
        sha256: "3".repeat(64),
        telemetry: TelemetrySummary::default(),
        filename: Some("20260101_080000_N.gps".into()),
        created_at: at(0),
    };
    let stored = repo.add_sidecar(&sidecar).await.expect("sidecar");
    assert_eq!(stored.drive_id, Some(drive.drive_id));
    let again = repo
        .add_sidecar(&Sidecar {
            id: Uuid::now_v7(),
            ..sidecar.clone()
        })
        .await
        .expect("again");
    assert_eq!(again, stored);
    assert_eq!(
        repo.sidecar(alice.id, sidecar.id).await.expect("get"),
        Some(stored)
    );
    assert_eq!(
        repo.object_by_sha256(alice.id, &sidecar.sha256)
            .await
            .expect("by sha"),
        Some(StoredObject::Sidecar(sidecar.id))
    );
}
