//! Safe file writes for files other tools read while we write them: an exclusive lock
//! beside the file, a temporary file in the same folder, fsync, rename. A reader never sees
//! a half-written file, and a writer that holds the lock across read-modify-write never
//! loses another writer's update.

use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind as IoKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// An exclusive advisory lock (flock) on `<file>.lock`; released when dropped.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    /// Open (creating) the lock file beside `target`.
    fn open(target: &Path) -> Result<(File, PathBuf)> {
        let path = lock_path(target);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("opening lock", &path, e))?;
        Ok((file, path))
    }

    /// Block until the lock beside `target` is ours.
    pub fn acquire(target: &Path) -> Result<Self> {
        let (file, path) = Self::open(target)?;
        file.lock().map_err(|e| Error::io("locking", &path, e))?;
        Ok(FileLock { file, path })
    }

    /// Take the lock if it is free; None when another holder has it.
    pub fn try_acquire(target: &Path) -> Result<Option<Self>> {
        let (file, path) = Self::open(target)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(FileLock { file, path })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::io("locking", &path, e)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// `deployments.json` → `deployments.json.lock`.
pub fn lock_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    target.with_file_name(name)
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A new name `dir/<stamp><suffix>` that no other writer holds: when a report of the same
/// second exists, `<stamp>.01<suffix>`, `.02`…, which sort after it, so "the newest report"
/// stays the last name in order. The name is held by a hidden marker
/// (`.<name>.reserved`), never by an empty file a reader could take for the report; the
/// caller writes the file with [`write_reserved`], which drops the marker.
pub fn reserve_unique(dir: &Path, stamp: &str, suffix: &str) -> Result<PathBuf> {
    fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    for n in 0..1000u32 {
        let name = if n == 0 {
            format!("{stamp}{suffix}")
        } else {
            format!("{stamp}.{n:02}{suffix}")
        };
        let path = dir.join(&name);
        if path.exists() {
            continue;
        }
        let marker = reserved_marker(&path);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&marker)
        {
            // Written and its marker dropped between the check and the marker: taken.
            Ok(_) if path.exists() => {
                let _ = fs::remove_file(&marker);
                continue;
            }
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == IoKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io("creating", &marker, e)),
        }
    }
    Err(Error::io(
        "creating",
        dir,
        std::io::Error::other("1000 files of the same second already exist"),
    ))
}

fn reserved_marker(path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(".reserved");
    path.with_file_name(name)
}

/// Write a file whose name [`reserve_unique`] holds (atomically, as [`write_atomic`]), then
/// let the name go.
pub fn write_reserved(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, bytes)?;
    let _ = fs::remove_file(reserved_marker(path));
    Ok(())
}

/// The `*.json` files of `dir`, in name order; none when the folder does not exist.
pub fn json_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == IoKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("reading", dir, e)),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// Replace `path` with `bytes` atomically (temporary file, fsync, rename, fsync folder).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
        f.write_all(bytes)
            .map_err(|e| Error::io("writing", &tmp, e))?;
        f.sync_all().map_err(|e| Error::io("syncing", &tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| Error::io("replacing", path, e))?;
        // The rename is durable only once the folder itself is synced.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Read a file that may be absent.
pub fn read_optional(path: &Path) -> Result<Option<String>> {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| Error::invalid(path, None, None, "the file is not UTF-8 text")),
        Err(e) if e.kind() == IoKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("reading", path, e)),
    }
}

/// Create `path` with `bytes` unless it exists. Returns whether it was written.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<bool> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    }
    match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(mut f) => {
            f.write_all(bytes)
                .map_err(|e| Error::io("writing", path, e))?;
            f.sync_all().map_err(|e| Error::io("syncing", path, e))?;
            Ok(true)
        }
        Err(e) if e.kind() == IoKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io("creating", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reserved_name_is_unique_and_no_reader_sees_it_until_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let a = reserve_unique(dir.path(), "20261202T100000Z", "-x.json").unwrap();
        let b = reserve_unique(dir.path(), "20261202T100000Z", "-x.json").unwrap();
        assert_ne!(a, b);
        assert!(b.to_string_lossy().ends_with("20261202T100000Z.01-x.json"));
        assert_eq!(
            json_files(dir.path()).unwrap(),
            Vec::<PathBuf>::new(),
            "nothing to read yet"
        );
        write_reserved(&a, b"{}").unwrap();
        assert_eq!(json_files(dir.path()).unwrap(), vec![a.clone()]);
        assert_eq!(fs::read(&a).unwrap(), b"{}");
        assert!(!reserved_marker(&a).exists(), "the marker is gone");
        // The written name is taken for good; the unwritten one still held.
        let c = reserve_unique(dir.path(), "20261202T100000Z", "-x.json").unwrap();
        assert!(c.to_string_lossy().ends_with("20261202T100000Z.02-x.json"));
    }

    #[test]
    fn write_atomic_replaces_and_leaves_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.json")]);
    }

    #[test]
    fn write_new_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x/y.txt");
        assert!(write_new(&p, b"first").unwrap());
        assert!(!write_new(&p, b"second").unwrap());
        assert_eq!(fs::read_to_string(&p).unwrap(), "first");
    }

    #[test]
    fn lock_is_exclusive_between_holders() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("r.json");
        let held = FileLock::acquire(&target).unwrap();
        let f = OpenOptions::new().write(true).open(held.path()).unwrap();
        assert!(
            f.try_lock().is_err(),
            "a second holder must not get the lock"
        );
        drop(held);
        assert!(f.try_lock().is_ok());
    }
}
