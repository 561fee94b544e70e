//! Real mTLS targets and an in-process gateway for the forwarding tests.
//!
//! - [`Pki`]: a test CA, a server certificate for 127.0.0.1/localhost, client certificates (and
//!   their P12 files) made with the `openssl` CLI in a temporary directory; a second, untrusted
//!   CA for the failure cases.
//! - [`EchoTarget`]: a tokio-rustls + hyper HTTPS server on 127.0.0.1 that requires, accepts or
//!   never asks for a client certificate (listing the acceptable issuers the test gives) and
//!   answers with what it received: method, path, headers, body length and SHA-256, and the
//!   SHA-256 of the client certificate presented.
//! - [`NginxTarget`]: Debian nginx with `ssl_verify_client on`, in its own temp dir (config, pid,
//!   logs, port), answering with the client certificate's subject and fingerprint.
//! - [`TestGateway`]: the production routes and middleware over the memory store, in a thread,
//!   with a configuration the test chooses (the binary's configuration parsing is not needed).
#![allow(dead_code, reason = "each test binary uses a different part of the harness")]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test harness: failing loudly is right")]

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{middleware::from_fn, web, App, HttpServer};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use mtls_server::config::Config;
use mtls_server::state::AppState;
use mtls_server::{http, store, throttle};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

/// A fresh temporary directory removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(label: &str) -> Self {
        let path = std::env::temp_dir().join(format!("mtls-fwd-{label}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("run openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A client certificate made for the tests.
pub struct ClientCert {
    /// PKCS#12 bytes (OpenSSL 3 default profile).
    pub p12: Vec<u8>,
    /// Its password.
    pub password: String,
    /// SHA-256 of the leaf DER, lower-case hex.
    pub fingerprint: String,
    /// Certificate PEM path and key PEM path.
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
}

/// Test PKI under a temp dir.
pub struct Pki {
    pub dir: Scratch,
    /// CA that signs server and client certificates.
    pub ca_pem: PathBuf,
    /// Server certificate for 127.0.0.1 and localhost, and its key.
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// A server certificate from a CA nobody trusts.
    pub rogue_server_cert: PathBuf,
    pub rogue_server_key: PathBuf,
}

impl Pki {
    pub fn new() -> Self {
        let dir = Scratch::new("pki");
        let d = dir.path();
        for (name, subject) in [("ca", "/CN=Forward Test CA"), ("rogue-ca", "/CN=Rogue CA")] {
            openssl(d, &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", &format!("{name}.key")]);
            openssl(d, &[
                "req", "-x509", "-new", "-key", &format!("{name}.key"), "-subj", subject, "-days", "30",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-out", &format!("{name}.pem"),
            ]);
        }
        let pki = Self {
            ca_pem: d.join("ca.pem"),
            server_cert: d.join("server.pem"),
            server_key: d.join("server.key"),
            rogue_server_cert: d.join("rogue-server.pem"),
            rogue_server_key: d.join("rogue-server.key"),
            dir,
        };
        pki.issue("server", "ca", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth");
        pki.issue("rogue-server", "rogue-ca", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth");
        pki
    }

    fn issue(&self, name: &str, ca: &str, subject: &str, extensions: &str) {
        let d = self.dir.path();
        std::fs::write(d.join(format!("{name}.ext")), extensions).unwrap();
        openssl(d, &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", &format!("{name}.key")]);
        openssl(d, &["req", "-new", "-key", &format!("{name}.key"), "-subj", subject, "-out", &format!("{name}.csr")]);
        openssl(d, &[
            "x509", "-req", "-in", &format!("{name}.csr"), "-CA", &format!("{ca}.pem"), "-CAkey", &format!("{ca}.key"),
            "-CAcreateserial", "-days", "30", "-extfile", &format!("{name}.ext"), "-out", &format!("{name}.pem"),
        ]);
    }

    /// The rogue CA's certificate (PEM), which the gateway does not trust.
    pub fn rogue_ca_pem(&self) -> PathBuf {
        self.dir.path().join("rogue-ca.pem")
    }

    /// A server certificate and key from the test CA valid only for `dns_name` (not for
    /// 127.0.0.1): a target serving it is reached under a name it does not hold.
    pub fn server_for_name(&self, dns_name: &str) -> (PathBuf, PathBuf) {
        let name = format!("server-{dns_name}");
        self.issue(&name, "ca", &format!("/CN={dns_name}"), &format!("subjectAltName=DNS:{dns_name}\nextendedKeyUsage=serverAuth"));
        let d = self.dir.path();
        (d.join(format!("{name}.pem")), d.join(format!("{name}.key")))
    }

    /// A server certificate and key from the test CA for 127.0.0.1 that expired yesterday
    /// (python cryptography: the openssl CLI here cannot back-date a certificate).
    pub fn expired_server(&self) -> (PathBuf, PathBuf) {
        let script = r#"
import datetime, ipaddress, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
d = sys.argv[1]
ca_key = serialization.load_pem_private_key(open(d + "/ca.key", "rb").read(), None)
ca = x509.load_pem_x509_certificate(open(d + "/ca.pem", "rb").read())
key = ec.generate_private_key(ec.SECP256R1())
now = datetime.datetime.now(datetime.timezone.utc)
cert = (
    x509.CertificateBuilder()
    .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
    .issuer_name(ca.subject)
    .public_key(key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(now - datetime.timedelta(days=10))
    .not_valid_after(now - datetime.timedelta(days=1))
    .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
    .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
    .sign(ca_key, hashes.SHA256())
)
open(d + "/expired-server.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open(d + "/expired-server.key", "wb").write(key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
"#;
        let d = self.dir.path();
        let out = Command::new("python3").arg("-c").arg(script).arg(d).output().expect("run python3");
        assert!(out.status.success(), "expired server certificate: {}", String::from_utf8_lossy(&out.stderr));
        (d.join("expired-server.pem"), d.join("expired-server.key"))
    }

    /// A client certificate signed by the test CA (or the rogue one), with its P12.
    pub fn client(&self, name: &str, rogue: bool) -> ClientCert {
        let ca = if rogue { "rogue-ca" } else { "ca" };
        self.issue(name, ca, &format!("/CN={name}/O=Forward Tests"), "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature");
        let d = self.dir.path();
        let password = "p12-pass-word".to_owned();
        openssl(d, &[
            "pkcs12", "-export", "-inkey", &format!("{name}.key"), "-in", &format!("{name}.pem"),
            "-passout", &format!("pass:{password}"), "-out", &format!("{name}.p12"),
        ]);
        let cert_pem = d.join(format!("{name}.pem"));
        ClientCert {
            p12: std::fs::read(d.join(format!("{name}.p12"))).unwrap(),
            password,
            fingerprint: fingerprint_of_pem(&cert_pem),
            cert_pem,
            key_pem: d.join(format!("{name}.key")),
        }
    }
}

/// SHA-256 of the first certificate in a PEM file, lower-case hex.
pub fn fingerprint_of_pem(path: &Path) -> String {
    let der = CertificateDer::from_pem_file(path).unwrap();
    hex::encode(Sha256::digest(der.as_ref()))
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Installs ring as the process default (the test's own reqwest client needs one).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A plain HTTP client for talking to the gateway.
pub fn client() -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

// === EchoTarget ===

/// How the echo target treats client certificates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// A certificate from the test CA is required.
    Required,
    /// A certificate is checked when presented, and optional.
    Optional,
    /// No CertificateRequest is sent.
    NotRequested,
}

/// A rustls HTTPS target on 127.0.0.1 reporting what reached it.
pub struct EchoTarget {
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EchoTarget {
    /// Serves with `cert`/`key`, trusting client certificates of `client_ca`.
    pub fn start(cert: &Path, key: &Path, client_ca: &Path, auth: ClientAuth) -> Self {
        Self::start_with_issuers(cert, key, client_ca, auth, None)
    }

    /// Like [`EchoTarget::start`]; with `acceptable_issuers` (CA certificate PEM files), the
    /// CertificateRequest lists their subjects instead of `client_ca`'s (which alone is still
    /// trusted).
    pub fn start_with_issuers(
        cert: &Path,
        key: &Path,
        client_ca: &Path,
        auth: ClientAuth,
        acceptable_issuers: Option<&[&Path]>,
    ) -> Self {
        Self::start_with_versions(cert, key, client_ca, auth, acceptable_issuers, rustls::DEFAULT_VERSIONS)
    }

    /// Like [`EchoTarget::start_with_issuers`], speaking only the TLS `versions` given (TLS 1.2
    /// alone: the client certificate is refused inside the handshake, not after it).
    pub fn start_with_versions(
        cert: &Path,
        key: &Path,
        client_ca: &Path,
        auth: ClientAuth,
        acceptable_issuers: Option<&[&Path]>,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Self {
        use der::{Decode as _, Encode as _};
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert).unwrap().map(|c| c.unwrap()).collect();
        let key = PrivateKeyDer::from_pem_file(key).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from_pem_file(client_ca).unwrap()).unwrap();
        let mut verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
        if let Some(issuers) = acceptable_issuers {
            let subjects = issuers.iter().map(|path| {
                let der = CertificateDer::from_pem_file(path).unwrap();
                let cert = x509_cert::Certificate::from_der(der.as_ref()).unwrap();
                rustls::DistinguishedName::from(cert.tbs_certificate().subject().to_der().unwrap())
            });
            verifier = verifier.clear_root_hint_subjects().add_root_hint_subjects(subjects.collect::<Vec<_>>());
        }
        let builder = rustls::ServerConfig::builder_with_provider(provider()).with_protocol_versions(versions).unwrap();
        let builder = match auth {
            ClientAuth::Required => builder.with_client_cert_verifier(verifier.build().unwrap()),
            ClientAuth::Optional => builder.with_client_cert_verifier(verifier.allow_unauthenticated().build().unwrap()),
            ClientAuth::NotRequested => builder.with_no_client_auth(),
        };
        let config = builder.with_single_cert(chain, key).unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let (tcp, _) = tokio::select! {
                        accepted = listener.accept() => match accepted { Ok(a) => a, Err(_) => continue },
                        _ = &mut rx => break,
                    };
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        let Ok(tls) = acceptor.accept(tcp).await else { return };
                        let client_cert = tls
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|c| c.first())
                            .map(|c| hex::encode(Sha256::digest(c.as_ref())));
                        let service = hyper::service::service_fn(move |req| echo(req, client_cert.clone()));
                        let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service).await;
                    });
                }
            });
            rt.shutdown_background();
        });
        Self { addr, shutdown: Some(tx), thread: Some(thread) }
    }

    /// `https://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.addr.port())
    }
}

impl Drop for EchoTarget {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `/drip` sends this many chunks of 1 KiB...
pub const DRIP_CHUNKS: usize = 20;
/// ...one every this long (2 s in all).
pub const DRIP_INTERVAL: Duration = Duration::from_millis(100);

type EchoBody = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

async fn echo(req: Request<Incoming>, client_cert: Option<String>) -> Result<Response<EchoBody>, std::io::Error> {
    let path = req.uri().path().to_owned();
    if path == "/slow" {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    if path == "/lp-headers" {
        // A target claiming to speak for the gateway: a certificate and a transport failure.
        return Ok(Response::builder()
            .status(200)
            .header("lp-certificate-id", "999999")
            .header("lp-error-from-transport", "tls")
            .header("lp-message-from-transport", "https://127.0.0.1:1 certificate refused")
            .header("LP-Anything-Else", "x")
            .header("x-target", "echo")
            .body(Full::new(Bytes::from_static(b"spoof")).map_err(|e| match e {}).boxed())
            .unwrap());
    }
    if path == "/redirect" {
        return Ok(Response::builder()
            .status(302)
            .header("location", "https://example.com/elsewhere")
            .body(Full::new(Bytes::new()).map_err(|e| match e {}).boxed())
            .unwrap());
    }
    if path == "/drip" {
        // A slow but steady download: DRIP_CHUNKS chunks of 1 KiB, one every DRIP_INTERVAL.
        let stream = futures_util::stream::unfold(0usize, |sent| async move {
            if sent == DRIP_CHUNKS {
                return None;
            }
            tokio::time::sleep(DRIP_INTERVAL).await;
            Some((Ok::<_, std::io::Error>(Frame::data(Bytes::from(vec![b'd'; 1024]))), sent + 1))
        });
        return Ok(Response::builder().status(200).body(StreamBody::new(stream).boxed()).unwrap());
    }
    if let Some(n) = path.strip_prefix("/bytes/") {
        // A large streamed response: n bytes in 64 KiB chunks.
        let total: usize = n.parse().unwrap_or(0);
        let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
        let stream = futures_util::stream::iter((0..total.div_ceil(chunk.len())).map(move |i| {
            let len = chunk.len().min(total - i * chunk.len());
            Ok::<_, std::io::Error>(Frame::data(chunk.slice(..len)))
        }));
        return Ok(Response::builder().status(200).body(StreamBody::new(stream).boxed()).unwrap());
    }
    let method = req.method().to_string();
    let query = req.uri().query().unwrap_or("").to_owned();
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in req.headers() {
        headers.entry(name.as_str().to_owned()).or_default().push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    let mut body = req.into_body();
    let mut hasher = Sha256::new();
    let mut length: u64 = 0;
    let mut sample = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(std::io::Error::other)?;
        if let Ok(data) = frame.into_data() {
            length += data.len() as u64;
            hasher.update(&data);
            if sample.len() < 4096 {
                sample.extend_from_slice(&data[..data.len().min(4096 - sample.len())]);
            }
        }
    }
    let report = serde_json::json!({
        "method": method,
        "path": path,
        "query": query,
        "headers": headers,
        "bodyLength": length,
        "bodySha256": hex::encode(hasher.finalize()),
        "bodySample": String::from_utf8_lossy(&sample),
        "clientCertSha256": client_cert,
    });
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .header("x-target", "echo")
        .body(Full::new(Bytes::from(report.to_string())).map_err(|e| match e {}).boxed())
        .unwrap())
}

// === NginxTarget ===

/// nginx binary (Debian).
pub fn nginx_binary() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"].iter().map(PathBuf::from).find(|p| p.exists())
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A child process killed (and reaped) when the target owning it is dropped.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Debian nginx as an mTLS target (`ssl_verify_client on`) in its own directory.
pub struct NginxTarget {
    pub port: u16,
    _child: KillOnDrop,
    _dir: Scratch,
}

impl NginxTarget {
    /// Starts nginx serving TLS with `cert`/`key` and requiring client certificates of `client_ca`.
    /// `location` is the body of `location / { ... }`; by default it reports the client cert.
    pub fn start(cert: &Path, key: &Path, client_ca: &Path, location: Option<&str>) -> Self {
        let nginx = nginx_binary().expect("nginx is installed by scripts/install-test-deps.sh");
        let dir = Scratch::new("nginx");
        let port = free_port();
        let location = location.unwrap_or(
            "default_type application/json; \
             return 200 '{\"subject\":\"$ssl_client_s_dn\",\"fingerprint\":\"$ssl_client_fingerprint\",\"verify\":\"$ssl_client_verify\",\"method\":\"$request_method\",\"authorization\":\"$http_authorization\"}';",
        );
        let conf = format!(
            // One process (no master): Drop's SIGKILL then leaves no orphaned worker behind.
            r#"daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  keepalive_requests 100000;
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_client_certificate {ca};
    ssl_verify_client on;
    location / {{ {location} }}
  }}
}}
"#,
            d = dir.path().display(),
            cert = cert.display(),
            key = key.display(),
            ca = client_ca.display(),
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let child = Command::new(nginx)
            .args(["-e", &dir.path().join("error.log").display().to_string(), "-p"])
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "nginx did not start: {}",
                std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default());
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { port, _child: KillOnDrop(child), _dir: dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }
}

/// Python's `http.server` as an mTLS target (`python_target.py`): HTTP/1.0, one request per
/// connection, bodies delimited by the connection's close.
pub struct PythonTarget {
    pub port: u16,
    _child: KillOnDrop,
}

impl PythonTarget {
    pub fn start(cert: &Path, key: &Path, client_ca: &Path) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mtls_targets/python_target.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args([cert, key, client_ca])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| panic!("python target printed {line:?}"));
        Self { port, _child: KillOnDrop(child) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }
}

// === TestGateway ===

/// The gateway's production routes and middleware in this process, over the memory store.
pub struct TestGateway {
    pub base: String,
    pub state: web::Data<AppState>,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Defaults for forwarding tests: 127.0.0.0/8 allowed as a target, the test CA trusted, a high
/// throttle.
pub fn config_for(pki: &Pki) -> Config {
    let mut config = Config::for_tests(std::env::temp_dir());
    config.forward.allowed_target_cidrs = vec!["127.0.0.0/8".parse().unwrap()];
    config.forward.extra_target_ca_file = Some(pki.ca_pem.clone());
    config.throttle.rate_limit_per_second = 100_000;
    config.throttle.rate_limit_burst = 100_000;
    config
}

impl TestGateway {
    pub fn start(config: Config) -> Self {
        install_crypto_provider();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let throttle = throttle::start(&config.throttle).unwrap();
        let state = web::Data::new(AppState::try_new(config, Arc::new(store::memory::MemoryStore::default())).unwrap());
        let app_state = state.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(app_state.clone())
                        .wrap(throttle::middleware(&throttle))
                        .wrap(from_fn(http::request_id::middleware))
                        .configure(http::configure)
                })
                .workers(2)
                .disable_signals()
                .listen(listener)
                .unwrap()
                .run();
                tx.send(server.handle()).unwrap();
                let _ = server.await;
            });
        });
        let handle = rx.recv().unwrap();
        Self { base: format!("http://{addr}"), state, handle, thread: Some(thread) }
    }

    /// A Bearer token for `accounts`.
    pub async fn token(&self, accounts: &[&str]) -> String {
        let accounts: Vec<String> = accounts.iter().map(|a| (*a).to_owned()).collect();
        self.state.auth.issue_token("forward-tests", &accounts, 3600).await.unwrap()
    }

    /// Uploads `cert` as certificate `name` of `account`; returns its id.
    pub async fn upload(&self, token: &str, account: &str, name: &str, cert: &ClientCert) -> u64 {
        use base64::Engine as _;
        let body = serde_json::json!([{
            "name": name,
            "p12": base64::engine::general_purpose::STANDARD.encode(&cert.p12),
            "password": cert.password,
        }]);
        let resp = client()
            .post(format!("{}/mtls/account/{account}/certificates", self.base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let json: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
        assert_eq!(status, 201, "{json}");
        json["successfulySavedCertificates"][0]["id"].as_u64().unwrap()
    }

    /// Replaces certificate `id` with `cert`.
    pub async fn replace(&self, token: &str, account: &str, id: u64, cert: &ClientCert) {
        use base64::Engine as _;
        let body = serde_json::json!({
            "p12": base64::engine::general_purpose::STANDARD.encode(&cert.p12),
            "password": cert.password,
        });
        let resp = client()
            .put(format!("{}/mtls/account/{account}/certificates/{id}", self.base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    }

    /// Maps certificate `id` to (`service`, `url`).
    pub async fn map(&self, token: &str, account: &str, id: u64, service: &str, url: &str) {
        let body = serde_json::json!([{
            "certificationId": id, "serviceId": service, "url": url,
            "name": format!("m-{}", uuid::Uuid::new_v4().simple()), "enable": true,
        }]);
        let resp = client()
            .post(format!("{}/api/account/{account}/configuration/ac-common/mtls?v=3.0", self.base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    }

    /// `POST /mtls/account/{account}` etc.: a forward request builder with a Bearer token.
    pub fn forward(&self, method: reqwest::Method, account: &str, token: &str, target: &str) -> reqwest::RequestBuilder {
        client()
            .request(method, format!("{}/mtls/account/{account}", self.base))
            .bearer_auth(token)
            .header("LP-forward-url", target)
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Resident set size of this process in bytes (Linux).
pub fn rss_bytes() -> u64 {
    proc_status_bytes("VmRSS:")
}

/// Peak resident set size of this process in bytes (Linux).
pub fn peak_rss_bytes() -> u64 {
    proc_status_bytes("VmHWM:")
}

fn proc_status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap()
        * 1024
}
