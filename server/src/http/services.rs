//! `GET /mtls/services` (SPEC section 5): the configured services (`MTLS_SERVICES`) as
//! `[{"name": "IDP", "code": 1}, ...]`, in configuration order, for any valid Bearer or oAuth1
//! credential. Read-only and account-free: it tells a caller which names and codes a mapping may
//! use (the portal's service picker), nothing about any account.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use crate::auth;
use crate::http::error::ApiError;
use crate::http::ops;
use crate::state::AppState;

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(ops::get_only("/mtls/services", web::get().to(list)));
}

/// One configured service, as the API shows it.
#[derive(Serialize)]
struct ServiceEntry<'a> {
    name: &'a str,
    code: u32,
}

/// `GET /mtls/services`. Extracts: the `Authorization` header (Bearer or oAuth1).
async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    auth::authorize(&req, &state.auth, auth::CONFIGURATION, None, None).await?;
    let services: Vec<ServiceEntry<'_>> = state
        .config
        .services
        .iter()
        .map(|(name, code)| ServiceEntry { name, code: *code })
        .collect();
    Ok(HttpResponse::Ok().json(services))
}

#[cfg(test)]
mod tests {
    use actix_web::{App, middleware::from_fn, test};
    use serde_json::{Value, json};
    use std::sync::Arc;

    use crate::config::Config;
    use crate::mappings::fakes::TestStore;
    use crate::state::AppState;

    async fn state(services: Vec<(String, u32)>) -> web::Data<AppState> {
        let dir = std::env::temp_dir().join(format!("mtls-services-{}", uuid::Uuid::new_v4()));
        let mut config = Config::for_tests(dir);
        config.services = services;
        web::Data::new(AppState::new(config, Arc::new(TestStore::default())))
    }

    use super::*;

    #[actix_web::test]
    async fn lists_the_configured_services_in_order() {
        let state = state(vec![("PAYMENTS".to_owned(), 7), ("IDP".to_owned(), 1)]).await;
        let token = state.auth.issue_token("t", &["acc1".to_owned()], 60).await.unwrap();
        let app = test::init_service(
            App::new()
                .app_data(state.clone())
                .wrap(from_fn(crate::http::request_id::middleware))
                .configure(crate::http::configure),
        )
        .await;
        let request = test::TestRequest::get()
            .uri("/mtls/services")
            .insert_header(("Authorization", format!("Bearer {token}")));
        let answer: Value = test::call_and_read_body_json(&app, request.to_request()).await;
        assert_eq!(answer, json!([{ "name": "PAYMENTS", "code": 7 }, { "name": "IDP", "code": 1 }]));
    }

    #[actix_web::test]
    async fn refuses_a_caller_without_a_credential() {
        let state = state(vec![("IDP".to_owned(), 1)]).await;
        let app = test::init_service(
            App::new()
                .app_data(state)
                .wrap(from_fn(crate::http::request_id::middleware))
                .configure(crate::http::configure),
        )
        .await;
        let response = test::call_service(&app, test::TestRequest::get().uri("/mtls/services").to_request()).await;
        assert_eq!(response.status().as_u16(), 401);
        let challenge = response.headers().get("www-authenticate").unwrap().to_str().unwrap().to_owned();
        assert!(challenge.contains("Bearer") && challenge.contains("OAuth"), "{challenge}");
        let post = test::TestRequest::post().uri("/mtls/services").to_request();
        assert_eq!(test::call_service(&app, post).await.status().as_u16(), 405);
    }
}
