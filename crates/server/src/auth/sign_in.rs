//! The sign-in rules: sending a code (cooldown, per-number and per-address hourly
//! limits) and checking it (expiry, tries), then opening a session.

use super::phone::PhoneNumber;
use super::secret;
use crate::error::ApiError;
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use dashvault_store::model::{CodeCheck, NewLoginCode, Session, User};

const HOUR: Duration = Duration::hours(1);

/// Send a fresh code to `phone` unless a limit forbids it. The answer is the same
/// whether or not the number has an account.
pub async fn send_code(state: &AppState, phone: &PhoneNumber, ip: &str) -> Result<(), ApiError> {
    let auth = &state.auth;
    let now = state.clock.now();
    let cooldown = to_chrono(auth.code_resend_cooldown);
    if let Some(last) = state.repo.last_code_sent_at(phone.as_str()).await? {
        if now < last + cooldown {
            return Err(limited(
                "resend_too_soon",
                "a code was just sent; ask for another",
                last + cooldown,
                now,
            ));
        }
    }
    // A send counts for exactly one hour: the one sent an hour ago no longer does.
    let since = now - HOUR + Duration::milliseconds(1);
    let to_phone = state
        .repo
        .codes_sent_to_phone(phone.as_str(), since)
        .await?;
    if to_phone >= u64::from(auth.codes_per_phone_per_hour) {
        let oldest = state
            .repo
            .oldest_code_sent_to_phone(phone.as_str(), since)
            .await?
            .unwrap_or(now);
        return Err(limited(
            "rate_limited",
            "too many codes sent to this number; try again",
            oldest + HOUR,
            now,
        ));
    }
    let from_ip = state.repo.codes_sent_from_ip(ip, since).await?;
    if from_ip >= u64::from(auth.codes_per_ip_per_hour) {
        let oldest = state
            .repo
            .oldest_code_sent_from_ip(ip, since)
            .await?
            .unwrap_or(now);
        return Err(limited(
            "rate_limited",
            "too many codes requested from this address; try again",
            oldest + HOUR,
            now,
        ));
    }

    let code = secret::new_code();
    state
        .repo
        .put_login_code(&NewLoginCode {
            phone: phone.as_str().to_owned(),
            code_hash: secret::code_hash(&auth.secret, phone.as_str(), &code),
            sent_at: now,
            expires_at: now + to_chrono(auth.code_ttl),
            ip: ip.to_owned(),
        })
        .await?;
    let minutes = auth.code_ttl.as_secs().div_ceil(60);
    let text = format!("Your dashvault sign-in code {code} (valid {minutes} min). Never share it.");
    state
        .sms
        .send(phone.as_str(), &text)
        .await
        .map_err(|reason| {
            tracing::error!(%reason, "sending a sign-in code failed");
            ApiError::Unavailable("the SMS could not be sent; try again shortly".to_owned())
        })?;
    state.metrics.codes_sent.inc();
    Ok(())
}

/// A session opened by a correct code.
pub struct SignedIn {
    /// The user, created on first sign-in.
    pub user: User,
    /// The bearer token (shown once, stored hashed).
    pub token: String,
    /// When the session expires unless used.
    pub expires_at: DateTime<Utc>,
}

/// Check `code` for `phone`; on success create the user if new and open a session.
pub async fn verify_code(
    state: &AppState,
    phone: &PhoneNumber,
    code: &str,
) -> Result<SignedIn, ApiError> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request(
            "invalid_code",
            "the code is six digits",
        ));
    }
    let auth = &state.auth;
    let now = state.clock.now();
    let hash = secret::code_hash(&auth.secret, phone.as_str(), code);
    let check = state
        .repo
        .check_login_code(phone.as_str(), &hash, now, auth.code_max_attempts)
        .await?;
    match check {
        CodeCheck::Accepted => {}
        CodeCheck::Wrong { attempts } => {
            state.metrics.sign_in_failures.inc();
            let left = auth.code_max_attempts.saturating_sub(attempts);
            return Err(ApiError::Unauthorized(format!(
                "wrong code; {left} tries left"
            )));
        }
        CodeCheck::TooManyAttempts => {
            state.metrics.sign_in_failures.inc();
            let last = state.repo.last_code_sent_at(phone.as_str()).await?;
            let next_send = last.map_or(now, |t| t + to_chrono(auth.code_resend_cooldown));
            return Err(limited(
                "too_many_attempts",
                "too many wrong codes; ask for a new code",
                next_send,
                now,
            ));
        }
        CodeCheck::Missing => {
            state.metrics.sign_in_failures.inc();
            return Err(ApiError::Unauthorized(
                "no valid code for this number; ask for a new code".to_owned(),
            ));
        }
    }
    let user = state.repo.find_or_create_user(phone.as_str(), now).await?;
    let token = secret::new_token(secret::SESSION_PREFIX);
    let expires_at = now + to_chrono(auth.session_ttl);
    state
        .repo
        .create_session(&Session {
            token_hash: secret::token_hash(&token),
            user_id: user.id,
            created_at: now,
            expires_at,
        })
        .await?;
    state.metrics.sign_ins.inc();
    Ok(SignedIn {
        user,
        token,
        expires_at,
    })
}

/// A std duration as a chrono one (saturating at chrono's range).
pub fn to_chrono(duration: std::time::Duration) -> Duration {
    Duration::from_std(duration).unwrap_or(Duration::MAX)
}

/// The `429` for a limit that frees up at `free_at`: `message` followed by the wait in
/// words ("try again" becomes "try again in 55 minutes"), and the same wait in seconds
/// for `Retry-After`.
pub fn limited(
    code: &'static str,
    message: &str,
    free_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiError {
    let millis = (free_at - now).num_milliseconds().max(0) as u64;
    let retry_after = millis.div_ceil(1000).max(1);
    ApiError::TooManyRequests {
        code,
        message: format!("{message} in {}", wait_in_words(retry_after)),
        retry_after,
    }
}

/// A wait of `seconds` as a person says it, rounded up to the unit shown: "40 seconds"
/// under a minute, "55 minutes" under two hours, else "3 hours".
pub fn wait_in_words(seconds: u64) -> String {
    let (count, unit) = if seconds < 60 {
        (seconds, "second")
    } else if seconds < 2 * 3600 {
        (seconds.div_ceil(60), "minute")
    } else {
        (seconds.div_ceil(3600), "hour")
    };
    if count == 1 {
        format!("1 {unit}")
    } else {
        format!("{count} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_as_words() {
        assert_eq!(wait_in_words(1), "1 second");
        assert_eq!(wait_in_words(40), "40 seconds");
        assert_eq!(wait_in_words(60), "1 minute");
        assert_eq!(wait_in_words(61), "2 minutes");
        assert_eq!(wait_in_words(3303), "56 minutes");
        assert_eq!(wait_in_words(3600), "60 minutes");
        assert_eq!(wait_in_words(2 * 3600), "2 hours");
        assert_eq!(wait_in_words(2 * 3600 + 1), "3 hours");
    }
}
