//! TLS settings of the client (c2s) connection: which server certificates
//! the focus trusts, as one shared `rustls::ClientConfig`.
//!
//! The config is built once by the shell at start-up and handed to every
//! [`super::client::ClientConn`] through `ClientOptions::tls`; the machine
//! then runs rustls inside itself (ciphertext in, plaintext out).
//!
//! Three ways to trust a server, mirroring Jicofo's options:
//!
//! * [`RootChoice::CaPem`] holds the CAs of `--ca_file` (the caller reads
//!   the file);
//! * [`RootChoice::System`] is the operating system's store, loaded by the
//!   shell with [`load_system_roots`], the only function here that does I/O;
//! * [`RootChoice::TrustAnything`] is `org.jitsi.jicofo.ALWAYS_TRUST_MODE_ENABLED`.
//!   Any certificate is accepted, but the handshake signatures are still
//!   checked, so the peer must at least hold the key of the certificate it
//!   shows. The caller logs the warning: this is insecure.
//!
//! Everything uses rustls' `ring` provider (no C toolchain beyond ring's own,
//! static builds stay simple) and its safe default protocol versions.
//!
//! Clock: rustls checks certificate validity periods against the system clock
//! (`SystemTime::now()` through the config's default time provider). That is
//! the one clock read the TLS layer makes; it is configured here, by the
//! shell, and not by the sans-IO machine, whose own timers only use the `now`
//! it is given.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

/// Which server certificates the client connection accepts.
#[derive(Clone)]
pub enum RootChoice {
    /// The certificates of a PEM file (`--ca_file`), as the file's bytes.
    CaPem(Vec<u8>),
    /// The system's trust store, as loaded by [`load_system_roots`].
    System(Vec<CertificateDer<'static>>),
    /// Accept any certificate (insecure; handshake signatures are still
    /// verified). The caller must log a warning.
    TrustAnything,
}

impl std::fmt::Debug for RootChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Certificates are public, but thousands of DER bytes help nobody.
        match self {
            RootChoice::CaPem(pem) => write!(f, "CaPem({} bytes)", pem.len()),
            RootChoice::System(certs) => write!(f, "System({} certificates)", certs.len()),
            RootChoice::TrustAnything => f.write_str("TrustAnything"),
        }
    }
}

/// The crypto provider every TLS object of the focus uses.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the client TLS config. The `Err` text names what is wrong with the
/// given roots (for example a `--ca_file` that holds no certificate).
pub fn client_config(roots: RootChoice) -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    let config = match roots {
        RootChoice::CaPem(pem) => {
            let store = roots_from_pem(&pem)?;
            builder.with_root_certificates(store).with_no_client_auth()
        }
        RootChoice::System(certs) => {
            let total = certs.len();
            let mut store = RootCertStore::empty();
            let (added, ignored) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!(
                    "none of the {total} system CA certificates is usable ({ignored} could not be \
                     parsed): install the ca-certificates package, or pass --ca_file=<CA that \
                     signed the XMPP server's certificate>"
                ));
            }
            if ignored > 0 {
                log::debug!("ignored {ignored} unparsable system CA certificates");
            }
            builder.with_root_certificates(store).with_no_client_auth()
        }
        RootChoice::TrustAnything => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(TrustAnything {
                algorithms: provider.signature_verification_algorithms,
            }))
            .with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// Parses every certificate of a PEM file into a root store.
fn roots_from_pem(pem: &[u8]) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    for (i, cert) in CertificateDer::pem_slice_iter(pem).enumerate() {
        let cert = cert.map_err(|e| format!("the CA file is not valid PEM: {e}"))?;
        store.add(cert).map_err(|e| {
            format!(
                "certificate {} of the CA file cannot be used as a trust anchor: {e}",
                i + 1
            )
        })?;
    }
    if store.is_empty() {
        return Err(
            "the CA file holds no certificate (no -----BEGIN CERTIFICATE----- block): \
             give --ca_file the PEM file of the CA that signed the XMPP server's certificate"
                .into(),
        );
    }
    Ok(store)
}

/// Loads the operating system's CA certificates.
///
/// This is the one function of this module that does I/O (it reads the
/// system's certificate files); only the shell calls it. The second value
/// holds one text per problem met, for the caller to log.
pub fn load_system_roots() -> (Vec<CertificateDer<'static>>, Vec<String>) {
    let result = rustls_native_certs::load_native_certs();
    let errors = result.errors.iter().map(|e| e.to_string()).collect();
    (result.certs, errors)
}

/// Accepts every server certificate but still verifies that the handshake
/// was signed with the key of the certificate shown, using the provider's
/// algorithms: without that, a broken handshake would go unnoticed too.
#[derive(Debug)]
struct TrustAnything {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for TrustAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
pub(crate) mod test_pki {
    //! A throwaway CA and server certificates for TLS tests.

    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair, KeyUsagePurpose,
    };
    use rustls::crypto::CryptoProvider;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use rustls::server::{ClientHello, ResolvesServerCert};
    use rustls::sign::CertifiedKey;
    use std::sync::Arc;

    /// A test CA that signs server certificates.
    pub struct TestCa {
        issuer: CertifiedIssuer<'static, KeyPair>,
    }

    impl TestCa {
        /// A new CA named `name`.
        pub fn new(name: &str) -> TestCa {
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.distinguished_name.push(DnType::CommonName, name);
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            let key = KeyPair::generate().unwrap();
            TestCa {
                issuer: CertifiedIssuer::self_signed(params, key).unwrap(),
            }
        }

        /// The CA certificate as PEM, what `--ca_file` holds.
        pub fn pem(&self) -> Vec<u8> {
            self.issuer.pem().into_bytes()
        }

        /// The CA certificate as DER.
        pub fn der(&self) -> CertificateDer<'static> {
            self.issuer.der().clone()
        }

        /// A rustls server config with a certificate for `names` signed by this CA.
        pub fn server_config(&self, names: &[&str]) -> Arc<rustls::ServerConfig> {
            self.server_config_with(rustls::crypto::ring::default_provider(), names)
        }

        /// Like [`TestCa::server_config`], with the given crypto provider.
        pub fn server_config_with(
            &self,
            provider: CryptoProvider,
            names: &[&str],
        ) -> Arc<rustls::ServerConfig> {
            let (cert, key) = self.issue(names);
            server_config_for(provider, cert, key)
        }

        /// Like [`TestCa::server_config`], but the server signs its handshake
        /// with a key that does not belong to its certificate: what a peer
        /// that copied someone else's certificate would do.
        pub fn server_config_with_wrong_key(&self, names: &[&str]) -> Arc<rustls::ServerConfig> {
            let (cert, _) = self.issue(names);
            let (_, other_key) = self.issue(names);
            server_config_for(rustls::crypto::ring::default_provider(), cert, other_key)
        }

        fn issue(&self, names: &[&str]) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
            let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            let mut params = CertificateParams::new(names).unwrap();
            params.distinguished_name.push(DnType::CommonName, "xmpp");
            params.is_ca = IsCa::ExplicitNoCa;
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            let key = KeyPair::generate().unwrap();
            let cert = params.signed_by(&key, &self.issuer).unwrap();
            let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
            (cert.der().clone(), key_der)
        }
    }

    /// Serves one certificate with one key, without checking that they match.
    #[derive(Debug)]
    struct FixedCert(Arc<CertifiedKey>);

    impl ResolvesServerCert for FixedCert {
        fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
            Some(self.0.clone())
        }
    }

    fn server_config_for(
        provider: CryptoProvider,
        cert: CertificateDer<'static>,
        key: PrivateKeyDer<'static>,
    ) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(provider);
        let signing_key = provider.key_provider.load_private_key(key).unwrap();
        let certified = Arc::new(CertifiedKey::new(vec![cert], signing_key));
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(FixedCert(certified)));
        Arc::new(config)
    }
}

#[cfg(test)]
mod tests {
    use super::test_pki::TestCa;
    use super::*;

    /// Runs a full handshake in memory; returns the client's error, if any.
    fn handshake(
        client: Arc<rustls::ClientConfig>,
        server: Arc<rustls::ServerConfig>,
        name: &str,
    ) -> Result<(), rustls::Error> {
        let name = ServerName::try_from(name.to_string()).unwrap();
        let mut c = rustls::ClientConnection::new(client, name).unwrap();
        let mut s = rustls::ServerConnection::new(server).unwrap();
        for _ in 0..20 {
            let mut buf = Vec::new();
            while c.wants_write() {
                c.write_tls(&mut buf).unwrap();
            }
            let mut rd = &buf[..];
            while !rd.is_empty() {
                s.read_tls(&mut rd).unwrap();
            }
            // A server-side failure shows up as an alert the client reports.
            let _ = s.process_new_packets();
            let mut buf = Vec::new();
            while s.wants_write() {
                s.write_tls(&mut buf).unwrap();
            }
            let mut rd = &buf[..];
            while !rd.is_empty() {
                c.read_tls(&mut rd).unwrap();
            }
            c.process_new_packets()?;
            if !c.is_handshaking() && !s.is_handshaking() {
                return Ok(());
            }
        }
        panic!("handshake did not finish");
    }

    #[test]
    fn ca_file_trusts_its_servers_only() {
        let ca = TestCa::new("test CA");
        let other = TestCa::new("other CA");
        let server = ca.server_config(&["auth.meet.test"]);
        let trusting = client_config(RootChoice::CaPem(ca.pem())).unwrap();
        handshake(trusting.clone(), server.clone(), "auth.meet.test").unwrap();
        let err = handshake(trusting, server.clone(), "other.test").unwrap_err();
        assert!(matches!(err, rustls::Error::InvalidCertificate(_)), "{err}");
        let stranger = client_config(RootChoice::CaPem(other.pem())).unwrap();
        let err = handshake(stranger, server, "auth.meet.test").unwrap_err();
        assert!(matches!(err, rustls::Error::InvalidCertificate(_)), "{err}");
    }

    #[test]
    fn a_pem_without_certificates_is_refused_by_name() {
        let err = client_config(RootChoice::CaPem(b"just some text\n".to_vec())).unwrap_err();
        assert!(err.contains("holds no certificate"), "{err}");
        let key_only = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let err = client_config(RootChoice::CaPem(key_only.to_vec())).unwrap_err();
        assert!(err.contains("holds no certificate"), "{err}");
        let broken = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        let err = client_config(RootChoice::CaPem(broken.to_vec())).unwrap_err();
        assert!(err.contains("not valid PEM"), "{err}");
        let junk = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let err = client_config(RootChoice::CaPem(junk.to_vec())).unwrap_err();
        assert!(err.contains("certificate 1"), "{err}");
    }

    #[test]
    fn system_roots_need_one_usable_certificate() {
        let err = client_config(RootChoice::System(Vec::new())).unwrap_err();
        assert!(err.contains("--ca_file"), "{err}");
        let ca = TestCa::new("system CA");
        let server = ca.server_config(&["auth.meet.test"]);
        let junk = CertificateDer::from(vec![1, 2, 3]);
        let config = client_config(RootChoice::System(vec![junk, ca.der()])).unwrap();
        handshake(config, server, "auth.meet.test").unwrap();
    }

    #[test]
    fn trust_anything_accepts_any_certificate_but_still_checks_signatures() {
        let server = TestCa::new("unknown CA").server_config(&["elsewhere.test"]);
        let config = client_config(RootChoice::TrustAnything).unwrap();
        handshake(config, server, "auth.meet.test").unwrap();
        // The handshake signature is still checked: a server that shows a
        // certificate without holding its key is refused.
        let forger = TestCa::new("unknown CA").server_config_with_wrong_key(&["auth.meet.test"]);
        let config = client_config(RootChoice::TrustAnything).unwrap();
        let err = handshake(config, forger, "auth.meet.test").unwrap_err();
        assert_eq!(
            err,
            rustls::Error::InvalidCertificate(rustls::CertificateError::BadSignature)
        );
    }

    #[test]
    fn debug_does_not_dump_certificates() {
        let dbg = format!("{:?}", RootChoice::CaPem(vec![0; 1000]));
        assert_eq!(dbg, "CaPem(1000 bytes)");
    }
}
