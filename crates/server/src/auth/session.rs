//! Who is calling: the session token from `Authorization: Bearer` or the session cookie,
//! checked against the repository and renewed as it is used.

use super::secret;
use super::sign_in::to_chrono;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use dashvault_store::model::User;
use std::net::SocketAddr;

/// Name of the session cookie.
pub const COOKIE_NAME: &str = "dashvault_session";

/// The signed-in user of a request; rejects with `401` when there is none.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The user.
    pub user: User,
    /// Hash of the session token used, so sign-out can revoke exactly this session.
    pub token_hash: Vec<u8>,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = request_token(&parts.headers).ok_or_else(|| {
            ApiError::Unauthorized("sign in first: no session token or cookie".to_owned())
        })?;
        if !token.starts_with(secret::SESSION_PREFIX) {
            return Err(ApiError::Unauthorized("not a session token".to_owned()));
        }
        let token_hash = secret::token_hash(token);
        let now = state.clock.now();
        let (session, user) =
            state.repo.session(&token_hash, now).await?.ok_or_else(|| {
                ApiError::Unauthorized("the session expired; sign in again".into())
            })?;
        renew_if_due(state, &token_hash, session.expires_at, now).await?;
        Ok(Self { user, token_hash })
    }
}

/// Sliding renewal: extend the session to a full lifetime once it has been used an hour
/// after its last renewal, so an active user stays signed in without a write per request.
async fn renew_if_due(
    state: &AppState,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let full = now + to_chrono(state.auth.session_ttl);
    if full - expires_at >= chrono::Duration::hours(1) {
        state.repo.renew_session(token_hash, full).await?;
    }
    Ok(())
}

/// The bearer token, else the session cookie's value.
pub fn request_token(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        return value
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty());
    }
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value)
}

/// The `Set-Cookie` value that stores `token` for `max_age`, or clears it when `token`
/// is empty. HttpOnly and SameSite=Lax always; Secure when the request came over TLS.
pub fn session_cookie(token: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// Whether the request reached us over TLS, as far as we can tell (directly we never
/// terminate TLS, so only a trusted proxy's `X-Forwarded-Proto` or the setting count).
pub fn is_secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.auth.secure_cookies
        || (state.auth.trust_proxy_headers
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|proto| proto.eq_ignore_ascii_case("https")))
}

/// The client's address, for per-address limits: the peer address, or the first
/// `X-Forwarded-For` entry when proxy headers are trusted.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if state.auth.trust_proxy_headers {
            let forwarded = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .and_then(|v| v.parse::<std::net::IpAddr>().ok());
            if let Some(ip) = forwarded {
                return Ok(Self(ip.to_string()));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        Ok(Self(peer.unwrap_or_else(|| "unknown".to_owned())))
    }
}
