//! `/api/v1/devices`: register cameras, list, rename, replace their token, remove.

use crate::auth::secret;
use crate::auth::session::CurrentUser;
use crate::error::{ApiError, ErrorBody};
use crate::json::AppJson;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use dashvault_store::model::{Device, NewDevice};
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
}

impl From<Device> for DeviceResponse {
    fn from(d: Device) -> Self {
        Self {
            id: d.id,
            model: d.model,
            serial: d.serial,
            name: d.name,
            has_cabin_camera: d.has_cabin_camera,
            uploads_drives: d.uploads_drives,
            created_at: d.created_at,
        }
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

/// A new name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameRequest {
    /// Display name.
    pub name: String,
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
            device: device.into(),
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
    let devices = state.repo.devices(current.user.id).await?;
    Ok(Json(DeviceList {
        items: devices.into_iter().map(Into::into).collect(),
    }))
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
    device.map(|d| Json(d.into())).ok_or(ApiError::NotFound)
}

/// Rename a device.
#[utoipa::path(patch, path = "/api/v1/devices/{id}", tag = "devices", request_body = RenameRequest,
    params(("id" = Uuid, Path, description = "Device id")),
    responses(
        (status = 200, description = "Renamed", body = DeviceResponse),
        (status = 400, description = "Invalid name", body = ErrorBody),
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
    let name = text_field("name", &body.name)?;
    let device = state.repo.rename_device(current.user.id, id, &name).await?;
    device.map(|d| Json(d.into())).ok_or(ApiError::NotFound)
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
        device: device.into(),
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
