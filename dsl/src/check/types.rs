//! Types: declaring the enums, records and newtypes of a machine, resolving written types
//! (`Map<String, Option<Lease>>`) to [`Type`]s, and rejecting types that contain themselves without a collection
//! in between (they would have infinite size) and map keys that are not scalars.

use crate::ast::{MachineItem, TypeExpr};
use crate::diagnostic::{Code, Diagnostic, Label};
use crate::ir::{self, Type, TypeId, TypeKind};

use super::machine::MachineChecker;
use super::names::{Namespace, suggest, with_suggestion};

/// Built-in type names, with their number of type arguments.
pub(crate) const BUILTIN_TYPES: &[(&str, usize)] =
    &[("bool", 0), ("u64", 0), ("String", 0), ("Phase", 0), ("Option", 1), ("Set", 1), ("Seq", 1), ("Map", 2)];

impl MachineChecker<'_> {
    /// Declares the enums, records and newtypes: names first, so types may refer to each other in any order, then
    /// their variants and fields; finally rejects types that contain themselves.
    pub(crate) fn declare_types(&mut self) {
        // Names first, so types may refer to each other in any order.
        let mut decls: Vec<(&MachineItem, TypeId)> = Vec::new();
        for item in &self.ast.items {
            let (name, docs, span) = match item {
                MachineItem::Enum(e) => (&e.name, &e.docs, e.span),
                MachineItem::Record(r) => (&r.name, &r.docs, r.span),
                MachineItem::Newtype(n) => (&n.name, &n.docs, n.span),
                _ => continue,
            };
            if BUILTIN_TYPES.iter().any(|(b, _)| *b == name.name) {
                self.diags.push(
                    Diagnostic::new(
                        Code::Duplicate,
                        self.source,
                        format!("type `{}` is already a built-in type", name.name),
                        Label::new(name.span, "conflicts with the built-in type"),
                    )
                    .with_help("choose another name"),
                );
                continue;
            }
            if self.types.contains(&name.name) {
                self.types.declare(name, TypeId(0), self.source, &mut self.diags);
                continue;
            }
            let id = TypeId(self.m.types.len() as u32);
            self.types.declare(name, id, self.source, &mut self.diags);
            self.m.types.push(ir::TypeDecl {
                name: name.name.clone(),
                docs: docs.text(),
                span,
                kind: TypeKind::Enum { variants: Vec::new() },
            });
            decls.push((item, id));
        }
        for (item, id) in decls {
            let kind = match item {
                MachineItem::Enum(e) => {
                    let mut seen: Namespace<u32> = Namespace::new("variant");
                    let mut variants = Vec::new();
                    for v in &e.variants {
                        if seen.contains(&v.name.name) {
                            seen.declare(&v.name, 0, self.source, &mut self.diags);
                            continue;
                        }
                        seen.declare(&v.name, variants.len() as u32, self.source, &mut self.diags);
                        variants.push(ir::EnumVariant { name: v.name.name.clone(), docs: v.docs.text() });
                    }
                    TypeKind::Enum { variants }
                }
                MachineItem::Record(r) => {
                    let mut seen: Namespace<u32> = Namespace::new("record field");
                    let mut fields = Vec::new();
                    for f in &r.fields {
                        if let Some(default) = &f.default {
                            self.default_not_allowed(default.span, "record fields");
                        }
                        if seen.contains(&f.name.name) {
                            seen.declare(&f.name, 0, self.source, &mut self.diags);
                            continue;
                        }
                        seen.declare(&f.name, fields.len() as u32, self.source, &mut self.diags);
                        if let Some(ty) = self.resolve_type(&f.ty) {
                            fields.push(ir::RecordField { name: f.name.name.clone(), docs: f.docs.text(), ty });
                        }
                    }
                    TypeKind::Record { fields }
                }
                MachineItem::Newtype(n) => match self.resolve_type(&n.inner) {
                    Some(inner) => TypeKind::Newtype { inner },
                    None => TypeKind::Newtype { inner: Type::Bool },
                },
                _ => continue,
            };
            self.m.types[id.index()].kind = kind;
        }
        self.check_recursive_types();
        self.check_type_depths();
    }

    /// Resolves a written type, reporting unknown names, wrong argument counts and (once every declared type is
    /// measured) a type that nests too deeply.
    pub(crate) fn resolve_type(&mut self, ty: &TypeExpr) -> Option<Type> {
        let resolved = self.resolve_type_expr(ty)?;
        self.check_type_depth(&resolved, ty.span);
        Some(resolved)
    }

    fn resolve_type_expr(&mut self, ty: &TypeExpr) -> Option<Type> {
        let name = ty.name.name.as_str();
        let expected_args = BUILTIN_TYPES.iter().find(|(n, _)| *n == name).map(|(_, a)| *a);
        let arity = expected_args.unwrap_or(0);
        if ty.args.len() != arity && (expected_args.is_some() || self.types.contains(name)) {
            let plural = if arity == 1 { "" } else { "s" };
            self.diags.push(
                Diagnostic::new(
                    Code::TypeArguments,
                    self.source,
                    format!("`{name}` takes {arity} type argument{plural} but {} were given", ty.args.len()),
                    Label::new(ty.span, format!("expected {arity} type argument{plural}")),
                )
                .with_help(match name {
                    "Option" | "Set" | "Seq" => format!("write `{name}<T>`"),
                    "Map" => "write `Map<K, V>`".to_string(),
                    _ => format!("write `{name}` without type arguments"),
                }),
            );
            return None;
        }
        let args: Vec<Type> = ty.args.iter().map(|a| self.resolve_type_expr(a)).collect::<Option<_>>()?;
        let mut args = args.into_iter();
        let mut next = || args.next().map(Box::new);
        Some(match name {
            "bool" => Type::Bool,
            "u64" => Type::U64,
            "String" => Type::String,
            "Phase" => Type::Phase,
            "Option" => Type::Option(next()?),
            "Set" => Type::Set(next()?),
            "Seq" => Type::Seq(next()?),
            "Map" => {
                let key = next()?;
                if let Some(key_expr) = ty.args.first() {
                    self.map_keys.push(((*key).clone(), key_expr.span));
                }
                Type::Map(key, next()?)
            }
            _ => match self.types.get(name) {
                Some(id) => Type::Named(id),
                None => {
                    let candidates: Vec<String> = BUILTIN_TYPES
                        .iter()
                        .map(|(n, _)| (*n).to_string())
                        .chain(self.types.names().map(str::to_string))
                        .collect();
                    let suggestion = suggest(name, candidates.iter().map(String::as_str));
                    let d = Diagnostic::new(
                        Code::UnknownType,
                        self.source,
                        format!("unknown type `{name}`"),
                        Label::new(ty.name.span, "not a declared or built-in type"),
                    );
                    self.diags.push(with_suggestion(
                        d,
                        suggestion,
                        Some(format!(
                            "declare it in this machine (`enum {name} {{ ... }}`, `record {name} {{ ... }}` or \
                             `newtype {name}(...)`), or use a built-in type: bool, u64, String, Option, Set, Seq, Map"
                        )),
                    ));
                    return None;
                }
            },
        })
    }

    /// Reports map key types that are not scalars. Keys are restricted so that every state serializes to JSON
    /// (whose object keys are strings) and reads naturally in diagnostics and generated docs.
    pub(crate) fn check_map_keys(&mut self) {
        for (key, span) in std::mem::take(&mut self.map_keys) {
            if !self.is_scalar_key(&key, 0) {
                let name = self.m.type_name(&key);
                self.diags.push(
                    Diagnostic::new(
                        Code::InvalidMapKey,
                        self.source,
                        format!("`{name}` cannot be a map key"),
                        Label::new(span, "not a scalar type"),
                    )
                    .with_help(
                        "map keys are bool, u64, String, Phase, enums, or newtypes of those; key the map by an id \
                         (for example a newtype) and keep the compound value in the map's values",
                    ),
                );
            }
        }
    }

    fn is_scalar_key(&self, ty: &Type, depth: usize) -> bool {
        match ty {
            Type::Bool | Type::U64 | Type::String | Type::Phase => true,
            Type::Named(id) => match self.m.types.get(id.index()).map(|t| &t.kind) {
                Some(TypeKind::Enum { .. }) => true,
                Some(TypeKind::Newtype { inner }) => depth < 8 && self.is_scalar_key(inner, depth + 1),
                _ => false,
            },
            _ => false,
        }
    }

    /// Reports records and newtypes that contain themselves other than through a `Set`, `Seq` or `Map`.
    pub(crate) fn check_recursive_types(&mut self) {
        for index in 0..self.m.types.len() {
            let id = TypeId(index as u32);
            let mut path = Vec::new();
            if self.reaches_inline(id, id, &mut path) {
                let decl = &self.m.types[index];
                let through: Vec<String> = path.iter().map(|t: &TypeId| self.m.types[t.index()].name.clone()).collect();
                self.diags.push(
                    Diagnostic::new(
                        Code::RecursiveType,
                        self.source,
                        format!("type `{}` contains itself", decl.name),
                        Label::new(decl.span, "has infinite size"),
                    )
                    .with_note(format!("cycle: {} -> {}", decl.name, through.join(" -> ")))
                    .with_help("put the recursive part inside a `Seq`, `Set` or `Map`"),
                );
            }
        }
    }

    /// Whether `from` holds `target` inline (directly, in a record field, a newtype or an `Option`); `path` gets
    /// the types from `from`'s child to `target`. A search over the graph of declared types, each visited once,
    /// without recursion: chains of thousands of records stay cheap.
    fn reaches_inline(&self, from: TypeId, target: TypeId, path: &mut Vec<TypeId>) -> bool {
        let inline_children = |id: TypeId| -> Vec<TypeId> {
            let children: Vec<&Type> = match self.m.types.get(id.index()).map(|t| &t.kind) {
                Some(TypeKind::Record { fields }) => fields.iter().map(|f| &f.ty).collect(),
                Some(TypeKind::Newtype { inner }) => vec![inner],
                Some(TypeKind::Enum { .. }) | None => Vec::new(),
            };
            children
                .into_iter()
                .filter_map(|mut ty| {
                    while let Type::Option(inner) = ty {
                        ty = inner;
                    }
                    if let Type::Named(next) = ty { Some(*next) } else { None }
                })
                .collect()
        };
        // `came_from[t]`: the type through which the search first reached `t`.
        let mut came_from: Vec<Option<TypeId>> = vec![None; self.m.types.len()];
        let mut stack = vec![from];
        while let Some(id) = stack.pop() {
            for next in inline_children(id) {
                if next == target {
                    let mut reversed = vec![next];
                    let mut at = id;
                    while at != from {
                        reversed.push(at);
                        match came_from.get(at.index()).copied().flatten() {
                            Some(previous) => at = previous,
                            None => break,
                        }
                    }
                    path.extend(reversed.into_iter().rev());
                    return true;
                }
                if let Some(slot) = came_from.get_mut(next.index()) {
                    if slot.is_none() && next != from {
                        *slot = Some(id);
                        stack.push(next);
                    }
                }
            }
        }
        false
    }
}
