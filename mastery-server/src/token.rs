//! Tokens: the session token (the only key to a learner's session), join tokens (stored only as
//! hashes) and the teacher token, all random or keyed, all compared in constant time.

use sha2::{Digest, Sha256};

/// `bytes` random bytes from the operating system, as lowercase hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    // The OS source does not fail on a supported system; a failure here would leave zeros, which
    // must never become a token, so it is a bug worth stopping for.
    getrandom::fill(&mut buffer).expect("the operating system's random source");
    hex(&buffer)
}

/// SHA-256 of `text`, as hex: how join tokens are stored.
pub(crate) fn hash(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

/// Equal without telling, by its timing, how much of a guess was right.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// Makes and checks session tokens: `s<id>.<mac>`, the mac keyed by a secret the store keeps, so
/// that any server on the same store accepts a token any other made, and a restart keeps them.
#[derive(Clone)]
pub(crate) struct SessionTokens {
    secret: Vec<u8>,
}

impl SessionTokens {
    pub(crate) fn new(secret: &str) -> Self {
        SessionTokens { secret: secret.as_bytes().to_vec() }
    }

    fn mac(&self, id: u64) -> String {
        hex(&hmac(&self.secret, format!("session:{id}").as_bytes())[..16])
    }

    /// The token of session `id`.
    pub(crate) fn make(&self, id: u64) -> String {
        format!("s{id}.{}", self.mac(id))
    }

    /// The session a token names, if this server's secret made it.
    pub(crate) fn check(&self, token: &str) -> Option<u64> {
        let (id, mac) = token.strip_prefix('s')?.split_once('.')?;
        let id: u64 = id.parse().ok()?;
        same(mac, &self.mac(id)).then_some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_the_rfc_4231_test_case() {
        let mac = hmac(&[0x0b; 20], b"Hi There");
        assert_eq!(hex(&mac), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    }

    #[test]
    fn a_session_token_is_checked_by_its_mac_and_nothing_else() {
        let tokens = SessionTokens::new("secret");
        let token = tokens.make(42);
        assert_eq!(tokens.check(&token), Some(42));
        assert_eq!(tokens.check(&token.replace("s42", "s43")), None);
        assert_eq!(SessionTokens::new("other").check(&token), None);
        for junk in ["", "s", "s1", "s1.", "x42.abc", "s-1.00", "s99999999999999999999.00"] {
            assert_eq!(tokens.check(junk), None, "{junk:?}");
        }
        assert_ne!(random_hex(16), random_hex(16));
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
