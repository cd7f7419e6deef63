//! RAM wildcard patterns: `*` matches any run of characters (including none) and `?` matches
//! exactly one character. Nothing else is special: there are no classes (`[]`), alternations
//! (`{}`) or escapes, so `[`, `{` and `\` are literals.
//!
//! Matching is linear in practice and O(n·m) in the worst case: the classic two-pointer
//! algorithm remembers only the most recent `*` and, on a mismatch, restarts from the character
//! after the one that star last absorbed. Because a later star can absorb everything an earlier
//! star could, the algorithm never needs to go back further than the last star, so there is no
//! exponential backtracking however many stars a pattern has (see the pathological-pattern
//! tests).

/// A compiled wildcard pattern.
///
/// Patterns keep a fast path for the shapes that dominate real policies (`*`, a literal, a
/// literal prefix followed by `*`) and fall back to the general matcher otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// `*`, `**`, ...: matches everything.
    Any,
    /// No wildcard at all.
    Exact(Box<str>),
    /// `literal*` with no other wildcard; holds the whole pattern, star included.
    Prefix(Box<str>),
    /// Anything else.
    General(Box<str>),
}

impl Pattern {
    /// Compiles an owned pattern without copying it.
    pub fn from_string(pattern: String) -> Self {
        let kind = if !pattern.is_empty() && pattern.bytes().all(|b| b == b'*') {
            Kind::Any
        } else if !pattern.contains(['*', '?']) {
            Kind::Exact(pattern.into_boxed_str())
        } else if pattern
            .strip_suffix('*')
            .is_some_and(|prefix| !prefix.contains(['*', '?']))
        {
            Kind::Prefix(pattern.into_boxed_str())
        } else {
            Kind::General(pattern.into_boxed_str())
        };
        Self { kind }
    }

    /// Compiles `pattern`. Compilation never fails: every string is a valid pattern.
    pub fn new(pattern: &str) -> Self {
        let kind = if !pattern.is_empty() && pattern.bytes().all(|b| b == b'*') {
            Kind::Any
        } else if !pattern.contains(['*', '?']) {
            Kind::Exact(pattern.into())
        } else if let Some(prefix) = pattern.strip_suffix('*')
            && !prefix.contains(['*', '?'])
        {
            Kind::Prefix(pattern.into())
        } else {
            Kind::General(pattern.into())
        };
        Self { kind }
    }

    /// True when the pattern contains a wildcard.
    pub fn has_wildcard(&self) -> bool {
        !matches!(self.kind, Kind::Exact(_))
    }

    /// True when the pattern matches every string.
    pub fn is_any(&self) -> bool {
        matches!(self.kind, Kind::Any)
    }

    /// The pattern text as written.
    pub fn as_str(&self) -> &str {
        match &self.kind {
            Kind::Any => "*",
            Kind::Exact(s) | Kind::General(s) | Kind::Prefix(s) => s,
        }
    }

    /// Matches the whole of `text` against the pattern (case-sensitive).
    pub fn matches(&self, text: &str) -> bool {
        match &self.kind {
            Kind::Any => true,
            Kind::Exact(lit) => **lit == *text,
            Kind::Prefix(pattern) => pattern
                .strip_suffix('*')
                .is_some_and(|prefix| text.starts_with(prefix)),
            Kind::General(pattern) => wildcard_match(pattern, text),
        }
    }
}

/// Matches `text` against `pattern` with RAM wildcard semantics, in O(len(pattern) ·
/// len(text)) time at worst and O(1) extra space.
///
/// Works on bytes for speed but keeps both cursors on UTF-8 character boundaries: literals are
/// compared byte by byte (a literal that starts on a boundary and matches ends on one, because
/// UTF-8 is self-synchronising), and `?` and star backtracking advance the text by a whole
/// character.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0usize, 0usize);
    // Position in the pattern just after the last `*`, and the text position that star's
    // match currently ends at.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                pi += 1;
                star = Some((pi, ti));
                continue;
            }
            Some(b'?') => {
                pi += 1;
                ti += char_len(t, ti);
                continue;
            }
            Some(&c) if t.get(ti) == Some(&c) => {
                pi += 1;
                ti += 1;
                continue;
            }
            _ => {}
        }
        // Mismatch: let the last star absorb one more character and retry after it.
        match star {
            Some((sp, st)) => {
                let next = st + char_len(t, st);
                star = Some((sp, next));
                pi = sp;
                ti = next;
            }
            None => return false,
        }
    }
    // Text exhausted: the rest of the pattern must be stars only.
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&b| b == b'*'))
}

/// Length in bytes of the UTF-8 character starting at `i` (1 past the end).
fn char_len(t: &[u8], i: usize) -> usize {
    match t.get(i) {
        Some(&b) if b >= 0xF0 => 4,
        Some(&b) if b >= 0xE0 => 3,
        Some(&b) if b >= 0xC0 => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*", "a"));
        assert!(wildcard_match("a*b", "ab"));
        assert!(wildcard_match("a*b", "axxb"));
        assert!(!wildcard_match("a*b", "axxc"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "ac"));
        assert!(wildcard_match("?", "é"));
        assert!(!wildcard_match("??", "é"));
        assert!(wildcard_match("a*é*z", "aXéYz"));
        assert!(wildcard_match("[ab]", "[ab]"));
        assert!(!wildcard_match("[ab]", "a"));
        assert!(wildcard_match("{a,b}", "{a,b}"));
        assert!(wildcard_match("**", "x"));
        assert!(!wildcard_match("", "x"));
        assert!(wildcard_match("", ""));
        assert!(wildcard_match("*a*a*a", "aaa"));
        assert!(!wildcard_match("*a*a*a", "aa"));
    }

    #[test]
    fn pattern_kinds() {
        assert!(Pattern::new("*").is_any());
        assert!(Pattern::new("ab*").matches("abc"));
        assert!(!Pattern::new("ab*").matches("a"));
        assert!(Pattern::new("ab").matches("ab"));
        assert!(Pattern::new("a*c").matches("abbbc"));
        assert!(!Pattern::new("").matches("a"));
    }
}
