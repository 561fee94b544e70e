//! Scale-out over an OpenBao HA cluster (SPEC section 13), on the layout `scripts/cluster.sh`
//! starts: three OpenBao Raft nodes, two gateways each pointed at a standby node (AppRole), nginx
//! in front of them. Everything goes through nginx, as a client's requests would.
//!
//! - Read-your-writes through standbys: a certificate uploaded through one gateway is at once
//!   usable in a mapping created through the other (a standby's replica lags the leader; the
//!   gateways must read from the active node).
//! - The Raft leader is killed (SIGKILL) under a write and forward load: writes answer only 201
//!   or 503 (with `Retry-After`), they resume within 30 s, forwards keep being served (the account
//!   changes all along, so the runtime cache is refreshed right before the kill), and every
//!   acknowledged write is there afterwards.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test: failing loudly is right"
)]

mod mtls_targets;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use mtls_targets::{ClientAuth, EchoTarget, Pki, Scratch};
use serde_json::{Value, json};

const MAPPINGS: &str = "configuration/ac-common/mtls";
const ACCOUNT: &str = "ha-acc";
/// How long writes may take to come back after the leader is killed.
const RESUME_BUDGET: Duration = Duration::from_secs(30);

/// The cluster of `scripts/cluster.sh`, stopped on drop.
struct Cluster {
    dir: Scratch,
    env: BTreeMap<String, String>,
}

impl Cluster {
    fn start(pki: &Pki) -> Self {
        let dir = Scratch::new("cluster");
        let base = free_port_block(21);
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .env("CLUSTER_DIR", dir.path())
            .env("CLUSTER_BASE_PORT", base.to_string())
            .env("CLUSTER_GATEWAYS", "2")
            .env("GATEWAY_BIN", env!("CARGO_BIN_EXE_mtls-server"))
            .env("MTLS_ALLOWED_TARGET_CIDRS", "127.0.0.0/8")
            .env("MTLS_EXTRA_TARGET_CA_FILE", &pki.ca_pem)
            .env("MTLS_RATE_LIMIT_PER_SECOND", "100000")
            .env("MTLS_RATE_LIMIT_BURST", "100000")
            .output()
            .expect("run scripts/cluster.sh");
        let mut cluster = Self {
            env: BTreeMap::new(),
            dir,
        };
        assert!(
            out.status.success(),
            "cluster.sh start failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            cluster.logs()
        );
        eprintln!("{}", String::from_utf8_lossy(&out.stderr).trim_end());
        let text = std::fs::read_to_string(cluster.dir.path().join("cluster.env")).unwrap();
        cluster.env = text
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
            .collect();
        cluster
    }

    fn var(&self, name: &str) -> &str {
        self.env
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing from cluster.env"))
    }

    fn run(&self, command: &str) -> String {
        let out = Command::new("bash")
            .arg(script())
            .arg(command)
            .env("CLUSTER_DIR", self.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cluster.sh {command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Gateway and node logs, for a failure message.
    fn logs(&self) -> String {
        let mut text = String::new();
        for name in [
            "gateway1/gateway.log",
            "gateway2/gateway.log",
            "nginx/error.log",
        ] {
            let path = self.dir.path().join(name);
            let log = std::fs::read_to_string(&path).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            text.push_str(&format!("--- {name} (last lines)\n"));
            for line in tail.into_iter().rev() {
                text.push_str(line);
                text.push('\n');
            }
        }
        text
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .env("CLUSTER_DIR", self.dir.path())
            .output();
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/cluster.sh")
}

/// A base port with `count` free ports after it (checked by binding each).
fn free_port_block(count: u16) -> u16 {
    for _ in 0..200 {
        let base = 20_000 + (rand_u16() % 2000) * 20;
        if (base..base + count).all(|port| TcpListener::bind(("127.0.0.1", port)).is_ok()) {
            return base;
        }
    }
    panic!("no block of {count} free ports");
}

fn rand_u16() -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    u16::try_from((nanos ^ std::process::id()) % 65_536).unwrap()
}

/// A client of the load balancer, with one account's Bearer token.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    base: String,
    bearer: String,
}

impl Client {
    async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, Option<String>, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", &self.bearer);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_owned());
                let text = response.text().await.unwrap_or_default();
                (
                    status,
                    retry_after,
                    serde_json::from_str(&text).unwrap_or(Value::String(text)),
                )
            }
            // Transport failure: counted as status 0.
            Err(e) => (0, None, Value::String(e.to_string())),
        }
    }

    async fn upload(&self, name: &str, p12: &str, password: &str) -> (u16, Option<String>, Value) {
        let body = json!([{ "name": name, "p12": p12, "password": password }]);
        self.send(
            "POST",
            &format!("/mtls/account/{ACCOUNT}/certificates"),
            &[],
            Some(body),
        )
        .await
    }

    async fn map(&self, name: &str, certificate: u64, url: &str) -> (u16, Option<String>, Value) {
        let body = json!([{ "certificationId": certificate, "serviceId": "2", "url": url, "name": name, "enable": true }]);
        self.send(
            "POST",
            &format!("/api/account/{ACCOUNT}/{MAPPINGS}?v=3.0"),
            &[],
            Some(body),
        )
        .await
    }
}

fn certificate_id(body: &Value) -> u64 {
    body["successfulySavedCertificates"][0]["id"]
        .as_u64()
        .unwrap_or_else(|| panic!("no certificate id in {body}"))
}

/// What the load saw.
#[derive(Default)]
struct Tally {
    /// Acknowledged writes: (kind, id).
    acknowledged: Vec<(&'static str, u64)>,
    /// Writes answered 503, and how many of them lacked `Retry-After`.
    unavailable: u32,
    unavailable_without_retry_after: u32,
    /// Any other answer to a write: (status, body).
    write_failures: Vec<(u16, String)>,
    /// Acknowledged writes that started after the kill: when they started.
    first_write_after_kill: Option<Instant>,
    forwards_ok: u32,
    forward_failures: Vec<(u16, String)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gateways_over_openbao_raft_survive_a_leader_kill() {
    mtls_targets::install_crypto_provider();
    let pki = Pki::new();
    let client_cert = pki.client("ha-client", false);
    let target = EchoTarget::start(
        &pki.server_cert,
        &pki.server_key,
        &pki.ca_pem,
        ClientAuth::Required,
    );
    let cluster = Cluster::start(&pki);
    let http = mtls_targets::client();
    let lb = cluster.var("LB_URL").to_owned();

    let admin = Client {
        http: http.clone(),
        base: lb.clone(),
        bearer: format!("Bearer {}", cluster.var("ADMIN_TOKEN")),
    };
    let (status, _, body) = admin
        .send(
            "POST",
            "/admin/tokens",
            &[],
            Some(json!({ "sub": "ha-test", "accounts": [ACCOUNT], "ttlSeconds": 3600 })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let token = body["accessToken"].as_str().unwrap();
    let api = Client {
        http: http.clone(),
        base: lb.clone(),
        bearer: format!("Bearer {token}"),
    };
    let p12 = base64::engine::general_purpose::STANDARD.encode(&client_cert.p12);
    let password = client_cert.password.clone();

    // 1. Read-your-writes through standbys: each upload goes to one gateway (nginx alternates),
    //    its mapping, right after, to the other; both gateways name only a standby node.
    let mut forward_cert = 0;
    for i in 0..10 {
        let (status, _, body) = api.upload(&format!("ryw-{i}"), &p12, &password).await;
        assert_eq!(status, 201, "upload {i}: {body}\n{}", cluster.logs());
        let certificate = certificate_id(&body);
        let (status, _, body) = api
            .map(
                &format!("ryw-{i}"),
                certificate,
                &target.url(&format!("/ryw/{i}")),
            )
            .await;
        assert_eq!(
            status,
            201,
            "mapping right after the upload {i}: {body}\n{}",
            cluster.logs()
        );
        forward_cert = certificate;
    }
    let forward_url = target.url("/ryw/0");
    let forward_headers = [
        ("LP-forward-url", forward_url.as_str()),
        ("LP-service-name", "WEBHOOKS"),
    ];
    let (status, _, body) = api
        .send(
            "GET",
            &format!("/mtls/account/{ACCOUNT}"),
            &forward_headers,
            None,
        )
        .await;
    assert_eq!(status, 200, "forward before the kill: {body}");
    assert!(forward_cert > 0);

    // 2. Load: writers (uploads and mappings, so the account changes all along) and forwarders,
    //    all through nginx.
    let tally = Arc::new(Mutex::new(Tally::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let killed_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let mut tasks = Vec::new();
    for writer in 0..3 {
        let (api, tally, stop, killed_at, p12, password, url) = (
            api.clone(),
            tally.clone(),
            stop.clone(),
            killed_at.clone(),
            p12.clone(),
            password.clone(),
            target.url("/w"),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let started = Instant::now();
                let name = format!("w{writer}-{n}");
                let (kind, (status, retry_after, body)) = if n.is_multiple_of(3) {
                    ("certificate", api.upload(&name, &p12, &password).await)
                } else {
                    (
                        "mapping",
                        api.map(&name, forward_cert, &format!("{url}/{name}")).await,
                    )
                };
                {
                    let mut t = tally.lock().unwrap();
                    match status {
                        201 => {
                            let id = if kind == "certificate" {
                                certificate_id(&body)
                            } else {
                                body[0]["id"].as_u64().unwrap()
                            };
                            t.acknowledged.push((kind, id));
                            let after_kill =
                                killed_at.lock().unwrap().is_some_and(|at| started > at);
                            if after_kill && t.first_write_after_kill.is_none() {
                                t.first_write_after_kill = Some(started);
                            }
                        }
                        503 => {
                            t.unavailable += 1;
                            if retry_after.is_none() {
                                t.unavailable_without_retry_after += 1;
                            }
                        }
                        _ => t.write_failures.push((status, body.to_string())),
                    }
                }
                if status == 503 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }));
    }
    for _ in 0..3 {
        let (api, tally, stop, headers) = (
            api.clone(),
            tally.clone(),
            stop.clone(),
            forward_headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<Vec<_>>(),
        );
        tasks.push(tokio::spawn(async move {
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            while !stop.load(Ordering::SeqCst) {
                let (status, _, body) = api
                    .send("GET", &format!("/mtls/account/{ACCOUNT}"), &headers, None)
                    .await;
                let mut t = tally.lock().unwrap();
                if status == 200 {
                    t.forwards_ok += 1;
                } else {
                    t.forward_failures.push((status, body.to_string()));
                }
            }
        }));
    }

    tokio::time::sleep(Duration::from_secs(4)).await;
    let before_kill = tally.lock().unwrap().acknowledged.len();
    assert!(
        before_kill > 0,
        "no write was acknowledged before the kill\n{}",
        cluster.logs()
    );

    // 3. Kill the Raft leader.
    let leader = cluster.run("leader");
    let pid: i32 = leader.split_whitespace().nth(1).unwrap().parse().unwrap();
    *killed_at.lock().unwrap() = Some(Instant::now());
    let killed = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    eprintln!("killed the Raft leader: node {}", leader.trim());

    // Load goes on until writes are back for a few seconds, or the budget is spent.
    let kill_time = killed_at.lock().unwrap().unwrap();
    let deadline = kill_time + RESUME_BUDGET + Duration::from_secs(5);
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let resumed = tally.lock().unwrap().first_write_after_kill;
        if resumed.is_some_and(|at| at.elapsed() > Duration::from_secs(3))
            || Instant::now() > deadline
        {
            break;
        }
    }
    stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.unwrap();
    }
    let acknowledged = {
        let t = tally.lock().unwrap();
        let resumed_after = t
            .first_write_after_kill
            .map(|at| at.duration_since(kill_time));
        eprintln!(
            "leader kill under load: writes acknowledged {} ({} before the kill), 503 {}, other {}; \
         writes resumed after {:?}; forwards ok {}, failed {}",
            t.acknowledged.len(),
            before_kill,
            t.unavailable,
            t.write_failures.len(),
            resumed_after,
            t.forwards_ok,
            t.forward_failures.len()
        );
        println!(
            "MEASURED writes_resumed_after_ms={}",
            resumed_after.map_or(-1, |d| i64::try_from(d.as_millis()).unwrap())
        );
        println!(
            "MEASURED write_503={} forwards_ok={} forward_failures={}",
            t.unavailable,
            t.forwards_ok,
            t.forward_failures.len()
        );

        assert!(
            t.write_failures.is_empty(),
            "writes answered other than 201/503: {:?}\n{}",
            t.write_failures,
            cluster.logs()
        );
        assert_eq!(
            t.unavailable_without_retry_after, 0,
            "every 503 carries Retry-After"
        );
        assert!(
            resumed_after.is_some_and(|d| d <= RESUME_BUDGET),
            "writes did not resume within {RESUME_BUDGET:?}\n{}",
            cluster.logs()
        );
        assert!(
            t.forward_failures.is_empty(),
            "forwards failed: {:?}\n{}",
            &t.forward_failures[..t.forward_failures.len().min(5)],
            cluster.logs()
        );
        assert!(t.forwards_ok > 0);

        t.acknowledged.clone()
    };

    // 4. Every acknowledged write is there, read through both gateways.
    for (i, (kind, id)) in acknowledged.iter().enumerate() {
        let path = match *kind {
            "certificate" => format!("/mtls/account/{ACCOUNT}/certificates/{id}"),
            _ => format!("/api/account/{ACCOUNT}/{MAPPINGS}/{id}"),
        };
        let (status, _, body) = api.send("GET", &path, &[], None).await;
        assert_eq!(
            status,
            200,
            "acknowledged {kind} {id} (#{i}) lost after the leader kill: {body}\n{}",
            cluster.logs()
        );
    }
    assert!(
        cluster.run("status").contains("active"),
        "a new leader serves"
    );
}
