//! Transition checking: triggers, names, `from` clauses (expanded to phase lists, rejecting duplicate and empty
//! sources), targets, guards and bodies. The structural rules over the checked transitions (exits from terminal
//! phases, `pure` inputs that change state, duplicate `otherwise`) are analyses of their own in `analyses/`.

use std::collections::HashMap;

use crate::ast::{self, Dispatch, SourceItem};
use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::{self, PhaseId, TransitionId, Trigger, Type};
use crate::span::Span;

use super::body::{Body, Ctx, Node};
use super::machine::MachineChecker;
use super::names::{suggest, with_suggestion};

impl MachineChecker<'_> {
    pub(crate) fn check_transitions(&mut self) {
        let decls: Vec<&ast::TransitionDecl> = self
            .ast
            .items
            .iter()
            .filter_map(|i| if let ast::MachineItem::Transition(t) = i { Some(t) } else { None })
            .collect();

        // Transitions per trigger, to enforce names where a trigger has several.
        let mut per_trigger: HashMap<&str, Vec<&ast::TransitionDecl>> = HashMap::new();
        for decl in &decls {
            per_trigger.entry(decl.trigger.name.as_str()).or_default().push(decl);
        }

        // One report per trigger whose transitions need names, labelling every unnamed one.
        let mut reported: Vec<&str> = Vec::new();
        for decl in &decls {
            let trigger = decl.trigger.name.as_str();
            let siblings = per_trigger.get(trigger).map_or(&[][..], Vec::as_slice);
            if decl.name.is_some() || siblings.len() < 2 || reported.contains(&trigger) {
                continue;
            }
            reported.push(trigger);
            let mut diagnostic = Diagnostic::new(
                Code::TransitionNameRequired,
                self.source,
                format!("`{trigger}` has {} transitions, so each needs a name", siblings.len()),
                Label::new(decl.header_span, "unnamed transition"),
            )
            .with_help(format!(
                "name each: `transition SomeName on {trigger} from ...`; errors and traces use the name"
            ));
            for other in siblings.iter().filter(|d| d.name.is_none() && d.header_span != decl.header_span) {
                diagnostic = diagnostic.with_label(other.header_span, "unnamed transition");
            }
            self.diags.push(diagnostic);
        }

        for decl in decls {
            let trigger = self.resolve_trigger(&decl.trigger);
            let siblings = per_trigger.get(decl.trigger.name.as_str()).map_or(1, Vec::len);
            // An unnamed transition among several on its trigger has its error (above).
            let name_required = decl.name.is_none() && siblings > 1;
            let name = decl.name.clone().unwrap_or_else(|| decl.trigger.clone());
            let id = TransitionId(self.m.transitions.len() as u32);
            // An unnamed sibling already has its error; declaring its stand-in name would only add a duplicate.
            if !name_required {
                if self.transitions.contains(&name.name) {
                    self.transitions.declare(&name, id, self.source, &mut self.diags);
                    continue;
                }
                self.transitions.declare(&name, id, self.source, &mut self.diags);
            }
            let sources = self.resolve_sources(&decl.sources);
            let Some(trigger) = trigger else {
                // Still report an unknown target phase; a computed target needs the trigger's payload in scope.
                if let ast::Target::Phase(ident) = &decl.target {
                    self.resolve_phase(ident);
                }
                continue;
            };

            let mut body = Body::new(Ctx::Transition(trigger), Node::Other);
            let mut guards = Vec::new();
            let mut otherwise = false;
            match &decl.dispatch {
                Dispatch::Always => {}
                Dispatch::Otherwise(_) => otherwise = true,
                Dispatch::When(conditions) => {
                    for condition in conditions {
                        if let Ok(expr) = self.check_expr(&mut body, condition, Some(&Type::Bool)) {
                            let label = guard_label(&expr, condition.span.text(self.text), &self.m);
                            guards.push(ir::GuardCheck { label, expr, span: condition.span });
                        }
                    }
                }
            }
            // The target is computed after the guards pass and before the body runs, so it sees the guards' scope
            // and not the body's locals.
            let target = match &decl.target {
                ast::Target::Stay(_) => Some(ir::Target::Stay),
                ast::Target::Phase(ident) => self.resolve_phase(ident).map(ir::Target::Phase),
                ast::Target::Computed(expr) => self
                    .check_expr(&mut body, expr, Some(&Type::Phase))
                    .ok()
                    .map(|expr| ir::Target::Computed { possible: Vec::new(), expr }),
            };
            let stmts = decl.body.as_ref().map(|b| self.check_block(&mut body, b)).unwrap_or_default();

            let (Some((sources, source_spans)), Some(mut target)) = (sources, target) else { continue };
            if let ir::Target::Computed { expr, possible } = &mut target {
                *possible = sources
                    .iter()
                    .map(|source| {
                        let mut reached = vec![false; self.m.phases.len()];
                        possible_phases(&self.m, expr, *source, &[], 0, &mut reached);
                        reached.iter().enumerate().filter(|(_, r)| **r).map(|(i, _)| PhaseId(i as u32)).collect()
                    })
                    .collect();
            }
            let transition = ir::Transition {
                name: name.name.clone(),
                docs: decl.docs.text(),
                trigger,
                sources,
                source_spans,
                target,
                target_span: decl.target.span(),
                guards,
                otherwise,
                body: stmts,
                locals: body.locals,
                header_span: decl.header_span,
                span: decl.span,
            };
            self.m.transitions.push(transition);
        }
    }

    fn resolve_trigger(&mut self, ident: &ast::Ident) -> Option<Trigger> {
        if let Some(trigger) = self.triggers.get(&ident.name) {
            return Some(trigger);
        }
        let suggestion = suggest(&ident.name, self.triggers.names());
        let fallback = if self.effects.contains(&ident.name) {
            Some(format!("`{}` is an effect; transitions are triggered by inputs and signals", ident.name))
        } else {
            Some(format!("declare it: `input {}` or `signal {}`", ident.name, ident.name))
        };
        let d = Diagnostic::new(
            Code::UnknownTrigger,
            self.source,
            format!("no input or signal named `{}`", ident.name),
            Label::new(ident.span, "unknown trigger"),
        );
        self.diags.push(with_suggestion(d, suggestion, fallback));
        None
    }

    pub(crate) fn resolve_phase(&mut self, ident: &ast::Ident) -> Option<PhaseId> {
        if let Some(id) = self.phases.get(&ident.name) {
            return Some(id);
        }
        let suggestion = suggest(&ident.name, self.phases.names());
        let d = Diagnostic::new(
            Code::UnknownPhase,
            self.source,
            format!("no phase named `{}`", ident.name),
            Label::new(ident.span, "unknown phase"),
        );
        let phases: Vec<&str> = self.phases.names().collect();
        let fallback = Some(format!("the phases are: {}", phases.join(", ")));
        self.diags.push(with_suggestion(d, suggestion, fallback));
        None
    }

    /// Expands a `from` clause to phase ids in declaration order, each with the span that selected it.
    fn resolve_sources(&mut self, sources: &ast::Sources) -> Option<(Vec<PhaseId>, Vec<Span>)> {
        let mut selected: Vec<Option<Span>> = vec![None; self.m.phases.len()];
        let mut any_span: Option<Span> = None;
        let mut ok = true;
        for item in &sources.items {
            match item {
                SourceItem::Any(span) => {
                    if let Some(first) = any_span {
                        self.duplicate_source(*span, first, "`any` is listed twice");
                        ok = false;
                        continue;
                    }
                    any_span = Some(*span);
                    let non_terminal: Vec<(usize, String)> = self
                        .m
                        .phases
                        .iter()
                        .enumerate()
                        .filter(|(_, p)| !p.terminal)
                        .map(|(i, p)| (i, p.name.clone()))
                        .collect();
                    for (index, name) in non_terminal {
                        {
                            if let Some(first) = selected[index] {
                                let message = format!("`any` includes `{name}`, which is already listed");
                                self.duplicate_source(*span, first, &message);
                                ok = false;
                            }
                            selected[index] = Some(*span);
                        }
                    }
                }
                SourceItem::Phase(ident) => {
                    let Some(id) = self.resolve_phase(ident) else {
                        ok = false;
                        continue;
                    };
                    if let Some(first) = selected[id.index()] {
                        let message = if Some(first) == any_span {
                            format!("`{}` is already included by `any`", ident.name)
                        } else {
                            format!("`{}` is listed twice", ident.name)
                        };
                        self.duplicate_source(ident.span, first, &message);
                        ok = false;
                        continue;
                    }
                    selected[id.index()] = Some(ident.span);
                }
            }
        }
        for ident in &sources.except {
            let Some(id) = self.resolve_phase(ident) else {
                ok = false;
                continue;
            };
            if selected[id.index()].is_none() {
                self.diags.push(
                    Diagnostic::new(
                        Code::DuplicateSource,
                        self.source,
                        format!("`except {}` removes a phase that is not selected", ident.name),
                        Label::new(ident.span, "not among the sources"),
                    )
                    .with_help("remove it from the `except` list"),
                );
                ok = false;
            }
            selected[id.index()] = None;
        }
        if !ok {
            return None;
        }
        let (phases, spans): (Vec<PhaseId>, Vec<Span>) =
            selected.iter().enumerate().filter_map(|(i, s)| s.map(|span| (PhaseId(i as u32), span))).unzip();
        if phases.is_empty() {
            self.diags.push(
                Diagnostic::new(
                    Code::EmptySources,
                    self.source,
                    "this `from` clause selects no phase",
                    Label::new(sources.span, "no source phase left"),
                )
                .with_help("list at least one phase the transition can fire from"),
            );
            return None;
        }
        Some((phases, spans))
    }

    fn duplicate_source(&mut self, span: Span, first: Span, message: &str) {
        let mut d =
            Diagnostic::new(Code::DuplicateSource, self.source, message.to_string(), Label::new(span, "listed again"));
        if first != span {
            d = d.with_label(first, "first listed here");
        }
        self.diags.push(d.with_help("list each source phase once"));
    }
}

/// Marks in `out` every phase a `Phase`-typed expression can produce when its transition fires from `source`:
/// the literals at the leaves of its `if`, `match` and helper bodies, `source` for `source` and `phase` (the
/// pre-state), and every phase for any other read (a field, a payload, an `unwrap_or`). `args` holds the
/// possible phases of a helper's arguments.
fn possible_phases(
    m: &ir::Machine,
    expr: &ir::Expr,
    source: PhaseId,
    args: &[Vec<bool>],
    depth: usize,
    out: &mut [bool],
) {
    use ir::ExprKind as K;
    match &expr.kind {
        K::PhaseLit(id) => out[id.index()] = true,
        K::Source | K::Phase => out[source.index()] = true,
        K::If(_, then, else_) | K::IfLet { then, else_, .. } => {
            possible_phases(m, then, source, args, depth, out);
            possible_phases(m, else_, source, args, depth, out);
        }
        K::Match { arms, .. } => arms.iter().for_each(|arm| possible_phases(m, &arm.body, source, args, depth, out)),
        K::Param(index) => match args.get(*index as usize) {
            Some(arg) => out.iter_mut().zip(arg).for_each(|(o, a)| *o |= *a),
            None => out.iter_mut().for_each(|o| *o = true),
        },
        // A chain of calls deeper than the number of helpers is a cycle, already an error: give up on precision.
        K::Call(..) if depth > m.helpers.len() => out.iter_mut().for_each(|o| *o = true),
        K::Call(helper, call_args) => {
            let arg_phases: Vec<Vec<bool>> = call_args
                .iter()
                .map(|arg| {
                    let mut phases = vec![false; out.len()];
                    if arg.ty == Type::Phase {
                        possible_phases(m, arg, source, args, depth, &mut phases);
                    }
                    phases
                })
                .collect();
            possible_phases(m, &m.helpers[helper.index()].body, source, &arg_phases, depth + 1, out);
        }
        _ => out.iter_mut().for_each(|o| *o = true),
    }
}

/// How a guard condition is named in errors: a named guard by its name (`!name` when negated), anything else by
/// its source text on one line ([`normalized_source`]).
fn guard_label(expr: &ir::Expr, text: &str, machine: &ir::Machine) -> String {
    match &expr.kind {
        ir::ExprKind::Guard(id) => machine.guards[id.index()].name.clone(),
        ir::ExprKind::Not(inner) => match &inner.kind {
            ir::ExprKind::Guard(id) => format!("!{}", machine.guards[id.index()].name),
            _ => normalized_source(text),
        },
        _ => normalized_source(text),
    }
}

/// Source text on one line, spaced the way the language reference writes it: each run of whitespace becomes one
/// space, and none is kept just inside brackets or before a comma (`f( a ,\n b )` becomes `f(a, b)`). String
/// literals are kept as written.
fn normalized_source(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut pending_space = false;
    for c in text.trim().chars() {
        if in_string {
            out.push(c);
            in_string = escaped || c != '"';
            escaped = !escaped && c == '\\';
            continue;
        }
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space && !matches!(c, ')' | ']' | ',') && !out.ends_with(['(', '[']) {
            out.push(' ');
        }
        pending_space = false;
        in_string = c == '"';
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalized_source;

    #[test]
    fn guard_labels_are_spaced_like_the_reference() {
        assert_eq!(normalized_source("is_current_run( run_id )"), "is_current_run(run_id)");
        assert_eq!(normalized_source("f(a ,\n    b)  &&  xs[ 0 ]"), "f(a, b) && xs[0]");
        assert_eq!(normalized_source("name  ==  \"a  ( b \\\" )\""), "name == \"a  ( b \\\" )\"");
    }
}
