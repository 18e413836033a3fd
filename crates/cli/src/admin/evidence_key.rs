//! `dashvault admin evidence-key`: the public key that verifies this service's evidence
//! bundles (what `GET /api/v1/evidence/key` serves), to hand to whoever checks a bundle
//! with `dashvault verify --key`.

use crate::config::Settings;
use clap::{ArgMatches, Args};
use dashvault_server::evidence::key::ALGORITHM;

/// Flags of `admin evidence-key`.
#[derive(Debug, Args)]
pub struct EvidenceKeyArgs {
    #[command(flatten)]
    settings: Settings,

    /// Print `{"algorithm", "public_key"}` as JSON instead of the bare key.
    #[arg(long)]
    json: bool,
}

/// Run `admin evidence-key`; `matches` are those of `evidence-key`.
pub fn run(args: EvidenceKeyArgs, matches: &ArgMatches) -> anyhow::Result<()> {
    let config = args.settings.with_file(matches)?.server_config()?;
    let public_key = config.evidence_key.public_base64();
    if args.json {
        let json = serde_json::json!({"algorithm": ALGORITHM, "public_key": public_key});
        println!("{json}");
    } else {
        println!("{public_key}");
    }
    Ok(())
}
