//! Which network the phone is on, read from the OS where it can tell: NetworkManager
//! (`nmcli`: a mobile broadband device, or any connection NetworkManager calls metered —
//! a phone hotspot is — counts as cellular), else `/sys/class/net` (a `ww*` interface is
//! cellular; any other is taken as unmetered: sysfs knows nothing of hotspots).

use std::path::Path;
use std::process::Command;

/// The network uploads would go over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// Unmetered (WiFi, Ethernet).
    Wifi,
    /// Metered: mobile data, or a phone hotspot.
    Cellular,
    /// No network.
    Offline,
}

impl Network {
    /// The name `dashvault agent network` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wifi => "wifi",
            Self::Cellular => "cellular",
            Self::Offline => "offline",
        }
    }

    /// Parse `wifi`, `cellular` or `offline`.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Wifi, Self::Cellular, Self::Offline]
            .into_iter()
            .find(|n| n.as_str() == text)
    }
}

/// The network as the OS reports it; `None` when it can not tell.
pub fn detect() -> Option<Network> {
    from_network_manager().or_else(|| from_sysfs(Path::new("/sys/class/net")))
}

/// From `nmcli`, when NetworkManager runs.
fn from_network_manager() -> Option<Network> {
    let output = Command::new("nmcli")
        .args(["-t", "-f", "DEVICE,TYPE,STATE", "device"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let devices = String::from_utf8_lossy(&output.stdout);
    let connected: Vec<(&str, &str)> = devices
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(':');
            let (device, kind, state) = (fields.next()?, fields.next()?, fields.next()?);
            (state == "connected" && kind != "loopback").then_some((device, kind))
        })
        .collect();
    Some(classify(connected.iter().map(|&(device, kind)| {
        matches!(kind, "gsm" | "cdma" | "wwan") || nm_metered(device)
    })))
}

/// NetworkManager's metered flag of a device's connection (`yes`, `yes (guessed)`, …).
fn nm_metered(device: &str) -> bool {
    Command::new("nmcli")
        .args(["-t", "-g", "GENERAL.METERED", "device", "show", device])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim_start()
                .starts_with("yes")
        })
}

/// From the kernel's interfaces that are up, loopback aside: cellular when all are
/// mobile broadband (`ww*`), else WiFi. `None` when none is up: sysfs can not tell
/// offline from a container's virtual interfaces, and taking a wrong "offline" would
/// stop every upload.
fn from_sysfs(root: &Path) -> Option<Network> {
    let mut up = Vec::new();
    for entry in std::fs::read_dir(root).ok()?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let state = std::fs::read_to_string(entry.path().join("operstate")).unwrap_or_default();
        if name != "lo" && matches!(state.trim(), "up" | "unknown") {
            up.push(name);
        }
    }
    if up.is_empty() {
        return None;
    }
    Some(classify(up.iter().map(|name| name.starts_with("ww"))))
}

/// Unmetered if any connection is, cellular if only metered ones are, offline if none
/// (one `metered` flag per connection).
fn classify(connections: impl Iterator<Item = bool>) -> Network {
    let mut network = Network::Offline;
    for metered in connections {
        if !metered {
            return Network::Wifi;
        }
        network = Network::Cellular;
    }
    network
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for network in [Network::Wifi, Network::Cellular, Network::Offline] {
            assert_eq!(Network::parse(network.as_str()), Some(network));
        }
        assert_eq!(Network::parse("5g"), None);
    }

    #[test]
    fn any_unmetered_connection_wins() {
        assert_eq!(classify([].into_iter()), Network::Offline);
        assert_eq!(classify([true].into_iter()), Network::Cellular);
        assert_eq!(classify([true, false].into_iter()), Network::Wifi);
    }

    #[test]
    fn sysfs_interfaces_up_count() {
        let root = tempfile::tempdir().unwrap();
        let add = |name: &str, state: &str| {
            let dir = root.path().join(name);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("operstate"), format!("{state}\n")).unwrap();
        };
        add("lo", "unknown");
        assert_eq!(from_sysfs(root.path()), None);
        add("wwan0", "up");
        assert_eq!(from_sysfs(root.path()), Some(Network::Cellular));
        add("wlan0", "down");
        assert_eq!(from_sysfs(root.path()), Some(Network::Cellular));
        add("wlp2s0", "up");
        assert_eq!(from_sysfs(root.path()), Some(Network::Wifi));
    }
}
