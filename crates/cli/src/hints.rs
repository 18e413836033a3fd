//! Tips for flags that people bring from other servers and that dashvault spells
//! differently: `serve --port 8080` is refused, as any unknown flag, with a tip toward
//! `--listen`.

use clap::error::{ContextKind, ContextValue, Error, ErrorKind};

/// Flags dashvault does not have, and the tip shown when one is given.
const TIPS: [(&str, &str); 3] = [
    (
        "--port",
        "the port goes with the address: '--listen 127.0.0.1:PORT' \
         ('--listen 0.0.0.0:PORT' on every interface)",
    ),
    (
        "--host",
        "the address goes with the port: '--listen HOST:8080'",
    ),
    (
        "--bind",
        "the address and port are one flag: '--listen ADDRESS:PORT'",
    ),
];

/// `err` with a tip added when it refuses one of the flags of [`TIPS`].
pub fn with_tip(mut err: Error) -> Error {
    if err.kind() != ErrorKind::UnknownArgument {
        return err;
    }
    let Some(ContextValue::String(arg)) = err.get(ContextKind::InvalidArg) else {
        return err;
    };
    let flag = arg.split('=').next().unwrap_or(arg);
    if let Some((_, tip)) = TIPS.iter().find(|(name, _)| *name == flag) {
        err.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![tip.to_string().into()]),
        );
    }
    err
}
