//! Staged rotation (SPEC section 12) across gateway processes: the built binary, two instances
//! on one real OpenBao (and one on the embedded store), forwarding to two real mTLS targets (the
//! rustls echo target and nginx) that report the client certificate presented.
//!
//! A replacement is staged through the first instance; both keep forwarding in a tight loop
//! and every answer is stamped with the wall-clock instants its request left and its answer
//! came back. Asserted: the old certificate was presented before `activateAt`; the new one is
//! never presented in an answer that came back before `activateAt`; and no request sent a
//! second or more after `activateAt` (the SPEC's bound) still presents the old one, on either
//! instance, through either target. After the switch nothing presents the old version any more
//! (pooled connections are keyed by version). The lag from `activateAt` to each instance's
//! first answer with the new certificate is printed, not asserted: it is mostly the loop's
//! pace on a loaded machine. The staging happens 3 s before `activateAt`, so the other
//! instance's 250 ms notice poll has room on a loaded 2-core box; the 1 s assertion is about
//! which certificate a request got, never about how fast it came back, so a slow box slows the
//! loop but cannot fail it. A cancelled staging is then shown to be presented by nobody.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod mtls_targets;
mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use mtls_targets::{ClientAuth, ClientCert, EchoTarget, NginxTarget, Pki};
use serde_json::{json, Value};
use support::{Gateway, OpenBao, StoreKind};

fn now_millis() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis()).unwrap()
}

fn rfc3339_millis(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // civil_from_days (Howard Hinnant), as the server's clock module does.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, millis.rem_euclid(1000))
}

async fn call(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

struct Setup<'a> {
    pki: &'a Pki,
    old: ClientCert,
    echo: EchoTarget,
    nginx: NginxTarget,
    token: String,
    id: u64,
}

/// Which client certificate a target saw, by its CN.
fn presented(answer: &Value, certs: &[(&str, &ClientCert)]) -> String {
    let by_fingerprint = answer["clientCertSha256"].as_str();
    let subject = answer["subject"].as_str();
    for (name, cert) in certs {
        if by_fingerprint == Some(cert.fingerprint.as_str()) || subject.is_some_and(|s| s.contains(&format!("CN={name},")) || s.ends_with(&format!("CN={name}"))) {
            return (*name).to_owned();
        }
    }
    panic!("unknown certificate presented: {answer}");
}

async fn setup<'a>(pki: &'a Pki, first: &Gateway) -> Setup<'a> {
    let echo = EchoTarget::start(&pki.server_cert, &pki.server_key, &pki.ca_pem, ClientAuth::Required);
    let nginx = NginxTarget::start(&pki.server_cert, &pki.server_key, &pki.ca_pem, None);
    let (status, body) = call(support::client().post(format!("{}/admin/tokens", first.base_url())).bearer_auth(first.admin_token()).header("content-type", "application/json").body((json!({"sub": "rotator", "accounts": ["acc"], "ttlSeconds": 600})).to_string())).await;
    assert_eq!(status, 201, "{body}");
    let token = body["accessToken"].as_str().unwrap().to_owned();
    let old = pki.client("rot-old", false);
    let (status, body) = call(support::client().post(format!("{}/mtls/account/acc/certificates", first.base_url())).bearer_auth(&token)
        .header("content-type", "application/json").body((json!([{"name": "rotating", "p12": base64::engine::general_purpose::STANDARD.encode(&old.p12), "password": old.password}])).to_string())).await;
    assert_eq!(status, 201, "{body}");
    let id = body["successfulySavedCertificates"][0]["id"].as_u64().unwrap();
    for (name, url) in [("via-echo", echo.url("/echo")), ("via-nginx", nginx.url("/nginx"))] {
        let (status, body) = call(support::client().post(format!("{}/api/account/acc/configuration/ac-common/mtls?v=3.0", first.base_url())).bearer_auth(&token)
            .header("content-type", "application/json").body((json!([{"certificationId": id, "serviceId": "2", "url": url, "name": name, "enable": true}])).to_string())).await;
        assert_eq!(status, 201, "{body}");
    }
    Setup { pki, old, echo, nginx, token, id }
}

/// One forwarded request: (sent at, answered at, certificate CN seen by the target).
async fn forward(gateway: &Gateway, setup: &Setup<'_>, url: &str, certs: &[(&str, &ClientCert)]) -> (i64, i64, String) {
    let sent = now_millis();
    let (status, answer) = call(support::client().get(format!("{}/mtls/account/acc", gateway.base_url())).bearer_auth(&setup.token)
        .header("LP-forward-url", url).header("LP-service-name", "WEBHOOKS")).await;
    let answered = now_millis();
    assert_eq!(status, 200, "{answer}");
    (sent, answered, presented(&answer, certs))
}

async fn stage(gateway: &Gateway, setup: &Setup<'_>, cert: &ClientCert, activate_at: i64) -> Value {
    let (status, body) = call(support::client().put(format!("{}/mtls/account/acc/certificates/{}", gateway.base_url(), setup.id)).bearer_auth(&setup.token)
        .header("content-type", "application/json").body((json!({"p12": base64::engine::general_purpose::STANDARD.encode(&cert.p12), "password": cert.password, "activateAt": rfc3339_millis(activate_at)})).to_string())).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Forwards through every gateway and both targets until `until`; returns the samples per
/// gateway.
async fn sample_until(gateways: &[&Gateway], setup: &Setup<'_>, certs: &[(&str, &ClientCert)], until: i64) -> Vec<Vec<(i64, i64, String)>> {
    let urls = [setup.echo.url("/echo"), setup.nginx.url("/nginx")];
    let loops = gateways.iter().map(|gateway| {
        let urls = urls.clone();
        async move {
            let mut samples = Vec::new();
            let mut n = 0;
            while now_millis() < until {
                samples.push(forward(gateway, setup, &urls[n % 2], certs).await);
                n += 1;
            }
            samples
        }
    });
    futures_util::future::join_all(loops).await
}

async fn switch_on_every_instance(pki: &Pki, gateways: &[&Gateway]) {
    let setup = setup(pki, gateways[0]).await;
    let new = setup.pki.client("rot-new", false);
    let certs = [("rot-new", &new), ("rot-old", &setup.old)];
    // Warm every instance's runtime cache and connection pools with the old version.
    for gateway in gateways {
        for url in [setup.echo.url("/echo"), setup.nginx.url("/nginx")] {
            let (_, _, seen) = forward(gateway, &setup, &url, &certs).await;
            assert_eq!(seen, "rot-old");
        }
    }
    let activate_at = now_millis() + 3000;
    let staged = stage(gateways[0], &setup, &new, activate_at).await;
    assert_eq!(staged["version"], 1);
    assert_eq!(staged["pending"]["version"], 2);
    assert_eq!(staged["pending"]["fingerprintSha256"], new.fingerprint.as_str());
    let samples = sample_until(gateways, &setup, &certs, activate_at + 2000).await;
    for (index, samples) in samples.iter().enumerate() {
        assert!(samples.iter().any(|(_, answered, seen)| seen == "rot-old" && *answered < activate_at), "instance {index}: the old version before activateAt");
        for (sent, answered, seen) in samples {
            if seen == "rot-new" {
                assert!(*answered >= activate_at, "instance {index}: new version answered {} ms before activateAt", activate_at - answered);
            } else {
                assert!(*sent < activate_at + 1000, "instance {index}: old version for a request sent {} ms after activateAt", sent - activate_at);
            }
        }
        let first_new = samples.iter().find(|(_, _, seen)| seen == "rot-new").expect("the new version was presented");
        let last_old_sent = samples.iter().filter(|(_, _, seen)| seen == "rot-old").map(|(sent, _, _)| *sent).max().unwrap();
        println!(
            "staged switch, instance {index}: first answer with the new version {} ms after activateAt; last request answered with the old one sent {} ms after activateAt; {} requests",
            first_new.1 - activate_at, last_old_sent - activate_at, samples.len()
        );
        let after: Vec<_> = samples.iter().filter(|(sent, _, _)| *sent >= first_new.1).collect();
        assert!(after.iter().all(|(_, _, seen)| seen == "rot-new"), "instance {index}: the old version came back after the switch");
    }

    // A staging cancelled (through the other instance) is presented by nobody.
    let last = gateways[gateways.len() - 1];
    let never = setup.pki.client("rot-never", false);
    let certs = [("rot-new", &new), ("rot-never", &never)];
    let activate_at = now_millis() + 3000;
    stage(last, &setup, &never, activate_at).await;
    let (status, body) = call(support::client().delete(format!("{}/mtls/account/acc/certificates/{}/pending", gateways[0].base_url(), setup.id)).bearer_auth(&setup.token)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("pending").is_none(), "{body}");
    let samples = sample_until(gateways, &setup, &certs, activate_at + 1500).await;
    for samples in samples {
        assert!(samples.iter().all(|(_, _, seen)| seen == "rot-new"), "a cancelled version was presented");
    }
    for gateway in gateways {
        let logs = gateway.logs();
        assert!(!logs.contains(&new.password) && !logs.contains(&setup.token), "secret in logs");
    }
}

fn gateway_env(pki: &Pki) -> Vec<(&'static str, String)> {
    vec![
        ("MTLS_ALLOWED_TARGET_CIDRS", "127.0.0.0/8".to_owned()),
        ("MTLS_EXTRA_TARGET_CA_FILE", pki.ca_pem.display().to_string()),
        ("MTLS_RATE_LIMIT_PER_SECOND", "100000".to_owned()),
        ("MTLS_RATE_LIMIT_BURST", "100000".to_owned()),
    ]
}

#[tokio::test]
async fn two_instances_on_openbao_switch_within_a_second_of_activate_at() {
    let bao = OpenBao::start();
    let pki = Pki::new();
    let mut env = gateway_env(&pki);
    env.push(("MTLS_ADMIN_TOKEN", support::random_token()));
    env.push(("MTLS_VAULT_PREFIX", format!("mtls-{}", support::random_token())));
    let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let first = Gateway::spawn_on(StoreKind::Vault(&bao), &env);
    let second = Gateway::spawn_on(StoreKind::Vault(&bao), &env);
    switch_on_every_instance(&pki, &[&first, &second]).await;
}

#[tokio::test]
async fn one_instance_on_the_embedded_store_switches_within_a_second_of_activate_at() {
    let pki = Pki::new();
    let env = gateway_env(&pki);
    let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let gateway = Gateway::spawn_on(StoreKind::Embedded, &env);
    switch_on_every_instance(&pki, &[&gateway]).await;
}
