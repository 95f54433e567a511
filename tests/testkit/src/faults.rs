//! A TCP proxy that injects faults between two exchange ports: connections
//! cut after a random number of bytes of the answer (lost answers, failed
//! handshakes), answers delayed, and, while faults are on, every connection
//! closed after a short random lifetime whatever it carries. TLS runs end to
//! end through it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy did.
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections made through it.
    pub connections: AtomicU64,
    /// Connections cut.
    pub cut: AtomicU64,
    /// Connections whose answers were delayed.
    pub delayed: AtomicU64,
    /// Connections closed after a random lifetime (requests in flight lost).
    pub dropped: AtomicU64,
}

/// A running proxy.
pub struct FaultProxy {
    /// Its address.
    pub addr: SocketAddr,
    /// Whether it injects faults now.
    pub faulty: Arc<AtomicBool>,
    /// What it did.
    pub stats: Arc<Stats>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn next(seed: &AtomicU64) -> u64 {
    // xorshift64*, shared by the connections.
    let mut x = seed.load(Ordering::Relaxed);
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    seed.store(x, Ordering::Relaxed);
    x.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

impl FaultProxy {
    /// A proxy on a free loopback port in front of `target`.
    pub async fn start(target: SocketAddr, seed: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let faulty = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Stats::default());
        let rng = Arc::new(AtomicU64::new(seed | 1));
        let (f, s) = (faulty.clone(), stats.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                s.connections.fetch_add(1, Ordering::Relaxed);
                let roll = next(&rng);
                let (cut, delay) = if f.load(Ordering::Relaxed) {
                    match roll % 4 {
                        0 => (Some((roll >> 8) % 6000), None),
                        1 => (None, Some(Duration::from_millis((roll >> 8) % 300))),
                        _ => (None, None),
                    }
                } else {
                    (None, None)
                };
                // Under faults every connection dies young, whatever is in flight.
                let lifetime = f
                    .load(Ordering::Relaxed)
                    .then(|| Duration::from_millis(200 + (roll >> 20) % 1800));
                if lifetime.is_some() {
                    s.dropped.fetch_add(1, Ordering::Relaxed);
                }
                if cut.is_some() {
                    s.cut.fetch_add(1, Ordering::Relaxed);
                }
                if delay.is_some() {
                    s.delayed.fetch_add(1, Ordering::Relaxed);
                }
                tokio::spawn(pipe(client, target, cut, delay, lifetime));
            }
        });
        Self {
            addr,
            faulty,
            stats,
            task,
        }
    }
}

async fn pipe(
    client: TcpStream,
    target: SocketAddr,
    cut: Option<u64>,
    delay: Option<Duration>,
    lifetime: Option<Duration>,
) {
    let Ok(server) = TcpStream::connect(target).await else {
        return;
    };
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match cr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if sw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = sw.shutdown().await;
    };
    let down = async {
        let mut buf = vec![0u8; 16 * 1024];
        let mut sent = 0u64;
        loop {
            match sr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if let Some(d) = delay {
                        tokio::time::sleep(d).await;
                    }
                    let mut n = n as u64;
                    if let Some(limit) = cut
                        && sent + n > limit
                    {
                        n = limit.saturating_sub(sent);
                        let _ = cw.write_all(&buf[..n as usize]).await;
                        return;
                    }
                    if cw.write_all(&buf[..n as usize]).await.is_err() {
                        break;
                    }
                    sent += n;
                }
            }
        }
        let _ = cw.shutdown().await;
    };
    // Either side ending (a cut included) ends both: the sockets close.
    let life = async {
        match lifetime {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = up => {}
        _ = down => {}
        _ = life => {}
    }
}
