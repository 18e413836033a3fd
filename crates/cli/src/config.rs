//! The settings of `serve` (and later `admin`): one typed struct filled from flags, then
//! `DASHVAULT_*` environment variables, then a TOML file (`--config`), then defaults.
//!
//! clap handles flags, environment and defaults; the file fills in exactly the settings
//! that clap took from their default, which it tells us through `ArgMatches::value_source`.

use anyhow::{bail, Context};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, ValueEnum};
use dashvault_server::config::{
    ArchiveConfig, AuthConfig, LimitsConfig, ServerConfig, SmsConfig, UploadConfig, WebConfig,
};
use dashvault_server::evidence::key::EvidenceKey;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// Every setting of the server; each flag also reads `DASHVAULT_<NAME>` and the TOML key
/// `<name>` (snake_case) of the `--config` file.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// TOML file with any of these settings (keys in snake_case); flags and environment
    /// variables win over it.
    #[arg(long, env = "DASHVAULT_CONFIG", value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Directory for the embedded defaults: the SQLite database, blobs and the secret key.
    #[arg(
        long,
        env = "DASHVAULT_DATA_DIR",
        value_name = "DIR",
        default_value = "./dashvault-data"
    )]
    pub data_dir: PathBuf,

    /// Metadata database: `sqlite://PATH` (embedded, one server) or
    /// `postgres://USER:PASSWORD@HOST[:PORT]/DB` (also `postgresql://`; several replicas)
    /// [default: sqlite://<data-dir>/dashvault.db].
    #[arg(
        long,
        env = "DASHVAULT_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Blob store for videos: `file://PATH` (a directory: `file:///abs/path`, or
    /// `file://rel/path` from the working directory) or
    /// `s3://BUCKET?endpoint=URL&region=REGION` (any S3-compatible store: AWS, MinIO,
    /// Garage…; without `endpoint`, AWS; credentials from `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY`) [default: file://<data-dir>/blobs].
    #[arg(long, env = "DASHVAULT_BLOB_URL", value_name = "URL")]
    pub blob_url: Option<String>,

    /// Address to listen on.
    #[arg(
        long,
        env = "DASHVAULT_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:8080"
    )]
    pub listen: SocketAddr,

    /// Log format.
    #[arg(long, env = "DASHVAULT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Key for hashing sign-in codes, at least 32 characters; the same on every replica
    /// [default: random, kept in <data-dir>/secret.key].
    #[arg(
        long,
        env = "DASHVAULT_SECRET",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub secret: Option<String>,

    /// Key that signs evidence bundles: the base64 of a 32-byte Ed25519 seed; the same on
    /// every replica [default: random, kept in <data-dir>/evidence.key].
    #[arg(
        long,
        env = "DASHVAULT_EVIDENCE_KEY",
        value_name = "BASE64",
        hide_env_values = true
    )]
    pub evidence_key: Option<String>,

    /// How sign-in codes are sent: printed on the console, or by Twilio.
    #[arg(long, env = "DASHVAULT_SMS", value_enum, default_value_t = SmsKind::Console)]
    pub sms: SmsKind,

    /// Twilio account SID (with `--sms twilio`).
    #[arg(long, env = "DASHVAULT_TWILIO_ACCOUNT_SID", value_name = "SID")]
    pub twilio_account_sid: Option<String>,

    /// Twilio auth token (with `--sms twilio`).
    #[arg(
        long,
        env = "DASHVAULT_TWILIO_AUTH_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub twilio_auth_token: Option<String>,

    /// Sender number in E.164 (with `--sms twilio`).
    #[arg(long, env = "DASHVAULT_TWILIO_FROM", value_name = "NUMBER")]
    pub twilio_from: Option<String>,

    /// Base URL of the Twilio-compatible API.
    #[arg(
        long,
        env = "DASHVAULT_TWILIO_BASE_URL",
        value_name = "URL",
        default_value = "https://api.twilio.com"
    )]
    pub twilio_base_url: String,

    /// How long a sign-in code is valid.
    #[arg(
        long,
        env = "DASHVAULT_CODE_TTL",
        value_name = "DURATION",
        default_value = "5m"
    )]
    pub code_ttl: HumanDuration,

    /// Wrong tries allowed per code.
    #[arg(
        long,
        env = "DASHVAULT_CODE_MAX_ATTEMPTS",
        value_name = "N",
        default_value_t = 5
    )]
    pub code_max_attempts: u32,

    /// Wait before another code can be sent to the same number.
    #[arg(
        long,
        env = "DASHVAULT_CODE_RESEND_COOLDOWN",
        value_name = "DURATION",
        default_value = "30s"
    )]
    pub code_resend_cooldown: HumanDuration,

    /// Codes sent to one number per hour at most. A few cover a person signing in on a
    /// phone and a computer with a resend; more would let a stranger flood the number
    /// with paid texts and give a guesser more tries at the six digits.
    #[arg(
        long,
        env = "DASHVAULT_CODES_PER_PHONE_PER_HOUR",
        value_name = "N",
        default_value_t = 5
    )]
    pub codes_per_phone_per_hour: u32,

    /// Codes requested from one client address per hour at most.
    #[arg(
        long,
        env = "DASHVAULT_CODES_PER_IP_PER_HOUR",
        value_name = "N",
        default_value_t = 20
    )]
    pub codes_per_ip_per_hour: u32,

    /// Session lifetime without use; every use extends it.
    #[arg(
        long,
        env = "DASHVAULT_SESSION_TTL",
        value_name = "DURATION",
        default_value = "30days"
    )]
    pub session_ttl: HumanDuration,

    /// Trust `X-Forwarded-For` / `X-Forwarded-Proto` (only behind your own proxy).
    #[arg(long, env = "DASHVAULT_TRUST_PROXY_HEADERS")]
    #[serde(default)]
    pub trust_proxy_headers: bool,

    /// Always mark the session cookie Secure (set this when serving over TLS).
    #[arg(long, env = "DASHVAULT_SECURE_COOKIES")]
    #[serde(default)]
    pub secure_cookies: bool,

    /// Largest JSON request body, in bytes.
    #[arg(
        long,
        env = "DASHVAULT_JSON_BODY_LIMIT",
        value_name = "BYTES",
        default_value_t = 65536
    )]
    pub json_body_limit: usize,

    /// Longest time a non-streaming request may take.
    #[arg(
        long,
        env = "DASHVAULT_REQUEST_TIMEOUT",
        value_name = "DURATION",
        default_value = "30s"
    )]
    pub request_timeout: HumanDuration,

    /// Largest upload accepted, in bytes.
    #[arg(
        long,
        env = "DASHVAULT_MAX_UPLOAD_SIZE",
        value_name = "BYTES",
        default_value_t = 4 << 30
    )]
    pub max_upload_size: u64,

    /// Bytes each user may store, uploads in progress included [default: no quota].
    #[arg(long, env = "DASHVAULT_USER_QUOTA", value_name = "BYTES")]
    pub user_quota: Option<u64>,

    /// Free bytes of the blob store's volume that uploads may not use (they get 507
    /// there), so the database and deletes always have room [default: 5 % of the volume,
    /// at most 1 GiB].
    #[arg(long, env = "DASHVAULT_MIN_FREE_SPACE", value_name = "BYTES")]
    pub min_free_space: Option<u64>,

    /// How long an unfinished upload is kept.
    #[arg(
        long,
        env = "DASHVAULT_UPLOAD_EXPIRY",
        value_name = "DURATION",
        default_value = "24h"
    )]
    pub upload_expiry: HumanDuration,

    /// Recordings of one device at most this far apart are one drive.
    #[arg(
        long,
        env = "DASHVAULT_DRIVE_GAP",
        value_name = "DURATION",
        default_value_t = HumanDuration(dashvault_domain::DRIVE_GAP)
    )]
    pub drive_gap: HumanDuration,

    /// Map tile URL template for the web player's route map (`{z}`, `{x}`, `{y}`)
    /// [default: none: the route is drawn as a line without a map].
    #[arg(
        long,
        env = "DASHVAULT_MAP_TILES_URL",
        value_name = "URL",
        default_value = "",
        hide_default_value = true
    )]
    pub map_tiles_url: String,

    /// Archive blob store for drives past `--archive-after`: any URL `--blob-url` takes,
    /// `file://PATH` or `s3://BUCKET?endpoint=URL&region=REGION`
    /// [default: file://<data-dir>/archive].
    #[arg(long, env = "DASHVAULT_ARCHIVE_URL", value_name = "URL")]
    pub archive_url: Option<String>,

    /// Drives that ended longer ago than this move to the archive store (clips never do).
    #[arg(
        long,
        env = "DASHVAULT_ARCHIVE_AFTER",
        value_name = "DURATION",
        default_value = "60days"
    )]
    pub archive_after: HumanDuration,

    /// How long an approved restore keeps a drive downloadable before it returns to the archive.
    #[arg(
        long,
        env = "DASHVAULT_RESTORE_FOR",
        value_name = "DURATION",
        default_value = "7days"
    )]
    pub restore_for: HumanDuration,

    /// Bearer token that opens the operator API (`/api/v1/admin/…`: restore requests)
    /// [default: none, the operator API is off; `dashvault admin` works without it].
    #[arg(
        long,
        env = "DASHVAULT_OPERATOR_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub operator_token: Option<String>,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// SMS sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsKind {
    /// Print messages on the console.
    Console,
    /// Twilio's Messages API.
    Twilio,
}

/// A duration written for people: `30s`, `5m`, `2h`, `30days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl FromStr for HumanDuration {
    type Err = humantime::DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        humantime::parse_duration(s).map(Self)
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        humantime::format_duration(self.0).fmt(f)
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The settings an `admin` command's help lists: those that find the service's stores.
const ADMIN_SHOWN: [&str; 5] = [
    "config",
    "data_dir",
    "database_url",
    "blob_url",
    "archive_url",
];

/// Heading of those settings in an `admin` command's help.
const ADMIN_HEADING: &str = "Service settings (as for `serve`)";

/// Said under an `admin` command's help about the settings it does not list.
const ADMIN_AFTER_HELP: &str = "Every other setting of `dashvault serve` is read too, from \
its flag, its DASHVAULT_<NAME> variable or the --config file, so that this command sees the \
service as `serve` does; `dashvault serve --help` lists them.";

/// `command` (`admin`) with every subcommand's help showing its own options and the few
/// [`Settings`] that find the service's stores, not all of `serve`'s: the others stay
/// accepted (scripts pass the same flags to `serve` and `admin`), only hidden.
pub fn admin_help(command: clap::Command) -> clap::Command {
    let names: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_owned())
        .collect();
    let command = names.into_iter().fold(command, |command, name| {
        command.mut_subcommand(name, admin_help)
    });
    let settings = Settings::augment_args(clap::Command::new("settings"));
    let ids: Vec<String> = command
        .get_arguments()
        .map(|arg| arg.get_id().to_string())
        .filter(|id| settings.get_arguments().any(|s| s.get_id() == id))
        .collect();
    if ids.is_empty() {
        return command;
    }
    ids.into_iter()
        .fold(command, |command, id| {
            let shown = ADMIN_SHOWN.contains(&id.as_str());
            command.mut_arg(id, |arg| match shown {
                true => arg.help_heading(ADMIN_HEADING),
                false => arg.hide(true),
            })
        })
        .after_help(ADMIN_AFTER_HELP)
}

impl Settings {
    /// These settings with the `--config` file's values filled into every setting that
    /// neither a flag nor an environment variable gave.
    pub fn with_file(self, matches: &ArgMatches) -> anyhow::Result<Self> {
        let Some(path) = self.config.clone() else {
            return Ok(self);
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading the config file {}", path.display()))?;
        let file: toml::Table = toml::from_str(&text)
            .with_context(|| format!("{} is not valid TOML", path.display()))?;
        let known: Vec<String> = Self::augment_args(clap::Command::new("settings"))
            .get_arguments()
            .map(|arg| arg.get_id().to_string())
            .filter(|id| id != "config")
            .collect();
        let mut merged = toml::Table::try_from(&self).context("settings to TOML")?;
        for (key, value) in file {
            if !known.contains(&key) {
                bail!(
                    "{}: unknown setting `{key}` (see `dashvault serve --help`)",
                    path.display()
                );
            }
            let from_default = matches!(
                matches.value_source(&key),
                None | Some(ValueSource::DefaultValue)
            );
            if from_default {
                merged.insert(key, value);
            }
        }
        let mut settings: Self = merged
            .try_into()
            .with_context(|| format!("{}: a setting has the wrong type", path.display()))?;
        settings.config = Some(path);
        Ok(settings)
    }

    /// The validated server configuration, creating the data directory and the secret key
    /// file when the embedded defaults need them.
    pub fn server_config(&self) -> anyhow::Result<ServerConfig> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating the data directory {}", self.data_dir.display()))?;
        let database_url = self.database_url.clone().unwrap_or_else(|| {
            format!("sqlite://{}", self.data_dir.join("dashvault.db").display())
        });
        let blob_url = self
            .blob_url
            .clone()
            .unwrap_or_else(|| format!("file://{}", self.data_dir.join("blobs").display()));
        let secret = match &self.secret {
            Some(secret) if secret.len() >= 32 => secret.as_bytes().to_vec(),
            Some(_) => bail!("--secret must be at least 32 characters"),
            None => load_or_create_secret(&self.data_dir.join("secret.key"))?,
        };
        let sms = match self.sms {
            SmsKind::Console => SmsConfig::Console,
            SmsKind::Twilio => SmsConfig::Twilio {
                account_sid: required(&self.twilio_account_sid, "--twilio-account-sid")?,
                auth_token: required(&self.twilio_auth_token, "--twilio-auth-token")?,
                from: required(&self.twilio_from, "--twilio-from")?,
                base_url: self.twilio_base_url.clone(),
            },
        };
        let auth = AuthConfig {
            code_ttl: self.code_ttl.0,
            code_max_attempts: self.code_max_attempts,
            code_resend_cooldown: self.code_resend_cooldown.0,
            codes_per_phone_per_hour: self.codes_per_phone_per_hour,
            codes_per_ip_per_hour: self.codes_per_ip_per_hour,
            session_ttl: self.session_ttl.0,
            trust_proxy_headers: self.trust_proxy_headers,
            secure_cookies: self.secure_cookies,
            ..AuthConfig::with_secret(secret)
        };
        Ok(ServerConfig {
            listen: self.listen,
            database_url,
            blob_url,
            auth,
            sms,
            limits: LimitsConfig {
                json_body_bytes: self.json_body_limit,
                request_timeout: self.request_timeout.0,
            },
            uploads: UploadConfig {
                max_size: self.max_upload_size,
                user_quota: self.user_quota,
                expiry: self.upload_expiry.0,
                drive_gap: self.drive_gap.0,
                min_free_space: self.min_free_space,
            },
            web: WebConfig {
                map_tiles_url: self.map_tiles_url.clone(),
            },
            archive: ArchiveConfig {
                url: self.archive_url.clone().unwrap_or_else(|| {
                    format!("file://{}", self.data_dir.join("archive").display())
                }),
                after: self.archive_after.0,
                restore_for: self.restore_for.0,
                operator_token: match &self.operator_token {
                    Some(token) if token.len() < 32 => {
                        bail!("--operator-token must be at least 32 characters")
                    }
                    token => token.clone(),
                },
            },
            evidence_key: match &self.evidence_key {
                Some(key) => EvidenceKey::from_base64(key).context("--evidence-key")?,
                None => EvidenceKey::load_or_create(&self.data_dir.join("evidence.key"))?,
            },
        })
    }
}

fn required(value: &Option<String>, flag: &str) -> anyhow::Result<String> {
    value
        .clone()
        .with_context(|| format!("`--sms twilio` needs {flag}"))
}

/// The key in `path`, or a new random one written there (readable by the owner only).
fn load_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(key) if key.len() >= 32 => return Ok(key),
        Ok(_) => bail!(
            "{} is shorter than 32 bytes; delete it to make a new one",
            path.display()
        ),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
    }
    let key = dashvault_server::auth::secret::new_key();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    std::io::Write::write_all(&mut file, key.as_bytes())?;
    file.sync_all()?;
    Ok(key.into_bytes())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's own consistency rules for every flag of every subcommand.
    #[test]
    fn flags_are_consistent() {
        crate::Cli::command().debug_assert();
        crate::command().debug_assert();
    }
}
