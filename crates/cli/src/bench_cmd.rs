//! `cloudward bench`: a keep-alive load generator for the RPC endpoint.
//!
//! Each connection is one task sending requests back to back over HTTP/1.1 keep-alive, so
//! concurrency equals `--connections`. Every RPC request is freshly signed (new nonce and
//! timestamp), because the server rejects replays.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::client::{Profile, Signature, resolve_profile, sign_call};

/// What to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// Signed STS GetCallerIdentity calls.
    CallerIdentity,
    /// Unauthenticated GET /healthz.
    Healthz,
    /// Both, one after the other, with the ratio (the cost of authentication).
    Both,
}

/// Flags of `cloudward bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Profile with the endpoint and credentials to use.
    #[arg(long)]
    profile: Option<String>,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds to measure per target.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds of warm-up before measuring.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Signature scheme.
    #[arg(long, value_enum, default_value_t = Signature::V3)]
    signature: Signature,
    /// What to load.
    #[arg(long, value_enum, default_value_t = Target::Both)]
    target: Target,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Load this API action instead of GetCallerIdentity, as `Product:Action` (e.g.
    /// `Ram:GetUser`); the target is then this action alone.
    #[arg(long)]
    action: Option<String>,
    /// Parameters of `--action` as Key=Value; `{n}` in a value is replaced by a number
    /// unique to each request (e.g. `UserName=u{n}` for a write benchmark).
    #[arg(long = "param")]
    params: Vec<String>,
}

/// The call each signed request makes.
#[derive(Debug, Clone)]
struct CallTemplate {
    name: String,
    action: String,
    version: String,
    params: Vec<(String, String)>,
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl CallTemplate {
    fn instantiate(&self) -> BTreeMap<String, String> {
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.params
            .iter()
            .map(|(k, v)| (k.clone(), v.replace("{n}", &n.to_string())))
            .collect()
    }
}

#[derive(Debug, Serialize)]
struct Report {
    target: String,
    connections: usize,
    seconds: f64,
    requests: u64,
    errors: u64,
    requests_per_second: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let profile = resolve_profile(args.profile.as_deref())?;
    let authority = profile
        .endpoint
        .strip_prefix("http://")
        .context("bench supports plain http:// endpoints only")?
        .trim_end_matches('/')
        .to_owned();
    if args.connections == 0 {
        bail!("--connections must be at least 1");
    }
    let template = match &args.action {
        None => CallTemplate {
            name: "GetCallerIdentity".to_owned(),
            action: "GetCallerIdentity".to_owned(),
            version: "2015-04-01".to_owned(),
            params: Vec::new(),
        },
        Some(spec) => {
            let (product, action) = spec
                .split_once(':')
                .context("--action must be Product:Action, e.g. Ram:GetUser")?;
            let version = crate::client::product_version(product)
                .with_context(|| format!("unknown product {product}"))?;
            let mut params = Vec::new();
            for pair in &args.params {
                let (k, v) = pair
                    .split_once('=')
                    .with_context(|| format!("--param {pair:?} is not Key=Value"))?;
                params.push((k.to_owned(), v.to_owned()));
            }
            CallTemplate {
                name: action.to_owned(),
                action: action.to_owned(),
                version: version.to_owned(),
                params,
            }
        }
    };
    let mut reports = Vec::new();
    let targets: &[Target] = match (args.target, args.action.is_some()) {
        (_, true) => &[Target::CallerIdentity],
        (Target::Both, false) => &[Target::CallerIdentity, Target::Healthz],
        (Target::CallerIdentity, false) => &[Target::CallerIdentity],
        (Target::Healthz, false) => &[Target::Healthz],
    };
    for &target in targets {
        reports.push(measure(&args, &profile, &authority, target, &template).await?);
    }
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        let mut table = comfy_table::Table::new();
        table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
        table.set_header(vec![
            "target", "conns", "requests", "errors", "req/s", "p50 ms", "p90 ms", "p99 ms",
            "max ms",
        ]);
        for r in &reports {
            table.add_row(vec![
                r.target.clone(),
                r.connections.to_string(),
                r.requests.to_string(),
                r.errors.to_string(),
                format!("{:.0}", r.requests_per_second),
                format!("{:.3}", r.p50_ms),
                format!("{:.3}", r.p90_ms),
                format!("{:.3}", r.p99_ms),
                format!("{:.3}", r.max_ms),
            ]);
        }
        outln!("{table}");
        if let [signed, health] = reports.as_slice()
            && health.requests_per_second > 0.0
        {
            outln!(
                "signed / healthz throughput ratio: {:.2}",
                signed.requests_per_second / health.requests_per_second
            );
        }
    }
    let errors: u64 = reports.iter().map(|r| r.errors).sum();
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn measure(
    args: &BenchArgs,
    profile: &Profile,
    authority: &str,
    target: Target,
    template: &CallTemplate,
) -> anyhow::Result<Report> {
    let name = match target {
        Target::Healthz => "healthz".to_owned(),
        _ => template.name.clone(),
    };
    let warmup = Duration::from_secs(args.warmup);
    let measure = Duration::from_secs(args.duration);
    let start = Instant::now();
    let measure_from = start + warmup;
    let deadline = measure_from + measure;
    let bar = ProgressBar::new(args.warmup + args.duration);
    bar.set_style(
        ProgressStyle::with_template("{msg:>18} [{bar:30}] {pos}/{len}s")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(name.clone());
    let mut workers = Vec::new();
    for _ in 0..args.connections {
        let profile = profile.clone();
        let authority = authority.to_owned();
        let signature = args.signature;
        let template = template.clone();
        workers.push(tokio::spawn(async move {
            worker(
                &profile,
                &authority,
                target,
                signature,
                &template,
                measure_from,
                deadline,
            )
            .await
        }));
    }
    let ticker = {
        let bar = bar.clone();
        tokio::spawn(async move {
            while Instant::now() < deadline {
                tokio::time::sleep(Duration::from_secs(1)).await;
                bar.inc(1);
            }
        })
    };
    let mut latencies: Vec<u32> = Vec::new();
    let mut errors = 0u64;
    for handle in workers {
        let (lat, errs) = handle.await.context("a bench worker failed")??;
        latencies.extend(lat);
        errors += errs;
    }
    ticker.abort();
    bar.finish_and_clear();
    latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let rank = ((p * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len());
        latencies.get(rank - 1).copied().unwrap_or(0) as f64 / 1000.0
    };
    let seconds = measure.as_secs_f64();
    Ok(Report {
        target: name,
        connections: args.connections,
        seconds,
        requests: latencies.len() as u64,
        errors,
        requests_per_second: latencies.len() as f64 / seconds,
        p50_ms: pct(0.50),
        p90_ms: pct(0.90),
        p99_ms: pct(0.99),
        max_ms: latencies.last().copied().unwrap_or(0) as f64 / 1000.0,
    })
}

/// One connection's loop; returns latencies (µs) of successful measured requests and the
/// number of failed ones.
async fn worker(
    profile: &Profile,
    authority: &str,
    target: Target,
    signature: Signature,
    template: &CallTemplate,
    measure_from: Instant,
    deadline: Instant,
) -> anyhow::Result<(Vec<u32>, u64)> {
    let stream = tokio::net::TcpStream::connect(authority)
        .await
        .with_context(|| format!("cannot connect to {authority}"))?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut latencies = Vec::with_capacity(1 << 16);
    let mut errors = 0u64;
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let request = match target {
            Target::Healthz => hyper::Request::get("/healthz")
                .header("host", authority)
                .body(Empty::<bytes::Bytes>::new())?,
            _ => {
                let params = template.instantiate();
                let call = sign_call(
                    profile,
                    &template.action,
                    &template.version,
                    &params,
                    signature,
                )?;
                let path = call
                    .url
                    .find("://")
                    .and_then(|i| call.url.get(i + 3..))
                    .and_then(|rest| rest.find('/').and_then(|j| rest.get(j..)))
                    .unwrap_or("/")
                    .to_owned();
                let mut builder = hyper::Request::post(path).header("host", authority);
                for (k, v) in &call.headers {
                    builder = builder.header(k, v);
                }
                builder.body(Empty::<bytes::Bytes>::new())?
            }
        };
        let sent = Instant::now();
        let ok = match sender.send_request(request).await {
            Ok(response) => {
                let status = response.status();
                let drained = response.into_body().collect().await.is_ok();
                status.is_success() && drained
            }
            Err(_) => false,
        };
        if sent >= measure_from {
            if ok {
                let micros = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX);
                latencies.push(micros);
            } else {
                errors += 1;
            }
        }
        if !ok && sender.is_closed() {
            break;
        }
    }
    Ok((latencies, errors))
}
