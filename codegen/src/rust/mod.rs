//! The Rust back end: turns one checked machine into the source of its kernel — plain data types plus a compiled
//! `match` that applies one input to a state, all or nothing — as a formatted, deterministic `String`.
//!
//! The generated file is a sequence of items (no inner attributes, no module wrapper) that names everything by
//! absolute path (`::std`, `::serde`, `::meerkat_kernel`), so a consumer can `include!` it inside a module of its
//! own; the consumer depends on `meerkat-kernel`. The API it provides is the kernel contract: `MPhase`, `MState`,
//! `MInput`, `MSignal`, `MEffect` for a machine `M`, and `MAuthority`, `MAuthoritySnapshot`, `MMutator`,
//! `MTransition`, `MTransitionError`, `MGuardRejections` as aliases of `meerkat-kernel`'s generic types over
//! `MState`, which implements `::meerkat_kernel::Kernel`. The file holds only what the spec says: the types, the
//! `fire_*` methods, the dispatch, helpers, guards and invariants.
//!
//! Enum variants are spec names and share the path namespace of their enum's inherent associated items, where a
//! variant wins (`MPhase::ALL` would be a phase named `ALL`, whatever else is declared). So an enum that carries
//! spec-named variants (phases, declared enums, inputs, signals, effects) gets inherent items only as methods with
//! a receiver (`name`, `is_terminal`, `is_pure`, `is_runtime_internal`, `to_interp`), which method-call syntax
//! reaches past any variant; everything reached by path is a trait item named by qualified path
//! (`<MState as ::meerkat_kernel::Kernel>::PHASES`, `<MInput as ::meerkat_dsl::interp::FromInterp>::from_interp`).
//!
//! How the code is organised:
//! - `names` allocates identifiers; `analysis` computes the facts that shape the code (what can fail, what is
//!   used, static bounds on effects and candidates, how each transition collects its effects);
//! - `expr` compiles expressions (`methods` their built-in method calls and quantifiers), `body` compiles
//!   transition bodies with their undo log, `invariants` the incremental invariant check that ends them,
//!   `dispatch` compiles the (phase, trigger) `match`;
//! - `items` emits the data types and the state's methods; `kernel` the aliases, the effect storage and the
//!   `Kernel` implementation; `interp_conversions` the optional conversions to the reference interpreter's values.
//!
//! The kernel implements the execution semantics stated in the [`meerkat_dsl::ir`] module doc, as the reference
//! interpreter does; `expr`, `dispatch` and `body` mirror the interpreter's `eval`, `dispatch` and `body`.

mod analysis;
mod body;
mod dispatch;
mod expr;
mod interp_conversions;
mod invariants;
mod items;
mod kernel;
mod methods;
pub(crate) mod names;

use meerkat_dsl::CheckedMachine;
use meerkat_dsl::ir::Machine;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use analysis::Facts;

pub use names::{module_name, snake_case};

/// Options of [`generate_rust`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RustOptions {
    /// Check every invariant after each transition (a violation rejects the input). Default `true`.
    /// `recover_from_state` checks them either way.
    pub post_transition_invariants: bool,
    /// Derive `serde::Serialize` and `serde::Deserialize` on the data types. Default `true`.
    pub serde: bool,
    /// The spec path named in the header comment, e.g. `machines/traffic_light.machine`.
    pub spec_path: String,
    /// How to regenerate the file, named in the header comment. Default `cargo xtask regen`.
    pub regenerate_with: String,
    /// Also emit conversions to and from the reference interpreter's values (inherent
    /// `to_interp` methods, `meerkat_dsl::interp::FromInterp` impls), for differential tests. The consumer must then depend on `meerkat-dsl`. Default `false`.
    pub interp_conversions: bool,
    /// Check invariants incrementally after each transition: skip those it writes nothing of, and check
    /// `m.all(..)` / `m.any(..)` over a map it writes by entries only on the entries written (see the
    /// `invariants` module). Only with `post_transition_invariants`. Default `true`.
    pub incremental_invariants: bool,
}

impl Default for RustOptions {
    fn default() -> Self {
        RustOptions {
            post_transition_invariants: true,
            serde: true,
            spec_path: String::new(),
            regenerate_with: "cargo xtask regen".to_string(),
            interp_conversions: false,
            incremental_invariants: true,
        }
    }
}

/// Generates the Rust kernel of one checked machine: deterministic, formatted with `prettyplease`, starting
/// with a header comment that names the spec and how to regenerate it.
///
/// Generation cannot fail: a [`CheckedMachine`] has passed every check, and every construct of the checked IR
/// has a translation.
///
/// ```
/// let package = meerkat_dsl::check_source(
///     "door.machine",
///     "machine Door { phases { initial Closed, Open } input Push on Push from Closed -> Open }",
/// )
/// .expect("the spec checks");
/// let source = meerkat_codegen::generate_rust(&package.machines[0], &Default::default());
/// assert!(source.contains("pub enum DoorPhase"));
/// ```
pub fn generate_rust(machine: &CheckedMachine, options: &RustOptions) -> String {
    let generator = Gen::new(machine.ir(), options);
    let tokens = names::hygiene(generator.file());
    let header = header(machine.ir(), options);
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => format!("{header}\n{}", space_items(&prettyplease::unparse(&file))),
        // Unreachable for well-formed generator output; printing the raw tokens keeps generation total and makes
        // the bug visible as a compile error in the generated file rather than a panic in a build script.
        Err(error) => format!("{header}\n// meerkat-codegen produced unparsable tokens: {error}\n{tokens}\n"),
    }
}

/// How a kernel generated with the default options checks one invariant after one transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InvariantCheck {
    /// Not evaluated: the transition writes nothing the invariant reads.
    Skipped,
    /// Evaluated on the map entries the transition wrote.
    Entries,
    /// Evaluated in full.
    Full,
}

/// `checks[i][t]`: how invariant `i` is checked after transition `t` by a kernel generated with the default
/// options (for the reference docs).
pub(crate) fn invariant_checks(m: &Machine) -> Vec<Vec<InvariantCheck>> {
    let options = RustOptions::default();
    let generator = Gen::new(m, &options);
    (0..m.invariants.len())
        .map(|i| {
            (0..m.transitions.len())
                .map(|t| match generator.invariant_plan(meerkat_dsl::ir::TransitionId(t as u32), i) {
                    invariants::InvariantPlan::Skip => InvariantCheck::Skipped,
                    invariants::InvariantPlan::Entries { .. } => InvariantCheck::Entries,
                    invariants::InvariantPlan::Full => InvariantCheck::Full,
                })
                .collect()
        })
        .collect()
}

/// A blank line after each item and each method, and between an impl's constants and its methods, as rustfmt
/// would leave them (prettyplease packs them).
fn space_items(source: &str) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = String::with_capacity(source.len() + source.len() / 16);
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        out.push('\n');
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let closes_item = (trimmed == "}" || trimmed == "};" || is_unit_item(trimmed)) && (indent == 0 || indent == 4);
        if let Some(next) = lines.get(i + 1) {
            let next = next.trim_start();
            // The associated types and constants of an impl, then its first method.
            let ends_consts =
                indent == 4 && trimmed.ends_with(';') && ["fn ", "#[", "///"].iter().any(|p| next.starts_with(p));
            if (closes_item || ends_consts) && !next.is_empty() && !next.starts_with('}') {
                out.push('\n');
            }
        }
    }
    out
}

/// One-line items that end without a brace block: `pub struct X(pub u64);`, `impl Eq for X {}`.
fn is_unit_item(line: &str) -> bool {
    (line.ends_with("{}") || (line.ends_with(");") && line.contains("struct ")))
        && (line.starts_with("impl")
            || line.starts_with("pub ")
            || line.starts_with("struct")
            || line.starts_with("enum"))
}

fn header(m: &Machine, options: &RustOptions) -> String {
    let spec = if options.spec_path.is_empty() { format!("machine `{}`", m.name) } else { options.spec_path.clone() };
    format!(
        "// @generated by meerkat-codegen from {spec} — do not edit.\n// Regenerate with: {}\n",
        options.regenerate_with
    )
}

/// The identifiers of the generated items of one machine.
pub(crate) struct ItemNames {
    pub(crate) phase: Ident,
    pub(crate) state: Ident,
    pub(crate) input: Ident,
    pub(crate) signal: Ident,
    pub(crate) effect: Ident,
    pub(crate) effects: Ident,
    pub(crate) authority: Ident,
    pub(crate) snapshot: Ident,
    pub(crate) mutator: Ident,
    pub(crate) transition: Ident,
    pub(crate) error: Ident,
    pub(crate) rejections: Ident,
    pub(crate) undo: Ident,
    pub(crate) staged: Ident,
    pub(crate) transaction: Ident,
    pub(crate) undo_log: Ident,
    /// Declared types, by `TypeId`.
    pub(crate) types: Vec<Ident>,
    /// The phase field of the state.
    pub(crate) phase_field: Ident,
    /// State fields, by `FieldId`.
    pub(crate) fields: Vec<Ident>,
    /// Private methods of the state, by id.
    pub(crate) helper_fns: Vec<Ident>,
    pub(crate) guard_fns: Vec<Ident>,
    pub(crate) invariant_fns: Vec<Ident>,
    pub(crate) fire_fns: Vec<Ident>,
    /// The logging twins of `fire_fns`, which `stage_input` and `stage_signal` call.
    pub(crate) stage_fns: Vec<Ident>,
}

impl ItemNames {
    fn new(m: &Machine) -> Self {
        let prefix = &m.name;
        let item = |suffix: &str| format_ident!("{}{}", prefix, suffix);
        // Private methods share the state's method namespace (with the `Kernel` trait's); prefixes keep the kinds
        // apart and a counter keeps two names that snake-case alike (`FooBar`, `Foo_Bar`) apart.
        let mut taken: std::collections::BTreeSet<String> = [
            "initial",
            "to_interp",
            "from_interp",
            "phase",
            "apply_input",
            "apply_signal",
            "stage_input",
            "stage_signal",
            "undo",
            "violated_invariant",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut method = |prefix: &str, name: &str| {
            let base = format!("{prefix}_{}", snake_case(name).trim_matches('_'));
            let mut candidate = base.clone();
            let mut n = 1;
            while taken.contains(&candidate) {
                n += 1;
                candidate = format!("{base}_{n}");
            }
            taken.insert(candidate.clone());
            names::plain(&candidate)
        };
        let helper_fns = m.helpers.iter().map(|h| method("helper", &h.name)).collect();
        let guard_fns = m.guards.iter().map(|g| method("guard", &g.name)).collect();
        let invariant_fns = m.invariants.iter().map(|i| method("invariant", &i.name)).collect();
        let fire_fns = m.transitions.iter().map(|t| method("fire", &t.name)).collect();
        let stage_fns = m.transitions.iter().map(|t| method("stage", &t.name)).collect();
        ItemNames {
            phase: item("Phase"),
            state: item("State"),
            input: item("Input"),
            signal: item("Signal"),
            effect: item("Effect"),
            effects: item("Effects"),
            authority: item("Authority"),
            snapshot: item("AuthoritySnapshot"),
            mutator: item("Mutator"),
            transition: item("Transition"),
            error: item("TransitionError"),
            rejections: item("GuardRejections"),
            undo: item("Undo"),
            staged: item("Staged"),
            transaction: item("Transaction"),
            undo_log: item("UndoLog"),
            types: m.types.iter().map(|t| names::ident(&t.name)).collect(),
            phase_field: names::ident(&m.phase_field),
            fields: m.fields.iter().map(|f| names::ident(&f.name)).collect(),
            helper_fns,
            guard_fns,
            invariant_fns,
            fire_fns,
            stage_fns,
        }
    }
}

impl ItemNames {
    /// `MPhase::A, MPhase::B, ...`: every phase by path, in declaration order.
    pub(crate) fn phase_variants(&self, m: &Machine) -> Vec<TokenStream> {
        let phase = &self.phase;
        m.phases
            .iter()
            .map(|p| {
                let v = names::ident(&p.name);
                quote!(#phase::#v)
            })
            .collect()
    }
}

/// Everything generation of one machine needs.
pub(crate) struct Gen<'a> {
    pub(crate) m: &'a Machine,
    pub(crate) opts: &'a RustOptions,
    pub(crate) facts: Facts,
    pub(crate) n: ItemNames,
    /// The variants of the undo enum, registered by the `stage_*` bodies as they are compiled.
    pub(crate) undo_variants: std::cell::RefCell<Vec<UndoVariant>>,
}

/// One variant of the undo enum (`MUndo`): what one kind of write displaces and how to put it back.
pub(crate) struct UndoVariant {
    pub(crate) name: Ident,
    /// The label it was named after (`input_ledger_insert`), for its doc comment.
    pub(crate) label: String,
    /// The type of the displaced value.
    pub(crate) ty: TokenStream,
    /// Statements restoring the write, with the displaced value bound to `saved`.
    pub(crate) restore: TokenStream,
}

impl<'a> Gen<'a> {
    fn new(m: &'a Machine, opts: &'a RustOptions) -> Self {
        Gen { m, opts, facts: Facts::new(m), n: ItemNames::new(m), undo_variants: Default::default() }
    }

    /// The path of the undo variant holding a `ty` and restoring it with `restore` (written over `saved`), named
    /// after `label` (`InputLedgerInsert`); the same write shape in two bodies shares one variant.
    pub(crate) fn undo_variant(&self, label: &str, ty: TokenStream, restore: TokenStream) -> TokenStream {
        let undo = &self.n.undo;
        let mut variants = self.undo_variants.borrow_mut();
        let (ty_text, restore_text) = (ty.to_string(), restore.to_string());
        if let Some(v) = variants.iter().find(|v| v.ty.to_string() == ty_text && v.restore.to_string() == restore_text)
        {
            let name = &v.name;
            return quote!(#undo::#name);
        }
        let base: String = label.split('_').filter(|w| !w.is_empty()).map(items::capitalised).collect();
        let mut name = base.clone();
        let mut k = 1;
        while variants.iter().any(|v| v.name == name) {
            k += 1;
            name = format!("{base}{k}");
        }
        let name = names::plain(&name);
        variants.push(UndoVariant { name: name.clone(), label: label.to_string(), ty, restore });
        quote!(#undo::#name)
    }

    /// The whole file.
    fn file(&self) -> TokenStream {
        let types = self.declared_types();
        let phase = self.phase_enum();
        let state = self.state_struct();
        let messages = self.message_enums();
        let aliases = self.aliases();
        let effects = self.effects_enum();
        let fires = self.fire_fns();
        let kernel = self.kernel_impl(&fires);
        let undo = self.undo_enum();
        let state_methods = self.state_methods(&fires);
        let interp = if self.opts.interp_conversions { self.interp_conversions() } else { TokenStream::new() };
        quote! {
            #phase
            #types
            #state
            #messages
            #aliases
            #effects
            #undo
            #kernel
            #state_methods
            #interp
        }
    }

    /// A namer for one function whose user bindings are `reserved`; its bindings also avoid the machine's
    /// declared type, variant and phase names.
    pub(crate) fn namer<'n>(&self, reserved: impl IntoIterator<Item = &'n str>) -> names::Namer {
        let m = self.m;
        let variants = m.types.iter().flat_map(|t| match &t.kind {
            meerkat_dsl::ir::TypeKind::Enum { variants } => variants.iter().map(|v| v.name.as_str()).collect(),
            _ => Vec::new(),
        });
        names::Namer::new(reserved)
            .declare(m.types.iter().map(|t| t.name.as_str()))
            .declare(variants)
            .declare(m.phases.iter().map(|p| p.name.as_str()))
    }

    /// A transition by id. Ids come from the checked machine, which guarantees they resolve.
    pub(crate) fn transition(&self, id: meerkat_dsl::ir::TransitionId) -> &'a meerkat_dsl::ir::Transition {
        &self.m.transitions[id.index()]
    }

    /// `#[doc = ...]` attributes for a doc comment, or for `fallback` when there is none (every public item of a
    /// kernel is documented, so a consumer's `missing_docs` lint stays quiet).
    pub(crate) fn docs(docs: Option<&str>, fallback: impl FnOnce() -> String) -> TokenStream {
        let text = match docs {
            Some(d) if !d.trim().is_empty() => d.to_string(),
            _ => fallback(),
        };
        let lines = text.lines().map(|line| {
            let line = if line.is_empty() { String::new() } else { format!(" {line}") };
            quote!(#[doc = #line])
        });
        quote!(#(#lines)*)
    }

    /// The derives of a message enum declared in a module without the prelude (see `Gen::message_enum`).
    pub(crate) fn isolated_derives(&self) -> TokenStream {
        let serde = if self.opts.serde {
            quote!(#[derive(::serde::Serialize, ::serde::Deserialize)])
        } else {
            TokenStream::new()
        };
        quote! {
            #[derive(
                ::core::clone::Clone, ::core::fmt::Debug, ::core::cmp::PartialEq, ::core::cmp::Eq,
                ::core::cmp::PartialOrd, ::core::cmp::Ord, ::core::hash::Hash
            )]
            #serde
        }
    }

    /// The derives of a data type.
    pub(crate) fn derives(&self, copy: bool) -> TokenStream {
        let copy = if copy { quote!(Copy,) } else { TokenStream::new() };
        let serde = if self.opts.serde {
            quote!(#[derive(::serde::Serialize, ::serde::Deserialize)])
        } else {
            TokenStream::new()
        };
        // Derive macros live in the macro namespace, which declared types cannot shadow.
        quote! {
            #[derive(Clone, #copy Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
            #serde
        }
    }
}
