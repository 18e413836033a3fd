//! Cuts and time-lapses played to their end in a real browser: Debian's Chromium, driven
//! by playwright-core (`tests/browser/play.cjs`). `scripts/test` installs both and points
//! `DASHVAULT_BROWSER_TOOLS` at the node modules; without them these tests fail.

use std::path::Path;
use std::process::Command;

use crate::cut::{small_cut, small_timelapse};

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

#[test]
fn a_cut_across_three_files_plays_to_its_end() {
    let (_dir, out) = small_cut();
    let played = play_in_chromium(&out);
    assert!(played.error.is_null(), "{played:?}");
    assert!(played.ended, "{played:?}");
    assert!((played.duration - 8.0).abs() < 0.1, "{played:?}");
    assert!(played.frames >= 8 * 30 - 2, "{played:?}");
    assert_eq!(played.width, 640);
}

#[test]
fn a_timelapse_plays_to_its_end() {
    let (_dir, out) = small_timelapse();
    let played = play_in_chromium(&out);
    assert!(played.error.is_null(), "{played:?}");
    assert!(played.ended, "{played:?}");
    // 12 s of 1 s GOPs: 12 keyframes at 10 fps.
    assert!((played.duration - 1.2).abs() < 0.15, "{played:?}");
    assert!(played.frames >= 10, "{played:?}");
}
