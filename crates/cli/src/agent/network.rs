//! `dashvault agent network`: the network the agent uploads over when the OS can not tell
//! (or tells wrong), whether manual clips may use cellular data, and the monthly cellular
//! budget; without changes it shows them and what the OS reports.

use anyhow::Context;
use chrono::Utc;
use clap::{Args, ValueEnum};
use dashvault_agent::state::State;
use dashvault_agent::upload::network::{self, Network};
use dashvault_agent::upload::policy::{
    self, Policy, CELLULAR_BUDGET_SETTING, MANUAL_ON_CELLULAR_SETTING, NETWORK_SETTING,
};

/// Flags of `dashvault agent network`.
#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// The network: wifi (unmetered), cellular (metered: mobile data, a phone hotspot),
    /// offline, or auto (ask the OS: NetworkManager, else /sys/class/net).
    #[arg(value_enum)]
    network: Option<NetworkChoice>,
    /// Whether manual clips may go over cellular (automatic clips always do).
    #[arg(long, value_name = "yes|no", value_parser = clap::builder::BoolishValueParser::new())]
    manual_on_cellular: Option<bool>,
    /// Bytes a month over cellular (every upload counts) after which manual clips wait
    /// for WiFi, or `off` for no limit.
    #[arg(long, value_name = "BYTES|off", value_parser = parse_budget)]
    cellular_budget: Option<Budget>,
    #[command(flatten)]
    storage: super::StorageArg,
}

/// The network as set by hand.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum NetworkChoice {
    Wifi,
    Cellular,
    Offline,
    Auto,
}

/// A monthly cellular budget: bytes, or none.
#[derive(Debug, Clone, Copy)]
enum Budget {
    Bytes(u64),
    Off,
}

fn parse_budget(text: &str) -> Result<Budget, String> {
    if text == "off" {
        return Ok(Budget::Off);
    }
    text.parse()
        .map(Budget::Bytes)
        .map_err(|_| format!("{text:?} must be a number of bytes (e.g. 500000000) or `off`"))
}

/// Change the settings given, then show them.
pub async fn run(args: NetworkArgs) -> anyhow::Result<()> {
    let storage = &args.storage.storage;
    let state = State::open(storage)
        .await
        .with_context(|| format!("opening the agent storage {}", storage.display()))?;
    if let Some(choice) = args.network {
        let value = match choice {
            NetworkChoice::Wifi => Network::Wifi.as_str(),
            NetworkChoice::Cellular => Network::Cellular.as_str(),
            NetworkChoice::Offline => Network::Offline.as_str(),
            NetworkChoice::Auto => "auto",
        };
        state.set_setting(NETWORK_SETTING, value).await?;
    }
    if let Some(allowed) = args.manual_on_cellular {
        let value = if allowed { "true" } else { "false" };
        state.set_setting(MANUAL_ON_CELLULAR_SETTING, value).await?;
    }
    match args.cellular_budget {
        Some(Budget::Bytes(bytes)) => {
            state
                .set_setting(CELLULAR_BUDGET_SETTING, &bytes.to_string())
                .await?
        }
        Some(Budget::Off) => state.set_setting(CELLULAR_BUDGET_SETTING, "off").await?,
        None => {}
    }
    let policy = Policy::load(&state).await?;
    let by_hand = state
        .setting(NETWORK_SETTING)
        .await?
        .filter(|v| Network::parse(v).is_some());
    let os = network::detect().map_or("can not tell", Network::as_str);
    let source = if by_hand.is_some() {
        "set by hand"
    } else {
        "from the OS"
    };
    println!(
        "network             {} ({source}; the OS reports: {os})",
        policy.network.as_str()
    );
    println!(
        "manual on cellular  {}",
        if policy.allow_manual_on_cellular {
            "yes"
        } else {
            "no"
        }
    );
    let spent = policy::cellular_spent(&state, Utc::now()).await?;
    match policy.cellular_budget {
        Some(budget) => println!("cellular budget     {budget} bytes a month, {spent} spent"),
        None => println!("cellular budget     none ({spent} bytes spent this month)"),
    }
    Ok(())
}
