//! A throwaway PostgreSQL cluster for a benchmark run, with durable settings
//! (fsync and synchronous commit on, as in production).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running cluster; stopped and removed on drop.
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    as_postgres: bool,
    pub port: u16,
}

fn pg_bin() -> anyhow::Result<PathBuf> {
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
        anyhow::anyhow!(
            "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin; \
             install them (Debian: apt-get install postgresql) or set NASKAH_PG_BIN"
        )
    })
}

fn tool(bin: &Path, name: &str, as_postgres: bool) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(name));
        c
    } else {
        Command::new(bin.join(name))
    }
}

fn run(mut c: Command, what: &str) -> anyhow::Result<()> {
    let out = c.output()?;
    if !out.status.success() {
        anyhow::bail!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

impl Cluster {
    /// Initialises and starts a cluster under `dir`, with database `naskah`.
    pub fn start(dir: &Path) -> anyhow::Result<Self> {
        let bin = pg_bin()?;
        let uid = Command::new("id").arg("-u").output()?;
        let as_postgres = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        std::fs::create_dir_all(dir)?;
        if as_postgres {
            run(
                {
                    let mut c = Command::new("chown");
                    c.arg("-R").arg("postgres:").arg(dir);
                    c
                },
                "chown",
            )?;
        }
        let data = dir.join("data");
        let mut c = tool(&bin, "initdb", as_postgres);
        c.arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]);
        run(c, "initdb")?;
        let port = super::free_port()?;
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c max_connections=200 \
             -c fsync=on -c synchronous_commit=on -c shared_buffers=256MB",
            dir.display()
        );
        let mut c = tool(&bin, "pg_ctl", as_postgres);
        c.arg("-D")
            .arg(&data)
            .args(["-w", "-l"])
            .arg(dir.join("server.log"))
            .args(["-o", &opts, "start"]);
        run(c, "pg_ctl start")?;
        let cluster = Self {
            bin,
            dir: dir.to_path_buf(),
            as_postgres,
            port,
        };
        let mut c = tool(&cluster.bin, "createdb", as_postgres);
        c.args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "postgres",
            "naskah",
        ]);
        run(c, "createdb")?;
        Ok(cluster)
    }

    /// URL of the `naskah` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/naskah", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let mut c = tool(&self.bin, "pg_ctl", self.as_postgres);
        c.arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"]);
        let _ = c.output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
