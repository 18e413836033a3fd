//! What a camera's memory card holds, whatever its maker: the recordings (one file per
//! view and about a minute) and the telemetry sidecars beside them.
//!
//! Three layouts are read, each from its file names alone (the names carry the start
//! time, the view and whether the camera marked the file as an event):
//! * [`blackvue`] — `Record/YYYYMMDD_HHMMSS_<type><view>.mp4` with `.gps` / `.3gf`
//!   sidecars (also what `dashvault simulate camera` writes);
//! * [`novatek`] — Viofo and other Novatek cameras, `DCIM/Movie` and the locked `RO`
//!   folder, `YYYY_MMDD_HHMMSS_NNNN<view>.MP4`;
//! * [`tesla`] — `TeslaCam/RecentClips|SavedClips|SentryClips`,
//!   `YYYY-MM-DD_HH-MM-SS-<camera>.mp4`.
//!
//! The camera is read from its folder, or over its Wi-Fi ([`wifi`], files fetched by
//! [`download`]); [`source::Camera`] is either.
//!
//! Cameras name files on their own clock, which has no time zone; the time in a name is
//! kept as it is here (a UTC time of the same digits). Uploads move it to true UTC by
//! the offset the drive's GPS time gives ([`crate::clock`]), or the server reads it in
//! the device's time zone.

pub mod blackvue;
pub mod download;
pub mod novatek;
pub mod source;
pub mod tesla;
pub mod wifi;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use std::path::{Path, PathBuf};

/// Which way a camera looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    /// Through the windscreen: the view drives and clips are made of.
    Road,
    /// Inside the car; stays on the camera until a cabin-view clip is made.
    Cabin,
    /// Any other camera (rear window, Tesla's side repeaters and pillars); stays on the camera.
    Other,
}

impl View {
    /// The server's name of the view (`road`, `cabin`), `None` for views it does not keep.
    pub fn name(self) -> Option<&'static str> {
        match self {
            View::Road => Some("road"),
            View::Cabin => Some("cabin"),
            View::Other => None,
        }
    }
}

/// One video file on the camera.
#[derive(Debug, Clone, PartialEq)]
pub struct CameraFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its start time, from its name.
    pub start: DateTime<Utc>,
    /// Which camera recorded it.
    pub view: View,
    /// True when the camera itself marked it (impact, manual button, locked folder).
    pub event: bool,
    /// For the marked files kept whole as a clip: why.
    pub mark: Option<Mark>,
}

/// Why the camera itself kept a file that becomes one clip of the whole file: BlackVue
/// `E` and `M` recordings, Novatek's locked `RO` files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// An impact the camera sensed (BlackVue `E`, Novatek `RO`): an automatic clip.
    Event,
    /// The driver pressed the camera's button (BlackVue `M`): a manual clip.
    Manual,
}

impl Mark {
    /// The name kept in the agent's database.
    pub fn as_str(self) -> &'static str {
        match self {
            Mark::Event => "event",
            Mark::Manual => "manual",
        }
    }

    /// The mark of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Mark::Event, Mark::Manual]
            .into_iter()
            .find(|m| m.as_str() == text)
    }
}

/// One telemetry file on the camera (BlackVue `.gps` or `.3gf`).
#[derive(Debug, Clone, PartialEq)]
pub struct SidecarFile {
    /// Where it is.
    pub path: PathBuf,
    /// Start time of the recording it belongs to, from its name.
    pub start: DateTime<Utc>,
}

/// Everything found on a camera, each list sorted by start time then path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    /// Video files.
    pub recordings: Vec<CameraFile>,
    /// Telemetry sidecars.
    pub sidecars: Vec<SidecarFile>,
}

/// What a name parser makes of one file name.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// A video file: start, view, camera-marked event.
    Video(DateTime<Utc>, View, bool),
    /// A telemetry sidecar of the recording started then.
    Sidecar(DateTime<Utc>),
}

/// Reads a camera folder: its root, or any folder inside it holding one of the layouts
/// (`Record/`, `DCIM/Movie`, `DCIM/RO`, `TeslaCam/…`). Files that no layout names are
/// skipped; a missing or unreadable folder is an error.
pub fn scan(root: &Path) -> std::io::Result<Inventory> {
    let mut inventory = Inventory::default();
    walk(root, root, 0, &mut inventory)?;
    let key = |start: &DateTime<Utc>, path: &Path| (*start, path.to_owned());
    inventory.recordings.sort_by_key(|f| key(&f.start, &f.path));
    inventory.sidecars.sort_by_key(|f| key(&f.start, &f.path));
    Ok(inventory)
}

/// Deepest folder level looked into (Tesla's `SavedClips/<event>/` is 3 below the root).
const MAX_DEPTH: usize = 5;

fn walk(root: &Path, dir: &Path, depth: usize, out: &mut Inventory) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if depth < MAX_DEPTH {
                walk(root, &path, depth + 1, out)?;
            }
            continue;
        }
        if !kind.is_file() {
            continue;
        }
        let relative = path.strip_prefix(root).unwrap_or(&path);
        match parse(relative) {
            Some(Parsed::Video(start, view, event)) => out.recordings.push(CameraFile {
                mark: mark(relative),
                path,
                start,
                view,
                event,
            }),
            Some(Parsed::Sidecar(start)) => out.sidecars.push(SidecarFile { path, start }),
            None => {}
        }
    }
    Ok(())
}

/// Recognises one file by its path relative to the camera root (folders matter for
/// Novatek's `RO` and Tesla's clip folders).
pub fn parse(relative: &Path) -> Option<Parsed> {
    let (name, folders) = split(relative)?;
    blackvue::parse(name)
        .or_else(|| novatek::parse(name, &folders))
        .or_else(|| tesla::parse(name, &folders))
}

/// The mark of a video file kept whole as a clip, by its path relative to the camera root.
pub fn mark(relative: &Path) -> Option<Mark> {
    let (name, folders) = split(relative)?;
    blackvue::mark(name).or_else(|| novatek::mark(name, &folders))
}

/// A relative path's file name and the folders above it.
fn split(relative: &Path) -> Option<(&str, Vec<&str>)> {
    let name = relative.file_name()?.to_str()?;
    let folders = relative
        .parent()
        .map(|p| p.iter().filter_map(|c| c.to_str()).collect())
        .unwrap_or_default();
    Some((name, folders))
}

/// `YYYY MM DD HH MM SS` as numbers to a UTC time; `None` when not a real date and time.
pub(crate) fn utc(date: (i32, u32, u32), time: (u32, u32, u32)) -> Option<DateTime<Utc>> {
    let date = NaiveDate::from_ymd_opt(date.0, date.1, date.2)?;
    let time = NaiveTime::from_hms_opt(time.0, time.1, time.2)?;
    Some(NaiveDateTime::new(date, time).and_utc())
}

/// The number in `digits` when it is all ASCII digits.
pub(crate) fn number<T: std::str::FromStr>(digits: &str) -> Option<T> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `name` without its extension when the extension is one of `extensions` (any case).
pub(crate) fn strip_extension<'a>(name: &'a str, extensions: &[&str]) -> Option<(&'a str, String)> {
    let (stem, ext) = name.rsplit_once('.')?;
    let ext = ext.to_ascii_lowercase();
    extensions.contains(&ext.as_str()).then_some((stem, ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mixed_card_is_listed_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("BlackVue/Record");
        std::fs::create_dir_all(&record).unwrap();
        for name in [
            "20261120_081602_NF.mp4",
            "20261120_081502_NF.mp4",
            "20261120_081502_NR.mp4",
            "20261120_081502_N.gps",
            "20261120_081502_N.3gf",
            "notes.txt",
        ] {
            std::fs::write(record.join(name), b"x").unwrap();
        }
        let inventory = scan(dir.path()).unwrap();
        let names: Vec<_> = inventory
            .recordings
            .iter()
            .map(|f| f.path.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "20261120_081502_NF.mp4",
                "20261120_081502_NR.mp4",
                "20261120_081602_NF.mp4"
            ]
        );
        assert_eq!(inventory.sidecars.len(), 2);
        assert!(scan(&dir.path().join("missing")).is_err());
    }
}
