//! Configuration: the SEED command line (`--domain`, `--secret`, …), the
//! `sip-communicator.properties` file and `-Dkey=value` properties, turned
//! into one validated [`Config`].
//!
//! Parsing is pure and happens in two steps because which file to read
//! depends on the arguments:
//!
//! 1. [`CliArgs::parse`] reads the arguments (without `argv[0]`). If its
//!    [`CliArgs::action`] is not [`CliAction::Run`], `main` prints
//!    [`help_text`] or [`version_text`] and exits.
//! 2. `main` reads the file named by [`CliArgs::config`], else
//!    [`DEFAULT_PROPERTIES_PATH`] if it exists, and calls [`Config::build`].
//!
//! Precedence, lowest first: built-in defaults, the properties file, `-D`
//! arguments (a later `-D` wins), command-line flags. Every error is one
//! sentence a deployer can act on; no error or Debug output contains a secret.

#![warn(missing_docs)]

mod help;
mod keys;
mod properties;

pub use help::{help_text, version_text};
pub use keys::{KNOWN_KEYS, KNOWN_PREFIXES, is_known_key};
pub use properties::Properties;

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the Debian package keeps the SEED properties file; read when
/// `--config` is absent and the file exists.
pub const DEFAULT_PROPERTIES_PATH: &str = "/etc/jitsi/jicofo/sip-communicator.properties";

/// This program's version, from `Cargo.toml`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Property: the focus user's password when `--user_password` is absent.
const PASSWORD_KEYS: &[&str] = &[
    "org.jitsi.jicofo.FOCUS_USER_PASSWORD",
    "jicofo.xmpp.client.password",
];
const CLIENT_PORT_KEYS: &[&str] = &["org.jitsi.jicofo.XMPP_PORT", "jicofo.xmpp.client.port"];
const PING_INTERVAL_KEYS: &[&str] = &["org.jitsi.jicofo.PING_INTERVAL"];
const PING_TIMEOUT_KEYS: &[&str] = &["org.jitsi.jicofo.PING_TIMEOUT"];
const PING_THRESHOLD_KEYS: &[&str] = &["org.jitsi.jicofo.PING_THRESHOLD"];
const ALWAYS_TRUST_KEYS: &[&str] = &[
    "org.jitsi.jicofo.ALWAYS_TRUST_MODE_ENABLED",
    "jicofo.xmpp.client.disable-certificate-verification",
];
const USE_TLS_KEYS: &[&str] = &["jicofo.xmpp.client.use-tls"];
const REPLY_TIMEOUT_KEYS: &[&str] = &["jicofo.xmpp.client.reply-timeout"];
const MAX_STANZA_KEYS: &[&str] = &["jicofo.xmpp.max-stanza-size"];
const RESOURCE_KEYS: &[&str] = &["jicofo.xmpp.client.resource"];

/// Smallest accepted `jicofo.xmpp.max-stanza-size`: below this a stream
/// header with a few features does not fit.
pub const MIN_STANZA_SIZE: usize = 4096;

/// A credential (component secret, focus password). Debug and Display print
/// `***` so a stray `{:?}` cannot leak it into a log; read it with
/// [`Secret::expose`], a name that stands out in review.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The credential itself, for the handshake or SASL code that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Everything that can be wrong with the configuration. Display gives one
/// sentence naming the flag or property at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A flag that takes a value came last, or was followed by another flag.
    MissingValue {
        /// The flag, e.g. `--port`.
        flag: &'static str,
    },
    /// An argument starting with `-` that is not one of our flags.
    UnknownFlag {
        /// The flag as given, without any `=value` part (it may be a secret).
        flag: String,
    },
    /// An argument that is not a flag, a flag's value or `-Dkey=value`.
    /// Its text is not repeated: a stray argument is often half of a secret.
    UnexpectedArgument {
        /// 1-based position among the arguments.
        position: usize,
    },
    /// An argument that is not valid UTF-8.
    NotUtf8 {
        /// 1-based position among the arguments.
        position: usize,
    },
    /// A `-D` argument without a property name.
    BadDefine,
    /// `--secret` is missing.
    MissingSecret,
    /// `--user_domain` is missing.
    MissingUserDomain,
    /// A flag or property value of the wrong form.
    BadValue {
        /// The flag (`--port`) or property name.
        key: String,
        /// The offending value.
        value: String,
        /// What is expected, as a noun phrase: "a port number (1-65535)".
        expected: String,
    },
    /// A syntax error in a properties file.
    PropertiesSyntax {
        /// The file, as named by the caller.
        origin: String,
        /// 1-based line number where the entry starts.
        line: usize,
        /// What is wrong.
        problem: &'static str,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingValue { flag } => write!(
                f,
                "{flag} needs a value, as in {flag}=VALUE \
                 (use that form if the value itself starts with '-')"
            ),
            Self::UnknownFlag { flag } => write!(
                f,
                "unknown flag '{}': run with --help to see the accepted flags",
                flag.escape_debug()
            ),
            Self::UnexpectedArgument { position } => write!(
                f,
                "argument {position} is neither a flag nor a flag's value: \
                 write flags as --flag=value and properties as -Dkey=value"
            ),
            Self::NotUtf8 { position } => {
                write!(f, "argument {position} is not valid UTF-8 text")
            }
            Self::BadDefine => f.write_str(
                "-D needs a property name and value attached, with no space, \
                 as in -Dorg.jitsi.jicofo.PING_INTERVAL=10000",
            ),
            Self::MissingSecret => f.write_str(
                "--secret is required: the component secret, `component_secret` \
                 of the focus Component in the XMPP server's config",
            ),
            Self::MissingUserDomain => f.write_str(
                "--user_domain is required: the XMPP domain the focus user logs into, \
                 e.g. --user_domain=auth.meet.example.com",
            ),
            Self::BadValue {
                key,
                value,
                expected,
            } => write!(f, "{key}: '{}' is not {expected}", value.escape_debug()),
            Self::PropertiesSyntax {
                origin,
                line,
                problem,
            } => write!(f, "{origin} line {line}: {problem}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// What `main` should do after parsing the arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CliAction {
    /// Build the [`Config`] and run the focus.
    #[default]
    Run,
    /// Print [`help_text`] and exit successfully.
    PrintHelp,
    /// Print [`version_text`] and exit successfully.
    PrintVersion,
}

/// The flags that take a value, in help order. The scanner and the help test
/// both use this list, so a new flag cannot go undocumented.
const VALUE_FLAGS: [&str; 11] = [
    "--domain",
    "--host",
    "--port",
    "--subdomain",
    "--secret",
    "--user_domain",
    "--user_name",
    "--user_password",
    "--client_port",
    "--ca_file",
    "--config",
];

/// The command line, parsed but not yet merged with the properties.
///
/// An empty value (`--user_password=`) counts as not given, as in the Java
/// program: the Debian init script passes `--user_password=$JICOFO_AUTH_PASSWORD`
/// even when the variable is empty. A flag given twice keeps the last value,
/// again like the Java loop over `args`.
#[derive(Debug, Clone, Default)]
pub struct CliArgs {
    /// Run, or print help or the version.
    pub action: CliAction,
    /// `--domain`.
    pub domain: Option<String>,
    /// `--host`.
    pub host: Option<String>,
    /// `--port` (component port).
    pub port: Option<u16>,
    /// `--subdomain`.
    pub subdomain: Option<String>,
    /// `--secret`.
    pub secret: Option<Secret>,
    /// `--user_domain`.
    pub user_domain: Option<String>,
    /// `--user_name`.
    pub user_name: Option<String>,
    /// `--user_password`.
    pub user_password: Option<Secret>,
    /// `--client_port`.
    pub client_port: Option<u16>,
    /// `--ca_file`.
    pub ca_file: Option<PathBuf>,
    /// `--config`: the properties file `main` should read.
    pub config: Option<PathBuf>,
    /// Every `-Dkey=value`, later ones replacing earlier ones.
    pub defines: Properties,
}

impl CliArgs {
    /// Parses the arguments, without `argv[0]`.
    ///
    /// `--help`/`-h` and `--version` win over any other problem on the line,
    /// so a confused deployer can always get the help.
    pub fn parse(args: Vec<OsString>) -> Result<CliArgs, ConfigError> {
        let args = args
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                a.into_string()
                    .map_err(|_| ConfigError::NotUtf8 { position: i + 1 })
            })
            .collect::<Result<Vec<String>, _>>()?;
        let scan = Scan::run(&args);
        if scan.help || scan.version {
            let action = if scan.help {
                CliAction::PrintHelp
            } else {
                CliAction::PrintVersion
            };
            return Ok(CliArgs {
                action,
                ..CliArgs::default()
            });
        }
        if let Some(err) = scan.error {
            return Err(err);
        }
        // The scan left one `--flag value` pair per flag, with non-empty
        // values only, so pico-args sees no ambiguity.
        let mut normalized = Vec::new();
        for (flag, value) in VALUE_FLAGS.iter().zip(scan.last) {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                normalized.push(OsString::from(*flag));
                normalized.push(OsString::from(value));
            }
        }
        let mut pargs = pico_args::Arguments::from_vec(normalized);
        let cli = CliArgs {
            action: CliAction::Run,
            domain: take_string(&mut pargs, "--domain")?,
            host: take_string(&mut pargs, "--host")?,
            port: take_port(&mut pargs, "--port")?,
            subdomain: take_string(&mut pargs, "--subdomain")?,
            secret: take_string(&mut pargs, "--secret")?.map(Secret),
            user_domain: take_string(&mut pargs, "--user_domain")?,
            user_name: take_string(&mut pargs, "--user_name")?,
            user_password: take_string(&mut pargs, "--user_password")?.map(Secret),
            client_port: take_port(&mut pargs, "--client_port")?,
            ca_file: take_string(&mut pargs, "--ca_file")?.map(PathBuf::from),
            config: take_string(&mut pargs, "--config")?.map(PathBuf::from),
            defines: scan.defines,
        };
        debug_assert!(pargs.finish().is_empty(), "every normalized flag is taken");
        Ok(cli)
    }
}

/// The first pass over the arguments: picks out `-D`, `--help` and
/// `--version`, finds each flag's last value, and notes the first problem.
/// It runs before pico-args because pico-args knows neither `-Dkey=value`
/// nor "empty means absent", and would take a flag's first value, not its last.
struct Scan {
    help: bool,
    version: bool,
    defines: Properties,
    last: [Option<String>; VALUE_FLAGS.len()],
    error: Option<ConfigError>,
}

impl Scan {
    fn run(args: &[String]) -> Scan {
        let mut scan = Scan {
            help: false,
            version: false,
            defines: Properties::new(),
            last: Default::default(),
            error: None,
        };
        let mut i = 0;
        while i < args.len() {
            let arg = args[i].as_str();
            let position = i + 1;
            i += 1;
            if arg == "--help" || arg == "-h" {
                scan.help = true;
            } else if arg == "--version" {
                scan.version = true;
            } else if let Some(define) = arg.strip_prefix("-D") {
                // Java's `-Dkey` without `=` sets the key to "".
                let (key, value) = define.split_once('=').unwrap_or((define, ""));
                if key.is_empty() {
                    scan.fail(ConfigError::BadDefine);
                } else {
                    scan.defines.set(key, value);
                }
            } else if let Some(index) = flag_index(arg) {
                // `--flag value`: the next argument is the value unless it
                // looks like an option, which means the value was forgotten.
                match args.get(i) {
                    Some(next) if !(next.starts_with('-') && next.len() > 1) => {
                        scan.last[index] = Some(next.clone());
                        i += 1;
                    }
                    _ => scan.fail(ConfigError::MissingValue {
                        flag: VALUE_FLAGS[index],
                    }),
                }
            } else if let Some((index, value)) = arg
                .split_once('=')
                .and_then(|(name, value)| Some((flag_index(name)?, value)))
            {
                scan.last[index] = Some(value.to_string());
            } else if arg.starts_with('-') {
                let flag = arg.split('=').next().unwrap_or(arg).to_string();
                scan.fail(ConfigError::UnknownFlag { flag });
            } else {
                scan.fail(ConfigError::UnexpectedArgument { position });
            }
        }
        scan
    }

    /// Keeps the first problem: later ones are often consequences of it.
    fn fail(&mut self, err: ConfigError) {
        self.error.get_or_insert(err);
    }
}

fn flag_index(name: &str) -> Option<usize> {
    VALUE_FLAGS.iter().position(|f| *f == name)
}

fn take_string(
    pargs: &mut pico_args::Arguments,
    flag: &'static str,
) -> Result<Option<String>, ConfigError> {
    pargs
        .opt_value_from_str::<_, String>(flag)
        .map_err(|_| ConfigError::MissingValue { flag })
}

fn take_port(
    pargs: &mut pico_args::Arguments,
    flag: &'static str,
) -> Result<Option<u16>, ConfigError> {
    match take_string(pargs, flag)? {
        None => Ok(None),
        Some(text) => parse_port(flag, &text).map(Some),
    }
}

fn parse_port(key: &str, text: &str) -> Result<u16, ConfigError> {
    match text.trim().parse::<u16>() {
        Ok(port) if port != 0 => Ok(port),
        _ => Err(ConfigError::BadValue {
            key: key.to_string(),
            value: text.to_string(),
            expected: "a port number (1-65535)".to_string(),
        }),
    }
}

/// The complete, validated configuration.
///
/// Debug is safe to log: credentials print as `***`, and so do property
/// values whose key mentions a password, secret or token.
#[derive(Debug, Clone)]
pub struct Config {
    /// XMPP domain: the component is `<subdomain>.<domain>`, and services
    /// (bridges) are discovered on it. Default: `--host`, else `localhost`.
    pub domain: String,
    /// XMPP server host for both connections. Default: `--domain`, else
    /// `localhost`.
    pub host: String,
    /// Port of the XEP-0114 component connection (`--port`, 5347).
    pub component_port: u16,
    /// Component sub-domain (`--subdomain`, `focus`).
    pub subdomain: String,
    /// The component's shared secret (`--secret`).
    pub secret: Secret,
    /// Domain the focus user logs into (`--user_domain`), e.g. `auth.meet.example.com`.
    pub user_domain: String,
    /// Focus login name, also its MUC nickname (`--user_name`, `focus`).
    pub user_name: String,
    /// Focus password; `None` means SASL ANONYMOUS. From `--user_password`,
    /// else property `org.jitsi.jicofo.FOCUS_USER_PASSWORD` or
    /// `jicofo.xmpp.client.password`.
    pub user_password: Option<Secret>,
    /// Port of the client (c2s) connection: `--client_port`, else property
    /// `org.jitsi.jicofo.XMPP_PORT` / `jicofo.xmpp.client.port`, else 5222.
    pub client_port: u16,
    /// PEM file of CA certificates to trust for the client connection (`--ca_file`).
    pub ca_file: Option<PathBuf>,
    /// The properties file that was read, if any.
    pub properties_path: Option<PathBuf>,
    /// Component keep-alive ping period (`org.jitsi.jicofo.PING_INTERVAL`,
    /// 10 s); `None` when set to 0 or less, which disables the pings.
    pub ping_interval: Option<Duration>,
    /// How long to wait for a ping reply (`org.jitsi.jicofo.PING_TIMEOUT`, 5 s).
    pub ping_timeout: Duration,
    /// Failed pings in a row before the connection is declared dead
    /// (`org.jitsi.jicofo.PING_THRESHOLD`, 3, at least 1).
    pub ping_threshold: u32,
    /// Accept any server certificate (`org.jitsi.jicofo.ALWAYS_TRUST_MODE_ENABLED`
    /// or `jicofo.xmpp.client.disable-certificate-verification`, false).
    pub always_trust: bool,
    /// `jicofo.xmpp.client.use-tls` (true). False means the deployer allowed
    /// plaintext SASL when the server offers no STARTTLS.
    pub use_tls: bool,
    /// How long to wait for an IQ reply (`jicofo.xmpp.client.reply-timeout`, 15 s).
    pub reply_timeout: Duration,
    /// Largest stanza accepted from a peer, in bytes
    /// (`jicofo.xmpp.max-stanza-size`, 262144, at least 4096).
    pub max_stanza_size: usize,
    /// Client resource to request (`jicofo.xmpp.client.resource`); `None`
    /// lets the connection code choose (server-assigned or the user name).
    pub client_resource: Option<String>,
    props: Properties,
}

impl Config {
    /// Merges the parsed arguments with the properties file's text (its path
    /// is used in messages and kept in [`Config::properties_path`]) and
    /// validates the result. `cli.action` is not looked at: `main` handles
    /// help and version before calling this.
    pub fn build(
        cli: CliArgs,
        properties_file: Option<(&Path, &str)>,
    ) -> Result<Config, ConfigError> {
        let mut props = match properties_file {
            Some((path, text)) => Properties::parse(&path.display().to_string(), text)?,
            None => Properties::new(),
        };
        props.overlay(&cli.defines);

        let secret = cli.secret.ok_or(ConfigError::MissingSecret)?;
        let user_domain = cli.user_domain.ok_or(ConfigError::MissingUserDomain)?;

        // Each of host and domain defaults to the other (the SEED Main did the same).
        let host = cli
            .host
            .clone()
            .or_else(|| cli.domain.clone())
            .unwrap_or_else(|| "localhost".to_string());
        let domain = cli
            .domain
            .or(cli.host)
            .unwrap_or_else(|| "localhost".to_string());
        let subdomain = cli.subdomain.unwrap_or_else(|| "focus".to_string());
        let user_name = cli.user_name.unwrap_or_else(|| "focus".to_string());
        check_name("--domain", &domain, DOMAIN_RULE)?;
        check_name("--host", &host, HOST_RULE)?;
        check_name("--subdomain", &subdomain, DOMAIN_RULE)?;
        check_name("--user_domain", &user_domain, DOMAIN_RULE)?;
        check_name("--user_name", &user_name, USER_RULE)?;

        let user_password = cli
            .user_password
            .or_else(|| props.get(PASSWORD_KEYS).map(Secret::new));
        let client_port = match (cli.client_port, props.get(CLIENT_PORT_KEYS)) {
            (Some(port), _) => port,
            (None, Some(text)) => {
                let key = first_present(&props, CLIENT_PORT_KEYS);
                parse_port(key, text)?
            }
            (None, None) => 5222,
        };

        let ping_interval = props.interval(PING_INTERVAL_KEYS, Some(Duration::from_secs(10)))?;
        let ping_timeout = positive(
            &props,
            PING_TIMEOUT_KEYS,
            props.duration(PING_TIMEOUT_KEYS, Duration::from_secs(5))?,
        )?;
        let ping_threshold = props.u32(PING_THRESHOLD_KEYS, 3)?;
        if ping_threshold == 0 {
            return Err(bad(
                &props,
                PING_THRESHOLD_KEYS,
                "a whole number of at least 1",
            ));
        }
        let reply_timeout = positive(
            &props,
            REPLY_TIMEOUT_KEYS,
            props.duration(REPLY_TIMEOUT_KEYS, Duration::from_secs(15))?,
        )?;
        let max_stanza_size = props.u64(MAX_STANZA_KEYS, 262_144)?;
        let max_stanza_size = usize::try_from(max_stanza_size)
            .ok()
            .filter(|n| *n >= MIN_STANZA_SIZE)
            .ok_or_else(|| bad(&props, MAX_STANZA_KEYS, "a size in bytes of at least 4096"))?;

        Ok(Config {
            domain,
            host,
            component_port: cli.port.unwrap_or(5347),
            subdomain,
            secret,
            user_domain,
            user_name,
            user_password,
            client_port,
            ca_file: cli.ca_file,
            properties_path: properties_file.map(|(p, _)| p.to_path_buf()),
            ping_interval,
            ping_timeout,
            ping_threshold,
            always_trust: props.bool(ALWAYS_TRUST_KEYS, false)?,
            use_tls: props.bool(USE_TLS_KEYS, true)?,
            reply_timeout,
            max_stanza_size,
            client_resource: props.get(RESOURCE_KEYS).map(str::to_string),
            props,
        })
    }

    /// All properties (file overlaid by `-D`), for modules that read their
    /// own keys with the typed getters of [`Properties`].
    pub fn props(&self) -> &Properties {
        &self.props
    }

    /// The component's JID, `<subdomain>.<domain>`; clients send the
    /// conference request here.
    pub fn component_jid(&self) -> String {
        format!("{}.{}", self.subdomain, self.domain)
    }

    /// The focus user's bare JID, `<user_name>@<user_domain>`.
    pub fn focus_bare_jid(&self) -> String {
        format!("{}@{}", self.user_name, self.user_domain)
    }
}

/// Characters a name must not contain, and how to describe the rule.
struct NameRule {
    forbidden: &'static [char],
    expected: &'static str,
}

const DOMAIN_RULE: NameRule = NameRule {
    forbidden: &['@', '/'],
    expected: "a domain name (no spaces, '@' or '/')",
};
const HOST_RULE: NameRule = NameRule {
    forbidden: &['@', '/'],
    expected: "a host name or IP address (no spaces, '@' or '/')",
};
// ':' is excluded because the name goes into SASL PLAIN and JIDs.
const USER_RULE: NameRule = NameRule {
    forbidden: &['@', '/', ':'],
    expected: "a user name (no spaces, '@', '/' or ':')",
};

fn check_name(flag: &str, value: &str, rule: NameRule) -> Result<(), ConfigError> {
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || rule.forbidden.contains(&c);
    if value.is_empty() || value.contains(bad_char) {
        return Err(ConfigError::BadValue {
            key: flag.to_string(),
            value: value.to_string(),
            expected: rule.expected.to_string(),
        });
    }
    Ok(())
}

/// The key [`Properties::get`] would pick, for naming it in an error.
fn first_present<'a>(props: &Properties, keys: &[&'a str]) -> &'a str {
    keys.iter()
        .copied()
        .find(|k| props.get(&[k]).is_some())
        .unwrap_or(keys[0])
}

fn bad(props: &Properties, keys: &[&str], expected: &str) -> ConfigError {
    ConfigError::BadValue {
        key: first_present(props, keys).to_string(),
        value: props.get(keys).unwrap_or_default().to_string(),
        expected: expected.to_string(),
    }
}

/// A timeout of zero would fail every request at once, so refuse it.
fn positive(props: &Properties, keys: &[&str], d: Duration) -> Result<Duration, ConfigError> {
    if d.is_zero() {
        Err(bad(props, keys, "a duration longer than zero"))
    } else {
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn cli(list: &[&str]) -> CliArgs {
        CliArgs::parse(args(list)).expect("arguments parse")
    }

    const REQUIRED: [&str; 2] = ["--secret=s3cr3t", "--user_domain=auth.example.com"];

    fn build(extra: &[&str], file: Option<&str>) -> Result<Config, ConfigError> {
        let mut list = REQUIRED.to_vec();
        list.extend_from_slice(extra);
        let path = Path::new("/etc/jitsi/jicofo/sip-communicator.properties");
        Config::build(cli(&list), file.map(|text| (path, text)))
    }

    #[test]
    fn every_flag_in_both_forms() {
        let values = [
            ("--domain", "example.com"),
            ("--host", "xmpp.example.com"),
            ("--port", "5348"),
            ("--subdomain", "focus2"),
            ("--secret", "s3cr3t"),
            ("--user_domain", "auth.example.com"),
            ("--user_name", "jicofo"),
            ("--user_password", "pw"),
            ("--client_port", "5223"),
            ("--ca_file", "/etc/ca.pem"),
            ("--config", "/tmp/x.properties"),
        ];
        assert_eq!(values.len(), VALUE_FLAGS.len());
        let eq: Vec<String> = values.iter().map(|(f, v)| format!("{f}={v}")).collect();
        let eq: Vec<&str> = eq.iter().map(String::as_str).collect();
        let space: Vec<&str> = values.iter().flat_map(|(f, v)| [*f, *v]).collect();
        for list in [eq, space] {
            let c = cli(&list);
            assert_eq!(c.action, CliAction::Run);
            assert_eq!(c.domain.as_deref(), Some("example.com"));
            assert_eq!(c.host.as_deref(), Some("xmpp.example.com"));
            assert_eq!(c.port, Some(5348));
            assert_eq!(c.subdomain.as_deref(), Some("focus2"));
            assert_eq!(c.secret.as_ref().map(Secret::expose), Some("s3cr3t"));
            assert_eq!(c.user_domain.as_deref(), Some("auth.example.com"));
            assert_eq!(c.user_name.as_deref(), Some("jicofo"));
            assert_eq!(c.user_password.as_ref().map(Secret::expose), Some("pw"));
            assert_eq!(c.client_port, Some(5223));
            assert_eq!(c.ca_file, Some(PathBuf::from("/etc/ca.pem")));
            assert_eq!(c.config, Some(PathBuf::from("/tmp/x.properties")));
        }
    }

    #[test]
    fn defaults() {
        let c = build(&[], None).unwrap();
        assert_eq!(c.host, "localhost");
        assert_eq!(c.domain, "localhost");
        assert_eq!(c.component_port, 5347);
        assert_eq!(c.subdomain, "focus");
        assert_eq!(c.user_name, "focus");
        assert!(c.user_password.is_none());
        assert_eq!(c.client_port, 5222);
        assert_eq!(c.ca_file, None);
        assert_eq!(c.properties_path, None);
        assert_eq!(c.ping_interval, Some(Duration::from_secs(10)));
        assert_eq!(c.ping_timeout, Duration::from_secs(5));
        assert_eq!(c.ping_threshold, 3);
        assert!(!c.always_trust);
        assert!(c.use_tls);
        assert_eq!(c.reply_timeout, Duration::from_secs(15));
        assert_eq!(c.max_stanza_size, 262_144);
        assert_eq!(c.client_resource, None);
        assert_eq!(c.component_jid(), "focus.localhost");
        assert_eq!(c.focus_bare_jid(), "focus@auth.example.com");
    }

    #[test]
    fn host_and_domain_default_to_each_other() {
        let c = build(&["--domain=meet.example.com"], None).unwrap();
        assert_eq!(
            (c.host.as_str(), c.domain.as_str()),
            ("meet.example.com", "meet.example.com")
        );
        let c = build(&["--host", "10.0.0.5"], None).unwrap();
        assert_eq!(
            (c.host.as_str(), c.domain.as_str()),
            ("10.0.0.5", "10.0.0.5")
        );
        let c = build(&["--host=xmpp.lan", "--domain=meet.example.com"], None).unwrap();
        assert_eq!(
            (c.host.as_str(), c.domain.as_str()),
            ("xmpp.lan", "meet.example.com")
        );
        assert_eq!(c.component_jid(), "focus.meet.example.com");
    }

    #[test]
    fn missing_secret_and_user_domain() {
        let err = Config::build(cli(&["--user_domain=auth.x"]), None).unwrap_err();
        assert_eq!(err, ConfigError::MissingSecret);
        assert!(err.to_string().starts_with("--secret is required"));
        assert!(err.to_string().contains("component_secret"));
        let err = Config::build(cli(&["--secret=x"]), None).unwrap_err();
        assert_eq!(err, ConfigError::MissingUserDomain);
        assert!(err.to_string().contains("auth.meet.example.com"));
        // An empty value counts as absent.
        let err = Config::build(cli(&["--secret=", "--user_domain=a"]), None).unwrap_err();
        assert_eq!(err, ConfigError::MissingSecret);
    }

    #[test]
    fn empty_password_means_anonymous_and_last_flag_wins() {
        let c = build(&["--user_password="], None).unwrap();
        assert!(c.user_password.is_none());
        let c = build(&["--port=1", "--port", "2"], None).unwrap();
        assert_eq!(c.component_port, 2);
        let c = build(&["--port", "1", "--port=3"], None).unwrap();
        assert_eq!(c.component_port, 3);
        // A later empty value clears an earlier one, as in the Java loop.
        let c = build(&["--user_password=pw", "--user_password="], None).unwrap();
        assert!(c.user_password.is_none());
    }

    #[test]
    fn bad_ports() {
        for bad in ["abc", "0", "65536", "-5", "80x"] {
            let err = CliArgs::parse(args(&[&format!("--port={bad}")])).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("--port: '{bad}' is not a port number (1-65535)")
            );
        }
        let err = CliArgs::parse(args(&["--client_port", "99999"])).unwrap_err();
        assert!(err.to_string().starts_with("--client_port: '99999'"));
        let err = build(&[], Some("org.jitsi.jicofo.XMPP_PORT=none")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("org.jitsi.jicofo.XMPP_PORT: 'none'"),
            "{err}"
        );
    }

    #[test]
    fn unknown_flags_and_positionals() {
        let err = CliArgs::parse(args(&["--secrte=abc"])).unwrap_err();
        assert_eq!(
            err,
            ConfigError::UnknownFlag {
                flag: "--secrte".into()
            }
        );
        assert!(!err.to_string().contains("abc"));
        let err = CliArgs::parse(args(&["--secret=a", "stray"])).unwrap_err();
        assert_eq!(err, ConfigError::UnexpectedArgument { position: 2 });
        assert!(!err.to_string().contains("stray"));
        assert!(CliArgs::parse(args(&["-x"])).is_err());
        assert!(CliArgs::parse(args(&["--"])).is_err());
    }

    #[test]
    fn missing_values() {
        let err = CliArgs::parse(args(&["--port"])).unwrap_err();
        assert_eq!(err, ConfigError::MissingValue { flag: "--port" });
        let err = CliArgs::parse(args(&["--domain", "--secret=x"])).unwrap_err();
        assert_eq!(err, ConfigError::MissingValue { flag: "--domain" });
        // The `=` form takes values that start with '-'.
        let c = cli(&["--user_password=-Dnot-a-property"]);
        assert_eq!(c.user_password.unwrap().expose(), "-Dnot-a-property");
        assert!(c.defines.is_empty());
    }

    #[test]
    fn help_and_version() {
        assert_eq!(cli(&["--help"]).action, CliAction::PrintHelp);
        assert_eq!(cli(&["-h"]).action, CliAction::PrintHelp);
        assert_eq!(cli(&["--version"]).action, CliAction::PrintVersion);
        // Help wins over other problems on the same line.
        assert_eq!(
            cli(&["--bogus", "--port=x", "-h"]).action,
            CliAction::PrintHelp
        );
        assert!(version_text().contains(VERSION));
    }

    #[test]
    fn help_text_names_every_flag() {
        let help = help_text();
        for flag in VALUE_FLAGS.iter().chain(&["-h", "--help", "--version"]) {
            assert!(help.contains(flag), "help lacks {flag}");
        }
        assert!(help.contains("-Dkey=value"));
        assert!(help.contains(DEFAULT_PROPERTIES_PATH));
        assert!(help.contains("5347") && help.contains("5222"));
    }

    #[test]
    fn defines_repeat_and_override_the_file() {
        let file = "org.jitsi.jicofo.PING_INTERVAL=1000\nkeep=file\n";
        let c = build(
            &[
                "-Dorg.jitsi.jicofo.PING_INTERVAL=2000",
                "-Dorg.jitsi.jicofo.PING_INTERVAL=3000",
                "-Dflag",
                "-Dorg.jitsi.jicofo.auth.URL=XMPP:a=b",
            ],
            Some(file),
        )
        .unwrap();
        assert_eq!(c.ping_interval, Some(Duration::from_millis(3000)));
        assert_eq!(c.props().raw("keep"), Some("file"));
        assert_eq!(c.props().raw("flag"), Some(""));
        assert_eq!(c.props().raw("org.jitsi.jicofo.auth.URL"), Some("XMPP:a=b"));
        assert_eq!(
            c.properties_path.as_deref(),
            Some(Path::new(DEFAULT_PROPERTIES_PATH))
        );
        assert_eq!(
            CliArgs::parse(args(&["-D"])).unwrap_err(),
            ConfigError::BadDefine
        );
        assert_eq!(
            CliArgs::parse(args(&["-D=x"])).unwrap_err(),
            ConfigError::BadDefine
        );
    }

    #[test]
    fn properties_feed_typed_fields() {
        let file = "\
org.jitsi.jicofo.FOCUS_USER_PASSWORD=filepw
org.jitsi.jicofo.XMPP_PORT=5223
org.jitsi.jicofo.PING_INTERVAL=0
org.jitsi.jicofo.PING_TIMEOUT=2 s
org.jitsi.jicofo.PING_THRESHOLD=5
jicofo.xmpp.client.disable-certificate-verification=true
jicofo.xmpp.client.use-tls=false
jicofo.xmpp.client.reply-timeout=30 seconds
jicofo.xmpp.max-stanza-size=65536
jicofo.xmpp.client.resource=focus-a
";
        let c = build(&[], Some(file)).unwrap();
        assert_eq!(c.user_password.as_ref().map(Secret::expose), Some("filepw"));
        assert_eq!(c.client_port, 5223);
        assert_eq!(c.ping_interval, None);
        assert_eq!(c.ping_timeout, Duration::from_secs(2));
        assert_eq!(c.ping_threshold, 5);
        assert!(c.always_trust);
        assert!(!c.use_tls);
        assert_eq!(c.reply_timeout, Duration::from_secs(30));
        assert_eq!(c.max_stanza_size, 65_536);
        assert_eq!(c.client_resource.as_deref(), Some("focus-a"));
        // Flags win over properties.
        let c = build(
            &["--user_password=flagpw", "--client_port=6000"],
            Some(file),
        )
        .unwrap();
        assert_eq!(c.user_password.as_ref().map(Secret::expose), Some("flagpw"));
        assert_eq!(c.client_port, 6000);
    }

    #[test]
    fn property_range_errors() {
        let cases = [
            (
                "org.jitsi.jicofo.PING_THRESHOLD=0",
                "org.jitsi.jicofo.PING_THRESHOLD: '0'",
            ),
            (
                "jicofo.xmpp.max-stanza-size=100",
                "jicofo.xmpp.max-stanza-size: '100'",
            ),
            (
                "org.jitsi.jicofo.PING_TIMEOUT=0",
                "org.jitsi.jicofo.PING_TIMEOUT: '0'",
            ),
            (
                "org.jitsi.jicofo.ALWAYS_TRUST_MODE_ENABLED=yes",
                "ALWAYS_TRUST_MODE_ENABLED: 'yes'",
            ),
            (
                "jicofo.xmpp.client.reply-timeout=-1 s",
                "reply-timeout: '-1 s'",
            ),
        ];
        for (file, start) in cases {
            let err = build(&[], Some(file)).unwrap_err();
            assert!(err.to_string().contains(start), "{file}: {err}");
        }
        let err = build(&[], Some("a=\\uZZZZ")).unwrap_err();
        assert!(
            err.to_string().starts_with(DEFAULT_PROPERTIES_PATH),
            "{err}"
        );
    }

    #[test]
    fn name_validation() {
        let cases: [&[&str]; 6] = [
            &["--domain=meet example.com"],
            &["--host=a@b"],
            &["--subdomain=fo/cus"],
            &["--user_name=fo:cus"],
            &["--user_name=a b"],
            &["--domain=x\u{7}"],
        ];
        for extra in cases {
            let err = build(extra, None).unwrap_err();
            assert!(
                matches!(err, ConfigError::BadValue { .. }),
                "{extra:?}: {err:?}"
            );
        }
        let err = Config::build(cli(&["--secret=x", "--user_domain=a b"]), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--user_domain: 'a b' is not a domain name (no spaces, '@' or '/')"
        );
        // IPv6 literals keep working for --host.
        assert_eq!(build(&["--host=::1"], None).unwrap().host, "::1");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = build(
            &[
                "--user_password=pa55word",
                "-Djicofo.xmpp.client.password=other-pw",
            ],
            Some("org.jitsi.jicofo.FOCUS_USER_PASSWORD=file-pw\n"),
        )
        .unwrap();
        let text = format!("{c:?}");
        for secret in ["s3cr3t", "pa55word", "other-pw", "file-pw"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert!(text.contains("***"));
        assert_eq!(c.secret.to_string(), "***");
        assert_eq!(c.secret.expose(), "s3cr3t");
        let args = format!("{:?}", cli(&["--secret=s3cr3t", "-Dx.password=dpw"]));
        assert!(!args.contains("s3cr3t") && !args.contains("dpw"), "{args}");
    }

    #[test]
    fn not_utf8_argument() {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let bad = OsString::from_vec(vec![b'-', b'-', b'x', 0xff]);
            let err = CliArgs::parse(vec![OsString::from("--secret=a"), bad]).unwrap_err();
            assert_eq!(err, ConfigError::NotUtf8 { position: 2 });
        }
    }
}
