//! Benchmark (not a test): check-mapping latency through the built gateway on a real OpenBao,
//! for the three cases of the runtime cache, in one run:
//!
//! - **hit**: the same mapped triple again and again (no store read);
//! - **negative miss**: a different unmapped URL each time (1 OpenBao read);
//! - **positive miss**: a different mapped URL each time (5 OpenBao reads: route, record,
//!   certificate metadata, metadata and secrets for the key material).
//!
//! Each request is a real oAuth1-signed `POST /mtls/mapping?v=2` over loopback HTTP, sent one at
//! a time. Prints p50/p99/mean per case, the ratios to the hit case, and the store reads counted
//! by the gateway. Run: `cargo bench -p mtls-server --bench runtime_checks` (N=300 by default,
//! `RUNTIME_BENCH_N` to change).

#[path = "../tests/harness/mod.rs"]
mod harness;
#[path = "../tests/stock_oauth1/mod.rs"]
mod stock_oauth1;
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use harness::{Backend, World};
use serde_json::{json, Value};

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("RUNTIME_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let world = World::start(Backend::Vault).await;
    let gw = &world.gateways[0];
    let a = world.account("acc-bench").await;
    let cert = gw.upload_certificate(&a.bearer, "acc-bench", "bench").await;
    let base = "/api/account/acc-bench/configuration/ac-common/mtls";
    for chunk in 0..n.div_ceil(100) {
        let items: Vec<Value> = (chunk * 100..((chunk + 1) * 100).min(n))
            .map(|i| json!({"name": format!("m{i}"), "certificationId": cert, "serviceId": "IDP",
                            "url": format!("https://bench.example.com/mapped/{i}"), "enable": true}))
            .collect();
        let (status, _, body) = gw.send("POST", base, &a.bearer, Some(Value::Array(items))).await;
        assert_eq!(status, 201, "{body}");
    }
    let check = |url: String| {
        let oauth = a.oauth.clone();
        async move {
            let started = Instant::now();
            let exists = gw.check(&oauth, "acc-bench", "IDP", &url).await;
            (started.elapsed(), exists)
        }
    };
    // Warm the connection and the hit entry.
    for _ in 0..20 {
        check("https://bench.example.com/mapped/0".to_owned()).await;
    }
    let reads = "mtls_runtime_store_reads_total";
    let mut results = Vec::new();
    for (label, make_url, expected) in [
        ("hit", (|_| "https://bench.example.com/mapped/0".to_owned()) as fn(usize) -> String, true),
        ("negative miss", |i| format!("https://bench.example.com/unmapped/{i}"), false),
        ("positive miss", |i| format!("https://bench.example.com/mapped/{i}"), true),
    ] {
        let before = gw.metric(reads).await;
        let mut times = Vec::with_capacity(n);
        for i in 0..n {
            // The positive case skips mapping 0, which the hit case cached.
            let (elapsed, exists) = check(make_url(if label == "positive miss" { i.max(1) } else { i })).await;
            assert_eq!(exists, expected, "{label}");
            times.push(elapsed);
        }
        let per_request = (gw.metric(reads).await - before) as f64 / n as f64;
        results.push((label, stats(&mut times), per_request));
    }
    let hit_p50 = results[0].1.0;
    println!("runtime check latency, {n} sequential requests per case, gateway on OpenBao (loopback):");
    for (label, (p50, p99, mean), reads) in &results {
        println!(
            "  {label:<14} p50 {:>7.1} us  p99 {:>7.1} us  mean {:>7.1} us  store reads/request {reads:.2}  p50 x{:.2} of hit",
            micros(*p50), micros(*p99), micros(*mean), p50.as_secs_f64() / hit_p50.as_secs_f64()
        );
    }
}

fn stats(times: &mut [Duration]) -> (Duration, Duration, Duration) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    (at(0.5), at(0.99), mean)
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
