//! Reading tokens and their surroundings in one line: word boundaries, the key a value is
//! assigned to, and markers that say a line shows an example.

/// The shape of a candidate token (format only; randomness is judged separately).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `LTAI` + 20 letters/digits (24 characters): current Alibaba and Cloudward ids.
    Ltai24,
    /// `LTAI` + 12 letters/digits (16 characters): older Alibaba ids.
    Ltai16,
    /// `STS.` + 16 to 64 letters/digits.
    Sts,
    /// 30 letters/digits: a permanent AccessKey secret.
    Secret30,
    /// 44 letters/digits: an STS AccessKey secret.
    Secret44,
}

/// A candidate token: byte range in its line and the range of its random part.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub shape: Shape,
    pub start: usize,
    pub end: usize,
    /// Start of the random part (after `LTAI` / `STS.`); equals `start` for secrets.
    pub body_start: usize,
}

/// Percent-escapes that stand for a separator (`=`, `"`, space, `&`, `:`, `'`, `,`, `\n`,
/// `\t`), so `AccessKeyId%3DLTAI...` still starts the id at a boundary.
const SEPARATOR_ESCAPES: &[&[u8; 2]] = &[
    b"3D", b"3d", b"22", b"20", b"26", b"3A", b"3a", b"27", b"2C", b"2c", b"0A", b"0a", b"09",
];

/// Every candidate token in `line`, in order. A candidate is a maximal run of ASCII
/// letters/digits (after an escape prefix such as `%3D` or `\n` is removed) whose
/// neighbours do not make it part of a longer token: base64 (`+`, `/`, `=` padding), paths,
/// identifiers (`_`, `-`, `.`), masks (`*`), templates (`${`, `{{`, `<...>`), truncation
/// (`...`, `…`).
pub(crate) fn tokens(line: &str) -> Vec<Token> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0usize;
    while i < bytes.len() {
        if !bytes.get(i).is_some_and(u8::is_ascii_alphanumeric) {
            i += 1;
            continue;
        }
        let run_start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_alphanumeric) {
            i += 1;
        }
        let run_end = i;
        let Some(start) = logical_start(bytes, run_start, run_end) else {
            continue;
        };
        let run = bytes.get(start..run_end).unwrap_or_default();
        // `STS.` + body: the body is the next run.
        if run == b"STS" && bytes.get(run_end) == Some(&b'.') && prev_ok(bytes, start) {
            let body_start = run_end + 1;
            let mut j = body_start;
            while bytes.get(j).is_some_and(u8::is_ascii_alphanumeric) {
                j += 1;
            }
            if (16..=64).contains(&(j - body_start)) && next_ok(bytes, j) {
                out.push(Token {
                    shape: Shape::Sts,
                    start,
                    end: j,
                    body_start,
                });
            }
            // The body run is visited next on its own; its `.` neighbour rejects it.
            continue;
        }
        if !prev_ok(bytes, start) || !next_ok(bytes, run_end) || enclosed(bytes, start, run_end) {
            continue;
        }
        let len = run_end - start;
        let shape = if run.starts_with(b"LTAI") {
            match len {
                24 => Shape::Ltai24,
                16 => Shape::Ltai16,
                _ => continue,
            }
        } else {
            match len {
                30 => Shape::Secret30,
                44 => Shape::Secret44,
                _ => continue,
            }
        };
        let body_start = match shape {
            Shape::Ltai24 | Shape::Ltai16 => start + 4,
            _ => start,
        };
        out.push(Token {
            shape,
            start,
            end: run_end,
            body_start,
        });
    }
    out
}

/// Where the token of the run `[run_start, run_end)` really starts, or `None` when the run
/// follows a `%` that is not a separator escape (it is percent-encoded data).
fn logical_start(bytes: &[u8], run_start: usize, run_end: usize) -> Option<usize> {
    let prev = run_start.checked_sub(1).and_then(|p| bytes.get(p)).copied();
    match prev {
        Some(b'%') => {
            let head = bytes.get(run_start..run_start + 2)?;
            if run_end >= run_start + 2 && SEPARATOR_ESCAPES.iter().any(|e| e.as_slice() == head) {
                Some(run_start + 2)
            } else {
                None
            }
        }
        Some(b'\\') if matches!(bytes.get(run_start), Some(b'n' | b't' | b'r')) => {
            Some(run_start + 1)
        }
        _ => Some(run_start),
    }
}

/// Whether the byte before `start` may precede a credential.
fn prev_ok(bytes: &[u8], start: usize) -> bool {
    let Some(p) = start.checked_sub(1) else {
        return true;
    };
    match bytes.get(p) {
        None => true,
        // `%3D` and `\n` were handled by `logical_start`; the escape's letters precede us.
        // Runs are maximal, so a letter or digit here is the tail of an escape that
        // `logical_start` removed (`%3D`, `\n`).
        Some(c) if c.is_ascii_alphanumeric() => true,
        // `scheme://ID:SECRET@host` carries credentials; other slashes are paths.
        Some(b'/') => p >= 2 && bytes.get(p - 2..p) == Some(&b":/"[..]),
        Some(b'+' | b'_' | b'-' | b'*' | b'.' | b'$' | b'~' | b'%' | b'\\') => false,
        Some(b'{') => !matches!(
            p.checked_sub(1).and_then(|q| bytes.get(q)),
            Some(b'{' | b'$')
        ),
        Some(_) => true,
    }
}

/// Whether the byte at `end` (just after the token) may follow a credential.
fn next_ok(bytes: &[u8], end: usize) -> bool {
    match bytes.get(end) {
        None => true,
        Some(b'+' | b'/' | b'_' | b'-' | b'*' | b'=' | b'$' | b'~') => false,
        // `LTAI....example.com`, `abc...` (truncated): part of a name or shortened.
        Some(b'.') => !matches!(
            bytes.get(end + 1),
            Some(c) if c.is_ascii_alphanumeric() || *c == b'.'
        ),
        // U+2026 HORIZONTAL ELLIPSIS: a shortened value.
        Some(0xE2) => bytes.get(end + 1..end + 3) != Some(&[0x80, 0xA6]),
        Some(_) => true,
    }
}

/// `<token>` (a placeholder or a tag name) or `{token}` (a template variable).
fn enclosed(bytes: &[u8], start: usize, end: usize) -> bool {
    let prev = start.checked_sub(1).and_then(|p| bytes.get(p));
    let next = bytes.get(end);
    matches!(
        (prev, next),
        (Some(b'<'), Some(b'>')) | (Some(b'{'), Some(b'}'))
    )
}

/// The name a value at `start` is assigned to, if the text just before it reads like
/// `name = "`, `"name": "`, `name: `, `--name `, `<name>`, `name=` or `name => '`. Returns
/// the empty string when there is no such name.
pub(crate) fn key_before(line: &str, start: usize) -> &str {
    let bytes = line.as_bytes();
    let mut i = start;
    let mut skipped = 0usize;
    while i > 0 && skipped < 12 {
        match bytes.get(i - 1) {
            Some(
                b' ' | b'\t' | b'"' | b'\'' | b'`' | b':' | b'=' | b'>' | b'(' | b')' | b'[' | b']'
                | b'{' | b'}' | b',' | b'\\' | b'*' | b'|',
            ) => {
                i -= 1;
                skipped += 1;
            }
            // FULLWIDTH COLON and FULLWIDTH EQUALS SIGN (Chinese text): EF BC 9A / 9D.
            Some(0x9A | 0x9D) if i >= 3 && bytes.get(i - 3..i - 1) == Some(&[0xEF, 0xBC][..]) => {
                i -= 3;
                skipped += 1;
            }
            _ => break,
        }
    }
    let end = i;
    // Chinese documentation names the secret 密钥 (often typed 秘钥) or 私钥.
    if let Some(head) = line.get(..end)
        && let Some(name) = ["密钥", "秘钥", "私钥"]
            .iter()
            .find(|n| head.ends_with(**n))
    {
        return line.get(end - name.len()..end).unwrap_or_default();
    }
    while i > 0
        && end - i < 64
        && bytes
            .get(i - 1)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
    {
        i -= 1;
    }
    line.get(i..end).unwrap_or_default()
}

/// Whether the line holds nothing but the token at `start..end`, quotes, brackets,
/// commas, semicolons and blanks (`    "abc…",` or `"abc…");`).
pub(crate) fn is_bare(line: &str, start: usize, end: usize) -> bool {
    let rest = |s: &str| {
        s.bytes().all(|b| {
            matches!(
                b,
                b' ' | b'\t'
                    | b'"'
                    | b'\''
                    | b'`'
                    | b','
                    | b';'
                    | b'('
                    | b')'
                    | b'['
                    | b']'
                    | b'{'
                    | b'}'
                    | b'\r'
            )
        })
    };
    line.get(..start).is_some_and(rest) && line.get(end..).is_some_and(rest)
}

/// Splits an identifier into lower-case parts at `_`, `-`, `.` and camel-case humps.
fn parts(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if matches!(c, '_' | '-' | '.') {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A name under which a secret is stored: contains `secret` (`AccessKeySecret`,
/// `access_key_secret`, `secret_key`, `SecretAccessKey`, `--access-key-secret`) or ends
/// in the part `sk` (`ALIYUN_SK`, `akSk`), or is the Chinese 密钥 / 秘钥 / 私钥.
pub(crate) fn is_secret_key(name: &str) -> bool {
    if name.to_ascii_lowercase().contains("secret") || matches!(name, "密钥" | "秘钥" | "私钥")
    {
        return true;
    }
    let parts = parts(name);
    // `OSS_ACCESS_KEY`, `accessKey`, `access_key` beside an `…_ID`: the old OSS SDKs name
    // the secret so. Only 30/44-character random values get here, never the id itself.
    let key_named = parts.last().is_some_and(|p| p == "key" || p == "accesskey")
        && parts
            .iter()
            .any(|p| p == "access" || p == "accesskey" || p == "oss");
    key_named || parts.last().is_some_and(|p| p == "sk")
}

/// Names that say nothing about what they hold (`<arg value="…"/>`, `val: …`): a value
/// under one of them is treated like a bare value for positional pairing.
pub(crate) fn is_generic_value_key(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "value" | "val" | "arg" | "param" | "constructor-arg"
    )
}

/// Whether the token ends its line after a `Name:` prefix, as in a chat or ticket paste
/// (`[10:31] Wang Wei: <value>`): nothing but blanks and quotes after it, a colon before it.
pub(crate) fn is_trailing_after_colon(line: &str, start: usize, end: usize) -> bool {
    let after_ok = line.get(end..).is_some_and(|rest| {
        rest.bytes()
            .all(|b| matches!(b, b' ' | b'\t' | b'"' | b'\'' | b'`' | b'\r'))
    });
    let before = line
        .get(..start)
        .unwrap_or_default()
        .trim_end_matches([' ', '\t', '"', '\'', '`']);
    after_ok && (before.ends_with(':') || before.ends_with('：'))
}

/// A name under which something that is not an AccessKey secret is stored: digests,
/// signatures, nonces, tokens, request ids. A same-line value under such a name is not
/// paired with an id.
pub(crate) fn is_other_value_key(name: &str) -> bool {
    const OTHER: &[&str] = &[
        "hash",
        "sha",
        "sha1",
        "sha256",
        "md5",
        "digest",
        "checksum",
        "signature",
        "sig",
        "nonce",
        "token",
        "etag",
        "commit",
        "rev",
        "request",
        "trace",
        "span",
        "session",
        "salt",
        "iv",
        "fingerprint",
        "uuid",
        "guid",
        "integrity",
        "version",
    ];
    parts(name).iter().any(|p| {
        OTHER.contains(&p.as_str())
            || matches!(p.as_str(), "sha224" | "sha384" | "sha512" | "sha3" | "sha2")
    })
}

/// Whether a line says that what it shows is an example: a whole word `example(s)`,
/// `sample(s)`, `placeholder`, `dummy`, `fake`, or `e.g.` / `for instance`. The domains
/// `example.com` / `example.org` and `user@example` do not count.
pub(crate) fn has_example_marker(line: &str) -> bool {
    example_marker(line).is_some()
}

/// Like [`has_example_marker`] for a line above the one that holds the key: the marker must
/// lead the line (`# Example:`, `## Sample`, `For example, ...`), not trail a statement
/// (`REV=$(git rev-parse HEAD)  # e.g. 3f2a...`).
pub(crate) fn has_leading_example_marker(line: &str) -> bool {
    example_marker(line)
        .and_then(|at| line.get(..at))
        .is_some_and(|before| !before.contains(['=', '(', ';', '{']))
}

/// Byte offset of the first example marker in `line`.
fn example_marker(line: &str) -> Option<usize> {
    const WORDS: &[&str] = &[
        "examples",
        "example",
        "samples",
        "sample",
        "placeholder",
        "placeholders",
        "dummy",
        "fake",
        "e.g.",
        "for instance",
    ];
    let lower = line.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut first: Option<usize> = None;
    let is_word = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
    for word in WORDS {
        let mut from = 0usize;
        while let Some(pos) = lower.get(from..).and_then(|rest| rest.find(word)) {
            let at = from + pos;
            let end = at + word.len();
            from = at + 1;
            let before = at.checked_sub(1).and_then(|p| bytes.get(p));
            if is_word(before) || (!word.ends_with('.') && is_word(bytes.get(end))) {
                continue;
            }
            if word.starts_with("example") {
                let domain = bytes.get(end) == Some(&b'.')
                    && bytes.get(end + 1).is_some_and(u8::is_ascii_alphabetic);
                if domain || matches!(before, Some(b'.' | b'@')) {
                    continue;
                }
            }
            first = Some(first.map_or(at, |f| f.min(at)));
            break;
        }
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shapes(line: &str) -> Vec<(Shape, &str)> {
        tokens(line)
            .into_iter()
            .map(|t| (t.shape, line.get(t.start..t.end).unwrap_or_default()))
            .collect()
    }

    #[test]
    fn ids_and_secrets_at_boundaries() {
        let id = "LTAI5tQw8ZkPr2sXbN4mHc7D";
        let secret = "Zr8QmW2pXk5NcV7bT1yH4jL9sDfG3a";
        assert_eq!(
            shapes(&format!("key = \"{id}\" secret=\"{secret}\"")),
            vec![(Shape::Ltai24, id), (Shape::Secret30, secret)]
        );
        assert_eq!(
            shapes(&format!("?AccessKeyId%3D{id}%26x")),
            vec![(Shape::Ltai24, id)]
        );
        assert_eq!(
            shapes("STS.NKKJ4fxwXFRPSA1RpHM7UN1eB,"),
            vec![(Shape::Sts, "STS.NKKJ4fxwXFRPSA1RpHM7UN1eB")]
        );
    }

    #[test]
    fn parts_of_longer_tokens_are_not_candidates() {
        for line in [
            "aGVsbG8+LTAI5tQw8ZkPr2sXbN4mHc7D/abc",
            "xLTAI5tQw8ZkPr2sXbN4mHc7D",
            "LTAI5tQw8ZkPr2sXbN4mHc7Dx",
            "LTAI5tQw8ZkPr2sXbN4mHc7D****",
            "https://h/LTAI5tQw8ZkPr2sXbN4mHc7D/obj",
            "my_LTAI5tQw8ZkPr2sXbN4mHc7D",
            "Zr8QmW2pXk5NcV7bT1yH4jL9sDfG3a==",
            "${Zr8QmW2pXk5NcV7bT1yH4jL9sDfG3a}",
            "<Zr8QmW2pXk5NcV7bT1yH4jL9sDfG3a>",
            "LTAI5tQw8ZkPr2sXbN4mHc7D...",
            "LTAI5tQw8ZkPr2sXbN4mHc7D\u{2026}",
            "%2FLTAI5tQw8ZkPr2sXbN4mHc7D",
        ] {
            assert!(shapes(line).is_empty(), "{line}: {:?}", shapes(line));
        }
    }

    #[test]
    fn keys_before_values() {
        let cases = [
            ("access_key_secret = \"V\"", "access_key_secret"),
            ("\"AccessKeySecret\": \"V\"", "AccessKeySecret"),
            (
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET=V",
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            ),
            ("--access-key-secret V", "--access-key-secret"),
            ("<AccessKeySecret>V", "AccessKeySecret"),
            ("**AccessKey Secret**: `V`", "Secret"),
            ("| AccessKeySecret | V |", "AccessKeySecret"),
            ("AccessKey 密钥：V", "密钥"),
            ("a&AccessKeySecret=V", "AccessKeySecret"),
            ("V", ""),
        ];
        for (line, key) in cases {
            let at = line.find('V').unwrap_or(0);
            assert_eq!(key_before(line, at), key, "{line}");
        }
        assert!(is_secret_key("SecretAccessKey"));
        assert!(is_secret_key("ALIYUN_SK"));
        assert!(is_secret_key("秘钥"));
        assert!(!is_secret_key("disk"));
        assert!(is_other_value_key("commit_sha"));
        assert!(is_other_value_key("SecurityToken"));
        assert!(!is_other_value_key("AccessKeySecret"));
    }

    #[test]
    fn example_markers() {
        assert!(has_example_marker("# Example: configure the client"));
        assert!(has_example_marker("e.g. LTAI..."));
        assert!(has_example_marker("// sample credentials"));
        assert!(!has_example_marker("endpoint = https://ram.example.com"));
        assert!(!has_example_marker("mail admin@example.org"));
        assert!(!has_example_marker("sample_rate = 0.1"));
        assert!(!has_example_marker("counterexample"));
        assert!(has_leading_example_marker(
            "# Example credentials (not real):"
        ));
        assert!(!has_leading_example_marker(
            "REV=$(git rev-parse HEAD)   # e.g. 3f2a"
        ));
    }
}
