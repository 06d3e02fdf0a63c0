//! Compositions: each `route A.Effect -> B.Message { field: value }` is resolved across the package and typed.
//! A target field takes the listed value, or else the source effect's field of the same name. Values are an
//! effect field (converted structurally between the two machines' types) or a literal.

use crate::ast;
use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::{self, EffectId, ExprKind, Machine, MachineId, RouteValue, Trigger, Type, TypeKind};
use crate::span::SourceId;

use super::names::{suggest, with_suggestion};

pub(crate) fn check_composition(
    composition: &ast::Composition,
    source: SourceId,
    machines: &[Machine],
    failed: &[bool],
) -> (ir::Composition, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut routes = Vec::new();
    for route in &composition.routes {
        if let Some(checked) = check_route(route, source, machines, failed, &mut diags) {
            routes.push(checked);
        }
    }
    let checked = ir::Composition {
        name: composition.name.name.clone(),
        docs: composition.docs.text(),
        source,
        routes,
        span: composition.span,
    };
    (checked, diags)
}

fn find_machine(
    name: &ast::Ident,
    source: SourceId,
    machines: &[Machine],
    diags: &mut Vec<Diagnostic>,
) -> Option<MachineId> {
    if let Some(index) = machines.iter().position(|m| m.name == name.name) {
        return Some(MachineId(index as u32));
    }
    let suggestion = suggest(&name.name, machines.iter().map(|m| m.name.as_str()));
    let d = Diagnostic::new(
        Code::UnknownMachine,
        source,
        format!("no machine named `{}` in the package", name.name),
        Label::new(name.span, "unknown machine"),
    );
    diags.push(with_suggestion(d, suggestion, None));
    None
}

fn check_route(
    route: &ast::Route,
    source: SourceId,
    machines: &[Machine],
    failed: &[bool],
    diags: &mut Vec<Diagnostic>,
) -> Option<ir::Route> {
    let from = find_machine(&route.from_machine, source, machines, diags);
    let to = find_machine(&route.to_machine, source, machines, diags);
    let (from, to) = (from?, to?);
    // A machine with errors has incomplete IR; its own diagnostics already explain what is wrong.
    if failed[from.index()] || failed[to.index()] {
        return None;
    }
    let a = &machines[from.index()];
    let b = &machines[to.index()];
    let Some(effect_index) = a.effects.iter().position(|e| e.name == route.from_effect.name) else {
        let suggestion = suggest(&route.from_effect.name, a.effects.iter().map(|e| e.name.as_str()));
        let d = Diagnostic::new(
            Code::UnknownEffect,
            source,
            format!("machine `{}` has no effect `{}`", a.name, route.from_effect.name),
            Label::new(route.from_effect.span, "unknown effect"),
        );
        diags.push(with_suggestion(d, suggestion, None));
        return None;
    };
    let effect = &a.effects[effect_index];
    let target = b
        .inputs
        .iter()
        .position(|m| m.name == route.to_message.name)
        .map(|i| Trigger::Input(ir::InputId(i as u32)))
        .or_else(|| {
            b.signals
                .iter()
                .position(|m| m.name == route.to_message.name)
                .map(|i| Trigger::Signal(ir::SignalId(i as u32)))
        });
    let Some(target) = target else {
        let names = b.inputs.iter().chain(&b.signals).map(|m| m.name.as_str());
        let suggestion = suggest(&route.to_message.name, names);
        let d = Diagnostic::new(
            Code::UnknownTrigger,
            source,
            format!("machine `{}` has no input or signal `{}`", b.name, route.to_message.name),
            Label::new(route.to_message.span, "unknown input or signal"),
        );
        diags.push(with_suggestion(d, suggestion, None));
        return None;
    };
    let message = b.trigger(target);
    let mut ok = true;
    for (field, _) in &route.fields {
        if !message.fields.iter().any(|f| f.name == field.name) {
            let suggestion = suggest(&field.name, message.fields.iter().map(|f| f.name.as_str()));
            let d = Diagnostic::new(
                Code::UnknownField,
                source,
                format!("`{}.{}` has no field `{}`", b.name, message.name, field.name),
                Label::new(field.span, "unknown field"),
            );
            diags.push(with_suggestion(d, suggestion, None));
            ok = false;
        }
    }
    let mut values = Vec::new();
    let mut missing = Vec::new();
    for target_field in &message.fields {
        let listed = route.fields.iter().find(|(f, _)| f.name == target_field.name);
        let value = match listed {
            Some((_, value)) => route_value(value, &target_field.ty, effect, a, b, source, diags),
            None => match effect.fields.iter().position(|f| f.name == target_field.name) {
                Some(index) => {
                    let from_ty = &effect.fields[index].ty;
                    if compatible(a, from_ty, b, &target_field.ty) {
                        Some(RouteValue::EffectField(index as u32))
                    } else {
                        diags.push(route_mismatch(
                            a,
                            from_ty,
                            b,
                            &target_field.ty,
                            &target_field.name,
                            route.span,
                            source,
                        ));
                        None
                    }
                }
                None => {
                    missing.push(target_field.name.clone());
                    None
                }
            },
        };
        match value {
            Some(v) => values.push(v),
            None => ok = false,
        }
    }
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
        diags.push(
            Diagnostic::new(
                Code::MissingField,
                source,
                format!("the route gives no value for {} of `{}.{}`", list.join(", "), b.name, message.name),
                Label::new(route.span, "incomplete route"),
            )
            .with_help(format!(
                "map them from the effect: `{{ {}: <effect field> }}`",
                missing.first().map_or("", String::as_str)
            )),
        );
    }
    ok.then(|| ir::Route {
        docs: route.docs.text(),
        from_machine: from,
        effect: EffectId(effect_index as u32),
        to_machine: to,
        target,
        fields: values,
        span: route.span,
    })
}

fn route_value(
    value: &ast::Expr,
    target_ty: &Type,
    effect: &ir::Message,
    a: &Machine,
    b: &Machine,
    source: SourceId,
    diags: &mut Vec<Diagnostic>,
) -> Option<RouteValue> {
    let constant = |kind: ExprKind, ty: Type| Some(RouteValue::Constant(ir::Expr { kind, ty, span: value.span }));
    match (&value.kind, target_ty) {
        (ast::ExprKind::Name(ident), _) => {
            let Some(index) = effect.fields.iter().position(|f| f.name == ident.name) else {
                let suggestion = suggest(&ident.name, effect.fields.iter().map(|f| f.name.as_str()));
                let d = Diagnostic::new(
                    Code::UnknownName,
                    source,
                    format!("effect `{}` has no field `{}`", effect.name, ident.name),
                    Label::new(ident.span, "not a field of the routed effect"),
                );
                diags.push(with_suggestion(d, suggestion, None));
                return None;
            };
            let from_ty = &effect.fields[index].ty;
            if compatible(a, from_ty, b, target_ty) {
                Some(RouteValue::EffectField(index as u32))
            } else {
                diags.push(route_mismatch(a, from_ty, b, target_ty, &ident.name, ident.span, source));
                None
            }
        }
        (ast::ExprKind::Bool(v), Type::Bool) => constant(ExprKind::Bool(*v), Type::Bool),
        (ast::ExprKind::Int(v), Type::U64) => constant(ExprKind::U64(*v), Type::U64),
        (ast::ExprKind::Str(v), Type::String) => constant(ExprKind::Str(v.clone()), Type::String),
        (ast::ExprKind::None, Type::Option(_)) => constant(ExprKind::None, target_ty.clone()),
        _ => {
            diags.push(
                Diagnostic::new(
                    Code::RouteMismatch,
                    source,
                    format!("this value cannot fill a `{}` field", b.type_name(target_ty)),
                    Label::new(value.span, "unsupported route value"),
                )
                .with_help("a route field is an effect field by name, or a literal (`true`, `3`, `\"text\"`, `None`) of the target type"),
            );
            None
        }
    }
}

fn route_mismatch(
    a: &Machine,
    from_ty: &Type,
    b: &Machine,
    to_ty: &Type,
    field: &str,
    span: crate::span::Span,
    source: SourceId,
) -> Diagnostic {
    Diagnostic::new(
        Code::RouteMismatch,
        source,
        format!(
            "`{field}` is a `{}` in `{}` but the target expects a `{}` of `{}`",
            a.type_name(from_ty),
            a.name,
            b.type_name(to_ty),
            b.name
        ),
        Label::new(span, "incompatible types"),
    )
    .with_help("routes convert between the machines' own types when they have the same shape: the same variants, the same record fields, or a newtype and its inner type")
}

/// Whether a value of `ta` in machine `a` converts to `tb` in machine `b`: same primitives and collections,
/// enums (or phases) whose variants all exist on the target side, records with the same fields, newtypes by
/// their inner type (a newtype also converts to and from its inner type).
pub(crate) fn compatible(a: &Machine, ta: &Type, b: &Machine, tb: &Type) -> bool {
    fn variants_of<'m>(m: &'m Machine, t: &Type) -> Option<Vec<&'m str>> {
        match t {
            Type::Phase => Some(m.phases.iter().map(|p| p.name.as_str()).collect()),
            Type::Named(id) => match &m.types[id.index()].kind {
                TypeKind::Enum { variants } => Some(variants.iter().map(|v| v.name.as_str()).collect()),
                _ => None,
            },
            _ => None,
        }
    }
    fn newtype_inner<'m>(m: &'m Machine, t: &Type) -> Option<&'m Type> {
        match t {
            Type::Named(id) => match &m.types[id.index()].kind {
                TypeKind::Newtype { inner } => Some(inner),
                _ => None,
            },
            _ => None,
        }
    }
    match (ta, tb) {
        (Type::Bool, Type::Bool) | (Type::U64, Type::U64) | (Type::String, Type::String) => true,
        (Type::Option(x), Type::Option(y)) | (Type::Set(x), Type::Set(y)) | (Type::Seq(x), Type::Seq(y)) => {
            compatible(a, x, b, y)
        }
        (Type::Map(k1, v1), Type::Map(k2, v2)) => compatible(a, k1, b, k2) && compatible(a, v1, b, v2),
        _ => {
            if let (Some(from), Some(to)) = (variants_of(a, ta), variants_of(b, tb)) {
                return from.iter().all(|v| to.contains(v));
            }
            match (newtype_inner(a, ta), newtype_inner(b, tb)) {
                (Some(x), Some(y)) => return compatible(a, x, b, y),
                (Some(x), None) => return compatible(a, x, b, tb),
                (None, Some(y)) => return compatible(a, ta, b, y),
                (None, None) => {}
            }
            if let (Type::Named(x), Type::Named(y)) = (ta, tb) {
                if let (TypeKind::Record { fields: fa }, TypeKind::Record { fields: fb }) =
                    (&a.types[x.index()].kind, &b.types[y.index()].kind)
                {
                    return fa.len() == fb.len()
                        && fa.iter().all(|f| fb.iter().any(|g| g.name == f.name && compatible(a, &f.ty, b, &g.ty)));
                }
            }
            false
        }
    }
}
