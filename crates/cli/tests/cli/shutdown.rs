//! Graceful shutdown of `tessera serve`: on SIGTERM readiness fails first (and systemd hears
//! STOPPING=1), in-flight requests finish with their normal answer, new connections are refused,
//! and the process exits 0 — bounded by `shutdown_timeout` when a request never finishes.

use std::io::Write as _;
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use crate::operations::{Served, create_user, login_body, read_answer, request};
use crate::util::Dir;

/// The next sd_notify datagram (a hang guard bounds the wait).
fn next_notification(socket: &UnixDatagram) -> String {
    socket
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut buf = [0u8; 512];
    let n = socket.recv(&mut buf).expect("an sd_notify message");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// A login whose body has only partly arrived: in flight until [`finish`] sends the rest.
fn start_slow_login(port: u16, body: &str) -> (TcpStream, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    write!(
        stream,
        "POST /api/token/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    (stream, rest.to_owned())
}

#[test]
fn sigterm_fails_readiness_then_finishes_in_flight_requests_and_exits_0() {
    let dir = Dir::new();
    create_user(&dir, "alice", "pass-word-1");
    let notify_path = dir.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    let notify_env = notify_path.to_str().unwrap().to_owned();
    let mut server = Served::start(
        &dir,
        &[
            ("NOTIFY_SOCKET", &notify_env),
            // Long enough never to end by itself here: the second signal ends it.
            ("TESSERA_SHUTDOWN_DELAY", "10min"),
            ("TESSERA_LOG_FORMAT", "json"),
        ],
    );
    assert_eq!(next_notification(&notify).trim(), "READY=1");
    assert_eq!(request(server.port, "GET", "/readyz", &[], "").status, 200);

    let (mut in_flight, rest) = start_slow_login(server.port, &login_body("alice", "pass-word-1"));
    server.signal("TERM");
    assert_eq!(next_notification(&notify).trim(), "STOPPING=1");

    // Draining: readiness fails while the listener still accepts (shutdown_delay).
    let ready = request(server.port, "GET", "/readyz", &[], "");
    assert_eq!(ready.status, 503, "{ready:?}");
    assert_eq!(ready.json()["status"], "draining");
    assert_eq!(request(server.port, "GET", "/healthz", &[], "").status, 200);

    // A second signal ends the delay: new connections are refused (waiting for the listener to
    // close is bounded; no timing is asserted) while the login is still in flight.
    server.signal("INT");
    let limit = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", server.port)).is_ok() {
        assert!(Instant::now() < limit, "the listener never closed");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "exited before the request finished"
    );

    // The in-flight request completes with its normal answer.
    in_flight.write_all(rest.as_bytes()).unwrap();
    let answer = read_answer(&mut in_flight);
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(answer.json()["access"].is_string() && answer.json()["refresh"].is_string());

    let (code, stderr) = server.wait_exit();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("shutdown requested"), "{stderr}");
    assert!(stderr.contains("\"stopped\""), "{stderr}");
}

#[test]
fn a_request_that_never_finishes_is_cut_off_after_shutdown_timeout() {
    let dir = Dir::new();
    let mut server = Served::start(&dir, &[("TESSERA_SHUTDOWN_TIMEOUT", "1s")]);
    // Headers promise a body that never comes (the body read timeout is 10 s; the shutdown
    // timeout cuts it short).
    let (_stalled, _) = start_slow_login(server.port, &login_body("nobody", "x"));
    // The request must be in flight before the signal: an answered request on another
    // connection shows the server is serving.
    assert_eq!(request(server.port, "GET", "/healthz", &[], "").status, 200);
    server.signal("TERM");
    let (code, stderr) = server.wait_exit();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("after shutdown_timeout"), "{stderr}");
}
