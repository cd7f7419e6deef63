//! `cloudward scan-secrets PATH`: finds AccessKey pairs in files and in git history, and
//! with `--quarantine` asks the server to quarantine every AccessKeyId found.
//!
//! The detection itself is `cloudward-secretscan` (pure); this module walks directories,
//! runs `git log -p`, merges the two, prints and calls the server. Exit codes: 0 nothing
//! found; 1 findings; 2 usage or I/O error (a file or git could not be read and nothing was
//! found); 3 `--quarantine` could not reach the server or it failed (5xx).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, bail};
use clap::Args;
use cloudward_secretscan::{Finding, ScanOptions, scan_lines, scan_text};
use serde_json::{Value, json};

use crate::call_cmd::send;
use crate::client::{Profile, Signature, resolve_profile};
use crate::output::{Output, table};

/// Directories never entered.
const SKIP_DIRS: &[&str] = &[".git", "target", "node_modules"];

/// Bytes inspected for a NUL to call a file binary.
const BINARY_SNIFF: usize = 8192;

/// RAM API version of `QuarantineAccessKey`.
const RAM_VERSION: &str = "2015-05-01";

/// The error code that means "no such AccessKey on this server".
const NOT_LIVE_CODE: &str = "EntityNotExist.User.AccessKey";

/// Flags of `cloudward scan-secrets`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// File or directory to scan.
    path: PathBuf,
    /// Also scan git history (`git log -p --all`); the default when PATH is in a git work
    /// tree. An error when it is not.
    #[arg(long, conflicts_with = "no_git")]
    git: bool,
    /// Do not scan git history.
    #[arg(long)]
    no_git: bool,
    /// Skip files (and history diffs) larger than this, in bytes; K, M and G suffixes are
    /// powers of 1024.
    #[arg(long, default_value = "10M", value_parser = parse_size)]
    max_file_size: u64,
    /// Also report AccessKeyIds that have no secret nearby (low confidence).
    #[arg(long)]
    lone_ids: bool,
    /// Also report pairs that the text marks as examples (low confidence).
    #[arg(long)]
    include_examples: bool,
    /// Quarantine every AccessKeyId found on the server (RAM `QuarantineAccessKey`; only
    /// the id and where it was found are sent, never the secret).
    #[arg(long)]
    quarantine: bool,
    /// Profile for `--quarantine`.
    #[arg(long)]
    profile: Option<String>,
    /// Extra CA certificate (PEM) to trust for https endpoints (`--quarantine`).
    #[arg(long)]
    ca_cert: Option<PathBuf>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Output::Table)]
    output: Output,
}

fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size (bytes, or a number with K, M or G)"))?;
    let shift = match unit
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        _ => return Err(format!("unknown size unit in {text:?} (use K, M or G)")),
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("{text:?} is too large"))
}

/// Where a finding was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Only in the working tree (or not in a repository).
    Worktree,
    /// In the working tree and added by a commit.
    Both,
    /// Only in history: removed from the working tree since.
    History,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Worktree => "worktree",
            Source::Both => "worktree+history",
            Source::History => "history",
        }
    }
}

/// A finding with where it lives.
#[derive(Debug, Clone)]
struct Located {
    finding: Finding,
    /// Path shown to people.
    display: String,
    source: Source,
    /// The commit that added it (oldest one seen) when it is in history.
    commit: Option<String>,
}

/// Counters and non-fatal errors of one scan.
#[derive(Debug, Default)]
struct Stats {
    files: usize,
    skipped_large: usize,
    skipped_binary: usize,
    commits: usize,
    errors: Vec<String>,
}

/// Runs `cloudward scan-secrets`.
pub async fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let options = ScanOptions {
        lone_ids: args.lone_ids,
        examples: args.include_examples,
    };
    let meta = std::fs::metadata(&args.path)
        .with_context(|| format!("cannot read {}", args.path.display()))?;
    let base_dir = if meta.is_dir() {
        args.path.clone()
    } else {
        args.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    };
    let git_dir = if base_dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base_dir.clone()
    };
    let canon_base = std::fs::canonicalize(&git_dir)
        .with_context(|| format!("cannot resolve {}", git_dir.display()))?;

    let mut stats = Stats::default();
    // 1. Working tree.
    let mut files = Vec::new();
    collect_files(&args.path, true, &mut files, &mut stats);
    let mut located: Vec<Located> = Vec::new();
    let mut by_location: HashMap<(PathBuf, String), usize> = HashMap::new();
    for file in files {
        let Some(text) = read_text(&file, args.max_file_size, &mut stats) else {
            continue;
        };
        let display = file.display().to_string();
        for finding in scan_text(&display, &text, &options) {
            let canonical = std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
            by_location.insert((canonical, finding.access_key_id.clone()), located.len());
            located.push(Located {
                finding,
                display: display.clone(),
                source: Source::Worktree,
                commit: None,
            });
        }
    }

    // 2. History.
    let toplevel = if args.no_git {
        None
    } else {
        match git_toplevel(&git_dir) {
            Some(top) => Some(top),
            None if args.git => bail!("{} is not inside a git work tree", args.path.display()),
            None => None,
        }
    };
    if let Some(top) = toplevel {
        let pathspec = if meta.is_dir() {
            ".".to_owned()
        } else {
            args.path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| ".".to_owned())
        };
        let history = scan_history(
            &git_dir,
            &pathspec,
            args.max_file_size,
            &options,
            &mut stats,
        );
        // Newest commit first: the last one seen for a (path, id) is the one that added it.
        let mut oldest: BTreeMap<(String, String), (String, Finding)> = BTreeMap::new();
        for (commit, finding) in history {
            oldest.insert(
                (finding.file.clone(), finding.access_key_id.clone()),
                (commit, finding),
            );
        }
        for ((rel, id), (commit, finding)) in oldest {
            let absolute = top.join(&rel);
            if let Some(&i) = by_location.get(&(absolute.clone(), id)) {
                if let Some(l) = located.get_mut(i) {
                    l.source = Source::Both;
                    l.commit = Some(commit);
                }
                continue;
            }
            let display = match absolute.strip_prefix(&canon_base) {
                Ok(rest) => base_dir.join(rest).display().to_string(),
                Err(_) => rel.clone(),
            };
            located.push(Located {
                finding,
                display,
                source: Source::History,
                commit: Some(commit),
            });
        }
    }

    for err in &stats.errors {
        eprintln!("warning: {err}");
    }
    eprintln!(
        "scanned {} files ({} too large, {} binary skipped){}; {} finding(s)",
        stats.files,
        stats.skipped_large,
        stats.skipped_binary,
        if stats.commits > 0 {
            format!(", {} commits", stats.commits)
        } else {
            String::new()
        },
        located.len()
    );

    // 3. Quarantine: pairs only (an id reported alone with --lone-ids is not a leak).
    let mut outcomes = Vec::new();
    let mut unreachable = false;
    let ids = distinct_ids(&located);
    if args.quarantine && !ids.is_empty() {
        let profile = match client_setup(args.profile.as_deref(), args.ca_cert.as_deref()) {
            Ok(p) => p,
            Err(err) => {
                // Show what was found before failing on the configuration.
                print_report(&located, &outcomes, &stats, args.output, false);
                eprintln!("error: cannot quarantine: {err:#}");
                return Ok(ExitCode::from(2));
            }
        };
        for (id, file, line) in ids {
            let outcome = quarantine(&profile, &id, &file, line, args.ca_cert.as_deref()).await;
            unreachable |= matches!(outcome, Quarantine::Unreachable(_));
            outcomes.push((id, outcome));
        }
    }

    print_report(&located, &outcomes, &stats, args.output, args.quarantine);
    Ok(ExitCode::from(exit_code(
        !located.is_empty(),
        !stats.errors.is_empty(),
        unreachable,
    )))
}

/// The profile for `--quarantine`, after checking the CA certificate file.
fn client_setup(profile: Option<&str>, ca_cert: Option<&Path>) -> anyhow::Result<Profile> {
    let profile = resolve_profile(profile)?;
    if let Some(path) = ca_cert {
        let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        reqwest::Certificate::from_pem(&pem)
            .with_context(|| format!("{} is not a PEM certificate", path.display()))?;
    }
    Ok(profile)
}

/// 3 when a quarantine call could not be made; else 1 with findings; else 2 when part of
/// the scan failed; else 0.
fn exit_code(found: bool, io_errors: bool, unreachable: bool) -> u8 {
    if unreachable {
        3
    } else if found {
        1
    } else if io_errors {
        2
    } else {
        0
    }
}

// ------------------------------------------------------------------------ files

/// Every regular file under `path` (or `path` itself), in name order; directories in
/// [`SKIP_DIRS`] and symbolic links below `path` are not followed (`path` itself is, when
/// `follow`).
fn collect_files(path: &Path, follow: bool, out: &mut Vec<PathBuf>, stats: &mut Stats) {
    let meta = if follow {
        std::fs::metadata(path)
    } else {
        std::fs::symlink_metadata(path)
    };
    let meta = match meta {
        Ok(m) => m,
        Err(err) => {
            stats
                .errors
                .push(format!("cannot read {}: {err}", path.display()));
            return;
        }
    };
    if meta.is_file() {
        out.push(path.to_path_buf());
        return;
    }
    if !meta.is_dir() {
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(e) => e,
        Err(err) => {
            stats
                .errors
                .push(format!("cannot list {}: {err}", path.display()));
            return;
        }
    };
    let mut children: Vec<(PathBuf, std::fs::FileType)> = Vec::new();
    for entry in entries {
        match entry.and_then(|e| Ok((e.path(), e.file_type()?))) {
            Ok(child) => children.push(child),
            Err(err) => stats
                .errors
                .push(format!("cannot list {}: {err}", path.display())),
        }
    }
    children.sort_by(|a, b| a.0.cmp(&b.0));
    for (child, kind) in children {
        if kind.is_dir() {
            let skip = child
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| SKIP_DIRS.contains(&n));
            if !skip {
                collect_files(&child, false, out, stats);
            }
        } else if kind.is_file() {
            out.push(child);
        }
    }
}

/// The file's text (invalid UTF-8 replaced), or `None` when it is too large, binary or
/// unreadable (counted in `stats`).
fn read_text(path: &Path, max: u64, stats: &mut Stats) -> Option<String> {
    let result = (|| -> std::io::Result<Option<Vec<u8>>> {
        let file = std::fs::File::open(path)?;
        if file.metadata()?.len() > max {
            return Ok(None);
        }
        let mut bytes = Vec::new();
        file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > max {
            return Ok(None);
        }
        Ok(Some(bytes))
    })();
    match result {
        Ok(None) => {
            stats.skipped_large += 1;
            None
        }
        Ok(Some(bytes)) => {
            if is_binary(&bytes) {
                stats.skipped_binary += 1;
                return None;
            }
            stats.files += 1;
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        Err(err) => {
            stats
                .errors
                .push(format!("cannot read {}: {err}", path.display()));
            None
        }
    }
}

fn is_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(BINARY_SNIFF).any(|&b| b == 0)
}

// ------------------------------------------------------------------------ git

/// The work tree's top directory (canonical) when `dir` is inside one and `git` runs.
fn git_toplevel(dir: &Path) -> Option<PathBuf> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--show-toplevel"])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let top = String::from_utf8(out.stdout).ok()?;
    std::fs::canonicalize(top.trim_end_matches(['\n', '\r'])).ok()
}

/// Marks a commit in the `git log` output; diff lines always start with a diff character,
/// so no added line can be mistaken for it.
const COMMIT_MARK: &str = "cloudward-commit ";

/// Runs `git log -p --all` under `dir` (limited to `pathspec`) and scans every file's added
/// lines. Returns (commit, finding) with repository-relative paths, newest commit first.
fn scan_history(
    dir: &Path,
    pathspec: &str,
    max: u64,
    options: &ScanOptions,
    stats: &mut Stats,
) -> Vec<(String, Finding)> {
    let child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "core.quotepath=off",
            "-c",
            "log.showSignature=false",
            "-c",
            "diff.noprefix=false",
            "log",
            "-p",
            "--all",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--no-renames",
            "--unified=0",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            &format!("--format={COMMIT_MARK}%H"),
            "--",
            pathspec,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(err) => {
            stats.errors.push(format!("cannot run git: {err}"));
            return Vec::new();
        }
    };
    // Drain stderr on a thread so a chatty git cannot block on a full pipe.
    let stderr = child.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = e.read_to_string(&mut s);
            s
        })
    });
    let mut found = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        let mut reader = BufReader::new(stdout);
        let result = parse_git_log(&mut reader, max, |diff| {
            for f in scan_lines(&diff.path, &diff.borrowed_lines(), options) {
                found.push((diff.commit.clone(), f));
            }
        });
        match result {
            Ok(commits) => stats.commits = commits,
            Err(err) => stats.errors.push(format!("cannot read git log: {err}")),
        }
    }
    let status = child.wait();
    let message = stderr
        .and_then(|h| h.join().ok())
        .unwrap_or_default()
        .trim()
        .to_owned();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => stats
            .errors
            .push(format!("git log failed ({s}): {message}")),
        Err(err) => stats.errors.push(format!("git log failed: {err}")),
    }
    found
}

/// The added lines of one file in one commit.
#[derive(Debug, Default)]
struct FileDiff {
    commit: String,
    path: String,
    /// (line number in the new file, text).
    lines: Vec<(usize, String)>,
    bytes: u64,
    /// Larger than the limit: dropped.
    oversized: bool,
}

impl FileDiff {
    fn borrowed_lines(&self) -> Vec<(usize, &str)> {
        self.lines.iter().map(|(n, l)| (*n, l.as_str())).collect()
    }
}

/// Reads `git log -p --unified=0` output and calls `on_file` with the added lines of each
/// file of each commit (skipping deletions, binary diffs and diffs over `max` bytes).
/// Returns the number of commits seen.
fn parse_git_log(
    reader: &mut impl BufRead,
    max: u64,
    mut on_file: impl FnMut(&FileDiff),
) -> std::io::Result<usize> {
    let mut commits = 0usize;
    let mut commit = String::new();
    let mut current: Option<FileDiff> = None;
    // Inside a hunk: the next new-file line number.
    let mut next_line: Option<usize> = None;
    let mut raw = Vec::new();
    let flush = |current: &mut Option<FileDiff>, on_file: &mut dyn FnMut(&FileDiff)| {
        if let Some(diff) = current.take()
            && !diff.oversized
            && !diff.path.is_empty()
            && !diff.lines.is_empty()
        {
            on_file(&diff);
        }
    };
    loop {
        raw.clear();
        if reader.read_until(b'\n', &mut raw)? == 0 {
            break;
        }
        let line = String::from_utf8_lossy(&raw);
        let line = line.trim_end_matches(['\n', '\r']);
        if let Some(hash) = line.strip_prefix(COMMIT_MARK) {
            flush(&mut current, &mut on_file);
            commit = hash.trim().to_owned();
            commits += 1;
            next_line = None;
            continue;
        }
        if line.starts_with("diff --git ") {
            flush(&mut current, &mut on_file);
            current = Some(FileDiff {
                commit: commit.clone(),
                ..FileDiff::default()
            });
            next_line = None;
            continue;
        }
        let Some(diff) = current.as_mut() else {
            continue;
        };
        if let Some(n) = next_line.as_mut() {
            if let Some(added) = line.strip_prefix('+') {
                if !diff.oversized {
                    diff.bytes += added.len() as u64 + 1;
                    if diff.bytes > max {
                        diff.oversized = true;
                        diff.lines = Vec::new();
                    } else {
                        diff.lines.push((*n, added.to_owned()));
                    }
                }
                *n += 1;
                continue;
            }
            if line.starts_with('-') || line.starts_with('\\') {
                continue;
            }
            if line.starts_with(' ') {
                *n += 1;
                continue;
            }
        }
        if let Some(header) = line.strip_prefix("@@ ") {
            next_line = hunk_start(header);
        } else if let Some(path) = line.strip_prefix("+++ ") {
            next_line = None;
            diff.path = match unquote(path).strip_prefix("b/") {
                Some(p) => p.to_owned(),
                None => String::new(), // /dev/null: the file was deleted
            };
        }
    }
    flush(&mut current, &mut on_file);
    Ok(commits)
}

/// The new-file start line of a hunk header `-a,b +c,d @@ ...`.
fn hunk_start(header: &str) -> Option<usize> {
    let plus = header.split(' ').find(|part| part.starts_with('+'))?;
    let start = plus.trim_start_matches('+').split(',').next()?;
    start.parse().ok()
}

/// Undoes git's C-style quoting of unusual paths (`"b/a\"b\303\251"`).
fn unquote(path: &str) -> String {
    let Some(inner) = path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) else {
        return path.to_owned();
    };
    let mut bytes = Vec::with_capacity(inner.len());
    let mut chars = inner.bytes().peekable();
    while let Some(b) = chars.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match chars.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(d @ b'0'..=b'7') => {
                let mut v = u32::from(d - b'0');
                for _ in 0..2 {
                    if let Some(&n @ b'0'..=b'7') = chars.peek() {
                        v = v * 8 + u32::from(n - b'0');
                        chars.next();
                    }
                }
                bytes.push(u8::try_from(v).unwrap_or(b'?'));
            }
            Some(other) => bytes.push(other),
            None => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

// ------------------------------------------------------------------------ quarantine

/// Each AccessKeyId found with a secret, once, with the first place it was found.
fn distinct_ids(located: &[Located]) -> Vec<(String, String, usize)> {
    let mut seen = std::collections::HashSet::new();
    located
        .iter()
        .filter(|l| l.finding.secret_preview.is_some())
        .filter(|l| seen.insert(l.finding.access_key_id.clone()))
        .map(|l| {
            (
                l.finding.access_key_id.clone(),
                l.display.clone(),
                l.finding.line,
            )
        })
        .collect()
}

/// The parameters of `QuarantineAccessKey`: the id and where it was found. Never the
/// secret (the scanner does not even return it).
fn quarantine_params(id: &str, file: &str, line: usize) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("UserAccessKeyId".to_owned(), id.to_owned()),
        (
            "Reason".to_owned(),
            format!("found by cloudward scan-secrets in {file}:{line}"),
        ),
        ("Source".to_owned(), "scanner".to_owned()),
    ])
}

/// What the server said about one key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Quarantine {
    /// The key is live on this server and is now quarantined.
    Quarantined,
    /// `EntityNotExist.User.AccessKey`: not a key of this server.
    NotLiveHere,
    /// The API refused (code: message).
    Refused(String),
    /// The server was unreachable or failed (5xx).
    Unreachable(String),
}

impl Quarantine {
    fn label(&self) -> &'static str {
        match self {
            Quarantine::Quarantined => "quarantined",
            Quarantine::NotLiveHere => "not live here",
            Quarantine::Refused(_) => "refused",
            Quarantine::Unreachable(_) => "failed",
        }
    }

    fn detail(&self) -> &str {
        match self {
            Quarantine::Refused(d) | Quarantine::Unreachable(d) => d,
            _ => "",
        }
    }
}

async fn quarantine(
    profile: &Profile,
    id: &str,
    file: &str,
    line: usize,
    ca_cert: Option<&Path>,
) -> Quarantine {
    let params = quarantine_params(id, file, line);
    match send(
        profile,
        "QuarantineAccessKey",
        RAM_VERSION,
        &params,
        Signature::V3,
        ca_cert,
    )
    .await
    {
        Ok((status, body)) => classify(status, &body),
        Err(err) => Quarantine::Unreachable(format!("{err:#}")),
    }
}

fn classify(status: reqwest::StatusCode, body: &Value) -> Quarantine {
    if status.is_success() {
        return Quarantine::Quarantined;
    }
    let code = body.get("Code").and_then(Value::as_str).unwrap_or("");
    let message = body.get("Message").and_then(Value::as_str).unwrap_or("");
    if code == NOT_LIVE_CODE {
        return Quarantine::NotLiveHere;
    }
    let detail = format!("{} (HTTP {}): {message}", code, status.as_u16());
    if status.is_server_error() {
        Quarantine::Unreachable(detail)
    } else {
        Quarantine::Refused(detail)
    }
}

// ------------------------------------------------------------------------ output

fn finding_json(l: &Located) -> Value {
    let f = &l.finding;
    json!({
        "file": l.display,
        "line": f.line,
        "column": f.column,
        "kind": f.kind.as_str(),
        "access_key_id": f.access_key_id,
        "secret_line": f.secret_line,
        "secret_preview": f.secret_preview,
        "confidence": f.confidence.as_str(),
        "reason": f.reason,
        "source": l.source.as_str(),
        "commit": l.commit,
    })
}

fn print_report(
    located: &[Located],
    outcomes: &[(String, Quarantine)],
    stats: &Stats,
    output: Output,
    quarantine: bool,
) {
    match output {
        Output::Json => {
            let mut doc = json!({
                "findings": located.iter().map(finding_json).collect::<Vec<_>>(),
                "files_scanned": stats.files,
                "commits_scanned": stats.commits,
                "errors": stats.errors,
            });
            if quarantine && let Some(map) = doc.as_object_mut() {
                map.insert(
                    "quarantine".to_owned(),
                    outcomes
                        .iter()
                        .map(|(id, q)| {
                            json!({"access_key_id": id, "result": q.label(), "detail": q.detail()})
                        })
                        .collect(),
                );
            }
            outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Output::Table => {
            if located.is_empty() {
                outln!("No AccessKey pairs found.");
                return;
            }
            let rows: Vec<Value> = located
                .iter()
                .map(|l| {
                    let f = &l.finding;
                    json!({
                        "File": l.display,
                        "Line": f.line,
                        "Kind": f.kind.as_str(),
                        "AccessKeyId": f.access_key_id,
                        "Secret": f.secret_preview.clone().unwrap_or_default(),
                        "Confidence": f.confidence.as_str(),
                        "Source": l.source.as_str(),
                        "Commit": l.commit.as_deref().map(short).unwrap_or_default(),
                    })
                })
                .collect();
            outln!("{}", table(&json!({ "Findings": rows })));
            if !outcomes.is_empty() {
                let rows: Vec<Value> = outcomes
                    .iter()
                    .map(|(id, q)| json!({"AccessKeyId": id, "Quarantine": q.label(), "Detail": q.detail()}))
                    .collect();
                outln!("{}", table(&json!({ "Quarantine": rows })));
            }
        }
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10M"), Ok(10 << 20));
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("2KiB"), Ok(2048));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5T").is_err());
    }

    #[test]
    fn quarantine_sends_the_id_and_place_only() {
        let params = quarantine_params("LTAI5tQw8ZkPr2sXbN4mHc7D", "conf/app.ini", 12);
        assert_eq!(
            params.keys().collect::<Vec<_>>(),
            vec!["Reason", "Source", "UserAccessKeyId"]
        );
        assert_eq!(params["Source"], "scanner");
        assert_eq!(params["UserAccessKeyId"], "LTAI5tQw8ZkPr2sXbN4mHc7D");
        assert_eq!(
            params["Reason"],
            "found by cloudward scan-secrets in conf/app.ini:12"
        );
        // The signed request carries the action, the RAM version and these parameters.
        let profile = Profile {
            endpoint: "http://127.0.0.1:9".into(),
            access_key_id: "LTAIcallerCALLER12345678".into(),
            access_key_secret: "callersecret".into(),
            security_token: None,
            region: "cn-hangzhou".into(),
        };
        for sig in [Signature::V3, Signature::V2] {
            let signed = crate::client::sign_call(
                &profile,
                "QuarantineAccessKey",
                RAM_VERSION,
                &params,
                sig,
            )
            .unwrap();
            let wire = format!("{} {:?}", signed.url, signed.headers);
            assert!(wire.contains("QuarantineAccessKey"), "{wire}");
            assert!(wire.contains("2015-05-01"), "{wire}");
            assert!(
                wire.contains("UserAccessKeyId=LTAI5tQw8ZkPr2sXbN4mHc7D"),
                "{wire}"
            );
            assert!(wire.contains("Reason=found%20by%20cloudward"), "{wire}");
        }
    }

    #[test]
    fn answers_are_classified() {
        use reqwest::StatusCode;
        assert_eq!(
            classify(StatusCode::OK, &json!({"RequestId": "r"})),
            Quarantine::Quarantined
        );
        assert_eq!(
            classify(
                StatusCode::NOT_FOUND,
                &json!({"Code": "EntityNotExist.User.AccessKey", "Message": "no"})
            ),
            Quarantine::NotLiveHere
        );
        assert!(matches!(
            classify(StatusCode::FORBIDDEN, &json!({"Code": "NoPermission"})),
            Quarantine::Refused(_)
        ));
        assert!(matches!(
            classify(StatusCode::BAD_GATEWAY, &json!({})),
            Quarantine::Unreachable(_)
        ));
    }

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(false, false, false), 0);
        assert_eq!(exit_code(true, false, false), 1);
        assert_eq!(exit_code(true, true, false), 1);
        assert_eq!(exit_code(false, true, false), 2);
        assert_eq!(exit_code(true, false, true), 3);
    }

    #[test]
    fn git_log_is_mapped_to_commits_files_and_lines() {
        let id = "LTAI5tQw8ZkPr2sXbN4mHc7D";
        let secret = "Zr8QmW2pXk5NcV7bT1yH4jL9sDfG3a";
        let log = format!(
            "cloudward-commit bbbb\n\
             \n\
             diff --git a/conf/app.ini b/conf/app.ini\n\
             index 1..2 100644\n\
             --- a/conf/app.ini\n\
             +++ b/conf/app.ini\n\
             @@ -3,0 +4,2 @@ [aliyun]\n\
             +access_key_id = {id}\n\
             +access_key_secret = {secret}\n\
             @@ -9 +11 @@\n\
             -old\n\
             +new\n\
             diff --git a/gone.txt b/gone.txt\n\
             deleted file mode 100644\n\
             --- a/gone.txt\n\
             +++ /dev/null\n\
             @@ -1 +0,0 @@\n\
             -{id} {secret}\n\
             cloudward-commit aaaa\n\
             \n\
             diff --git \"a/sp ace\\303\\251.txt\" \"b/sp ace\\303\\251.txt\"\n\
             new file mode 100644\n\
             --- /dev/null\n\
             +++ \"b/sp ace\\303\\251.txt\"\n\
             @@ -0,0 +1,3 @@\n\
             ++++ not a header {id}\n\
             +{id},{secret}\n\
             +tail\n\
             Binary files a/x.png and b/x.png differ\n"
        );
        let mut seen = Vec::new();
        let commits = parse_git_log(&mut log.as_bytes(), 1 << 20, |d| {
            seen.push((d.commit.clone(), d.path.clone(), d.lines.clone()));
        })
        .unwrap();
        assert_eq!(commits, 2);
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(seen[0].0, "bbbb");
        assert_eq!(seen[0].1, "conf/app.ini");
        assert_eq!(
            seen[0].2.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            vec![4, 5, 11]
        );
        assert_eq!(seen[1].1, "sp ace\u{e9}.txt");
        assert_eq!(seen[1].2[0], (1, format!("+++ not a header {id}")));
        assert_eq!(seen[1].2[1].0, 2);

        // The size limit drops a whole diff.
        let mut n = 0;
        parse_git_log(&mut log.as_bytes(), 100, |_| n += 1).unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn walk_skips_heavy_directories_binaries_and_large_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for sub in ["src", ".git", "target", "node_modules"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
            std::fs::write(root.join(sub).join("a.txt"), "text").unwrap();
        }
        std::fs::write(root.join(".env"), "X=1").unwrap();
        std::fs::write(root.join("bin.dat"), b"ab\0cd").unwrap();
        std::fs::write(root.join("big.txt"), "x".repeat(2000)).unwrap();
        let mut stats = Stats::default();
        let mut files = Vec::new();
        collect_files(root, true, &mut files, &mut stats);
        let names: Vec<String> = files
            .iter()
            .map(|f| f.strip_prefix(root).unwrap().display().to_string())
            .collect();
        assert_eq!(names, vec![".env", "big.txt", "bin.dat", "src/a.txt"]);
        let texts: Vec<_> = files
            .iter()
            .filter_map(|f| read_text(f, 1000, &mut stats))
            .collect();
        assert_eq!(texts.len(), 2);
        assert_eq!((stats.skipped_binary, stats.skipped_large), (1, 1));
    }
}
