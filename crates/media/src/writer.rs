//! Writes a progressive MP4 header (`ftyp`, `moov` before `mdat`) over byte ranges of the
//! source files, producing a [`CutPlan`].
//!
//! Samples keep their bytes where they are: the output `mdat` is the concatenation of a
//! few source ranges, and the sample tables point into it. Bytes inside those ranges that
//! no sample references (other tracks, `moof` boxes of fragmented sources) are legal
//! padding.

use std::collections::HashMap;

use crate::boxes::write_box;
use crate::error::{Error, Result};
use crate::index::{Mp4Index, Track};
use crate::plan::{CutPlan, Part};
use crate::sample_entry::without_bitrates;

/// Ticks per second of movie-level times in the output.
const MOVIE_TIMESCALE: u32 = 1000;

/// One output sample: where its bytes are in which source, and its new times.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutSample {
    pub file: usize,
    pub offset: u64,
    pub size: u32,
    pub duration: u32,
    pub cts_offset: i32,
    pub is_sync: bool,
    /// Index of the sample description in the source track.
    pub entry: u16,
}

/// How an output track is placed on the output timeline (one edit list entry).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Edit {
    /// Seconds of nothing before the track starts.
    pub delay: f64,
    /// First presented media time, in the track's ticks.
    pub media_time: u64,
    /// Seconds presented.
    pub duration: f64,
}

/// An output track: its samples in decode order and where it sits on the timeline.
pub(crate) struct OutTrack<'a> {
    /// The source tracks, one per input file (for descriptions and headers).
    pub sources: Vec<Option<&'a Track>>,
    pub timescale: u32,
    pub samples: Vec<OutSample>,
    pub edit: Edit,
}

/// How source bytes are grouped into ranges.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ranges {
    /// One range per source file, from the first to the last byte used.
    PerFile,
    /// One range per run of adjacent samples.
    PerRun,
    /// Each source file whole (a recovered file that keeps the original's bytes).
    Whole,
}

/// Builds the plan of a progressive MP4 with `tracks` over `files`.
pub(crate) fn build(
    files: &[Mp4Index],
    tracks: &[OutTrack<'_>],
    ranges: Ranges,
) -> Result<CutPlan> {
    let lens: Vec<u64> = files.iter().map(|f| f.file_len).collect();
    build_over(&lens, tracks, ranges)
}

/// Builds the plan of a progressive MP4 with `tracks` over files of lengths `file_lens`
/// (files without an index of their own, as in recovery).
pub(crate) fn build_over(
    file_lens: &[u64],
    tracks: &[OutTrack<'_>],
    ranges: Ranges,
) -> Result<CutPlan> {
    let ranges = match ranges {
        Ranges::Whole => file_lens
            .iter()
            .enumerate()
            .map(|(i, &len)| (i, 0, len))
            .collect(),
        how => source_ranges(tracks, how),
    };
    let payload: u64 = ranges.iter().map(|r| r.2 - r.1).sum();
    for &(file, _, end) in &ranges {
        let len = file_lens.get(file).copied().unwrap_or(0);
        if end > len {
            return Err(Error::Request(format!(
                "range past end of input file {file}"
            )));
        }
    }
    // The payload with the most padding [`layout`] can put in front of the ranges.
    let most = payload + ALIGN * ranges.len() as u64;
    let long_mdat = most + 8 > u64::from(u32::MAX);
    let ftyp = ftyp();
    let prefix = ftyp.len() as u64 + if long_mdat { 16 } else { 8 };
    // The header size does not depend on the offsets, only on their width: lay out once
    // to measure, then again with the real base.
    let mut wide = false;
    let (moov, starts) = loop {
        let probe = moov(tracks, &ranges, &layout(&ranges, 0), wide)?;
        let base = prefix + probe.len() as u64;
        if !wide && base + most > u64::from(u32::MAX) {
            wide = true;
            continue;
        }
        let starts = layout(&ranges, base);
        break (moov(tracks, &ranges, &starts, wide)?, starts);
    };
    let base = prefix + moov.len() as u64;
    let end = ranges
        .iter()
        .zip(&starts)
        .next_back()
        .map_or(base, |(r, &at)| at + r.2 - r.1);
    let mdat_header = if long_mdat {
        [
            &1u32.to_be_bytes()[..],
            b"mdat",
            &(end - base + 16).to_be_bytes(),
        ]
        .concat()
    } else {
        // `most` fits in 32 bits, and the payload is no larger.
        [&((end - base + 8) as u32).to_be_bytes()[..], b"mdat"].concat()
    };
    let duration = tracks
        .iter()
        .map(|t| t.edit.delay + t.edit.duration)
        .fold(0.0, f64::max);
    let mut parts = vec![Part::Bytes([ftyp, moov, mdat_header].concat())];
    let mut at = base;
    for (&(file, start, end), &placed) in ranges.iter().zip(&starts) {
        if placed > at {
            parts.push(Part::Bytes(vec![0; (placed - at) as usize]));
        }
        parts.push(Part::Source {
            file,
            offset: start,
            len: end - start,
        });
        at = placed + end - start;
    }
    Ok(CutPlan::new(parts, duration))
}

/// `(file, start, end)` source ranges in output order.
fn source_ranges(tracks: &[OutTrack<'_>], how: Ranges) -> Vec<(usize, u64, u64)> {
    let mut spans: Vec<(usize, u64, u64)> = tracks
        .iter()
        .flat_map(|t| t.samples.iter())
        .map(|s| (s.file, s.offset, s.offset + u64::from(s.size)))
        .collect();
    spans.sort_unstable();
    let mut out: Vec<(usize, u64, u64)> = Vec::new();
    for (file, start, end) in spans {
        match out.last_mut() {
            Some(last) if last.0 == file && (!matches!(how, Ranges::PerRun) || start <= last.2) => {
                last.2 = last.2.max(end);
            }
            _ => out.push((file, start, end)),
        }
    }
    out
}

/// Output ranges keep their source offset modulo this (16 KiB).
const ALIGN: u64 = 16 << 10;
/// Ranges at least this long are aligned (at most 1.6 % padding); shorter ones (a
/// time-lapse's single frames) follow each other unpadded.
const ALIGN_MIN: u64 = 1 << 20;

/// Where each range starts in the output, the `mdat` payload starting at `base`.
///
/// A long range is placed at the same offset modulo [`ALIGN`] as it has in its source
/// (padding before it, which no sample references). The kernel's file-to-file copy
/// (`copy_file_range` on a file system without shared extents, which splices through
/// the page cache) is fastest when source and destination line up: measured on ext4
/// (Linux 6.18) for the benchmark's 150 MB cut from three files, 54 ms unaligned, 48 ms
/// aligned to 4 KiB pages, 38.7 ms to 16 KiB (as fast as copying one whole file; 64 KiB
/// and 2 MiB gave no more).
fn layout(ranges: &[(usize, u64, u64)], base: u64) -> Vec<u64> {
    let mut at = base;
    ranges
        .iter()
        .map(|&(_, start, end)| {
            if end - start >= ALIGN_MIN {
                at += (start % ALIGN + ALIGN - at % ALIGN) % ALIGN;
            }
            let placed = at;
            at += end - start;
            placed
        })
        .collect()
}

/// Output offset of a sample, given the ranges and where each starts in the output.
fn output_offset(ranges: &[(usize, u64, u64)], starts: &[u64], s: &OutSample) -> Option<u64> {
    let i = ranges
        .partition_point(|r| (r.0, r.1) <= (s.file, s.offset))
        .checked_sub(1)?;
    let (file, start, end) = *ranges.get(i)?;
    (file == s.file && s.offset + u64::from(s.size) <= end)
        .then(|| starts.get(i).copied())?
        .map(|b| b + s.offset - start)
}

fn ftyp() -> Vec<u8> {
    let mut out = Vec::new();
    write_box(&mut out, b"ftyp", |b| {
        b.extend_from_slice(b"isom");
        b.extend_from_slice(&0x200u32.to_be_bytes());
        for brand in [b"isom", b"iso2", b"avc1", b"mp41"] {
            b.extend_from_slice(brand);
        }
    });
    out
}

fn put32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_be_bytes());
}

fn put64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_be_bytes());
}

fn seconds_to(ticks_per_second: u32, seconds: f64) -> u64 {
    (seconds.max(0.0) * f64::from(ticks_per_second)).round() as u64
}

fn moov(
    tracks: &[OutTrack<'_>],
    ranges: &[(usize, u64, u64)],
    starts: &[u64],
    wide: bool,
) -> Result<Vec<u8>> {
    let duration = tracks
        .iter()
        .map(|t| seconds_to(MOVIE_TIMESCALE, t.edit.delay + t.edit.duration))
        .max()
        .unwrap_or(0);
    let mut out = Vec::new();
    let mut failure = None;
    write_box(&mut out, b"moov", |b| {
        write_box(b, b"mvhd", |b| {
            put32(b, 1 << 24); // version 1
            put64(b, 0);
            put64(b, 0);
            put32(b, MOVIE_TIMESCALE);
            put64(b, duration);
            put32(b, 0x0001_0000); // rate 1.0
            b.extend_from_slice(&[1, 0, 0, 0]); // volume 1.0, reserved
            b.extend_from_slice(&[0; 8]);
            for m in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
                put32(b, m);
            }
            b.extend_from_slice(&[0; 24]);
            put32(b, tracks.len() as u32 + 1);
        });
        for (i, t) in tracks.iter().enumerate() {
            if let Err(e) = trak(b, t, i as u32 + 1, ranges, starts, wide) {
                failure = Some(e);
            }
        }
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

fn trak(
    b: &mut Vec<u8>,
    t: &OutTrack<'_>,
    id: u32,
    ranges: &[(usize, u64, u64)],
    starts: &[u64],
    wide: bool,
) -> Result<()> {
    let first = t
        .sources
        .iter()
        .flatten()
        .next()
        .ok_or_else(|| Error::Request("output track without a source".into()))?;
    // Distinct sample descriptions across the files (bitrates aside), in order of first use.
    let mut entries: Vec<&[u8]> = Vec::new();
    let mut compared: Vec<Vec<u8>> = Vec::new();
    let mut entry_of: HashMap<(usize, u16), u32> = HashMap::new();
    for s in &t.samples {
        if let std::collections::hash_map::Entry::Vacant(slot) = entry_of.entry((s.file, s.entry)) {
            let raw = t
                .sources
                .get(s.file)
                .copied()
                .flatten()
                .and_then(|src| src.sample_entries.get(usize::from(s.entry)))
                .ok_or_else(|| {
                    Error::Request(format!("no sample description for file {}", s.file))
                })?;
            // Players switch descriptions (new SPS, new size) but not codecs mid-track.
            let codec = |e: &[u8]| e.get(4..8).map(<[u8]>::to_vec);
            if let Some(first) = entries.first() {
                if codec(first) != codec(raw) {
                    let name = |e: &[u8]| {
                        String::from_utf8_lossy(e.get(4..8).unwrap_or_default()).into_owned()
                    };
                    return Err(Error::Unsupported(format!(
                        "codec {} differs from {} in the files before",
                        name(raw),
                        name(first)
                    ))
                    .in_file(s.file));
                }
            }
            let key = without_bitrates(raw, first.handler);
            let n = match compared.iter().position(|e| *e == key) {
                Some(n) => n,
                None => {
                    entries.push(raw);
                    compared.push(key);
                    entries.len() - 1
                }
            };
            slot.insert(n as u32 + 1);
        }
    }
    let mut offsets = Vec::with_capacity(t.samples.len());
    for s in &t.samples {
        offsets.push(output_offset(ranges, starts, s).ok_or_else(|| {
            Error::Request(format!(
                "sample at {} of file {} outside every range",
                s.offset, s.file
            ))
        })?);
    }
    // Chunks: runs of samples adjacent in the output with one description.
    let mut chunks: Vec<Chunk> = Vec::new();
    for (s, &offset) in t.samples.iter().zip(&offsets) {
        let description = entry_of.get(&(s.file, s.entry)).copied().unwrap_or(1);
        match chunks.last_mut() {
            Some(c) if c.description == description && c.offset + c.len == offset => {
                c.samples += 1;
                c.len += u64::from(s.size);
            }
            _ => chunks.push(Chunk {
                offset,
                samples: 1,
                description,
                len: u64::from(s.size),
            }),
        }
    }
    let is_video = first.handler == crate::index::VIDEO;
    let media_duration: u64 = t.samples.iter().map(|s| u64::from(s.duration)).sum();
    let tkhd = &first.headers.tkhd;
    write_box(b, b"trak", |b| {
        write_box(b, b"tkhd", |b| {
            put32(b, (1 << 24) | 0x3); // version 1, enabled + in movie
            put64(b, 0);
            put64(b, 0);
            put32(b, id);
            put32(b, 0);
            put64(
                b,
                seconds_to(MOVIE_TIMESCALE, t.edit.delay + t.edit.duration),
            );
            b.extend_from_slice(&[0; 8]);
            b.extend_from_slice(&[0, 0, 0, 0]); // layer, alternate group
            b.extend_from_slice(if is_video { &[0, 0] } else { &[1, 0] });
            b.extend_from_slice(&[0, 0]);
            let m = &tkhd.matrix;
            for v in [m.a, m.b, m.u, m.c, m.d, m.v, m.x, m.y, m.w] {
                b.extend_from_slice(&v.to_be_bytes());
            }
            let fixed = |int: u16, dec: u16| (u32::from(int) << 16) | u32::from(dec);
            put32(b, fixed(tkhd.width.integer(), tkhd.width.decimal()));
            put32(b, fixed(tkhd.height.integer(), tkhd.height.decimal()));
        });
        write_box(b, b"edts", |b| {
            write_box(b, b"elst", |b| {
                put32(b, 1 << 24);
                let delay = seconds_to(MOVIE_TIMESCALE, t.edit.delay);
                put32(b, if delay > 0 { 2 } else { 1 });
                if delay > 0 {
                    put64(b, delay);
                    put64(b, u64::MAX); // media_time -1: empty edit
                    put32(b, 0x0001_0000);
                }
                put64(b, seconds_to(MOVIE_TIMESCALE, t.edit.duration));
                put64(b, t.edit.media_time);
                put32(b, 0x0001_0000);
            });
        });
        write_box(b, b"mdia", |b| {
            write_box(b, b"mdhd", |b| {
                put32(b, 1 << 24);
                put64(b, 0);
                put64(b, 0);
                put32(b, t.timescale);
                put64(b, media_duration);
                b.extend_from_slice(&language(&first.headers.language).to_be_bytes());
                b.extend_from_slice(&[0, 0]);
            });
            write_box(b, b"hdlr", |b| {
                put32(b, 0);
                put32(b, 0);
                b.extend_from_slice(&first.handler.0);
                b.extend_from_slice(&[0; 12]);
                b.extend_from_slice(if is_video {
                    b"VideoHandler\0"
                } else {
                    b"SoundHandler\0"
                });
            });
            write_box(b, b"minf", |b| {
                if is_video {
                    write_box(b, b"vmhd", |b| {
                        put32(b, 1);
                        b.extend_from_slice(&[0; 8]);
                    });
                } else {
                    write_box(b, b"smhd", |b| put64(b, 0));
                }
                write_box(b, b"dinf", |b| {
                    write_box(b, b"dref", |b| {
                        put32(b, 0);
                        put32(b, 1);
                        write_box(b, b"url ", |b| put32(b, 1));
                    });
                });
                write_box(b, b"stbl", |b| {
                    write_box(b, b"stsd", |b| {
                        put32(b, 0);
                        put32(b, entries.len() as u32);
                        for e in &entries {
                            b.extend_from_slice(e);
                        }
                    });
                    sample_tables(b, t, &chunks, wide);
                });
            });
        });
    });
    Ok(())
}

/// A run of samples adjacent in the output that share a description.
struct Chunk {
    offset: u64,
    samples: u32,
    description: u32,
    len: u64,
}

fn sample_tables(b: &mut Vec<u8>, t: &OutTrack<'_>, chunks: &[Chunk], wide: bool) {
    let runs = |values: &mut dyn Iterator<Item = u32>| {
        let mut out: Vec<(u32, u32)> = Vec::new();
        for v in values {
            match out.last_mut() {
                Some(last) if last.1 == v => last.0 += 1,
                _ => out.push((1, v)),
            }
        }
        out
    };
    let stts = runs(&mut t.samples.iter().map(|s| s.duration));
    write_box(b, b"stts", |b| {
        put32(b, 0);
        put32(b, stts.len() as u32);
        for (n, v) in &stts {
            put32(b, *n);
            put32(b, *v);
        }
    });
    if t.samples.iter().any(|s| s.cts_offset != 0) {
        let ctts = runs(&mut t.samples.iter().map(|s| s.cts_offset as u32));
        let negative = t.samples.iter().any(|s| s.cts_offset < 0);
        write_box(b, b"ctts", |b| {
            put32(b, if negative { 1 << 24 } else { 0 });
            put32(b, ctts.len() as u32);
            for (n, v) in &ctts {
                put32(b, *n);
                put32(b, *v);
            }
        });
    }
    if t.samples.iter().any(|s| !s.is_sync) {
        let sync: Vec<u32> = (1..)
            .zip(&t.samples)
            .filter(|(_, s)| s.is_sync)
            .map(|(i, _)| i)
            .collect();
        write_box(b, b"stss", |b| {
            put32(b, 0);
            put32(b, sync.len() as u32);
            for i in &sync {
                put32(b, *i);
            }
        });
    }
    write_box(b, b"stsc", |b| {
        let mut entries: Vec<(u32, u32, u32)> = Vec::new();
        for (i, c) in (1..).zip(chunks) {
            if entries
                .last()
                .is_none_or(|e| (e.1, e.2) != (c.samples, c.description))
            {
                entries.push((i, c.samples, c.description));
            }
        }
        put32(b, 0);
        put32(b, entries.len() as u32);
        for (first, n, desc) in entries {
            put32(b, first);
            put32(b, n);
            put32(b, desc);
        }
    });
    write_box(b, b"stsz", |b| {
        put32(b, 0);
        put32(b, 0);
        put32(b, t.samples.len() as u32);
        for s in &t.samples {
            put32(b, s.size);
        }
    });
    write_box(b, if wide { b"co64" } else { b"stco" }, |b| {
        put32(b, 0);
        put32(b, chunks.len() as u32);
        for c in chunks {
            if wide {
                put64(b, c.offset);
            } else {
                put32(b, c.offset as u32);
            }
        }
    });
}

/// Packs an ISO-639-2/T code into the 15 bits of `mdhd` (`und` when not three letters).
fn language(code: &str) -> u16 {
    let bytes = code.as_bytes();
    let valid = bytes.len() == 3 && bytes.iter().all(u8::is_ascii_lowercase);
    let letters = if valid { bytes } else { b"und" };
    letters
        .iter()
        .fold(0u16, |acc, &c| (acc << 5) | u16::from(c - 0x60))
}
