//! Suite cases for [`DeviceRepo`](crate::DeviceRepo): ownership scoping and device tokens.

use super::at;
use crate::model::{Device, NewDevice, User};
use crate::Repo;
use std::sync::Arc;
use uuid::Uuid;

async fn user(repo: &Arc<dyn Repo>, phone: &str) -> User {
    repo.find_or_create_user(phone, at(0))
        .await
        .expect("find_or_create_user")
}

/// A two-camera device of `user_id` with token hash `token_hash`, registered at `at(ms)`.
fn new_device(user_id: Uuid, token_hash: &[u8], ms: i64) -> NewDevice {
    NewDevice {
        id: Uuid::new_v4(),
        user_id,
        model: "BlackVue DR900X-2CH".into(),
        serial: format!("DR900X-{ms}"),
        name: "Family car".into(),
        has_cabin_camera: true,
        uploads_drives: false,
        token_hash: token_hash.into(),
        created_at: at(ms),
    }
}

async fn create(repo: &Arc<dyn Repo>, device: &NewDevice) -> Device {
    repo.create_device(device).await.expect("create_device")
}

/// A created device reads back as registered; a user's devices list oldest first.
pub async fn devices_read_back_oldest_first(repo: Arc<dyn Repo>) {
    let owner = user(&repo, "+14155550100").await;
    let mut later = new_device(owner.id, b"token-a", 10);
    later.has_cabin_camera = false;
    later.uploads_drives = true;
    let earlier = new_device(owner.id, b"token-b", 5);
    let later_device = create(&repo, &later).await;
    let earlier_device = create(&repo, &earlier).await;
    assert_eq!(
        later_device,
        Device {
            id: later.id,
            user_id: owner.id,
            model: later.model.clone(),
            serial: later.serial.clone(),
            name: later.name.clone(),
            has_cabin_camera: false,
            uploads_drives: true,
            created_at: at(10),
            timezone: None,
            last_seen_at: None,
            uploads_waiting: None,
        }
    );
    assert_eq!(
        repo.devices(owner.id).await.expect("devices"),
        vec![earlier_device.clone(), later_device.clone()]
    );
    assert_eq!(
        repo.device(owner.id, later.id).await.expect("device"),
        Some(later_device)
    );
    assert_eq!(
        repo.device(owner.id, Uuid::new_v4()).await.expect("device"),
        None
    );
    let renamed = repo
        .rename_device(owner.id, earlier.id, "Van")
        .await
        .expect("rename")
        .expect("own device");
    assert_eq!(
        renamed,
        Device {
            name: "Van".into(),
            ..earlier_device
        }
    );
    assert_eq!(
        repo.device(owner.id, earlier.id).await.expect("device"),
        Some(renamed)
    );
    assert_eq!(
        repo.rename_device(owner.id, Uuid::new_v4(), "X")
            .await
            .expect("rename"),
        None
    );
}

/// Another user can neither see nor change nor delete a device, nor replace its token.
pub async fn devices_are_scoped_by_owner(repo: Arc<dyn Repo>) {
    let owner = user(&repo, "+14155550100").await;
    let stranger = user(&repo, "+14155550199").await;
    let device = create(&repo, &new_device(owner.id, b"token", 0)).await;

    assert_eq!(repo.devices(stranger.id).await.expect("devices"), vec![]);
    assert_eq!(
        repo.device(stranger.id, device.id).await.expect("device"),
        None
    );
    assert_eq!(
        repo.rename_device(stranger.id, device.id, "Mine")
            .await
            .expect("rename"),
        None
    );
    assert!(!repo
        .replace_device_token(stranger.id, device.id, b"x")
        .await
        .expect("replace"));
    assert!(!repo
        .delete_device(stranger.id, device.id)
        .await
        .expect("delete"));

    assert_eq!(
        repo.device(owner.id, device.id).await.expect("device"),
        Some(device.clone())
    );
    assert_eq!(
        repo.device_by_token(b"token").await.expect("by token"),
        Some(device)
    );
    assert_eq!(repo.device_by_token(b"x").await.expect("by token"), None);
}

/// Replacing a device's token makes the old one unknown and the new one find the device.
pub async fn replacing_the_token_forgets_the_old_one(repo: Arc<dyn Repo>) {
    let owner = user(&repo, "+14155550100").await;
    let device = create(&repo, &new_device(owner.id, b"old", 0)).await;
    assert_eq!(
        repo.device_by_token(b"old").await.expect("by token"),
        Some(device.clone())
    );
    assert!(repo
        .replace_device_token(owner.id, device.id, b"new")
        .await
        .expect("replace"));
    assert_eq!(repo.device_by_token(b"old").await.expect("by token"), None);
    assert_eq!(
        repo.device_by_token(b"new").await.expect("by token"),
        Some(device)
    );
    assert!(!repo
        .replace_device_token(owner.id, Uuid::new_v4(), b"other")
        .await
        .expect("replace"));
}

/// Deleting a device removes it and makes its token unknown; deleting twice finds nothing.
pub async fn deleting_a_device_forgets_its_token(repo: Arc<dyn Repo>) {
    let owner = user(&repo, "+14155550100").await;
    let device = create(&repo, &new_device(owner.id, b"token", 0)).await;
    let kept = create(&repo, &new_device(owner.id, b"kept", 1)).await;
    assert!(repo
        .delete_device(owner.id, device.id)
        .await
        .expect("delete"));
    assert_eq!(
        repo.device_by_token(b"token").await.expect("by token"),
        None
    );
    assert_eq!(
        repo.device(owner.id, device.id).await.expect("device"),
        None
    );
    assert_eq!(repo.devices(owner.id).await.expect("devices"), vec![kept]);
    assert!(!repo
        .delete_device(owner.id, device.id)
        .await
        .expect("delete again"));
}

/// Device tokens are unique, and a device needs an existing owner.
pub async fn devices_need_an_owner_and_a_unique_token(repo: Arc<dyn Repo>) {
    let owner = user(&repo, "+14155550100").await;
    create(&repo, &new_device(owner.id, b"token", 0)).await;
    let twin = repo.create_device(&new_device(owner.id, b"token", 1)).await;
    let err = twin.expect_err("two devices with one token hash must be refused");
    assert!(err.is_unique_violation(), "{err}");
    let taken = create(&repo, &new_device(owner.id, b"other", 2)).await;
    assert!(
        repo.replace_device_token(owner.id, taken.id, b"token")
            .await
            .is_err_and(|e| e.is_unique_violation()),
        "a replacement token already in use must be refused"
    );
    let orphan = repo
        .create_device(&new_device(Uuid::new_v4(), b"orphan", 3))
        .await;
    let err = orphan.expect_err("a device for an unknown user must be refused");
    assert!(err.is_foreign_key_violation(), "{err}");
}

/// A device's time zone is set and cleared by its owner only; its agent's last contact is
/// written at most once a minute; its usage starts empty.
pub async fn device_timezone_last_seen_and_usage(repo: Arc<dyn Repo>) {
    let owner = user(&repo, "+14155550100").await;
    let stranger = user(&repo, "+14155550199").await;
    let device = create(&repo, &new_device(owner.id, b"token", 0)).await;

    let zoned = repo
        .set_device_timezone(owner.id, device.id, Some("Europe/Berlin"))
        .await
        .expect("set timezone")
        .expect("own device");
    assert_eq!(zoned.timezone.as_deref(), Some("Europe/Berlin"));
    assert_eq!(
        repo.set_device_timezone(stranger.id, device.id, Some("UTC"))
            .await
            .expect("set timezone"),
        None
    );
    let cleared = repo
        .set_device_timezone(owner.id, device.id, None)
        .await
        .expect("clear timezone")
        .expect("own device");
    assert_eq!(cleared.timezone, None);

    repo.touch_device(device.id, at(60_000))
        .await
        .expect("touch");
    repo.touch_device(device.id, at(90_000))
        .await
        .expect("touch");
    let seen = repo.device(owner.id, device.id).await.expect("device");
    assert_eq!(seen.and_then(|d| d.last_seen_at), Some(at(60_000)));
    repo.touch_device(device.id, at(121_000))
        .await
        .expect("touch");
    let seen = repo.device(owner.id, device.id).await.expect("device");
    assert_eq!(seen.and_then(|d| d.last_seen_at), Some(at(121_000)));

    assert_eq!(
        repo.device_usage(owner.id, device.id).await.expect("usage"),
        crate::model::DeviceUsage::default()
    );

    repo.set_device_waiting(device.id, 3)
        .await
        .expect("waiting");
    let reported = repo.device(owner.id, device.id).await.expect("device");
    assert_eq!(reported.and_then(|d| d.uploads_waiting), Some(3));
}
