//! The Markdown back end: one reference page per machine, for people who use a machine rather than edit its
//! spec.
//!
//! The page lists, in this order: the machine's docs, its diagram (a ```` ```mermaid ```` block), phases, state
//! fields, declared types, inputs, signals, effects, helpers, guards, invariants, properties, the transition table with
//! each transition's body, the (phase, trigger) pairs with no transition, and the model-checking bounds.
//! Every expression is printed in spec syntax by [`meerkat_dsl::print`]. Sections with nothing to show are left
//! out. The page is deterministic and has no header: [`crate::artifacts`] adds the "do not edit" comment.

use meerkat_dsl::CheckedMachine;
use meerkat_dsl::ir::visit::walk_stmts;
use meerkat_dsl::ir::{DomainTarget, Machine, Message, Stmt, StmtKind, Target, Transition, TypeKind};

use crate::diagram;
use meerkat_dsl::print::{self, Scope};

/// The Markdown reference page of a machine, ending with a newline. `spec_path` is how the page names the
/// spec file (a path relative to the workspace root, with `/` separators).
///
/// ```
/// let package = meerkat_dsl::check_source(
///     "door.machine",
///     "/// A door.\nmachine Door { phases { initial Closed, Open } input Push on Push from Closed -> Open }",
/// )
/// .expect("the spec checks");
/// let page = meerkat_codegen::reference::markdown(&package.machines[0], "machines/door.machine");
/// assert!(page.starts_with("# `Door`\n\nA door.\n"));
/// assert!(page.contains("| `Push` | `Push` | `Closed` | `Open` |"));
/// ```
pub fn markdown(machine: &CheckedMachine, spec_path: &str) -> String {
    let mut page = Page::default();
    page.line(format!("# `{}`", machine.name));
    page.blank();
    if let Some(docs) = &machine.docs {
        page.line(docs);
        page.blank();
    }
    page.line(format!("Generated from `{spec_path}`."));

    page.heading("Diagram");
    page.line("```mermaid");
    page.raw(&diagram::mermaid(machine));
    page.line("```");

    phases(&mut page, machine);
    state(&mut page, machine);
    types(&mut page, machine);
    messages(&mut page, machine, "Inputs", &machine.inputs, false);
    messages(&mut page, machine, "Signals", &machine.signals, false);
    messages(&mut page, machine, "Effects", &machine.effects, true);
    helpers(&mut page, machine);
    conditions(&mut page, machine);
    transitions(&mut page, machine);
    uncovered(&mut page, machine);
    model(&mut page, machine);
    page.finish()
}

/// A Markdown document under construction: lines, blank-line separated blocks.
#[derive(Default)]
struct Page {
    text: String,
}

impl Page {
    fn line(&mut self, line: impl AsRef<str>) {
        self.text.push_str(line.as_ref());
        self.text.push('\n');
    }

    fn raw(&mut self, text: &str) {
        self.text.push_str(text);
        if !text.ends_with('\n') {
            self.text.push('\n');
        }
    }

    fn blank(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }

    fn heading(&mut self, title: &str) {
        self.blank();
        self.line(format!("## {title}"));
        self.blank();
    }

    fn subheading(&mut self, title: &str) {
        self.blank();
        self.line(format!("### {title}"));
        self.blank();
    }

    fn paragraph(&mut self, text: &str) {
        self.blank();
        self.line(text);
        self.blank();
    }

    fn table(&mut self, header: &[&str], rows: &[Vec<String>]) {
        self.blank();
        self.line(format!("| {} |", header.join(" | ")));
        self.line(format!("|{}|", header.iter().map(|_| " --- ").collect::<Vec<_>>().join("|")));
        for row in rows {
            self.line(format!("| {} |", row.join(" | ")));
        }
        self.blank();
    }

    fn code_block(&mut self, lang: &str, text: &str) {
        self.blank();
        // A fence longer than any backtick run inside keeps the block closed where it should be.
        let fence = "`".repeat(longest_run(text, '`').max(2) + 1);
        self.line(format!("{fence}{lang}"));
        self.raw(text);
        self.line(fence);
        self.blank();
    }

    fn finish(mut self) -> String {
        while self.text.ends_with("\n\n") {
            self.text.pop();
        }
        if !self.text.ends_with('\n') {
            self.text.push('\n');
        }
        self.text
    }
}

fn longest_run(text: &str, c: char) -> usize {
    let mut best = 0;
    let mut run = 0;
    for ch in text.chars() {
        run = if ch == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// Inline code that survives a table cell: `|` is escaped (GitHub tables need it even inside code spans) and a
/// text containing backticks gets a longer delimiter.
fn code(text: &str) -> String {
    let text = text.replace('|', "\\|").replace('\n', " ");
    let run = longest_run(&text, '`');
    if run == 0 {
        format!("`{text}`")
    } else {
        let ticks = "`".repeat(run + 1);
        format!("{ticks} {text} {ticks}")
    }
}

/// Doc text for a table cell: one line, pipes escaped.
fn cell(docs: Option<&String>) -> String {
    docs.map_or(String::new(), |d| d.replace('|', "\\|").replace('\n', " "))
}

fn phases(page: &mut Page, machine: &Machine) {
    page.heading("Phases");
    if machine.phase_field != "phase" {
        page.paragraph(&format!("The current phase is held in the state field {}.", code(&machine.phase_field)));
    }
    let rows: Vec<Vec<String>> = machine
        .phase_ids()
        .map(|id| {
            let phase = machine.phase(id);
            let mut kind = Vec::new();
            if id == machine.initial_phase {
                kind.push("initial");
            }
            if phase.terminal {
                kind.push("terminal");
            }
            vec![code(&phase.name), kind.join(", "), cell(phase.docs.as_ref())]
        })
        .collect();
    page.table(&["Phase", "Kind", "Description"], &rows);
}

fn state(page: &mut Page, machine: &Machine) {
    page.heading("State");
    let scope = Scope::constant(machine);
    let mut rows = vec![vec![
        code(&machine.phase_field),
        code("Phase"),
        code(&format!("Phase::{}", machine.phase(machine.initial_phase).name)),
        "The current phase.".to_string(),
    ]];
    for field in &machine.fields {
        rows.push(vec![
            code(&field.name),
            code(&machine.type_name(&field.ty)),
            code(&print::expr(scope, &field.init)),
            cell(field.docs.as_ref()),
        ]);
    }
    page.table(&["Field", "Type", "Initial value", "Description"], &rows);
}

fn types(page: &mut Page, machine: &Machine) {
    if machine.types.is_empty() {
        return;
    }
    page.heading("Types");
    for decl in &machine.types {
        match &decl.kind {
            TypeKind::Enum { variants } => {
                page.subheading(&format!("`{}` (enum)", decl.name));
                if let Some(docs) = &decl.docs {
                    page.paragraph(docs);
                }
                let rows: Vec<Vec<String>> =
                    variants.iter().map(|v| vec![code(&v.name), cell(v.docs.as_ref())]).collect();
                page.table(&["Variant", "Description"], &rows);
            }
            TypeKind::Record { fields } => {
                page.subheading(&format!("`{}` (record)", decl.name));
                if let Some(docs) = &decl.docs {
                    page.paragraph(docs);
                }
                let rows: Vec<Vec<String>> = fields
                    .iter()
                    .map(|f| vec![code(&f.name), code(&machine.type_name(&f.ty)), cell(f.docs.as_ref())])
                    .collect();
                page.table(&["Field", "Type", "Description"], &rows);
            }
            TypeKind::Newtype { inner } => {
                page.subheading(&format!("`{}` (newtype of {})", decl.name, code(&machine.type_name(inner))));
                if let Some(docs) = &decl.docs {
                    page.paragraph(docs);
                }
            }
        }
    }
}

fn messages(page: &mut Page, machine: &Machine, title: &str, messages: &[Message], effects: bool) {
    if messages.is_empty() {
        return;
    }
    page.heading(title);
    let scope = Scope::constant(machine);
    for message in messages {
        page.subheading(&format!("`{}`", message.name));
        let mut modifiers = Vec::new();
        if message.internal {
            modifiers.push("`internal`: only the runtime may apply it; handles refuse it.");
        }
        if message.pure_ {
            modifiers.push("`pure`: its transitions never change the state or the phase.");
        }
        for modifier in modifiers {
            page.paragraph(modifier);
        }
        if let Some(docs) = &message.docs {
            page.paragraph(docs);
        }
        if message.fields.is_empty() {
            page.paragraph("No payload.");
            continue;
        }
        let rows: Vec<Vec<String>> = message
            .fields
            .iter()
            .map(|f| {
                let mut row = vec![code(&f.name), code(&machine.type_name(&f.ty))];
                if effects {
                    row.push(f.default.as_ref().map_or(String::new(), |d| code(&print::expr(scope, d))));
                }
                row.push(cell(f.docs.as_ref()));
                row
            })
            .collect();
        if effects {
            page.table(&["Field", "Type", "Default", "Description"], &rows);
        } else {
            page.table(&["Field", "Type", "Description"], &rows);
        }
    }
}

fn helpers(page: &mut Page, machine: &Machine) {
    if machine.helpers.is_empty() {
        return;
    }
    page.heading("Helpers");
    for helper in &machine.helpers {
        let params: Vec<String> =
            helper.params.iter().map(|(name, ty)| format!("{name}: {}", machine.type_name(ty))).collect();
        page.subheading(&format!("`{}`", helper.name));
        if let Some(docs) = &helper.docs {
            page.paragraph(docs);
        }
        let body = print::expr_multiline(Scope::helper(machine, helper), &helper.body, 4, 100);
        let signature = format!("fn {}({}) -> {}", helper.name, params.join(", "), machine.type_name(&helper.ret));
        page.code_block("text", &format!("{signature} {{\n    {body}\n}}\n"));
    }
}

fn conditions(page: &mut Page, machine: &Machine) {
    if !machine.guards.is_empty() {
        page.heading("Guards");
        let rows: Vec<Vec<String>> = machine
            .guards
            .iter()
            .map(|g| vec![code(&g.name), code(&print::expr(Scope::guard(machine, g), &g.expr)), cell(g.docs.as_ref())])
            .collect();
        page.table(&["Guard", "Condition", "Description"], &rows);
        let quantifying: Vec<String> =
            machine.guards.iter().filter(|g| quantifies_over_state(&g.expr)).map(|g| code(&g.name)).collect();
        if !quantifying.is_empty() {
            page.paragraph(&format!(
                "The generated kernel evaluates a guard in full, on the state before the transition, whenever it \
                 decides between candidates: unlike an invariant, a guard has no earlier value that holds by \
                 construction, so it cannot be checked on written entries only. These guards quantify over a \
                 collection of the state and so cost time in its size: {}.",
                quantifying.join(", ")
            ));
        }
    }
    if !machine.invariants.is_empty() {
        page.heading("Invariants");
        page.paragraph(
            "Checked after every transition, in this order, and when a state is recovered; a transition that \
             would break one is rejected and leaves the state unchanged.",
        );
        let rows: Vec<Vec<String>> = machine
            .invariants
            .iter()
            .map(|i| {
                vec![code(&i.name), code(&print::expr(Scope::invariant(machine, i), &i.expr)), cell(i.docs.as_ref())]
            })
            .collect();
        page.table(&["Invariant", "Condition", "Description"], &rows);
        invariant_checks(page, machine);
    }
    if !machine.properties.is_empty() {
        page.heading("Properties");
        page.paragraph(
            "Checked by `cargo xtask verify`, never enforced: the machine accepts the same inputs with or without \
             them. A `property` must hold in every reachable state; a `reachable` goal in at least one.",
        );
        let rows: Vec<Vec<String>> = machine
            .properties
            .iter()
            .map(|p| {
                let kind = match p.kind {
                    meerkat_dsl::ast::PropertyKind::Always => "property",
                    meerkat_dsl::ast::PropertyKind::Reachable => "reachable",
                };
                vec![
                    code(&p.name),
                    kind.to_string(),
                    code(&print::expr(Scope::property(machine, p), &p.expr)),
                    cell(p.docs.as_ref()),
                ]
            })
            .collect();
        page.table(&["Property", "Kind", "Condition", "Description"], &rows);
    }
}

/// Whether `e` has an `all`, `any` or `count` over a state field.
fn quantifies_over_state(e: &meerkat_dsl::ir::Expr) -> bool {
    use meerkat_dsl::ir::ExprKind;
    let mut found = false;
    meerkat_dsl::ir::visit::walk_expr(e, &mut |sub| {
        if let ExprKind::Quantifier { collection, .. } = &sub.kind {
            found |= matches!(collection.kind, ExprKind::Field(_));
        }
    });
    found
}

/// How the generated kernel checks each invariant after each transition.
fn invariant_checks(page: &mut Page, machine: &Machine) {
    use crate::rust::InvariantCheck;
    if machine.transitions.is_empty() {
        return;
    }
    page.subheading("How the generated kernel checks them");
    page.paragraph(
        "Every state an authority holds satisfies every invariant, so after a transition the generated kernel \
         evaluates an invariant only as far as the transition can have changed it: not at all when the transition \
         writes nothing it reads (fields or the phase, through guards and helpers too); on the written entries \
         when its only read of written state is a map the transition writes by whole entries, read as `m.all(..)` \
         or `m.any(..)` conjuncts whose bodies read nothing written (`any` falls back to the full check when no \
         written entry satisfies it); otherwise in full. The interpreter always checks in full.",
    );
    let checks = crate::rust::invariant_checks(machine);
    let names = |row: &[InvariantCheck], kind: InvariantCheck| -> String {
        let list: Vec<String> =
            machine.transitions.iter().zip(row).filter(|(_, k)| **k == kind).map(|(t, _)| code(&t.name)).collect();
        if list.is_empty() { "—".to_string() } else { list.join(", ") }
    };
    let rows: Vec<Vec<String>> = machine
        .invariants
        .iter()
        .zip(&checks)
        .map(|(inv, row)| {
            vec![
                code(&inv.name),
                names(row, InvariantCheck::Entries),
                names(row, InvariantCheck::Full),
                names(row, InvariantCheck::Skipped),
            ]
        })
        .collect();
    page.table(&["Invariant", "On written entries after", "In full after", "Not evaluated after"], &rows);
}

/// The effects a body may emit, in order of first appearance.
fn emits(machine: &Machine, body: &[Stmt], out: &mut Vec<String>) {
    walk_stmts(body, &mut |stmt| {
        if let StmtKind::Emit { effect, .. } = &stmt.kind {
            let name = machine.effects.get(effect.index()).map_or("?", |e| e.name.as_str()).to_string();
            if !out.contains(&name) {
                out.push(name);
            }
        }
    });
}

fn transition_row(machine: &Machine, transition: &Transition) -> Vec<String> {
    let scope = Scope::transition(machine, transition);
    let target = match &transition.target {
        Target::Stay => "stay".to_string(),
        Target::Phase(target) => code(&machine.phase(*target).name),
        Target::Computed { expr, .. } => code(&print::expr(scope, expr)),
    };
    let guards = if transition.otherwise {
        "otherwise".to_string()
    } else {
        transition.guards.iter().map(|g| code(&print::expr(scope, &g.expr))).collect::<Vec<_>>().join(", ")
    };
    let mut effects = Vec::new();
    emits(machine, &transition.body, &mut effects);
    let from = diagram::sources_summary(machine, transition);
    vec![
        code(&transition.name),
        code(&machine.trigger(transition.trigger).name),
        code(&from),
        target,
        guards,
        effects.iter().map(|e| code(e)).collect::<Vec<_>>().join(", "),
    ]
}

fn transitions(page: &mut Page, machine: &Machine) {
    if machine.transitions.is_empty() {
        return;
    }
    page.heading("Transitions");
    page.paragraph(
        "For a phase and a trigger, the candidates are the transitions listed for both, in this order. Exactly \
         one candidate whose guards all hold fires; two is an ambiguity and rejects the input; none falls back to \
         the `otherwise` candidate, if any.",
    );
    let rows: Vec<Vec<String>> = machine.transitions.iter().map(|t| transition_row(machine, t)).collect();
    page.table(&["Transition", "Trigger", "From", "To", "Guards", "Emits"], &rows);
    for transition in &machine.transitions {
        if transition.docs.is_none() && transition.body.is_empty() {
            continue;
        }
        page.subheading(&format!("`{}`", transition.name));
        if let Some(docs) = &transition.docs {
            page.paragraph(docs);
        }
        if !transition.body.is_empty() {
            page.code_block("text", &print::stmts(Scope::transition(machine, transition), &transition.body, 0));
        }
    }
}

fn uncovered(page: &mut Page, machine: &CheckedMachine) {
    let pairs = machine.uncovered();
    if pairs.is_empty() {
        return;
    }
    page.heading("Uncovered inputs");
    page.paragraph(
        "No transition is declared for these (phase, trigger) pairs: the machine refuses such an input with \
         `NoMatchingTransition` and leaves its state unchanged.",
    );
    let mut rows: Vec<Vec<String>> = Vec::new();
    for phase in machine.phase_ids() {
        let triggers: Vec<String> =
            pairs.iter().filter(|(p, _)| *p == phase).map(|(_, t)| code(&machine.trigger(*t).name)).collect();
        if !triggers.is_empty() {
            rows.push(vec![code(&machine.phase(phase).name), triggers.join(", ")]);
        }
    }
    page.table(&["Phase", "Triggers with no transition"], &rows);
}

fn model(page: &mut Page, machine: &Machine) {
    if machine.model.span.is_none() {
        return;
    }
    page.heading("Model checking");
    let depth = machine.model.depth.map_or("the checker's default".to_string(), |d| d.to_string());
    page.paragraph(&format!("`cargo xtask verify` explores input sequences up to depth {depth}."));
    if machine.model.domains.is_empty() {
        return;
    }
    let scope = Scope::constant(machine);
    let rows: Vec<Vec<String>> = machine
        .model
        .domains
        .iter()
        .map(|d| {
            let target = match &d.target {
                DomainTarget::Type(ty) => machine.type_name(ty),
                DomainTarget::Field(trigger, index) => {
                    let message = machine.trigger(*trigger);
                    let field = message.fields.get(*index as usize).map_or("?", |f| f.name.as_str());
                    format!("{}.{field}", message.name)
                }
            };
            let values: Vec<String> = d.values.iter().map(|v| print::expr(scope, v)).collect();
            vec![code(&target), code(&format!("[{}]", values.join(", ")))]
        })
        .collect();
    page.table(&["Domain", "Values"], &rows);
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "tests fail loudly on broken fixtures")]
mod tests {
    use super::*;

    #[test]
    fn table_cells_escape_pipes_and_backticks() {
        assert_eq!(code("a || b"), "`a \\|\\| b`");
        assert_eq!(code("\"`\""), "`` \"`\" ``");
    }
}
