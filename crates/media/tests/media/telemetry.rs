//! Telemetry readers against real camera files and their oracles.

use std::fs;
use std::path::Path;

use dashvault_media::telemetry::{
    blackvue, gpmf, novatek, read_parsed, read_telemetry, read_telemetry_from, Parsed, Skipped,
    Telemetry,
};

use crate::samples::sample;

fn bytes(name: &str) -> Vec<u8> {
    fs::read(sample(name)).expect("read sample")
}

/// The telemetry of a file that must read without skipping anything.
fn clean(parsed: Parsed) -> Telemetry {
    assert_eq!(parsed.skipped, Skipped::default());
    parsed.telemetry
}

/// One GPS5 entry of a dustin/gpmf golden dump.
#[derive(Debug, Clone, PartialEq)]
struct GoldenFix {
    time: String,
    lat: f64,
    lon: f64,
    alt: f64,
    speed: f64,
}

/// A golden dump: per payload (`Device` block), its GPS5 entries and the count and first
/// value of its accelerometer and gyroscope streams.
#[derive(Debug, Default)]
struct GoldenPayload {
    gps: Vec<GoldenFix>,
    accel: Option<(usize, [f64; 3])>,
    gyro: Option<(usize, [f64; 3])>,
}

fn field<'a>(line: &'a str, key: &str) -> &'a str {
    let start = line.find(key).unwrap_or_else(|| panic!("{key} in {line}")) + key.len();
    let rest = &line[start..];
    &rest[..rest.find([' ', ')']).unwrap_or(rest.len())]
}

fn golden(name: &str) -> Vec<GoldenPayload> {
    let text = fs::read_to_string(sample(name)).expect("read golden");
    let mut payloads: Vec<GoldenPayload> = Vec::new();
    let mut pending: Option<&str> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if line.starts_with("Device ") {
            payloads.push(GoldenPayload::default());
        } else if trimmed.starts_with("Accelerometer") {
            pending = Some("accel");
        } else if trimmed.starts_with("Gyroscope") {
            pending = Some("gyro");
        } else if let Some(rest) = trimmed.strip_prefix("Temp: ") {
            let count: usize = field(rest, "and ").parse().unwrap();
            let v: Vec<f64> = field(line, "like (")
                .split(',')
                .map(|x| x.parse().unwrap())
                .collect();
            let entry = Some((count, [v[0], v[1], v[2]]));
            let payload = payloads.last_mut().unwrap();
            match pending.take() {
                Some("accel") => payload.accel = entry,
                Some("gyro") => payload.gyro = entry,
                other => panic!("Temp line after {other:?}"),
            }
        } else if trimmed.starts_with("(time=") {
            let time = trimmed["(time=".len()..trimmed.find(" UTC").unwrap()].to_string();
            let lat_lon: Vec<f64> = field(trimmed, "UTC - (")
                .split(',')
                .map(|x| x.parse().unwrap())
                .collect();
            payloads.last_mut().unwrap().gps.push(GoldenFix {
                time,
                lat: lat_lon[0],
                lon: lat_lon[1],
                alt: field(trimmed, "alt=").parse().unwrap(),
                speed: field(trimmed, "spd2d=").parse().unwrap(),
            });
        }
    }
    payloads
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

/// Checks a whole GPMF stream against its golden dump: every payload's accelerometer and
/// gyroscope count and first value, and every GPS5 value of the payloads with a fix.
/// Returns (payloads with a fix, payloads in all).
fn check_against_golden(stem: &str) -> (usize, usize) {
    let tel = clean(gpmf::parse_stream(&bytes(&format!(
        "dustin__gpmf/{stem}.gpmf"
    ))));
    let golden = golden(&format!("dustin__gpmf/{stem}.golden"));
    assert!(!golden.is_empty(), "{stem}: golden has no payload");
    let in_second =
        |series: &[dashvault_media::telemetry::Vec3Sample], k: usize| -> Vec<[f64; 3]> {
            series
                .iter()
                .filter(|s| s.t >= k as f64 && s.t < (k + 1) as f64)
                .map(|s| s.v)
                .collect()
        };
    let mut with_fix = 0;
    for (k, payload) in golden.iter().enumerate() {
        for (what, series, expected) in [
            ("accel", &tel.accel, payload.accel),
            ("gyro", &tel.gyro, payload.gyro),
        ] {
            let Some((count, first)) = expected else {
                continue;
            };
            let got = in_second(series, k);
            assert_eq!(got.len(), count, "{stem} payload {k} {what} count");
            for axis in 0..3 {
                assert!(
                    close(got[0][axis], first[axis], 1e-6),
                    "{stem} payload {k} {what} first {:?} vs {first:?}",
                    got[0]
                );
            }
        }
        let fixes: Vec<_> = tel
            .gps
            .iter()
            .filter(|f| f.t >= k as f64 && f.t < (k + 1) as f64)
            .collect();
        if fixes.is_empty() {
            continue;
        }
        with_fix += 1;
        assert_eq!(
            fixes.len(),
            payload.gps.len(),
            "{stem} payload {k}: a payload with a fix keeps all its GPS5 samples"
        );
        for (fix, want) in fixes.iter().zip(&payload.gps) {
            assert!(
                close(fix.lat, want.lat, 1e-9) && close(fix.lon, want.lon, 1e-9),
                "{stem} payload {k}: {fix:?} vs {want:?}"
            );
            assert!(
                close(fix.alt.unwrap(), want.alt, 1e-9)
                    && close(fix.speed.unwrap(), want.speed, 1e-9),
                "{stem} payload {k}: {fix:?} vs {want:?}"
            );
        }
        // GPSU is the time of the payload's first fix.
        let first = fixes[0]
            .time
            .unwrap()
            .format("%Y-%m-%d %H:%M:%S%.3f")
            .to_string();
        assert_eq!(first, payload.gps[0].time, "{stem} payload {k}: GPSU");
    }
    (with_fix, golden.len())
}

/// Payloads with a 2-D or 3-D fix (`GPSF` ≥ 2) in each dustin/gpmf stream, counted from
/// the streams' `GPSF` tags: hero6 goes 3,3, then 0 ×12, then 2,3 ×8; walking has two
/// runs of fix 2; grass and basement never get a fix.
const FIXED_PAYLOADS: [(&str, usize, usize); 4] = [
    ("hero6", 11, 23),
    ("walking", 40, 50),
    ("grass", 0, 13),
    ("basement", 0, 123),
];

#[test]
fn gpmf_streams_match_golden_dumps_and_drop_no_fix_payloads() {
    for (stem, with_fix, all) in FIXED_PAYLOADS {
        assert_eq!(
            check_against_golden(stem),
            (with_fix, all),
            "{stem}: payloads with a fix, payloads"
        );
    }
    let tel = clean(gpmf::parse_stream(&bytes("dustin__gpmf/basement.gpmf")));
    assert!(
        tel.gps.is_empty() && tel.start.is_none() && !tel.accel.is_empty(),
        "basement: bogus 2015 GPS dropped"
    );
}

#[test]
fn gpmf_single_payloads_have_the_documented_counts() {
    // (file, GPS fixes kept, ACCL samples, GYRO samples) from the samples' README.
    for (name, gps, accel, gyro) in [
        ("gopro__gpmf-parser/hero5.raw", 18, 199, 399),
        ("gopro__gpmf-parser/hero6.raw", 0, 0, 0),
        ("gopro__gpmf-parser/Fusion.raw", 19, 197, 3300),
    ] {
        let tel = clean(gpmf::parse_stream(&bytes(name)));
        assert_eq!(tel.gps.len(), gps, "{name} GPS");
        if accel > 0 {
            assert_eq!(
                (tel.accel.len(), tel.gyro.len()),
                (accel, gyro),
                "{name} ACCL/GYRO"
            );
        }
    }
    let ble = clean(gpmf::parse_stream(&bytes(
        "gopro__gpmf-parser/hero6+ble.raw",
    )));
    assert!(
        !ble.accel.is_empty(),
        "hero6+ble: the camera device is read next to the BLE one"
    );
}

#[test]
fn gpmf_hero7_and_hero11_streams() {
    let hero7 = clean(gpmf::parse_stream(&bytes(
        "JuanIrache__gopro-telemetry/hero7.raw",
    )));
    assert_eq!(hero7.gps.len(), 308);
    let hero11 = clean(gpmf::parse_stream(&bytes(
        "JuanIrache__gopro-telemetry/hero11.raw",
    )));
    // GPS9 wins over the GPS5 written beside it: 110 fixes, not 220.
    assert_eq!(hero11.gps.len(), 110);
    let first = hero11.gps[0].time.unwrap();
    assert_eq!(first.format("%Y-%m-%d").to_string(), "2022-09-20");
    // GPS9 carries its own time per fix; GPSU of the first payload is 13:29:38.299.
    let gpsu = chrono::NaiveDate::from_ymd_opt(2022, 9, 20)
        .unwrap()
        .and_hms_milli_opt(13, 29, 38, 299)
        .unwrap()
        .and_utc();
    assert!(
        (first - gpsu).num_milliseconds().abs() < 3000,
        "GPS9 time {first} far from GPSU {gpsu}"
    );
    assert!(
        hero11.gps.windows(2).all(|w| w[0].time <= w[1].time),
        "GPS9 times in order"
    );
    for stream in ["consecutive1", "consecutive2"] {
        let tel = clean(gpmf::parse_stream(&bytes(&format!(
            "JuanIrache__gopro-telemetry/{stream}.raw"
        ))));
        assert!(
            tel.gps.is_empty() && !tel.accel.is_empty(),
            "{stream}: no fix, but motion"
        );
    }
}

#[test]
fn gopro_mp4_gpmd_track() {
    let tel = read_telemetry(&sample("gopro__gpmf-parser/hero7.mp4")).unwrap();
    assert_eq!(tel.gps.len(), 199);
    let first = tel.gps[0];
    assert!(
        close(first.lat, 33.126_840_3, 1e-9) && close(first.lon, -117.327_404_3, 1e-9),
        "{first:?}"
    );
    let fmt = |f: &dashvault_media::telemetry::GpsFix| {
        f.time.unwrap().format("%Y-%m-%d %H:%M:%S%.3f").to_string()
    };
    assert_eq!(fmt(&first), "2019-05-06 18:15:07.395");
    let last_payload_start = tel
        .gps
        .iter()
        .rev()
        .find(|f| fmt(f) == "2019-05-06 18:15:17.350");
    assert!(
        last_payload_start.is_some(),
        "last GPSU 18:15:17.350 is among the fixes"
    );
    assert!(
        first.t >= 0.0 && first.t < 1.1,
        "first fix in the first second: {}",
        first.t
    );
    assert!(
        tel.gps.last().unwrap().t < 11.8,
        "fixes within the 11.75 s recording"
    );
    for (what, n) in [("accel", tel.accel.len()), ("gyro", tel.gyro.len())] {
        assert!(
            (2000..2400).contains(&n),
            "{what}: {n} samples, README says ~2175"
        );
    }
    // At rest or moving gently, the accelerometer reads about 1 g.
    let mean = tel
        .accel
        .iter()
        .map(|s| s.v.iter().map(|x| x * x).sum::<f64>().sqrt())
        .sum::<f64>()
        / tel.accel.len() as f64;
    assert!((8.0..12.0).contains(&mean), "mean |accel| {mean} m/s²");
    let start = tel.start.unwrap();
    assert_eq!(
        start.format("%Y-%m-%d %H:%M").to_string(),
        "2019-05-06 18:15"
    );
}

#[test]
fn gpmf_truncated_or_corrupted_is_read_up_to_the_damage() {
    // A stream of one payload a second, cut inside its last KLV item: the declared
    // length no longer fits, so that payload is skipped and counted, and every payload
    // before it is read.
    let stream = bytes("dustin__gpmf/hero6.gpmf");
    let whole = clean(gpmf::parse_stream(&stream));
    let cut = gpmf::parse_stream(&stream[..stream.len() - 3]);
    assert_eq!(cut.skipped.count, 1);
    let first = cut.skipped.first.unwrap();
    assert!(first.contains("GPMF") && first.contains("needs"), "{first}");
    assert!(
        !cut.telemetry.accel.is_empty() && cut.telemetry.accel.len() < whole.accel.len(),
        "{} of {} accelerometer samples",
        cut.telemetry.accel.len(),
        whole.accel.len()
    );
    let data = bytes("gopro__gpmf-parser/hero5.raw");
    let header_only = gpmf::parse_stream(&data[..5]);
    assert_eq!(header_only.skipped.count, 1);
    assert_eq!(header_only.telemetry, Telemetry::default());
    // Every prefix and many single-byte corruptions: an Ok or an Err, never a panic.
    for cut in (0..data.len()).step_by(7) {
        let _ = gpmf::parse_stream(&data[..cut]);
    }
    let mut seed = 0x2545_f491_u32;
    for _ in 0..2000 {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let mut bad = data.clone();
        let at = seed as usize % bad.len();
        bad[at] = (seed >> 8) as u8;
        let _ = gpmf::parse_stream(&bad);
    }
    let mp4 = bytes("gopro__gpmf-parser/hero7.mp4");
    // Corrupted gpmd samples inside a valid MP4: an Ok or an Err naming the sample.
    let index = dashvault_media::Mp4Index::read(&mp4).unwrap();
    let gpmd = index
        .tracks
        .iter()
        .find(|t| t.codec.to_string() == "gpmd")
        .unwrap();
    let mut damaged = 0;
    for round in 0..200 {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let s = gpmd.samples[round % gpmd.samples.len()];
        let mut bad = mp4.clone();
        let at = s.offset as usize + seed as usize % s.size as usize;
        bad[at] = (seed >> 8) as u8;
        let parsed =
            dashvault_media::telemetry::mp4::read_mp4(bad.as_slice()).expect("the index is intact");
        if let Some(first) = parsed.skipped.first {
            damaged += 1;
            assert!(first.contains("gpmd track"), "{first}");
        }
        assert!(parsed.telemetry.gps.len() <= 199);
    }
    assert!(damaged > 0, "some corruptions are detected and counted");
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.mp4");
    fs::write(&cut, &mp4[..mp4.len() / 2]).unwrap();
    assert!(
        read_telemetry(&cut).is_err(),
        "an MP4 cut in half has no readable index"
    );
}

#[test]
fn blackvue_3gf_mock() {
    let tel = read_telemetry(&sample("acolomba__blackvuesync/mock.3gf")).unwrap();
    assert_eq!(tel.accel.len(), 155);
    assert_eq!(tel.accel[0].t, 0.0);
    assert_eq!(tel.accel.last().unwrap().t, 16.87);
    // First record: 0 ms, axes 0x0078 = 120, 0xfffe = -2, 0xffec = -20 counts of 1/128 g.
    let g = 9.806_65 / 128.0;
    assert_eq!(tel.accel[0].v, [120.0 * g, -2.0 * g, -20.0 * g]);
    let mut lengths: Vec<f64> = tel
        .accel
        .iter()
        .map(|s| s.v.iter().map(|x| x * x).sum::<f64>().sqrt())
        .collect();
    lengths.sort_by(f64::total_cmp);
    let median = lengths[lengths.len() / 2];
    assert!(
        (8.8..11.5).contains(&median),
        "median |a| {median} m/s² should be about 1 g"
    );
}

#[test]
fn blackvue_gps_mock_format() {
    let path = sample("acolomba__blackvuesync/mock.gps");
    // The sample's coordinates were anonymised without fixing the checksum (stated 50,
    // actual 5C): the reader skips that sentence and says where and why.
    let parsed = read_parsed(&path).unwrap();
    assert!(parsed.telemetry.gps.is_empty());
    assert_eq!(parsed.skipped.count, 1);
    let first = parsed.skipped.first.unwrap();
    assert!(
        first.contains("line 3") && first.contains("checksum"),
        "{first}"
    );
    // With the checksum recomputed, the same line reads as the values it holds.
    let text = fs::read_to_string(&path).unwrap().replace("*50", "*5C");
    let tel = clean(blackvue::parse_gps(text.as_bytes()));
    assert_eq!(tel.gps.len(), 1);
    let fix = tel.gps[0];
    assert!(
        close(fix.lat, 12.0 + 34.5678 / 60.0, 1e-12)
            && close(fix.lon, -(123.0 + 45.6789 / 60.0), 1e-12),
        "{fix:?}"
    );
    assert_eq!(fix.alt, Some(123.4));
    assert_eq!(fix.t, 0.0);
    // GGA alone carries no date: the fix has no UTC time (its stamp is the camera's clock).
    assert_eq!(fix.time, None);
    assert_eq!(tel.start.unwrap().timestamp_millis(), 1_553_161_574_690);
    let bad = blackvue::parse_gps(b"[12]$GPGGA,1\n[oops]\n");
    assert_eq!((bad.telemetry.gps.len(), bad.skipped.count), (0, 2));
    assert_eq!(blackvue::parse_gps(b"no stamp\n").skipped.count, 1);
}

/// A Novatek `freeGPS` box in the documented layout (GPS type 3).
fn freegps_block(
    second: u32,
    status: u8,
    lat_ddmm: f32,
    lon_ddmm: f32,
    knots: f32,
    course: f32,
) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&128u32.to_be_bytes());
    b.extend_from_slice(b"freeGPS ");
    b.extend_from_slice(&0u32.to_le_bytes());
    for v in [14u32, 30, second, 23, 6, 15] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(&[status, b'N', b'W', 0]);
    for v in [lat_ddmm, lon_ddmm, knots, course] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.resize(128, 0);
    b
}

/// A copy of a real MP4 whose `moov` is last, with `freeGPS` boxes appended and, when
/// `with_index`, a `moov/gps ` box pointing at them.
fn novatek_mp4(blocks: &[Vec<u8>], with_index: bool) -> Vec<u8> {
    let mut file = bytes("Eyevinn__mp4ff/bbb_prog_10s.mp4");
    let moov_at = file.windows(4).rposition(|w| w == b"moov").unwrap() - 4;
    let moov_size = u32::from_be_bytes(file[moov_at..moov_at + 4].try_into().unwrap()) as usize;
    assert_eq!(
        moov_at + moov_size,
        file.len(),
        "moov is the last box of the sample"
    );
    if with_index {
        let gps_size = 8 + 8 + 8 * blocks.len();
        let first = file.len() + gps_size;
        let mut gps = Vec::new();
        gps.extend_from_slice(&(gps_size as u32).to_be_bytes());
        gps.extend_from_slice(b"gps ");
        gps.extend_from_slice(&0x101u32.to_be_bytes());
        gps.extend_from_slice(&(blocks.len() as u32).to_be_bytes());
        for (i, b) in blocks.iter().enumerate() {
            gps.extend_from_slice(&((first + i * b.len()) as u32).to_be_bytes());
            gps.extend_from_slice(&(b.len() as u32).to_be_bytes());
        }
        file.extend_from_slice(&gps);
        file[moov_at..moov_at + 4].copy_from_slice(&((moov_size + gps_size) as u32).to_be_bytes());
    }
    for b in blocks {
        file.extend_from_slice(b);
    }
    file
}

#[test]
fn novatek_freegps_in_generated_mp4() {
    // 3 blocks: a fix, no fix (V), a fix. 4807.038 N, 01131.000 W, 10 knots, course 84.4.
    let blocks = vec![
        freegps_block(0, b'A', 4807.038, 1131.0, 10.0, 84.4),
        freegps_block(1, b'V', 0.0, 0.0, 0.0, 0.0),
        freegps_block(2, b'A', 4807.1, 1131.2, 20.0, 90.0),
    ];
    let dir = tempfile::tempdir().unwrap();
    for with_index in [true, false] {
        let path = dir.path().join(format!("novatek-{with_index}.mp4"));
        fs::write(&path, novatek_mp4(&blocks, with_index)).unwrap();
        let tel: Telemetry = read_telemetry(&path).unwrap();
        assert_eq!(
            tel.gps.len(),
            2,
            "index {with_index}: the V block is dropped"
        );
        let fix = tel.gps[0];
        assert!(
            close(fix.lat, 48.0 + 7.038 / 60.0, 1e-6)
                && close(fix.lon, -(11.0 + 31.0 / 60.0), 1e-6),
            "{fix:?}"
        );
        assert!(close(fix.speed.unwrap(), 10.0 * 1852.0 / 3600.0, 1e-6));
        assert!(close(fix.heading.unwrap(), 84.4, 1e-6));
        assert_eq!(fix.time.unwrap().to_rfc3339(), "2023-06-15T14:30:00+00:00");
        assert_eq!((tel.gps[0].t, tel.gps[1].t), (0.0, 2.0));
        assert_eq!(tel.start, fix.time);
    }
}

#[test]
fn novatek_bad_blocks_are_skipped_and_counted() {
    let good = freegps_block(0, b'A', 4807.038, 1131.0, 10.0, 84.4);
    assert_eq!(
        novatek::parse_blocks([&good[..40]]).skipped.count,
        1,
        "truncated block"
    );
    let mut bad = good.clone();
    bad[41] = b'X';
    let parsed = novatek::parse_blocks([&good[..], &bad[..]]);
    assert_eq!(parsed.telemetry.gps.len(), 1, "the good block is read");
    let first = parsed.skipped.first.unwrap();
    assert!(
        first.contains("block 1") && first.contains("hemisphere"),
        "{first}"
    );
    assert!(
        novatek::parse_gps_index(&[0, 0, 1, 1, 0, 0, 0, 9, 0, 0]).is_err(),
        "count beyond the box"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.mp4");
    let mut file = novatek_mp4(&[good], true);
    file.truncate(file.len() - 100);
    fs::write(&path, file).unwrap();
    assert!(
        read_telemetry(&path).is_err(),
        "the file is cut off inside a box"
    );
}

#[test]
fn read_telemetry_chooses_the_reader_from_content() {
    let bare = read_telemetry(&sample("dustin__gpmf/hero6.gpmf")).unwrap();
    assert_eq!(
        bare,
        clean(gpmf::parse_stream(&bytes("dustin__gpmf/hero6.gpmf")))
    );
    // From memory (as from an object store): a .3gf is told by its name or its shape.
    let gf = bytes("acolomba__blackvuesync/mock.3gf");
    let named = read_telemetry_from(gf.as_slice(), Some(Path::new("x.3gf"))).unwrap();
    assert_eq!(named, read_telemetry_from(gf.as_slice(), None).unwrap());
    assert_eq!(named.accel.len(), 155);
    let mp4 = bytes("gopro__gpmf-parser/hero7.mp4");
    assert_eq!(
        read_telemetry_from(mp4.as_slice(), None).unwrap().gps.len(),
        199
    );
    let err = read_telemetry(&sample("Eyevinn__mp4ff/bbb_prog_10s.mp4")).unwrap_err();
    assert!(
        matches!(err, dashvault_media::Error::Unsupported(_)),
        "MP4 without telemetry: {err}"
    );
    let err = read_telemetry(&sample("Eyevinn__mp4ff/h264.mp4.nallister-golden.txt")).unwrap_err();
    assert!(
        matches!(err, dashvault_media::Error::Unsupported(_)),
        "a text file: {err}"
    );
    assert!(read_telemetry(&sample("Eyevinn__mp4ff/init_truncated.mp4")).is_err());
}

#[test]
fn nmea_and_novatek_corruptions_never_panic() {
    let log = "[1000]$GPRMC,220516,A,5133.82,N,00042.24,W,173.8,231.8,130694,004.2,W*70\n\
               [1000]$GPGGA,220516,5133.82,N,00042.24,W,1,08,0.9,45.5,M,46.9,M,,*62\n";
    let block = freegps_block(0, b'A', 4807.038, 1131.0, 10.0, 84.4);
    let mut seed = 0x9e37_79b9_u32;
    for _ in 0..3000 {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let mut bad = log.as_bytes().to_vec();
        let at = seed as usize % bad.len();
        bad[at] = (seed >> 8) as u8;
        let _ = blackvue::parse_gps(&bad);
        let _ = blackvue::parse_gps(&bad[..at]);
        let mut bad = block.clone();
        let at = seed as usize % 64;
        bad[at] = (seed >> 8) as u8;
        let _ = novatek::parse_blocks([&bad[..]]);
    }
}

/// A Tesla SEI NAL unit (Annex-B, with start code) holding a `SeiMetadata` record, built
/// from the public `dashcam.proto`: speed (4, float), latitude, longitude, heading
/// (11–13, double), acceleration x, y, z (14–16, double).
fn tesla_sei(speed: f32, lat: f64, lon: f64, heading: f64, accel: [f64; 3]) -> Vec<u8> {
    let mut proto = vec![0x08, 0x01, 0x25];
    proto.extend_from_slice(&speed.to_le_bytes());
    for (field, v) in [
        (11u8, lat),
        (12, lon),
        (13, heading),
        (14, accel[0]),
        (15, accel[1]),
        (16, accel[2]),
    ] {
        // Tag = field << 3 | wire type 1 (64-bit), as a varint (field 16 needs two bytes).
        let tag = u16::from(field) << 3 | 1;
        if tag < 0x80 {
            proto.push(tag as u8);
        } else {
            proto.extend_from_slice(&[(tag & 0x7f) as u8 | 0x80, (tag >> 7) as u8]);
        }
        proto.extend_from_slice(&v.to_le_bytes());
    }
    let mut payload = vec![0x42; 15];
    payload.push(0x69);
    payload.extend_from_slice(&proto);
    let mut rbsp = vec![0x05, payload.len() as u8];
    rbsp.extend_from_slice(&payload);
    rbsp.push(0x80);
    // Emulation prevention: no 00 00 0x (x ≤ 3) inside the NAL unit.
    let mut nal = vec![0, 0, 0, 1, 0x06];
    let mut zeros = 0;
    for b in rbsp {
        if zeros >= 2 && b <= 3 {
            nal.push(3);
            zeros = 0;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        nal.push(b);
    }
    nal
}

/// Splits an Annex-B stream at its start codes: (start code, NAL unit) pairs.
fn annex_b_units(stream: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream[i..i + 3] == [0, 0, 1] {
            let code = if i > 0 && stream[i - 1] == 0 {
                i - 1
            } else {
                i
            };
            starts.push((code, i + 3));
            i += 3;
        } else {
            i += 1;
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(k, &(code, body))| {
            let end = starts.get(k + 1).map_or(stream.len(), |&(next, _)| next);
            (&stream[code..body], &stream[body..end])
        })
        .collect()
}

#[test]
fn tesla_sei_in_generated_h264() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw.h264");
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=10",
            "-t",
            "3",
        ])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-bf",
            "0",
            "-g",
            "10",
            "-f",
            "h264",
        ])
        .arg(&raw)
        .status()
        .expect("ffmpeg with libx264 is needed (apt-get install ffmpeg)");
    assert!(status.success());
    // Before each frame's slice, a record: position moves every 3 frames, as GPS updates
    // slower than video; frame 0 has no fix yet (0, 0).
    let stream = fs::read(&raw).unwrap();
    let mut out = Vec::new();
    let mut frame = 0u32;
    for (code, nal) in annex_b_units(&stream) {
        if matches!(nal[0] & 0x1f, 1 | 5) {
            let f = f64::from(frame);
            let (lat, lon) = if frame == 0 {
                (0.0, 0.0)
            } else {
                (37.4 + f64::from(frame / 3) * 1e-4, -122.1)
            };
            out.extend(tesla_sei(
                12.5 + frame as f32,
                lat,
                lon,
                90.0,
                [0.1 * f, -0.2, 9.8],
            ));
            frame += 1;
        }
        out.extend_from_slice(code);
        out.extend_from_slice(nal);
    }
    assert_eq!(frame, 30);
    let annexb = dir.path().join("tesla.h264");
    fs::write(&annexb, out).unwrap();
    let mp4 = dir.path().join("tesla.mp4");
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-f", "h264", "-framerate", "10", "-i"])
        .arg(&annexb)
        .args(["-c", "copy"])
        .arg(&mp4)
        .status()
        .unwrap();
    assert!(status.success());

    let tel = read_telemetry(&mp4).unwrap();
    assert_eq!(tel.accel.len(), 30, "one acceleration per frame");
    for (i, s) in tel.accel.iter().enumerate() {
        assert!(
            (s.t - i as f64 / 10.0).abs() < 1e-6,
            "frame {i} at {} s",
            s.t
        );
        assert_eq!(s.v, [0.1 * i as f64, -0.2, 9.8]);
    }
    // Frames 1–2, 3–5, …, 27–29 share a position: 10 fixes, the first at frame 1.
    assert_eq!(tel.gps.len(), 10);
    let first = tel.gps[0];
    assert!(
        (first.t - 0.1).abs() < 1e-6 && first.lat == 37.4 && first.lon == -122.1,
        "{first:?}"
    );
    assert_eq!(
        (first.speed, first.heading, first.time),
        (Some(13.5), Some(90.0), None)
    );
    assert!((tel.gps[1].t - 0.3).abs() < 1e-6);
    assert!(tel.start.is_none());
}

/// A real MP4 with a BlackVue-style `free` box appended: blocks `[u32 length][tag][data]`
/// holding the shared `.gps` (checksum fixed, NUL-terminated) and `.3gf` (ended by a
/// record of 0xFF) samples, as the camera embeds them.
fn blackvue_mp4(blocks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (tag, data) in blocks {
        body.extend_from_slice(&(8 + data.len() as u32).to_be_bytes());
        body.extend_from_slice(*tag);
        body.extend_from_slice(data);
    }
    body.extend_from_slice(&[0; 16]);
    let mut file = bytes("Eyevinn__mp4ff/bbb_prog_10s.mp4");
    file.extend_from_slice(&(8 + body.len() as u32).to_be_bytes());
    file.extend_from_slice(b"free");
    file.extend_from_slice(&body);
    file
}

#[test]
fn blackvue_logs_embedded_in_mp4() {
    let gps = fs::read_to_string(sample("acolomba__blackvuesync/mock.gps"))
        .unwrap()
        .replace("*50", "*5C");
    let mut gps = gps.into_bytes();
    gps.extend_from_slice(&[0; 7]);
    let mut gf = bytes("acolomba__blackvuesync/mock.3gf");
    gf.extend_from_slice(&[0xff; 10]);
    gf.extend_from_slice(&[0xff; 3]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("20190321_094614_NF.mp4");
    fs::write(
        &path,
        blackvue_mp4(&[(b"thum", vec![1, 2, 3]), (b"gps ", gps), (b"3gf ", gf)]),
    )
    .unwrap();
    let tel = read_telemetry(&path).unwrap();
    assert_eq!((tel.gps.len(), tel.accel.len()), (1, 155));
    assert_eq!(tel.start.unwrap().timestamp_millis(), 1_553_161_574_690);
    assert!(close(tel.gps[0].lat, 12.0 + 34.5678 / 60.0, 1e-12));
    assert_eq!(tel.accel.last().unwrap().t, 16.87);

    // A block whose length runs past the box is skipped, and named.
    let mut broken = blackvue_mp4(&[(b"3gf ", vec![0; 20])]);
    let n = broken.len();
    let at = n - 16 - 20 - 8;
    broken[at..at + 4].copy_from_slice(&1000u32.to_be_bytes());
    fs::write(&path, broken).unwrap();
    let parsed = read_parsed(&path).unwrap();
    assert_eq!(parsed.telemetry, Telemetry::default());
    let first = parsed.skipped.first.unwrap();
    assert!(
        first.contains("BlackVue") && first.contains("1000"),
        "{first}"
    );
}
