//! Expressions: every construct of the expression language, evaluated where an `emit` stands, with exact
//! values and the rejections of checked arithmetic.

use super::*;

// ---------------------------------------------------------------------------------------------------------------
// Expressions

#[test]
fn literals_and_constructors() {
    assert_eq!(val("", "bool", "true"), b(true));
    assert_eq!(val("", "u64", "18446744073709551615"), u(u64::MAX));
    assert_eq!(val("", "String", r#""a\n\t\"b\\""#), s("a\n\t\"b\\"));
    assert_eq!(val("", "Option<u64>", "None"), Value::none());
    assert_eq!(val("", "Option<u64>", "Some(3)"), some(u(3)));
    assert_eq!(val("", "Phase", "Phase::A"), Value::Phase(PhaseId(0)));
    assert_eq!(val("", "Phase", "A"), Value::Phase(PhaseId(0)));
    let lamp = "enum Lamp { Red, Amber, Green }";
    assert_eq!(val(lamp, "Lamp", "Lamp::Green"), Value::Enum(TypeId(0), 2));
    assert_eq!(val(lamp, "Lamp", "Amber"), Value::Enum(TypeId(0), 1));
    let lease = "record Lease { holder: String, ttl: u64 }";
    assert_eq!(
        val(lease, "Lease", r#"Lease { ttl: 4, holder: "x" }"#),
        Value::Record(TypeId(0), vec![s("x"), u(4)]),
        "record fields are stored in declaration order, whatever the order written"
    );
    assert_eq!(val("newtype Sid(String)", "Sid", r#"Sid("q")"#), Value::Newtype(TypeId(0), Box::new(s("q"))));
    assert_eq!(val("", "Option<Option<u64>>", "Some(None)"), some(Value::none()));
}

#[test]
fn collection_literals() {
    assert_eq!(val("", "Seq<u64>", "[3, 1, 3]"), seq([u(3), u(1), u(3)]));
    assert_eq!(val("", "Set<u64>", "[3, 1, 3]"), set([u(1), u(3)]), "sets are ordered and deduplicated");
    assert_eq!(val("", "Seq<u64>", "[]"), seq([]));
    assert_eq!(val("", "Map<String, u64>", "[:]"), map([]));
    assert_eq!(
        val("", "Map<String, u64>", r#"["b": 2, "a": 1, "b": 3]"#),
        map([(s("a"), u(1)), (s("b"), u(3))]),
        "a repeated key keeps the value written last"
    );
    assert_eq!(val("", "Seq<Seq<u64>>", "[[1], []]"), seq([seq([u(1)]), seq([])]));
}

#[test]
fn field_reads_and_projections() {
    assert_eq!(val(STATE, "u64", "n"), u(7));
    assert_eq!(val(STATE, "u64", "self.n"), u(7));
    assert_eq!(val(STATE, "String", "lease.holder"), s("ann"));
    assert_eq!(val(STATE, "u64", "lease.ttl"), u(3));
    assert_eq!(val(STATE, "String", "sid.0"), s("s-1"));
    assert_eq!(val(STATE, "u64", r#"Lease { holder: "z", ttl: 8 }.ttl"#), u(8), "projection of a computed record");
    assert_eq!(val(STATE, "String", r#"Sid("t").0"#), s("t"), "projection of a computed newtype");
    assert_eq!(val(STATE, "Lamp", "lamp"), Value::Enum(TypeId(0), 1));
    assert_eq!(val(STATE, "Phase", "phase"), Value::Phase(PhaseId(0)));
}

#[test]
fn self_names_the_state_field_under_a_shadowing_payload_field() {
    let mut run = Run::new(
        "machine T { phases { initial A } state { n: u64 = 1 } input Go { n: u64 } effect Out { a: u64, b: u64 }
         on Go from A -> stay { emit Out { a: n, b: self.n } } }",
    );
    let fired = run.ok("Go", vec![u(40)]);
    assert_eq!(fired.effects[0].fields, vec![u(40), u(1)]);
}

#[test]
fn boolean_operators_short_circuit() {
    assert_eq!(val("", "bool", "!true"), b(false));
    assert_eq!(val("", "bool", "true && false"), b(false));
    assert_eq!(val("", "bool", "false || true"), b(true));
    assert_eq!(val("", "bool", "false && 1 / 0 == 0"), b(false), "`&&` does not evaluate its right side");
    assert_eq!(val("", "bool", "true || 1 / 0 == 0"), b(true), "`||` does not evaluate its right side");
    assert!(is_overflow(eval("", "bool", "true && 1 / 0 == 0")));
    assert!(is_overflow(eval("", "bool", "false || 1 / 0 == 0")));
}

#[test]
fn comparisons_and_equality() {
    assert_eq!(val("", "bool", "1 < 2"), b(true));
    assert_eq!(val("", "bool", "2 <= 2"), b(true));
    assert_eq!(val("", "bool", "2 > 2"), b(false));
    assert_eq!(val("", "bool", "3 >= 2"), b(true));
    assert_eq!(val("", "bool", r#""a" == "a""#), b(true));
    assert_eq!(val("", "bool", r#""a" != "b""#), b(true));
    assert_eq!(val(STATE, "bool", r#"lease == Lease { holder: "ann", ttl: 3 }"#), b(true));
    assert_eq!(val(STATE, "bool", r#"lease != Lease { holder: "ann", ttl: 4 }"#), b(true));
    assert_eq!(val(STATE, "bool", "opt == Some(5)"), b(true));
    assert_eq!(val(STATE, "bool", "Some(5) == opt"), b(true));
    assert_eq!(val(STATE, "bool", "Some(n) == Some(n)"), b(true));
    assert_eq!(val(STATE, "bool", "Some(n) == opt"), b(false));
    assert_eq!(val(STATE, "bool", "opt == Some(n)"), b(false));
    assert_eq!(val(STATE, "bool", "nothing == None"), b(true));
    assert_eq!(val(STATE, "bool", "None == opt"), b(false));
    assert_eq!(val(STATE, "bool", "Some(n) == None"), b(false));
    assert_eq!(val(STATE, "bool", "m.get(\"x\") == Some(1)"), b(true));
    assert_eq!(val(STATE, "bool", "m.get(\"x\") == m.get(\"x\")"), b(true));
    assert_eq!(val(STATE, "bool", "m.get(\"x\") == opt"), b(false));
    assert_eq!(val(STATE, "bool", "lamp == Amber"), b(true));
    assert_eq!(val(STATE, "bool", "phase == A"), b(true));
    assert_eq!(val(STATE, "bool", r#"tags == ["a", "b"]"#), b(true));
    assert_eq!(val(STATE, "bool", "xs == [3, 1, 2]"), b(true));
}

#[test]
fn arithmetic_is_checked() {
    assert_eq!(val("", "u64", "2 + 3 * 4"), u(14));
    assert_eq!(val("", "u64", "(2 + 3) * 4"), u(20));
    assert_eq!(val("", "u64", "10 - 3 - 2"), u(5));
    assert_eq!(val("", "u64", "17 / 5"), u(3));
    assert_eq!(val("", "u64", "17 % 5"), u(2));
    assert_eq!(val("", "u64", "18446744073709551614 + 1"), u(u64::MAX));
    assert!(is_overflow(eval("", "u64", "18446744073709551615 + 1")));
    assert!(is_overflow(eval("", "u64", "0 - 1")));
    assert!(is_overflow(eval("", "u64", "4294967296 * 4294967296")));
    assert!(is_overflow(eval("", "u64", "1 / 0")));
    assert!(is_overflow(eval("", "u64", "1 % 0")));
}

#[test]
fn if_if_let_and_match_expressions() {
    assert_eq!(val(STATE, "u64", "if n > 5 { 1 } else { 2 }"), u(1));
    assert_eq!(val(STATE, "u64", "if n > 50 { 1 } else if n > 5 { 2 } else { 3 }"), u(2));
    assert_eq!(val(STATE, "u64", "if true { 1 } else { 1 / 0 }"), u(1), "only the branch taken is evaluated");
    assert_eq!(val(STATE, "u64", "if let Some(v) = opt { v + 1 } else { 0 }"), u(6));
    assert_eq!(val(STATE, "u64", "if let Some(v) = nothing { v } else { 42 }"), u(42));
    assert_eq!(val(STATE, "u64", r#"if let Some(l) = leases.get("k") { l.ttl } else { 0 }"#), u(9));
    assert_eq!(val(STATE, "u64", "if let Some(v) = Some(n * 2) { v } else { 0 }"), u(14));
    assert_eq!(val(STATE, "u64", "match lamp { Red | Amber => 1, Green => 2 }"), u(1));
    assert_eq!(val(STATE, "u64", "match lamp { Red => 1, _ => 2 }"), u(2));
    assert_eq!(val(STATE, "u64", "match opt { Some(v) => v * 10, None => 0 }"), u(50));
    assert_eq!(val(STATE, "u64", "match nothing { Some(_) => 1, None => 0 }"), u(0));
    assert_eq!(val(STATE, "u64", "match n > 3 { true => 1, false => 0 }"), u(1));
    assert_eq!(val(STATE, "u64", "match phase { A => 7 }"), u(7));
    assert_eq!(val(STATE, "u64", "match Lamp::Green { Lamp::Red => 1, Lamp::Amber => 2, Lamp::Green => 3 }"), u(3));
}

#[test]
fn helpers_and_named_guards() {
    let decls = "
        state { n: u64 = 4, flag: bool = true }
        fn double(x: u64) -> u64 { x * 2 }
        fn add(x: u64, y: u64) -> u64 { x + y }
        fn quad_plus_n(x: u64) -> u64 { double(double(x)) + n }
        fn first_some(a: Option<u64>, d: u64) -> u64 { if let Some(v) = a { v } else { d } }
        fn pick(xs: Seq<u64>) -> u64 { xs.count(|x| x > n) }
        guard big = n > 3
        guard both = big && flag
    ";
    assert_eq!(val(decls, "u64", "double(21)"), u(42));
    assert_eq!(val(decls, "u64", "add(1, 2)"), u(3));
    assert_eq!(val(decls, "u64", "quad_plus_n(3)"), u(16), "helpers call helpers and read state");
    assert_eq!(val(decls, "u64", "first_some(Some(9), 1) + first_some(None, 1)"), u(10));
    assert_eq!(val(decls, "u64", "pick([1, 5, 9])"), u(2));
    assert_eq!(val(decls, "bool", "big"), b(true));
    assert_eq!(val(decls, "bool", "!big"), b(false));
    assert_eq!(val(decls, "bool", "both"), b(true));
    assert!(is_overflow(eval(decls, "u64", "double(9223372036854775808)")));
}

#[test]
fn helper_locals_do_not_leak_between_frames() {
    // The same local id (0) is bound in the caller's closure and in the helper's pattern.
    let decls = "
        fn inner(o: Option<u64>) -> u64 { if let Some(v) = o { v } else { 100 } }
        fn outer(xs: Seq<u64>) -> u64 { xs.count(|x| inner(Some(x + 1)) > x) }
    ";
    assert_eq!(val(decls, "u64", "outer([1, 2, 3])"), u(3));
    assert_eq!(val(decls, "u64", "[4, 5].count(|x| inner(None) > x)"), u(2));
}

#[test]
fn option_builtins() {
    assert_eq!(val(STATE, "bool", "opt.is_some()"), b(true));
    assert_eq!(val(STATE, "bool", "nothing.is_some()"), b(false));
    assert_eq!(val(STATE, "bool", "nothing.is_none()"), b(true));
    assert_eq!(val(STATE, "bool", r#"m.get("x").is_some()"#), b(true));
    assert_eq!(val(STATE, "u64", "opt.unwrap_or(0)"), u(5));
    assert_eq!(val(STATE, "u64", "nothing.unwrap_or(9)"), u(9));
    assert_eq!(val(STATE, "u64", r#"m.get("y").unwrap_or(0)"#), u(2));
    assert_eq!(val(STATE, "u64", r#"m.get("nope").unwrap_or(0)"#), u(0));
    assert_eq!(val(STATE, "bool", "opt.contains(5)"), b(true));
    assert_eq!(val(STATE, "bool", "opt.contains(6)"), b(false));
    assert_eq!(val(STATE, "bool", "nothing.contains(5)"), b(false));
    assert_eq!(val(STATE, "bool", r#"m.get("x").contains(1)"#), b(true));
}

#[test]
fn method_arguments_are_evaluated_eagerly() {
    assert!(is_overflow(eval(STATE, "u64", "opt.unwrap_or(1 / 0)")), "the default is evaluated even for Some");
    assert!(is_overflow(eval(STATE, "bool", "opt.contains(0 - 1)")));
}

#[test]
fn length_emptiness_and_membership() {
    assert_eq!(val(STATE, "u64", "name.len()"), u(6), "string length is in bytes");
    assert_eq!(val(STATE, "u64", "tags.len()"), u(2));
    assert_eq!(val(STATE, "u64", "m.len()"), u(2));
    assert_eq!(val(STATE, "u64", "xs.len()"), u(3));
    assert_eq!(val(STATE, "u64", r#""".len()"#), u(0));
    assert_eq!(val(STATE, "bool", "name.is_empty()"), b(false));
    assert_eq!(val(STATE, "bool", r#""".is_empty()"#), b(true));
    assert_eq!(val(STATE, "bool", "empty.is_empty()"), b(true));
    assert_eq!(val(STATE, "bool", "tags.is_empty()"), b(false));
    assert_eq!(val(STATE, "bool", "m.is_empty()"), b(false));
    assert_eq!(val(STATE, "bool", r#"tags.contains("a")"#), b(true));
    assert_eq!(val(STATE, "bool", r#"tags.contains("c")"#), b(false));
    assert_eq!(val(STATE, "bool", "xs.contains(2)"), b(true));
    assert_eq!(val(STATE, "bool", "xs.contains(9)"), b(false));
    assert_eq!(val(STATE, "bool", "[Some(1), None].contains(opt)"), b(false));
    assert_eq!(val(STATE, "bool", "[Some(5), None].contains(Some(opt.unwrap_or(0)))"), b(true));
}

#[test]
fn map_builtins() {
    assert_eq!(val(STATE, "bool", r#"m.contains_key("x")"#), b(true));
    assert_eq!(val(STATE, "bool", r#"m.contains_key("z")"#), b(false));
    assert_eq!(val(STATE, "Option<u64>", r#"m.get("y")"#), some(u(2)));
    assert_eq!(val(STATE, "Option<u64>", r#"m.get("z")"#), Value::none());
    assert_eq!(val(STATE, "Option<u64>", r#"["q": 4].get("q")"#), some(u(4)), "get on a computed map");
    assert_eq!(val(STATE, "Option<u64>", r#"["q": 4].get("r")"#), Value::none());
    assert_eq!(val(STATE, "Set<String>", "m.keys()"), set([s("x"), s("y")]));
    assert_eq!(val(STATE, "Seq<u64>", r#"["b": 1, "a": 2].values()"#), seq([u(2), u(1)]), "values in key order");
    assert_eq!(val(STATE, "Seq<u64>", "m.values()"), seq([u(1), u(2)]));
    assert_eq!(val(STATE, "Set<String>", r#"["b": 1, "a": 2].keys()"#), set([s("a"), s("b")]));
}

#[test]
fn seq_builtins() {
    assert_eq!(val(STATE, "Option<u64>", "xs.get(0)"), some(u(3)));
    assert_eq!(val(STATE, "Option<u64>", "xs.get(2)"), some(u(2)));
    assert_eq!(val(STATE, "Option<u64>", "xs.get(3)"), Value::none(), "out of range is None");
    assert_eq!(val(STATE, "Option<u64>", "xs.get(18446744073709551615)"), Value::none());
    assert_eq!(val(STATE, "Option<u64>", "[7, 8].get(1)"), some(u(8)));
    assert_eq!(val(STATE, "Option<u64>", "[7, 8].get(2)"), Value::none());
    assert_eq!(val(STATE, "Option<u64>", "xs.first()"), some(u(3)));
    assert_eq!(val(STATE, "Option<u64>", "xs.last()"), some(u(2)));
    assert_eq!(val(STATE, "Option<u64>", "empty.first()"), Value::none());
    assert_eq!(val(STATE, "Option<u64>", "empty.last()"), Value::none());
    assert_eq!(val(STATE, "Option<u64>", "[4, 5].first()"), some(u(4)));
    assert_eq!(val(STATE, "Option<u64>", "[4, 5].last()"), some(u(5)));
    assert_eq!(val(STATE, "bool", "xs.first() == Some(3)"), b(true));
}

#[test]
fn set_algebra_and_min_max() {
    let decls = "state { a: Set<u64> = [1, 2, 3], c: Set<u64> = [2, 3] }";
    assert_eq!(val(decls, "Set<u64>", "a.union([5, 1])"), set([u(1), u(2), u(3), u(5)]));
    assert_eq!(val(decls, "Set<u64>", "a.intersection([3, 4])"), set([u(3)]));
    assert_eq!(val(decls, "Set<u64>", "a.difference(c)"), set([u(1)]));
    assert_eq!(val(decls, "bool", "c.is_subset(a)"), b(true));
    assert_eq!(val(decls, "bool", "a.is_subset(c)"), b(false));
    assert_eq!(val(decls, "u64", "3.min(5)"), u(3));
    assert_eq!(val(decls, "u64", "3.max(5)"), u(5));
}

#[test]
fn quantifiers() {
    assert_eq!(val(STATE, "bool", "xs.all(|x| x > 0)"), b(true));
    assert_eq!(val(STATE, "bool", "xs.all(|x| x > 1)"), b(false));
    assert_eq!(val(STATE, "bool", "empty.all(|x| x > 100)"), b(true), "all is true on an empty collection");
    assert_eq!(val(STATE, "bool", "xs.any(|x| x == 2)"), b(true));
    assert_eq!(val(STATE, "bool", "empty.any(|x| x == 2)"), b(false), "any is false on an empty collection");
    assert_eq!(val(STATE, "u64", "xs.count(|x| x >= 2)"), u(2));
    assert_eq!(val(STATE, "u64", "empty.count(|x| true)"), u(0));
    assert_eq!(val(STATE, "bool", r#"tags.any(|t| t == "b")"#), b(true));
    assert_eq!(val(STATE, "u64", "tags.count(|t| t.len() == 1)"), u(2));
    assert_eq!(val(STATE, "bool", r#"m.all(|k, v| k.len() == 1 && v < 3)"#), b(true));
    assert_eq!(val(STATE, "u64", r#"m.count(|k, v| k == "y" || v == 1)"#), u(2));
    assert_eq!(val(STATE, "bool", "leases.any(|k, l| l.ttl == 9)"), b(true));
    assert_eq!(val(STATE, "u64", "m.keys().count(|k| k != \"x\")"), u(1), "over a computed set");
    assert_eq!(val(STATE, "bool", "m.values().all(|v| v > 0)"), b(true), "over a computed seq");
    assert_eq!(val(STATE, "u64", r#"["a": 1, "b": 5].count(|k, v| v > 2)"#), u(1), "over a computed map");
    assert_eq!(val(STATE, "u64", "xs.count(|x| xs.any(|y| y > x))"), u(2), "nested closures");
    assert_eq!(val(STATE, "u64", "xs.count(|x| x > n - 6)"), u(2), "closures read state");
}

#[test]
fn all_and_any_stop_at_the_deciding_element() {
    assert_eq!(val("", "bool", "[5, 0].all(|x| 10 / x > 5)"), b(false), "stops at 5, never divides by 0");
    assert!(is_overflow(eval("", "bool", "[1, 0].all(|x| 10 / x > 5)")));
    assert_eq!(val("", "bool", "[1, 0].any(|x| 10 / x > 5)"), b(true), "stops at 1");
    assert!(is_overflow(eval("", "bool", "[5, 0].any(|x| 10 / x > 5)")));
    assert!(is_overflow(eval("", "u64", "[1, 0].count(|x| 10 / x > 5)")), "count visits every element");
}
