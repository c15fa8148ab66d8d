//! Writing outputs safely: every output is planned before any work (`-` for standard output, a
//! regular file, or a device/FIFO), checked against the inputs, then staged and committed together.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::error::shown_path;
use crate::{Error, Result};

/// The named temporary files of this process that are not renamed into place yet. Whoever
/// creates, names, renames or removes one holds this lock, so that a signal handler that
/// takes it sees a consistent list.
static WRITES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Waits for a write step in progress to finish (a temporary created and listed, or a whole
/// commit: every rename of a [`Transaction`]) and blocks every later one while the guard lives.
pub fn hold_writes() -> MutexGuard<'static, Vec<PathBuf>> {
    WRITES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// For a signal that exits at once: waits for a commit in progress to finish, removes the
/// named temporaries of outputs still being staged (unnamed ones vanish with the process), and
/// keeps every later write out while the guard lives. The old files then stay, or the whole new
/// set is in place: never a mix.
pub fn stop_writes() -> MutexGuard<'static, Vec<PathBuf>> {
    let mut temps = hold_writes();
    for t in temps.drain(..) {
        let _ = fs::remove_file(t);
    }
    temps
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
    /// in place for standard output, a device or a FIFO. Several outputs that must change
    /// together go through one [`Transaction`] instead.
    pub fn write(&self, bytes: &[u8]) -> Result<()> {
        match &self.dest {
            Dest::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes)
                    .and_then(|()| out.flush())
                    .map_err(|e| self.stream_error(e))
            }
            Dest::Direct(p) => {
                let regular = fs::metadata(p).is_ok_and(|m| m.is_file());
                OpenOptions::new()
                    .write(true)
                    .truncate(regular)
                    .open(p)
                    .and_then(|mut f| f.write_all(bytes).and_then(|()| f.flush()))
                    .map_err(|e| self.stream_error(e))
            }
            Dest::File(_) => {
                let mut t = Transaction::new();
                t.stage(self, bytes.to_vec())?;
                t.commit()
            }
        }
    }

    /// A failed write to standard output, a device or a FIFO. A closed pipe is an error here
    /// (not the quiet end of a human summary): the reader got a truncated data output.
    fn stream_error(&self, e: std::io::Error) -> Error {
        let (path, what) = match &self.dest {
            Dest::Stdout => (PathBuf::from("<stdout>"), "standard output".to_string()),
            _ => (self.given.clone(), "the pipe".to_string()),
        };
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Error::io(
                path,
                std::io::Error::other(format!(
                    "the reader of {what} closed it before the whole {} output was written",
                    self.flag
                )),
            );
        }
        Error::io(path, e)
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
        if let Some(why) = unreplaceable(self.flag, p) {
            return Err(Error::io(
                &self.given,
                std::io::Error::new(std::io::ErrorKind::PermissionDenied, why),
            ));
        }
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
        _ if e.raw_os_error() == Some(libc::EROFS) => format!(
            "{} is on a read-only file system (mounted ro): nothing in it can be created or replaced",
            shown_path(dir)
        ),
        _ => e.to_string(),
    }
}

/// Why the existing file `p`, or any file in its folder, cannot be replaced by a rename, in
/// words, from the inode flags (chattr): an immutable or append-only file cannot be replaced,
/// and in an immutable or append-only folder no file can be renamed. Read with statx, which
/// needs no permission on the file; `None` where the system does not tell.
fn unreplaceable(flag: &str, p: &Path) -> Option<String> {
    let dir = parent_dir(p);
    let file = shown_path(p);
    let folder = shown_path(dir);
    let (immutable, append) = inode_flags(dir)?;
    if immutable {
        return Some(format!(
            "{flag} {file} is in the immutable folder {folder} (chattr +i): no file in it can be created or replaced; remove the flag with chattr -i {folder}"
        ));
    }
    if append {
        return Some(format!(
            "{flag} {file} is in the append-only folder {folder} (chattr +a): its files cannot be renamed or replaced; remove the flag with chattr -a {folder}"
        ));
    }
    match inode_flags(p) {
        Some((true, _)) => Some(format!(
            "{flag} {file} is immutable (chattr +i): it cannot be replaced; remove the flag with chattr -i {file}"
        )),
        Some((_, true)) => Some(format!(
            "{flag} {file} is append-only (chattr +a): it cannot be replaced; remove the flag with chattr -a {file}"
        )),
        _ => None,
    }
}

/// (immutable, append-only) of an existing file or folder, symlinks followed; `None` when it
/// does not exist or the file system does not report these flags.
#[cfg(all(target_os = "linux", any(target_env = "gnu", target_env = "musl")))]
fn inode_flags(p: &Path) -> Option<(bool, bool)> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).ok()?;
    // SAFETY: statx fills the zeroed buffer it is given; `c` is a valid NUL-terminated path.
    let mut st: libc::statx = unsafe { std::mem::zeroed() };
    let r = unsafe {
        libc::statx(
            libc::AT_FDCWD,
            c.as_ptr(),
            libc::AT_STATX_SYNC_AS_STAT,
            libc::STATX_BASIC_STATS,
            &mut st,
        )
    };
    if r != 0 {
        return None;
    }
    let has = |bit: libc::c_int| {
        let bit = bit as u64;
        st.stx_attributes_mask & bit != 0 && st.stx_attributes & bit != 0
    };
    Some((
        has(libc::STATX_ATTR_IMMUTABLE),
        has(libc::STATX_ATTR_APPEND),
    ))
}

#[cfg(not(all(target_os = "linux", any(target_env = "gnu", target_env = "musl"))))]
fn inode_flags(_: &Path) -> Option<(bool, bool)> {
    None
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

/// One regular file staged by a [`Transaction`]: its whole new content is on disk in a
/// temporary file in the target's folder, not yet renamed over the target.
struct Staged {
    out: Output,
    /// The regular file to replace (symlinks followed).
    path: PathBuf,
    /// The temporary's name: given at the commit to an unnamed file, at once otherwise.
    tmp: PathBuf,
    /// The unnamed (O_TMPFILE) file, until the commit names it.
    unnamed: Option<File>,
    /// True while `tmp` exists (and is listed in [`WRITES`]).
    named: bool,
}

/// The outputs of one command, changed together or not at all. Each output is first *staged*:
/// a regular file is written whole to a temporary in its folder (an unnamed `O_TMPFILE` one
/// on Linux, which even a SIGKILL leaves nothing of), flushed and fsynced; standard output, a
/// device or a FIFO is kept in memory. The *commit* then writes the streams (they cannot be
/// taken back, so a closed pipe or a full device fails before any file changes), and under
/// [`hold_writes`] names every temporary and renames them all into place. Dropping an
/// uncommitted transaction (an error anywhere before the commit) removes its temporaries and
/// leaves every file as it was.
#[derive(Default)]
pub struct Transaction {
    files: Vec<Staged>,
    streams: Vec<(Output, Vec<u8>)>,
    deferred: Vec<Output>,
}

impl Transaction {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps `out` for an output rendered later (the HTML page once the gates are measured),
    /// to be staged into this same transaction: see [`Transaction::take_deferred`].
    pub fn defer(&mut self, out: Output) {
        self.deferred.push(out);
    }

    /// The deferred output of `flag`, taken out, to be rendered and staged now.
    pub fn take_deferred(&mut self, flag: &str) -> Option<Output> {
        let k = self.deferred.iter().position(|o| o.flag == flag)?;
        Some(self.deferred.remove(k))
    }

    /// Writes `bytes` for `out` to its temporary (a regular file) or keeps them for the commit
    /// (a stream). Fails, naming the output, when the disk is full or the write refused; the
    /// targets are untouched either way.
    pub fn stage(&mut self, out: &Output, bytes: Vec<u8>) -> Result<()> {
        let Dest::File(path) = &out.dest else {
            self.streams.push((out.clone(), bytes));
            return Ok(());
        };
        let fail = |e: std::io::Error| {
            Error::io(
                &out.given,
                std::io::Error::new(
                    e.kind(),
                    format!("cannot write {} (no file was changed): {e}", out.flag),
                ),
            )
        };
        remove_stale_temporaries(path);
        let replaces = fs::metadata(path).ok().filter(|m| m.is_file());
        let tmp = temp_path(path);
        let mut staged = Staged {
            out: out.clone(),
            path: path.clone(),
            tmp,
            unnamed: None,
            named: false,
        };
        #[cfg(target_os = "linux")]
        if let Some(f) = unnamed_file(parent_dir(path)).filter(|_| can_link_unnamed()) {
            fill(&f, &bytes, replaces.as_ref()).map_err(fail)?;
            staged.unnamed = Some(f);
            self.files.push(staged);
            return Ok(());
        }
        let f = {
            use std::os::unix::fs::OpenOptionsExt;
            let mut temps = hold_writes();
            let f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o666)
                .open(&staged.tmp)
                .map_err(fail)?;
            temps.push(staged.tmp.clone());
            f
        };
        staged.named = true;
        // Listed now: dropping the transaction on the error below removes the temporary.
        self.files.push(staged);
        fill(&f, &bytes, replaces.as_ref()).map_err(fail)
    }

    /// Puts every staged output in place: the streams first, then, holding [`hold_writes`]
    /// (a signal waits for the end), names for the unnamed temporaries, then the renames.
    /// A failure before the first rename changes no file. A rename that fails after others
    /// succeeded (rare: the temporaries are complete and beside their targets) is an error
    /// that lists exactly which outputs were replaced and which were not.
    pub fn commit(mut self) -> Result<()> {
        let streams = std::mem::take(&mut self.streams);
        let mut done: Vec<String> = Vec::new();
        for (out, bytes) in &streams {
            if let Err(e) = out.write(bytes) {
                return Err(if done.is_empty() {
                    e
                } else {
                    let note = format!("{} already written; no file was changed", done.join(", "));
                    with_note(e, &note)
                });
            }
            done.push(described(out));
        }
        let mut files = std::mem::take(&mut self.files);
        let mut temps = hold_writes();
        let mut failed = None;
        for s in files.iter_mut() {
            let Some(f) = s.unnamed.take() else {
                continue;
            };
            #[cfg(target_os = "linux")]
            let named = link_unnamed(&f, &s.tmp);
            #[cfg(not(target_os = "linux"))]
            let named: std::io::Result<()> = Err(std::io::Error::other("no unnamed files"));
            if let Err(e) = named {
                failed = Some(Error::io(
                    &s.out.given,
                    std::io::Error::new(
                        e.kind(),
                        format!(
                            "cannot name the temporary file of {} (no file was changed): {e}",
                            s.out.flag
                        ),
                    ),
                ));
                break;
            }
            s.named = true;
            temps.push(s.tmp.clone());
        }
        if let Some(e) = failed {
            abandon(&mut files, &mut temps);
            return Err(e);
        }
        let mut failed = None;
        for (k, s) in files.iter_mut().enumerate() {
            if let Err(e) = fs::rename(&s.tmp, &s.path) {
                failed = Some((k, e));
                break;
            }
            s.named = false;
            temps.retain(|t| *t != s.tmp);
            done.push(described(&s.out));
        }
        if let Some((k, e)) = failed {
            let out = files[k].out.clone();
            let kept: Vec<String> = files[k..].iter().map(|s| described(&s.out)).collect();
            abandon(&mut files, &mut temps);
            let note = if done.is_empty() {
                "no file was changed".to_string()
            } else {
                format!(
                    "already replaced: {}; left as they were: {}",
                    done.join(", "),
                    kept.join(", ")
                )
            };
            return Err(Error::io(
                &out.given,
                std::io::Error::new(
                    e.kind(),
                    format!("cannot rename {} into place ({note}): {e}", out.flag),
                ),
            ));
        }
        // The renames reach the disk with their folders.
        let mut dirs: Vec<&Path> = files.iter().map(|s| parent_dir(&s.path)).collect();
        dirs.sort();
        dirs.dedup();
        for d in dirs {
            if let Ok(dir) = File::open(d) {
                let _ = dir.sync_all();
            }
        }
        Ok(())
    }
}

impl Drop for Transaction {
    /// An uncommitted transaction: its named temporaries are removed; nothing else changes.
    fn drop(&mut self) {
        if self.files.iter().any(|s| s.named) {
            let mut temps = hold_writes();
            abandon(&mut self.files, &mut temps);
        }
    }
}

/// Removes the named temporaries of `files` (their unnamed ones vanish when closed).
fn abandon(files: &mut Vec<Staged>, temps: &mut Vec<PathBuf>) {
    for s in files.drain(..) {
        if s.named {
            let _ = fs::remove_file(&s.tmp);
            temps.retain(|t| *t != s.tmp);
        }
    }
}

/// `--save m.json`, as a list of outputs names one.
fn described(out: &Output) -> String {
    match out.dest {
        Dest::Stdout => format!("{} (standard output)", out.flag),
        _ => format!("{} {}", out.flag, shown_path(&out.given)),
    }
}

/// `e` with `note` added to its message.
fn with_note(e: Error, note: &str) -> Error {
    match e {
        Error::Io { path, source } => Error::io(
            path,
            std::io::Error::new(source.kind(), format!("{source} ({note})")),
        ),
        e => e,
    }
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

/// True when an unnamed file can be given a name at the commit: linkat goes through
/// /proc/self/fd, which a chroot or container may not have mounted.
#[cfg(target_os = "linux")]
fn can_link_unnamed() -> bool {
    Path::new("/proc/self/fd").is_dir()
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

    /// Plans `(flag, file in dir)` outputs, none existing yet or all regular files.
    fn planned(dir: &Path, outs: &[(&'static str, &str)]) -> Vec<Output> {
        outs.iter()
            .map(|&(flag, name)| Output::resolve(flag, &dir.join(name)).unwrap())
            .collect()
    }

    #[test]
    fn an_uncommitted_transaction_changes_nothing_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("m.json"), b"old").unwrap();
        let outs = planned(dir.path(), &[("--save", "m.json"), ("--log", "l.csv")]);
        let mut t = Transaction::new();
        t.stage(&outs[0], b"new model".to_vec()).unwrap();
        t.stage(&outs[1], b"new log".to_vec()).unwrap();
        drop(t);
        assert_eq!(names(dir.path()), ["m.json"]);
        assert_eq!(fs::read(dir.path().join("m.json")).unwrap(), b"old");
        assert!(hold_writes().is_empty());
        // Committed, both are in place.
        let mut t = Transaction::new();
        t.stage(&outs[0], b"new model".to_vec()).unwrap();
        t.defer(outs[1].clone());
        let late = t.take_deferred("--log").unwrap();
        t.stage(&late, b"new log".to_vec()).unwrap();
        t.commit().unwrap();
        assert_eq!(names(dir.path()), ["l.csv", "m.json"]);
        assert_eq!(fs::read(dir.path().join("l.csv")).unwrap(), b"new log");
        assert_eq!(fs::read(dir.path().join("m.json")).unwrap(), b"new model");
    }

    #[test]
    fn a_rename_that_fails_after_others_says_exactly_which_files_were_replaced() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["m.json", "l.csv", "p.svg"] {
            fs::write(dir.path().join(n), b"old").unwrap();
        }
        let outs = planned(
            dir.path(),
            &[
                ("--save", "m.json"),
                ("--log", "l.csv"),
                ("--plot", "p.svg"),
            ],
        );
        let mut t = Transaction::new();
        for o in &outs {
            t.stage(o, b"new".to_vec()).unwrap();
        }
        // After staging, l.csv becomes a folder that is not empty: its rename fails.
        fs::remove_file(dir.path().join("l.csv")).unwrap();
        fs::create_dir(dir.path().join("l.csv")).unwrap();
        fs::write(dir.path().join("l.csv/keep"), b"x").unwrap();
        let e = t.commit().unwrap_err().to_string();
        let d = dir.path().display();
        assert!(
            e.starts_with(&format!("{d}/l.csv: cannot rename --log into place (already replaced: --save {d}/m.json; left as they were: --log {d}/l.csv, --plot {d}/p.svg): ")),
            "{e}"
        );
        assert_eq!(fs::read(dir.path().join("m.json")).unwrap(), b"new");
        assert_eq!(fs::read(dir.path().join("p.svg")).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["l.csv", "m.json", "p.svg"]);
        assert!(hold_writes().is_empty());
    }

    #[test]
    fn interrupted_names() {
        assert_eq!(interrupted_name(OsStr::new("m.json")), "m.interrupted.json");
        assert_eq!(interrupted_name(OsStr::new("model")), "model.interrupted");
    }
}
