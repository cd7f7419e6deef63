//! Helpers for tests that drive the real `cloudward` binary: start `serve` on a free port
//! with a temp data dir, run client commands, speak raw HTTP to `/healthz`.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_cloudward");

/// A root AccessKey the tests supply through `CLOUDWARD_ROOT_ACCESS_KEY_*`.
pub const ROOT_ID: &str = "LTAI5tTestRootKey0000001";
/// Its secret.
pub const ROOT_SECRET: &str = "TestRootSecretTestRootSecret01";

/// Environment variables that would change the binary's behaviour behind a test's back.
const SCRUBBED_ENV: &[&str] = &[
    "CLOUDWARD_CONFIG",
    "CLOUDWARD_DATA_DIR",
    "CLOUDWARD_LISTEN",
    "CLOUDWARD_TLS_CERT",
    "CLOUDWARD_TLS_KEY",
    "CLOUDWARD_DATABASE_URL",
    "CLOUDWARD_ROOT_KEY_FILE",
    "CLOUDWARD_ROOT_KEY",
    "CLOUDWARD_REGION",
    "CLOUDWARD_MAX_BODY_BYTES",
    "CLOUDWARD_AUDIT_DURABILITY",
    "CLOUDWARD_LOG_FORMAT",
    "CLOUDWARD_LOG",
    "CLOUDWARD_ROOT_ACCESS_KEY_ID",
    "CLOUDWARD_ROOT_ACCESS_KEY_SECRET",
    "CLOUDWARD_CONFIG_FILE",
    "CLOUDWARD_ENDPOINT",
    "CLOUDWARD_ACCESS_KEY_ID",
    "CLOUDWARD_ACCESS_KEY_SECRET",
    "CLOUDWARD_SECURITY_TOKEN",
    "CLOUDWARD_PROFILE",
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// A `cloudward` command with a clean environment (no inherited `CLOUDWARD_*`, no proxies).
pub fn cloudward() -> Command {
    let mut cmd = Command::new(BIN);
    for name in SCRUBBED_ENV {
        cmd.env_remove(name);
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

/// How to start a server.
pub struct ServeOpts {
    /// Extra arguments after `serve`.
    pub args: Vec<String>,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// Supply `ROOT_ID`/`ROOT_SECRET` (otherwise the server generates and prints a key).
    pub supply_root_key: bool,
    /// Pass `--listen 127.0.0.1:0` (off when the test chooses the address itself).
    pub listen_any: bool,
}

impl Default for ServeOpts {
    fn default() -> Self {
        Self {
            args: Vec::new(),
            env: Vec::new(),
            supply_root_key: true,
            listen_any: true,
        }
    }
}

/// A running `cloudward serve` child; killed on drop.
pub struct ServerProc {
    pub child: Child,
    pub addr: SocketAddr,
    pub stdout: Arc<Mutex<String>>,
    pub stderr: Arc<Mutex<String>>,
}

/// Why a server did not come up: its exit status (if it exited) and its output.
#[derive(Debug)]
pub struct StartFailure {
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
}

fn pump(
    stream: impl Read + Send + 'static,
    sink: Arc<Mutex<String>>,
    lines: Option<mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        let reader = BufReader::new(stream);
        for line in reader.lines() {
            let Ok(line) = line else { break };
            {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
            if let Some(tx) = &lines {
                let _ = tx.send(line);
            }
        }
    });
}

/// The `addr` field of the JSON "cloudward is serving" log line.
fn serving_addr(line: &str) -> Option<SocketAddr> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    let fields = value.get("fields")?;
    if fields.get("message")?.as_str()? != "cloudward is serving" {
        return None;
    }
    fields.get("addr")?.as_str()?.parse().ok()
}

/// Starts `cloudward serve --data-dir <data_dir>` and waits until it answers `/healthz`.
pub fn try_start(data_dir: &Path, opts: ServeOpts) -> Result<ServerProc, StartFailure> {
    try_start_in(Some(data_dir), opts)
}

/// Starts `cloudward serve` without `--data-dir` (the config file or environment names it).
pub fn start_without_data_dir(opts: ServeOpts) -> ServerProc {
    unwrap_started(try_start_in(None, opts))
}

fn try_start_in(data_dir: Option<&Path>, opts: ServeOpts) -> Result<ServerProc, StartFailure> {
    // A TLS listener does not answer the plain-HTTP health probe; the "serving" line is
    // logged after the socket is bound, which is enough there.
    let tls = opts.args.iter().any(|a| a == "--tls-cert");
    let mut cmd = cloudward();
    cmd.arg("serve");
    if let Some(dir) = data_dir {
        cmd.arg("--data-dir").arg(dir);
    }
    cmd.args(["--log-format", "json", "--log", "info"])
        .args(["--audit-durability", "os"]);
    if opts.listen_any {
        cmd.args(["--listen", "127.0.0.1:0"]);
    }
    cmd.args(&opts.args);
    if opts.supply_root_key {
        cmd.env("CLOUDWARD_ROOT_ACCESS_KEY_ID", ROOT_ID)
            .env("CLOUDWARD_ROOT_ACCESS_KEY_SECRET", ROOT_SECRET);
    }
    for (k, v) in &opts.env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("cannot spawn cloudward serve");
    let stdout = Arc::new(Mutex::new(String::new()));
    let stderr = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = mpsc::channel();
    pump(child.stdout.take().unwrap(), stdout.clone(), None);
    pump(child.stderr.take().unwrap(), stderr.clone(), Some(tx));
    let deadline = Instant::now() + Duration::from_secs(30);
    let failure = |child: &mut Child, status: Option<ExitStatus>| {
        let status = status.or_else(|| {
            let _ = child.kill();
            child.wait().ok()
        });
        // Let the pump threads drain what is left.
        std::thread::sleep(Duration::from_millis(50));
        StartFailure {
            status,
            stdout: stdout.lock().unwrap().clone(),
            stderr: stderr.lock().unwrap().clone(),
        }
    };
    let addr = loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(line) => {
                if let Some(addr) = serving_addr(&line) {
                    break addr;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait().ok();
                return Err(failure(&mut child, status));
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            // Drain the remaining lines: the serving line may be among them.
            return Err(failure(&mut child, Some(status)));
        }
        if Instant::now() > deadline {
            return Err(failure(&mut child, None));
        }
    };
    let server = ServerProc {
        child,
        addr,
        stdout: stdout.clone(),
        stderr: stderr.clone(),
    };
    if !tls {
        wait_healthy(addr, deadline);
    }
    Ok(server)
}

/// [`try_start`] that panics with the server's output when it does not come up.
pub fn start(data_dir: &Path, opts: ServeOpts) -> ServerProc {
    unwrap_started(try_start(data_dir, opts))
}

fn unwrap_started(result: Result<ServerProc, StartFailure>) -> ServerProc {
    match result {
        Ok(server) => server,
        Err(fail) => panic!(
            "cloudward serve did not start (status {:?})\n--- stdout\n{}\n--- stderr\n{}",
            fail.status, fail.stdout, fail.stderr
        ),
    }
}

/// Polls `/healthz` until it answers 200.
pub fn wait_healthy(addr: SocketAddr, deadline: Instant) {
    loop {
        if let Ok((200, _)) = http_get(addr, "/healthz") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{addr}/healthz never answered 200"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A minimal HTTP/1.0 GET: (status, body).
pub fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw)?;
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad response: {raw:?}")))?;
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

impl ServerProc {
    /// `http://127.0.0.1:port`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Everything the server wrote to stdout so far.
    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// Everything the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(mut self) -> (ExitStatus, String, String) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("cannot run kill");
        assert!(killed.success(), "kill -TERM {pid} failed");
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "server did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        std::thread::sleep(Duration::from_millis(50));
        (status, self.stdout(), self.stderr())
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A client command (`call`, `configure`, ...) pointed at `endpoint` through the
/// environment, with the supplied root key.
pub fn client(endpoint: &str) -> Command {
    let mut cmd = cloudward();
    cmd.env("CLOUDWARD_ENDPOINT", endpoint)
        .env("CLOUDWARD_ACCESS_KEY_ID", ROOT_ID)
        .env("CLOUDWARD_ACCESS_KEY_SECRET", ROOT_SECRET)
        // No profile file: the environment alone must be enough.
        .env(
            "CLOUDWARD_CONFIG_FILE",
            "/nonexistent/cloudward-test/config.json",
        )
        .stdin(Stdio::null());
    cmd
}

/// Runs a command to completion, with a timeout.
pub fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("cannot spawn cloudward");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("command did not finish within 60 s")
        .expect("cannot wait for cloudward")
}

/// Exit code, stdout, stderr of a finished command.
pub fn outcome(output: &Output) -> (Option<i32>, String, String) {
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `GetCallerIdentity` through the CLI; returns the parsed JSON body.
pub fn caller_identity(cmd: &mut Command, extra: &[&str]) -> serde_json::Value {
    let output = run(cmd.args(["call", "Sts", "GetCallerIdentity"]).args(extra));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(
        code,
        Some(0),
        "GetCallerIdentity failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|err| panic!("stdout is not JSON ({err}): {stdout}"))
}

/// A fresh temp dir.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("cannot create a temp dir")
}

/// Path inside a temp dir.
pub fn path_in(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// Runs a command with `input` on its stdin.
pub fn run_with_stdin(cmd: &mut Command, input: &str) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("cannot spawn cloudward");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("command did not finish within 60 s")
        .expect("cannot wait for cloudward")
}

/// A loopback address nothing listens on (bound, then released).
pub fn dead_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr
}

// ------------------------------------------------------------------ official-SDK scripts

/// Proxy variables removed from an SDK script's environment.
const PROXY_ENV: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// Credential variables the Alibaba Cloud SDKs would pick up behind a test's back.
const ALIBABA_ENV: &[&str] = &[
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALIBABA_CLOUD_PROFILE",
    "ALIBABA_CLOUD_CREDENTIALS_FILE",
];

/// The Python with the official SDKs (`CLOUDWARD_TEST_PYTHON`), or `None` after a loud
/// `SKIPPED` banner naming `test`. Under `CI` a missing Python fails the test instead.
pub fn sdk_python(test: &str) -> Option<String> {
    match std::env::var("CLOUDWARD_TEST_PYTHON") {
        Ok(python) if !python.is_empty() => Some(python),
        _ => {
            let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
            assert!(
                !ci,
                "CLOUDWARD_TEST_PYTHON is not set but CI is: the official-SDK test {test} must run in CI (use scripts/test.sh)"
            );
            eprintln!(
                "\n========================================================================\n\
                 SKIPPED: official-SDK compatibility test ({test}): CLOUDWARD_TEST_PYTHON is not set.\n\
                 Run scripts/test.sh, or set CLOUDWARD_TEST_PYTHON to a python with tests/sdk/requirements.txt.\n\
                 ========================================================================\n"
            );
            None
        }
    }
}

/// `tests/sdk/<name>` in the repository.
pub fn sdk_script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/sdk")
        .join(name)
}

/// `python tests/sdk/<script> <args>` with the `CLOUDWARD_TEST_*` environment the SDK scripts
/// read (endpoint `host:port`, the supplied root key, the account id), unbuffered output and
/// no proxies or Alibaba Cloud credentials from the outside.
pub fn sdk_command(
    python: &str,
    script: &str,
    args: &[&str],
    addr: SocketAddr,
    account_id: &str,
) -> Command {
    let mut cmd = Command::new(python);
    cmd.arg(sdk_script(script))
        .args(args)
        .current_dir(sdk_script(""))
        .env("CLOUDWARD_TEST_ENDPOINT", addr.to_string())
        .env("CLOUDWARD_TEST_ACCESS_KEY_ID", ROOT_ID)
        .env("CLOUDWARD_TEST_ACCESS_KEY_SECRET", ROOT_SECRET)
        .env("CLOUDWARD_TEST_ACCOUNT_ID", account_id)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    for var in PROXY_ENV.iter().chain(ALIBABA_ENV) {
        cmd.env_remove(var);
    }
    cmd
}

/// [`run`] with a chosen timeout (SDK scripts make hundreds of calls on a loaded machine).
pub fn run_for(cmd: &mut Command, timeout: Duration) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("cannot spawn the command");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(timeout) {
        Ok(output) => output.expect("cannot wait for the command"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("the command did not finish within {timeout:?}: {cmd:?}");
        }
    }
}

/// Prints an SDK script's output and asserts it exited 0 (its checks all passed, with no
/// known failures); on failure shows the script's stdout/stderr and `server_log`.
#[track_caller]
pub fn assert_sdk_script_passed(script: &str, output: &Output, server_log: &str) {
    let (code, stdout, stderr) = outcome(output);
    println!("--- {script}\n{stdout}");
    if !stderr.is_empty() {
        println!("--- {script} stderr\n{stderr}");
    }
    assert_eq!(
        code,
        Some(0),
        "the official-SDK script {script} failed (exit {code:?})\n--- script output\n{stdout}\n--- script stderr\n{stderr}\n--- server log (tail)\n{}",
        tail(server_log, 200)
    );
    assert!(
        stdout.contains(" failed, 0 known failures") && stdout.contains(" 0 failed"),
        "unexpected {script} output:\n{stdout}"
    );
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
