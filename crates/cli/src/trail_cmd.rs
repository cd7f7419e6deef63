//! `cloudward trail`: offline tools for the audit trail.
//!
//! * `trail verify DIR` — verifies an exported trail (event files, checkpoint notes,
//!   `keys.json`) without the server. Exit 0 when it verifies, 1 naming the first bad
//!   record otherwise, 2 for usage errors.
//! * `trail export --data-dir D --out DIR` — exports the log of a data directory (the
//!   server may be running; the export is a consistent snapshot).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};
use cloudward_trail::{ExportOptions, Keyring, VerifyOptions, verify_export};

/// `cloudward trail ...`.
#[derive(Debug, Subcommand)]
pub enum TrailCommand {
    /// Verify an exported trail offline: every event's hash, every signed checkpoint's
    /// root and signature; names the first bad record.
    Verify(VerifyArgs),
    /// Export the audit log of a data directory for offline verification.
    Export(ExportArgs),
}

/// `trail verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The export directory.
    pub dir: PathBuf,
    /// Trusted public keys (`keys.json`, pinned out of band); default: the export's own
    /// `keys.json`, which only proves the export is self-consistent.
    #[arg(long)]
    pub keys: Option<PathBuf>,
    /// Require this log origin on every checkpoint.
    #[arg(long)]
    pub origin: Option<String>,
    /// Accept events after the last checkpoint.
    #[arg(long)]
    pub allow_unanchored: bool,
    /// Also parse every event and check its canonical form.
    #[arg(long)]
    pub check_events: bool,
    /// Hashing threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

/// `trail export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The server's data directory.
    #[arg(long, env = "CLOUDWARD_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Output directory (created; must hold no event files).
    #[arg(long)]
    pub out: PathBuf,
    /// Write `.jsonl.gz` files.
    #[arg(long)]
    pub gzip: bool,
    /// Events per file.
    #[arg(long, default_value_t = 100_000)]
    pub events_per_file: u64,
    /// Also export the events after the latest checkpoint (they verify only with
    /// `trail verify --allow-unanchored`).
    #[arg(long)]
    pub include_tail: bool,
}

/// Runs a `trail` command.
pub fn run(cmd: TrailCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TrailCommand::Verify(args) => verify(args),
        TrailCommand::Export(args) => export(args),
    }
}

fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let keys_path = args
        .keys
        .clone()
        .unwrap_or_else(|| args.dir.join(cloudward_trail::export::KEYS_FILE));
    let bytes = std::fs::read(&keys_path)
        .with_context(|| format!("cannot read the keyring {}", keys_path.display()))?;
    let keyring = Keyring::from_json(&bytes)
        .with_context(|| format!("{} is not a valid keyring", keys_path.display()))?;
    let options = VerifyOptions {
        expected_origin: args.origin,
        allow_unanchored_tail: args.allow_unanchored,
        check_events: args.check_events,
        threads: args.threads,
    };
    let started = Instant::now();
    let report = verify_export(&args.dir, &keyring, &options)
        .with_context(|| format!("cannot read the export {}", args.dir.display()))?;
    let elapsed = started.elapsed();
    match &report.failure {
        None => {
            println!(
                "OK: {} events in {} files, {} checkpoints verified{}; {:.2} s ({:.0} events/s)",
                report.events,
                report.files,
                report.checkpoints_verified,
                report
                    .latest_checkpoint
                    .as_ref()
                    .map(|c| format!(" (latest: size {} of {})", c.size, c.origin))
                    .unwrap_or_default(),
                elapsed.as_secs_f64(),
                report.events as f64 / elapsed.as_secs_f64().max(1e-9),
            );
            if report.unanchored_events > 0 {
                println!(
                    "note: {} events after the latest checkpoint are not covered by a signature",
                    report.unanchored_events
                );
            }
            if args.keys.is_none() {
                println!(
                    "note: verified against the export's own keys.json; pass --keys with keys pinned out of band"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(failure) => {
            println!("FAILED: {failure}");
            println!("kind: {:?}", failure.kind);
            if let Some(file) = &failure.file {
                println!("file: {file}");
            }
            if let Some(line) = failure.line {
                println!("line: {line}");
            }
            if let Some(index) = failure.event_index {
                println!("event index: {index}");
            }
            if let Some(id) = &failure.event_id {
                println!("eventId: {id}");
            }
            if let Some(size) = failure.checkpoint_size {
                println!("checkpoint size: {size}");
            }
            println!("events verified before the failure: {}", report.events);
            Ok(ExitCode::from(1))
        }
    }
}

fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let summary = cloudward_audit::export::export_data_dir(
        &args.data_dir,
        &args.out,
        ExportOptions {
            events_per_file: args.events_per_file.max(1),
            gzip: args.gzip,
        },
        args.include_tail,
    )
    .with_context(|| format!("cannot export the audit log of {}", args.data_dir.display()))?;
    println!(
        "exported {} events and {} checkpoints to {}",
        summary.events,
        summary.checkpoints,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
