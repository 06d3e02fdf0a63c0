//! E0302 and W0004: two non-`otherwise` transitions that compete for one (phase, trigger) pair and may both
//! pass. When both pass, the input is rejected as ambiguous, so every pair of competitors should be exclusive.
//!
//! For each pair of non-`otherwise` transitions on the same trigger, and each reachable phase both fire from
//! (see [`super::unreachable_phases`]; pairs that only compete in unreachable phases never meet), the rule
//! flattens both `when` clauses into facts for that phase (see [`super::conditions`]: named guards expanded,
//! `&&` split, comparisons of the phase with a phase literal evaluated) and classifies the pair:
//! - **disjoint** when some fact never holds or two facts conflict (`g` / `!g`, `x == A` / `x == B`,
//!   `o.is_some()` / `o.is_none()`, `n < 3` / `n >= 3`, ...). This proof is sound: no state makes both pass.
//! - **overlapping** (E0302) when one transition's facts entail every fact of the other (for example both are
//!   unguarded, one is unguarded, or one adds conditions to the other's). Then every state in which the
//!   narrower one passes makes the broader one pass too. The proof is sound modulo the satisfiability of the
//!   narrower transition's guards: if no reachable state satisfies them, the narrower transition is dead instead
//!   (the checker has no SMT solver and does not decide that).
//! - **unknown** (W0004) otherwise: the checker cannot prove them exclusive.
//!
//! In particular an unguarded transition and a guarded competitor are an E0302 error, not a dead transition:
//! whenever the guarded one's conditions hold, both pass. The fix is to mark the unguarded one `otherwise`.
//!
//! Pairs are not all compared: within the competitors for one (phase, trigger), those whose ranges or constants
//! for a common subject (`x == 3` / `x == 4`) exclude each other are skipped, as they are disjoint by the first
//! rule, so the check stays near-linear on specs with thousands of such competitors.
//!
//! Each pair is reported once, listing the phases; E0302 wins over W0004 when they differ by phase. The
//! primary span is the later transition's header, with the earlier one as a secondary label.

use std::collections::{BTreeMap, HashMap};

use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::{Expr, Machine, PhaseId, Transition, Trigger};

use super::conditions::{self, Constant, Fact, Located, negated_label};
use super::unreachable_phases::reachable;

/// Which transition's facts entail the other's, in one phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Proof {
    /// Each entails the other (both unguarded, or the same conditions).
    Equivalent,
    /// Whenever the earlier transition passes, the later one does: the later one is broader.
    EarlierNarrower,
    /// Whenever the later transition passes, the earlier one does: the earlier one is broader.
    LaterNarrower,
}

/// What the checker knows about two competitors in one phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Disjoint,
    Overlap(Proof),
    Unknown,
}

/// One diagnostic per pair of competing transitions that may both pass, in declaration order of the pairs.
pub(crate) fn guard_overlap(machine: &Machine) -> Vec<Diagnostic> {
    let reached = reachable(machine);
    competing_pairs(machine, &reached)
        .into_iter()
        .filter_map(|(i, j)| pair_diagnostic(machine, &reached, (&machine.transitions[i], &machine.transitions[j])))
        .collect()
}

/// The diagnostic for one pair of non-`otherwise` transitions on the same trigger, if they may both pass in a
/// reachable phase they share.
fn pair_diagnostic(
    machine: &Machine,
    reached: &[bool],
    (earlier, later): (&Transition, &Transition),
) -> Option<Diagnostic> {
    let mut proven: Vec<(PhaseId, Proof)> = Vec::new();
    let mut unknown: Vec<PhaseId> = Vec::new();
    for phase in &earlier.sources {
        if !later.sources.contains(phase) || !reached.get(phase.index()).copied().unwrap_or(false) {
            continue;
        }
        match outcome(machine, earlier, later, *phase) {
            Outcome::Disjoint => {}
            Outcome::Overlap(proof) => proven.push((*phase, proof)),
            Outcome::Unknown => unknown.push(*phase),
        }
    }
    if let Some(&(phase, proof)) = proven.first() {
        let phases: Vec<PhaseId> = proven.iter().map(|(p, _)| *p).collect();
        Some(overlap(machine, (earlier, later), phase, proof, &phases, &unknown))
    } else if !unknown.is_empty() {
        Some(possible_overlap(machine, earlier, later, &unknown))
    } else {
        None
    }
}

/// The pairs `(earlier, later)` of indices of non-`otherwise` transitions that compete for one trigger in a
/// reachable phase and that a shared discriminant does not already prove exclusive there, sorted and without
/// repeats. Every other pair is disjoint in every phase it shares, so [`pair_diagnostic`] would report nothing
/// for it: this is what keeps the rule near-linear on specs with many competitors, such as one transition per
/// value of `x` (`when x == 0`, `when x == 1`, ...), which a comparison of every pair made quadratic.
fn competing_pairs(machine: &Machine, reached: &[bool]) -> Vec<(usize, usize)> {
    let mut groups: BTreeMap<(Trigger, PhaseId), Vec<usize>> = BTreeMap::new();
    for (i, transition) in machine.transitions.iter().enumerate() {
        if transition.otherwise {
            continue;
        }
        for phase in &transition.sources {
            if reached.get(phase.index()).copied().unwrap_or(false) {
                let members = groups.entry((transition.trigger, *phase)).or_default();
                if members.last() != Some(&i) {
                    members.push(i);
                }
            }
        }
    }
    let mut pairs = Vec::new();
    for ((_, phase), members) in &groups {
        pairs_in_group(machine, *phase, members, &mut pairs);
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// How a transition's guards pin the discriminant of its group.
enum Key<'m> {
    /// `lo <= subject <= hi`.
    Range(u64, u64),
    /// `subject == value`.
    Value(Constant<'m>),
}

/// A subject the facts of several competitors constrain, and how many of them do.
struct Subject<'m> {
    expr: &'m Expr,
    ranged: bool,
    members: usize,
    last_member: usize,
}

/// Pushes the pairs of `members` (transitions competing in `phase`, in declaration order) that may both pass.
/// The group's discriminant is the subject that the most members pin with a range (`x == 3`, `x < 10`) or an
/// equality with a constant (`mode == On`): members whose ranges do not intersect, or whose constants differ,
/// conflict on it and are left out. Members that do not pin it are paired with every other member.
fn pairs_in_group(machine: &Machine, phase: PhaseId, members: &[usize], out: &mut Vec<(usize, usize)>) {
    if members.len() < 2 {
        return;
    }
    let facts: Vec<Vec<Located<'_>>> =
        members.iter().map(|i| conditions::transition_facts(machine, &machine.transitions[*i], Some(phase))).collect();
    let Some(subject) = discriminant(&facts) else {
        for (a, first) in members.iter().enumerate() {
            out.extend(members.iter().skip(a + 1).map(|second| (*first, *second)));
        }
        return;
    };
    let keys: Vec<Option<Key<'_>>> = facts.iter().map(|f| key(f, &subject)).collect();
    let mut ranges: Vec<(u64, u64, usize)> = Vec::new();
    let mut values: HashMap<u64, Vec<(Constant<'_>, Vec<usize>)>> = HashMap::new();
    let mut wild: Vec<usize> = Vec::new();
    for (member, key) in members.iter().zip(keys) {
        match key {
            Some(Key::Range(lo, hi)) => ranges.push((lo, hi, *member)),
            Some(Key::Value(value)) => {
                let bucket = values.entry(value.shape_hash()).or_default();
                match bucket.iter_mut().find(|(v, _)| v.same(value)) {
                    Some((_, same_value)) => same_value.push(*member),
                    None => bucket.push((value, vec![*member])),
                }
            }
            None => wild.push(*member),
        }
    }
    let ordered = |a: usize, b: usize| (a.min(b), a.max(b));
    for w in &wild {
        out.extend(members.iter().filter(|m| *m != w).map(|m| ordered(*w, *m)));
    }
    ranges.sort_unstable();
    let mut active: Vec<(u64, usize)> = Vec::new();
    for (lo, hi, member) in ranges {
        active.retain(|(other_hi, _)| *other_hi >= lo);
        out.extend(active.iter().map(|(_, other)| ordered(*other, member)));
        active.push((hi, member));
    }
    for (_, same_value) in values.values().flatten() {
        for (a, first) in same_value.iter().enumerate() {
            out.extend(same_value.iter().skip(a + 1).map(|second| ordered(*first, *second)));
        }
    }
}

/// The subject pinned by the most members' facts (the first seen among equals), if at least two pin it.
fn discriminant<'m>(facts: &[Vec<Located<'m>>]) -> Option<Subject<'m>> {
    let mut subjects: HashMap<(bool, u64), Vec<Subject<'m>>> = HashMap::new();
    let mut order: Vec<(bool, u64, usize)> = Vec::new();
    for (member, member_facts) in facts.iter().enumerate() {
        for located in member_facts {
            let Some((expr, ranged)) = pinned(&located.fact) else { continue };
            let bucket = subjects.entry((ranged, conditions::shape_hash(expr))).or_default();
            match bucket.iter_mut().find(|s| conditions::same(s.expr, expr)) {
                Some(subject) if subject.last_member != member => {
                    subject.members += 1;
                    subject.last_member = member;
                }
                Some(_) => {}
                None => {
                    order.push((ranged, conditions::shape_hash(expr), bucket.len()));
                    bucket.push(Subject { expr, ranged, members: 1, last_member: member });
                }
            }
        }
    }
    // The first subject seen among those pinned by the most members, so the choice does not depend on hashing.
    let mut best: Option<(bool, u64, usize, usize)> = None;
    for (ranged, hash, index) in order {
        let count = subjects.get(&(ranged, hash)).and_then(|b| b.get(index)).map_or(0, |s| s.members);
        if best.is_none_or(|(_, _, _, c)| count > c) {
            best = Some((ranged, hash, index, count));
        }
    }
    let (ranged, hash, index, count) = best?;
    if count < 2 {
        return None;
    }
    let mut bucket = subjects.remove(&(ranged, hash))?;
    (index < bucket.len()).then(|| bucket.swap_remove(index))
}

/// The subject a fact pins and whether it pins it with a range (`true`) or an equality with a constant.
fn pinned<'m>(fact: &Fact<'m>) -> Option<(&'m Expr, bool)> {
    match fact {
        Fact::Range { subject, .. } => Some((subject, true)),
        Fact::Is { subject, equal: true, .. } => Some((subject, false)),
        _ => None,
    }
}

/// How the first fact of a member that pins `subject` the way the discriminant does pins it.
fn key<'m>(facts: &[Located<'m>], subject: &Subject<'m>) -> Option<Key<'m>> {
    facts.iter().find_map(|located| match &located.fact {
        Fact::Range { subject: s, lo, hi } if subject.ranged && conditions::same(s, subject.expr) => {
            Some(Key::Range(*lo, *hi))
        }
        Fact::Is { subject: s, value, equal: true } if !subject.ranged && conditions::same(s, subject.expr) => {
            Some(Key::Value(*value))
        }
        _ => None,
    })
}

/// Classifies a pair of competitors in `phase`.
fn outcome(machine: &Machine, earlier: &Transition, later: &Transition, phase: PhaseId) -> Outcome {
    let first = conditions::transition_facts(machine, earlier, Some(phase));
    let second = conditions::transition_facts(machine, later, Some(phase));
    let first: Vec<&Fact<'_>> = first.iter().map(|f| &f.fact).collect();
    let second: Vec<&Fact<'_>> = second.iter().map(|f| &f.fact).collect();
    let both: Vec<&Fact<'_>> = first.iter().chain(&second).copied().collect();
    if conditions::unsatisfiable(&both).is_some() {
        return Outcome::Disjoint;
    }
    let later_entails_earlier = first.iter().all(|f| conditions::implies(&second, f));
    let earlier_entails_later = second.iter().all(|f| conditions::implies(&first, f));
    match (earlier_entails_later, later_entails_earlier) {
        (true, true) => Outcome::Overlap(Proof::Equivalent),
        (true, false) => Outcome::Overlap(Proof::EarlierNarrower),
        (false, true) => Outcome::Overlap(Proof::LaterNarrower),
        (false, false) => Outcome::Unknown,
    }
}

/// "phase `A`" or "phases `A`, `B`".
fn phase_list(machine: &Machine, phases: &[PhaseId]) -> String {
    let names: Vec<String> = phases.iter().map(|p| format!("`{}`", machine.phase(*p).name)).collect();
    let noun = if names.len() == 1 { "phase" } else { "phases" };
    format!("{noun} {}", names.join(", "))
}

/// A condition of `narrower` that the facts of `broader` do not entail, negated: adding it to `broader` makes the
/// two exclusive.
fn excluding_condition(
    machine: &Machine,
    broader: &Transition,
    narrower: &Transition,
    phase: PhaseId,
) -> Option<String> {
    let broad = conditions::transition_facts(machine, broader, Some(phase));
    let broad: Vec<&Fact<'_>> = broad.iter().map(|f| &f.fact).collect();
    let narrow = conditions::transition_facts(machine, narrower, Some(phase));
    let extra = narrow.iter().find(|f| !conditions::implies(&broad, &f.fact))?;
    narrower.guards.get(extra.guard).map(|g| negated_label(&g.label))
}

/// The E0302 error for a pair proven to overlap in `phases`; `phase` and `proof` are the first proof found.
fn overlap(
    machine: &Machine,
    (earlier, later): (&Transition, &Transition),
    phase: PhaseId,
    proof: Proof,
    phases: &[PhaseId],
    unknown: &[PhaseId],
) -> Diagnostic {
    let trigger = &machine.trigger(earlier.trigger).name;
    let unguarded = earlier.guards.is_empty() && later.guards.is_empty();
    let (primary, secondary) = match proof {
        Proof::Equivalent if unguarded => {
            (format!("takes `{trigger}` unconditionally"), format!("also takes `{trigger}` unconditionally"))
        }
        Proof::Equivalent => (format!("same conditions as `{}`", earlier.name), format!("competes for `{trigger}`")),
        Proof::LaterNarrower => (
            format!("whenever this passes, `{}` passes too", earlier.name),
            format!("passes whenever `{}` does", later.name),
        ),
        Proof::EarlierNarrower => (
            format!("passes whenever `{}` does", earlier.name),
            format!("whenever this passes, `{}` passes too", later.name),
        ),
    };
    let (broader, narrower) = match proof {
        Proof::Equivalent | Proof::LaterNarrower => (earlier, later),
        Proof::EarlierNarrower => (later, earlier),
    };
    let excluding = excluding_condition(machine, broader, narrower, phase);
    let help = if unguarded {
        "give one of them a `when` clause that excludes the other, or mark one `otherwise` to make it the fallback"
            .to_string()
    } else if broader.guards.is_empty() {
        let example = excluding.map_or_else(String::new, |c| format!(" (`when {c}`)"));
        format!(
            "`{}` has no `when` clause, so it passes whenever `{}` does: mark it `otherwise` to make it the \
             fallback, or give it a condition that excludes `{}`{example}",
            broader.name, narrower.name, narrower.name
        )
    } else if let Some(condition) = excluding {
        format!(
            "make the guards exclusive (e.g. add `{condition}` to `{}`), or mark `{}` `otherwise`",
            broader.name, broader.name
        )
    } else {
        format!(
            "their conditions are equivalent here, so they always pass together: merge them into one transition, \
             or mark `{}` `otherwise`",
            broader.name
        )
    };
    let mut d = Diagnostic::new(
        Code::OverlappingGuards,
        machine.source,
        format!(
            "transitions `{}` and `{}` can both pass on `{trigger}` in {}",
            earlier.name,
            later.name,
            phase_list(machine, phases)
        ),
        Label::new(later.header_span, primary),
    )
    .with_label(earlier.header_span, secondary)
    .with_help(help)
    .with_note(format!("when both pass, `{trigger}` is rejected as ambiguous and the state is left unchanged"));
    if !unknown.is_empty() {
        d = d.with_note(format!("they may also both pass in {}", phase_list(machine, unknown)));
    }
    d
}

/// The W0004 warning for a pair the checker can neither prove exclusive nor overlapping in `phases`.
fn possible_overlap(machine: &Machine, earlier: &Transition, later: &Transition, phases: &[PhaseId]) -> Diagnostic {
    let trigger = &machine.trigger(earlier.trigger).name;
    let example = earlier
        .guards
        .first()
        .map_or_else(String::new, |g| format!(" (e.g. add `{}` to `{}`)", negated_label(&g.label), later.name));
    Diagnostic::new(
        Code::PossibleOverlap,
        machine.source,
        format!(
            "cannot prove that transitions `{}` and `{}` exclude each other on `{trigger}` in {}",
            earlier.name,
            later.name,
            phase_list(machine, phases)
        ),
        Label::new(later.header_span, format!("may pass together with `{}`", earlier.name)),
    )
    .with_label(earlier.header_span, format!("competes for `{trigger}`"))
    .with_help(format!("make the guards exclusive{example}, or mark one `otherwise`"))
    .with_note(format!(
        "if both pass, `{trigger}` is rejected as ambiguous; the checker proves two transitions exclusive only from \
         contradicting conditions, such as `x` and `!x`, `x == A` and `x == B`, `o.is_some()` and `o.is_none()`, \
         `n < 3` and `n >= 3`"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::analyses::testing::machine;
    use crate::span::Span;

    fn found(m: &Machine) -> Vec<(Code, Span, Span)> {
        guard_overlap(m).iter().map(|d| (d.code, d.primary.span, d.secondary[0].span)).collect()
    }

    /// The codes reported for two transitions on `Go` from `A` with the given `when` clauses.
    fn pair(guards_a: &str, guards_b: &str) -> Vec<Code> {
        let spec = format!(
            "machine M {{ enum Mode {{ On, Off, Idle }} phases {{ initial A, B }}
               state {{ n: u64 = 0, ready: bool = false, mode: Mode = On, o: Option<u64> = None, m: u64 = 0 }}
               input Back input Go {{ k: u64, flag: bool }}
               guard armed = ready && n > 2
               transition First on Go from A -> B {guards_a}
               transition Second on Go from A -> B {guards_b}
               on Back from B -> A }}"
        );
        guard_overlap(&machine(&spec)).iter().map(|d| d.code).collect()
    }

    #[test]
    fn disjoint_guards_are_quiet() {
        let disjoint = [
            ("when ready", "when !ready"),
            ("when ready == true", "when ready == false"),
            ("when n < 3", "when n >= 3"),
            ("when 3 > n", "when n > 5"),
            ("when n == 1", "when n == 2"),
            ("when n == 1", "when n != 1"),
            ("when mode == On", "when mode == Off"),
            ("when mode == Mode::On", "when Mode::Idle == mode"),
            ("when mode != On", "when mode == On"),
            ("when o.is_some()", "when o.is_none()"),
            ("when o != None", "when o == None"),
            ("when o == Some(1)", "when o.is_none()"),
            ("when o == Some(1)", "when o == Some(2)"),
            ("when flag", "when !flag"),
            ("when k < 3, ready", "when k >= 3"),
            ("when armed", "when !ready"),
            ("when armed", "when n <= 2"),
            ("when !armed", "when ready, n > 2"),
            ("when !(ready || n > 1)", "when n == 5"),
            ("when n < m", "when n >= m"),
            ("when n < m", "when m < n"),
            ("when n + 1 > 4", "when n + 1 <= 4"),
            ("when phase == B", ""),
            ("when false", ""),
        ];
        for (a, b) in disjoint {
            assert_eq!(pair(a, b), Vec::<Code>::new(), "{a} / {b}");
            assert_eq!(pair(b, a), Vec::<Code>::new(), "{b} / {a}");
        }
    }

    #[test]
    fn provable_overlaps_are_errors() {
        let overlapping = [
            ("", ""),
            ("", "when ready"),
            ("when ready", ""),
            ("when ready", "when ready, n > 1"),
            ("when ready", "when ready == true"),
            ("when armed", "when n > 2, ready"),
            ("when n > 1", "when n == 5"),
            ("when n < 10", "when n >= 2, n <= 4"),
            ("when mode != Off", "when mode == On"),
            ("when phase == A", ""),
            ("when o.is_some()", "when o != None"),
        ];
        for (a, b) in overlapping {
            assert_eq!(pair(a, b), vec![Code::OverlappingGuards], "{a} / {b}");
        }
    }

    #[test]
    fn unprovable_pairs_are_warnings() {
        let unknown = [
            ("when ready", "when n > 1"),
            ("when n > 1", "when n < 10"),
            ("when mode == On", "when o.is_some()"),
            ("when n < m", "when m > 3"),
        ];
        for (a, b) in unknown {
            assert_eq!(pair(a, b), vec![Code::PossibleOverlap], "{a} / {b}");
        }
    }

    #[test]
    fn spans_point_at_the_later_transition() {
        let m = machine(
            "machine M { phases { initial A } state { ready: bool = false } input Go
               transition Plain on Go from A -> stay
               transition Ready on Go from A -> stay when ready }",
        );
        let diags = guard_overlap(&m);
        assert_eq!(
            found(&m),
            vec![(Code::OverlappingGuards, m.transitions[1].header_span, m.transitions[0].header_span)]
        );
        assert!(diags[0].help.as_deref().is_some_and(|h| h.contains("`Plain` has no `when` clause")));
        assert!(diags[0].help.as_deref().is_some_and(|h| h.contains("`when !ready`")));
    }

    #[test]
    fn reported_once_per_pair_listing_phases() {
        let m = machine(
            "machine M { phases { initial A, B, C } state { ready: bool = false } input Go input Jump
               on Jump from A -> B
               transition One on Go from A, B, C -> stay when ready
               transition Two on Go from A, B -> C
               transition Other on Go from C -> A when !ready }",
        );
        let diags = guard_overlap(&m);
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert!(diags[0].message.contains("phases `A`, `B`"), "{}", diags[0].message);
    }

    #[test]
    fn unreachable_phases_and_otherwise_do_not_compete() {
        let m = machine(
            "machine M { phases { initial A, B } input Go
               transition One on Go from B -> A
               transition Two on Go from B -> A
               transition Three on Go from A -> stay
               transition Four on Go from A -> stay otherwise }",
        );
        assert!(guard_overlap(&m).is_empty());
    }

    #[test]
    fn exponential_guard_chains_stay_cheap() {
        let mut guards = String::from("guard g0 = ready ");
        for i in 1..40 {
            guards.push_str(&format!("guard g{i} = g{} && g{} ", i - 1, i - 1));
        }
        let m = machine(&format!(
            "machine M {{ phases {{ initial A }} state {{ ready: bool = false }} input Go {guards}
               transition One on Go from A -> stay when g39
               transition Two on Go from A -> stay when !ready }}"
        ));
        // The expansion stops after its budget; `g39` is still proven to contradict `!ready`.
        assert!(guard_overlap(&m).is_empty());
    }

    /// What comparing every pair, as the rule once did, reports.
    fn every_pair(m: &Machine) -> Vec<String> {
        let reached = reachable(m);
        let mut out = Vec::new();
        for (i, earlier) in m.transitions.iter().enumerate() {
            for later in m.transitions.iter().skip(i + 1) {
                if earlier.otherwise || later.otherwise || earlier.trigger != later.trigger {
                    continue;
                }
                out.extend(pair_diagnostic(m, &reached, (earlier, later)).map(|d| d.message));
            }
        }
        out
    }

    #[test]
    fn skipping_pairs_on_a_discriminant_reports_what_every_pair_does() {
        let specs = [
            // One subject pinned by ranges and equalities, some overlapping, one unguarded competitor.
            "machine M { phases { initial A, B } state { x: u64 = 0, ready: bool = false } input Go input Back
               transition Zero on Go from A -> B when x == 0
               transition One on Go from A -> B when x == 1, ready
               transition AlsoOne on Go from A, B -> stay when x == 1
               transition Low on Go from A -> B when x < 3
               transition High on Go from A -> B when x > 7
               transition Any on Go from A -> B
               transition Ready on Go from B -> A when ready
               on Back from B -> A }",
            // Enum equalities, and members that pin another subject.
            "machine M { enum Mode { On, Off, Idle } phases { initial A }
               state { mode: Mode = On, n: u64 = 0 } input Go
               transition On1 on Go from A -> stay when mode == On
               transition Off1 on Go from A -> stay when mode == Off
               transition On2 on Go from A -> stay when mode == On, n > 2
               transition NotOn on Go from A -> stay when mode != On
               transition Small on Go from A -> stay when n < 2 }",
        ];
        for spec in specs {
            let m = machine(spec);
            let found: Vec<String> = guard_overlap(&m).into_iter().map(|d| d.message).collect();
            assert!(!found.is_empty());
            assert_eq!(found, every_pair(&m));
        }
    }

    #[test]
    fn many_competitors_on_distinct_values_compare_no_pairs() {
        let mut spec = String::from("machine M { phases { initial A } state { x: u64 = 0 } input Go ");
        for i in 0..200 {
            spec.push_str(&format!("transition T{i} on Go from A -> stay when x == {i} "));
        }
        spec.push_str("transition Late on Go from A -> stay when x == 7 }");
        let m = machine(&spec);
        let reached = reachable(&m);
        // Only `T7` and `Late` share a value.
        assert_eq!(competing_pairs(&m, &reached), vec![(7, 200)]);
        assert_eq!(guard_overlap(&m).len(), 1);
    }

    #[test]
    fn phase_conditions_split_a_shared_source_list() {
        let m = machine(
            "machine M { phases { initial A, B } input Go
               transition InA on Go from any -> B when phase == A
               transition InB on Go from any -> A when source != A }",
        );
        assert!(guard_overlap(&m).is_empty());
    }
}
