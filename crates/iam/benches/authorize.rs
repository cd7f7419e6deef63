//! Cost of one authorization decision through the real policy source with a warm
//! per-principal cache: what every policy-checked call pays on top of signature checking.
//!
//! Run: `cargo bench -p cloudward-iam --bench authorize`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use cloudward_iam::authz::IamPolicySource;
use cloudward_service::{
    Authenticated, Authorizer, Call, Params, Principal, PrincipalKind, RequestContext, SecretBox,
    ServiceState, SystemClock,
};
use cloudward_store::Store;
use criterion::{Criterion, criterion_group, criterion_main};

fn context() -> RequestContext {
    RequestContext {
        request_id: "bench".into(),
        source_ip: IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)),
        secure_transport: true,
        received_at: time::OffsetDateTime::now_utc(),
        user_agent: "bench".into(),
        mfa_present: false,
    }
}

fn params(pairs: &[(&str, &str)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn run(
    state: &ServiceState,
    principal: &Principal,
    action: &str,
    p: Params,
) -> serde_json::Value {
    let spec = *cloudward_iam::actions()
        .iter()
        .find(|s| s.name == action)
        .unwrap();
    let caller = Authenticated::after_signature_verified(principal.clone(), context());
    let auth = Authorizer::new(None)
        .authorize(caller, &spec, &p)
        .await
        .unwrap();
    (spec.handler)(Call {
        state,
        auth: &auth,
        params: &p,
    })
    .await
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (state, alice, source) = rt.block_on(async {
        let store = Store::open_sqlite_memory().await.unwrap();
        let secrets = SecretBox::new(&[1u8; 32]);
        let boot = cloudward_iam::bootstrap::ensure_management_account(&store, &secrets, None, 0)
            .await
            .unwrap();
        let state = ServiceState::new(store.clone(), secrets, Arc::new(SystemClock), "cn-hangzhou".into());
        let root = Principal {
            account_id: boot.account_id.clone(),
            kind: PrincipalKind::Root,
            access_key_id: "LTAIbenchbenchbenchbench".into(),
        };
        let user = run(&state, &root, "CreateUser", params(&[("UserName", "alice")])).await;
        // Ten custom policies of ten statements each, one of which grants the benchmarked call.
        for i in 0..10 {
            let statements: Vec<String> = (0..10)
                .map(|j| {
                    format!(
                        r#"{{"Effect":"Allow","Action":"ram:Get{i}x{j}","Resource":"acs:ram::{}:user/*","Condition":{{"IpAddress":{{"acs:SourceIp":"10.0.0.0/8"}}}}}}"#,
                        boot.account_id
                    )
                })
                .collect();
            let mut doc = format!(r#"{{"Version":"1","Statement":[{}]}}"#, statements.join(","));
            if i == 9 {
                doc = doc.replace("ram:Get9x9", "ram:GetUser");
            }
            run(&state, &root, "CreatePolicy", params(&[("PolicyName", &format!("p{i}")), ("PolicyDocument", &doc)])).await;
            run(&state, &root, "AttachPolicyToUser", params(&[("PolicyName", &format!("p{i}")), ("PolicyType", "Custom"), ("UserName", "alice")])).await;
        }
        let alice = Principal {
            account_id: boot.account_id.clone(),
            kind: PrincipalKind::User {
                user_id: user["User"]["UserId"].as_str().unwrap().to_owned(),
                user_name: "alice".into(),
            },
            access_key_id: "LTAIbenchbenchbenchbenc2".into(),
        };
        let source = Arc::new(IamPolicySource::new(store, Duration::from_secs(3600)).unwrap());
        (state, alice, source)
    });
    let authorizer = Authorizer::new(Some(source));
    let spec = *cloudward_iam::actions()
        .iter()
        .find(|s| s.name == "GetUser")
        .unwrap();
    let p = params(&[("UserName", "alice")]);
    // Warm the cache once.
    rt.block_on(async {
        let caller = Authenticated::after_signature_verified(alice.clone(), context());
        authorizer.authorize(caller, &spec, &p).await.unwrap();
    });
    c.bench_function(
        "authorize/ram:GetUser/user with 100 statements, warm cache",
        |b| {
            b.iter(|| {
                rt.block_on(async {
                    let caller = Authenticated::after_signature_verified(alice.clone(), context());
                    authorizer.authorize(caller, &spec, &p).await.unwrap()
                })
            })
        },
    );
    let _ = &state;
}

criterion_group!(benches, bench);
criterion_main!(benches);
