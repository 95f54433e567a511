//! The servers under load: the `naskah` binary and the ceiling server, run
//! as child processes, with their peak memory sampled.

use super::*;

/// A server child process, killed on drop.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
}

impl Server {
    /// CPU time the process has used so far (user and system), seconds.
    pub(crate) fn cpu_s(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name (which may hold spaces) in its
        // parentheses; utime and stime are the 14th and 15th of the line.
        let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let ticks: f64 = after
            .split_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|v| v.parse::<f64>().ok())
            .sum();
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        ticks / hz
    }

    pub(crate) fn rss_mb(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    }
}

/// Samples a process's private resident memory (RssAnon, KiB) every 100 ms and
/// keeps the largest value. File pages (the SQLite memory map, shared with the
/// page cache) are left out: they are counted once per mapping and are not the
/// server's own memory.
pub(crate) fn peak_sampler(pid: u32) -> Arc<std::sync::atomic::AtomicU64> {
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let p = peak.clone();
    tokio::spawn(async move {
        loop {
            let Ok(status) = tokio::fs::read_to_string(format!("/proc/{pid}/status")).await else {
                break;
            };
            let kb = status
                .lines()
                .find(|l| l.starts_with("RssAnon:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            p.fetch_max(kb, std::sync::atomic::Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    peak
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn wait_ready(addr: SocketAddr, child: &mut Child) -> anyhow::Result<()> {
    for _ in 0..600 {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("server exited early: {status}");
        }
        if let Ok(ch) = connect(addr).await {
            let mut h = tonic_health::pb::health_client::HealthClient::new(ch);
            if let Ok(r) = h
                .check(tonic_health::pb::HealthCheckRequest {
                    service: String::new(),
                })
                .await
                && r.into_inner().status == 1
            {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("server on {addr} did not become ready")
}

pub(crate) fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let dir = me
        .parent()
        .ok_or_else(|| anyhow::anyhow!("no directory of the benchmark binary"))?;
    let p = dir.join(name);
    if !p.is_file() {
        anyhow::bail!(
            "{} not found next to naskah-bench; build it first (cargo build --release --workspace)",
            p.display()
        );
    }
    Ok(p)
}

/// Makes the server process that `command` starts die with this process
/// (`PR_SET_PDEATHSIG`), so that a run killed outright (SIGKILL, which runs no
/// clean-up) leaves no server behind. Servers are started from the thread
/// that runs the benchmark, which lives as long as the process.
pub(crate) fn die_with_parent(command: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id();
    // SAFETY: the closure runs in the child between fork and exec and calls
    // only async-signal-safe functions (prctl, getppid).
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before the signal was asked for.
            if libc::getppid() as u32 != parent {
                return Err(std::io::Error::other("naskah-bench ended"));
            }
            Ok(())
        })
    }
}

pub(crate) async fn start_naskah(data_dir: &Path, url: &str) -> anyhow::Result<Server> {
    start_naskah_with(data_dir, url, &[], &[]).await
}

/// [`start_naskah`] with more arguments to `serve` and more environment.
pub(crate) async fn start_naskah_with(
    data_dir: &Path,
    url: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> anyhow::Result<Server> {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let mut command = Command::new(sibling("naskah")?);
    command
        .arg("serve")
        .args(args)
        .args([
            "--listen",
            &addr.to_string(),
            "--database-url",
            url,
            "--data-dir",
        ])
        .arg(data_dir)
        .env_remove("NASKAH_CONFIG")
        .env("NASKAH_VERIFICATION_RATE_PER_MINUTE", "100000000")
        // NASKAH_BENCH_LOG_FILTER shows more of the servers' log, such as
        // `error,naskah::groups=info` for the write groups' sizes.
        .env(
            "NASKAH_LOG_FILTER",
            std::env::var("NASKAH_BENCH_LOG_FILTER").unwrap_or_else(|_| "error".into()),
        )
        .env("NASKAH_REQUEST_TIMEOUT_SECS", "60")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let mut child = die_with_parent(&mut command).spawn()?;
    wait_ready(addr, &mut child).await?;
    Ok(Server { child, addr })
}

pub(crate) async fn start_ceiling(url: &str, own_reads: bool) -> anyhow::Result<Server> {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let mut command = Command::new(std::env::current_exe()?);
    command
        .args([
            "ceiling",
            "--listen",
            &addr.to_string(),
            "--database-url",
            url,
        ])
        .args(own_reads.then_some("--own-reads"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let mut child = die_with_parent(&mut command).spawn()?;
    wait_ready(addr, &mut child).await?;
    Ok(Server { child, addr })
}
