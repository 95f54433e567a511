//! The test server fixture: one throwaway PostgreSQL cluster per test run
//! (started from the machine's PostgreSQL binaries, stopped at exit), one
//! database per test cloned from a migrated template, and one in-process naskah
//! server per test on 127.0.0.1:0 with real tonic clients over a real socket;
//! or the real binary in a process of its own.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use naskah::clock::{Clock, SystemClock};
use naskah::config::{Config, Settings};
use naskah::proto::Role;
use naskah::server::RunningServer;
use sea_orm::{ConnectionTrait, Database};
use tonic::transport::Channel;

/// The database a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A PostgreSQL cluster that lives as long as the test process.
pub struct PgCluster {
    cluster: crate::pgcluster::Cluster,
    template_ready: tokio::sync::OnceCell<()>,
}

static PG: OnceLock<PgCluster> = OnceLock::new();

/// The cluster to stop when the test process exits.
static PG_AT_EXIT: Mutex<Option<crate::pgcluster::Cluster>> = Mutex::new(None);

/// The `TMPDIR` directories of the test runs' clusters.
const CLUSTER_PREFIX: &str = "naskah-pg-";

extern "C" fn stop_pg_at_exit() {
    if let Ok(guard) = PG_AT_EXIT.lock()
        && let Some(cluster) = guard.as_ref()
    {
        cluster.stop();
    }
}

impl PgCluster {
    fn start() -> Self {
        // Clusters left by test processes that were killed (a killed process
        // never runs its exit handler) are stopped and removed first.
        crate::pgcluster::reap_orphans(CLUSTER_PREFIX, "");
        let dir =
            std::env::temp_dir().join(format!("{CLUSTER_PREFIX}{}", uuid::Uuid::new_v4().simple()));
        let cluster = crate::pgcluster::Cluster::start(
            &dir,
            "-c max_connections=400 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off",
            true,
        )
        .unwrap_or_else(|e| {
            let _ = std::fs::remove_dir_all(&dir);
            panic!("{e}. The PostgreSQL half of the test suite cannot run without it.")
        });
        *PG_AT_EXIT.lock().expect("lock") = Some(crate::pgcluster::Cluster::clone(&cluster));
        unsafe {
            libc::atexit(stop_pg_at_exit);
        }
        Self {
            cluster,
            template_ready: tokio::sync::OnceCell::new(),
        }
    }

    /// URL of a database of this cluster.
    pub fn url(&self, db: &str) -> String {
        self.cluster.url(db)
    }

    async fn ensure_template(&self) {
        self.template_ready
            .get_or_init(|| async {
                let admin = Database::connect(self.url("postgres"))
                    .await
                    .expect("connect to postgres");
                admin
                    .execute_unprepared("CREATE DATABASE naskah_template")
                    .await
                    .expect("create template");
                admin.close().await.expect("close");
                let store = naskah::store::Store::connect(
                    &naskah::store::StoreOptions {
                        url: self.url("naskah_template"),
                        max_connections: 2,
                        groups: Default::default(),
                    },
                    Arc::new(SystemClock),
                )
                .await
                .expect("connect to template");
                store.migrate().await.expect("migrate template");
                store.close().await.expect("close template");
            })
            .await;
    }

    /// A new database with every migration applied.
    pub async fn fresh_database(&self) -> String {
        self.ensure_template().await;
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(self.url("postgres"))
            .await
            .expect("connect to postgres");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE naskah_template"))
            .await
            .expect("create test database");
        admin.close().await.expect("close");
        self.url(&name)
    }
}

/// The cluster of this test run, started on first use.
pub fn pg() -> &'static PgCluster {
    PG.get_or_init(PgCluster::start)
}

/// A database URL of the given kind, fresh for one test.
pub async fn fresh_db_url(db: Db, dir: &Path) -> String {
    match db {
        Db::Sqlite => format!("sqlite://{}?mode=rwc", dir.join("naskah.db").display()),
        Db::Postgres => pg().fresh_database().await,
    }
}

/// A naskah server for one test.
pub struct TestServer {
    pub server: Option<RunningServer>,
    pub addr: std::net::SocketAddr,
    /// The exchange port, when the server listens for peers.
    pub exchange_addr: Option<std::net::SocketAddr>,
    pub channel: Channel,
    pub db: Db,
    pub db_url: String,
    pub dir: tempfile::TempDir,
    pub bootstrap_password: Option<String>,
}

/// Settings for a test server: loopback port 0, a small pool.
pub fn test_settings(dir: &Path, db_url: &str, tweak: impl FnOnce(&mut Config)) -> Settings {
    let mut c = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.to_path_buf(),
        database_url: db_url.to_owned(),
        db_max_connections: 4,
        ..Config::default()
    };
    tweak(&mut c);
    c.validate().expect("valid test settings")
}

impl TestServer {
    pub async fn start(db: Db) -> Self {
        Self::start_with(db, Arc::new(SystemClock), |_| {}).await
    }

    pub async fn start_with(
        db: Db,
        clock: Arc<dyn Clock>,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        Self::start_full(db, clock, false, tweak).await
    }

    /// A server with the demo agency.
    pub async fn start_demo(db: Db) -> Self {
        Self::start_full(db, Arc::new(SystemClock), true, |_| {}).await
    }

    /// A server with the demo agency and a clock the test controls.
    pub async fn start_demo_with_clock(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self::start_full(db, clock, true, |_| {}).await
    }

    pub async fn start_full(
        db: Db,
        clock: Arc<dyn Clock>,
        demo: bool,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        // The servers' logs, when a test run asks for them (RUST_LOG).
        if std::env::var_os("RUST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_test_writer()
                .try_init();
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let db_url = fresh_db_url(db, dir.path()).await;
        let mut settings = test_settings(dir.path(), &db_url, tweak);
        settings.demo = demo;
        let server = naskah::server::start(settings, clock, std::future::pending())
            .await
            .expect("server starts");
        let addr = server.addr;
        let exchange_addr = server.exchange_addr;
        let channel = Channel::from_shared(format!("http://{addr}"))
            .expect("uri")
            .connect()
            .await
            .expect("client connects");
        let bootstrap_password = server.report.bootstrap_password.clone();
        Self {
            server: Some(server),
            addr,
            exchange_addr,
            channel,
            db,
            db_url,
            dir,
            bootstrap_password,
        }
    }

    /// The server's state, for the kit's helpers and the store's own tests
    /// (the black-box suite speaks the contract).
    pub fn app(&self) -> &Arc<naskah::api::App> {
        &self.server.as_ref().expect("running").app
    }

    /// The server's store, for the kit's helpers and the store's own tests
    /// (the black-box suite speaks the contract).
    pub fn store(&self) -> &naskah::store::Store {
        &self.app().store
    }

    /// The server's clock now, in µs.
    pub fn now_us(&self) -> i64 {
        self.store().clock().now_us()
    }

    /// Appends `n` events to the audit chain through the server's own write
    /// path (`test/append` on `thing-{i}`, summary `event number {i}`), for a
    /// test that needs a chain of some length; they belong to no agency.
    pub async fn append_audit_events(&self, n: usize) {
        for i in 0..n {
            let mut tx = self.store().begin_write().await.expect("tx");
            let mut ev =
                naskah::audit::NewEvent::success("test/append", "thing", &format!("thing-{i}"));
            ev.summary = format!("event number {i}");
            tx.audit(ev);
            tx.commit().await.expect("commit");
        }
    }

    /// Another in-process server of this test's installation: the same
    /// database and data directory, the system clock, `--demo` when `demo`;
    /// or why it refused to start.
    pub async fn another_server(&self, demo: bool) -> Result<OtherServer, String> {
        let mut settings = test_settings(self.dir.path(), &self.db_url, |_| {});
        settings.demo = demo;
        OtherServer::start(settings).await
    }

    /// Creates a user directly in the database, in the agency of `admin` (the org
    /// API is tested on its own); returns the user id. The password need not be changed.
    pub async fn seed_user(&self, username: &str, password: &str, roles: &[Role]) -> String {
        let agency = naskah::store::identity::user_by_username(self.store().reader(), "admin")
            .await
            .expect("query")
            .expect("the admin exists")
            .agency_id;
        self.seed_user_in(&agency, username, password, roles).await
    }

    /// Creates a user in a given agency; returns the user id.
    pub async fn seed_user_in(
        &self,
        agency: &str,
        username: &str,
        password: &str,
        roles: &[Role],
    ) -> String {
        let phc = naskah::auth::password::hash(password).expect("hash");
        let now = self.store().clock().now_us();
        let user = naskah::domain::identity::new_user(
            agency, username, username, "", roles, phc, false, false, now,
        );
        let mut tx = self.store().begin_write().await.expect("tx");
        naskah::store::identity::insert_user(&tx, &user)
            .await
            .expect("insert user");
        tx.audit(naskah::audit::NewEvent::success(
            "test/seed_user",
            "user",
            &user.id,
        ));
        tx.commit().await.expect("commit");
        user.id
    }

    /// Creates another agency directly in the database; returns its id.
    pub async fn seed_agency(&self, code: &str) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let mut tx = self.store().begin_write().await.expect("tx");
        naskah::store::identity::insert_agency(&tx, &id, code, code, "", tx.now_us())
            .await
            .expect("insert agency");
        tx.audit(naskah::audit::NewEvent::success(
            "test/seed_agency",
            "agency",
            &id,
        ));
        tx.commit().await.expect("commit");
        id
    }

    /// Logs in and returns the access token.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let mut c =
            naskah::proto::auth_service_client::AuthServiceClient::new(self.channel.clone());
        c.login(naskah::proto::LoginRequest {
            username: username.into(),
            password: password.into(),
        })
        .await
        .unwrap_or_else(|e| panic!("login of {username} failed: {e:?}"))
        .into_inner()
        .access_token
    }

    /// Stops the server and keeps its database and data directory, for
    /// [`TestServer::resume`].
    pub async fn pause(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await.expect("clean stop");
        }
    }

    /// Starts the paused server again on its database and data directory,
    /// on the same exchange port when it had one.
    pub async fn resume(&mut self, tweak: impl FnOnce(&mut Config)) {
        let exchange = self.exchange_addr;
        let settings = test_settings(self.dir.path(), &self.db_url, |c| {
            if let Some(a) = exchange {
                c.exchange_listen = a.to_string();
            }
            tweak(c)
        });
        let server = naskah::server::start(settings, Arc::new(SystemClock), std::future::pending())
            .await
            .expect("server starts again");
        self.addr = server.addr;
        self.exchange_addr = server.exchange_addr;
        self.channel = Channel::from_shared(format!("http://{}", server.addr))
            .expect("uri")
            .connect()
            .await
            .expect("client connects");
        self.server = Some(server);
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await.expect("clean stop");
        }
    }
}

/// An in-process server started from its settings, beside a [`TestServer`]
/// or on a database of its own.
pub struct OtherServer {
    server: RunningServer,
    pub channel: Channel,
    pub bootstrap_password: Option<String>,
}

impl OtherServer {
    /// Starts a server from `settings` with the system clock, and connects
    /// to it; or why it refused to start.
    pub async fn start(settings: Settings) -> Result<Self, String> {
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        let server = naskah::server::start(settings, Arc::new(SystemClock), std::future::pending())
            .await
            .map_err(|e| e.to_string())?;
        let channel = Channel::from_shared(format!("http://{}", server.addr))
            .expect("uri")
            .connect()
            .await
            .expect("connect");
        let bootstrap_password = server.report.bootstrap_password.clone();
        Ok(Self {
            server,
            channel,
            bootstrap_password,
        })
    }

    pub async fn stop(self) {
        self.server.stop().await.expect("stop");
    }
}

/// A server on a PostgreSQL cluster of its own (fsync off), which the test
/// stops and starts again under the running server: an outage.
pub struct OwnCluster {
    pub cluster: crate::pgcluster::Cluster,
    pub server: OtherServer,
    _dir: tempfile::TempDir,
}

impl OwnCluster {
    /// Starts a cluster with database `naskah` and a server on it.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let cluster = crate::pgcluster::Cluster::start(
            &dir.path().join("pg"),
            "-c fsync=off -c synchronous_commit=off",
            true,
        )
        .expect("PostgreSQL starts");
        cluster.create_database("naskah").expect("createdb");
        let settings = test_settings(dir.path(), &cluster.url("naskah"), |_| {});
        let server = OtherServer::start(settings).await.expect("server starts");
        Self {
            cluster,
            server,
            _dir: dir,
        }
    }

    /// Stops the server, then the cluster.
    pub async fn stop(self) {
        self.server.stop().await;
        self.cluster.stop();
    }
}

/// A request with a bearer token.
pub fn authed<T>(msg: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    r
}

/// The stable reason code of a status, from google.rpc.ErrorInfo.
pub fn reason(status: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    status
        .get_details_error_info()
        .map(|i| i.reason)
        .unwrap_or_default()
}

/// The real `naskah` binary serving, in a process of its own (so that its
/// memory and its exit are its own), killed on drop.
pub struct Served {
    pub child: std::process::Child,
    pub channel: Channel,
    pub stdout: std::path::PathBuf,
    dirs: Vec<tempfile::TempDir>,
}

impl Served {
    /// Keeps `dir` alive as long as the server.
    pub fn keep(&mut self, dir: tempfile::TempDir) {
        self.dirs.push(dir);
    }

    /// What the server printed so far.
    pub fn printed(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// What the server printed once it printed `needle` (it prints its
    /// start-up report after it began answering), waiting at most 10 s.
    pub async fn printed_with(&self, needle: &str) -> String {
        let started = std::time::Instant::now();
        loop {
            let printed = self.printed();
            if printed.contains(needle) || started.elapsed() > std::time::Duration::from_secs(10) {
                return printed;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Stops the server with SIGTERM and waits for it.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        self.child.wait().expect("wait")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `naskah serve` (the binary `naskah`, which the test target names:
/// `env!("CARGO_BIN_EXE_naskah")`) on `url` and `dir` with `args` and `env`,
/// and waits until it answers its health check (60 s at most).
pub async fn serve_binary(
    naskah: &str,
    url: &str,
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Served {
    use std::time::{Duration, Instant};
    let port = crate::pgcluster::free_port().expect("port");
    let stdout = dir.join(format!("serve-{port}.out"));
    let mut cmd = std::process::Command::new(naskah);
    cmd.arg("serve")
        .args(args)
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            url,
            "--data-dir",
        ])
        .arg(dir)
        .env_remove("NASKAH_CONFIG")
        .env("NASKAH_LOG_FORMAT", "json")
        .stdout(std::fs::File::create(&stdout).expect("stdout file"))
        .stderr(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn naskah serve");
    let started = Instant::now();
    let channel = loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no server within 60 s"
        );
        if let Ok(Some(exit)) = child.try_wait() {
            panic!("naskah serve exited early: {exit}");
        }
        if let Ok(ch) = Channel::from_shared(format!("http://127.0.0.1:{port}"))
            .expect("uri")
            .connect()
            .await
        {
            let mut h = tonic_health::pb::health_client::HealthClient::new(ch.clone());
            if h.check(tonic_health::pb::HealthCheckRequest {
                service: String::new(),
            })
            .await
            .is_ok()
            {
                break ch;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    Served {
        child,
        channel,
        stdout,
        dirs: Vec::new(),
    }
}
