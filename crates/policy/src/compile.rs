//! Compiled, indexed policy sets.
//!
//! A [`PolicySet`] holds the statements of any number of policies of one kind (for example all
//! the identity policies of a principal: its own and its groups'). Statements are indexed by
//! action so that a decision only looks at statements whose `Action` can match the request:
//!
//! * literal actions (`oss:GetObject`) are keyed by the hash of the lower-cased action;
//! * patterns whose RAM code is literal (`oss:Get*`, `ecs:*`) are keyed by the hash of the
//!   RAM code;
//! * patterns with a wildcard in the RAM code (`*`, `*:Describe*`) and `NotAction` statements
//!   are always candidates.
//!
//! Allow and Deny statements are indexed separately so that a Deny anywhere is found without
//! walking any Allow. Candidates are visited in (policy, statement) order, so the statement
//! reported as deciding is always the first matching one in document order, exactly what a
//! linear scan would report.

use ipnet::IpNet;

use crate::ast::{ActionBlock, Effect, Operator, Policy, PolicyKind, Principal};
use crate::eval::{PrincipalKind, Request};
use crate::value::{Context, ContextValue, parse_bool, parse_date, parse_net, parse_number};
use crate::wildcard::Pattern;

/// Whether a control policy also binds the account owner (Resource Directory's `EffectScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EffectScope {
    /// RAM users and roles only (the default): the member account's owner is not bound.
    #[default]
    Ram,
    /// RAM users, roles and the account owner.
    All,
}

/// An immutable, compiled set of policies of one kind, ready for evaluation.
///
/// `PolicySet` is `Send + Sync` and meant to be built once and shared with `Arc` (for example
/// cached per principal); building is the only costly step.
#[derive(Debug, Clone)]
pub struct PolicySet {
    kind: PolicyKind,
    policies: Vec<PolicyEntry>,
    statements: Vec<CStatement>,
    deny: ActionIndex,
    allow: ActionIndex,
    /// True when some policy binds the account owner (control policies with scope All).
    binds_owner: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct PolicyEntry {
    pub(crate) id: Box<str>,
    pub(crate) policy: Policy,
    pub(crate) scope: EffectScope,
}

#[derive(Debug, Clone)]
pub(crate) struct CStatement {
    pub(crate) policy: u32,
    pub(crate) index: u32,
    pub(crate) effect: Effect,
    not_action: bool,
    /// Lower-cased action patterns (used for NotAction and for explanations).
    actions: Vec<Pattern>,
    /// `None`: no Resource element (trust policies), which matches the role itself.
    resources: Option<Vec<ResourcePattern>>,
    principal: Option<CPrincipal>,
    conditions: Vec<CCondition>,
}

#[derive(Debug, Clone)]
struct ResourcePattern {
    exact: Pattern,
    /// Lower-cased copy for RAM ARNs; `None` when the pattern cannot match one (its literal
    /// start names another service), which saves a copy per resource.
    lower: Option<Pattern>,
}

impl ResourcePattern {
    fn new(r: &str) -> Self {
        let other_service = r.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("acs:"))
            && r.get(4..)
                .and_then(|rest| rest.split_once(':'))
                .is_some_and(|(svc, _)| {
                    !svc.eq_ignore_ascii_case("ram") && !svc.contains(['*', '?'])
                });
        Self {
            exact: Pattern::new(r),
            lower: (!other_service).then(|| Pattern::from_string(r.to_lowercase())),
        }
    }
}

/// FNV-1a: a fast, deterministic hash for short keys. Collisions are harmless: every
/// candidate is checked against its statement's actions before it counts.
fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Candidate lookup by action. The keyed lists are flat vectors sorted by (key hash,
/// statement id): building them costs two allocations, and a lookup is a binary search that
/// yields statement ids in ascending order.
#[derive(Debug, Clone, Default)]
struct ActionIndex {
    /// (hash of a literal lower-cased action, statement).
    exact: Vec<(u64, u32)>,
    /// (hash of a literal RAM code, statement) for patterns with a wildcard after the colon.
    by_service: Vec<(u64, u32)>,
    /// Statements with a pattern whose RAM code has a wildcard (`*`, `*:List*`, `e?s:*`).
    global: Vec<u32>,
    /// Statements with `NotAction`.
    not_action: Vec<u32>,
}

impl ActionIndex {
    fn add(&mut self, id: u32, stmt: &CStatement) {
        if stmt.not_action {
            self.not_action.push(id);
            return;
        }
        for pattern in &stmt.actions {
            let text = pattern.as_str();
            if !pattern.has_wildcard() {
                self.exact.push((fnv1a(text), id));
                continue;
            }
            match text.split_once(':') {
                Some((service, _)) if !service.contains(['*', '?']) => {
                    self.by_service.push((fnv1a(service), id));
                }
                _ => {
                    if self.global.last() != Some(&id) {
                        self.global.push(id);
                    }
                }
            }
        }
    }

    fn finish(&mut self) {
        for list in [&mut self.exact, &mut self.by_service] {
            list.sort_unstable();
            list.dedup();
            list.shrink_to_fit();
        }
    }

    /// Statement ids whose actions may match, in ascending order without repeats. Callers
    /// still check [`CStatement::action_matches`].
    fn candidates<'a>(&'a self, req: &'a Request) -> impl Iterator<Item = u32> + 'a {
        let range = |list: &'a [(u64, u32)], key: Option<&str>| -> &'a [(u64, u32)] {
            let Some(key) = key else { return &[] };
            let h = fnv1a(key);
            let start = list.partition_point(|&(k, _)| k < h);
            let len = list
                .get(start..)
                .map_or(0, |rest| rest.partition_point(|&(k, _)| k == h));
            list.get(start..start + len).unwrap_or_default()
        };
        let exact = range(&self.exact, Some(req.action_lower()))
            .iter()
            .map(|&(_, id)| id);
        let service = range(&self.by_service, req.service_lower())
            .iter()
            .map(|&(_, id)| id);
        Merge4::new(
            exact,
            service,
            self.global.iter().copied(),
            self.not_action.iter().copied(),
        )
    }
}

/// Merges four ascending streams into one ascending stream without allocating.
struct Merge4<A, B, C, D>
where
    A: Iterator<Item = u32>,
    B: Iterator<Item = u32>,
    C: Iterator<Item = u32>,
    D: Iterator<Item = u32>,
{
    a: std::iter::Peekable<A>,
    b: std::iter::Peekable<B>,
    c: std::iter::Peekable<C>,
    d: std::iter::Peekable<D>,
    last: Option<u32>,
}

impl<A, B, C, D> Merge4<A, B, C, D>
where
    A: Iterator<Item = u32>,
    B: Iterator<Item = u32>,
    C: Iterator<Item = u32>,
    D: Iterator<Item = u32>,
{
    fn new(a: A, b: B, c: C, d: D) -> Self {
        Self {
            a: a.peekable(),
            b: b.peekable(),
            c: c.peekable(),
            d: d.peekable(),
            last: None,
        }
    }
}

impl<A, B, C, D> Iterator for Merge4<A, B, C, D>
where
    A: Iterator<Item = u32>,
    B: Iterator<Item = u32>,
    C: Iterator<Item = u32>,
    D: Iterator<Item = u32>,
{
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        loop {
            let heads = [
                self.a.peek().copied(),
                self.b.peek().copied(),
                self.c.peek().copied(),
                self.d.peek().copied(),
            ];
            let (which, min) = heads
                .iter()
                .enumerate()
                .filter_map(|(i, h)| h.map(|v| (i, v)))
                .min_by_key(|&(_, v)| v)?;
            match which {
                0 => self.a.next(),
                1 => self.b.next(),
                2 => self.c.next(),
                _ => self.d.next(),
            };
            // A statement reached through two lists is visited once.
            if self.last != Some(min) {
                self.last = Some(min);
                return Some(min);
            }
        }
    }
}

/// A compiled `Principal`.
#[derive(Debug, Clone)]
struct CPrincipal {
    any: bool,
    ram: Vec<RamPrincipal>,
    service: Vec<Pattern>,
    federated: Vec<Pattern>,
}

#[derive(Debug, Clone)]
enum RamPrincipal {
    /// `*`: anyone.
    Any,
    /// `acs:ram::<acct>:root` or a bare account id: any identity of that account.
    Account(Pattern),
    /// A user or role ARN (lower-cased pattern).
    Arn(Pattern),
}

impl CPrincipal {
    fn compile(p: &Principal) -> Self {
        match p {
            Principal::Any => Self {
                any: true,
                ram: Vec::new(),
                service: Vec::new(),
                federated: Vec::new(),
            },
            Principal::Map {
                ram,
                service,
                federated,
            } => Self {
                any: false,
                ram: ram.iter().map(|r| RamPrincipal::compile(r)).collect(),
                service: service
                    .iter()
                    .map(|s| Pattern::new(&s.to_lowercase()))
                    .collect(),
                federated: federated
                    .iter()
                    .map(|s| Pattern::new(&canonical_ram_arn(&s.to_lowercase())))
                    .collect(),
            },
        }
    }

    fn matches(&self, req: &Request) -> bool {
        if self.any {
            return true;
        }
        let who = req.principal_info();
        match who.kind {
            PrincipalKind::Service => self.service.iter().any(|p| p.matches(&who.arn_lower)),
            PrincipalKind::Federated => self.federated.iter().any(|p| p.matches(&who.arn_lower)),
            _ => self.ram.iter().any(|r| match r {
                RamPrincipal::Any => true,
                RamPrincipal::Account(acct) => {
                    who.kind != PrincipalKind::Other && acct.matches(&who.account)
                }
                RamPrincipal::Arn(p) => {
                    p.matches(&who.arn_lower)
                        || who.role_arn_lower.as_deref().is_some_and(|r| p.matches(r))
                }
            }),
        }
    }
}

impl RamPrincipal {
    fn compile(text: &str) -> Self {
        if text == "*" {
            return Self::Any;
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return Self::Account(Pattern::new(text));
        }
        let lower = canonical_ram_arn(&text.to_lowercase());
        let parts: Vec<&str> = lower.splitn(5, ':').collect();
        if let [_, _, _, account, "root"] = parts.as_slice() {
            return Self::Account(Pattern::new(account));
        }
        Self::Arn(Pattern::new(&lower))
    }
}

/// Drops the region of an `acs:ram:<region>:...` ARN: RAM is global, and ARNs are written both
/// with an empty region and with `*`.
pub(crate) fn canonical_ram_arn(lower: &str) -> String {
    let mut parts = lower.splitn(5, ':');
    match (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) {
        (Some("acs"), Some("ram"), Some(region), Some(account), Some(rest))
            if region.is_empty() || region == "*" =>
        {
            format!("acs:ram::{account}:{rest}")
        }
        _ => lower.to_owned(),
    }
}

/// A compiled condition: lower-cased key and typed values.
#[derive(Debug, Clone)]
pub(crate) struct CCondition {
    key_lower: Box<str>,
    operator: Operator,
    values: CValues,
}

#[derive(Debug, Clone)]
enum CValues {
    Str(Vec<Box<str>>),
    Lower(Vec<Box<str>>),
    Like(Vec<Pattern>),
    Num(Vec<f64>),
    Date(Vec<i128>),
    Bool(Vec<bool>),
    Ip(Vec<IpNet>),
}

impl CCondition {
    fn compile(c: &crate::ast::Condition) -> Self {
        use Operator as O;
        let values = match c.operator {
            O::StringEquals | O::StringNotEquals => {
                CValues::Str(c.values.iter().map(|v| v.as_str().into()).collect())
            }
            O::StringEqualsIgnoreCase | O::StringNotEqualsIgnoreCase => {
                CValues::Lower(c.values.iter().map(|v| v.to_lowercase().into()).collect())
            }
            O::StringLike | O::StringNotLike => {
                CValues::Like(c.values.iter().map(|v| Pattern::new(v)).collect())
            }
            O::NumericEquals
            | O::NumericNotEquals
            | O::NumericLessThan
            | O::NumericLessThanEquals
            | O::NumericGreaterThan
            | O::NumericGreaterThanEquals => {
                CValues::Num(c.values.iter().filter_map(|v| parse_number(v)).collect())
            }
            O::DateEquals
            | O::DateNotEquals
            | O::DateLessThan
            | O::DateLessThanEquals
            | O::DateGreaterThan
            | O::DateGreaterThanEquals => {
                CValues::Date(c.values.iter().filter_map(|v| parse_date(v)).collect())
            }
            O::Bool => CValues::Bool(c.values.iter().filter_map(|v| parse_bool(v)).collect()),
            O::IpAddress | O::NotIpAddress => {
                CValues::Ip(c.values.iter().filter_map(|v| parse_net(v)).collect())
            }
        };
        Self {
            key_lower: c.key.to_lowercase().into(),
            operator: c.operator,
            values,
        }
    }

    /// Evaluates the condition: true when some context value matches some policy value
    /// (negated operators: when none does). A missing key has no values, so positive operators
    /// are false and negated operators true.
    pub(crate) fn holds(&self, ctx: &Context) -> bool {
        let found = ctx
            .get_lower(&self.key_lower)
            .iter()
            .any(|cv| self.matches_value(cv));
        found != self.operator.is_negated()
    }

    fn matches_value(&self, cv: &ContextValue) -> bool {
        use Operator as O;
        match &self.values {
            CValues::Str(vs) => vs.iter().any(|v| **v == *cv.raw),
            CValues::Lower(vs) => vs.iter().any(|v| **v == *cv.lower),
            CValues::Like(ps) => ps.iter().any(|p| p.matches(&cv.raw)),
            CValues::Num(vs) => cv.number.is_some_and(|n| {
                vs.iter().any(|&v| match self.operator {
                    O::NumericLessThan => n < v,
                    O::NumericLessThanEquals => n <= v,
                    O::NumericGreaterThan => n > v,
                    O::NumericGreaterThanEquals => n >= v,
                    _ => n == v,
                })
            }),
            CValues::Date(vs) => cv.date.is_some_and(|d| {
                vs.iter().any(|&v| match self.operator {
                    O::DateLessThan => d < v,
                    O::DateLessThanEquals => d <= v,
                    O::DateGreaterThan => d > v,
                    O::DateGreaterThanEquals => d >= v,
                    _ => d == v,
                })
            }),
            CValues::Bool(vs) => cv.boolean.is_some_and(|b| vs.contains(&b)),
            CValues::Ip(nets) => cv.ip.is_some_and(|ip| nets.iter().any(|n| n.contains(&ip))),
        }
    }
}

impl CStatement {
    fn compile(policy: u32, index: u32, st: &crate::ast::Statement) -> Self {
        let (not_action, actions) = match &st.action {
            ActionBlock::Action(a) => (false, a),
            ActionBlock::NotAction(a) => (true, a),
        };
        Self {
            policy,
            index,
            effect: st.effect,
            not_action,
            actions: actions
                .iter()
                .map(|a| Pattern::from_string(a.to_lowercase()))
                .collect(),
            resources: st
                .resource
                .as_ref()
                .map(|rs| rs.iter().map(|r| ResourcePattern::new(r)).collect()),
            principal: st.principal.as_ref().map(CPrincipal::compile),
            conditions: st.conditions.iter().map(CCondition::compile).collect(),
        }
    }

    /// Whether the statement's action element matches (checked directly, not via the index).
    pub(crate) fn action_matches(&self, req: &Request) -> bool {
        let hit = self.actions.iter().any(|p| p.matches(req.action_lower()));
        hit != self.not_action
    }

    pub(crate) fn resource_matches(&self, req: &Request) -> bool {
        match &self.resources {
            None => true,
            Some(rs) => match req.resource_lower_ram() {
                // RAM entity names are case-insensitive (Alibaba prints role ARNs lower-cased).
                Some(lower) => rs
                    .iter()
                    .any(|r| r.lower.as_ref().is_some_and(|p| p.matches(lower))),
                None => rs.iter().any(|r| r.exact.matches(req.resource())),
            },
        }
    }

    pub(crate) fn principal_matches(&self, req: &Request) -> bool {
        self.principal.as_ref().is_none_or(|p| p.matches(req))
    }

    /// Index of the first condition that does not hold, if any.
    pub(crate) fn failing_condition(&self, ctx: &Context) -> Option<usize> {
        self.conditions.iter().position(|c| !c.holds(ctx))
    }

    /// Action, resource, principal and conditions.
    fn applies(&self, req: &Request) -> bool {
        self.action_matches(req)
            && self.resource_matches(req)
            && self.principal_matches(req)
            && self.conditions.iter().all(|c| c.holds(req.context()))
    }
}

/// The first matching Deny and (when there is none) the first matching Allow of a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct SetMatch {
    pub(crate) deny: Option<u32>,
    pub(crate) allow: Option<u32>,
}

impl PolicySet {
    /// Starts an empty set of the given kind.
    pub fn builder(kind: PolicyKind) -> PolicySetBuilder {
        PolicySetBuilder {
            kind,
            policies: Vec::new(),
        }
    }

    /// Compiles `(id, policy)` pairs into a set.
    pub fn new<I, S>(kind: PolicyKind, policies: I) -> Self
    where
        I: IntoIterator<Item = (S, Policy)>,
        S: Into<Box<str>>,
    {
        let mut b = Self::builder(kind);
        for (id, p) in policies {
            b = b.add(id, p);
        }
        b.build()
    }

    /// The kind of the policies in the set.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// Number of policies.
    pub fn len(&self) -> usize {
        self.policies.len()
    }

    /// True when the set has no policies.
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// Number of statements over all policies.
    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// The policy ids and documents, in the order added.
    pub fn policies(&self) -> impl Iterator<Item = (&str, &Policy)> {
        self.policies.iter().map(|p| (&*p.id, &p.policy))
    }

    pub(crate) fn statement(&self, id: u32) -> Option<&CStatement> {
        self.statements.get(id as usize)
    }

    pub(crate) fn statements(&self) -> &[CStatement] {
        &self.statements
    }

    pub(crate) fn policy_entry(&self, index: u32) -> Option<&PolicyEntry> {
        self.policies.get(index as usize)
    }

    /// True when some policy in the set binds the account owner ([`EffectScope::All`]).
    pub fn binds_owner(&self) -> bool {
        self.binds_owner
    }

    /// Finds the first applicable Deny, or else the first applicable Allow.
    ///
    /// `owner_only` restricts the search to policies with [`EffectScope::All`] (used when the
    /// caller is the account owner and the set holds control policies).
    pub(crate) fn find(&self, req: &Request, owner_only: bool) -> SetMatch {
        let scan = |index: &ActionIndex| {
            index.candidates(req).find(|&id| {
                self.statements.get(id as usize).is_some_and(|st| {
                    (!owner_only
                        || self
                            .policies
                            .get(st.policy as usize)
                            .is_some_and(|p| p.scope == EffectScope::All))
                        && st.applies(req)
                })
            })
        };
        let deny = scan(&self.deny);
        if deny.is_some() {
            return SetMatch { deny, allow: None };
        }
        SetMatch {
            deny: None,
            allow: scan(&self.allow),
        }
    }
}

/// Collects policies for a [`PolicySet`].
#[derive(Debug, Clone)]
pub struct PolicySetBuilder {
    kind: PolicyKind,
    policies: Vec<PolicyEntry>,
}

impl PolicySetBuilder {
    /// Adds a policy under `id` (the id is reported in decisions).
    #[must_use]
    pub fn add(self, id: impl Into<Box<str>>, policy: Policy) -> Self {
        self.add_with_scope(id, policy, EffectScope::Ram)
    }

    /// Adds a control policy with an explicit [`EffectScope`].
    #[must_use]
    pub fn add_with_scope(
        mut self,
        id: impl Into<Box<str>>,
        policy: Policy,
        scope: EffectScope,
    ) -> Self {
        self.policies.push(PolicyEntry {
            id: id.into(),
            policy,
            scope,
        });
        self
    }

    /// Compiles and indexes the collected policies.
    pub fn build(self) -> PolicySet {
        let mut statements = Vec::new();
        for (pi, entry) in self.policies.iter().enumerate() {
            for (si, st) in entry.policy.statements.iter().enumerate() {
                statements.push(CStatement::compile(
                    u32::try_from(pi).unwrap_or(u32::MAX),
                    u32::try_from(si).unwrap_or(u32::MAX),
                    st,
                ));
            }
        }
        let mut deny = ActionIndex::default();
        let mut allow = ActionIndex::default();
        for (id, st) in statements.iter().enumerate() {
            let id = u32::try_from(id).unwrap_or(u32::MAX);
            match st.effect {
                Effect::Deny => deny.add(id, st),
                Effect::Allow => allow.add(id, st),
            }
        }
        deny.finish();
        allow.finish();
        let binds_owner = self.policies.iter().any(|p| p.scope == EffectScope::All);
        PolicySet {
            kind: self.kind,
            policies: self.policies,
            statements,
            deny,
            allow,
            binds_owner,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_set_is_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<PolicySet>();
        assert_send_sync::<std::sync::Arc<PolicySet>>();
    }

    #[test]
    fn canonical_ram() {
        assert_eq!(canonical_ram_arn("acs:ram:*:1:role/a"), "acs:ram::1:role/a");
        assert_eq!(canonical_ram_arn("acs:ram::1:root"), "acs:ram::1:root");
        assert_eq!(canonical_ram_arn("acs:oss:*:1:b"), "acs:oss:*:1:b");
    }
}
