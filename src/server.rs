//! Starting and stopping the naskah server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::api::App;
use crate::api::audit::AuditApi;
use crate::api::auth::AuthApi;
use crate::api::dispositions::DispositionApi;
use crate::api::layers::GateLayer;
use crate::api::letters::LetterApi;
use crate::api::org::OrgApi;
use crate::api::records::RecordsApi;
use crate::api::signature::SignatureApi;
use crate::api::verification::VerificationApi;
use crate::auth::tokens::TokenKeys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::identity;
use crate::proto;
use crate::store::{Store, StoreOptions};

/// What the server prints once at start.
#[derive(Debug, Clone, Default)]
pub struct StartReport {
    /// The bootstrap administrator's one-time password, on a fresh database.
    pub bootstrap_password: Option<String>,
    /// What `--demo` did, when asked.
    pub demo: Option<crate::domain::demo::DemoOutcome>,
}

/// A server that has been started.
pub struct RunningServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The exchange port's address, when it listens for peers.
    pub exchange_addr: Option<SocketAddr>,
    /// What happened at start.
    pub report: StartReport,
    /// The shared state (for tests and admin tasks in-process).
    pub app: Arc<App>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
}

impl RunningServer {
    /// Stops accepting, lets running requests finish, and waits.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        (&mut self.task).await??;
        Ok(())
    }

    /// Waits until the server ends (after `shutdown` fires).
    pub async fn wait(mut self) -> anyhow::Result<()> {
        (&mut self.task).await??;
        Ok(())
    }
}

/// Turns a panic inside a handler into a clean INTERNAL status (logged), so a bug
/// can never reset a client's connection.
fn panic_to_internal(
    err: Box<dyn std::any::Any + Send + 'static>,
) -> http::Response<tonic::body::Body> {
    let what = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = what, "a request handler panicked");
    tonic::Status::internal("internal error").into_http()
}

/// Connects to the database of `settings` and applies migrations.
pub async fn open_store(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Store> {
    let store = Store::connect(
        &StoreOptions {
            url: settings.database_url.clone(),
            max_connections: settings.db_max_connections,
            groups: settings.write_groups,
        },
        clock,
    )
    .await
    .map_err(|e| {
        anyhow::anyhow!(
            "cannot open the database {}: {e}",
            crate::store::redact_url(&settings.database_url)
        )
    })?;
    store
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    Ok(store)
}

/// Logs, every 10 s in which writes committed, how many write groups
/// committed and how many writers were in them (target `naskah::groups`,
/// level INFO): the mean group size, to judge `write_group_max` and
/// `write_lanes` by. Ends when the server stops.
fn report_write_groups(store: Store, mut stopping: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut last = store.write_groups();
        let mut every = tokio::time::interval(std::time::Duration::from_secs(10));
        every.tick().await;
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = stopping.wait_for(|s| *s) => return,
            }
            let now = store.write_groups();
            let (groups, writers) = (now.0 - last.0, now.1 - last.1);
            if groups > 0 {
                tracing::info!(
                    target: "naskah::groups",
                    groups,
                    writers,
                    mean = writers as f64 / groups as f64,
                    "write groups committed in the last 10 s"
                );
            }
            last = now;
        }
    });
}

/// Opens the database, migrates, bootstraps, binds and serves until `shutdown`
/// resolves. Health reports SERVING once all of that is done.
pub async fn start(
    settings: Settings,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<RunningServer> {
    let store = open_store(&settings, clock.clone()).await?;
    let master_key = crate::crypto::seal::load_or_create_master_key(&settings.data_dir)
        .map_err(|e| anyhow::anyhow!("master key in {}: {e}", settings.data_dir.display()))?;
    let (bootstrap_password, demo) = if settings.demo {
        let outcome = crate::domain::demo::seed(&store, &master_key)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        (None, Some(outcome))
    } else {
        (identity::bootstrap_admin(&store, &master_key).await?, None)
    };
    let now_secs = (clock.now_us() / 1_000_000).max(0) as u64;
    let tokens = TokenKeys::load_or_generate(&settings.data_dir, now_secs)
        .map_err(|e| anyhow::anyhow!("token keys in {}: {e}", settings.data_dir.display()))?;

    let incoming = TcpIncoming::bind(settings.listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.listen))?
        .with_nodelay(Some(true));
    let addr = incoming.local_addr()?;

    let (stopping_tx, stopping_rx) = tokio::sync::watch::channel(false);
    let notices = crate::notify::channel();
    report_write_groups(store.clone(), stopping_rx.clone());
    let exchange_listener = match settings.exchange_listen {
        Some(a) => Some(crate::api::exchange::bind(a).await?),
        None => None,
    };
    let exchange_addr = match &exchange_listener {
        Some(l) => Some(l.local_addr()?),
        None => None,
    };
    let mut exchange_settings = settings.exchange.clone();
    if let (Some(bound), Some(asked)) = (exchange_addr, settings.exchange_listen)
        && asked.port() == 0
        && exchange_settings.endpoint == format!("https://{asked}")
    {
        // Port 0 asked for any free port: the card names the one bound.
        exchange_settings.endpoint = format!("https://{bound}");
    }
    let exchange = Arc::new(crate::domain::exchange::Exchange::new(
        master_key,
        crate::domain::Blobs::new(&settings.data_dir),
        exchange_settings,
        notices.clone(),
    ));
    let transport: Arc<dyn crate::domain::exchange::Transport> =
        Arc::new(crate::api::exchange::GrpcTransport::default());
    crate::domain::exchange::relay::refresh(&store, &exchange)
        .await
        .map_err(|e| anyhow::anyhow!("exchange identities: {e}"))?;
    if let Some(l) = exchange_listener {
        crate::api::exchange::serve(l, store.clone(), exchange.clone(), stopping_rx.clone())?;
    }
    tokio::spawn(crate::domain::exchange::relay::run(
        store.clone(),
        exchange.clone(),
        transport.clone(),
        stopping_rx.clone(),
    ));
    let app = Arc::new(App {
        exchange,
        transport,
        store,
        tokens,
        settings: settings.clone(),
        master_key,
        notices,
        verify_limiter: crate::api::verification::RateLimiter::new(
            settings.verification_rate_per_minute,
        ),
        stopping: stopping_rx,
    });
    let (health_reporter, health) = tonic_health::server::health_reporter();
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    let cors = {
        let layer = CorsLayer::new()
            .allow_methods([http::Method::POST, http::Method::OPTIONS])
            .allow_headers(tower_http::cors::Any)
            .expose_headers([
                http::HeaderName::from_static("grpc-status"),
                http::HeaderName::from_static("grpc-message"),
                http::HeaderName::from_static("grpc-status-details-bin"),
                http::HeaderName::from_static("x-request-id"),
            ])
            .max_age(Duration::from_secs(3600));
        if settings.cors_any_origin {
            layer.allow_origin(AllowOrigin::any())
        } else {
            layer.allow_origin(AllowOrigin::list(settings.cors_allowed_origins.clone()))
        }
    };

    let max_in = settings.max_request_bytes;
    let max_out = settings.max_response_bytes;
    macro_rules! svc {
        ($server:ty, $imp:expr) => {
            <$server>::new($imp)
                .max_decoding_message_size(max_in)
                .max_encoding_message_size(max_out)
        };
    }
    let router = Server::builder()
        .accept_http1(true)
        .timeout(settings.request_timeout)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)))
        .layer(cors)
        .layer(tonic_web::GrpcWebLayer::new())
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_to_internal,
        ))
        .layer(GateLayer::new(app.clone()))
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(svc!(
            proto::auth_service_server::AuthServiceServer<AuthApi>,
            AuthApi::new(app.clone())
        ))
        .add_service(svc!(
            proto::org_service_server::OrgServiceServer<OrgApi>,
            OrgApi::new(app.clone())
        ))
        .add_service(svc!(
            proto::letter_service_server::LetterServiceServer<LetterApi>,
            LetterApi::new(app.clone())
        ))
        .add_service(svc!(
            proto::disposition_service_server::DispositionServiceServer<DispositionApi>,
            DispositionApi::new(app.clone())
        ))
        .add_service(svc!(
            proto::signature_service_server::SignatureServiceServer<SignatureApi>,
            SignatureApi::new(app.clone())
        ))
        .add_service(svc!(
            proto::verification_service_server::VerificationServiceServer<VerificationApi>,
            VerificationApi::new(app.clone())
        ))
        .add_service(svc!(
            proto::records_service_server::RecordsServiceServer<RecordsApi>,
            RecordsApi::new(app.clone())
        ))
        .add_service(svc!(
            proto::audit_service_server::AuditServiceServer<AuditApi>,
            AuditApi::new(app.clone())
        ))
        .add_service(svc!(
            proto::peer_service_server::PeerServiceServer<crate::api::peers::PeerApi>,
            crate::api::peers::PeerApi::new(app.clone())
        ));

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        tokio::select! {
            _ = shutdown => {},
            _ = stop_rx => {},
        }
        tracing::info!("shutting down: finishing running requests, ending inbox streams");
        let _ = stopping_tx.send(true);
    };
    let task = tokio::spawn(router.serve_with_incoming_shutdown(incoming, signal));

    for name in [
        "",
        "naskah.v1.AuthService",
        "naskah.v1.OrgService",
        "naskah.v1.LetterService",
        "naskah.v1.DispositionService",
        "naskah.v1.SignatureService",
        "naskah.v1.VerificationService",
        "naskah.v1.RecordsService",
        "naskah.v1.AuditService",
        "naskah.v1.PeerService",
    ] {
        health_reporter
            .set_service_status(name, ServingStatus::Serving)
            .await;
    }
    Ok(RunningServer {
        addr,
        exchange_addr,
        report: StartReport {
            bootstrap_password,
            demo,
        },
        app,
        shutdown: Some(stop_tx),
        task,
    })
}
