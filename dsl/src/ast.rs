//! The spanned syntax tree of a spec file, exactly as written: names are unresolved strings and expressions
//! are untyped. `parse` builds it; `check` resolves and types it into [`crate::ir`].

use crate::span::Span;

/// A name as written, with its span.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// Doc comment lines (`/// text`) attached to an item, with the `///` and one leading space removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Docs {
    /// The lines, in order.
    pub lines: Vec<String>,
}

impl Docs {
    /// The doc text joined by newlines, or `None` when there is none.
    pub fn text(&self) -> Option<String> {
        if self.lines.is_empty() { None } else { Some(self.lines.join("\n")) }
    }
}

/// A parsed spec file.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    /// Machines and compositions in source order.
    pub items: Vec<TopItem>,
}

/// An item at the top of a file.
#[derive(Clone, Debug, PartialEq)]
pub enum TopItem {
    /// `machine Name { ... }`
    Machine(Machine),
    /// `composition Name { route ... }`
    Composition(Composition),
}

/// `machine Name { items }`
#[derive(Clone, Debug, PartialEq)]
pub struct Machine {
    /// Doc comment.
    pub docs: Docs,
    /// The machine's name.
    pub name: Ident,
    /// Its items in source order.
    pub items: Vec<MachineItem>,
    /// The whole machine.
    pub span: Span,
}

/// One item of a machine body.
#[derive(Clone, Debug, PartialEq)]
pub enum MachineItem {
    /// `enum Name { A, B }`
    Enum(EnumDecl),
    /// `record Name { field: Type }`
    Record(RecordDecl),
    /// `newtype Name(Type)`
    Newtype(NewtypeDecl),
    /// `phases [field] { initial A, B, terminal C }`
    Phases(PhasesDecl),
    /// `state { field: Type = value }`
    State(StateDecl),
    /// `input`, `signal` or `effect` declarations.
    Message(MessageDecl),
    /// `fn name(params) -> Type { expr }`
    Helper(HelperDecl),
    /// `guard name = expr`
    Guard(GuardDecl),
    /// `invariant name = expr`
    Invariant(InvariantDecl),
    /// `property name = expr` or `reachable name = expr`
    Property(PropertyDecl),
    /// `[transition Name] on Trigger from Sources -> Target [when ... | otherwise] [{ body }]`
    Transition(TransitionDecl),
    /// `model { depth = N; domain T = [...] }`
    Model(ModelDecl),
}

/// `enum Name { A, B }`
#[derive(Clone, Debug, PartialEq)]
pub struct EnumDecl {
    /// Doc comment.
    pub docs: Docs,
    /// Type name.
    pub name: Ident,
    /// Variants in order.
    pub variants: Vec<Variant>,
    /// The whole declaration.
    pub span: Span,
}

/// One enum variant.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// Doc comment.
    pub docs: Docs,
    /// Variant name.
    pub name: Ident,
}

/// `record Name { field: Type, ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct RecordDecl {
    /// Doc comment.
    pub docs: Docs,
    /// Type name.
    pub name: Ident,
    /// Fields in order.
    pub fields: Vec<FieldDecl>,
    /// The whole declaration.
    pub span: Span,
}

/// `newtype Name(Type)`
#[derive(Clone, Debug, PartialEq)]
pub struct NewtypeDecl {
    /// Doc comment.
    pub docs: Docs,
    /// Type name.
    pub name: Ident,
    /// The wrapped type.
    pub inner: TypeExpr,
    /// The whole declaration.
    pub span: Span,
}

/// A written type such as `Map<String, Option<u64>>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeExpr {
    /// The head name (`Map`).
    pub name: Ident,
    /// Type arguments in order.
    pub args: Vec<TypeExpr>,
    /// The whole type.
    pub span: Span,
}

/// `name: Type [= default]`, used by records, state, and message payloads.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    /// Doc comment.
    pub docs: Docs,
    /// Field name.
    pub name: Ident,
    /// Field type.
    pub ty: TypeExpr,
    /// The `= value` part: required for state fields, allowed for effect fields, refused elsewhere.
    pub default: Option<Expr>,
    /// The whole field.
    pub span: Span,
}

/// `phases [field] { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct PhasesDecl {
    /// Doc comment.
    pub docs: Docs,
    /// The state field that holds the phase; `phase` when omitted.
    pub field: Option<Ident>,
    /// Phases in order.
    pub phases: Vec<PhaseDecl>,
    /// The whole block.
    pub span: Span,
}

/// Whether a phase is the initial one, a terminal one, or neither.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhaseKind {
    /// An ordinary phase.
    Normal,
    /// `initial Name`
    Initial,
    /// `terminal Name`
    Terminal,
}

/// One phase.
#[derive(Clone, Debug, PartialEq)]
pub struct PhaseDecl {
    /// Doc comment.
    pub docs: Docs,
    /// Initial, terminal or ordinary.
    pub kind: PhaseKind,
    /// Where the `initial`/`terminal` marker was written, if any.
    pub kind_span: Option<Span>,
    /// Phase name.
    pub name: Ident,
}

/// `state { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct StateDecl {
    /// Doc comment.
    pub docs: Docs,
    /// Fields with their initial values.
    pub fields: Vec<FieldDecl>,
    /// The whole block.
    pub span: Span,
}

/// Which alphabet a message belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// `input`: applied by callers through the mutator.
    Input,
    /// `signal`: applied through `apply_signal`, usually routed from another machine.
    Signal,
    /// `effect`: emitted by transitions.
    Effect,
}

/// `[internal] [pure] input|signal|effect Name [{ fields }]`
#[derive(Clone, Debug, PartialEq)]
pub struct MessageDecl {
    /// Doc comment.
    pub docs: Docs,
    /// Input, signal or effect.
    pub kind: MessageKind,
    /// Span of an `internal` modifier: only the runtime may apply the input.
    pub internal: Option<Span>,
    /// Span of a `pure` modifier: the input's transitions may not change the state.
    pub pure_: Option<Span>,
    /// Message name.
    pub name: Ident,
    /// Payload fields.
    pub fields: Vec<FieldDecl>,
    /// The whole declaration.
    pub span: Span,
}

/// `fn name(params) -> Type { expr }`
#[derive(Clone, Debug, PartialEq)]
pub struct HelperDecl {
    /// Doc comment.
    pub docs: Docs,
    /// Helper name.
    pub name: Ident,
    /// Parameters.
    pub params: Vec<Param>,
    /// Result type.
    pub ret: TypeExpr,
    /// The body expression.
    pub body: Expr,
    /// The whole declaration.
    pub span: Span,
}

/// `name: Type`
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// Parameter name.
    pub name: Ident,
    /// Parameter type.
    pub ty: TypeExpr,
}

/// `guard name = expr`
#[derive(Clone, Debug, PartialEq)]
pub struct GuardDecl {
    /// Doc comment.
    pub docs: Docs,
    /// Guard name.
    pub name: Ident,
    /// Its condition.
    pub expr: Expr,
    /// The whole declaration.
    pub span: Span,
}

/// `invariant name = expr`
#[derive(Clone, Debug, PartialEq)]
pub struct InvariantDecl {
    /// Doc comment.
    pub docs: Docs,
    /// Invariant name.
    pub name: Ident,
    /// The condition every reachable state satisfies.
    pub expr: Expr,
    /// The whole declaration.
    pub span: Span,
}

/// `property name = expr` (must hold in every reachable state) or `reachable name = expr` (must hold in at
/// least one): checked by the model checker, never enforced by the machine.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyDecl {
    /// Doc comment.
    pub docs: Docs,
    /// Which of the two it is.
    pub kind: PropertyKind,
    /// Property name.
    pub name: Ident,
    /// The condition, over the state.
    pub expr: Expr,
    /// The whole declaration.
    pub span: Span,
}

/// What a property claims about the reachable states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PropertyKind {
    /// `property`: the condition holds in every reachable state.
    Always,
    /// `reachable`: the condition holds in at least one reachable state.
    Reachable,
}

/// A transition declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct TransitionDecl {
    /// Doc comment.
    pub docs: Docs,
    /// `transition Name`, required when several transitions share a trigger.
    pub name: Option<Ident>,
    /// The input or signal that fires it.
    pub trigger: Ident,
    /// `from ...`
    pub sources: Sources,
    /// `-> Phase` or `-> stay`.
    pub target: Target,
    /// `when ...`, `otherwise`, or nothing.
    pub dispatch: Dispatch,
    /// The `{ ... }` body, if written.
    pub body: Option<Block>,
    /// From the first keyword to the target: the span diagnostics point at for the transition as a whole.
    pub header_span: Span,
    /// The whole declaration.
    pub span: Span,
}

/// The `from` clause.
#[derive(Clone, Debug, PartialEq)]
pub struct Sources {
    /// Listed sources.
    pub items: Vec<SourceItem>,
    /// Phases after `except`.
    pub except: Vec<Ident>,
    /// The whole clause after `from`.
    pub span: Span,
}

/// One listed source.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceItem {
    /// `any`: every non-terminal phase.
    Any(Span),
    /// A phase by name.
    Phase(Ident),
}

/// The target phase.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// `stay`: the phase does not change.
    Stay(Span),
    /// A phase by name.
    Phase(Ident),
    /// Any other expression of type `Phase`, computed when the transition fires (`-> return_phase()`).
    Computed(Expr),
}

impl Target {
    /// Where the target was written.
    pub fn span(&self) -> Span {
        match self {
            Target::Stay(span) => *span,
            Target::Phase(ident) => ident.span,
            Target::Computed(expr) => expr.span,
        }
    }
}

/// How the transition competes with others on the same phase and trigger.
#[derive(Clone, Debug, PartialEq)]
pub enum Dispatch {
    /// No guard.
    Always,
    /// `when a, b`: every listed condition must hold.
    When(Vec<Expr>),
    /// `otherwise`: fires only when no competing transition's guards hold.
    Otherwise(Span),
}

/// `{ stmts }`
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// Statements in order.
    pub stmts: Vec<Stmt>,
    /// The braces and everything between.
    pub span: Span,
}

/// A statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// What it does.
    pub kind: StmtKind,
    /// The whole statement.
    pub span: Span,
}

/// Statement forms.
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `let name[: Type] = value`
    Let {
        /// The new local.
        name: Ident,
        /// Its declared type, if written.
        ty: Option<TypeExpr>,
        /// Its value.
        value: Expr,
    },
    /// `emit Effect [{ field[: value], ... }]`
    Emit {
        /// The effect.
        effect: Ident,
        /// Listed fields; `None` value means the shorthand `field` (a name in scope).
        fields: Vec<EmitField>,
        /// Span of the braces, if written.
        fields_span: Option<Span>,
    },
    /// `if [let pat =] cond { } [else ...]`
    If {
        /// The condition.
        cond: Condition,
        /// Then branch.
        then: Block,
        /// Else branch: a block (an `else if` is a block holding one `if`).
        else_: Option<Block>,
    },
    /// `place.op(args)`: a collection operation such as `insert`.
    Call {
        /// The collection being changed.
        place: Place,
        /// The operation name.
        method: Ident,
        /// Its arguments.
        args: Vec<Expr>,
    },
    /// `place = value`, `place += value`, `place -= value`
    Assign {
        /// The state location being written.
        place: Place,
        /// `=`, `+=` or `-=`.
        op: AssignOp,
        /// Span of the operator.
        op_span: Span,
        /// The value.
        value: Expr,
    },
}

/// One field of an `emit`.
#[derive(Clone, Debug, PartialEq)]
pub struct EmitField {
    /// Effect field name.
    pub name: Ident,
    /// `: value`, or `None` for the shorthand that reads the name in scope.
    pub value: Option<Expr>,
}

/// Assignment operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignOp {
    /// `=`
    Set,
    /// `+=` (checked)
    Add,
    /// `-=` (checked)
    Sub,
}

/// A writable location: a state field followed by record field or newtype (`.0`) projections.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    /// The state field.
    pub root: Ident,
    /// Projections after it.
    pub path: Vec<Ident>,
    /// The whole place.
    pub span: Span,
}

/// `[let pattern =] expr` in an `if`.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// The pattern of an `if let`.
    pub pattern: Option<Pattern>,
    /// The condition or scrutinee.
    pub expr: Expr,
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// The whole expression.
    pub span: Span,
}

/// Expression forms.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `true` / `false`
    Bool(bool),
    /// A decimal integer (a `u64`).
    Int(u64),
    /// A string literal, escapes resolved.
    Str(String),
    /// `None`
    None,
    /// `Some(e)`
    Some(Box<Expr>),
    /// A bare name: a local, payload field, parameter, state field, or (from context) an enum variant.
    Name(Ident),
    /// `Type::Variant`
    Path(Ident, Ident),
    /// `name(args)`: a helper call or a newtype construction.
    Call(Ident, Vec<Expr>),
    /// `Record { field: value, ... }`
    Record(Ident, Vec<(Ident, Expr)>),
    /// `[a, b]` or `[k: v]`; `empty_map` is set for `[:]`.
    Bracket {
        /// Items: a value, or a key with its value.
        items: Vec<(Expr, Option<Expr>)>,
        /// Whether it was written `[:]`.
        empty_map: bool,
    },
    /// `!e`
    Not(Box<Expr>),
    /// `a op b`
    Binary {
        /// Operator.
        op: BinOp,
        /// Span of the operator token.
        op_span: Span,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `e.field` or `e.0`
    Field(Box<Expr>, Ident),
    /// `e.method(args)`
    Method {
        /// Receiver.
        recv: Box<Expr>,
        /// Method name.
        method: Ident,
        /// Arguments.
        args: Vec<Arg>,
    },
    /// `if [let p =] c { a } else { b }`
    If {
        /// Condition.
        cond: Box<Condition>,
        /// Value when it holds.
        then: Box<Expr>,
        /// Value otherwise.
        else_: Box<Expr>,
    },
    /// `match e { pats => value, ... }`
    Match {
        /// The scrutinee.
        scrutinee: Box<Expr>,
        /// Arms in order.
        arms: Vec<MatchArm>,
    },
    /// `( e )`
    Paren(Box<Expr>),
}

/// A method argument: an expression or a closure.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// A plain expression.
    Expr(Expr),
    /// `|x, y| body`
    Closure {
        /// Parameters.
        params: Vec<Ident>,
        /// Body.
        body: Expr,
        /// The whole closure.
        span: Span,
    },
}

impl Arg {
    /// The argument's span.
    pub fn span(&self) -> Span {
        match self {
            Arg::Expr(e) => e.span,
            Arg::Closure { span, .. } => *span,
        }
    }
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// `||`
    Or,
    /// `&&`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+` (checked)
    Add,
    /// `-` (checked)
    Sub,
    /// `*` (checked)
    Mul,
    /// `/` (checked: division by zero rejects)
    Div,
    /// `%` (checked)
    Rem,
}

impl BinOp {
    /// Every operator, loosest first.
    pub const ALL: [BinOp; 13] = [
        BinOp::Or,
        BinOp::And,
        BinOp::Eq,
        BinOp::Ne,
        BinOp::Lt,
        BinOp::Le,
        BinOp::Gt,
        BinOp::Ge,
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
        BinOp::Rem,
    ];

    /// The binding strength of the comparisons, which do not chain (`a < b < c` is an error).
    pub const COMPARISON: u8 = 3;

    /// The tightest binding strength of a binary operator; unary `!` and postfix forms bind tighter still.
    pub const TIGHTEST: u8 = 5;

    /// How tightly the operator binds, from 1 to [`BinOp::TIGHTEST`]: `||`, then `&&`, then the comparisons
    /// ([`BinOp::COMPARISON`]), then `+ -`, then `* / %`. Every operator but the comparisons associates to the left.
    /// This is the one precedence table: the parser builds trees by it and the printer parenthesises by it.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => Self::COMPARISON,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div | BinOp::Rem => Self::TIGHTEST,
        }
    }

    /// The operator spelled `text`, if one is.
    pub fn from_text(text: &str) -> Option<BinOp> {
        BinOp::ALL.into_iter().find(|op| op.as_str() == text)
    }

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
}

/// `pats => value`
#[derive(Clone, Debug, PartialEq)]
pub struct MatchArm {
    /// Alternatives joined by `|`.
    pub patterns: Vec<Pattern>,
    /// The arm's value.
    pub body: Expr,
    /// The whole arm.
    pub span: Span,
}

/// A pattern in `match` arms and `if let`.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    /// What it matches.
    pub kind: PatternKind,
    /// The whole pattern.
    pub span: Span,
}

/// Pattern forms.
#[derive(Clone, Debug, PartialEq)]
pub enum PatternKind {
    /// `_`
    Wildcard,
    /// `None`
    None,
    /// `Some(x)` binds `x`; `Some(_)` binds nothing.
    Some(Option<Ident>),
    /// `true` / `false`
    Bool(bool),
    /// `Variant` or `Type::Variant`
    Variant(Option<Ident>, Ident),
}

/// `model { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct ModelDecl {
    /// Doc comment.
    pub docs: Docs,
    /// Settings in order.
    pub items: Vec<ModelItem>,
    /// The whole block.
    pub span: Span,
}

/// One model setting.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelItem {
    /// `depth = N`: the longest input sequence the model checker explores.
    Depth {
        /// The bound.
        value: u64,
        /// The whole setting.
        span: Span,
    },
    /// `domain Target = values`: the finite values the checker tries for a type or a payload field.
    Domain {
        /// A type name (`u64`, `String`, a newtype) or `Message.field`.
        target: Ident,
        /// The field, for `Message.field`.
        field: Option<Ident>,
        /// The values.
        values: DomainValues,
        /// The whole setting.
        span: Span,
    },
    /// `unfired = [Name, ...]`: transitions expected never to fire within the bounds.
    Unfired {
        /// The transition names.
        names: Vec<Ident>,
        /// The whole setting.
        span: Span,
    },
}

/// The values of a model domain.
#[derive(Clone, Debug, PartialEq)]
pub enum DomainValues {
    /// `lo..=hi`
    Range(u64, u64, Span),
    /// `[a, b, c]`
    List(Vec<Expr>, Span),
}

/// `composition Name { route ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct Composition {
    /// Doc comment.
    pub docs: Docs,
    /// Composition name.
    pub name: Ident,
    /// Its routes.
    pub routes: Vec<Route>,
    /// The whole composition.
    pub span: Span,
}

/// `route Source.Effect -> Target.Message { field: expr }`
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// Doc comment.
    pub docs: Docs,
    /// Source machine.
    pub from_machine: Ident,
    /// The effect it emits.
    pub from_effect: Ident,
    /// Target machine.
    pub to_machine: Ident,
    /// The input or signal it receives.
    pub to_message: Ident,
    /// Target payload fields computed from the effect's fields.
    pub fields: Vec<(Ident, Expr)>,
    /// The whole route.
    pub span: Span,
}
