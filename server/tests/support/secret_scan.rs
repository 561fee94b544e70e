//! SPEC 11 ("never a private key, P12, password or token in a log line") as a check over every
//! log line of the integration tests: each [`super::Gateway`] scans its captured output when it
//! is dropped and fails the test that owned it on any finding.
//!
//! Two kinds of evidence:
//! - shapes that are secret whatever their value: PEM private keys, DER/BER PFX headers in
//!   base64, hex or as a JSON byte array, JWTs (header.payload.), and JSON fields that only ever
//!   carry secrets (`"password"`, `"consumerSecret"`, `"tokenSecret"`, `"p12"`);
//! - exact values the tests know to be secret: the gateway's own admin token, Vault token,
//!   AppRole secret id and data key, plus whatever a test registers with [`register_secret`]
//!   (issued Bearer tokens, app key secrets, P12 passwords).

use std::sync::Mutex;

/// Values no gateway may ever log, registered by the tests that create them.
static REGISTERED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Shorter values could occur in logs by chance (a password "secret" in "secret_id"), so they
/// are not registered.
const MIN_SECRET_LEN: usize = 12;

/// Marks `secret` as a value that must never appear in a gateway's log.
pub fn register_secret(secret: &str) {
    if secret.len() >= MIN_SECRET_LEN {
        let mut registered = REGISTERED.lock().unwrap_or_else(|p| p.into_inner());
        if !registered.iter().any(|s| s == secret) {
            registered.push(secret.to_owned());
        }
    }
}

/// Text patterns that are secret whatever their value, with what each one means.
const SHAPES: &[(&str, &str)] = &[
    ("PRIVATE KEY-----", "a PEM private key"),
    // A PFX starts `30 82 LL LL 02 01 03 30 ..` (DER) or `30 80 02 01 03 30 ..` (BER); the
    // version and the next SEQUENCE give these base64 groups when the outer length takes 2
    // bytes (every real file), and these hex and JSON byte-array runs whatever the length.
    ("IBAzCC", "P12 bytes in base64"),
    ("IBAzCA", "P12 bytes in base64"),
    ("0201033082", "P12 bytes in hex"),
    ("0201033080", "P12 bytes in hex"),
    (",2,1,3,48,", "P12 bytes as a JSON byte array"),
    ("\"password\":\"", "a password field"),
    ("\"consumerSecret\"", "an app key secret"),
    ("\"tokenSecret\"", "an app key token secret"),
    ("\"p12\":", "a P12 field"),
];

/// What in `logs` looks like a secret: one line per finding, naming the kind and the log line
/// number (never the value itself, so the failure message does not leak it either).
pub fn findings(logs: &str, own_secrets: &[&str]) -> Vec<String> {
    let registered = REGISTERED.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let mut found = Vec::new();
    for (number, line) in logs.lines().enumerate() {
        let number = number + 1;
        for (shape, what) in SHAPES {
            if line.contains(shape) {
                found.push(format!("line {number}: {what}"));
            }
        }
        if contains_jwt(line) {
            found.push(format!("line {number}: a JWT"));
        }
        for secret in own_secrets.iter().copied().chain(registered.iter().map(String::as_str)) {
            if secret.len() >= MIN_SECRET_LEN && line.contains(secret) {
                found.push(format!("line {number}: a credential or password the test knows"));
            }
        }
    }
    found
}

/// `eyJ<base64url>.eyJ<base64url>.`: a JSON Web Token's header and claims (both JSON objects
/// start `{"`, which base64url-encodes to `eyJ`).
fn contains_jwt(line: &str) -> bool {
    let is_b64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let bytes = line.as_bytes();
    let mut start = 0;
    while let Some(at) = line[start..].find("eyJ").map(|i| i + start) {
        let header_end = bytes[at..].iter().position(|&b| !is_b64url(b)).map_or(bytes.len(), |i| i + at);
        if bytes.get(header_end) == Some(&b'.') && line[header_end + 1..].starts_with("eyJ") {
            return true;
        }
        start = at + 3;
    }
    false
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_each_shape_and_names_no_value() {
        use super::findings;
        let jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
        let logs = format!("ok\nrequest with Bearer {jwt}\n-----BEGIN PRIVATE KEY-----\nbody [48,130,3,1,2,1,3,48,130]\n");
        let found = findings(&logs, &["an-admin-token-value"]);
        assert_eq!(found, ["line 2: a JWT", "line 3: a PEM private key", "line 4: P12 bytes as a JSON byte array"]);
        assert!(findings("admin an-admin-token-value used", &["an-admin-token-value"]).len() == 1);
        assert!(findings("a eyJ alone, eyJabc.notjwt", &[]).is_empty());
        assert!(found.iter().all(|f| !f.contains("eyJ")));
    }
}
