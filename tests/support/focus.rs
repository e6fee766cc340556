//! The system under test as a process: our `jicofo` binary pointed at a
//! harness [`Prosody`], its output captured to a file in the Prosody dir.

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use super::os;
use super::prosody::Prosody;
use super::{AUTH_DOMAIN, DOMAIN, FOCUS_PASSWORD, FOCUS_SECRET, FOCUS_USER};

/// The binary under test: `JICOFO_BIN` when set (the demo and the benches
/// run the release build), else the one cargo builds for integration tests.
pub fn focus_bin() -> String {
    if let Ok(b) = std::env::var("JICOFO_BIN") {
        return b;
    }
    match option_env!("CARGO_BIN_EXE_jicofo") {
        Some(b) => b.to_string(),
        None => "target/release/jicofo".to_string(),
    }
}

/// A running focus. Dropping it sends SIGTERM, waits at most 2 s, then
/// SIGKILLs.
#[derive(Debug)]
pub struct Focus {
    child: Child,
    pid: u32,
    log_path: PathBuf,
    status: Option<ExitStatus>,
}

impl Focus {
    /// The arguments that connect a focus to `prosody` like a standard
    /// Jitsi Meet deployment (component `focus.meet.test`, user
    /// `focus@auth.meet.test`, the test CA).
    pub fn standard_args(prosody: &Prosody) -> Vec<String> {
        vec![
            format!("--domain={DOMAIN}"),
            "--host=127.0.0.1".into(),
            format!("--port={}", prosody.component_port),
            "--subdomain=focus".into(),
            format!("--secret={FOCUS_SECRET}"),
            format!("--user_domain={AUTH_DOMAIN}"),
            format!("--user_name={FOCUS_USER}"),
            format!("--user_password={FOCUS_PASSWORD}"),
            format!("--client_port={}", prosody.c2s_port),
            format!("--ca_file={}", prosody.ca_file().display()),
        ]
    }

    /// Runs the focus with the standard arguments plus `extra_args`, and
    /// `RUST_LOG=debug` (or `$JICOFO_TEST_RUST_LOG`).
    pub fn spawn(prosody: &Prosody, extra_args: &[&str]) -> Focus {
        let mut args = Focus::standard_args(prosody);
        args.extend(extra_args.iter().map(|s| s.to_string()));
        Focus::spawn_with(prosody, &args, &[])
    }

    /// Runs the focus with exactly `args`; `env` is applied last (so it can
    /// override `RUST_LOG`).
    pub fn spawn_with(prosody: &Prosody, args: &[String], env: &[(&str, &str)]) -> Focus {
        let log_path = prosody.new_log_path("focus");
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("create focus log");
        let err = out.try_clone().expect("clone focus log");
        let rust_log = std::env::var("JICOFO_TEST_RUST_LOG").unwrap_or_else(|_| "debug".into());
        let bin = focus_bin();
        let mut cmd = Command::new(&bin);
        cmd.args(args)
            .env("RUST_LOG", rust_log)
            .current_dir(&prosody.dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"));
        Focus {
            pid: child.id(),
            child,
            log_path,
            status: None,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The log file (stdout and stderr).
    pub fn log_path(&self) -> &PathBuf {
        &self.log_path
    }

    /// The log so far (readable while it runs).
    pub fn log_text(&self) -> String {
        os::read_lossy(&self.log_path)
    }

    /// Waits at most `timeout` for `needle` in the log; gives up early when
    /// the process has exited without writing it.
    pub fn wait_log(&mut self, needle: &str, timeout: Duration) -> bool {
        os::poll_until(timeout, || {
            if self.log_text().contains(needle) {
                return Some(true);
            }
            // Exited: the log is final (one last read after the exit).
            (!self.is_running()).then(|| self.log_text().contains(needle))
        })
        .unwrap_or(false)
    }

    /// True while the process runs (reaps it once it has exited).
    pub fn is_running(&mut self) -> bool {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status.is_none()
    }

    /// Sends SIGTERM (no wait).
    pub fn sigterm(&mut self) {
        if self.is_running() {
            os::sigterm(self.pid);
        }
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        if self.is_running() {
            self.status = os::kill(&mut self.child);
        }
    }

    /// Waits at most `timeout` for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = os::wait_child(&mut self.child, timeout);
        }
        self.status
    }
}

impl Drop for Focus {
    fn drop(&mut self) {
        if self.is_running() {
            self.status = os::terminate(&mut self.child, Duration::from_secs(2));
        }
        if std::thread::panicking() {
            eprintln!(
                "focus log {} (last lines):\n{}",
                self.log_path.display(),
                os::tail(&self.log_text(), 40)
            );
        }
    }
}
