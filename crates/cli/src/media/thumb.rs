//! `dashvault media thumb`: a JPEG of the first keyframe at or after a time.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Writes the thumbnail of `file` at `at` seconds, `width` pixels wide, to `output`
/// (`-` for standard output).
pub fn run(file: &Path, at: f64, width: u32, output: &Path) -> anyhow::Result<()> {
    let jpeg = dashvault_media::thumbnail::thumbnail(file, at, width)
        .with_context(|| file.display().to_string())?;
    if output == Path::new("-") {
        std::io::stdout()
            .lock()
            .write_all(&jpeg)
            .context("writing to standard output")?;
    } else {
        std::fs::write(output, jpeg)
            .with_context(|| format!("{}: cannot write", output.display()))?;
    }
    Ok(())
}
