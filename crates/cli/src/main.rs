//! `cloudward`: the control plane server, its client, and offline tools in one binary.
//!
//! Exit codes: 0 success; 1 the API (or a check) said no — an error response, a failed
//! policy test; 2 usage or configuration error; 3 could not reach the server or it failed
//! (5xx).

#[macro_use]
mod output;
mod bench_cmd;
mod call_cmd;
mod client;
mod configure_cmd;
mod iam_cmd;
mod policy_cmd;
mod scan_cmd;
mod serve_cmd;
mod trail_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// The request path allocates many small short-lived objects on several threads; mimalloc
// handles that pattern markedly better than glibc malloc (see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Cloudward: a self-hosted cloud security control plane that speaks Alibaba Cloud's API.
#[derive(Debug, Parser)]
#[command(name = "cloudward", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the control plane (RPC endpoint, /healthz, /metrics) on its store.
    Serve(Box<serve_cmd::ServeArgs>),
    /// Create or update a named client profile (endpoint and AccessKey).
    Configure(configure_cmd::ConfigureArgs),
    /// Send a signed API call: `cloudward call Sts GetCallerIdentity [Key=Value ...]`.
    Call(call_cmd::CallArgs),
    /// Load-test a server with signed GetCallerIdentity calls (and /healthz for comparison).
    Bench(bench_cmd::BenchArgs),
    /// Validate, evaluate and test RAM policies offline.
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCommand),
    /// Audit trail tools: verify an exported trail offline, export a data directory's log.
    #[command(subcommand)]
    Trail(trail_cmd::TrailCommand),
    /// RAM shortcuts: create-user, attach-policy, create-access-key.
    Ram {
        #[command(subcommand)]
        command: iam_cmd::RamCommand,
        #[command(flatten)]
        common: iam_cmd::Common,
    },
    /// STS shortcuts: assume-role.
    Sts {
        #[command(subcommand)]
        command: iam_cmd::StsCommand,
        #[command(flatten)]
        common: iam_cmd::Common,
    },
    /// Resource Directory shortcuts: tree.
    Rd {
        #[command(subcommand)]
        command: iam_cmd::RdCommand,
        #[command(flatten)]
        common: iam_cmd::Common,
    },
    /// Find AccessKey pairs in files and git history (exit 1 when any is found).
    ScanSecrets(scan_cmd::ScanArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // reqwest is built without a default crypto provider; ring is ours everywhere.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match cli.command {
        Command::Policy(cmd) => report(policy_cmd::run(cmd)),
        Command::Trail(cmd) => report(trail_cmd::run(cmd)),
        Command::Configure(args) => report(configure_cmd::run(args)),
        command => {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(err) => {
                    eprintln!("error: cannot start the async runtime: {err}");
                    return ExitCode::from(2);
                }
            };
            runtime.block_on(async move {
                match command {
                    Command::Serve(args) => report(serve_cmd::run(*args).await),
                    Command::Call(args) => report(call_cmd::run(args).await),
                    Command::Bench(args) => report(bench_cmd::run(args).await),
                    Command::Ram { command, common } => {
                        report(iam_cmd::run_ram(command, common).await)
                    }
                    Command::Sts { command, common } => {
                        report(iam_cmd::run_sts(command, common).await)
                    }
                    Command::Rd { command, common } => {
                        report(iam_cmd::run_rd(command, common).await)
                    }
                    Command::ScanSecrets(args) => report(scan_cmd::run(args).await),
                    Command::Policy(_) | Command::Trail(_) | Command::Configure(_) => {
                        ExitCode::from(2)
                    }
                }
            })
        }
    }
}

fn report(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
