//! Rejects helpers and guards that depend on themselves, directly or through others: they would recurse
//! forever, and neither the generated kernel nor the model checker could order their definitions.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::{Code, Diagnostic, Label};
use crate::span::Span;

use super::body::Node;
use super::machine::MachineChecker;

impl MachineChecker<'_> {
    pub(crate) fn report_helper_cycles(&mut self) {
        let mut edges: BTreeMap<Node, Vec<(Node, Span)>> = BTreeMap::new();
        for (from, to, span) in &self.calls {
            if *from != Node::Other {
                edges.entry(*from).or_default().push((*to, *span));
            }
        }
        let mut reported: BTreeSet<Node> = BTreeSet::new();
        for start in edges.keys().copied().collect::<Vec<_>>() {
            if reported.contains(&start) {
                continue;
            }
            if let Some(cycle) = find_cycle(start, &edges) {
                for (node, _) in &cycle {
                    reported.insert(*node);
                }
                let names: Vec<String> = cycle.iter().map(|(n, _)| self.node_name(*n)).collect();
                let (_, first_span) = cycle[0];
                let mut path = names.clone();
                path.push(names[0].clone());
                self.diags.push(
                    Diagnostic::new(
                        Code::HelperCycle,
                        self.source,
                        format!("`{}` depends on itself", names[0]),
                        Label::new(first_span, "this reference closes the cycle"),
                    )
                    .with_note(format!("cycle: {}", path.join(" -> ")))
                    .with_help("helpers and guards cannot recurse; compute the value without calling back"),
                );
            }
        }
    }

    fn node_name(&self, node: Node) -> String {
        match node {
            Node::Helper(id) => self.m.helpers.get(id.index()).map_or_else(String::new, |h| h.name.clone()),
            Node::Guard(id) => self.m.guards.get(id.index()).map_or_else(String::new, |g| g.name.clone()),
            Node::Other => String::new(),
        }
    }
}

/// A cycle through `start`, as the nodes on it with the span of the reference that leaves each.
fn find_cycle(start: Node, edges: &BTreeMap<Node, Vec<(Node, Span)>>) -> Option<Vec<(Node, Span)>> {
    // Depth-first search with an explicit stack of (node, next edge index).
    let mut path: Vec<(Node, Span)> = Vec::new();
    let mut stack: Vec<(Node, usize)> = vec![(start, 0)];
    let mut visited: BTreeSet<Node> = BTreeSet::new();
    while let Some((node, next)) = stack.pop() {
        let out = edges.get(&node).map(Vec::as_slice).unwrap_or(&[]);
        if next < out.len() {
            stack.push((node, next + 1));
            let (to, span) = out[next];
            path.truncate(stack.len() - 1);
            path.push((node, span));
            if to == start {
                return Some(path);
            }
            if visited.insert(to) {
                stack.push((to, 0));
            }
        }
    }
    None
}
