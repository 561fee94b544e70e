//! Signs requests with the SDK's oAuth1 signer and prints the `Authorization` values: the Rust
//! side of the npm client's shared-vector test (`tests/node/client-oauth1.test.mjs`), which
//! checks that the TypeScript signer produces the same bytes.
//!
//! Usage: `cargo run -p mtls-sdk --example oauth1_sign < vectors.json`, where the input is a JSON
//! array of `{method, url, form: [[name, value]], consumerKey, consumerSecret, token?,
//! tokenSecret?, signatureMethod, nonce, timestamp}`; the output is a JSON array of strings.

use std::io::Read as _;
use std::process::ExitCode;

use mtls_sdk::{oauth1_authorization, OAuth1Credentials, OAuth1SignatureMethod};
use serde_json::Value;

fn main() -> ExitCode {
    let mut input = String::new();
    if std::io::stdin().read_to_string(&mut input).is_err() {
        eprintln!("stdin is not UTF-8 text");
        return ExitCode::from(65);
    }
    let vectors: Vec<Value> = match serde_json::from_str(&input) {
        Ok(vectors) => vectors,
        Err(error) => {
            eprintln!("input is not a JSON array of vectors: {error}");
            return ExitCode::from(65);
        }
    };
    let mut out = Vec::new();
    for (index, vector) in vectors.iter().enumerate() {
        match sign(vector) {
            Some(header) => out.push(Value::String(header)),
            None => {
                eprintln!("vector {index} lacks a field or has a wrong type");
                return ExitCode::from(65);
            }
        }
    }
    println!("{}", Value::Array(out));
    ExitCode::SUCCESS
}

fn sign(vector: &Value) -> Option<String> {
    let text = |name: &str| vector.get(name).and_then(Value::as_str).map(str::to_owned);
    let url = url::Url::parse(&text("url")?).ok()?;
    let form = vector
        .get("form")?
        .as_array()?
        .iter()
        .map(|pair| Some((pair.get(0)?.as_str()?.to_owned(), pair.get(1)?.as_str()?.to_owned())))
        .collect::<Option<Vec<_>>>()?;
    let credentials = OAuth1Credentials {
        consumer_key: text("consumerKey")?,
        consumer_secret: text("consumerSecret")?,
        token: text("token"),
        token_secret: text("tokenSecret"),
    };
    let method = match text("signatureMethod")?.as_str() {
        "HMAC-SHA1" => OAuth1SignatureMethod::HmacSha1,
        "HMAC-SHA256" => OAuth1SignatureMethod::HmacSha256,
        _ => return None,
    };
    let timestamp = vector.get("timestamp")?.as_u64()?;
    Some(oauth1_authorization(
        &text("method")?,
        &url,
        &form,
        &credentials,
        method,
        &text("nonce")?,
        timestamp,
    ))
}
