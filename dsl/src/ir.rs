//! The checked machine: every name resolved to an index, every expression typed, every transition's sources
//! expanded to a phase list. This is what back ends read (`meerkat-codegen`, the interpreter, the model
//! checker); they never look at the AST and never need to handle an unresolved or ill-typed construct.
//!
//! # Execution semantics
//!
//! This is the one statement of what a machine does; the reference interpreter ([`crate::interp`]) and the
//! generated kernel (`meerkat-codegen`'s Rust back end) both implement it, and differential property tests hold
//! them to each other. The language reference (`docs/language.md`) explains the same rules to spec authors.
//!
//! **Initial state.** The phase is the initial phase; each state field holds its (constant) initial value.
//!
//! **Applying an input or signal.**
//! 1. The candidates are the transitions on the trigger whose `sources` contain the current phase, in declaration
//!    order. No candidate is a `NoMatchingTransition` rejection.
//! 2. The guards of every non-`otherwise` candidate are evaluated against the state before the transition, left
//!    to right, stopping at the first that does not hold. An evaluation error (overflow, division by zero) in any
//!    of them rejects the input at once (`ArithmeticOverflow` for that candidate), even when earlier candidates
//!    already passed: every guard list is evaluated before the outcome is decided.
//! 3. Exactly one passing candidate fires. Two or more is an `AmbiguousTransition` naming the first two. None
//!    fires the `otherwise` candidate if there is one, else it is a `GuardRejected` that lists every candidate
//!    with the label of its first failing guard ([`GuardCheck::label`]).
//! 4. Firing sets the phase to the target (`stay` keeps it; a computed target is evaluated against the pre-state,
//!    after the guards, and an evaluation error rejects the input), then runs the body statement by statement,
//!    each seeing the writes before it. [`ExprKind::Source`] reads the phase fired from; [`ExprKind::Phase`] the
//!    current phase, which is already the target. `emit` evaluates its fields, defaults included, where it
//!    stands; effects are collected in order.
//! 5. Every invariant is checked in declaration order; one that is false or fails to evaluate is an
//!    `InvariantViolated` rejection.
//!
//! **All or nothing.** Any rejection (in dispatch, in the body, in the invariants) leaves the state exactly as it
//! was and emits nothing.
//!
//! **Recovery.** A state restored from storage must fit the machine and satisfy every invariant; the first that
//! does not hold, in declaration order, rejects it.
//!
//! **Evaluation details**, where the order is observable through errors:
//! - `&&` and `||` short-circuit; `if`, `if let` and `match` evaluate only the branch taken.
//! - A method evaluates its receiver, then its arguments, always, as in Rust: `o.unwrap_or(1 / 0)` fails even
//!   when `o` is `Some`. Helper arguments are evaluated left to right before the call.
//! - `xs.all(p)` stops at the first element for which `p` is false, `xs.any(p)` at the first for which it is
//!   true; `count` evaluates `p` for every element. Sets and map keys are visited in ascending order, sequences
//!   in order. An error in an element that is never reached does not happen.
//! - Arithmetic is checked `u64`: overflow, underflow and division by zero are evaluation errors.
//! - A map literal with a repeated key keeps the value written last.
//! - `seq.get(i)` past the end is `None`; `pop` and `pop_front` on an empty sequence do nothing.
//!
//! [`visit`] is the one walker over this IR.

pub mod visit;

pub use crate::ast::BinOp;
use crate::span::{SourceId, Span};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident;)*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
            pub struct $name(pub u32);

            impl $name {
                /// The index as a `usize`.
                pub fn index(self) -> usize {
                    self.0 as usize
                }
            }
        )*
    };
}

id_type! {
    /// A declared enum, record or newtype: an index into [`Machine::types`].
    TypeId;
    /// A phase: an index into [`Machine::phases`].
    PhaseId;
    /// A state field: an index into [`Machine::fields`].
    FieldId;
    /// An input: an index into [`Machine::inputs`].
    InputId;
    /// A signal: an index into [`Machine::signals`].
    SignalId;
    /// An effect: an index into [`Machine::effects`].
    EffectId;
    /// A helper: an index into [`Machine::helpers`].
    HelperId;
    /// A named guard: an index into [`Machine::guards`].
    GuardId;
    /// An invariant: an index into [`Machine::invariants`].
    InvariantId;
    /// A transition: an index into [`Machine::transitions`].
    TransitionId;
    /// A local binding: an index into the owning body's `locals`.
    LocalId;
    /// A machine of a package: an index into [`crate::CheckedPackage::machines`].
    MachineId;
}

/// How many levels of types may enclose a scalar in a checked machine, counted through named types: `u64` is level
/// 0, `Option<u64>` and `record R { x: u64 }` are 1, `Seq<Option<R>>` is 3. Every pass that recurses over a type
/// (checking, the interpreter, the explorer's domains, code generation, and rustc on the generated code) stays
/// within a small stack because the checker refuses deeper types.
pub const MAX_TYPE_DEPTH: usize = 64;

/// A value type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    /// `bool`
    Bool,
    /// `u64`, with checked arithmetic.
    U64,
    /// `String`
    String,
    /// The machine's phase enum, written `Phase`.
    Phase,
    /// A declared enum, record or newtype.
    Named(TypeId),
    /// `Option<T>`
    Option(Box<Type>),
    /// `Set<T>`, ordered.
    Set(Box<Type>),
    /// `Map<K, V>`, ordered by key.
    Map(Box<Type>, Box<Type>),
    /// `Seq<T>`
    Seq(Box<Type>),
}

/// A checked machine.
#[derive(Clone, Debug, PartialEq)]
pub struct Machine {
    /// The machine's name, e.g. `TrafficLight`; generated Rust items use it as their prefix.
    pub name: String,
    /// Doc comment.
    pub docs: Option<String>,
    /// The file it was declared in.
    pub source: SourceId,
    /// The whole declaration.
    pub span: Span,
    /// Declared enums, records and newtypes, in source order.
    pub types: Vec<TypeDecl>,
    /// Phases in declaration order.
    pub phases: Vec<Phase>,
    /// The initial phase.
    pub initial_phase: PhaseId,
    /// The name of the state field that holds the phase (`phase` unless the `phases` block names another).
    pub phase_field: String,
    /// State fields in declaration order (the phase field is not among them).
    pub fields: Vec<StateField>,
    /// Inputs in declaration order.
    pub inputs: Vec<Message>,
    /// Signals in declaration order.
    pub signals: Vec<Message>,
    /// Effects in declaration order.
    pub effects: Vec<Message>,
    /// Helpers in declaration order.
    pub helpers: Vec<Helper>,
    /// Named guards in declaration order.
    pub guards: Vec<Guard>,
    /// Invariants in declaration order.
    pub invariants: Vec<Invariant>,
    /// Transitions in declaration order.
    pub transitions: Vec<Transition>,
    /// Model-checking bounds.
    pub model: Model,
    /// The transitions of each trigger, behind [`Machine::candidates`].
    pub(crate) by_trigger: TriggerIndex,
}

/// The transitions of each trigger in declaration order, built on first use. Without it, looking up the candidates
/// of every (phase, trigger) pair — as the interpreter's dispatch table and the analyses do — costs
/// phases × triggers × transitions, which grows with the square of the machine. It is derived from `transitions`,
/// which the checker never changes after building the machine, so it is not part of the machine's value.
#[derive(Clone, Default)]
pub(crate) struct TriggerIndex(std::sync::OnceLock<std::collections::HashMap<Trigger, Vec<TransitionId>>>);

impl PartialEq for TriggerIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for TriggerIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TriggerIndex")
    }
}

impl Machine {
    /// The declaration of a named type.
    pub fn type_decl(&self, id: TypeId) -> &TypeDecl {
        &self.types[id.index()]
    }

    /// A phase by id.
    pub fn phase(&self, id: PhaseId) -> &Phase {
        &self.phases[id.index()]
    }

    /// A state field by id.
    pub fn field(&self, id: FieldId) -> &StateField {
        &self.fields[id.index()]
    }

    /// The message a trigger names.
    pub fn trigger(&self, trigger: Trigger) -> &Message {
        match trigger {
            Trigger::Input(id) => &self.inputs[id.index()],
            Trigger::Signal(id) => &self.signals[id.index()],
        }
    }

    /// An effect by id.
    pub fn effect(&self, id: EffectId) -> &Message {
        &self.effects[id.index()]
    }

    /// Phase ids in declaration order.
    pub fn phase_ids(&self) -> impl Iterator<Item = PhaseId> + '_ {
        (0..self.phases.len()).map(|i| PhaseId(i as u32))
    }

    /// Every trigger: inputs first, then signals, each in declaration order.
    pub fn triggers(&self) -> impl Iterator<Item = Trigger> + '_ {
        let inputs = (0..self.inputs.len()).map(|i| Trigger::Input(InputId(i as u32)));
        let signals = (0..self.signals.len()).map(|i| Trigger::Signal(SignalId(i as u32)));
        inputs.chain(signals)
    }

    /// The transitions that are candidates for `trigger` in `phase`, in declaration order.
    pub fn candidates(&self, phase: PhaseId, trigger: Trigger) -> impl Iterator<Item = TransitionId> + '_ {
        let index = self.by_trigger.0.get_or_init(|| {
            let mut index: std::collections::HashMap<Trigger, Vec<TransitionId>> = std::collections::HashMap::new();
            for (i, t) in self.transitions.iter().enumerate() {
                index.entry(t.trigger).or_default().push(TransitionId(i as u32));
            }
            index
        });
        // The trigger is checked again so that a machine whose transitions were edited after the index was built
        // can miss candidates but never yield a wrong one.
        index.get(&trigger).map_or(&[][..], Vec::as_slice).iter().copied().filter(move |id| {
            self.transitions.get(id.index()).is_some_and(|t| t.trigger == trigger && t.sources.contains(&phase))
        })
    }

    /// A readable name for a type, as the user would write it.
    pub fn type_name(&self, ty: &Type) -> String {
        match ty {
            Type::Bool => "bool".into(),
            Type::U64 => "u64".into(),
            Type::String => "String".into(),
            Type::Phase => "Phase".into(),
            Type::Named(id) => self.types.get(id.index()).map_or_else(|| "?".into(), |t| t.name.clone()),
            Type::Option(t) => format!("Option<{}>", self.type_name(t)),
            Type::Set(t) => format!("Set<{}>", self.type_name(t)),
            Type::Seq(t) => format!("Seq<{}>", self.type_name(t)),
            Type::Map(k, v) => format!("Map<{}, {}>", self.type_name(k), self.type_name(v)),
        }
    }
}

/// A declared enum, record or newtype.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeDecl {
    /// Type name.
    pub name: String,
    /// Doc comment.
    pub docs: Option<String>,
    /// The declaration.
    pub span: Span,
    /// What kind of type it is.
    pub kind: TypeKind,
}

/// The shape of a declared type.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeKind {
    /// A closed set of unit variants.
    Enum {
        /// Variants in declaration order.
        variants: Vec<EnumVariant>,
    },
    /// Named fields.
    Record {
        /// Fields in declaration order.
        fields: Vec<RecordField>,
    },
    /// A distinct type wrapping another.
    Newtype {
        /// The wrapped type.
        inner: Type,
    },
}

/// An enum variant.
#[derive(Clone, Debug, PartialEq)]
pub struct EnumVariant {
    /// Variant name.
    pub name: String,
    /// Doc comment.
    pub docs: Option<String>,
}

/// A record field.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordField {
    /// Field name.
    pub name: String,
    /// Doc comment.
    pub docs: Option<String>,
    /// Field type.
    pub ty: Type,
}

/// A phase.
#[derive(Clone, Debug, PartialEq)]
pub struct Phase {
    /// Phase name.
    pub name: String,
    /// Doc comment.
    pub docs: Option<String>,
    /// Whether no transition may leave it.
    pub terminal: bool,
    /// Where it was declared.
    pub span: Span,
}

/// A state field.
#[derive(Clone, Debug, PartialEq)]
pub struct StateField {
    /// Field name.
    pub name: String,
    /// Doc comment.
    pub docs: Option<String>,
    /// Field type.
    pub ty: Type,
    /// Initial value: a constant expression (no state, payload or helper reads).
    pub init: Expr,
    /// Where it was declared.
    pub span: Span,
}

/// An input, signal or effect.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// Message name.
    pub name: String,
    /// Doc comment.
    pub docs: Option<String>,
    /// Payload fields in declaration order.
    pub fields: Vec<MessageField>,
    /// `internal`: only the runtime may apply this input; handles refuse it.
    pub internal: bool,
    /// `pure`: this input's transitions never change the state (classification and query inputs).
    pub pure_: bool,
    /// Where it was declared.
    pub span: Span,
}

/// A payload field.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageField {
    /// Field name.
    pub name: String,
    /// Doc comment.
    pub docs: Option<String>,
    /// Field type.
    pub ty: Type,
    /// For effect fields: the value an `emit` uses when it does not list the field. It may read state fields,
    /// the phase and helpers (never payload fields), and is evaluated where the `emit` stands.
    pub default: Option<Expr>,
}

/// A local binding of a body (`let`, a closure parameter, a pattern binding).
#[derive(Clone, Debug, PartialEq)]
pub struct Local {
    /// The name as written (several locals of one body may share a name in different scopes).
    pub name: String,
    /// Its type.
    pub ty: Type,
}

/// A helper: a pure function of its parameters and the state.
#[derive(Clone, Debug, PartialEq)]
pub struct Helper {
    /// Helper name.
    pub name: String,
    /// Doc comment.
    pub docs: Option<String>,
    /// Parameter names and types.
    pub params: Vec<(String, Type)>,
    /// Result type.
    pub ret: Type,
    /// The body.
    pub body: Expr,
    /// Locals of the body.
    pub locals: Vec<Local>,
    /// Where it was declared.
    pub span: Span,
}

/// A named guard: a reusable condition over the state (and the trigger payload where it is used, never).
#[derive(Clone, Debug, PartialEq)]
pub struct Guard {
    /// Guard name.
    pub name: String,
    /// Doc comment.
    pub docs: Option<String>,
    /// The condition, over state fields, the phase and helpers.
    pub expr: Expr,
    /// Locals of the condition.
    pub locals: Vec<Local>,
    /// Where it was declared.
    pub span: Span,
}

/// An invariant: a condition every reachable state satisfies.
#[derive(Clone, Debug, PartialEq)]
pub struct Invariant {
    /// Invariant name.
    pub name: String,
    /// Doc comment.
    pub docs: Option<String>,
    /// The condition, over state fields, the phase and helpers.
    pub expr: Expr,
    /// Locals of the condition.
    pub locals: Vec<Local>,
    /// Where it was declared.
    pub span: Span,
}

/// What fires a transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trigger {
    /// An input.
    Input(InputId),
    /// A signal.
    Signal(SignalId),
}

/// A transition.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    /// Its name: the written `transition Name`, or the trigger's name when it is the trigger's only transition.
    pub name: String,
    /// Doc comment.
    pub docs: Option<String>,
    /// The input or signal that fires it.
    pub trigger: Trigger,
    /// The phases it may fire from, in declaration order of the phases.
    pub sources: Vec<PhaseId>,
    /// Parallel to `sources`: where each source was selected, its name in the `from` clause or the `any` that
    /// includes it.
    pub source_spans: Vec<Span>,
    /// The phase it moves to.
    pub target: Target,
    /// The target as written: `stay`, a phase name, or the computed expression.
    pub target_span: Span,
    /// Conditions that must all hold, in the order written.
    pub guards: Vec<GuardCheck>,
    /// Whether it is the `otherwise` fallback of its (phase, trigger) pairs.
    pub otherwise: bool,
    /// The body.
    pub body: Vec<Stmt>,
    /// Locals of the guards and the body.
    pub locals: Vec<Local>,
    /// The header (trigger to target), for diagnostics.
    pub header_span: Span,
    /// The whole declaration.
    pub span: Span,
}

impl Transition {
    /// The phases the transition can lead to when it fires from `source`: the source itself for `stay`, the
    /// target phase, or every phase a computed target can produce.
    pub fn targets_from(&self, source: PhaseId) -> Vec<PhaseId> {
        match &self.target {
            Target::Stay => vec![source],
            Target::Phase(phase) => vec![*phase],
            Target::Computed { possible, .. } => self
                .sources
                .iter()
                .position(|s| *s == source)
                .and_then(|i| possible.get(i))
                .cloned()
                .unwrap_or_default(),
        }
    }
}

/// Where a transition leads.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// `-> stay`: the phase does not change.
    Stay,
    /// `-> Phase`: a fixed phase.
    Phase(PhaseId),
    /// `-> expr`: a `Phase`-typed expression, evaluated against the pre-state when the transition fires (after
    /// its guards pass, before its body runs), with the transition's payload and locals in scope.
    Computed {
        /// The expression.
        expr: Expr,
        /// Per source phase (parallel to [`Transition::sources`]), every phase it can produce there, in
        /// declaration order. Exact when each branch ends in a phase literal, `source` or `phase`; a branch that
        /// reads any other phase-typed value counts as every phase (an over-approximation).
        possible: Vec<Vec<PhaseId>>,
    },
}

/// One condition of a transition's `when` clause.
#[derive(Clone, Debug, PartialEq)]
pub struct GuardCheck {
    /// How errors name it: the guard's name for `when ready`, the source text otherwise (`count < 3`).
    pub label: String,
    /// The condition. A named guard appears as [`ExprKind::Guard`], possibly under a `!`.
    pub expr: Expr,
    /// Where it was written.
    pub span: Span,
}

/// A statement of a transition body.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// What it does.
    pub kind: StmtKind,
    /// Where it was written.
    pub span: Span,
}

/// Statement forms.
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `let x = value`
    Let {
        /// The new local.
        local: LocalId,
        /// Its value.
        value: Expr,
    },
    /// `place = value`
    Assign {
        /// Where.
        place: Place,
        /// What.
        value: Expr,
    },
    /// `place += value` / `place -= value` on a `u64`, checked.
    Compound {
        /// Where.
        place: Place,
        /// [`BinOp::Add`] or [`BinOp::Sub`].
        op: BinOp,
        /// The amount.
        value: Expr,
    },
    /// A collection operation on a state location.
    Collection {
        /// The collection.
        place: Place,
        /// The operation.
        op: CollectionOp,
        /// Its arguments (see [`CollectionOp`]).
        args: Vec<Expr>,
    },
    /// `if cond { } else { }`
    If {
        /// Condition.
        cond: Expr,
        /// Then branch.
        then: Vec<Stmt>,
        /// Else branch (empty when absent).
        else_: Vec<Stmt>,
    },
    /// `if let pattern = scrutinee { } else { }`
    IfLet {
        /// The pattern.
        pattern: Pattern,
        /// The value matched.
        scrutinee: Expr,
        /// Branch taken on a match (the pattern's binding is in scope).
        then: Vec<Stmt>,
        /// Branch taken otherwise.
        else_: Vec<Stmt>,
    },
    /// `emit Effect { ... }`
    Emit {
        /// The effect.
        effect: EffectId,
        /// One value per effect field, in the effect's declaration order (defaults already filled in).
        fields: Vec<Expr>,
    },
}

/// Collection operations available as statements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CollectionOp {
    /// `set.insert(value)`
    SetInsert,
    /// `set.remove(value)`
    SetRemove,
    /// `map.insert(key, value)`: adds or replaces.
    MapInsert,
    /// `map.remove(key)`
    MapRemove,
    /// `seq.push(value)`: appends.
    SeqPush,
    /// `seq.pop()`: drops the last element, if any.
    SeqPop,
    /// `seq.pop_front()`: drops the first element, if any.
    SeqPopFront,
    /// `coll.clear()` on a set, map or seq.
    Clear,
}

/// A writable state location.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    /// The state field.
    pub field: FieldId,
    /// Projections into records and newtypes.
    pub path: Vec<Projection>,
    /// The type of the location.
    pub ty: Type,
    /// Where it was written.
    pub span: Span,
}

/// A projection step of a [`Place`] or expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Projection {
    /// A record field, by index.
    RecordField(u32),
    /// A newtype's inner value (`.0`).
    NewtypeInner,
}

/// A typed expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it computes.
    pub kind: ExprKind,
    /// Its type.
    pub ty: Type,
    /// Where it was written.
    pub span: Span,
}

/// Expression forms.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `true`/`false`
    Bool(bool),
    /// A `u64` literal.
    U64(u64),
    /// A string literal.
    Str(String),
    /// `None` (its type says of what).
    None,
    /// `Some(e)`
    Some(Box<Expr>),
    /// A phase literal.
    PhaseLit(PhaseId),
    /// An enum variant literal.
    Variant(TypeId, u32),
    /// A state field's current value.
    Field(FieldId),
    /// The current phase (the phase field). In a transition body it is already the target phase.
    Phase,
    /// The phase the transition fired from (only inside transitions).
    Source,
    /// A field of the trigger's payload (transitions), or of the routed effect (routes), by index.
    Payload(u32),
    /// A local binding.
    Local(LocalId),
    /// A helper parameter, by index.
    Param(u32),
    /// A named guard's value.
    Guard(GuardId),
    /// A helper call.
    Call(HelperId, Vec<Expr>),
    /// A record value; fields in the record's declaration order.
    Record(TypeId, Vec<Expr>),
    /// A newtype value.
    Newtype(TypeId, Box<Expr>),
    /// A projection: a record field or a newtype's inner value.
    Project(Box<Expr>, Projection),
    /// A `Seq` literal.
    SeqLit(Vec<Expr>),
    /// A `Set` literal.
    SetLit(Vec<Expr>),
    /// A `Map` literal.
    MapLit(Vec<(Expr, Expr)>),
    /// `!e`
    Not(Box<Expr>),
    /// `a op b`. `&&`/`||` short-circuit; arithmetic is checked (overflow, underflow and division by zero
    /// reject the input); `<`, `<=`, `>`, `>=` compare `u64`s; `==`/`!=` compare any two values of one type.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// A built-in method without closures.
    Method(Box<Expr>, Builtin, Vec<Expr>),
    /// A method taking a closure: `xs.all(|x| ...)`, `m.any(|k, v| ...)`, `xs.count(|x| ...)`.
    Quantifier {
        /// Which.
        kind: Quantifier,
        /// The collection (a set, seq or map).
        collection: Box<Expr>,
        /// The closure's parameters: one for sets and seqs, key and value for maps.
        params: Vec<LocalId>,
        /// The closure's body (a `bool`).
        body: Box<Expr>,
    },
    /// `if c { a } else { b }`
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `if let p = s { a } else { b }`
    IfLet {
        /// The pattern.
        pattern: Pattern,
        /// The value matched.
        scrutinee: Box<Expr>,
        /// Value on a match.
        then: Box<Expr>,
        /// Value otherwise.
        else_: Box<Expr>,
    },
    /// `match s { arms }`; the arms are exhaustive.
    Match {
        /// The value matched.
        scrutinee: Box<Expr>,
        /// Arms in order; the first matching arm is taken.
        arms: Vec<MatchArm>,
    },
}

/// Built-in methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// `opt.is_some()`
    IsSome,
    /// `opt.is_none()`
    IsNone,
    /// `opt.unwrap_or(default)`
    UnwrapOr,
    /// `x.len()` on a string (in bytes), set, map or seq.
    Len,
    /// `x.is_empty()` on a string, set, map or seq.
    IsEmpty,
    /// `coll.contains(v)` on a set or seq; `opt.contains(v)` on an option.
    Contains,
    /// `map.contains_key(k)`
    ContainsKey,
    /// `map.get(k)` (an `Option` of the value) or `seq.get(i)` (an `Option` of the element).
    Get,
    /// `map.keys()`, a `Set`.
    Keys,
    /// `map.values()`, a `Seq` in key order.
    Values,
    /// `seq.first()`, an `Option`.
    First,
    /// `seq.last()`, an `Option`.
    Last,
    /// `a.union(b)` on sets.
    Union,
    /// `a.intersection(b)` on sets.
    Intersection,
    /// `a.difference(b)` on sets.
    Difference,
    /// `a.is_subset(b)` on sets.
    IsSubset,
    /// `a.min(b)` on u64s.
    Min,
    /// `a.max(b)` on u64s.
    Max,
}

impl Builtin {
    /// The method name as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Builtin::IsSome => "is_some",
            Builtin::IsNone => "is_none",
            Builtin::UnwrapOr => "unwrap_or",
            Builtin::Len => "len",
            Builtin::IsEmpty => "is_empty",
            Builtin::Contains => "contains",
            Builtin::ContainsKey => "contains_key",
            Builtin::Get => "get",
            Builtin::Keys => "keys",
            Builtin::Values => "values",
            Builtin::First => "first",
            Builtin::Last => "last",
            Builtin::Union => "union",
            Builtin::Intersection => "intersection",
            Builtin::Difference => "difference",
            Builtin::IsSubset => "is_subset",
            Builtin::Min => "min",
            Builtin::Max => "max",
        }
    }
}

/// Closure-taking methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Quantifier {
    /// `all(|x| p)`: true for an empty collection.
    All,
    /// `any(|x| p)`: false for an empty collection.
    Any,
    /// `count(|x| p)`: how many elements satisfy `p`, a `u64`.
    Count,
}

/// A `match` arm.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchArm {
    /// Alternatives; the arm matches when any does.
    pub patterns: Vec<Pattern>,
    /// The arm's value.
    pub body: Expr,
}

/// A pattern.
#[derive(Clone, Debug, PartialEq)]
pub enum Pattern {
    /// `_`
    Wildcard,
    /// `None`
    None,
    /// `Some(x)` with the binding, or `Some(_)`.
    Some(Option<LocalId>),
    /// `true`/`false`
    Bool(bool),
    /// An enum variant.
    Variant(TypeId, u32),
    /// A phase.
    Phase(PhaseId),
}

/// Model-checking bounds.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Model {
    /// The longest input sequence to explore; `None` leaves the choice to the checker.
    pub depth: Option<u64>,
    /// Finite value domains for types and payload fields.
    pub domains: Vec<Domain>,
    /// Where the block was written.
    pub span: Option<Span>,
}

/// A finite set of values the model checker tries.
#[derive(Clone, Debug, PartialEq)]
pub struct Domain {
    /// What the values are for.
    pub target: DomainTarget,
    /// The values: constant expressions of the target's type.
    pub values: Vec<Expr>,
    /// Where it was written.
    pub span: Span,
}

/// What a [`Domain`] applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DomainTarget {
    /// Every payload field of this type (`u64`, `String`, or a newtype).
    Type(Type),
    /// One payload field of one input or signal.
    Field(Trigger, u32),
}

/// A checked composition.
#[derive(Clone, Debug, PartialEq)]
pub struct Composition {
    /// Composition name.
    pub name: String,
    /// Doc comment.
    pub docs: Option<String>,
    /// The file it was declared in.
    pub source: SourceId,
    /// Its routes.
    pub routes: Vec<Route>,
    /// Where it was declared.
    pub span: Span,
}

/// A typed route from one machine's effect to another machine's input or signal.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// Doc comment.
    pub docs: Option<String>,
    /// The emitting machine.
    pub from_machine: MachineId,
    /// The effect it emits.
    pub effect: EffectId,
    /// The receiving machine.
    pub to_machine: MachineId,
    /// The input or signal it receives.
    pub target: Trigger,
    /// One value per target payload field, in declaration order.
    pub fields: Vec<RouteValue>,
    /// Where it was declared.
    pub span: Span,
}

/// How a routed payload field gets its value.
#[derive(Clone, Debug, PartialEq)]
pub enum RouteValue {
    /// Copied (and converted structurally where the two machines declare matching types) from an effect field.
    EffectField(u32),
    /// A constant, typed in the receiving machine.
    Constant(Expr),
}
