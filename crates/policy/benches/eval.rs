//! Decision and parse benchmarks, side by side with the `cedar-policy` crate on equivalent
//! policies.
//!
//! Workloads (each statement is one Cedar policy):
//! * `eval/<n>/{plain,conditions}`: a principal with n attached statements, statement i
//!   allowing `svc<i%20>:GetObject<i>` on `acs:svc<i%20>:*:<acct>:bucket<i>/*`; the request
//!   matches the last one. With conditions every statement also requires `acs:SourceIp` in
//!   10.0.0.0/8 and `svc:team` = `dev`.
//! * `account_10k`: 10,000 single-statement policies, of which one matches.
//! * `parse_compile_6kb`: parse, validate and compile a 6 KB policy (Cedar: parse the
//!   equivalent policy text).
//!
//! Run: `CARGO_TARGET_DIR=/work/target-policy cargo bench -p cloudward-policy --bench eval`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;
use std::str::FromStr;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

// The allocator the `cloudward` binary ships with, so the figures are those of the
// deployed configuration (both engines run under it).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use cloudward_policy::{
    Context, Outcome, Policies, Policy, PolicyKind, PolicySet, Request, evaluate,
};

const ACCT: &str = "1234567890123456";

fn ram_statement(i: usize, conditions: bool) -> String {
    let svc = i % 20;
    let cond = if conditions {
        r#","Condition":{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"},"StringEquals":{"svc:team":"dev"}}"#
    } else {
        ""
    };
    format!(
        r#"{{"Effect":"Allow","Action":"svc{svc}:GetObject{i}","Resource":"acs:svc{svc}:*:{ACCT}:bucket{i}/*"{cond}}}"#
    )
}

fn cedar_policy(i: usize, conditions: bool) -> String {
    let svc = i % 20;
    let cond = if conditions {
        r#" && context.source_ip.isInRange(ip("10.0.0.0/8")) && context.team == "dev""#
    } else {
        ""
    };
    format!(
        r#"permit(principal == User::"alice", action == Action::"svc{svc}:GetObject{i}", resource) when {{ context.arn like "acs:svc{svc}:*:{ACCT}:bucket{i}/*"{cond} }};"#
    )
}

/// `n` statements grouped ten to a policy, as a principal's attached policies would be.
fn ram_set(n: usize, conditions: bool, per_policy: usize) -> PolicySet {
    let mut b = PolicySet::builder(PolicyKind::Identity);
    let limits = cloudward_policy::Limits {
        max_chars: usize::MAX,
        ..Default::default()
    };
    for chunk in (0..n).collect::<Vec<_>>().chunks(per_policy) {
        let stmts: Vec<String> = chunk
            .iter()
            .map(|&i| ram_statement(i, conditions))
            .collect();
        let doc = format!(r#"{{"Version":"1","Statement":[{}]}}"#, stmts.join(","));
        let p = Policy::parse_with_limits(&doc, PolicyKind::Identity, &limits).unwrap();
        b = b.add(format!("p{}", chunk[0]), p);
    }
    b.build()
}

fn cedar_set(n: usize, conditions: bool) -> cedar_policy::PolicySet {
    let text: String = (0..n)
        .map(|i| cedar_policy(i, conditions))
        .collect::<Vec<_>>()
        .join("\n");
    cedar_policy::PolicySet::from_str(&text).unwrap()
}

fn ram_request(i: usize) -> Request {
    let svc = i % 20;
    let mut ctx = Context::new();
    ctx.set_str("acs:SourceIp", "10.1.2.3")
        .set_str("svc:team", "dev");
    Request::new(
        &format!("acs:ram::{ACCT}:user/alice"),
        &format!("svc{svc}:GetObject{i}"),
        &format!("acs:svc{svc}:cn-hangzhou:{ACCT}:bucket{i}/key"),
        ctx,
    )
}

fn cedar_request(i: usize) -> cedar_policy::Request {
    use cedar_policy::{Context, EntityUid, RestrictedExpression};
    let svc = i % 20;
    let ctx = Context::from_pairs([
        (
            "arn".to_owned(),
            RestrictedExpression::new_string(format!(
                "acs:svc{svc}:cn-hangzhou:{ACCT}:bucket{i}/key"
            )),
        ),
        (
            "source_ip".to_owned(),
            RestrictedExpression::new_ip("10.1.2.3"),
        ),
        (
            "team".to_owned(),
            RestrictedExpression::new_string("dev".into()),
        ),
    ])
    .unwrap();
    cedar_policy::Request::new(
        EntityUid::from_str(r#"User::"alice""#).unwrap(),
        EntityUid::from_str(&format!(r#"Action::"svc{svc}:GetObject{i}""#)).unwrap(),
        EntityUid::from_str(r#"Bucket::"b""#).unwrap(),
        ctx,
        None,
    )
    .unwrap()
}

fn bench_eval(c: &mut Criterion) {
    let authorizer = cedar_policy::Authorizer::new();
    let entities = cedar_policy::Entities::empty();
    for n in [10usize, 100, 1_000] {
        for conditions in [false, true] {
            let label = if conditions { "conditions" } else { "plain" };
            let mut group = c.benchmark_group(format!("eval/{n}/{label}"));
            let set = Arc::new(ram_set(n, conditions, 10));
            let req = ram_request(n - 1);
            let input = Policies {
                identity: Some(&set),
                ..Policies::default()
            };
            assert_eq!(evaluate(&input, &req).outcome, Outcome::Allow);
            group.bench_function(BenchmarkId::new("cloudward", n), |b| {
                b.iter(|| evaluate(black_box(&input), black_box(&req)).outcome)
            });
            let cset = cedar_set(n, conditions);
            let creq = cedar_request(n - 1);
            assert_eq!(
                authorizer.is_authorized(&creq, &cset, &entities).decision(),
                cedar_policy::Decision::Allow
            );
            group.bench_function(BenchmarkId::new("cedar", n), |b| {
                b.iter(|| {
                    authorizer
                        .is_authorized(black_box(&creq), black_box(&cset), &entities)
                        .decision()
                })
            });
            group.finish();
        }
    }
}

fn bench_account(c: &mut Criterion) {
    let n = 10_000;
    let mut group = c.benchmark_group("account_10k");
    group.sample_size(20);
    let set = ram_set(n, true, 1);
    let req = ram_request(4_321);
    let input = Policies {
        identity: Some(&set),
        ..Policies::default()
    };
    assert_eq!(evaluate(&input, &req).outcome, Outcome::Allow);
    group.bench_function("cloudward", |b| {
        b.iter(|| evaluate(black_box(&input), black_box(&req)).outcome)
    });
    let authorizer = cedar_policy::Authorizer::new();
    let entities = cedar_policy::Entities::empty();
    let cset = cedar_set(n, true);
    let creq = cedar_request(4_321);
    group.bench_function("cedar", |b| {
        b.iter(|| {
            authorizer
                .is_authorized(black_box(&creq), black_box(&cset), &entities)
                .decision()
        })
    });
    group.finish();
}

/// A policy of about 6 KB: 37 statements with wildcards and conditions.
fn six_kb() -> (String, String) {
    let mut ram = Vec::new();
    let mut cedar = Vec::new();
    for i in 0..37 {
        ram.push(format!(
            r#"{{"Effect":"{}","Action":["oss:Get*","ecs:Describe{i}"],"Resource":"acs:oss:*:{ACCT}:b{i}/*","Condition":{{"IpAddress":{{"acs:SourceIp":"10.{i}.0.0/16"}}}}}}"#,
            if i % 5 == 0 { "Deny" } else { "Allow" }
        ));
        cedar.push(format!(
            r#"{}(principal, action in [Action::"oss:GetObject", Action::"ecs:Describe{i}"], resource) when {{ context.arn like "acs:oss:*:{ACCT}:b{i}/*" && context.source_ip.isInRange(ip("10.{i}.0.0/16")) }};"#,
            if i % 5 == 0 { "forbid" } else { "permit" }
        ));
    }
    (
        format!(r#"{{"Version":"1","Statement":[{}]}}"#, ram.join(",")),
        cedar.join("\n"),
    )
}

fn bench_parse(c: &mut Criterion) {
    let (ram, cedar) = six_kb();
    assert!(
        (5_500..=6_144).contains(&cloudward_policy::significant_chars(&ram)),
        "{}",
        ram.len()
    );
    let mut group = c.benchmark_group("parse_compile_6kb");
    group.bench_function("cloudward", |b| {
        b.iter(|| {
            let p = Policy::parse(black_box(&ram), PolicyKind::Identity).unwrap();
            PolicySet::new(PolicyKind::Identity, [("p", p)])
        })
    });
    group.bench_function("cedar", |b| {
        b.iter(|| cedar_policy::PolicySet::from_str(black_box(&cedar)).unwrap())
    });
    // Floor for comparison: only reading the JSON into a serde_json::Value.
    group.bench_function("serde_json_value_only", |b| {
        b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(&ram)).unwrap())
    });
    group.finish();
}

fn bench_request(c: &mut Criterion) {
    // Building the request (lower-casing, reading context values) happens once per API call,
    // outside the decision.
    c.bench_function("request_build/cloudward", |b| {
        b.iter(|| ram_request(black_box(7)))
    });
    c.bench_function("request_build/cedar", |b| {
        b.iter(|| cedar_request(black_box(7)))
    });
}

criterion_group!(
    benches,
    bench_eval,
    bench_account,
    bench_parse,
    bench_request
);
criterion_main!(benches);
