//! The upload policy of issue 9: what may go up now, on this network.
//!
//! * automatic clips: at once, over any network, first in line;
//! * telemetry sidecars: with the first clip or recording of their time, any network;
//! * manual clips: on WiFi, or on cellular when the user allowed it and the monthly
//!   cellular budget (if one is set) is not spent — every upload over cellular counts
//!   against it, automatic clips too, though they go regardless;
//! * drives (time-lapses, recordings): only on WiFi, and never for camera models that
//!   don't upload drives;
//! * nothing while offline.
//!
//! The network is the one set with `dashvault agent network wifi|cellular|offline` when
//! set (the user knows a tethered phone the OS can not see), else the OS's
//! ([`super::network::detect`]), else WiFi. The settings live in the state database
//! under the keys below; the cellular bytes sent are counted per calendar month (UTC).

use super::network::{self, Network};
use super::queue::{Priority, QueuedUpload};
use crate::state::{State, StateError};
use chrono::{DateTime, Utc};

/// Setting: the network set by hand (`wifi`, `cellular`, `offline`; absent or `auto`:
/// ask the OS).
pub const NETWORK_SETTING: &str = "network";
/// Setting: `true` when manual clips may go over cellular.
pub const MANUAL_ON_CELLULAR_SETTING: &str = "allow_manual_on_cellular";
/// Setting: the monthly cellular budget in bytes (absent: no budget).
pub const CELLULAR_BUDGET_SETTING: &str = "cellular_budget_bytes";
/// Setting: `false` when the camera model does not upload drives.
pub const UPLOADS_DRIVES_SETTING: &str = "uploads_drives";

/// What the policy says about one upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send it now.
    Allowed,
    /// Not now, for this reason.
    HeldBack(&'static str),
}

/// The rules' inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The network uploads would go over.
    pub network: Network,
    /// Whether manual clips may go over cellular.
    pub allow_manual_on_cellular: bool,
    /// Bytes a month sent over cellular (all uploads count) after which manual clips
    /// wait for WiFi (`None`: no limit).
    pub cellular_budget: Option<u64>,
    /// Whether this camera model uploads drives.
    pub uploads_drives: bool,
}

impl Policy {
    /// The policy from the settings in `state` and the OS's network.
    pub async fn load(state: &State) -> Result<Self, StateError> {
        let network = match state.setting(NETWORK_SETTING).await?.as_deref() {
            Some(text) => Network::parse(text),
            None => None,
        };
        let network = network.or_else(network::detect).unwrap_or(Network::Wifi);
        let flag = |value: Option<String>, default: bool| {
            value.map_or(default, |v| {
                matches!(v.as_str(), "true" | "yes" | "on" | "1")
            })
        };
        Ok(Self {
            network,
            allow_manual_on_cellular: flag(state.setting(MANUAL_ON_CELLULAR_SETTING).await?, false),
            cellular_budget: state
                .setting(CELLULAR_BUDGET_SETTING)
                .await?
                .and_then(|v| v.parse().ok()),
            uploads_drives: flag(state.setting(UPLOADS_DRIVES_SETTING).await?, true),
        })
    }

    /// What to do with `upload` now, `cellular_spent` bytes of this month's budget being
    /// used. A sidecar's answer is its partners' ([`Self::decide_sidecar`]).
    pub fn decide(&self, upload: &QueuedUpload, cellular_spent: u64) -> Decision {
        if self.network == Network::Offline {
            return Decision::HeldBack("offline");
        }
        let wifi = self.network == Network::Wifi;
        match upload.item.priority {
            Priority::AutoClip | Priority::Sidecar => Decision::Allowed,
            Priority::ManualClip if wifi => Decision::Allowed,
            Priority::ManualClip if !self.allow_manual_on_cellular => {
                Decision::HeldBack("manual clips wait for WiFi (cellular not allowed)")
            }
            Priority::ManualClip
                if self
                    .cellular_budget
                    .is_some_and(|budget| cellular_spent >= budget) =>
            {
                Decision::HeldBack("this month's cellular budget is spent")
            }
            Priority::ManualClip => Decision::Allowed,
            Priority::Drive if !self.uploads_drives => {
                Decision::HeldBack("this camera model does not upload drives")
            }
            Priority::Drive if wifi => Decision::Allowed,
            Priority::Drive => Decision::HeldBack("drives wait for WiFi"),
        }
    }

    /// A sidecar goes when one of `partners` (the clips, recordings and time-lapses of
    /// its time) is up already or may go now.
    pub fn decide_sidecar(&self, partners: &[QueuedUpload], cellular_spent: u64) -> Decision {
        use super::queue::Status;
        if self.network == Network::Offline {
            return Decision::HeldBack("offline");
        }
        let goes = partners.iter().any(|p| {
            p.status == Status::Done || self.decide(p, cellular_spent) == Decision::Allowed
        });
        if goes {
            Decision::Allowed
        } else {
            Decision::HeldBack("waits for a clip or recording of its time")
        }
    }
}

/// The calendar month (UTC) `at` counts in, `YYYY-MM`.
fn month(at: DateTime<Utc>) -> String {
    at.format("%Y-%m").to_string()
}

/// Cellular bytes sent in the month of `at`.
pub async fn cellular_spent(state: &State, at: DateTime<Utc>) -> Result<u64, StateError> {
    let bytes: Option<i64> = sqlx::query_scalar("SELECT bytes FROM cellular_usage WHERE month = ?")
        .bind(month(at))
        .fetch_optional(state.pool())
        .await?;
    Ok(bytes.and_then(|b| u64::try_from(b).ok()).unwrap_or(0))
}

/// Count `bytes` sent over cellular at `at`.
pub async fn add_cellular(state: &State, at: DateTime<Utc>, bytes: u64) -> Result<(), StateError> {
    sqlx::query(
        "INSERT INTO cellular_usage (month, bytes) VALUES (?, ?) \
         ON CONFLICT (month) DO UPDATE SET bytes = bytes + excluded.bytes",
    )
    .bind(month(at))
    .bind(i64::try_from(bytes).unwrap_or(i64::MAX))
    .execute(state.pool())
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::queue::{Kind, NewUpload, Status, View};
    use std::path::PathBuf;

    fn upload(priority: Priority) -> QueuedUpload {
        let start = Utc::now();
        QueuedUpload {
            id: 1,
            item: NewUpload {
                path: PathBuf::from("/x"),
                kind: Kind::Clip,
                priority,
                start,
                end: start,
                view: View::Road,
                clip: None,
                incidents: Vec::new(),
                sha256: String::new(),
                size: 1,
                filename: "x".into(),
                clock: crate::upload::Clock::Camera,
                original_size: None,
            },
            tus_url: None,
            offset: 0,
            status: Status::Queued,
            attempts: 0,
            last_error: None,
            next_attempt_at: None,
        }
    }

    fn policy(network: Network) -> Policy {
        Policy {
            network,
            allow_manual_on_cellular: false,
            cellular_budget: None,
            uploads_drives: true,
        }
    }

    #[test]
    fn the_rules_of_issue_9() {
        use Decision::Allowed;
        let all = [
            Priority::AutoClip,
            Priority::Sidecar,
            Priority::ManualClip,
            Priority::Drive,
        ];
        let decide = |p: &Policy| all.map(|priority| p.decide(&upload(priority), 0) == Allowed);
        assert_eq!(decide(&policy(Network::Wifi)), [true, true, true, true]);
        assert_eq!(
            decide(&policy(Network::Cellular)),
            [true, true, false, false]
        );
        assert_eq!(decide(&policy(Network::Offline)), [false; 4]);
        let mut cellular = policy(Network::Cellular);
        cellular.allow_manual_on_cellular = true;
        assert_eq!(decide(&cellular), [true, true, true, false]);
        cellular.cellular_budget = Some(100);
        assert_eq!(cellular.decide(&upload(Priority::ManualClip), 99), Allowed);
        assert_ne!(cellular.decide(&upload(Priority::ManualClip), 100), Allowed);
        assert_eq!(cellular.decide(&upload(Priority::AutoClip), 1000), Allowed);
        let mut no_drives = policy(Network::Wifi);
        no_drives.uploads_drives = false;
        assert_ne!(no_drives.decide(&upload(Priority::Drive), 0), Allowed);
    }

    #[test]
    fn a_sidecar_goes_with_its_partner() {
        let cellular = policy(Network::Cellular);
        assert_ne!(cellular.decide_sidecar(&[], 0), Decision::Allowed);
        let drive = upload(Priority::Drive);
        assert_ne!(
            cellular.decide_sidecar(std::slice::from_ref(&drive), 0),
            Decision::Allowed
        );
        let mut uploaded = drive;
        uploaded.status = Status::Done;
        assert_eq!(cellular.decide_sidecar(&[uploaded], 0), Decision::Allowed);
        let clip = upload(Priority::AutoClip);
        assert_eq!(cellular.decide_sidecar(&[clip], 0), Decision::Allowed);
    }

    #[tokio::test]
    async fn settings_and_cellular_spending_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(dir.path()).await.unwrap();
        state
            .set_setting(NETWORK_SETTING, "cellular")
            .await
            .unwrap();
        state
            .set_setting(MANUAL_ON_CELLULAR_SETTING, "true")
            .await
            .unwrap();
        state
            .set_setting(CELLULAR_BUDGET_SETTING, "5000")
            .await
            .unwrap();
        state
            .set_setting(UPLOADS_DRIVES_SETTING, "false")
            .await
            .unwrap();
        let loaded = Policy::load(&state).await.unwrap();
        assert_eq!(
            loaded,
            Policy {
                network: Network::Cellular,
                allow_manual_on_cellular: true,
                cellular_budget: Some(5000),
                uploads_drives: false,
            }
        );
        let now = Utc::now();
        add_cellular(&state, now, 300).await.unwrap();
        add_cellular(&state, now, 200).await.unwrap();
        assert_eq!(cellular_spent(&state, now).await.unwrap(), 500);
        let next_month = now + chrono::Duration::days(32);
        assert_eq!(cellular_spent(&state, next_month).await.unwrap(), 0);
    }
}
