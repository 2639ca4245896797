//! Connections: TCP to the server (a `--resolve`/`--connect-to` mapping, or names resolved and
//! checked by [`SafeResolver`]), or to an HTTP proxy (a `CONNECT` tunnel for https), then TLS
//! (rustls with ring, the system's roots and `--ca-cert`), then the wire tap
//! ([`super::wire`]) between TLS and hyper. reqwest's connector cannot be tapped there (its
//! connection type is sealed), so cairn connects for hyper itself, as gowarc dials for Go's
//! client.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::Uri;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tower_service::Service;

use super::HostMapping;
use super::non_public_kind;
use super::wire::{Tapped, Wire};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How to reach servers.
pub struct ConnectConfig<'a> {
    pub connect_timeout: Duration,
    pub mappings: &'a [HostMapping],
    /// Extra trusted roots, PEM.
    pub ca_certs: &'a [Vec<u8>],
    pub proxy: Option<&'a str>,
    pub allow_private: bool,
}

/// The connector hyper asks for each new connection.
#[derive(Clone)]
pub struct WireConnector {
    inner: Arc<Inner>,
}

struct Inner {
    tcp: HttpConnector<SafeResolver>,
    tls: tokio_rustls::TlsConnector,
    mappings: Vec<HostMapping>,
    proxy: Option<Proxy>,
    allow_private: bool,
}

/// An HTTP proxy: its address, and the `Proxy-Authorization` value from its URL's user info.
#[derive(Clone)]
pub struct Proxy {
    uri: Uri,
    pub authorization: Option<String>,
}

impl WireConnector {
    pub fn new(config: &ConnectConfig) -> Result<WireConnector, String> {
        let mut tcp = HttpConnector::new_with_resolver(SafeResolver {
            allow_private: config.allow_private,
        });
        tcp.set_connect_timeout(Some(config.connect_timeout));
        tcp.set_nodelay(true);
        let tls = tls_config(config.ca_certs)?;
        let proxy = config.proxy.map(parse_proxy).transpose()?;
        Ok(WireConnector {
            inner: Arc::new(Inner {
                tcp,
                tls: tokio_rustls::TlsConnector::from(Arc::new(tls)),
                mappings: config.mappings.to_vec(),
                proxy,
                allow_private: config.allow_private,
            }),
        })
    }

    pub fn proxy(&self) -> Option<&Proxy> {
        self.inner.proxy.as_ref()
    }
}

impl Service<Uri> for WireConnector {
    type Response = WireConn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<WireConn, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let inner = self.inner.clone();
        Box::pin(async move { inner.connect(dst).await })
    }
}

impl Inner {
    async fn connect(&self, dst: Uri) -> Result<WireConn, BoxError> {
        let https = dst.scheme_str() == Some("https");
        let host = dst.host().ok_or("no host in the URL")?;
        let port = dst.port_u16().unwrap_or(if https { 443 } else { 80 });
        let authority = format!("{host}:{port}");
        let (tcp, proxied) = match &self.proxy {
            Some(proxy) => {
                let mut tcp = self.tcp_to(proxy.uri.clone()).await?;
                if https {
                    tunnel(&mut tcp, &authority, proxy.authorization.as_deref()).await?;
                }
                // Plain http goes to the proxy itself, the request line in absolute form.
                (tcp, !https)
            }
            None => (self.tcp_to(self.address_of(host, port)?).await?, false),
        };
        let remote = tcp.peer_addr().ok();
        let transport: Box<dyn Transport> = if https {
            let name = ServerName::try_from(host.trim_matches(['[', ']']).to_string())?;
            Box::new(self.tls.connect(name, tcp).await?)
        } else {
            Box::new(tcp)
        };
        let (tapped, wire) = Tapped::new(transport, remote);
        Ok(WireConn {
            io: TokioIo::new(tapped),
            wire,
            proxied,
        })
    }

    /// Where to connect for `host:port`: a mapping's address (the user's explicit choice,
    /// for exactly that host and port), or the name, resolved and checked on connecting.
    fn address_of(&self, host: &str, port: u16) -> Result<Uri, BoxError> {
        let mapped = self.mappings.iter().find(|m| m.names(host, port));
        let address = match mapped {
            Some(mapping) => mapping.connect.to_string(),
            None => {
                // hyper's connector dials an address literal without asking the resolver, so
                // the check the resolver makes of names is made here (the fetcher makes it
                // too, before any request; this one holds for every connection).
                let literal = host.trim_matches(['[', ']']).parse::<IpAddr>();
                if let Ok(ip) = literal
                    && let Some(kind) = non_public_kind(ip).filter(|_| !self.allow_private)
                {
                    return Err(Box::new(NameError {
                        detail: format!(
                            "refusing {ip}, a {kind} address (pass --allow-private to allow it)"
                        ),
                        lasting: true,
                    }));
                }
                format!("{host}:{port}")
            }
        };
        Ok(format!("http://{address}").parse()?)
    }

    async fn tcp_to(&self, address: Uri) -> Result<TcpStream, BoxError> {
        let mut tcp = self.tcp.clone();
        Ok(tcp.call(address).await?.into_inner())
    }
}

/// Asks an HTTP proxy for a tunnel to `authority` (RFC 9110, section 9.3.6).
async fn tunnel(
    tcp: &mut TcpStream,
    authority: &str,
    authorization: Option<&str>,
) -> Result<(), BoxError> {
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(value) = authorization {
        request.push_str(&format!("Proxy-Authorization: {value}\r\n"));
    }
    request.push_str("\r\n");
    tcp.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        // Byte by byte past the head would cost syscalls; a proxy sends nothing after its
        // head until the client speaks, so reading in blocks takes nothing of the tunnel.
        let n = tcp.read(&mut buf).await?;
        if n == 0 {
            return Err("the proxy closed the connection instead of opening a tunnel".into());
        }
        answer.extend_from_slice(&buf[..n]);
        let mut fields = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut fields);
        if let httparse::Status::Complete(_) = response.parse(&answer)? {
            return match response.code {
                Some(200..=299) => Ok(()),
                code => Err(format!(
                    "the proxy refused a tunnel to {authority}: {}",
                    code.unwrap_or(0)
                )
                .into()),
            };
        }
        if answer.len() > 64 << 10 {
            return Err("the proxy's answer to CONNECT never ended".into());
        }
    }
}

/// `--proxy [http://][user:password@]host:port` (no scheme means http, as curl reads it).
fn parse_proxy(spec: &str) -> Result<Proxy, String> {
    let bad = |why: &str| format!("--proxy {spec:?}: {why}");
    let full = match spec.contains("://") {
        true => spec.to_string(),
        false => format!("http://{spec}"),
    };
    let url = url::Url::parse(&full).map_err(|e| bad(&e.to_string()))?;
    if url.scheme() != "http" {
        return Err(bad("only http:// proxies are supported"));
    }
    let host = url.host_str().ok_or_else(|| bad("no host"))?;
    let port = url.port_or_known_default().unwrap_or(80);
    let uri = format!("http://{host}:{port}")
        .parse()
        .map_err(|e: hyper::http::uri::InvalidUri| bad(&e.to_string()))?;
    let authorization = (!url.username().is_empty()).then(|| {
        let user = percent_encoding::percent_decode_str(url.username()).decode_utf8_lossy();
        let password =
            percent_encoding::percent_decode_str(url.password().unwrap_or("")).decode_utf8_lossy();
        let token = data_encoding::BASE64.encode(format!("{user}:{password}").as_bytes());
        format!("Basic {token}")
    });
    Ok(Proxy { uri, authorization })
}

/// rustls with ring, verifying against the system's roots and the `--ca-cert` ones, speaking
/// HTTP/1.1 only (cairn stores HTTP/1.1 messages, as gowarc does).
fn tls_config(ca_certs: &[Vec<u8>]) -> Result<rustls::ClientConfig, String> {
    let mut config = verified_tls_config(ca_certs)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// rustls with ring (the build's one crypto library), verifying servers against the system's
/// roots and `ca_certs` (PEM): what every TLS client of cairn starts from.
pub fn verified_tls_config(ca_certs: &[Vec<u8>]) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = Vec::new();
    for pem in ca_certs {
        for cert in CertificateDer::pem_slice_iter(pem) {
            roots.push(cert.map_err(|e| format!("--ca-cert: {e}"))?);
        }
    }
    let verifier = if roots.is_empty() {
        rustls_platform_verifier::Verifier::new(provider.clone())
    } else {
        rustls_platform_verifier::Verifier::new_with_extra_roots(roots, provider.clone())
    }
    .map_err(|e| format!("TLS roots: {e}"))?;
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// A TCP or TLS stream.
trait Transport: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Transport for T {}

/// A tapped connection, as hyper reads and writes it.
pub struct WireConn {
    io: TokioIo<Tapped<Box<dyn Transport>>>,
    wire: Wire,
    proxied: bool,
}

impl Connection for WireConn {
    fn connected(&self) -> Connected {
        Connected::new()
            .proxy(self.proxied)
            .extra(self.wire.clone())
    }
}

impl hyper::rt::Read for WireConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for WireConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Why a name gave no address to connect to; `lasting` when asking again soon cannot help
/// (no such name, or only addresses cairn refuses), so the fetch is not retried.
#[derive(Debug)]
pub struct NameError {
    pub detail: String,
    pub lasting: bool,
}

impl std::fmt::Display for NameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for NameError {}

/// Resolves names as the system does, then drops addresses outside public ranges unless
/// private ones are allowed: a public name that resolves inward (DNS rebinding) is refused, and
/// the connection uses only the addresses checked here.
#[derive(Clone)]
struct SafeResolver {
    allow_private: bool,
}

impl Service<Name> for SafeResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addresses = public_addresses(&host, allow_private).await?;
            Ok(addresses.into_iter())
        })
    }
}

async fn public_addresses(host: &str, allow_private: bool) -> Result<Vec<SocketAddr>, NameError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|e| NameError {
            // getaddrinfo tells a passing failure (EAI_AGAIN) only by its message.
            lasting: !e.to_string().contains("Temporary failure"),
            detail: format!("{host}: {e}"),
        })?
        .collect();
    let allowed: Vec<SocketAddr> = addrs
        .iter()
        .copied()
        .filter(|a| allow_private || non_public_kind(a.ip()).is_none())
        .collect();
    if allowed.is_empty() {
        let found = addrs
            .first()
            .map(|a| a.ip().to_string())
            .unwrap_or_default();
        return Err(NameError {
            lasting: true,
            detail: format!(
                "{host} resolves to {found}, not a public address (pass --allow-private to allow it)"
            ),
        });
    }
    Ok(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_and_their_credentials() {
        let proxy = parse_proxy("http://user:p%40ss@proxy.example:3128").unwrap();
        assert_eq!(proxy.uri, "http://proxy.example:3128/");
        assert_eq!(
            proxy.authorization.as_deref(),
            Some(format!("Basic {}", data_encoding::BASE64.encode(b"user:p@ss")).as_str())
        );
        assert_eq!(
            parse_proxy("http://proxy.example").unwrap().authorization,
            None
        );
        assert!(parse_proxy("socks5://proxy.example:1080").is_err());
    }
}
