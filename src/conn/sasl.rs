//! SASL client mechanisms for the focus's XMPP client connection.
//!
//! This module owns mechanism selection and the client side of one
//! authentication exchange (SCRAM-SHA-256, SCRAM-SHA-1, PLAIN, ANONYMOUS).
//! It is pure: it never touches the clock, sockets or randomness (the SCRAM
//! client nonce comes from the caller), and it deals in raw bytes — base64
//! framing of `<auth/>`, `<challenge/>`, `<response/>` and `<success/>`
//! payloads belongs to the stream layer. Note for that layer: an empty
//! initial response (ANONYMOUS) must go on the wire as `=` (RFC 6120 §6.4.2).
//!
//! Channel binding is not supported: `-PLUS` mechanisms are never chosen and
//! the SCRAM GS2 header is always `n,,`.

use std::fmt;
use std::str::Split;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{EagerHash, Hmac, KeyInit, Mac};
use sha1::{Digest, Sha1};
use sha2::Sha256;

/// Upper bound on the SCRAM iteration count a server may ask for.
///
/// PBKDF2 runs inline on the single event-loop thread, so a hostile or
/// misconfigured server could otherwise stall the whole focus. Ten million
/// rounds is about a second of CPU in a release build (~0.12 s per million
/// measured) — far above any sane deployment (Prosody uses 10 000).
pub const MAX_ITERATIONS: u32 = 10_000_000;

/// Fixed GS2 header: we neither bind channels (`n`) nor send an authzid.
const GS2_HEADER: &str = "n,,";
/// base64 of [`GS2_HEADER`], echoed as `c=` in client-final.
const CHANNEL_BINDING: &str = "biws";

/// A SASL mechanism this client can perform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// SCRAM-SHA-256 (RFC 7677), without channel binding.
    ScramSha256,
    /// SCRAM-SHA-1 (RFC 5802), without channel binding.
    ScramSha1,
    /// PLAIN (RFC 4616); only safe over an encrypted stream.
    Plain,
    /// ANONYMOUS (RFC 4505), sent with empty trace data.
    Anonymous,
}

impl Mechanism {
    /// The mechanism's name as it appears in `<mechanism/>` and `<auth mechanism=…/>`.
    pub fn name(&self) -> &'static str {
        match self {
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha1 => "SCRAM-SHA-1",
            Mechanism::Plain => "PLAIN",
            Mechanism::Anonymous => "ANONYMOUS",
        }
    }
}

/// Picks the strongest offered mechanism we can use, PLAIN included.
///
/// With a password: SCRAM-SHA-256, then SCRAM-SHA-1, then PLAIN — never
/// ANONYMOUS, since a configured account must not silently degrade to a guest
/// login. Without a password: only ANONYMOUS. Whether PLAIN is acceptable on
/// the current stream (it is not on an unencrypted one) is the caller's
/// decision; use [`choose_mechanism_excluding_plain`] when it is not.
pub fn choose_mechanism(offered: &[&str], have_password: bool) -> Option<Mechanism> {
    choose(offered, have_password, true)
}

/// Like [`choose_mechanism`], but never picks PLAIN (for unencrypted streams).
pub fn choose_mechanism_excluding_plain(
    offered: &[&str],
    have_password: bool,
) -> Option<Mechanism> {
    choose(offered, have_password, false)
}

fn choose(offered: &[&str], have_password: bool, allow_plain: bool) -> Option<Mechanism> {
    use Mechanism::*;
    let usable = |m: &Mechanism| match m {
        ScramSha256 | ScramSha1 => have_password,
        Plain => have_password && allow_plain,
        Anonymous => !have_password,
    };
    // Exact match: RFC 4422 §3.1 names are upper-case, and `-PLUS` never equals ours.
    [ScramSha256, ScramSha1, Plain, Anonymous]
        .into_iter()
        .filter(usable)
        .find(|m| offered.iter().any(|o| o.trim() == m.name()))
}

/// Why an authentication exchange could not proceed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaslError {
    /// The mechanism needs a password and none was given.
    PasswordRequired,
    /// Caller-supplied input cannot be encoded (e.g. NUL in a PLAIN credential,
    /// or a SCRAM client nonce with non-printable characters or commas).
    InvalidInput(&'static str),
    /// A server message did not follow the mechanism's grammar.
    MalformedServerMessage(&'static str),
    /// The server's SCRAM nonce does not extend the client nonce.
    NonceMismatch,
    /// The server asked for an iteration count outside `1..=MAX_ITERATIONS`.
    BadIterationCount(u64),
    /// The server sent a mandatory SCRAM extension (`m=`) we cannot honour.
    MandatoryExtension,
    /// The server's SCRAM signature does not match: it does not know the
    /// password, so the peer is not the server we meant to talk to.
    ServerSignatureMismatch,
    /// The server reported success without ever proving itself (`v=`).
    ServerSignatureMissing,
    /// The server ended the SCRAM exchange with `e=`; holds its message.
    ServerError(String),
    /// A step (`step`: "challenge" or "success") arrived that the exchange
    /// does not expect in its current state (`state`); also returned for every
    /// step after the exchange has failed.
    UnexpectedStep {
        /// Which call was made.
        step: &'static str,
        /// Where the exchange stood.
        state: &'static str,
    },
}

impl fmt::Display for SaslError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaslError::PasswordRequired => f.write_str("mechanism requires a password"),
            SaslError::InvalidInput(why) => write!(f, "invalid SASL input: {why}"),
            SaslError::MalformedServerMessage(why) => write!(f, "malformed server message: {why}"),
            SaslError::NonceMismatch => f.write_str("server nonce does not extend client nonce"),
            SaslError::BadIterationCount(n) => write!(f, "iteration count {n} out of range"),
            SaslError::MandatoryExtension => f.write_str("unsupported mandatory SCRAM extension"),
            SaslError::ServerSignatureMismatch => f.write_str("server signature mismatch"),
            SaslError::ServerSignatureMissing => f.write_str("server did not send its signature"),
            SaslError::ServerError(msg) => write!(f, "server SCRAM error: {msg}"),
            SaslError::UnexpectedStep { step, state } => write!(f, "unexpected {step} in {state}"),
        }
    }
}

impl std::error::Error for SaslError {}

/// [`scram_proof`] for one hash function, chosen when the exchange starts.
type ProofFn = fn(&[u8], &[u8], u32, &[u8]) -> (Vec<u8>, Vec<u8>);

/// RFC 5802 §3 key derivation: returns (ClientProof, ServerSignature).
fn scram_proof<D: EagerHash>(pass: &[u8], salt: &[u8], i: u32, auth: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let hmac = |key: &[u8], data: &[u8]| {
        // HMAC hashes over-long keys and pads short ones, so every length is valid.
        let mut mac = <Hmac<D> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    };
    let mut salted = vec![0u8; <D as Digest>::output_size()];
    pbkdf2::pbkdf2_hmac::<D>(pass, salt, i, &mut salted);
    let client_key = hmac(&salted, b"Client Key");
    let stored_key = D::digest(&client_key);
    let client_signature = hmac(&stored_key, auth);
    let proof = client_key.iter().zip(&client_signature).map(|(k, s)| k ^ s);
    let server_signature = hmac(&hmac(&salted, b"Server Key"), auth);
    (proof.collect(), server_signature)
}

/// Where one exchange stands. The data each SCRAM step hands to the next
/// lives in the variants, so a step can only use what the previous one made.
enum State {
    /// `initial_response` not yet called.
    Start,
    /// SCRAM: client-first sent; waiting for server-first.
    ScramAwaitServerFirst { proof: ProofFn, bare: String },
    /// SCRAM: client-final sent; the server must still prove itself.
    ScramAwaitServerFinal { server_signature: Vec<u8> },
    /// SCRAM: `v=` verified in a challenge; only `<success/>` may follow.
    ScramVerified,
    /// PLAIN/ANONYMOUS: everything sent; waiting for `<success/>`.
    AwaitSuccess,
    /// The server accepted us (and, for SCRAM, proved itself).
    Succeeded,
    /// An error ended the exchange; every later step is refused.
    Failed,
}

impl State {
    fn label(&self) -> &'static str {
        match self {
            State::Start => "start",
            State::ScramAwaitServerFirst { .. } => "await-server-first",
            State::ScramAwaitServerFinal { .. } => "await-server-final",
            State::ScramVerified => "server-verified",
            State::AwaitSuccess => "await-success",
            State::Succeeded => "succeeded",
            State::Failed => "failed",
        }
    }
}

/// The client side of one SASL authentication exchange.
///
/// Drive it with [`initial_response`](Self::initial_response), then feed it
/// each `<challenge/>` and finally the `<success/>` payload (all base64-decoded).
/// A `<failure/>` needs no call: just drop the client. After any error the
/// exchange is dead and every further step returns [`SaslError::UnexpectedStep`].
///
/// Passwords are used as their UTF-8 bytes: SASLprep (RFC 4013) is not
/// applied, so a non-ASCII password only works if the server stored it in the
/// same normalisation form. ASCII passwords — what deployments generate — are
/// unaffected.
pub struct SaslClient {
    mechanism: Mechanism,
    username: String,
    /// Dropped once no further message needs it (not zeroized: that would need
    /// a dependency this crate does not take).
    password: Option<String>,
    client_nonce: String,
    state: State,
}

impl fmt::Debug for SaslClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Hand-written so the password and SCRAM key material never reach logs.
        f.debug_struct("SaslClient")
            .field("mechanism", &self.mechanism)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("state", &self.state.label())
            .finish()
    }
}

impl SaslClient {
    /// Prepares an exchange for `mechanism`.
    ///
    /// `client_nonce` is only used by SCRAM; it must be non-empty printable
    /// ASCII without commas and should carry at least 128 bits of entropy.
    /// Fails if the mechanism needs a password and none is given, or if the
    /// credentials cannot be encoded for the mechanism.
    pub fn new(
        mechanism: Mechanism,
        username: &str,
        password: Option<&str>,
        client_nonce: &str,
    ) -> Result<SaslClient, SaslError> {
        match mechanism {
            Mechanism::Anonymous => {}
            Mechanism::Plain => {
                let password = password.ok_or(SaslError::PasswordRequired)?;
                // NUL is PLAIN's field separator; the server would misparse it.
                if username.contains('\0') || password.contains('\0') {
                    return Err(SaslError::InvalidInput("NUL in PLAIN credentials"));
                }
            }
            Mechanism::ScramSha256 | Mechanism::ScramSha1 => {
                password.ok_or(SaslError::PasswordRequired)?;
                if client_nonce.is_empty() || !client_nonce.bytes().all(is_nonce_char) {
                    return Err(SaslError::InvalidInput("SCRAM client nonce"));
                }
            }
        }
        Ok(SaslClient {
            mechanism,
            username: username.to_owned(),
            password: password.map(str::to_owned),
            client_nonce: client_nonce.to_owned(),
            state: State::Start,
        })
    }

    /// The raw (not base64) payload of `<auth/>`.
    ///
    /// SCRAM: `n,,n=<user>,r=<nonce>`; PLAIN: `\0<user>\0<password>`;
    /// ANONYMOUS: empty. Only the first call advances the exchange; later
    /// calls return the same bytes without changing state.
    pub fn initial_response(&mut self) -> Vec<u8> {
        let scram = |proof| {
            let user = escape_username(&self.username);
            let bare = format!("n={user},r={}", self.client_nonce);
            let bytes = format!("{GS2_HEADER}{bare}").into_bytes();
            (bytes, State::ScramAwaitServerFirst { proof, bare })
        };
        let (bytes, next) = match self.mechanism {
            Mechanism::ScramSha256 => scram(scram_proof::<Sha256> as ProofFn),
            Mechanism::ScramSha1 => scram(scram_proof::<Sha1>),
            Mechanism::Plain => {
                let password = self.password.as_deref().unwrap_or_default();
                let bytes = format!("\0{}\0{password}", self.username).into_bytes();
                (bytes, State::AwaitSuccess)
            }
            Mechanism::Anonymous => (Vec::new(), State::AwaitSuccess),
        };
        if matches!(self.state, State::Start) {
            self.state = next;
        }
        bytes
    }

    /// Answers a `<challenge/>` payload; returns the raw `<response/>` payload.
    ///
    /// For SCRAM the first challenge is server-first and the answer is
    /// client-final. Some servers send server-final (`v=`) as a further
    /// challenge; it is verified here and answered with empty bytes.
    pub fn handle_challenge(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        // Every error path leaves `Failed` behind: the exchange cannot resume.
        match std::mem::replace(&mut self.state, State::Failed) {
            State::ScramAwaitServerFirst { proof, bare } => {
                let password = self.password.take().ok_or(SaslError::PasswordRequired)?;
                let (client_final, server_signature) =
                    scram_client_final(proof, &bare, utf8(data)?, &self.client_nonce, &password)?;
                self.state = State::ScramAwaitServerFinal { server_signature };
                Ok(client_final.into_bytes())
            }
            State::ScramAwaitServerFinal { server_signature } => {
                verify_server_final(data, &server_signature)?;
                log::debug!("SCRAM: server signature verified in a challenge");
                self.state = State::ScramVerified;
                Ok(Vec::new())
            }
            other => Err(unexpected("challenge", &other)),
        }
    }

    /// Accepts `<success/>` and its (decoded) additional data.
    ///
    /// For SCRAM the server must have proven knowledge of the password: either
    /// `additional_data` carries a valid `v=` (Prosody's way), or an earlier
    /// challenge did and `additional_data` is empty (RFC 6120 allows both).
    pub fn handle_success(&mut self, additional_data: &[u8]) -> Result<(), SaslError> {
        let data = additional_data;
        self.password = None; // the exchange ends here either way
        match std::mem::replace(&mut self.state, State::Failed) {
            State::ScramAwaitServerFinal { .. } if data.is_empty() => {
                return Err(SaslError::ServerSignatureMissing);
            }
            State::ScramAwaitServerFinal { server_signature } => {
                verify_server_final(data, &server_signature)?;
            }
            // Nothing is left to say: PLAIN and ANONYMOUS define no additional
            // data, and a SCRAM server that proved itself already said it.
            State::AwaitSuccess | State::ScramVerified if data.is_empty() => {}
            State::AwaitSuccess | State::ScramVerified => {
                return Err(SaslError::MalformedServerMessage("unexpected success data"));
            }
            other => return Err(unexpected("success", &other)),
        }
        self.state = State::Succeeded;
        Ok(())
    }

    /// True once the server's success has been accepted (and, for SCRAM, the
    /// server's signature verified).
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Succeeded)
    }
}

fn unexpected(step: &'static str, state: &State) -> SaslError {
    let state = state.label();
    SaslError::UnexpectedStep { step, state }
}

/// RFC 5802 `printable` minus `,`: what a nonce may contain.
fn is_nonce_char(b: u8) -> bool {
    (0x21..=0x7e).contains(&b) && b != b','
}

/// RFC 5802 §5.1 `saslname`: `=` and `,` would break attribute parsing.
fn escape_username(username: &str) -> String {
    username.replace('=', "=3D").replace(',', "=2C")
}

fn utf8(data: &[u8]) -> Result<&str, SaslError> {
    std::str::from_utf8(data).map_err(|_| SaslError::MalformedServerMessage("not UTF-8"))
}

/// Splits `k=value` (single-letter key, RFC 5802 `attr-val`).
fn attribute(part: &str) -> Option<(u8, &str)> {
    match part.as_bytes() {
        [key, b'=', ..] if key.is_ascii_alphabetic() => Some((*key, &part[2..])),
        _ => None,
    }
}

/// Reads the next attribute, insisting on `key` (server-first's order is fixed).
fn expect_attr<'a>(parts: &mut Split<'a, char>, key: u8) -> Result<&'a str, SaslError> {
    match parts.next().and_then(attribute) {
        Some((k, v)) if k == key => Ok(v),
        _ => Err(SaslError::MalformedServerMessage("expected r=, s=, i=")),
    }
}

/// Parses server-first and computes client-final plus the expected server
/// signature. Extensions after `i=` are skipped (RFC 5802 §5.1: only `m=`
/// must be understood) but still enter the AuthMessage, as the RFC requires.
fn scram_client_final(
    proof_fn: ProofFn,
    client_first_bare: &str,
    server_first: &str,
    client_nonce: &str,
    password: &str,
) -> Result<(String, Vec<u8>), SaslError> {
    if server_first.starts_with("m=") {
        return Err(SaslError::MandatoryExtension);
    }
    let mut parts = server_first.split(',');
    let nonce = expect_attr(&mut parts, b'r')?;
    let salt_b64 = expect_attr(&mut parts, b's')?;
    let iter_str = expect_attr(&mut parts, b'i')?;
    if !nonce.bytes().all(is_nonce_char) {
        return Err(SaslError::MalformedServerMessage("bad nonce characters"));
    }
    // RFC 5802 §5.1: the server appends its own nonce to ours; anything else
    // is not our exchange (or not SCRAM).
    if nonce.len() <= client_nonce.len() || !nonce.starts_with(client_nonce) {
        return Err(SaslError::NonceMismatch);
    }
    let salt = B64
        .decode(salt_b64)
        .map_err(|_| SaslError::MalformedServerMessage("salt is not base64"))?;
    if salt.is_empty() {
        return Err(SaslError::MalformedServerMessage("empty salt"));
    }
    // `u64::from_str` would accept a leading `+`; the grammar is digits only.
    if iter_str.is_empty() || !iter_str.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SaslError::MalformedServerMessage("bad iteration count"));
    }
    let iterations = iter_str.parse::<u64>().unwrap_or(u64::MAX); // only overflow fails
    let iterations = match u32::try_from(iterations) {
        Ok(i) if (1..=MAX_ITERATIONS).contains(&i) => i,
        _ => return Err(SaslError::BadIterationCount(iterations)),
    };
    if parts.any(|p| attribute(p).is_none()) {
        return Err(SaslError::MalformedServerMessage("bad extension attribute"));
    }
    log::debug!("SCRAM: server-first accepted, {iterations} iterations");

    let without_proof = format!("c={CHANNEL_BINDING},r={nonce}");
    let auth = format!("{client_first_bare},{server_first},{without_proof}");
    let (proof, server_sig) = proof_fn(password.as_bytes(), &salt, iterations, auth.as_bytes());
    let client_final = format!("{without_proof},p={}", B64.encode(&proof));
    Ok((client_final, server_sig))
}

/// Checks server-final (`v=…` or `e=…`, optionally followed by extensions).
fn verify_server_final(data: &[u8], expected: &[u8]) -> Result<(), SaslError> {
    let text = utf8(data)?;
    let first = text.split(',').next().unwrap_or_default();
    match attribute(first) {
        Some((b'e', msg)) => Err(SaslError::ServerError(msg.to_owned())),
        Some((b'v', sig_b64)) => {
            let sig = B64
                .decode(sig_b64)
                .map_err(|_| SaslError::MalformedServerMessage("signature is not base64"))?;
            let ok = constant_time_eq(&sig, expected);
            ok.then_some(()).ok_or(SaslError::ServerSignatureMismatch)
        }
        _ => Err(SaslError::MalformedServerMessage("expected v= or e=")),
    }
}

/// Compares without an early exit so timing does not reveal how many leading
/// bytes of a forged signature were right. Lengths are public (hash size).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use Mechanism::*;
    use SaslError::*;

    // RFC 5802 §5 (SCRAM-SHA-1) and RFC 7677 §3 (SCRAM-SHA-256) example exchanges.
    const NONCE1: &str = "fyko+d2lbbFgONRv9qkxdawL";
    const FIRST1: &str = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
    const FINAL1: &str =
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
    const SIG1: &str = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=";
    const NONCE256: &str = "rOprNGfwEbeRWgbNEkqO";
    const FIRST256: &str =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    const FINAL256: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                            p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    const SIG256: &str = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    fn client(mech: Mechanism, nonce: &str) -> SaslClient {
        SaslClient::new(mech, "user", Some("pencil"), nonce).unwrap()
    }

    fn started(mech: Mechanism, nonce: &str) -> SaslClient {
        let mut c = client(mech, nonce);
        c.initial_response();
        c
    }

    fn first(c: &mut SaslClient) -> String {
        String::from_utf8(c.initial_response()).unwrap()
    }

    fn chal(c: &mut SaslClient, data: &str) -> Result<String, SaslError> {
        Ok(String::from_utf8(c.handle_challenge(data.as_bytes())?).unwrap())
    }

    fn succ(c: &mut SaslClient, data: &str) -> Result<(), SaslError> {
        c.handle_success(data.as_bytes())
    }

    /// RFC 5802 client that has just sent client-final.
    fn sha1_sent_final() -> SaslClient {
        let mut c = started(ScramSha1, NONCE1);
        assert_eq!(chal(&mut c, FIRST1).unwrap(), FINAL1);
        c
    }

    fn server_first_err(server_first: &str) -> SaslError {
        let mut c = started(ScramSha1, NONCE1);
        chal(&mut c, server_first).unwrap_err()
    }

    fn is_unexpected<T>(r: Result<T, SaslError>) -> bool {
        matches!(r, Err(UnexpectedStep { .. }))
    }

    fn is_malformed(e: SaslError) -> bool {
        matches!(e, MalformedServerMessage(_))
    }

    #[test]
    fn rfc5802_sha1_example_signature_in_success() {
        let mut c = client(ScramSha1, NONCE1);
        assert_eq!(first(&mut c), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
        assert_eq!(chal(&mut c, FIRST1).unwrap(), FINAL1);
        assert!(!c.is_done());
        succ(&mut c, SIG1).unwrap();
        assert!(c.is_done());
    }

    #[test]
    fn rfc7677_sha256_example() {
        let mut c = client(ScramSha256, NONCE256);
        assert_eq!(first(&mut c), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        assert_eq!(chal(&mut c, FIRST256).unwrap(), FINAL256);
        succ(&mut c, SIG256).unwrap();
        assert!(c.is_done());
    }

    #[test]
    fn signature_in_final_challenge_then_empty_success() {
        let mut c = sha1_sent_final();
        assert_eq!(chal(&mut c, SIG1).unwrap(), "");
        assert!(!c.is_done(), "not done until <success/>");
        succ(&mut c, "").unwrap();
        assert!(c.is_done());
    }

    #[test]
    fn success_without_signature_rejected() {
        let mut c = sha1_sent_final();
        assert_eq!(succ(&mut c, ""), Err(ServerSignatureMissing));
        assert!(!c.is_done());
        // Success before server-first carries no signature either.
        let mut c = started(ScramSha1, NONCE1);
        assert!(is_unexpected(succ(&mut c, "")));
        assert!(!c.is_done());
    }

    #[test]
    fn tampered_signature_rejected() {
        // Still valid base64 of 20 bytes; only the last byte differs.
        let mut c = sha1_sent_final();
        let tampered = succ(&mut c, "v=rmF9pqV8S7suAoZWja4dJRkFsKA=");
        assert_eq!(tampered, Err(ServerSignatureMismatch));
        assert!(!c.is_done());
        // In a challenge, the true signature with a byte appended must fail too...
        let mut long = B64.decode(&SIG1[2..]).unwrap();
        long.push(b'!');
        let mut c = sha1_sent_final();
        let long = chal(&mut c, &format!("v={}", B64.encode(long)));
        assert_eq!(long, Err(ServerSignatureMismatch));
        // ...and the exchange is dead: even a late correct signature is refused.
        assert!(is_unexpected(succ(&mut c, SIG1)));
        assert!(!c.is_done());
    }

    #[test]
    fn server_error_reported() {
        let err = succ(&mut sha1_sent_final(), "e=invalid-proof");
        assert_eq!(err, Err(ServerError("invalid-proof".into())));
        let err = chal(&mut sha1_sent_final(), "e=other-error,x=ext");
        assert_eq!(err, Err(ServerError("other-error".into())));
    }

    #[test]
    fn server_first_validated() {
        let foreign = "r=AAAA+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
        assert_eq!(server_first_err(foreign), NonceMismatch);
        let echo = "r=fyko+d2lbbFgONRv9qkxdawL,s=QSXCR+Q6sek8bf92,i=4096";
        assert_eq!(server_first_err(echo), NonceMismatch);
        let with = |i: &str| server_first_err(&format!("r={NONCE1}x,s=QSXCR+Q6sek8bf92,i={i}"));
        assert_eq!(with("0"), BadIterationCount(0));
        assert_eq!(with("10000001"), BadIterationCount(10_000_001));
        assert!(is_malformed(with("+4096")));
        assert!(is_malformed(with("")));
        let mext = format!("m=ext,{FIRST1}");
        assert_eq!(server_first_err(&mext), MandatoryExtension);
        for bad in [
            "s=QSXCR+Q6sek8bf92,r=fyko+d2lbbFgONRv9qkxdawLx,i=4096", // wrong order
            "r=fyko+d2lbbFgONRv9qkxdawLx,i=4096",                    // no salt
            "r=fyko+d2lbbFgONRv9qkxdawLx,s=!!!,i=4096",              // salt not base64
            "r=fyko+d2lbbFgONRv9qkxdawLx,s=,i=4096",                 // empty salt
            "r=fyko+d2lbbFgONRv9qkxdawL x,s=QSXCR+Q6sek8bf92,i=4096", // bad nonce char
            "r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=1,junk", // bad extension
        ] {
            assert!(is_malformed(server_first_err(bad)), "{bad}");
        }
        // Optional extensions after i= are allowed, and enter the AuthMessage.
        let mut c = started(ScramSha1, NONCE1);
        assert_ne!(chal(&mut c, &format!("{FIRST1},x=1")).unwrap(), FINAL1);
    }

    #[test]
    fn initial_responses_and_one_step_mechanisms() {
        let mut c = SaslClient::new(ScramSha256, "a=b,c", Some("p"), "nonce").unwrap();
        assert_eq!(first(&mut c), "n,,n=a=3Db=2Cc,r=nonce", "username escaped");
        let mut p = SaslClient::new(Plain, "focus", Some("s3cret"), "").unwrap();
        assert_eq!(first(&mut p), "\0focus\0s3cret");
        assert!(is_unexpected(chal(&mut p, "x")));
        assert!(is_malformed(
            succ(&mut started(Plain, ""), "x").unwrap_err()
        ));
        let mut p = started(Plain, "");
        assert!(!p.is_done());
        succ(&mut p, "").unwrap();
        assert!(p.is_done());
        let mut a = SaslClient::new(Anonymous, "", None, "").unwrap();
        assert!(is_unexpected(succ(&mut a, "")), "success before <auth/>");
        let mut a = SaslClient::new(Anonymous, "", None, "").unwrap();
        assert_eq!(first(&mut a), "");
        succ(&mut a, "").unwrap();
        assert!(a.is_done());
    }

    #[test]
    fn constructor_validates_input() {
        for mech in [Plain, ScramSha1, ScramSha256] {
            let missing = SaslClient::new(mech, "u", None, "n");
            assert_eq!(missing.unwrap_err(), PasswordRequired);
        }
        let nul = SaslClient::new(Plain, "u", Some("a\0b"), "");
        assert!(matches!(nul, Err(InvalidInput(_))));
        for nonce in ["", "a,b", "a b"] {
            let bad = SaslClient::new(ScramSha1, "u", Some("p"), nonce);
            assert!(matches!(bad, Err(InvalidInput(_))), "{nonce:?}");
        }
    }

    #[test]
    fn debug_hides_password() {
        let mut c = started(ScramSha1, NONCE1);
        let dbg = format!("{c:?}");
        assert!(
            dbg.contains("<redacted>") && !dbg.contains("pencil"),
            "{dbg}"
        );
        chal(&mut c, FIRST1).unwrap();
        let dbg = format!("{c:?}");
        assert!(
            !dbg.contains("pencil") && dbg.contains("await-server-final"),
            "{dbg}"
        );
    }

    #[test]
    fn mechanism_choice() {
        let (choose, strict) = (choose_mechanism, choose_mechanism_excluding_plain);
        let all = ["PLAIN", "SCRAM-SHA-1", "ANONYMOUS", "SCRAM-SHA-256"];
        assert_eq!(choose(&all, true), Some(ScramSha256));
        assert_eq!(choose(&all, false), Some(Anonymous));
        assert_eq!(choose(&["PLAIN", "SCRAM-SHA-1"], true), Some(ScramSha1));
        assert_eq!(choose(&["ANONYMOUS", "PLAIN"], true), Some(Plain));
        assert_eq!(choose(&["ANONYMOUS"], true), None);
        assert_eq!(choose(&["PLAIN", "SCRAM-SHA-256"], false), None);
        assert_eq!(
            choose(&["SCRAM-SHA-256-PLUS", "SCRAM-SHA-1"], true),
            Some(ScramSha1)
        );
        assert_eq!(choose(&["SCRAM-SHA-256-PLUS"], true), None);
        assert_eq!(strict(&["PLAIN"], true), None);
        assert_eq!(strict(&["PLAIN", "SCRAM-SHA-1"], true), Some(ScramSha1));
        let names = [ScramSha256, ScramSha1, Plain, Anonymous].map(|m| m.name());
        let wire = ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "ANONYMOUS"];
        assert_eq!(names, wire);
    }
}
