//! A real Prosody per test, configured like a Jitsi Meet deployment, in its
//! own temp dir on free loopback ports (recipe: `/work/shared/peers.md`).

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::os::{self, TempDir};
use super::{
    AUTH_DOMAIN, DOMAIN, FOCUS_COMPONENT, FOCUS_PASSWORD, FOCUS_SECRET, FOCUS_USER, GUEST_DOMAIN,
    INTERNAL_MUC_DOMAIN, MUC_DOMAIN,
};

/// An account registered (offline, with `prosodyctl register`) before start.
#[derive(Clone, Debug)]
pub struct User {
    /// Local part (`focus`).
    pub name: String,
    /// Domain (`auth.meet.test`).
    pub domain: String,
    /// Password.
    pub password: String,
}

/// How to configure a [`Prosody`]. `ProsodyOpts::default()` is the plain
/// Jitsi Meet layout: anonymous `meet.test`, SCRAM-hashed `auth.meet.test`
/// with `focus`/`focuspassword`, MUCs, the focus component, TLS required.
#[derive(Clone, Debug)]
pub struct ProsodyOpts {
    /// `auth.meet.test` uses `internal_plain` (offers SCRAM-SHA-256,
    /// SCRAM-SHA-1 and PLAIN) instead of `internal_hashed`.
    pub auth_plain: bool,
    /// Secure domain: `meet.test` requires a login (`internal_hashed`; give
    /// its users in `users`) and `guest.meet.test` is the anonymous domain.
    pub secure_domain: bool,
    /// Extra accounts, on any of our domains.
    pub users: Vec<User>,
    /// Extra XEP-0114 components `(domain, secret)`, e.g. emulated bridges.
    pub components: Vec<(String, String)>,
    /// `c2s_require_encryption` (default true: no SASL before STARTTLS).
    /// When false, PLAIN over plaintext is allowed too.
    pub require_encryption: bool,
    /// Served by `mod_http_files` at `/` on the HTTP port (same origin as
    /// `/xmpp-websocket` and `/http-bind`). Default: an empty `www` dir.
    pub http_files_dir: Option<PathBuf>,
    /// Prosody's log level (default `debug`).
    pub log_level: String,
    /// Raw Lua added to the global section (before any host).
    pub extra_global_lua: String,
    /// How long to wait for Prosody to be ready (default 10 s).
    pub ready_timeout: Duration,
    /// Ports to try first (c2s, component, http) instead of random free
    /// ones; if one is taken, fresh ones are picked as usual.
    pub first_ports: Option<[u16; 3]>,
    /// `muc_room_default_public_jids` of `conference.meet.test` (default
    /// true). False is what a stock Jitsi Meet Prosody has: new rooms show
    /// real JIDs to moderators only until the focus sets `whois=anyone`.
    pub muc_public_jids: bool,
}

impl Default for ProsodyOpts {
    fn default() -> Self {
        ProsodyOpts {
            auth_plain: false,
            secure_domain: false,
            users: Vec::new(),
            components: Vec::new(),
            require_encryption: true,
            http_files_dir: None,
            log_level: "debug".into(),
            extra_global_lua: String::new(),
            ready_timeout: Duration::from_secs(10),
            first_ports: None,
            muc_public_jids: true,
        }
    }
}

impl ProsodyOpts {
    /// `auth.meet.test` with `internal_plain`.
    pub fn auth_plain(mut self) -> Self {
        self.auth_plain = true;
        self
    }
    /// Secure-domain layout (see the field).
    pub fn secure_domain(mut self) -> Self {
        self.secure_domain = true;
        self
    }
    /// Registers `name@domain` with `password` before start.
    pub fn user(mut self, name: &str, domain: &str, password: &str) -> Self {
        self.users.push(User {
            name: name.into(),
            domain: domain.into(),
            password: password.into(),
        });
        self
    }
    /// Adds `Component "<domain>"` with `component_secret = secret`.
    pub fn component(mut self, domain: &str, secret: &str) -> Self {
        self.components.push((domain.into(), secret.into()));
        self
    }
    /// Plaintext c2s allowed (`c2s_require_encryption = false`).
    pub fn no_encryption(mut self) -> Self {
        self.require_encryption = false;
        self
    }
    /// Rooms of `conference.meet.test` hide real JIDs from non-moderators
    /// by default (see the field `muc_public_jids`).
    pub fn private_jids(mut self) -> Self {
        self.muc_public_jids = false;
        self
    }
    /// Serve `dir` over HTTP at `/`.
    pub fn http_files_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.http_files_dir = Some(dir.into());
        self
    }
}

/// A running (or stopped) Prosody. Dropping it stops it and removes its dir.
#[derive(Debug)]
pub struct Prosody {
    /// Loopback port of c2s (STARTTLS).
    pub c2s_port: u16,
    /// Loopback port of XEP-0114 components.
    pub component_port: u16,
    /// Loopback port of HTTP (BOSH, websocket, files).
    pub http_port: u16,
    /// The temp dir: config, certs, data, logs of Prosody and of every
    /// peer and focus started against it.
    pub dir: PathBuf,
    opts: ProsodyOpts,
    child: Option<Child>,
    /// Where this run's log starts in `prosody.log` (restarts append).
    log_offset: usize,
    files: AtomicUsize,
    temp: TempDir,
}

/// Why one start attempt failed.
enum StartError {
    /// One of our ports was taken between picking and binding.
    PortTaken(String),
    Other(String),
}

impl Prosody {
    /// Starts a fresh Prosody and waits until it is ready. Panics (with the
    /// log) when it cannot, and with the install hint when it is missing.
    pub fn start(opts: ProsodyOpts) -> Prosody {
        os::require_tools("the Prosody harness", &["prosody", "prosodyctl", "openssl"]);
        let temp = TempDir::new("prosody");
        let dir = temp.path().to_path_buf();
        for sub in ["data", "certs", "www"] {
            fs::create_dir(dir.join(sub)).expect("create prosody subdir");
        }
        let ports = match opts.first_ports {
            Some(ports) => ports.to_vec(),
            None => os::free_ports(3),
        };
        let mut p = Prosody {
            c2s_port: ports[0],
            component_port: ports[1],
            http_port: ports[2],
            dir,
            opts,
            child: None,
            log_offset: 0,
            files: AtomicUsize::new(0),
            temp,
        };
        p.make_certificates();
        p.write_config();
        p.register_users();
        for attempt in 1..=3 {
            match p.spawn_and_wait() {
                Ok(()) => return p,
                Err(StartError::PortTaken(log)) if attempt < 3 => {
                    eprintln!("prosody: a port was taken, retrying on new ports:\n{log}");
                    let ports = os::free_ports(3);
                    (p.c2s_port, p.component_port, p.http_port) = (ports[0], ports[1], ports[2]);
                    p.write_config();
                }
                Err(StartError::PortTaken(msg) | StartError::Other(msg)) => {
                    panic!("prosody in {} did not start: {msg}", p.dir.display())
                }
            }
        }
        unreachable!()
    }

    /// The test CA's certificate (PEM): what clients must trust.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("certs/ca.crt")
    }

    /// The generated `prosody.cfg.lua`.
    pub fn config_file(&self) -> PathBuf {
        self.dir.join("prosody.cfg.lua")
    }

    /// Prosody's log file (all runs, appended).
    pub fn log_file(&self) -> PathBuf {
        self.dir.join("prosody.log")
    }

    /// The whole log so far.
    pub fn log_text(&self) -> String {
        os::read_lossy(&self.log_file())
    }

    /// Waits at most `timeout` for `needle` to appear in the log.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        os::poll_until(timeout, || self.log_text().contains(needle).then_some(())).is_some()
    }

    /// The options this Prosody was started with.
    pub fn opts(&self) -> &ProsodyOpts {
        &self.opts
    }

    /// PID of the Prosody process (`lua5.4`), while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// True while the process runs (reaps it when it has exited).
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(c) => match c.try_wait() {
                Ok(None) => true,
                _ => {
                    self.child = None;
                    false
                }
            },
            None => false,
        }
    }

    /// `http://127.0.0.1:<http_port><path>`.
    pub fn http_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
    }

    /// A fresh file path in the dir, `<n>-<label>.log`, for child logs.
    pub fn new_log_path(&self, label: &str) -> PathBuf {
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        let label: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{n:02}-{label}.log"))
    }

    /// SIGTERM, wait at most 2 s, then SIGKILL. No-op when stopped.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            os::terminate(&mut child, Duration::from_secs(2));
        }
    }

    /// SIGKILL (a crash, as far as clients can tell). No-op when stopped.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            os::kill(&mut child);
        }
    }

    /// Stops (if running) and starts again: same dir, ports, config and
    /// accounts. Panics if it is not ready in time (e.g. a port got taken).
    pub fn restart(&mut self) {
        self.stop();
        if let Err(StartError::PortTaken(msg) | StartError::Other(msg)) = self.spawn_and_wait() {
            panic!("prosody in {} did not restart: {msg}", self.dir.display());
        }
    }

    /// Registers an account with `prosodyctl` (works running or stopped).
    pub fn register(&self, name: &str, domain: &str, password: &str) {
        let mut child = self.prosodyctl_register(name, domain, password);
        self.finish_register(&mut child, name, domain);
    }

    fn prosodyctl_register(&self, name: &str, domain: &str, password: &str) -> Child {
        Command::new("prosodyctl")
            .arg("--config")
            .arg(self.config_file())
            .args(["register", name, domain, password])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run prosodyctl: {e}: {}", os::INSTALL_HINT))
    }

    fn finish_register(&self, child: &mut Child, name: &str, domain: &str) {
        match os::wait_child(child, Duration::from_secs(10)) {
            Some(s) if s.success() => {}
            Some(s) => panic!(
                "prosodyctl register {name}@{domain} failed ({s}): {}",
                piped_output(child)
            ),
            None => {
                os::kill(child);
                panic!(
                    "prosodyctl register {name}@{domain} took over 10 s: {}",
                    piped_output(child)
                );
            }
        }
    }

    fn register_users(&self) {
        let mut users = vec![User {
            name: FOCUS_USER.into(),
            domain: AUTH_DOMAIN.into(),
            password: FOCUS_PASSWORD.into(),
        }];
        users.extend(self.opts.users.iter().cloned());
        // Each account is its own file: register them all at once.
        let mut children: Vec<(Child, &User)> = users
            .iter()
            .map(|u| (self.prosodyctl_register(&u.name, &u.domain, &u.password), u))
            .collect();
        for (child, u) in &mut children {
            self.finish_register(child, &u.name, &u.domain);
        }
    }

    /// Writes the test CA and server pair into `certs/` (see [`pems`]).
    fn make_certificates(&self) {
        let certs = self.dir.join("certs");
        for (name, pem) in pems() {
            fs::write(certs.join(name), pem).expect("write certificate");
        }
    }

    fn write_config(&self) {
        let d = |sub: &str| lua_str(&self.dir.join(sub).to_string_lossy());
        let o = &self.opts;
        let mut c = String::new();
        let w = &mut c;
        let _ = writeln!(w, "-- Written by tests/support/prosody.rs; self-contained.");
        // Prosody refuses root otherwise (and 0.12.3 then half-crashes).
        let _ = writeln!(w, "run_as_root = true");
        let _ = writeln!(w, "pidfile = {}", d("prosody.pid"));
        let _ = writeln!(w, "data_path = {}", d("data"));
        let _ = writeln!(w, "certificates = {}", d("certs"));
        let _ = writeln!(
            w,
            "log = {{ {{ levels = {{ min = {} }}, to = \"file\", filename = {} }} }}",
            lua_str(&o.log_level),
            d("prosody.log")
        );
        for key in [
            "interfaces",
            "c2s_interfaces",
            "component_interfaces",
            "http_interfaces",
        ] {
            let _ = writeln!(w, "{key} = {{ \"127.0.0.1\" }}");
        }
        let _ = writeln!(w, "c2s_ports = {{ {} }}", self.c2s_port);
        let _ = writeln!(w, "component_ports = {{ {} }}", self.component_port);
        let _ = writeln!(w, "http_ports = {{ {} }}", self.http_port);
        for key in [
            "https_ports",
            "c2s_direct_tls_ports",
            "legacy_ssl_ports",
            "s2s_ports",
        ] {
            let _ = writeln!(w, "{key} = {{ }}");
        }
        // s2s is autoloaded (on 0.0.0.0:5269) unless disabled.
        let _ = writeln!(
            w,
            "modules_disabled = {{ \"s2s\", \"s2s_auth_certs\", \"offline\" }}"
        );
        let _ = writeln!(
            w,
            "modules_enabled = {{ \"roster\", \"saslauth\", \"tls\", \"disco\", \"ping\", \
             \"bosh\", \"websocket\" }}"
        );
        let _ = writeln!(
            w,
            "ssl = {{ key = {}, certificate = {} }}",
            d("certs/server.key"),
            d("certs/server.crt")
        );
        let _ = writeln!(w, "http_default_host = \"{DOMAIN}\"");
        let _ = writeln!(w, "consider_bosh_secure = true");
        let _ = writeln!(w, "consider_websocket_secure = true");
        if !o.require_encryption {
            let _ = writeln!(w, "c2s_require_encryption = false");
            let _ = writeln!(w, "allow_unencrypted_plain_auth = true");
        }
        if !o.extra_global_lua.is_empty() {
            let _ = writeln!(w, "{}", o.extra_global_lua);
        }
        let files_dir = match &o.http_files_dir {
            Some(p) => lua_str(&p.to_string_lossy()),
            None => d("www"),
        };
        let _ = writeln!(w);
        let _ = writeln!(w, "VirtualHost \"{DOMAIN}\"");
        if o.secure_domain {
            let _ = writeln!(w, "    authentication = \"internal_hashed\"");
        } else {
            let _ = writeln!(w, "    authentication = \"anonymous\"");
        }
        let _ = writeln!(w, "    modules_enabled = {{ \"http_files\" }}");
        let _ = writeln!(w, "    http_files_dir = {files_dir}");
        let _ = writeln!(w, "    http_paths = {{ files = \"/\" }}");
        if o.secure_domain {
            let _ = writeln!(w, "\nVirtualHost \"{GUEST_DOMAIN}\"");
            let _ = writeln!(w, "    authentication = \"anonymous\"");
        }
        let _ = writeln!(w, "\nVirtualHost \"{AUTH_DOMAIN}\"");
        let auth = if o.auth_plain {
            "internal_plain"
        } else {
            "internal_hashed"
        };
        let _ = writeln!(w, "    authentication = \"{auth}\"");
        let admin = format!("{FOCUS_USER}@{AUTH_DOMAIN}");
        let _ = writeln!(w, "\nComponent \"{MUC_DOMAIN}\" \"muc\"");
        let _ = writeln!(w, "    restrict_room_creation = true");
        let _ = writeln!(w, "    muc_room_locking = false");
        let _ = writeln!(
            w,
            "    muc_room_default_public_jids = {}",
            o.muc_public_jids
        );
        let _ = writeln!(w, "    admins = {{ \"{admin}\" }}");
        let _ = writeln!(w, "    storage = \"memory\"");
        let _ = writeln!(w, "\nComponent \"{INTERNAL_MUC_DOMAIN}\" \"muc\"");
        let _ = writeln!(w, "    muc_room_locking = false");
        let _ = writeln!(w, "    muc_room_default_public_jids = true");
        let _ = writeln!(w, "    admins = {{ \"{admin}\" }}");
        let _ = writeln!(w, "    storage = \"memory\"");
        let mut components = vec![(FOCUS_COMPONENT.to_string(), FOCUS_SECRET.to_string())];
        components.extend(o.components.iter().cloned());
        for (jid, secret) in &components {
            let _ = writeln!(w, "\nComponent {}", lua_str(jid));
            let _ = writeln!(w, "    component_secret = {}", lua_str(secret));
        }
        fs::write(self.config_file(), c).expect("write prosody.cfg.lua");
    }

    /// Spawns `prosody -F` and waits until it owns all three ports.
    fn spawn_and_wait(&mut self) -> Result<(), StartError> {
        self.log_offset = fs::metadata(self.log_file()).map_or(0, |m| m.len() as usize);
        let out = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("prosody.stdout"))
            .expect("open prosody.stdout");
        let err = out.try_clone().expect("clone prosody.stdout");
        let child = Command::new("prosody")
            .arg("-F")
            .arg("--config")
            .arg(self.config_file())
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run prosody: {e}: {}", os::INSTALL_HINT));
        let pid = child.id();
        self.child = Some(child);
        let ports = [self.c2s_port, self.component_port, self.http_port];
        let started = Instant::now();
        let outcome = os::poll_until(self.opts.ready_timeout, || {
            let log = self.log_text();
            let this_run = log.get(self.log_offset..).unwrap_or("");
            if let Some(line) = this_run
                .lines()
                .find(|l| l.contains("Failed to open server port"))
            {
                return Some(Err(StartError::PortTaken(line.to_string())));
            }
            if !self.is_running() {
                return Some(Err(StartError::Other(format!(
                    "prosody exited during startup.\nstdout/stderr:\n{}\nlog:\n{}",
                    os::tail(&os::read_lossy(&self.dir.join("prosody.stdout")), 30),
                    os::tail(this_run, 30)
                ))));
            }
            let owned = match os::listening_ports_of(pid, &ports) {
                Some(owned) => owned.len() == ports.len(),
                // No /proc: the log check above still catches a port that
                // another process holds.
                None => true,
            };
            // Ports open while hosts are still being activated, before the
            // main loop and its signal handling run: a SIGTERM then crashes
            // startup half-way. Stream features on c2s prove the loop runs.
            (owned && c2s_answers(self.c2s_port)).then_some(Ok(()))
        });
        let result = outcome.unwrap_or_else(|| {
            Err(StartError::Other(format!(
                "not ready after {:?} (ports {ports:?}).\nlog:\n{}",
                started.elapsed(),
                os::tail(self.log_text().get(self.log_offset..).unwrap_or(""), 30)
            )))
        });
        if result.is_err() {
            self.kill();
        }
        result
    }
}

impl Drop for Prosody {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() && !os::keep_test_dirs() {
            eprintln!(
                "prosody dir {} (logs of prosody, peers, focus) is removed; \
                 rerun with KEEP_TEST_DIRS=1 to keep it",
                self.temp.path().display()
            );
        }
    }
}

/// The throwaway test CA (`ca.crt`, `ca.key`) and the server pair it signs
/// (`server.crt`, `server.key`), as `(file name, PEM)`. Made once per test
/// process with the `openssl` CLI, in a temp dir removed at once.
///
/// The CA is a real CA (`basicConstraints=critical,CA:TRUE`,
/// `keyUsage=keyCertSign`) and the server certificate a leaf (`CA:FALSE`,
/// `serverAuth`): rustls rejects a self-signed CA:TRUE certificate used as a
/// server's own (`CaUsedAsEndEntity`), so a focus trusting it never logs in.
/// P-256 keys: a fraction of RSA's time, and every peer takes them.
fn pems() -> &'static [(&'static str, Vec<u8>); 4] {
    static PEMS: OnceLock<[(&str, Vec<u8>); 4]> = OnceLock::new();
    PEMS.get_or_init(|| {
        let tmp = TempDir::new("certs");
        let ext = "basicConstraints=CA:FALSE\n\
                   keyUsage=critical,digitalSignature\n\
                   extendedKeyUsage=serverAuth\n\
                   subjectAltName=DNS:meet.test,DNS:*.meet.test,DNS:auth.meet.test,\
                   DNS:guest.meet.test,DNS:localhost\n";
        fs::write(tmp.path().join("server.ext"), ext).expect("write server.ext");
        let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
        let steps = [
            format!(
                "req -x509 {ec} -keyout ca.key -out ca.crt -days 30 -subj /CN=jicofo-rs-test-CA \
                 -addext basicConstraints=critical,CA:TRUE \
                 -addext keyUsage=critical,keyCertSign,cRLSign"
            ),
            format!("req {ec} -keyout server.key -out server.csr -subj /CN=meet.test"),
            "x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial 2 -days 30 \
             -extfile server.ext -out server.crt"
                .to_string(),
        ];
        for step in &steps {
            let args: Vec<&str> = step.split_whitespace().collect();
            let out = Command::new("openssl")
                .args(&args)
                .current_dir(tmp.path())
                .stdin(Stdio::null())
                .output()
                .unwrap_or_else(|e| panic!("cannot run openssl: {e}: {}", os::INSTALL_HINT));
            assert!(
                out.status.success(),
                "openssl {step} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        ["ca.crt", "ca.key", "server.crt", "server.key"]
            .map(|f| (f, fs::read(tmp.path().join(f)).expect("read generated PEM")))
    })
}

/// True when the c2s port answers a stream header with `<stream:features>`:
/// Prosody's main loop is running (startup is over).
fn c2s_answers(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let header = format!(
        "<?xml version='1.0'?><stream:stream to='{DOMAIN}' xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
    );
    if s.write_all(header.as_bytes()).is_err() {
        return false;
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    while got.len() < 65536 {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
        if String::from_utf8_lossy(&got).contains("features") {
            let _ = s.write_all(b"</stream:stream>");
            return true;
        }
    }
    false
}

/// A Lua string literal.
fn lua_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The piped output of a child that has exited (or been killed). The
/// output of `prosodyctl register` is a few lines: it never fills a pipe.
fn piped_output(child: &mut Child) -> String {
    use std::io::Read;
    let mut text = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut text);
    }
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut text);
    }
    text
}
