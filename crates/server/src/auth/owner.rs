//! Whose library a request acts on: a signed-in user by session (cookie or bearer), or a
//! camera's agent by its device token (`dvd_…`), which acts for the device's owner.

use crate::auth::secret;
use crate::auth::session::{request_token, CurrentUser};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use dashvault_store::model::Device;
use uuid::Uuid;

/// The owner whose uploads and library a request may touch, and the device when a device
/// token was used. Rejects with `401` without a valid session or device token.
#[derive(Debug, Clone)]
pub struct Owner {
    /// The owner.
    pub user_id: Uuid,
    /// The device whose token authenticated the request.
    pub device: Option<Device>,
}

impl FromRequestParts<AppState> for Owner {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(token) =
            request_token(&parts.headers).filter(|t| t.starts_with(secret::DEVICE_PREFIX))
        {
            let device = state
                .repo
                .device_by_token(&secret::token_hash(token))
                .await?
                .ok_or_else(|| ApiError::Unauthorized("unknown or replaced device token".into()))?;
            // The Cameras page's "last seen", written at most once a minute: the row just
            // read says whether it is due, so an upload's every PATCH costs no extra query.
            // A failure to note it never fails the request.
            let now = state.clock.now();
            let due = device
                .last_seen_at
                .is_none_or(|seen| now - seen >= chrono::Duration::minutes(1));
            if due {
                if let Err(err) = state.repo.touch_device(device.id, now).await {
                    tracing::warn!(%err, device = %device.id, "could not note the device's contact");
                }
            }
            return Ok(Self {
                user_id: device.user_id,
                device: Some(device),
            });
        }
        let current = CurrentUser::from_request_parts(parts, state).await?;
        Ok(Self {
            user_id: current.user.id,
            device: None,
        })
    }
}
