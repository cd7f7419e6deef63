//! Differential tests of the indexed engine against a deliberately simple reference
//! evaluator, round-trip tests and "never panics" tests.
//!
//! The reference evaluator below shares nothing with the engine but the AST: it matches
//! wildcards with a naive recursive matcher, scans every statement of every policy in order,
//! reads condition values from scratch on every comparison and spells the pipeline out as
//! plainly as possible. When the two disagree, one of them is wrong.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::type_complexity,
    missing_docs
)]

use std::sync::Arc;

use proptest::prelude::*;

use cloudward_policy::{
    ActionBlock, Condition, Context, ContextValue, Effect, Operator, Policies, Policy, PolicyKind,
    PolicySet, Principal, Request, Stage, Statement, evaluate,
};

// ------------------------------------------------------------------------ reference evaluator

mod reference {
    use std::net::IpAddr;

    use cloudward_policy::{ActionBlock, Effect, Operator, Outcome, Policy, Principal, Stage};
    use serde_json::Value;

    /// A request as the reference sees it: raw strings and raw JSON context values.
    pub struct Req {
        pub principal: String,
        pub action: String,
        pub resource: String,
        /// (key as written, values); looked up case-insensitively by linear scan.
        pub context: Vec<(String, Vec<Value>)>,
    }

    pub fn glob(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|i| glob(rest, &t[i..])),
            Some(('?', rest)) => !t.is_empty() && glob(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && glob(rest, &t[1..]),
        }
    }

    fn like(pattern: &str, text: &str) -> bool {
        let p: Vec<char> = pattern.chars().collect();
        let t: Vec<char> = text.chars().collect();
        glob(&p, &t)
    }

    fn values<'a>(req: &'a Req, key: &str) -> Vec<&'a Value> {
        let mut out = Vec::new();
        for (k, vs) in &req.context {
            if k.to_lowercase() == key.to_lowercase() {
                out = vs.iter().collect();
            }
        }
        out
    }

    fn text(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        }
    }

    fn number(v: &Value) -> Option<f64> {
        match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
            _ => None,
        }
    }

    fn date(v: &Value) -> Option<i128> {
        let s = match v {
            Value::Number(n) => return n.as_i64().map(|s| i128::from(s) * 1_000_000_000),
            Value::String(s) => s,
            _ => return None,
        };
        if let Ok(secs) = s.parse::<i64>() {
            return Some(i128::from(secs) * 1_000_000_000);
        }
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .ok()
            .map(|d| d.unix_timestamp_nanos())
    }

    fn boolean(v: &Value) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    fn ip(v: &Value) -> Option<IpAddr> {
        let Value::String(s) = v else { return None };
        let ip: IpAddr = s.parse().ok()?;
        Some(match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        })
    }

    fn one(op: Operator, policy_value: &str, cv: &Value) -> bool {
        use Operator as O;
        match op {
            O::StringEquals | O::StringNotEquals => text(cv) == policy_value,
            O::StringEqualsIgnoreCase | O::StringNotEqualsIgnoreCase => {
                text(cv).to_lowercase() == policy_value.to_lowercase()
            }
            O::StringLike | O::StringNotLike => like(policy_value, &text(cv)),
            O::NumericEquals | O::NumericNotEquals => {
                matches!((number(cv), policy_value.parse::<f64>()), (Some(a), Ok(b)) if a == b)
            }
            O::NumericLessThan => {
                matches!((number(cv), policy_value.parse::<f64>()), (Some(a), Ok(b)) if a < b)
            }
            O::NumericLessThanEquals => {
                matches!((number(cv), policy_value.parse::<f64>()), (Some(a), Ok(b)) if a <= b)
            }
            O::NumericGreaterThan => {
                matches!((number(cv), policy_value.parse::<f64>()), (Some(a), Ok(b)) if a > b)
            }
            O::NumericGreaterThanEquals => {
                matches!((number(cv), policy_value.parse::<f64>()), (Some(a), Ok(b)) if a >= b)
            }
            O::DateEquals | O::DateNotEquals => {
                matches!((date(cv), date(&Value::String(policy_value.into()))), (Some(a), Some(b)) if a == b)
            }
            O::DateLessThan => {
                matches!((date(cv), date(&Value::String(policy_value.into()))), (Some(a), Some(b)) if a < b)
            }
            O::DateLessThanEquals => {
                matches!((date(cv), date(&Value::String(policy_value.into()))), (Some(a), Some(b)) if a <= b)
            }
            O::DateGreaterThan => {
                matches!((date(cv), date(&Value::String(policy_value.into()))), (Some(a), Some(b)) if a > b)
            }
            O::DateGreaterThanEquals => {
                matches!((date(cv), date(&Value::String(policy_value.into()))), (Some(a), Some(b)) if a >= b)
            }
            O::Bool => boolean(cv) == Some(policy_value.eq_ignore_ascii_case("true")),
            O::IpAddress | O::NotIpAddress => {
                let net: ipnet::IpNet = match policy_value.parse::<ipnet::IpNet>() {
                    Ok(n) => n,
                    Err(_) => match policy_value.parse::<IpAddr>() {
                        Ok(a) => a.into(),
                        Err(_) => return false,
                    },
                };
                ip(cv).is_some_and(|a| net.trunc().contains(&a))
            }
        }
    }

    fn condition_holds(c: &cloudward_policy::Condition, req: &Req) -> bool {
        let mut found = false;
        for cv in values(req, &c.key) {
            for pv in &c.values {
                if one(c.operator, pv, cv) {
                    found = true;
                }
            }
        }
        if c.operator.is_negated() {
            !found
        } else {
            found
        }
    }

    fn strip_region(arn: &str) -> String {
        let parts: Vec<&str> = arn.splitn(5, ':').collect();
        if parts.len() == 5
            && parts[0] == "acs"
            && parts[1] == "ram"
            && (parts[2].is_empty() || parts[2] == "*")
        {
            format!("acs:ram::{}:{}", parts[3], parts[4])
        } else {
            arn.to_owned()
        }
    }

    /// (is RAM identity, account, canonical lower-case ARN, role ARN of a session)
    fn caller(principal: &str) -> (bool, String, String, Option<String>) {
        let lower = strip_region(&principal.to_lowercase());
        let parts: Vec<&str> = principal.splitn(5, ':').collect();
        if parts.len() != 5
            || !parts[0].eq_ignore_ascii_case("acs")
            || !parts[1].eq_ignore_ascii_case("ram")
        {
            return (false, String::new(), lower, None);
        }
        let rest: Vec<&str> = parts[4].split('/').collect();
        let ram = matches!(
            rest.as_slice(),
            ["root"] | ["user", _] | ["role", _] | ["role" | "assumed-role", _, _]
        );
        let role = match rest.as_slice() {
            ["role" | "assumed-role", name, _] => {
                Some(format!("acs:ram::{}:role/{}", parts[3], name).to_lowercase())
            }
            _ => None,
        };
        (ram, parts[3].to_owned(), lower, role)
    }

    fn principal_matches(p: &Principal, req: &Req) -> bool {
        let (ram_identity, account, arn, role) = caller(&req.principal);
        let is_service = !req.principal.contains(':') && req.principal.contains('.');
        let is_federated =
            req.principal.contains(":saml-provider/") || req.principal.contains(":oidc-provider/");
        match p {
            Principal::Any => true,
            Principal::Map {
                ram,
                service,
                federated,
            } => {
                if is_service {
                    return service.iter().any(|s| like(&s.to_lowercase(), &arn));
                }
                if is_federated {
                    return federated
                        .iter()
                        .any(|s| like(&strip_region(&s.to_lowercase()), &arn));
                }
                ram.iter().any(|entry| {
                    if entry == "*" {
                        return true;
                    }
                    if entry.chars().all(|c| c.is_ascii_digit()) {
                        return ram_identity && like(entry, &account);
                    }
                    let e = strip_region(&entry.to_lowercase());
                    let parts: Vec<&str> = e.splitn(5, ':').collect();
                    if parts.len() == 5 && parts[4] == "root" {
                        return ram_identity && like(parts[3], &account);
                    }
                    like(&e, &arn) || role.as_deref().is_some_and(|r| like(&e, r))
                })
            }
        }
    }

    fn statement_applies(st: &cloudward_policy::Statement, req: &Req) -> bool {
        let action = req.action.to_lowercase();
        let action_ok = match &st.action {
            ActionBlock::Action(list) => list.iter().any(|a| like(&a.to_lowercase(), &action)),
            ActionBlock::NotAction(list) => !list.iter().any(|a| like(&a.to_lowercase(), &action)),
        };
        let resource_ok = match &st.resource {
            None => true,
            Some(list) => {
                let is_ram = req.resource.to_lowercase().starts_with("acs:ram:");
                list.iter().any(|r| {
                    if is_ram {
                        like(&r.to_lowercase(), &req.resource.to_lowercase())
                    } else {
                        like(r, &req.resource)
                    }
                })
            }
        };
        let principal_ok = st
            .principal
            .as_ref()
            .is_none_or(|p| principal_matches(p, req));
        action_ok
            && resource_ok
            && principal_ok
            && st.conditions.iter().all(|c| condition_holds(c, req))
    }

    /// Result of one set: (outcome of the set, deciding (policy id, statement index)).
    pub fn eval_set(
        policies: &[(String, Policy)],
        req: &Req,
    ) -> (Option<Effect>, Option<(String, usize)>) {
        for (id, p) in policies {
            for (i, st) in p.statements.iter().enumerate() {
                if st.effect == Effect::Deny && statement_applies(st, req) {
                    return (Some(Effect::Deny), Some((id.clone(), i)));
                }
            }
        }
        for (id, p) in policies {
            for (i, st) in p.statements.iter().enumerate() {
                if st.effect == Effect::Allow && statement_applies(st, req) {
                    return (Some(Effect::Allow), Some((id.clone(), i)));
                }
            }
        }
        (None, None)
    }

    pub struct Input {
        pub control: Vec<Vec<(String, Policy)>>,
        pub management_account: bool,
        pub session: Option<Vec<(String, Policy)>>,
        pub identity: Option<Vec<(String, Policy)>>,
        pub resource: Option<Vec<(String, Policy)>>,
        pub trust: Option<Vec<(String, Policy)>>,
    }

    /// (outcome, deciding stage, deciding statement)
    pub fn evaluate(input: &Input, req: &Req) -> (Outcome, Option<Stage>, Option<(String, usize)>) {
        let (ram_identity, account, _, _) = caller(&req.principal);
        let owner = ram_identity && req.principal.to_lowercase().ends_with(":root");
        let is_service = !req.principal.contains(':') && req.principal.contains('.');
        let is_federated =
            req.principal.contains(":saml-provider/") || req.principal.contains(":oidc-provider/");
        // Control: the generated control policies never bind the owner (EffectScope RAM).
        let mut results: Vec<(Stage, Option<Effect>, Option<(String, usize)>)> = Vec::new();
        if !input.management_account && !owner {
            for (level, set) in input.control.iter().enumerate() {
                let (e, s) = eval_set(set, req);
                results.push((Stage::Control { level }, e, s));
            }
        }
        if let Some(set) = &input.session {
            let (e, s) = eval_set(set, req);
            results.push((Stage::Session, e, s));
        }
        let resource_account = req.resource.split(':').nth(3).unwrap_or("").to_owned();
        let owns = owner
            && (resource_account.is_empty()
                || resource_account == "*"
                || req.resource == "*"
                || resource_account == account);
        let identity_skipped = input.trust.is_some() && (is_service || is_federated);
        let identity = if owns || identity_skipped {
            (Some(Effect::Allow), None)
        } else {
            match &input.identity {
                Some(set) => eval_set(set, req),
                None => (None, None),
            }
        };
        results.push((Stage::Identity, identity.0, identity.1.clone()));
        let resource = input.resource.as_ref().map(|set| eval_set(set, req));
        if let Some(r) = &resource {
            results.push((Stage::Resource, r.0, r.1.clone()));
        }
        let trust = input.trust.as_ref().map(|set| eval_set(set, req));
        if let Some(t) = &trust {
            results.push((Stage::Trust, t.0, t.1.clone()));
        }
        for (stage, e, s) in &results {
            if *e == Some(Effect::Deny) {
                return (Outcome::ExplicitDeny, Some(*stage), s.clone());
            }
        }
        for (stage, e, _) in &results {
            if matches!(stage, Stage::Control { .. } | Stage::Session) && e.is_none() {
                return (Outcome::ImplicitDeny, Some(*stage), None);
            }
        }
        let granted = if identity.0 == Some(Effect::Allow) {
            Some((Stage::Identity, identity.1.clone()))
        } else if let Some((Some(Effect::Allow), s)) = &resource {
            Some((Stage::Resource, s.clone()))
        } else {
            None
        };
        let Some(granted) = granted else {
            return (Outcome::ImplicitDeny, Some(Stage::Identity), None);
        };
        match &trust {
            None => (Outcome::Allow, Some(granted.0), granted.1),
            Some((Some(Effect::Allow), s)) => {
                if identity_skipped && granted.0 == Stage::Identity {
                    (Outcome::Allow, Some(Stage::Trust), s.clone())
                } else {
                    (Outcome::Allow, Some(granted.0), granted.1)
                }
            }
            Some(_) => (Outcome::ImplicitDeny, Some(Stage::Trust), None),
        }
    }
}

// ------------------------------------------------------------------------ generators

const ACTIONS: &[&str] = &[
    "oss:GetObject",
    "oss:PutObject",
    "OSS:getobject",
    "ecs:DescribeInstances",
    "ecs:StartInstance",
    "ram:CreateUser",
    "sts:AssumeRole",
    "kms:Decrypt",
    "rds:",
    "eas:Describe",
];
const ACTION_PATTERNS: &[&str] = &[
    "oss:GetObject",
    "oss:Get*",
    "oss:*",
    "*",
    "ecs:Describe?nstances",
    "*:Describe*",
    "OSS:getobject",
    "e?s:*",
    "ram:CreateUser",
    "sts:AssumeRole",
    "kms:*Crypt",
    "rds:*",
    "ecs:*Instance*",
    "*s:*",
];
const RESOURCES: &[&str] = &[
    "*",
    "acs:oss:*:111:b/k1",
    "acs:oss:*:111:b/k12",
    "acs:oss:cn-hangzhou:222:b",
    "acs:ram::111:role/Admin",
    "acs:ram::111:role/admin",
    "acs:ecs:cn-hangzhou:111:instance/i-1",
    "acs:kms:cn-shanghai:222:key/k",
];
const RESOURCE_PATTERNS: &[&str] = &[
    "*",
    "acs:oss:*:*:b/*",
    "acs:oss:*:111:b/k?",
    "acs:ram:*:*:role/Admin",
    "acs:*:*:*:*",
    "acs:oss:*:b*",
    "acs:ecs:cn-*:111:instance/*",
    "acs:kms:*:222:key/k",
    "acs:oss:*:*:B/*",
];
const PRINCIPALS: &[&str] = &[
    "acs:ram::111:user/alice",
    "acs:ram::111:user/bob",
    "acs:ram::111:role/Admin",
    "acs:ram::111:assumed-role/Admin/s1",
    "acs:ram::222:user/alice",
    "acs:ram::111:root",
    "acs:ram::222:root",
    "ecs.aliyuncs.com",
    "acs:ram::111:saml-provider/idp",
];
const RAM_PRINCIPALS: &[&str] = &[
    "*",
    "acs:ram::111:root",
    "acs:ram::111:user/alice",
    "acs:ram::111:role/admin",
    "222",
    "acs:ram:*:*:user/*",
    "acs:ram::*:root",
];
const KEYS: &[&str] = &[
    "svc:s",
    "SVC:S",
    "acs:SourceIp",
    "acs:CurrentTime",
    "acs:MFAPresent",
    "svc:n",
    "acs:PrincipalARN",
];

fn string_values() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "a",
        "A",
        "ab",
        "a*",
        "?b",
        "",
        "1",
        "10",
        "acs:ram::111:user/*",
        "*",
    ])
    .prop_map(str::to_owned)
}

fn typed_values(op: Operator) -> BoxedStrategy<Vec<String>> {
    use cloudward_policy::OperatorType as T;
    let one: BoxedStrategy<String> = match op.value_type() {
        T::String => string_values().boxed(),
        T::Numeric => prop::sample::select(vec!["1", "10", "-2.5", "0", "100"])
            .prop_map(str::to_owned)
            .boxed(),
        T::Date => prop::sample::select(vec![
            "2024-01-01T00:00:00Z",
            "2024-06-01T12:00:00Z",
            "1700000000",
            "2030-01-01T00:00:00Z",
        ])
        .prop_map(str::to_owned)
        .boxed(),
        T::Bool => prop::sample::select(vec!["true", "false", "TRUE"])
            .prop_map(str::to_owned)
            .boxed(),
        T::Ip => prop::sample::select(vec![
            "10.0.0.0/8",
            "10.1.2.3",
            "192.168.0.0/16",
            "2001:db8::/32",
            "::1",
        ])
        .prop_map(str::to_owned)
        .boxed(),
    };
    prop::collection::vec(one, 1..3).boxed()
}

fn condition() -> impl Strategy<Value = Condition> {
    (
        prop::sample::select(Operator::ALL.to_vec()),
        prop::sample::select(KEYS.to_vec()),
    )
        .prop_flat_map(|(op, key)| {
            typed_values(op).prop_map(move |values| Condition {
                operator: op,
                key: key.to_owned(),
                values,
            })
        })
}

fn statement(kind: PolicyKind) -> impl Strategy<Value = Statement> {
    let actions = prop::collection::vec(
        prop::sample::select(ACTION_PATTERNS.to_vec()).prop_map(str::to_owned),
        1..3,
    );
    let resources = prop::collection::vec(
        prop::sample::select(RESOURCE_PATTERNS.to_vec()).prop_map(str::to_owned),
        1..3,
    );
    let principal = prop_oneof![
        1 => Just(Principal::Any),
        6 => (
            prop::collection::vec(prop::sample::select(RAM_PRINCIPALS.to_vec()).prop_map(str::to_owned), 0..3),
            prop::collection::vec(Just("ecs.aliyuncs.com".to_owned()), 0..2),
            prop::collection::vec(Just("acs:ram::111:saml-provider/idp".to_owned()), 0..2),
        )
            .prop_filter("some principal", |(r, s, f)| !(r.is_empty() && s.is_empty() && f.is_empty()))
            .prop_map(|(ram, service, federated)| Principal::Map { ram, service, federated }),
    ];
    (
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.15),
        actions,
        resources,
        principal,
        prop::collection::vec(condition(), 0..3),
        prop::option::of(Just("sid".to_owned())),
    )
        .prop_map(
            move |(deny, not_action, actions, resources, principal, conditions, sid)| {
                // Condition keys must be unique per operator in JSON.
                let mut seen = Vec::new();
                let conditions: Vec<Condition> = conditions
                    .into_iter()
                    .filter(|c| {
                        let k = (c.operator, c.key.clone());
                        let fresh = !seen.contains(&k);
                        seen.push(k);
                        fresh
                    })
                    .collect();
                // Canonical order: the printer groups conditions by operator in first-seen order.
                let mut ordered: Vec<Condition> = Vec::new();
                for c in &conditions {
                    if ordered.iter().any(|o| o.operator == c.operator) {
                        continue;
                    }
                    ordered.extend(
                        conditions
                            .iter()
                            .filter(|o| o.operator == c.operator)
                            .cloned(),
                    );
                }
                Statement {
                    sid,
                    effect: if deny { Effect::Deny } else { Effect::Allow },
                    action: if not_action {
                        ActionBlock::NotAction(actions)
                    } else {
                        ActionBlock::Action(actions)
                    },
                    resource: if kind == PolicyKind::Trust {
                        None
                    } else {
                        Some(resources)
                    },
                    principal: matches!(kind, PolicyKind::Resource | PolicyKind::Trust)
                        .then_some(principal),
                    conditions: ordered,
                }
            },
        )
}

fn policy(kind: PolicyKind) -> impl Strategy<Value = Policy> {
    prop::collection::vec(statement(kind), 0..5).prop_map(|statements| Policy { statements })
}

fn policies(kind: PolicyKind, max: usize) -> impl Strategy<Value = Vec<(String, Policy)>> {
    let prefix = kind.name();
    prop::collection::vec(policy(kind), 0..max).prop_map(move |ps| {
        ps.into_iter()
            .enumerate()
            .map(|(i, p)| (format!("{prefix}-{i}"), p))
            .collect()
    })
}

fn context_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value as V;
    prop_oneof![
        prop::sample::select(vec!["a", "A", "ab", "b", "", "10", "1", "-2.5", "x1"])
            .prop_map(|s| V::String(s.into())),
        prop::sample::select(vec![
            "10.0.0.1",
            "10.200.0.1",
            "192.168.3.4",
            "::ffff:10.0.0.1",
            "2001:db8::7",
            "::1",
            "8.8.8.8"
        ])
        .prop_map(|s| V::String(s.into())),
        prop::sample::select(vec![
            "2024-01-01T00:00:00Z",
            "2023-12-31T23:59:59Z",
            "2024-06-01T12:00:00Z",
            "2031-01-01T00:00:00Z"
        ])
        .prop_map(|s| V::String(s.into())),
        any::<bool>().prop_map(V::Bool),
        prop::sample::select(vec![0i64, 1, 10, 100, 1_700_000_000])
            .prop_map(|n| V::Number(n.into())),
        prop::sample::select(vec!["true", "false", "TRUE", "acs:ram::111:user/alice"])
            .prop_map(|s| V::String(s.into())),
    ]
}

fn context() -> impl Strategy<Value = Vec<(String, Vec<serde_json::Value>)>> {
    prop::collection::vec(
        (
            prop::sample::select(KEYS.to_vec()).prop_map(str::to_owned),
            prop::collection::vec(context_value(), 0..3),
        ),
        0..4,
    )
    .prop_map(|entries| {
        // Later entries for the same key (any case) replace earlier ones, as in Context::set.
        let mut out: Vec<(String, Vec<serde_json::Value>)> = Vec::new();
        for (k, v) in entries {
            out.retain(|(existing, _)| existing.to_lowercase() != k.to_lowercase());
            out.push((k, v));
        }
        out
    })
}

fn to_context(entries: &[(String, Vec<serde_json::Value>)]) -> Context {
    let mut ctx = Context::new();
    for (k, vs) in entries {
        let values = vs
            .iter()
            .map(|v| match v {
                serde_json::Value::String(s) => ContextValue::string(s),
                serde_json::Value::Bool(b) => ContextValue::boolean(*b),
                serde_json::Value::Number(n) => ContextValue::number(n.as_f64().unwrap()),
                _ => unreachable!(),
            })
            .collect();
        ctx.set(k, values);
    }
    ctx
}

/// The reference fills acs:PrincipalARN exactly as the engine documents it.
fn reference_context(
    principal: &str,
    entries: &[(String, Vec<serde_json::Value>)],
) -> Vec<(String, Vec<serde_json::Value>)> {
    let mut out = entries.to_vec();
    let has = out
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("acs:PrincipalARN") && !v.is_empty());
    if !has {
        out.retain(|(k, _)| !k.eq_ignore_ascii_case("acs:PrincipalARN"));
        let mut values = vec![serde_json::Value::String(principal.to_owned())];
        let parts: Vec<&str> = principal.splitn(5, ':').collect();
        if parts.len() == 5 {
            let rest: Vec<&str> = parts[4].split('/').collect();
            if let ["role" | "assumed-role", name, _] = rest.as_slice() {
                values.push(serde_json::Value::String(format!(
                    "acs:ram::{}:role/{}",
                    parts[3], name
                )));
            }
        }
        out.push(("acs:PrincipalARN".to_owned(), values));
    }
    out
}

fn compile(kind: PolicyKind, ps: &[(String, Policy)]) -> PolicySet {
    // Round trip through JSON on the way, so the parser is exercised too.
    PolicySet::new(
        kind,
        ps.iter().map(|(id, p)| {
            let reparsed = Policy::parse_with_limits(
                &p.to_json_string(),
                kind,
                &cloudward_policy::Limits {
                    max_chars: 1 << 20,
                    ..Default::default()
                },
            )
            .unwrap_or_else(|e| {
                panic!(
                    "generated policy does not parse: {e}\n{}",
                    p.to_json_string()
                )
            });
            assert_eq!(&reparsed, p, "round trip changed the policy");
            (id.clone(), reparsed)
        }),
    )
}

#[derive(Debug, Clone)]
struct Scenario {
    control: Vec<Vec<(String, Policy)>>,
    management_account: bool,
    session: Option<Vec<(String, Policy)>>,
    identity: Option<Vec<(String, Policy)>>,
    resource: Option<Vec<(String, Policy)>>,
    trust: Option<Vec<(String, Policy)>>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        prop::collection::vec(policies(PolicyKind::Control, 3), 0..3),
        prop::bool::weighted(0.2),
        prop::option::weighted(0.3, policies(PolicyKind::Session, 2)),
        prop::option::weighted(0.9, policies(PolicyKind::Identity, 4)),
        prop::option::weighted(0.4, policies(PolicyKind::Resource, 2)),
        prop::option::weighted(0.3, policies(PolicyKind::Trust, 2)),
    )
        .prop_map(
            |(control, management_account, session, identity, resource, trust)| Scenario {
                control,
                management_account,
                session,
                identity,
                resource,
                trust,
            },
        )
}

fn non_empty(v: &Option<Vec<(String, Policy)>>) -> Option<&Vec<(String, Policy)>> {
    v.as_ref().filter(|v| !v.is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn engine_agrees_with_reference(
        s in scenario(),
        requests in prop::collection::vec(
            (prop::sample::select(PRINCIPALS.to_vec()), prop::sample::select(ACTIONS.to_vec()),
             prop::sample::select(RESOURCES.to_vec()), context()),
            1..6),
    ) {
        let control: Vec<Arc<PolicySet>> =
            s.control.iter().map(|l| Arc::new(compile(PolicyKind::Control, l))).collect();
        let session = non_empty(&s.session).map(|p| compile(PolicyKind::Session, p));
        let identity = non_empty(&s.identity).map(|p| compile(PolicyKind::Identity, p));
        let resource = non_empty(&s.resource).map(|p| compile(PolicyKind::Resource, p));
        let trust = non_empty(&s.trust).map(|p| compile(PolicyKind::Trust, p));
        let input = Policies {
            control: &control,
            management_account: s.management_account,
            session: session.as_ref(),
            identity: identity.as_ref(),
            resource_group_identity: None,
            resource: resource.as_ref(),
            trust: trust.as_ref(),
        };
        let reference_input = reference::Input {
            control: s.control.clone(),
            management_account: s.management_account,
            session: non_empty(&s.session).cloned(),
            identity: non_empty(&s.identity).cloned(),
            resource: non_empty(&s.resource).cloned(),
            trust: non_empty(&s.trust).cloned(),
        };
        for (principal, action, res, ctx) in requests {
            let request = Request::new(principal, action, res, to_context(&ctx));
            let d = evaluate(&input, &request);
            let rreq = reference::Req {
                principal: principal.to_owned(),
                action: action.to_owned(),
                resource: res.to_owned(),
                context: reference_context(principal, &ctx),
            };
            let (outcome, stage, stmt) = reference::evaluate(&reference_input, &rreq);
            let engine_stmt = d.statement.map(|m| (m.policy_id.to_owned(), m.statement_index));
            prop_assert_eq!(
                (d.outcome, d.stage, engine_stmt.clone()),
                (outcome, stage, stmt.clone()),
                "request {} {} {} ctx {:?}\ntrace {:#?}", principal, action, res, ctx, d.trace
            );
        }
    }

    #[test]
    fn round_trip_parse_print_parse(p in policy(PolicyKind::Resource)) {
        let text = p.to_json_string();
        let limits = cloudward_policy::Limits { max_chars: 1 << 20, ..Default::default() };
        let once = Policy::parse_with_limits(&text, PolicyKind::Resource, &limits).unwrap();
        prop_assert_eq!(&once, &p);
        let pretty = serde_json::to_string_pretty(&once.to_json()).unwrap();
        let twice = Policy::parse_with_limits(&pretty, PolicyKind::Resource, &limits).unwrap();
        prop_assert_eq!(twice, once);
    }

    #[test]
    fn arbitrary_text_never_panics(s in ".{0,400}") {
        for kind in [PolicyKind::Identity, PolicyKind::Resource, PolicyKind::Trust, PolicyKind::Session, PolicyKind::Control] {
            let _ = Policy::parse(&s, kind);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let s = String::from_utf8_lossy(&bytes);
        let _ = Policy::parse(&s, PolicyKind::Identity);
        let _ = cloudward_policy::corpus::run_corpus(&s);
    }

    #[test]
    fn arbitrary_json_never_panics(v in arbitrary_json()) {
        let text = v.to_string();
        for kind in [PolicyKind::Identity, PolicyKind::Trust] {
            let _ = Policy::parse(&text, kind);
        }
        let doc = serde_json::json!({"Version": "1", "Statement": [v.clone()]}).to_string();
        let _ = Policy::parse(&doc, PolicyKind::Resource);
        let st = serde_json::json!({"Version": "1", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": v}}).to_string();
        let _ = Policy::parse(&st, PolicyKind::Identity);
    }

    #[test]
    fn arbitrary_requests_never_panic(
        principal in ".{0,60}", action in ".{0,40}", resource in ".{0,60}",
        key in ".{0,20}", value in ".{0,30}",
    ) {
        let p = Policy::parse(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":["*:*","oss:Get*","a:b"],"Resource":"acs:*:*:*:*",
                "Condition":{"StringLike":{"svc:k":"*"},"NumericLessThan":{"svc:n":"5"}}},
                {"Effect":"Deny","NotAction":"oss:*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}}]}"#,
            PolicyKind::Identity,
        ).unwrap();
        let set = PolicySet::new(PolicyKind::Identity, [("p", p)]);
        let mut ctx = Context::new();
        ctx.set_str(&key, &value);
        let req = Request::new(&principal, &action, &resource, ctx);
        let input = Policies { identity: Some(&set), ..Policies::default() };
        let d = evaluate(&input, &req);
        let _ = cloudward_policy::explain::render_text(&d, &input, &req);
        let _ = d.to_json(&req);
    }
}

fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value as V;
    let leaf = prop_oneof![
        Just(V::Null),
        any::<bool>().prop_map(V::Bool),
        any::<i64>().prop_map(|n| V::Number(n.into())),
        prop::sample::select(vec![
            "Allow",
            "Deny",
            "*",
            "1",
            "Effect",
            "Action",
            "acs:SourceIp",
            "10.0.0.0/8",
            "x"
        ])
        .prop_map(|s| V::String(s.into())),
        ".{0,10}".prop_map(V::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(V::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "Version",
                        "Statement",
                        "Effect",
                        "Action",
                        "NotAction",
                        "Resource",
                        "Principal",
                        "Condition",
                        "Sid",
                        "RAM",
                        "Service",
                        "StringEquals",
                        "Bool",
                        "IpAddress",
                        "acs:SourceIp",
                    ])
                    .prop_map(str::to_owned),
                    inner
                ),
                0..6,
            )
            .prop_map(|kv| V::Object(kv.into_iter().collect())),
        ]
    })
}

/// Every policy in the corpus survives parse → print → parse unchanged.
#[test]
fn corpus_policies_round_trip() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/policy");
    let mut files = Vec::new();
    walk(&root, &mut files);
    let mut count = 0;
    for f in files {
        let file =
            cloudward_policy::corpus::parse_corpus(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let scenario =
            cloudward_policy::corpus::Scenario::compile(&file.policies.unwrap_or_default())
                .unwrap();
        let sets = scenario
            .control
            .iter()
            .map(|s| &**s)
            .chain(scenario.session.iter())
            .chain(scenario.identity.iter())
            .chain(scenario.resource.iter())
            .chain(scenario.trust.iter())
            .chain(scenario.resource_group_identity.iter());
        for set in sets {
            for (_, p) in set.policies() {
                let again = Policy::parse(&p.to_json_string(), set.kind()).unwrap();
                assert_eq!(&again, p);
                count += 1;
            }
        }
    }
    assert!(count > 40, "only {count} policies");
}

/// Deciding statements are reported in document order even when the index finds them out of
/// order (exact hits, per-service patterns, global patterns and NotAction live in different
/// lists).
#[test]
fn deciding_statement_is_first_in_document_order() {
    let p = Policy::parse(
        r#"{"Version":"1","Statement":[
            {"Effect":"Allow","NotAction":"ram:*","Resource":"*"},
            {"Effect":"Allow","Action":"*","Resource":"*"},
            {"Effect":"Allow","Action":"oss:Get*","Resource":"*"},
            {"Effect":"Allow","Action":"oss:GetObject","Resource":"*"}]}"#,
        PolicyKind::Identity,
    )
    .unwrap();
    let set = PolicySet::new(PolicyKind::Identity, [("p", p.clone())]);
    let input = Policies {
        identity: Some(&set),
        ..Policies::default()
    };
    let req = Request::new("acs:ram::1:user/a", "oss:GetObject", "*", Context::new());
    let d = evaluate(&input, &req);
    assert_eq!(d.statement.map(|s| s.statement_index), Some(0));
    let mut rev = p;
    rev.statements.reverse();
    let set = PolicySet::new(PolicyKind::Identity, [("p", rev)]);
    let input = Policies {
        identity: Some(&set),
        ..Policies::default()
    };
    let d = evaluate(&input, &req);
    assert_eq!(d.statement.map(|s| s.statement_index), Some(0));
    assert_eq!(d.stage, Some(Stage::Identity));
}
