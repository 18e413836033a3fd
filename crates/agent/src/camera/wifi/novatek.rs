//! Viofo and other Novatek cameras over Wi-Fi: `GET /?custom=1&cmd=3015` answers an XML
//! list, `<LIST><ALLFile><File><NAME>…</NAME><FPATH>A:\DCIM\Movie\…</FPATH><SIZE>…</SIZE>
//! …</File></ALLFile>…</LIST>`; a file is downloaded at its `FPATH` mapped to a path
//! (`A:\DCIM\Movie\RO\x` → `/DCIM/Movie/RO/x`). `RO` holds the files the camera locked.

use quick_xml::events::Event;
use quick_xml::Reader;

/// The listing's path and query.
pub const LIST_PATH: &str = "/?custom=1&cmd=3015";

/// One file of the list: its path on the camera's HTTP server and its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// `/DCIM/Movie/…`.
    pub path: String,
    /// Bytes, as the camera has them now.
    pub size: Option<u64>,
}

/// The files of a `cmd=3015` answer; `None` when it is not XML with a `LIST` root.
pub fn parse_list(xml: &str) -> Option<Vec<Listed>> {
    let mut reader = Reader::from_str(xml);
    let mut files = Vec::new();
    let (mut element, mut fpath, mut size) = (Vec::new(), None, None);
    let mut seen_list = false;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                element = e.name().as_ref().to_ascii_uppercase();
                seen_list |= element == b"LIST";
                if element == b"FILE" {
                    (fpath, size) = (None, None);
                }
            }
            Event::Text(text) => {
                let text = text.decode().ok()?;
                match element.as_slice() {
                    b"FPATH" => fpath = path(text.trim()),
                    b"SIZE" => size = text.trim().parse().ok(),
                    _ => {}
                }
            }
            Event::End(e) => {
                if e.name().as_ref().eq_ignore_ascii_case(b"FILE") {
                    if let Some(path) = fpath.take() {
                        files.push(Listed { path, size });
                    }
                }
                element.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    seen_list.then_some(files)
}

/// `A:\DCIM\Movie\RO\x` → `/DCIM/Movie/RO/x`; `None` for anything that would leave the
/// card (`..`) or is empty.
pub fn path(fpath: &str) -> Option<String> {
    let without_drive = match fpath.split_once(':') {
        Some((drive, rest)) if drive.len() == 1 => rest,
        _ => fpath,
    };
    let parts: Vec<&str> = without_drive
        .split(['\\', '/'])
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() || parts.iter().any(|p| *p == ".." || *p == ".") {
        return None;
    }
    Some(format!("/{}", parts.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_viofo_list_maps_fpath_to_paths() {
        let xml = r"<?xml version='1.0' encoding='UTF-8' ?>
<LIST><ALLFile><File><NAME>2026_1120_081500_0001F.MP4</NAME>
<FPATH>A:\DCIM\Movie\2026_1120_081500_0001F.MP4</FPATH><SIZE>31457280</SIZE>
<TIMECODE>1526923264</TIMECODE><TIME>2026/11/20 08:15:00</TIME><ATTR>32</ATTR></File></ALLFile>
<ALLFile><File><NAME>2026_1120_081600_0002F.MP4</NAME>
<FPATH>A:\DCIM\Movie\RO\2026_1120_081600_0002F.MP4</FPATH><SIZE>12</SIZE>
<ATTR>33</ATTR></File></ALLFile>
<ALLFile><File><NAME>x</NAME><FPATH>A:\..\secret</FPATH><SIZE>1</SIZE></File></ALLFile></LIST>";
        assert_eq!(
            parse_list(xml).unwrap(),
            [
                Listed {
                    path: "/DCIM/Movie/2026_1120_081500_0001F.MP4".into(),
                    size: Some(31_457_280)
                },
                Listed {
                    path: "/DCIM/Movie/RO/2026_1120_081600_0002F.MP4".into(),
                    size: Some(12)
                },
            ]
        );
        assert_eq!(parse_list("<LIST></LIST>").unwrap(), []);
        assert_eq!(parse_list("v:1.00\r\n"), None);
    }
}
