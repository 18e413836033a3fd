//! Walking the media data of a recording that has no index: where the `mdat` body is,
//! which of its bytes are length-prefixed NAL units of the video, and which samples
//! (access units) they make. What is not video (audio chunks, the cut-off end) is left
//! as gaps between runs of video.

use super::codec::Codec;
use super::order::{ParameterSets, SliceInfo};
use crate::error::{Error, Result};
use crate::source::ReadAt;

/// Bytes read from the start of each NAL unit: the header and enough of a slice header
/// to reach its picture order count.
const HEAD: usize = 64;
/// Largest parameter set or SEI accepted (real ones are tens to hundreds of bytes).
const MAX_NON_VCL: u64 = 64 << 10;
/// Largest step of the picture order count from one picture to the next accepted
/// (H.265); a step back may be half as large.
const MAX_POC_STEP: u32 = 32;
/// Bytes of the file read at a time.
const WINDOW: usize = 4 << 20;

/// The body of the recording's `mdat`.
#[derive(Debug, Clone, Copy)]
pub(super) struct MediaData {
    /// Offset of the first byte.
    pub start: u64,
    /// Offset just past the last byte present in the file.
    pub end: u64,
    /// The `mdat` declares its size and the file holds all of it.
    pub complete: bool,
}

/// Finds the first `mdat` among the top-level boxes: its size may be 0 (never written)
/// or run past the end of the file (cut off); boxes before it must be whole.
pub(super) fn media_data<R: ReadAt + ?Sized>(src: &R) -> Result<MediaData> {
    let len = src.size()?;
    let mut offset = 0u64;
    while len.saturating_sub(offset) >= 8 {
        let mut head = [0u8; 16];
        let n = (len - offset).min(16) as usize;
        src.read_exact_at(&mut head[..n], offset)?;
        let size32 = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let (header, size) = match size32 {
            1 if n == 16 => (
                16,
                u64::from_be_bytes(head[8..16].try_into().unwrap_or_default()),
            ),
            n => (8, u64::from(n)),
        };
        if &head[4..8] == b"mdat" {
            let start = offset + header;
            let declared = (size >= header).then(|| offset + size);
            return Ok(MediaData {
                start,
                end: declared.unwrap_or(len).min(len),
                complete: declared.is_some_and(|e| e <= len),
            });
        }
        if size < header {
            break;
        }
        offset += size;
    }
    Err(Error::malformed(
        "file",
        "no mdat box: nothing to recover samples from",
    ))
}

/// One NAL unit found in the media data.
#[derive(Debug, Clone)]
struct Nal {
    /// Offset of its length prefix.
    offset: u64,
    /// Length prefix and payload.
    size: u64,
    kind: u8,
    /// The first bytes of the payload (all of it for parameter sets).
    head: Vec<u8>,
    /// What its slice header says (slices only).
    slice: Option<SliceInfo>,
}

impl Nal {
    fn end(&self) -> u64 {
        self.offset + self.size
    }
}

/// One recovered sample: a whole access unit.
#[derive(Debug, Clone)]
pub(super) struct Unit {
    pub offset: u64,
    pub size: u64,
    /// Holds an IDR (H.264) or IRAP (H.265) picture.
    pub sync: bool,
    /// Holds an IDR picture (the picture order count starts again).
    pub idr: bool,
    /// What its first slice header says, if it could be read.
    pub slice: Option<SliceInfo>,
    /// Its last byte is 0.
    ends_in_zero: bool,
}

/// The video found in the media data.
#[derive(Debug, Default)]
pub(super) struct Scanned {
    /// Samples in decode order (the last one dropped when the data was cut off).
    pub units: Vec<Unit>,
    /// Byte ranges that are not video, in order.
    pub gaps: Vec<(u64, u64)>,
    /// The distinct parameter sets the recording carries in its samples.
    pub parameter_sets: Vec<Vec<u8>>,
}

/// Reads a file through a buffer of [`WINDOW`] bytes.
struct Window<'a, R: ?Sized> {
    src: &'a R,
    end: u64,
    start: u64,
    buf: Vec<u8>,
}

impl<R: ReadAt + ?Sized> Window<'_, R> {
    /// Up to `len` bytes at `offset`, fewer near the end.
    fn get(&mut self, offset: u64, len: usize) -> Result<&[u8]> {
        let want = (offset + len as u64).min(self.end);
        if offset < self.start || want > self.start + self.buf.len() as u64 {
            let n = (self.end.saturating_sub(offset)).min(WINDOW as u64) as usize;
            self.buf.resize(n, 0);
            self.src.read_exact_at(&mut self.buf, offset)?;
            self.start = offset;
        }
        let from = (offset - self.start) as usize;
        let to = (want.saturating_sub(self.start) as usize).max(from);
        Ok(self.buf.get(from..to).unwrap_or_default())
    }
}

/// Walks the media data of one recording for the samples of a video track.
pub(super) struct Scanner<'a, R: ?Sized> {
    window: Window<'a, R>,
    codec: Codec,
    length_size: usize,
    /// Largest slice accepted: a few times the largest sample of the sibling.
    max_slice: u64,
    sets: ParameterSets,
    /// The first slice of the last picture taken.
    last: Option<Last>,
}

/// What the next picture's first slice must follow.
#[derive(Debug, Clone, Copy)]
struct Last {
    /// H.264 `nal_ref_idc` is not 0.
    reference: bool,
    slice: SliceInfo,
}

impl<'a, R: ReadAt + ?Sized> Scanner<'a, R> {
    /// A scanner of `data` in `src`, for `codec` with NAL lengths of `length_size` bytes
    /// and the parameter sets of the sibling's configuration record.
    pub fn new(
        src: &'a R,
        data: MediaData,
        codec: Codec,
        length_size: usize,
        max_slice: u64,
        sets: ParameterSets,
    ) -> Self {
        Scanner {
            window: Window {
                src,
                end: data.end,
                start: 0,
                buf: Vec::new(),
            },
            codec,
            length_size,
            max_slice,
            sets,
            last: None,
        }
    }

    /// The NAL unit whose length prefix is at `at`, if what is there can be one: a
    /// header a camera writes, a length that fits its kind, a slice header that names a
    /// known picture parameter set. It may run past the end of the data.
    fn candidate(&mut self, at: u64) -> Result<Option<Nal>> {
        let (codec, ls) = (self.codec, self.length_size);
        let bytes = self.window.get(at, ls + HEAD)?;
        let Some(prefix) = bytes.get(..ls) else {
            return Ok(None);
        };
        let len = prefix
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let payload = &bytes[ls..];
        let Some(kind) = codec.kind(payload) else {
            return Ok(None);
        };
        let vcl = codec.is_vcl(kind);
        let limit = if vcl { self.max_slice } else { MAX_NON_VCL };
        if len <= codec.header_len() as u64 || len > limit {
            return Ok(None);
        }
        let head = payload[..payload.len().min(len as usize)].to_vec();
        if vcl && !self.sets.slice_is_plausible(codec, &head) {
            return Ok(None);
        }
        let slice = vcl.then(|| self.sets.slice(codec, &head)).flatten();
        let head = if codec.is_parameter_set(kind) {
            self.window.get(at + ls as u64, len as usize)?.to_vec()
        } else {
            head
        };
        Ok(Some(Nal {
            offset: at,
            size: ls as u64 + len,
            kind,
            head,
            slice,
        }))
    }

    /// Whether `nal`, the first slice of a picture, can follow the last picture taken:
    /// an IDR (`frame_num` 0) always; else for H.264 the `frame_num` that follows, for
    /// H.265 a picture order count near the last one. Bytes of audio hardly ever pass.
    fn follows(&self, nal: &Nal) -> bool {
        let Some(slice) = nal.slice else {
            return false;
        };
        if self.codec.is_idr(nal.kind) {
            return slice.frame_num.is_none_or(|(n, _)| n == 0);
        }
        let Some(last) = self.last else {
            return true;
        };
        match self.codec {
            Codec::H264 => match (slice.frame_num, last.slice.frame_num) {
                (Some((n, bits)), Some((before, _))) => {
                    n == (before + u32::from(last.reference)) % (1 << bits)
                }
                _ => false,
            },
            Codec::H265 => slice.poc_lsb.is_some_and(|(lsb, bits)| {
                let before = last.slice.poc_lsb.map_or(0, |(l, _)| l);
                let max = 1u32 << bits;
                let step = (lsb + max - before % max) % max;
                step <= MAX_POC_STEP || step + MAX_POC_STEP / 2 >= max
            }),
        }
    }

    /// Whether `nal`, a slice that is not the first of its picture, belongs to the
    /// picture being gathered: same NAL header and (H.264) `frame_num`.
    fn continues(&self, nal: &Nal, unit: Option<&Building>) -> bool {
        let header = self.codec.header_len();
        unit.is_some_and(|u| {
            u.has_slice
                && u.header == nal.head[..header]
                && u.slice.map(|s| s.frame_num) == nal.slice.map(|s| s.frame_num)
        })
    }

    /// Whether another NAL unit follows `nal` (or the data ends within it).
    fn chained(&mut self, nal: &Nal) -> Result<bool> {
        Ok(nal.end() >= self.window.end || self.candidate(nal.end())?.is_some())
    }

    /// Whether `nal` begins an access unit.
    fn opens(&self, nal: &Nal) -> bool {
        self.codec.opens_access_unit(nal.kind) || self.is_first_slice(nal)
    }

    fn is_first_slice(&self, nal: &Nal) -> bool {
        self.codec.is_vcl(nal.kind) && self.codec.is_first_slice(&nal.head)
    }

    /// Whether `nal` is video that can open a run: a first slice that follows the last
    /// picture, or a parameter set, SEI or delimiter followed by another NAL unit.
    fn opens_run(&mut self, nal: &Nal) -> Result<bool> {
        if self.is_first_slice(nal) {
            return Ok(self.follows(nal));
        }
        Ok(self.codec.opens_access_unit(nal.kind) && self.chained(nal)?)
    }

    /// The next offset from `from` where video resumes; the end of the data when there
    /// is none.
    fn resync(&mut self, from: u64) -> Result<u64> {
        for at in from..self.window.end {
            if let Some(nal) = self.candidate(at)? {
                if self.opens_run(&nal)? {
                    return Ok(at);
                }
            }
        }
        Ok(self.window.end)
    }

    /// Walks the data from `start`: NAL units grouped into access units, gaps where no
    /// video is. So that audio bytes are not taken for video, a picture's first slice
    /// must follow the last picture, its other slices must match the first, and other
    /// units must be followed by another. The last unit is kept only when `complete`.
    pub fn run(mut self, start: u64, complete: bool) -> Result<Scanned> {
        let end = self.window.end;
        let mut out = Scanned::default();
        let mut current: Option<Building> = None;
        let mut in_run = false;
        let mut at = start;
        let mut cut = !complete;
        while at < end {
            let nal = match self.candidate(at)? {
                Some(nal) if self.opens_run(&nal)? => nal,
                Some(nal)
                    if in_run
                        && self.codec.is_vcl(nal.kind)
                        && self.continues(&nal, current.as_ref()) =>
                {
                    nal
                }
                _ => {
                    let next = self.resync(at + 1)?;
                    out.gaps.push((at, next));
                    self.close(current.take(), &mut out);
                    in_run = false;
                    at = next;
                    continue;
                }
            };
            if nal.end() > end {
                cut = true;
                break;
            }
            let opens = self.opens(&nal);
            if current.as_ref().is_some_and(|c| c.has_slice && opens) {
                self.close(current.take(), &mut out);
            }
            let unit = current.get_or_insert(Building {
                offset: nal.offset,
                end: nal.offset,
                ..Building::default()
            });
            unit.end = nal.end();
            unit.ends_in_zero = self.window.get(nal.end() - 1, 1)?.first() == Some(&0);
            if self.codec.is_parameter_set(nal.kind) {
                self.sets.add(self.codec, &nal.head);
                if !out.parameter_sets.contains(&nal.head) {
                    out.parameter_sets.push(nal.head.clone());
                }
            } else if self.codec.is_vcl(nal.kind) {
                unit.sync |= self.codec.is_sync(nal.kind);
                unit.idr |= self.codec.is_idr(nal.kind);
                if !unit.has_slice {
                    unit.slice = nal.slice;
                    unit.header = nal.head[..self.codec.header_len()].to_vec();
                    unit.has_slice = true;
                    self.last = nal.slice.map(|slice| Last {
                        reference: nal.head[0] & 0x60 != 0,
                        slice,
                    });
                }
            }
            in_run = true;
            at = nal.end();
        }
        if !cut {
            self.close(current.take(), &mut out);
        }
        // A NAL unit ends with its stop bit, never with a zero byte: the last sample runs
        // into zeros (a file the camera had preallocated) and was cut short. Only the last
        // is dropped, in case a camera pads its NAL units with zeros.
        if out.units.last().is_some_and(|u| u.ends_in_zero) {
            out.units.pop();
        }
        if at < end {
            out.gaps.push((at, end));
        }
        Ok(out)
    }

    /// Ends the access unit being built; one without a slice is no sample.
    fn close(&self, unit: Option<Building>, out: &mut Scanned) {
        if let Some(u) = unit.filter(|u| u.has_slice) {
            out.units.push(Unit {
                offset: u.offset,
                size: u.end - u.offset,
                sync: u.sync,
                idr: u.idr,
                slice: u.slice,
                ends_in_zero: u.ends_in_zero,
            });
        }
    }
}

/// An access unit being gathered.
#[derive(Debug, Default)]
struct Building {
    offset: u64,
    end: u64,
    has_slice: bool,
    /// NAL header of its first slice.
    header: Vec<u8>,
    sync: bool,
    idr: bool,
    slice: Option<SliceInfo>,
    ends_in_zero: bool,
}
