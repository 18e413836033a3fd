//! Cuts, time-lapses and recovered recordings played to their end in a real browser:
//! Debian's Chromium, driven by playwright-core (`tests/browser/play.cjs`). `scripts/test`
//! installs both and points `DASHVAULT_BROWSER_TOOLS` at the node modules; without them
//! these tests fail.

use std::path::Path;
use std::process::Command;

use crate::cut::{small_cut, small_timelapse};
use crate::recover::small_recovered;

/// What Chromium saw while playing a file to its end.
#[derive(Debug)]
struct Played {
    ended: bool,
    duration: f64,
    frames: u64,
    width: u64,
    error: serde_json::Value,
}

fn play_in_chromium(file: &Path) -> Played {
    let tools = std::env::var("DASHVAULT_BROWSER_TOOLS").unwrap_or_else(|_| {
        panic!("DASHVAULT_BROWSER_TOOLS is not set: run ./scripts/test, which installs Chromium and playwright-core")
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/play.cjs");
    let output = Command::new("node")
        .arg(script)
        .arg(file)
        .env("NODE_PATH", Path::new(&tools).join("node_modules"))
        .output()
        .expect("node runs (install Node.js)");
    assert!(
        output.status.success(),
        "play.cjs failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("play.cjs prints JSON");
    Played {
        ended: seen["ended"].as_bool().unwrap_or(false),
        duration: seen["duration"].as_f64().unwrap_or(0.0),
        frames: seen["frames"].as_u64().unwrap_or(0),
        width: seen["width"].as_u64().unwrap_or(0),
        error: seen["error"].clone(),
    }
}

/// Plays `file` in Chromium, which must reach its end without an error.
fn played_to_its_end(file: &Path) -> Played {
    let played = play_in_chromium(file);
    assert!(played.error.is_null(), "{played:?}");
    assert!(played.ended, "{played:?}");
    played
}

#[test]
fn a_cut_across_three_files_plays_to_its_end() {
    let (_dir, out) = small_cut();
    let played = played_to_its_end(&out);
    assert!((played.duration - 8.0).abs() < 0.1, "{played:?}");
    assert!(played.frames >= 8 * 30 - 2, "{played:?}");
    assert_eq!(played.width, 640);
}

#[test]
fn a_timelapse_plays_to_its_end() {
    let (_dir, out) = small_timelapse();
    let played = played_to_its_end(&out);
    // 12 s of 1 s GOPs: 12 keyframes at 10 fps.
    assert!((played.duration - 1.2).abs() < 0.15, "{played:?}");
    assert!(played.frames >= 10, "{played:?}");
}

#[test]
fn a_recovered_recording_plays_to_its_end() {
    let (_dir, out) = small_recovered();
    let played = played_to_its_end(&out);
    // 70 % of a 4 s recording, less the last frame that was cut.
    assert!(played.duration > 2.5, "{played:?}");
    assert!(
        played.frames as f64 >= played.duration * 30.0 - 2.0,
        "{played:?}"
    );
    assert_eq!(played.width, 640);
}
