//! Authentication and authorization (SPEC section 4): Bearer JWTs (ES256 from our own issuer,
//! ES256/RS256 from an optional external JWKS file), oAuth1 (RFC 5849) app keys, the admin
//! token, and account isolation. Handlers call [`authorize`] first, with the schemes their
//! endpoint family accepts (the matrix of SPEC section 4 lives in the handlers' constants,
//! [`CONFIGURATION`], [`BEARER_ONLY`]; the mapping checks take oAuth1 alone).
//!
//! Every refusal is a 401 whose `WWW-Authenticate` names the accepted schemes, or a 403 that is
//! the same whether or not the addressed resource exists. Messages never echo a credential.

mod admin;
mod app_keys;
pub(crate) mod config;
mod error;
mod issuer;
mod jwks;
mod jwt;
mod nonces;
pub(crate) mod oauth1;
mod verified_tokens;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::http::header;

pub(crate) use admin::authorize_admin;
pub(crate) use app_keys::AppKey;
pub(crate) use config::AuthConfig;
pub(crate) use error::AuthError;

use crate::clock;
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};

/// A credential scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `Authorization: Bearer <JWT>`.
    Bearer,
    /// `Authorization: OAuth ...` (RFC 5849).
    OAuth1,
}

/// Certificate JSON CRUD, mapping CRUD, forward: both schemes.
pub(crate) const CONFIGURATION: &[Scheme] = &[Scheme::Bearer, Scheme::OAuth1];
/// Certificate by-file create/update and the P12 tester.
pub(crate) const BEARER_ONLY: &[Scheme] = &[Scheme::Bearer];
/// oAuth1 timestamps further than this from our clock are refused (SPEC section 4).
pub(crate) const TIMESTAMP_WINDOW_SECONDS: i64 = 300;

/// One message for an unknown consumer key, a wrong token and a wrong signature: a caller learns
/// nothing about which app keys exist.
const SIGNATURE_REFUSED: &str =
    "the OAuth signature does not verify; check the consumer key, token and secrets";

/// The accounts a credential may act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AccountScope {
    /// `["*"]`.
    All,
    /// The listed account ids.
    Only(Vec<String>),
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// Which scheme authenticated the request.
    pub scheme: Scheme,
    /// Who it is and what it may act on; shared with the verified-token cache, so a Bearer
    /// caller already seen costs no copy of its subject and accounts (the forward hot path).
    grant: Arc<Grant>,
}

/// What a credential grants.
#[derive(Debug)]
pub(crate) struct Grant {
    /// JWT `sub`, or the oAuth1 consumer key.
    subject: String,
    /// The accounts it may act on.
    accounts: AccountScope,
}

impl Grant {
    pub(crate) fn new(subject: String, accounts: &[String]) -> Self {
        Self { subject, accounts: AccountScope::from_claim(accounts) }
    }
}

impl Caller {
    /// JWT `sub`, or the oAuth1 consumer key.
    pub(crate) fn subject(&self) -> &str {
        &self.grant.subject
    }

    /// True when this caller may act on `account`.
    pub(crate) fn may_access(&self, account: &str) -> bool {
        match &self.grant.accounts {
            AccountScope::All => true,
            AccountScope::Only(ids) => ids.iter().any(|id| id == account),
        }
    }
}

impl AccountScope {
    /// `["*"]` (alone or among others) means every account.
    pub(crate) fn from_claim(accounts: &[String]) -> Self {
        if accounts.iter().any(|a| a == "*") {
            Self::All
        } else {
            Self::Only(accounts.to_vec())
        }
    }
}

/// The authorizer: our token issuer, external keys, app keys, seen nonces and the admin token,
/// with what checking a request needs besides (how this server is addressed, where refusals
/// are counted). Handlers pass it to [`authorize`].
pub struct AuthState {
    issuer: issuer::TokenIssuer,
    external: Vec<jwks::ExternalKey>,
    app_keys: app_keys::AppKeys,
    nonces: nonces::NonceCache,
    verified: verified_tokens::VerifiedTokens,
    /// `MTLS_ADMIN_TOKEN` (secret); `None` turns the admin API off.
    admin_token: Option<String>,
    listener: Listener,
    /// `mtls_auth_refusals_total`.
    metrics: Arc<Metrics>,
}

/// How clients address this server, for the oAuth1 base string URI.
#[derive(Debug, Clone)]
pub struct Listener {
    /// Whether it serves HTTPS (`MTLS_TLS_CERT`).
    pub https: bool,
    /// `MTLS_LISTEN`: the host when a request names none.
    pub address: SocketAddr,
    /// `MTLS_TRUSTED_PROXIES`: proxies whose `X-Forwarded-Proto` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl AuthState {
    /// Builds the authorizer; reads `MTLS_JWKS_FILE` when configured.
    ///
    /// # Errors
    /// The JWKS file cannot be read or holds no usable key (message names the variable).
    pub fn new(
        config: &AuthConfig,
        listener: Listener,
        metrics: Arc<Metrics>,
        store: Arc<dyn Store>,
    ) -> Result<Self, String> {
        let external = match &config.jwks_file {
            Some(path) => jwks::load(path).map_err(|e| format!("MTLS_JWKS_FILE: {e}"))?,
            None => Vec::new(),
        };
        Ok(Self {
            issuer: issuer::TokenIssuer::new(store.clone()),
            external,
            app_keys: app_keys::AppKeys::new(store),
            nonces: nonces::NonceCache::default(),
            verified: verified_tokens::VerifiedTokens::default(),
            admin_token: config.admin_token.clone(),
            listener,
            metrics,
        })
    }

    /// Issues a gateway token (ES256) for `sub` on `accounts`, valid `ttl_seconds`.
    ///
    /// # Errors
    /// The store is unavailable (the signing key is created on first use).
    pub async fn issue_token(
        &self,
        sub: &str,
        accounts: &[String],
        ttl_seconds: i64,
    ) -> Result<String, StoreError> {
        self.issuer
            .issue(sub, accounts, ttl_seconds, clock::now_unix())
            .await
    }

    /// Creates an app key.
    ///
    /// # Errors
    /// The store is unavailable.
    pub async fn create_app_key(
        &self,
        name: &str,
        accounts: &[String],
    ) -> Result<AppKey, StoreError> {
        self.app_keys.create(name, accounts).await
    }

    /// Deletes an app key; `false` when it did not exist.
    ///
    /// # Errors
    /// The store is unavailable.
    pub async fn delete_app_key(&self, consumer_key: &str) -> Result<bool, StoreError> {
        let existed = self.app_keys.delete(consumer_key).await?;
        self.nonces.forget_consumer(consumer_key);
        Ok(existed)
    }
}

/// Authenticates `req` with one of `accepted` schemes and, when `account` is given, checks the
/// caller may act on it (403 otherwise, with nothing about the account revealed).
///
/// For oAuth1 the signature base string needs the form parameters of an
/// `application/x-www-form-urlencoded` body; callers that have such a body pass it in `form_body`.
///
/// # Errors
/// [`AuthError::Unauthenticated`] naming `accepted`; [`AuthError::Forbidden`];
/// [`AuthError::NonceShareExceeded`]; the store's error.
pub(crate) async fn authorize(
    req: &HttpRequest,
    state: &AuthState,
    accepted: &[Scheme],
    account: Option<&str>,
    form_body: Option<&[u8]>,
) -> Result<Caller, AuthError> {
    let result = authenticate(req, state, accepted, form_body).await;
    let caller = match result {
        Ok(caller) => caller,
        Err(error) => {
            state.metrics.auth_refusals.inc("unauthenticated");
            return Err(error);
        }
    };
    if let Some(account) = account
        && !caller.may_access(account)
    {
        state.metrics.auth_refusals.inc("forbidden");
        tracing::info!(subject = %caller.subject(), "credential refused for an account it does not name");
        return Err(AuthError::Forbidden);
    }
    Ok(caller)
}

/// The request's `Authorization` header, `None` when there is none.
///
/// # Errors
/// The message to refuse with when there are several: RFC 9110 section 11.6.2 allows one
/// credential per request, and taking either would let a proxy's or an attacker's header decide
/// who the caller is.
pub(crate) fn single_authorization(
    req: &HttpRequest,
) -> Result<Option<&header::HeaderValue>, &'static str> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let first = values.next();
    match values.next() {
        None => Ok(first),
        Some(_) => Err("several Authorization headers; send exactly one"),
    }
}

/// What can be checked of an oAuth1 request before its body is read: a single well-formed
/// `OAuth` header, a timestamp in the window and a consumer key that exists. A request that
/// names another scheme passes (the full [`authorize`] judges it).
///
/// Forward calls this before it reads an `application/x-www-form-urlencoded` body, which the
/// signature covers: a caller without a real consumer key cannot make the gateway hold a body.
///
/// # Errors
/// As [`authorize`]: [`AuthError::Unauthenticated`] naming `accepted`; the store's error.
pub(crate) async fn check_oauth1_before_body(
    req: &HttpRequest,
    state: &AuthState,
    accepted: &[Scheme],
) -> Result<(), AuthError> {
    let result = match credential(req, accepted) {
        Ok((Scheme::OAuth1, params)) => known_consumer(state, params, accepted).await.map(|_| ()),
        Ok((Scheme::Bearer, _)) => Ok(()),
        Err(error) => Err(error),
    };
    if result.is_err() {
        state.metrics.auth_refusals.inc("unauthenticated");
    }
    result
}

async fn authenticate(
    req: &HttpRequest,
    state: &AuthState,
    accepted: &[Scheme],
    form_body: Option<&[u8]>,
) -> Result<Caller, AuthError> {
    match credential(req, accepted)? {
        (Scheme::Bearer, token) => bearer(state, token.trim(), accepted).await,
        (Scheme::OAuth1, params) => oauth(req, state, params, form_body, accepted).await,
    }
}

/// The scheme of the request's single `Authorization` header, if `accepted`, and the rest of it.
fn credential<'r>(
    req: &'r HttpRequest,
    accepted: &[Scheme],
) -> Result<(Scheme, &'r str), AuthError> {
    let value = single_authorization(req).map_err(|message| unauthorized(accepted, message))?;
    let Some(value) = value else {
        return Err(unauthorized(
            accepted,
            format!(
                "credentials are missing; this endpoint accepts {}",
                describe(accepted)
            ),
        ));
    };
    let value = value
        .to_str()
        .map_err(|_| unauthorized(accepted, "the Authorization header is not valid text"))?;
    let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case("oauth") {
        Scheme::OAuth1
    } else {
        return Err(unauthorized(
            accepted,
            format!(
                "unsupported authorization scheme; this endpoint accepts {}",
                describe(accepted)
            ),
        ));
    };
    if !accepted.contains(&scheme) {
        return Err(unauthorized(
            accepted,
            format!(
                "{} credentials are not accepted by this endpoint; it accepts {}",
                name(scheme),
                describe(accepted)
            ),
        ));
    }
    Ok((scheme, rest))
}

async fn bearer(state: &AuthState, token: &str, accepted: &[Scheme]) -> Result<Caller, AuthError> {
    let refuse = |message: String| unauthorized(accepted, message);
    let now = clock::now_unix();
    if let Some(grant) = state.verified.get(token, now) {
        return Ok(Caller { scheme: Scheme::Bearer, grant });
    }
    let parsed = jwt::parse(token).map_err(|e| refuse(e.to_string()))?;
    let kid = parsed.header.kid.as_deref();
    let external_named =
        kid.is_some() && state.external.iter().any(|k| k.kid.as_deref() == kid);
    let mut candidates: Vec<jwt::JwtVerifyingKey> = state
        .external
        .iter()
        .filter(|k| {
            if external_named {
                k.kid.as_deref() == kid
            } else {
                k.kid.is_none() || kid.is_none()
            }
        })
        .map(|k| k.key.clone())
        .collect();
    if !external_named
        && parsed.header.alg == "ES256"
        && let Some(ours) = state.issuer.existing().await?
        && kid.is_none_or(|kid| kid == ours.kid)
    {
        candidates.insert(0, jwt::JwtVerifyingKey::Es256(ours.verifying));
    }
    for key in &candidates {
        match parsed.verify(key, now) {
            Ok(claims) => {
                let grant = Arc::new(Grant::new(claims.sub, &claims.accounts));
                state.verified.insert(token, grant.clone(), claims.exp, now);
                return Ok(Caller { scheme: Scheme::Bearer, grant });
            }
            Err(jwt::JwtError::BadSignature) => continue,
            Err(other) => return Err(refuse(other.to_string())),
        }
    }
    Err(refuse(jwt::JwtError::BadSignature.to_string()))
}

async fn oauth(
    req: &HttpRequest,
    state: &AuthState,
    params: &str,
    form_body: Option<&[u8]>,
    accepted: &[Scheme],
) -> Result<Caller, AuthError> {
    let (params, key, now) = known_consumer(state, params, accepted).await?;
    let refuse = |message: String| unauthorized(accepted, message);
    let bad = || refuse(SIGNATURE_REFUSED.to_owned());
    let token_secret = match &params.token {
        Some(token) if oauth1::signatures_match(&key.token, token) => key.token_secret.as_str(),
        Some(_) => return Err(bad()),
        None => "",
    };
    let base = oauth1::base_string(
        req.method().as_str(),
        &base_uri(req, state),
        req.query_string(),
        form_body,
        &params.signed,
    );
    let expected = oauth1::sign(
        params.signature_method,
        &base,
        &key.consumer_secret,
        token_secret,
    );
    if !oauth1::signatures_match(&expected, &params.signature) {
        tracing::debug!(consumer_key = %params.consumer_key, "oauth1 signature mismatch");
        return Err(bad());
    }
    let token = params.token.as_deref().unwrap_or("");
    match state.nonces.check(
        &params.consumer_key,
        token,
        &params.nonce,
        params.timestamp,
        TIMESTAMP_WINDOW_SECONDS,
        now,
    ) {
        nonces::NonceCheck::Fresh => {}
        nonces::NonceCheck::Replayed => {
            return Err(refuse(
                "oauth_nonce was already used; every request needs a new nonce".to_owned(),
            ));
        }
        nonces::NonceCheck::OverShare { retry_after } => {
            tracing::warn!(consumer_key = %params.consumer_key, "oauth1 consumer over its nonce share");
            return Err(AuthError::NonceShareExceeded {
                window_seconds: TIMESTAMP_WINDOW_SECONDS,
                retry_after_seconds: retry_after,
            });
        }
    }
    Ok(Caller {
        scheme: Scheme::OAuth1,
        grant: Arc::new(Grant::new(key.consumer_key.clone(), &key.accounts)),
    })
}

/// The parsed OAuth header, its app key and the time it was judged at, when the header is
/// well-formed, its timestamp in the window and its consumer key known. The signature is not
/// checked here.
async fn known_consumer(
    state: &AuthState,
    params: &str,
    accepted: &[Scheme],
) -> Result<(oauth1::OAuthParams, Arc<AppKey>, i64), AuthError> {
    let refuse = |message: String| unauthorized(accepted, message);
    let params = oauth1::parse_header(params).map_err(|e| refuse(e.to_string()))?;
    let now = clock::now_unix();
    // `abs_diff` cannot overflow, whatever the two values (the timestamp is positive anyway).
    if params.timestamp.abs_diff(now) > TIMESTAMP_WINDOW_SECONDS.unsigned_abs() {
        return Err(refuse(format!(
            "oauth_timestamp is more than {TIMESTAMP_WINDOW_SECONDS} s away from the server's clock; check the client's clock"
        )));
    }
    match state.app_keys.find(&params.consumer_key).await? {
        Some(key) => Ok((params, key, now)),
        None => Err(refuse(SIGNATURE_REFUSED.to_owned())),
    }
}

/// The base string URI of RFC 5849 section 3.4.1.2 for `req` as the client addressed it: the
/// scheme this server listens with (or `X-Forwarded-Proto` from a configured trusted proxy),
/// the `Host` header lower-cased with a default port removed, and the path as sent.
fn base_uri(req: &HttpRequest, state: &AuthState) -> String {
    let listener = &state.listener;
    let from_trusted_proxy = req.peer_addr().is_some_and(|peer| {
        listener
            .trusted_proxies
            .iter()
            .any(|net| net.contains(&peer.ip()))
    });
    let forwarded_proto = req
        .headers()
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(',')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|v| from_trusted_proxy && (v == "http" || v == "https"));
    let scheme = forwarded_proto.unwrap_or_else(|| {
        if listener.https {
            "https"
        } else {
            "http"
        }
        .to_owned()
    });
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()))
        .unwrap_or_else(|| listener.address.to_string())
        .to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let host = host.strip_suffix(default_port).unwrap_or(&host);
    format!("{scheme}://{host}{}", req.uri().path())
}

/// The scheme's name in an `Authorization` header and a `WWW-Authenticate` challenge.
pub(crate) fn name(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::Bearer => "Bearer",
        Scheme::OAuth1 => "OAuth",
    }
}

fn describe(accepted: &[Scheme]) -> String {
    let names: Vec<&str> = accepted
        .iter()
        .map(|s| match s {
            Scheme::Bearer => "Bearer tokens",
            Scheme::OAuth1 => "OAuth (oAuth1 app key) signatures",
        })
        .collect();
    match names.as_slice() {
        [one] => format!("{one} only"),
        _ => names.join(" or "),
    }
}

fn unauthorized(accepted: &[Scheme], message: impl Into<String>) -> AuthError {
    AuthError::unauthenticated(accepted, message)
}

#[cfg(test)]
mod tests;
