//! `POST /api/v1/auth/code`, `POST /api/v1/auth/verify`, `POST /api/v1/auth/logout` and
//! `GET /api/v1/me`.

use crate::auth::phone::PhoneNumber;
use crate::auth::session::{is_secure, session_cookie, ClientIp, CurrentUser};
use crate::auth::sign_in;
use crate::error::{ApiError, ErrorBody};
use crate::json::AppJson;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Ask for a sign-in code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// Phone number in international form, e.g. `+14155550100`.
    pub phone: String,
}

/// Send a sign-in code by SMS. Answers `202` for every valid number, known or not.
#[utoipa::path(post, path = "/api/v1/auth/code", tag = "auth", request_body = CodeRequest,
    responses(
        (status = 202, description = "A code is on its way (if the number can receive SMS)"),
        (status = 400, description = "Invalid phone number", body = ErrorBody),
        (status = 429, description = "Too many codes: the message says the wait in words (\"try again in 55 minutes\"), Retry-After in seconds", body = ErrorBody),
    ))]
pub async fn request_code(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(body): AppJson<CodeRequest>,
) -> Result<StatusCode, ApiError> {
    let phone = PhoneNumber::parse(&body.phone)?;
    sign_in::send_code(&state, &phone, &ip).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Enter a sign-in code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The number the code was sent to.
    pub phone: String,
    /// The six digits.
    pub code: String,
}

/// A new session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    /// Bearer token; also set as an HttpOnly cookie.
    pub token: String,
    /// When the session ends unless used (each use extends it).
    pub expires_at: DateTime<Utc>,
    /// The signed-in user.
    pub user: UserResponse,
}

/// A user as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    /// User id.
    pub id: Uuid,
    /// Phone number, E.164.
    pub phone: String,
    /// First sign-in.
    pub created_at: DateTime<Utc>,
}

impl From<dashvault_store::model::User> for UserResponse {
    fn from(user: dashvault_store::model::User) -> Self {
        Self {
            id: user.id,
            phone: user.phone,
            created_at: user.created_at,
        }
    }
}

/// Check a code; on success open a session (the user is created on first sign-in).
#[utoipa::path(post, path = "/api/v1/auth/verify", tag = "auth", request_body = VerifyRequest,
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = SessionResponse),
        (status = 400, description = "Invalid phone number or code format", body = ErrorBody),
        (status = 401, description = "Wrong or expired code", body = ErrorBody),
        (status = 429, description = "Too many wrong codes: the message says the wait in words, Retry-After in seconds", body = ErrorBody),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppJson(body): AppJson<VerifyRequest>,
) -> Result<Response, ApiError> {
    let phone = PhoneNumber::parse(&body.phone)?;
    let signed_in = sign_in::verify_code(&state, &phone, body.code.trim()).await?;
    let max_age = (signed_in.expires_at - state.clock.now()).num_seconds();
    let cookie = session_cookie(&signed_in.token, max_age, is_secure(&state, &headers));
    let body = SessionResponse {
        token: signed_in.token,
        expires_at: signed_in.expires_at,
        user: signed_in.user.into(),
    };
    Ok(([(SET_COOKIE, cookie)], Json(body)).into_response())
}

/// End the current session; its token and cookie stop working.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    current: CurrentUser,
) -> Result<Response, ApiError> {
    state.repo.delete_session(&current.token_hash).await?;
    let cookie = session_cookie("", 0, is_secure(&state, &headers));
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, cookie)]).into_response())
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses(
        (status = 200, description = "The user", body = UserResponse),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn me(current: CurrentUser) -> Json<UserResponse> {
    Json(current.user.into())
}
