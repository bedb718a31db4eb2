//! `tessera user …`, `serve`, `migrate` and `config check`, run as the built binary against a
//! real server in a temporary directory.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::util::{Dir, Run};

/// Cheap Argon2id so the tests are quick; everything else at its default.
const CHEAP: &str = "password_hash_memory_kib = 1024\npassword_hash_iterations = 1\n";

/// `tessera ARGS` in `dir` with no inherited `TESSERA_*` variables, plus `env`.
fn tessera(dir: &Dir, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
    let mut cmd = dir.command(args);
    clean_env(&mut cmd);
    cmd.envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawning tessera");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn clean_env(cmd: &mut Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("TESSERA_") {
            cmd.env_remove(k);
        }
    }
}

/// A `tessera` command with the cheap configuration file.
fn cheap(dir: &Dir, args: &[&str], stdin: Option<&str>) -> Run {
    let config = dir.write("tessera.toml", CHEAP);
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--config", &config]);
    tessera(dir, &all, &[], stdin)
}

/// A running `tessera serve` on a free port; killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(dir: &Dir) -> Server {
        let config = dir.write("tessera.toml", CHEAP);
        let mut cmd = dir.command(&["serve", "--listen", "127.0.0.1:0", "--config", &config]);
        clean_env(&mut cmd);
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawning tessera serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no listening line, got {line:?}"));
        Server { child, port }
    }

    /// One HTTP/1.1 request; returns (status, body).
    fn request(&self, method: &str, path: &str, auth: Option<&str>, body: &str) -> (u16, Value) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let auth = auth.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status = response[9..12].parse().unwrap();
        let body = response.split("\r\n\r\n").nth(1).unwrap_or("");
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    fn login(&self, user: &str, password: &str) -> (u16, Value) {
        let body = serde_json::json!({"username": user, "password": password}).to_string();
        self.request("POST", "/api/token/", None, &body)
    }

    fn me(&self, access: &str) -> u16 {
        self.request("GET", "/api/me/", Some(access), "").0
    }

    /// `GET /api/me/` until it answers 401 (at most 10 s), then that status: the server sees a
    /// change made by another process within its one-second user cache (docs/security.md).
    fn me_refused(&self, access: &str) -> u16 {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let status = self.me(access);
            if status == 401 || std::time::Instant::now() > deadline {
                return status;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn create_then_list() {
    let dir = Dir::new();
    let out = cheap(
        &dir,
        &[
            "user",
            "create",
            "alice",
            "--email",
            "a@example.com",
            "--staff",
            "--password-stdin",
        ],
        Some("s3cret-pass\n"),
    );
    assert!(out.ok().starts_with("created user alice (id 1)"), "{out:?}");
    cheap(
        &dir,
        &["user", "create", "root", "--superuser", "--no-password"],
        None,
    )
    .ok();
    let list = cheap(&dir, &["user", "list", "--json"], None);
    let users: Vec<Value> = list
        .ok()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0]["username"], "alice");
    assert_eq!(users[0]["email"], "a@example.com");
    assert_eq!(users[0]["is_staff"], true);
    assert_eq!(users[1]["is_superuser"], true);
    let table = cheap(&dir, &["user", "list"], None);
    assert!(table.ok().contains("alice"));
    // The database and data directory are private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &str| {
            std::fs::metadata(dir.path().join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("tessera-data"), 0o700);
        assert_eq!(mode("tessera-data/tessera.db"), 0o600);
    }
}

#[test]
fn user_errors_exit_1_with_a_reason() {
    let dir = Dir::new();
    cheap(
        &dir,
        &["user", "create", "alice", "--password-stdin"],
        Some("pw-1234\n"),
    )
    .ok();
    let dup = cheap(
        &dir,
        &["user", "create", "alice", "--password-stdin"],
        Some("pw-1234\n"),
    );
    assert!(dup.fails(1).contains("already exists"), "{dup:?}");
    let bad = cheap(
        &dir,
        &["user", "create", "a b", "--password-stdin"],
        Some("pw\n"),
    );
    assert!(bad.fails(1).contains("username"), "{bad:?}");
    let empty = cheap(
        &dir,
        &["user", "create", "bob", "--password-stdin"],
        Some("\n"),
    );
    assert!(empty.fails(1).contains("password"), "{empty:?}");
    let spaces = cheap(
        &dir,
        &["user", "create", "bob", "--password-stdin"],
        Some(" pw \n"),
    );
    assert!(spaces.fails(1).contains("whitespace"), "{spaces:?}");
    for sub in ["deactivate", "activate", "delete", "revoke-tokens"] {
        let run = cheap(&dir, &["user", sub, "nobody"], None);
        assert!(
            run.fails(1).contains("no user named \"nobody\""),
            "{sub}: {run:?}"
        );
    }
    let run = cheap(
        &dir,
        &["user", "passwd", "nobody", "--password-stdin"],
        Some("x-pass\n"),
    );
    assert!(run.fails(1).contains("no user named"), "{run:?}");
}

#[test]
fn user_commands_take_effect_on_a_running_server() {
    let dir = Dir::new();
    cheap(
        &dir,
        &["user", "create", "alice", "--password-stdin"],
        Some("first-pass\n"),
    )
    .ok();
    let server = Server::start(&dir);

    let (status, pair) = server.login("alice", "first-pass");
    assert_eq!(status, 200, "{pair}");
    let access = pair["access"].as_str().unwrap().to_owned();
    assert_eq!(server.me(&access), 200);

    // passwd: old tokens die (within the server's one-second user cache: this is another
    // process), the new password works at once.
    let out = cheap(
        &dir,
        &["user", "passwd", "alice", "--password-stdin"],
        Some("second-pass\n"),
    );
    assert!(out.ok().contains("1 session(s) ended"), "{out:?}");
    assert_eq!(server.me_refused(&access), 401);
    assert_eq!(server.login("alice", "first-pass").0, 401);
    let (status, pair) = server.login("alice", "second-pass");
    assert_eq!(status, 200);
    let access = pair["access"].as_str().unwrap().to_owned();

    // revoke-tokens: logout-all from the command line.
    cheap(&dir, &["user", "revoke-tokens", "alice"], None).ok();
    assert_eq!(server.me_refused(&access), 401);
    let (_, body) = server.request(
        "POST",
        "/api/token/refresh/",
        None,
        &serde_json::json!({"refresh": pair["refresh"]}).to_string(),
    );
    assert_eq!(body["detail"], "Token is blacklisted");

    // deactivate / activate.
    let (_, pair) = server.login("alice", "second-pass");
    let access = pair["access"].as_str().unwrap().to_owned();
    cheap(&dir, &["user", "deactivate", "alice"], None).ok();
    assert_eq!(server.me_refused(&access), 401);
    assert_eq!(server.login("alice", "second-pass").0, 401);
    cheap(&dir, &["user", "activate", "alice"], None).ok();
    assert_eq!(server.login("alice", "second-pass").0, 200);

    // delete.
    cheap(&dir, &["user", "delete", "alice"], None).ok();
    assert_eq!(server.login("alice", "second-pass").0, 401);
    let list = cheap(&dir, &["user", "list", "--json"], None);
    assert_eq!(list.ok(), "");
}

#[test]
fn serve_first_run_creates_schema_and_secret_and_restarts_keep_them() {
    let dir = Dir::new();
    cheap(
        &dir,
        &["user", "create", "alice", "--password-stdin"],
        Some("pass-word\n"),
    )
    .ok();
    let access = {
        let server = Server::start(&dir);
        let (status, pair) = server.login("alice", "pass-word");
        assert_eq!(status, 200);
        pair["access"].as_str().unwrap().to_owned()
    };
    let key = dir.path().join("tessera-data/signing.key");
    let secret = std::fs::read_to_string(&key).unwrap();
    assert_eq!(secret.trim_end().len(), 86);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let server = Server::start(&dir);
    assert_eq!(server.me(&access), 200, "same key after a restart");
    assert_eq!(std::fs::read_to_string(&key).unwrap(), secret);
    let (status, body) = server.request("GET", "/healthz", None, "");
    assert_eq!((status, body), (200, serde_json::json!({"status": "ok"})));
}

#[test]
fn migrate_is_idempotent() {
    let dir = Dir::new();
    // One line per file in crates/server/migrations/sqlite.
    let embedded = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../server/migrations/sqlite"
    ))
    .unwrap()
    .count();
    assert_eq!(
        cheap(&dir, &["migrate"], None).line(),
        format!("applied {embedded} migrations")
    );
    assert_eq!(
        cheap(&dir, &["migrate"], None).line(),
        "database schema is up to date"
    );
}

#[test]
fn config_check_shows_layers_and_never_secrets() {
    let dir = Dir::new();
    let config = dir.write(
        "t.toml",
        "access_token_lifetime = \"15m\"\nlisten = \"127.0.0.1:9000\"\n",
    );
    let run = tessera(
        &dir,
        &[
            "config",
            "check",
            "--config",
            &config,
            "--data-dir",
            "elsewhere",
        ],
        &[
            (
                "TESSERA_SIGNING_KEY",
                "do-not-print-this-secret-0123456789abcdef",
            ),
            ("TESSERA_LISTEN", "127.0.0.1:9100"),
        ],
        None,
    );
    let out = run.ok();
    assert!(out.contains("access_token_lifetime = \"15m\""), "{out}");
    assert!(
        out.contains("listen = \"127.0.0.1:9100\""),
        "env beats file: {out}"
    );
    assert!(
        out.contains("data_dir = \"elsewhere\""),
        "flag beats default: {out}"
    );
    assert!(out.contains("signing_key = \"<redacted>\""), "{out}");
    assert!(!out.contains("do-not-print") && !run.stderr.contains("do-not-print"));
    assert!(
        !dir.path().join("elsewhere").exists(),
        "check creates nothing"
    );

    let bad = dir.write("bad.toml", "acces_token_lifetime = \"5m\"\n");
    let run = tessera(&dir, &["config", "check", "--config", &bad], &[], None);
    assert!(run.fails(1).contains("acces_token_lifetime"), "{run:?}");
    let run = tessera(&dir, &["config", "check"], &[("TESSERA_NOPE", "1")], None);
    assert!(run.fails(1).contains("TESSERA_NOPE"), "{run:?}");
    let run = tessera(
        &dir,
        &["config", "check"],
        &[("TESSERA_ALGORITHM", "none")],
        None,
    );
    run.fails(1);
}
