//! One recording as a camera writes it: `ftyp`, `mdat` with the H.264 samples, then `moov`
//! (boxes encoded by `mp4-atom`), one video track, a chunk per second.

use std::io::Write;

use chrono::{DateTime, Utc};
use mp4_atom::{
    Avc1, Avcc, Codec, Dinf, Dref, DrefEntry, Encode, FourCC, Ftyp, Hdlr, Mdhd, Mdia, Minf, Moov,
    Mvhd, Stbl, Stco, Stsc, StscEntry, Stsd, Stss, Stsz, StszSamples, Stts, SttsEntry, Tkhd, Trak,
    Url, Visual, Vmhd,
};

use crate::error::{Error, Result};
use crate::video::{Encoded, FPS, HEIGHT, WIDTH};

/// Media ticks per second; a frame lasts `TIMESCALE / FPS` ticks.
const TIMESCALE: u32 = FPS * 1000;
/// Seconds from 1904-01-01 (the MP4 epoch) to 1970-01-01.
const MP4_EPOCH_OFFSET: i64 = 2_082_844_800;

/// Writes a recording made of the groups of pictures `seconds` (indexes into
/// `encoded.gops`, one per second) to `out`, created at `start`.
pub(crate) fn write_recording(
    out: &mut impl Write,
    encoded: &Encoded,
    seconds: &[usize],
    start: DateTime<Utc>,
) -> Result<()> {
    let mut head = Vec::new();
    let ftyp = Ftyp {
        major_brand: FourCC::new(b"isom"),
        minor_version: 0x200,
        compatible_brands: [b"isom", b"iso2", b"avc1", b"mp41"]
            .map(FourCC::new)
            .to_vec(),
    };
    encode(&ftyp, &mut head)?;
    let gops: Vec<&Vec<Vec<u8>>> = seconds
        .iter()
        .map(|&i| {
            encoded
                .gops
                .get(i)
                .ok_or_else(|| Error::Encoder(format!("no group of pictures {i}")))
        })
        .collect::<Result<_>>()?;
    let payload: u64 = gops
        .iter()
        .flat_map(|g| g.iter())
        .map(|s| s.len() as u64)
        .sum();
    let mdat_size = u32::try_from(payload + 8)
        .map_err(|_| Error::Encoder(format!("{payload} bytes of video do not fit one mdat")))?;
    let mut offset = head.len() as u64 + 8;
    head.extend_from_slice(&mdat_size.to_be_bytes());
    head.extend_from_slice(b"mdat");
    let mut chunk_offsets = Vec::with_capacity(gops.len());
    let mut sizes = Vec::new();
    for gop in &gops {
        chunk_offsets.push(
            u32::try_from(offset).map_err(|_| Error::Encoder("recording over 4 GiB".into()))?,
        );
        for sample in gop.iter() {
            sizes.push(sample.len() as u32);
            offset += sample.len() as u64;
        }
    }
    let moov = moov(encoded, &gops, chunk_offsets, sizes, start)?;
    let mut tail = Vec::new();
    encode(&moov, &mut tail)?;
    out.write_all(&head)
        .map_err(Error::io("writing MP4 header"))?;
    for sample in gops.iter().flat_map(|g| g.iter()) {
        out.write_all(sample)
            .map_err(Error::io("writing MP4 samples"))?;
    }
    out.write_all(&tail)
        .map_err(Error::io("writing MP4 index"))?;
    Ok(())
}

fn encode(atom: &impl Encode, out: &mut Vec<u8>) -> Result<()> {
    atom.encode(out)
        .map_err(|e| Error::Encoder(format!("encoding an MP4 box: {e}")))
}

fn moov(
    encoded: &Encoded,
    gops: &[&Vec<Vec<u8>>],
    chunk_offsets: Vec<u32>,
    sizes: Vec<u32>,
    start: DateTime<Utc>,
) -> Result<Moov> {
    let frames = sizes.len() as u32;
    let ticks_per_frame = TIMESCALE / FPS;
    let media_duration = u64::from(frames) * u64::from(ticks_per_frame);
    let movie_duration = media_duration * 1000 / u64::from(TIMESCALE);
    let created = u64::try_from(start.timestamp() + MP4_EPOCH_OFFSET).unwrap_or(0);
    let avcc = Avcc::new(&encoded.sps, &encoded.pps)
        .map_err(|e| Error::Encoder(format!("SPS unusable for avcC: {e}")))?;
    let avc1 = Avc1 {
        visual: Visual {
            data_reference_index: 1,
            width: WIDTH as u16,
            height: HEIGHT as u16,
            ..Visual::default()
        },
        avcc,
        btrt: None,
        colr: None,
        pasp: None,
        taic: None,
        fiel: None,
        spatial: None,
    };
    let sync: Vec<u32> = (0..gops.len() as u32).map(|g| g * FPS + 1).collect();
    let stbl = Stbl {
        stsd: Stsd {
            codecs: vec![Codec::Avc1(avc1)],
        },
        stts: Stts {
            entries: vec![SttsEntry {
                sample_count: frames,
                sample_delta: ticks_per_frame,
            }],
        },
        stss: Some(Stss { entries: sync }),
        stsc: Stsc {
            entries: vec![StscEntry {
                first_chunk: 1,
                samples_per_chunk: FPS,
                sample_description_index: 1,
            }],
        },
        stsz: Stsz {
            samples: StszSamples::Different { sizes },
        },
        stco: Some(Stco {
            entries: chunk_offsets,
        }),
        ..Stbl::default()
    };
    Ok(Moov {
        mvhd: Mvhd {
            creation_time: created,
            modification_time: created,
            timescale: 1000,
            duration: movie_duration,
            rate: 1u16.into(),
            volume: 1u8.into(),
            next_track_id: 2,
            ..Mvhd::default()
        },
        trak: vec![Trak {
            tkhd: Tkhd {
                creation_time: created,
                modification_time: created,
                track_id: 1,
                duration: movie_duration,
                enabled: true,
                in_movie: true,
                width: (WIDTH as u16).into(),
                height: (HEIGHT as u16).into(),
                ..Tkhd::default()
            },
            edts: None,
            meta: None,
            mdia: Mdia {
                mdhd: Mdhd {
                    creation_time: created,
                    modification_time: created,
                    timescale: TIMESCALE,
                    duration: media_duration,
                    language: "und".into(),
                },
                hdlr: Hdlr {
                    handler: FourCC::new(b"vide"),
                    name: "VideoHandler".into(),
                },
                minf: Minf {
                    vmhd: Some(Vmhd::default()),
                    dinf: Dinf {
                        dref: Dref {
                            entries: vec![DrefEntry::Url(Url::default())],
                        },
                    },
                    stbl,
                    ..Minf::default()
                },
            },
            senc: None,
            tref: None,
            udta: None,
        }],
        ..Moov::default()
    })
}
