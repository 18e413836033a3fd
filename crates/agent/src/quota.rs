//! How much of its filesystem the phone storage may use: a share of the filesystem's size
//! (50 % by default, as DESIGN.md says) or a number of bytes.

use std::path::Path;
use std::str::FromStr;

/// The default share of the filesystem, percent.
pub const DEFAULT_PERCENT: f64 = 50.0;

/// A quota as the user gives it: `--quota 2000000000` or `--quota 30%`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quota {
    /// An absolute number of bytes.
    Bytes(u64),
    /// A share of the size of the filesystem the storage lives on, in percent.
    Percent(f64),
}

impl Default for Quota {
    fn default() -> Self {
        Quota::Percent(DEFAULT_PERCENT)
    }
}

impl FromStr for Quota {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some(percent) = text.strip_suffix('%') {
            return match percent.trim().parse::<f64>() {
                Ok(p) if p > 0.0 && p <= 100.0 => Ok(Quota::Percent(p)),
                _ => Err(format!(
                    "quota {text:?}: a percentage must be a number above 0 and at most 100, e.g. 50%"
                )),
            };
        }
        text.parse::<u64>().map(Quota::Bytes).map_err(|_| {
            format!("quota {text:?} must be a number of bytes (e.g. 2000000000) or a percentage (e.g. 50%)")
        })
    }
}

impl Quota {
    /// The quota in bytes for storage in `dir` (which must exist).
    pub fn bytes(self, dir: &Path) -> std::io::Result<u64> {
        match self {
            Quota::Bytes(bytes) => Ok(bytes),
            Quota::Percent(percent) => {
                let fs = rustix::fs::statvfs(dir)?;
                let total = fs.f_blocks.saturating_mul(fs.f_frsize);
                Ok((total as f64 * percent / 100.0) as u64)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_parse_and_resolve() {
        assert_eq!("1000".parse(), Ok(Quota::Bytes(1000)));
        assert_eq!("25%".parse(), Ok(Quota::Percent(25.0)));
        assert!("0%".parse::<Quota>().is_err());
        assert!("lots".parse::<Quota>().is_err());
        let dir = tempfile::tempdir().unwrap();
        let half = Quota::default().bytes(dir.path()).unwrap();
        let all = Quota::Percent(100.0).bytes(dir.path()).unwrap();
        assert!(half > 0 && half <= all / 2 + 1);
        assert_eq!(Quota::Bytes(7).bytes(dir.path()).unwrap(), 7);
    }
}
