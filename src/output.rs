//! Writing files safely: check that a path can be written before any work starts, and write
//! atomically (temporary file in the same folder, flush, rename) so that nothing is half-written.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::{Error, Result};

/// Held from the creation of a temporary file to its rename or removal.
static WRITES: Mutex<()> = Mutex::new(());

/// Waits for a write in progress to finish (renamed into place, or its temporary removed)
/// and blocks every later one while the guard lives. A second Ctrl-C takes it before
/// exiting, so that no temporary file is left behind.
pub fn hold_writes() -> MutexGuard<'static, ()> {
    WRITES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The temporary sibling of `path` used while writing it.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Fails now, with the path in the message, if `path` could not be written later: its folder
/// is missing or read-only, or it is a folder itself.
pub fn check_writable(path: &Path, flag: &'static str) -> Result<()> {
    if path.is_dir() {
        return Err(Error::io(
            path,
            std::io::Error::other(format!("{flag} names a directory, not a file")),
        ));
    }
    let probe = temp_path(path);
    let _writing = hold_writes();
    match fs::File::create(&probe) {
        Ok(_) => {
            let _ = fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(Error::io(
            path,
            std::io::Error::new(e.kind(), format!("cannot write {flag} here: {e}")),
        )),
    }
}

/// Writes `bytes` to `path` atomically: either the whole new file is there afterwards or the
/// previous one is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    let _writing = hold_writes();
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn unwritable_places_are_refused_up_front() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_writable(dir.path(), "--save").is_err());
        let missing = dir.path().join("no/such/folder/m.json");
        let e = check_writable(&missing, "--save").unwrap_err().to_string();
        assert!(
            e.contains("no/such/folder/m.json") && e.contains("--save"),
            "{e}"
        );
        assert!(check_writable(&dir.path().join("ok.json"), "--save").is_ok());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
