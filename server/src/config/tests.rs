use std::collections::BTreeMap;

use super::*;

use crate::store::{StoreConfig, VaultAuth, decode_data_key};

/// Reads `pairs` as the process environment, with no flags: the path `main` takes.
fn parse(pairs: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
    let environment: BTreeMap<&str, &str> = pairs.iter().copied().collect();
    match Config::try_from_sources(["mtls-server"], &environment) {
        Ok(config) => Ok(config),
        Err(StartError::Invalid(errors)) => Err(errors),
        Err(StartError::Usage(e)) => panic!("no flags were given: {e}"),
    }
}

fn with_flags(args: &[&str]) -> Result<Config, StartError> {
    let no_environment: BTreeMap<&str, &str> = BTreeMap::new();
    Config::try_from_sources(std::iter::once("mtls-server").chain(args.iter().copied()), &no_environment)
}

fn errors(pairs: &[(&str, &str)]) -> ConfigErrors {
    parse(pairs).expect_err("configuration should be refused")
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mtls-config-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

const KEY_32: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

#[test]
fn empty_environment_gives_spec_defaults() {
    let config = parse(&[]).unwrap();
    assert_eq!(config.listen, "127.0.0.1:8080".parse().unwrap());
    assert!(config.tls.is_none());
    assert!(!config.allow_insecure_http);
    assert!(config.auth.admin_token.is_none());
    match &config.store {
        StoreConfig::Embedded { data_dir, data_key } => {
            assert_eq!(data_dir, &PathBuf::from("./data"));
            assert!(data_key.is_none());
        }
        other => panic!("expected embedded store, got {other:?}"),
    }
    assert_eq!(config.throttle.rate_limit_per_second, 10);
    assert_eq!(config.throttle.rate_limit_burst, 10);
    assert!(config.throttle.trusted_proxies.is_empty());
    assert_eq!(config.runtime_cache_ttl, Duration::from_secs(300));
    assert!(config.forward.allowed_target_cidrs.is_empty());
    assert!(config.forward.extra_target_ca_file.is_none());
    assert!(!config.allow_plain_http_targets);
    assert_eq!(config.forward.connect_timeout, Duration::from_millis(5000));
    assert_eq!(config.forward.idle_timeout, Duration::from_millis(30_000));
    assert_eq!(config.auth.oauth1_form_read_timeout, Duration::from_millis(10_000));
    assert_eq!(config.max_body_bytes, 10 * 1024 * 1024);
    assert_eq!(config.p12.max_iterations, 1_000_000);
    assert_eq!(config.p12.request_iteration_budget, 3_000_000);
    assert_eq!(config.p12.workers, InspectorConfig::default_workers());
    assert!(config.p12.workers >= 1);
    let services: Vec<(&str, u32)> = config.services.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    assert_eq!(services, [("TEST_SERVICE", 0), ("IDP", 1), ("WEBHOOKS", 2), ("FAAS", 3)]);
    assert!(config.auth.jwks_file.is_none());
    assert_eq!(config.log_format, LogFormat::Text);
    assert_eq!(config.expiry_warning_days, 30);
    assert_eq!(config.expiry_warning_days, crate::certificates::expiry_warning::DEFAULT_EXPIRY_WARNING_DAYS);
}

#[test]
fn for_tests_is_the_defaults_with_a_data_dir_and_an_admin_token() {
    let defaults = parse(&[("MTLS_ADMIN_TOKEN", "test-admin-token")]).unwrap();
    let for_tests = Config::for_tests("./data".into());
    assert_eq!(format!("{defaults:?}"), format!("{for_tests:?}"));
    assert_eq!(for_tests.auth.admin_token.as_deref(), Some("test-admin-token"));
}

#[test]
fn every_variable_is_read() {
    let ca = temp_file("ca.pem", "ca");
    let cert = temp_file("cert.pem", "cert");
    let key = temp_file("key.pem", "key");
    let jwks = temp_file("jwks.json", "{}");
    let config = parse(&[
        ("MTLS_LISTEN", "0.0.0.0:9443"),
        ("MTLS_TLS_CERT", cert.to_str().unwrap()),
        ("MTLS_TLS_KEY", key.to_str().unwrap()),
        ("MTLS_ALLOW_INSECURE_HTTP", "TRUE"),
        ("MTLS_ADMIN_TOKEN", "admin-secret"),
        ("MTLS_STORE", "embedded"),
        ("MTLS_DATA_DIR", "/var/lib/mtls"),
        ("MTLS_DATA_KEY", KEY_32),
        ("MTLS_RATE_LIMIT_PER_SECOND", "50"),
        ("MTLS_RATE_LIMIT_BURST", "100"),
        ("MTLS_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1 ,::1"),
        ("MTLS_RUNTIME_CACHE_TTL_SECONDS", "0"),
        ("MTLS_ALLOWED_TARGET_CIDRS", "127.0.0.0/8"),
        ("MTLS_EXTRA_TARGET_CA_FILE", ca.to_str().unwrap()),
        ("MTLS_ALLOW_PLAIN_HTTP_TARGETS", "yes"),
        ("MTLS_FORWARD_CONNECT_TIMEOUT_MS", "250"),
        ("MTLS_FORWARD_TIMEOUT_MS", "1_000"),
        ("MTLS_OAUTH1_FORM_READ_TIMEOUT_MS", "200"),
        ("MTLS_MAX_BODY_BYTES", "1024"),
        ("MTLS_P12_MAX_ITERATIONS", "2048"),
        ("MTLS_P12_REQUEST_ITERATION_BUDGET", "100000"),
        ("MTLS_P12_INSPECTION_WORKERS", "3"),
        ("MTLS_SERVICES", "A=10, B=11"),
        ("MTLS_JWKS_FILE", jwks.to_str().unwrap()),
        ("MTLS_LOG_FORMAT", "JSON"),
    ])
    .unwrap();
    assert_eq!(config.listen, "0.0.0.0:9443".parse().unwrap());
    assert_eq!(config.tls, Some((cert, key)));
    assert!(config.allow_insecure_http);
    assert_eq!(config.auth.admin_token.as_deref(), Some("admin-secret"));
    assert!(matches!(&config.store, StoreConfig::Embedded { data_key: Some(_), data_dir } if data_dir == &PathBuf::from("/var/lib/mtls")));
    assert_eq!((config.throttle.rate_limit_per_second, config.throttle.rate_limit_burst), (50, 100));
    assert_eq!(config.throttle.trusted_proxies.len(), 3);
    assert_eq!(config.throttle.trusted_proxies[1], "192.168.1.1/32".parse().unwrap());
    assert_eq!(config.runtime_cache_ttl, Duration::ZERO);
    assert_eq!(config.forward.allowed_target_cidrs, vec!["127.0.0.0/8".parse().unwrap()]);
    assert_eq!(config.forward.extra_target_ca_file, Some(ca));
    assert!(config.allow_plain_http_targets);
    assert_eq!(config.forward.connect_timeout, Duration::from_millis(250));
    assert_eq!(config.forward.idle_timeout, Duration::from_millis(1000));
    assert_eq!(config.auth.oauth1_form_read_timeout, Duration::from_millis(200));
    assert_eq!(config.max_body_bytes, 1024);
    assert_eq!(config.p12.max_iterations, 2048);
    assert_eq!(config.p12.request_iteration_budget, 100_000);
    assert_eq!(config.p12.workers, 3);
    assert_eq!(config.services, vec![("A".to_owned(), 10), ("B".to_owned(), 11)]);
    assert_eq!(config.auth.jwks_file, Some(jwks));
    assert_eq!(config.log_format, LogFormat::Json);
}

#[test]
fn empty_values_mean_unset() {
    let config = parse(&[("MTLS_LISTEN", ""), ("MTLS_RATE_LIMIT_BURST", "  "), ("MTLS_STORE", "")]).unwrap();
    assert_eq!(config.listen, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(config.throttle.rate_limit_burst, 10);
}

#[test]
fn every_bad_variable_is_reported_at_once() {
    let e = errors(&[
        ("MTLS_LISTEN", "not-an-address"),
        ("MTLS_ALLOW_INSECURE_HTTP", "maybe"),
        ("MTLS_RATE_LIMIT_PER_SECOND", "0"),
        ("MTLS_RATE_LIMIT_BURST", "-3"),
        ("MTLS_TRUSTED_PROXIES", "10.0.0.0/33"),
        ("MTLS_RUNTIME_CACHE_TTL_SECONDS", "soon"),
        ("MTLS_ALLOWED_TARGET_CIDRS", "everything"),
        ("MTLS_EXTRA_TARGET_CA_FILE", "/nonexistent/ca.pem"),
        ("MTLS_ALLOW_PLAIN_HTTP_TARGETS", "2"),
        ("MTLS_FORWARD_CONNECT_TIMEOUT_MS", "0"),
        ("MTLS_FORWARD_TIMEOUT_MS", "1.5"),
        ("MTLS_OAUTH1_FORM_READ_TIMEOUT_MS", "0"),
        ("MTLS_MAX_BODY_BYTES", "10MiB"),
        ("MTLS_P12_MAX_ITERATIONS", "0"),
        ("MTLS_SERVICES", "A=1,A=2"),
        ("MTLS_JWKS_FILE", "/nonexistent/jwks.json"),
        ("MTLS_DATA_KEY", "too-short"),
        ("MTLS_LOG_FORMAT", "xml"),
    ]);
    for variable in [
        "MTLS_LISTEN",
        "MTLS_ALLOW_INSECURE_HTTP",
        "MTLS_RATE_LIMIT_PER_SECOND",
        "MTLS_RATE_LIMIT_BURST",
        "MTLS_TRUSTED_PROXIES",
        "MTLS_RUNTIME_CACHE_TTL_SECONDS",
        "MTLS_ALLOWED_TARGET_CIDRS",
        "MTLS_EXTRA_TARGET_CA_FILE",
        "MTLS_ALLOW_PLAIN_HTTP_TARGETS",
        "MTLS_FORWARD_CONNECT_TIMEOUT_MS",
        "MTLS_FORWARD_TIMEOUT_MS",
        "MTLS_OAUTH1_FORM_READ_TIMEOUT_MS",
        "MTLS_MAX_BODY_BYTES",
        "MTLS_P12_MAX_ITERATIONS",
        "MTLS_SERVICES",
        "MTLS_JWKS_FILE",
        "MTLS_DATA_KEY",
        "MTLS_LOG_FORMAT",
    ] {
        assert!(e.names(variable), "{variable} not reported in:\n{e}");
    }
    let text = e.to_string();
    assert!(text.contains("MTLS_LISTEN (--listen)"), "{text}");
    assert!(text.contains("MTLS_DATA_KEY (--data-key)"), "{text}");
}

#[test]
fn secret_values_never_appear_in_messages() {
    let e = errors(&[
        ("MTLS_DATA_KEY", "hunter2-very-secret-key"),
        ("MTLS_STORE", "vault"),
        ("VAULT_ADDR", "ftp://nope"),
        ("VAULT_ROLE_ID", "role"),
        ("VAULT_SECRET_ID", "s3cr3t-id-value"),
        ("VAULT_APPROLE_MOUNT", "bad mount!"),
    ]);
    let text = e.to_string();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(e.names("VAULT_ADDR") && e.names("VAULT_APPROLE_MOUNT"), "{text}");
    // A bad data key in embedded mode is named, without its value.
    let e = errors(&[("MTLS_DATA_KEY", "hunter2-very-secret-key")]);
    assert!(e.names("MTLS_DATA_KEY") && !e.to_string().contains("hunter2"));
}

#[test]
fn plain_http_on_non_loopback_is_refused_unless_allowed() {
    let e = errors(&[("MTLS_LISTEN", "0.0.0.0:8080")]);
    assert!(e.names("MTLS_LISTEN"));
    assert!(e.to_string().contains("MTLS_ALLOW_INSECURE_HTTP=true"), "{e}");
    assert!(parse(&[("MTLS_LISTEN", "0.0.0.0:8080"), ("MTLS_ALLOW_INSECURE_HTTP", "true")]).is_ok());
    assert!(parse(&[("MTLS_LISTEN", "[::1]:8080")]).is_ok());
    assert!(parse(&[("MTLS_LISTEN", "127.0.0.2:8080")]).is_ok());
    let config = parse(&[("MTLS_LISTEN", "localhost:9000")]).unwrap();
    assert_eq!(config.listen, "127.0.0.1:9000".parse().unwrap());
    // HTTPS may listen anywhere.
    let cert = temp_file("cert.pem", "c");
    let key = temp_file("key.pem", "k");
    assert!(
        parse(&[
            ("MTLS_LISTEN", "0.0.0.0:8443"),
            ("MTLS_TLS_CERT", cert.to_str().unwrap()),
            ("MTLS_TLS_KEY", key.to_str().unwrap())
        ])
        .is_ok()
    );
}

#[test]
fn tls_needs_certificate_and_key_together() {
    let cert = temp_file("cert.pem", "c");
    let e = errors(&[("MTLS_TLS_CERT", cert.to_str().unwrap())]);
    assert!(e.names("MTLS_TLS_KEY") && !e.names("MTLS_TLS_CERT"), "{e}");
    let e = errors(&[("MTLS_TLS_KEY", cert.to_str().unwrap())]);
    assert!(e.names("MTLS_TLS_CERT"), "{e}");
    let e = errors(&[("MTLS_TLS_CERT", "/nonexistent/c.pem"), ("MTLS_TLS_KEY", "/nonexistent/k.pem")]);
    assert!(e.names("MTLS_TLS_CERT") && e.names("MTLS_TLS_KEY"), "{e}");
}

#[test]
fn services_are_validated() {
    for (value, reason) in [
        ("A=1,B=1", "appears twice"),
        ("A=1,a=2", "appears twice"),
        ("A", "NAME=code"),
        ("A=x", "not a whole number"),
        ("A=-1", "not a whole number"),
        ("=1", "must be 1-64"),
        ("A B=1", "must be 1-64"),
        ("42=1", "all digits"),
        (",,", "no service"),
    ] {
        let e = errors(&[("MTLS_SERVICES", value)]);
        assert!(e.names("MTLS_SERVICES"), "{value}");
        assert!(e.to_string().contains(reason), "{value}: {e}");
    }
}

#[test]
fn unknown_store_is_refused() {
    let e = errors(&[("MTLS_STORE", "postgres")]);
    assert!(e.names("MTLS_STORE"), "{e}");
}

#[test]
fn vault_needs_address_and_credentials() {
    let e = errors(&[("MTLS_STORE", "vault")]);
    assert!(e.names("VAULT_ADDR") && e.names("VAULT_TOKEN"), "{e}");
    let e = errors(&[("MTLS_STORE", "vault"), ("VAULT_ADDR", "http://127.0.0.1:8200"), ("VAULT_ROLE_ID", "r")]);
    assert!(e.names("VAULT_SECRET_ID"), "{e}");
    let e = errors(&[("MTLS_STORE", "vault"), ("VAULT_ADDR", "http://127.0.0.1:8200"), ("VAULT_SECRET_ID", "s")]);
    assert!(e.names("VAULT_ROLE_ID"), "{e}");
    let e = errors(&[
        ("MTLS_STORE", "vault"),
        ("VAULT_ADDR", "http://127.0.0.1:8200"),
        ("VAULT_TOKEN", "t"),
        ("MTLS_VAULT_MOUNT", "a/../b"),
        ("MTLS_VAULT_PREFIX", "has space"),
        ("VAULT_CACERT", "/nonexistent/ca.pem"),
    ]);
    assert!(e.names("MTLS_VAULT_MOUNT") && e.names("MTLS_VAULT_PREFIX") && e.names("VAULT_CACERT"), "{e}");
}

#[test]
fn vault_settings_are_read() {
    let config = parse(&[
        ("MTLS_STORE", "vault"),
        ("VAULT_ADDR", "http://127.0.0.1:8200/"),
        ("VAULT_TOKEN", "t"),
        ("MTLS_VAULT_MOUNT", "/kv/"),
        ("MTLS_VAULT_PREFIX", "team/mtls/"),
    ])
    .unwrap();
    match config.store {
        StoreConfig::Vault { addresses, auth: VaultAuth::Token(token), mount, prefix, ca_cert: None, namespace: None } => {
            assert_eq!(addresses, vec!["http://127.0.0.1:8200".to_owned()]);
            assert_eq!(token, "t");
            assert_eq!(mount, "kv");
            assert_eq!(prefix, "team/mtls");
        }
        other => panic!("unexpected {other:?}"),
    }
    let config = parse(&[("MTLS_STORE", "vault"), ("VAULT_ADDR", "https://vault.example:8200"), ("VAULT_TOKEN", "t")]).unwrap();
    assert!(matches!(config.store, StoreConfig::Vault { ref mount, ref prefix, .. } if mount == "secret" && prefix == "mtls"));
}

#[test]
fn approle_wins_over_an_ambient_token() {
    let config = parse(&[
        ("MTLS_STORE", "vault"),
        ("VAULT_ADDR", "http://127.0.0.1:8200"),
        ("VAULT_TOKEN", "ambient"),
        ("VAULT_ROLE_ID", "role"),
        ("VAULT_SECRET_ID", "secret"),
    ])
    .unwrap();
    match config.store {
        StoreConfig::Vault { auth: VaultAuth::AppRole { role_id, secret_id, mount }, .. } => {
            assert_eq!((role_id.as_str(), secret_id.as_str(), mount.as_str()), ("role", "secret", "approle"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn debug_output_hides_secrets() {
    let config = parse(&[
        ("MTLS_ADMIN_TOKEN", "admin-secret-1"),
        ("MTLS_STORE", "vault"),
        ("VAULT_ADDR", "http://127.0.0.1:8200"),
        ("VAULT_ROLE_ID", "role"),
        ("VAULT_SECRET_ID", "secret-id-2"),
    ])
    .unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains("admin-secret-1") && !debug.contains("secret-id-2"), "{debug}");
    let config = parse(&[("MTLS_DATA_KEY", KEY_32), ("MTLS_STORE", "embedded")]).unwrap();
    assert!(!format!("{config:?}").contains(KEY_32));
    let token = VaultAuth::Token("vault-token-3".into());
    assert!(!format!("{token:?}").contains("vault-token-3"));
}

#[test]
fn data_key_format() {
    assert!(decode_data_key(KEY_32).is_some());
    assert!(decode_data_key(KEY_32.trim_end_matches('=')).is_some());
    assert!(decode_data_key("AAEC").is_none(), "3 bytes");
    assert!(decode_data_key(&"A".repeat(64)).is_none(), "48 bytes");
    assert!(decode_data_key("not base64!").is_none());
}

#[test]
fn flags_are_read_and_named_like_variables() {
    let config = with_flags(&[
        "--listen",
        "127.0.0.1:7000",
        "--rate-limit-burst=7",
        "--allow-plain-http-targets",
        "--services",
        "X=5",
    ])
    .unwrap();
    assert_eq!(config.listen, "127.0.0.1:7000".parse().unwrap());
    assert_eq!(config.throttle.rate_limit_burst, 7);
    assert!(config.allow_plain_http_targets);
    assert_eq!(config.services, vec![("X".to_owned(), 5)]);
    // Every variable has the flag `flag_for` names, and names one setting.
    let mut seen = std::collections::HashSet::new();
    for setting in all_settings() {
        assert_eq!(format!("--{}", setting.flag()), flag_for(setting.env()), "{}", setting.env());
        assert!(seen.insert(setting.env()), "{} declared twice", setting.env());
    }
    assert_eq!(command().get_arguments().filter(|arg| arg.get_long().is_some()).count(), seen.len());
}

#[test]
fn bad_flag_value_and_unknown_flag_exit_64_help_exits_0() {
    let e = with_flags(&["--rate-limit-burst", "0"]).unwrap_err();
    assert_eq!(e.exit_code(), 64);
    assert!(e.to_string().contains("MTLS_RATE_LIMIT_BURST (--rate-limit-burst): must be greater than 0"), "{e}");
    let e = with_flags(&["--no-such-flag"]).unwrap_err();
    assert_eq!(e.exit_code(), 64);
    let e = with_flags(&["--help"]).unwrap_err();
    assert_eq!(e.exit_code(), 0);
    assert!(e.to_string().contains("MTLS_VAULT_PREFIX"), "help names the variables");
}

#[test]
fn every_message_reads_well() {
    // Prints each kind of message once, for review (`cargo test -- --nocapture`).
    let e = errors(&[
        ("MTLS_LISTEN", "0.0.0.0:80"),
        ("MTLS_STORE", "vault"),
        ("MTLS_SERVICES", "A=1,A=1"),
        ("MTLS_MAX_BODY_BYTES", "big"),
    ]);
    println!("{}", StartError::Invalid(e.clone()));
    for error in &e.0 {
        assert!(!error.reason.ends_with('.'), "no trailing period: {}", error.reason);
        assert!(error.reason.chars().next().is_some_and(|c| !c.is_uppercase()), "lower case: {}", error.reason);
    }
}

#[test]
fn p12_request_budget_defaults_to_three_times_the_cap_and_is_not_below_it() {
    let config = parse(&[("MTLS_P12_MAX_ITERATIONS", "5000")]).unwrap();
    assert_eq!(config.p12.request_iteration_budget, 15_000);
    let e = errors(&[("MTLS_P12_MAX_ITERATIONS", "5000"), ("MTLS_P12_REQUEST_ITERATION_BUDGET", "4999")]);
    assert!(e.names("MTLS_P12_REQUEST_ITERATION_BUDGET"), "{e}");
    assert!(e.to_string().contains("MTLS_P12_MAX_ITERATIONS"), "{e}");
    let e = errors(&[("MTLS_P12_INSPECTION_WORKERS", "0"), ("MTLS_P12_REQUEST_ITERATION_BUDGET", "x")]);
    assert!(e.names("MTLS_P12_INSPECTION_WORKERS") && e.names("MTLS_P12_REQUEST_ITERATION_BUDGET"), "{e}");
}

#[test]
fn expiry_warning_days_defaults_to_30_and_is_checked() {
    assert_eq!(parse(&[]).unwrap().expiry_warning_days, 30);
    assert_eq!(parse(&[("MTLS_EXPIRY_WARNING_DAYS", "0")]).unwrap().expiry_warning_days, 0);
    assert_eq!(parse(&[("MTLS_EXPIRY_WARNING_DAYS", "90")]).unwrap().expiry_warning_days, 90);
    for bad in ["-1", "soon", "3651", "1.5"] {
        let e = errors(&[("MTLS_EXPIRY_WARNING_DAYS", bad)]);
        assert!(e.names("MTLS_EXPIRY_WARNING_DAYS"), "{bad}: {e}");
    }
    let flags = with_flags(&["--expiry-warning-days", "7"]).unwrap();
    assert_eq!(flags.expiry_warning_days, 7);
}

// === VAULT_ADDR with several nodes ===

#[test]
fn vault_addr_may_list_several_nodes() {
    let config = parse(&[
        ("MTLS_STORE", "vault"),
        ("VAULT_ADDR", "http://127.0.0.1:8200/, http://127.0.0.1:8202,http://127.0.0.1:8204"),
        ("VAULT_TOKEN", "t"),
    ])
    .unwrap();
    let StoreConfig::Vault { addresses, .. } = config.store else { panic!("not vault") };
    assert_eq!(addresses, ["http://127.0.0.1:8200", "http://127.0.0.1:8202", "http://127.0.0.1:8204"]);
}

#[test]
fn vault_addr_lists_are_checked() {
    for (value, reason) in [
        ("http://a:8200,,http://b:8200", "not an http(s) URL"),
        ("http://a:8200,ftp://b:8200", "not an http(s) URL"),
        ("http://a:8200,https://b:8200", "mixes http and https"),
        ("https://a:8200,https://a:8200/", "names a node twice"),
        ("http://a:8200,", "not an http(s) URL"),
    ] {
        let e = errors(&[("MTLS_STORE", "vault"), ("VAULT_ADDR", value), ("VAULT_TOKEN", "t")]);
        assert!(e.names("VAULT_ADDR") && e.to_string().contains(reason), "{value}: {e}");
    }
}

// === one declaration per setting ===

#[test]
fn a_flag_wins_over_its_variable_and_an_empty_flag_means_the_default() {
    let environment = BTreeMap::from([("MTLS_RATE_LIMIT_BURST", "5"), ("MTLS_MAX_BODY_BYTES", "2048")]);
    let config =
        Config::try_from_sources(["mtls-server", "--rate-limit-burst", "6", "--max-body-bytes="], &environment)
            .unwrap();
    assert_eq!(config.throttle.rate_limit_burst, 6);
    assert_eq!(config.max_body_bytes, 10 * 1024 * 1024);
}

#[test]
fn help_shows_each_variable_with_its_default_but_no_secret() {
    let help = command().render_long_help().to_string();
    for setting in all_settings() {
        assert!(help.contains(&format!("[env: {}]", setting.env())), "{} missing from:\n{help}", setting.env());
    }
    assert!(help.contains("[env: MTLS_LISTEN] [default: 127.0.0.1:8080]"), "{help}");
    assert!(help.contains("[env: MTLS_VAULT_PREFIX] [default: mtls]"), "{help}");
    for secret in all_settings().filter(|s| s.is_secret()) {
        assert!(secret.default_text().is_none(), "{} has a default to hide", secret.env());
    }
}

#[test]
fn readme_documents_exactly_the_declared_variables() {
    let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));
    let declared: std::collections::BTreeSet<&str> = all_settings().map(|s| s.env()).collect();
    let documented: std::collections::BTreeSet<&str> = readme
        .split(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
        .filter(|word| word.starts_with("MTLS_") || word.starts_with("VAULT_"))
        .collect();
    assert_eq!(declared, documented, "README's variables differ from the declared settings");
}

#[test]
fn readme_states_the_declared_defaults() {
    fn default(env: &str) -> &'static str {
        let setting = all_settings().find(|s| s.env() == env).expect("a declared setting");
        setting.default_text().expect("a default")
    }
    let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));
    // README wraps lines: compare with single spaces.
    let readme = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    for phrase in [
        format!("`MTLS_LISTEN` (default `{}`)", default("MTLS_LISTEN")),
        format!("`MTLS_DATA_DIR` (default `{}`)", default("MTLS_DATA_DIR")),
        format!("`MTLS_LOG_FORMAT={}` (default)", default("MTLS_LOG_FORMAT")),
        format!("`MTLS_OAUTH1_FORM_READ_TIMEOUT_MS` (default {})", default("MTLS_OAUTH1_FORM_READ_TIMEOUT_MS")),
        format!("`MTLS_RUNTIME_CACHE_TTL_SECONDS`, {} s", default("MTLS_RUNTIME_CACHE_TTL_SECONDS")),
        format!("`MTLS_FORWARD_CONNECT_TIMEOUT_MS` ({})", default("MTLS_FORWARD_CONNECT_TIMEOUT_MS")),
        format!("`MTLS_FORWARD_TIMEOUT_MS` ({})", default("MTLS_FORWARD_TIMEOUT_MS")),
        format!("`MTLS_P12_MAX_ITERATIONS` ({})", default("MTLS_P12_MAX_ITERATIONS")),
        format!("`MTLS_EXPIRY_WARNING_DAYS` days (default {},", default("MTLS_EXPIRY_WARNING_DAYS")),
        format!("`MTLS_ALLOW_PLAIN_HTTP_TARGETS=true` (default `{}`", default("MTLS_ALLOW_PLAIN_HTTP_TARGETS")),
        format!("(defaults `{}` and `{}`)", default("MTLS_VAULT_MOUNT"), default("MTLS_VAULT_PREFIX")),
        format!("AppRole mount path (default `{}`)", default("VAULT_APPROLE_MOUNT")),
    ] {
        assert!(readme.contains(&phrase), "README does not say {phrase}");
    }
}
