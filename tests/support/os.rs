//! The harness's contact with the operating system: temp dirs, free
//! loopback ports, finding tools, signalling and reaping child processes,
//! and bounded polling. Linux only (it reads `/proc`), std only, no unsafe.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What to run when a peer program is missing.
pub const INSTALL_HINT: &str = "run `sudo scripts/install-test-deps` from the repository root \
     (installs prosody, openssl, python3 and slixmpp 1.17.0)";

/// Polls `f` until it returns `Some`, for at most `timeout`. Sleeps start at
/// 2 ms and grow to 25 ms, so short waits stay short.
pub fn poll_until<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    let mut nap = Duration::from_millis(2);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        std::thread::sleep(nap.min(deadline - now));
        nap = (nap * 2).min(Duration::from_millis(25));
    }
}

/// True when `KEEP_TEST_DIRS=1`: temp dirs survive the test for reading logs.
pub fn keep_test_dirs() -> bool {
    std::env::var("KEEP_TEST_DIRS").is_ok_and(|v| v == "1")
}

/// A directory under `std::env::temp_dir()`, removed on drop unless
/// `KEEP_TEST_DIRS=1` (then its path is printed).
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates a fresh, uniquely named directory (`jicofo-rs-<prefix>-…`).
    pub fn new(prefix: &str) -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let base = std::env::temp_dir();
        for _ in 0..100 {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = base.join(format!(
                "jicofo-rs-{prefix}-{}-{n}-{nanos:08x}",
                std::process::id()
            ));
            match fs::create_dir(&path) {
                Ok(()) => return TempDir { path },
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => panic!("cannot create a temp dir in {}: {e}", base.display()),
            }
        }
        panic!("cannot find a free temp dir name in {}", base.display());
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if keep_test_dirs() {
            eprintln!("KEEP_TEST_DIRS=1: keeping {}", self.path.display());
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Ports handed out by this process: never handed out twice, so a stopped
/// Prosody can restart on its ports without a sibling test taking them.
static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// `n` distinct loopback TCP ports that were free a moment ago.
///
/// Picked at random *below* the kernel's ephemeral range and checked by
/// binding, rather than by binding port 0: port 0 draws from the ephemeral
/// range, which every outgoing connection (each peer's client socket) also
/// draws from, so a port released for Prosody could be taken by a client
/// socket before Prosody binds it, or before a restart rebinds it. Falls back
/// to port 0 if the ephemeral range starts too low to leave room.
pub fn free_ports(n: usize) -> Vec<u16> {
    let ephemeral_low = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let (low, high) = (10_000u16, ephemeral_low);
    let mut guard = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    let taken = guard.get_or_insert_with(HashSet::new);
    let mut held = Vec::new(); // keep each bound until all are chosen: distinct
    let mut rng = seed();
    let mut attempts = 0;
    while held.len() < n {
        attempts += 1;
        assert!(attempts < 10_000, "no free loopback ports found");
        let listener = if high > low + 1000 && attempts < 5_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let port = low + (rng % u64::from(high - low)) as u16;
            if taken.contains(&port) {
                continue;
            }
            match TcpListener::bind(("127.0.0.1", port)) {
                Ok(l) => l,
                Err(_) => continue,
            }
        } else {
            TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0")
        };
        let port = listener.local_addr().expect("local_addr").port();
        if taken.insert(port) {
            held.push(listener);
        }
    }
    held.iter()
        .map(|l| l.local_addr().expect("local_addr").port())
        .collect()
}

fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish() | 1
}

/// The executable `name` found in `PATH`, if any.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Panics with the install hint unless every program in `names` is in `PATH`.
pub fn require_tools(what: &str, names: &[&str]) {
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| which(n).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "{what} needs {}, not found in PATH: {INSTALL_HINT}",
        missing.join(", ")
    );
}

/// Sends SIGTERM to `pid` (through `sh`'s builtin `kill`: std has only
/// SIGKILL and the harness has no unsafe code or libc).
pub fn sigterm(pid: u32) {
    let _ = Command::new("sh")
        .args([
            "-c",
            "kill -TERM \"$1\" 2>/dev/null",
            "sh",
            &pid.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Waits at most `timeout` for `child` to exit, reaping it.
pub fn wait_child(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    poll_until(timeout, || child.try_wait().ok().flatten())
}

/// SIGTERM, wait at most `grace`, then SIGKILL; always reaps the child.
/// Returns the exit status.
pub fn terminate(child: &mut Child, grace: Duration) -> Option<ExitStatus> {
    if let Ok(Some(status)) = child.try_wait() {
        return Some(status);
    }
    // Not reaped yet, so the pid cannot have been reused.
    sigterm(child.id());
    if let Some(status) = wait_child(child, grace) {
        return Some(status);
    }
    kill(child)
}

/// SIGKILL and reap.
pub fn kill(child: &mut Child) -> Option<ExitStatus> {
    let _ = child.kill();
    child.wait().ok()
}

/// The state letter of `/proc/PID/stat` (`R`, `S`, `Z` for a zombie, …), or
/// `None` when no such process exists. A killed process that nobody reaped
/// yet still answers `kill -0`: use this instead.
pub fn proc_state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces.
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// True when `pid` exists and is not a zombie.
pub fn is_alive(pid: u32) -> bool {
    matches!(proc_state(pid), Some(s) if s != 'Z' && s != 'X')
}

/// Which of `ports` have a 127.0.0.1 listening socket owned by process
/// `pid`, or `None` when `/proc` cannot tell (not Linux).
pub fn listening_ports_of(pid: u32, ports: &[u16]) -> Option<Vec<u16>> {
    let tcp = fs::read_to_string("/proc/net/tcp").ok()?;
    // inode -> port, for LISTEN (state 0A) sockets on 127.0.0.1 or 0.0.0.0.
    let mut inodes = Vec::new();
    for line in tcp.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 || f[3] != "0A" {
            continue;
        }
        let Some((addr, port)) = f[1].split_once(':') else {
            continue;
        };
        let Ok(port) = u16::from_str_radix(port, 16) else {
            continue;
        };
        if ports.contains(&port) && (addr == "0100007F" || addr == "00000000") {
            inodes.push((format!("socket:[{}]", f[9]), port));
        }
    }
    let mut owned = Vec::new();
    for entry in fs::read_dir(format!("/proc/{pid}/fd")).ok()?.flatten() {
        if let Ok(target) = fs::read_link(entry.path()) {
            let target = target.to_string_lossy();
            if let Some((_, port)) = inodes.iter().find(|(ino, _)| *ino == target) {
                owned.push(*port);
            }
        }
    }
    owned.sort_unstable();
    owned.dedup();
    Some(owned)
}

/// The last `n` lines of `text`, for failure messages.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A file's text (lossy UTF-8), empty when unreadable.
pub fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}
