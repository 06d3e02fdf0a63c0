//! The body being checked: what its expressions may read ([`Ctx`]), which helper or guard it belongs to ([`Node`],
//! for the dependency graph), the locals it binds and the lexical scopes that make them visible ([`Body`]), and
//! the marker that an error in it was already reported ([`Reported`]).

use crate::ir::{self, GuardId, HelperId, LocalId, Trigger, Type};

/// An error was reported; the caller should give up on the enclosing expression without reporting more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reported;

/// The result of checking something that may already have been reported as wrong.
pub(crate) type Checked<T> = Result<T, Reported>;

/// What an expression may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ctx {
    /// Initial values and model domains: literals and constructors only.
    Const,
    /// Guards, invariants and effect defaults: state fields, the phase, guards and helpers.
    Machine,
    /// A helper body: its parameters plus everything `Machine` allows.
    Helper(HelperId),
    /// A transition: its trigger's payload fields and `source`, plus everything `Machine` allows.
    Transition(Trigger),
}

/// A node of the helper/guard dependency graph, used to reject cycles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Node {
    /// A helper body.
    Helper(HelperId),
    /// A named guard's condition.
    Guard(GuardId),
    /// Anything else (initial values, transitions, invariants): never part of a cycle.
    Other,
}

/// The locals of one body and the lexical scopes that make them visible.
#[derive(Debug)]
pub(crate) struct Body {
    pub(crate) ctx: Ctx,
    pub(crate) node: Node,
    pub(crate) locals: Vec<ir::Local>,
    scopes: Vec<Vec<(String, LocalId)>>,
}

impl Body {
    pub(crate) fn new(ctx: Ctx, node: Node) -> Self {
        Body { ctx, node, locals: Vec::new(), scopes: vec![Vec::new()] }
    }

    pub(crate) fn push_scope(&mut self) {
        self.scopes.push(Vec::new());
    }

    pub(crate) fn pop_scope(&mut self) {
        self.scopes.pop();
        if self.scopes.is_empty() {
            self.scopes.push(Vec::new());
        }
    }

    /// Binds a new local in the innermost scope.
    pub(crate) fn bind(&mut self, name: &str, ty: Type) -> LocalId {
        let id = LocalId(self.locals.len() as u32);
        self.locals.push(ir::Local { name: name.to_string(), ty });
        if let Some(scope) = self.scopes.last_mut() {
            scope.push((name.to_string(), id));
        }
        id
    }

    /// The innermost visible local of that name.
    pub(crate) fn lookup(&self, name: &str) -> Option<LocalId> {
        self.scopes.iter().rev().flat_map(|s| s.iter().rev()).find(|(n, _)| n == name).map(|(_, id)| *id)
    }

    pub(crate) fn visible_names(&self) -> Vec<String> {
        self.scopes.iter().flatten().map(|(n, _)| n.clone()).collect()
    }
}
