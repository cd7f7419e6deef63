//! `cloudward policy validate | eval | test`: offline tools over the policy engine.
//!
//! Only glue lives here (reading files, flags, tables, colour); parsing, evaluation, the
//! corpus runner and the explanation renderer are pure functions of `cloudward-policy`.
//! Exit codes: 0 ok; 1 an invalid policy or a failing corpus request; 2 usage or I/O error
//! (returned as `Err`, which `main` reports as 2).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use cloudward_policy::corpus::{CorpusFile, FileReport, Scenario, run_corpus};
use cloudward_policy::{Limits, Policy, PolicyKind, evaluate, explain, lint};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use owo_colors::{OwoColorize, Stream};
use serde_json::{Value, json};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable text and tables.
    Text,
    /// JSON on stdout.
    Json,
}

/// Kind of policy document, for `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Attached to users, groups and roles.
    Identity,
    /// Resource-based (e.g. bucket policies); needs Principal.
    Resource,
    /// A role's trust policy; needs Principal.
    Trust,
    /// An STS session policy.
    Session,
    /// A Resource Directory control policy.
    Control,
}

impl From<Kind> for PolicyKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Identity => Self::Identity,
            Kind::Resource => Self::Resource,
            Kind::Trust => Self::Trust,
            Kind::Session => Self::Session,
            Kind::Control => Self::Control,
        }
    }
}

/// `cloudward policy ...`
#[derive(Debug, clap::Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per process; boxing would only complicate the match"
)]
pub enum PolicyCommand {
    /// Validate and lint policy documents.
    Validate {
        /// Policy documents (JSON).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Which kind of policy the files are.
        #[arg(long, value_enum, default_value = "identity")]
        kind: Kind,
        /// Size limit in characters (JSON whitespace outside strings is not counted).
        #[arg(long, default_value_t = 6_144)]
        max_chars: usize,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        output: Format,
    },
    /// Decide a request and explain why.
    ///
    /// Either give a corpus-format file with `--input` (every request in it is evaluated), or
    /// policies and one request with flags.
    Eval {
        /// A corpus-format JSON file (policies + requests; `expect` optional).
        #[arg(long, conflicts_with_all = ["identity", "principal"])]
        input: Option<PathBuf>,
        /// Identity policy file (repeatable).
        #[arg(long)]
        identity: Vec<PathBuf>,
        /// Resource policy file (repeatable).
        #[arg(long = "resource-policy")]
        resource_policy: Vec<PathBuf>,
        /// Session policy file (repeatable).
        #[arg(long)]
        session: Vec<PathBuf>,
        /// One control level as comma-separated files; repeat from the account level up to
        /// the Root.
        #[arg(long = "control-level", value_name = "FILE[,FILE...]")]
        control_level: Vec<String>,
        /// Trust policy file: evaluate as sts:AssumeRole.
        #[arg(long)]
        trust: Option<PathBuf>,
        /// The account is the management account (control policies skipped).
        #[arg(long)]
        management_account: bool,
        /// Caller ARN, e.g. acs:ram::1234567890123456:user/alice.
        #[arg(long, required_unless_present = "input")]
        principal: Option<String>,
        /// Action, e.g. oss:GetObject.
        #[arg(long, required_unless_present = "input")]
        action: Option<String>,
        /// Resource ARN.
        #[arg(long, required_unless_present = "input")]
        resource: Option<String>,
        /// Context entry KEY=VALUE (VALUE read as JSON when it parses, else as a string;
        /// repeat a key for a list).
        #[arg(long = "context", value_name = "KEY=VALUE")]
        context: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        output: Format,
    },
    /// Run decision corpus files (a file or a folder of them, recursively).
    Test {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        output: Format,
    },
}

/// Runs a policy subcommand.
///
/// # Errors
///
/// Usage and I/O errors (exit code 2).
pub fn run(cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCommand::Validate {
            files,
            kind,
            max_chars,
            output,
        } => validate(&files, kind.into(), max_chars, output),
        PolicyCommand::Eval {
            input,
            identity,
            resource_policy,
            session,
            control_level,
            trust,
            management_account,
            principal,
            action,
            resource,
            context,
            output,
        } => {
            let file = match input {
                Some(path) => read(&path)?,
                None => {
                    let docs = |paths: &[PathBuf]| -> anyhow::Result<Vec<Value>> {
                        paths.iter().map(|p| policy_doc(p)).collect()
                    };
                    let mut control = Vec::new();
                    for level in &control_level {
                        let files: Vec<PathBuf> = level.split(',').map(PathBuf::from).collect();
                        control.push(docs(&files)?);
                    }
                    json!({
                        "policies": {
                            "identity": docs(&identity)?,
                            "resource": docs(&resource_policy)?,
                            "session": docs(&session)?,
                            "control": control,
                            "managementAccount": management_account,
                            "assumeRoleTrust": trust.map(|t| policy_doc(&t)).transpose()?,
                        },
                        "requests": [{
                            "principal": principal.unwrap_or_default(),
                            "action": action.unwrap_or_default(),
                            "resource": resource.unwrap_or_default(),
                            "context": context_json(&context)?,
                            "expect": "",
                        }],
                    })
                    .to_string()
                }
            };
            eval(&file, output)
        }
        PolicyCommand::Test { paths, output } => test(&paths, output),
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn policy_doc(path: &Path) -> anyhow::Result<Value> {
    let id = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    Ok(json!({ "id": id, "document": read(path)? }))
}

fn context_json(entries: &[String]) -> anyhow::Result<Value> {
    let mut map = serde_json::Map::new();
    for entry in entries {
        let Some((key, raw)) = entry.split_once('=') else {
            bail!("--context expects KEY=VALUE, got `{entry}`");
        };
        let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
        match map.get_mut(key) {
            Some(Value::Array(list)) => list.push(value),
            Some(existing) => *existing = json!([existing.clone(), value]),
            None => {
                map.insert(key.to_owned(), value);
            }
        }
    }
    Ok(Value::Object(map))
}

fn validate(
    files: &[PathBuf],
    kind: PolicyKind,
    max_chars: usize,
    output: Format,
) -> anyhow::Result<ExitCode> {
    let limits = Limits {
        max_chars,
        ..Limits::default()
    };
    let mut invalid = 0;
    let mut results = Vec::new();
    for path in files {
        let text = read(path)?;
        let (errors, warnings) = match Policy::parse_with_limits(&text, kind, &limits) {
            Ok(policy) => (Vec::new(), lint::lint(&policy, kind)),
            Err(e) => (e.problems(), Vec::new()),
        };
        if !errors.is_empty() {
            invalid += 1;
        }
        if output == Format::Text {
            let status = if errors.is_empty() {
                "valid"
                    .if_supports_color(Stream::Stdout, |t| t.green())
                    .to_string()
            } else {
                "invalid"
                    .if_supports_color(Stream::Stdout, |t| t.red())
                    .to_string()
            };
            println!("{}: {status}", path.display());
            for e in &errors {
                println!("  error: {e}");
            }
            for w in &warnings {
                println!("  warning: {w}");
            }
        }
        results.push(json!({
            "file": path.display().to_string(),
            "valid": errors.is_empty(),
            "errors": errors.iter().map(|e| json!({"path": e.path, "message": e.message})).collect::<Vec<_>>(),
            "warnings": warnings.iter().map(|w| json!({"code": w.kind.code(), "path": w.path, "message": w.message})).collect::<Vec<_>>(),
        }));
    }
    if output == Format::Json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    }
    Ok(ExitCode::from(if invalid > 0 { 1 } else { 0 }))
}

fn eval(text: &str, output: Format) -> anyhow::Result<ExitCode> {
    let file: CorpusFile = serde_json::from_str(text).context("not a policy eval input")?;
    let scenario = match Scenario::compile(&file.policies.clone().unwrap_or_default()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let policies = scenario.policies();
    let mut out = Vec::new();
    for r in &file.requests {
        let request = r.to_request().map_err(anyhow::Error::msg)?;
        let decision = evaluate(&policies, &request);
        match output {
            Format::Json => out.push(decision.to_json(&request)),
            Format::Text => println!("{}", explain::render_text(&decision, &policies, &request)),
        }
    }
    if output == Format::Json {
        let v = if out.len() == 1 {
            out.pop().unwrap_or_default()
        } else {
            Value::Array(out)
        };
        println!("{}", serde_json::to_string_pretty(&v)?);
    }
    Ok(ExitCode::SUCCESS)
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if path.is_dir() {
        let mut entries = std::fs::read_dir(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<Vec<_>, _>>()?;
        entries.sort();
        for p in entries {
            if p.is_dir() || p.extension().is_some_and(|e| e == "json") {
                collect(&p, out)?;
            }
        }
    } else if path.exists() {
        out.push(path.to_owned());
    } else {
        bail!("{} does not exist", path.display());
    }
    Ok(())
}

fn test(paths: &[PathBuf], output: Format) -> anyhow::Result<ExitCode> {
    let mut files = Vec::new();
    for p in paths {
        collect(p, &mut files)?;
    }
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header([
        "result", "file", "#", "request", "expected", "actual", "reason",
    ]);
    let mut json_files = Vec::new();
    for file in &files {
        let name = file.display().to_string();
        let report: Result<FileReport, _> = run_corpus(&read(file)?);
        let report = match report {
            Ok(r) => r,
            Err(e) => {
                failed += 1;
                let pass_fail = "FAIL"
                    .if_supports_color(Stream::Stdout, |t| t.red())
                    .to_string();
                table.add_row([
                    pass_fail,
                    name.clone(),
                    "-".into(),
                    "(file)".into(),
                    "".into(),
                    "".into(),
                    e.to_string(),
                ]);
                json_files.push(json!({"file": name, "error": e.to_string()}));
                continue;
            }
        };
        passed += report.passed();
        failed += report.failed();
        for c in &report.cases {
            let pass_fail = if c.passed {
                "PASS"
                    .if_supports_color(Stream::Stdout, |t| t.green())
                    .to_string()
            } else {
                "FAIL"
                    .if_supports_color(Stream::Stdout, |t| t.red())
                    .to_string()
            };
            let reason = if c.passed {
                String::new()
            } else {
                c.reason.clone()
            };
            table.add_row([
                pass_fail,
                name.clone(),
                c.index.to_string(),
                c.name.clone(),
                c.expected.clone(),
                c.actual.clone(),
                reason,
            ]);
        }
        json_files.push(json!({
            "file": name,
            "description": report.description,
            "cases": report.cases.iter().map(|c| json!({
                "index": c.index, "name": c.name, "expected": c.expected,
                "actual": c.actual, "passed": c.passed, "reason": c.reason,
            })).collect::<Vec<_>>(),
        }));
    }
    match output {
        Format::Text => {
            println!("{table}");
            println!("{passed} passed, {failed} failed");
        }
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"files": json_files, "passed": passed, "failed": failed})
            )?
        ),
    }
    Ok(ExitCode::from(if failed > 0 { 1 } else { 0 }))
}
