//! Shared harness of the CSR and P12-builder tests: a temporary directory, the `openssl` CLI,
//! a two-level test CA made with it, and the JDK loader (`tests/java/LoadP12.java`).
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory under the system temp dir, removed on drop.
pub struct TestDir {
    path: PathBuf,
}

impl TestDir {
    pub fn new(name: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("mtls-sdk-{name}-{}-{unique}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self { path }
    }

    pub fn path(&self, file: &str) -> String {
        self.path.join(file).to_string_lossy().into_owned()
    }

    /// Writes `bytes` to `file` in the directory and returns its path.
    pub fn write(&self, file: &str, bytes: impl AsRef<[u8]>) -> String {
        let path = self.path(file);
        std::fs::write(&path, bytes).expect("write fixture");
        path
    }

    pub fn read_string(&self, file: &str) -> String {
        std::fs::read_to_string(self.path(file)).expect("read fixture")
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The result of a command, as text.
pub struct Run {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Self {
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

pub fn openssl(args: &[&str]) -> Run {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl")
        .into()
}

/// Runs openssl and returns stdout; panics with stderr when it fails.
pub fn openssl_ok(args: &[&str]) -> String {
    let run = openssl(args);
    assert!(
        run.status.success(),
        "openssl {args:?} failed:\n{}",
        run.stderr
    );
    run.stdout
}

/// A root CA and an intermediate CA (P-256, valid two days), made with `openssl`.
pub struct TestCa {
    pub root_pem: String,
    pub intermediate_pem: String,
    intermediate_cert: String,
    intermediate_key: String,
    extensions: String,
}

impl TestCa {
    pub fn new(dir: &TestDir) -> Self {
        let root_key = dir.path("root.key");
        let root_cert = dir.path("root.pem");
        openssl_ok(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-noenc",
            "-keyout",
            &root_key,
            "-out",
            &root_cert,
            "-days",
            "2",
            "-subj",
            "/CN=Test Root",
        ]);
        let intermediate_key = dir.path("intermediate.key");
        let intermediate_csr = dir.path("intermediate.csr");
        let intermediate_cert = dir.path("intermediate.pem");
        openssl_ok(&[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-noenc",
            "-keyout",
            &intermediate_key,
            "-out",
            &intermediate_csr,
            "-subj",
            "/CN=Test Intermediate",
        ]);
        let ca_extensions = dir.write(
            "ca.ext",
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
        );
        openssl_ok(&[
            "x509",
            "-req",
            "-in",
            &intermediate_csr,
            "-CA",
            &root_cert,
            "-CAkey",
            &root_key,
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ca_extensions,
            "-out",
            &intermediate_cert,
        ]);
        let extensions = dir.write("leaf.ext", "basicConstraints=CA:FALSE\n");
        Self {
            root_pem: dir.read_string("root.pem"),
            intermediate_pem: dir.read_string("intermediate.pem"),
            intermediate_cert,
            intermediate_key,
            extensions,
        }
    }

    /// Signs the CSR at `csr_path` with the intermediate, copying the requested extensions as
    /// a CA that honours them does; returns the leaf PEM.
    pub fn sign(&self, dir: &TestDir, csr_path: &str, name: &str) -> String {
        let out = dir.path(&format!("{name}.crt"));
        openssl_ok(&[
            "x509",
            "-req",
            "-in",
            csr_path,
            "-CA",
            &self.intermediate_cert,
            "-CAkey",
            &self.intermediate_key,
            "-CAcreateserial",
            "-days",
            "2",
            "-copy_extensions",
            "copy",
            "-extfile",
            &self.extensions,
            "-out",
            &out,
        ]);
        std::fs::read_to_string(out).expect("read leaf")
    }
}

/// Runs `LoadP12.java` once over every file; returns its output lines.
pub fn run_java_loader(password: &str, files: &[String]) -> Vec<String> {
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/LoadP12.java");
    let output = Command::new("java")
        .arg(program)
        .arg(hex::encode(password.as_bytes()))
        .args(files)
        .output()
        .expect("run java");
    let run = Run::from(output);
    assert!(
        run.status.success(),
        "java failed:\n{}\n{}",
        run.stdout,
        run.stderr
    );
    run.stdout.lines().map(str::to_owned).collect()
}
