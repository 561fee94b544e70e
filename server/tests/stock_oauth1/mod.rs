//! Drives `tests/oauth1_client.py`: requests signed by requests-oauthlib (oauthlib), a stock
//! RFC 5849 client, so the gateway's verifier is checked against an implementation not ours.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

/// Runs the client over `spec` (its input format is documented in the script); returns one
/// `{status, body, wwwAuthenticate}` per request, in order.
pub fn run(spec: &Value) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oauth1_client.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (scripts/install-test-deps.sh installs requests-oauthlib)");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(spec.to_string().as_bytes())
        .expect("spec written to the client");
    let out = child.wait_with_output().expect("the client ran");
    assert!(out.status.success(), "oauth1 client failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the client prints JSON")
}
