//! The service's listener: plain TCP, or TLS terminated in-process with rustls when
//! `tls_cert_file`/`tls_key_file` are set (for deployments without a proxy).
//!
//! TLS handshakes run in their own tasks, so a slow or silent client never holds up the accept
//! loop; a handshake that has not finished after [`HANDSHAKE_TIMEOUT`] is dropped.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
#[cfg(feature = "tls")]
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

#[cfg(feature = "tls")]
use crate::config::Settings;
use crate::startup::StartupError;

/// Longest time a client may take to complete a TLS handshake.
#[cfg(feature = "tls")]
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections for `axum::serve`.
pub struct Incoming {
    tcp: TcpListener,
    #[cfg(feature = "tls")]
    tls: Option<tokio_rustls::TlsAcceptor>,
    #[cfg(feature = "tls")]
    handshakes: tokio::task::JoinSet<Option<(Connection, SocketAddr)>>,
}

impl Incoming {
    /// Plain TCP.
    pub(crate) fn plain(tcp: TcpListener) -> Incoming {
        Incoming {
            tcp,
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(feature = "tls")]
            handshakes: tokio::task::JoinSet::new(),
        }
    }

    /// TLS when the settings name a certificate and key, else plain TCP.
    pub(crate) fn from_settings(
        tcp: TcpListener,
        settings: &crate::config::Settings,
    ) -> Result<Incoming, StartupError> {
        let incoming = Incoming::plain(tcp);
        if let (Some(_), Some(_)) = (&settings.tls_cert_file, &settings.tls_key_file) {
            #[cfg(feature = "tls")]
            return Ok(Incoming {
                tls: Some(acceptor(settings)?),
                ..incoming
            });
            #[cfg(not(feature = "tls"))]
            return Err(StartupError::Io(
                "tls_cert_file is set but this build has no `tls` feature".into(),
            ));
        }
        Ok(incoming)
    }

    /// Whether connections are TLS.
    pub fn is_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        false
    }
}

#[cfg(feature = "tls")]
fn acceptor(settings: &Settings) -> Result<tokio_rustls::TlsAcceptor, StartupError> {
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls;

    let (Some(cert_file), Some(key_file)) = (&settings.tls_cert_file, &settings.tls_key_file)
    else {
        return Err(StartupError::Io("TLS needs a certificate and a key".into()));
    };
    let certs = CertificateDer::pem_file_iter(cert_file)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| StartupError::Io(format!("reading {}: {e}", cert_file.display())))?;
    if certs.is_empty() {
        return Err(StartupError::Io(format!(
            "{}: no certificate found",
            cert_file.display()
        )));
    }
    // The error names the file only: a PEM parser's message could quote key material.
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|_| {
        StartupError::Io(format!(
            "{}: no readable PEM private key",
            key_file.display()
        ))
    })?;
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| StartupError::Io(format!("TLS configuration: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)))
}

impl axum::serve::Listener for Incoming {
    type Io = Connection;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Connection, SocketAddr) {
        loop {
            #[cfg(feature = "tls")]
            let accepted = tokio::select! {
                accepted = self.tcp.accept() => accepted,
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    if let Ok(Some(connection)) = done {
                        return connection;
                    }
                    continue;
                }
            };
            #[cfg(not(feature = "tls"))]
            let accepted = self.tcp.accept().await;
            let (stream, peer) = match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            };
            // Small JSON answers: do not wait for Nagle.
            let _ = stream.set_nodelay(true);
            #[cfg(feature = "tls")]
            if let Some(acceptor) = &self.tls {
                let acceptor = acceptor.clone();
                self.handshakes.spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => Some((Connection::Tls(Box::new(tls)), peer)),
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            None
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            None
                        }
                    }
                });
                continue;
            }
            return (Connection::Plain(stream), peer);
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

/// As axum's own listener: per-connection errors are ignored; others (e.g. out of file
/// descriptors) are logged and retried after a pause instead of spinning.
async fn accept_error(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
}

/// One accepted connection.
#[derive(Debug)]
pub enum Connection {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP.
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_flush(cx),
            #[cfg(feature = "tls")]
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(feature = "tls")]
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            #[cfg(feature = "tls")]
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Connection::Plain(s) => s.is_write_vectored(),
            #[cfg(feature = "tls")]
            Connection::Tls(s) => s.is_write_vectored(),
        }
    }
}
