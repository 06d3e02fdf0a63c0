//! The `model { ... }` block: the depth bound and the finite value domains the model checker tries for payload
//! fields, by type (`domain u64 = 0..=3`) or by field (`domain Claim.ttl = [1, 5]`).

use crate::ast::{self, DomainValues, ModelItem};
use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::{self, DomainTarget, ExprKind, Type, TypeKind};
use crate::span::Span;

use super::body::{Body, Ctx, Node};
use super::machine::MachineChecker;
use super::names::{suggest, with_suggestion};

impl MachineChecker<'_> {
    pub(crate) fn check_model(&mut self) {
        let blocks: Vec<&ast::ModelDecl> = self
            .ast
            .items
            .iter()
            .filter_map(|i| if let ast::MachineItem::Model(m) = i { Some(m) } else { None })
            .collect();
        let Some(first) = blocks.first() else { return };
        for extra in &blocks[1..] {
            self.diags.push(
                Diagnostic::new(
                    Code::DuplicateBlock,
                    self.source,
                    "a machine has one `model` block",
                    Label::new(extra.span, "second `model` block"),
                )
                .with_label(first.span, "first `model` block")
                .with_help("put every model setting in the first block"),
            );
        }
        self.m.model.span = Some(first.span);
        let mut depth_span: Option<Span> = None;
        let mut targets: Vec<(DomainTarget, Span)> = Vec::new();
        let mut unfired_span: Option<Span> = None;
        for item in &first.items {
            match item {
                ModelItem::Depth { value, span } => {
                    if let Some(previous) = depth_span {
                        self.duplicate_setting(*span, previous, "`depth`");
                        continue;
                    }
                    depth_span = Some(*span);
                    if *value == 0 {
                        self.diags.push(
                            Diagnostic::new(
                                Code::InvalidDomain,
                                self.source,
                                "the model depth must be at least 1",
                                Label::new(*span, "depth 0 explores nothing"),
                            )
                            .with_help("set `depth = N` with N >= 1"),
                        );
                        continue;
                    }
                    self.m.model.depth = Some(*value);
                }
                ModelItem::Domain { target, field, values, span } => {
                    let Some((target_kind, ty)) = self.domain_target(target, field.as_ref()) else { continue };
                    if let Some((_, previous)) = targets.iter().find(|(t, _)| *t == target_kind) {
                        let what = match field {
                            Some(f) => format!("`domain {}.{}`", target.name, f.name),
                            None => format!("`domain {}`", target.name),
                        };
                        self.duplicate_setting(*span, *previous, &what);
                        continue;
                    }
                    let Some(values) = self.domain_values(values, &ty) else { continue };
                    targets.push((target_kind.clone(), *span));
                    self.m.model.domains.push(ir::Domain { target: target_kind, values, span: *span });
                }
                ModelItem::Unfired { names, span } => {
                    if let Some(previous) = unfired_span {
                        self.duplicate_setting(*span, previous, "`unfired`");
                        continue;
                    }
                    unfired_span = Some(*span);
                    self.unfired(names);
                }
            }
        }
    }

    /// Resolves the transitions of `unfired = [...]`, reporting names that are no transition (or are listed
    /// twice).
    fn unfired(&mut self, names: &[ast::Ident]) {
        for name in names {
            let Some(id) = self.transitions.get(&name.name) else {
                let suggestion = suggest(&name.name, self.transitions.names());
                let d = Diagnostic::new(
                    Code::UnknownUnfired,
                    self.source,
                    format!("`unfired` names `{}`, which is no transition of this machine", name.name),
                    Label::new(name.span, "not a transition"),
                );
                self.diags.push(with_suggestion(
                    d,
                    suggestion,
                    Some("list transitions by name: `transition Name on ...`, or the trigger of an unnamed one".into()),
                ));
                continue;
            };
            if let Some((_, previous)) = self.m.model.unfired.iter().find(|(t, _)| *t == id) {
                self.duplicate_setting(name.span, *previous, &format!("`unfired` entry `{}`", name.name));
                continue;
            }
            self.m.model.unfired.push((id, name.span));
        }
    }

    fn duplicate_setting(&mut self, span: Span, previous: Span, what: &str) {
        self.diags.push(
            Diagnostic::new(
                Code::DuplicateModelSetting,
                self.source,
                format!("{what} is set twice"),
                Label::new(span, "set again here"),
            )
            .with_label(previous, "first set here")
            .with_help("keep one of the two settings"),
        );
    }

    /// Resolves what a domain applies to, with the type its values must have.
    fn domain_target(&mut self, target: &ast::Ident, field: Option<&ast::Ident>) -> Option<(DomainTarget, Type)> {
        match field {
            None => {
                let ty = match target.name.as_str() {
                    "u64" => Type::U64,
                    "String" => Type::String,
                    name => match self.types.get(name) {
                        Some(id) if matches!(self.m.types[id.index()].kind, TypeKind::Newtype { .. }) => {
                            Type::Named(id)
                        }
                        _ => {
                            let candidates: Vec<String> = ["u64", "String"]
                                .into_iter()
                                .map(str::to_string)
                                .chain(
                                    self.m
                                        .types
                                        .iter()
                                        .filter(|t| matches!(t.kind, TypeKind::Newtype { .. }))
                                        .map(|t| t.name.clone()),
                                )
                                .collect();
                            let suggestion = suggest(name, candidates.iter().map(String::as_str));
                            let d = Diagnostic::new(
                                Code::InvalidDomain,
                                self.source,
                                format!("cannot give `{name}` a domain"),
                                Label::new(target.span, "not a domain target"),
                            );
                            self.diags.push(with_suggestion(
                                d,
                                suggestion,
                                Some("domains are for `u64`, `String`, newtypes, or one payload field: `domain Input.field = [...]` (enums and bools are finite already)".to_string()),
                            ));
                            return None;
                        }
                    },
                };
                Some((DomainTarget::Type(ty.clone()), ty))
            }
            Some(field) => {
                let trigger = match self.triggers.get(&target.name) {
                    Some(t) => t,
                    None => {
                        let suggestion = suggest(&target.name, self.triggers.names());
                        let d = Diagnostic::new(
                            Code::InvalidDomain,
                            self.source,
                            format!("no input or signal named `{}`", target.name),
                            Label::new(target.span, "unknown trigger"),
                        );
                        self.diags.push(with_suggestion(d, suggestion, None));
                        return None;
                    }
                };
                let message = self.m.trigger(trigger).clone();
                match message.fields.iter().position(|f| f.name == field.name) {
                    Some(index) => Some((DomainTarget::Field(trigger, index as u32), message.fields[index].ty.clone())),
                    None => {
                        let names: Vec<&str> = message.fields.iter().map(|f| f.name.as_str()).collect();
                        let suggestion = suggest(&field.name, names.iter().copied());
                        let d = Diagnostic::new(
                            Code::InvalidDomain,
                            self.source,
                            format!("`{}` has no field `{}`", message.name, field.name),
                            Label::new(field.span, "unknown field"),
                        );
                        self.diags.push(with_suggestion(d, suggestion, None));
                        None
                    }
                }
            }
        }
    }

    fn domain_values(&mut self, values: &DomainValues, ty: &Type) -> Option<Vec<ir::Expr>> {
        match values {
            DomainValues::Range(lo, hi, span) => {
                if *ty != Type::U64 {
                    let name = self.m.type_name(ty);
                    self.diags.push(
                        Diagnostic::new(
                            Code::InvalidDomain,
                            self.source,
                            format!("a range gives `u64` values, but the target is a `{name}`"),
                            Label::new(*span, "range of u64"),
                        )
                        .with_help("list the values instead: `[a, b, c]`"),
                    );
                    return None;
                }
                if lo > hi || hi - lo >= 64 {
                    self.diags.push(
                        Diagnostic::new(
                            Code::InvalidDomain,
                            self.source,
                            if lo > hi {
                                "this range is empty".to_string()
                            } else {
                                "this range has more than 64 values".to_string()
                            },
                            Label::new(*span, "range"),
                        )
                        .with_help("a model domain is a handful of representative values, such as `0..=3`"),
                    );
                    return None;
                }
                Some((*lo..=*hi).map(|v| ir::Expr { kind: ExprKind::U64(v), ty: Type::U64, span: *span }).collect())
            }
            DomainValues::List(items, span) => {
                if items.is_empty() {
                    self.diags.push(
                        Diagnostic::new(
                            Code::InvalidDomain,
                            self.source,
                            "a model domain needs at least one value",
                            Label::new(*span, "empty"),
                        )
                        .with_help("list the values to try: `[a, b]`"),
                    );
                    return None;
                }
                let mut out = Vec::new();
                let mut ok = true;
                for item in items {
                    let mut body = Body::new(Ctx::Const, Node::Other);
                    match self.check_expr(&mut body, item, Some(ty)) {
                        Ok(v) if self.constant_without_locals(&body, item.span) => out.push(v),
                        _ => ok = false,
                    }
                }
                ok.then_some(out)
            }
        }
    }
}
