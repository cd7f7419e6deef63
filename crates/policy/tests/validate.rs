//! Validation messages, limits, lints and wildcard complexity.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::type_complexity,
    missing_docs
)]

use std::time::{Duration, Instant};

use cloudward_policy::lint::{LintKind, lint};
use cloudward_policy::wildcard::{Pattern, wildcard_match};
use cloudward_policy::{Limits, ParseError, Policy, PolicyKind};

fn errors(text: &str, kind: PolicyKind) -> Vec<String> {
    match Policy::parse(text, kind) {
        Ok(p) => panic!("expected an error, parsed {p:?}"),
        Err(e) => e.problems().iter().map(ToString::to_string).collect(),
    }
}

fn one_error(text: &str, kind: PolicyKind) -> String {
    let errs = errors(text, kind);
    assert_eq!(errs.len(), 1, "{errs:?}");
    errs.into_iter().next().unwrap()
}

#[test]
fn numeric_value_error_names_the_path() {
    let e = one_error(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
            {"Effect":"Allow","Action":"oss:GetObject","Resource":"*",
             "Condition":{"NumericLessThan":{"acs:foo":"abc"}}}]}"#,
        PolicyKind::Identity,
    );
    assert_eq!(
        e,
        r#"Statement[1].Condition.NumericLessThan.acs:foo: "abc" is not a number"#
    );
}

#[test]
fn list_values_are_indexed() {
    let e = one_error(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
             "Condition":{"IpAddress":{"acs:SourceIp":["10.0.0.0/8","10.0.0.300"]}}}]}"#,
        PolicyKind::Identity,
    );
    assert!(
        e.starts_with(
            "Statement[0].Condition.IpAddress.acs:SourceIp[1]: \"10.0.0.300\" is not an IP"
        ),
        "{e}"
    );
}

#[test]
fn every_problem_is_reported() {
    let errs = errors(
        r#"{"Version":"2","Statement":[{"Effect":"allow","Action":"GetObject","Resource":"oss-bucket"}]}"#,
        PolicyKind::Identity,
    );
    assert_eq!(errs.len(), 4, "{errs:?}");
    assert!(errs[0].starts_with("Version: unsupported version \"2\""));
    assert!(errs[1].contains("Statement[0].Effect: \"allow\" must be written \"Allow\""));
    assert!(errs[2].contains("Statement[0].Action: \"GetObject\" is not an action"));
    assert!(errs[3].contains("Statement[0].Resource: \"oss-bucket\" is not a resource ARN"));
}

#[test]
fn undocumented_elements_are_rejected() {
    let base = |extra: &str| {
        format!(
            r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*"{extra}}}]}}"#
        )
    };
    let e = one_error(
        &base(r#","NotResource":"acs:oss:*:*:b""#),
        PolicyKind::Identity,
    );
    assert!(
        e.contains("`NotResource` is not part of Alibaba Cloud's RAM policy language"),
        "{e}"
    );
    let e = one_error(
        &base(r#","Condition":{"ForAnyValue:StringEquals":{"acs:TagKeys":"a"}}"#),
        PolicyKind::Identity,
    );
    assert!(e.contains("set qualifiers such as `ForAnyValue`"), "{e}");
    let e = one_error(
        &base(r#","Condition":{"ForAllValues:StringLike":{"acs:TagKeys":"a"}}"#),
        PolicyKind::Identity,
    );
    assert!(e.contains("ForAllValues"), "{e}");
    let e = one_error(
        &base(r#","Condition":{"StringEqualsIfExists":{"acs:SourceVpc":"a"}}"#),
        PolicyKind::Identity,
    );
    assert!(
        e.contains("`...IfExists` operators are not part") && e.contains("`StringEquals`"),
        "{e}"
    );
    let e = one_error(
        &base(r#","Condition":{"Null":{"acs:SourceVpc":"true"}}"#),
        PolicyKind::Identity,
    );
    assert!(e.contains("unknown operator `Null`"), "{e}");
    let e = one_error(
        &base(r#","Condition":{"stringequals":{"acs:SourceVpc":"a"}}"#),
        PolicyKind::Identity,
    );
    assert!(e.contains("write `StringEquals`"), "{e}");
    let e = errors(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","NotPrincipal":{"RAM":"*"}}]}"#,
        PolicyKind::Trust,
    );
    assert!(e[0].contains("`NotPrincipal` is not part"), "{e:?}");
}

#[test]
fn kind_specific_rules() {
    let e = one_error(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Principal":"*"}]}"#,
        PolicyKind::Identity,
    );
    assert!(
        e.contains("Principal is only allowed in resource and trust policies"),
        "{e}"
    );
    let e = one_error(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#,
        PolicyKind::Trust,
    );
    assert!(e.starts_with("Statement[0].Principal: missing"), "{e}");
    let e = one_error(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:*"}]}"#,
        PolicyKind::Control,
    );
    assert!(e.starts_with("Statement[0].Resource: missing"), "{e}");
    // Trust policies need no Resource.
    Policy::parse(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"ecs.aliyuncs.com"}}]}"#,
        PolicyKind::Trust,
    )
    .unwrap();
}

#[test]
fn single_values_sid_and_single_statement_object() {
    let p = Policy::parse(
        r#"{"Version":"1","Statement":{"Sid":"one","Effect":"Deny","NotAction":"ram:*","Resource":"*",
             "Condition":{"Bool":{"acs:MFAPresent":false},"NumericEquals":{"svc:n":5}}}}"#,
        PolicyKind::Identity,
    )
    .unwrap();
    assert_eq!(p.statements.len(), 1);
    assert_eq!(p.statements[0].sid.as_deref(), Some("one"));
    assert_eq!(
        p.statements[0].conditions[0].values,
        vec!["false".to_owned()]
    );
    assert_eq!(p.statements[0].conditions[1].values, vec!["5".to_owned()]);
}

#[test]
fn json_problems() {
    assert!(matches!(
        Policy::parse("{", PolicyKind::Identity),
        Err(ParseError::Json(_))
    ));
    let e = Policy::parse(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}]}"#,
        PolicyKind::Identity,
    )
    .unwrap_err();
    assert!(e.to_string().contains("duplicate key `Effect`"), "{e}");
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(matches!(
        Policy::parse_with_limits(
            &deep,
            PolicyKind::Identity,
            &Limits {
                max_chars: 1_000_000,
                ..Limits::default()
            }
        ),
        Err(ParseError::Json(_))
    ));
}

#[test]
fn limits() {
    let stmt = r#"{"Effect":"Allow","Action":"oss:GetObject","Resource":"acs:oss:*:*:bucket/object-name"}"#;
    let many = |n: usize| {
        format!(
            r#"{{"Version":"1","Statement":[{}]}}"#,
            vec![stmt; n].join(",")
        )
    };
    let e = Policy::parse(&many(100), PolicyKind::Identity).unwrap_err();
    assert!(
        matches!(e, ParseError::TooLarge { limit: 6_144, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("more than the limit of 6144"));
    let roomy = Limits {
        max_chars: 1_000_000,
        ..Limits::default()
    };
    Policy::parse_with_limits(&many(100), PolicyKind::Identity, &roomy).unwrap();
    let e = Policy::parse_with_limits(&many(101), PolicyKind::Identity, &roomy).unwrap_err();
    assert!(
        e.to_string()
            .contains("101 statements, more than the limit of 100"),
        "{e}"
    );
    // Whitespace outside strings is not counted.
    let pretty = serde_json::to_string_pretty(
        &serde_json::from_str::<serde_json::Value>(&many(60)).unwrap(),
    )
    .unwrap();
    assert!(pretty.len() > 6_144);
    Policy::parse(&pretty, PolicyKind::Identity).unwrap();
    let values = format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":[{}],"Resource":"*"}}]}}"#,
        vec![r#""a:b""#; 201].join(",")
    );
    let e = Policy::parse_with_limits(&values, PolicyKind::Identity, &roomy).unwrap_err();
    assert!(
        e.to_string()
            .contains("Statement[0].Action: 201 values, more than the limit of 200"),
        "{e}"
    );
}

#[test]
fn lints() {
    let trust = Policy::parse(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["*"]}}]}"#,
        PolicyKind::Trust,
    )
    .unwrap();
    let w = lint(&trust, PolicyKind::Trust);
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].kind, LintKind::WildcardPrincipal);

    let p = Policy::parse(
        r#"{"Version":"1","Statement":[
            {"Effect":"Allow","Action":"*","Resource":"*"},
            {"Effect":"Allow","NotAction":"ram:*","Resource":"*"},
            {"Effect":"Allow","Action":"ecs:*","Resource":"*","Condition":{
                "NumericLessThan":{"ecs:n":"5"},"NumericGreaterThan":{"ecs:N":"10"}}},
            {"Effect":"Allow","Action":"oss:*","Resource":"*","Condition":{
                "StringEquals":{"acs:SourceVPC":"vpc-1"},"StringNotEquals":{"acs:SourceVpc":["vpc-1","vpc-2"]}}},
            {"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"Bool":{"acs:MFAPresnt":"true"}}},
            {"Effect":"Allow","Action":"*","Resource":"*"}
        ]}"#,
        PolicyKind::Identity,
    )
    .unwrap();
    let kinds: Vec<LintKind> = lint(&p, PolicyKind::Identity)
        .iter()
        .map(|w| w.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![
            LintKind::AdminEquivalent,
            LintKind::AllowWithNotAction,
            LintKind::UnsatisfiableCondition,
            LintKind::UnsatisfiableCondition,
            LintKind::UnknownGlobalKey,
            LintKind::AdminEquivalent,
            LintKind::DuplicateStatement,
        ]
    );
    let ok = Policy::parse(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:*","Resource":"*","Condition":{
            "NumericLessThan":{"ecs:n":"10"},"NumericGreaterThan":{"ecs:n":"5"},
            "StringEquals":{"acs:ResourceTag/Team":"a","acs:principalarn":"x"}}}]}"#,
        PolicyKind::Identity,
    )
    .unwrap();
    assert!(lint(&ok, PolicyKind::Identity).is_empty());
}

/// Patterns that make backtracking globs exponential must stay fast: the matcher only ever
/// returns to the last star, so the worst case is len(pattern) × len(text).
#[test]
fn pathological_wildcards_are_linear() {
    let text = "a".repeat(20_000);
    let start = Instant::now();
    for stars in [2usize, 10, 50, 200] {
        let pattern = format!("{}b", "a*".repeat(stars));
        assert!(!wildcard_match(&pattern, &text));
        let pattern = format!("{}a", "*a".repeat(stars));
        assert!(wildcard_match(&pattern, &text));
        let pattern = "*?".repeat(stars) + "b";
        assert!(!Pattern::new(&pattern).matches(&text));
    }
    // A few hundred thousand steps each; a backtracking matcher would never finish.
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn wildcard_agrees_with_a_recursive_matcher_on_small_inputs() {
    fn naive(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|i| naive(rest, &t[i..])),
            Some(('?', rest)) => !t.is_empty() && naive(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && naive(rest, &t[1..]),
        }
    }
    let alphabet = ['a', 'b', '*', '?', 'é'];
    let mut words = vec![String::new()];
    for _ in 0..4 {
        let next: Vec<String> = words
            .iter()
            .flat_map(|w| alphabet.iter().map(move |c| format!("{w}{c}")))
            .collect();
        words.extend(next);
        words.sort();
        words.dedup();
    }
    let texts: Vec<&String> = words.iter().filter(|w| !w.contains(['*', '?'])).collect();
    for p in &words {
        let pc: Vec<char> = p.chars().collect();
        for t in &texts {
            let tc: Vec<char> = t.chars().collect();
            assert_eq!(
                wildcard_match(p, t),
                naive(&pc, &tc),
                "pattern {p:?} text {t:?}"
            );
        }
    }
}

#[test]
fn significant_chars_counts_characters_not_bytes() {
    use cloudward_policy::significant_chars;
    assert_eq!(significant_chars(r#"{ "a" : "b c" }"#), 11);
    assert_eq!(significant_chars("{\"é\": \"\\\" x\"}"), 12);
    assert_eq!(significant_chars("\n\t {}\r"), 2);
}

/// Found by the fuzzer: a bare-list Principal was not checked, but prints as `{"RAM": [...]}`,
/// which is, so the round trip failed.
#[test]
fn bare_list_principals_are_checked() {
    let e = one_error(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Principal":["888888888:888888"],"Resource":"*"}]}"#,
        PolicyKind::Resource,
    );
    assert!(
        e.starts_with("Statement[0].Principal[0]: \"888888888:888888\" is not a RAM principal"),
        "{e}"
    );
    let e = one_error(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Principal":{"RAM":"bob"},"Resource":"*"}]}"#,
        PolicyKind::Resource,
    );
    assert!(
        e.starts_with("Statement[0].Principal.RAM: \"bob\" is not a RAM principal"),
        "{e}"
    );
}
