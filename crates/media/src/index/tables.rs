//! One `trak` box: headers, sample descriptions, edit list and sample tables.

use mp4_atom::{Co64, Ctts, Decode, Elst, Mdhd, Stco, Stsc, Stss, Stsz, StszSamples, Stts, Tkhd};

use super::{Sample, Track, TrackHeaders, MAX_SAMPLES};
use crate::boxes::{self, FourCc, RawBox};
use crate::error::{Error, Result};

/// Codecs of uncompressed audio.
const PCM: [[u8; 4]; 12] = [
    *b"sowt", *b"twos", *b"lpcm", *b"ipcm", *b"fpcm", *b"in24", *b"in32", *b"fl32", *b"fl64",
    *b"raw ", *b"NONE", *b"s16l",
];

/// Finds the one child `kind` of `parent`, if present.
fn child<'a>(parent: &'a [u8], at: &str, kind: &[u8; 4]) -> Result<Option<RawBox<'a>>> {
    for b in boxes::children(parent, at) {
        let b = b?;
        if b.kind.0 == *kind {
            return Ok(Some(b));
        }
    }
    Ok(None)
}

/// Like [`child`] but the box must be there.
fn required<'a>(parent: &'a [u8], at: &str, kind: &[u8; 4]) -> Result<RawBox<'a>> {
    child(parent, at, kind)?
        .ok_or_else(|| Error::malformed(at, format!("{} not found", FourCc(*kind))))
}

/// Decodes a whole box with its mp4-atom type, naming the box path on failure.
fn decode<T: Decode>(b: RawBox<'_>, at: &str) -> Result<T> {
    T::decode(&mut &b.data[..])
        .map_err(|e| Error::malformed(format!("{at}/{}", b.kind), e.to_string()))
}

/// Reads a `trak` body into a [`Track`]; `movie_timescale` converts edit durations.
pub(super) fn read_track(
    trak: &[u8],
    at: &str,
    movie_timescale: u32,
    file_len: u64,
) -> Result<Track> {
    let tkhd: Tkhd = decode(required(trak, at, b"tkhd")?, at)?;
    let mdia_at = format!("{at}/mdia");
    let mdia = required(trak, at, b"mdia")?.body;
    let mdhd: Mdhd = decode(required(mdia, &mdia_at, b"mdhd")?, &mdia_at)?;
    if mdhd.timescale == 0 {
        return Err(Error::malformed(
            format!("{mdia_at}/mdhd"),
            "timescale is 0",
        ));
    }
    let hdlr = required(mdia, &mdia_at, b"hdlr")?;
    // hdlr body: version+flags (4), pre_defined (4), handler_type (4).
    let handler = hdlr
        .body
        .get(8..12)
        .and_then(|b| b.try_into().ok())
        .map(FourCc)
        .ok_or_else(|| Error::malformed(format!("{mdia_at}/hdlr"), "too short"))?;
    let minf_at = format!("{mdia_at}/minf");
    let minf = required(mdia, &mdia_at, b"minf")?.body;
    let stbl_at = format!("{minf_at}/stbl");
    let stbl = required(minf, &minf_at, b"stbl")?.body;

    let entries = sample_entries(required(stbl, &stbl_at, b"stsd")?.body, &stbl_at)?;
    let first = entries
        .first()
        .map(|e| describe(e, handler))
        .unwrap_or_default();

    let edit_shift = match child(trak, at, b"edts")? {
        Some(edts) => match child(edts.body, &format!("{at}/edts"), b"elst")? {
            Some(elst) => edit_shift(
                &decode(elst, &format!("{at}/edts"))?,
                movie_timescale,
                mdhd.timescale,
            ),
            None => 0,
        },
        None => 0,
    };

    let pcm = handler.0 == *b"soun" && PCM.contains(&first.codec.0);
    let samples = read_samples(stbl, &stbl_at, file_len, entries.len(), pcm)?;
    Ok(Track {
        id: tkhd.track_id,
        handler,
        codec: first.codec,
        timescale: mdhd.timescale,
        duration: 0,
        width: first.width,
        height: first.height,
        config: first.config,
        sample_entries: entries.iter().map(|e| e.data.to_vec()).collect(),
        edit_shift,
        samples,
        headers: TrackHeaders {
            tkhd,
            language: mdhd.language,
        },
    })
}

/// The sample description boxes inside an `stsd` body.
fn sample_entries<'a>(stsd: &'a [u8], stbl_at: &str) -> Result<Vec<RawBox<'a>>> {
    let at = format!("{stbl_at}/stsd");
    let count = stsd
        .get(4..8)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
        .ok_or_else(|| Error::malformed(&at, "too short"))?;
    let entries = boxes::children(stsd.get(8..).unwrap_or_default(), &at)
        .take(count as usize)
        .collect::<Result<Vec<_>>>()?;
    if entries.len() != count as usize {
        return Err(Error::malformed(
            &at,
            format!(
                "declares {count} sample descriptions but holds {}",
                entries.len()
            ),
        ));
    }
    if entries.is_empty() {
        return Err(Error::malformed(&at, "no sample description"));
    }
    if entries.len() > usize::from(u16::MAX) {
        return Err(Error::malformed(&at, "too many sample descriptions"));
    }
    Ok(entries)
}

/// Codec, picture size and configuration record of one sample description.
#[derive(Debug, Default)]
struct Description {
    codec: FourCc,
    width: u16,
    height: u16,
    config: Vec<u8>,
}

fn describe(entry: &RawBox<'_>, handler: FourCc) -> Description {
    let body = entry.body;
    let u16_at = |at: usize| {
        body.get(at..at + 2)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u16::from_be_bytes)
    };
    let (width, height, children_at, config_kinds): (u16, u16, usize, &[&[u8; 4]]) =
        match &handler.0 {
            // VisualSampleEntry: 78 bytes before the child boxes.
            b"vide" => (u16_at(24), u16_at(26), 78, &[b"avcC", b"hvcC"]),
            // AudioSampleEntry: 28 bytes, plus 16 (QuickTime v1) or 36 (v2).
            b"soun" => {
                let extra = match u16_at(8) {
                    1 => 16,
                    2 => 36,
                    _ => 0,
                };
                (0, 0, 28 + extra, &[b"esds"])
            }
            _ => (0, 0, usize::MAX, &[]),
        };
    let config = body
        .get(children_at..)
        .and_then(|children| {
            config_kinds.iter().find_map(|kind| {
                boxes::find_path(children, &[kind])
                    .or_else(|| boxes::find_path(children, &[b"wave", kind]))
            })
        })
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    Description {
        codec: entry.kind,
        width,
        height,
        config,
    }
}

/// Presentation shift from an edit list: leading empty edits delay the track, the first
/// real edit's media time trims its start. Later edits (rare in recordings) are ignored.
fn edit_shift(elst: &Elst, movie_timescale: u32, timescale: u32) -> i64 {
    let mut empty: u64 = 0;
    for entry in &elst.entries {
        match entry.media_time {
            None => empty = empty.saturating_add(entry.segment_duration),
            Some(media_time) => {
                let delay =
                    u128::from(empty) * u128::from(timescale) / u128::from(movie_timescale.max(1));
                let delay = i64::try_from(delay).unwrap_or(i64::MAX);
                return delay.saturating_sub(i64::try_from(media_time).unwrap_or(i64::MAX));
            }
        }
    }
    0
}

/// Expands the sample tables of an `stbl` body into samples, checking each against the file.
///
/// Uncompressed audio (`sowt`, `twos`, `lpcm`, `ipcm`…) stores one sample per PCM frame,
/// tens of thousands a second; when its sizes and durations are constant, each chunk
/// becomes one sample, which any player accepts and which keeps the index small.
fn read_samples(
    stbl: &[u8],
    at: &str,
    file_len: u64,
    entry_count: usize,
    pcm: bool,
) -> Result<Vec<Sample>> {
    let table_at = |kind: &str| format!("{at}/{kind}");
    let stsz: Stsz = decode(required(stbl, at, b"stsz")?, at)?;
    let stts: Stts = decode(required(stbl, at, b"stts")?, at)?;
    let stsc: Stsc = decode(required(stbl, at, b"stsc")?, at)?;
    let ctts: Option<Ctts> = child(stbl, at, b"ctts")?
        .map(|b| decode(b, at))
        .transpose()?;
    let stss: Option<Stss> = child(stbl, at, b"stss")?
        .map(|b| decode(b, at))
        .transpose()?;
    let (offsets_kind, offsets): (&str, Vec<u64>) =
        match (child(stbl, at, b"stco")?, child(stbl, at, b"co64")?) {
            (Some(b), _) => (
                "stco",
                decode::<Stco>(b, at)?
                    .entries
                    .into_iter()
                    .map(u64::from)
                    .collect(),
            ),
            (None, Some(b)) => ("co64", decode::<Co64>(b, at)?.entries),
            (None, None) => return Err(Error::malformed(at, "neither stco nor co64 found")),
        };

    let (count, sizes) = match &stsz.samples {
        StszSamples::Identical { count, size } => (*count as usize, Sizes::Same(*size)),
        StszSamples::Different { sizes } => (sizes.len(), Sizes::Each(sizes)),
    };
    let per_chunk = match (&sizes, stts.entries.as_slice()) {
        (Sizes::Same(size), [only]) if pcm => {
            Some((u64::from(*size), u64::from(only.sample_delta)))
        }
        _ => None,
    };
    if count > MAX_SAMPLES && per_chunk.is_none() {
        return Err(Error::Unsupported(format!(
            "{}: {count} samples, more than the {MAX_SAMPLES} supported per track",
            table_at("stsz")
        )));
    }
    if count == 0 {
        return Ok(Vec::new());
    }
    if stsc.entries.is_empty() {
        return Err(Error::malformed(
            table_at("stsc"),
            format!("empty, but stsz lists {count} samples"),
        ));
    }
    let mut durations = run_lengths(
        stts.entries
            .iter()
            .map(|e| (e.sample_count, e.sample_delta)),
        count,
    );
    let stts_total: u64 = stts.entries.iter().map(|e| u64::from(e.sample_count)).sum();
    if stts_total < count as u64 {
        return Err(Error::malformed(
            table_at("stts"),
            format!("covers {stts_total} samples but stsz lists {count}"),
        ));
    }
    let mut cts = ctts.as_ref().map(|c| {
        run_lengths(
            c.entries
                .iter()
                .map(|e| (e.sample_count, composition_offset(e.sample_offset))),
            count,
        )
    });
    let mut sync = stss.as_ref().map(|s| s.entries.iter().peekable());

    let mut samples = Vec::new();
    let mut consumed = 0usize;
    let mut dts: u64 = 0;
    let mut stsc_iter = stsc.entries.iter().peekable();
    let mut run = stsc_iter.next().cloned().unwrap_or_default();
    if run.first_chunk != 1 {
        return Err(Error::malformed(
            table_at("stsc"),
            format!("entry 1 starts at chunk {}, not 1", run.first_chunk),
        ));
    }
    for (chunk_index, &chunk_offset) in offsets.iter().enumerate() {
        let chunk_number = chunk_index as u64 + 1;
        while let Some(next) = stsc_iter.peek() {
            if u64::from(next.first_chunk) > chunk_number {
                break;
            }
            if u64::from(next.first_chunk) <= u64::from(run.first_chunk) {
                return Err(Error::malformed(
                    table_at("stsc"),
                    "first_chunk values are not increasing",
                ));
            }
            run = (*next).clone();
            stsc_iter.next();
        }
        let entry = run.sample_description_index;
        if entry == 0 || entry as usize > entry_count {
            return Err(Error::malformed(
                table_at("stsc"),
                format!("sample description index {entry} out of range (stsd has {entry_count})"),
            ));
        }
        if let Some((size, delta)) = per_chunk {
            let n = u64::from(run.samples_per_chunk).min((count - consumed) as u64);
            let bytes = u32::try_from(n * size).ok();
            let duration = u32::try_from(n * delta).ok();
            let end = chunk_offset
                .checked_add(n * size)
                .filter(|&e| e <= file_len);
            let (Some(bytes), Some(duration), Some(_)) = (bytes, duration, end) else {
                return Err(Error::malformed(
                    table_at(offsets_kind),
                    format!("entry {chunk_number}: chunk of {n} samples of {size} bytes at offset {chunk_offset} does not fit the file ({file_len} bytes)"),
                ));
            };
            samples.push(Sample {
                offset: chunk_offset,
                size: bytes,
                dts,
                duration,
                cts_offset: 0,
                is_sync: true,
                entry: (entry - 1) as u16,
            });
            dts += u64::from(duration);
            consumed += n as usize;
            if consumed == count {
                break;
            }
            continue;
        }
        let mut offset = chunk_offset;
        for _ in 0..run.samples_per_chunk {
            let n = samples.len();
            if n == count {
                break;
            }
            let size = sizes.get(n);
            let end = offset
                .checked_add(u64::from(size))
                .filter(|&e| e <= file_len);
            let Some(end) = end else {
                return Err(Error::malformed(
                    table_at(offsets_kind),
                    format!(
                        "entry {chunk_number} (sample {}) points past end of file: {size} bytes at offset {offset}, file is {file_len} bytes",
                        n + 1
                    ),
                ));
            };
            let duration = durations.next().unwrap_or(0);
            let cts_offset = cts.as_mut().and_then(Iterator::next).unwrap_or(0);
            let sample_number = n as u32 + 1;
            let is_sync = match sync.as_mut() {
                None => true,
                Some(entries) => {
                    while entries.next_if(|&&e| e < sample_number).is_some() {}
                    entries.next_if(|&&e| e == sample_number).is_some()
                }
            };
            samples.push(Sample {
                offset,
                size,
                dts,
                duration,
                cts_offset,
                is_sync,
                entry: (entry - 1) as u16,
            });
            dts = dts
                .checked_add(u64::from(duration))
                .ok_or_else(|| Error::malformed(table_at("stts"), "decode time overflows"))?;
            offset = end;
            consumed += 1;
        }
        if consumed == count {
            break;
        }
    }
    if consumed < count {
        return Err(Error::malformed(
            table_at("stsc"),
            format!("chunks hold only {consumed} of the {count} samples in stsz"),
        ));
    }
    Ok(samples)
}

/// Composition offsets are signed in version 1 `ctts` and unsigned in version 0, but some
/// muxers write negative offsets into version 0: read values above `i32::MAX` as negative.
fn composition_offset(raw: i64) -> i32 {
    i32::try_from(raw).unwrap_or((raw as u32) as i32)
}

/// Sample sizes from `stsz`: one for all, or one each.
enum Sizes<'a> {
    Same(u32),
    Each(&'a [u32]),
}

impl Sizes<'_> {
    fn get(&self, i: usize) -> u32 {
        match self {
            Sizes::Same(s) => *s,
            Sizes::Each(v) => v.get(i).copied().unwrap_or(0),
        }
    }
}

/// Expands `(count, value)` runs lazily, stopping after `limit` values.
fn run_lengths<T: Copy>(
    runs: impl Iterator<Item = (u32, T)>,
    limit: usize,
) -> impl Iterator<Item = T> {
    runs.flat_map(|(n, v)| std::iter::repeat_n(v, n as usize))
        .take(limit)
}
