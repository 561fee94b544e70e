//! Times `inspect_p12` on one file: the native column of `tests/bench/inspect/`.
//!
//! Usage: `cargo run --release -p mtls-sdk --example bench_inspect -- <file> <password> <runs>`.
//! Prints one JSON line: `{"runs": n, "meanMicros": m, "minMicros": m, "usable": b}`. Run with
//! `--release`; a debug build measures the compiler, not the code.

use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use mtls_sdk::InspectOptions;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, password, runs] = args.as_slice() else {
        eprintln!("usage: bench_inspect <file> <password> <runs>");
        return ExitCode::from(64);
    };
    let Ok(runs) = runs.parse::<u32>() else {
        eprintln!("<runs> must be a positive integer");
        return ExitCode::from(64);
    };
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("cannot read {file}: {error}");
            return ExitCode::from(66);
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let options = InspectOptions::at(now);

    // One warm-up run, as the WASM and Python columns do.
    let mut usable = mtls_sdk::inspect_p12(&bytes, password, &options).usable;
    let (mut total, mut min) = (0.0_f64, f64::INFINITY);
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        usable = std::hint::black_box(mtls_sdk::inspect_p12(&bytes, password, &options)).usable;
        let micros = start.elapsed().as_secs_f64() * 1e6;
        total += micros;
        min = min.min(micros);
    }
    println!(
        "{{\"runs\": {}, \"meanMicros\": {:.1}, \"minMicros\": {:.1}, \"usable\": {}}}",
        runs.max(1),
        total / f64::from(runs.max(1)),
        min,
        usable
    );
    ExitCode::SUCCESS
}
