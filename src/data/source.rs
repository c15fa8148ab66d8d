//! Where a CSV comes from and how its bytes arrive: a path or stdin, gunzipped by content,
//! read a block at a time up to a record end; the delimiter; out-of-memory errors.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::records::Scan;
use super::shown::shown_str;
use crate::{Error, Result};

/// Where a CSV file comes from: a path, or standard input when the command line says `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Path(PathBuf),
    Stdin,
}

impl Source {
    /// `-` is standard input; anything else is a path, whatever its bytes (a name that is
    /// not UTF-8 is a file name like any other).
    pub fn parse(s: impl AsRef<Path>) -> Source {
        let path = s.as_ref();
        if path.as_os_str() == "-" {
            Source::Stdin
        } else {
            Source::Path(path.to_path_buf())
        }
    }

    /// The name used in messages: the path as given, or `<stdin>`.
    pub fn display(&self) -> PathBuf {
        match self {
            Source::Path(p) => p.clone(),
            Source::Stdin => PathBuf::from("<stdin>"),
        }
    }
}

impl std::str::FromStr for Source {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(Source::parse(s))
    }
}

/// The name as every line shows it: escaped whole ([`crate::error::shown_path`]), so that a
/// newline in a file name cannot cut a line and a byte that is not UTF-8 shows as `\xe9`.
impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::error::shown_path(&self.display()))
    }
}

/// The byte between fields, as `--delimiter` gives it: `,` `;` `|`, `tab` or `\t`, or any
/// other single ASCII byte that is not a quote or a line end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiter(pub u8);

impl Delimiter {
    pub fn byte(self) -> u8 {
        self.0
    }
}

impl Default for Delimiter {
    fn default() -> Self {
        Delimiter(b',')
    }
}

impl std::str::FromStr for Delimiter {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "tab" | "\\t" | "\t" => Ok(Delimiter(b'\t')),
            _ => match s.as_bytes() {
                [b'"' | b'\n' | b'\r'] => Err(format!(
                    "`{}` cannot separate fields (it is a quote or a line end)",
                    shown_str(s)
                )),
                &[b] if b.is_ascii() => Ok(Delimiter(b)),
                _ => Err(format!(
                    "expected one ASCII byte such as `,` `;` `|` or `tab`, got `{}`",
                    shown_str(s)
                )),
            },
        }
    }
}

impl fmt::Display for Delimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            b'\t' => write!(f, "tab"),
            b => write!(f, "{}", b as char),
        }
    }
}

/// The whole file (or stdin), gunzipped when it starts with the gzip magic bytes 1f 8b.
pub fn read_bytes(src: &Source) -> Result<Vec<u8>> {
    let name = src.display();
    let mut input = open(src)?;
    let mut bytes = Vec::new();
    while !input.eof {
        let want = bytes.len() + BLOCK_BYTES;
        input.fill(&name, &mut bytes, want)?;
    }
    Ok(bytes)
}

/// Decompresses `bytes` when they start with the gzip magic 1f 8b; returns them as they are
/// otherwise. Concatenated gzip members (as `cat a.gz b.gz` makes) are all decoded.
pub fn gunzip_if_gzip(name: &Path, bytes: Vec<u8>) -> Result<Vec<u8>> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    // The size in the gzip trailer is not trusted: the buffer grows as data arrives, and
    // memory refused is an error, not an abort.
    let mut input = Input {
        read: Box::new(flate2::read::MultiGzDecoder::new(bytes.as_slice())),
        what: "is not a valid gzip file",
        eof: false,
        hash: Default::default(),
    };
    let mut out = Vec::new();
    while !input.eof {
        let want = out.len().saturating_add(BLOCK_BYTES);
        input.fill(name, &mut out, want)?;
    }
    Ok(out)
}

/// The bytes of a file, stdin or a slice, read a block at a time; gunzipped on the fly when
/// `open` saw the gzip magic.
pub(super) struct Input<'a> {
    pub(super) read: Box<dyn Read + 'a>,
    /// What a failed read means: `cannot be read`, or `is not a valid gzip file`.
    pub(super) what: &'static str,
    pub(super) eof: bool,
    /// Every byte read so far (after decompression), hashed: the file's content fingerprint.
    pub(super) hash: xxhash_rust::xxh3::Xxh3,
}

impl Input<'_> {
    /// Reads until `buf` holds `want` bytes or the input ends (`self.eof`).
    pub(super) fn fill(&mut self, name: &Path, buf: &mut Vec<u8>, want: usize) -> Result<()> {
        let mut filled = buf.len();
        let outcome = loop {
            if self.eof || filled >= want {
                break Ok(());
            }
            if filled == buf.len() {
                // Room for the next read, zeroed once, a few MB at a time (`want` may be
                // huge: it is how much is wanted, not how much there is). Refused memory
                // is an error that says how far the reading got, never an abort.
                let room = want.min(filled.saturating_add(BLOCK_BYTES));
                if buf.try_reserve(room - filled).is_err() {
                    buf.truncate(filled);
                    return Err(out_of_memory(
                        name,
                        &format!("after reading {}", size(filled)),
                    ));
                }
                buf.resize(room, 0);
            }
            let Some(room) = buf.get_mut(filled..) else {
                break Ok(());
            };
            match self.read.read(room) {
                Ok(0) => {
                    self.eof = true;
                    break Ok(());
                }
                Ok(n) => {
                    let n = n.min(room.len());
                    self.hash.update(room.get(..n).unwrap_or(&[]));
                    filled += n;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(Error::data(name, format!("{}: {e}", self.what))),
            }
        };
        buf.truncate(filled);
        outcome
    }
}

impl<'a> Input<'a> {
    /// The format of what is left to read, from its first bytes, which are put back: they
    /// are read once (stdin too) and hashed once, when they are read again.
    pub(super) fn sniff(&mut self, name: &Path) -> Result<super::format::Format> {
        let mut head = Vec::with_capacity(super::format::SNIFF_BYTES);
        let mut read = std::mem::replace(&mut self.read, Box::new(std::io::empty()));
        let got = (&mut read)
            .take(super::format::SNIFF_BYTES as u64)
            .read_to_end(&mut head);
        let format = super::format::Format::sniff(&head);
        self.read = Box::new(std::io::Cursor::new(head).chain(read));
        match got {
            Ok(_) => Ok(format),
            Err(e) => Err(Error::data(name, format!("{}: {e}", self.what))),
        }
    }

    /// Everything left to read, in one buffer grown as the bytes arrive (refused memory is
    /// an error naming the file); the formats that need the whole file at once read it so.
    pub(super) fn read_all(&mut self, name: &Path) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        while !self.eof {
            let want = bytes.len().saturating_add(BLOCK_BYTES);
            self.fill(name, &mut bytes, want)?;
        }
        Ok(bytes)
    }
}

/// Opens a file or stdin, and looks at its first two bytes (without losing them) for the
/// gzip magic 1f 8b: gzip is recognized by content, whatever the name.
pub(super) fn open(src: &Source) -> Result<Input<'static>> {
    let name = src.display();
    // Input files are data errors (exit code 3), whatever the OS says about them.
    let unreadable = |e: std::io::Error| Error::data(&name, format!("cannot be read: {e}"));
    let mut read: Box<dyn Read> = match src {
        Source::Path(path) => {
            match std::fs::metadata(path) {
                Ok(m) if m.is_dir() => {
                    return Err(Error::data(&name, "is a directory, not a CSV file"))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(Error::data(&name, "no such file"))
                }
                _ => {}
            }
            Box::new(std::fs::File::open(path).map_err(unreadable)?)
        }
        Source::Stdin => Box::new(std::io::stdin().lock()),
    };
    let mut head = Vec::with_capacity(2);
    (&mut read)
        .take(2)
        .read_to_end(&mut head)
        .map_err(unreadable)?;
    let gzip = head == [0x1f, 0x8b];
    let read = std::io::Cursor::new(head).chain(read);
    Ok(if gzip {
        Input {
            read: Box::new(flate2::read::MultiGzDecoder::new(read)),
            what: "is not a valid gzip file",
            eof: false,
            hash: Default::default(),
        }
    } else {
        Input {
            read: Box::new(read),
            what: "cannot be read",
            eof: false,
            hash: Default::default(),
        }
    })
}

/// Reads the next block into `buf` (which already holds the previous block's carry): at
/// least `block` more bytes, then on until a record end; returns where the last record
/// ends (everything, at the end of the input).
pub(super) fn read_block(
    name: &Path,
    input: &mut Input,
    buf: &mut Vec<u8>,
    block: usize,
    delim: u8,
) -> Result<usize> {
    let mut scan = Scan::new(delim);
    loop {
        let want = buf.len().saturating_add(block);
        input.fill(name, buf, want)?;
        if input.eof {
            return Ok(buf.len());
        }
        scan.advance(buf);
        if scan.cut > 0 {
            return Ok(scan.cut);
        }
    }
}

impl Input<'_> {
    /// The content fingerprint of everything read so far: `xxh3-128:` and 32 hex digits of
    /// the XXH3 128-bit hash of the bytes (decompressed: a gzipped copy of a file has the
    /// same fingerprint as the file). Baselines, sweeps and model files compare it to tell
    /// whether two runs saw the same data.
    pub(super) fn fingerprint(&self) -> String {
        fingerprint_text(self.hash.digest128())
    }
}

/// The printed form of a content hash (see [`Input::fingerprint`]).
pub fn fingerprint_text(hash: u128) -> String {
    format!("xxh3-128:{hash:032x}")
}

/// The fingerprint of bytes already in memory, as [`Input::fingerprint`] gives for a file
/// with this content.
pub fn fingerprint_of(bytes: &[u8]) -> String {
    fingerprint_text(xxhash_rust::xxh3::xxh3_128(bytes))
}

/// An out-of-memory error (exit code 3) naming the file and how far the reading got.
#[cold]
pub(super) fn out_of_memory(name: &Path, how_far: &str) -> Error {
    Error::data(
        name,
        format!(
            "out of memory {how_far}: the data does not fit in the memory this process may use"
        ),
    )
}

/// A byte count for messages: `12.3 MiB`.
pub(super) fn size(bytes: usize) -> String {
    match bytes {
        b if b < 1 << 20 => format!("{b} bytes"),
        b => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
    }
}

/// How many bytes `load` reads at a time. The text in memory is about two blocks (the one
/// being parsed and the next one being read) plus the longest record, whatever the file's
/// size; the matrix itself grows in place (a large Vec is grown by `mremap` on Linux, so
/// it is never held twice).
pub(super) const BLOCK_BYTES: usize = 4 << 20;

/// What is wrong with the encoding of a text file (CSV, model or baseline JSON) that must be
/// UTF-8, judged from its first bytes: a UTF-32 or UTF-16 byte-order mark, or UTF-16 without
/// one (every other byte NUL among the first 64 bytes, as ASCII text in UTF-16 is). The
/// message is a phrase after the file's name: `is UTF-16 text (little-endian): save it as
/// UTF-8`. None for anything else (a UTF-8 byte-order mark is fine: the readers skip it).
pub fn foreign_encoding(head: &[u8]) -> Option<&'static str> {
    const LE32: &str = "is UTF-32 text (little-endian, with a byte-order mark): save it as UTF-8";
    const BE32: &str = "is UTF-32 text (big-endian, with a byte-order mark): save it as UTF-8";
    const LE16: &str = "is UTF-16 text (little-endian, with a byte-order mark): save it as UTF-8";
    const BE16: &str = "is UTF-16 text (big-endian, with a byte-order mark): save it as UTF-8";
    if head.starts_with(&[0xFF, 0xFE, 0, 0]) {
        return Some(LE32);
    }
    if head.starts_with(&[0, 0, 0xFE, 0xFF]) {
        return Some(BE32);
    }
    if head.starts_with(&[0xFF, 0xFE]) {
        return Some(LE16);
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return Some(BE16);
    }
    // Without a mark: pairs of bytes, one of them NUL and the other not, in the same place of
    // (nearly) every pair; UTF-8 text has no NUL at all.
    let pairs: Vec<&[u8]> = head
        .get(..head.len().min(64) & !1)?
        .chunks_exact(2)
        .collect();
    if pairs.len() < 2 {
        return None;
    }
    let count = |f: &dyn Fn(&[u8]) -> bool| pairs.iter().filter(|p| f(p)).count();
    let low_first = count(&|p| p[0] != 0 && p[1] == 0);
    let high_first = count(&|p| p[0] == 0 && p[1] != 0);
    let most = |k: usize| k * 4 >= pairs.len() * 3;
    if most(low_first) {
        Some("is UTF-16 text (little-endian, without a byte-order mark): save it as UTF-8")
    } else if most(high_first) {
        Some("is UTF-16 text (big-endian, without a byte-order mark): save it as UTF-8")
    } else {
        None
    }
}

/// `bytes` without a leading UTF-8 byte-order mark (what Windows editors write first).
pub fn without_utf8_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        text.encode_utf16()
            .flat_map(|u| {
                if big_endian {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                }
            })
            .collect()
    }

    #[test]
    fn utf16_and_utf32_are_named_and_utf8_is_not() {
        fn le(s: &[u8]) -> &'static str {
            foreign_encoding(s).unwrap_or("")
        }
        assert!(le(b"\xFF\xFE\0\0a\0\0\0").starts_with("is UTF-32 text (little-endian"));
        assert!(le(b"\0\0\xFE\xFF\0\0\0a").starts_with("is UTF-32 text (big-endian"));
        assert!(le(b"\xFF\xFEa\0").starts_with("is UTF-16 text (little-endian, with"));
        assert!(le(b"\xFE\xFF\0a").starts_with("is UTF-16 text (big-endian, with"));
        assert!(le(&utf16("a,b\n1,2\n", false)).contains("little-endian, without"));
        assert!(le(&utf16("a,b\n1,2\n", true)).contains("big-endian, without"));
        for utf8 in [
            &b"a,b\n1,2\n"[..],
            b"\xEF\xBB\xBFa,b\n",
            "é,ü\n".as_bytes(),
            b"",
            b"a",
        ] {
            assert_eq!(foreign_encoding(utf8), None, "{utf8:?}");
        }
        assert_eq!(without_utf8_bom(b"\xEF\xBB\xBF{}"), b"{}");
    }

    #[test]
    fn a_utf16_file_is_named_whatever_the_block_size() {
        let opts = super::super::LoadOptions::new(
            vec![super::super::LabelSpec::Last],
            super::super::LabelKind::Classes,
        );
        let bytes = utf16("a,b,y\n1,2,x\n3,4,z\n", false);
        for block in [1, 2, 3, 7, 64, 1 << 20] {
            let e = super::super::frame::parse_blocks::<f64>(
                Path::new("u.csv"),
                &bytes,
                &opts,
                block,
                Some(1),
            )
            .unwrap_err();
            assert_eq!(
                e.to_string(),
                "u.csv: is UTF-16 text (little-endian, without a byte-order mark): save it as UTF-8",
                "blocks of {block}"
            );
        }
    }
}
