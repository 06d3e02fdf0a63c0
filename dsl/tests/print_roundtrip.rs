//! Printing then parsing returns the same IR: for random well-typed helper bodies, guards, computed targets and
//! transition bodies, the spec text that [`meerkat_dsl::print`] writes for the checked IR checks again to the
//! same IR, spans aside. One line per expression and the multi-line layout both hold.
//!
//! The generator writes its input fully parenthesised and with every state field as `self.x`, so the input means
//! exactly one thing; the printer then has to choose the parentheses (by the one precedence table), the `self.`
//! prefixes (only where a local, parameter or payload field shadows the field), the qualified variants and the
//! `emit` shorthand and defaults by itself. Random choices come from a byte tape that proptest shrinks: a shorter
//! or smaller tape makes a smaller program (an exhausted tape picks leaves).

#![allow(clippy::expect_used, clippy::panic, reason = "a test fails loudly on broken test data")]

use meerkat_dsl::ir::{Machine, Target};
use meerkat_dsl::print::{self, Scope};
use meerkat_dsl::{CheckedMachine, RenderOptions, check_source};
use proptest::prelude::*;

/// The declarations every generated program shares; `{HELPER}`, `{GUARD0}`, `{GUARD1}`, `{TARGET}` and `{BODY}`
/// are filled in.
const TEMPLATE: &str = r#"machine P {
    enum Lamp { Red, Amber, Green }
    record Lease { holder: String, ttl: u64 }
    newtype Id(String)
    phases { initial A, B }
    state {
        n: u64 = 0,
        m: u64 = 1,
        flag: bool = false,
        lamp: Lamp = Lamp::Red,
        xs: Seq<u64> = [1, 2],
        tags: Set<String> = [],
        leases: Map<Id, Lease> = [:],
        owner: Option<u64> = None,
        lease: Lease = Lease { holder: "a", ttl: 1 },
    }
    input Go { k: u64, who: String }
    effect Seen { v: u64, who: String = "x" }
    fn pick(a: u64, n: u64) -> u64 {
        {HELPER}
    }
    guard g0 = {GUARD0}
    guard g1 = {GUARD1}
    transition Step on Go from A, B -> {TARGET} when g1 {
{BODY}    }
}
"#;

/// Where an expression stands: what it may read besides the state.
#[derive(Clone, Debug, Default)]
struct Ctx {
    /// Readable `u64` names and paths: locals, parameters, payload fields, projections of locals.
    u64s: Vec<String>,
    /// Inside the transition: the payload (`k`, `who`) and `source` are readable.
    transition: bool,
    /// Inside the helper: calling it would be recursion.
    helper: bool,
    /// Outside the guards: `g0` is readable (inside `g0` it would be a cycle).
    guards: bool,
}

impl Ctx {
    fn with_u64(&self, name: &str) -> Ctx {
        let mut ctx = self.clone();
        ctx.u64s.push(name.to_string());
        ctx
    }
}

/// Random choices from a tape of bytes; past its end every choice is 0, the simplest.
struct Gen<'t> {
    tape: &'t [u8],
    at: usize,
}

impl Gen<'_> {
    fn pick(&mut self, n: usize) -> usize {
        let byte = self.tape.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        usize::from(byte) % n
    }

    fn one<'s>(&mut self, options: &[&'s str]) -> &'s str {
        options[self.pick(options.len())]
    }

    /// A `u64` expression at most `depth` levels deep.
    fn u64(&mut self, ctx: &Ctx, depth: usize) -> String {
        if depth == 0 || self.pick(3) == 0 {
            let mut leaves: Vec<String> =
                ["0", "1", "7", "18446744073709551615", "self.n", "self.m", "self.lease.ttl", "self.xs.len()"]
                    .map(String::from)
                    .to_vec();
            leaves.extend(ctx.u64s.iter().cloned());
            if ctx.transition {
                leaves.push("k".into());
            }
            return leaves[self.pick(leaves.len())].clone();
        }
        let d = depth - 1;
        match self.pick(13) {
            0 | 1 => {
                let op = self.one(&["+", "-", "*", "/", "%"]);
                format!("({}) {op} ({})", self.u64(ctx, d), self.u64(ctx, d))
            }
            2 => format!("if {} {{ {} }} else {{ {} }}", self.bool(ctx, d), self.u64(ctx, d), self.u64(ctx, d)),
            3 => format!(
                "match self.lamp {{ Lamp::Red => {}, Lamp::Amber | Lamp::Green => {} }}",
                self.u64(ctx, d),
                self.u64(ctx, d)
            ),
            4 => format!("self.owner.unwrap_or({})", self.u64(ctx, d)),
            5 => {
                let method = self.one(&["min", "max"]);
                format!("({}).{method}({})", self.u64(ctx, d), self.u64(ctx, d))
            }
            6 => {
                let x = self.one(&["x", "n"]);
                format!("self.xs.count(|{x}| {})", self.bool(&ctx.with_u64(x), d))
            }
            7 if !ctx.helper => format!("pick({}, {})", self.u64(ctx, d), self.u64(ctx, d)),
            7 | 8 => format!(
                "if let Some(o) = self.owner {{ {} }} else {{ {} }}",
                self.u64(&ctx.with_u64("o"), d),
                self.u64(ctx, d)
            ),
            9 => format!(
                "match self.owner {{ Some(o) => {}, None => {} }}",
                self.u64(&ctx.with_u64("o"), d),
                self.u64(ctx, d)
            ),
            10 => format!("(Lease {{ holder: {}, ttl: {} }}).ttl", self.string(ctx, d), self.u64(ctx, d)),
            11 => format!("(if {} {{ self.xs }} else {{ [] }}).len()", self.bool(ctx, d)),
            _ => format!(
                "self.xs.get({}).unwrap_or([{}, {}].len())",
                self.u64(ctx, d),
                self.u64(ctx, d),
                self.u64(ctx, d)
            ),
        }
    }

    /// A `bool` expression at most `depth` levels deep.
    fn bool(&mut self, ctx: &Ctx, depth: usize) -> String {
        if depth == 0 || self.pick(3) == 0 {
            let mut leaves: Vec<&str> = vec![
                "true",
                "false",
                "self.flag",
                "self.owner.is_some()",
                "self.xs.is_empty()",
                "self.phase == Phase::A",
                "self.lamp == Lamp::Green",
            ];
            if ctx.guards {
                leaves.push("g0");
            }
            if ctx.transition {
                leaves.push("source == Phase::B");
            }
            return leaves[self.pick(leaves.len())].to_string();
        }
        let d = depth - 1;
        match self.pick(15) {
            0 => format!("!({})", self.bool(ctx, d)),
            1 | 2 => {
                let op = self.one(&["&&", "||"]);
                format!("({}) {op} ({})", self.bool(ctx, d), self.bool(ctx, d))
            }
            3 | 4 => {
                let op = self.one(&["==", "!=", "<", "<=", ">", ">="]);
                format!("({}) {op} ({})", self.u64(ctx, d), self.u64(ctx, d))
            }
            5 => {
                let op = self.one(&["==", "!="]);
                format!("({}) {op} ({})", self.bool(ctx, d), self.bool(ctx, d))
            }
            6 => format!("if {} {{ {} }} else {{ {} }}", self.bool(ctx, d), self.bool(ctx, d), self.bool(ctx, d)),
            7 => {
                let (method, x) = (self.one(&["all", "any"]), self.one(&["x", "n"]));
                format!("self.xs.{method}(|{x}| {})", self.bool(&ctx.with_u64(x), d))
            }
            8 => format!("self.leases.any(|key, value| {})", self.bool(&ctx.with_u64("value.ttl"), d)),
            9 => format!("self.tags.contains({})", self.string(ctx, d)),
            10 => match self.pick(2) {
                0 => format!("self.owner == Some({})", self.u64(ctx, d)),
                _ => "None == self.owner".to_string(),
            },
            11 => format!("match self.flag {{ true => {}, false => {} }}", self.bool(ctx, d), self.bool(ctx, d)),
            12 => format!("match self.phase {{ Phase::A => {}, _ => {} }}", self.bool(ctx, d), self.bool(ctx, d)),
            13 => format!("self.leases.contains_key(Id({}))", self.string(ctx, d)),
            _ => format!("self.lease == Lease {{ holder: {}, ttl: {} }}", self.string(ctx, d), self.u64(ctx, d)),
        }
    }

    /// A `String` expression at most `depth` levels deep.
    fn string(&mut self, ctx: &Ctx, depth: usize) -> String {
        if depth == 0 || self.pick(4) != 0 {
            let mut leaves = vec![r#""a""#, r#""x\n\"y\"""#, r#""é\\t""#, "self.lease.holder"];
            if ctx.transition {
                leaves.push("who");
            }
            return leaves[self.pick(leaves.len())].to_string();
        }
        format!(
            "if {} {{ {} }} else {{ {} }}",
            self.bool(ctx, depth - 1),
            self.string(ctx, depth - 1),
            self.string(ctx, depth - 1)
        )
    }

    /// Up to `count` statements of a transition body, each line indented by `indent` spaces.
    fn stmts(&mut self, ctx: &Ctx, depth: usize, count: usize, indent: usize) -> String {
        let mut ctx = ctx.clone();
        let mut out = String::new();
        let pad = " ".repeat(indent);
        for _ in 0..self.pick(count + 1) {
            let d = depth.saturating_sub(1);
            let line = match self.pick(if depth == 0 { 12 } else { 15 }) {
                0 => format!("self.n = {};", self.u64(&ctx, d)),
                1 => {
                    let (place, op) = (self.one(&["self.n", "self.m", "self.lease.ttl"]), self.one(&["+=", "-="]));
                    format!("{place} {op} {};", self.u64(&ctx, d))
                }
                2 => format!("self.flag = {};", self.bool(&ctx, d)),
                3 => match self.pick(4) {
                    0 => format!("self.xs.push({});", self.u64(&ctx, d)),
                    1 => "self.xs.pop();".to_string(),
                    2 => "self.xs.pop_front();".to_string(),
                    _ => "self.xs.clear();".to_string(),
                },
                4 => {
                    let method = self.one(&["insert", "remove"]);
                    format!("self.tags.{method}({});", self.string(&ctx, d))
                }
                5 => format!(
                    "self.leases.insert(Id({}), Lease {{ holder: {}, ttl: {} }});",
                    self.string(&ctx, d),
                    self.string(&ctx, d),
                    self.u64(&ctx, d)
                ),
                6 => format!("self.leases.remove(Id({}));", self.string(&ctx, d)),
                7 => format!("self.lease.ttl = {};", self.u64(&ctx, d)),
                8 => match self.pick(2) {
                    0 => format!("self.owner = Some({});", self.u64(&ctx, d)),
                    _ => "self.owner = None;".to_string(),
                },
                9 => format!("emit Seen {{ v: {} }};", self.u64(&ctx, d)),
                10 => format!("emit Seen {{ v: {}, who: {} }};", self.u64(&ctx, d), self.string(&ctx, d)),
                11 => {
                    let name = self.one(&["t", "v", "n"]);
                    let line = format!("let {name} = {};", self.u64(&ctx, d));
                    ctx = ctx.with_u64(name);
                    line
                }
                12 => {
                    let then = self.stmts(&ctx, d, count, indent + 4);
                    match self.pick(3) {
                        0 => format!("if {} {{\n{then}{pad}}}", self.bool(&ctx, d)),
                        1 => format!(
                            "if {} {{\n{then}{pad}}} else {{\n{}{pad}}}",
                            self.bool(&ctx, d),
                            self.stmts(&ctx, d, count, indent + 4)
                        ),
                        _ => format!(
                            "if {} {{\n{then}{pad}}} else if {} {{\n{}{pad}}}",
                            self.bool(&ctx, d),
                            self.bool(&ctx, d),
                            self.stmts(&ctx, d, count, indent + 4)
                        ),
                    }
                }
                _ => format!(
                    "if let Some(o) = self.owner {{\n{}{pad}}} else {{\n{}{pad}}}",
                    self.stmts(&ctx.with_u64("o"), d, count, indent + 4),
                    self.stmts(&ctx, d, count, indent + 4)
                ),
            };
            out.push_str(&pad);
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    /// A whole generated program: the template with every slot filled.
    fn program(&mut self) -> Slots {
        let helper_ctx = Ctx { u64s: vec!["a".into(), "n".into()], helper: true, ..Ctx::default() };
        let transition = Ctx { transition: true, guards: true, ..Ctx::default() };
        Slots {
            helper: self.u64(&helper_ctx, 4),
            guard0: self.bool(&Ctx::default(), 4),
            guard1: self.bool(&Ctx { guards: true, ..Ctx::default() }, 4),
            target: match self.pick(3) {
                0 => "B".into(),
                1 => "stay".into(),
                _ => format!("if {} {{ Phase::A }} else {{ source }}", self.bool(&transition, 3)),
            },
            body: self.stmts(&transition, 3, 4, 8),
        }
    }
}

/// The texts that fill the template's slots.
#[derive(Debug)]
struct Slots {
    helper: String,
    guard0: String,
    guard1: String,
    target: String,
    body: String,
}

impl Slots {
    fn spec(&self) -> String {
        TEMPLATE
            .replace("{HELPER}", &self.helper)
            .replace("{GUARD0}", &self.guard0)
            .replace("{GUARD1}", &self.guard1)
            .replace("{TARGET}", &self.target)
            .replace("{BODY}", &self.body)
    }

    /// The slots as the printer writes them back from a checked machine, every expression on one line or laid
    /// out over several lines when wider than `width`.
    fn printed(m: &Machine, width: usize) -> Slots {
        let helper = &m.helpers[0];
        let transition = &m.transitions[0];
        let scope = Scope::transition(m, transition);
        Slots {
            helper: print::expr_multiline(Scope::helper(m, helper), &helper.body, 8, width),
            guard0: print::expr_multiline(Scope::guard(m, &m.guards[0]), &m.guards[0].expr, 4, width),
            guard1: print::expr_multiline(Scope::guard(m, &m.guards[1]), &m.guards[1].expr, 4, width),
            target: match &transition.target {
                Target::Stay => "stay".into(),
                Target::Phase(phase) => m.phases[phase.index()].name.clone(),
                Target::Computed { expr, .. } => print::expr(scope, expr),
            },
            body: print::stmts(scope, &transition.body, 8),
        }
    }
}

fn check(spec: &str) -> Result<CheckedMachine, TestCaseError> {
    match check_source("p.machine", spec) {
        Ok(mut package) => Ok(package.machines.remove(0)),
        Err(error) => Err(TestCaseError::fail(format!(
            "the spec does not check:\n{spec}\n{}",
            error.render(RenderOptions { width: 100, colour: false })
        ))),
    }
}

/// The IR's debug form with every span left out: two machines with equal shapes compare equal.
fn without_spans(m: &Machine) -> String {
    let text = format!("{m:#?}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(start) = rest.find("Span {") {
        out.push_str(&rest[..start]);
        out.push_str("Span");
        let Some(end) = rest[start..].find('}') else { break };
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn printing_then_parsing_gives_the_same_ir(tape in proptest::collection::vec(any::<u8>(), 0..600)) {
        let original = Gen { tape: &tape, at: 0 }.program().spec();
        let first = check(&original)?;
        for width in [usize::MAX, 40] {
            let printed = Slots::printed(&first, width).spec();
            let second = check(&printed)?;
            prop_assert_eq!(
                without_spans(&first),
                without_spans(&second),
                "written:\n{}\nprinted:\n{}",
                original,
                printed
            );
        }
    }
}

/// The tape that picks the first option everywhere gives the smallest program; a fixed busy tape gives a large
/// one. Both must round-trip, and the large one must really exercise the printer.
#[test]
fn fixed_programs_round_trip() {
    let busy: Vec<u8> = (0..2000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    for tape in [Vec::new(), busy] {
        let original = Gen { tape: &tape, at: 0 }.program().spec();
        let first = check(&original).expect("the generated spec checks");
        let printed = Slots::printed(&first, usize::MAX).spec();
        let second = check(&printed).expect("the printed spec checks");
        assert_eq!(without_spans(&first), without_spans(&second), "written:\n{original}\nprinted:\n{printed}");
    }
}

/// Types print as they are written in the `state` block.
#[test]
fn types_print_as_written() {
    let spec = Gen { tape: &[], at: 0 }.program().spec();
    let m = check(&spec).expect("the spec checks");
    let printed: Vec<String> = m.fields.iter().map(|f| format!("{}: {}", f.name, print::ty(&m, &f.ty))).collect();
    for line in &printed {
        assert!(spec.contains(line.as_str()), "`{line}` is not in the spec");
    }
    assert_eq!(printed.len(), 9);
}
