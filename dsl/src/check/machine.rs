//! The per-machine checker, [`MachineChecker`], and its run order: it collects declarations into name tables
//! (reporting duplicates and missing blocks), resolves types (`types`) and signatures, then checks every body in
//! dependency order (`expr`, `stmt`, `transitions`) and assembles the IR. The other files of `check/` add the
//! checker's methods for one concern each.

use crate::ast::{self, MachineItem, MessageKind, PhaseKind};
use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::{
    self, EffectId, FieldId, GuardId, HelperId, InputId, InvariantId, PhaseId, SignalId, TransitionId, Trigger, Type,
    TypeId,
};
use crate::span::{SourceId, Span};

use super::body::{Body, Ctx, Node};
use super::names::Namespace;

/// What a bare name at machine level refers to. State fields, named guards and the phase field share this
/// namespace, because all three are read by bare name in expressions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    /// A state field.
    Field(FieldId),
    /// A named guard.
    Guard(GuardId),
    /// The phase field.
    Phase,
}

/// Checks one machine. Holds the name tables and the IR under construction.
pub(crate) struct MachineChecker<'a> {
    pub(crate) source: SourceId,
    /// The file's text, for quoting source in labels.
    pub(crate) text: &'a str,
    pub(crate) ast: &'a ast::Machine,
    pub(crate) diags: Vec<Diagnostic>,
    pub(crate) types: Namespace<TypeId>,
    pub(crate) phases: Namespace<PhaseId>,
    pub(crate) values: Namespace<Value>,
    pub(crate) triggers: Namespace<Trigger>,
    pub(crate) effects: Namespace<EffectId>,
    pub(crate) helpers: Namespace<HelperId>,
    pub(crate) invariants: Namespace<InvariantId>,
    pub(crate) transitions: Namespace<TransitionId>,
    /// Helper signatures; `None` where a parameter or result type failed to resolve.
    pub(crate) helper_sigs: Vec<Option<(Vec<Type>, Type)>>,
    /// Dependency edges between helpers and guards: (from, to, where the reference is written).
    pub(crate) calls: Vec<(Node, Node, Span)>,
    /// Map key types met while resolving types, checked once every declared type is complete.
    pub(crate) map_keys: Vec<(Type, Span)>,
    /// The depth of each declared type, measured once all are declared (`type_depth`).
    pub(crate) named_depths: Vec<super::type_depth::NamedDepth>,
    /// The machine being built.
    pub(crate) m: ir::Machine,
}

/// Checks a machine, returning its IR (complete only when no error was reported) and its diagnostics.
pub(crate) fn check_machine(machine: &ast::Machine, source: SourceId, text: &str) -> (ir::Machine, Vec<Diagnostic>) {
    let mut checker = MachineChecker::new(machine, source, text);
    checker.run();
    (checker.m, checker.diags)
}

impl<'a> MachineChecker<'a> {
    fn new(ast: &'a ast::Machine, source: SourceId, text: &'a str) -> Self {
        MachineChecker {
            source,
            text,
            ast,
            diags: Vec::new(),
            types: Namespace::new("type"),
            phases: Namespace::new("phase"),
            values: Namespace::new("name"),
            triggers: Namespace::new("input or signal"),
            effects: Namespace::new("effect"),
            helpers: Namespace::new("helper"),
            invariants: Namespace::new("invariant"),
            transitions: Namespace::new("transition"),
            helper_sigs: Vec::new(),
            calls: Vec::new(),
            map_keys: Vec::new(),
            named_depths: Vec::new(),
            m: ir::Machine {
                name: ast.name.name.clone(),
                docs: ast.docs.text(),
                source,
                span: ast.span,
                types: Vec::new(),
                phases: Vec::new(),
                initial_phase: PhaseId(0),
                phase_field: "phase".to_string(),
                fields: Vec::new(),
                inputs: Vec::new(),
                signals: Vec::new(),
                effects: Vec::new(),
                helpers: Vec::new(),
                guards: Vec::new(),
                invariants: Vec::new(),
                transitions: Vec::new(),
                model: ir::Model::default(),
                by_trigger: ir::TriggerIndex::default(),
            },
        }
    }

    /// Items of one kind, in source order.
    fn items<T>(&self, pick: impl Fn(&'a MachineItem) -> Option<&'a T>) -> Vec<&'a T> {
        self.ast.items.iter().filter_map(pick).collect()
    }

    fn run(&mut self) {
        self.check_reserved_names();
        self.declare_phases();
        self.declare_types();
        self.declare_state();
        self.declare_messages();
        self.declare_helpers();
        self.declare_guards_and_invariants();

        self.check_state_inits();
        self.check_effect_defaults();
        self.check_helper_bodies();
        self.check_guard_bodies();
        self.check_invariant_bodies();
        self.report_helper_cycles();
        self.check_transitions();
        self.check_model();
        self.check_map_keys();
    }

    fn declare_phases(&mut self) {
        let blocks = self.items(|i| if let MachineItem::Phases(p) = i { Some(p) } else { None });
        let Some(first) = blocks.first() else {
            self.diags.push(
                Diagnostic::new(
                    Code::MissingPhases,
                    self.source,
                    format!("machine `{}` has no phases", self.ast.name.name),
                    Label::new(self.ast.name.span, "declared without a `phases` block"),
                )
                .with_help("add `phases { initial Start, ... }` with exactly one initial phase"),
            );
            return;
        };
        for extra in &blocks[1..] {
            self.diags.push(
                Diagnostic::new(
                    Code::DuplicateBlock,
                    self.source,
                    "a machine has one `phases` block",
                    Label::new(extra.span, "second `phases` block"),
                )
                .with_label(first.span, "first `phases` block")
                .with_help("list every phase in the first block"),
            );
        }
        if let Some(field) = &first.field {
            self.m.phase_field = field.name.clone();
        }
        let phase_field_span = first.field.as_ref().map_or(first.span, |f| f.span);
        let phase_field = ast::Ident { name: self.m.phase_field.clone(), span: phase_field_span };
        self.values.declare(&phase_field, Value::Phase, self.source, &mut self.diags);

        let mut initial: Vec<(PhaseId, Span)> = Vec::new();
        for phase in &first.phases {
            let id = PhaseId(self.m.phases.len() as u32);
            if self.phases.contains(&phase.name.name) {
                self.phases.declare(&phase.name, id, self.source, &mut self.diags);
                continue;
            }
            if phase.name.name == "any" || phase.name.name == "stay" {
                continue;
            }
            self.phases.declare(&phase.name, id, self.source, &mut self.diags);
            if phase.kind == PhaseKind::Initial {
                initial.push((id, phase.kind_span.unwrap_or(phase.name.span)));
            }
            self.m.phases.push(ir::Phase {
                name: phase.name.name.clone(),
                docs: phase.docs.text(),
                terminal: phase.kind == PhaseKind::Terminal,
                span: phase.name.span,
            });
        }
        match initial.as_slice() {
            [] => self.diags.push(
                Diagnostic::new(
                    Code::MissingPhases,
                    self.source,
                    "no phase is marked `initial`",
                    Label::new(first.span, "one of these phases must be the initial one"),
                )
                .with_help(format!(
                    "mark the starting phase: `initial {}`",
                    first.phases.first().map_or("Start", |p| p.name.name.as_str())
                )),
            ),
            [(id, _)] => self.m.initial_phase = *id,
            [(first_id, first_span), rest @ ..] => {
                self.m.initial_phase = *first_id;
                for (_, span) in rest {
                    self.diags.push(
                        Diagnostic::new(
                            Code::MissingPhases,
                            self.source,
                            "more than one phase is marked `initial`",
                            Label::new(*span, "second initial phase"),
                        )
                        .with_label(*first_span, "first initial phase")
                        .with_help("a machine starts in exactly one phase; remove one `initial`"),
                    );
                }
            }
        }
    }

    /// Constants carry no locals table in the IR, so a constant may not bind any (closures, `let`, patterns).
    pub(crate) fn constant_without_locals(&mut self, body: &Body, span: Span) -> bool {
        if body.locals.is_empty() {
            return true;
        }
        self.diags.push(
            Diagnostic::new(
                Code::NotConstant,
                self.source,
                "a constant cannot bind names",
                Label::new(span, "uses a closure or a pattern binding"),
            )
            .with_help("write the value out: constants are literals and constructors"),
        );
        false
    }

    pub(crate) fn default_not_allowed(&mut self, span: Span, what: &str) {
        self.diags.push(
            Diagnostic::new(
                Code::DefaultNotAllowed,
                self.source,
                format!("{what} cannot have a default value"),
                Label::new(span, "default value here"),
            )
            .with_help("only effect fields have defaults (used by `emit` when the field is not listed); state fields have initial values"),
        );
    }

    fn declare_state(&mut self) {
        let blocks = self.items(|i| if let MachineItem::State(s) = i { Some(s) } else { None });
        for block in blocks {
            for field in &block.fields {
                let id = FieldId(self.m.fields.len() as u32);
                if self.values.contains(&field.name.name) {
                    self.values.declare(&field.name, Value::Field(id), self.source, &mut self.diags);
                    continue;
                }
                let Some(ty) = self.resolve_type(&field.ty) else { continue };
                if field.default.is_none() {
                    self.diags.push(
                        Diagnostic::new(
                            Code::MissingInitialValue,
                            self.source,
                            format!("state field `{}` has no initial value", field.name.name),
                            Label::new(field.span, "needs `= value`"),
                        )
                        .with_help(format!(
                            "every state field starts with a value: `{}: {} = ...`",
                            field.name.name,
                            self.m.type_name(&ty)
                        )),
                    );
                    continue;
                }
                self.values.declare(&field.name, Value::Field(id), self.source, &mut self.diags);
                self.m.fields.push(ir::StateField {
                    name: field.name.name.clone(),
                    docs: field.docs.text(),
                    ty,
                    init: placeholder(field.span),
                    span: field.span,
                });
            }
        }
    }

    fn declare_messages(&mut self) {
        let messages = self.items(|i| if let MachineItem::Message(m) = i { Some(m) } else { None });
        for message in messages {
            for (modifier, span) in [("internal", message.internal), ("pure", message.pure_)] {
                if let Some(span) = span {
                    if message.kind != MessageKind::Input {
                        self.diags.push(
                            Diagnostic::new(
                                Code::InvalidModifier,
                                self.source,
                                format!("`{modifier}` applies to inputs only"),
                                Label::new(span, format!("`{modifier}` on {}", with_article(message.kind))),
                            )
                            .with_help(format!("remove `{modifier}`")),
                        );
                    }
                }
            }
            let mut seen: Namespace<u32> = Namespace::new("payload field");
            let mut fields = Vec::new();
            for field in &message.fields {
                if field.default.is_some() && message.kind != MessageKind::Effect {
                    if let Some(d) = &field.default {
                        self.default_not_allowed(d.span, &format!("{} fields", kind_name(message.kind)));
                    }
                }
                if seen.contains(&field.name.name) {
                    seen.declare(&field.name, 0, self.source, &mut self.diags);
                    continue;
                }
                seen.declare(&field.name, fields.len() as u32, self.source, &mut self.diags);
                let ty = self.resolve_type(&field.ty).unwrap_or(Type::Bool);
                fields.push(ir::MessageField {
                    name: field.name.name.clone(),
                    docs: field.docs.text(),
                    ty,
                    default: None,
                });
            }
            let ir_message = ir::Message {
                name: message.name.name.clone(),
                docs: message.docs.text(),
                fields,
                internal: message.internal.is_some() && message.kind == MessageKind::Input,
                pure_: message.pure_.is_some() && message.kind == MessageKind::Input,
                span: message.span,
            };
            match message.kind {
                MessageKind::Input => {
                    let id = Trigger::Input(InputId(self.m.inputs.len() as u32));
                    if !self.triggers.contains(&message.name.name) {
                        self.m.inputs.push(ir_message);
                    }
                    self.triggers.declare(&message.name, id, self.source, &mut self.diags);
                }
                MessageKind::Signal => {
                    let id = Trigger::Signal(SignalId(self.m.signals.len() as u32));
                    if !self.triggers.contains(&message.name.name) {
                        self.m.signals.push(ir_message);
                    }
                    self.triggers.declare(&message.name, id, self.source, &mut self.diags);
                }
                MessageKind::Effect => {
                    let id = EffectId(self.m.effects.len() as u32);
                    if !self.effects.contains(&message.name.name) {
                        self.m.effects.push(ir_message);
                    }
                    self.effects.declare(&message.name, id, self.source, &mut self.diags);
                }
            }
        }
    }

    fn declare_helpers(&mut self) {
        let helpers = self.items(|i| if let MachineItem::Helper(h) = i { Some(h) } else { None });
        for helper in helpers {
            if self.helpers.contains(&helper.name.name) {
                self.helpers.declare(&helper.name, HelperId(0), self.source, &mut self.diags);
                continue;
            }
            let id = HelperId(self.m.helpers.len() as u32);
            self.helpers.declare(&helper.name, id, self.source, &mut self.diags);
            let mut seen: Namespace<u32> = Namespace::new("parameter");
            let mut params = Vec::new();
            let mut ok = true;
            for (index, param) in helper.params.iter().enumerate() {
                seen.declare(&param.name, index as u32, self.source, &mut self.diags);
                match self.resolve_type(&param.ty) {
                    Some(ty) => params.push((param.name.name.clone(), ty)),
                    None => ok = false,
                }
            }
            let ret = self.resolve_type(&helper.ret);
            ok &= ret.is_some();
            let ret = ret.unwrap_or(Type::Bool);
            self.helper_sigs.push(ok.then(|| (params.iter().map(|(_, t)| t.clone()).collect(), ret.clone())));
            self.m.helpers.push(ir::Helper {
                name: helper.name.name.clone(),
                docs: helper.docs.text(),
                params,
                ret,
                body: placeholder(helper.span),
                locals: Vec::new(),
                span: helper.span,
            });
        }
    }

    fn declare_guards_and_invariants(&mut self) {
        for item in &self.ast.items {
            match item {
                MachineItem::Guard(g) => {
                    let id = GuardId(self.m.guards.len() as u32);
                    if self.values.contains(&g.name.name) {
                        self.values.declare(&g.name, Value::Guard(id), self.source, &mut self.diags);
                        continue;
                    }
                    self.values.declare(&g.name, Value::Guard(id), self.source, &mut self.diags);
                    self.m.guards.push(ir::Guard {
                        name: g.name.name.clone(),
                        docs: g.docs.text(),
                        expr: placeholder(g.span),
                        locals: Vec::new(),
                        span: g.span,
                    });
                }
                MachineItem::Invariant(inv) => {
                    let id = InvariantId(self.m.invariants.len() as u32);
                    if self.invariants.contains(&inv.name.name) {
                        self.invariants.declare(&inv.name, id, self.source, &mut self.diags);
                        continue;
                    }
                    self.invariants.declare(&inv.name, id, self.source, &mut self.diags);
                    self.m.invariants.push(ir::Invariant {
                        name: inv.name.name.clone(),
                        docs: inv.docs.text(),
                        expr: placeholder(inv.span),
                        locals: Vec::new(),
                        span: inv.span,
                    });
                }
                _ => {}
            }
        }
    }

    fn check_state_inits(&mut self) {
        let blocks = self.items(|i| if let MachineItem::State(s) = i { Some(s) } else { None });
        for field in blocks.iter().flat_map(|b| &b.fields) {
            let Some(Value::Field(id)) = self.values.get(&field.name.name) else { continue };
            if self.values.span_of(&field.name.name) != Some(field.name.span) {
                continue;
            }
            let Some(init) = &field.default else { continue };
            let ty = self.m.fields[id.index()].ty.clone();
            let mut body = Body::new(Ctx::Const, Node::Other);
            if let Ok(expr) = self.check_expr(&mut body, init, Some(&ty)) {
                if self.constant_without_locals(&body, init.span) {
                    self.m.fields[id.index()].init = expr;
                }
            }
        }
    }

    fn check_effect_defaults(&mut self) {
        let messages = self.items(|i| if let MachineItem::Message(m) = i { Some(m) } else { None });
        for message in messages {
            if message.kind != MessageKind::Effect {
                continue;
            }
            let Some(id) = self.effects.get(&message.name.name) else { continue };
            if self.effects.span_of(&message.name.name) != Some(message.name.span) {
                continue;
            }
            for field in &message.fields {
                let Some(default) = &field.default else { continue };
                let Some(index) = self.m.effects[id.index()].fields.iter().position(|f| f.name == field.name.name)
                else {
                    continue;
                };
                let ty = self.m.effects[id.index()].fields[index].ty.clone();
                let mut body = Body::new(Ctx::Machine, Node::Other);
                // A default that fails to check still counts as written, so `emit`s that rely on it do not add
                // a second, misleading "missing field" error.
                self.m.effects[id.index()].fields[index].default = Some(placeholder(default.span));
                if let Ok(expr) = self.check_expr(&mut body, default, Some(&ty)) {
                    if !body.locals.is_empty() {
                        // Defaults are copied into each emit, whose body has its own locals; closures inside a
                        // default would need their locals renumbered there, so keep defaults closure-free.
                        self.diags.push(
                            Diagnostic::new(
                                Code::NotConstant,
                                self.source,
                                "an effect field default cannot bind locals",
                                Label::new(default.span, "uses a closure, `let` or pattern binding"),
                            )
                            .with_help("move the computation into a helper (`fn`) and call it from the default"),
                        );
                    } else {
                        self.m.effects[id.index()].fields[index].default = Some(expr);
                    }
                }
            }
        }
    }

    fn check_helper_bodies(&mut self) {
        let helpers = self.items(|i| if let MachineItem::Helper(h) = i { Some(h) } else { None });
        for helper in helpers {
            let Some(id) = self.helpers.get(&helper.name.name) else { continue };
            if self.helpers.span_of(&helper.name.name) != Some(helper.name.span) {
                continue;
            }
            let Some(Some((_, ret))) = self.helper_sigs.get(id.index()).cloned() else { continue };
            let mut body = Body::new(Ctx::Helper(id), Node::Helper(id));
            if let Ok(expr) = self.check_expr(&mut body, &helper.body, Some(&ret)) {
                self.m.helpers[id.index()].body = expr;
                self.m.helpers[id.index()].locals = body.locals;
            }
        }
    }

    fn check_guard_bodies(&mut self) {
        let guards = self.items(|i| if let MachineItem::Guard(g) = i { Some(g) } else { None });
        for guard in guards {
            let Some(Value::Guard(id)) = self.values.get(&guard.name.name) else { continue };
            if self.values.span_of(&guard.name.name) != Some(guard.name.span) {
                continue;
            }
            let mut body = Body::new(Ctx::Machine, Node::Guard(id));
            if let Ok(expr) = self.check_expr(&mut body, &guard.expr, Some(&Type::Bool)) {
                self.m.guards[id.index()].expr = expr;
                self.m.guards[id.index()].locals = body.locals;
            }
        }
    }

    fn check_invariant_bodies(&mut self) {
        let invariants = self.items(|i| if let MachineItem::Invariant(v) = i { Some(v) } else { None });
        for invariant in invariants {
            let Some(id) = self.invariants.get(&invariant.name.name) else { continue };
            if self.invariants.span_of(&invariant.name.name) != Some(invariant.name.span) {
                continue;
            }
            let mut body = Body::new(Ctx::Machine, Node::Other);
            if let Ok(expr) = self.check_expr(&mut body, &invariant.expr, Some(&Type::Bool)) {
                self.m.invariants[id.index()].expr = expr;
                self.m.invariants[id.index()].locals = body.locals;
            }
        }
    }
}

/// Names that no declaration may use: they are not identifiers in generated Rust (`self`, `Self`, `super`,
/// `crate`, `_`).
const UNUSABLE_NAMES: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Rust's primitive types. Generated data types derive serde's traits, whose expansion names these bare, so a
/// declared type of one of these names would capture them; fields and bindings may still use them.
const RUST_PRIMITIVES: &[&str] = &[
    "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
    "f32", "f64",
];

/// Suffixes of the items generated for a machine `M` (`MState`, `MPhase`, ...); a declared type with one of these
/// names would clash with generated code.
pub(crate) const GENERATED_SUFFIXES: &[&str] = &[
    "State",
    "Phase",
    "Input",
    "Signal",
    "Effect",
    "Effects",
    "Authority",
    "AuthoritySnapshot",
    "Mutator",
    "Transition",
    "TransitionError",
    "GuardRejections",
];

impl MachineChecker<'_> {
    /// Reports declarations whose names cannot be used in generated code.
    fn check_reserved_names(&mut self) {
        let machine = self.ast.name.name.clone();
        let mut reserved: Vec<(ast::Ident, String)> = Vec::new();
        let mut unusable = |ident: &ast::Ident| {
            if UNUSABLE_NAMES.contains(&ident.name.as_str()) {
                reserved.push((ident.clone(), format!("`{}` is not usable as a name", ident.name)));
            }
        };
        unusable(&self.ast.name);
        for item in &self.ast.items {
            match item {
                MachineItem::Enum(e) => {
                    unusable(&e.name);
                    e.variants.iter().for_each(|v| unusable(&v.name));
                }
                MachineItem::Record(r) => {
                    unusable(&r.name);
                    r.fields.iter().for_each(|f| unusable(&f.name));
                }
                MachineItem::Newtype(n) => unusable(&n.name),
                MachineItem::Phases(p) => {
                    p.field.iter().for_each(&mut unusable);
                    p.phases.iter().for_each(|ph| unusable(&ph.name));
                }
                MachineItem::State(s) => s.fields.iter().for_each(|f| unusable(&f.name)),
                MachineItem::Message(m) => {
                    unusable(&m.name);
                    m.fields.iter().for_each(|f| unusable(&f.name));
                }
                MachineItem::Helper(h) => {
                    unusable(&h.name);
                    h.params.iter().for_each(|p| unusable(&p.name));
                }
                MachineItem::Guard(g) => unusable(&g.name),
                MachineItem::Invariant(i) => unusable(&i.name),
                MachineItem::Transition(t) => t.name.iter().for_each(&mut unusable),
                MachineItem::Model(_) => {}
            }
        }
        for item in &self.ast.items {
            let name = match item {
                MachineItem::Enum(e) => &e.name,
                MachineItem::Record(r) => &r.name,
                MachineItem::Newtype(n) => &n.name,
                _ => continue,
            };
            if RUST_PRIMITIVES.contains(&name.name.as_str()) {
                reserved.push((
                    name.clone(),
                    format!("`{}` is a Rust primitive type, which generated code and its derives name", name.name),
                ));
            }
            if let Some(suffix) = GENERATED_SUFFIXES.iter().find(|s| name.name == format!("{machine}{s}")) {
                reserved.push((
                    name.clone(),
                    format!("`{}` is the name of the generated `{suffix}` type of machine `{machine}`", name.name),
                ));
            }
        }
        for (ident, message) in reserved {
            self.diags.push(
                Diagnostic::new(Code::ReservedName, self.source, message, Label::new(ident.span, "reserved name"))
                    .with_help("choose another name"),
            );
        }
    }
}

/// A stand-in expression for IR slots whose real value failed to check (the IR is then never handed out).
pub(crate) fn placeholder(span: Span) -> ir::Expr {
    ir::Expr { kind: ir::ExprKind::Bool(false), ty: Type::Bool, span }
}

/// `input`, `signal` or `effect`.
pub(crate) fn kind_name(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Input => "input",
        MessageKind::Signal => "signal",
        MessageKind::Effect => "effect",
    }
}

/// `an input`, `a signal` or `an effect`.
pub(crate) fn with_article(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Input => "an input",
        MessageKind::Signal => "a signal",
        MessageKind::Effect => "an effect",
    }
}
