//! Test recordings generated with ffmpeg, cached under `target/test-media/` by parameters.
//!
//! Each file is written under a temporary name and renamed, so parallel test processes
//! never see a half-written file.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Video codec of a generated recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    H264,
    H265,
}

/// Where `moov` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// ffmpeg's default, as cameras write: `mdat` then `moov`.
    MoovAtEnd,
    /// `moov` first (`-movflags +faststart`).
    MoovFirst,
    /// Fragmented (`moof`/`mdat` per keyframe).
    Fragmented,
}

/// Parameters of a generated recording.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub codec: Codec,
    pub width: u32,
    pub height: u32,
    /// Seconds.
    pub duration: u32,
    /// Seconds between keyframes.
    pub gop: u32,
    pub audio: bool,
    /// PCM audio in a QuickTime file instead of AAC in MP4.
    pub pcm: bool,
    pub layout: Layout,
    /// Distinguishes consecutive files (other colours and tone).
    pub part: u32,
}

impl Spec {
    /// 1080p30 H.264 with AAC, 1 s GOP, `moov` at the end.
    pub fn h264(duration: u32) -> Self {
        Spec {
            codec: Codec::H264,
            width: 1920,
            height: 1080,
            duration,
            gop: 1,
            audio: true,
            pcm: false,
            layout: Layout::MoovAtEnd,
            part: 0,
        }
    }

    /// 1080p30 H.265 (`hvc1`) with AAC, 1 s GOP, `moov` at the end.
    pub fn h265(duration: u32) -> Self {
        Spec {
            codec: Codec::H265,
            ..Spec::h264(duration)
        }
    }

    pub fn gop(self, gop: u32) -> Self {
        Spec { gop, ..self }
    }

    pub fn layout(self, layout: Layout) -> Self {
        Spec { layout, ..self }
    }

    pub fn size(self, width: u32, height: u32) -> Self {
        Spec {
            width,
            height,
            ..self
        }
    }

    pub fn part(self, part: u32) -> Self {
        Spec { part, ..self }
    }

    pub fn pcm(self) -> Self {
        Spec { pcm: true, ..self }
    }

    pub fn no_audio(self) -> Self {
        Spec {
            audio: false,
            ..self
        }
    }

    fn name(&self) -> String {
        format!(
            "{:?}_{}x{}_{}s_gop{}_{}_{:?}_p{}.mp4",
            self.codec,
            self.width,
            self.height,
            self.duration,
            self.gop,
            match (self.audio, self.pcm) {
                (false, _) => "mute",
                (true, false) => "aac",
                (true, true) => "pcm",
            },
            self.layout,
            self.part
        )
        .to_lowercase()
    }
}

/// Folder of generated media: `target/test-media`.
pub fn cache_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-media");
    std::fs::create_dir_all(&dir).expect("create target/test-media");
    dir
}

/// Runs a command, panicking with its stderr (and what to install) when it fails.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?} ({e}); install ffmpeg (apt-get install ffmpeg)")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The path of the recording `spec`, generating it on first use.
pub fn recording(spec: Spec) -> PathBuf {
    let path = cache_dir().join(spec.name());
    if path.exists() {
        return path;
    }
    let tmp = path.with_extension(format!("tmp{}.mp4", std::process::id()));
    let fps = 30;
    let keyint = (spec.gop * fps).to_string();
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!(
            "testsrc2=size={}x{}:rate={fps}:duration={},hue=h={}",
            spec.width,
            spec.height,
            spec.duration,
            spec.part * 40
        ));
    if spec.audio {
        cmd.args(["-f", "lavfi", "-i"]).arg(format!(
            "sine=frequency={}:sample_rate=48000:duration={}",
            440 + 110 * spec.part,
            spec.duration
        ));
    }
    match spec.codec {
        Codec::H264 => cmd
            .args(["-c:v", "libx264", "-preset", "ultrafast", "-bf", "2"])
            .args(["-g", &keyint, "-keyint_min", &keyint, "-sc_threshold", "0"]),
        Codec::H265 => cmd
            .args(["-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1"])
            .arg("-x265-params")
            .arg(format!(
                "keyint={keyint}:min-keyint={keyint}:scenecut=0:open-gop=0:log-level=error"
            )),
    };
    cmd.args(["-pix_fmt", "yuv420p", "-b:v", "4M"]);
    match (spec.audio, spec.pcm) {
        (false, _) => {}
        (true, false) => {
            cmd.args(["-c:a", "aac", "-b:a", "96k"]);
        }
        (true, true) => {
            cmd.args(["-c:a", "pcm_s16le"]);
        }
    }
    match spec.layout {
        Layout::MoovAtEnd => {}
        Layout::MoovFirst => {
            cmd.args(["-movflags", "+faststart"]);
        }
        Layout::Fragmented => {
            cmd.args(["-movflags", "+frag_keyframe+empty_moov+default_base_moof"]);
        }
    }
    cmd.args(["-f", if spec.pcm { "mov" } else { "mp4" }])
        .arg(&tmp);
    run(&mut cmd);
    std::fs::rename(&tmp, &path).expect("rename generated recording");
    path
}

/// Three consecutive recordings of one camera.
pub fn consecutive(spec: Spec) -> Vec<PathBuf> {
    (0..3).map(|i| recording(spec.part(i))).collect()
}

/// What ffprobe (the oracle) says about a stream of a file.
#[derive(Debug)]
pub struct Probe {
    pub frames: u64,
    pub duration: f64,
    pub first_is_key: bool,
}

/// Decodes every frame of the first `kind` (`v` or `a`) stream with ffprobe.
pub fn ffprobe(path: &Path, kind: &str) -> Probe {
    let out = run(Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            &format!("{kind}:0"),
        ])
        .args([
            "-show_entries",
            "stream=nb_read_frames,duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path));
    let line = out.trim();
    let mut fields = line.split(',');
    let duration = fields
        .next()
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("ffprobe duration in {line:?}"));
    let frames = fields
        .next()
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("ffprobe frames in {line:?}"));
    let first = run(Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            &format!("{kind}:0"),
            "-read_intervals",
            "%+#1",
        ])
        .args(["-show_entries", "frame=key_frame", "-of", "csv=p=0"])
        .arg(path));
    Probe {
        frames,
        duration,
        first_is_key: first.lines().next().and_then(|l| l.split(',').next()) == Some("1"),
    }
}

/// Everything ffmpeg complains about while decoding the whole file (empty when clean).
pub fn decode_errors(path: &Path) -> String {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .expect("run ffmpeg; install ffmpeg (apt-get install ffmpeg)");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A 4 s recording (320x240 H.264 + AAC, 1 s GOP) that flashes white and beeps for the
/// first 0.1 s of every second, to check audio/video sync. Like many cameras, it records
/// a little more or less audio than video (0.1 s more in even parts, less in odd ones), so
/// joining the files' audio end to end would drift.
pub fn flash_and_beep(part: u32) -> PathBuf {
    let path = cache_dir().join(format!("sync3_h264_320x240_4s_p{part}.mp4"));
    if path.exists() {
        return path;
    }
    let tmp = path.with_extension(format!("tmp{}.mp4", std::process::id()));
    let audio_seconds = if part.is_multiple_of(2) { 4.1 } else { 3.9 };
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-filter_complex"])
        .arg(format!(
            "color=black:s=320x240:r=30:d=4[b];color=white:s=320x240:r=30:d=4[w];\
             [b][w]overlay=enable='lt(mod(t,1),0.1)'[v];\
             sine=f=1000:sample_rate=48000:d={audio_seconds},\
             volume='if(lt(mod(t,1),0.1),1,0)':eval=frame[a]"
        ))
        .args([
            "-map",
            "[v]",
            "-map",
            "[a]",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ])
        .args(["-g", "30", "-bf", "2", "-c:a", "aac", "-f", "mp4"])
        .arg(&tmp));
    std::fs::rename(&tmp, &path).expect("rename generated recording");
    path
}

/// Times (s) at which the picture turns bright.
pub fn flashes(path: &Path) -> Vec<f64> {
    let out = run(Command::new("ffprobe")
        .args(["-v", "error", "-f", "lavfi", "-i"])
        .arg(format!("movie={},signalstats", path.display()))
        .args([
            "-show_entries",
            "frame=pts_time:frame_tags=lavfi.signalstats.YAVG",
        ])
        .args(["-of", "csv=p=0"]));
    let mut onsets = Vec::new();
    let mut bright = false;
    for line in out.lines() {
        let mut f = line.split(',');
        let (Some(t), Some(y)) = (f.next(), f.next()) else {
            continue;
        };
        let (Ok(t), Ok(y)) = (t.parse::<f64>(), y.parse::<f64>()) else {
            continue;
        };
        if y > 128.0 && !bright {
            onsets.push(t);
        }
        bright = y > 128.0;
    }
    onsets
}

/// Times (s) at which the sound starts after silence.
pub fn beeps(path: &Path) -> Vec<f64> {
    let out = Command::new("ffmpeg")
        .args(["-v", "info", "-nostats", "-i"])
        .arg(path)
        .args([
            "-vn",
            "-af",
            "silencedetect=n=-30dB:d=0.05",
            "-f",
            "null",
            "-",
        ])
        .output()
        .expect("run ffmpeg");
    let log = String::from_utf8_lossy(&out.stderr);
    let mut onsets: Vec<f64> = log
        .lines()
        .filter_map(|l| l.split("silence_end: ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect();
    // Sound from the very first sample has no silence before it.
    let first_silence: Option<f64> = log
        .lines()
        .find_map(|l| l.split("silence_start: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok());
    if first_silence.is_some_and(|s| s > 0.02) {
        onsets.insert(0, 0.0);
    }
    onsets
}
