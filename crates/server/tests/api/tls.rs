//! In-process TLS (`tls_cert_file`/`tls_key_file`): the listener speaks HTTPS with a certificate
//! made at test time, a client trusting exactly that certificate logs in over it, and plain HTTP
//! on the same port gets nowhere.

#![cfg(feature = "tls")]

use std::sync::Arc;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_rustls::rustls::{self, RootCertStore, pki_types::ServerName};

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn https_login_with_a_self_signed_certificate() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let files = tempfile::tempdir().unwrap();
    let cert_file = files.path().join("cert.pem");
    let key_file = files.path().join("key.pem");
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).unwrap();
    let app = spawn_app_with(|s| {
        s.tls_cert_file = Some(cert_file);
        s.tls_key_file = Some(key_file);
    })
    .await;

    let mut roots = RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("TLS handshake with the server's certificate");
    let body = serde_json::json!({"username": app.user.username, "password": app.user.password})
        .to_string();
    let request = format!(
        "POST /api/token/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    // Read to the server's close; a missing TLS close_notify is not an error here.
    let _ = tls.read_to_end(&mut response).await;
    let response = String::from_utf8(response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200 "), "{response}");
    let json: serde_json::Value =
        serde_json::from_str(response.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert!(
        json["access"].is_string() && json["refresh"].is_string(),
        "{json}"
    );

    // Plain HTTP on the TLS port is not served.
    let plain = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await;
    assert!(plain.is_err(), "{plain:?}");
}
