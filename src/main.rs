//! `jicofo`: arguments and configuration in, logging up, the core built and
//! handed to the shell. Nothing else lives here.

#![forbid(unsafe_code)]

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use jicofo::config::{self, CliAction, CliArgs, Config};
use jicofo::conn::client::ClientOptions;
use jicofo::conn::component::ComponentOptions;
use jicofo::conn::keepalive::KeepAliveConfig;
use jicofo::conn::tls::{self, RootChoice};
use jicofo::core::{Core, CoreConfig};
use jicofo::focus::{AuthConfig, FocusConfig, MediaConfig};

fn main() -> ExitCode {
    // Start-up time is reported against this instant (the core logs how long
    // after it each stream came up).
    let started = Instant::now();
    let code = run(started);
    ExitCode::from(code.clamp(0, 255) as u8)
}

fn run(started: Instant) -> i32 {
    let cli = match CliArgs::parse(std::env::args_os().skip(1).collect()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("jicofo: {e} (see --help)");
            return 2;
        }
    };
    match cli.action {
        CliAction::PrintHelp => {
            print!("{}", config::help_text());
            return 0;
        }
        CliAction::PrintVersion => {
            println!("{}", config::version_text());
            return 0;
        }
        CliAction::Run => {}
    }
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_timestamp_millis()
        .init();

    let path = cli.config.clone().or_else(|| {
        let p = Path::new(config::DEFAULT_PROPERTIES_PATH);
        p.exists().then(|| p.to_path_buf())
    });
    let text = match &path {
        Some(p) => match std::fs::read(p) {
            // Java reads .properties as ISO-8859-1: fall back to it for non-UTF-8 files.
            Ok(bytes) => Some(
                String::from_utf8(bytes)
                    .unwrap_or_else(|e| e.into_bytes().iter().map(|&b| b as char).collect()),
            ),
            Err(e) => {
                eprintln!(
                    "jicofo: cannot read the properties file {}: {e}",
                    p.display()
                );
                return 2;
            }
        },
        None => None,
    };
    let cfg = match Config::build(cli, path.as_deref().zip(text.as_deref())) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("jicofo: {e}");
            return 2;
        }
    };
    for key in cfg.props().unknown_keys() {
        log::debug!("property {key} is not used by jicofo-rs");
    }
    let tls = match tls_config(&cfg) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("jicofo: {e}");
            return 2;
        }
    };
    let mut seed = [0u8; 32];
    if let Err(e) = getrandom::fill(&mut seed) {
        eprintln!("jicofo: the operating system gave no random numbers: {e}");
        return 1;
    }
    let (focus_cfg, auth, media) = match (
        FocusConfig::from_config(&cfg),
        AuthConfig::from_props(cfg.props()),
        MediaConfig::from_config(&cfg),
    ) {
        (Ok(f), Ok(a), Ok(m)) => (f, a, m),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            eprintln!("jicofo: {e}");
            return 2;
        }
    };
    let keepalive = KeepAliveConfig {
        interval: cfg.ping_interval,
        timeout: cfg.ping_timeout,
        threshold: cfg.ping_threshold,
    };
    let core_cfg = CoreConfig {
        component: ComponentOptions {
            jid: cfg.component_jid(),
            server_domain: cfg.domain.clone(),
            secret: cfg.secret.clone(),
            max_stanza: cfg.max_stanza_size,
            keepalive,
        },
        client: ClientOptions {
            domain: cfg.user_domain.clone(),
            username: cfg.user_name.clone(),
            password: cfg.user_password.clone(),
            resource: cfg.client_resource.clone(),
            tls,
            allow_plaintext: !cfg.use_tls,
            max_stanza: cfg.max_stanza_size,
            keepalive,
        },
        focus: focus_cfg,
        auth,
        media,
        addresses: [
            format!("{}:{}", cfg.host, cfg.component_port),
            format!("{}:{}", cfg.host, cfg.client_port),
        ],
    };
    log::info!(
        "jicofo-rs {} starting: component {} and client {} on {}",
        config::VERSION,
        cfg.component_jid(),
        cfg.focus_bare_jid(),
        cfg.host
    );
    let core = Core::new(started, core_cfg, seed);
    let targets = [
        (cfg.host.clone(), cfg.component_port),
        (cfg.host.clone(), cfg.client_port),
    ];
    match jicofo::shell::run(core, targets) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("jicofo: the event loop failed: {e}");
            1
        }
    }
}

/// TLS settings of the client stream: `--ca_file`, else the system roots;
/// the seed-era always-trust property turns verification off, loudly.
fn tls_config(cfg: &Config) -> Result<Arc<rustls::ClientConfig>, String> {
    let roots = if cfg.always_trust {
        log::warn!(
            "org.jitsi.jicofo.ALWAYS_TRUST_MODE_ENABLED=true: the XMPP server's certificate is NOT verified; \
             anyone on the path to {} can read and change the focus's traffic",
            cfg.host
        );
        RootChoice::TrustAnything
    } else if let Some(path) = &cfg.ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| format!("cannot read --ca_file {}: {e}", path.display()))?;
        RootChoice::CaPem(pem)
    } else {
        let (roots, errors) = tls::load_system_roots();
        for e in errors {
            log::debug!("system certificate store: {e}");
        }
        RootChoice::System(roots)
    };
    tls::client_config(roots).map_err(|e| match &cfg.ca_file {
        Some(p) => format!("--ca_file {}: {e}", p.display()),
        None => e,
    })
}
