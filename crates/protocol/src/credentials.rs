//! AccessKey credentials and the formats of AccessKey ids and secrets.
//!
//! The crate does no I/O, so generators take randomness from the caller (for example 16
//! bytes from `getrandom`). Ids and secrets are base62 renderings of that randomness.

use std::fmt;

/// An AccessKey pair, optionally with an STS security token.
///
/// `Debug` prints the AccessKeyId only; the secret and the token are redacted so that the
/// struct can be logged by accident without leaking anything.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Public identifier (`LTAI...` or `STS....`).
    pub access_key_id: String,
    /// The HMAC secret. Never logged, never sent.
    pub access_key_secret: String,
    /// STS session token, sent with every request signed by temporary credentials.
    pub security_token: Option<String>,
}

impl Credentials {
    /// Permanent credentials (no security token).
    pub fn new(access_key_id: impl Into<String>, access_key_secret: impl Into<String>) -> Self {
        Credentials {
            access_key_id: access_key_id.into(),
            access_key_secret: access_key_secret.into(),
            security_token: None,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// What kind of AccessKeyId a string is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKeyKind {
    /// `LTAI` followed by 12 or 20 ASCII letters/digits (16 or 24 characters in total).
    Permanent,
    /// `STS.` followed by 16 to 64 ASCII letters/digits (issued by AssumeRole; 29 in total
    /// in every sample seen).
    Sts,
    /// Anything else.
    Unknown,
}

/// Classifies an AccessKeyId by its format (not by whether it exists).
pub fn classify_access_key_id(id: &str) -> AccessKeyKind {
    let alnum = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric());
    if let Some(rest) = id.strip_prefix("LTAI")
        && (rest.len() == 12 || rest.len() == 20)
        && alnum(rest)
    {
        return AccessKeyKind::Permanent;
    }
    if let Some(rest) = id.strip_prefix("STS.")
        && (16..=64).contains(&rest.len())
        && alnum(rest)
    {
        return AccessKeyKind::Sts;
    }
    AccessKeyKind::Unknown
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Renders `random` as a big-endian number in base 62 and keeps the `n` lowest digits.
///
/// Callers pass noticeably more random bits than `n` digits hold (see each generator), so
/// the kept digits are uniform to within a negligible bias; plain `byte % 62` would not be.
fn base62_digits(random: &[u8], n: usize) -> String {
    let mut num: Vec<u8> = random.to_vec();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        // One long division of `num` by 62; the remainder is the next digit.
        let mut rem: u32 = 0;
        for byte in num.iter_mut() {
            let cur = (rem << 8) | u32::from(*byte);
            // cur < 62 * 256, so the quotient fits a byte.
            *byte = u8::try_from(cur / 62).unwrap_or(0);
            rem = cur % 62;
        }
        let digit = BASE62
            .get(usize::try_from(rem).unwrap_or(0))
            .copied()
            .unwrap_or(b'0');
        out.push(digit);
    }
    out.into_iter().map(char::from).collect()
}

/// A new permanent AccessKeyId: `LTAI` + 20 base62 characters (24 total, the current
/// format) from 16 random bytes (128 bits for 119 bits of output).
pub fn new_access_key_id(random: &[u8; 16]) -> String {
    format!("LTAI{}", base62_digits(random, 20))
}

/// A new permanent AccessKey secret: 30 base62 characters from 24 random bytes (192 bits
/// for 178 bits of output).
pub fn new_access_key_secret(random: &[u8; 24]) -> String {
    base62_digits(random, 30)
}

/// A new STS AccessKeyId: `STS.` + 25 base62 characters (29 total) from 24 random bytes.
pub fn new_sts_access_key_id(random: &[u8; 24]) -> String {
    format!("STS.{}", base62_digits(random, 25))
}

/// A new STS AccessKey secret: 44 base62 characters from 40 random bytes.
pub fn new_sts_access_key_secret(random: &[u8; 40]) -> String {
    base62_digits(random, 44)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify() {
        assert_eq!(
            classify_access_key_id("LTAImMJ3WeEGdicOCbV46WvW"),
            AccessKeyKind::Permanent
        );
        assert_eq!(
            classify_access_key_id("LTAI1234567890ab"),
            AccessKeyKind::Permanent
        );
        assert_eq!(
            classify_access_key_id("STS.NKKJ4fxwXFRPSA1RpHM7UN1eB"),
            AccessKeyKind::Sts
        );
        for bad in [
            "",
            "LTAI",
            "LTAI123",
            "LTAImMJ3WeEGdicOCbV46Wv!",
            "ltaimMJ3WeEGdicOCbV46WvW",
            "STS.",
            "STS.short",
            "STS.NKKJ4fxwXFRPSA1RpHM7UN1e-",
            "testid",
        ] {
            assert_eq!(classify_access_key_id(bad), AccessKeyKind::Unknown, "{bad}");
        }
    }

    #[test]
    fn generators_have_the_documented_shape() {
        let id = new_access_key_id(&[7; 16]);
        assert_eq!(id.len(), 24);
        assert_eq!(classify_access_key_id(&id), AccessKeyKind::Permanent);
        let sts = new_sts_access_key_id(&[9; 24]);
        assert_eq!(sts.len(), 29);
        assert_eq!(classify_access_key_id(&sts), AccessKeyKind::Sts);
        let secret = new_access_key_secret(&[1; 24]);
        assert_eq!(secret.len(), 30);
        assert!(secret.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(new_sts_access_key_secret(&[3; 40]).len(), 44);
        // Different randomness gives different ids; the same gives the same.
        assert_ne!(new_access_key_id(&[0; 16]), new_access_key_id(&[1; 16]));
        assert_eq!(new_access_key_id(&[5; 16]), new_access_key_id(&[5; 16]));
    }

    #[test]
    fn base62_is_positional() {
        // 62 = "10" in base 62; lowest digits first reversed: we emit lowest digit first.
        assert_eq!(base62_digits(&[62], 2), "01");
        assert_eq!(base62_digits(&[0, 61], 1), "z");
    }

    #[test]
    fn debug_redacts_secret() {
        let c = Credentials {
            access_key_id: "LTAIexample".into(),
            access_key_secret: "supersecretvalue".into(),
            security_token: Some("CAIStokenvalue".into()),
        };
        let d = format!("{c:?}");
        assert!(d.contains("LTAIexample"));
        assert!(!d.contains("supersecretvalue"));
        assert!(!d.contains("CAIStokenvalue"));
    }
}
