//! What a change to `machines/meerkat.machine` costs the language server: `didChange` re-analyses the whole
//! package (parse, check, diagnostics, name index), measured against its baseline in the same run, the checker
//! alone, which is most of the work. Two pairs: the file alone (`check_source` against analysing a package of
//! one), and the file in its folder (`check_package` of every `machines/*.machine` against the server's
//! `set_text`, which re-analyses that package with the edited text and the siblings read from disk once).
//!
//! `cargo bench -p meerkat-lsp --bench change`

#![allow(clippy::expect_used, reason = "a benchmark fails loudly on a missing spec")]

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use lsp_types::Url;
use meerkat_dsl::Source;
use meerkat_lsp::analysis::Package;
use meerkat_lsp::server::Server;

fn change(c: &mut Criterion) {
    let folder =
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../machines")).canonicalize().expect("machines/ exists");
    let path = folder.join("meerkat.machine");
    let text = std::fs::read_to_string(&path).expect("machines/meerkat.machine is readable");
    // An edit as an editor sends it: one character typed inside a doc comment.
    let edited = text.replacen("/// ", "/// x", 1);
    let mut group = c.benchmark_group("lsp_change_meerkat");

    let alone = Url::parse("file:///alone/meerkat.machine").expect("a valid URI");
    group.bench_function("check_source (baseline)", |b| {
        b.iter(|| meerkat_dsl::check_source("meerkat.machine", &edited).is_ok())
    });
    group.bench_function("did_change (analyse the file alone)", |b| {
        b.iter(|| Package::analyse(vec![(alone.clone(), edited.clone())]).documents.len())
    });

    let mut sources: Vec<Source> = std::fs::read_dir(&folder)
        .expect("machines/ lists")
        .flatten()
        .map(|entry| entry.path())
        .filter(|p| p.extension().is_some_and(|e| e == "machine"))
        .map(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let body = if p == path { edited.clone() } else { std::fs::read_to_string(&p).expect("readable") };
            Source::new(name, body)
        })
        .collect();
    sources.sort_by(|a, b| a.name.cmp(&b.name));
    group.bench_function("check_package machines/ (baseline)", |b| {
        b.iter(|| meerkat_dsl::check_package(sources.clone()).is_ok())
    });
    let uri = Url::from_file_path(&path).expect("an absolute path");
    let mut server = Server::default();
    server.set_text(uri.clone(), edited.clone());
    group.bench_function("did_change (the package of machines/)", |b| {
        b.iter(|| server.set_text(uri.clone(), edited.clone()).len())
    });
    group.finish();
}

criterion_group!(benches, change);
criterion_main!(benches);
