//! The names of one package of spec files (the `.machine` files of one folder, or a single file): every
//! declaration (types, variants, phases, fields, messages, helpers and their parameters, local bindings, guards,
//! invariants, properties, transitions, machines, compositions) and every place a name is written, resolved to
//! the declarations it can mean, in whichever file of the package they are. Resolution is by name within the
//! machine around it, narrowed by what is written next to it (`Lamp::Red`, `self.x`, `Machine.Effect`, a
//! transition's payload, the innermost parameter or local binding whose scope holds it); a name that still
//! means more than one declaration keeps all of them, so references find it and rename refuses it.

use std::collections::HashMap;

use meerkat_dsl::Span;
use meerkat_dsl::ast::{self, File, MachineItem, MessageKind, TopItem};
use meerkat_dsl::format::lex::{TokenKind, lex};

use crate::locals::{LocalTypes, Locals};

/// What a declaration declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    /// A machine.
    Machine,
    /// A composition.
    Composition,
    /// An enum, record or newtype.
    Type,
    /// An enum's variant.
    Variant,
    /// A phase.
    Phase,
    /// A field of the state.
    StateField,
    /// A field of a record.
    RecordField,
    /// An input, signal or effect.
    Message,
    /// A field of a message's payload.
    PayloadField,
    /// A helper function.
    Helper,
    /// A helper's parameter.
    Param,
    /// A local binding: a `let` name, a closure parameter or a name a `Some(x)` pattern binds.
    Local,
    /// A named guard.
    Guard,
    /// An invariant.
    Invariant,
    /// A `property` or `reachable` goal.
    Property,
    /// A named transition.
    Transition,
}

/// One declaration.
#[derive(Clone, Debug)]
pub struct Symbol {
    /// The declared name.
    pub name: String,
    /// What it declares.
    pub kind: SymbolKind,
    /// The name where it is declared.
    pub name_span: Span,
    /// The whole declaration; for parameters and local bindings, their scope (where the name means them).
    pub span: Span,
    /// A one-line summary for hover: the type, the signature or the declaration's head.
    pub detail: String,
    /// The doc comment.
    pub docs: Option<String>,
    /// The machine it belongs to, an index into [`Index::machines`] (none for machines and compositions).
    pub machine: Option<usize>,
    /// The type, message or helper it belongs to (for variants, fields and parameters).
    pub owner: Option<String>,
    /// The file it is declared in, an index into the package's files.
    pub file: usize,
}

/// A machine's extent.
#[derive(Clone, Debug)]
pub struct MachineScope {
    /// Its name.
    pub name: String,
    /// The file it is written in.
    pub file: usize,
    /// Its whole text.
    pub span: Span,
    /// Its transitions' triggers: `(the transition's span, the message name)`.
    pub triggers: Vec<(Span, String)>,
}

/// A written name and the declarations it can mean.
#[derive(Clone, Debug)]
pub struct Occurrence {
    /// The file it is written in.
    pub file: usize,
    /// Where it is written.
    pub span: Span,
    /// Indexes into [`Index::symbols`]; more than one when the name is ambiguous.
    pub symbols: Vec<usize>,
}

/// The names of one package.
#[derive(Clone, Debug, Default)]
pub struct Index {
    /// Every declaration, in file order.
    pub symbols: Vec<Symbol>,
    /// The machines.
    pub machines: Vec<MachineScope>,
    /// Every written name that resolves, ordered by file, then by place in the file.
    pub occurrences: Vec<Occurrence>,
}

impl Index {
    /// Indexes the files of a package: each one's text and its syntax tree (none when it does not parse, which
    /// leaves it without names). A file's number is its place in `files`.
    /// `types` holds the checker's types of local bindings, when the package checked.
    pub fn new(files: &[(&str, Option<&File>)], types: &LocalTypes) -> Self {
        let mut index = Index::default();
        for (number, (text, parsed)) in files.iter().enumerate() {
            if let Some(parsed) = parsed {
                index.file(number, text, parsed, types);
            }
        }
        let declarations = Declarations::new(&index.symbols);
        let mut occurrences = Vec::new();
        for (number, (text, parsed)) in files.iter().enumerate() {
            if parsed.is_some() {
                occurrences.extend(index.resolve(&declarations, number, text));
            }
        }
        index.occurrences = occurrences;
        index
    }

    fn file(&mut self, number: usize, text: &str, file: &File, types: &LocalTypes) {
        for item in &file.items {
            match item {
                TopItem::Machine(machine) => self.machine(number, text, machine, types),
                TopItem::Composition(composition) => self.push(Symbol {
                    name: composition.name.name.clone(),
                    kind: SymbolKind::Composition,
                    name_span: composition.name.span,
                    span: composition.span,
                    detail: format!("composition {}", composition.name.name),
                    docs: composition.docs.text(),
                    machine: None,
                    owner: None,
                    file: number,
                }),
            }
        }
    }

    /// The occurrence at byte `offset` of file `file`, if a name is written there.
    pub fn occurrence_at(&self, file: usize, offset: usize) -> Option<&Occurrence> {
        let i = self.occurrences.partition_point(|o| (o.file, o.span.end) < (file, offset));
        self.occurrences.get(i).filter(|o| o.file == file && o.span.start <= offset && offset <= o.span.end)
    }

    /// Every occurrence that can mean symbol `symbol`.
    pub fn references(&self, symbol: usize) -> impl Iterator<Item = &Occurrence> {
        self.occurrences.iter().filter(move |o| o.symbols.contains(&symbol))
    }

    /// The machine whose text holds byte `offset` of file `file`.
    pub fn machine_at(&self, file: usize, offset: usize) -> Option<usize> {
        self.machines.iter().position(|m| m.file == file && m.span.start <= offset && offset <= m.span.end)
    }

    /// The message that triggers the transition around `offset`, if any. Transitions are recorded in file order
    /// and do not overlap, so the search is a binary one.
    pub fn trigger_at(&self, file: usize, offset: usize) -> Option<&str> {
        let machine = self.machines.get(self.machine_at(file, offset)?)?;
        let i = machine.triggers.partition_point(|(span, _)| span.end < offset);
        machine.triggers.get(i).filter(|(span, _)| span.start <= offset).map(|(_, m)| m.as_str())
    }

    fn push(&mut self, symbol: Symbol) {
        self.symbols.push(symbol);
    }

    fn machine(&mut self, file: usize, text: &str, machine: &ast::Machine, types: &LocalTypes) {
        let m = self.machines.len();
        self.machines.push(MachineScope {
            name: machine.name.name.clone(),
            file,
            span: machine.span,
            triggers: Vec::new(),
        });
        let head = |span: Span| first_line(span.text(text));
        self.push(Symbol {
            name: machine.name.name.clone(),
            kind: SymbolKind::Machine,
            name_span: machine.name.span,
            span: machine.span,
            detail: format!("machine {}", machine.name.name),
            docs: machine.docs.text(),
            machine: None,
            owner: None,
            file,
        });
        let add = |index: &mut Index,
                   ident: &ast::Ident,
                   kind,
                   span,
                   detail: String,
                   docs: &ast::Docs,
                   owner: Option<&str>| {
            index.push(Symbol {
                name: ident.name.clone(),
                kind,
                name_span: ident.span,
                span,
                detail,
                docs: docs.text(),
                machine: Some(m),
                owner: owner.map(str::to_string),
                file,
            });
        };
        let field = |f: &ast::FieldDecl| format!("{}: {}", f.name.name, f.ty.span.text(text));
        for item in &machine.items {
            match item {
                MachineItem::Enum(decl) => {
                    add(self, &decl.name, SymbolKind::Type, decl.span, head(decl.span), &decl.docs, None);
                    for variant in &decl.variants {
                        let detail = format!("{}::{}", decl.name.name, variant.name.name);
                        let owner = Some(decl.name.name.as_str());
                        add(self, &variant.name, SymbolKind::Variant, variant.name.span, detail, &variant.docs, owner);
                    }
                }
                MachineItem::Record(decl) => {
                    add(self, &decl.name, SymbolKind::Type, decl.span, head(decl.span), &decl.docs, None);
                    for f in &decl.fields {
                        let owner = Some(decl.name.name.as_str());
                        add(self, &f.name, SymbolKind::RecordField, f.span, field(f), &f.docs, owner);
                    }
                }
                MachineItem::Newtype(decl) => {
                    add(self, &decl.name, SymbolKind::Type, decl.span, head(decl.span), &decl.docs, None)
                }
                MachineItem::Phases(decl) => {
                    for phase in &decl.phases {
                        let kind = match phase.kind {
                            ast::PhaseKind::Initial => "initial phase",
                            ast::PhaseKind::Terminal => "terminal phase",
                            ast::PhaseKind::Normal => "phase",
                        };
                        let detail = format!("{kind} {}", phase.name.name);
                        add(self, &phase.name, SymbolKind::Phase, phase.name.span, detail, &phase.docs, Some("Phase"));
                    }
                }
                MachineItem::State(decl) => {
                    for f in &decl.fields {
                        let detail = format!("state {}", field(f));
                        add(self, &f.name, SymbolKind::StateField, f.span, detail, &f.docs, None);
                    }
                }
                MachineItem::Message(decl) => {
                    let detail = if decl.kind == MessageKind::Effect {
                        decl.span.text(text).to_string()
                    } else {
                        head(decl.span)
                    };
                    add(self, &decl.name, SymbolKind::Message, decl.span, detail, &decl.docs, None);
                    for f in &decl.fields {
                        let owner = Some(decl.name.name.as_str());
                        let detail =
                            format!("{}: {} (payload of {})", f.name.name, f.ty.span.text(text), decl.name.name);
                        add(self, &f.name, SymbolKind::PayloadField, f.span, detail, &f.docs, owner);
                    }
                }
                MachineItem::Helper(decl) => {
                    let detail = decl.span.text(text).to_string();
                    add(self, &decl.name, SymbolKind::Helper, decl.span, detail, &decl.docs, None);
                    for param in &decl.params {
                        let detail = format!(
                            "{}: {} (parameter of {})",
                            param.name.name,
                            param.ty.span.text(text),
                            decl.name.name
                        );
                        let span = param.name.span.to(param.ty.span);
                        let owner = Some(decl.name.name.as_str());
                        add(self, &param.name, SymbolKind::Param, span, detail, &ast::Docs::default(), owner);
                        // A parameter is visible only inside its helper: record the helper's span as its scope.
                        if let Some(symbol) = self.symbols.last_mut() {
                            symbol.span = decl.span;
                            symbol.name_span = param.name.span;
                        }
                    }
                }
                MachineItem::Guard(decl) => add(
                    self,
                    &decl.name,
                    SymbolKind::Guard,
                    decl.span,
                    decl.span.text(text).to_string(),
                    &decl.docs,
                    None,
                ),
                MachineItem::Invariant(decl) => {
                    let detail = decl.span.text(text).to_string();
                    add(self, &decl.name, SymbolKind::Invariant, decl.span, detail, &decl.docs, None)
                }
                MachineItem::Property(decl) => {
                    let detail = decl.span.text(text).to_string();
                    add(self, &decl.name, SymbolKind::Property, decl.span, detail, &decl.docs, None)
                }
                MachineItem::Transition(decl) => {
                    if let Some(machine) = self.machines.get_mut(m) {
                        machine.triggers.push((decl.span, decl.trigger.name.clone()));
                    }
                    if let Some(name) = &decl.name {
                        let detail = decl.header_span.text(text).to_string();
                        add(self, name, SymbolKind::Transition, decl.span, detail, &decl.docs, None);
                    }
                }
                MachineItem::Model(_) => {}
            }
        }
        // Each body's bindings, collected apart so the checker's types of that body can be matched to them.
        let mut found = Vec::new();
        for item in &machine.items {
            let mut locals = Locals::new(text);
            let body = match item {
                MachineItem::State(decl) => {
                    decl.fields.iter().filter_map(|f| f.default.as_ref()).for_each(|e| locals.expr(e));
                    None
                }
                MachineItem::Message(decl) => {
                    decl.fields.iter().filter_map(|f| f.default.as_ref()).for_each(|e| locals.expr(e));
                    None
                }
                MachineItem::Helper(decl) => {
                    locals.expr(&decl.body);
                    Some(decl.span)
                }
                MachineItem::Guard(decl) => {
                    locals.expr(&decl.expr);
                    Some(decl.span)
                }
                MachineItem::Invariant(decl) => {
                    locals.expr(&decl.expr);
                    Some(decl.span)
                }
                MachineItem::Property(decl) => {
                    locals.expr(&decl.expr);
                    Some(decl.span)
                }
                MachineItem::Transition(decl) => {
                    if let ast::Dispatch::When(guards) = &decl.dispatch {
                        guards.iter().for_each(|e| locals.expr(e));
                    }
                    if let ast::Target::Computed(e) = &decl.target {
                        locals.expr(e);
                    }
                    if let Some(body) = &decl.body {
                        locals.block(body);
                    }
                    Some(decl.span)
                }
                _ => None,
            };
            if let Some(span) = body {
                types.annotate(file, span, &mut locals.found);
            }
            found.append(&mut locals.found);
        }
        for local in found {
            self.push(Symbol {
                name: local.name.name,
                kind: SymbolKind::Local,
                name_span: local.name.span,
                span: local.scope,
                detail: local.detail,
                docs: None,
                machine: Some(m),
                owner: None,
                file,
            });
        }
    }

    /// Resolves every name written in file `file`, in the order they are written.
    fn resolve(&self, declarations: &Declarations<'_>, file: usize, text: &str) -> Vec<Occurrence> {
        let mut found = Vec::new();
        let Ok(tokens) = lex(text) else { return found };
        let code: Vec<_> = tokens.iter().filter(|t| !t.is_comment()).collect();
        for (i, token) in code.iter().enumerate() {
            if token.kind != TokenKind::Word {
                continue;
            }
            let span = Span::new(token.start, token.start + token.text.len());
            let before = |n: usize| i.checked_sub(n).and_then(|j| code.get(j)).map_or("", |t| t.text);
            let after = code.get(i + 1).map_or("", |t| t.text);
            let symbols = self.meanings(declarations, file, token.text, span, [before(1), before(2), after]);
            if !symbols.is_empty() {
                found.push(Occurrence { file, span, symbols });
            }
        }
        found
    }

    /// The declarations the name `name` written at `span` of file `file` can mean, given the tokens around it:
    /// `[the one before, the one before that, the one after]`.
    fn meanings(
        &self,
        declarations: &Declarations<'_>,
        file: usize,
        name: &str,
        span: Span,
        [before, before2, after]: [&str; 3],
    ) -> Vec<usize> {
        if let Some(&own) = declarations.by_name_span.get(&(file, span)) {
            return vec![own];
        }
        let candidates = declarations.by_name.get(name).map_or(&[][..], Vec::as_slice);
        if candidates.is_empty() {
            return Vec::new();
        }
        let named = |pred: &dyn Fn(&Symbol) -> bool| -> Vec<usize> {
            candidates.iter().copied().filter(|&i| self.symbols.get(i).is_some_and(pred)).collect()
        };
        let machine = self.machine_at(file, span.start);
        // `Machine.Effect` in a route, and `Message.field` in a model block.
        if before == "." {
            if let Some(other) = self.machines.iter().position(|m| m.name == before2) {
                return named(&|s| s.machine == Some(other) && s.kind == SymbolKind::Message);
            }
            if before2 == "self" {
                return named(&|s| s.machine == machine && s.kind == SymbolKind::StateField);
            }
            let owned = named(&|s| s.machine == machine && s.owner.as_deref() == Some(before2));
            if !owned.is_empty() {
                return owned;
            }
            return named(&|s| {
                s.machine == machine && matches!(s.kind, SymbolKind::RecordField | SymbolKind::PayloadField)
            });
        }
        if before == "::" {
            return named(&|s| s.machine == machine && s.owner.as_deref() == Some(before2));
        }
        if after == "." && before != "." && self.machines.iter().any(|m| m.name == name) && machine.is_none() {
            return named(&|s| s.kind == SymbolKind::Machine);
        }
        if machine.is_none() {
            return named(&|s| s.kind == SymbolKind::Machine);
        }
        // A parameter or local binding whose scope holds the name; the innermost one shadows the others.
        let bound = named(&|s| {
            matches!(s.kind, SymbolKind::Param | SymbolKind::Local)
                && s.file == file
                && s.span.start <= span.start
                && span.end <= s.span.end
        });
        let innermost = bound.iter().filter_map(|&i| self.symbols.get(i)).map(|s| s.span.end - s.span.start).min();
        if let Some(width) = innermost {
            return bound
                .into_iter()
                .filter(|&i| self.symbols.get(i).is_some_and(|s| s.span.end - s.span.start == width))
                .collect();
        }
        if let Some(trigger) = self.trigger_at(file, span.start) {
            let payload = named(&|s| {
                s.machine == machine && s.owner.as_deref() == Some(trigger) && s.kind == SymbolKind::PayloadField
            });
            if !payload.is_empty() && after != ":" {
                return payload;
            }
        }
        named(&|s| {
            s.machine == machine
                && !matches!(
                    s.kind,
                    SymbolKind::Param | SymbolKind::Local | SymbolKind::RecordField | SymbolKind::PayloadField
                )
        })
        .into_iter()
        .chain(if after == ":" {
            named(&|s| s.machine == machine && matches!(s.kind, SymbolKind::RecordField | SymbolKind::PayloadField))
        } else {
            Vec::new()
        })
        .collect()
    }
}

/// The declarations looked up by what resolution asks of them, built once per file resolved: by name (each
/// list in package order, as the symbols are) and by the file and span where the name is declared.
struct Declarations<'a> {
    by_name: HashMap<&'a str, Vec<usize>>,
    by_name_span: HashMap<(usize, Span), usize>,
}

impl<'a> Declarations<'a> {
    fn new(symbols: &'a [Symbol]) -> Self {
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_name_span = HashMap::new();
        for (i, symbol) in symbols.iter().enumerate() {
            by_name.entry(symbol.name.as_str()).or_default().push(i);
            // The first declaration at a span wins, as the former linear search found it.
            by_name_span.entry((symbol.file, symbol.name_span)).or_insert(i);
        }
        Declarations { by_name, by_name_span }
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim_end_matches('{').trim_end().to_string()
}
