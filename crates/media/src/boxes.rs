//! The ISO-BMFF box layer: headers, four-character codes and walking a box tree.
//!
//! Box *contents* (sample tables, track headers, fragments) are decoded with the
//! `mp4-atom` crate. Walking the tree is done here, by hand, because the index reads
//! `moov` and each `moof` positionally from a [`ReadAt`](crate::ReadAt) source (it never
//! loads `mdat`), must keep the raw bytes of boxes it copies unchanged into cut output
//! (`stsd`, `hdlr`), must tolerate QuickTime-only boxes that a full `moov` decode
//! rejects, and must name the exact box path in every error.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::error::{Error, Result};
use crate::source::ReadAt;

/// A four-character code: a box type, handler type or codec (`moov`, `vide`, `avc1`…).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FourCc(pub [u8; 4]);

impl FourCc {
    /// The code from its four bytes.
    pub const fn new(code: &[u8; 4]) -> Self {
        FourCc(*code)
    }
}

impl fmt::Display for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in &self.0 {
            if b.is_ascii_graphic() || b == b' ' {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FourCc(\"{self}\")")
    }
}

impl Serialize for FourCc {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Where a box is in a file: its type, its offset and its sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BoxInfo {
    /// Box type.
    pub kind: FourCc,
    /// Offset of the first header byte from the start of the file.
    pub offset: u64,
    /// Header length: 8, or 16 with a 64-bit size.
    pub header_len: u64,
    /// Whole box size, header included.
    pub size: u64,
}

impl BoxInfo {
    /// Offset of the first body byte.
    pub fn body_offset(&self) -> u64 {
        self.offset + self.header_len
    }

    /// Body length in bytes.
    pub fn body_len(&self) -> u64 {
        self.size - self.header_len
    }

    /// Offset just past the box.
    pub fn end(&self) -> u64 {
        self.offset + self.size
    }
}

/// Decodes a box header from `bytes` (at least 8, 16 for a 64-bit size); `available` is
/// how many bytes remain in the parent from the header's first byte.
fn parse_header(bytes: &[u8], available: u64) -> std::result::Result<(FourCc, u64, u64), String> {
    let word = |at: usize| -> Option<u32> {
        bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    };
    let (Some(size32), Some(kind)) = (word(0), word(4)) else {
        return Err(format!(
            "box header truncated ({available} bytes left, need 8)"
        ));
    };
    let kind = FourCc(kind.to_be_bytes());
    let (header_len, size) = match size32 {
        0 => (8, available),
        1 => {
            let large = bytes
                .get(8..16)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| format!("`{kind}` 64-bit box size truncated"))?;
            (16, large)
        }
        n => (8, u64::from(n)),
    };
    if size < header_len {
        return Err(format!(
            "`{kind}` box size {size} is smaller than its header"
        ));
    }
    if size > available {
        return Err(format!(
            "`{kind}` box size {size} runs past the end of its parent ({available} bytes left)"
        ));
    }
    Ok((kind, header_len, size))
}

/// Reads the header of the box at `offset` in `src`, whose parent ends at `end`.
pub(crate) fn read_header<R: ReadAt + ?Sized>(
    src: &R,
    offset: u64,
    end: u64,
    at: &str,
) -> Result<BoxInfo> {
    let available = end.saturating_sub(offset);
    let mut buf = [0u8; 16];
    let n = usize::try_from(available.min(16)).unwrap_or(16);
    let head = buf.get_mut(..n).unwrap_or_default();
    src.read_exact_at(head, offset)?;
    let (kind, header_len, size) = parse_header(head, available)
        .map_err(|p| Error::malformed(at, format!("at offset {offset}: {p}")))?;
    Ok(BoxInfo {
        kind,
        offset,
        header_len,
        size,
    })
}

/// A box inside an in-memory buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawBox<'a> {
    /// Box type.
    pub kind: FourCc,
    /// The whole box, header included.
    pub data: &'a [u8],
    /// The body, after the header.
    pub body: &'a [u8],
}

/// Iterates over the boxes laid end to end in `buf`; `at` names the parent for errors.
pub(crate) fn children<'a>(buf: &'a [u8], at: &str) -> Children<'a> {
    Children {
        buf,
        at: at.to_string(),
        done: false,
    }
}

/// Iterator returned by [`children`].
pub(crate) struct Children<'a> {
    buf: &'a [u8],
    at: String,
    done: bool,
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<RawBox<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.buf.is_empty() {
            return None;
        }
        let parsed = parse_header(self.buf, self.buf.len() as u64).and_then(|(kind, h, size)| {
            let size = usize::try_from(size).map_err(|_| "box too large".to_string())?;
            let h = usize::try_from(h).map_err(|_| "box too large".to_string())?;
            match (
                self.buf.get(..size),
                self.buf.get(h..size),
                self.buf.get(size..),
            ) {
                (Some(data), Some(body), Some(rest)) => Ok((RawBox { kind, data, body }, rest)),
                _ => Err("box size out of range".to_string()),
            }
        });
        match parsed {
            Ok((raw, rest)) => {
                self.buf = rest;
                Some(Ok(raw))
            }
            Err(problem) => {
                self.done = true;
                Some(Err(Error::malformed(&self.at, problem)))
            }
        }
    }
}

/// Finds the body of the first box at `path` below `buf` (e.g. `["udta", "GPMF"]`).
pub(crate) fn find_path<'a>(buf: &'a [u8], path: &[&[u8; 4]]) -> Option<&'a [u8]> {
    let (first, rest) = path.split_first()?;
    let found = children(buf, "")
        .map_while(|r| r.ok())
        .find(|b| &b.kind.0 == *first)?;
    if rest.is_empty() {
        Some(found.body)
    } else {
        find_path(found.body, rest)
    }
}

/// Writes a box: a 32-bit size (or a 64-bit one when needed), the type, then the body.
pub(crate) fn write_box(out: &mut Vec<u8>, kind: &[u8; 4], body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(kind);
    body(out);
    let size = out.len() - start;
    let size32 = u32::try_from(size).unwrap_or(u32::MAX);
    if let Some(slot) = out.get_mut(start..start + 4) {
        slot.copy_from_slice(&size32.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_children_and_reports_overruns() {
        let mut buf = Vec::new();
        write_box(&mut buf, b"udta", |b| write_box(b, b"GPMF", |b| b.push(7)));
        assert_eq!(find_path(&buf, &[b"udta", b"GPMF"]), Some(&[7u8][..]));
        assert_eq!(find_path(&buf, &[b"udta", b"gps "]), None);
        let mut bad = buf.clone();
        bad[3] = 200;
        let err = children(&bad, "moov").next().unwrap().unwrap_err();
        assert!(err.to_string().contains("runs past the end"), "{err}");
    }

    #[test]
    fn header_sizes() {
        assert!(parse_header(&[0, 0, 0, 4, b'f', b'r', b'e', b'e'], 100).is_err());
        let large = [0, 0, 0, 1, b'm', b'd', b'a', b't', 0, 0, 0, 0, 0, 0, 0, 20];
        assert_eq!(parse_header(&large, 20).unwrap().2, 20);
        assert_eq!(
            parse_header(&[0, 0, 0, 0, b'm', b'd', b'a', b't'], 50)
                .unwrap()
                .2,
            50
        );
    }
}
