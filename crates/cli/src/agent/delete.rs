//! `dashvault agent delete CLIP`: delete a clip on the phone and, at the next
//! `agent run`, in the cloud (deletion sync; the loop's own deletions stay local).

use anyhow::Context;
use clap::Args;
use dashvault_agent::residency::Residency;
use dashvault_agent::state::State;
use dashvault_agent::sync;

/// Flags of `dashvault agent delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The clip: its id (as `agent clip` prints it) or its file in the phone storage.
    #[arg(value_name = "CLIP")]
    clip: String,
    #[command(flatten)]
    storage: super::StorageArg,
}

/// Delete the clip here and queue its deletion in the cloud.
pub async fn run(args: DeleteArgs) -> anyhow::Result<()> {
    let storage = &args.storage.storage;
    let state = State::open(storage)
        .await
        .with_context(|| format!("opening the agent storage {}", storage.display()))?;
    let residency = Residency::new(state.clone());
    let clip = residency
        .clips(None)
        .await?
        .into_iter()
        .find(|c| {
            c.id.to_string().eq_ignore_ascii_case(args.clip.trim())
                || c.path.as_deref() == Some(std::path::Path::new(&args.clip))
        })
        .with_context(|| {
            format!(
                "no clip {} in {}: give the id `dashvault agent clip` printed or the clip's file",
                args.clip,
                storage.display()
            )
        })?;
    sync::delete_everywhere(&state, &clip.sha256).await?;
    residency
        .remove_sha256(&clip.sha256)
        .await
        .with_context(|| format!("removing clip {} from the phone", clip.id))?;
    println!(
        "clip {} deleted from the phone; the next `dashvault agent run` deletes it in the cloud",
        clip.id
    );
    Ok(())
}
