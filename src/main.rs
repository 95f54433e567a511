//! The `naskah` binary: serve, migrate, audit verify, key rotation.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use naskah::clock::{Clock, SystemClock};
use naskah::config::{CliOverrides, Config, LogFormat, Settings};

#[derive(Parser, Debug)]
#[command(
    name = "naskah",
    version,
    about = "Paperless e-correspondence and records backend"
)]
struct Cli {
    /// TOML configuration file [env: NASKAH_CONFIG]
    #[arg(long, global = true, env = "NASKAH_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Runs the gRPC server (gRPC-Web, health and reflection on the same port).
    Serve {
        #[command(flatten)]
        opts: CliOverrides,
        /// On an empty database, create the demo agency (refused on a database with real users).
        #[arg(long)]
        demo: bool,
    },
    /// Applies database migrations and exits.
    Migrate {
        #[command(flatten)]
        opts: CliOverrides,
    },
    /// Audit trail tasks.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Token signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Archival packages.
    Package {
        #[command(subcommand)]
        command: PackageCommand,
    },
    /// Agency settings.
    Agency {
        #[command(subcommand)]
        command: AgencyCommand,
    },
    /// The peer directory of inter-agency exchange.
    Peers {
        #[command(subcommand)]
        command: PeersCommand,
    },
}

#[derive(Subcommand, Debug)]
enum PeersCommand {
    /// Prints the agency's peer card (JSON: code, name, exchange endpoint, CA
    /// certificate), for the other agency's `naskah peers add`.
    Export {
        #[command(flatten)]
        opts: CliOverrides,
        /// The agency's code, e.g. DEMO-PROV.
        #[arg(long)]
        agency: String,
    },
    /// Adds (or replaces) a peer from its card (a file, or - for standard input).
    Add {
        #[command(flatten)]
        opts: CliOverrides,
        /// The agency whose directory it goes into.
        #[arg(long)]
        agency: String,
        /// The peer's card, as `naskah peers export` printed it.
        card: PathBuf,
    },
    /// Lists the agency's peers.
    List {
        #[command(flatten)]
        opts: CliOverrides,
        /// The agency's code.
        #[arg(long)]
        agency: String,
    },
    /// Removes a peer: its consignments are no longer sent.
    Remove {
        #[command(flatten)]
        opts: CliOverrides,
        /// The agency's code.
        #[arg(long)]
        agency: String,
        /// The peer's agency code.
        peer: String,
    },
}

#[derive(Subcommand, Debug)]
enum AgencyCommand {
    /// Creates another agency in this installation (system administrator's
    /// task): its own CA, numbering and administrator `admin@<code in lower
    /// case>`, whose one-time password is printed once.
    Create {
        #[command(flatten)]
        opts: CliOverrides,
        /// The agency's code: 2 to 20 characters of A-Z, 0-9 and '-', e.g. DINKES.
        code: String,
        /// The agency's full name.
        #[arg(long)]
        name: String,
    },
    /// Abolishes a position, naming its successor: letters other agencies
    /// send to it by exchange are delivered to the successor.
    AbolishPosition {
        #[command(flatten)]
        opts: CliOverrides,
        /// The agency's code.
        #[arg(long)]
        agency: String,
        /// The abolished position's id.
        position: String,
        /// The successor position's id.
        #[arg(long)]
        successor: String,
    },
    /// Sets how letters received by exchange are registered: at once, or
    /// after the registrar's check (PeerService.AcceptConsignment).
    SetExchangeIntake {
        #[command(flatten)]
        opts: CliOverrides,
        /// The agency's code.
        #[arg(long)]
        agency: String,
        /// `direct` (the default) or `registrar`.
        #[arg(long, value_enum)]
        intake: IntakeArg,
    },
    /// Sets how the agency numbers its letters.
    SetNumbering {
        #[command(flatten)]
        opts: CliOverrides,
        /// The agency's code, e.g. DEMO-PROV.
        #[arg(long)]
        agency: String,
        /// Template with {security} {seq} {unit} {position} {class} {type} {month} {roman_month} {year}.
        #[arg(long)]
        template: String,
        /// Which letters share one yearly sequence.
        #[arg(long, value_enum, default_value = "agency")]
        scope: ScopeArg,
    },
    /// Sets the agency's time zone: the month and year of the letter numbers
    /// signed from then on are those of the signing time there.
    SetTimeZone {
        #[command(flatten)]
        opts: CliOverrides,
        /// The agency's code, e.g. DEMO-PROV.
        #[arg(long)]
        agency: String,
        /// An IANA time zone name: Asia/Jakarta (WIB, the default), Asia/Makassar
        /// (WITA) or Asia/Jayapura (WIT).
        #[arg(long)]
        zone: String,
    },
    /// Sets the records unit, the disposal approvers and the berita acara classification.
    SetRecords {
        #[command(flatten)]
        opts: CliOverrides,
        /// The agency's code, e.g. DEMO-PROV.
        #[arg(long)]
        agency: String,
        /// Code of the records unit (unit kearsipan); omitted: the proposer's unit.
        #[arg(long, default_value = "")]
        records_unit: String,
        /// Position ids that must approve every disposal (two or more); omitted: the head
        /// of the records unit and the head of each case file's unit.
        #[arg(long, value_delimiter = ',')]
        approvers: Vec<String>,
        /// Classification code for berita acara; omitted: the scheme's first PERMANEN code.
        #[arg(long, default_value = "")]
        record_class: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum IntakeArg {
    /// Consignments that pass their checks are registered at once.
    Direct,
    /// They wait for the registrar's check.
    Registrar,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum ScopeArg {
    /// One sequence for the whole agency.
    Agency,
    /// One per signer's unit.
    Unit,
    /// One per signer's unit and letter type.
    UnitType,
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Recomputes the hash chain; exits 1 naming the first broken event.
    Verify {
        #[command(flatten)]
        opts: CliOverrides,
    },
}

#[derive(Subcommand, Debug)]
enum PackageCommand {
    /// Checks an archival package offline (checksums, signatures against the included
    /// CA, audit excerpt); exits 1 naming the first problem.
    Verify {
        /// The package (ZIP) written by ExportCaseFile.
        file: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum KeysCommand {
    /// Adds a new token signing key; the newest key signs, all keys verify.
    Rotate {
        #[command(flatten)]
        opts: CliOverrides,
    },
}

async fn peers_command(
    file: Option<&std::path::Path>,
    clock: std::sync::Arc<dyn naskah::clock::Clock>,
    command: PeersCommand,
) -> anyhow::Result<ExitCode> {
    use naskah::domain::exchange::peers;
    match command {
        PeersCommand::Export { opts, agency } => {
            let s = settings(file, &opts).map_err(anyhow::Error::msg)?;
            let store = naskah::server::open_store(&s, clock).await?;
            let master = naskah::crypto::seal::load_or_create_master_key(&s.data_dir)?;
            let ex = naskah::domain::exchange::Exchange::new(
                master,
                naskah::domain::Blobs::new(&s.data_dir),
                s.exchange.clone(),
                naskah::notify::channel(),
            );
            let card = peers::card_by_operator(&store, &ex, &agency)
                .await
                .map_err(cli_error)?;
            println!("{}", serde_json::to_string_pretty(&card)?);
        }
        PeersCommand::Add { opts, agency, card } => {
            let text = if card.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&card)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", card.display()))?
            };
            let card: peers::Card =
                serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("not a peer card: {e}"))?;
            let s = settings(file, &opts).map_err(anyhow::Error::msg)?;
            let store = naskah::server::open_store(&s, clock).await?;
            let p = peers::add_by_operator(&store, &agency, &card)
                .await
                .map_err(cli_error)?;
            println!(
                "naskah: {agency} now exchanges letters with {} at {}",
                p.code, p.endpoint
            );
        }
        PeersCommand::List { opts, agency } => {
            let s = settings(file, &opts).map_err(anyhow::Error::msg)?;
            let store = naskah::server::open_store(&s, clock).await?;
            for p in peers::list_by_operator(&store, &agency)
                .await
                .map_err(cli_error)?
            {
                println!("{}\t{}\t{}", p.code, p.endpoint, p.name);
            }
        }
        PeersCommand::Remove { opts, agency, peer } => {
            let s = settings(file, &opts).map_err(anyhow::Error::msg)?;
            let store = naskah::server::open_store(&s, clock).await?;
            peers::remove_by_operator(&store, &agency, &peer)
                .await
                .map_err(cli_error)?;
            println!("naskah: {peer} removed from {agency}'s peers");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn settings(file: Option<&std::path::Path>, opts: &CliOverrides) -> Result<Settings, String> {
    Config::load(file, opts)
        .and_then(Config::validate)
        .map_err(|e| e.to_string())
}

fn init_logging(s: &Settings) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(&s.log_filter).unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match s.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let file = cli.config.as_deref();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match cli.command {
        Command::Serve { opts, demo } => {
            let mut s = settings(file, &opts).map_err(anyhow::Error::msg)?;
            s.demo = demo;
            init_logging(&s);
            let db = naskah::store::redact_url(&s.database_url);
            let server = naskah::server::start(s, clock, shutdown_signal()).await?;
            if let Some(pw) = &server.report.bootstrap_password {
                println!(
                    "naskah: created the administrator 'admin' with the one-time password: {pw}"
                );
                println!("naskah: it must be changed at first login (AuthService/ChangePassword)");
            }
            if server.report.demo.is_some() {
                println!(
                    "naskah: demo agency ready: every demo user's password is '{}', every demo signer's passphrase is '{}'",
                    naskah::domain::demo::DEMO_PASSWORD,
                    naskah::domain::demo::DEMO_PASSPHRASE
                );
                println!(
                    "naskah: demo users: gubernur sekda kadis.kominfo tu.kominfo kabid.aptika kasi.egov staf.egov kabid.ikp pencatat arsiparis auditor admin"
                );
            }
            println!(
                "naskah: serving gRPC and gRPC-Web on {} (database {db})",
                server.addr
            );
            server.wait().await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { opts } => {
            let s = settings(file, &opts).map_err(anyhow::Error::msg)?;
            naskah::server::open_store(&s, clock).await?;
            println!("naskah: migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify { opts },
        } => {
            let s = settings(file, &opts).map_err(anyhow::Error::msg)?;
            let store = naskah::server::open_store(&s, clock).await?;
            let started = std::time::Instant::now();
            let report = store.verify_audit().await?;
            let secs = started.elapsed().as_secs_f64();
            match report.broken {
                None => {
                    println!(
                        "audit chain OK: {} events verified in {secs:.3} s, head {}",
                        report.checked, report.head_hash
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some(b) => {
                    println!(
                        "audit chain BROKEN at event {}: {} ({} events verified before it)",
                        b.seq, b.problem, report.checked
                    );
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Agency {
            command:
                AgencyCommand::SetNumbering {
                    opts,
                    agency,
                    template,
                    scope,
                },
        } => {
            let s = settings(file, &opts).map_err(anyhow::Error::msg)?;
            let store = naskah::server::open_store(&s, clock).await?;
            let scope = match scope {
                ScopeArg::Agency => naskah::domain::numbering::Scope::Agency,
                ScopeArg::Unit => naskah::domain::numbering::Scope::Unit,
                ScopeArg::UnitType => naskah::domain::numbering::Scope::UnitAndType,
            };
            naskah::domain::numbering::configure(&store, &agency, &template, scope)
                .await
                .map_err(cli_error)?;
            println!("naskah: agency {agency} now numbers letters as {template:?} ({scope:?})");
            Ok(ExitCode::SUCCESS)
        }
        Command::Agency {
            command: AgencyCommand::SetTimeZone { opts, agency, zone },
        } => {
            let s = settings(file, &opts).map_err(anyhow::Error::msg)?;
            let store = naskah::server::open_store(&s, clock).await?;
            naskah::domain::calendar::set_agency_zone(&store, &agency, &zone)
                .await
                .map_err(cli_error)?;
            println!("naskah: agency {agency} now numbers letters in the time zone {zone}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Agency {
            command: AgencyCommand::Create { opts, code, name },
        } => {
            let s = settings(file, &opts).map_err(anyhow::Error::msg)?;
            let key_file = s.data_dir.join("keys").join("master.key");
            if !key_file.exists() {
                anyhow::bail!(
                    "no master key at {}: point --data-dir at the installation's data directory \
                     (the servers' own), or start the server once first",
                    key_file.display()
                );
            }
            let store = naskah::server::open_store(&s, clock).await?;
            let master = naskah::crypto::seal::load_or_create_master_key(&s.data_dir)?;
            let made = naskah::domain::identity::create_agency(&store, &master, &code, &name)
                .await
                .map_err(cli_error)?;
            println!(
                "naskah: agency {code} created (id {}); its users log in as name@{}",
                made.agency_id, made.login_domain
            );
            println!(
                "naskah: its administrator '{}' has the one-time password: {}",
                made.admin_username, made.one_time_password
            );
            println!("naskah: it must be changed at first login (AuthService/ChangePassword)");
            Ok(ExitCode::SUCCESS)
        }
        Command::Agency {
            command:
                AgencyCommand::AbolishPosition {
                    opts,
                    agency,
                    position,
                    successor,
                },
        } => {
            let s = settings(file, &opts).map_err(anyhow::Error::msg)?;
            let store = naskah::server::open_store(&s, clock).await?;
            naskah::domain::exchange::peers::abolish_by_operator(
                &store, &agency, &position, &successor,
            )
            .await
            .map_err(cli_error)?;
            println!("naskah: position {position} abolished; letters to it go to {successor}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Agency {
            command:
                AgencyCommand::SetExchangeIntake {
                    opts,
                    agency,
                    intake,
                },
        } => {
            let s = settings(file, &opts).map_err(anyhow::Error::msg)?;
            let store = naskah::server::open_store(&s, clock).await?;
            naskah::domain::exchange::peers::set_intake_by_operator(
                &store,
                &agency,
                intake == IntakeArg::Registrar,
            )
            .await
            .map_err(cli_error)?;
            println!(
                "naskah: {agency} registers letters received by exchange {}",
                match intake {
                    IntakeArg::Direct => "at once",
                    IntakeArg::Registrar => "after the registrar's check",
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Peers { command } => peers_command(file, clock, command).await,
        Command::Package {
            command: PackageCommand::Verify { file },
        } => match naskah::domain::package::verify_file(&file) {
            Ok(v) => {
                println!(
                    "package OK: {} files, {} letters, {} signatures, {} audit events",
                    v.files, v.letters, v.signatures, v.events
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(problem) => {
                println!("package BROKEN: {problem}");
                Ok(ExitCode::from(1))
            }
        },
        Command::Agency {
            command:
                AgencyCommand::SetRecords {
                    opts,
                    agency,
                    records_unit,
                    approvers,
                    record_class,
                },
        } => {
            let s = settings(file, &opts).map_err(anyhow::Error::msg)?;
            let store = naskah::server::open_store(&s, clock).await?;
            let rs = naskah::domain::disposal::RecordsSettings {
                records_unit_code: records_unit,
                approver_position_ids: approvers,
                record_class_code: record_class,
            };
            naskah::domain::disposal::configure(&store, &agency, &rs)
                .await
                .map_err(cli_error)?;
            println!("naskah: agency {agency} records settings saved: {rs:?}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys {
            command: KeysCommand::Rotate { opts },
        } => {
            let s = settings(file, &opts).map_err(anyhow::Error::msg)?;
            let now = (clock.now_us() / 1_000_000).max(0) as u64;
            let kid = naskah::auth::tokens::generate_key(&s.data_dir, now)?;
            println!("naskah: new token signing key {kid}; restart the servers to sign with it");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn cli_error(e: naskah::error::Error) -> anyhow::Error {
    match e {
        naskah::error::Error::Invalid(v) => anyhow::anyhow!(
            "{}",
            v.iter()
                .map(|x| format!("{} {}", x.field, x.description))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!("{other}"),
    }
}

/// mimalloc instead of the system allocator: the server allocates and frees many
/// small buffers across threads (tokio workers, database workers), where glibc's
/// arenas spent a fifth of the CPU time and kept memory from being returned.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("naskah: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("naskah: {e:#}");
            ExitCode::from(2)
        }
    }
}
