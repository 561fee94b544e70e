use actix_web::http::Method;

use super::*;

/// Every family of SPEC 13 (and the gateway's own), as `/metrics` names them.
const FAMILIES: &[(&str, &str)] = &[
    ("mtls_http_requests", "counter"),
    ("mtls_runtime_cache", "counter"),
    ("mtls_runtime_cache_evictions", "counter"),
    ("mtls_runtime_store_reads", "counter"),
    ("mtls_forward", "counter"),
    ("mtls_forward_duration_seconds", "histogram"),
    ("mtls_store_operation_duration_seconds", "histogram"),
    ("mtls_store_operation_errors", "counter"),
    ("mtls_certificate_changes", "counter"),
    ("mtls_auth_refusals", "counter"),
    ("mtls_p12_tests", "counter"),
    ("mtls_certificate_expiry_seconds", "gauge"),
];

/// The value of the line that starts with `series` (name and labels, exactly).
fn value(text: &str, series: &str) -> Option<String> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ').map(str::to_owned))
}

#[test]
fn every_family_is_described_before_anything_happened() {
    let text = Metrics::new().render();
    for (family, kind) in FAMILIES {
        assert!(text.contains(&format!("# HELP {family} ")), "{family} has no HELP:\n{text}");
        assert!(text.contains(&format!("# TYPE {family} {kind}\n")), "{family} not a {kind}:\n{text}");
    }
    assert_eq!(value(&text, "mtls_runtime_cache_total{result=\"hit\"}").as_deref(), Some("0"));
    let inf = "mtls_forward_duration_seconds_bucket{le=\"+Inf\",result=\"forwarded\"}";
    assert_eq!(value(&text, inf).as_deref(), Some("0"), "{text}");
    assert!(text.ends_with("# EOF\n"), "{text}");
}

#[test]
fn counts_and_histograms_render_their_values() {
    let metrics = Metrics::new();
    metrics.runtime_cache.inc("hit");
    metrics.runtime_cache.inc("miss");
    metrics.runtime_cache.inc("miss");
    metrics.forward("forwarded", Duration::from_micros(800));
    metrics.forward("forwarded", Duration::from_secs(2));
    metrics.request("/mtls/account/{account}", &Method::GET, 200);
    metrics.request("/mtls/account/{account}", &Method::GET, 200);
    let text = metrics.render();
    assert_eq!(value(&text, "mtls_runtime_cache_total{result=\"hit\"}").as_deref(), Some("1"));
    assert_eq!(value(&text, "mtls_runtime_cache_total{result=\"miss\"}").as_deref(), Some("2"));
    assert_eq!(value(&text, "mtls_forward_total{result=\"forwarded\"}").as_deref(), Some("2"));
    let route = "mtls_http_requests_total{route=\"/mtls/account/{account}\",method=\"GET\",status=\"200\"}";
    assert_eq!(value(&text, route).as_deref(), Some("2"), "{text}");
    let bucket = |le: &str| {
        let series = format!("mtls_forward_duration_seconds_bucket{{le=\"{le}\",result=\"forwarded\"}}");
        value(&text, &series).unwrap_or_else(|| panic!("no {le} bucket:\n{text}"))
    };
    assert_eq!(bucket("0.0005"), "0");
    assert_eq!(bucket("0.001"), "1");
    assert_eq!(bucket("2.5"), "2", "{text}");
    assert_eq!(bucket("+Inf"), "2");
    let count = "mtls_forward_duration_seconds_count{result=\"forwarded\"}";
    assert_eq!(value(&text, count).as_deref(), Some("2"));
    let sum = "mtls_forward_duration_seconds_sum{result=\"forwarded\"}";
    assert_eq!(value(&text, sum).as_deref(), Some("2.0008"));
}

#[test]
fn two_instances_count_apart_on_one_thread() {
    let (a, b) = (Metrics::new(), Metrics::new());
    a.request("/x", &Method::GET, 404);
    assert!(a.render().contains("status=\"404\"} 1"));
    assert!(!b.render().contains("status=\"404\""));
}

#[test]
fn requests_counted_from_many_threads_add_up() {
    let metrics = std::sync::Arc::new(Metrics::new());
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let metrics = metrics.clone();
            std::thread::spawn(move || {
                for _ in 0..1000 {
                    metrics.request("/r", &Method::POST, 201);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("counting thread");
    }
    let series = "mtls_http_requests_total{route=\"/r\",method=\"POST\",status=\"201\"}";
    assert_eq!(value(&metrics.render(), series).as_deref(), Some("4000"));
}

#[test]
fn a_method_outside_the_standard_ones_is_other() {
    let metrics = Metrics::new();
    let custom = Method::from_bytes(b"SECRETVERB").expect("a token");
    metrics.request(UNMATCHED_ROUTE, &custom, 404);
    let text = metrics.render();
    assert!(!text.contains("SECRETVERB"), "{text}");
    let series = "mtls_http_requests_total{route=\"unmatched\",method=\"other\",status=\"404\"}";
    assert_eq!(value(&text, series).as_deref(), Some("1"), "{text}");
}

#[test]
fn store_errors_are_counted_by_operation_and_error() {
    let metrics = Metrics::new();
    metrics.store_errors.inc("list", "unavailable");
    let text = metrics.render();
    let series = "mtls_store_operation_errors_total{operation=\"list\",error=\"unavailable\"}";
    assert_eq!(value(&text, series).as_deref(), Some("1"), "{text}");
    assert_eq!(metrics.store_errors.value("read", "unavailable"), 0);
}

#[test]
fn the_expiry_gauge_counts_down_to_not_after_and_forgets_deleted_certificates() {
    let metrics = Metrics::new();
    let not_after = crate::clock::now_unix() + 86_400;
    metrics.certificate_expiry.observe("acc-1", 42, not_after);
    metrics.certificate_expiry.observe("acc-\"2", 7, 0);
    let before = crate::clock::now_unix();
    let text = metrics.render();
    let after = crate::clock::now_unix();
    let series = "mtls_certificate_expiry_seconds{account=\"acc-1\",certificate=\"42\"}";
    let seconds: i64 = value(&text, series).expect(series).parse().expect("an integer");
    assert!((not_after - after..=not_after - before).contains(&seconds), "{seconds}");
    let expired = "mtls_certificate_expiry_seconds{account=\"acc-\\\"2\",certificate=\"7\"}";
    assert!(value(&text, expired).expect(expired).starts_with('-'), "{text}");
    metrics.certificate_expiry.forget("acc-1", 42);
    assert!(value(&metrics.render(), series).is_none());
}
