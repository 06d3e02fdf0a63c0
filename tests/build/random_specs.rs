//! Random valid specs: machines drawn from a seed, well typed by construction, for the property that a spec the
//! checker accepts always compiles and agrees with the interpreter.
//!
//! A spec declares enums, newtypes and records, phases (some terminal), state fields of every type the language
//! has (nested options and collections of declared types included), inputs and signals with payloads, helpers
//! that call earlier helpers, named guards, effects, invariants true in the initial state (bounds on numbers and
//! lengths, and `m.all(|k, v| ..)` over maps, which kernels check incrementally), and transitions with guards,
//! fixed, `stay` and computed targets, `otherwise` fallbacks and bodies of every statement kind. Expressions are
//! built top-down from the type they must have, so every one checks; arithmetic may still overflow or divide by
//! zero, which rejects the input at run time, as it should. `build.rs` compiles a few of them into the test crate
//! (`tests/random_specs.rs` runs each against the interpreter), and that test checks and generates many more.

/// A small deterministic generator (splitmix64): the same seed gives the same spec on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: usize, high: usize) -> usize {
        low + self.below(high - low + 1)
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The types a generated spec uses.
#[derive(Clone, Debug, PartialEq)]
enum Ty {
    U64,
    Bool,
    Str,
    Phase,
    /// Declared enum, by index.
    Enum(usize),
    /// Declared newtype, by index.
    Newtype(usize),
    /// Declared record, by index.
    Record(usize),
    Option(Box<Ty>),
    Seq(Box<Ty>),
    Set(Box<Ty>),
    Map(Box<Ty>, Box<Ty>),
}

/// What a spec declares, as the generator needs it while writing expressions.
struct Decls {
    /// Variant counts of the enums `E0`, `E1`, ...; variants are `V0`, `V1`, ...
    enums: Vec<usize>,
    /// Inner types of the newtypes `N0`, `N1`, ... (`u64` or `String`).
    newtypes: Vec<Ty>,
    /// Fields `(name, type)` of the records `R0`, `R1`, ...
    records: Vec<Vec<(String, Ty)>>,
    /// Phase names, the first initial; the terminal ones listed in `terminal`.
    phases: Vec<String>,
    terminal: Vec<bool>,
    /// Helpers `(name, parameter types, result type)`.
    helpers: Vec<(String, Vec<Ty>, Ty)>,
    /// Named guards.
    guards: Vec<String>,
    /// Effects `(name, fields)`.
    effects: Vec<(String, Vec<(String, Ty)>)>,
}

/// Where an expression stands.
#[derive(Clone, Default)]
struct Scope {
    /// Readable names and their types, innermost last.
    vars: Vec<(String, Ty)>,
    /// Helpers callable here: those declared before the one being written.
    helpers: usize,
    /// Whether named guards are readable (not inside guards and helpers).
    guards: bool,
}

/// Writes one spec.
struct Writer {
    rng: Rng,
    decls: Decls,
    /// A counter for fresh local names.
    fresh: usize,
}

/// How `ty` is written in a spec.
fn type_text(ty: &Ty) -> String {
    match ty {
        Ty::U64 => "u64".into(),
        Ty::Bool => "bool".into(),
        Ty::Str => "String".into(),
        Ty::Phase => "Phase".into(),
        Ty::Enum(i) => format!("E{i}"),
        Ty::Newtype(i) => format!("N{i}"),
        Ty::Record(i) => format!("R{i}"),
        Ty::Option(t) => format!("Option<{}>", type_text(t)),
        Ty::Seq(t) => format!("Seq<{}>", type_text(t)),
        Ty::Set(t) => format!("Set<{}>", type_text(t)),
        Ty::Map(k, v) => format!("Map<{}, {}>", type_text(k), type_text(v)),
    }
}

impl Writer {
    /// A scalar type: what map keys, set elements and payload fields mostly are.
    fn scalar(&mut self) -> Ty {
        let mut options = vec![Ty::U64, Ty::U64, Ty::Bool, Ty::Str];
        options.extend((0..self.decls.enums.len()).map(Ty::Enum));
        options.extend((0..self.decls.newtypes.len()).map(Ty::Newtype));
        self.rng.pick(&options).clone()
    }

    /// Any type, nested at most `depth` more levels.
    fn any_type(&mut self, depth: usize) -> Ty {
        if depth == 0 || self.rng.chance(45) {
            if !self.decls.records.is_empty() && self.rng.chance(15) {
                return Ty::Record(self.rng.below(self.decls.records.len()));
            }
            return self.scalar();
        }
        match self.rng.below(4) {
            0 => Ty::Option(Box::new(self.any_type(depth - 1))),
            1 => Ty::Seq(Box::new(self.any_type(depth - 1))),
            2 => Ty::Set(Box::new(self.scalar())),
            _ => {
                let key = self.scalar();
                Ty::Map(Box::new(key), Box::new(self.any_type(depth - 1)))
            }
        }
    }

    /// A constant of `ty`: what initial values are made of.
    fn constant(&mut self, ty: &Ty) -> String {
        match ty {
            Ty::U64 => self.rng.below(4).to_string(),
            Ty::Bool => if self.rng.chance(50) { "true" } else { "false" }.into(),
            Ty::Str => self.rng.pick(&["\"a\"", "\"b\"", "\"\""]).to_string(),
            Ty::Phase => self.decls.phases[0].clone(),
            Ty::Enum(i) => format!("E{i}::V{}", self.rng.below(self.decls.enums[*i])),
            Ty::Newtype(i) => {
                let inner = self.decls.newtypes[*i].clone();
                format!("N{i}({})", self.constant(&inner))
            }
            Ty::Record(i) => {
                let fields = self.decls.records[*i].clone();
                let fields: Vec<String> =
                    fields.iter().map(|(name, ty)| format!("{name}: {}", self.constant(ty))).collect();
                format!("R{i} {{ {} }}", fields.join(", "))
            }
            Ty::Option(t) => {
                if self.rng.chance(50) {
                    "None".into()
                } else {
                    format!("Some({})", self.constant(t))
                }
            }
            Ty::Seq(t) => {
                if self.rng.chance(40) {
                    "[]".into()
                } else {
                    format!("[{}, {}]", self.constant(t), self.constant(t))
                }
            }
            Ty::Set(t) => {
                if self.rng.chance(50) {
                    "[]".into()
                } else {
                    format!("[{}]", self.constant(t))
                }
            }
            Ty::Map(k, v) => {
                if self.rng.chance(50) {
                    "[:]".into()
                } else {
                    format!("[{}: {}]", self.constant(k), self.constant(v))
                }
            }
        }
    }

    /// The readable names of type `ty`.
    fn vars_of(scope: &Scope, ty: &Ty) -> Vec<String> {
        scope.vars.iter().filter(|(_, t)| t == ty).map(|(n, _)| n.clone()).collect()
    }

    /// The readable names whose type satisfies `f`, with their types.
    fn vars_where(scope: &Scope, f: impl Fn(&Ty) -> bool) -> Vec<(String, Ty)> {
        scope.vars.iter().filter(|(_, t)| f(t)).cloned().collect()
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    /// An expression of type `ty`, nested at most `depth` more levels.
    fn expr(&mut self, ty: &Ty, scope: &Scope, depth: usize) -> String {
        let vars = Self::vars_of(scope, ty);
        if depth == 0 || self.rng.chance(25) {
            if !vars.is_empty() && self.rng.chance(70) {
                return self.rng.pick(&vars).clone();
            }
            return self.constant(ty);
        }
        let d = depth - 1;
        match ty {
            Ty::U64 => self.u64_expr(scope, d),
            Ty::Bool => self.bool_expr(scope, d),
            _ => self.other_expr(ty, scope, d, &vars),
        }
    }

    fn u64_expr(&mut self, scope: &Scope, d: usize) -> String {
        match self.rng.below(11) {
            0..=2 => {
                let op = self.rng.pick(&["+", "-", "*", "/", "%", "+"]).to_string();
                format!("({} {op} {})", self.expr(&Ty::U64, scope, d), self.expr(&Ty::U64, scope, d))
            }
            3 => {
                let sized = Self::vars_where(scope, |t| matches!(t, Ty::Str | Ty::Seq(_) | Ty::Set(_) | Ty::Map(..)));
                match sized.is_empty() {
                    true => self.constant(&Ty::U64),
                    false => format!("{}.len()", self.rng.pick(&sized).0),
                }
            }
            4 => {
                let m = self.rng.pick(&["min", "max"]).to_string();
                format!("({}).{m}({})", self.expr(&Ty::U64, scope, d), self.expr(&Ty::U64, scope, d))
            }
            5 => format!(
                "(if {} {{ {} }} else {{ {} }})",
                self.bool_expr(scope, d),
                self.expr(&Ty::U64, scope, d),
                self.expr(&Ty::U64, scope, d)
            ),
            6 => {
                let options = Self::vars_where(scope, |t| matches!(t, Ty::Option(inner) if **inner == Ty::U64));
                match options.is_empty() {
                    true => self.constant(&Ty::U64),
                    false => {
                        let o = self.rng.pick(&options).0.clone();
                        format!("{o}.unwrap_or({})", self.expr(&Ty::U64, scope, d))
                    }
                }
            }
            7 => self.call(&Ty::U64, scope, d),
            8 => {
                // A projection: a newtype's `.0` or a record's field.
                let newtypes: Vec<String> = (0..self.decls.newtypes.len())
                    .filter(|i| self.decls.newtypes[*i] == Ty::U64)
                    .flat_map(|i| Self::vars_of(scope, &Ty::Newtype(i)))
                    .map(|n| format!("{n}.0"))
                    .collect();
                let mut fields = newtypes;
                for (i, record) in self.decls.records.iter().enumerate() {
                    for (name, t) in record {
                        if *t == Ty::U64 {
                            fields.extend(
                                Self::vars_of(scope, &Ty::Record(i)).into_iter().map(|r| format!("{r}.{name}")),
                            );
                        }
                    }
                }
                match fields.is_empty() {
                    true => self.constant(&Ty::U64),
                    false => self.rng.pick(&fields).clone(),
                }
            }
            9 => {
                let enums = Self::vars_where(scope, |t| matches!(t, Ty::Enum(_)));
                match enums.first() {
                    None => self.constant(&Ty::U64),
                    Some((name, Ty::Enum(i))) => {
                        let (name, i) = (name.clone(), *i);
                        let variant = self.rng.below(self.decls.enums[i]);
                        format!(
                            "match {name} {{ E{i}::V{variant} => {}, _ => {} }}",
                            self.expr(&Ty::U64, scope, d),
                            self.expr(&Ty::U64, scope, d)
                        )
                    }
                    Some(_) => self.constant(&Ty::U64),
                }
            }
            _ => {
                let collections = Self::vars_where(scope, |t| matches!(t, Ty::Seq(_) | Ty::Set(_) | Ty::Map(..)));
                match collections.is_empty() {
                    true => self.constant(&Ty::U64),
                    false => {
                        let (name, t) = self.rng.pick(&collections).clone();
                        let closure = self.closure(&t, scope, d);
                        format!("{name}.count({closure})")
                    }
                }
            }
        }
    }

    /// A closure over the elements (or entries) of collection type `t`: `|c| condition`.
    fn closure(&mut self, t: &Ty, scope: &Scope, d: usize) -> String {
        let mut inner = scope.clone();
        match t {
            Ty::Map(k, v) => {
                let (a, b) = (self.fresh("ck"), self.fresh("cv"));
                inner.vars.push((a.clone(), (**k).clone()));
                inner.vars.push((b.clone(), (**v).clone()));
                format!("|{a}, {b}| {}", self.bool_expr(&inner, d))
            }
            Ty::Seq(e) | Ty::Set(e) => {
                let a = self.fresh("c");
                inner.vars.push((a.clone(), (**e).clone()));
                format!("|{a}| {}", self.bool_expr(&inner, d))
            }
            _ => "|c| true".into(),
        }
    }

    fn bool_expr(&mut self, scope: &Scope, d: usize) -> String {
        match self.rng.below(11) {
            0 | 1 => {
                // Equality of any readable value with an expression of its type.
                let (name, t) = self.rng.pick(&scope.vars).clone();
                let op = self.rng.pick(&["==", "!="]).to_string();
                format!("({name} {op} {})", self.expr(&t, scope, d))
            }
            2 => {
                let op = self.rng.pick(&["<", "<=", ">", ">="]).to_string();
                format!("({} {op} {})", self.expr(&Ty::U64, scope, d), self.expr(&Ty::U64, scope, d))
            }
            3 => {
                let op = self.rng.pick(&["&&", "||"]).to_string();
                format!("({} {op} {})", self.expr(&Ty::Bool, scope, d), self.expr(&Ty::Bool, scope, d))
            }
            4 => format!("!({})", self.expr(&Ty::Bool, scope, d)),
            5 => {
                let options = Self::vars_where(scope, |t| matches!(t, Ty::Option(_)));
                match options.is_empty() {
                    true => self.constant(&Ty::Bool),
                    false => {
                        let m = self.rng.pick(&["is_some", "is_none"]).to_string();
                        format!("{}.{m}()", self.rng.pick(&options).0)
                    }
                }
            }
            6 => {
                let collections = Self::vars_where(scope, |t| matches!(t, Ty::Seq(_) | Ty::Set(_) | Ty::Map(..)));
                match collections.is_empty() {
                    true => self.constant(&Ty::Bool),
                    false => {
                        let (name, t) = self.rng.pick(&collections).clone();
                        match &t {
                            Ty::Map(k, _) => format!("{name}.contains_key({})", self.expr(k, scope, d)),
                            Ty::Seq(e) | Ty::Set(e) => format!("{name}.contains({})", self.expr(e, scope, d)),
                            _ => self.constant(&Ty::Bool),
                        }
                    }
                }
            }
            7 => {
                let collections = Self::vars_where(scope, |t| matches!(t, Ty::Seq(_) | Ty::Set(_) | Ty::Map(..)));
                match collections.is_empty() {
                    true => self.constant(&Ty::Bool),
                    false => {
                        let (name, t) = self.rng.pick(&collections).clone();
                        let m = self.rng.pick(&["all", "any"]).to_string();
                        let closure = self.closure(&t, scope, d);
                        format!("{name}.{m}({closure})")
                    }
                }
            }
            8 if scope.guards && !self.decls.guards.is_empty() => {
                let g = self.rng.pick(&self.decls.guards).clone();
                if self.rng.chance(50) { g } else { format!("!{g}") }
            }
            8 => self.call(&Ty::Bool, scope, d),
            9 => {
                let p = self.rng.pick(&self.decls.phases).clone();
                format!("(phase == {p})")
            }
            _ => self.call(&Ty::Bool, scope, d),
        }
    }

    /// Values of the other types: a readable name, a constructor, a lookup or a conditional.
    fn other_expr(&mut self, ty: &Ty, scope: &Scope, d: usize, vars: &[String]) -> String {
        if !vars.is_empty() && self.rng.chance(40) {
            return self.rng.pick(vars).clone();
        }
        if self.rng.chance(15) {
            return format!(
                "(if {} {{ {} }} else {{ {} }})",
                self.bool_expr(scope, d),
                self.expr(ty, scope, d),
                self.expr(ty, scope, d)
            );
        }
        if self.rng.chance(15) {
            return self.call(ty, scope, d);
        }
        match ty {
            Ty::Newtype(i) => {
                let inner = self.decls.newtypes[*i].clone();
                format!("N{i}({})", self.expr(&inner, scope, d))
            }
            Ty::Record(i) => {
                let fields = self.decls.records[*i].clone();
                let fields: Vec<String> =
                    fields.iter().map(|(name, t)| format!("{name}: {}", self.expr(t, scope, d))).collect();
                format!("R{i} {{ {} }}", fields.join(", "))
            }
            Ty::Option(t) => {
                let lookups: Vec<String> = scope
                    .vars
                    .iter()
                    .filter_map(|(name, vt)| match vt {
                        Ty::Seq(e) if **e == **t => Some(format!("{name}.first()")),
                        Ty::Map(k, v) if **v == **t && **k == Ty::U64 => Some(format!("{name}.get(0)")),
                        _ => None,
                    })
                    .collect();
                if !lookups.is_empty() && self.rng.chance(40) {
                    return self.rng.pick(&lookups).clone();
                }
                if self.rng.chance(30) { "None".into() } else { format!("Some({})", self.expr(t, scope, d)) }
            }
            Ty::Seq(t) => format!("[{}]", self.expr(t, scope, d)),
            Ty::Set(t) => {
                let sets = Self::vars_of(scope, ty);
                if !sets.is_empty() && self.rng.chance(40) {
                    let m = self.rng.pick(&["union", "intersection", "difference"]).to_string();
                    format!("{}.{m}({})", self.rng.pick(&sets), self.expr(ty, scope, d))
                } else {
                    format!("[{}]", self.expr(t, scope, d))
                }
            }
            Ty::Map(k, v) => format!("[{}: {}]", self.expr(k, scope, d), self.expr(v, scope, d)),
            _ => self.constant(ty),
        }
    }

    /// A call of a helper returning `ty`, or a constant when there is none in scope.
    fn call(&mut self, ty: &Ty, scope: &Scope, d: usize) -> String {
        let callable: Vec<usize> = (0..scope.helpers).filter(|h| self.decls.helpers[*h].2 == *ty).collect();
        if callable.is_empty() {
            return self.constant(ty);
        }
        let h = *self.rng.pick(&callable);
        let (name, params, _) = self.decls.helpers[h].clone();
        let args: Vec<String> = params.iter().map(|p| self.expr(p, scope, d)).collect();
        format!("{name}({})", args.join(", "))
    }

    /// Statements of a transition body, `indent` deep, writing state fields `fields`.
    fn body(
        &mut self,
        scope: &Scope,
        fields: &[(String, Ty)],
        statements: usize,
        depth: usize,
        indent: usize,
    ) -> String {
        let pad = " ".repeat(indent);
        let mut scope = scope.clone();
        let mut out = String::new();
        for _ in 0..statements {
            let line = match self.rng.below(10) {
                0..=2 => self.assignment(&scope, fields),
                3 => {
                    let numbers: Vec<&(String, Ty)> = fields.iter().filter(|(_, t)| *t == Ty::U64).collect();
                    match numbers.is_empty() {
                        true => "self.touched += 1;".to_string(),
                        false => {
                            let name = self.rng.pick(&numbers).0.clone();
                            let op = self.rng.pick(&["+=", "-="]).to_string();
                            format!("self.{name} {op} {};", self.expr(&Ty::U64, &scope, 1))
                        }
                    }
                }
                4 => self.collection_update(&scope, fields),
                5 => {
                    let t = self.any_type(1);
                    let name = self.fresh("l");
                    let line = format!("let {name}: {} = {};", type_text(&t), self.expr(&t, &scope, 2));
                    scope.vars.push((name, t));
                    line
                }
                6 if depth > 0 => {
                    let (then_len, else_len) = (self.rng.between(1, 2), self.rng.between(0, 2));
                    let then = self.body(&scope, fields, then_len, depth - 1, indent + 4);
                    let otherwise = self.body(&scope, fields, else_len, depth - 1, indent + 4);
                    let condition = self.bool_expr(&scope, 2);
                    if otherwise.is_empty() {
                        format!("if {condition} {{\n{then}{pad}}}")
                    } else {
                        format!("if {condition} {{\n{then}{pad}}} else {{\n{otherwise}{pad}}}")
                    }
                }
                7 if depth > 0 => {
                    let options = Self::vars_where(&scope, |t| matches!(t, Ty::Option(_)));
                    match options.is_empty() {
                        true => "self.touched += 1;".to_string(),
                        false => {
                            let (name, t) = self.rng.pick(&options).clone();
                            let inner = match t {
                                Ty::Option(inner) => *inner,
                                other => other,
                            };
                            let binding = self.fresh("b");
                            let mut inner_scope = scope.clone();
                            inner_scope.vars.push((binding.clone(), inner));
                            let then_len = self.rng.between(1, 2);
                            let then = self.body(&inner_scope, fields, then_len, depth - 1, indent + 4);
                            format!("if let Some({binding}) = {name} {{\n{then}{pad}}}")
                        }
                    }
                }
                8 if !self.decls.effects.is_empty() => {
                    let (name, effect_fields) = self.rng.pick(&self.decls.effects).clone();
                    let values: Vec<String> =
                        effect_fields.iter().map(|(f, t)| format!("{f}: {}", self.expr(t, &scope, 2))).collect();
                    if values.is_empty() {
                        format!("emit {name};")
                    } else {
                        format!("emit {name} {{ {} }};", values.join(", "))
                    }
                }
                _ => self.assignment(&scope, fields),
            };
            out.push_str(&pad);
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    /// An assignment of a whole state field.
    fn assignment(&mut self, scope: &Scope, fields: &[(String, Ty)]) -> String {
        let (name, t) = self.rng.pick(fields).clone();
        format!("self.{name} = {};", self.expr(&t, scope, 2))
    }

    /// A write to part of a collection or record field.
    fn collection_update(&mut self, scope: &Scope, fields: &[(String, Ty)]) -> String {
        let (name, t) = self.rng.pick(fields).clone();
        match &t {
            Ty::Seq(e) => match self.rng.below(4) {
                0 | 1 => format!("self.{name}.push({});", self.expr(e, scope, 1)),
                2 => format!("self.{name}.{}();", self.rng.pick(&["pop", "pop_front"])),
                _ => format!("self.{name}.clear();"),
            },
            Ty::Set(e) => match self.rng.below(3) {
                0 => format!("self.{name}.insert({});", self.expr(e, scope, 1)),
                1 => format!("self.{name}.remove({});", self.expr(e, scope, 1)),
                _ => format!("self.{name}.clear();"),
            },
            Ty::Map(k, v) => match self.rng.below(3) {
                0 | 1 => format!("self.{name}.insert({}, {});", self.expr(k, scope, 1), self.expr(v, scope, 1)),
                _ => format!("self.{name}.remove({});", self.expr(k, scope, 1)),
            },
            Ty::Record(i) => {
                let (field, ft) = self.rng.pick(&self.decls.records[*i]).clone();
                format!("self.{name}.{field} = {};", self.expr(&ft, scope, 1))
            }
            Ty::Newtype(i) => {
                let inner = self.decls.newtypes[*i].clone();
                format!("self.{name}.0 = {};", self.expr(&inner, scope, 1))
            }
            _ => "self.touched += 1;".to_string(),
        }
    }
}

/// The spec of machine `name` drawn from `seed`.
pub fn spec(name: &str, seed: u64) -> String {
    let mut w = Writer {
        rng: Rng(seed),
        decls: Decls {
            enums: Vec::new(),
            newtypes: Vec::new(),
            records: Vec::new(),
            phases: Vec::new(),
            terminal: Vec::new(),
            helpers: Vec::new(),
            guards: Vec::new(),
            effects: Vec::new(),
        },
        fresh: 0,
    };
    let mut out = format!("machine {name} {{\n");

    // Types.
    for i in 0..w.rng.between(0, 2) {
        let variants = w.rng.between(1, 4);
        w.decls.enums.push(variants);
        let names: Vec<String> = (0..variants).map(|v| format!("V{v}")).collect();
        out.push_str(&format!("    enum E{i} {{ {} }}\n", names.join(", ")));
    }
    for i in 0..w.rng.between(0, 2) {
        let inner = if w.rng.chance(60) { Ty::U64 } else { Ty::Str };
        out.push_str(&format!("    newtype N{i}({})\n", type_text(&inner)));
        w.decls.newtypes.push(inner);
    }
    for i in 0..w.rng.between(0, 2) {
        let fields: Vec<(String, Ty)> = (0..w.rng.between(1, 3)).map(|f| (format!("r{i}f{f}"), w.scalar())).collect();
        let text: Vec<String> = fields.iter().map(|(n, t)| format!("{n}: {}", type_text(t))).collect();
        out.push_str(&format!("    record R{i} {{ {} }}\n", text.join(", ")));
        w.decls.records.push(fields);
    }

    // Phases: the first initial, the last terminal sometimes (never the only one).
    let phases = w.rng.between(1, 5);
    let last_terminal = phases > 1 && w.rng.chance(40);
    for p in 0..phases {
        w.decls.phases.push(format!("P{p}"));
        w.decls.terminal.push(last_terminal && p + 1 == phases);
    }
    let listed: Vec<String> = (0..phases)
        .map(|p| match (p, w.decls.terminal[p]) {
            (0, _) => format!("initial P{p}"),
            (_, true) => format!("terminal P{p}"),
            _ => format!("P{p}"),
        })
        .collect();
    out.push_str(&format!("    phases {{ {} }}\n", listed.join(", ")));

    // State: `touched` always, then fields of random types.
    let mut fields: Vec<(String, Ty)> = vec![("touched".into(), Ty::U64)];
    let mut inits: Vec<String> = vec!["0".into()];
    for f in 0..w.rng.between(1, 6) {
        let t = w.any_type(2);
        inits.push(w.constant(&t));
        fields.push((format!("s{f}"), t));
    }
    let state: Vec<String> =
        fields.iter().zip(&inits).map(|((n, t), init)| format!("{n}: {} = {init}", type_text(t))).collect();
    out.push_str(&format!("    state {{ {} }}\n", state.join(", ")));
    let state_scope = Scope { vars: fields.clone(), helpers: 0, guards: false };
    let mut phase_scope = state_scope.clone();
    phase_scope.vars.push(("phase".into(), Ty::Phase));

    // Helpers, each calling only earlier ones.
    for h in 0..w.rng.between(0, 3) {
        let params: Vec<Ty> = (0..w.rng.between(0, 2)).map(|_| w.scalar()).collect();
        let result = if w.rng.chance(60) { Ty::U64 } else { Ty::Bool };
        let mut scope = phase_scope.clone();
        scope.helpers = h;
        let names: Vec<String> = params
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let name = format!("h{h}a{i}");
                scope.vars.push((name.clone(), t.clone()));
                format!("{name}: {}", type_text(t))
            })
            .collect();
        let body = w.expr(&result, &scope, 3);
        out.push_str(&format!("    fn h{h}({}) -> {} {{ {body} }}\n", names.join(", "), type_text(&result)));
        w.decls.helpers.push((format!("h{h}"), params, result));
    }
    let helpers = w.decls.helpers.len();

    // Guards over the state.
    for g in 0..w.rng.between(0, 2) {
        let mut scope = phase_scope.clone();
        scope.helpers = helpers;
        let condition = w.bool_expr(&scope, 2);
        out.push_str(&format!("    guard g{g} = {condition}\n"));
        w.decls.guards.push(format!("g{g}"));
    }

    // Effects.
    for e in 0..w.rng.between(0, 2) {
        let effect_fields: Vec<(String, Ty)> =
            (0..w.rng.between(0, 2)).map(|f| (format!("e{e}f{f}"), w.any_type(1))).collect();
        let text: Vec<String> = effect_fields.iter().map(|(n, t)| format!("{n}: {}", type_text(t))).collect();
        if text.is_empty() {
            out.push_str(&format!("    effect Ef{e}\n"));
        } else {
            out.push_str(&format!("    effect Ef{e} {{ {} }}\n", text.join(", ")));
        }
        w.decls.effects.push((format!("Ef{e}"), effect_fields));
    }

    // Invariants true in the initial state: bounds on numbers and lengths, and entry-wise map conditions.
    for (name, t) in fields.iter().skip(1) {
        if !w.rng.chance(50) {
            continue;
        }
        match t {
            Ty::U64 => out.push_str(&format!("    invariant inv_{name} = {name} <= {}\n", 5 + w.rng.below(40))),
            Ty::Seq(_) | Ty::Set(_) => {
                out.push_str(&format!("    invariant inv_{name} = {name}.len() <= {}\n", 2 + w.rng.below(6)))
            }
            Ty::Map(_, v) if **v == Ty::U64 => {
                out.push_str(&format!("    invariant inv_{name} = {name}.all(|k, v| v <= {})\n", 4 + w.rng.below(20)))
            }
            _ => {}
        }
    }

    // Inputs and signals, each with one or two transitions.
    let open: Vec<usize> = (0..phases).filter(|p| !w.decls.terminal[*p]).collect();
    let triggers = w.rng.between(1, 4);
    for t in 0..triggers {
        let signal = t > 0 && w.rng.chance(25);
        let name = if signal { format!("Sig{t}") } else { format!("In{t}") };
        let payload: Vec<(String, Ty)> = (0..w.rng.between(0, 2)).map(|f| (format!("i{t}p{f}"), w.scalar())).collect();
        let text: Vec<String> = payload.iter().map(|(n, ty)| format!("{n}: {}", type_text(ty))).collect();
        let kind = if signal { "signal" } else { "input" };
        if text.is_empty() {
            out.push_str(&format!("    {kind} {name}\n"));
        } else {
            out.push_str(&format!("    {kind} {name} {{ {} }}\n", text.join(", ")));
        }
        let mut scope = phase_scope.clone();
        scope.vars.extend(payload);
        scope.vars.push(("source".into(), Ty::Phase));
        scope.helpers = helpers;
        scope.guards = true;

        // Sources: a non-empty subset of the open phases, or `any`.
        let mut sources: Vec<usize> = open.iter().copied().filter(|_| w.rng.chance(60)).collect();
        if sources.is_empty() {
            sources.push(*w.rng.pick(&open));
        }
        let from = if sources.len() == open.len() && w.rng.chance(50) {
            "any".to_string()
        } else {
            sources.iter().map(|p| format!("P{p}")).collect::<Vec<_>>().join(", ")
        };
        let fallback = w.rng.chance(35);
        for (k, is_fallback) in [false, true].into_iter().take(if fallback { 2 } else { 1 }).enumerate() {
            let target = match w.rng.below(4) {
                0 => "stay".to_string(),
                1 => {
                    let condition = w.bool_expr(&scope, 1);
                    format!(
                        "if {condition} {{ {} }} else {{ {} }}",
                        w.rng.pick(&w.decls.phases).clone(),
                        w.rng.pick(&w.decls.phases).clone()
                    )
                }
                _ => w.rng.pick(&w.decls.phases).clone(),
            };
            let guard = if is_fallback {
                " otherwise".to_string()
            } else if fallback || w.rng.chance(60) {
                let conditions: Vec<String> = (0..w.rng.between(1, 2)).map(|_| w.bool_expr(&scope, 2)).collect();
                format!(" when {}", conditions.join(", "))
            } else {
                String::new()
            };
            let statements = w.rng.between(0, 4);
            let body = w.body(&scope, &fields, statements, 2, 8);
            out.push_str(&format!(
                "    transition T{t}x{k} on {name} from {from} -> {target}{guard} {{\n{body}    }}\n"
            ));
        }
    }
    out.push_str("    model { depth = 3; domain u64 = 0..=3; domain String = [\"a\", \"\"] }\n}\n");
    out
}

/// `count` specs from `seed` on: `(file stem, text)`, machines `Rand<seed>`.
pub fn specs(seed: u64, count: u64) -> Vec<(String, String)> {
    (seed..seed + count).map(|s| (format!("rand_{s}"), spec(&format!("Rand{s}"), s))).collect()
}
