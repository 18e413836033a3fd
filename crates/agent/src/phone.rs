//! The phone storage: files written so that a crash leaves either no file or the whole
//! one (a temporary name, fsync, rename, fsync of the folder), hashed on the way.
//!
//! Layout under the storage directory: `phone/recordings/YYYY-MM-DD/<camera name>`,
//! `phone/sidecars/YYYY-MM-DD/<camera name>`, `phone/clips/<clip id>.mp4`,
//! `phone/timelapses/drive-<id>.mp4`; `phone/partial/<camera name>` while a Wi-Fi
//! download is under way, `phone/marked/<camera name>` for a marked cabin-view file
//! waiting to become a clip.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Size and SHA-256 (lower-case hex) of a file written to the phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Bytes.
    pub size: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
}

/// Where the phone's files of each kind go.
#[derive(Debug, Clone)]
pub struct Phone {
    root: PathBuf,
}

impl Phone {
    /// The phone storage inside the agent's storage directory.
    pub fn new(storage_dir: &Path) -> Self {
        Self {
            root: storage_dir.join("phone"),
        }
    }

    /// Its root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a camera recording of that day goes.
    pub fn recording(&self, start: DateTime<Utc>, name: &str) -> PathBuf {
        self.root
            .join("recordings")
            .join(start.format("%Y-%m-%d").to_string())
            .join(name)
    }

    /// Where a camera sidecar of that day goes.
    pub fn sidecar(&self, start: DateTime<Utc>, name: &str) -> PathBuf {
        self.root
            .join("sidecars")
            .join(start.format("%Y-%m-%d").to_string())
            .join(name)
    }

    /// Where a clip goes.
    pub fn clip(&self, id: uuid::Uuid) -> PathBuf {
        self.root.join("clips").join(format!("{id}.mp4"))
    }

    /// Where a file being fetched from a Wi-Fi camera grows until it is whole.
    pub fn partial(&self, name: &str) -> PathBuf {
        self.partials().join(name)
    }

    /// The folder of [`Phone::partial`] files.
    pub fn partials(&self) -> PathBuf {
        self.root.join("partial")
    }

    /// Where a cabin-view file the camera marked waits for its drive to become a clip.
    pub fn marked(&self, name: &str) -> PathBuf {
        self.root.join("marked").join(name)
    }

    /// Where a drive's time-lapse goes.
    pub fn timelapse(&self, drive: i64) -> PathBuf {
        self.root
            .join("timelapses")
            .join(format!("drive-{drive}.mp4"))
    }
}

/// Copies `from` to `to` atomically, returning its size and hash.
pub fn copy_file(from: &Path, to: &Path) -> std::io::Result<Written> {
    let mut source = File::open(from)?;
    write_atomically(to, |out| {
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = source.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            out.write_all(&buf[..n])?;
        }
    })
}

/// Moves the whole file `from` (fetched beside the phone storage) to `to`: hashed,
/// synced, renamed, the folder synced.
pub fn persist(from: &Path, to: &Path) -> std::io::Result<Written> {
    let mut file = File::open(from)?;
    let mut hashing = Hashing {
        inner: std::io::sink(),
        hasher: Sha256::new(),
        size: 0,
    };
    std::io::copy(&mut file, &mut hashing)?;
    file.sync_all()?;
    let dir = to.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    std::fs::rename(from, to)?;
    File::open(dir)?.sync_all()?;
    Ok(Written {
        size: hashing.size,
        sha256: hex(&hashing.hasher.finalize()),
    })
}

/// Writes `to` atomically with what `fill` writes, returning its size and hash.
pub fn write_atomically(
    to: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<Written> {
    let dir = to.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temp = tempfile::Builder::new()
        .prefix(".incoming-")
        .tempfile_in(dir)?;
    let mut out = Hashing {
        inner: temp.as_file(),
        hasher: Sha256::new(),
        size: 0,
    };
    fill(&mut out)?;
    let written = Written {
        size: out.size,
        sha256: hex(&out.hasher.finalize()),
    };
    temp.as_file().sync_all()?;
    temp.persist(to).map_err(|e| e.error)?;
    File::open(dir)?.sync_all()?;
    Ok(written)
}

/// Deletes a phone file; one already gone is not an error.
pub fn remove_file(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A writer that counts and hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_is_whole_and_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("a");
        std::fs::write(&from, b"abc").unwrap();
        let to = dir.path().join("x/y/b");
        let written = copy_file(&from, &to).unwrap();
        assert_eq!(written.size, 3);
        assert_eq!(
            written.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(std::fs::read(&to).unwrap(), b"abc");
        assert_eq!(std::fs::read_dir(to.parent().unwrap()).unwrap().count(), 1);
        remove_file(&to).unwrap();
        remove_file(&to).unwrap();
    }

    #[test]
    fn a_failed_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let to = dir.path().join("c");
        let err = write_atomically(&to, |out| {
            out.write_all(b"half")?;
            Err(std::io::Error::other("camera unplugged"))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
