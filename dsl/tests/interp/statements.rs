//! Statements: `let`, assignments through projections, compound assignment, collection operations, `if`
//! and `if let` statements, `emit` with defaults and shorthand, `source` and computed targets.

use super::*;

// ---------------------------------------------------------------------------------------------------------------
// Statements

#[test]
fn let_assign_projections_and_compound_assignment() {
    let mut run = Run::new(
        r#"machine S {
            record Lease { holder: String, ttl: u64 }
            newtype Sid(String)
            record Outer { lease: Lease, id: Sid }
            phases { initial A, B }
            state {
                n: u64 = 0,
                lease: Lease = Lease { holder: "ann", ttl: 1 },
                sid: Sid = Sid("x"),
                outer: Outer = Outer { lease: Lease { holder: "o", ttl: 0 }, id: Sid("i") },
            }
            input Run { k: u64 }
            effect Out { value: u64 }
            on Run from A -> B {
                let a = k + 1;
                n = a;
                n += 10;
                n -= 1;
                lease.ttl = n;
                lease.holder = "bob";
                sid.0 = "y";
                outer.lease.ttl = lease.ttl + 1;
                outer.id.0 = sid.0;
                let b = n * 2;
                emit Out { value: b }
            }
        }"#,
    );
    let fired = run.ok("Run", vec![u(5)]);
    let m = run.m();
    let (lease, sid, outer) = (type_id(m, "Lease"), type_id(m, "Sid"), type_id(m, "Outer"));
    assert_eq!(fired.effects[0].fields, vec![u(30)]);
    assert_eq!(run.field("n"), &u(15));
    assert_eq!(run.field("lease"), &Value::Record(lease, vec![s("bob"), u(15)]));
    assert_eq!(run.field("sid"), &Value::Newtype(sid, Box::new(s("y"))));
    assert_eq!(
        run.field("outer"),
        &Value::Record(outer, vec![Value::Record(lease, vec![s("o"), u(16)]), Value::Newtype(sid, Box::new(s("y")))])
    );
    assert_eq!(run.phase_name(), "B");
}

#[test]
fn whole_values_are_replaced_by_assignment() {
    let mut run = Run::new(
        r#"machine S {
            phases { initial A }
            state { tags: Set<String> = ["a"], o: Option<u64> = None }
            input Go { t: String }
            on Go from A -> stay { tags = [t, "z"]; o = Some(tags.len()) }
        }"#,
    );
    run.ok("Go", vec![s("q")]);
    assert_eq!(run.field("tags"), &set([s("q"), s("z")]));
    assert_eq!(run.field("o"), &some(u(2)), "each statement sees the writes before it");
}

#[test]
fn collection_statements() {
    let mut run = Run::new(
        r#"machine C {
            phases { initial A }
            state { set: Set<u64> = [1, 2], map: Map<String, u64> = ["a": 1], seq: Seq<u64> = [1, 2, 3] }
            input SetOps
            input MapOps
            input SeqOps
            input Clear
            input Drain
            on SetOps from A -> stay { set.insert(5); set.insert(1); set.remove(2); set.remove(9) }
            on MapOps from A -> stay { map.insert("b", 2); map.insert("a", 7); map.remove("zz"); map.remove("b") }
            on SeqOps from A -> stay { seq.push(4); seq.pop_front(); seq.pop(); seq.push(seq.len()) }
            on Clear from A -> stay { set.clear(); map.clear(); seq.clear() }
            on Drain from A -> stay { seq.pop(); seq.pop_front() }
        }"#,
    );
    run.ok("SetOps", vec![]);
    assert_eq!(run.field("set"), &set([u(1), u(5)]));
    run.ok("MapOps", vec![]);
    assert_eq!(run.field("map"), &map([(s("a"), u(7))]), "insert replaces");
    run.ok("SeqOps", vec![]);
    assert_eq!(run.field("seq"), &seq([u(2), u(3), u(2)]));
    run.ok("Clear", vec![]);
    assert_eq!(run.field("set"), &set([]));
    assert_eq!(run.field("map"), &map([]));
    assert_eq!(run.field("seq"), &seq([]));
    run.ok("Drain", vec![]);
    assert_eq!(run.field("seq"), &seq([]), "pop and pop_front on an empty seq do nothing");
}

#[test]
fn collection_statements_through_projections() {
    let mut run = Run::new(
        r#"machine C {
            record Bag { items: Set<u64>, log: Seq<String> }
            newtype Names(Map<String, u64>)
            phases { initial A }
            state { bag: Bag = Bag { items: [], log: [] }, names: Names = Names([:]) }
            input Put { x: u64 }
            on Put from A -> stay { bag.items.insert(x); bag.log.push("put"); names.0.insert("n", x) }
        }"#,
    );
    run.ok("Put", vec![u(3)]);
    run.ok("Put", vec![u(1)]);
    let m = run.m();
    let (bag, names) = (type_id(m, "Bag"), type_id(m, "Names"));
    assert_eq!(run.field("bag"), &Value::Record(bag, vec![set([u(1), u(3)]), seq([s("put"), s("put")])]));
    assert_eq!(run.field("names"), &Value::Newtype(names, Box::new(map([(s("n"), u(1))]))));
}

#[test]
fn if_and_if_let_statements() {
    let mut run = Run::new(
        r#"machine I {
            phases { initial A }
            state { out: u64 = 0, opt: Option<u64> = None, n: u64 = 0 }
            input Classify { v: u64 }
            input Store { v: Option<u64> }
            on Classify from A -> stay {
                if v < 10 { out = 1 } else if v < 100 { out = 2 } else { out = 3 }
            }
            on Store from A -> stay {
                if let Some(x) = v { opt = Some(x + 1); n = x } else { n = 999 }
            }
        }"#,
    );
    run.ok("Classify", vec![u(5)]);
    assert_eq!(run.field("out"), &u(1));
    run.ok("Classify", vec![u(50)]);
    assert_eq!(run.field("out"), &u(2));
    run.ok("Classify", vec![u(500)]);
    assert_eq!(run.field("out"), &u(3));
    run.ok("Store", vec![some(u(4))]);
    assert_eq!((run.field("opt"), run.field("n")), (&some(u(5)), &u(4)));
    run.ok("Store", vec![Value::none()]);
    assert_eq!((run.field("opt"), run.field("n")), (&some(u(5)), &u(999)));
}

#[test]
fn if_let_statement_binds_from_state() {
    let mut run = Run::new(
        r#"machine I {
            record Lease { holder: String, ttl: u64 }
            phases { initial A }
            state { leases: Map<String, Lease> = ["k": Lease { holder: "h", ttl: 2 }], seen: u64 = 0 }
            input Touch { key: String }
            effect Holder { who: String }
            on Touch from A -> stay {
                if let Some(lease) = leases.get(key) {
                    leases.remove(key);
                    seen = lease.ttl;
                    emit Holder { who: lease.holder }
                }
            }
        }"#,
    );
    let fired = run.ok("Touch", vec![s("k")]);
    assert_eq!(fired.effects[0].fields, vec![s("h")], "the binding outlives the removal of what it was bound to");
    assert_eq!(run.field("seen"), &u(2));
    assert_eq!(run.field("leases"), &map([]));
    let fired = run.ok("Touch", vec![s("k")]);
    assert!(fired.effects.is_empty());
}

#[test]
fn emit_defaults_and_shorthand() {
    let mut run = Run::new(
        r#"machine E {
            phases { initial A, B }
            state { n: u64 = 0 }
            input Go { who: String }
            effect Snap { phase: Phase = phase, n: u64 = n, who: String }
            effect Ping
            on Go from A -> B {
                emit Snap { who };
                n += 1;
                emit Snap { who: "x" };
                emit Ping;
                emit Snap { n: 100, who }
            }
        }"#,
    );
    let fired = run.ok("Go", vec![s("me")]);
    let m = run.m();
    let (snap, ping, b_phase) = (effect(m, "Snap"), effect(m, "Ping"), Value::Phase(phase(m, "B")));
    assert_eq!(
        fired.effects,
        vec![
            Emitted { effect: snap, fields: vec![b_phase.clone(), u(0), s("me")] },
            Emitted { effect: snap, fields: vec![b_phase.clone(), u(1), s("x")] },
            Emitted { effect: ping, fields: vec![] },
            Emitted { effect: snap, fields: vec![b_phase, u(100), s("me")] },
        ],
        "defaults are evaluated where the emit stands, after the phase is set"
    );
}

#[test]
fn source_is_the_phase_fired_from_and_phase_is_the_target() {
    let mut run = Run::new(
        r#"machine P {
            phases { initial A, B, C }
            input Go
            effect Where { src: Phase, now: Phase, guard_saw: bool }
            fn here() -> Phase { phase }
            transition Move on Go from A -> B when phase == A && source == A {
                emit Where { src: source, now: phase, guard_saw: here() == B }
            }
            transition Next on Go from B -> C { emit Where { src: source, now: here(), guard_saw: true } }
            transition Stay on Go from C -> stay { emit Where { src: source, now: phase, guard_saw: true } }
        }"#,
    );
    let m = run.m();
    let (a, b_, c) = (Value::Phase(phase(m, "A")), Value::Phase(phase(m, "B")), Value::Phase(phase(m, "C")));
    let fired = run.ok("Go", vec![]);
    assert_eq!(fired.effects[0].fields, vec![a.clone(), b_.clone(), b(true)], "guards see the pre-state phase");
    assert_eq!((fired.source, fired.target), (PhaseId(0), PhaseId(1)));
    let fired = run.ok("Go", vec![]);
    assert_eq!(fired.effects[0].fields, vec![b_, c.clone(), b(true)], "helpers read the current phase");
    let fired = run.ok("Go", vec![]);
    assert_eq!(fired.effects[0].fields, vec![c.clone(), c, b(true)]);
    assert_eq!((fired.source, fired.target), (PhaseId(2), PhaseId(2)));
}

#[test]
fn computed_targets_read_the_pre_state_and_fail_without_a_trace() {
    let mut run = Run::new(
        r#"machine T {
            phases { initial A, B, C }
            state { n: u64 = 0, big: u64 = 18446744073709551615 }
            input Go { to_c: bool }
            input Spin
            effect Where { now: Phase }
            fn after(p: Phase) -> Phase { match p { A => B, B => C, C => A } }
            /// The target reads `n` before the body writes it, and `phase` is still the source phase there.
            on Go from A, B, C -> if to_c { C } else if n == 0 { after(phase) } else { A } {
                n += 1;
                emit Where { now: phase }
            }
            on Spin from any -> if big + n > 0 { A } else { B } { n += 1 }
        }"#,
    );
    let m = run.m();
    let (a, b_, c) = (phase(m, "A"), phase(m, "B"), phase(m, "C"));
    let fired = run.ok("Go", vec![b(false)]);
    assert_eq!((fired.source, fired.target), (a, b_), "n was 0 before the body incremented it");
    assert_eq!(fired.effects[0].fields, vec![Value::Phase(b_)], "the body sees the target phase");
    let fired = run.ok("Go", vec![b(true)]);
    assert_eq!((fired.source, fired.target), (b_, c), "payload fields are in scope");
    let fired = run.ok("Go", vec![b(false)]);
    assert_eq!((fired.source, fired.target), (c, a));
    // An overflow in the target rejects the input before the body runs; `apply` checks the state is unchanged.
    assert!(matches!(run.apply("Spin", vec![]), Err(Rejection::ArithmeticOverflow { .. })));
    assert_eq!(run.phase_name(), "A");
}
