//! What kind of table a file holds, judged from its first bytes, never from its name:
//! Parquet (`PAR1`), NumPy `.npy` (`\x93NUMPY`), `.npz` (a zip archive), or else CSV.

/// The formats `load` reads (gzip is undone before the sniffing, see `source::open`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
    Npy,
    Npz,
}

/// How many bytes `sniff` looks at.
pub(super) const SNIFF_BYTES: usize = 6;

impl Format {
    /// The format of a file starting with `head` (its first `SNIFF_BYTES` bytes, or all of a
    /// shorter file): anything without one of the three signatures is CSV, whose reader then
    /// says what is wrong with it.
    pub fn sniff(head: &[u8]) -> Format {
        if head.starts_with(b"PAR1") {
            Format::Parquet
        } else if head.starts_with(b"\x93NUMPY") {
            Format::Npy
        } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            // A zip archive: local file header, or the end record of an empty archive.
            Format::Npz
        } else {
            Format::Csv
        }
    }

    /// The format's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "CSV",
            Format::Parquet => "Parquet",
            Format::Npy => ".npy",
            Format::Npz => ".npz",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Format;

    #[test]
    fn the_content_decides_not_the_name() {
        assert_eq!(Format::sniff(b"PAR1\x15\x04"), Format::Parquet);
        assert_eq!(Format::sniff(b"\x93NUMPY\x01\x00"), Format::Npy);
        assert_eq!(Format::sniff(b"PK\x03\x04\x14\x00"), Format::Npz);
        assert_eq!(Format::sniff(b"PK\x05\x06"), Format::Npz);
        for csv in [
            &b"a,b\n1,2\n"[..],
            b"PAR",
            b"\x93NUMP",
            b"PK",
            b"",
            b"PAR,y\n",
        ] {
            assert_eq!(Format::sniff(csv), Format::Csv, "{csv:?}");
        }
    }
}
