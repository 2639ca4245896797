//! Block and payload digests: `sha256:` + lowercase hex when cairn writes (as browsertrix-crawler
//! does), and sha1/sha256/sha512 in base32 or hex when it reads what others wrote (warcio and
//! Heritrix write `sha1:` + base32, wget `sha1:` + base32, browsertrix `sha256:` + hex).

use data_encoding::{BASE32, BASE32_NOPAD, HEXLOWER_PERMISSIVE};
use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha512};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

impl Algorithm {
    fn parse(name: &str) -> Option<Algorithm> {
        match name.to_ascii_lowercase().replace('-', "").as_str() {
            "sha1" => Some(Algorithm::Sha1),
            "sha256" => Some(Algorithm::Sha256),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }
}

/// A running hash of one of the supported algorithms.
#[derive(Clone)]
pub enum Hasher {
    Sha1(Sha1),
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    pub fn new(algorithm: Algorithm) -> Hasher {
        match algorithm {
            Algorithm::Sha1 => Hasher::Sha1(Sha1::new()),
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha1(h) => h.update(bytes),
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    pub fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

/// The form cairn writes: `sha256:` and 64 lowercase hex digits.
pub fn sha256_label(hash: &[u8]) -> String {
    format!("sha256:{}", data_encoding::HEXLOWER.encode(hash))
}

/// A digest as named in a `WARC-*-Digest` field, decoded to raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedDigest {
    pub algorithm: Algorithm,
    pub value: Vec<u8>,
}

/// Why a digest field could not be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestFieldError {
    /// An algorithm cairn does not compute (md5, say): not a defect, just unchecked.
    Unsupported(String),
    /// The field is not `algorithm:value` or the value is neither base32 nor hex of the
    /// algorithm's length.
    Malformed(String),
}

impl ExpectedDigest {
    pub fn parse(field: &str) -> Result<ExpectedDigest, DigestFieldError> {
        let field = field.trim();
        let (name, encoded) = field
            .split_once(':')
            .ok_or_else(|| DigestFieldError::Malformed(field.to_string()))?;
        let algorithm = Algorithm::parse(name)
            .ok_or_else(|| DigestFieldError::Unsupported(name.to_string()))?;
        let len = match algorithm {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 => 64,
        };
        let value = decode_digest_value(encoded, len)
            .ok_or_else(|| DigestFieldError::Malformed(field.to_string()))?;
        Ok(ExpectedDigest { algorithm, value })
    }
}

/// The encoding is told apart by length, which never collides for one algorithm: hex is twice
/// the hash length, base32 8/5 of it and base64 4/3 (each padded or not). Lowercase base32
/// and url-safe base64 occur in the wild, so they are accepted.
fn decode_digest_value(encoded: &str, len: usize) -> Option<Vec<u8>> {
    use data_encoding::{BASE64, BASE64_NOPAD, BASE64URL, BASE64URL_NOPAD};
    let encoded = encoded.trim().as_bytes();
    let decoded = if encoded.len() == len * 2 {
        HEXLOWER_PERMISSIVE.decode(encoded).ok()
    } else if encoded.len() >= len * 8 / 5 && encoded.len() <= len.div_ceil(5) * 8 {
        let upper = encoded.to_ascii_uppercase();
        BASE32_NOPAD
            .decode(&upper)
            .or_else(|_| BASE32.decode(&upper))
            .ok()
    } else {
        [BASE64, BASE64_NOPAD, BASE64URL, BASE64URL_NOPAD]
            .iter()
            .find_map(|encoding| encoding.decode(encoded).ok())
    };
    decoded.filter(|v| v.len() == len)
}

/// Hashes a record block as it streams past: the whole block, and the payload, which for
/// `application/http` blocks starts after the HTTP header's blank line (WARC/1.1 section 5.9).
pub struct BlockDigester {
    block: Hasher,
    /// Block bytes seen so far.
    seen: u64,
    /// Where the payload starts in the block, once known.
    payload_offset: Option<u64>,
    payload: Option<Hasher>,
    /// For HTTP blocks, how much of `CRLF CRLF` the bytes seen so far end with; `None` once the
    /// payload has begun (or for blocks with no HTTP header).
    head_match: Option<usize>,
}

impl BlockDigester {
    pub fn new(algorithm: Algorithm, http: bool) -> BlockDigester {
        BlockDigester {
            block: Hasher::new(algorithm),
            seen: 0,
            payload_offset: (!http).then_some(0),
            payload: Some(Hasher::new(algorithm)),
            head_match: http.then_some(0),
        }
    }

    pub fn update(&mut self, mut bytes: &[u8]) {
        self.block.update(bytes);
        let chunk_start = self.seen;
        self.seen += bytes.len() as u64;
        if let Some(matched) = self.head_match {
            match find_head_end(matched, bytes) {
                Ok(payload_start) => {
                    self.head_match = None;
                    self.payload_offset = Some(chunk_start + payload_start as u64);
                    bytes = &bytes[payload_start..];
                }
                Err(now_matched) => {
                    self.head_match = Some(now_matched);
                    return;
                }
            }
        }
        if let Some(payload) = self.payload.as_mut() {
            payload.update(bytes);
        }
    }

    /// Skips hashing the payload, for a caller that already knows its digest (the fetcher
    /// hashes bodies as they arrive); the payload's offset is still found.
    pub fn without_payload(mut self) -> BlockDigester {
        self.payload = None;
        self
    }

    /// Where the payload starts in the block: after the HTTP header, or at 0 for blocks
    /// without one; `None` while an HTTP header has not ended.
    pub fn payload_offset(&self) -> Option<u64> {
        self.payload_offset
    }

    /// The block hash, and the payload hash unless an HTTP block never ended its header.
    pub fn finish(self) -> (Vec<u8>, Option<Vec<u8>>) {
        let payload = match self.head_match {
            Some(_) => None,
            None => self.payload.map(Hasher::finish),
        };
        (self.block.finish(), payload)
    }
}

/// Scans for the end of an HTTP header (`CRLF CRLF`), `matched` bytes of which the previous
/// chunk ended with. `Ok(i)`: the payload starts at `i`; `Err(m)`: not yet, `m` bytes matched.
fn find_head_end(mut matched: usize, bytes: &[u8]) -> Result<usize, usize> {
    const END: &[u8; 4] = b"\r\n\r\n";
    for (i, &b) in bytes.iter().enumerate() {
        matched = if b == END[matched] {
            matched + 1
        } else if b == b'\r' {
            1
        } else {
            0
        };
        if matched == 4 {
            return Ok(i + 1);
        }
    }
    Err(matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_base32_and_hex_forms_of_the_same_hash() {
        let mut h = Hasher::new(Algorithm::Sha1);
        h.update(b"hello");
        let raw = h.finish();
        let b32 = format!("sha1:{}", BASE32.encode(&raw));
        let hex = format!("SHA1:{}", data_encoding::HEXUPPER.encode(&raw));
        let b64 = format!("sha1:{}", data_encoding::BASE64.encode(&raw));
        let b64_nopad = format!("sha-1:{}", data_encoding::BASE64URL_NOPAD.encode(&raw));
        for form in [b32, hex, b64, b64_nopad] {
            assert_eq!(ExpectedDigest::parse(&form).unwrap().value, raw, "{form}");
        }
        let mut h = Hasher::new(Algorithm::Sha512);
        h.update(b"hello");
        let raw = h.finish();
        for form in [
            format!("sha512:{}", BASE32_NOPAD.encode(&raw)),
            format!("sha512:{}", data_encoding::BASE64.encode(&raw)),
        ] {
            assert_eq!(ExpectedDigest::parse(&form).unwrap().value, raw, "{form}");
        }
        assert!(matches!(
            ExpectedDigest::parse("md5:abc"),
            Err(DigestFieldError::Unsupported(_))
        ));
        assert!(matches!(
            ExpectedDigest::parse("sha256:zz"),
            Err(DigestFieldError::Malformed(_))
        ));
    }

    #[test]
    fn payload_starts_after_the_http_header_even_across_chunks() {
        let block = b"HTTP/1.1 200 OK\r\nA: b\r\n\r\npayload\r\n\r\nmore";
        for split in 0..block.len() {
            let mut d = BlockDigester::new(Algorithm::Sha256, true);
            d.update(&block[..split]);
            d.update(&block[split..]);
            let (_, payload) = d.finish();
            let mut expected = Hasher::new(Algorithm::Sha256);
            expected.update(b"payload\r\n\r\nmore");
            assert_eq!(payload, Some(expected.finish()), "split at {split}");
        }
        let mut d = BlockDigester::new(Algorithm::Sha256, true);
        d.update(b"HTTP/1.1 200 OK\r\nno end");
        assert_eq!(d.finish().1, None);
    }

    #[test]
    fn sha256_label_is_lowercase_hex() {
        let mut h = Hasher::new(Algorithm::Sha256);
        h.update(b"");
        assert_eq!(
            sha256_label(&h.finish()),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
