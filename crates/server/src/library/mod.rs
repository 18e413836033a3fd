//! The library of a user's clips and drives as the API and the pages show it.
//!
//! Overview: [`query`] reads a listing's query string into a store
//! [`PageRequest`](dashvault_store::model::PageRequest); [`items`] builds the API's clip
//! and drive items; [`telemetry`] reads route, speed and G-force for a detail view. The
//! functions here put them together, each taking the owner's id: another user's id is
//! not found, exactly like an unknown one.

pub mod items;
pub mod query;
pub mod telemetry;

use crate::error::ApiError;
use crate::state::AppState;
use dashvault_store::model::{Clip, DeviceIncident, Drive, PageRequest, RecordingKind, View};
use items::{ClipItem, DeviceNames, DriveItem, Page, RecordingItem};
use serde::Serialize;
use telemetry::{Marker, TelemetrySeries};
use utoipa::ToSchema;
use uuid::Uuid;

/// A clip with what its player shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClipDetail {
    /// The clip.
    #[serde(flatten)]
    pub item: ClipItem,
    /// Route, speed and G-force.
    pub telemetry: TelemetrySeries,
    /// Its incidents on the timeline.
    pub markers: Vec<Marker>,
}

/// A drive with what its player shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct DriveDetail {
    /// The drive.
    #[serde(flatten)]
    pub item: DriveItem,
    /// Route, speed and G-force.
    pub telemetry: TelemetrySeries,
    /// The incidents on its timeline: those of its clips, kept after a clip is deleted.
    pub markers: Vec<Marker>,
    /// Its files on the wall clock, in time order: what was recorded, and between them
    /// the gaps a player skips.
    pub recordings: Vec<RecordingItem>,
}

/// A page of the user's clips.
pub async fn list_clips(
    state: &AppState,
    user_id: Uuid,
    request: &PageRequest,
) -> Result<Page<ClipItem>, ApiError> {
    let mut clips = state.repo.list_clips(user_id, &one_more(request)).await?;
    let next_cursor = next_cursor(request, &mut clips, |c| (c.file.start, c.id));
    let names = DeviceNames::new(state.repo.devices(user_id).await?);
    Ok(Page {
        items: clips
            .into_iter()
            .map(|c| {
                let name = names.name(c.device_id);
                ClipItem::new(c, name)
            })
            .collect(),
        next_cursor,
    })
}

/// A page of the user's drives, each with its clips.
pub async fn list_drives(
    state: &AppState,
    user_id: Uuid,
    request: &PageRequest,
) -> Result<Page<DriveItem>, ApiError> {
    let mut drives = state.repo.list_drives(user_id, &one_more(request)).await?;
    let next_cursor = next_cursor(request, &mut drives, |d| (d.start, d.id));
    let names = DeviceNames::new(state.repo.devices(user_id).await?);
    let clips = state.repo.clips_of_drives(user_id, &drives).await?;
    let incidents = state.repo.incidents_of_drives(user_id, &drives).await?;
    Ok(Page {
        items: drive_items(drives, clips, &incidents, &names),
        next_cursor,
    })
}

/// One of the user's clips with its telemetry and markers; `None` when not theirs.
pub async fn clip_detail(
    state: &AppState,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<ClipDetail>, ApiError> {
    let Some(clip) = state.repo.clip(user_id, id).await? else {
        return Ok(None);
    };
    let names = DeviceNames::new(state.repo.devices(user_id).await?);
    let item = ClipItem::new(clip.clone(), names.name(clip.device_id));
    let telemetry = telemetry::series(
        state,
        user_id,
        clip.device_id,
        (item.start, item.end),
        std::slice::from_ref(&clip.file),
    )
    .await?;
    Ok(Some(ClipDetail {
        markers: telemetry::markers(item.start, &clip.incidents),
        item,
        telemetry,
    }))
}

/// One of the user's drives with its clips, telemetry (from its road recordings, else
/// its cabin ones) and markers; `None` when not theirs.
pub async fn drive_detail(
    state: &AppState,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<DriveDetail>, ApiError> {
    let Some(drive) = state.repo.drive(user_id, id).await? else {
        return Ok(None);
    };
    let names = DeviceNames::new(state.repo.devices(user_id).await?);
    let clips = state
        .repo
        .clips_of_drives(user_id, std::slice::from_ref(&drive))
        .await?;
    let incidents = state
        .repo
        .incidents_of_drives(user_id, std::slice::from_ref(&drive))
        .await?;
    let recordings = state.repo.drive_recordings(user_id, id).await?;
    let view = if recordings.iter().any(|r| r.view == View::Road) {
        View::Road
    } else {
        View::Cabin
    };
    let files: Vec<_> = recordings
        .iter()
        .filter(|r| r.kind == RecordingKind::Recording && r.view == view)
        .map(|r| r.file.clone())
        .collect();
    let telemetry = telemetry::series(
        state,
        user_id,
        drive.device_id,
        (drive.start, drive.end),
        &files,
    )
    .await?;
    let markers = telemetry::markers(drive.start, incidents.iter().map(|i| &i.incident));
    let item = drive_items(vec![drive], clips, &incidents, &names)
        .pop()
        .ok_or_else(|| ApiError::Internal("a drive item went missing".into()))?;
    Ok(Some(DriveDetail {
        item,
        telemetry,
        markers,
        recordings: recordings.into_iter().map(RecordingItem::from).collect(),
    }))
}

/// The items of `drives`, each with the `clips` whose start it covers (the first drive
/// by start, as the store decides a clip's drive) and the `incidents` in its window.
fn drive_items(
    drives: Vec<Drive>,
    clips: Vec<Clip>,
    incidents: &[DeviceIncident],
    names: &DeviceNames,
) -> Vec<DriveItem> {
    let mut items: Vec<DriveItem> = drives
        .into_iter()
        .map(|d| {
            let name = names.name(d.device_id);
            let within = incidents
                .iter()
                .filter(|i| {
                    i.device_id == d.device_id && (d.start..=d.end).contains(&i.incident.at)
                })
                .map(|i| i.incident.clone())
                .collect();
            DriveItem::new(d, name, Vec::new(), within)
        })
        .collect();
    for clip in clips {
        let owner = clip
            .drive_id
            .and_then(|id| items.iter_mut().find(|d| d.id == id));
        if let Some(drive) = owner {
            let name = names.name(clip.device_id);
            drive.clips.push(ClipItem::new(clip, name));
        }
    }
    items
}

/// `request` asking for one item more than the page holds, to tell whether another
/// page follows.
fn one_more(request: &PageRequest) -> PageRequest {
    PageRequest {
        limit: request.limit.saturating_add(1),
        ..request.clone()
    }
}

/// Cut `items` (fetched with [`one_more`]) to the page and give the cursor after its
/// last item, `None` when no item follows: the last page never offers an empty next one.
fn next_cursor<T>(
    request: &PageRequest,
    items: &mut Vec<T>,
    key: impl Fn(&T) -> (chrono::DateTime<chrono::Utc>, Uuid),
) -> Option<String> {
    let page = usize::try_from(request.limit).unwrap_or(usize::MAX);
    if items.len() <= page {
        return None;
    }
    items.truncate(page);
    items.last().map(|last| {
        let (start, id) = key(last);
        query::encode_cursor(start, id)
    })
}
