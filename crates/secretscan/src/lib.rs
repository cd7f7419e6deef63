//! Finds AccessKey pairs — an AccessKeyId and its secret — in text: Alibaba Cloud
//! permanent keys (`LTAI…`), Cloudward keys (the same format, issued by this server) and STS
//! keys (`STS.…`).
//!
//! The crate is pure: it reads the text it is handed and returns typed [`Finding`]s. Walking
//! directories and reading git history belong to the caller (`cloudward scan-secrets`).
//!
//! A finding never holds the full secret: only [`preview`] (its first four characters and
//! `…`) leaves the scanner, so printing, logging or `Debug`-formatting a finding is safe.
//!
//! How a pair is recognised (details and numbers in `docs/secret-scanning.md`):
//!
//! 1. **Tokens.** An id is `LTAI` and 20 (older Alibaba keys: 12) letters/digits, or
//!    `STS.` and 16–64; a secret is 30 letters/digits (permanent) or 44 (STS). The token
//!    must stand alone: no letter, digit, `+`, `/`, `_`, `-`, `*`, `=`-padding,
//!    `${`/`{{`/`<…>` or `...` next to it, so pieces of base64, hashes, paths, identifiers,
//!    masks and templates are not candidates.
//! 2. **Randomness.** The random part must look generated (see [`weakness`]): both letter
//!    cases, not hex, no runs like `0000`/`1234`, Shannon entropy ≥ 0.7·log2(len), no
//!    placeholder words (`your`, `example`, `xxxx`, …), not mostly pronounceable words.
//! 3. **Pairing.** A secret pairs with an id on the same line (positionally within 200 bytes,
//!    or under a secret-like name anywhere on the line), alone on one of the two lines below
//!    the id (a call's arguments split over lines), or within [`PAIR_WINDOW`] lines when
//!    it is assigned to a secret-like name (`AccessKeySecret`, `access_key_secret`,
//!    `--access-key-secret`, `*_SK`, …). Each id and each secret is used once, best
//!    candidates first. Values under names of other things (`sha256`, `signature`, `token`,
//!    `nonce`, …) never pair.
//! 4. **Examples.** A pair whose lines (or the two lines above) say `example`, `sample`,
//!    `e.g.`, `placeholder`, `dummy` or `fake` is documentation: reported only with
//!    [`ScanOptions::examples`], at [`Confidence::Low`].
//!
//! An id without a secret is not a leak (ids appear in logs and audit trails by design); it
//! is reported only with [`ScanOptions::lone_ids`], at [`Confidence::Low`].

mod context;
mod heuristics;

use context::{
    Shape, Token, has_example_marker, has_leading_example_marker, is_other_value_key,
    is_secret_key, key_before,
};
pub use heuristics::{Weakness, shannon_entropy, weakness};

/// How many lines apart an id and a named secret may be and still form a pair.
pub const PAIR_WINDOW: usize = 12;

/// Same-line secrets without a secret-like name pair only this close (in bytes) to the id.
const POSITIONAL_REACH: usize = 200;

/// A secret alone on its line pairs with an id at most this many lines above it
/// (`AcsClient(\n "LTAI…",\n "secret",\n ...)`).
const POSITIONAL_LINES: usize = 2;

/// Candidates examined per line on each side of an id's column (bounds the work on
/// adversarial lines full of tokens).
const NEAREST_PER_LINE: usize = 4;

/// What kind of AccessKey a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyKind {
    /// An Alibaba Cloud permanent key: `LTAI` + 20 (or 12) characters, 30-character secret.
    Alibaba,
    /// A Cloudward key. The format is the Alibaba one (`LTAI` + 20, 30-character secret), so
    /// the kind comes from context: the file name or a nearby line mentions Cloudward
    /// (`CLOUDWARD_ACCESS_KEY_ID`, `~/.cloudward/config.json`).
    Cloudward,
    /// An STS (temporary) key: `STS.` + 16–64 characters, 44-character secret.
    Sts,
}

impl KeyKind {
    /// `alibaba`, `cloudward` or `sts`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Alibaba => "alibaba",
            KeyKind::Cloudward => "cloudward",
            KeyKind::Sts => "sts",
        }
    }
}

/// How sure the scanner is that a finding is a real, usable credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Confidence {
    /// An id without a secret, or a pair marked as an example (only with the options).
    Low,
    /// Id and secret side by side on one line without names (`LTAI…,secret`, positional
    /// arguments).
    Medium,
    /// The secret is assigned to a secret-like name next to the id.
    High,
}

impl Confidence {
    /// `low`, `medium` or `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// One AccessKey found in the text. Holds no secret: `secret_preview` is [`preview`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The logical file name the caller passed.
    pub file: String,
    /// Alibaba, Cloudward or STS.
    pub kind: KeyKind,
    /// The AccessKeyId (not secret).
    pub access_key_id: String,
    /// Line of the id (numbered as the caller numbered the lines; 1-based for
    /// [`scan_text`]).
    pub line: usize,
    /// Column of the id's first character (1-based, in characters).
    pub column: usize,
    /// Line of the secret; `None` for an id reported alone.
    pub secret_line: Option<usize>,
    /// First four characters of the secret and `…`; `None` for an id reported alone.
    pub secret_preview: Option<String>,
    /// How sure the finding is.
    pub confidence: Confidence,
    /// The surrounding lines mark this as an example (reported only on request).
    pub example: bool,
    /// Why it was reported, for people.
    pub reason: String,
}

/// What to report besides pairs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanOptions {
    /// Also report plausible AccessKeyIds that have no secret nearby (low confidence).
    pub lone_ids: bool,
    /// Also report pairs that the surrounding text marks as examples (low confidence).
    pub examples: bool,
}

/// The safe rendering of a secret: its first four characters and `…`.
pub fn preview(secret: &str) -> String {
    let head: String = secret.chars().take(4).collect();
    format!("{head}…")
}

/// Whether `id` is an AccessKeyId this scanner would report: the format (`LTAI` + 20 or 12,
/// `STS.` + 16–64 letters/digits) and a random-looking body.
pub fn is_plausible_access_key_id(id: &str) -> bool {
    let body = if let Some(rest) = id.strip_prefix("LTAI") {
        if rest.len() != 20 && rest.len() != 12 {
            return false;
        }
        rest
    } else if let Some(rest) = id.strip_prefix("STS.") {
        if !(16..=64).contains(&rest.len()) {
            return false;
        }
        rest
    } else {
        return false;
    };
    weakness(body).is_none()
}

/// Whether `secret` is a secret this scanner would pair: 30 (permanent) or 44 (STS)
/// letters/digits that look random.
pub fn is_plausible_secret(secret: &str) -> bool {
    (secret.len() == 30 || secret.len() == 44) && weakness(secret).is_none()
}

/// Scans `text` (lines numbered from 1) as the file `file`.
pub fn scan_text(file: &str, text: &str, options: &ScanOptions) -> Vec<Finding> {
    let lines: Vec<(usize, &str)> = text.lines().enumerate().map(|(i, l)| (i + 1, l)).collect();
    scan_lines(file, &lines, options)
}

/// A candidate AccessKeyId.
struct IdCand {
    /// Index into the caller's lines.
    li: usize,
    token: Token,
}

/// A candidate secret.
struct SecretCand {
    li: usize,
    token: Token,
    /// Assigned to a secret-like name (`AccessKeySecret = …`).
    named: bool,
    /// Alone on its line apart from quotes and punctuation (a positional argument of a call
    /// split over lines).
    bare: bool,
    /// The name, for the reason text.
    key: String,
}

/// A possible pairing, ranked by `rank`.
struct Pairing {
    id: usize,
    /// (line index, index within the line's secrets).
    secret: (usize, usize),
    /// 0 named on the same line, 1 named within the window, 2 positional on the same line,
    /// 3 positional on its own line just below the id.
    class: u8,
    line_distance: usize,
    /// The secret comes before the id.
    before: bool,
    column_distance: usize,
}

/// Scans lines that the caller numbered: `(line number, text)`, in ascending line order
/// (gaps allowed, e.g. the added lines of a diff; pairing uses the numbers).
pub fn scan_lines(file: &str, lines: &[(usize, &str)], options: &ScanOptions) -> Vec<Finding> {
    // 1. Candidates.
    let mut ids: Vec<IdCand> = Vec::new();
    let mut secrets: Vec<Vec<SecretCand>> = Vec::with_capacity(lines.len());
    for (li, (_, line)) in lines.iter().enumerate() {
        let mut here = Vec::new();
        for token in context::tokens(line) {
            let text = line.get(token.start..token.end).unwrap_or_default();
            let body = line.get(token.body_start..token.end).unwrap_or_default();
            if weakness(body).is_some() {
                continue;
            }
            match token.shape {
                Shape::Ltai24 | Shape::Ltai16 | Shape::Sts => ids.push(IdCand { li, token }),
                Shape::Secret30 | Shape::Secret44 => {
                    if text.starts_with("LTAI") {
                        continue;
                    }
                    let mut key = key_before(line, token.start);
                    // A random-looking "name" is a value (the id itself in `LTAI…:secret`).
                    if key.starts_with("LTAI")
                        || key.starts_with("STS.")
                        || (key.len() >= 12 && weakness(key.trim_start_matches('-')).is_none())
                    {
                        key = "";
                    }
                    let named = is_secret_key(key);
                    if !named && is_other_value_key(key) {
                        continue;
                    }
                    here.push(SecretCand {
                        li,
                        token,
                        named,
                        bare: context::is_bare(line, token.start, token.end)
                            || context::is_generic_value_key(key)
                            || context::is_trailing_after_colon(line, token.start, token.end),
                        key: key.to_owned(),
                    });
                }
            }
        }
        secrets.push(here);
    }

    // 2. Possible pairings, bounded per id.
    let numbers: Vec<usize> = lines.iter().map(|(n, _)| *n).collect();
    let mut pairings: Vec<Pairing> = Vec::new();
    for (idx, id) in ids.iter().enumerate() {
        let Some(&id_line) = numbers.get(id.li) else {
            continue;
        };
        let first = numbers.partition_point(|&n| n + PAIR_WINDOW < id_line);
        let last = numbers.partition_point(|&n| n <= id_line + PAIR_WINDOW);
        for li in first..last {
            let (Some(&line_no), Some(cands)) = (numbers.get(li), secrets.get(li)) else {
                continue;
            };
            let same_line = li == id.li;
            let split = cands.partition_point(|s| s.token.start < id.token.start);
            let lo = split.saturating_sub(NEAREST_PER_LINE);
            let hi = (split + NEAREST_PER_LINE).min(cands.len());
            for (k, cand) in cands.iter().enumerate().take(hi).skip(lo) {
                if !compatible(id.token.shape, cand.token.shape) {
                    continue;
                }
                let column_distance = if cand.token.start >= id.token.end {
                    cand.token.start - id.token.end
                } else {
                    id.token.start.saturating_sub(cand.token.end)
                };
                let class = match (same_line, cand.named) {
                    (true, true) => 0,
                    (false, true) => 1,
                    (true, false) if column_distance <= POSITIONAL_REACH => 2,
                    (false, false)
                        if cand.bare
                            && line_no > id_line
                            && line_no - id_line <= POSITIONAL_LINES =>
                    {
                        3
                    }
                    _ => continue,
                };
                pairings.push(Pairing {
                    id: idx,
                    secret: (li, k),
                    class,
                    line_distance: line_no.abs_diff(id_line),
                    before: line_no < id_line || (same_line && cand.token.start < id.token.start),
                    column_distance,
                });
            }
        }
    }
    pairings.sort_by_key(|p| (p.class, p.line_distance, p.before, p.column_distance));

    // 3. Greedy assignment: each id and each secret once.
    let fenced = fences(lines);
    let mut id_used = vec![false; ids.len()];
    let mut secret_used: Vec<Vec<bool>> = secrets.iter().map(|s| vec![false; s.len()]).collect();
    let mut findings = Vec::new();
    for p in &pairings {
        let (li, k) = p.secret;
        if id_used.get(p.id).copied().unwrap_or(true)
            || secret_used
                .get(li)
                .and_then(|v| v.get(k))
                .copied()
                .unwrap_or(true)
        {
            continue;
        }
        if let Some(u) = id_used.get_mut(p.id) {
            *u = true;
        }
        if let Some(u) = secret_used.get_mut(li).and_then(|v| v.get_mut(k)) {
            *u = true;
        }
        let (Some(id), Some(secret)) = (ids.get(p.id), secrets.get(li).and_then(|v| v.get(k)))
        else {
            continue;
        };
        if let Some(f) = pair_finding(file, lines, &numbers, &fenced, id, secret, p, options) {
            findings.push(f);
        }
    }

    // 4. Ids left alone.
    if options.lone_ids {
        for (idx, id) in ids.iter().enumerate() {
            if id_used.get(idx).copied().unwrap_or(true) {
                continue;
            }
            let Some(&line_no) = numbers.get(id.li) else {
                continue;
            };
            let example = marked_as_example(lines, &numbers, &fenced, line_no, line_no);
            if example && !options.examples {
                continue;
            }
            let Some(line) = lines.get(id.li).map(|(_, l)| *l) else {
                continue;
            };
            let access_key_id = line
                .get(id.token.start..id.token.end)
                .unwrap_or_default()
                .to_owned();
            findings.push(Finding {
                file: file.to_owned(),
                kind: kind_of(file, lines, &numbers, id.token.shape, line_no, line_no),
                access_key_id,
                line: line_no,
                column: column(line, id.token.start),
                secret_line: None,
                secret_preview: None,
                confidence: Confidence::Low,
                example,
                reason: format!("AccessKeyId without a secret within {PAIR_WINDOW} lines"),
            });
        }
    }
    findings.sort_by_key(|f| (f.line, f.column));
    findings
}

fn compatible(id: Shape, secret: Shape) -> bool {
    matches!(
        (id, secret),
        (Shape::Ltai24 | Shape::Ltai16, Shape::Secret30) | (Shape::Sts, Shape::Secret44)
    )
}

#[allow(clippy::too_many_arguments)]
fn pair_finding(
    file: &str,
    lines: &[(usize, &str)],
    numbers: &[usize],
    fenced: &[Option<usize>],
    id: &IdCand,
    secret: &SecretCand,
    p: &Pairing,
    options: &ScanOptions,
) -> Option<Finding> {
    let (&id_line_no, id_line) = lines.get(id.li).map(|(n, l)| (n, *l))?;
    let (&secret_line_no, secret_line) = lines.get(secret.li).map(|(n, l)| (n, *l))?;
    let (lo, hi) = (
        id_line_no.min(secret_line_no),
        id_line_no.max(secret_line_no),
    );
    let example = marked_as_example(lines, numbers, fenced, lo, hi);
    if example && !options.examples {
        return None;
    }
    let secret_text = secret_line.get(secret.token.start..secret.token.end)?;
    let where_ = match secret_line_no.cmp(&id_line_no) {
        std::cmp::Ordering::Equal => "on the same line".to_owned(),
        std::cmp::Ordering::Greater => plural(secret_line_no - id_line_no, "below"),
        std::cmp::Ordering::Less => plural(id_line_no - secret_line_no, "above"),
    };
    let mut reason = if secret.named {
        format!("secret assigned to `{}` {where_}", secret.key)
    } else {
        format!("secret next to the id {where_}")
    };
    let confidence = if example {
        reason.push_str("; marked as an example");
        Confidence::Low
    } else if p.class >= 2 {
        Confidence::Medium
    } else {
        Confidence::High
    };
    Some(Finding {
        file: file.to_owned(),
        kind: kind_of(file, lines, numbers, id.token.shape, lo, hi),
        access_key_id: id_line.get(id.token.start..id.token.end)?.to_owned(),
        line: id_line_no,
        column: column(id_line, id.token.start),
        secret_line: Some(secret_line_no),
        secret_preview: Some(preview(secret_text)),
        confidence,
        example,
        reason,
    })
}

fn plural(n: usize, dir: &str) -> String {
    if n == 1 {
        format!("1 line {dir}")
    } else {
        format!("{n} lines {dir}")
    }
}

/// 1-based character column of byte offset `at`.
fn column(line: &str, at: usize) -> usize {
    line.get(..at).map_or(at, |p| p.chars().count()) + 1
}

/// The lines numbered `from` to `to` (inclusive) that the caller passed.
fn lines_between<'a>(
    lines: &'a [(usize, &'a str)],
    numbers: &[usize],
    from: usize,
    to: usize,
) -> impl Iterator<Item = &'a str> {
    let first = numbers.partition_point(|&n| n < from);
    let last = numbers.partition_point(|&n| n <= to);
    lines
        .get(first..last.max(first))
        .unwrap_or_default()
        .iter()
        .map(|(_, l)| *l)
}

/// For each line, the index of the opening line of the fenced code block (```` ``` ```` or
/// `~~~`) that contains it.
fn fences(lines: &[(usize, &str)]) -> Vec<Option<usize>> {
    let mut open: Option<usize> = None;
    let mut out = Vec::with_capacity(lines.len());
    for (i, (_, line)) in lines.iter().enumerate() {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            out.push(Some(open.unwrap_or(i)));
            open = if open.is_some() { None } else { Some(i) };
        } else {
            out.push(open);
        }
    }
    out
}

/// Lines that say "example": `lo` to `hi` anywhere, the two lines above at their start,
/// and, inside a fenced code block,
/// the fence line and the three lines before it (`## Example` / "For example:" above a code
/// block in documentation).
fn marked_as_example(
    lines: &[(usize, &str)],
    numbers: &[usize],
    fenced: &[Option<usize>],
    lo: usize,
    hi: usize,
) -> bool {
    if lines_between(lines, numbers, lo, hi).any(has_example_marker)
        || lines_between(lines, numbers, lo.saturating_sub(2), lo.saturating_sub(1))
            .any(has_leading_example_marker)
    {
        return true;
    }
    let first = numbers.partition_point(|&n| n < lo);
    match fenced.get(first).copied().flatten() {
        Some(fence) => lines
            .get(fence.saturating_sub(3)..=fence)
            .unwrap_or_default()
            .iter()
            .any(|(_, l)| has_leading_example_marker(l)),
        None => false,
    }
}

fn kind_of(
    file: &str,
    lines: &[(usize, &str)],
    numbers: &[usize],
    shape: Shape,
    lo: usize,
    hi: usize,
) -> KeyKind {
    match shape {
        Shape::Sts => KeyKind::Sts,
        Shape::Ltai16 => KeyKind::Alibaba,
        _ => {
            let mentions = |s: &str| s.to_ascii_lowercase().contains("cloudward");
            if mentions(file)
                || lines_between(lines, numbers, lo.saturating_sub(2), hi + 2).any(mentions)
            {
                KeyKind::Cloudward
            } else {
                KeyKind::Alibaba
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "LTAI5tQw8ZkPr2sXbN4mHc7D";
    const SECRET: &str = "Zr8QmW2pXk5NcV7bT1yH4jL9sDfG3a";
    const STS_ID: &str = "STS.NKKJ4fxwXFRPSA1RpHM7UN1eB";
    const STS_SECRET: &str = "FUQXx4EgWunH24BgpoSPY2HpbkmuRoHs6dkSg1HoTkUx";

    fn scan(text: &str) -> Vec<Finding> {
        scan_text("f", text, &ScanOptions::default())
    }

    #[test]
    fn pairs_in_common_shapes() {
        let texts = [
            format!("access_key_id = {ID}\naccess_key_secret = {SECRET}\n"),
            format!("{{\"AccessKeyId\": \"{ID}\", \"AccessKeySecret\": \"{SECRET}\"}}"),
            format!(
                "export ALIBABA_CLOUD_ACCESS_KEY_ID={ID}\n\nexport ALIBABA_CLOUD_ACCESS_KEY_SECRET={SECRET}"
            ),
            format!("aliyun configure --access-key-id {ID} --access-key-secret {SECRET}"),
            format!("client = AcsClient(\"{ID}\", \"{SECRET}\", \"cn-hangzhou\")"),
            format!("https://x/?AccessKeyId={ID}&AccessKeySecret={SECRET}&a=b"),
            format!("{ID},{SECRET}"),
            format!(
                "client = AcsClient(\n    \"{ID}\",\n    \"{SECRET}\",\n    \"cn-hangzhou\",\n)"
            ),
            format!("Access Key Id []: {ID}\nAccess Key Secret []: {SECRET}\n"),
            format!(
                "{{\"env\": \"{{\\\"AccessKeyId\\\":\\\"{ID}\\\",\\n\\\"AccessKeySecret\\\":\\\"{SECRET}\\\"}}\"}}"
            ),
        ];
        for t in &texts {
            let f = scan(t);
            assert_eq!(f.len(), 1, "{t}: {f:?}");
            let f = &f[0];
            assert_eq!(f.access_key_id, ID);
            assert_eq!(f.kind, KeyKind::Alibaba);
            assert_eq!(f.secret_preview.as_deref(), Some("Zr8Q…"));
            assert!(!format!("{f:?}").contains(SECRET));
        }
    }

    #[test]
    fn sts_pairs_and_kinds() {
        let t = format!(
            "\"Credentials\": {{\n  \"AccessKeyId\": \"{STS_ID}\",\n  \"AccessKeySecret\": \"{STS_SECRET}\"\n}}"
        );
        let f = scan(&t);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f.iter()
                .all(|f| f.kind == KeyKind::Sts && f.line == 2 && f.column == 19)
        );
        let c = format!("CLOUDWARD_ACCESS_KEY_ID={ID}\nCLOUDWARD_ACCESS_KEY_SECRET={SECRET}");
        assert!(scan(&c).iter().all(|f| f.kind == KeyKind::Cloudward));
    }

    #[test]
    fn look_alikes_are_not_reported() {
        let texts = [
            format!("access_key_id = {ID}\n"),
            format!("access_key_secret = {SECRET}\n"),
            "AccessKeyId: LTAI4GENiH2u8MVj7Khh****\nAccessKeySecret: ****".to_owned(),
            format!("access_key_id = {ID}\naccess_key_secret = 0123456789abcdef0123456789abcdef\n"),
            format!("id = {ID}\nsha = 9fbe1c0d6a3e4b7f8a2c5d1e0f9a8b7c6d5e4f3a\n"),
            format!("# Example:\naccess_key_id = {ID}\naccess_key_secret = {SECRET}\n"),
            format!(
                "access_key_id = {ID}\n{}access_key_secret = {SECRET}\n",
                "\n".repeat(20)
            ),
            format!("access_key_id = {ID}\naccess_key_secret = ${{ALIYUN_SECRET}}\n"),
            format!("id={ID} signature={SECRET}"),
        ];
        for t in &texts {
            assert!(scan(t).is_empty(), "{t}: {:?}", scan(t));
        }
    }

    #[test]
    fn options_report_lone_ids_and_examples() {
        let opts = ScanOptions {
            lone_ids: true,
            examples: true,
        };
        let lone = scan_text("f", &format!("user {ID} logged in"), &opts);
        assert_eq!(lone.len(), 1);
        assert!(
            lone.iter()
                .all(|f| f.confidence == Confidence::Low && f.secret_preview.is_none())
        );
        let ex = scan_text("f", &format!("e.g. id={ID}\nsecret: {SECRET}"), &opts);
        assert!(
            ex.iter()
                .all(|f| f.example && f.confidence == Confidence::Low),
            "{ex:?}"
        );
        assert_eq!(ex.len(), 1);
    }

    #[test]
    fn each_id_takes_its_nearest_secret() {
        let other = "Kq2WzP9xLm4NbV6cT8yR3jH5sGfD1a";
        let id2 = "LTAI5tXy7Qm2Wp9Kd3Zr8Nb4";
        let t = format!(
            "[a]\naccess_key_id = {ID}\naccess_key_secret = {SECRET}\n[b]\naccess_key_id = {id2}\naccess_key_secret = {other}\n"
        );
        let f = scan(&t);
        assert_eq!(f.len(), 2, "{f:?}");
        let got: Vec<_> = f
            .iter()
            .map(|f| (f.line, f.secret_line, f.secret_preview.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (2, Some(3), Some("Zr8Q…".to_owned())),
                (5, Some(6), Some("Kq2W…".to_owned()))
            ]
        );
    }
}
