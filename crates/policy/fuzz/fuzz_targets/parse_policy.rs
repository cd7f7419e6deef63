//! Fuzzes the policy parser: any input must parse or fail cleanly, and whatever parses must
//! print and re-parse to the same policy, compile, lint and evaluate without panicking.
#![no_main]

use cloudward_policy::{Context, Policies, Policy, PolicyKind, PolicySet, Request, evaluate};
use libfuzzer_sys::fuzz_target;

const KINDS: [PolicyKind; 5] = [
    PolicyKind::Identity,
    PolicyKind::Resource,
    PolicyKind::Trust,
    PolicyKind::Session,
    PolicyKind::Control,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in KINDS {
        let Ok(policy) = Policy::parse(text, kind) else {
            continue;
        };
        let printed = policy.to_json_string();
        let limits = cloudward_policy::Limits {
            max_chars: usize::MAX,
            ..Default::default()
        };
        match Policy::parse_with_limits(&printed, kind, &limits) {
            Ok(again) => assert_eq!(again, policy, "round trip changed the policy"),
            Err(e) => panic!("printed policy does not parse: {e}\n{printed}"),
        }
        let _ = cloudward_policy::lint::lint(&policy, kind);
        let set = PolicySet::new(kind, [("fuzz", policy)]);
        let mut ctx = Context::new();
        ctx.set_str("acs:SourceIp", "10.0.0.1")
            .set_bool("acs:SecureTransport", true);
        let req = Request::new(
            "acs:ram::1234567890123456:user/alice",
            "oss:GetObject",
            "acs:oss:*:1234567890123456:bucket/key",
            ctx,
        );
        let input = match kind {
            PolicyKind::Identity => Policies { identity: Some(&set), ..Policies::default() },
            PolicyKind::Resource => Policies { resource: Some(&set), ..Policies::default() },
            PolicyKind::Trust => Policies { trust: Some(&set), ..Policies::default() },
            PolicyKind::Session => Policies { session: Some(&set), ..Policies::default() },
            PolicyKind::Control => Policies::default(),
        };
        let d = evaluate(&input, &req);
        let _ = cloudward_policy::explain::render_text(&d, &input, &req);
    }
});
