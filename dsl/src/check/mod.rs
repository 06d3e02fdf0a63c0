//! Checking: from parsed files to a [`CheckedPackage`], or every problem found.
//!
//! The passes run in this order, each in its own module:
//! 1. `parse` each file (syntax errors stop here, after all files are parsed);
//! 2. `machine`: the per-machine checker collects every machine's names, reports duplicates, resolves types
//!    (`types`) and bounds their depth (`type_depth`);
//! 3. `expr` (with `path`, `pattern` and `methods`) / `stmt` / `transitions`: type-check initial values,
//!    defaults, helpers, guards, invariants, properties (`properties`) and transitions into [`crate::ir`], each body in its `body` scope;
//!    `helper_cycles` rejects recursive helpers; `model` checks the bounds;
//! 4. `compositions`: resolve and type routes across the package's machines;
//! 5. the analyses over checked machines, one rule per module (listed in [`analyses`]): the structural ones on
//!    every machine, the others on the machines that checked clean.
//!
//! Only this module can build a [`CheckedMachine`], so back ends that take one cannot meet unchecked input.

mod body;
mod compositions;
mod expr;
mod helper_cycles;
mod machine;
mod methods;
mod model;
mod names;
mod path;
mod pattern;
mod properties;
mod stmt;
mod transitions;
mod type_depth;
mod types;

pub mod analyses;

use std::fmt;
use std::ops::Deref;

use crate::ast;
use crate::diagnostic::{Code, Diagnostic, Diagnostics, Label, RenderOptions};
use crate::ir;
use crate::span::{Source, SourceId};

/// A machine that passed every check. Only the checker constructs one.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedMachine {
    machine: ir::Machine,
}

impl CheckedMachine {
    /// The checked IR.
    pub fn ir(&self) -> &ir::Machine {
        &self.machine
    }

    /// The (phase, trigger) pairs for which no transition is declared, in phase then trigger order. Terminal
    /// phases are included: an input sent to a terminal phase is refused with `NoMatchingTransition`.
    pub fn uncovered(&self) -> Vec<(ir::PhaseId, ir::Trigger)> {
        analyses::coverage::uncovered(&self.machine)
    }
}

impl Deref for CheckedMachine {
    type Target = ir::Machine;
    fn deref(&self) -> &ir::Machine {
        &self.machine
    }
}

/// The interpreter of a checked machine: `Interpreter::from(&checked)`.
impl<'m> From<&'m CheckedMachine> for crate::interp::Interpreter<'m> {
    fn from(machine: &'m CheckedMachine) -> Self {
        crate::interp::Interpreter::new(machine.ir())
    }
}

/// Every machine and composition of a set of spec files, checked, plus the warnings found.
#[derive(Clone, Debug)]
pub struct CheckedPackage {
    /// The files, indexed by [`SourceId`].
    pub sources: Vec<Source>,
    /// The machines, in file order then source order, indexed by [`ir::MachineId`].
    pub machines: Vec<CheckedMachine>,
    /// The compositions.
    pub compositions: Vec<ir::Composition>,
    /// Warnings (the package has no errors).
    pub warnings: Diagnostics,
}

impl CheckedPackage {
    /// A machine by name.
    pub fn machine(&self, name: &str) -> Option<&CheckedMachine> {
        self.machines.iter().find(|m| m.name == name)
    }

    /// The source a machine was declared in.
    pub fn source_of(&self, machine: &CheckedMachine) -> Option<&Source> {
        self.sources.get(machine.source.0 as usize)
    }

    /// Renders the warnings.
    pub fn render_warnings(&self, options: RenderOptions) -> String {
        self.warnings.render(&self.sources, options)
    }
}

/// The diagnostics of a package that failed to check.
#[derive(Clone, Debug)]
pub struct CheckError {
    /// The files, indexed by [`SourceId`].
    pub sources: Vec<Source>,
    /// Every error and warning found, sorted.
    pub diagnostics: Diagnostics,
}

impl CheckError {
    /// Renders every diagnostic.
    pub fn render(&self, options: RenderOptions) -> String {
        self.diagnostics.render(&self.sources, options)
    }
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors = self.diagnostics.error_count();
        let plural = if errors == 1 { "" } else { "s" };
        writeln!(f, "spec check failed with {errors} error{plural}")?;
        for diagnostic in &self.diagnostics {
            let source = self.sources.get(diagnostic.source.0 as usize);
            f.write_str(&crate::diagnostic::plain(diagnostic, source))?;
        }
        Ok(())
    }
}

impl std::error::Error for CheckError {}

/// Checks one spec file.
pub fn check_source(name: impl Into<String>, text: impl Into<String>) -> Result<CheckedPackage, CheckError> {
    check_package(vec![Source::new(name, text)])
}

/// Checks a set of spec files as one package: machine names are unique across it and compositions may route
/// between machines of different files.
pub fn check_package(sources: Vec<Source>) -> Result<CheckedPackage, CheckError> {
    let mut diagnostics = Diagnostics::new();
    let mut files = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        let id = SourceId(index as u32);
        match crate::parse::parse(&source.text, id) {
            Ok(file) => files.push((id, file)),
            Err(errors) => diagnostics.extend(errors),
        }
    }
    if diagnostics.has_errors() {
        diagnostics.sort();
        return Err(CheckError { sources, diagnostics });
    }
    check_files(sources, &files, diagnostics)
}

/// Checks one spec file and hands back its syntax tree too (none when it does not parse), for a caller that
/// needs both, such as the language server, without parsing the file twice. The result is what
/// [`check_source`] returns.
pub fn check_source_keeping_ast(
    name: impl Into<String>,
    text: impl Into<String>,
) -> (Result<CheckedPackage, CheckError>, Option<ast::File>) {
    let sources = vec![Source::new(name, text)];
    let id = SourceId(0);
    let parsed = sources.first().map(|source| crate::parse::parse(&source.text, id));
    match parsed {
        Some(Ok(file)) => {
            let files = vec![(id, file)];
            let result = check_files(sources, &files, Diagnostics::new());
            (result, files.into_iter().next().map(|(_, file)| file))
        }
        Some(Err(errors)) => {
            let mut diagnostics = Diagnostics::new();
            diagnostics.extend(errors);
            if !diagnostics.has_errors() {
                return (check_files(sources, &[], diagnostics), None);
            }
            diagnostics.sort();
            (Err(CheckError { sources, diagnostics }), None)
        }
        None => (check_files(sources, &[], Diagnostics::new()), None),
    }
}

/// Checks a set of spec files as one package, as [`check_package`] does, and hands back each file's syntax
/// tree too (in the order of `sources`; none for a file that does not parse), for a caller that needs both,
/// such as the language server, without parsing the files twice.
pub fn check_package_keeping_asts(
    sources: Vec<Source>,
) -> (Result<CheckedPackage, CheckError>, Vec<Option<ast::File>>) {
    let mut diagnostics = Diagnostics::new();
    let mut files = Vec::new();
    let mut trees = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        let id = SourceId(index as u32);
        match crate::parse::parse(&source.text, id) {
            Ok(file) => {
                files.push((id, file));
                trees.push(Some(files.len() - 1));
            }
            Err(errors) => {
                diagnostics.extend(errors);
                trees.push(None);
            }
        }
    }
    let result = if diagnostics.has_errors() {
        diagnostics.sort();
        Err(CheckError { sources, diagnostics })
    } else {
        check_files(sources, &files, diagnostics)
    };
    let mut parsed: Vec<Option<ast::File>> = files.into_iter().map(|(_, file)| Some(file)).collect();
    let trees = trees.into_iter().map(|slot| slot.and_then(|i| parsed.get_mut(i).and_then(Option::take))).collect();
    (result, trees)
}

/// Checks parsed files (every one of them parsed without a syntax error), adding to `diagnostics`.
fn check_files(
    sources: Vec<Source>,
    files: &[(SourceId, ast::File)],
    mut diagnostics: Diagnostics,
) -> Result<CheckedPackage, CheckError> {
    let mut machines: Vec<ir::Machine> = Vec::new();
    let mut machine_asts: Vec<(SourceId, &ast::Machine)> = Vec::new();
    let mut composition_asts: Vec<(SourceId, &ast::Composition)> = Vec::new();
    for (id, file) in files {
        for item in &file.items {
            match item {
                ast::TopItem::Machine(m) => machine_asts.push((*id, m)),
                ast::TopItem::Composition(c) => composition_asts.push((*id, c)),
            }
        }
    }

    let mut seen: std::collections::HashMap<&str, (SourceId, &ast::Ident)> = std::collections::HashMap::new();
    let mut failed_machines = Vec::new();
    for (id, machine) in &machine_asts {
        if let Some((first_source, first)) = seen.get(machine.name.name.as_str()) {
            let mut d = Diagnostic::new(
                Code::Duplicate,
                *id,
                format!("machine `{}` is declared twice", machine.name.name),
                Label::new(machine.name.span, "declared again here"),
            )
            .with_help("machine names are unique across the package; rename one of them");
            if first_source == id {
                d = d.with_label(first.span, "first declared here");
            } else {
                let text = sources.get(first_source.0 as usize);
                if let Some(text) = text {
                    let (line, col) = text.line_col(first.span.start);
                    d = d.with_note(format!("first declared at {}:{line}:{col}", text.name));
                }
            }
            diagnostics.push(d);
        } else {
            seen.insert(machine.name.name.as_str(), (*id, &machine.name));
        }
        let text = sources.get(id.0 as usize).map_or("", |s| s.text.as_str());
        let (machine_ir, mut machine_diagnostics) = machine::check_machine(machine, *id, text);
        machine_diagnostics.extend(analyses::structural(&machine_ir));
        let failed = machine_diagnostics.iter().any(Diagnostic::is_error);
        diagnostics.extend(machine_diagnostics);
        failed_machines.push(failed);
        machines.push(machine_ir);
    }

    // The analyses read well-formed IR only, so they run on the machines that checked clean.
    for (machine, failed) in machines.iter().zip(&failed_machines) {
        if !failed {
            diagnostics.extend(analyses::run(machine));
        }
    }

    let mut compositions = Vec::new();
    for (id, composition) in &composition_asts {
        let (checked, composition_diagnostics) =
            compositions::check_composition(composition, *id, &machines, &failed_machines);
        diagnostics.extend(composition_diagnostics);
        compositions.push(checked);
    }

    diagnostics.sort();
    if diagnostics.has_errors() {
        return Err(CheckError { sources, diagnostics });
    }
    Ok(CheckedPackage {
        sources,
        machines: machines.into_iter().map(|machine| CheckedMachine { machine }).collect(),
        compositions,
        warnings: diagnostics,
    })
}

#[cfg(test)]
mod keeping_asts_tests {
    use super::*;

    const MACHINE: &str = "machine A {\n    phases { initial Idle, terminal Done }\n    input Go\n    effect Went\n    on Go from Idle -> Done { emit Went }\n}\n";
    const ROUTE: &str = "composition C {\n    route A.Went -> A.Go\n}\n";

    #[test]
    fn a_package_keeps_every_tree_and_checks_as_check_package_does() {
        let sources = vec![Source::new("a.machine", MACHINE), Source::new("c.machine", ROUTE)];
        let (checked, trees) = check_package_keeping_asts(sources.clone());
        assert_eq!(checked.is_ok(), check_package(sources).is_ok());
        assert!(matches!(trees.as_slice(), [Some(a), Some(c)] if a.items.len() == 1 && c.items.len() == 1));

        let broken = vec![Source::new("a.machine", MACHINE), Source::new("c.machine", "composition {")];
        let (checked, trees) = check_package_keeping_asts(broken);
        let error = checked.err().map(|e| e.diagnostics.into_vec()).unwrap_or_default();
        assert!(!error.is_empty() && error.iter().all(|d| d.source == SourceId(1)), "{error:?}");
        assert!(matches!(trees.as_slice(), [Some(_), None]), "the file that parses keeps its tree");
    }
}
