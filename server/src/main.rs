//! `mtls-server`: parse configuration, build the app, run. Everything else lives in the library.

use std::sync::Arc;

use actix_web::{middleware, web, App, HttpServer};
use mtls_server::{config::Config, http, state::AppState, store, throttle};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    // Skeleton: configuration parsing arrives with issue 3.
    let mut config = Config::for_tests("./data".into());
    if let Some(listen) = std::env::var("MTLS_LISTEN").ok().and_then(|l| l.parse().ok()) {
        config.listen = listen;
    }
    let listen = config.listen;
    let throttle = throttle::start(&config).map_err(std::io::Error::other)?;
    let state = web::Data::new(AppState::new(config, Arc::new(store::memory::MemoryStore::default())));
    HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(throttle::middleware(&throttle))
            .wrap(middleware::from_fn(http::request_id::middleware))
            .configure(http::configure)
    })
    .bind(listen)?
    .run()
    .await
}
