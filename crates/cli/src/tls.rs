//! HTTPS for `choucha serve --tls-cert PEM --tls-key PEM`: rustls with the ring provider (the one
//! sqlx already builds; installed as the process default at start-up). Handshakes run in their own
//! tasks, each bounded in time, so a slow or silent client never holds up the others; finished TLS
//! streams are handed to axum's server, whose graceful shutdown works as over plain TCP.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::server::TlsStream;
use tokio_rustls::{TlsAcceptor, rustls::crypto::ring};

/// How long a client may take over its TLS handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// Make ring the process's rustls provider (a no-op when one is already installed).
pub fn install_provider() {
    let _ = ring::default_provider().install_default();
}

/// The server's TLS configuration from the certificate chain and private key files (PEM); a clear
/// Chinese error when a file is missing, unreadable or holds nothing usable.
pub fn server_config(cert: &Path, key: &Path) -> anyhow::Result<Arc<ServerConfig>> {
    let cert_pem = std::fs::read(cert).map_err(|e| anyhow!("无法读取 TLS 证书文件“{}”：{e}", cert.display()))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!("TLS 证书文件“{}”不是有效的 PEM 证书：{e}", cert.display()))?;
    if chain.is_empty() {
        return Err(anyhow!("TLS 证书文件“{}”中没有证书（应为 PEM 格式，以 BEGIN CERTIFICATE 开头）", cert.display()));
    }
    let key_pem = std::fs::read(key).map_err(|e| anyhow!("无法读取 TLS 私钥文件“{}”：{e}", key.display()))?;
    let private = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| anyhow!("TLS 私钥文件“{}”中没有可用的 PEM 私钥：{e}", key.display()))?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow!("TLS 配置有误：{e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e: rustls::Error| anyhow!("TLS 证书与私钥无法使用（是否不匹配？）：{e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A listener that hands axum TLS streams whose handshake is complete.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    acceptor: JoinHandle<()>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let tls = TlsAcceptor::from(config);
        let (tx, ready) = mpsc::channel(64);
        let acceptor = tokio::spawn(async move {
            loop {
                let (stream, addr) = match tcp.accept().await {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a little, as axum does.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                if tx.is_closed() {
                    break;
                }
                let (tls, tx) = (tls.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE, tls.accept(stream)).await {
                        Ok(Ok(s)) => {
                            let _ = tx.send((s, addr)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%addr, "TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { ready, local, acceptor })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(c) => c,
            // The accepting task ended: accept nothing more (shutdown completes the rest).
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}
