//! Lowering: pest pairs to the spanned AST, items and statements here, expressions in `lower_expr`. Lowering
//! collects lexical errors (oversized integers, bad escapes) on the way, and does three things the grammar leaves
//! out for speed or safety: it applies operator precedence ([`BinOp::precedence`]) to the flat operand/operator
//! sequences the grammar reads (and rejects chained comparisons), it rejects reserved words used as names, and it
//! bounds how deeply expressions and `if` statements nest ([`MAX_NESTING`] levels), so that no later pass can run
//! out of stack on a pathological spec.

use pest::iterators::{Pair, Pairs};

use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::MAX_TYPE_DEPTH;
use crate::span::{SourceId, Span};

use super::grammar::{MAX_NESTING, MAX_TREE_DEPTH, RESERVED_WORDS, Rule, content_end};

/// Lowers the pairs of a successful parse of a whole file, or returns every lexical error found.
pub(super) fn file(mut pairs: Pairs<'_, Rule>, text: &str, source: SourceId) -> Result<File, Vec<Diagnostic>> {
    let mut lower = Lower {
        source,
        text,
        diagnostics: Vec::new(),
        nesting: 0,
        tree_depth: 0,
        chain_link: false,
        statement_nesting: 0,
        statement_depth: 0,
        deep_reported: false,
    };
    let file = pairs.next().map(|pair| lower.file(pair)).unwrap_or(File { items: Vec::new() });
    if lower.diagnostics.is_empty() { Ok(file) } else { Err(lower.diagnostics) }
}

/// Lowers pest pairs to AST nodes, collecting lexical errors (oversized integers, bad escapes) on the way.
pub(super) struct Lower<'t> {
    pub(super) source: SourceId,
    pub(super) text: &'t str,
    pub(super) diagnostics: Vec<Diagnostic>,
    /// How many expressions enclose the one being lowered.
    pub(super) nesting: usize,
    /// How many expressions enclose the one being lowered, counting each link of an `else if` chain.
    pub(super) tree_depth: usize,
    /// Whether the next expression lowered is the next link of a chain (the `if` after an `else`).
    pub(super) chain_link: bool,
    /// How many `if` statements enclose the statement being lowered (an `else if` chain counts once).
    pub(super) statement_nesting: usize,
    /// How many `if` statements enclose the statement being lowered, counting each link of an `else if` chain.
    pub(super) statement_depth: usize,
    /// Whether the outermost expression being lowered already has its "nests too deeply" error.
    pub(super) deep_reported: bool,
}

/// The span of a pair, without trailing whitespace and comments. A rule that ends in an optional part (`";"?`,
/// `block?`) keeps the whitespace pest skipped while looking for it, which would stretch labels over the next lines.
pub(super) fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    let text = s.as_str();
    if !text.ends_with(|c: char| c.is_whitespace()) {
        return Span::new(s.start(), s.end());
    }
    Span::new(s.start(), s.start() + content_end(text))
}

impl Lower<'_> {
    pub(super) fn file(&mut self, pair: Pair<'_, Rule>) -> File {
        let mut items = Vec::new();
        for item in pair.into_inner() {
            match item.as_rule() {
                Rule::machine => items.push(TopItem::Machine(self.machine(item))),
                Rule::composition => items.push(TopItem::Composition(self.composition(item))),
                _ => {}
            }
        }
        File { items }
    }

    /// A name; a reserved word in a name's place is reported here (the grammar accepts it as a name).
    pub(super) fn ident(&mut self, pair: Pair<'_, Rule>) -> Ident {
        let span = span_of(&pair);
        let name = pair.as_str();
        if pair.as_rule() == Rule::ident && RESERVED_WORDS.contains(&name) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::Syntax,
                    self.source,
                    format!("expected a name, found reserved word `{name}`"),
                    Label::new(span, "reserved word"),
                )
                .with_help(format!("`{name}` is a reserved word and cannot be used as a name; choose another name")),
            );
        }
        Ident { name: name.to_string(), span }
    }

    pub(super) fn docs(&self, pair: Pair<'_, Rule>) -> Docs {
        let lines = pair
            .into_inner()
            .map(|doc| {
                let text = doc.as_str().trim_start_matches("///");
                let text = text.strip_prefix(' ').unwrap_or(text);
                text.trim_end().to_string()
            })
            .collect();
        Docs { lines }
    }

    pub(super) fn machine(&mut self, pair: Pair<'_, Rule>) -> Machine {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let docs = inner.next().map(|p| self.docs(p)).unwrap_or_default();
        let name = inner.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
        let items = inner.filter_map(|item| self.machine_item(item)).collect();
        Machine { docs, name, items, span }
    }

    pub(super) fn machine_item(&mut self, pair: Pair<'_, Rule>) -> Option<MachineItem> {
        Some(match pair.as_rule() {
            Rule::enum_decl => MachineItem::Enum(self.enum_decl(pair)),
            Rule::record_decl => MachineItem::Record(self.record_decl(pair)),
            Rule::newtype_decl => MachineItem::Newtype(self.newtype_decl(pair)),
            Rule::phases_decl => MachineItem::Phases(self.phases_decl(pair)),
            Rule::state_decl => MachineItem::State(self.state_decl(pair)),
            Rule::message_decl => MachineItem::Message(self.message_decl(pair)),
            Rule::helper_decl => MachineItem::Helper(self.helper_decl(pair)),
            Rule::guard_decl => {
                let (docs, name, expr, span) = self.named_expr(pair);
                MachineItem::Guard(GuardDecl { docs, name, expr, span })
            }
            Rule::invariant_decl => {
                let (docs, name, expr, span) = self.named_expr(pair);
                MachineItem::Invariant(InvariantDecl { docs, name, expr, span })
            }
            Rule::transition_decl => MachineItem::Transition(self.transition(pair)),
            Rule::model_decl => MachineItem::Model(self.model(pair)),
            _ => return None,
        })
    }

    pub(super) fn enum_decl(&mut self, pair: Pair<'_, Rule>) -> EnumDecl {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let docs = inner.next().map(|p| self.docs(p)).unwrap_or_default();
        let name = inner.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
        let variants = inner
            .map(|v| {
                let mut parts = v.into_inner();
                let docs = parts.next().map(|p| self.docs(p)).unwrap_or_default();
                let name = parts.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
                Variant { docs, name }
            })
            .collect();
        EnumDecl { docs, name, variants, span }
    }

    pub(super) fn record_decl(&mut self, pair: Pair<'_, Rule>) -> RecordDecl {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let docs = inner.next().map(|p| self.docs(p)).unwrap_or_default();
        let name = inner.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
        let fields = inner.map(|f| self.field_decl(f)).collect();
        RecordDecl { docs, name, fields, span }
    }

    pub(super) fn newtype_decl(&mut self, pair: Pair<'_, Rule>) -> NewtypeDecl {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let docs = inner.next().map(|p| self.docs(p)).unwrap_or_default();
        let name = inner.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
        let inner_ty = inner.next().map(|p| self.type_expr(p)).unwrap_or_else(|| missing_type(span));
        NewtypeDecl { docs, name, inner: inner_ty, span }
    }

    /// Lowers a written type, refusing one whose type arguments nest more than [`MAX_TYPE_DEPTH`] levels deep
    /// (the checker bounds the depth counted through named types too).
    pub(super) fn type_expr(&mut self, pair: Pair<'_, Rule>) -> TypeExpr {
        self.type_expr_at(pair, 0)
    }

    fn type_expr_at(&mut self, pair: Pair<'_, Rule>, nesting: usize) -> TypeExpr {
        let span = span_of(&pair);
        if nesting > MAX_TYPE_DEPTH {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::Syntax,
                    self.source,
                    format!("this type nests more than {MAX_TYPE_DEPTH} levels deep"),
                    Label::new(Span::new(span.start, span.start), "too deep here"),
                )
                .with_help("name an inner part with a `record` or `newtype`, or flatten the type"),
            );
            return missing_type(span);
        }
        let mut inner = pair.into_inner();
        let name = inner.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
        let args = inner.map(|a| self.type_expr_at(a, nesting + 1)).collect();
        TypeExpr { name, args, span }
    }

    pub(super) fn field_decl(&mut self, pair: Pair<'_, Rule>) -> FieldDecl {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let docs = inner.next().map(|p| self.docs(p)).unwrap_or_default();
        let name = inner.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
        let ty = inner.next().map(|p| self.type_expr(p)).unwrap_or_else(|| missing_type(span));
        let default = inner.next().map(|p| self.expr(p));
        FieldDecl { docs, name, ty, default, span }
    }

    pub(super) fn phases_decl(&mut self, pair: Pair<'_, Rule>) -> PhasesDecl {
        let span = span_of(&pair);
        let mut docs = Docs::default();
        let mut field = None;
        let mut phases = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::docs => docs = self.docs(part),
                Rule::ident => field = Some(self.ident(part)),
                Rule::phase_decl => {
                    let mut phase_docs = Docs::default();
                    let mut kind = PhaseKind::Normal;
                    let mut kind_span = None;
                    let mut name = missing(span_of(&part));
                    for piece in part.into_inner() {
                        match piece.as_rule() {
                            Rule::docs => phase_docs = self.docs(piece),
                            Rule::initial_kw => {
                                kind = PhaseKind::Initial;
                                kind_span = Some(span_of(&piece));
                            }
                            Rule::terminal_kw => {
                                kind = PhaseKind::Terminal;
                                kind_span = Some(span_of(&piece));
                            }
                            Rule::ident => name = self.ident(piece),
                            _ => {}
                        }
                    }
                    phases.push(PhaseDecl { docs: phase_docs, kind, kind_span, name });
                }
                _ => {}
            }
        }
        PhasesDecl { docs, field, phases, span }
    }

    pub(super) fn state_decl(&mut self, pair: Pair<'_, Rule>) -> StateDecl {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let docs = inner.next().map(|p| self.docs(p)).unwrap_or_default();
        let fields = inner.map(|f| self.field_decl(f)).collect();
        StateDecl { docs, fields, span }
    }

    pub(super) fn message_decl(&mut self, pair: Pair<'_, Rule>) -> MessageDecl {
        let span = span_of(&pair);
        let mut docs = Docs::default();
        let mut kind = MessageKind::Input;
        let mut internal = None;
        let mut pure_ = None;
        let mut name = missing(span);
        let mut fields = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::docs => docs = self.docs(part),
                Rule::internal_kw => internal = Some(span_of(&part)),
                Rule::pure_kw => pure_ = Some(span_of(&part)),
                Rule::input_kw => kind = MessageKind::Input,
                Rule::signal_kw => kind = MessageKind::Signal,
                Rule::effect_kw => kind = MessageKind::Effect,
                Rule::ident => name = self.ident(part),
                Rule::message_fields => fields = part.into_inner().map(|f| self.field_decl(f)).collect(),
                _ => {}
            }
        }
        MessageDecl { docs, kind, internal, pure_, name, fields, span }
    }

    pub(super) fn helper_decl(&mut self, pair: Pair<'_, Rule>) -> HelperDecl {
        let span = span_of(&pair);
        let mut docs = Docs::default();
        let mut name = missing(span);
        let mut params = Vec::new();
        let mut ret = missing_type(span);
        let mut body = missing_expr(span);
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::docs => docs = self.docs(part),
                Rule::ident => name = self.ident(part),
                Rule::param => {
                    let mut p = part.into_inner();
                    let pname = p.next().map(|x| self.ident(x)).unwrap_or_else(|| missing(span));
                    let ty = p.next().map(|x| self.type_expr(x)).unwrap_or_else(|| missing_type(span));
                    params.push(Param { name: pname, ty });
                }
                Rule::type_expr => ret = self.type_expr(part),
                Rule::expr => body = self.expr(part),
                _ => {}
            }
        }
        HelperDecl { docs, name, params, ret, body, span }
    }

    pub(super) fn named_expr(&mut self, pair: Pair<'_, Rule>) -> (Docs, Ident, Expr, Span) {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let docs = inner.next().map(|p| self.docs(p)).unwrap_or_default();
        let name = inner.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
        let expr = inner.next().map(|p| self.expr(p)).unwrap_or_else(|| missing_expr(span));
        (docs, name, expr, span)
    }

    pub(super) fn transition(&mut self, pair: Pair<'_, Rule>) -> TransitionDecl {
        let span = span_of(&pair);
        let mut docs = Docs::default();
        let mut name = None;
        let mut trigger = missing(span);
        let mut sources = Sources { items: Vec::new(), except: Vec::new(), span };
        let mut target = Target::Stay(span);
        let mut dispatch = Dispatch::Always;
        let mut body = None;
        let mut header_start = None;
        let mut header_end = span.start;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::docs => docs = self.docs(part),
                Rule::transition_name => {
                    header_start.get_or_insert(span_of(&part).start);
                    name = part.into_inner().next().map(|p| self.ident(p));
                }
                Rule::ident => {
                    // The keyword `on` sits just before the trigger; the header starts there when unnamed.
                    let ident_span = span_of(&part);
                    let on_start = self.text[..ident_span.start].trim_end().len().saturating_sub(2);
                    header_start.get_or_insert(on_start);
                    trigger = self.ident(part);
                }
                Rule::sources => sources = self.sources(part),
                Rule::target => {
                    header_end = span_of(&part).end;
                    target = self.target(part);
                }
                Rule::otherwise_kw => dispatch = Dispatch::Otherwise(span_of(&part)),
                Rule::when => dispatch = Dispatch::When(part.into_inner().map(|e| self.expr(e)).collect()),
                Rule::block => body = Some(self.block(part)),
                _ => {}
            }
        }
        let header_span = Span::new(header_start.unwrap_or(span.start), header_end.max(span.start));
        TransitionDecl { docs, name, trigger, sources, target, dispatch, body, header_span, span }
    }

    pub(super) fn sources(&mut self, pair: Pair<'_, Rule>) -> Sources {
        let span = span_of(&pair);
        let mut items = Vec::new();
        let mut except = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::any_kw => items.push(SourceItem::Any(span_of(&part))),
                Rule::ident => items.push(SourceItem::Phase(self.ident(part))),
                Rule::except => except = part.into_inner().map(|p| self.ident(p)).collect(),
                _ => {}
            }
        }
        Sources { items, except, span }
    }

    pub(super) fn target(&mut self, pair: Pair<'_, Rule>) -> Target {
        let span = span_of(&pair);
        match pair.into_inner().next() {
            Some(p) if p.as_rule() == Rule::expr => {
                let expr = self.expr(p);
                // A bare name is a phase by name; anything else computes the phase.
                match expr.kind {
                    ExprKind::Name(ident) => Target::Phase(ident),
                    _ => Target::Computed(expr),
                }
            }
            _ => Target::Stay(span),
        }
    }

    pub(super) fn block(&mut self, pair: Pair<'_, Rule>) -> Block {
        let span = span_of(&pair);
        let stmts = pair.into_inner().filter_map(|s| self.stmt(s)).collect();
        Block { stmts, span }
    }

    pub(super) fn stmt(&mut self, pair: Pair<'_, Rule>) -> Option<Stmt> {
        let span = span_of(&pair);
        let kind = match pair.as_rule() {
            Rule::let_stmt => {
                let mut name = missing(span);
                let mut ty = None;
                let mut value = missing_expr(span);
                for part in pair.into_inner() {
                    match part.as_rule() {
                        Rule::ident => name = self.ident(part),
                        Rule::type_expr => ty = Some(self.type_expr(part)),
                        Rule::expr => value = self.expr(part),
                        _ => {}
                    }
                }
                StmtKind::Let { name, ty, value }
            }
            Rule::emit_stmt => {
                let mut effect = missing(span);
                let mut fields = Vec::new();
                let mut fields_span = None;
                for part in pair.into_inner() {
                    match part.as_rule() {
                        Rule::ident => effect = self.ident(part),
                        Rule::emit_fields => {
                            fields_span = Some(span_of(&part));
                            for field in part.into_inner() {
                                let mut f = field.into_inner();
                                let name = f.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
                                let value = f.next().map(|p| self.expr(p));
                                fields.push(EmitField { name, value });
                            }
                        }
                        _ => {}
                    }
                }
                StmtKind::Emit { effect, fields, fields_span }
            }
            Rule::if_stmt => {
                let level = usize::from(!std::mem::take(&mut self.chain_link));
                if self.statement_nesting + level > MAX_NESTING || self.statement_depth >= MAX_TREE_DEPTH {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::Syntax,
                            self.source,
                            format!("`if` statements nest more than {MAX_NESTING} levels deep"),
                            Label::new(Span::new(span.start, span.start), "too deep here"),
                        )
                        .with_help("split the body up, or move conditions into named guards"),
                    );
                    return None;
                }
                self.statement_nesting += level;
                self.statement_depth += 1;
                let kind = self.if_stmt(pair, span);
                self.statement_nesting -= level;
                self.statement_depth -= 1;
                kind
            }
            Rule::place_stmt => {
                let mut inner = pair.into_inner();
                let mut place = inner.next().map(|p| self.place(p)).unwrap_or_else(|| missing_place(span));
                match inner.peek() {
                    Some(op_pair) if op_pair.as_rule() == Rule::assign_op => {
                        let op_span = span_of(&op_pair);
                        let op = match op_pair.as_str() {
                            "+=" => AssignOp::Add,
                            "-=" => AssignOp::Sub,
                            _ => AssignOp::Set,
                        };
                        inner.next();
                        let value = inner.next().map(|p| self.expr(p)).unwrap_or_else(|| missing_expr(span));
                        StmtKind::Assign { place, op, op_span, value }
                    }
                    _ => {
                        let args = inner.map(|a| self.expr(a)).collect();
                        // The grammar reads `a.b.insert` as one place; its last segment is the operation.
                        let method = place.path.pop().unwrap_or_else(|| place.root.clone());
                        StmtKind::Call { place, method, args }
                    }
                }
            }
            _ => return None,
        };
        Some(Stmt { kind, span })
    }

    /// `if cond { .. } else if .. else { .. }`; an `else if` is lowered as an `else` block holding one `if`.
    pub(super) fn if_stmt(&mut self, pair: Pair<'_, Rule>, span: Span) -> StmtKind {
        let mut cond = None;
        let mut then = None;
        let mut else_ = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::condition => cond = Some(self.condition(part)),
                Rule::block if then.is_none() => then = Some(self.block(part)),
                Rule::block => else_ = Some(self.block(part)),
                Rule::if_stmt => {
                    let nested_span = span_of(&part);
                    self.chain_link = true;
                    else_ = self.stmt(part).map(|stmt| Block { stmts: vec![stmt], span: nested_span });
                }
                _ => {}
            }
        }
        StmtKind::If {
            cond: cond.unwrap_or_else(|| Condition { pattern: None, expr: missing_expr(span) }),
            then: then.unwrap_or(Block { stmts: Vec::new(), span }),
            else_,
        }
    }

    pub(super) fn place(&mut self, pair: Pair<'_, Rule>) -> Place {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let root = inner.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
        let path = inner.map(|p| self.ident(p)).collect();
        Place { root, path, span }
    }

    pub(super) fn condition(&mut self, pair: Pair<'_, Rule>) -> Condition {
        let span = span_of(&pair);
        let mut pattern = None;
        let mut expr = missing_expr(span);
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::let_pattern => pattern = part.into_inner().next().map(|p| self.pattern(p)),
                Rule::expr => expr = self.expr(part),
                _ => {}
            }
        }
        Condition { pattern, expr }
    }

    pub(super) fn pattern(&mut self, pair: Pair<'_, Rule>) -> Pattern {
        let span = span_of(&pair);
        let kind = match pair.into_inner().next() {
            Some(p) => match p.as_rule() {
                Rule::wildcard => PatternKind::Wildcard,
                Rule::none_kw => PatternKind::None,
                Rule::true_kw => PatternKind::Bool(true),
                Rule::false_kw => PatternKind::Bool(false),
                Rule::some_pattern => {
                    let bound = p.into_inner().next().filter(|b| b.as_rule() == Rule::ident).map(|b| self.ident(b));
                    PatternKind::Some(bound)
                }
                Rule::path => {
                    let mut parts: Vec<Ident> = p.into_inner().map(|i| self.ident(i)).collect();
                    let last = parts.pop().unwrap_or_else(|| missing(span));
                    PatternKind::Variant(parts.pop(), last)
                }
                _ => PatternKind::Wildcard,
            },
            None => PatternKind::Wildcard,
        };
        Pattern { kind, span }
    }

    pub(super) fn model(&mut self, pair: Pair<'_, Rule>) -> ModelDecl {
        let span = span_of(&pair);
        let mut docs = Docs::default();
        let mut items = Vec::new();
        for part in pair.into_inner() {
            let item_span = span_of(&part);
            match part.as_rule() {
                Rule::docs => docs = self.docs(part),
                Rule::depth_item => {
                    let value = part.into_inner().next().map_or(0, |p| self.int(&p));
                    items.push(ModelItem::Depth { value, span: item_span });
                }
                Rule::domain_item => {
                    let mut inner = part.into_inner();
                    let mut target = missing(item_span);
                    let mut field = None;
                    if let Some(t) = inner.next() {
                        let mut names = t.into_inner();
                        if let Some(n) = names.next() {
                            target = self.ident(n);
                        }
                        field = names.next().map(|n| self.ident(n));
                    }
                    let values = match inner.next().and_then(|v| v.into_inner().next()) {
                        Some(v) if v.as_rule() == Rule::range => {
                            let vspan = span_of(&v);
                            let mut ends = v.into_inner();
                            let lo = ends.next().map_or(0, |p| self.int(&p));
                            let hi = ends.next().map_or(0, |p| self.int(&p));
                            DomainValues::Range(lo, hi, vspan)
                        }
                        Some(v) => {
                            let vspan = span_of(&v);
                            let values = v
                                .into_inner()
                                .filter(|i| i.as_rule() == Rule::bracket_item)
                                .filter_map(|i| i.into_inner().next().map(|e| self.expr(e)))
                                .collect();
                            DomainValues::List(values, vspan)
                        }
                        None => DomainValues::List(Vec::new(), item_span),
                    };
                    items.push(ModelItem::Domain { target, field, values, span: item_span });
                }
                _ => {}
            }
        }
        ModelDecl { docs, items, span }
    }

    pub(super) fn composition(&mut self, pair: Pair<'_, Rule>) -> Composition {
        let span = span_of(&pair);
        let mut docs = Docs::default();
        let mut name = missing(span);
        let mut routes = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::docs => docs = self.docs(part),
                Rule::ident => name = self.ident(part),
                Rule::route => routes.push(self.route(part)),
                _ => {}
            }
        }
        Composition { docs, name, routes, span }
    }

    pub(super) fn route(&mut self, pair: Pair<'_, Rule>) -> Route {
        let span = span_of(&pair);
        let mut docs = Docs::default();
        let mut endpoints = Vec::new();
        let mut fields = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::docs => docs = self.docs(part),
                Rule::endpoint => {
                    let mut names = part.into_inner();
                    let machine = names.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
                    let message = names.next().map(|p| self.ident(p)).unwrap_or_else(|| missing(span));
                    endpoints.push((machine, message));
                }
                Rule::record_fields_or_empty => {
                    for field in part.into_inner() {
                        fields.push(self.record_field(field, span));
                    }
                }
                _ => {}
            }
        }
        let mut endpoints = endpoints.into_iter();
        let (from_machine, from_effect) = endpoints.next().unwrap_or_else(|| (missing(span), missing(span)));
        let (to_machine, to_message) = endpoints.next().unwrap_or_else(|| (missing(span), missing(span)));
        Route { docs, from_machine, from_effect, to_machine, to_message, fields, span }
    }
}

pub(super) fn missing(span: Span) -> Ident {
    Ident { name: String::new(), span }
}

pub(super) fn missing_type(span: Span) -> TypeExpr {
    TypeExpr { name: missing(span), args: Vec::new(), span }
}

pub(super) fn missing_expr(span: Span) -> Expr {
    Expr { kind: ExprKind::Bool(false), span }
}

pub(super) fn missing_place(span: Span) -> Place {
    Place { root: missing(span), path: Vec::new(), span }
}
