//! RFC 6238 TOTP (HMAC-SHA1, 30-second steps) over RFC 4226 HOTP, and RFC 4648 Base32
//! without padding, as authenticator apps use them. Pure functions, no I/O.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// Seconds per time step.
pub const STEP_SECONDS: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4226 HOTP value with `digits` digits (the dynamic truncation, modulo 10^digits).
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(secret) else {
        // HMAC accepts keys of any length; this branch cannot be taken.
        return 0;
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest.last().copied().unwrap_or(0) & 0x0f);
    let word = digest
        .get(offset..offset + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(|[a, b, c, d]| u32::from_be_bytes([a & 0x7f, b, c, d]))
        .unwrap_or(0);
    word % 10u32.pow(digits)
}

/// The time step containing `unix_seconds`.
pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// The 6-digit code of a time step, zero-padded.
pub fn code(secret: &[u8], step: i64) -> String {
    let counter = u64::try_from(step).unwrap_or(0);
    format!(
        "{:0width$}",
        hotp(secret, counter, DIGITS),
        width = DIGITS as usize
    )
}

/// Whether `candidate` equals the code of `step`, compared in constant time.
pub fn matches(secret: &[u8], step: i64, candidate: &str) -> bool {
    code(secret, step)
        .as_bytes()
        .ct_eq(candidate.as_bytes())
        .into()
}

/// Finds two consecutive codes (`first` at step s, `second` at s+1) with s+1 within one
/// step of `now_step` and after `last_used_step`; returns s+1, the step to remember.
pub fn verify_consecutive(
    secret: &[u8],
    now_step: i64,
    first: &str,
    second: &str,
    last_used_step: Option<i64>,
) -> Option<i64> {
    (now_step - 1..=now_step + 1).find(|&second_step| {
        let first_step = second_step - 1;
        last_used_step.is_none_or(|used| first_step > used)
            && matches(secret, first_step, first)
            && matches(secret, second_step, second)
    })
}

/// RFC 4648 Base32 without padding.
pub fn base32_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for &byte in data {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            let index = ((buffer >> bits) & 0x1f) as usize;
            out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'A')));
        }
    }
    if bits > 0 {
        let index = ((buffer << (5 - bits)) & 0x1f) as usize;
        out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'A')));
    }
    out
}

/// Decodes RFC 4648 Base32 (case-insensitive, padding optional); `None` if malformed.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for c in text.trim_end_matches('=').bytes() {
        let value = ALPHABET.iter().position(|&a| a == c.to_ascii_uppercase())?;
        buffer = (buffer << 5) | u32::try_from(value).ok()?;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn base32_round_trip_and_rfc4648_vectors() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_encode(b"f"), "MY");
        assert_eq!(base32_decode("MZXW6YTBOI======").unwrap(), b"foobar");
        assert_eq!(base32_decode("mzxw6"), Some(b"foo".to_vec()));
        assert_eq!(base32_decode("M1"), None);
        for len in 0..40 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(base32_decode(&base32_encode(&data)).unwrap(), data);
        }
    }
}
