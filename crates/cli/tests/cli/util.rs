//! Running the built `tessera` binary in a fresh temporary directory (ripgrep's `tests/util.rs`
//! idea): every test gets its own directory, removed when the test ends.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// A temporary working directory for one test.
pub(crate) struct Dir {
    tmp: tempfile::TempDir,
}

/// What a finished `tessera` run produced.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    fn from_output(out: Output) -> Run {
        Run {
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        }
    }

    /// Asserts exit status 0 and returns stdout.
    #[track_caller]
    pub(crate) fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "expected success, got {self:#?}");
        &self.stdout
    }

    /// Asserts exit status `code` with nothing on stdout, and returns stderr.
    #[track_caller]
    pub(crate) fn fails(&self, code: i32) -> &str {
        assert_eq!(self.code, Some(code), "expected exit {code}, got {self:#?}");
        assert_eq!(self.stdout, "", "a failing command printed to stdout");
        &self.stderr
    }

    /// stdout without its final newline.
    pub(crate) fn line(&self) -> &str {
        self.ok()
            .strip_suffix('\n')
            .expect("output ends with a newline")
    }
}

impl Dir {
    pub(crate) fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().expect("temporary directory"),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// A `tessera` command running in this directory.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
        cmd.args(args).current_dir(self.path());
        cmd
    }

    /// Runs `tessera ARGS` with empty stdin.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        let out = self
            .command(args)
            .stdin(Stdio::null())
            .output()
            .expect("running tessera");
        Run::from_output(out)
    }

    /// Runs `tessera ARGS` with `input` on stdin.
    pub(crate) fn run_with_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning tessera");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("writing stdin");
        Run::from_output(child.wait_with_output().expect("waiting for tessera"))
    }

    /// Writes `contents` to `name` in this directory and returns its path as a string.
    pub(crate) fn write(&self, name: &str, contents: &str) -> String {
        let path = self.path().join(name);
        std::fs::write(&path, contents).expect("writing test file");
        path_str(&path)
    }

    pub(crate) fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(name)).expect("reading test file")
    }

    /// `tessera keys generate --alg ALG` into this directory; returns the printed kid (if any).
    pub(crate) fn generate(&self, alg: &str) -> Option<String> {
        let run = self.run(&["keys", "generate", "--alg", alg]);
        run.ok()
            .lines()
            .find_map(|l| l.strip_prefix("kid: "))
            .filter(|kid| !kid.starts_with("none"))
            .map(str::to_owned)
    }

    /// `tessera token encode` and the token it printed.
    pub(crate) fn encode(&self, args: &[&str]) -> String {
        let mut all = vec!["token", "encode"];
        all.extend_from_slice(args);
        self.run(&all).line().to_owned()
    }

    /// `tessera token decode --json` parsed.
    pub(crate) fn decode_json(&self, token: &str) -> Value {
        let run = self.run(&["token", "decode", "--json", token]);
        serde_json::from_str(run.line()).expect("decode --json prints JSON")
    }
}

pub(crate) fn path_str(path: &Path) -> String {
    path.to_str().expect("UTF-8 temp path").to_owned()
}

/// Seconds since the epoch, for building claims relative to now.
pub(crate) fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(secs).expect("time fits i64")
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An unsigned-looking token with the given header and payload JSON and a dummy signature: for
/// `decode`, which never looks at the signature, and for forgery tests.
pub(crate) fn unsigned_token(header: &str, payload: &str) -> String {
    format!(
        "{}.{}.{}",
        b64(header.as_bytes()),
        b64(payload.as_bytes()),
        b64(b"not a real signature")
    )
}

/// RFC 7519 §3.1 / RFC 7515 appendix A.1: an HS256 JWT made by someone else, with its key.
pub(crate) const RFC7515_A1_TOKEN: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.\
eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.\
dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// The `exp` of [`RFC7515_A1_TOKEN`]: 2011-03-22 18:43:00 UTC.
pub(crate) const RFC7515_A1_EXP: i64 = 1_300_819_380;
/// The key of [`RFC7515_A1_TOKEN`] as a JWK (RFC 7515 A.1.1).
pub(crate) const RFC7515_A1_JWK: &str = r#"{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}"#;
