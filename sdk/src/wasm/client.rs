//! `MtlsClient` (SPEC section 10): one typed async method per endpoint of SPEC section 5, over
//! the platform's `fetch` (browsers and Node ≥ 20), authenticated with a Bearer token or oAuth1.
//!
//! The binding builds requests and reads responses; the only rule here is how a failed response
//! becomes an `MtlsError` (in `super::error`). oAuth1 signatures come from the core
//! ([`crate::oauth1_authorization`]); this file supplies the nonce and the clock.

use std::rc::Rc;

use base64::Engine as _;
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use super::error::{BindingError, mtls_error};
use crate::{OAuth1Credentials, OAuth1SignatureMethod};

#[wasm_bindgen(typescript_custom_section)]
const TS_CLIENT: &'static str = r#"
/** How `MtlsClient` authenticates: a Bearer JWT, or an oAuth1 app key (SPEC section 4). */
export type MtlsClientAuth =
  | { bearer: string }
  | { oauth1: { consumerKey: string; consumerSecret: string; token?: string; tokenSecret?: string;
      /** Default `HMAC-SHA1`. */ signatureMethod?: "HMAC-SHA1" | "HMAC-SHA256" } };

export interface MtlsClientOptions {
  /** The gateway, for example `https://mtls.example.com` (a path prefix is kept). */
  baseUrl: string;
  auth: MtlsClientAuth;
}

/** Every failed call rejects with this: the gateway's error body, or a transport failure
 * (`status` 0, code `network_error`). */
export interface MtlsError extends Error {
  name: "MtlsError";
  status: number;
  code: string;
  requestId: string | null;
  details?: unknown;
}

export interface Certificate {
  id: number; name: string; displayName: string; siteId: string;
  status: "Available" | "UnAvailable" | "Expired"; expirationDate: string; deleted: boolean;
  subject: string; issuer: string; serialNumber: string; fingerprintSha256: string;
  keyAlgorithm: string; version: number; createdAt: string; updatedAt: string;
}

export interface SaveCertificatesResult {
  successfulySavedCertificates: Certificate[];
  failedSaveToVaultCertificates: unknown[];
}

/** A certificate for `createCertificates`: `p12` as bytes or base64. */
export interface NewCertificate {
  name: string; displayName?: string; p12: Uint8Array | number[] | string; password: string;
}

export interface Mapping {
  id: number; name: string; certificationId: number; serviceId: string; serviceName: string;
  url: string; enable: boolean; siteId: string; deleted: boolean; revision: number;
}

export interface NewMapping {
  certificationId: number; serviceId: string | number; url: string; name: string; enable: boolean;
  siteId?: string; deleted?: boolean;
}

export interface MappingCheck { serviceName: string; accountId: string; url: string; }

export interface ForwardRequest {
  /** The target URL (`LP-forward-url`). */
  url: string;
  /** Default `GET`. */
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** `LP-service-name`: a service name or code. */
  serviceName?: string;
  /** Sent to the target. Not `Authorization` (the client's own; use `authorizationOverride`)
   * nor `LP-*` (use the fields). */
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Sent to the target as `Authorization`. */
  authorizationOverride?: string;
  contentTypeOverride?: string;
  methodOverride?: string;
  /** Refuse (400 `certificate_not_found`) instead of sending without a client certificate. */
  stopIfCertificateNotFound?: boolean;
}

/** The target's answer, unchanged. Gateway failures (424 transport errors, authentication,
 * throttling, refused targets) reject with an `MtlsError` instead. */
export interface ForwardResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
  /** `LP-certificate-id`: the certificate presented, or null. */
  certificateId: string | null;
}

export class MtlsClient {
  constructor(options: MtlsClientOptions);
  listCertificates(accountId: string): Promise<Certificate[]>;
  getCertificate(accountId: string, id: number): Promise<Certificate>;
  createCertificates(accountId: string, certificates: NewCertificate[]): Promise<SaveCertificatesResult>;
  uploadCertificate(accountId: string, upload: { file: Uint8Array; name: string; password: string; displayName?: string }): Promise<SaveCertificatesResult>;
  replaceCertificateFile(accountId: string, upload: { file: Uint8Array; id: number; password: string; name?: string }): Promise<SaveCertificatesResult>;
  updateCertificate(accountId: string, id: number, update: { p12: Uint8Array | number[] | string; password: string; name?: string; displayName?: string }): Promise<Certificate>;
  deleteCertificate(accountId: string, id: number): Promise<Certificate>;
  /** The P12 tester: resolves to the report whether the file is usable (200) or not (422). */
  testP12(accountId: string, file: Uint8Array, password: string): Promise<P12Report>;
  createMappings(accountId: string, mappings: NewMapping[]): Promise<Mapping[]>;
  listMappings(accountId: string): Promise<Mapping[]>;
  getMapping(accountId: string, id: number): Promise<Mapping>;
  updateMapping(accountId: string, id: number, mapping: Partial<NewMapping>, options?: { ifMatch?: string | number }): Promise<Mapping>;
  deleteMapping(accountId: string, id: number, options?: { ifMatch?: string | number }): Promise<void>;
  /** `POST /mtls/mapping?v=1`: keys `CertificateMappingParamters{serviceName='S', accountId='A', url='U'}`. */
  checkMappingsV1(items: MappingCheck[]): Promise<Record<string, boolean>>;
  /** `POST /mtls/mapping?v=2`. */
  checkMappingsV2(items: MappingCheck[]): Promise<(MappingCheck & { doExist: boolean })[]>;
  checkServiceUrlMappings(accountId: string, items: { serviceName: string; url: string }[]): Promise<{ serviceName: string; url: string; exist: boolean }[]>;
  forward(accountId: string, request: ForwardRequest): Promise<ForwardResponse>;
  free(): void;
}
"#;

/// The API client; cheap to clone internally so each call's future owns what it needs.
#[wasm_bindgen(skip_typescript)]
pub struct MtlsClient {
    inner: Rc<Inner>,
}

struct Inner {
    /// The base URL without a trailing slash.
    base_url: String,
    auth: Auth,
}

enum Auth {
    Bearer(String),
    OAuth1(OAuth1Credentials, OAuth1SignatureMethod),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClientOptions {
    base_url: String,
    auth: AuthOptions,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthOptions {
    bearer: Option<String>,
    oauth1: Option<OAuth1Options>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OAuth1Options {
    consumer_key: String,
    consumer_secret: String,
    token: Option<String>,
    token_secret: Option<String>,
    signature_method: Option<String>,
}

/// A request body.
enum Body {
    None,
    Json(String),
    /// A `FormData` object; `fetch` sets the multipart boundary.
    Form(JsValue),
    Bytes(Uint8Array),
}

/// What came back.
struct Reply {
    status: u16,
    headers: Object,
    bytes: Vec<u8>,
    request_id: Option<String>,
}

#[allow(
    unreachable_pub,
    reason = "wasm-bindgen exports only `pub` items; JS is the caller"
)]
#[wasm_bindgen]
impl MtlsClient {
    /// `new MtlsClient({ baseUrl, auth })`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<MtlsClient, JsValue> {
        Self::from_options(options).map_err(JsValue::from)
    }

    /// `GET /mtls/account/{a}/certificates`.
    #[wasm_bindgen(js_name = listCertificates)]
    pub fn list_certificates(&self, account_id: String) -> Promise {
        let path = format!("/mtls/account/{}/certificates", segment(&account_id));
        self.json_call("GET", path, Body::None)
    }

    /// `GET /mtls/account/{a}/certificates/{id}`.
    #[wasm_bindgen(js_name = getCertificate)]
    pub fn get_certificate(&self, account_id: String, id: JsValue) -> Promise {
        self.with_id(id, "id", |this, id| {
            let path = format!("/mtls/account/{}/certificates/{id}", segment(&account_id));
            this.json_call("GET", path, Body::None)
        })
    }

    /// `POST /mtls/account/{a}/certificates` (p12 bytes are sent as base64).
    #[wasm_bindgen(js_name = createCertificates)]
    pub fn create_certificates(&self, account_id: String, certificates: JsValue) -> Promise {
        let body = match certificates.dyn_into::<Array>() {
            Ok(items) => items
                .iter()
                .map(|item| with_p12_as_base64(&item))
                .collect::<Result<Array, _>>(),
            Err(_) => Err(invalid(
                "certificates",
                "an array of { name, p12, password }",
            )),
        };
        match body.and_then(|items| json(&items.into())) {
            Ok(body) => {
                let path = format!("/mtls/account/{}/certificates", segment(&account_id));
                self.json_call("POST", path, body)
            }
            Err(error) => Promise::reject(&error.into()),
        }
    }

    /// `POST /mtls/account/{a}/certificates/by-file` (multipart).
    #[wasm_bindgen(js_name = uploadCertificate)]
    pub fn upload_certificate(&self, account_id: String, upload: JsValue) -> Promise {
        let path = format!(
            "/mtls/account/{}/certificates/by-file",
            segment(&account_id)
        );
        match by_file_form(&upload, &["name", "password", "displayName"]) {
            Ok(form) => self.json_call("POST", path, form),
            Err(error) => Promise::reject(&error.into()),
        }
    }

    /// `PUT /mtls/account/{a}/certificates/by-file` (multipart): rotation keeping the id.
    #[wasm_bindgen(js_name = replaceCertificateFile)]
    pub fn replace_certificate_file(&self, account_id: String, upload: JsValue) -> Promise {
        let path = format!(
            "/mtls/account/{}/certificates/by-file",
            segment(&account_id)
        );
        match by_file_form(&upload, &["id", "password", "name"]) {
            Ok(form) => self.json_call("PUT", path, form),
            Err(error) => Promise::reject(&error.into()),
        }
    }

    /// `PUT /mtls/account/{a}/certificates/{id}`.
    #[wasm_bindgen(js_name = updateCertificate)]
    pub fn update_certificate(&self, account_id: String, id: JsValue, update: JsValue) -> Promise {
        self.with_id(id, "id", |this, id| {
            match with_p12_as_base64(&update).and_then(|body| json(&body)) {
                Ok(body) => {
                    let path = format!("/mtls/account/{}/certificates/{id}", segment(&account_id));
                    this.json_call("PUT", path, body)
                }
                Err(error) => Promise::reject(&error.into()),
            }
        })
    }

    /// `DELETE /mtls/account/{a}/certificates/{id}`.
    #[wasm_bindgen(js_name = deleteCertificate)]
    pub fn delete_certificate(&self, account_id: String, id: JsValue) -> Promise {
        self.with_id(id, "id", |this, id| {
            let path = format!("/mtls/account/{}/certificates/{id}", segment(&account_id));
            this.json_call("DELETE", path, Body::None)
        })
    }

    /// `POST /mtls/account/{a}/p12-test/multipart`: the report on 200 and on 422.
    #[wasm_bindgen(js_name = testP12)]
    pub fn test_p12(&self, account_id: String, file: JsValue, password: JsValue) -> Promise {
        let form = (|| {
            let file = file
                .dyn_into::<Uint8Array>()
                .map_err(|_| invalid("file", "a Uint8Array"))?;
            let password = password
                .as_string()
                .ok_or_else(|| invalid("password", "a string"))?;
            let form = new_form_data()?;
            append_blob(&form, "file", &file)?;
            append(&form, "password", &password.into())?;
            Ok::<_, BindingError>(Body::Form(form))
        })();
        let form = match form {
            Ok(form) => form,
            Err(error) => return Promise::reject(&error.into()),
        };
        let inner = self.inner.clone();
        let path = format!("/mtls/account/{}/p12-test/multipart", segment(&account_id));
        future_to_promise(async move {
            let reply = inner.send("POST", &path, form, &[accept_json()]).await?;
            if matches!(reply.status, 200 | 422) {
                let report = parse_json(&reply.bytes);
                if report
                    .as_ref()
                    .is_some_and(|r| Reflect::has(r, &"usable".into()).unwrap_or(false))
                {
                    return Ok(report.unwrap_or(JsValue::NULL));
                }
            }
            Err(reply.into_error())
        })
    }

    /// `POST /api/account/{a}/configuration/ac-common/mtls?v=3.0`.
    #[wasm_bindgen(js_name = createMappings)]
    pub fn create_mappings(&self, account_id: String, mappings: JsValue) -> Promise {
        match json(&mappings) {
            Ok(body) => self.json_call(
                "POST",
                format!("{}?v=3.0", mappings_path(&account_id)),
                body,
            ),
            Err(error) => Promise::reject(&error.into()),
        }
    }

    /// `GET /api/account/{a}/configuration/ac-common/mtls`.
    #[wasm_bindgen(js_name = listMappings)]
    pub fn list_mappings(&self, account_id: String) -> Promise {
        self.json_call("GET", mappings_path(&account_id), Body::None)
    }

    /// `GET /api/account/{a}/configuration/ac-common/mtls/{id}`.
    #[wasm_bindgen(js_name = getMapping)]
    pub fn get_mapping(&self, account_id: String, id: JsValue) -> Promise {
        self.with_id(id, "id", |this, id| {
            this.json_call(
                "GET",
                format!("{}/{id}", mappings_path(&account_id)),
                Body::None,
            )
        })
    }

    /// `PUT /api/account/{a}/configuration/ac-common/mtls/{id}` (`If-Match` optional).
    #[wasm_bindgen(js_name = updateMapping)]
    pub fn update_mapping(
        &self,
        account_id: String,
        id: JsValue,
        mapping: JsValue,
        options: JsValue,
    ) -> Promise {
        self.with_id(id, "id", |this, id| {
            match (json(&mapping), if_match(&options)) {
                (Ok(body), Ok(headers)) => {
                    let path = format!("{}/{id}", mappings_path(&account_id));
                    this.call("PUT", path, body, headers, false)
                }
                (Err(error), _) | (_, Err(error)) => Promise::reject(&error.into()),
            }
        })
    }

    /// `DELETE /api/account/{a}/configuration/ac-common/mtls/{id}` (`If-Match` optional).
    #[wasm_bindgen(js_name = deleteMapping)]
    pub fn delete_mapping(&self, account_id: String, id: JsValue, options: JsValue) -> Promise {
        self.with_id(id, "id", |this, id| match if_match(&options) {
            Ok(headers) => {
                let path = format!("{}/{id}", mappings_path(&account_id));
                this.call("DELETE", path, Body::None, headers, true)
            }
            Err(error) => Promise::reject(&error.into()),
        })
    }

    /// `POST /mtls/mapping?v=1`.
    #[wasm_bindgen(js_name = checkMappingsV1)]
    pub fn check_mappings_v1(&self, items: JsValue) -> Promise {
        match json(&items) {
            Ok(body) => self.json_call("POST", "/mtls/mapping?v=1".into(), body),
            Err(error) => Promise::reject(&error.into()),
        }
    }

    /// `POST /mtls/mapping?v=2`.
    #[wasm_bindgen(js_name = checkMappingsV2)]
    pub fn check_mappings_v2(&self, items: JsValue) -> Promise {
        match json(&items) {
            Ok(body) => self.json_call("POST", "/mtls/mapping?v=2".into(), body),
            Err(error) => Promise::reject(&error.into()),
        }
    }

    /// `POST /api/account/{a}/checks/serviceUrlMappings`.
    #[wasm_bindgen(js_name = checkServiceUrlMappings)]
    pub fn check_service_url_mappings(&self, account_id: String, items: JsValue) -> Promise {
        match json(&items) {
            Ok(body) => {
                let path = format!(
                    "/api/account/{}/checks/serviceUrlMappings",
                    segment(&account_id)
                );
                self.json_call("POST", path, body)
            }
            Err(error) => Promise::reject(&error.into()),
        }
    }

    /// `{METHOD} /mtls/account/{a}` with the `LP-*` headers of SPEC section 6.
    pub fn forward(&self, account_id: String, request: JsValue) -> Promise {
        let prepared = forward_request(&request);
        let (method, body, headers) = match prepared {
            Ok(prepared) => prepared,
            Err(error) => return Promise::reject(&error.into()),
        };
        let inner = self.inner.clone();
        let path = format!("/mtls/account/{}", segment(&account_id));
        future_to_promise(async move {
            let reply = inner.send(&method, &path, body, &headers).await?;
            if reply.is_gateway_error() {
                return Err(reply.into_error());
            }
            let out = Object::new();
            let certificate_id = header(&reply.headers, "lp-certificate-id");
            set(&out, "status", &JsValue::from(reply.status))?;
            set(&out, "headers", &reply.headers)?;
            set(&out, "body", &Uint8Array::from(reply.bytes.as_slice()))?;
            set(
                &out,
                "certificateId",
                &certificate_id.map_or(JsValue::NULL, JsValue::from),
            )?;
            Ok(out.into())
        })
    }
}

// === impl MtlsClient: plumbing ===

impl MtlsClient {
    fn from_options(options: JsValue) -> Result<MtlsClient, BindingError> {
        const EXPECTED: &str = "{ baseUrl: string, auth: { bearer: string } | { oauth1: { consumerKey, consumerSecret, token?, tokenSecret? } } }";
        let options: ClientOptions =
            serde_wasm_bindgen::from_value(options).map_err(|_| BindingError::InvalidArgument {
                argument: "options",
                expected: EXPECTED,
            })?;
        let base = url::Url::parse(&options.base_url).ok().filter(|u| {
            matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.query().is_none()
        });
        let Some(base) = base else {
            return Err(BindingError::InvalidArgument {
                argument: "options.baseUrl",
                expected: "an absolute http(s) URL without a query",
            });
        };
        let auth = match (options.auth.bearer, options.auth.oauth1) {
            (Some(token), None) if !token.is_empty() => Auth::Bearer(token),
            (None, Some(o)) if !o.consumer_key.is_empty() => {
                let method = match o.signature_method.as_deref() {
                    None | Some("HMAC-SHA1") => OAuth1SignatureMethod::HmacSha1,
                    Some("HMAC-SHA256") => OAuth1SignatureMethod::HmacSha256,
                    Some(_) => {
                        return Err(BindingError::InvalidArgument {
                            argument: "options.auth.oauth1.signatureMethod",
                            expected: "\"HMAC-SHA1\" or \"HMAC-SHA256\"",
                        });
                    }
                };
                let credentials = OAuth1Credentials {
                    consumer_key: o.consumer_key,
                    consumer_secret: o.consumer_secret,
                    token: o.token.filter(|t| !t.is_empty()),
                    token_secret: o.token_secret,
                };
                Auth::OAuth1(credentials, method)
            }
            _ => {
                return Err(BindingError::InvalidArgument {
                    argument: "options.auth",
                    expected: "exactly one of { bearer } and { oauth1 }, not empty",
                });
            }
        };
        let base_url = base.as_str().trim_end_matches('/').to_owned();
        Ok(MtlsClient {
            inner: Rc::new(Inner { base_url, auth }),
        })
    }

    /// A call whose successful answer is JSON.
    fn json_call(&self, method: &'static str, path: String, body: Body) -> Promise {
        self.call(method, path, body, Vec::new(), false)
    }

    fn call(
        &self,
        method: &'static str,
        path: String,
        body: Body,
        headers: Vec<(String, String)>,
        empty_ok: bool,
    ) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let headers = [vec![accept_json()], headers].concat();
            let reply = inner.send(method, &path, body, &headers).await?;
            if !(200..300).contains(&reply.status) {
                return Err(reply.into_error());
            }
            match parse_json(&reply.bytes) {
                Some(value) => Ok(value),
                None if empty_ok || reply.bytes.is_empty() => Ok(JsValue::UNDEFINED),
                None => Err(mtls_error(
                    reply.status,
                    "unexpected_response",
                    "the gateway answered with a body that is not JSON",
                    reply.request_id.as_deref(),
                    None,
                )),
            }
        })
    }

    /// Runs `call` with an id that is a non-negative safe integer (or its decimal string).
    fn with_id(
        &self,
        id: JsValue,
        argument: &'static str,
        call: impl FnOnce(&Self, String) -> Promise,
    ) -> Promise {
        let id = id
            .as_f64()
            .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= 9_007_199_254_740_991.0)
            .map(|n| format!("{}", n as u64))
            .or_else(|| {
                id.as_string()
                    .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            });
        match id {
            Some(id) => call(self, id),
            None => Promise::reject(&invalid(argument, "a non-negative integer").into()),
        }
    }
}

impl Inner {
    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Body,
        extra_headers: &[(String, String)],
    ) -> Result<Reply, JsValue> {
        let url = format!("{}{path}", self.base_url);
        let headers = Object::new();
        let form = form_parameters(&body, extra_headers);
        set(
            &headers,
            "authorization",
            &self.authorization(method, &url, &form)?.into(),
        )?;
        for (name, value) in extra_headers {
            set(&headers, name, &value.into())?;
        }
        let init = Object::new();
        set(&init, "method", &method.into())?;
        match body {
            Body::None => {}
            Body::Json(text) => {
                set(&headers, "content-type", &"application/json".into())?;
                set(&init, "body", &text.into())?;
            }
            Body::Form(form) => set(&init, "body", &form)?,
            Body::Bytes(bytes) => set(&init, "body", &bytes)?,
        }
        set(&init, "headers", &headers)?;

        let global = js_sys::global();
        let fetch = Reflect::get(&global, &"fetch".into())?
            .dyn_into::<Function>()
            .map_err(|_| {
                mtls_error(
                    0,
                    "network_error",
                    "this platform has no fetch()",
                    None,
                    None,
                )
            })?;
        let response = JsFuture::from(Promise::from(fetch.call2(&global, &url.into(), &init)?))
            .await
            .map_err(|error| {
                let reason = transport_reason(&error);
                let message = format!("the gateway at {} did not answer: {reason}", self.base_url);
                mtls_error(0, "network_error", &message, None, None)
            })?;
        let status = Reflect::get(&response, &"status".into())?
            .as_f64()
            .unwrap_or(0.0) as u16;
        let headers = headers_object(&Reflect::get(&response, &"headers".into())?)?;
        let buffer = Reflect::get(&response, &"arrayBuffer".into())?
            .dyn_into::<Function>()?
            .call0(&response)?;
        let buffer = JsFuture::from(Promise::from(buffer)).await?;
        let bytes = Uint8Array::new(&buffer).to_vec();
        let request_id = header(&headers, "x-request-id");
        Ok(Reply {
            status,
            headers,
            bytes,
            request_id,
        })
    }

    /// The `Authorization` value; an oAuth1 signature covers `form`, the parameters of a
    /// form-encoded body (the gateway checks them too).
    fn authorization(
        &self,
        method: &str,
        url: &str,
        form: &[(String, String)],
    ) -> Result<String, JsValue> {
        match &self.auth {
            Auth::Bearer(token) => Ok(format!("Bearer {token}")),
            Auth::OAuth1(credentials, signature_method) => {
                let url = url::Url::parse(url)
                    .map_err(|_| invalid("accountId", "a value that makes a valid URL"))?;
                let mut nonce = [0_u8; 16];
                getrandom::fill(&mut nonce).map_err(|_| {
                    mtls_error(
                        0,
                        "internal_error",
                        "no random numbers for the oAuth1 nonce",
                        None,
                        None,
                    )
                })?;
                let timestamp = (js_sys::Date::now() / 1000.0).floor() as u64;
                Ok(crate::oauth1_authorization(
                    method,
                    &url,
                    form,
                    credentials,
                    *signature_method,
                    &hex::encode(nonce),
                    timestamp,
                ))
            }
        }
    }
}

impl Reply {
    /// Whether a forwarded call failed at the gateway rather than at the target: a transport
    /// failure (424 with `LP-error-from-transport`), the gateway's authentication challenge, or
    /// the gateway's JSON error body (its `requestId` equals the response's `X-Request-Id`; a
    /// target never echoes the id the gateway made up for this request).
    fn is_gateway_error(&self) -> bool {
        if self.status == 424 && header(&self.headers, "lp-error-from-transport").is_some() {
            return true;
        }
        if self.status == 401
            && header(&self.headers, "www-authenticate").is_some_and(|v| v.contains("mtls-gateway"))
        {
            return true;
        }
        self.status >= 400
            && parse_json(&self.bytes).is_some_and(|body| {
                let id = Reflect::get(&body, &"requestId".into())
                    .ok()
                    .and_then(|v| v.as_string());
                let has_error = Reflect::get(&body, &"error".into()).is_ok_and(|e| e.is_object());
                has_error && id.is_some() && id == self.request_id
            })
    }

    /// The `MtlsError` for this failed reply, from the SPEC section 5 error body when there is one.
    fn into_error(self) -> JsValue {
        let body = parse_json(&self.bytes);
        let error = body
            .as_ref()
            .and_then(|b| Reflect::get(b, &"error".into()).ok())
            .filter(JsValue::is_object);
        let field = |name: &str| {
            error
                .as_ref()
                .and_then(|e| Reflect::get(e, &name.into()).ok())
                .and_then(|v| v.as_string())
        };
        let code = field("code").unwrap_or_else(|| format!("http_{}", self.status));
        let message =
            field("message").unwrap_or_else(|| format!("the gateway answered {}", self.status));
        let details = error
            .as_ref()
            .and_then(|e| Reflect::get(e, &"details".into()).ok())
            .filter(|d| !d.is_undefined());
        let request_id = body
            .as_ref()
            .and_then(|b| Reflect::get(b, &"requestId".into()).ok())
            .and_then(|v| v.as_string())
            .or(self.request_id);
        mtls_error(self.status, &code, &message, request_id.as_deref(), details)
    }
}

/// The parameters of an `application/x-www-form-urlencoded` body (a forward's, whose type the
/// caller set in `headers`), which an oAuth1 signature covers (RFC 5849 section 3.4.1.3.1); none
/// for any other body.
fn form_parameters(body: &Body, headers: &[(String, String)]) -> Vec<(String, String)> {
    let is_form = headers.iter().any(|(name, value)| {
        name == "content-type"
            && value.split(';').next().is_some_and(|mime| {
                mime.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
    });
    match body {
        Body::Bytes(bytes) if is_form => url::form_urlencoded::parse(&bytes.to_vec())
            .into_owned()
            .collect(),
        _ => Vec::new(),
    }
}

/// The platform's words for a failed `fetch`: its message and its cause's (Node puts the socket
/// error, for example `ECONNREFUSED`, in `cause`). Neither contains request data.
fn transport_reason(error: &JsValue) -> String {
    let text = |value: &JsValue, name: &str| {
        Reflect::get(value, &name.into()).ok().and_then(|v| v.as_string())
    };
    let message = text(error, "message").unwrap_or_else(|| "fetch failed".into());
    let cause = Reflect::get(error, &"cause".into()).ok().filter(JsValue::is_object);
    match cause.and_then(|c| text(&c, "code").or_else(|| text(&c, "message"))) {
        Some(cause) => format!("{message} ({cause})"),
        None => message,
    }
}

fn invalid(argument: &'static str, expected: &'static str) -> BindingError {
    BindingError::InvalidArgument { argument, expected }
}

fn set(object: &Object, name: &str, value: &JsValue) -> Result<(), JsValue> {
    Reflect::set(object, &name.into(), value).map(|_| ())
}

/// Sent by every call whose answer is the gateway's JSON. A forward sends only the caller's
/// headers: the target negotiates with what the caller asked for.
fn accept_json() -> (String, String) {
    ("accept".into(), "application/json".into())
}

/// The API paths of mappings.
fn mappings_path(account_id: &str) -> String {
    format!(
        "/api/account/{}/configuration/ac-common/mtls",
        segment(account_id)
    )
}

/// A path segment, percent-encoded so an account id cannot change the path.
fn segment(value: &str) -> String {
    crate::oauth1::percent_encode(value)
}

fn json(value: &JsValue) -> Result<Body, BindingError> {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .map(Body::Json)
        .ok_or(invalid("body", "a JSON-serialisable value"))
}

fn parse_json(bytes: &[u8]) -> Option<JsValue> {
    let text = std::str::from_utf8(bytes).ok()?;
    js_sys::JSON::parse(text).ok()
}

/// A shallow copy of `{ p12, ... }` with `p12` as base64 when it was a `Uint8Array` (JSON would
/// otherwise turn the bytes into an object of indices).
fn with_p12_as_base64(item: &JsValue) -> Result<JsValue, BindingError> {
    if !item.is_object() {
        return Err(invalid(
            "certificates",
            "objects like { name, p12, password }",
        ));
    }
    let copy = Object::assign(&Object::new(), item.unchecked_ref::<Object>());
    let p12 = Reflect::get(&copy, &"p12".into()).unwrap_or(JsValue::UNDEFINED);
    if let Some(bytes) = p12.dyn_ref::<Uint8Array>() {
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes.to_vec());
        Reflect::set(&copy, &"p12".into(), &encoded.into())
            .map_err(|_| invalid("p12", "a Uint8Array, a byte array or base64"))?;
    }
    Ok(copy.into())
}

/// The multipart body of the by-file endpoints: `file` and the `certificate` JSON made of the
/// `fields` present in `upload`.
fn by_file_form(upload: &JsValue, fields: &[&str]) -> Result<Body, BindingError> {
    const EXPECTED: &str = "{ file: Uint8Array, password: string, ... }";
    if !upload.is_object() {
        return Err(invalid("upload", EXPECTED));
    }
    let file = Reflect::get(upload, &"file".into())
        .ok()
        .and_then(|f| f.dyn_into::<Uint8Array>().ok())
        .ok_or(invalid("upload.file", "a Uint8Array"))?;
    let certificate = Object::new();
    for field in fields {
        let value = Reflect::get(upload, &(*field).into()).unwrap_or(JsValue::UNDEFINED);
        if !value.is_undefined() {
            Reflect::set(&certificate, &(*field).into(), &value)
                .map_err(|_| invalid("upload", EXPECTED))?;
        }
    }
    let certificate =
        js_sys::JSON::stringify(&certificate).map_err(|_| invalid("upload", EXPECTED))?;
    let form = new_form_data()?;
    append_blob(&form, "file", &file)?;
    append(&form, "certificate", &certificate.into())?;
    Ok(Body::Form(form))
}

fn new_form_data() -> Result<JsValue, BindingError> {
    construct("FormData", &Array::new())
}

fn construct(name: &str, arguments: &Array) -> Result<JsValue, BindingError> {
    let missing = || BindingError::Conversion(format!("this platform has no {name}"));
    let constructor = Reflect::get(&js_sys::global(), &name.into())
        .ok()
        .and_then(|c| c.dyn_into::<Function>().ok())
        .ok_or_else(missing)?;
    Reflect::construct(&constructor, arguments).map_err(|_| missing())
}

fn append(form: &JsValue, name: &str, value: &JsValue) -> Result<(), BindingError> {
    let call = || -> Result<(), JsValue> {
        let append = Reflect::get(form, &"append".into())?.dyn_into::<Function>()?;
        append.call2(form, &name.into(), value).map(|_| ())
    };
    call().map_err(|_| BindingError::Conversion("FormData.append failed".into()))
}

/// Appends `bytes` as a file part named `client.p12` (the gateway reads the part, not the name).
fn append_blob(form: &JsValue, name: &str, bytes: &Uint8Array) -> Result<(), BindingError> {
    let options = Object::new();
    let _ = Reflect::set(&options, &"type".into(), &"application/x-pkcs12".into());
    let blob = construct("Blob", &Array::of2(&Array::of1(bytes), &options))?;
    let call = || -> Result<(), JsValue> {
        let append = Reflect::get(form, &"append".into())?.dyn_into::<Function>()?;
        append
            .call3(form, &name.into(), &blob, &"client.p12".into())
            .map(|_| ())
    };
    call().map_err(|_| BindingError::Conversion("FormData.append failed".into()))
}

/// `Headers` to a plain object of lower-case names.
fn headers_object(headers: &JsValue) -> Result<Object, JsValue> {
    let out = Object::new();
    let entries = Reflect::get(headers, &"entries".into())?
        .dyn_into::<Function>()?
        .call0(headers)?;
    let pairs = js_sys::Array::from(&entries);
    for pair in pairs.iter() {
        let pair = Array::from(&pair);
        set(
            &out,
            &pair
                .get(0)
                .as_string()
                .unwrap_or_default()
                .to_ascii_lowercase(),
            &pair.get(1),
        )?;
    }
    Ok(out)
}

fn header(headers: &Object, name: &str) -> Option<String> {
    Reflect::get(headers, &name.into())
        .ok()
        .and_then(|v| v.as_string())
}

fn if_match(options: &JsValue) -> Result<Vec<(String, String)>, BindingError> {
    if options.is_undefined() || options.is_null() {
        return Ok(Vec::new());
    }
    let value = Reflect::get(options, &"ifMatch".into()).unwrap_or(JsValue::UNDEFINED);
    if value.is_undefined() || value.is_null() {
        return Ok(Vec::new());
    }
    let text = value
        .as_string()
        .or_else(|| {
            value
                .as_f64()
                .filter(|n| n.fract() == 0.0)
                .map(|n| format!("{}", n as i64))
        })
        .ok_or(invalid(
            "options.ifMatch",
            "a string or an integer revision",
        ))?;
    Ok(vec![("if-match".into(), text)])
}

/// Method, body and extra headers of a forwarded call.
type ForwardParts = (String, Body, Vec<(String, String)>);

fn forward_request(request: &JsValue) -> Result<ForwardParts, BindingError> {
    const EXPECTED: &str = "{ url: string, method?, serviceName?, headers?, body?, ... }";
    if !request.is_object() {
        return Err(invalid("request", EXPECTED));
    }
    let get = |name: &str| Reflect::get(request, &name.into()).unwrap_or(JsValue::UNDEFINED);
    let text = |name: &'static str| -> Result<Option<String>, BindingError> {
        let value = get(name);
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        value.as_string().map(Some).ok_or(invalid(name, "a string"))
    };
    let url = text("url")?.ok_or(invalid("request.url", "the target URL"))?;
    let method = text("method")?
        .unwrap_or_else(|| "GET".into())
        .to_ascii_uppercase();
    if !matches!(method.as_str(), "GET" | "POST" | "PUT" | "PATCH" | "DELETE") {
        return Err(invalid("request.method", "GET, POST, PUT, PATCH or DELETE"));
    }
    let mut headers = Vec::new();
    let extra = get("headers");
    if extra.is_object() {
        let entries = Object::entries(extra.unchecked_ref::<Object>());
        for entry in entries.iter() {
            let entry = Array::from(&entry);
            let (Some(name), Some(value)) = (entry.get(0).as_string(), entry.get(1).as_string())
            else {
                return Err(invalid("request.headers", "an object of string values"));
            };
            let name = name.to_ascii_lowercase();
            // Either would silently replace what the client sends for the caller: its
            // credential, or what the request's own fields ask the gateway for.
            if name == "authorization" || name.starts_with("lp-") {
                return Err(invalid(
                    "request.headers",
                    "headers other than Authorization (use authorizationOverride) and LP-* (use the request fields)",
                ));
            }
            headers.push((name, value));
        }
    }
    headers.push(("lp-forward-url".into(), url));
    for (field, header) in [
        ("serviceName", "lp-service-name"),
        ("authorizationOverride", "lp-authorization-override"),
        ("contentTypeOverride", "lp-content-type-override"),
        ("methodOverride", "lp-method-override"),
    ] {
        if let Some(value) = text(field)? {
            headers.push((header.into(), value));
        }
    }
    if get("stopIfCertificateNotFound").as_bool() == Some(true) {
        headers.push(("lp-stop-if-certificate-not-found".into(), "true".into()));
    }
    let body = get("body");
    let body = if body.is_undefined() || body.is_null() {
        Body::None
    } else if let Some(text) = body.as_string() {
        Body::Bytes(Uint8Array::from(text.as_bytes()))
    } else {
        Body::Bytes(
            body.dyn_into::<Uint8Array>()
                .map_err(|_| invalid("request.body", "a Uint8Array or a string"))?,
        )
    };
    Ok((method, body, headers))
}
