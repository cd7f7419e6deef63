//! Property tests: random true pairs embedded in random noise are found (at the right line,
//! with a safe preview); random look-alikes are not.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use cloudward_secretscan::{
    PAIR_WINDOW, ScanOptions, is_plausible_access_key_id, is_plausible_secret, preview, scan_text,
};
use proptest::prelude::*;

const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn from_alphabet(alphabet: &'static [u8], len: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(alphabet), len)
        .prop_map(|v| v.into_iter().map(char::from).collect())
}

fn base62(len: usize) -> impl Strategy<Value = String> {
    from_alphabet(B62, len)
}

/// A permanent pair (`LTAI` + 20, 30) or an STS pair (`STS.` + 25, 44), both random. The
/// rare random string the heuristics refuse (well under 1 %) is filtered out: the test is
/// about finding plausible keys wherever they are embedded.
fn pair() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        (base62(20), base62(30)).prop_map(|(b, s)| (format!("LTAI{b}"), s)),
        (base62(25), base62(44)).prop_map(|(b, s)| (format!("STS.{b}"), s)),
    ]
    .prop_filter("plausible", |(id, s)| {
        is_plausible_access_key_id(id) && is_plausible_secret(s)
    })
}

/// A line of noise: config lines, prose, hashes, UUIDs, base64, short tokens.
fn noise_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("region = cn-hangzhou".to_owned()),
        Just("  timeout: 30s".to_owned()),
        Just("# production settings, do not edit by hand".to_owned()),
        Just("}".to_owned()),
        from_alphabet(b"0123456789abcdef", 40).prop_map(|h| format!("commit = {h}")),
        from_alphabet(b"0123456789abcdef", 64).prop_map(|h| format!("sha256: {h}")),
        from_alphabet(b"0123456789abcdef", 32).prop_map(|h| format!(
            "id: {}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..]
        )),
        base62(40).prop_map(|b| format!("blob = {b}+/{b}==")),
        base62(12).prop_map(|w| format!("name = \"{w}\"")),
        "[a-z ]{0,60}".prop_map(|s| s),
    ]
}

/// How a pair is written: on one line, or on two lines up to four lines apart.
fn render(shape: u8, id: &str, secret: &str, gap: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    match shape {
        0 => out.push(format!(
            "{{\"AccessKeyId\": \"{id}\", \"AccessKeySecret\": \"{secret}\"}}"
        )),
        1 => out.push(format!(
            "aliyun configure --access-key-id {id} --access-key-secret {secret}"
        )),
        2 => out.push(format!("client = Client(\"{id}\", \"{secret}\")")),
        3 => {
            out.push(format!("access_key_id = \"{id}\""));
            out.extend(gap.iter().cloned());
            out.push(format!("access_key_secret = \"{secret}\""));
        }
        4 => {
            out.push(format!("ALIBABA_CLOUD_ACCESS_KEY_ID={id}"));
            out.extend(gap.iter().cloned());
            out.push(format!("ALIBABA_CLOUD_ACCESS_KEY_SECRET={secret}"));
        }
        _ => {
            out.push(format!("  <AccessKeyId>{id}</AccessKeyId>"));
            out.extend(gap.iter().cloned());
            out.push(format!("  <AccessKeySecret>{secret}</AccessKeySecret>"));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn true_pairs_in_noise_are_found(
        (id, secret) in pair(),
        shape in 0u8..6,
        before in proptest::collection::vec(noise_line(), 0..12),
        gap in proptest::collection::vec(noise_line(), 0..5),
        after in proptest::collection::vec(noise_line(), 0..12),
    ) {
        let mut lines = before.clone();
        let id_line = lines.len() + 1;
        lines.extend(render(shape, &id, &secret, &gap));
        lines.extend(after);
        let text = lines.join("\n");
        let findings = scan_text("noise.txt", &text, &ScanOptions::default());
        prop_assert_eq!(findings.len(), 1, "{}\n{:?}", text, findings);
        let f = &findings[0];
        prop_assert_eq!(&f.access_key_id, &id);
        prop_assert_eq!(f.line, id_line);
        prop_assert_eq!(f.secret_preview.clone(), Some(preview(&secret)));
        let rendered = format!("{f:?}");
        prop_assert!(!rendered.contains(&secret));
    }

    #[test]
    fn look_alikes_are_not_reported(
        (id, secret) in pair(),
        kind in 0u8..14,
        upper in from_alphabet(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 30),
        hex in from_alphabet(b"0123456789abcdef", 64),
        // Farther apart than the pairing window (the id line + noise + the secret line).
        noise in proptest::collection::vec(noise_line(), PAIR_WINDOW..PAIR_WINDOW + 6),
    ) {
        let body = id.trim_start_matches("LTAI").trim_start_matches("STS.");
        let permanent = id.starts_with("LTAI");
        let s30 = if permanent { secret.clone() } else { secret[..30].to_owned() };
        let lines: Vec<String> = match kind {
            // An id alone, a secret alone.
            0 => vec![format!("access_key_id = {id}")],
            1 => vec![format!("access_key_secret = {secret}")],
            // Part of a longer token.
            2 => vec![format!("key = x{id}"), format!("secret = {secret}")],
            3 => vec![format!("blob = {hex}+{id}/{secret}==")],
            // Masked and truncated.
            4 => vec![format!("AccessKeyId: {id}****"), format!("AccessKeySecret: {}****", &secret[..26])],
            5 => vec![format!("AccessKeyId: {id}..."), format!("AccessKeySecret: {secret}...")],
            // Secrets that are hashes or one-case junk.
            6 => vec![format!("access_key_id = LTAI{}", &body[..20.min(body.len())]), format!("access_key_secret = {}", &hex[..30])],
            7 => vec![format!("access_key_id = LTAI{}", &upper[..20]), format!("access_key_secret = {upper}")],
            // Template variables.
            8 => vec![format!("access_key_id = ${{{id}}}"), format!("access_key_secret = {{{{{secret}}}}}")],
            // Too far apart.
            9 => {
                let mut v = vec![format!("access_key_id = {id}")];
                v.extend(noise.iter().cloned());
                v.push(format!("access_key_secret = {secret}"));
                v
            }
            // Marked as an example.
            10 => vec!["# Example:".to_owned(), format!("access_key_id = {id}"), format!("access_key_secret = {secret}")],
            // Values of other things next to the id.
            11 => vec![format!("user={id} signature={s30} nonce={secret}")],
            // The wrong secret length for the id.
            12 => if permanent {
                vec![format!("access_key_id = {id}"), format!("access_key_secret = {secret}{}", &hex[..14])]
            } else {
                vec![format!("access_key_id = {id}"), format!("access_key_secret = {s30}")]
            },
            // In URL paths.
            _ => vec![format!("https://cdn.example.net/{id}/{secret}/a.png")],
        };
        let text = lines.join("\n");
        let findings = scan_text("lookalike.txt", &text, &ScanOptions::default());
        prop_assert!(findings.is_empty(), "kind {}:\n{}\n{:?}", kind, text, findings);
    }

    #[test]
    fn scanning_never_panics(text in "\\PC{0,400}") {
        let _ = scan_text("any", &text, &ScanOptions { lone_ids: true, examples: true });
    }
}

/// The heuristics' cost in recall: the share of uniformly random ids and secrets (what
/// real generators produce) that they refuse. Printed for `docs/secret-scanning.md`.
#[test]
fn heuristics_refuse_few_random_keys() {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut random = |n: usize| -> String {
        (0..n)
            .map(|_| char::from(B62[(next() % 62) as usize]))
            .collect()
    };
    let rounds = 100_000;
    let mut refused = [0usize; 4];
    for _ in 0..rounds {
        refused[0] += usize::from(!is_plausible_access_key_id(&format!("LTAI{}", random(20))));
        refused[1] += usize::from(!is_plausible_secret(&random(30)));
        refused[2] += usize::from(!is_plausible_access_key_id(&format!("STS.{}", random(25))));
        refused[3] += usize::from(!is_plausible_secret(&random(44)));
    }
    let rate = |n: usize| n as f64 / rounds as f64 * 100.0;
    println!(
        "refused random: LTAI ids {:.3}%, 30-char secrets {:.3}%, STS ids {:.3}%, 44-char secrets {:.3}%",
        rate(refused[0]),
        rate(refused[1]),
        rate(refused[2]),
        rate(refused[3])
    );
    for (i, n) in refused.iter().enumerate() {
        assert!(rate(*n) < 0.5, "kind {i}: {:.3}% refused", rate(*n));
    }
}
