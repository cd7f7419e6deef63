//! Is a token random enough to be a real AccessKeyId body or secret?
//!
//! Real ids and secrets are uniform base62 (Cloudward's generators, and every Alibaba
//! sample seen), so the tests here are the ones a uniform string passes with overwhelming
//! probability while placeholders, documentation samples, identifiers, hashes and typed-in
//! junk fail them. The thresholds were set from simulations of uniform base62 strings of
//! each length (see `docs/secret-scanning.md`); each test loses well under 0.1 % of real
//! keys.

/// Why a token was judged not random enough. Used in tests and the documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weakness {
    /// Not ASCII letters and digits only.
    NotAlphanumeric,
    /// No upper-case or no lower-case letter (hex digests, `XXXX`, upper-case words).
    OneCase,
    /// Only hexadecimal digits (a digest in mixed case).
    Hex,
    /// Four or more equal characters in a row (`0000`, `xxxx`).
    Repeated,
    /// Four or more characters in a counting sequence (`1234`, `abcd`, `DCBA`).
    Sequential,
    /// Shannon entropy below the threshold for the length.
    LowEntropy,
    /// Contains a placeholder word (`example`, `your`, `xxxx`, ...).
    PlaceholderWord,
    /// Mostly made of pronounceable word segments (`MyAccessKeyForTheProdServer`).
    WordLike,
}

/// Words that mark a token as typed by a person rather than generated. A uniform 20- to
/// 44-character base62 string contains any given four-letter word (either case) with
/// probability below 0.01 %, so this costs nothing in recall.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "sample",
    "dummy",
    "placeholder",
    "your",
    "xxxx",
    "test",
    "fake",
    "secret",
    "accesskey",
    "redacted",
    "changeme",
    "replace",
    "mask",
    "qwer",
    "asdf",
    "zxcv",
];

/// Checks that `token` (the random part of an id, or a whole secret) looks generated.
pub fn weakness(token: &str) -> Option<Weakness> {
    let bytes = token.as_bytes();
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_alphanumeric) {
        return Some(Weakness::NotAlphanumeric);
    }
    let upper = bytes.iter().any(u8::is_ascii_uppercase);
    let lower = bytes.iter().any(u8::is_ascii_lowercase);
    if !upper || !lower {
        return Some(Weakness::OneCase);
    }
    if bytes.iter().all(u8::is_ascii_hexdigit) {
        return Some(Weakness::Hex);
    }
    if longest_run(bytes, |a, b| a == b) >= 4 {
        return Some(Weakness::Repeated);
    }
    if repeats_a_block(bytes) {
        return Some(Weakness::Repeated);
    }
    let folded: Vec<u8> = bytes.iter().map(u8::to_ascii_lowercase).collect();
    let up = |a: u8, b: u8| b == a.wrapping_add(1);
    let down = |a: u8, b: u8| a == b.wrapping_add(1);
    if longest_run(bytes, up) >= 4
        || longest_run(bytes, down) >= 4
        || longest_run(&folded, up) >= 5
        || longest_run(&folded, down) >= 5
        || counting_steps(&folded) * 4 >= bytes.len().saturating_sub(1).max(24)
        || periodic_classes(bytes)
    {
        return Some(Weakness::Sequential);
    }
    if shannon_entropy(bytes) < entropy_threshold(bytes.len()) {
        return Some(Weakness::LowEntropy);
    }
    let lowered = token.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.iter().any(|w| lowered.contains(w)) {
        return Some(Weakness::PlaceholderWord);
    }
    if let Some(limit) = word_limit(bytes.len())
        && word_coverage(bytes) >= limit
    {
        return Some(Weakness::WordLike);
    }
    None
}

/// Length of the longest run of consecutive bytes where `step(prev, next)` holds, counted
/// in bytes (a single byte is a run of 1).
fn longest_run(bytes: &[u8], step: impl Fn(u8, u8) -> bool) -> usize {
    let mut best = usize::from(!bytes.is_empty());
    let mut cur = best;
    for pair in bytes.windows(2) {
        if let [a, b] = pair
            && step(*a, *b)
        {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 1;
        }
    }
    best
}

/// Some block of six characters occurs twice (`Ab3dEf9hQz` typed twice, `k9Xq2Wk9Xq2W`).
fn repeats_a_block(bytes: &[u8]) -> bool {
    const BLOCK: usize = 6;
    let blocks: Vec<&[u8]> = bytes.windows(BLOCK).collect();
    blocks
        .iter()
        .enumerate()
        .any(|(i, a)| blocks.iter().skip(i + 1).any(|b| a == b))
}

/// Adjacent pairs one apart (`ab`, `21`, case folded): `Abc123Def456Ghi789` is mostly such
/// steps, a uniform string has about one in twenty.
fn counting_steps(folded: &[u8]) -> usize {
    folded
        .windows(2)
        .filter(|w| matches!(w, [a, b] if b.abs_diff(*a) == 1))
        .count()
}

/// The sequence of character classes (upper, lower, digit) repeats with a short period
/// over the whole token (`Abc123Def456Ghi789`: `Ulldddx`...). A uniform string does so
/// with probability below 10⁻⁸.
fn periodic_classes(bytes: &[u8]) -> bool {
    let class = |b: &u8| {
        if b.is_ascii_uppercase() {
            0u8
        } else if b.is_ascii_lowercase() {
            1
        } else {
            2
        }
    };
    let classes: Vec<u8> = bytes.iter().map(class).collect();
    (1..=8).any(|period| {
        classes.len() >= period * 3
            && classes
                .iter()
                .zip(classes.iter().skip(period))
                .all(|(a, b)| a == b)
    })
}

/// Shannon entropy in bits per character.
pub fn shannon_entropy(bytes: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &b in bytes {
        if let Some(c) = counts.get_mut(usize::from(b)) {
            *c += 1;
        }
    }
    let n = bytes.len() as f64;
    if n == 0.0 {
        return 0.0;
    }
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// 0.7 × log2(len): uniform base62 strings of 12 to 64 characters fall below it with
/// probability around 10⁻⁴ or less (measured), while `aaaabbbbcccc`-style fillers fall
/// far below.
fn entropy_threshold(len: usize) -> f64 {
    0.7 * (len.max(1) as f64).log2()
}

/// Word-coverage limit by length; `None` for short tokens, where random strings reach any
/// coverage too easily for the test to mean anything.
fn word_limit(len: usize) -> Option<f64> {
    match len {
        0..=15 => None,
        16..=24 => Some(0.8),
        _ => Some(0.7),
    }
}

/// Fraction of the token covered by pronounceable word segments: an optional capital then
/// two or more lower-case letters, containing a vowel. `MyAccessKeyForProd` is almost all
/// segments; a uniform base62 string of 30 characters exceeds 0.7 with probability below
/// 10⁻⁴ (measured).
fn word_coverage(bytes: &[u8]) -> f64 {
    let mut covered = 0usize;
    let mut i = 0usize;
    while i < bytes.len() {
        let start = i;
        let mut j = i;
        if bytes.get(j).is_some_and(u8::is_ascii_uppercase) {
            j += 1;
        }
        let lower_start = j;
        while bytes.get(j).is_some_and(u8::is_ascii_lowercase) {
            j += 1;
        }
        let lowers = bytes.get(lower_start..j).unwrap_or_default();
        if lowers.len() >= 2 && lowers.iter().any(|b| b"aeiouy".contains(b)) {
            covered += j - start;
            i = j;
        } else {
            i = start + 1;
        }
    }
    covered as f64 / bytes.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_looking_tokens_pass() {
        for t in [
            "mMJ3WeEGdicOCbV46WvW",
            "Cca9ERTEklQCBBBZ7rdthqTw4z0nvj",
            "FUQXx4EgWunH24BgpoSPY2HpbkmuRoHs6dkSg1HoTkUx",
            "NKKJ4fxwXFRPSA1RpHM7UN1eB",
        ] {
            assert_eq!(weakness(t), None, "{t}");
        }
    }

    #[test]
    fn weak_tokens_fail_for_the_right_reason() {
        let cases = [
            ("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", Weakness::OneCase),
            ("0123456789abcdef0123456789abcd", Weakness::OneCase),
            ("0123456789aBcDeF0123456789aBcD", Weakness::Hex),
            ("AbCdEfGh0000kLmNoPqRsT", Weakness::Repeated),
            ("Zq8W1234xY9kLmPqRsTuVw", Weakness::Sequential),
            ("AzAzAzAzAzAzAzAzAzAzAzAzAzAzAz", Weakness::Repeated),
            ("AzzAqqzAzqAAqzqqAAzzqAzAqqqzAz", Weakness::LowEntropy),
            ("MyExampleKeyId9Q", Weakness::PlaceholderWord),
            ("YourAccessKeySecretGoesHere42", Weakness::PlaceholderWord),
            ("ThisIsTheProdKeyForOurBillings", Weakness::WordLike),
            ("ab-cd", Weakness::NotAlphanumeric),
            ("Abc123Def456Ghi789Jkl012Mno345", Weakness::Sequential),
            ("5tAbCdEfGhIjKlMnOpQr", Weakness::Sequential),
            ("Qz8kW3xPmR7vQz8kW3xPmR7vTb2nYh", Weakness::Repeated),
            ("Kq7QwertyUiop3Zx9Lm2Nb5Vc8Rt4s", Weakness::PlaceholderWord),
        ];
        for (t, why) in cases {
            assert_eq!(weakness(t), Some(why), "{t}");
        }
    }

    #[test]
    fn entropy_of_known_strings() {
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
        assert!(shannon_entropy(b"aaaa").abs() < 1e-9);
        assert!(shannon_entropy(b"").abs() < 1e-9);
    }
}
