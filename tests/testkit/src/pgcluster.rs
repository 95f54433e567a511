//! Throwaway PostgreSQL clusters on loopback, for the test suite and for
//! `naskah-bench`: found binaries, `initdb`, a start on a free port, an
//! immediate stop, and the removal of clusters whose owning process died
//! without stopping them (a process killed with SIGKILL runs no clean-up).
//!
//! A cluster lives in a directory of its own: `data/` (the cluster),
//! `server.log`, and `owner.pid` (the process that started it). PostgreSQL
//! refuses to run as root, so under root the tools run as the `postgres`
//! user (`runuser`), who then owns the directory.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The name of the file that records a cluster's owning process.
const OWNER_FILE: &str = "owner.pid";

/// A started cluster. Nothing stops it on drop: its owner calls
/// [`Cluster::stop`] (or leaves it to [`reap_orphans`] of a later run).
#[derive(Clone, Debug)]
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres_user: bool,
    settings: String,
}

/// The directory of PostgreSQL's server binaries: `NASKAH_PG_BIN`, else the
/// newest `/usr/lib/postgresql/*/bin` that has `initdb` and `pg_ctl`.
fn find_bin() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("NASKAH_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    found.retain(|p| p.join("initdb").is_file() && p.join("pg_ctl").is_file());
    found.sort();
    found.pop().ok_or_else(|| {
        "PostgreSQL server binaries (initdb, pg_ctl) were not found under \
         /usr/lib/postgresql/*/bin; install them (Debian: apt-get install postgresql) \
         or set NASKAH_PG_BIN to their directory"
            .to_owned()
    })
}

/// True when this process runs as root (the tools then run as `postgres`).
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A command running PostgreSQL tool `name` of `bin`, as the `postgres` user
/// when `as_postgres_user`.
fn command(bin: &Path, name: &str, as_postgres_user: bool) -> Command {
    if as_postgres_user {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(name));
        c
    } else {
        Command::new(bin.join(name))
    }
}

fn run(c: &mut Command, what: &str) -> Result<(), String> {
    let out = c.output().map_err(|e| format!("{what}: cannot run: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A loopback port free at the time of asking.
pub fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

/// Stops a cluster in `dir` at once (no checkpoint: it is thrown away).
fn stop_in(bin: &Path, dir: &Path, as_postgres_user: bool) {
    let _ = command(bin, "pg_ctl", as_postgres_user)
        .arg("-D")
        .arg(dir.join("data"))
        .args(["-m", "immediate", "stop"])
        .output();
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let found = unsafe { libc::kill(pid, 0) } == 0;
    found || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Stops and removes the clusters of dead owners: every directory of the
/// temporary directory whose name starts with `prefix` and whose `sub`
/// directory (empty: itself) records an owner that no longer runs. The
/// whole directory named by `prefix` goes.
pub fn reap_orphans(prefix: &str, sub: &str) {
    let Ok(bin) = find_bin() else {
        return;
    };
    let as_postgres_user = is_root();
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let top = e.path();
        if !top
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(prefix))
        {
            continue;
        }
        let dir = if sub.is_empty() {
            top.clone()
        } else {
            top.join(sub)
        };
        let Some(pid) = std::fs::read_to_string(dir.join(OWNER_FILE))
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
        else {
            continue;
        };
        if !alive(pid) {
            stop_in(&bin, &dir, as_postgres_user);
            let _ = std::fs::remove_dir_all(&top);
        }
    }
}

impl Cluster {
    /// Initialises a cluster in `dir` (created) and starts it on a free
    /// loopback port with `settings` (`-c name=value …`), trying five ports.
    /// `fast_init` skips initdb's sync to disk (for clusters whose data may
    /// be lost).
    pub fn start(dir: &Path, settings: &str, fast_init: bool) -> Result<Self, String> {
        let bin = find_bin()?;
        let as_postgres_user = is_root();
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        std::fs::write(dir.join(OWNER_FILE), std::process::id().to_string())
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        if as_postgres_user {
            run(
                Command::new("chown").arg("-R").arg("postgres:").arg(dir),
                "chown of the cluster's directory",
            )?;
        }
        let mut init = command(&bin, "initdb", as_postgres_user);
        init.arg("-D").arg(dir.join("data")).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]);
        if fast_init {
            init.arg("--no-sync");
        }
        run(&mut init, "initdb")?;
        let mut last_err = String::new();
        for _ in 0..5 {
            let cluster = Self {
                bin: bin.clone(),
                dir: dir.to_path_buf(),
                port: free_port()?,
                as_postgres_user,
                settings: settings.to_owned(),
            };
            match cluster.pg_ctl_start() {
                Ok(()) => return Ok(cluster),
                Err(e) => {
                    last_err = format!(
                        "{e}{}",
                        std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
                    );
                }
            }
        }
        Err(format!("PostgreSQL did not start: {last_err}"))
    }

    fn pg_ctl_start(&self) -> Result<(), String> {
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} {}",
            self.port,
            self.dir.display(),
            self.settings
        );
        run(
            command(&self.bin, "pg_ctl", self.as_postgres_user)
                .arg("-D")
                .arg(self.dir.join("data"))
                .args(["-w", "-l"])
                .arg(self.dir.join("server.log"))
                .args(["-o", &opts, "start"]),
            "pg_ctl start",
        )
    }

    /// Shuts the server down (fast: open connections are cut) and keeps its
    /// data, as an outage would; [`Cluster::resume`] starts it again.
    pub fn pause(&self) -> Result<(), String> {
        run(
            command(&self.bin, "pg_ctl", self.as_postgres_user)
                .arg("-D")
                .arg(self.dir.join("data"))
                .args(["-m", "fast", "-w", "stop"]),
            "pg_ctl stop",
        )
    }

    /// Starts a paused cluster again on its port.
    pub fn resume(&self) -> Result<(), String> {
        self.pg_ctl_start()
    }

    /// Creates database `name` (owned by `postgres`).
    pub fn create_database(&self, name: &str) -> Result<(), String> {
        run(
            command(&self.bin, "createdb", self.as_postgres_user).args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                name,
            ]),
            "createdb",
        )
    }

    /// Stops the cluster at once and removes its directory.
    pub fn stop(&self) {
        stop_in(&self.bin, &self.dir, self.as_postgres_user);
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// The URL of database `db` of this cluster.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}
