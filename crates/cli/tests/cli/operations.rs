//! Operating `tessera serve`: structured JSON logs with request ids and audit events, secrets
//! kept out of them, and Prometheus metrics on their own listener. Each test runs the built
//! binary against a fresh data directory and talks to it over real HTTP.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::Dir;

/// Cheap Argon2id so the tests are quick.
pub(crate) const CHEAP: [(&str, &str); 2] = [
    ("TESSERA_PASSWORD_HASH_MEMORY_KIB", "1024"),
    ("TESSERA_PASSWORD_HASH_ITERATIONS", "1"),
];

/// A command with no inherited `TESSERA_*`/`NOTIFY_SOCKET` variables, plus the cheap settings.
pub(crate) fn command(dir: &Dir, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = dir.command(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("TESSERA_") || k == "NOTIFY_SOCKET" {
            cmd.env_remove(k);
        }
    }
    cmd.envs(CHEAP).envs(env.iter().copied());
    cmd
}

/// `tessera user create NAME --password-stdin`.
pub(crate) fn create_user(dir: &Dir, name: &str, password: &str) {
    let mut child = command(dir, &["user", "create", name, "--password-stdin"], &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawning tessera user create");
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    assert!(child.wait().unwrap().success(), "user create failed");
}

/// A running `tessera serve --listen 127.0.0.1:0`; killed if still running when dropped.
pub(crate) struct Served {
    pub(crate) child: Child,
    pub(crate) port: u16,
    pub(crate) metrics_port: Option<u16>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Served {
    pub(crate) fn start(dir: &Dir, env: &[(&str, &str)]) -> Served {
        let mut child = command(dir, &["serve", "--listen", "127.0.0.1:0"], env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning tessera serve");
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut all = String::new();
            let _ = stderr.read_to_string(&mut all);
            all
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let port_of = |line: &str| -> u16 {
            let addr = line.trim().rsplit("://").next().unwrap_or_default();
            let addr = addr.split('/').next().unwrap_or_default();
            addr.rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(|| panic!("no address in {line:?}"))
        };
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert!(line.starts_with("tessera listening on http://"), "{line:?}");
        let port = port_of(&line);
        let metrics_port = env
            .iter()
            .any(|(k, _)| *k == "TESSERA_METRICS_LISTEN")
            .then(|| {
                let mut line = String::new();
                stdout.read_line(&mut line).unwrap();
                assert!(line.starts_with("tessera metrics on http://"), "{line:?}");
                port_of(&line)
            });
        Served {
            child,
            port,
            metrics_port,
            stderr: Some(stderr),
        }
    }

    /// Sends `signal` (`TERM`, `INT`) with kill(1).
    pub(crate) fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .expect("running kill");
        assert!(status.success());
    }

    /// Waits for the process to exit (a hang guard, not a timing assertion) and returns its exit
    /// code and everything it wrote to stderr.
    pub(crate) fn wait_exit(&mut self) -> (Option<i32>, String) {
        let limit = Instant::now() + Duration::from_secs(120);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < limit, "tessera serve did not exit");
            std::thread::sleep(Duration::from_millis(20));
        };
        let stderr = self.stderr.take().unwrap().join().unwrap();
        (status.code(), stderr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw HTTP/1.1 answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) head: String,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// A header's value (names compared case-insensitively).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Reads one `Connection: close` answer to its end.
pub(crate) fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    Answer {
        status: head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0),
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// One request on a fresh connection; `headers` are complete `Name: value` lines.
pub(crate) fn request(port: u16, method: &str, path: &str, headers: &[&str], body: &str) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    if !body.is_empty() {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    write!(stream, "{head}\r\n{body}").unwrap();
    read_answer(&mut stream)
}

pub(crate) fn login_body(user: &str, password: &str) -> String {
    serde_json::json!({"username": user, "password": password}).to_string()
}

/// The value of the sample `name{labels}` in a Prometheus text exposition.
fn sample(exposition: &str, name_and_labels: &str) -> Option<f64> {
    exposition.lines().find_map(|l| {
        let rest = l.strip_prefix(name_and_labels)?;
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}

#[test]
fn json_logs_have_request_ids_and_audit_events_and_no_secrets_and_metrics_count() {
    const PASSWORD: &str = "Correct-Horse-Battery-Staple-7";
    const WRONG: &str = "Wrong-Horse-Battery-Staple-8";
    let dir = Dir::new();
    create_user(&dir, "alice", PASSWORD);
    let mut server = Served::start(
        &dir,
        &[
            ("TESSERA_LOG_FORMAT", "json"),
            ("TESSERA_LOG", "info"),
            ("TESSERA_METRICS_LISTEN", "127.0.0.1:0"),
        ],
    );
    let port = server.port;

    let ok = request(
        port,
        "POST",
        "/api/token/",
        &[],
        &login_body("alice", PASSWORD),
    );
    assert_eq!(ok.status, 200, "{ok:?}");
    let access = ok.json()["access"].as_str().unwrap().to_owned();
    let refresh = ok.json()["refresh"].as_str().unwrap().to_owned();
    let bad = request(
        port,
        "POST",
        "/api/token/",
        &[],
        &login_body("alice", WRONG),
    );
    assert_eq!(bad.status, 401);
    let auth = format!("Authorization: Bearer {access}");
    let me = request(
        port,
        "GET",
        "/api/me/",
        &[
            &auth,
            "Cookie: sessionid=cookie-secret-value",
            "X-Request-Id: req-test-42",
        ],
        "",
    );
    assert_eq!(me.status, 200, "{me:?}");
    assert_eq!(me.header("x-request-id"), Some("req-test-42"));
    // A malformed id is replaced by a generated one.
    let health = request(port, "GET", "/healthz", &["X-Request-Id: bad id!"], "");
    let generated = health.header("x-request-id").unwrap();
    assert!(
        !generated.is_empty() && generated != "bad id!",
        "{generated}"
    );
    let body = serde_json::json!({ "refresh": refresh }).to_string();
    let refreshed = request(port, "POST", "/api/token/refresh/", &[], &body);
    assert_eq!(refreshed.status, 200);

    // Metrics, over HTTP on the second listener (absent from the API listener).
    assert_eq!(request(port, "GET", "/metrics", &[], "").status, 404);
    let scrape = request(server.metrics_port.unwrap(), "GET", "/metrics", &[], "");
    assert_eq!(scrape.status, 200);
    let m = &scrape.body;
    assert_eq!(
        sample(m, r#"tessera_logins_total{result="succeeded"}"#),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        sample(m, r#"tessera_logins_total{result="failed"}"#),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        sample(m, r#"tessera_refreshes_total{outcome="rotated"}"#),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        sample(
            m,
            r#"tessera_http_requests_total{method="POST",route="/api/token/",status="401"}"#
        ),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        sample(
            m,
            r#"tessera_http_requests_total{method="GET",route="/api/me/",status="200"}"#
        ),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        sample(
            m,
            r#"tessera_http_request_duration_seconds_count{method="POST",route="/api/token/",status="200"}"#
        ),
        Some(1.0),
        "{m}"
    );
    assert!(
        m.contains("tessera_http_request_duration_seconds_bucket{"),
        "{m}"
    );
    assert_eq!(
        sample(m, "tessera_password_hash_queue_depth"),
        Some(0.0),
        "{m}"
    );

    // A reuse of the spent refresh token is detected, counted and revokes the family.
    let reuse_body = serde_json::json!({ "refresh": refresh }).to_string();
    // Past the grace window is not needed: presenting a token two generations old is reuse.
    let second = refreshed.json()["refresh"].as_str().unwrap().to_owned();
    let again = serde_json::json!({ "refresh": second }).to_string();
    assert_eq!(
        request(port, "POST", "/api/token/refresh/", &[], &again).status,
        200
    );
    assert_eq!(
        request(port, "POST", "/api/token/refresh/", &[], &reuse_body).status,
        401
    );
    let m = request(server.metrics_port.unwrap(), "GET", "/metrics", &[], "").body;
    assert_eq!(
        sample(&m, "tessera_refresh_reuse_detected_total"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        sample(&m, r#"tessera_revocations_total{reason="reuse_detected"}"#),
        Some(1.0),
        "{m}"
    );

    server.signal("TERM");
    let (code, stderr) = server.wait_exit();
    assert_eq!(code, Some(0), "{stderr}");

    for secret in [
        PASSWORD,
        WRONG,
        &access,
        &refresh,
        &second,
        "cookie-secret-value",
    ] {
        assert!(
            !stderr.contains(secret),
            "a secret reached the log:\n{stderr}"
        );
    }
    // The signature part of a token alone must not appear either.
    let signature = access.rsplit('.').next().unwrap();
    assert!(!stderr.contains(signature));

    let events: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let find = |pred: &dyn Fn(&Value) -> bool| events.iter().find(|e| pred(e)).cloned();
    let audit = |name: &str| {
        find(&|e| e["target"] == "audit" && e["event"] == name)
            .unwrap_or_else(|| panic!("no audit event {name}:\n{stderr}"))
    };
    let succeeded = audit("login_succeeded");
    let request_span = &succeeded["spans"][0];
    assert_eq!(request_span["name"], "request", "{succeeded}");
    assert!(request_span["request_id"].is_string(), "{succeeded}");
    assert_eq!(request_span["route"], "/api/token/");
    // A field recorded after the span began (the login span's user id) joins its object.
    let login_span = &succeeded["spans"][1];
    assert_eq!(login_span["name"], "login", "{succeeded}");
    assert!(login_span["user_id"].is_i64(), "{succeeded}");
    audit("login_failed");
    audit("refresh_reuse_detected");
    let access_line =
        find(&|e| e["target"] == "access" && e["spans"][0]["request_id"] == "req-test-42")
            .unwrap_or_else(|| panic!("no access line for req-test-42:\n{stderr}"));
    assert_eq!(access_line["status"], 200);
    assert_eq!(access_line["spans"][0]["method"], "GET");
    assert_eq!(access_line["spans"][0]["route"], "/api/me/");
    assert!(access_line["latency_ms"].as_f64().is_some());
}

/// The server's resident set in KiB (`VmRSS` of `/proc/<pid>/status`).
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in {status}"))
}

/// Idle hashing threads give their Argon2 memory back to the kernel after every burst of logins,
/// not only the first: a second 19 MiB block used to come from the thread's malloc arena and stay
/// resident after it was freed, so the idle server's RSS climbed with each burst.
#[test]
fn idle_hashing_threads_return_their_memory_after_every_burst() {
    const PASSWORD: &str = "Correct-Horse-Battery-Staple-7";
    let dir = Dir::new();
    create_user(&dir, "alice", PASSWORD);
    let server = Served::start(
        &dir,
        &[
            // The default memory cost, so each hashing thread holds a 19 MiB block; one pass
            // keeps the hashes quick.
            ("TESSERA_PASSWORD_HASH_MEMORY_KIB", "19456"),
            ("TESSERA_PASSWORD_HASH_CONCURRENCY", "2"),
            ("TESSERA_METRICS_LISTEN", "127.0.0.1:0"),
        ],
    );
    let (port, metrics) = (server.port, server.metrics_port.unwrap());
    let pid = server.child.id();
    // Waits (a hang guard, not a timing assertion) until the threads report no memory held,
    // then reads the resident set.
    let idle_resident_kib = || {
        let limit = Instant::now() + Duration::from_secs(60);
        loop {
            let m = request(metrics, "GET", "/metrics", &[], "").body;
            if sample(&m, "tessera_password_hash_memory_bytes") == Some(0.0) {
                return resident_kib(pid);
            }
            assert!(Instant::now() < limit, "hash memory never released: {m}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let body = login_body("alice", PASSWORD);
    let base = idle_resident_kib();
    for burst in 1..=3 {
        let logins: Vec<_> = (0..4)
            .map(|_| {
                let body = body.clone();
                std::thread::spawn(move || request(port, "POST", "/api/token/", &[], &body).status)
            })
            .collect();
        for login in logins {
            assert_eq!(login.join().unwrap(), 200);
        }
        let resident = idle_resident_kib();
        // Two held blocks are 38 MiB; allow a little growth for caches and buffers.
        assert!(
            resident < base + 8 * 1024,
            "after burst {burst}: {resident} KiB resident when idle, against {base} KiB before"
        );
    }
}
