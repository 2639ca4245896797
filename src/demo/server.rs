//! An HTTPS fixture web on 127.0.0.1, for `cairn demo` and the tests: a CA made at start, one
//! leaf certificate for every fixture host name, and a raw HTTP/1.1 server whose handler
//! answers each request with a script of steps (bytes, pauses), so well-behaved and hostile
//! servers are both easy to stage. cairn reaches it with `--connect-to NAME:443:127.0.0.1:PORT`
//! and `--ca-cert`, so real host names (www.cna.com.tw) appear in the archive.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// One request as the fixture received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub host: String,
    /// Path and query, as sent.
    pub target: String,
    pub head: String,
    pub at: std::time::Instant,
}

/// What the server does, in order, to answer.
pub enum Step {
    Send(Vec<u8>),
    Pause(Duration),
}

pub type Handler = Arc<dyn Fn(&Request) -> Vec<Step> + Send + Sync>;

pub struct HttpsFixture {
    pub port: u16,
    pub names: Vec<String>,
    pub ca_pem: PathBuf,
    pub requests: Arc<Mutex<Vec<Request>>>,
    /// Per host: requests being answered now, and the most there ever were at once.
    in_flight: Arc<Mutex<HashMap<String, (usize, usize)>>>,
    _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

impl HttpsFixture {
    pub fn start(names: &[&str], handler: Handler) -> io::Result<HttpsFixture> {
        let dir = tempfile::tempdir()?;
        let (ca_pem, chain, key) = certificates(names).map_err(io::Error::other)?;
        let ca_path = dir.path().join("fixture-ca.pem");
        std::fs::write(&ca_path, ca_pem)?;

        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(io::Error::other)?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0"))?;
        let port = listener.local_addr()?.port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(Mutex::new(HashMap::new()));
        let traffic = Traffic {
            log: requests.clone(),
            in_flight: in_flight.clone(),
        };
        runtime.spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let handler = handler.clone();
                let traffic = traffic.clone();
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        serve(tls, handler, traffic).await;
                    }
                });
            }
        });
        Ok(HttpsFixture {
            port,
            names: names.iter().map(|n| n.to_string()).collect(),
            ca_pem: ca_path,
            requests,
            in_flight,
            _dir: dir,
            _runtime: runtime,
        })
    }

    /// `--connect-to` mappings (as curl takes them) that send every fixture name here.
    pub fn connect_to(&self) -> Vec<String> {
        self.names
            .iter()
            .map(|name| format!("{name}:443:127.0.0.1:{}", self.port))
            .collect()
    }

    /// The `cairn archive` command-line options that send every fixture name here.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec!["--ca-cert".to_string(), self.ca_pem.display().to_string()];
        for mapping in self.connect_to() {
            args.push("--connect-to".into());
            args.push(mapping);
        }
        args
    }

    pub fn requested(&self) -> Vec<Request> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The most requests to `host` (as its Host header names it) that were ever being
    /// answered at once: from the head read to the last byte sent.
    pub fn peak_in_flight(&self, host: &str) -> usize {
        self.in_flight
            .lock()
            .ok()
            .and_then(|m| m.get(host).map(|(_, peak)| *peak))
            .unwrap_or(0)
    }
}

/// What the server records of the requests it answers.
#[derive(Clone)]
struct Traffic {
    log: Arc<Mutex<Vec<Request>>>,
    in_flight: Arc<Mutex<HashMap<String, (usize, usize)>>>,
}

/// A request being answered, counted for its host until dropped.
struct Answering {
    in_flight: Arc<Mutex<HashMap<String, (usize, usize)>>>,
    host: String,
}

impl Answering {
    fn start(traffic: &Traffic, host: &str) -> Answering {
        if let Ok(mut map) = traffic.in_flight.lock() {
            let (now, peak) = map.entry(host.to_string()).or_default();
            *now += 1;
            *peak = (*peak).max(*now);
        }
        Answering {
            in_flight: traffic.in_flight.clone(),
            host: host.to_string(),
        }
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        if let Ok(mut map) = self.in_flight.lock()
            && let Some((now, _)) = map.get_mut(&self.host)
        {
            *now -= 1;
        }
    }
}

/// The CA PEM, leaf chain and leaf key of a fixture's certificates.
type Certificates = (String, Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// A CA made now, and a leaf for `names` signed by it.
fn certificates(names: &[&str]) -> Result<Certificates, rcgen::Error> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "cairn fixture CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
    let leaf_key = KeyPair::generate()?;
    let leaf_params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())?;
    let leaf = leaf_params.signed_by(&leaf_key, &ca)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    Ok((ca.pem(), vec![leaf.der().clone()], key))
}

/// Reads one request head, answers by the handler's steps, then closes the connection (every
/// response says `Connection: close`).
async fn serve<S>(mut stream: S, handler: Handler, traffic: Traffic)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > 1 << 20 {
            return;
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let target = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    let host = text
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("host")
                .then(|| value.trim().to_string())
        })
        .unwrap_or_default();
    let request = Request {
        host,
        target,
        head: text,
        at: std::time::Instant::now(),
    };
    if let Ok(mut log) = traffic.log.lock() {
        log.push(request.clone());
    }
    let _answering = Answering::start(&traffic, &request.host);
    for step in handler(&request) {
        match step {
            Step::Send(bytes) => {
                if stream.write_all(&bytes).await.is_err() {
                    return;
                }
                let _ = stream.flush().await;
            }
            Step::Pause(d) => tokio::time::sleep(d).await,
        }
    }
    let _ = stream.shutdown().await;
}

/// A complete response with Content-Length.
pub fn response(status: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    response_with(status, &[("Content-Type", content_type)], body)
}

pub fn response_with(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    [head.into_bytes(), body.to_vec()].concat()
}

/// A small valid JPEG (1x1, grey) with a comment segment naming `label`, so every image URL
/// has a payload of its own and still decodes.
pub fn jpeg(label: &str) -> Vec<u8> {
    const BASE: &[u8] = &[
        0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00, 0x08, 0x06, 0x06, 0x07, 0x06, 0x05, 0x08, 0x07,
        0x07, 0x07, 0x09, 0x09, 0x08, 0x0A, 0x0C, 0x14, 0x0D, 0x0C, 0x0B, 0x0B, 0x0C, 0x19, 0x12,
        0x13, 0x0F, 0x14, 0x1D, 0x1A, 0x1F, 0x1E, 0x1D, 0x1A, 0x1C, 0x1C, 0x20, 0x24, 0x2E, 0x27,
        0x20, 0x22, 0x2C, 0x23, 0x1C, 0x1C, 0x28, 0x37, 0x29, 0x2C, 0x30, 0x31, 0x34, 0x34, 0x34,
        0x1F, 0x27, 0x39, 0x3D, 0x38, 0x32, 0x3C, 0x2E, 0x33, 0x34, 0x32, 0xFF, 0xC0, 0x00, 0x0B,
        0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00, 0xFF, 0xC4, 0x00, 0x1F, 0x00, 0x00,
        0x01, 0x05, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0xFF, 0xC4, 0x00,
        0xB5, 0x10, 0x00, 0x02, 0x01, 0x03, 0x03, 0x02, 0x04, 0x03, 0x05, 0x05, 0x04, 0x04, 0x00,
        0x00, 0x01, 0x7D, 0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06,
        0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xA1, 0x08, 0x23, 0x42, 0xB1,
        0xC1, 0x15, 0x52, 0xD1, 0xF0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0A, 0x16, 0x17, 0x18,
        0x19, 0x1A, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A,
        0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59,
        0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78,
        0x79, 0x7A, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96,
        0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xB2, 0xB3,
        0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9,
        0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE1, 0xE2, 0xE3, 0xE4, 0xE5,
        0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA,
        0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0xD2, 0xCF, 0x20, 0xFF, 0xD9,
    ];
    let comment = label.as_bytes();
    let len = (comment.len() + 2) as u16;
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xFE];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(comment);
    out.extend_from_slice(&BASE[2..]);
    out
}
