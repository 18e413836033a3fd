//! What the simulated camera's HTTP server answers at each path, from the BlackVue
//! folder the simulator writes (`OUT/Record/`), read afresh on every request so that
//! files written, grown or deleted meanwhile are seen as a camera would show them.
//!
//! * BlackVue: `GET /blackvue_vod.cgi` answers `v:1.00` then `n:/Record/NAME,s:1000000`
//!   per video (CRLF; `s:` is a constant, not the size); every file of `Record/` (videos
//!   and sidecars) is at `/Record/NAME`.
//! * Viofo / Novatek: `GET /?custom=1&cmd=3015` answers the XML list of the videos, each
//!   renamed `YYYY_MMDD_HHMMSS_NNNN<view>.MP4` under `A:\DCIM\Movie\`, or
//!   `A:\DCIM\Movie\RO\` for the files the camera locked (BlackVue's `E` and `M`); a file
//!   is at its `FPATH` with `/` for `\` and no drive letter. Novatek cameras keep their
//!   telemetry inside the MP4, so no sidecar is served.

use std::path::{Path, PathBuf};

/// The camera protocol a simulated camera speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// BlackVue's `blackvue_vod.cgi` and `/Record/`.
    Blackvue,
    /// Viofo and other Novatek cameras: `?custom=1&cmd=3015` and `/DCIM/Movie/`.
    Novatek,
}

/// What a request is for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    /// A file listing: body and content type.
    Listing(String, &'static str),
    /// A file of the folder.
    File(PathBuf),
    /// Nothing there.
    NotFound,
}

/// Resolves `path` (and its `query`) against the camera folder `dir`.
pub(crate) fn resolve(
    dir: &Path,
    api: Api,
    path: &str,
    query: Option<&str>,
) -> std::io::Result<Target> {
    let record = dir.join("Record");
    match api {
        Api::Blackvue => {
            if path == "/blackvue_vod.cgi" {
                let mut body = String::from("v:1.00\r\n");
                for name in videos(&record)? {
                    body.push_str(&format!("n:/Record/{name},s:1000000\r\n"));
                }
                return Ok(Target::Listing(body, "text/plain"));
            }
            let Some(name) = path.strip_prefix("/Record/") else {
                return Ok(Target::NotFound);
            };
            Ok(file_named(&record, name))
        }
        Api::Novatek => {
            let pairs: Vec<&str> = query.unwrap_or_default().split('&').collect();
            if path == "/" && pairs.contains(&"custom=1") && pairs.contains(&"cmd=3015") {
                let list = novatek_files(&record)?;
                return Ok(Target::Listing(novatek_xml(&list), "text/xml"));
            }
            let found = novatek_files(&record)?
                .into_iter()
                .find(|f| f.url_path() == path);
            Ok(found.map_or(Target::NotFound, |f| Target::File(record.join(f.source))))
        }
    }
}

/// A plain file of `Record/` named `name` (one path component, not hidden).
fn file_named(record: &Path, name: &str) -> Target {
    if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) {
        return Target::NotFound;
    }
    let path = record.join(name);
    if path.is_file() {
        Target::File(path)
    } else {
        Target::NotFound
    }
}

/// The video names of `Record/` (BlackVue `YYYYMMDD_HHMMSS_TV.mp4`), sorted.
fn videos(record: &Path) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    let entries = match std::fs::read_dir(record) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(names),
        other => other?,
    };
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if blackvue_video(&name).is_some() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Date, time, type letter and view letter of a BlackVue video name.
fn blackvue_video(name: &str) -> Option<(&str, &str, char, char)> {
    let stem = name.strip_suffix(".mp4")?;
    let bytes = stem.as_bytes();
    if bytes.len() != 18 || bytes[8] != b'_' || bytes[15] != b'_' {
        return None;
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let (date, time) = (&stem[..8], &stem[9..15]);
    (digits(date) && digits(time)).then_some((
        date,
        time,
        char::from(bytes[16]),
        char::from(bytes[17]),
    ))
}

/// One video as a Novatek camera lists it.
#[derive(Debug, Clone, PartialEq)]
struct NovatekFile {
    /// The name in `Record/` it is served from.
    source: String,
    /// Its Novatek name.
    name: String,
    /// Locked by the camera (in `RO`).
    locked: bool,
    /// `YYYY/MM/DD HH:MM:SS`.
    time: String,
    size: u64,
}

impl NovatekFile {
    /// `A:\DCIM\Movie\[RO\]NAME`.
    fn fpath(&self) -> String {
        let folder = if self.locked { "RO\\" } else { "" };
        format!("A:\\DCIM\\Movie\\{folder}{}", self.name)
    }

    /// The path it is downloaded from.
    fn url_path(&self) -> String {
        self.fpath().trim_start_matches("A:").replace('\\', "/")
    }
}

/// The folder's videos renamed as a Novatek camera names them: numbered per recording
/// start, `F` road and `I` cabin, `E`/`M` files locked.
fn novatek_files(record: &Path) -> std::io::Result<Vec<NovatekFile>> {
    let mut files = Vec::new();
    let mut starts: Vec<String> = Vec::new();
    for source in videos(record)? {
        let Some((date, time, kind, view)) = blackvue_video(&source) else {
            continue;
        };
        let start = format!("{date}{time}");
        if starts.last() != Some(&start) {
            starts.push(start);
        }
        let size = match std::fs::metadata(record.join(&source)) {
            Ok(meta) => meta.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        files.push(NovatekFile {
            name: format!(
                "{}_{}_{time}_{:04}{view}.MP4",
                &date[..4],
                &date[4..],
                starts.len()
            ),
            locked: matches!(kind, 'E' | 'M'),
            time: format!(
                "{}/{}/{} {}:{}:{}",
                &date[..4],
                &date[4..6],
                &date[6..],
                &time[..2],
                &time[2..4],
                &time[4..]
            ),
            size,
            source,
        });
    }
    Ok(files)
}

/// The XML of `cmd=3015`.
fn novatek_xml(files: &[NovatekFile]) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<LIST>\n");
    for f in files {
        xml.push_str(&format!(
            "<ALLFile><File>\n<NAME>{}</NAME>\n<FPATH>{}</FPATH>\n<SIZE>{}</SIZE>\n\
             <TIMECODE>{}</TIMECODE>\n<TIME>{}</TIME>\n<ATTR>{}</ATTR></File>\n</ALLFile>\n",
            f.name,
            f.fpath(),
            f.size,
            fat_timecode(&f.time),
            f.time,
            if f.locked { 33 } else { 32 }
        ));
    }
    xml.push_str("</LIST>\n");
    xml
}

/// The FAT date-time a Novatek camera gives as `TIMECODE`, from `YYYY/MM/DD HH:MM:SS`.
fn fat_timecode(time: &str) -> u64 {
    let n: Vec<u64> = time
        .split(['/', ' ', ':'])
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    let [y, mo, d, h, mi, s] = n[..] else {
        return 0;
    };
    (y.saturating_sub(1980) << 25) | (mo << 21) | (d << 16) | (h << 11) | (mi << 5) | (s / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("Record");
        std::fs::create_dir_all(&record).unwrap();
        for (name, size) in [
            ("20261120_081500_NF.mp4", 10),
            ("20261120_081500_NI.mp4", 7),
            ("20261120_081500_N.gps", 3),
            ("20261120_081600_EF.mp4", 12),
            (".20261120_081700_NF.mp4.part", 1),
        ] {
            std::fs::write(record.join(name), vec![0u8; size]).unwrap();
        }
        dir
    }

    #[test]
    fn blackvue_lists_videos_and_serves_sidecars_by_name() {
        let dir = folder();
        let listing = resolve(dir.path(), Api::Blackvue, "/blackvue_vod.cgi", None).unwrap();
        assert_eq!(
            listing,
            Target::Listing(
                "v:1.00\r\nn:/Record/20261120_081500_NF.mp4,s:1000000\r\n\
                 n:/Record/20261120_081500_NI.mp4,s:1000000\r\n\
                 n:/Record/20261120_081600_EF.mp4,s:1000000\r\n"
                    .into(),
                "text/plain"
            )
        );
        let gps = resolve(
            dir.path(),
            Api::Blackvue,
            "/Record/20261120_081500_N.gps",
            None,
        );
        assert_eq!(
            gps.unwrap(),
            Target::File(dir.path().join("Record/20261120_081500_N.gps"))
        );
        for missing in [
            "/Record/20261120_081600_E.gps",
            "/Record/../simulation.json",
            "/Record/.20261120_081700_NF.mp4.part",
            "/other",
        ] {
            let target = resolve(dir.path(), Api::Blackvue, missing, None).unwrap();
            assert_eq!(target, Target::NotFound, "{missing}");
        }
    }

    #[test]
    fn novatek_lists_xml_and_locks_marked_files() {
        let dir = folder();
        let Target::Listing(xml, _) =
            resolve(dir.path(), Api::Novatek, "/", Some("custom=1&cmd=3015")).unwrap()
        else {
            panic!("a listing");
        };
        assert!(xml.contains(
            "<NAME>2026_1120_081500_0001F.MP4</NAME>\n\
             <FPATH>A:\\DCIM\\Movie\\2026_1120_081500_0001F.MP4</FPATH>\n<SIZE>10</SIZE>"
        ));
        assert!(xml.contains("<FPATH>A:\\DCIM\\Movie\\RO\\2026_1120_081600_0002F.MP4</FPATH>"));
        assert!(xml.contains("<TIME>2026/11/20 08:16:00</TIME>"));
        assert_eq!(xml.matches("<File>").count(), 3, "{xml}");
        let file = resolve(
            dir.path(),
            Api::Novatek,
            "/DCIM/Movie/RO/2026_1120_081600_0002F.MP4",
            None,
        );
        assert_eq!(
            file.unwrap(),
            Target::File(dir.path().join("Record/20261120_081600_EF.mp4"))
        );
        assert_eq!(
            resolve(dir.path(), Api::Novatek, "/blackvue_vod.cgi", None).unwrap(),
            Target::NotFound
        );
    }
}
