//! Recording what is done with a clip: best effort (a failure is logged, never fails the
//! request it came with), one `play` per viewing, and an anonymous viewer's address
//! kept only as its network (`/24` for IPv4, `/48` for IPv6).

use crate::auth::owner::Owner;
use crate::state::AppState;
use axum::http::{header, HeaderMap, Method};
use dashvault_store::model::{Activity, ActivityAction, ActivityVia};
use std::net::IpAddr;
use uuid::Uuid;

/// Through what the owner acted: a device token or a session.
pub fn via(owner: &Owner) -> ActivityVia {
    if owner.device.is_some() {
        ActivityVia::Device
    } else {
        ActivityVia::Session
    }
}

/// Plays this close together (same way in, same network) are one viewing.
const VIEWING: chrono::Duration = chrono::Duration::seconds(30);

/// Ranges from byte 0 shorter than this are a player's probe (Safari asks for `0-1`
/// before it plays), not the start of a viewing.
const PROBE_BYTES: u64 = 1024;

/// What a request for a clip's video counts as: a `download`, the first request of a
/// viewing (`play`: no `Range`, or one from byte 0 that is not a probe; a player's later
/// ranges are the same viewing), or nothing (`HEAD`, probes, later ranges).
pub fn video_action(
    method: &Method,
    headers: &HeaderMap,
    download: bool,
) -> Option<ActivityAction> {
    if method != Method::GET {
        return None;
    }
    let from_start = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|range| {
            let from_zero = range
                .trim()
                .strip_prefix("bytes=")
                .and_then(|r| r.trim().strip_prefix("0-"));
            from_zero.is_some_and(|end| {
                end.is_empty() || end.parse::<u64>().is_ok_and(|end| end + 1 >= PROBE_BYTES)
            })
        });
    match (download, from_start) {
        (true, true) => Some(ActivityAction::Download),
        (false, true) => Some(ActivityAction::Play),
        (_, false) => None,
    }
}

/// The network of a client address: `a.b.c.0/24` or the first 48 bits `/48`; `None`
/// for text that is not an address.
pub fn ip_prefix(ip: &str) -> Option<String> {
    match ip.trim().parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            Some(format!("{a}.{b}.{c}.0/24"))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]))
        }
    }
}

/// Record `action` on `user`'s clip, logging (not failing) when it can not be. A play
/// right after a play through the same way (and network) is the same viewing restarted
/// from its start, not another one.
pub async fn record(
    state: &AppState,
    (user, clip): (Uuid, Uuid),
    action: ActivityAction,
    via: ActivityVia,
    ip: Option<&str>,
) {
    let activity = Activity {
        id: Uuid::now_v7(),
        user_id: user,
        clip_id: clip,
        at: state.clock.now(),
        action,
        via,
        ip_prefix: ip.and_then(ip_prefix),
    };
    let done = async {
        if action == ActivityAction::Play {
            let last = state.repo.clip_activity(user, clip, None, 1).await?;
            if last.first().is_some_and(|a| same_viewing(a, &activity)) {
                return Ok(false);
            }
        }
        state.repo.record_activity(&activity).await
    };
    if let Err(err) = done.await {
        tracing::warn!(%err, %clip, action = action.as_str(), "could not record a clip's activity");
    }
}

/// Whether `next` is a play of the viewing `last` was (a player seeking back to the
/// start, or asking for the first bytes again).
fn same_viewing(last: &Activity, next: &Activity) -> bool {
    last.action == ActivityAction::Play
        && last.via == next.via
        && last.ip_prefix == next.ip_prefix
        && next.at - last.at < VIEWING
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn addresses_keep_only_their_network() {
        assert_eq!(ip_prefix("203.0.113.77").as_deref(), Some("203.0.113.0/24"));
        assert_eq!(
            ip_prefix("2001:db8:abcd:12:1::5").as_deref(),
            Some("2001:db8:abcd::/48")
        );
        assert_eq!(ip_prefix("unknown"), None);
    }

    #[test]
    fn a_viewing_is_its_first_request() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            video_action(&Method::GET, &headers, false),
            Some(ActivityAction::Play)
        );
        assert_eq!(video_action(&Method::HEAD, &headers, false), None);
        assert_eq!(
            video_action(&Method::GET, &headers, true),
            Some(ActivityAction::Download)
        );
        headers.insert(header::RANGE, HeaderValue::from_static("bytes=0-"));
        assert_eq!(
            video_action(&Method::GET, &headers, false),
            Some(ActivityAction::Play)
        );
        headers.insert(header::RANGE, HeaderValue::from_static("bytes=0-1"));
        assert_eq!(video_action(&Method::GET, &headers, false), None, "a probe");
        headers.insert(header::RANGE, HeaderValue::from_static("bytes=0-65535"));
        assert_eq!(
            video_action(&Method::GET, &headers, false),
            Some(ActivityAction::Play)
        );
        headers.insert(header::RANGE, HeaderValue::from_static("bytes=65536-"));
        assert_eq!(video_action(&Method::GET, &headers, false), None);
    }
}
