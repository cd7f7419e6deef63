//! Encryption of secrets at rest under the deployment's root key.
//!
//! AccessKey secrets must be recoverable (the server recomputes HMACs with them), so they
//! are encrypted, not hashed: AES-256-GCM with a random 96-bit nonce, and the record's
//! identity (e.g. the AccessKeyId) as associated data so a ciphertext copied onto another
//! row does not decrypt.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use thiserror::Error;
use zeroize::Zeroizing;

const NONCE_LEN: usize = 12;

/// Failure to seal or open a secret. Deliberately carries no detail: the only causes are a
/// wrong root key, a corrupted/tampered ciphertext, or an OS RNG failure.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SecretBoxError {
    /// The ciphertext did not authenticate under this root key and context.
    #[error("stored secret could not be decrypted (wrong root key or tampered record)")]
    Open,
    /// Encryption failed.
    #[error("secret could not be encrypted")]
    Seal,
    /// The operating system's random number generator failed.
    #[error("the operating system random number generator failed")]
    Random,
}

/// Fills a fresh buffer from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], SecretBoxError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|_| SecretBoxError::Random)?;
    Ok(out)
}

/// AES-256-GCM under the root key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// Builds the box from 32 bytes of root key material.
    pub fn new(root_key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(root_key.into()),
        }
    }

    /// Encrypts `plaintext` bound to `context`; output is nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, SecretBoxError> {
        let nonce_bytes = random_bytes::<NONCE_LEN>()?;
        let nonce = Nonce::from(nonce_bytes);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .map_err(|_| SecretBoxError::Seal)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts a value produced by [`SecretBox::seal`] with the same `context`.
    pub fn open(
        &self,
        sealed: &[u8],
        context: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, SecretBoxError> {
        let (nonce_bytes, body) = sealed
            .split_first_chunk::<NONCE_LEN>()
            .ok_or(SecretBoxError::Open)?;
        let nonce = Nonce::from(*nonce_bytes);
        self.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: body,
                    aad: context,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SecretBoxError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_context_binding() {
        let sb = SecretBox::new(&[7u8; 32]);
        let sealed = sb.seal(b"secret", b"LTAIabc").unwrap();
        assert_eq!(sb.open(&sealed, b"LTAIabc").unwrap().as_slice(), b"secret");
        assert_eq!(sb.open(&sealed, b"LTAIxyz"), Err(SecretBoxError::Open));
        let other = SecretBox::new(&[8u8; 32]);
        assert_eq!(other.open(&sealed, b"LTAIabc"), Err(SecretBoxError::Open));
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert_eq!(sb.open(&tampered, b"LTAIabc"), Err(SecretBoxError::Open));
        assert_eq!(sb.open(&sealed[..5], b"LTAIabc"), Err(SecretBoxError::Open));
    }

    #[test]
    fn nonces_differ() {
        let sb = SecretBox::new(&[1u8; 32]);
        assert_ne!(sb.seal(b"x", b"c").unwrap(), sb.seal(b"x", b"c").unwrap());
    }
}
