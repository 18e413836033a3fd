//! An output file described as bytes to send: written headers and ranges of the sources.
//!
//! A cut or time-lapse is never materialised: the server streams any byte range of a
//! [`CutPlan`] straight from the stored recordings (with an exact `Content-Length`), and
//! the agent writes one with kernel copies between files.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::ops::Range;

use crate::error::{Error, Result};
use crate::source::ReadAt;

/// One piece of an output file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Bytes made by this crate (`ftyp`, `moov`, the `mdat` header).
    Bytes(Vec<u8>),
    /// `len` bytes at `offset` of input file number `file`.
    Source {
        /// Index of the input file in the list given to the cut or time-lapse.
        file: usize,
        /// Offset in that file.
        offset: u64,
        /// Number of bytes.
        len: u64,
    },
}

impl Part {
    fn len(&self) -> u64 {
        match self {
            Part::Bytes(b) => b.len() as u64,
            Part::Source { len, .. } => *len,
        }
    }
}

/// A borrowed piece of a byte range of a plan; see [`CutPlan::slices`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slice<'a> {
    /// Bytes to send as they are.
    Bytes(&'a [u8]),
    /// Bytes to copy from an input file.
    Source {
        /// Index of the input file.
        file: usize,
        /// Offset in that file.
        offset: u64,
        /// Number of bytes.
        len: u64,
    },
}

/// A whole output file as an ordered list of parts.
#[derive(Debug, Clone, PartialEq)]
pub struct CutPlan {
    parts: Vec<Part>,
    /// Start offset of each part in the output.
    starts: Vec<u64>,
    len: u64,
    duration: f64,
}

impl CutPlan {
    pub(crate) fn new(parts: Vec<Part>, duration: f64) -> Self {
        let mut starts = Vec::with_capacity(parts.len());
        let mut len = 0;
        for p in &parts {
            starts.push(len);
            len += p.len();
        }
        CutPlan {
            parts,
            starts,
            len,
            duration,
        }
    }

    /// The parts, in output order.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// Exact length of the output in bytes (the `Content-Length`).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True for an empty output (never the case for a built plan).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Presentation duration of the output in seconds.
    pub fn duration(&self) -> f64 {
        self.duration
    }

    /// The pieces that make up bytes `range` of the output (an HTTP Range request),
    /// clamped to the output length.
    pub fn slices(&self, range: Range<u64>) -> impl Iterator<Item = Slice<'_>> + '_ {
        let end = range.end.min(self.len);
        let start = range.start.min(end);
        let first = self
            .starts
            .partition_point(|&s| s <= start)
            .saturating_sub(1);
        self.parts
            .iter()
            .zip(&self.starts)
            .skip(first)
            .take_while(move |(_, &s)| s < end)
            .filter_map(move |(part, &s)| {
                let from = start.max(s) - s;
                let to = end.min(s + part.len()) - s;
                if from >= to {
                    return None;
                }
                Some(match part {
                    Part::Bytes(b) => {
                        Slice::Bytes(b.get(from as usize..to as usize).unwrap_or_default())
                    }
                    Part::Source { file, offset, .. } => Slice::Source {
                        file: *file,
                        offset: offset + from,
                        len: to - from,
                    },
                })
            })
    }

    /// Writes bytes `range` of the output to `out`, reading the sources through [`ReadAt`]
    /// with a bounded buffer.
    pub fn write_range<R: ReadAt, W: Write + ?Sized>(
        &self,
        sources: &[R],
        range: Range<u64>,
        out: &mut W,
    ) -> Result<u64> {
        const CHUNK: u64 = 1 << 20;
        let mut buf = Vec::new();
        let mut written = 0;
        for slice in self.slices(range) {
            match slice {
                Slice::Bytes(b) => out.write_all(b)?,
                Slice::Source { file, offset, len } => {
                    let src = source(sources, file)?;
                    let mut done = 0;
                    while done < len {
                        let n = (len - done).min(CHUNK) as usize;
                        buf.resize(n, 0);
                        src.read_exact_at(&mut buf, offset + done)?;
                        out.write_all(&buf)?;
                        done += n as u64;
                    }
                }
            }
            written += match slice {
                Slice::Bytes(b) => b.len() as u64,
                Slice::Source { len, .. } => len,
            };
        }
        Ok(written)
    }

    /// Writes the whole output to `out`. Source ranges go through [`io::copy`], which on
    /// Linux copies between files (and to pipes) in the kernel (`copy_file_range`,
    /// `sendfile`, `splice`) without passing the bytes through user space.
    pub fn write_to<W: Write>(&self, sources: &[File], out: &mut W) -> Result<u64> {
        for part in &self.parts {
            match part {
                Part::Bytes(b) => out.write_all(b)?,
                Part::Source { file, offset, len } => {
                    let mut src = source(sources, *file)?;
                    src.seek(SeekFrom::Start(*offset))?;
                    let copied = io::copy(&mut io::Read::take(src, *len), out)?;
                    if copied != *len {
                        return Err(Error::Io(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("input file {file} ended {} bytes early", len - copied),
                        )));
                    }
                }
            }
        }
        out.flush()?;
        Ok(self.len)
    }
}

fn source<R>(sources: &[R], file: usize) -> Result<&R> {
    sources.get(file).ok_or_else(|| {
        Error::Request(format!(
            "plan refers to input file {file}, but only {} given",
            sources.len()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_map_to_parts() {
        let plan = CutPlan::new(
            vec![
                Part::Bytes(b"head".to_vec()),
                Part::Source {
                    file: 0,
                    offset: 10,
                    len: 5,
                },
                Part::Bytes(b"!".to_vec()),
            ],
            1.0,
        );
        assert_eq!(plan.len(), 10);
        let src = vec![b"0123456789abcdefghij".to_vec()];
        let mut out = Vec::new();
        plan.write_range(&src, 0..100, &mut out).unwrap();
        assert_eq!(out, b"headabcde!");
        for a in 0..=10 {
            for b in a..=11 {
                let mut part = Vec::new();
                plan.write_range(&src, a..b, &mut part).unwrap();
                assert_eq!(part, out[a as usize..(b.min(10)) as usize], "{a}..{b}");
            }
        }
    }
}
