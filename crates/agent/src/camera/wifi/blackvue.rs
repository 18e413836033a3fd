//! BlackVue over Wi-Fi: `GET /blackvue_vod.cgi` answers `v:1.00` then one line per
//! recording, `n:/Record/20170709_085527_NF.mp4,s:1000000` (CRLF; `s:` is not the size).
//! Sidecars are not listed: `BASE_N.gps` and `BASE_N.3gf` (`BASE` the date-time part,
//! `N` the recording's type letter) are asked for by name, and a 404 means none.

/// The listing's path.
pub const LIST_PATH: &str = "/blackvue_vod.cgi";

/// The recordings' paths in a `blackvue_vod.cgi` answer; lines of another form are
/// skipped. `None` when the answer is not one (no `v:` version line first).
pub fn parse_list(text: &str) -> Option<Vec<String>> {
    let mut lines = text.lines().map(str::trim);
    lines.next()?.strip_prefix("v:")?;
    Some(
        lines
            .filter_map(|line| line.strip_prefix("n:"))
            .filter_map(|line| line.split(',').next())
            .filter(|path| path.starts_with("/Record/") && !path.contains(".."))
            .map(str::to_owned)
            .collect(),
    )
}

/// The sidecar paths of the recording at `path` (`/Record/BASE_TV….mp4`): its `.gps`
/// and `.3gf`, shared by the views of one minute.
pub fn sidecars(path: &str) -> Vec<String> {
    let Some((dir, name)) = path.rsplit_once('/') else {
        return Vec::new();
    };
    // `YYYYMMDD_HHMMSS_` and the type letter.
    match name.get(..17) {
        Some(stem) if name.is_char_boundary(17) => [".gps", ".3gf"]
            .iter()
            .map(|ext| format!("{dir}/{stem}{ext}"))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vod_listing_names_the_recordings() {
        let text = "v:1.00\r\nn:/Record/20170709_085527_NF.mp4,s:1000000\r\n\
                    n:/Record/20170709_085527_NR.mp4,s:1000000\r\nnoise\r\nn:/etc/passwd,s:1\r\n";
        assert_eq!(
            parse_list(text).unwrap(),
            [
                "/Record/20170709_085527_NF.mp4",
                "/Record/20170709_085527_NR.mp4"
            ]
        );
        assert_eq!(parse_list("v:1.00\r\n").unwrap(), Vec::<String>::new());
        assert_eq!(parse_list("<html>"), None);
    }

    #[test]
    fn sidecars_are_named_after_the_minute_and_type() {
        assert_eq!(
            sidecars("/Record/20170709_085527_EF.mp4"),
            [
                "/Record/20170709_085527_E.gps",
                "/Record/20170709_085527_E.3gf"
            ]
        );
        assert!(sidecars("/Record/short.mp4").is_empty());
    }
}
