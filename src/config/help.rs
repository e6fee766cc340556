//! The `--help` and `--version` texts. Kept apart from the parser so that the
//! prose can grow without crowding the code; the parser's tests check that
//! every flag it accepts is named here.

use super::{DEFAULT_PROPERTIES_PATH, VERSION};

/// `jicofo-rs <version>`, for `--version`.
pub fn version_text() -> String {
    format!("jicofo-rs {VERSION}")
}

/// The `--help` text: every flag with its default and meaning.
pub fn help_text() -> String {
    format!(
        "\
jicofo-rs {VERSION}: the Jitsi Meet conference focus, a drop-in for Jicofo.

Usage: jicofo --domain=DOMAIN --secret=SECRET --user_domain=DOMAIN [flags] [-Dkey=value ...]

Flags take their value as --flag=value or --flag value. If a flag is given
twice the last one counts; an empty value (--flag=) counts as not given.

XMPP component (the focus, reached by clients at SUBDOMAIN.DOMAIN):
  --domain=DOMAIN       XMPP domain; also where bridges are discovered
                        (default: --host, else localhost)
  --host=HOST           XMPP server host for both connections
                        (default: --domain, else localhost)
  --port=PORT           component port (default: 5347)
  --subdomain=SUB       component sub-domain (default: focus)
  --secret=SECRET       required: the component secret, `component_secret` of
                        the focus Component in the XMPP server's config

Focus user (XMPP client; joins the conference rooms):
  --user_domain=DOMAIN  required: the domain the focus user logs into,
                        e.g. auth.meet.example.com
  --user_name=NAME      login name and room nickname (default: focus)
  --user_password=PW    password (default: property
                        org.jitsi.jicofo.FOCUS_USER_PASSWORD, else anonymous login)
  --client_port=PORT    client port (default: property org.jitsi.jicofo.XMPP_PORT,
                        else 5222)
  --ca_file=PATH        PEM file of CA certificates to trust for the client
                        connection's TLS (default: the system's roots)

Properties:
  --config=PATH         properties file in Java .properties syntax
                        (default: {DEFAULT_PROPERTIES_PATH}, if it exists)
  -Dkey=value           set a property; overrides the file, a later -D wins.
                        No space after -D, e.g. -Dorg.jitsi.jicofo.PING_INTERVAL=10000

  -h, --help            print this help and exit
  --version             print the version and exit
"
    )
}
