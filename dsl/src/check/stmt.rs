//! Statement checking: assignments to state places, collection operations, `let`, `if`/`if let`, and `emit`
//! (listed fields, shorthand fields and effect defaults resolved into one value per effect field).

use crate::ast::{self, AssignOp, StmtKind as S};
use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::{self, BinOp, CollectionOp, Type};

use super::body::{Body, Checked, Ctx, Reported};
use super::machine::{MachineChecker, Value};
use super::names::{plural, quoted, suggest, with_suggestion};

impl MachineChecker<'_> {
    /// Checks a block in a new scope.
    pub(crate) fn check_block(&mut self, body: &mut Body, block: &ast::Block) -> Vec<ir::Stmt> {
        body.push_scope();
        let stmts = block.stmts.iter().filter_map(|s| self.check_stmt(body, s).ok()).collect();
        body.pop_scope();
        stmts
    }

    fn check_stmt(&mut self, body: &mut Body, stmt: &ast::Stmt) -> Checked<ir::Stmt> {
        let span = stmt.span;
        let kind = match &stmt.kind {
            S::Let { name, ty, value } => {
                let declared = match ty {
                    Some(t) => Some(self.resolve_type(t).ok_or(Reported)?),
                    None => None,
                };
                let value = self.check_expr(body, value, declared.as_ref())?;
                let local = body.bind(&name.name, value.ty.clone());
                ir::StmtKind::Let { local, value }
            }
            S::Assign { place, op, op_span, value } => {
                let place = self.check_place(body, place)?;
                match op {
                    AssignOp::Set => {
                        let value = self.check_expr(body, value, Some(&place.ty))?;
                        ir::StmtKind::Assign { place, value }
                    }
                    AssignOp::Add | AssignOp::Sub => {
                        if place.ty != Type::U64 {
                            let found = self.m.type_name(&place.ty);
                            let token = if *op == AssignOp::Add { "+=" } else { "-=" };
                            self.diags.push(
                                Diagnostic::new(
                                    Code::InvalidOperand,
                                    self.source,
                                    format!("`{token}` works on `u64` values, found `{found}`"),
                                    Label::new(place.span, format!("this has type `{found}`")),
                                )
                                .with_label(*op_span, "operator"),
                            );
                            return Err(Reported);
                        }
                        let value = self.check_expr(body, value, Some(&Type::U64))?;
                        let op = if *op == AssignOp::Add { BinOp::Add } else { BinOp::Sub };
                        ir::StmtKind::Compound { place, op, value }
                    }
                }
            }
            S::Call { place, method, args } => self.check_collection_op(body, place, method, args)?,
            S::If { cond, then, else_ } => match &cond.pattern {
                None => {
                    let c = self.check_expr(body, &cond.expr, Some(&Type::Bool));
                    let then = self.check_block(body, then);
                    let else_ = else_.as_ref().map(|b| self.check_block(body, b)).unwrap_or_default();
                    ir::StmtKind::If { cond: c?, then, else_ }
                }
                Some(pattern) => {
                    let scrutinee = self.check_expr(body, &cond.expr, None)?;
                    body.push_scope();
                    let pat = self.check_pattern(body, pattern, &scrutinee.ty);
                    let then_stmts = self.check_block(body, then);
                    body.pop_scope();
                    let else_ = else_.as_ref().map(|b| self.check_block(body, b)).unwrap_or_default();
                    ir::StmtKind::IfLet { pattern: pat?, scrutinee, then: then_stmts, else_ }
                }
            },
            S::Emit { effect, fields, fields_span } => self.check_emit(body, effect, fields, *fields_span, span)?,
        };
        Ok(ir::Stmt { kind, span })
    }

    /// Resolves an assignment target: a state field, then record-field or `.0` projections.
    fn check_place(&mut self, body: &mut Body, place: &ast::Place) -> Checked<ir::Place> {
        // `self.x = ...` writes the state field `x`, as `self.x` reads it; a bare `x` on the left already means
        // state, so `self.` only makes the intent explicit next to a shadowing payload field.
        let (root, segments) = match place.path.split_first() {
            Some((first, rest)) if place.root.name == "self" && body.lookup("self").is_none() => (first, rest),
            _ => (&place.root, place.path.as_slice()),
        };
        let shadowing = body.lookup(&root.name).map(|_| "a local binding").or_else(|| match body.ctx {
            Ctx::Transition(t) if self.m.trigger(t).fields.iter().any(|f| f.name == root.name) => {
                Some("a payload field")
            }
            _ => None,
        });
        let field = match self.values.get(&root.name) {
            Some(Value::Field(id)) => id,
            Some(Value::Phase) => {
                return Err(self.not_assignable(root, "the phase changes only through a transition's `-> Target`"));
            }
            Some(Value::Guard(_)) => return Err(self.not_assignable(root, "guards are conditions, not state")),
            None => {
                if let Some(what) = shadowing {
                    return Err(
                        self.not_assignable(root, &format!("`{}` is {what}; only state can be assigned", root.name))
                    );
                }
                let names: Vec<String> = self.m.fields.iter().map(|f| f.name.clone()).collect();
                let suggestion = suggest(&root.name, names.iter().map(String::as_str));
                let d = Diagnostic::new(
                    Code::UnknownName,
                    self.source,
                    format!("cannot assign to `{}`: no state field has that name", root.name),
                    Label::new(root.span, "not a state field"),
                );
                self.diags.push(with_suggestion(d, suggestion, Some("declare it in the `state` block".to_string())));
                return Err(Reported);
            }
        };
        let mut ty = self.m.fields[field.index()].ty.clone();
        let mut path = Vec::new();
        for segment in segments {
            let projection = self.projection(&ty, segment)?;
            ty = self.projected_type(&ty, projection);
            path.push(projection);
        }
        Ok(ir::Place { field, path, ty, span: place.span })
    }

    fn not_assignable(&mut self, root: &ast::Ident, why: &str) -> Reported {
        self.diags.push(
            Diagnostic::new(
                Code::NotAssignable,
                self.source,
                format!("cannot assign to `{}`", root.name),
                Label::new(root.span, "not assignable"),
            )
            .with_help(why.to_string()),
        );
        Reported
    }

    fn check_collection_op(
        &mut self,
        body: &mut Body,
        place: &ast::Place,
        method: &ast::Ident,
        args: &[ast::Expr],
    ) -> Checked<ir::StmtKind> {
        let place = self.check_place(body, place)?;
        let name = method.name.as_str();
        let (op, params): (CollectionOp, Vec<Type>) = match (&place.ty, name) {
            (Type::Set(t), "insert") => (CollectionOp::SetInsert, vec![(**t).clone()]),
            (Type::Set(t), "remove") => (CollectionOp::SetRemove, vec![(**t).clone()]),
            (Type::Map(k, v), "insert") => (CollectionOp::MapInsert, vec![(**k).clone(), (**v).clone()]),
            (Type::Map(k, _), "remove") => (CollectionOp::MapRemove, vec![(**k).clone()]),
            (Type::Seq(t), "push") => (CollectionOp::SeqPush, vec![(**t).clone()]),
            (Type::Seq(_), "pop") => (CollectionOp::SeqPop, vec![]),
            (Type::Seq(_), "pop_front") => (CollectionOp::SeqPopFront, vec![]),
            (Type::Set(_) | Type::Map(..) | Type::Seq(_), "clear") => (CollectionOp::Clear, vec![]),
            (ty, _) => {
                let available: &[&str] = match ty {
                    Type::Set(_) => &["insert", "remove", "clear"],
                    Type::Map(..) => &["insert", "remove", "clear"],
                    Type::Seq(_) => &["push", "pop", "pop_front", "clear"],
                    _ => &[],
                };
                let type_name = self.m.type_name(ty);
                let suggestion = suggest(name, available.iter().copied());
                let d = Diagnostic::new(
                    Code::UnknownMethod,
                    self.source,
                    format!("no operation `{name}` on a `{type_name}`"),
                    Label::new(method.span, "unknown operation"),
                );
                let fallback = if available.is_empty() {
                    Some(format!("a `{type_name}` is changed by assignment: `{} = ...`", place_text(&place, self)))
                } else {
                    Some(format!("its operations are: {}", available.join(", ")))
                };
                self.diags.push(with_suggestion(d, suggestion, fallback));
                return Err(Reported);
            }
        };
        if args.len() != params.len() {
            let span = args.first().map_or(method.span, |a| a.span.to(args.last().map_or(a.span, |l| l.span)));
            self.diags.push(Diagnostic::new(
                Code::ArgumentCount,
                self.source,
                format!(
                    "`{name}` takes {} argument{} but {} were given",
                    params.len(),
                    plural(params.len()),
                    args.len()
                ),
                Label::new(span, format!("expected {} argument{}", params.len(), plural(params.len()))),
            ));
            return Err(Reported);
        }
        let values = self.check_args(body, args, &params)?;
        Ok(ir::StmtKind::Collection { place, op, args: values })
    }

    fn check_emit(
        &mut self,
        body: &mut Body,
        effect: &ast::Ident,
        fields: &[ast::EmitField],
        fields_span: Option<crate::span::Span>,
        span: crate::span::Span,
    ) -> Checked<ir::StmtKind> {
        let Some(id) = self.effects.get(&effect.name) else {
            let suggestion = suggest(&effect.name, self.effects.names());
            let d = Diagnostic::new(
                Code::UnknownEffect,
                self.source,
                format!("no effect named `{}`", effect.name),
                Label::new(effect.span, "unknown effect"),
            );
            let fallback = Some(format!("declare it: `effect {} {{ ... }}`", effect.name));
            self.diags.push(with_suggestion(d, suggestion, fallback));
            return Err(Reported);
        };
        let decl = self.m.effects[id.index()].clone();
        let mut values: Vec<Option<ir::Expr>> = vec![None; decl.fields.len()];
        let mut written: Vec<Option<crate::span::Span>> = vec![None; decl.fields.len()];
        let mut failed = false;
        for field in fields {
            let Some(index) = decl.fields.iter().position(|f| f.name == field.name.name) else {
                let names: Vec<&str> = decl.fields.iter().map(|f| f.name.as_str()).collect();
                let suggestion = suggest(&field.name.name, names.iter().copied());
                let d = Diagnostic::new(
                    Code::UnknownField,
                    self.source,
                    format!("effect `{}` has no field `{}`", decl.name, field.name.name),
                    Label::new(field.name.span, "unknown field"),
                );
                let fallback = if names.is_empty() {
                    Some(format!("`{}` has no payload: write `emit {}`", decl.name, decl.name))
                } else {
                    Some(format!("its fields are: {}", names.join(", ")))
                };
                self.diags.push(with_suggestion(d, suggestion, fallback));
                failed = true;
                continue;
            };
            if let Some(first) = written[index] {
                self.diags.push(
                    Diagnostic::new(
                        Code::Duplicate,
                        self.source,
                        format!("field `{}` is given twice", field.name.name),
                        Label::new(field.name.span, "given again here"),
                    )
                    .with_label(first, "first given here"),
                );
                failed = true;
                continue;
            }
            written[index] = Some(field.name.span);
            let ty = decl.fields[index].ty.clone();
            let value = match &field.value {
                Some(value) => self.check_expr(body, value, Some(&ty)),
                // Shorthand: `emit E { phase }` reads the name `phase` in scope.
                None => {
                    let name_expr = ast::Expr { kind: ast::ExprKind::Name(field.name.clone()), span: field.name.span };
                    self.check_expr(body, &name_expr, Some(&ty))
                }
            };
            match value {
                Ok(v) => values[index] = Some(v),
                Err(_) => failed = true,
            }
        }
        let mut missing = Vec::new();
        for (index, field) in decl.fields.iter().enumerate() {
            if values[index].is_none() && written[index].is_none() {
                match &field.default {
                    Some(default) => {
                        let mut value = default.clone();
                        value.span = span;
                        values[index] = Some(value);
                    }
                    None => missing.push(field.name.as_str()),
                }
            }
        }
        if !missing.is_empty() {
            let label_span = fields_span.unwrap_or(span);
            self.diags.push(
                Diagnostic::new(
                    Code::MissingField,
                    self.source,
                    format!("`emit {}` leaves {} without a value", decl.name, quoted(&missing)),
                    Label::new(label_span, format!("missing field{}", plural(missing.len()))),
                )
                .with_help(format!(
                    "list {} here, or give the effect field{} a default in `effect {}`",
                    missing.iter().map(|m| format!("`{m}: ...`")).collect::<Vec<_>>().join(", "),
                    plural(missing.len()),
                    decl.name
                )),
            );
            return Err(Reported);
        }
        if failed {
            return Err(Reported);
        }
        Ok(ir::StmtKind::Emit { effect: id, fields: values.into_iter().flatten().collect() })
    }
}

/// The written form of a place, for messages.
fn place_text(place: &ir::Place, checker: &MachineChecker<'_>) -> String {
    checker.m.fields[place.field.index()].name.clone()
}
