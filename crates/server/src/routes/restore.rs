//! Restores of archived drives: the owner asks (`POST /api/v1/drives/{id}/restore`), an
//! operator decides (`/api/v1/admin/restores…`, behind the operator token; the same as
//! `dashvault admin restores`).

use crate::archive::{self, ArchiveError};
use crate::auth::owner::Owner;
use crate::auth::session::request_token;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use dashvault_store::model::{Restore, RestoreState};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A restore request as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RestoreItem {
    /// Id.
    pub id: Uuid,
    /// The drive.
    pub drive: Uuid,
    /// Its owner.
    pub user: Uuid,
    /// When the owner asked.
    pub requested_at: DateTime<Utc>,
    /// `requested`, `approved` or `denied`.
    pub state: String,
    /// Until when an approved restore keeps the drive downloadable.
    pub restored_until: Option<DateTime<Utc>>,
    /// What happens next, for people.
    pub message: String,
}

impl From<Restore> for RestoreItem {
    fn from(r: Restore) -> Self {
        let message = match r.state {
            RestoreState::Requested => {
                "Restore requested: support will make this drive available to download, and it \
                 will then show as not archived."
            }
            RestoreState::Approved => "Restored: the drive can be downloaded until restored_until.",
            RestoreState::Denied => "Support declined this restore request.",
        };
        Self {
            id: r.id,
            drive: r.drive_id,
            user: r.user_id,
            requested_at: r.requested_at,
            state: r.state.as_str().to_owned(),
            restored_until: r.restored_until,
            message: message.to_owned(),
        }
    }
}

/// Ask support to bring one of your archived drives back for download. Asking again while
/// the request waits gives the same request.
#[utoipa::path(post, path = "/api/v1/drives/{id}/restore", tag = "library",
    params(("id" = Uuid, Path, description = "Drive id")),
    responses(
        (status = 202, description = "Requested; support will make the drive available", body = RestoreItem),
        (status = 401, description = "No session or device token", body = ErrorBody),
        (status = 404, description = "No such drive of yours", body = ErrorBody),
        (status = 409, description = "The drive is not archived: download it directly", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn request(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<RestoreItem>), ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let drive = state
        .repo
        .drive(owner.user_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !drive.archived {
        return Err(ApiError::Conflict {
            code: "not_archived",
            message: "this drive is not archived; download it directly".into(),
        });
    }
    let restore = state
        .repo
        .request_restore(owner.user_id, id, state.clock.now())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((StatusCode::ACCEPTED, Json(restore.into())))
}

/// The bearer of the operator token (`--operator-token`). Without a configured token the
/// operator API does not exist: `404`.
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(expected) = &state.archive_config.operator_token else {
            return Err(ApiError::NotFound);
        };
        let given = request_token(&parts.headers).unwrap_or_default();
        // Digests of equal length compared whole: the comparison's time says nothing
        // about the token.
        if Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes()) {
            Ok(Self)
        } else {
            Err(ApiError::Unauthorized(
                "the operator API needs the operator token as a bearer token".into(),
            ))
        }
    }
}

/// Which restore requests to list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only requests in this state (`requested`, `approved`, `denied`); all when absent.
    pub state: Option<String>,
}

/// Restore requests of every user, oldest first (operator token).
#[utoipa::path(get, path = "/api/v1/admin/restores", tag = "admin",
    params(ListQuery),
    responses(
        (status = 200, description = "Requests", body = Vec<RestoreItem>),
        (status = 400, description = "Unknown state", body = ErrorBody),
        (status = 401, description = "Not the operator token", body = ErrorBody),
    ),
    security(("operator" = [])))]
pub async fn list(
    State(state): State<AppState>,
    _operator: Operator,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<RestoreItem>>, ApiError> {
    let states = match query.state.as_deref() {
        None => vec![],
        Some(text) => vec![text
            .parse::<RestoreState>()
            .map_err(|message| ApiError::bad_request("invalid_state", message))?],
    };
    let requests = state.repo.restore_requests(&states, 1000).await?;
    Ok(Json(requests.into_iter().map(RestoreItem::from).collect()))
}

/// Approve a restore request: the drive is copied back to the hot store before this
/// answers (operator token).
#[utoipa::path(post, path = "/api/v1/admin/restores/{id}/approve", tag = "admin",
    params(("id" = Uuid, Path, description = "Restore request id")),
    responses(
        (status = 200, description = "Approved; the drive is downloadable", body = RestoreItem),
        (status = 401, description = "Not the operator token", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
        (status = 409, description = "Decided already", body = ErrorBody),
    ),
    security(("operator" = [])))]
pub async fn approve(
    State(state): State<AppState>,
    _operator: Operator,
    Path(id): Path<String>,
) -> Result<Json<RestoreItem>, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    Ok(Json(archive::approve(&state, id).await?.into()))
}

/// Deny a restore request (operator token).
#[utoipa::path(post, path = "/api/v1/admin/restores/{id}/deny", tag = "admin",
    params(("id" = Uuid, Path, description = "Restore request id")),
    responses(
        (status = 200, description = "Denied", body = RestoreItem),
        (status = 401, description = "Not the operator token", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
        (status = 409, description = "Decided already", body = ErrorBody),
    ),
    security(("operator" = [])))]
pub async fn deny(
    State(state): State<AppState>,
    _operator: Operator,
    Path(id): Path<String>,
) -> Result<Json<RestoreItem>, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    Ok(Json(archive::deny(&state, id).await?.into()))
}

impl From<ArchiveError> for ApiError {
    fn from(err: ArchiveError) -> Self {
        match err {
            ArchiveError::NoSuchRestore(_) => Self::NotFound,
            ArchiveError::Decided { .. } => Self::Conflict {
                code: "decided",
                message: err.to_string(),
            },
            ArchiveError::Store(e) => e.into(),
            ArchiveError::Blob(e) => e.into(),
        }
    }
}
