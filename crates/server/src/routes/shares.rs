//! Share links: the owner makes, lists and revokes links to one clip; anyone holding a
//! link sees that clip and nothing else of the owner's (no device, no phone number, no
//! other item's id, no location unless the owner included it) until it expires, is
//! revoked or the clip is deleted (`410`). Tokens carry 256 random bits and are stored
//! only as their SHA-256; anonymous lookups are rate-limited per client address.

use crate::auth::owner::Owner;
use crate::auth::secret;
use crate::auth::session::ClientIp;
use crate::auth::sign_in::limited;
use crate::error::{ApiError, ErrorBody};
use crate::evidence::activity;
use crate::json::AppJson;
use crate::library::telemetry::{self, Marker, TelemetrySeries};
use crate::routes::library::IncidentItem;
use crate::routes::media::{clip_video_response, ApiQuery, DownloadQuery};
use crate::state::AppState;
use crate::stream::thumbnail;
use crate::stream::thumbnail::clip_thumbnail_ms;
use crate::stream::video::Content;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use dashvault_store::model::Share;
use dashvault_store::model::{ActivityAction, ActivityVia, Clip};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Anonymous share lookups (page, JSON, video ranges, thumbnail) allowed per client
/// address and minute: a player's range requests fit, a token search does not.
pub const LOOKUPS_PER_MINUTE: usize = 300;
/// Longest expiry accepted: ten years.
const MAX_EXPIRES_IN: u64 = 10 * 366 * 24 * 3600;

/// A new share's options.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShareRequest {
    /// Seconds until the link stops working; never when absent.
    pub expires_in: Option<u64>,
    /// Show where the clip was recorded (route, GPS); `false` when absent.
    pub include_location: Option<bool>,
    /// Let the link's holder download the clip (a Download button on the shared page);
    /// `false` when absent: the clip can only be watched.
    pub allow_download: Option<bool>,
}

/// A share just made: the only time its URL (and token) is told.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewShareResponse {
    /// Id, to revoke it.
    pub id: Uuid,
    /// The link: `/s/{token}`.
    pub url: String,
    /// When it stops working; `null`: never.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether the location is shown.
    pub include_location: bool,
    /// Whether the clip may be downloaded through the link.
    pub allow_download: bool,
}

/// A share of a clip, as its owner sees it (without its token).
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareItem {
    /// Id.
    pub id: Uuid,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When it stops working; `null`: never.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether the location is shown.
    pub include_location: bool,
    /// Whether the clip may be downloaded through the link.
    pub allow_download: bool,
    /// Revoked by the owner.
    pub revoked: bool,
}

/// The shares of a clip.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareList {
    /// Oldest first.
    pub items: Vec<ShareItem>,
}

/// A live share and its clip, for the shared pages.
#[derive(Debug, Clone)]
pub struct SharedClip {
    /// The share (its `include_location` says what may be shown).
    pub share: Share,
    /// The clip.
    pub clip: Clip,
}

/// The shared clip with what its player shows: speed and G-force over time, the route
/// only when the owner included the location, and the incident markers.
#[derive(Debug, Serialize, ToSchema)]
pub struct SharedClipDetail {
    /// The clip.
    #[serde(flatten)]
    pub clip: SharedClipView,
    /// `route` (empty unless the location is shared), `speed`, `g`; `t` in seconds from
    /// the clip's start.
    pub telemetry: TelemetrySeries,
    /// Incidents on the clip's timeline.
    pub markers: Vec<Marker>,
}

/// The one clip a share shows, with nothing of the owner's besides it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SharedClipView {
    /// `auto` or `manual`.
    pub kind: String,
    /// `road` or `cabin`.
    pub view: String,
    /// Start of the clip.
    pub start: DateTime<Utc>,
    /// End of the clip.
    pub end: DateTime<Utc>,
    /// Length in seconds.
    pub duration: f64,
    /// Length in milliseconds.
    pub duration_ms: u64,
    /// Incidents in the clip.
    pub incidents: Vec<IncidentItem>,
    /// The video: `/s/{token}/video`.
    pub video_url: String,
    /// The thumbnail: `/s/{token}/thumbnail`.
    pub thumbnail_url: String,
    /// Whether the owner shared the location.
    pub include_location: bool,
    /// The video as a file to save (`/s/{token}/video?download=1`), when the owner allows
    /// it; `null` otherwise.
    pub download_url: Option<String>,
    /// When the link stops working; `null`: never.
    pub expires_at: Option<DateTime<Utc>>,
}

impl SharedClipView {
    /// The view of `shared` reached with `token`.
    pub fn new(shared: &SharedClip, token: &str) -> Self {
        let clip = &shared.clip;
        let duration_ms = clip.file.duration_ms;
        Self {
            kind: clip.kind.as_str().to_owned(),
            view: clip.view.as_str().to_owned(),
            start: clip.file.start,
            end: clip.file.start
                + Duration::milliseconds(i64::try_from(duration_ms).unwrap_or(i64::MAX)),
            duration: duration_ms as f64 / 1000.0,
            duration_ms,
            incidents: clip.incidents.iter().cloned().map(Into::into).collect(),
            video_url: format!("/s/{token}/video"),
            thumbnail_url: format!("/s/{token}/thumbnail"),
            include_location: shared.share.include_location,
            download_url: shared
                .share
                .allow_download
                .then(|| format!("/s/{token}/video?download=1")),
            expires_at: shared.share.expires_at,
        }
    }
}

/// The live share of `token` and its clip, for any anonymous share page: counts a
/// lookup against `ip`'s limit (`429` beyond it); `404` for a token never issued; `410`
/// once the share expired, was revoked or its clip was deleted.
pub async fn resolve(state: &AppState, ip: &ClientIp, token: &str) -> Result<SharedClip, ApiError> {
    let now = state.clock.now();
    state.share_lookups.hit(&ip.0, now).map_err(|free_at| {
        limited(
            "rate_limited",
            "too many share lookups from this address; try again",
            free_at,
            now,
        )
    })?;
    let share = state
        .repo
        .share_by_token(&secret::token_hash(token))
        .await?
        .ok_or(ApiError::NotFound)?;
    if share.revoked_at.is_some() {
        return Err(ApiError::Gone("the owner revoked this link".into()));
    }
    if !share.is_live(now) {
        return Err(ApiError::Gone("this link has expired".into()));
    }
    let clip = state
        .repo
        .clip(share.user_id, share.clip_id)
        .await?
        .ok_or_else(|| ApiError::Gone("the shared clip was deleted".into()))?;
    Ok(SharedClip { share, clip })
}

impl From<Share> for ShareItem {
    fn from(s: Share) -> Self {
        Self {
            id: s.id,
            created_at: s.created_at,
            expires_at: s.expires_at,
            include_location: s.include_location,
            allow_download: s.allow_download,
            revoked: s.revoked_at.is_some(),
        }
    }
}

/// Share one of your clips: a new link, optionally expiring.
#[utoipa::path(post, path = "/api/v1/clips/{id}/shares", tag = "shares",
    params(("id" = Uuid, Path, description = "Clip id")),
    request_body = NewShareRequest,
    responses(
        (status = 201, description = "The link", body = NewShareResponse),
        (status = 400, description = "Invalid expiry", body = ErrorBody),
        (status = 404, description = "No such clip of yours", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<NewShareRequest>,
) -> Result<(StatusCode, Json<NewShareResponse>), ApiError> {
    let clip = state
        .repo
        .clip(owner.user_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let now = state.clock.now();
    let expires_at = match body.expires_in {
        None => None,
        Some(seconds @ 1..=MAX_EXPIRES_IN) => {
            Some(now + Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX)))
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_expiry",
                format!("expires_in must be from 1 to {MAX_EXPIRES_IN} seconds, or absent for a link that never expires"),
            ))
        }
    };
    let token = secret::new_token("");
    let share = Share {
        id: Uuid::now_v7(),
        user_id: owner.user_id,
        clip_id: clip.id,
        token_hash: secret::token_hash(&token),
        include_location: body.include_location.unwrap_or(false),
        allow_download: body.allow_download.unwrap_or(false),
        created_at: now,
        expires_at,
        revoked_at: None,
    };
    state.repo.create_share(&share).await?;
    let via = activity::via(&owner);
    let of = (owner.user_id, clip.id);
    activity::record(&state, of, ActivityAction::ShareCreate, via, None).await;
    Ok((
        StatusCode::CREATED,
        Json(NewShareResponse {
            id: share.id,
            url: format!("/s/{token}"),
            expires_at: share.expires_at,
            include_location: share.include_location,
            allow_download: share.allow_download,
        }),
    ))
}

/// The shares of one of your clips, revoked and expired ones included.
#[utoipa::path(get, path = "/api/v1/clips/{id}/shares", tag = "shares",
    params(("id" = Uuid, Path, description = "Clip id")),
    responses(
        (status = 200, description = "The shares", body = ShareList),
        (status = 404, description = "No such clip of yours", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<Uuid>,
) -> Result<Json<ShareList>, ApiError> {
    state
        .repo
        .clip(owner.user_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let shares = state.repo.clip_shares(owner.user_id, id).await?;
    Ok(Json(ShareList {
        items: shares.into_iter().map(Into::into).collect(),
    }))
}

/// Revoke one of your shares: its link answers `410` from now on. Revoking again is
/// fine.
#[utoipa::path(delete, path = "/api/v1/shares/{id}", tag = "shares",
    params(("id" = Uuid, Path, description = "Share id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such share of yours", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    if state
        .repo
        .revoke_share(owner.user_id, id, state.clock.now())
        .await?
    {
        if let Some(clip) = state.repo.share_clip(owner.user_id, id).await? {
            let via = activity::via(&owner);
            let of = (owner.user_id, clip);
            activity::record(&state, of, ActivityAction::ShareRevoke, via, None).await;
        }
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// The shared clip (anonymous).
#[utoipa::path(get, path = "/api/v1/shared/{token}", tag = "shares",
    params(("token" = String, Path, description = "The link's token")),
    responses(
        (status = 200, description = "The clip", body = SharedClipDetail),
        (status = 404, description = "No such link", body = ErrorBody),
        (status = 410, description = "Expired, revoked, or the clip was deleted", body = ErrorBody),
        (status = 429, description = "Too many lookups from this address", body = ErrorBody),
    ))]
pub async fn shared(
    State(state): State<AppState>,
    ip: ClientIp,
    Path(token): Path<String>,
) -> Result<Json<SharedClipDetail>, ApiError> {
    let shared = resolve(&state, &ip, &token).await?;
    record_open(&state, &shared, &ip).await;
    Ok(Json(detail(&state, &shared, &token).await?))
}

/// Record that a share link was opened (from the viewer's network, never its address).
pub async fn record_open(state: &AppState, shared: &SharedClip, ip: &ClientIp) {
    let of = (shared.share.user_id, shared.clip.id);
    activity::record(
        state,
        of,
        ActivityAction::ShareOpen,
        ActivityVia::Share,
        Some(&ip.0),
    )
    .await;
}

/// The shared clip as the anonymous API and the share page show it: its telemetry for
/// display, the route only with the owner's consent.
pub async fn detail(
    state: &AppState,
    shared: &SharedClip,
    token: &str,
) -> Result<SharedClipDetail, ApiError> {
    let clip = SharedClipView::new(shared, token);
    let mut series = telemetry::series(
        state,
        shared.share.user_id,
        shared.clip.device_id,
        (clip.start, clip.end),
        std::slice::from_ref(&shared.clip.file),
    )
    .await?;
    if !shared.share.include_location {
        series.route.clear();
    }
    Ok(SharedClipDetail {
        markers: telemetry::markers(clip.start, &shared.clip.incidents),
        clip,
        telemetry: series,
    })
}

/// The shared clip's video (anonymous); without the owner's consent it carries no
/// location: only the video and audio samples, no telemetry bytes at all. `download=1`
/// offers it as a file only where the owner allowed downloads; elsewhere it is ignored.
#[utoipa::path(get, path = "/s/{token}/video", tag = "shares",
    params(("token" = String, Path, description = "The link's token"), DownloadQuery),
    responses(
        (status = 200, description = "The clip (video/mp4)", content_type = "video/mp4"),
        (status = 206, description = "A byte range of it", content_type = "video/mp4"),
        (status = 404, description = "No such link", body = ErrorBody),
        (status = 410, description = "Expired, revoked, or the clip was deleted", body = ErrorBody),
    ))]
pub async fn video(
    State(state): State<AppState>,
    ip: ClientIp,
    Path(token): Path<String>,
    ApiQuery(query): ApiQuery<DownloadQuery>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let shared = resolve(&state, &ip, &token).await?;
    if let Some(action) = activity::video_action(&method, &headers, query.wanted()) {
        let of = (shared.share.user_id, shared.clip.id);
        activity::record(&state, of, action, ActivityVia::Share, Some(&ip.0)).await;
    }
    let content = if shared.share.include_location {
        Content::Full
    } else {
        Content::SamplesOnly
    };
    clip_video_response(
        &state,
        &shared.clip,
        content,
        (&method, &headers),
        query.wanted() && shared.share.allow_download,
    )
    .await
}

/// The shared clip's thumbnail (anonymous).
#[utoipa::path(get, path = "/s/{token}/thumbnail", tag = "shares",
    params(("token" = String, Path, description = "The link's token")),
    responses(
        (status = 200, description = "JPEG", content_type = "image/jpeg"),
        (status = 404, description = "No such link", body = ErrorBody),
        (status = 410, description = "Expired, revoked, or the clip was deleted", body = ErrorBody),
    ))]
pub async fn thumbnail(
    State(state): State<AppState>,
    ip: ClientIp,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let shared = resolve(&state, &ip, &token).await?;
    thumbnail::respond(&state, &shared.clip.file, clip_thumbnail_ms(&shared.clip)).await
}
