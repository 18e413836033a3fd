//! The camera the agent imports from: a folder (the card, mounted) or a camera on Wi-Fi.
//! Both give the same [`Found`] files, fetched into the phone storage whole and checked,
//! so the import does not care which.

use super::wifi::{WifiCamera, KEY_PREFIX};
use super::{scan, CameraFile, SidecarFile};
use crate::error::AgentError;
use crate::phone::{copy_file, persist, Written};
use std::path::{Path, PathBuf};

/// A camera.
#[derive(Debug, Clone)]
pub enum Camera {
    /// Its card's folder.
    Folder(PathBuf),
    /// Over its Wi-Fi.
    Wifi(WifiCamera),
}

/// What a camera holds now.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Video files, with their size when known without asking.
    pub recordings: Vec<(CameraFile, Option<u64>)>,
    /// Telemetry sidecars (for a Wi-Fi camera, the ones it may have: asked for by name).
    pub sidecars: Vec<SidecarFile>,
}

/// A video fetched, or why not.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    /// On the phone: its duration (ms), size and hash.
    Done(i64, Written),
    /// Not a readable video (yet): tried again next pass.
    NotReady,
    /// A finished file without a readable index (the camera's power was cut while it
    /// wrote it), fetched whole to this path beside the phone storage, to be rebuilt.
    NoIndex(PathBuf),
}

impl Camera {
    /// How the camera is named in the settings and `agent status`.
    pub fn describe(&self) -> String {
        match self {
            Camera::Folder(dir) => dir.to_string_lossy().into_owned(),
            Camera::Wifi(wifi) => wifi.base().to_string(),
        }
    }

    /// The files on the camera.
    pub async fn found(&self) -> Result<Found, AgentError> {
        match self {
            Camera::Folder(dir) => {
                let folder = dir.clone();
                let inventory = tokio::task::spawn_blocking(move || scan(&folder))
                    .await
                    .map_err(|e| AgentError::Request(format!("camera scan stopped: {e}")))?
                    .map_err(AgentError::io(dir))?;
                let recordings = inventory
                    .recordings
                    .into_iter()
                    .map(|f| {
                        let size = std::fs::metadata(&f.path).ok().map(|m| m.len());
                        (f, size)
                    })
                    .collect();
                Ok(Found {
                    recordings,
                    sidecars: inventory.sidecars,
                })
            }
            Camera::Wifi(wifi) => {
                let listed = wifi.list().await?;
                let mut sidecars: Vec<SidecarFile> = Vec::new();
                for l in &listed {
                    for path in wifi.sidecars(&l.path) {
                        let path = super::wifi::key(&path);
                        if !sidecars.iter().any(|s| s.path == path) {
                            sidecars.push(SidecarFile {
                                path,
                                start: l.file.start,
                            });
                        }
                    }
                }
                Ok(Found {
                    recordings: listed.into_iter().map(|l| (l.file, l.size)).collect(),
                    sidecars,
                })
            }
        }
    }

    /// The size of `file` when it is finished (the camera no longer writes it), `None`
    /// while it may still grow: in a folder, once its index reads or the camera `moved_on`
    /// (it wrote a later file of the view); on Wi-Fi, once its size held over two
    /// listings, or at once with `all_final`.
    pub async fn finished(
        &self,
        file: &CameraFile,
        listed: Option<u64>,
        (all_final, moved_on): (bool, bool),
    ) -> Result<Option<u64>, AgentError> {
        match self {
            // A file in a folder is finished once its index reads (the camera writes the
            // index last), checked before room is made for it; one the camera left without
            // an index (its power cut) once it went on to the next.
            Camera::Folder(_) => Ok(match listed {
                Some(size) if moved_on || duration_ms(&file.path).await.is_some() => Some(size),
                _ => None,
            }),
            Camera::Wifi(wifi) => {
                let path = remote(&file.path);
                let size = match listed {
                    Some(size) => size,
                    None => wifi.size(path).await?,
                };
                Ok((all_final || wifi.settled(path, size)).then_some(size))
            }
        }
    }

    /// Fetches the video `file` (`size` bytes) to `to` on the phone, through `partial`
    /// for a Wi-Fi camera, once its MP4 index reads; a file whose index does not read is
    /// fetched to `partial` as [`Fetched::NoIndex`] when `moved_on` (the camera went on
    /// to a later file of the view: it is not being written any more).
    pub async fn fetch_video(
        &self,
        file: &Path,
        (size, moved_on): (u64, bool),
        to: &Path,
        partial: &Path,
    ) -> Result<Fetched, AgentError> {
        match self {
            Camera::Folder(_) => match duration_ms(file).await {
                Some(duration_ms) => Ok(Fetched::Done(duration_ms, blocking_copy(file, to).await?)),
                None if moved_on => {
                    blocking_copy(file, partial).await?;
                    Ok(Fetched::NoIndex(partial.to_owned()))
                }
                None => Ok(Fetched::NotReady),
            },
            Camera::Wifi(wifi) => {
                let path = remote(file);
                let got = wifi.download(path, partial, Some(size)).await?;
                // Whole as the camera's answers say; shorter than listed, it is not the
                // file that was listed. Longer, it grew since (with `--once`): its index
                // says whether it is finished.
                if got < size {
                    return Err(AgentError::Request(format!(
                        "{path}: {got} bytes fetched, the camera listed {size}"
                    )));
                }
                let Some(duration_ms) = duration_ms(partial).await else {
                    if !moved_on {
                        return Ok(Fetched::NotReady);
                    }
                    wifi.taken(path);
                    return Ok(Fetched::NoIndex(partial.to_owned()));
                };
                let written = blocking_persist(partial, to).await?;
                wifi.taken(path);
                Ok(Fetched::Done(duration_ms, written))
            }
        }
    }

    /// Fetches a sidecar to `to`; `None` when the camera has none of that name.
    pub async fn fetch_sidecar(
        &self,
        file: &Path,
        to: &Path,
        partial: &Path,
    ) -> Result<Option<Written>, AgentError> {
        match self {
            Camera::Folder(_) => blocking_copy(file, to).await.map(Some),
            Camera::Wifi(wifi) => {
                if wifi.download_sidecar(remote(file), partial).await? {
                    blocking_persist(partial, to).await.map(Some)
                } else {
                    Ok(None)
                }
            }
        }
    }
}

/// The path on the camera's server of a recorded `wifi:/…` key.
fn remote(key: &Path) -> &str {
    key.to_str()
        .and_then(|k| k.strip_prefix(KEY_PREFIX))
        .unwrap_or_default()
}

/// Duration (ms) of a video, `None` while its index can not be read.
pub async fn duration_ms(path: &Path) -> Option<i64> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path).ok()?;
        match dashvault_media::Mp4Index::read(&file) {
            Ok(index) => Some((index.duration_seconds() * 1000.0).round() as i64),
            Err(e) => {
                tracing::info!(file = %path.display(), error = %e, "recording not readable yet; trying again next pass");
                None
            }
        }
    })
    .await
    .ok()
    .flatten()
}

async fn blocking_copy(from: &Path, to: &Path) -> Result<Written, AgentError> {
    let (from, to) = (from.to_owned(), to.to_owned());
    tokio::task::spawn_blocking(move || copy_file(&from, &to).map_err(AgentError::io(&from)))
        .await
        .map_err(|e| AgentError::Request(format!("copy stopped: {e}")))?
}

async fn blocking_persist(from: &Path, to: &Path) -> Result<Written, AgentError> {
    let (from, to) = (from.to_owned(), to.to_owned());
    tokio::task::spawn_blocking(move || persist(&from, &to).map_err(AgentError::io(&from)))
        .await
        .map_err(|e| AgentError::Request(format!("copy stopped: {e}")))?
}
