//! `mtls-server`: parse configuration, open the store, build the app, run. Everything else lives
//! in the library.
//!
//! Exit codes: 64 (`EX_USAGE`) for a bad setting, flag or TLS file; 69 (`EX_UNAVAILABLE`) when
//! the store cannot be opened (data dir unusable, data key mismatch, Vault refused the login).

#![forbid(unsafe_code)]

use actix_web::{middleware, web, App, HttpServer};
use mtls_server::config::{Config, LogFormat};
use mtls_server::{housekeeping, http, state::AppState, store, throttle, tls};

// mimalloc's per-thread free lists suit actix's thread-per-core workers: measured in
// tests/bench/forward/run.sh (see the commit message).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EX_USAGE: i32 = 64;
const EX_UNAVAILABLE: i32 = 69;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let config = match Config::try_from_env() {
        Ok(config) => config,
        Err(error) => exit(&error.to_string(), error.exit_code()),
    };
    init_logging(config.log_format);
    tls::install_crypto_provider();

    let tls_config = config
        .tls
        .as_ref()
        .map(|(cert, key)| tls::server_config(cert, key).unwrap_or_else(|e| exit(&e, EX_USAGE)));
    let store = match store::open(&config.store).await {
        Ok(store) => store,
        Err(error) => exit(&format!("cannot open the store: {error}"), EX_UNAVAILABLE),
    };
    let listen = config.listen;
    let throttle = throttle::start(&config.throttle).unwrap_or_else(|e| exit(&e.to_string(), EX_USAGE));
    let state = match AppState::try_new(config, store) {
        Ok(state) => web::Data::new(state),
        Err(error) => exit(&error, EX_USAGE),
    };
    housekeeping::start(state.store.clone(), state.certificates.clone()).await;
    let watched = state.clone();
    mtls_server::runtime::rotation_notices::spawn(state.store.clone(), move |account| match account {
        Some(account) => watched.runtime.invalidate_mappings(account),
        None => watched.runtime.invalidate_all(),
    });

    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(throttle::middleware(&throttle))
            .wrap(middleware::from_fn(http::request_id::middleware))
            .configure(http::configure)
    });
    let https = tls_config.is_some();
    let server = match tls_config {
        Some(tls_config) => server.bind_rustls_0_23(listen, tls_config)?,
        None => server.bind(listen)?,
    };
    tracing::info!(%listen, https, "listening");
    server.run().await
}

/// Logs to stderr, as text or one JSON object per line (`MTLS_LOG_FORMAT`); `RUST_LOG`
/// overrides the default filter. vaultrs logs Vault's error lists itself at error level (CAS
/// conflicts included); the store maps and reports those, so it stays quiet. A request's lines
/// carry its `request` span (the request id): `request{request_id=..}:` in text, `"span"` in JSON.
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,vaultrs=off,rustify=off"));
    // Colours only on a terminal: escape codes in a log file or a shipper break search.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).init(),
    }
}

fn exit(message: &str, code: i32) -> ! {
    if code == 0 {
        println!("{message}");
    } else {
        eprintln!("{message}");
    }
    std::process::exit(code)
}
