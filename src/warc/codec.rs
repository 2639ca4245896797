//! Per-record compression: one gzip member (WARC/1.1 Annex D) or one zstd frame (IIPC
//! "Zstandard Compression for WARC Files") per record, so any record can be read alone from its
//! offset; zstd frames optionally with the file's dictionary (see [`super::dictionary`]).
//! [`Unpacker`] is the reading side: the decompressed stream of a whole file, which knows where
//! each member or frame began and ended in the compressed file.
//!
//! The decompression itself is flate2 (zlib-rs) and libzstd; what is written here is only the
//! bookkeeping of member boundaries, which neither crate exposes for a stream of many members.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use flate2::{Decompress, FlushDecompress, Status};
use zstd::stream::raw::{Decoder as ZstdDecoder, Encoder as ZstdEncoder, Operation};
use zstd::zstd_safe::{InBuffer, OutBuffer};

use super::dictionary::{
    DICT_FRAME_MAGIC as ZSTD_DICT_FRAME_MAGIC, Decoding, MAX_DICTIONARY, ZSTD_MAGIC,
    ZstdDictionary, le32,
};

const IO_BUF: usize = 256 << 10;

/// How a WARC file's records are compressed.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    #[serde(alias = "gz")]
    Gzip,
    #[default]
    #[serde(alias = "zst")]
    Zstd,
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Compression {
    /// Tells the compression from a file's first bytes; `None` when they fit no WARC at all.
    pub fn sniff(prefix: &[u8]) -> Option<Compression> {
        if prefix.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if prefix.len() >= 4 && matches!(le32(prefix), ZSTD_MAGIC | ZSTD_DICT_FRAME_MAGIC) {
            Some(Compression::Zstd)
        } else if prefix.starts_with(b"WARC/") || prefix.starts_with(b"filedesc") {
            Some(Compression::None)
        } else {
            None
        }
    }

    /// The file name suffix: `warc`, `warc.gz` or `warc.zst`.
    pub fn extension(self) -> &'static str {
        match self {
            Compression::None => "warc",
            Compression::Gzip => "warc.gz",
            Compression::Zstd => "warc.zst",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

impl std::str::FromStr for Compression {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Compression::None),
            "gzip" | "gz" => Ok(Compression::Gzip),
            "zstd" | "zst" => Ok(Compression::Zstd),
            _ => Err(format!("unknown compression {s:?}: use zstd, gzip or none")),
        }
    }
}

/// The file ends where more was due: a truncation, which repair may cut away.
fn cut_short(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, msg)
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

enum Codec {
    Plain,
    Gzip(Box<Decompress>),
    Zstd(Box<ZstdDecoder<'static>>),
}

/// The decompressed stream of a WARC file, read as a `BufRead`, that keeps track of where each
/// gzip member or zstd frame starts in the compressed file.
///
/// A `fill_buf` never returns bytes of two members at once, so a reader that has consumed
/// exactly one record can ask [`Unpacker::at_boundary`] whether the record ended its member and
/// [`Unpacker::position`] where the next one starts.
pub struct Unpacker<R> {
    src: R,
    input: Buffer,
    in_pos: usize,
    in_len: usize,
    /// Offset in the file of `input[in_pos]`.
    in_offset: u64,
    output: Buffer,
    out_pos: usize,
    out_len: usize,
    codec: Codec,
    inside_member: bool,
    member_start: u64,
    /// Decompressed bytes consumed since the reader started, and when the current member
    /// started.
    consumed: u64,
    consumed_at_member_start: u64,
    /// Which spares the zstd decoder goes back to when done.
    spare: Spare,
}

/// Where an unpacker's zstd decoder goes when it is done: to the plain spares, to the spares
/// of a shared dictionary (by its index), or nowhere (one loaded with a dictionary of its own).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Spare {
    Plain,
    Dictionary(usize),
    Drop,
}

thread_local! {
    /// zstd decoders this thread is done with, kept for its next reader: creating one
    /// (`ZSTD_createDCtx`, its tables allocated and set up) was the largest cost of reading a
    /// small record, which the offline copy, replay and a re-crawl's revisits do thousands of
    /// times in a row.
    static SPARE_ZSTD: std::cell::RefCell<Vec<ZstdDecoder<'static>>> =
        const { std::cell::RefCell::new(Vec::new()) };
    /// The same for decoders that refer to a shared dictionary, by its index: replay reading
    /// a dictionary file record by record gets one back with the dictionary in place.
    static SPARE_DICT_ZSTD: std::cell::RefCell<Vec<(usize, ZstdDecoder<'static>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// How many spare decoders a thread keeps: a reader rarely has more than two files open.
const MAX_SPARE_ZSTD: usize = 2;

thread_local! {
    /// Buffers this thread's readers are done with, whole (every byte initialized).
    static SPARE_BUFFERS: std::cell::RefCell<Vec<Vec<u8>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// How many spare buffers a thread keeps (a record, an input and an output for each of two
/// readers), and how large: a reader of a whole file makes its buffers once, a reader of one
/// small record many times over. At most 384 KiB a thread, kept until the thread ends (replay's
/// blocking threads end once idle).
const MAX_SPARE_BUFFERS: usize = 6;
const MAX_SPARE_BUFFER: usize = 64 << 10;

/// A reader's buffer of `len` bytes, in memory taken from this thread's spares where one is
/// large enough, and given back when the reader is done: reading a small record made its
/// buffers anew, each zeroed, and zeroing them was a tenth of the offline copy's instructions
/// (callgrind). Small sizes are rounded up to a power of two so that spares fit the next
/// record of about the same size.
pub(super) struct Buffer {
    bytes: Vec<u8>,
    len: usize,
}

impl Buffer {
    pub(super) fn spare(len: usize) -> Buffer {
        if len == 0 || len > MAX_SPARE_BUFFER {
            return Buffer {
                bytes: vec![0; len],
                len,
            };
        }
        let spare = SPARE_BUFFERS.try_with(|spares| {
            let mut spares = spares.borrow_mut();
            let fits = (0..spares.len())
                .filter(|&i| spares[i].len() >= len)
                .min_by_key(|&i| spares[i].len())?;
            Some(spares.swap_remove(fits))
        });
        let bytes = match spare {
            Ok(Some(bytes)) => bytes,
            _ => vec![0; len.next_power_of_two()],
        };
        Buffer { bytes, len }
    }
}

impl AsRef<[u8]> for Buffer {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl std::ops::Deref for Buffer {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl std::ops::DerefMut for Buffer {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[..self.len]
    }
}

impl Drop for Buffer {
    /// Back to the spares, the smallest of them making way when they are full.
    fn drop(&mut self) {
        let bytes = std::mem::take(&mut self.bytes);
        if bytes.is_empty() || bytes.len() > MAX_SPARE_BUFFER {
            return;
        }
        let _ = SPARE_BUFFERS.try_with(|spares| {
            let mut spares = spares.borrow_mut();
            if spares.len() >= MAX_SPARE_BUFFERS {
                let Some(smallest) = (0..spares.len()).min_by_key(|&i| spares[i].len()) else {
                    return;
                };
                if spares[smallest].len() >= bytes.len() {
                    return;
                }
                spares.swap_remove(smallest);
            }
            spares.push(bytes);
        });
    }
}

fn spare_zstd_decoder() -> io::Result<Box<ZstdDecoder<'static>>> {
    match SPARE_ZSTD.try_with(|spare| spare.borrow_mut().pop()) {
        Ok(Some(decoder)) => Ok(Box::new(decoder)),
        _ => Ok(Box::new(ZstdDecoder::new()?)),
    }
}

/// A decoder with `dictionary`, spare if one is at hand; and where it goes back to.
fn dictionary_decoder(dictionary: &Decoding) -> io::Result<(Box<ZstdDecoder<'static>>, Spare)> {
    let Some(key) = dictionary.spare_key() else {
        return Ok((Box::new(dictionary.decoder()?), Spare::Drop));
    };
    let spare = SPARE_DICT_ZSTD.try_with(|spare| {
        let mut spare = spare.borrow_mut();
        let at = spare.iter().position(|(k, _)| *k == key)?;
        Some(spare.swap_remove(at).1)
    });
    let decoder = match spare {
        Ok(Some(decoder)) => decoder,
        _ => dictionary.decoder()?,
    };
    Ok((Box::new(decoder), Spare::Dictionary(key)))
}

impl<R> Drop for Unpacker<R> {
    /// The decoder goes back to its spares as it is: each frame starts with a reset, which
    /// keeps the dictionary it refers to.
    fn drop(&mut self) {
        if let Codec::Zstd(decoder) = std::mem::replace(&mut self.codec, Codec::Plain) {
            give_back(*decoder, self.spare);
        }
    }
}

fn give_back(decoder: ZstdDecoder<'static>, to: Spare) {
    match to {
        Spare::Plain => {
            let _ = SPARE_ZSTD.try_with(|spare| {
                let mut spare = spare.borrow_mut();
                if spare.len() < MAX_SPARE_ZSTD {
                    spare.push(decoder);
                }
            });
        }
        Spare::Dictionary(key) => {
            let _ = SPARE_DICT_ZSTD.try_with(|spare| {
                let mut spare = spare.borrow_mut();
                if spare.len() >= MAX_SPARE_ZSTD {
                    spare.remove(0);
                }
                spare.push((key, decoder));
            });
        }
        Spare::Drop => {}
    }
}

impl<R: Read> Unpacker<R> {
    /// Wraps a file read from its start. For zstd, a leading dictionary frame is loaded here.
    pub fn new(src: R, compression: Compression) -> io::Result<Unpacker<R>> {
        Unpacker::new_at(src, compression, 0)
    }

    /// Wraps a reader positioned at `offset` in its file, the start of a member or frame (a
    /// record's offset in the index). A zstd dictionary frame is only looked for at 0.
    pub fn new_at(src: R, compression: Compression, offset: u64) -> io::Result<Unpacker<R>> {
        Unpacker::with_buffer(src, compression, offset, IO_BUF)
    }

    /// As [`Unpacker::new_at`], with buffers of `buffer` bytes: small ones suit reading one
    /// small record.
    pub fn with_buffer(
        src: R,
        compression: Compression,
        offset: u64,
        buffer: usize,
    ) -> io::Result<Unpacker<R>> {
        let codec = match compression {
            Compression::None => Codec::Plain,
            Compression::Gzip => Codec::Gzip(Box::new(Decompress::new_gzip(15))),
            Compression::Zstd => Codec::Zstd(spare_zstd_decoder()?),
        };
        let mut unpacker = Unpacker::assemble(src, codec, offset, buffer, Spare::Plain);
        if compression == Compression::Zstd && offset == 0 {
            unpacker.load_zstd_dictionary()?;
        }
        Ok(unpacker)
    }

    /// As [`Unpacker::with_buffer`] for a zstd file, at `offset`, with the file's
    /// dictionary (read from its start, see [`super::dictionary::file_dictionary`]) when it has
    /// one.
    pub fn zstd_at(
        src: R,
        offset: u64,
        buffer: usize,
        dictionary: Option<&Decoding>,
    ) -> io::Result<Unpacker<R>> {
        let Some(dictionary) = dictionary else {
            return Unpacker::with_buffer(src, Compression::Zstd, offset, buffer);
        };
        let (decoder, spare) = dictionary_decoder(dictionary)?;
        Ok(Unpacker::assemble(
            src,
            Codec::Zstd(decoder),
            offset,
            buffer,
            spare,
        ))
    }

    fn assemble(src: R, codec: Codec, offset: u64, buffer: usize, spare: Spare) -> Unpacker<R> {
        let buffer = buffer.clamp(4096, IO_BUF);
        let output_len = if matches!(codec, Codec::Plain) {
            0
        } else {
            buffer
        };
        Unpacker {
            src,
            input: Buffer::spare(buffer),
            in_pos: 0,
            in_len: 0,
            in_offset: offset,
            output: Buffer::spare(output_len),
            out_pos: 0,
            out_len: 0,
            codec,
            inside_member: false,
            member_start: 0,
            consumed: 0,
            consumed_at_member_start: 0,
            spare,
        }
    }

    /// Offset in the compressed file of the next byte the decoder will read: at a boundary, where
    /// the next member or frame starts.
    pub fn position(&self) -> u64 {
        self.in_offset
    }

    /// How many decompressed bytes have been consumed since the reader started: where a record
    /// lies in the decompressed stream, to read it again from its member's start.
    pub fn decompressed_position(&self) -> u64 {
        self.consumed
    }

    /// Up to `n` of the next decompressed bytes, without consuming them; fewer when the file,
    /// or (compressed) the current buffer, holds fewer.
    pub fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        if matches!(self.codec, Codec::Plain) {
            self.ensure_input(n)?;
            let end = self.in_len.min(self.in_pos + n);
            return Ok(&self.input[self.in_pos..end]);
        }
        let available = self.fill_buf()?;
        Ok(&available[..available.len().min(n)])
    }

    /// Where the member or frame holding the next decompressed byte started.
    pub fn member_start(&self) -> u64 {
        let decoding = self.inside_member || self.out_pos < self.out_len;
        if decoding && !matches!(self.codec, Codec::Plain) {
            self.member_start
        } else {
            self.in_offset
        }
    }

    /// True when a member or frame has begun decoding but none of its bytes were consumed yet
    /// (a reader peeked into it).
    pub fn at_member_start(&self) -> bool {
        let decoding = self.inside_member || self.out_pos < self.out_len;
        !matches!(self.codec, Codec::Plain)
            && decoding
            && self.consumed == self.consumed_at_member_start
    }

    /// True when everything decompressed so far has been consumed and the member or frame it
    /// came from has ended: the next byte read starts a new member.
    pub fn at_boundary(&mut self) -> io::Result<bool> {
        if self.out_pos < self.out_len {
            return Ok(false);
        }
        if matches!(self.codec, Codec::Plain) {
            return Ok(true);
        }
        while self.inside_member {
            self.step()?;
            if self.out_pos < self.out_len {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Makes at least `n` raw bytes available in `input` unless the file ends first; returns how
    /// many are available.
    fn ensure_input(&mut self, n: usize) -> io::Result<usize> {
        if self.in_len - self.in_pos >= n {
            return Ok(self.in_len - self.in_pos);
        }
        self.input.copy_within(self.in_pos..self.in_len, 0);
        self.in_len -= self.in_pos;
        self.in_pos = 0;
        while self.in_len < n {
            let read = self.src.read(&mut self.input[self.in_len..])?;
            if read == 0 {
                break;
            }
            self.in_len += read;
        }
        Ok(self.in_len)
    }

    fn skip_input(&mut self, mut n: u64) -> io::Result<()> {
        while n > 0 {
            if self.ensure_input(1)? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "file ends inside a skippable zstd frame",
                ));
            }
            let take = n.min((self.in_len - self.in_pos) as u64) as usize;
            self.advance_input(take);
            n -= take as u64;
        }
        Ok(())
    }

    fn advance_input(&mut self, n: usize) {
        self.in_pos += n;
        self.in_offset += n as u64;
    }

    /// Reads the dictionary frame a zstd file may start with, and decodes the rest with it.
    fn load_zstd_dictionary(&mut self) -> io::Result<()> {
        if self.ensure_input(8)? < 8 || le32(&self.input[self.in_pos..]) != ZSTD_DICT_FRAME_MAGIC {
            return Ok(());
        }
        let size = le32(&self.input[self.in_pos + 4..]) as usize;
        if size > MAX_DICTIONARY {
            return Err(invalid(format!(
                "zstd dictionary frame of {size} bytes exceeds the {MAX_DICTIONARY}-byte limit"
            )));
        }
        self.advance_input(8);
        // Grown as it is read, not allocated as the header says: a short file may claim a lot.
        let mut data = Vec::with_capacity(size.min(1 << 20));
        while data.len() < size {
            if self.ensure_input(1)? == 0 {
                return Err(cut_short("file ends inside the zstd dictionary frame"));
            }
            let take = (size - data.len()).min(self.in_len - self.in_pos);
            data.extend_from_slice(&self.input[self.in_pos..self.in_pos + take]);
            self.advance_input(take);
        }
        let dictionary = ZstdDictionary::from_frame_payload(&data)?;
        let (decoder, spare) = dictionary_decoder(&Decoding::of(&dictionary))?;
        if let Codec::Zstd(plain) = std::mem::replace(&mut self.codec, Codec::Zstd(decoder)) {
            give_back(*plain, self.spare);
        }
        self.spare = spare;
        Ok(())
    }

    /// Positions at the start of the next member or frame, skipping zstd extension frames.
    /// Returns false at a clean end of file.
    fn start_member(&mut self) -> io::Result<bool> {
        loop {
            let available = self.ensure_input(8)?;
            if available == 0 {
                return Ok(false);
            }
            let head = &self.input[self.in_pos..self.in_len];
            match &mut self.codec {
                Codec::Plain => unreachable!("plain files have no members"),
                Codec::Gzip(inflate) => {
                    if available < 2 && [0x1f, 0x8b].starts_with(head) {
                        return Err(cut_short("file ends inside a gzip member's magic"));
                    }
                    if !head.starts_with(&[0x1f, 0x8b]) {
                        return Err(invalid("expected a gzip member, found other bytes"));
                    }
                    **inflate = Decompress::new_gzip(15);
                }
                Codec::Zstd(decoder) => {
                    if available < 4 && ZSTD_MAGIC.to_le_bytes().starts_with(head) {
                        return Err(cut_short("file ends inside a zstd frame's magic"));
                    }
                    if available < 4 {
                        return Err(invalid("trailing bytes too short for a zstd frame"));
                    }
                    let magic = le32(head);
                    if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
                        if magic == ZSTD_DICT_FRAME_MAGIC {
                            return Err(invalid("zstd dictionary frame after the start of file"));
                        }
                        if available < 8 {
                            return Err(io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                "file ends inside a skippable zstd frame header",
                            ));
                        }
                        let size = le32(&head[4..]) as u64;
                        self.skip_input(8 + size)?;
                        continue;
                    }
                    if magic != ZSTD_MAGIC {
                        return Err(invalid("expected a zstd frame, found other bytes"));
                    }
                    decoder.reinit()?;
                }
            }
            self.member_start = self.in_offset;
            self.consumed_at_member_start = self.consumed;
            self.inside_member = true;
            return Ok(true);
        }
    }

    /// Decompresses one step of the current member into `output`, ending the member when the
    /// codec says so.
    fn step(&mut self) -> io::Result<()> {
        if self.ensure_input(1)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file ends inside a compressed record",
            ));
        }
        let input = &self.input[self.in_pos..self.in_len];
        let (consumed, produced, ended) = match &mut self.codec {
            Codec::Plain => unreachable!("plain files are not decompressed"),
            Codec::Gzip(inflate) => {
                let (before_in, before_out) = (inflate.total_in(), inflate.total_out());
                let status = inflate
                    .decompress(input, &mut self.output, FlushDecompress::None)
                    .map_err(|e| invalid(format!("gzip: {e}")))?;
                (
                    (inflate.total_in() - before_in) as usize,
                    (inflate.total_out() - before_out) as usize,
                    status == Status::StreamEnd,
                )
            }
            Codec::Zstd(decoder) => {
                let mut inb = InBuffer::around(input);
                let mut outb = OutBuffer::around(&mut self.output[..]);
                let hint = decoder
                    .run(&mut inb, &mut outb)
                    .map_err(|e| invalid(format!("zstd: {e}")))?;
                (inb.pos(), outb.pos(), hint == 0)
            }
        };
        if consumed == 0 && produced == 0 && !ended {
            return Err(invalid("compressed data makes no progress"));
        }
        self.advance_input(consumed);
        self.out_pos = 0;
        self.out_len = produced;
        if ended {
            self.inside_member = false;
        }
        Ok(())
    }
}

impl<R: Read> Read for Unpacker<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_buffered(self, buf)
    }
}

impl<R: Read> BufRead for Unpacker<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if matches!(self.codec, Codec::Plain) {
            self.ensure_input(1)?;
            return Ok(&self.input[self.in_pos..self.in_len]);
        }
        while self.out_pos == self.out_len {
            if !self.inside_member && !self.start_member()? {
                return Ok(&[]);
            }
            self.step()?;
        }
        Ok(&self.output[self.out_pos..self.out_len])
    }

    fn consume(&mut self, amt: usize) {
        self.consumed += amt as u64;
        if matches!(self.codec, Codec::Plain) {
            self.advance_input(amt);
        } else {
            self.out_pos += amt;
        }
    }
}

/// `Read` for a type that is `BufRead` already: copies out of its buffer.
pub fn read_buffered(reader: &mut impl BufRead, buf: &mut [u8]) -> io::Result<usize> {
    let available = reader.fill_buf()?;
    let n = available.len().min(buf.len());
    buf[..n].copy_from_slice(&available[..n]);
    reader.consume(n);
    Ok(n)
}

/// A record's block as the encoder takes it: `len` bytes, the first `head_len` of them its
/// HTTP header, read from a stream or lying in memory.
pub struct BodyIn<'a> {
    source: Source<'a>,
    len: u64,
    head_len: u64,
}

enum Source<'a> {
    Reader(&'a mut dyn Read),
    /// The block in memory, in up to two parts (a response's HTTP header and its payload),
    /// compressed where they lie: through a reader, each image of the crawl benchmark was
    /// copied into a buffer on its way to the compressor (3% of the crawl's samples, perf).
    Memory([&'a [u8]; 2]),
}

impl<'a> BodyIn<'a> {
    /// `len` bytes read from `reader`.
    pub fn read(reader: &'a mut dyn Read, len: u64, head_len: u64) -> BodyIn<'a> {
        BodyIn {
            source: Source::Reader(reader),
            len,
            head_len,
        }
    }

    /// The block `first` then `second`.
    pub fn memory(first: &'a [u8], second: &'a [u8], head_len: u64) -> BodyIn<'a> {
        BodyIn {
            source: Source::Memory([first, second]),
            len: (first.len() + second.len()) as u64,
            head_len,
        }
    }

    /// Writes the block's next `n` bytes to `dst`.
    fn copy_to(&mut self, dst: &mut dyn Write, n: u64) -> io::Result<()> {
        match &mut self.source {
            Source::Reader(reader) => copy_exact(*reader, dst, n),
            Source::Memory(parts) => {
                let mut left = n;
                for part in parts.iter_mut() {
                    let (now, rest) = part.split_at(left.min(part.len() as u64) as usize);
                    dst.write_all(now)?;
                    *part = rest;
                    left -= now.len() as u64;
                }
                match left {
                    0 => Ok(()),
                    _ => Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("record block ended {left} bytes short of {n}"),
                    )),
                }
            }
        }
    }
}

/// Compresses one record at a time into its own gzip member or zstd frame.
pub enum RecordEncoder {
    Plain,
    Gzip(flate2::Compression),
    Zstd(Box<ZstdFrames>),
}

/// zstd frames, with or without a dictionary.
pub struct ZstdFrames {
    dictionary: Option<ZstdDictionary>,
    /// The dictionary frame every file starts with; empty without a dictionary.
    file_start: Vec<u8>,
    /// One encoder per level, made when first needed and kept. Each is made at its level, so
    /// libzstd digests the dictionary into tables for that level once (its local `CDict`,
    /// built on the first frame and kept by each reset), where one encoder switching levels
    /// would compress a packed image with the tables of level 3, three times slower. A
    /// frame abandoned by an I/O error takes its encoder with it (zstd's `Writer` owns it).
    text: Option<ZstdEncoder<'static>>,
    packed: Option<ZstdEncoder<'static>>,
}

impl RecordEncoder {
    pub fn new(compression: Compression) -> io::Result<RecordEncoder> {
        Ok(match compression {
            Compression::None => RecordEncoder::Plain,
            Compression::Gzip => RecordEncoder::Gzip(flate2::Compression::new(6)),
            Compression::Zstd => RecordEncoder::Zstd(Box::new(ZstdFrames {
                dictionary: None,
                file_start: Vec::new(),
                text: None,
                packed: None,
            })),
        })
    }

    /// zstd frames compressed with `dictionary`, for files that start with its frame
    /// ([`RecordEncoder::file_start`]).
    pub fn with_dictionary(dictionary: ZstdDictionary) -> io::Result<RecordEncoder> {
        Ok(RecordEncoder::Zstd(Box::new(ZstdFrames {
            file_start: dictionary.frame()?,
            dictionary: Some(dictionary),
            text: None,
            packed: None,
        })))
    }

    /// What each file starts with, before its first record: the dictionary frame, if any.
    pub fn file_start(&self) -> &[u8] {
        match self {
            RecordEncoder::Zstd(frames) => &frames.file_start,
            _ => &[],
        }
    }

    /// Writes `head`, then the body, then `tail`, as one member or frame; a `packed` body
    /// (compressed already) at the fastest setting.
    ///
    /// For zstd, the headers (the WARC header and the body's first `head_len` bytes, its HTTP
    /// header) end a block of their own, so an indexer can read a record's headers by
    /// decompressing only its first block and skip the rest by the block headers.
    pub fn encode(
        &mut self,
        out: &mut dyn Write,
        head: &[u8],
        mut body: BodyIn<'_>,
        tail: &[u8],
        packed: bool,
    ) -> io::Result<()> {
        let len = body.len;
        match self {
            RecordEncoder::Plain => {
                out.write_all(head)?;
                body.copy_to(out, len)?;
                out.write_all(tail)
            }
            RecordEncoder::Gzip(level) => {
                let level = if packed {
                    flate2::Compression::fast()
                } else {
                    *level
                };
                let mut gz = flate2::write::GzEncoder::new(out, level);
                gz.write_all(head)?;
                body.copy_to(&mut gz, len)?;
                gz.write_all(tail)?;
                gz.try_finish()
            }
            RecordEncoder::Zstd(frames) => frames.encode(out, head, body, tail, packed),
        }
    }
}

impl ZstdFrames {
    fn encode(
        &mut self,
        out: &mut dyn Write,
        head: &[u8],
        mut body: BodyIn<'_>,
        tail: &[u8],
        packed: bool,
    ) -> io::Result<()> {
        let len = body.len;
        let body_head = body.head_len.min(len);
        let (slot, level) = if packed {
            (&mut self.packed, ZSTD_PACKED_LEVEL)
        } else {
            (&mut self.text, ZSTD_LEVEL)
        };
        let mut operation = match slot.take() {
            Some(operation) => operation,
            None => zstd_encoder(level, self.dictionary.as_ref())?,
        };
        operation.reinit()?;
        let total = head.len() as u64 + len + tail.len() as u64;
        operation.set_pledged_src_size(Some(total))?;
        let mut frame = zstd::stream::zio::Writer::new(out, operation);
        frame.write_all(head)?;
        body.copy_to(&mut frame, body_head)?;
        frame.flush()?;
        body.copy_to(&mut frame, len - body_head)?;
        frame.write_all(tail)?;
        frame.finish()?;
        *slot = Some(frame.into_inner().1);
        Ok(())
    }
}

/// The start of one zstd frame: where it lies in its file, how many bytes it decompresses to,
/// and its first decompressed bytes (as many as the caller wanted, a block at a time).
#[derive(Debug)]
pub struct FrameHead<'a> {
    pub offset: u64,
    pub length: u64,
    pub content_size: u64,
    pub head: &'a [u8],
}

/// Walks a zstd file frame by frame by the block headers (RFC 8878 section 3.1.1), decompressing
/// each frame only until `enough` says its head is out, skipping its other blocks by their
/// sizes: an indexer reads a record's headers without inflating its payload. The file is read
/// through a small buffer and skipped with seeks, so memory stays flat whatever its size.
///
/// A file that starts with a dictionary frame is walked with its dictionary.
///
/// `each` sees every frame in order and may stop the walk by returning false. Returns whether
/// the whole file was walked: `false` when `each` stopped it or the file is not frames with
/// content sizes (other bytes, damage), for the caller to read the general way, which also
/// reports damage with its offset. Only the framing is parsed here; decompression is
/// libzstd's.
pub fn walk_zstd_frames(
    path: &Path,
    enough: &dyn Fn(&[u8]) -> bool,
    each: &mut dyn FnMut(FrameHead<'_>) -> bool,
) -> io::Result<bool> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut walker = FrameWalker {
        src: BufReader::with_capacity(16 << 10, file),
        pos: 0,
        len,
        decoder: ZstdDecoder::new()?,
        head: Vec::with_capacity(16 << 10),
    };
    // Damage is for the general reader to report, with its offset.
    Ok(walker.walk(enough, each).unwrap_or(false))
}

struct FrameWalker {
    src: BufReader<File>,
    pos: u64,
    len: u64,
    decoder: ZstdDecoder<'static>,
    head: Vec<u8>,
}

impl FrameWalker {
    fn walk(
        &mut self,
        enough: &dyn Fn(&[u8]) -> bool,
        each: &mut dyn FnMut(FrameHead<'_>) -> bool,
    ) -> io::Result<bool> {
        while self.pos < self.len {
            let start = self.pos;
            let magic = self.u32()?;
            if magic == ZSTD_DICT_FRAME_MAGIC && start == 0 {
                self.load_dictionary()?;
                continue;
            }
            if magic & 0xFFFF_FFF0 == 0x184D_2A50 && magic != ZSTD_DICT_FRAME_MAGIC {
                let size = self.u32()?;
                self.skip(u64::from(size))?;
                continue;
            }
            if magic != ZSTD_MAGIC {
                // A dictionary frame out of place, or not zstd at all.
                return Ok(false);
            }
            let Some(content_size) = self.frame(enough)? else {
                return Ok(false);
            };
            let frame = FrameHead {
                offset: start,
                length: self.pos - start,
                content_size,
                head: &self.head,
            };
            if !each(frame) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Walks one frame (its magic already read): decompresses blocks into `head` until
    /// `enough`, skips the others. Returns the frame's content size, `None` if it names none.
    fn frame(&mut self, enough: &dyn Fn(&[u8]) -> bool) -> io::Result<Option<u64>> {
        self.head.clear();
        self.decoder.reinit()?;
        let mut descriptor = [0u8; 1];
        self.read_exact(&mut descriptor)?;
        let d = descriptor[0];
        let single_segment = d & 0x20 != 0;
        let checksum = d & 0x04 != 0;
        let dict_id_len = [0, 1, 2, 4][(d & 0x03) as usize];
        let fcs_len = match d >> 6 {
            0 if single_segment => 1,
            0 => 0,
            1 => 2,
            2 => 4,
            _ => 8,
        };
        let rest_len = usize::from(!single_segment) + dict_id_len + fcs_len;
        let mut header = vec![0u8; 5 + rest_len];
        header[..4].copy_from_slice(&ZSTD_MAGIC.to_le_bytes());
        header[4] = d;
        self.read_exact(&mut header[5..])?;
        let Ok(Some(content_size)) = zstd::zstd_safe::get_frame_content_size(&header) else {
            return Ok(None);
        };
        self.feed(&header)?;
        let mut decoding = !enough(&self.head);
        loop {
            let mut block = [0u8; 3];
            self.read_exact(&mut block)?;
            let raw = u32::from_le_bytes([block[0], block[1], block[2], 0]);
            let last = raw & 1 != 0;
            let size = u64::from(raw >> 3);
            let stored = match (raw >> 1) & 3 {
                0 | 2 => size,
                1 => 1,
                _ => return Ok(None),
            };
            if decoding {
                let mut bytes = vec![0u8; 3 + stored as usize];
                bytes[..3].copy_from_slice(&block);
                self.read_exact(&mut bytes[3..])?;
                self.feed(&bytes)?;
                decoding = !enough(&self.head);
            } else {
                self.skip(stored)?;
            }
            if last {
                break;
            }
        }
        if checksum {
            self.skip(4)?;
        }
        Ok(Some(content_size))
    }

    /// Reads the dictionary frame (its magic read already) and decodes what follows with it.
    fn load_dictionary(&mut self) -> io::Result<()> {
        let size = u64::from(self.u32()?);
        if size > MAX_DICTIONARY as u64 || self.pos + size > self.len {
            return Err(invalid(
                "zstd dictionary frame larger than the limit or the file",
            ));
        }
        let mut payload = vec![0u8; size as usize];
        self.read_exact(&mut payload)?;
        let dictionary = ZstdDictionary::from_frame_payload(&payload)?;
        self.decoder = Decoding::of(&dictionary).decoder()?;
        Ok(())
    }

    /// Feeds compressed bytes to the decoder, appending what it yields to `head`.
    fn feed(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut input = InBuffer::around(bytes);
        loop {
            self.head.reserve(64 << 10);
            let before = (input.pos(), self.head.len());
            let end = self.head.len();
            self.decoder
                .run(&mut input, &mut OutBuffer::around_pos(&mut self.head, end))?;
            let progressed = (input.pos(), self.head.len()) != before;
            let room_left = self.head.len() < self.head.capacity();
            if input.pos() == bytes.len() && room_left || !progressed {
                return Ok(());
            }
        }
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        self.src.read_exact(buf)?;
        self.pos += buf.len() as u64;
        Ok(())
    }

    fn skip(&mut self, n: u64) -> io::Result<()> {
        if self.pos + n > self.len {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.src.seek_relative(n as i64)?;
        self.pos += n;
        Ok(())
    }

    fn u32(&mut self) -> io::Result<u32> {
        let mut b = [0u8; 4];
        self.read_exact(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
}

/// Frames carry their content size and checksum, as the warc-zstd spec requires, and with a
/// dictionary its ID (libzstd's default).
fn zstd_encoder(
    level: i32,
    dictionary: Option<&ZstdDictionary>,
) -> io::Result<ZstdEncoder<'static>> {
    let mut encoder = match dictionary {
        Some(dictionary) => ZstdEncoder::with_dictionary(level, dictionary.bytes())?,
        None => ZstdEncoder::new(level)?,
    };
    encoder.set_parameter(zstd::stream::raw::CParameter::ChecksumFlag(true))?;
    encoder.set_parameter(zstd::stream::raw::CParameter::ContentSizeFlag(true))?;
    Ok(encoder)
}

/// zstd level 3, libzstd's default, writes five times faster than gzip -6 (`benches/warc.rs`);
/// higher levels buy little on a page mix, where incompressible images dominate (level 19 saves
/// 1% more, at a twentieth of the speed).
const ZSTD_LEVEL: i32 = 3;

/// A payload compressed already (a JPEG, a gzip body) is stored at zstd's fast level -1: it
/// gains nothing from level 3, which took 2.5 times as long to find that out (14.8 against
/// 6.0 us for the crawl benchmark's 14 KB images).
const ZSTD_PACKED_LEVEL: i32 = -1;

/// Copies exactly `len` bytes, failing if the source has fewer: a record's Content-Length was
/// written before its block, so a short block would leave a corrupt record.
fn copy_exact(src: &mut dyn Read, dst: &mut dyn Write, len: u64) -> io::Result<()> {
    let copied = io::copy(&mut src.take(len), dst)?;
    if copied != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("record block ended after {copied} of {len} bytes"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_all(compression: Compression, records: &[&[u8]]) -> Vec<u8> {
        let mut enc = RecordEncoder::new(compression).unwrap();
        let mut out = Vec::new();
        for r in records {
            enc.encode(&mut out, r, BodyIn::memory(b"", b"", 0), b"", false)
                .unwrap();
        }
        out
    }

    #[test]
    fn a_block_in_two_parts_is_written_as_the_same_block_read_whole() {
        let head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n";
        let body = b"<p>caf\xc3\xa9</p>".repeat(300);
        let whole = [&head[..], &body[..]].concat();
        for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
            for (split, head_len) in [(head.len(), head.len()), (7, head.len()), (0, 0)] {
                for packed in [false, true] {
                    let (first, second) = whole.split_at(split);
                    let mut encoder = RecordEncoder::new(compression).unwrap();
                    let mut parts = Vec::new();
                    let in_parts = BodyIn::memory(first, second, head_len as u64);
                    encoder
                        .encode(&mut parts, b"WARC/1.1\r\n", in_parts, b"\r\n", packed)
                        .unwrap();
                    let mut read = Vec::new();
                    let mut reader = &whole[..];
                    let streamed = BodyIn::read(&mut reader, whole.len() as u64, head_len as u64);
                    encoder
                        .encode(&mut read, b"WARC/1.1\r\n", streamed, b"\r\n", packed)
                        .unwrap();
                    assert_eq!(parts, read, "{compression:?}, split at {split}");
                }
            }
        }
        // A block shorter than it says is an error, as from a reader.
        let short = BodyIn {
            source: Source::Memory([&head[..], &body[..10]]),
            len: whole.len() as u64,
            head_len: 0,
        };
        let mut encoder = RecordEncoder::new(Compression::Zstd).unwrap();
        let error = encoder.encode(&mut Vec::new(), b"", short, b"", false);
        assert_eq!(error.unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn boundaries_are_reported_per_member() {
        for compression in [Compression::Gzip, Compression::Zstd] {
            let data = encode_all(compression, &[b"first record", b"second"]);
            let mut u = Unpacker::new(&data[..], compression).unwrap();
            let mut first = vec![0; 12];
            u.read_exact(&mut first).unwrap();
            assert_eq!(first, b"first record");
            assert!(u.at_boundary().unwrap());
            let second_start = u.position();
            assert!(second_start > 0 && second_start < data.len() as u64);
            let mut rest = String::new();
            u.read_to_string(&mut rest).unwrap();
            assert_eq!(rest, "second");
            assert_eq!(u.position(), data.len() as u64);
        }
    }

    #[test]
    fn a_decoder_left_mid_frame_reads_the_next_file_from_a_fresh_start() {
        let big: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let first = encode_all(Compression::Zstd, &[&big]);
        let second = encode_all(Compression::Zstd, &[b"second file"]);
        for _ in 0..3 {
            // Dropped with most of its frame unread: its decoder goes back to the spares.
            let mut left = Unpacker::new(&first[..], Compression::Zstd).unwrap();
            let mut some = [0; 100];
            left.read_exact(&mut some).unwrap();
            drop(left);
            let mut u = Unpacker::new(&second[..], Compression::Zstd).unwrap();
            let mut text = String::new();
            u.read_to_string(&mut text).unwrap();
            assert_eq!(text, "second file");
        }
        assert!(SPARE_ZSTD.with_borrow(|spare| !spare.is_empty()), "reused");
    }

    #[test]
    fn spare_buffers_hold_nothing_of_the_record_read_before() {
        let big: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
        let records: [&[u8]; 4] = [&big, b"small", &big[..5_000], b""];
        for compression in [Compression::Gzip, Compression::Zstd] {
            // Each reader's buffers go back to this thread's spares and serve the next one,
            // sized to its own record, smaller or larger than the one before.
            for record in records.iter().chain(records.iter().rev()) {
                let data = encode_all(compression, &[record]);
                let mut u = Unpacker::with_buffer(&data[..], compression, 0, data.len()).unwrap();
                let mut read = Vec::new();
                u.read_to_end(&mut read).unwrap();
                assert_eq!(read, *record, "{compression:?}, {} bytes", record.len());
            }
        }
    }

    #[test]
    fn truncated_member_is_an_error_not_an_end() {
        for compression in [Compression::Gzip, Compression::Zstd] {
            let data = encode_all(compression, &[b"a record that will be cut short"]);
            let mut u = Unpacker::new(&data[..data.len() - 3], compression).unwrap();
            let mut sink = Vec::new();
            assert!(u.read_to_end(&mut sink).is_err(), "{compression:?}");
        }
    }

    #[test]
    fn sniffs_each_kind() {
        assert_eq!(Compression::sniff(b"WARC/1.1\r\n"), Some(Compression::None));
        assert_eq!(
            Compression::sniff(&[0x1f, 0x8b, 8]),
            Some(Compression::Gzip)
        );
        assert_eq!(
            Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd]),
            Some(Compression::Zstd)
        );
        assert_eq!(Compression::sniff(b"<html>"), None);
    }
}
