//! `dashvault media recover`: a recording cut off by a power loss, made playable again
//! as a new file.

use std::fs::File;
use std::path::Path;

use anyhow::{bail, Context};
use dashvault_media::{recover, AudioRecovery};

/// Recovers `broken` with the description of `reference` into `output`, then prints
/// what was recovered.
pub fn run(broken: &Path, reference: &Path, output: &Path) -> anyhow::Result<()> {
    if output == Path::new("-") || same_file(broken, output) {
        bail!(
            "{}: the output must be a new file, the broken recording is kept as it is",
            output.display()
        );
    }
    let (_, reference_index) = super::open(reference)?;
    let source =
        File::open(broken).with_context(|| format!("{}: cannot open", broken.display()))?;
    let recovered = recover(&source, &reference_index)
        .with_context(|| format!("{}: cannot recover", broken.display()))?;
    super::write_plan(&recovered.plan, &[source], output)?;
    let audio = match &recovered.audio {
        AudioRecovery::None => "none in the reference".to_string(),
        AudioRecovery::Recovered(n) => format!("{n} samples"),
        AudioRecovery::Skipped(reason) => format!("left out: {reason}"),
    };
    println!("{}", output.display());
    println!("  duration    {:.3} s", recovered.duration);
    println!(
        "  video       {} samples, {} keyframes",
        recovered.video_samples, recovered.keyframes
    );
    println!("  audio       {audio}");
    println!("  unused      {} bytes", recovered.unused_bytes);
    for warning in &recovered.warnings {
        eprintln!(
            "warning: {}: {warning}: the result may not play; try another recording of the same camera and view as reference",
            broken.display()
        );
    }
    Ok(())
}

/// Whether two paths name one existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
