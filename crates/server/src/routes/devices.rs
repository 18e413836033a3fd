//! `/api/v1/devices`: register cameras, list them with what they hold, rename them or set
//! their time zone, replace their token, remove them; and `/api/v1/agent/status`, where a
//! camera's agent reports what waits on its phone.

use crate::auth::owner::Owner;
use crate::auth::secret;
use crate::auth::session::CurrentUser;
use crate::error::{ApiError, ErrorBody};
use crate::json::AppJson;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use dashvault_store::model::{Device, DeviceUsage, NewDevice};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

const MAX_TEXT: usize = 200;

/// A camera to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDeviceRequest {
    /// Camera model, e.g. `BlackVue DR900X-2CH`.
    pub model: String,
    /// Serial number.
    pub serial: String,
    /// Display name (defaults to the model).
    #[serde(default)]
    pub name: Option<String>,
    /// Whether it records a cabin view too.
    #[serde(default)]
    pub has_cabin_camera: bool,
    /// Whether drives (not only clips) are uploaded for this model.
    #[serde(default = "default_true")]
    pub uploads_drives: bool,
}

fn default_true() -> bool {
    true
}

/// A registered device.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceResponse {
    /// Device id.
    pub id: Uuid,
    /// Camera model.
    pub model: String,
    /// Serial number.
    pub serial: String,
    /// Display name.
    pub name: String,
    /// Whether it records a cabin view too.
    pub has_cabin_camera: bool,
    /// Whether drives are uploaded for this model.
    pub uploads_drives: bool,
    /// Registration time.
    pub created_at: DateTime<Utc>,
    /// The time zone the camera's clock is set to (IANA name), used for recordings
    /// without GPS time; `null`: not set.
    pub timezone: Option<String>,
    /// When its agent was last heard from (to the minute); `null`: never.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// When its last file was stored in the cloud; `null`: nothing yet.
    pub last_upload_at: Option<DateTime<Utc>>,
    /// Bytes of its recordings, clips and sidecars in the cloud.
    pub stored_bytes: u64,
    /// Uploads waiting on its phone, as its agent last reported; `null`: never reported.
    pub uploads_waiting: Option<u64>,
}

impl DeviceResponse {
    /// The device as the API shows it, with what it holds.
    fn new(d: Device, usage: DeviceUsage) -> Self {
        Self {
            id: d.id,
            model: d.model,
            serial: d.serial,
            name: d.name,
            has_cabin_camera: d.has_cabin_camera,
            uploads_drives: d.uploads_drives,
            created_at: d.created_at,
            timezone: d.timezone,
            last_seen_at: d.last_seen_at,
            last_upload_at: usage.last_upload_at,
            stored_bytes: usage.stored_bytes,
            uploads_waiting: d.uploads_waiting,
        }
    }

    /// The device with its usage read from the store.
    async fn read(state: &AppState, d: Device) -> Result<Self, ApiError> {
        let usage = state.repo.device_usage(d.user_id, d.id).await?;
        Ok(Self::new(d, usage))
    }
}

/// A device with a fresh token for its agent (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceTokenResponse {
    /// Device id.
    pub id: Uuid,
    /// Device token for `dashvault agent --token`; stored hashed, shown only now.
    pub token: String,
    /// The device.
    pub device: DeviceResponse,
}

/// The user's devices.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceList {
    /// Oldest first.
    pub items: Vec<DeviceResponse>,
}

/// What to change of a device; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameRequest {
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// The time zone the camera's clock is set to, as an IANA name (`Europe/Berlin`);
    /// `""` clears it.
    #[serde(default)]
    pub timezone: Option<String>,
}

/// Register a camera; the answer carries its agent token.
#[utoipa::path(post, path = "/api/v1/devices", tag = "devices", request_body = NewDeviceRequest,
    responses(
        (status = 201, description = "Registered", body = DeviceTokenResponse),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    AppJson(body): AppJson<NewDeviceRequest>,
) -> Result<(StatusCode, Json<DeviceTokenResponse>), ApiError> {
    let model = text_field("model", &body.model)?;
    let serial = text_field("serial", &body.serial)?;
    let name = match &body.name {
        Some(name) => text_field("name", name)?,
        None => model.clone(),
    };
    let token = secret::new_token(secret::DEVICE_PREFIX);
    let device = state
        .repo
        .create_device(&NewDevice {
            id: Uuid::now_v7(),
            user_id: current.user.id,
            model,
            serial,
            name,
            has_cabin_camera: body.has_cabin_camera,
            uploads_drives: body.uploads_drives,
            token_hash: secret::token_hash(&token),
            created_at: state.clock.now(),
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(DeviceTokenResponse {
            id: device.id,
            token,
            device: DeviceResponse::new(device, DeviceUsage::default()),
        }),
    ))
}

/// List the user's devices.
#[utoipa::path(get, path = "/api/v1/devices", tag = "devices",
    responses(
        (status = 200, description = "The devices", body = DeviceList),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Json<DeviceList>, ApiError> {
    let mut items = Vec::new();
    for device in state.repo.devices(current.user.id).await? {
        items.push(DeviceResponse::read(&state, device).await?);
    }
    Ok(Json(DeviceList { items }))
}

/// One of the user's devices.
#[utoipa::path(get, path = "/api/v1/devices/{id}", tag = "devices",
    params(("id" = Uuid, Path, description = "Device id")),
    responses(
        (status = 200, description = "The device", body = DeviceResponse),
        (status = 404, description = "No such device of yours", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn get(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<DeviceResponse>, ApiError> {
    let id = parse_id(&id)?;
    let device = state.repo.device(current.user.id, id).await?;
    let device = device.ok_or(ApiError::NotFound)?;
    Ok(Json(DeviceResponse::read(&state, device).await?))
}

/// Rename a device or set its time zone.
#[utoipa::path(patch, path = "/api/v1/devices/{id}", tag = "devices", request_body = RenameRequest,
    params(("id" = Uuid, Path, description = "Device id")),
    responses(
        (status = 200, description = "Changed", body = DeviceResponse),
        (status = 400, description = "Invalid name or time zone, or nothing to change", body = ErrorBody),
        (status = 404, description = "No such device of yours", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn rename(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
    AppJson(body): AppJson<RenameRequest>,
) -> Result<Json<DeviceResponse>, ApiError> {
    let id = parse_id(&id)?;
    let user = current.user.id;
    if body.name.is_none() && body.timezone.is_none() {
        return Err(ApiError::bad_request(
            "invalid_field",
            "nothing to change: give `name`, `timezone` or both",
        ));
    }
    let name = body
        .name
        .as_deref()
        .map(|n| text_field("name", n))
        .transpose()?;
    let timezone = body.timezone.as_deref().map(time_zone).transpose()?;
    let mut device = state.repo.device(user, id).await?;
    if let Some(name) = name {
        device = state.repo.rename_device(user, id, &name).await?;
    }
    if let Some(timezone) = timezone {
        device = state.repo.set_device_timezone(user, id, timezone).await?;
    }
    let device = device.ok_or(ApiError::NotFound)?;
    Ok(Json(DeviceResponse::read(&state, device).await?))
}

/// A time zone as given: `""` clears it (`None`), an IANA name is kept as the database of
/// zones spells it, anything else is refused.
fn time_zone(text: &str) -> Result<Option<&str>, ApiError> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<chrono_tz::Tz>()
        .map(|zone| Some(zone.name()))
        .map_err(|_| {
            ApiError::bad_request(
                "invalid_timezone",
                format!(
                    "`timezone`: {text:?} is not an IANA time zone name such as \"Europe/Berlin\""
                ),
            )
        })
}

/// Issue a new agent token for a device; the old one stops working at once.
#[utoipa::path(post, path = "/api/v1/devices/{id}/token", tag = "devices",
    params(("id" = Uuid, Path, description = "Device id")),
    responses(
        (status = 200, description = "The new token", body = DeviceTokenResponse),
        (status = 404, description = "No such device of yours", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn replace_token(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<DeviceTokenResponse>, ApiError> {
    let id = parse_id(&id)?;
    let token = secret::new_token(secret::DEVICE_PREFIX);
    let replaced = state
        .repo
        .replace_device_token(current.user.id, id, &secret::token_hash(&token))
        .await?;
    if !replaced {
        return Err(ApiError::NotFound);
    }
    let device = state
        .repo
        .device(current.user.id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(DeviceTokenResponse {
        id,
        token,
        device: DeviceResponse::read(&state, device).await?,
    }))
}

/// Remove a device; its token stops working.
#[utoipa::path(delete, path = "/api/v1/devices/{id}", tag = "devices",
    params(("id" = Uuid, Path, description = "Device id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such device of yours", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    if state.repo.delete_device(current.user.id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// What a camera's agent reports of itself.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentStatus {
    /// Uploads waiting on the phone (queued, not yet accepted by the cloud).
    pub uploads_waiting: u64,
}

/// A camera's agent reports what waits on its phone (shown on the Cameras page). Only
/// with a device token.
#[utoipa::path(put, path = "/api/v1/agent/status", tag = "devices", request_body = AgentStatus,
    responses(
        (status = 204, description = "Kept"),
        (status = 401, description = "No device token", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn agent_status(
    State(state): State<AppState>,
    owner: Owner,
    AppJson(body): AppJson<AgentStatus>,
) -> Result<StatusCode, ApiError> {
    let device = owner.device.ok_or_else(|| {
        ApiError::Unauthorized(
            "only a camera's agent reports its status: use its device token".into(),
        )
    })?;
    state
        .repo
        .set_device_waiting(device.id, body.uploads_waiting)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An id from a URL; anything that is not a UUID can not name a thing of the user's, so it
/// answers `404` like an unknown id.
fn parse_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| ApiError::NotFound)
}

/// A short single-line text field, trimmed, non-empty, without control characters.
fn text_field(field: &'static str, value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > MAX_TEXT || value.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("`{field}` must be 1 to {MAX_TEXT} characters on one line"),
        ));
    }
    Ok(value.to_owned())
}
