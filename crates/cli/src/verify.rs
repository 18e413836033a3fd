//! `dashvault verify BUNDLE.zip`: checks an evidence bundle, offline with `--key`: the
//! manifest's signature, every file's SHA-256 and size, that each included original is
//! the file the server hashed at ingest, and that every sample of the video is bytes of
//! an included original at the ranges the manifest lists. Prints each check; the first
//! that fails stops it with exit status 1, naming what does not hold.

use anyhow::{bail, Context};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use clap::Args;
use dashvault_media::Mp4Index;
use dashvault_server::evidence::manifest::{self, Manifest, Original};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use tempfile::NamedTempFile;

/// Bytes compared at a time.
const CHUNK: u64 = 1 << 20;

/// Flags of `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The bundle: a ZIP from `GET /api/v1/clips/{id}/evidence`.
    #[arg(value_name = "BUNDLE.zip")]
    bundle: PathBuf,

    /// The server's public evidence key (base64), as `dashvault admin evidence-key`
    /// prints it: the check needs no network.
    #[arg(long, value_name = "BASE64", required_unless_present = "server")]
    key: Option<String>,

    /// Fetch the public key from this server (`/api/v1/evidence/key`) instead.
    #[arg(long, value_name = "URL", conflicts_with = "key")]
    server: Option<url::Url>,
}

/// Run `verify`.
pub fn run(args: VerifyArgs) -> anyhow::Result<()> {
    let key_text = match (&args.key, &args.server) {
        (Some(key), _) => key.clone(),
        (None, Some(server)) => fetch_key(server)?,
        (None, None) => bail!("give --key or --server"),
    };
    let key = public_key(&key_text)?;
    let file =
        File::open(&args.bundle).with_context(|| format!("opening {}", args.bundle.display()))?;
    let mut zip = zip::ZipArchive::new(file).context("the bundle is not a ZIP")?;
    let manifest_bytes = read_small(&mut zip, manifest::MANIFEST)?;
    let signature = read_small(&mut zip, manifest::SIGNATURE)?;
    let signature = Signature::from_slice(&signature)
        .map_err(|_| refused("manifest.sig is not an Ed25519 signature (64 bytes)"))?;
    key.verify(&manifest_bytes, &signature).map_err(|_| {
        refused("manifest.sig does not match manifest.json: the manifest was changed, or signed by another key")
    })?;
    println!("ok  signature of manifest.json by ed25519 key {key_text}");
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| refused(&format!("manifest.json can not be read: {e}")))?;
    if manifest.format != manifest::FORMAT {
        bail!(refused(&format!(
            "unknown bundle format {:?}",
            manifest.format
        )));
    }
    let extracted = check_files(&mut zip, &manifest)?;
    check_originals(&manifest, &extracted)?;
    check_video(&manifest, &extracted)?;
    println!(
        "verified: clip {} of {} (serial {}), {} to {} ({} clock)",
        manifest.clip.id,
        manifest.device.model,
        manifest.device.serial,
        manifest.window.start.to_rfc3339(),
        manifest.window.end.to_rfc3339(),
        manifest.window.clock
    );
    Ok(())
}

/// A failed check, as the error `verify` ends with.
fn refused(reason: &str) -> anyhow::Error {
    anyhow::anyhow!("refused: {reason}")
}

/// The public key from its base64 text.
fn public_key(text: &str) -> anyhow::Result<VerifyingKey> {
    let bytes: [u8; 32] = STANDARD
        .decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .context("the key is not the base64 of 32 bytes (an Ed25519 public key)")?;
    VerifyingKey::from_bytes(&bytes).context("the key is not an Ed25519 public key")
}

/// The public key a server publishes.
fn fetch_key(server: &url::Url) -> anyhow::Result<String> {
    #[derive(serde::Deserialize)]
    struct Published {
        algorithm: String,
        public_key: String,
    }
    let url = server.join("/api/v1/evidence/key")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let published: Published = runtime
        .block_on(async {
            reqwest::get(url.clone())
                .await?
                .error_for_status()?
                .json()
                .await
        })
        .with_context(|| format!("fetching the evidence key from {url}"))?;
    if published.algorithm != "ed25519" {
        bail!(
            "{url} names the algorithm {:?}, not ed25519",
            published.algorithm
        );
    }
    Ok(published.public_key)
}

/// A small entry's bytes (the manifest, the signature).
fn read_small(zip: &mut zip::ZipArchive<File>, name: &str) -> anyhow::Result<Vec<u8>> {
    let mut entry = zip
        .by_name(name)
        .map_err(|_| refused(&format!("the bundle has no {name}")))?;
    let mut bytes = Vec::new();
    entry
        .by_ref()
        .take(16 << 20)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {name}"))?;
    Ok(bytes)
}

/// Every entry is listed, every listed file is there with its hash and size; each is
/// extracted to a temporary file (by its path in the bundle).
fn check_files(
    zip: &mut zip::ZipArchive<File>,
    manifest: &Manifest,
) -> anyhow::Result<HashMap<String, NamedTempFile>> {
    let listed: HashMap<&str, _> = manifest
        .files
        .iter()
        .map(|f| (f.path.as_str(), f))
        .collect();
    for name in zip.file_names() {
        let name = name.map_err(|e| refused(&format!("a file name in the bundle: {e}")))?;
        let name = name.as_ref();
        if name != manifest::MANIFEST && name != manifest::SIGNATURE && !listed.contains_key(name) {
            bail!(refused(&format!(
                "{name} is in the bundle but not in the manifest"
            )));
        }
    }
    let mut extracted = HashMap::new();
    for file in &manifest.files {
        let mut entry = zip.by_name(&file.path).map_err(|_| {
            refused(&format!(
                "{} is in the manifest but not in the bundle",
                file.path
            ))
        })?;
        let mut temp = NamedTempFile::new()?;
        let mut hashing = Hashing::default();
        std::io::copy(&mut entry, &mut Tee(&mut hashing, temp.as_file_mut()))
            .with_context(|| format!("reading {}", file.path))?;
        let sha256 = hex::encode(hashing.hasher.finalize());
        if sha256 != file.sha256 || hashing.len != file.size {
            bail!(refused(&format!(
                "{} has SHA-256 {sha256} and {} bytes; the manifest says {} and {} bytes",
                file.path, hashing.len, file.sha256, file.size
            )));
        }
        println!("ok  {}: {} bytes, SHA-256 {sha256}", file.path, file.size);
        extracted.insert(file.path.clone(), temp);
    }
    Ok(extracted)
}

/// Each included original is the file hashed at ingest.
fn check_originals(
    manifest: &Manifest,
    extracted: &HashMap<String, NamedTempFile>,
) -> anyhow::Result<()> {
    for original in &manifest.originals {
        let Some(path) = &original.path else {
            println!(
                "--  {} {} not included ({}): SHA-256 {} ({} bytes) as hashed at ingest",
                original.kind,
                original.id,
                original
                    .not_included
                    .as_deref()
                    .unwrap_or("no reason given"),
                original.sha256,
                original.size
            );
            continue;
        };
        let listed = manifest
            .files
            .iter()
            .find(|f| &f.path == path)
            .ok_or_else(|| refused(&format!("original {path} is not among the bundle's files")))?;
        if listed.sha256 != original.sha256
            || listed.size != original.size
            || !extracted.contains_key(path)
        {
            bail!(refused(&format!(
                "{path} is not the file hashed at ingest (SHA-256 {}, {} bytes)",
                original.sha256, original.size
            )));
        }
        println!(
            "ok  {path}: the {} {} as hashed at ingest",
            original.kind, original.id
        );
    }
    Ok(())
}

/// The video's bytes at each listed range are the original's, and every sample of every
/// track of the video lies in those ranges.
fn check_video(
    manifest: &Manifest,
    extracted: &HashMap<String, NamedTempFile>,
) -> anyhow::Result<()> {
    let video = extracted
        .get(manifest::VIDEO)
        .ok_or_else(|| refused("the bundle has no video.mp4"))?;
    let mut spans = Vec::new();
    for original in manifest.originals.iter().filter(|o| !o.ranges.is_empty()) {
        let Some(file) = original.path.as_ref().and_then(|p| extracted.get(p)) else {
            println!(
                "--  the video's {} ranges from {} {} are not checked: the file is not included",
                original.ranges.len(),
                original.kind,
                original.id
            );
            continue;
        };
        compare_ranges(video.as_file(), file.as_file(), original)?;
        spans.extend(
            original
                .ranges
                .iter()
                .map(|r| (r.video_offset, r.video_offset + r.length)),
        );
    }
    let spans = union(spans);
    let index = Mp4Index::read(video.as_file())
        .map_err(|e| refused(&format!("video.mp4 is not a readable MP4: {e}")))?;
    let mut samples = 0usize;
    for track in &index.tracks {
        for sample in &track.samples {
            let (start, end) = (sample.offset, sample.offset + u64::from(sample.size));
            let at = spans.partition_point(|&(s, _)| s <= start);
            let inside = at > 0 && spans[at - 1].1 >= end;
            if !inside {
                bail!(refused(&format!(
                    "video.mp4 has a sample of track {} at bytes {start}..{end} that no listed range of an included original covers",
                    track.id
                )));
            }
            samples += 1;
        }
    }
    println!(
        "ok  video.mp4: its {samples} samples ({} tracks) are bytes of the originals at the listed ranges",
        index.tracks.len()
    );
    Ok(())
}

/// The byte spans `[start, end)` merged where they overlap or touch, in order.
fn union(mut spans: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    spans.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// Each range of `original` is the same bytes in `video` and in the original's file.
fn compare_ranges(mut video: &File, mut file: &File, original: &Original) -> anyhow::Result<()> {
    let name = original.path.as_deref().unwrap_or_default();
    for range in &original.ranges {
        let mut done = 0;
        while done < range.length {
            let n = CHUNK.min(range.length - done);
            let (mut a, mut b) = (vec![0; n as usize], vec![0; n as usize]);
            let read = video
                .seek(SeekFrom::Start(range.video_offset + done))
                .and_then(|_| video.read_exact(&mut a))
                .and_then(|()| file.seek(SeekFrom::Start(range.offset + done)))
                .and_then(|_| file.read_exact(&mut b));
            if read.is_err() || a != b {
                bail!(refused(&format!(
                    "video.mp4 bytes {}..{} are not {name} bytes {}..{}",
                    range.video_offset,
                    range.video_offset + range.length,
                    range.offset,
                    range.offset + range.length
                )));
            }
            done += n;
        }
    }
    println!(
        "ok  video.mp4: {} ranges are bytes of {name}",
        original.ranges.len()
    );
    Ok(())
}

/// SHA-256 and length of what passes through.
#[derive(Default)]
struct Hashing {
    hasher: Sha256,
    len: u64,
}

/// A writer that feeds `Hashing` and writes on to a file.
struct Tee<'a>(&'a mut Hashing, &'a mut File);

impl std::io::Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.1.write(buf)?;
        self.0.hasher.update(&buf[..n]);
        self.0.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.1.flush()
    }
}
