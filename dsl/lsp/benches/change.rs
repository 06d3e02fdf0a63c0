//! What a change to `machines/meerkat.machine` costs the language server: `didChange` re-analyses the whole
//! document (parse, check, diagnostics, name index), measured against its baseline in the same run, the
//! checker alone (`check_source`), which is most of the work.
//!
//! `cargo bench -p meerkat-lsp --bench change`

#![allow(clippy::expect_used, reason = "a benchmark fails loudly on a missing spec")]

use criterion::{Criterion, criterion_group, criterion_main};
use lsp_types::Url;
use meerkat_lsp::analysis::Document;

fn change(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../machines/meerkat.machine");
    let text = std::fs::read_to_string(path).expect("machines/meerkat.machine is readable");
    let uri = Url::parse("file:///machines/meerkat.machine").expect("a valid URI");
    // An edit as an editor sends it: one character typed inside a doc comment.
    let edited = text.replacen("/// ", "/// x", 1);
    let mut group = c.benchmark_group("lsp_change_meerkat");
    group.bench_function("check_source (baseline)", |b| {
        b.iter(|| meerkat_dsl::check_source("meerkat.machine", &edited).is_ok())
    });
    group.bench_function("did_change (analyse)", |b| {
        b.iter(|| Document::analyse(uri.clone(), edited.clone()).diagnostics.len())
    });
    group.finish();
}

criterion_group!(benches, change);
criterion_main!(benches);
