//! Keyframe time-lapses of generated recordings, checked with ffprobe and ffmpeg.

use dashvault_media::{timelapse, Retime, TimelapseOptions};

use crate::cut::{indexes, write};
use crate::fixtures::{consecutive, decode_errors, ffprobe, Spec};

#[test]
fn speed_divides_the_duration_and_keeps_every_keyframe() {
    let paths = consecutive(Spec::h264(4));
    let (files, idx) = indexes(&paths);
    let keyframes: usize = idx
        .iter()
        .map(|i| i.video().expect("video").sync_count())
        .sum();
    let plan = timelapse(
        &idx,
        TimelapseOptions {
            every: 1,
            retime: Retime::Speed(8.0),
        },
    )
    .expect("timelapse");
    let (_dir, out) = write(&plan, &files, "tl.mp4");
    let v = ffprobe(&out, "v");
    assert_eq!(v.frames as usize, keyframes);
    assert!(
        (v.duration - 12.0 / 8.0).abs() < 0.01,
        "duration {}",
        v.duration
    );
    assert!(v.first_is_key);
    let errors = decode_errors(&out);
    assert!(errors.is_empty(), "{errors}");
    assert!(
        plan.len()
            < paths
                .iter()
                .map(|p| p.metadata().expect("len").len())
                .sum::<u64>()
                / 2
    );
}

#[test]
fn every_nth_keyframe_at_a_frame_rate_h265() {
    let paths = consecutive(Spec::h265(2));
    let (files, idx) = indexes(&paths);
    let plan = timelapse(
        &idx,
        TimelapseOptions {
            every: 2,
            retime: Retime::FrameRate(30.0),
        },
    )
    .expect("timelapse");
    let (_dir, out) = write(&plan, &files, "tl.mp4");
    let v = ffprobe(&out, "v");
    // 6 keyframes (1 s GOP over 6 s), every second one kept.
    assert_eq!(v.frames, 3);
    assert!(
        (v.duration - 3.0 / 30.0).abs() < 0.005,
        "duration {}",
        v.duration
    );
    let errors = decode_errors(&out);
    assert!(errors.is_empty(), "{errors}");
}

#[test]
fn refuses_bad_options() {
    let paths = consecutive(Spec::h264(4));
    let (_, idx) = indexes(&paths);
    for (every, retime) in [
        (0, Retime::Speed(2.0)),
        (1, Retime::Speed(0.0)),
        (1, Retime::FrameRate(f64::INFINITY)),
    ] {
        assert!(timelapse(&idx, TimelapseOptions { every, retime }).is_err());
    }
    assert!(timelapse(
        &[],
        TimelapseOptions {
            every: 1,
            retime: Retime::Speed(2.0)
        }
    )
    .is_err());
}
