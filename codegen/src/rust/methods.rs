//! Method calls and quantifiers: each built-in method of the IR becomes the matching Rust method on the
//! compiled receiver (the counterpart of the interpreter's method evaluation in `interp/eval.rs`), and `all`,
//! `any` and `count` become iterator adaptors over the collection with the closure's body inlined.

use meerkat_dsl::ir::{Builtin, Expr, LocalId, Quantifier, Type};
use proc_macro2::TokenStream;
use quote::quote;

use super::Gen;
use super::expr::{Code, Cx, Form, Prec, element_type, head, operand, receiver, u64_receiver};

impl Gen<'_> {
    pub(crate) fn method(&self, cx: &mut Cx<'_>, recv_expr: &Expr, builtin: Builtin, args: &[Expr]) -> Code {
        let recv = self.expr(cx, recv_expr);
        let rty = &recv_expr.ty;
        let elem = element_type(rty);
        let arg = |this: &Self, cx: &mut Cx<'_>| args.first().map(|a| (this.expr(cx, a), a.ty.clone()));
        let bare = recv.bare_struct;
        let cloned = |ty: &Type| if self.is_copy(ty) { quote!(copied) } else { quote!(cloned) };
        let r = receiver(&recv);
        let code = match builtin {
            Builtin::IsSome => Code::owned(quote!(#r.is_some()), Prec::Postfix),
            Builtin::IsNone => Code::owned(quote!(#r.is_none()), Prec::Postfix),
            Builtin::UnwrapOr => {
                let owned = self.owned(recv.clone(), rty);
                let r = receiver(&owned);
                let d = match arg(self, cx) {
                    Some((d, ty)) => self.owned(d, &ty).ts,
                    None => quote!(::std::default::Default::default()),
                };
                Code::owned(quote!(#r.unwrap_or(#d)), Prec::Postfix)
            }
            Builtin::Len => Code::owned(quote!(#r.len() as u64), Prec::Cast),
            Builtin::IsEmpty => Code::owned(quote!(#r.is_empty()), Prec::Postfix),
            Builtin::Contains => {
                let Some((needle, nty)) = arg(self, cx) else { return Code::owned(quote!(false), Prec::Postfix) };
                match rty {
                    Type::Option(_) => {
                        if self.is_copy(&nty) {
                            let n = self.owned(needle, &nty).ts;
                            let r = operand(&recv, Prec::Unary);
                            let r = if recv.form == Form::Ref { quote!(*#r) } else { r };
                            Code::owned(quote!(#r == Some(#n)), Prec::Cmp)
                        } else if needle.form == Form::StrLit {
                            let n = needle.ts;
                            Code::owned(quote!(#r.as_deref() == Some(#n)), Prec::Cmp)
                        } else {
                            let n = self.by_ref(needle, &nty);
                            Code::owned(quote!(#r.as_ref() == Some(#n)), Prec::Cmp)
                        }
                    }
                    Type::Set(_) => {
                        let n = self.key_ref(needle, &nty);
                        Code::owned(quote!(#r.contains(#n)), Prec::Postfix)
                    }
                    _ => {
                        if needle.form == Form::StrLit {
                            let n = needle.ts;
                            Code::owned(quote!(#r.iter().any(|__k_item| __k_item == #n)), Prec::Postfix)
                        } else {
                            let n = self.by_ref(needle, &nty);
                            Code::owned(quote!(#r.contains(#n)), Prec::Postfix)
                        }
                    }
                }
            }
            Builtin::ContainsKey => {
                let Some((key, kty)) = arg(self, cx) else { return Code::owned(quote!(false), Prec::Postfix) };
                let k = self.key_ref(key, &kty);
                Code::owned(quote!(#r.contains_key(#k)), Prec::Postfix)
            }
            Builtin::Get => {
                let Some((key, kty)) = arg(self, cx) else {
                    return Code::owned(quote!(None), Prec::Postfix);
                };
                let value_ty = match rty {
                    Type::Map(_, v) => (**v).clone(),
                    other => element_type(other),
                };
                let c = cloned(&value_ty);
                match rty {
                    Type::Map(..) => {
                        let k = self.key_ref(key, &kty);
                        Code::owned(quote!(#r.get(#k).#c()), Prec::Postfix)
                    }
                    _ => {
                        let i = self.owned(key, &kty).ts;
                        Code::owned(quote!(#r.get(usize::try_from(#i).unwrap_or(usize::MAX)).#c()), Prec::Postfix)
                    }
                }
            }
            Builtin::Keys => {
                let key_ty = match rty {
                    Type::Map(k, _) => (**k).clone(),
                    _ => Type::Bool,
                };
                let c = cloned(&key_ty);
                Code::owned(quote!(#r.keys().#c().collect::<::std::collections::BTreeSet<_>>()), Prec::Postfix)
            }
            Builtin::Values => {
                let value_ty = match rty {
                    Type::Map(_, v) => (**v).clone(),
                    _ => Type::Bool,
                };
                let c = cloned(&value_ty);
                Code::owned(quote!(#r.values().#c().collect::<::std::vec::Vec<_>>()), Prec::Postfix)
            }
            Builtin::First | Builtin::Last => {
                let c = cloned(&elem);
                let m = if builtin == Builtin::First { quote!(first) } else { quote!(last) };
                Code::owned(quote!(#r.#m().#c()), Prec::Postfix)
            }
            Builtin::Union | Builtin::Intersection | Builtin::Difference | Builtin::IsSubset => {
                let Some((other, oty)) = arg(self, cx) else { return Code::owned(quote!(false), Prec::Postfix) };
                let o = self.by_ref(other, &oty);
                let c = cloned(&elem);
                let ts = match builtin {
                    Builtin::Union => quote!(#r.union(#o).#c().collect::<::std::collections::BTreeSet<_>>()),
                    Builtin::Intersection => {
                        quote!(#r.intersection(#o).#c().collect::<::std::collections::BTreeSet<_>>())
                    }
                    Builtin::Difference => {
                        quote!(#r.difference(#o).#c().collect::<::std::collections::BTreeSet<_>>())
                    }
                    _ => quote!(#r.is_subset(#o)),
                };
                Code::owned(ts, Prec::Postfix)
            }
            Builtin::Min | Builtin::Max => {
                let owned = self.owned(recv.clone(), rty);
                let r = u64_receiver(&owned);
                let o = match arg(self, cx) {
                    Some((o, ty)) => self.owned(o, &ty).ts,
                    None => quote!(0),
                };
                let m = if builtin == Builtin::Min { quote!(min) } else { quote!(max) };
                Code::owned(quote!(#r.#m(#o)), Prec::Postfix)
            }
        };
        code.with_struct(bare)
    }

    pub(crate) fn quantifier(
        &self,
        cx: &mut Cx<'_>,
        kind: Quantifier,
        collection: &Expr,
        params: &[LocalId],
        body: &Expr,
    ) -> Code {
        let coll = self.expr(cx, collection);
        let r = receiver(&coll);
        let fallible = self.facts.expr_fallible(body);
        let (first_ty, second_ty) = match &collection.ty {
            Type::Map(k, v) => ((**k).clone(), Some((**v).clone())),
            other => (element_type(other), None),
        };
        // Items of `iter()` are `&T` (or `(&K, &V)`); `Copy` elements are destructured to values.
        let component = |cx: &mut Cx<'_>, id: Option<&LocalId>, ty: &Type| -> TokenStream {
            let Some(id) = id else { return quote!(_) };
            if !cx.local_used(*id) {
                return quote!(_);
            }
            if self.is_copy(ty) {
                let ident = cx.bind_local(*id, Form::Owned);
                quote!(&#ident)
            } else {
                let ident = cx.bind_local(*id, Form::Ref);
                quote!(#ident)
            }
        };
        let first = component(cx, params.first(), &first_ty);
        let pattern = match &second_ty {
            Some(vty) => {
                let second = component(cx, params.get(1), vty);
                quote!((#first, #second))
            }
            None => first,
        };
        let b = self.expr(cx, body);
        if fallible {
            // A closure cannot carry the failure out, so fallible bodies run in a loop.
            let cond = head(&b);
            match kind {
                Quantifier::All => {
                    let label = cx.namer.label("all");
                    let neg = operand(&b, Prec::Unary);
                    Code::owned(
                        quote!(#label: {
                            for #pattern in #r.iter() {
                                if !#neg {
                                    break #label false;
                                }
                            }
                            true
                        }),
                        Prec::Block,
                    )
                }
                Quantifier::Any => {
                    let label = cx.namer.label("any");
                    Code::owned(
                        quote!(#label: {
                            for #pattern in #r.iter() {
                                if #cond {
                                    break #label true;
                                }
                            }
                            false
                        }),
                        Prec::Block,
                    )
                }
                Quantifier::Count => {
                    let n = cx.namer.fresh("count");
                    Code::owned(
                        quote!({
                            let mut #n: u64 = 0;
                            for #pattern in #r.iter() {
                                if #cond {
                                    #n += 1;
                                }
                            }
                            #n
                        }),
                        Prec::Block,
                    )
                }
            }
        } else {
            let bt = b.ts;
            match kind {
                Quantifier::All => Code::owned(quote!(#r.iter().all(|#pattern| #bt)), Prec::Postfix),
                Quantifier::Any => Code::owned(quote!(#r.iter().any(|#pattern| #bt)), Prec::Postfix),
                Quantifier::Count => Code::owned(quote!(#r.iter().filter(|&#pattern| #bt).count() as u64), Prec::Cast),
            }
        }
    }
}
