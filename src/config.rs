//! Typed configuration: defaults, then a TOML file (`--config`), then `NASKAH_*`
//! environment variables, then command-line options; validated at start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Deserializer, Serialize};

/// Log output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Every option, as read from file, environment and command line.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (gRPC, gRPC-Web and HTTP/1.1 on one port).
    pub listen: String,
    /// Directory for the SQLite database, token keys and blobs; created if missing.
    pub data_dir: PathBuf,
    /// Database URL; empty means the SQLite file `naskah.db` in the data dir.
    pub database_url: String,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter, in `tracing_subscriber::EnvFilter` syntax.
    pub log_filter: String,
    /// Browser origins allowed to call over gRPC-Web; `*` allows any.
    #[serde(deserialize_with = "string_or_list")]
    pub cors_allowed_origins: Vec<String>,
    /// Time limit of one unary request (and of a stream's first response), in seconds.
    pub request_timeout_secs: u64,
    /// Largest accepted request message, in bytes.
    pub max_request_bytes: usize,
    /// Largest response message, in bytes.
    pub max_response_bytes: usize,
    /// Database connections for reads. On SQLite at most twice the CPU count
    /// (at least 4) are opened: every SQLite connection is a thread of its
    /// own, and more of them than cores only adds context switches. On
    /// PostgreSQL half go to sea-orm's pool and half to the hot reads (named
    /// `naskah reads` in `pg_stat_activity`); the writes use `write_lanes`
    /// more (`naskah writes`), so a server opens at most
    /// `max(db_max_connections, 2) + write_lanes`.
    pub db_max_connections: u32,
    /// PostgreSQL: write groups open at once, each on a connection of its own.
    /// (A SQLite file has one writer at a time, so one.)
    pub write_lanes: u32,
    /// The most write transactions committed together in one group.
    pub write_group_max: u32,
    /// How long, in milliseconds, a writer whose work waits in an open group
    /// waits before it commits the group itself when nobody else is left to.
    pub write_group_wait_ms: u64,
    /// Lifetime of access tokens, in seconds.
    pub access_token_ttl_secs: u64,
    /// Lifetime of refresh tokens, in seconds.
    pub refresh_token_ttl_secs: u64,
    /// Largest attachment, in bytes.
    pub max_attachment_bytes: u64,
    /// Public verification requests allowed per client address per minute.
    pub verification_rate_per_minute: u32,
    /// Address of the exchange port (other naskah agencies, mutual TLS);
    /// empty: this installation does not listen for peers (it still sends,
    /// and its agencies still exchange among themselves).
    pub exchange_listen: String,
    /// The exchange endpoint printed on this installation's peer cards, e.g.
    /// `https://naskah.example.go.id:50052`; empty: `https://` and
    /// `exchange_listen`.
    pub exchange_endpoint: String,
    /// First retry delay of the relay, in seconds (doubling from there, with
    /// jitter of ±50 %).
    pub exchange_retry_base_secs: u64,
    /// Longest retry delay of the relay, in seconds.
    pub exchange_retry_ceiling_secs: u64,
    /// How long, in seconds, the relay keeps trying a consignment before it
    /// marks it FAILED.
    pub exchange_give_up_secs: u64,
    /// Largest envelope (letter and attachments) accepted from a peer, in bytes.
    pub exchange_max_envelope_bytes: usize,
    /// Highest security level accepted by exchange: BIASA, TERBATAS, RAHASIA
    /// or SANGAT_RAHASIA; higher ones are refused with
    /// SECURITY_LEVEL_NOT_ACCEPTED.
    pub exchange_max_security_level: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:50051".into(),
            data_dir: PathBuf::from("./naskah-data"),
            database_url: String::new(),
            log_format: LogFormat::Text,
            log_filter: "info".into(),
            cors_allowed_origins: Vec::new(),
            request_timeout_secs: 30,
            max_request_bytes: 4 * 1024 * 1024,
            max_response_bytes: 16 * 1024 * 1024,
            db_max_connections: 16,
            write_lanes: 4,
            write_group_max: 32,
            write_group_wait_ms: 100,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 14 * 24 * 3600,
            max_attachment_bytes: 100 * 1024 * 1024,
            verification_rate_per_minute: 120,
            exchange_listen: String::new(),
            exchange_endpoint: String::new(),
            exchange_retry_base_secs: 2,
            exchange_retry_ceiling_secs: 3600,
            exchange_give_up_secs: 7 * 24 * 3600,
            exchange_max_envelope_bytes: 64 * 1024 * 1024,
            exchange_max_security_level: "SANGAT_RAHASIA".into(),
        }
    }
}

/// Keys read from `NASKAH_*` environment variables.
const ENV_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "log_format",
    "log_filter",
    "cors_allowed_origins",
    "request_timeout_secs",
    "max_request_bytes",
    "max_response_bytes",
    "db_max_connections",
    "write_lanes",
    "write_group_max",
    "write_group_wait_ms",
    "access_token_ttl_secs",
    "refresh_token_ttl_secs",
    "max_attachment_bytes",
    "verification_rate_per_minute",
    "exchange_listen",
    "exchange_endpoint",
    "exchange_retry_base_secs",
    "exchange_retry_ceiling_secs",
    "exchange_give_up_secs",
    "exchange_max_envelope_bytes",
    "exchange_max_security_level",
];

fn string_or_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Either::deserialize(d)? {
        Either::One(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        Either::Many(v) => v,
    })
}

/// Options given on the command line; unset ones fall through to the environment,
/// the file and the defaults.
#[derive(Clone, Debug, Default, Serialize, clap::Args)]
pub struct CliOverrides {
    /// Address to listen on [env: NASKAH_LISTEN] [default: 127.0.0.1:50051]
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// Data directory [env: NASKAH_DATA_DIR] [default: ./naskah-data]
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://FILE or postgres://USER@HOST:PORT/DB [env: NASKAH_DATABASE_URL]
    /// [default: SQLite file naskah.db in the data dir]
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// Log format [env: NASKAH_LOG_FORMAT] [default: text]
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
}

/// A configuration problem found at start.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file, environment or options could not be read.
    #[error("configuration: {0}")]
    Load(String),
    /// A value is out of range or malformed.
    #[error("configuration: {field}: {problem}")]
    Invalid {
        /// The option.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
}

/// The validated configuration the server runs with.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Listen address.
    pub listen: SocketAddr,
    /// Data directory (exists).
    pub data_dir: PathBuf,
    /// Database URL, resolved.
    pub database_url: String,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter.
    pub log_filter: String,
    /// Allowed gRPC-Web origins; `["*"]` for any.
    pub cors_allowed_origins: Vec<http::HeaderValue>,
    /// True when any origin is allowed.
    pub cors_any_origin: bool,
    /// Request time limit.
    pub request_timeout: Duration,
    /// Largest request message.
    pub max_request_bytes: usize,
    /// Largest response message.
    pub max_response_bytes: usize,
    /// Pool size.
    pub db_max_connections: u32,
    /// Group commit's settings.
    pub write_groups: crate::store::engine::GroupLimits,
    /// Access-token lifetime.
    pub access_token_ttl: Duration,
    /// Refresh-token lifetime.
    pub refresh_token_ttl: Duration,
    /// Largest attachment.
    pub max_attachment_bytes: u64,
    /// Public verification requests per client address per minute.
    pub verification_rate_per_minute: u32,
    /// The exchange port's address; none when it is off.
    pub exchange_listen: Option<SocketAddr>,
    /// The exchange's settings.
    pub exchange: crate::domain::exchange::ExchangeSettings,
    /// Seed the demo agency on an empty database (`serve --demo`; not a file or environment option).
    pub demo: bool,
}

impl Config {
    /// Reads defaults, then the file (if any), then the environment, then the overrides.
    pub fn load(file: Option<&Path>, cli: &CliOverrides) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::Load(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            fig = fig.merge(Toml::file_exact(path));
        }
        fig = fig
            .merge(Env::prefixed("NASKAH_").only(ENV_KEYS))
            .merge(Serialized::defaults(cli));
        fig.extract::<Config>()
            .map_err(|e| ConfigError::Load(e.to_string()))
    }

    /// Checks every value and resolves derived ones. Creates the data directory.
    pub fn validate(self) -> Result<Settings, ConfigError> {
        let invalid =
            |field: &'static str, problem: String| ConfigError::Invalid { field, problem };
        let listen: SocketAddr = self.listen.parse().map_err(|_| {
            invalid(
                "listen",
                format!("{:?} is not an address like 127.0.0.1:50051", self.listen),
            )
        })?;
        if self.data_dir.as_os_str().is_empty() {
            return Err(invalid("data_dir", "must not be empty".into()));
        }
        std::fs::create_dir_all(&self.data_dir).map_err(|e| {
            invalid(
                "data_dir",
                format!("cannot create {}: {e}", self.data_dir.display()),
            )
        })?;
        let database_url = if self.database_url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("naskah.db").display()
            )
        } else if self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://")
        {
            self.database_url.clone()
        } else {
            return Err(invalid(
                "database_url",
                format!(
                    "{:?} is neither sqlite://… nor postgres://…",
                    crate::store::redact_url(&self.database_url)
                ),
            ));
        };
        if tracing_subscriber::EnvFilter::try_new(&self.log_filter).is_err() {
            return Err(invalid(
                "log_filter",
                format!("{:?} is not a valid filter", self.log_filter),
            ));
        }
        let cors_any_origin = self.cors_allowed_origins.iter().any(|o| o == "*");
        let mut origins = Vec::new();
        for origin in self.cors_allowed_origins.iter().filter(|o| *o != "*") {
            let ok = (origin.starts_with("http://") || origin.starts_with("https://"))
                && !origin.ends_with('/');
            let value = http::HeaderValue::from_str(origin)
                .ok()
                .filter(|_| ok)
                .ok_or_else(|| {
                    invalid(
                        "cors_allowed_origins",
                        format!("{origin:?} is not an origin like https://app.example.go.id"),
                    )
                })?;
            origins.push(value);
        }
        let range = |field: &'static str, v: u64, min: u64, max: u64| {
            if v < min || v > max {
                Err(invalid(field, format!("{v} is outside {min}..={max}")))
            } else {
                Ok(v)
            }
        };
        range("request_timeout_secs", self.request_timeout_secs, 1, 3600)?;
        range(
            "max_request_bytes",
            self.max_request_bytes as u64,
            1024,
            256 * 1024 * 1024,
        )?;
        range(
            "max_response_bytes",
            self.max_response_bytes as u64,
            1024,
            256 * 1024 * 1024,
        )?;
        range(
            "db_max_connections",
            u64::from(self.db_max_connections),
            1,
            1000,
        )?;
        range("write_lanes", u64::from(self.write_lanes), 1, 64)?;
        range("write_group_max", u64::from(self.write_group_max), 1, 1000)?;
        range("write_group_wait_ms", self.write_group_wait_ms, 1, 10_000)?;
        range(
            "access_token_ttl_secs",
            self.access_token_ttl_secs,
            30,
            24 * 3600,
        )?;
        range(
            "refresh_token_ttl_secs",
            self.refresh_token_ttl_secs,
            60,
            365 * 24 * 3600,
        )?;
        let exchange_listen = if self.exchange_listen.is_empty() {
            None
        } else {
            Some(self.exchange_listen.parse::<SocketAddr>().map_err(|_| {
                invalid(
                    "exchange_listen",
                    format!(
                        "{:?} is not an address like 0.0.0.0:50052",
                        self.exchange_listen
                    ),
                )
            })?)
        };
        let endpoint = match (&exchange_listen, self.exchange_endpoint.is_empty()) {
            (_, false) => {
                if !self.exchange_endpoint.starts_with("https://")
                    || self.exchange_endpoint.parse::<http::Uri>().is_err()
                {
                    return Err(invalid(
                        "exchange_endpoint",
                        format!("{:?} is not an https:// URL", self.exchange_endpoint),
                    ));
                }
                self.exchange_endpoint.clone()
            }
            (Some(a), true) => format!("https://{a}"),
            (None, true) => String::new(),
        };
        range(
            "exchange_retry_base_secs",
            self.exchange_retry_base_secs,
            1,
            3600,
        )?;
        range(
            "exchange_retry_ceiling_secs",
            self.exchange_retry_ceiling_secs,
            self.exchange_retry_base_secs,
            7 * 24 * 3600,
        )?;
        range(
            "exchange_give_up_secs",
            self.exchange_give_up_secs,
            1,
            365 * 24 * 3600,
        )?;
        range(
            "exchange_max_envelope_bytes",
            self.exchange_max_envelope_bytes as u64,
            64 * 1024,
            1024 * 1024 * 1024,
        )?;
        let max_security_level = crate::proto::SecurityLevel::from_str_name(&format!(
            "SECURITY_LEVEL_{}",
            self.exchange_max_security_level
        ))
        .filter(|l| *l != crate::proto::SecurityLevel::Unspecified)
        .ok_or_else(|| {
            invalid(
                "exchange_max_security_level",
                format!(
                    "{:?} is not BIASA, TERBATAS, RAHASIA or SANGAT_RAHASIA",
                    self.exchange_max_security_level
                ),
            )
        })?;
        Ok(Settings {
            exchange_listen,
            exchange: crate::domain::exchange::ExchangeSettings {
                endpoint,
                retry_base: Duration::from_secs(self.exchange_retry_base_secs),
                retry_ceiling: Duration::from_secs(self.exchange_retry_ceiling_secs),
                give_up: Duration::from_secs(self.exchange_give_up_secs),
                max_envelope_bytes: self.exchange_max_envelope_bytes,
                max_security_level,
            },
            listen,
            data_dir: self.data_dir,
            database_url,
            log_format: self.log_format,
            log_filter: self.log_filter,
            cors_allowed_origins: origins,
            cors_any_origin,
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            max_request_bytes: self.max_request_bytes,
            max_response_bytes: self.max_response_bytes,
            db_max_connections: self.db_max_connections,
            write_groups: crate::store::engine::GroupLimits {
                lanes: self.write_lanes as usize,
                max_members: self.write_group_max as usize,
                straggler_wait: Duration::from_millis(self.write_group_wait_ms),
            },
            access_token_ttl: Duration::from_secs(self.access_token_ttl_secs),
            refresh_token_ttl: Duration::from_secs(self.refresh_token_ttl_secs),
            max_attachment_bytes: self.max_attachment_bytes,
            verification_rate_per_minute: self.verification_rate_per_minute,
            demo: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(f: impl FnOnce(&mut Config)) -> Result<Settings, ConfigError> {
        let dir = std::env::temp_dir().join(format!("naskah-cfg-{}", uuid::Uuid::new_v4()));
        let mut c = Config {
            data_dir: dir,
            ..Config::default()
        };
        f(&mut c);
        c.validate()
    }

    #[test]
    fn defaults_validate_and_point_at_sqlite_in_the_data_dir() {
        let s = with(|_| {}).expect("defaults are valid");
        assert_eq!(s.listen.to_string(), "127.0.0.1:50051");
        assert!(
            s.database_url.starts_with("sqlite://")
                && s.database_url.ends_with("naskah.db?mode=rwc")
        );
        assert!(s.data_dir.is_dir());
    }

    #[test]
    fn bad_values_name_the_option() {
        let e = with(|c| c.listen = "nowhere".into())
            .unwrap_err()
            .to_string();
        assert!(e.contains("listen"), "{e}");
        let e = with(|c| c.database_url = "mysql://x".into())
            .unwrap_err()
            .to_string();
        assert!(e.contains("database_url"), "{e}");
        let e = with(|c| c.request_timeout_secs = 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("request_timeout_secs"), "{e}");
        let e = with(|c| c.cors_allowed_origins = vec!["app.example".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("cors_allowed_origins"), "{e}");
    }

    #[test]
    fn file_then_overrides_take_precedence_and_unknown_keys_are_refused() {
        let dir = tempdir();
        let file = dir.join("naskah.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:6000\"\ncors_allowed_origins = \"https://a.example, https://b.example\"\n")
            .expect("write config");
        let c = Config::load(Some(&file), &CliOverrides::default()).expect("loads");
        assert_eq!(c.listen, "127.0.0.1:6000");
        assert_eq!(
            c.cors_allowed_origins,
            vec!["https://a.example", "https://b.example"]
        );
        let cli = CliOverrides {
            listen: Some("127.0.0.1:7000".into()),
            ..Default::default()
        };
        assert_eq!(
            Config::load(Some(&file), &cli).expect("loads").listen,
            "127.0.0.1:7000"
        );

        std::fs::write(&file, "lisen = \"127.0.0.1:6000\"\n").expect("write config");
        let e = Config::load(Some(&file), &CliOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("lisen"), "{e}");
        let e = Config::load(Some(&dir.join("missing.toml")), &CliOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
    }

    fn tempdir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("naskah-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    }
}
