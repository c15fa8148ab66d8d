//! Writing outputs safely: every output is planned before any work (`-` for standard output, a
//! regular file, or a device/FIFO), compared by file identity with the inputs and the other
//! outputs, then written atomically through symlinks (regular files) or in place (the rest).

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::error::shown_path;
use crate::{Error, Result};

/// Held while a named temporary file exists (from its creation to its rename or removal).
static WRITES: Mutex<()> = Mutex::new(());

/// Waits for a write in progress to finish (renamed into place, or its temporary removed)
/// and blocks every later one while the guard lives. A signal that exits at once takes it
/// first, so that no temporary file is left behind.
pub fn hold_writes() -> MutexGuard<'static, ()> {
    WRITES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Where one output goes, decided before any work starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dest {
    /// `-`, or a path naming the file this process's standard output already writes to.
    Stdout,
    /// A regular file (existing or to be created) at this path, symlinks followed: written
    /// to a temporary file beside it and renamed over it, so the link stays a link.
    File(PathBuf),
    /// Anything else (a character device such as /dev/null, a FIFO, /proc/self/fd/N):
    /// opened and written in place, never replaced.
    Direct(PathBuf),
}

/// One planned output: the flag that asked for it, the path as given, and where it goes.
#[derive(Clone, Debug)]
pub struct Output {
    pub flag: &'static str,
    pub given: PathBuf,
    pub dest: Dest,
}

/// A file's identity: device and inode when it exists, else its canonical folder and name.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Id {
    Node(u64, u64),
    Absent(PathBuf),
}

/// The outputs of one command, checked, with the inputs' identities kept for later checks
/// (the sibling an interrupted run writes to).
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub outputs: Vec<Output>,
    inputs: Vec<(&'static str, PathBuf, Id)>,
    in_place: Vec<(&'static str, &'static str)>,
}

impl Plan {
    /// Resolves every output (`(flag, path)`, absent ones skipped) and checks, before any work:
    /// at most one goes to standard output; each can be written; none is the same file as an
    /// input (`-` there is standard input) or as another output, by device and inode after
    /// following symlinks. `in_place` lists (output flag, input flag) pairs that may name the
    /// same file, because the input is read whole before the output is written.
    pub fn new(
        outputs: &[(&'static str, Option<&Path>)],
        inputs: &[(&'static str, Option<&Path>)],
        in_place: &[(&'static str, &'static str)],
    ) -> Result<Plan> {
        let inputs: Vec<(&'static str, PathBuf, Id)> = inputs
            .iter()
            .filter_map(|&(flag, p)| {
                let p = p?;
                input_id(p).map(|id| (flag, p.to_path_buf(), id))
            })
            .collect();
        let mut plan = Plan {
            outputs: Vec::new(),
            inputs,
            in_place: in_place.to_vec(),
        };
        for &(flag, path) in outputs {
            if let Some(p) = path {
                let out = Output::resolve(flag, p)?;
                plan.admit(&out)?;
                plan.outputs.push(out);
            }
        }
        Ok(plan)
    }

    /// The planned output of `flag`, if it was given.
    pub fn get(&self, flag: &str) -> Option<&Output> {
        self.outputs.iter().find(|o| o.flag == flag)
    }

    /// True when some output goes to standard output (the human summary then goes to stderr).
    pub fn uses_stdout(&self) -> bool {
        self.outputs.iter().any(|o| o.dest == Dest::Stdout)
    }

    /// Checks `out` against the inputs and the outputs planned so far, and that it can be
    /// written.
    fn admit(&self, out: &Output) -> Result<()> {
        if out.dest == Dest::Stdout {
            if let Some(other) = self.outputs.iter().find(|o| o.dest == Dest::Stdout) {
                return Err(Error::flag(
                    out.flag,
                    format!(
                        "cannot write to standard output as well: {} already does",
                        other.flag
                    ),
                    shown_path(&out.given),
                ));
            }
        }
        if let Some(id) = out.id() {
            for (flag, path, input) in &self.inputs {
                if *input == id && !self.in_place.contains(&(out.flag, *flag)) {
                    return Err(Error::flag(
                        out.flag,
                        format!(
                            "must not name the file read by {flag} ({})",
                            shown_path(path)
                        ),
                        shown_path(&out.given),
                    ));
                }
            }
            for other in &self.outputs {
                if other.id().as_ref() == Some(&id) {
                    return Err(Error::flag(
                        out.flag,
                        format!(
                            "must not name the same file as {} ({})",
                            other.flag,
                            shown_path(&other.given)
                        ),
                        shown_path(&out.given),
                    ));
                }
            }
        }
        out.check_writable()
    }

    /// The output an interrupted run writes instead of `out` when `out` is an existing file:
    /// `NAME.interrupted.EXT` beside it (see [`Output::keep_on_interrupt`]), checked like the
    /// others. `None` when that sibling would clash with an input or another output.
    pub fn interrupted_sibling(&self, out: &Output) -> Option<Output> {
        let name = out.given.file_name()?;
        let sibling = out.given.with_file_name(interrupted_name(name));
        let o = Output::resolve(out.flag, &sibling).ok()?;
        let mut others = self.clone();
        others.outputs.retain(|p| p.flag != out.flag);
        others.admit(&o).ok()?;
        Some(o)
    }

    /// Where `planned` is written: itself, or, after an interrupt, its
    /// [`interrupted_sibling`](Plan::interrupted_sibling) when it would replace an existing
    /// file (`None` when no sibling can be had: then nothing is written for it).
    pub fn destination(&self, planned: &Output, interrupted: bool) -> Option<Output> {
        if interrupted && planned.keep_on_interrupt() {
            self.interrupted_sibling(planned)
        } else {
            Some(planned.clone())
        }
    }
}

/// `m.json` → `m.interrupted.json`, `model` → `model.interrupted`.
fn interrupted_name(name: &OsStr) -> OsString {
    let p = Path::new(name);
    match (p.file_stem(), p.extension()) {
        (Some(stem), Some(ext)) => {
            let mut s = stem.to_os_string();
            s.push(".interrupted.");
            s.push(ext);
            s
        }
        _ => {
            let mut s = name.to_os_string();
            s.push(".interrupted");
            s
        }
    }
}

impl Output {
    /// Decides where `given` goes: `-` is standard output; symlinks are followed to the file
    /// they name (which may not exist yet); links into /proc/…/fd and /dev/fd, devices and
    /// FIFOs are written in place; a regular file that standard output already writes to
    /// (`--save m.json > m.json`) is written through standard output.
    pub fn resolve(flag: &'static str, given: &Path) -> Result<Output> {
        let out = |dest| Output {
            flag,
            given: given.to_path_buf(),
            dest,
        };
        if given.as_os_str() == "-" {
            return Ok(out(Dest::Stdout));
        }
        let fail = |msg: String| Error::io(given, std::io::Error::other(msg));
        let mut p = given.to_path_buf();
        for _ in 0..40 {
            if is_fd_link(&p) {
                return Ok(out(in_place(given)));
            }
            match fs::symlink_metadata(&p) {
                Ok(m) if m.file_type().is_symlink() => {
                    let target = fs::read_link(&p).map_err(|e| Error::io(&p, e))?;
                    p = match p.parent() {
                        Some(dir) if target.is_relative() => dir.join(target),
                        _ => target,
                    };
                }
                Ok(m) if m.is_dir() => {
                    return Err(fail(format!("{flag} names a directory, not a file")));
                }
                Ok(m) if m.is_file() => {
                    return Ok(out(if same_as_stdout(&m) {
                        Dest::Stdout
                    } else {
                        Dest::File(p)
                    }));
                }
                Ok(_) => return Ok(out(in_place(&p))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if names_a_folder(&p) {
                        return Err(fail(format!(
                            "{flag} names a directory (it ends in `/`, `.` or `..`), not a file"
                        )));
                    }
                    return Ok(out(Dest::File(p)));
                }
                Err(e) => {
                    let why = why_not(parent_dir(&p), &e);
                    return Err(Error::io(
                        given,
                        std::io::Error::new(e.kind(), format!("cannot write {flag} here: {why}")),
                    ));
                }
            }
        }
        Err(fail(format!("{flag}: too many levels of symbolic links")))
    }

    /// True when this output would replace a regular file that exists now.
    pub fn replaces_a_file(&self) -> bool {
        matches!(&self.dest, Dest::File(p) if fs::metadata(p).is_ok_and(|m| m.is_file()))
    }

    /// The rule for an interrupted run: an existing regular file is kept (the run trained
    /// less than it was asked to), so the output goes to its `.interrupted` sibling.
    pub fn keep_on_interrupt(&self) -> bool {
        self.replaces_a_file()
    }

    /// Writes `bytes` to this output: atomically for a regular file (either the whole new
    /// file is there afterwards or the previous one is untouched, with its permissions),
    /// in place for standard output, a device or a FIFO.
    pub fn write(&self, bytes: &[u8]) -> Result<()> {
        match &self.dest {
            Dest::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes)
                    .and_then(|()| out.flush())
                    .map_err(|e| Error::io("<stdout>", e))
            }
            Dest::Direct(p) => {
                let regular = fs::metadata(p).is_ok_and(|m| m.is_file());
                OpenOptions::new()
                    .write(true)
                    .truncate(regular)
                    .open(p)
                    .and_then(|mut f| f.write_all(bytes).and_then(|()| f.flush()))
                    .map_err(|e| Error::io(&self.given, e))
            }
            Dest::File(p) => write_file(p, bytes).map_err(|e| Error::io(&self.given, e)),
        }
    }

    /// The identity compared with inputs and other outputs; `None` for a character device
    /// (writing to /dev/null destroys nothing, and two outputs may both discard).
    fn id(&self) -> Option<Id> {
        match &self.dest {
            Dest::Stdout => {
                use std::os::fd::AsFd;
                let fd = std::io::stdout().as_fd().try_clone_to_owned().ok()?;
                node(&File::from(fd).metadata().ok()?)
            }
            Dest::Direct(p) => node(&fs::metadata(p).ok()?),
            Dest::File(p) => match fs::metadata(p) {
                Ok(m) => node(&m),
                Err(_) => {
                    let dir = parent_dir(p);
                    let dir = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
                    Some(Id::Absent(dir.join(p.file_name()?)))
                }
            },
        }
    }

    /// Fails now, with the flag and the path in the message, if this output could not be
    /// written at the end: a regular file whose folder is missing, not a folder, read-only or
    /// full of someone else's files it may not replace (a sticky folder such as /tmp); a
    /// device, FIFO or descriptor link that does not exist or is not writable. Leaves nothing
    /// behind: the probe is an unnamed file (Linux `O_TMPFILE`), else a named one removed at
    /// once. A device that takes the open but fails the write (`/dev/full`) still fails then.
    fn check_writable(&self) -> Result<()> {
        let refuse = |e: &std::io::Error, why: String| {
            Error::io(
                &self.given,
                std::io::Error::new(e.kind(), format!("cannot write {} here: {why}", self.flag)),
            )
        };
        let p = match &self.dest {
            Dest::Stdout => return Ok(()),
            Dest::Direct(p) => return writable(p).map_err(|e| refuse(&e, e.to_string())),
            Dest::File(p) => p,
        };
        if let Err(e) = probe_folder(p) {
            return Err(refuse(&e, why_not(parent_dir(p), &e)));
        }
        if let Err(e) = replaceable(p) {
            let why = format!(
                "{} is in a sticky folder (like /tmp) and belongs to another user, who alone may replace it",
                shown_path(p)
            );
            return Err(refuse(&e, why));
        }
        Ok(())
    }
}

/// Why a file cannot be created in `dir`, in the user's words where the system's are vague:
/// which folder is missing, which part of the path is a file; else the system's message.
fn why_not(dir: &Path, e: &std::io::Error) -> String {
    // The longest leading part of `dir` that exists (`nodir/sub` → `.`).
    let found = dir
        .ancestors()
        .map(|a| {
            if a.as_os_str().is_empty() {
                Path::new(".")
            } else {
                a
            }
        })
        .find_map(|a| Some((a, fs::metadata(a).ok()?)));
    match found {
        Some((a, m)) if !m.is_dir() => format!("{} is a file, not a folder", shown_path(a)),
        Some((a, _)) if a != dir && e.kind() == std::io::ErrorKind::NotFound => {
            format!("the folder {} does not exist", shown_path(dir))
        }
        _ => e.to_string(),
    }
}

/// True when `p` can only name a folder: it ends in `/`, `/.` or `/..`, or is `.` or `..`
/// (`Path` forgets a trailing `/`, the rename at the end does not).
fn names_a_folder(p: &Path) -> bool {
    let bytes = p.as_os_str().as_encoded_bytes();
    let last = bytes.rsplit(|&b| b == b'/').next().unwrap_or(bytes);
    matches!(last, b"" | b"." | b"..")
}

/// access(2) W_OK on an existing device, FIFO or descriptor link: whether this process may
/// open it for writing, without opening it (opening has effects on some devices, and a
/// FIFO would wait for a reader).
#[cfg(unix)]
fn writable(p: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes())?;
    // SAFETY: `c` is a valid NUL-terminated path; access does not keep it.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn writable(_: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Whether a file can be created in the folder of `p`, as the write at the end will: an
/// unnamed file where the system has them (nothing to clean up, even after a SIGKILL), else
/// the named temporary the write would use, removed at once.
fn probe_folder(p: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if unnamed_file(parent_dir(p)).is_some() {
        return Ok(());
    }
    let probe = temp_path(p);
    let _writing = hold_writes();
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map(|_| {
            let _ = fs::remove_file(&probe);
        })
}

/// Whether the rename at the end may replace the existing file `p`: in a sticky folder
/// (mode +t, like /tmp) only the file's owner, the folder's owner or root may (EPERM).
#[cfg(unix)]
fn replaceable(p: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let (Ok(file), Ok(dir)) = (fs::symlink_metadata(p), fs::metadata(parent_dir(p))) else {
        return Ok(());
    };
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    let sticky = dir.mode() & 0o1000 != 0; // S_ISVTX
    if sticky && me != 0 && file.uid() != me && dir.uid() != me {
        return Err(std::io::Error::from_raw_os_error(libc::EPERM));
    }
    Ok(())
}

#[cfg(not(unix))]
fn replaceable(_: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Writes `bytes` to `path` (symlinks followed, `-` is standard output) atomically when it is
/// a regular file; see [`Output::write`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    Output::resolve("output", path)?.write(bytes)
}

/// Dest::Stdout when `m` is the file standard output writes to, else Dest::Direct.
fn in_place(p: &Path) -> Dest {
    match fs::metadata(p) {
        Ok(m) if same_as_stdout(&m) => Dest::Stdout,
        _ => Dest::Direct(p.to_path_buf()),
    }
}

/// Links to open files: /proc/<pid>/fd/<n>, /dev/fd/<n>. Written in place, like the file
/// descriptor they stand for.
fn is_fd_link(p: &Path) -> bool {
    let mut parts = p.components().map(|c| c.as_os_str());
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(root), Some(proc_), Some(_), Some(fd)) if root == "/" && proc_ == "proc" => {
            fd == "fd"
        }
        (Some(root), Some(dev), Some(fd), _) if root == "/" && dev == "dev" => fd == "fd",
        _ => false,
    }
}

#[cfg(unix)]
fn node(m: &fs::Metadata) -> Option<Id> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    (!m.file_type().is_char_device()).then(|| Id::Node(m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn node(_: &fs::Metadata) -> Option<Id> {
    None
}

/// True when `m` is the (non-device) file standard output writes to.
fn same_as_stdout(m: &fs::Metadata) -> bool {
    use std::os::fd::AsFd;
    let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() else {
        return false;
    };
    match (
        File::from(fd).metadata().ok().as_ref().and_then(node),
        node(m),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The identity of an input: `-` is standard input (only when it is a regular file: a pipe
/// or terminal cannot be destroyed by an output).
fn input_id(p: &Path) -> Option<Id> {
    if p.as_os_str() == "-" {
        use std::os::fd::AsFd;
        let fd = std::io::stdin().as_fd().try_clone_to_owned().ok()?;
        let m = File::from(fd).metadata().ok()?;
        return if m.is_file() { node(&m) } else { None };
    }
    node(&fs::metadata(p).ok()?)
}

fn parent_dir(p: &Path) -> &Path {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// The longest file name most file systems take (NAME_MAX).
const NAME_MAX: usize = 255;
/// Temporary files are `.NAME.mlp-train-PID.tmp`, NAME shortened to fit NAME_MAX.
const TEMP_TAG: &str = ".mlp-train-";

/// `.NAME.mlp-train-` for `path`'s file name, NAME cut and hashed when the whole temporary
/// name would not fit NAME_MAX; the same for every process, so stale ones can be found.
fn temp_prefix(path: &Path) -> OsString {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let name = path.file_name().map_or(&b"out"[..], |n| n.as_bytes());
    let room = NAME_MAX - (1 + TEMP_TAG.len() + 10 + ".tmp".len());
    let mut short = name.to_vec();
    if name.len() > room {
        // FNV-1a: stable across Rust versions, so a later run finds an earlier one's temps.
        let hash = name.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let mut cut = room - 17;
        // Back off to the start of a UTF-8 character.
        while cut > 0 && name[cut] & 0xc0 == 0x80 {
            cut -= 1;
        }
        short = name[..cut].to_vec();
        short.extend_from_slice(format!("~{hash:016x}").as_bytes());
    }
    let mut out = b".".to_vec();
    out.extend_from_slice(&short);
    out.extend_from_slice(TEMP_TAG.as_bytes());
    OsString::from_vec(out)
}

/// The temporary sibling of `path` used by this process while writing it.
fn temp_path(path: &Path) -> PathBuf {
    let mut name = temp_prefix(path);
    name.push(format!("{}.tmp", std::process::id()));
    parent_dir(path).join(name)
}

/// Removes the temporary siblings of `path` left by processes that no longer run (a SIGKILL
/// between creating and renaming one).
fn remove_stale_temporaries(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let prefix = temp_prefix(path);
    let Ok(entries) = fs::read_dir(parent_dir(path)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.as_bytes().strip_prefix(prefix.as_bytes()) else {
            continue;
        };
        let pid = rest
            .strip_suffix(b".tmp")
            .and_then(|p| std::str::from_utf8(p).ok())
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if pid != std::process::id() && !process_alive(pid) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks whether the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Writes `bytes` into `f`, gives it the permissions and owner of the file it replaces, and
/// flushes it to disk.
fn fill(mut f: &File, bytes: &[u8], replaces: Option<&fs::Metadata>) -> std::io::Result<()> {
    f.write_all(bytes)?;
    if let Some(m) = replaces {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            // Keeps the owner when run as root; for anyone else a no-op or refused (harmless).
            let _ = std::os::unix::fs::fchown(f, Some(m.uid()), Some(m.gid()));
        }
        f.set_permissions(m.permissions())?;
    }
    f.sync_all()
}

/// Temp-and-rename into the regular file `path`. On Linux the data is first written to an
/// unnamed file (O_TMPFILE), which a SIGKILL makes vanish; it gets a name only for the
/// instant of the rename. Elsewhere, or where the file system refuses O_TMPFILE, a named
/// temporary file; stale ones are removed by the next write to the same path.
fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    remove_stale_temporaries(path);
    let replaces = fs::metadata(path).ok().filter(|m| m.is_file());
    let tmp = temp_path(path);
    #[cfg(target_os = "linux")]
    if let Some(f) = unnamed_file(parent_dir(path)) {
        fill(&f, bytes, replaces.as_ref())?;
        let _writing = hold_writes();
        if link_unnamed(&f, &tmp).is_ok() {
            return rename_into_place(&tmp, path);
        }
    }
    let _writing = hold_writes();
    let written = (|| {
        use std::os::unix::fs::OpenOptionsExt;
        let f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(&tmp)?;
        fill(&f, bytes, replaces.as_ref())
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    rename_into_place(&tmp, path)
}

fn rename_into_place(tmp: &Path, path: &Path) -> std::io::Result<()> {
    if let Err(e) = fs::rename(tmp, path) {
        let _ = fs::remove_file(tmp);
        return Err(e);
    }
    // The rename itself reaches the disk with the folder.
    if let Ok(dir) = File::open(parent_dir(path)) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn unnamed_file(dir: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .mode(0o666)
        .open(dir)
        .ok()
}

/// Gives the unnamed file `f` the name `tmp` (linkat through /proc/self/fd).
#[cfg(target_os = "linux")]
fn link_unnamed(f: &File, tmp: &Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    let from = std::ffi::CString::new(format!("/proc/self/fd/{}", f.as_raw_fd()))?;
    let to = std::ffi::CString::new(tmp.as_os_str().as_bytes())?;
    // SAFETY: both are valid NUL-terminated paths; linkat does not keep them.
    let r = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(names(dir.path()), ["m.json"]);
    }

    #[test]
    fn unwritable_places_are_refused_up_front() {
        let dir = tempfile::tempdir().unwrap();
        let e = Plan::new(&[("--save", Some(dir.path()))], &[], &[]).unwrap_err();
        assert!(e.to_string().contains("directory"), "{e}");
        let missing = dir.path().join("no/such/folder/m.json");
        let e = Plan::new(&[("--save", Some(&missing))], &[], &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no/such/folder/m.json") && e.contains("--save"),
            "{e}"
        );
        let ok = dir.path().join("ok.json");
        assert!(Plan::new(&[("--save", Some(&ok))], &[], &[]).is_ok());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn places_that_only_fail_at_the_write_are_refused_up_front() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        // Paths that can only name a folder, existing or not, and a file used as a folder.
        let file = dir.path().join("f.json");
        fs::write(&file, b"x").unwrap();
        for bad in [
            format!("{d}/nothere/"),
            format!("{d}/nothere/."),
            format!("{d}/nothere/.."),
            format!("{d}/f.json/m.json"),
            format!("{d}/f.json/sub/m.json"),
            "/proc/self/fd/987654".to_string(),
        ] {
            let e = Plan::new(&[("--log", Some(Path::new(&bad)))], &[], &[])
                .expect_err(&bad)
                .to_string();
            assert!(e.starts_with(&bad) && e.contains("--log"), "{e}");
        }
        assert!(names_a_folder(Path::new("a/")) && names_a_folder(Path::new("..")));
        assert!(!names_a_folder(Path::new("a/.b")) && !names_a_folder(Path::new("a")));
        // Devices and standard output are still fine; nothing was left behind.
        for ok in ["/dev/null", "-", "/dev/stdout"] {
            assert!(
                Plan::new(&[("--log", Some(Path::new(ok)))], &[], &[]).is_ok(),
                "{ok}"
            );
        }
        assert_eq!(names(dir.path()), ["f.json"]);
    }

    #[test]
    fn writes_go_through_symlinks_and_keep_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.json");
        fs::write(&target, b"old").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&target).unwrap(), b"new");
        let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // As root, the owner is kept too.
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            use std::os::unix::fs::MetadataExt;
            std::os::unix::fs::chown(&target, Some(65534), Some(65534)).unwrap();
            write_atomic(&link, b"newer").unwrap();
            let m = fs::metadata(&target).unwrap();
            assert_eq!((m.uid(), m.gid()), (65534, 65534));
            assert_eq!(fs::read(&target).unwrap(), b"newer");
        }
        assert_eq!(names(dir.path()), ["link.json", "real.json"]);
    }

    #[test]
    fn long_names_get_temporaries_that_fit() {
        let dir = tempfile::tempdir().unwrap();
        let long = format!("{}.json", "é".repeat(120)); // 245 bytes
        let p = dir.path().join(&long);
        let tmp = temp_path(&p);
        assert!(tmp.file_name().unwrap().len() <= NAME_MAX, "{tmp:?}");
        assert!(std::str::from_utf8(tmp.file_name().unwrap().as_encoded_bytes()).is_ok());
        write_atomic(&p, b"x").unwrap();
        assert_eq!(names(dir.path()), [long]);
    }

    #[test]
    fn stale_temporaries_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.json");
        let mut stale = temp_prefix(&p);
        stale.push("999999999.tmp"); // above any pid_max
        fs::write(dir.path().join(&stale), b"partial").unwrap();
        let mut live = temp_prefix(&p);
        live.push("1.tmp"); // init runs: another writer's file is left alone
        fs::write(dir.path().join(&live), b"busy").unwrap();
        write_atomic(&p, b"x").unwrap();
        let left = names(dir.path());
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(left.contains(&"m.json".to_string()));
        assert!(left.contains(&live.to_string_lossy().into_owned()));
    }

    #[test]
    fn interrupted_names() {
        assert_eq!(interrupted_name(OsStr::new("m.json")), "m.interrupted.json");
        assert_eq!(interrupted_name(OsStr::new("model")), "model.interrupted");
    }
}
