//! What a file that is not MP4 looks like, from its first bytes, so that an error can say
//! "not an MP4/MOV file (it looks like a PNG image)" instead of naming a box that is not
//! there.

use crate::source::ReadAt;

/// Top-level box types an MP4 or QuickTime file may start with.
const FIRST_BOXES: [&[u8; 4]; 13] = [
    b"ftyp", b"styp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid", b"moof",
    b"sidx", b"meta", b"pdin",
];

/// Magic numbers of common formats, and how to name them.
const MAGIC: [(&[u8], &str); 12] = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x1a\x45\xdf\xa3", "a Matroska/WebM video"),
    (b"RIFF", "a RIFF file (AVI video or WAV audio)"),
    (b"\x00\x00\x01\xba", "an MPEG program stream"),
    (b"ID3", "an MP3 audio file"),
    (b"\x7fELF", "an executable program"),
    (b"SQLite format 3\0", "an SQLite database"),
];

/// Bytes looked at: enough for every magic number and a box header.
const HEAD: usize = 16;

/// What the file in `src` looks like when it does not start with an MP4 box, e.g.
/// `"a PNG image"`, `"text"`; `None` when it starts like an MP4 (or is too short to tell),
/// so that the caller's own error stands.
pub(crate) fn not_mp4<R: ReadAt + ?Sized>(src: &R, file_len: u64) -> Option<&'static str> {
    let len = usize::try_from(file_len).map_or(HEAD, |len| len.min(HEAD));
    let mut head = [0u8; HEAD];
    let head = &mut head[..len];
    src.read_exact_at(head, 0).ok()?;
    looks_like(head)
}

/// See [`not_mp4`]: the name of the format `head` (a file's first bytes) starts with.
fn looks_like(head: &[u8]) -> Option<&'static str> {
    if head.len() < 8 || FIRST_BOXES.iter().any(|kind| head[4..8] == kind[..]) {
        return None;
    }
    if let Some((_, name)) = MAGIC.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Some(name);
    }
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // A multi-byte character cut off by the end of the head is still text.
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
        Err(_) => return Some("binary data of another format"),
    };
    if text.chars().all(|c| !c.is_control() || c.is_whitespace()) {
        Some("text")
    } else {
        Some("binary data of another format")
    }
}

#[cfg(test)]
mod tests {
    use super::looks_like;

    #[test]
    fn names_common_formats() {
        for (head, name) in [
            (&b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..], "a PNG image"),
            (b"\xff\xd8\xff\xe0\0\x10JFIF\0", "a JPEG image"),
            (b"PK\x03\x04\x14\0\0\0\x08\0", "a ZIP archive"),
            (b"# dashvault\n\nA self", "text"),
            ("ünïcödé text".as_bytes(), "text"),
            (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", "a Matroska/WebM video"),
            (
                b"\x01\x02\x03\x04\x05\x06\x07\x08",
                "binary data of another format",
            ),
        ] {
            assert_eq!(looks_like(head), Some(name), "{head:?}");
        }
    }

    #[test]
    fn mp4_starts_and_short_files_are_left_to_the_parser() {
        assert_eq!(looks_like(b"\0\0\0\x20ftypisom\0\0\x02\0"), None);
        assert_eq!(looks_like(b"\0\0\0\x08wide\0\0\0\x08mdat"), None);
        assert_eq!(looks_like(b"\0\0\0"), None);
    }
}
