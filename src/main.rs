//! `jicofo`: arguments and configuration in, logging up, the core built and
//! handed to the shell. Nothing else lives here.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use jicofo::config::{self, CliAction, CliArgs, Config};
use jicofo::conn::client::ClientOptions;
use jicofo::conn::component::ComponentOptions;
use jicofo::conn::keepalive::KeepAliveConfig;
use jicofo::core::{Core, CoreConfig};
use jicofo::focus::FocusConfig;

fn main() -> ExitCode {
    let code = run();
    ExitCode::from(code.clamp(0, 255) as u8)
}

fn run() -> i32 {
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
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();

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
        focus: FocusConfig {
            component_jid: cfg.component_jid(),
            domain: cfg.domain.clone(),
        },
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
    let core = Core::new(Instant::now(), core_cfg, seed);
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

/// Placeholder TLS settings until the client stream lands: no trusted roots.
fn tls_config(_cfg: &Config) -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}
