//! Deep and long inputs: types nested thousands of levels, chains of a thousand records, flat chains of hundreds of
//! operators, `else if`s and helper calls, and 800 broken items, each checked on a thread
//! with a small fixed stack, so that a pass that recursed without bound would fail the test (a stack overflow on a
//! spawned thread aborts the process, which fails it too) rather than pass by luck on a large main stack. Each
//! input must be refused or accepted with the right diagnostic, not merely survive.

#![allow(clippy::expect_used, clippy::panic, reason = "a test fails loudly on broken test data")]

use meerkat_dsl::{CheckError, RenderOptions, check_source};

/// The stack each check runs on: far below the 8 MiB of a main thread, and below the 2 MiB of a default thread.
const STACK: usize = 512 * 1024;

/// The stack for specs at the limits of flat chains: the 2 MiB of a default Rust thread (a test, a tokio worker).
/// The passes recurse once per link of a chain, and unoptimised frames are large.
const CHAIN_STACK: usize = 2 * 1024 * 1024;

/// Checks `text` on a thread with [`STACK`] bytes of stack and renders its diagnostics there too.
fn check_on_small_stack(text: String) -> Result<(), (CheckError, String)> {
    check_on_stack(text, STACK)
}

fn check_on_stack(text: String, stack: usize) -> Result<(), (CheckError, String)> {
    std::thread::Builder::new()
        .stack_size(stack)
        .spawn(move || match check_source("deep.machine", text) {
            Ok(_) => Ok(()),
            Err(error) => {
                let rendered = error.render(RenderOptions::default());
                Err((error, rendered))
            }
        })
        .expect("spawn a checking thread")
        .join()
        .expect("the check does not panic")
}

fn refused_with(text: String, message: &str) -> String {
    match check_on_small_stack(text) {
        Ok(()) => panic!("the spec is accepted"),
        Err((error, rendered)) => {
            let messages: Vec<&str> = error.diagnostics.iter().map(|d| d.message.as_str()).collect();
            assert_eq!(messages.len(), 1, "one diagnostic: {rendered}");
            assert!(messages[0].contains(message), "{rendered}");
            rendered
        }
    }
}

#[test]
fn a_type_nested_ten_thousand_levels_is_refused() {
    let n = 10_000;
    let text = format!(
        "machine M {{ phases {{ initial A }} state {{ x: {}u64{} = None }} }}",
        "Option<".repeat(n),
        ">".repeat(n)
    );
    // pest's own stack guard stops this one before lowering sees it; a shallower one reaches the type bound.
    refused_with(text, "nests too deeply to parse");
    let n = 1_000;
    let text = format!(
        "machine M {{ phases {{ initial A }} state {{ x: {}u64{} = None }} }}",
        "Option<".repeat(n),
        ">".repeat(n)
    );
    refused_with(text, "this type nests more than 64 levels deep");
}

#[test]
fn a_chain_of_a_thousand_records_is_refused_once() {
    let n = 1_000;
    let mut text = String::from("machine M {\n    phases { initial A }\n");
    for i in 0..n - 1 {
        text.push_str(&format!("    record R{i} {{ next: R{} }}\n", i + 1));
    }
    text.push_str(&format!("    record R{} {{ last: u64 }}\n    state {{ head: Option<R0> = None }}\n}}\n", n - 1));
    let rendered = refused_with(text, "nests more than 64 levels deep, counting the types it names");
    // R935 holds 64 levels below it (R936 .. R999): the chain crosses the limit there.
    assert!(rendered.contains("type `R935`"), "{rendered}");
}

#[test]
fn a_chain_of_newtypes_and_collections_counts_every_level() {
    // N0(Seq<N1>), N1(Seq<N2>) ...: two levels per link, so 33 links are 66 levels.
    let n = 33;
    let mut text = String::from("machine M {\n    phases { initial A }\n");
    for i in 0..n {
        text.push_str(&format!("    newtype N{i}(Seq<N{}>)\n", i + 1));
    }
    text.push_str(&format!("    newtype N{n}(u64)\n    state {{ head: Option<N0> = None }}\n}}\n"));
    refused_with(text, "nests more than 64 levels deep");
}

fn accepted(text: String) {
    if let Err((_, rendered)) = check_on_stack(text, CHAIN_STACK) {
        panic!("the spec is refused:\n{rendered}");
    }
}

#[test]
fn flat_chains_of_three_hundred_links_are_not_nesting() {
    let n = 300;
    let ands: Vec<String> = (0..n).map(|i| format!("x != {i}")).collect();
    accepted(format!(
        "machine M {{ phases {{ initial A }} state {{ x: u64 = 1000 }} invariant i = {} }}",
        ands.join(" && ")
    ));
    let sum = vec!["x"; n].join(" + ");
    accepted(format!("machine M {{ phases {{ initial A }} state {{ x: u64 = 1 }} invariant i = {sum} > 0 }}"));
    let branches: String = (0..n).map(|i| format!("if x == {i} {{ {i} }} else ")).collect();
    accepted(format!(
        "machine M {{ phases {{ initial A }} state {{ x: u64 = 7 }} invariant i = ({branches}{{ 0 }}) == 7 }}"
    ));
    let statements: String = (0..n).map(|i| format!("if x == {i} {{ x = {}; }} else ", i + 1)).collect();
    accepted(format!(
        "machine M {{ phases {{ initial A }} state {{ x: u64 = 0 }} input Go on Go from A -> stay {{ {statements}{{ x = 0; }} }} }}"
    ));
}

#[test]
fn real_nesting_past_one_hundred_levels_is_still_refused() {
    let n = 101;
    let text = format!(
        "machine M {{ phases {{ initial A }} state {{ x: u64 = 1 }} invariant i = {}x{} > 0 }}",
        "(x + ".repeat(n),
        ")".repeat(n)
    );
    refused_with(text, "nests more than 100 levels deep");
    // A chain longer than the tree may be deep is refused too, with the same error.
    let sum = vec!["x"; 600].join(" + ");
    refused_with(
        format!("machine M {{ phases {{ initial A }} state {{ x: u64 = 1 }} invariant i = {sum} > 0 }}"),
        "nests more than 100 levels deep",
    );
}

#[test]
fn a_chain_of_three_hundred_helper_calls_evaluates() {
    let n = 300;
    let mut text = String::from("machine M {\n    phases { initial A }\n    state { x: u64 = 5 }\n");
    for i in 0..n {
        text.push_str(&format!("    fn h{i}(v: u64) -> u64 {{ h{}(v) }}\n", i + 1));
    }
    text.push_str(&format!("    fn h{n}(v: u64) -> u64 {{ v }}\n    invariant same = h0(x) == 5\n}}\n"));
    accepted(text.clone());
    // The same chain with an invariant that is false is reported as false, not as an evaluation failure.
    let broken = text.replace("h0(x) == 5", "h0(x) == 6");
    let rendered = refused_with(broken, "the initial state breaks invariant `same`");
    assert!(rendered.contains("false in the initial state"), "{rendered}");
}

#[test]
fn eight_hundred_broken_items_are_each_reported() {
    let n = 800;
    let mut text = String::from("machine M {\n    phases { initial A }\n");
    for i in 0..n {
        text.push_str(&format!("    input I{i} {{ a: u64 = }}\n    input J{i} {{ a: u64 }}\n"));
    }
    text.push_str("}\n");
    let (error, _) = check_on_small_stack(text).expect_err("the spec is refused");
    assert_eq!(error.diagnostics.error_count(), n, "one error per broken item");
}
