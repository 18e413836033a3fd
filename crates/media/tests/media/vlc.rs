//! Cuts, time-lapses and recovered recordings played to their end in VLC (Debian's
//! `vlc-bin` with its base plugins, which `scripts/test` installs), with dummy video and
//! audio outputs.
//!
//! VLC reports most damage as warnings, not errors, and libavcodec's messages come
//! unprefixed, so a play counts as clean only when VLC reached the end of the input and
//! its log holds none of [`PROBLEMS`]. A truncated cut is played too, to show that this
//! check fails on a file that does not play. Cuts of the real samples may show no more
//! problems than their sources do.
//!
//! VLC refuses to run as root: as root the player runs as `nobody` through `setpriv`, and
//! reads the file from its standard input (`fd://0`), opened here, so that the test's
//! private temporary folder need not be readable by `nobody`.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};

use dashvault_media::{cut, Mp4Index};

use crate::cut::{indexes, small_cut, small_timelapse, write};
use crate::fixtures::{consecutive, Spec};
use crate::recover::small_recovered;
use crate::samples::sample;

/// Log fragments that mean VLC could not play something: demuxer and decoder errors,
/// tracks it gave up on, data it could not find, and libavcodec's own complaints.
const PROBLEMS: [&str; 9] = [
    "demux error",
    "decoder error",
    "packetizer error",
    "main input error",
    "will be disabled",
    "out of bound",
    "corrupt",
    "no frame!",
    "non-existing",
];

/// The problems VLC logged while playing `file` to its end (empty when it played clean).
fn play_in_vlc(file: &Path) -> Vec<String> {
    let as_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let mut cmd = if as_root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "vlc"]);
        c
    } else {
        Command::new("vlc")
    };
    let output = cmd
        .args(["-I", "dummy", "--no-dbus", "-vv", "--play-and-exit"])
        .args(["--vout=dummy", "--aout=dummy", "--rate=4", "fd://0"])
        .env("HOME", std::env::temp_dir())
        .stdin(File::open(file).expect("open the file to play"))
        .stdout(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run vlc ({e}): run ./scripts/test, which installs vlc-bin")
        });
    assert!(output.status.success(), "vlc exited with {}", output.status);
    let log = String::from_utf8_lossy(&output.stderr);
    let mut problems: Vec<String> = log
        .lines()
        .filter(|line| {
            let is_vlc = line.starts_with('[');
            // Lines VLC itself did not prefix are libavcodec's: every one is a complaint.
            !is_vlc && !line.trim().is_empty()
                || PROBLEMS.iter().any(|p| line.contains(p)) && !line.contains("interface")
        })
        .map(str::to_owned)
        .collect();
    if !log.contains("main input debug: EOF reached") {
        problems.push("VLC never reached the end of the input".to_owned());
    }
    problems
}

#[test]
fn a_cut_across_three_files_plays_clean() {
    let (_dir, out) = small_cut();
    assert_eq!(play_in_vlc(&out), Vec::<String>::new());
}

#[test]
fn an_h265_cut_with_two_second_gops_plays_clean() {
    let paths = consecutive(Spec::h265(4).size(640, 360).gop(2));
    let (files, idx) = indexes(&paths);
    let plan = cut(&idx, 3.0, 9.5).expect("cut");
    let (_dir, out) = write(&plan, &files, "cut265.mp4");
    assert_eq!(play_in_vlc(&out), Vec::<String>::new());
}

#[test]
fn a_timelapse_plays_clean() {
    let (_dir, out) = small_timelapse();
    assert_eq!(play_in_vlc(&out), Vec::<String>::new());
}

#[test]
fn a_recovered_recording_plays_clean() {
    let (_dir, out) = small_recovered();
    assert_eq!(play_in_vlc(&out), Vec::<String>::new());
}

#[test]
fn a_truncated_cut_is_reported() {
    let (_dir, out) = small_cut();
    let len = std::fs::metadata(&out).expect("cut written").len();
    File::options()
        .write(true)
        .open(&out)
        .and_then(|f| f.set_len(len / 2))
        .expect("truncate");
    assert!(
        !play_in_vlc(&out).is_empty(),
        "VLC should report a truncated cut"
    );
}

#[test]
fn cuts_of_real_samples_play_as_clean_as_their_sources() {
    for (name, from, to) in [
        ("Eyevinn__mp4ff/bbb_prog_10s.mp4", 2.5, 8.0),
        ("mapillary__mapillary_tools/sample-5s_h265.mp4", 1.0, 4.0),
        ("gopro__gpmf-parser/hero7.mp4", 3.0, 9.0),
        ("abema__go-mp4/sample_fragmented.mp4", 0.1, 1.0),
        ("Eyevinn__mp4ff/hevc.mp4", 0.0, 1.0),
    ] {
        let path = sample(name);
        let file = File::open(&path).expect("open");
        let idx = Mp4Index::read(&file).expect("index");
        let plan = cut(std::slice::from_ref(&idx), from, to).expect("cut");
        let (_dir, out) = write(&plan, &[file], "cut.mp4");
        let source = play_in_vlc(&path).len();
        let problems = play_in_vlc(&out);
        assert!(problems.len() <= source, "{name}: {problems:?}");
    }
}
