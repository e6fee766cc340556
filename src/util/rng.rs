//! The core's only source of randomness: a ChaCha20 generator seeded by the
//! shell from the operating system, so the core itself never reads entropy
//! and tests can pin the seed.
//!
//! It is a CSPRNG: auth session ids, SCRAM nonces and Jingle sids come from
//! it and must not be guessable.

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng as _, SeedableRng};

/// Seeded cryptographically secure generator.
#[derive(Debug)]
pub struct Rng(ChaCha20Rng);

const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

impl Rng {
    /// A generator from a 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Rng(ChaCha20Rng::from_seed(seed))
    }

    /// A uniformly random 64-bit number.
    pub fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        self.0.fill_bytes(buf);
    }

    /// A random token of `len` characters from `[0-9a-zA-Z]` (about 5.95
    /// bits each): 22 characters carry more than 128 bits.
    pub fn token(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            // Rejection sampling keeps the distribution uniform.
            let b = (self.0.next_u32() & 0x3f) as usize;
            if b < ALPHABET.len() {
                s.push(ALPHABET[b] as char);
            }
        }
        s
    }

    /// Lowercase hex of `bytes` random bytes.
    pub fn hex(&mut self, bytes: usize) -> String {
        let mut s = String::with_capacity(bytes * 2);
        for _ in 0..bytes {
            let b = (self.0.next_u32() & 0xff) as u8;
            s.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
            s.push(char::from_digit((b & 0xf) as u32, 16).unwrap_or('0'));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_other_seed_differs() {
        let mut a = Rng::from_seed([7; 32]);
        let mut b = Rng::from_seed([7; 32]);
        let mut c = Rng::from_seed([8; 32]);
        assert_eq!(a.token(22), b.token(22));
        assert_ne!(a.u64(), c.u64());
    }

    #[test]
    fn token_and_hex_shapes() {
        let mut r = Rng::from_seed([1; 32]);
        let t = r.token(22);
        assert_eq!(t.len(), 22);
        assert!(t.bytes().all(|b| b.is_ascii_alphanumeric()));
        let h = r.hex(16);
        assert_eq!(h.len(), 32);
        assert!(
            h.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        // Over many draws every alphabet symbol shows up.
        let all: String = (0..200).map(|_| r.token(10)).collect();
        assert!(ALPHABET.iter().all(|c| all.as_bytes().contains(c)));
    }
}
