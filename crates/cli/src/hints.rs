//! Tips for flags that people bring from other servers and that dashvault spells
//! differently: `serve --port 8080` is refused, as any unknown flag, with a tip toward
//! `--listen`.

use clap::error::{ContextKind, ContextValue, Error, ErrorKind};

/// Flags a subcommand does not have, and the tip shown when one is given to it.
const TIPS: [(&str, &str, &str); 3] = [
    (
        "serve",
        "--port",
        "the port goes with the address: '--listen 127.0.0.1:PORT' \
         ('--listen 0.0.0.0:PORT' on every interface)",
    ),
    (
        "serve",
        "--host",
        "the address goes with the port: '--listen HOST:8080'",
    ),
    (
        "serve",
        "--bind",
        "the address and port are one flag: '--listen ADDRESS:PORT'",
    ),
];

/// `err` with a tip added when it refuses one of the flags of [`TIPS`] given to its
/// subcommand; `args` is the command line (the program's name first).
pub fn with_tip(mut err: Error, args: &[String]) -> Error {
    if err.kind() != ErrorKind::UnknownArgument {
        return err;
    }
    let Some(ContextValue::String(arg)) = err.get(ContextKind::InvalidArg) else {
        return err;
    };
    let flag = arg.split('=').next().unwrap_or(arg);
    let subcommand = args.get(1).map(String::as_str);
    let tip = TIPS
        .iter()
        .find(|(command, name, _)| Some(*command) == subcommand && *name == flag);
    if let Some((_, _, tip)) = tip {
        err.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![tip.to_string().into()]),
        );
    }
    err
}
