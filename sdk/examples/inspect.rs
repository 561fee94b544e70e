//! Prints the P12 report of a file as JSON: the native side of the Node and browser tests, which
//! check that the npm package returns exactly this report.
//!
//! Usage: `cargo run -p mtls-sdk --example inspect -- <file> <password> [<now> [<max-iterations>]]`
//! where `<now>` is seconds since the Unix epoch (default: the system clock).

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use mtls_sdk::{DEFAULT_MAX_ITERATIONS, InspectOptions};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, password, rest @ ..] = args.as_slice() else {
        eprintln!("usage: inspect <file> <password> [<now-unix-seconds> [<max-iterations>]]");
        return ExitCode::from(64);
    };
    let now_unix = match rest.first() {
        Some(now) => match now.parse::<i64>() {
            Ok(now) => now,
            Err(_) => return usage_error("<now> must be an integer of seconds since 1970"),
        },
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    };
    let max_iterations = match rest.get(1) {
        Some(cap) => match cap.parse::<u64>() {
            Ok(cap) => cap,
            Err(_) => return usage_error("<max-iterations> must be a positive integer"),
        },
        None => DEFAULT_MAX_ITERATIONS,
    };
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("cannot read {file}: {error}");
            return ExitCode::from(66);
        }
    };
    let report = mtls_sdk::inspect_p12(
        &bytes,
        password,
        &InspectOptions::new(now_unix, max_iterations),
    );
    match serde_json::to_string(&report) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("cannot serialise the report: {error}");
            ExitCode::FAILURE
        }
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(64)
}
