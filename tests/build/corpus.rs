//! The name-hygiene corpus: specs that reuse, as every kind of spec name, the words generated Rust could confuse
//! with its own (Rust keywords, primitives, prelude and std names, the identifiers the generator itself emits,
//! the spec's own names reused across kinds), written from the lists below rather than by hand.
//!
//! Each template puts a group of names into one machine in every position the checker accepts for them: as
//! newtypes and records named like the fields, payload fields, helper parameters and locals that use them; as
//! bindings (state fields, payload fields, parameters, lets, closure and pattern bindings); as the names of
//! enums, variants, phases, inputs, effects, helpers, guards, invariants and transitions; and as machine names
//! routed through a composition. `build.rs` compiles every spec through `meerkat_codegen::Config` and the
//! `corpus` test runs each kernel against the interpreter.

/// Rust keywords and reserved words the spec grammar admits as names (the spec language's own keywords, `self`,
/// `Self`, `super`, `crate` and `_` are refused before code generation).
const KEYWORDS: &[&str] = &[
    "abstract",
    "as",
    "async",
    "await",
    "become",
    "box",
    "break",
    "const",
    "continue",
    "do",
    "dyn",
    "extern",
    "final",
    "for",
    "gen",
    "impl",
    "in",
    "loop",
    "macro",
    "mod",
    "move",
    "mut",
    "override",
    "priv",
    "pub",
    "ref",
    "return",
    "static",
    "struct",
    "trait",
    "try",
    "type",
    "typeof",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "where",
    "while",
    "yield",
    "union",
    "macro_rules",
    "raw",
    "safe",
];

/// Rust's primitive types.
const PRIMITIVES: &[&str] = &[
    "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
    "f32", "f64",
];

/// Names of the standard prelude and of the crates generated code paths start from.
const PRELUDE: &[&str] = &[
    "Option",
    "Result",
    "Ok",
    "Err",
    "Vec",
    "Box",
    "Default",
    "Clone",
    "Copy",
    "Send",
    "Sync",
    "Sized",
    "Drop",
    "Fn",
    "FnMut",
    "FnOnce",
    "From",
    "Into",
    "TryFrom",
    "TryInto",
    "Iterator",
    "IntoIterator",
    "Extend",
    "ToString",
    "ToOwned",
    "AsRef",
    "AsMut",
    "Eq",
    "PartialEq",
    "Ord",
    "PartialOrd",
    "Debug",
    "Hash",
    "Display",
    "drop",
    "std",
    "core",
    "alloc",
    "serde",
    "meerkat_kernel",
    "meerkat_dsl",
    "matches",
    "vec",
    "format",
    "panic",
    "assert",
    "BTreeMap",
    "BTreeSet",
    "VecDeque",
    "Formatter",
    "Outcome",
    "Kernel",
    "EffectList",
    "Authority",
];

/// Identifiers generated code uses for its own locals, parameters, labels, methods and items.
const GENERATED: &[&str] = &[
    "phase",
    "input",
    "signal",
    "state",
    "source",
    "target",
    "key",
    "value",
    "previous",
    "old",
    "undo",
    "effect",
    "effects",
    "rejections",
    "rejected",
    "holds",
    "label",
    "snapshot",
    "other",
    "record",
    "count",
    "item",
    "f",
    "t",
    "e0",
    "e1",
    "tmp",
    "next",
    "result",
    "outcome",
    "interp",
    "values",
    "fields",
    "Spilled",
    "E0",
    "E1",
    "E2",
    "ALL",
    "name",
    "is_terminal",
    "is_pure",
    "initial",
    "to_interp",
    "from_interp",
    "apply_input",
    "apply_signal",
    "violated_invariant",
    "fmt",
    "push",
    "new",
    "as_slice",
    "into_vec",
    "reject",
    "helper",
    "fire",
    "dsl",
    "kernels",
    "corpus",
    "hyg_sealed",
    "sealed",
    "MACHINE",
    "PHASES",
    "INPUTS",
    "SIGNALS",
    "TRANSITIONS",
    "GUARDS",
    "INVARIANTS",
];

/// Every name of the corpus, each class once.
fn all_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for name in KEYWORDS.iter().chain(PRIMITIVES).chain(PRELUDE).chain(GENERATED) {
        if !names.contains(name) {
            names.push(name);
        }
    }
    names
}

/// The spec language's built-in types, which cannot be declared again.
const BUILT_IN_TYPES: &[&str] = &["bool", "u64", "String", "Phase", "Option", "Set", "Seq", "Map"];

/// Names per machine: small enough that a failure points at few names, large enough to keep the build short.
const GROUP: usize = 8;

/// The corpus: `(file stem, spec text)`, in a fixed order.
pub fn specs() -> Vec<(String, String)> {
    let names = all_names();
    // The checker refuses declared types named like a built-in or a Rust primitive (E0101, E0117).
    let type_names: Vec<&str> =
        names.iter().copied().filter(|n| !BUILT_IN_TYPES.contains(n) && !PRIMITIVES.contains(n)).collect();
    let mut specs = Vec::new();
    for (i, group) in type_names.chunks(GROUP).enumerate() {
        specs.push((format!("hyg_newtypes_{i}"), newtypes(&format!("HygNewtypes{i}"), group)));
        specs.push((format!("hyg_records_{i}"), records(&format!("HygRecords{i}"), group)));
    }
    for (i, group) in names.chunks(GROUP).enumerate() {
        specs.push((format!("hyg_bindings_{i}"), bindings(&format!("HygBindings{i}"), group)));
    }
    // Machine names become module names in snake case, so only one of `E0` and `e0` can be a machine here.
    let mut machine_names: Vec<&str> = Vec::new();
    for name in KEYWORDS.iter().chain(GENERATED) {
        if !machine_names.iter().any(|m| m.eq_ignore_ascii_case(name)) {
            machine_names.push(name);
        }
    }
    for (i, group) in machine_names.chunks(GROUP).enumerate() {
        specs.push((format!("hyg_machines_{i}"), machines(i, group)));
    }
    specs.push(("hyg_sealed".to_string(), sealed()));
    specs.push(("hyg_deep".to_string(), deep(DEEP)));
    specs.push(("hyg_enum_inputs".to_string(), enum_items("HygEnumInputs", "input")));
    specs.push(("hyg_enum_signals".to_string(), enum_items("HygEnumSignals", "signal")));
    specs
}

/// Each name as a newtype over `u64`, used as the type of a state field, a payload field, an effect field and a
/// helper parameter of the same name, and bound by a `let` of the same name.
fn newtypes(machine: &str, names: &[&str]) -> String {
    let decls: String = names.iter().map(|x| format!("    newtype {x}(u64)\n")).collect();
    let fields = join(names, |x| format!("{x}: {x} = {x}(1)"));
    let payload = join(names, |x| format!("{x}: {x}"));
    // A helper of at most six parameters (clippy's `too_many_arguments` counts `&self`).
    let helped = &names[..names.len().min(6)];
    let params = join(helped, |x| format!("{x}: {x}"));
    let sum = join_with(helped, " + ", |x| format!("{x}.0"));
    let positive = join_with(names, " && ", |x| format!("{x}.0 >= 1"));
    let small = join_with(names, " && ", |x| format!("{x}.0 > 0 && {x}.0 < 1000"));
    let lets: String = names.iter().map(|x| format!("        let {x}: {x} = {x};\n")).collect();
    let assigns: String = names.iter().map(|x| format!("        self.{x} = {x};\n")).collect();
    let emitted = join(names, |x| x.to_string());
    let helped_args = join(helped, |x| x.to_string());
    let first = names[0];
    format!(
        "machine {machine} {{
{decls}    phases at {{ initial Start, Busy, terminal Done }}
    state {{ {fields}, total: u64 = 0, last: Option<{first}> = None }}
    input Go {{ {payload} }}
    input Finish
    effect Out {{ {payload}, total: u64 }}
    fn sum({params}) -> u64 {{ {sum} }}
    guard small = {small}
    invariant positive = {positive}
    on Go from Start, Busy -> Busy when small {{
{lets}{assigns}        last = Some({first});
        total = sum({helped_args});
        emit Out {{ {emitted}, total }}
    }}
    on Finish from Busy -> Done {{
        if let Some({first}) = last {{ total = total + {first}.0 }}
    }}
    model {{ domain u64 = 0..=3 }}
}}
"
    )
}

/// Each name as a record with one field of its own name, held in an `Option` and a `Seq` of state fields of
/// its name and carried by payload and effect fields of its name.
fn records(machine: &str, names: &[&str]) -> String {
    let decls: String =
        names.iter().map(|x| format!("    record {x} {{ {x}: u64, hyg_extra: Option<u64> }}\n")).collect();
    let fields = join(names, |x| format!("{x}: Option<{x}> = None"));
    let payload = join(names, |x| format!("{x}: {x}"));
    let stores: String = names
        .iter()
        .map(|x| format!("        if {x}.{x} < 10 {{ self.{x} = Some({x}) }}\n        seen.push({x}.{x});\n"))
        .collect();
    let emitted = join(names, |x| x.to_string());
    let first = names[0];
    format!(
        "machine {machine} {{
{decls}    phases at {{ initial Open }}
    state {{ {fields}, seen: Seq<u64> = [] }}
    input Put {{ {payload} }}
    input Clear
    effect Kept {{ {payload} }}
    invariant bounded = seen.len() <= 64
    on Put from Open -> stay when seen.len() < 60 {{
{stores}        emit Kept {{ {emitted} }}
    }}
    on Clear from Open -> stay {{
        if let Some({first}) = self.{first} {{ seen.push({first}.{first}) }}
        seen.clear()
    }}
    model {{ domain u64 = 0..=12 }}
}}
"
    )
}

/// Each name as a state field, a payload field, a helper, a helper parameter, a guard, an invariant, a `let`, a
/// closure parameter, a pattern binding, an enum, a variant, a phase, an input, an effect and a transition.
fn bindings(machine: &str, names: &[&str]) -> String {
    let state = join(names, |x| format!("{x}: u64 = 0"));
    let variants = join(names, |n| n.to_string());
    let phases = join(names, phase_name);
    let mut items = String::new();
    for (i, x) in names.iter().enumerate() {
        let next = names[(i + 1) % names.len()];
        items.push_str(&format!(
            "    enum {x}_kind {{ {variants} }}
    input {input} {{ {x}: u64, {next}: u64 }}
    effect {x}_done {{ {x}: u64, kind: {first}_kind }}
    fn {x}({x}: u64, {next}: u64) -> bool {{ {x} <= {next} + 5 }}
    guard {x}_guard = {x} < 100
    invariant {x}_bounded = {x} <= 1000
    transition {x}_step on {input} from any -> {next_phase} when {x}_guard, {x}({x}, {next}) {{
        let {x}: u64 = {x} + {next};
        let {next}: Seq<u64> = [{x}, 1];
        if {next}.all(|{x}| {x} < 500) {{ self.{x} = {x} }}
        let {x}_opt: Option<u64> = Some({x});
        if let Some({x}) = {x}_opt {{ self.{x} = {x} % 500 }}
        emit {x}_done {{ {x}, kind: {first}_kind::{input} }}
    }}
",
            first = names[0],
            next_phase = phase_name(next),
            input = x,
        ));
    }
    format!(
        "machine {machine} {{
    phases at {{ initial {phases} }}
    state {{ {state} }}
{items}    model {{ domain u64 = 0..=4 }}
}}
"
    )
}

/// Each name as a machine that emits an effect routed into the next one by a composition.
fn machines(index: usize, names: &[&str]) -> String {
    let mut text = String::new();
    for (i, x) in names.iter().enumerate() {
        let next = names[(i + 1) % names.len()];
        text.push_str(&format!(
            "machine {x} {{
    phases {{ initial Idle }}
    state {{ got: u64 = 0 }}
    input Ping {{ n: u64 }}
    effect Pinged {{ n: u64 }}
    on Ping from Idle -> stay when got < 1000 {{ got += 1; emit Pinged {{ n }} }}
}}
composition Hop{index}_{i} {{ route {x}.Pinged -> {next}.Ping }}
"
        ));
    }
    text
}

/// A record named like the sealed module older kernels declared (`<snake machine>_sealed`).
fn sealed() -> String {
    "machine Hyg {
    record hyg_sealed { v: u64 }
    record HygSealed { v: u64 }
    phases { initial Open }
    state { last: Option<hyg_sealed> = None, other: Option<HygSealed> = None }
    input Put { v: u64 }
    on Put from Open -> stay { last = Some(hyg_sealed { v: v }); other = Some(HygSealed { v: v }) }
}
"
    .to_string()
}

/// A name as a phase name: as written, unless it is a word the phase list reads as a marker.
fn phase_name(name: &str) -> String {
    if ["initial", "terminal"].contains(&name) { format!("{name}_phase") } else { name.to_string() }
}

/// Associated items of the generated enums (the phase enum's `name` and `is_terminal`, the message enums' `name`,
/// `is_pure` and `is_runtime_internal`, the interpreter conversions, the old `ALL`), which a variant of the same
/// name would shadow if the kernel reached them by path.
const ENUM_ITEMS: &[&str] =
    &["ALL", "name", "is_terminal", "is_pure", "is_runtime_internal", "from_interp", "to_interp", "PHASES"];

/// Each associated item of the generated enums as a phase, an effect, a variant and an input or (`kind` is
/// `"signal"`) a signal, at once.
fn enum_items(machine: &str, kind: &str) -> String {
    let phases = join(ENUM_ITEMS, |x| x.to_string());
    let mut items = String::new();
    for (i, x) in ENUM_ITEMS.iter().enumerate() {
        let next = ENUM_ITEMS[(i + 1) % ENUM_ITEMS.len()];
        items.push_str(&format!(
            "    {kind} {x} {{ v: u64 }}
    effect {x} {{ v: u64, kind: Kind }}
    transition on_{x} on {x} from {x} -> {next} when n < 40 {{ n += v; emit {x} {{ v, kind: Kind::{x} }} }}
"
        ));
    }
    let variants = join(ENUM_ITEMS, |x| x.to_string());
    format!(
        "machine {machine} {{
    enum Kind {{ {variants} }}
    phases {{ initial {phases} }}
    state {{ n: u64 = 0 }}
{items}    invariant bounded = n <= 100
    model {{ domain u64 = 0..=2 }}
}}
"
    )
}

/// The type depth of the deep entry: just under the checker's bound of 64 levels counted through named types.
const DEEP: usize = 60;

/// Types nested `depth` levels deep, both ways: a chain of records each holding the next in an `Option` (two
/// levels per record), and `depth` `Option`s around a `u64`, written and read by a transition.
fn deep(depth: usize) -> String {
    let records = depth / 2;
    let mut decls = String::new();
    for i in 0..records {
        if i + 1 < records {
            decls.push_str(&format!("    record Deep{i} {{ v: u64, next: Option<Deep{}> }}\n", i + 1));
        } else {
            decls.push_str(&format!("    record Deep{i} {{ v: u64 }}\n"));
        }
    }
    let options = format!("{}u64{}", "Option<".repeat(depth), ">".repeat(depth));
    let value = format!("{}v{}", "Some(".repeat(depth), ")".repeat(depth));
    format!(
        "machine HygDeep {{
{decls}    phases {{ initial Open }}
    state {{ chain: Option<Deep0> = None, nested: {options} = None, count: u64 = 0 }}
    input Put {{ v: u64 }}
    input Link {{ v: u64 }}
    on Put from Open -> stay when count < 1000 {{ nested = {value}; count += 1 }}
    on Link from Open -> stay when count < 1000 {{
        chain = Some(Deep0 {{ v: v, next: None }});
        if nested.is_some() {{ count += 1 }}
    }}
}}
"
    )
}

fn join(names: &[&str], f: impl Fn(&str) -> String) -> String {
    join_with(names, ", ", f)
}

fn join_with(names: &[&str], sep: &str, f: impl Fn(&str) -> String) -> String {
    names.iter().map(|x| f(x)).collect::<Vec<_>>().join(sep)
}
