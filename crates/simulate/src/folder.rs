//! The camera's `Record/` folder with loop recording: before a minute is written, the
//! oldest recordings (a video with its sidecars and other views, grouped by their start
//! time in the name) are deleted until the minute fits in the capacity.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Length of the `YYYYMMDD_HHMMSS` that starts every recording's file name.
const TIME_LEN: usize = 15;

/// A camera folder being written.
pub(crate) struct Folder {
    dir: PathBuf,
    capacity: Option<u64>,
    /// Recordings on the card by start time (`YYYYMMDD_HHMMSS`): their files and sizes.
    recordings: BTreeMap<String, Vec<(PathBuf, u64)>>,
}

/// True for `YYYYMMDD_HHMMSS_…` names: the recordings a BlackVue writes.
fn recording_time(name: &str) -> Option<&str> {
    let time = name.get(..TIME_LEN)?;
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    (digits(&time[..8])
        && &time[8..9] == "_"
        && digits(&time[9..])
        && name[TIME_LEN..].starts_with('_'))
    .then_some(time)
}

impl Folder {
    /// Opens (creating it) the folder `dir`, counting the recordings already there.
    pub(crate) fn open(dir: &Path, capacity: Option<u64>) -> Result<Folder> {
        fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
        let mut recordings: BTreeMap<String, Vec<(PathBuf, u64)>> = BTreeMap::new();
        let entries = fs::read_dir(dir).map_err(Error::io(format!("listing {}", dir.display())))?;
        for entry in entries {
            let entry = entry.map_err(Error::io(format!("listing {}", dir.display())))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(time) = recording_time(&name) else {
                continue;
            };
            let meta = entry
                .metadata()
                .map_err(Error::io(format!("reading {}", entry.path().display())))?;
            if meta.is_file() {
                recordings
                    .entry(time.to_owned())
                    .or_default()
                    .push((entry.path(), meta.len()));
            }
        }
        Ok(Folder {
            dir: dir.to_owned(),
            capacity,
            recordings,
        })
    }

    fn used(&self) -> u64 {
        self.recordings.values().flatten().map(|(_, len)| len).sum()
    }

    /// Writes the files of one recording (sidecars first, each under a hidden temporary
    /// name then renamed, so a watcher never sees half a file) after making room for it.
    /// Returns the paths deleted to make room.
    pub(crate) fn write(&mut self, files: &[(&str, &[u8])]) -> Result<Vec<PathBuf>> {
        let size: u64 = files.iter().map(|(_, data)| data.len() as u64).sum();
        // A file rewritten under the same name no longer counts with its old size.
        for (name, _) in files {
            let path = self.dir.join(name);
            for recording in self.recordings.values_mut() {
                recording.retain(|(old, _)| *old != path);
            }
        }
        let mut deleted = Vec::new();
        if let Some(capacity) = self.capacity {
            if size > capacity {
                return Err(Error::Options(format!(
                    "capacity of {capacity} bytes is less than one minute of recording ({size} bytes): raise --capacity"
                )));
            }
            while self.used() + size > capacity {
                let Some((_, oldest)) = self.recordings.pop_first() else {
                    break;
                };
                for (path, _) in oldest {
                    fs::remove_file(&path)
                        .map_err(Error::io(format!("deleting {}", path.display())))?;
                    deleted.push(path);
                }
            }
        }
        for (name, data) in files {
            let path = self.dir.join(name);
            let part = self.dir.join(format!(".{name}.part"));
            fs::write(&part, data).map_err(Error::io(format!("writing {}", part.display())))?;
            fs::rename(&part, &path)
                .map_err(Error::io(format!("renaming to {}", path.display())))?;
            if let Some(time) = recording_time(name) {
                self.recordings
                    .entry(time.to_owned())
                    .or_default()
                    .push((path, data.len() as u64));
            }
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loop_recording_deletes_the_oldest_recording_with_its_sidecars() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("notes.txt"), [0; 500]).unwrap();
        let mut folder = Folder::open(dir.path(), Some(250)).unwrap();
        let mut minute = |time: &str| {
            let (gps, mp4) = (format!("{time}_N.gps"), format!("{time}_NF.mp4"));
            folder.write(&[(gps.as_str(), &[0; 20]), (mp4.as_str(), &[0; 80])])
        };
        assert!(minute("20261120_081500").unwrap().is_empty());
        assert!(minute("20261120_081600").unwrap().is_empty());
        let deleted = minute("20261120_081700").unwrap();
        let names: Vec<_> = deleted
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2);
        assert!(
            names.iter().all(|n| n.starts_with("20261120_081500")),
            "{names:?}"
        );
        assert!(
            dir.path().join("notes.txt").exists(),
            "other files are left alone"
        );
        assert!(minute("20261120_081700").unwrap().is_empty());
        let reopened = Folder::open(dir.path(), Some(250)).unwrap();
        assert_eq!(reopened.used(), 200);
        assert_eq!(folder.used(), 200, "a rewritten file counts once");
        let err = folder.write(&[("20261120_081800_NF.mp4", &[0; 300])]);
        assert!(err.unwrap_err().is_options());
    }
}
