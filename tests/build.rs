//! Compiles the test specs into kernels for the compile, behaviour and differential tests, the name-hygiene corpus,
//! and the benchmark machine twice more for `benches/kernel.rs`.
//!
//! - Every `../dsl/test_data/ok/*.machine`, every `specs/*.machine` and the small machines of `../machines/`
//!   (sorted), each checked as its own package, with interpreter conversions on, into `$OUT_DIR/kernels/`;
//!   `$OUT_DIR/kernels.rs` holds one module per machine including its kernel, plus the `InterpKernel` impl of its
//!   state (`interp_kernel!`, defined in `src/lib.rs`), and `$OUT_DIR/kernels_differential.rs` one
//!   `differential_test!` per machine, for `tests/differential.rs`.
//! - The specs of `build/corpus.rs`, written to `$OUT_DIR/corpus_specs/` and compiled the same way into
//!   `$OUT_DIR/corpus.rs` and `$OUT_DIR/corpus_differential.rs`, for `tests/corpus.rs`.
//! - `MEERKAT_RANDOM_SPECS` (default 16) random valid specs of `build/random_specs.rs` from seed
//!   `MEERKAT_RANDOM_SEED` (default 1), written to `$OUT_DIR/random_specs/` and compiled the same way into
//!   `$OUT_DIR/random.rs` and `$OUT_DIR/random_differential.rs`, for `tests/random_specs.rs`.
//! - `specs/bank.machine` again into `$OUT_DIR/bench_checks_on/` and `$OUT_DIR/bench_checks_off/` (post-transition
//!   invariants on and off, no conversions), for the benchmark.
//!
//! A spec that does not check fails the build with its rendered diagnostics.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use meerkat_codegen::Config;

#[path = "build/corpus.rs"]
mod corpus;
#[path = "build/random_specs.rs"]
mod random_specs;

/// Spec folders whose every `.machine` file is compiled, and single files.
const SPEC_DIRS: &[&str] = &["../dsl/test_data/ok", "specs"];
const SPEC_FILES: &[&str] =
    &["../machines/traffic_light.machine", "../machines/job_lease.machine", "../machines/turn_admission.machine"];
const BENCH_SPEC: &str = "specs/bank.machine";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set")?);

    let mut specs: Vec<PathBuf> = SPEC_FILES.iter().map(PathBuf::from).collect();
    for dir in SPEC_DIRS {
        println!("cargo:rerun-if-changed={dir}");
        let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read `{dir}`: {e}"))?;
        for entry in entries {
            let path = entry.map_err(|e| format!("cannot read `{dir}`: {e}"))?.path();
            if path.extension().is_some_and(|ext| ext == "machine") {
                specs.push(path);
            }
        }
    }
    specs.sort();
    let specs: Vec<PathBuf> = specs.into_iter().map(|spec| manifest_dir.join(spec)).collect();
    compile_group(&specs, "kernels", &out_dir, "test machine")?;

    println!("cargo:rerun-if-changed=build");
    let corpus_dir = out_dir.join("corpus_specs");
    let corpus = write_specs(&corpus_dir, corpus::specs())?;
    compile_group(&corpus, "corpus", &out_dir, "name-hygiene corpus machine")?;

    println!("cargo:rerun-if-env-changed=MEERKAT_RANDOM_SPECS");
    println!("cargo:rerun-if-env-changed=MEERKAT_RANDOM_SEED");
    let count = env_number("MEERKAT_RANDOM_SPECS", 16)?;
    let seed = env_number("MEERKAT_RANDOM_SEED", 1)?;
    let random = write_specs(&out_dir.join("random_specs"), random_specs::specs(seed, count))?;
    compile_group(&random, "random", &out_dir, "random spec")?;

    for (dir, checks) in [("bench_checks_on", true), ("bench_checks_off", false)] {
        Config::new()
            .post_transition_invariants(checks)
            .out_dir(out_dir.join(dir))
            .compile(&[BENCH_SPEC])
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The number in environment variable `name`, or `default` when it is not set.
fn env_number(name: &str, default: u64) -> Result<u64, String> {
    match std::env::var(name) {
        Ok(text) => text.parse().map_err(|e| format!("{name}={text:?} is not a number: {e}")),
        Err(_) => Ok(default),
    }
}

/// Writes generated specs as `<dir>/<stem>.machine` (when changed) and returns their paths.
fn write_specs(dir: &Path, specs: Vec<(String, String)>) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    let mut paths = Vec::new();
    for (stem, text) in specs {
        let path = dir.join(format!("{stem}.machine"));
        write_if_changed(&path, &text)?;
        paths.push(path);
    }
    Ok(paths)
}

/// Compiles each spec of `specs` (absolute paths) as its own package into `$OUT_DIR/<group>/`, and writes
/// `$OUT_DIR/<group>.rs` (one module per machine and composition, with the `InterpKernel` impl of each state, for
/// `src/lib.rs` to include as module `<group>`) and `$OUT_DIR/<group>_differential.rs` (one
/// `differential_test!` per machine). Every spec that does not check is reported, then the build fails.
fn compile_group(specs: &[PathBuf], group: &str, out_dir: &Path, what: &str) -> Result<(), String> {
    let kernel_dir = out_dir.join(group);
    let mut kernels = format!("// Written by build.rs: one module per {what}.\n");
    let mut differential = format!("// Written by build.rs: one differential test per {what}.\n");
    let mut modules: Vec<(String, PathBuf)> = Vec::new();
    let mut failures = Vec::new();
    for spec in specs {
        let text = std::fs::read_to_string(spec).map_err(|e| format!("cannot read `{}`: {e}", spec.display()))?;
        let name = spec.to_string_lossy().replace('\\', "/");
        let package = match meerkat_dsl::check_source(name, text) {
            Ok(package) => package,
            Err(e) => {
                failures.push(e.render(Default::default()));
                continue;
            }
        };
        let mut config = Config::new();
        config.interp_conversions(true).out_dir(&kernel_dir);
        // Composition routing code names each kernel where `<group>.rs` includes it.
        for machine in &package.machines {
            let module = meerkat_codegen::rust::module_name(&machine.name);
            config.machine_path(machine.name.clone(), format!("crate::{group}::{module}"));
        }
        let written = config.compile(&[spec]).map_err(|e| e.to_string())?;
        let (written, composition_files) = written.split_at(package.machines.len().min(written.len()));
        for (composition, path) in package.compositions.iter().zip(composition_files) {
            let module = meerkat_codegen::rust::module_name(&composition.name);
            let _ = write!(
                kernels,
                "\n/// The routing of composition `{name}` (`{spec}`).\npub mod {module} {{\n    include!({path:?});\n}}\n",
                name = composition.name,
                spec = spec.display(),
                path = path.display().to_string(),
            );
        }
        for (machine, path) in package.machines.iter().zip(written.iter().cloned()) {
            let module = meerkat_codegen::rust::module_name(&machine.name);
            if let Some((_, other)) = modules.iter().find(|(m, _)| *m == module) {
                return Err(format!(
                    "machine `{}` of `{}` clashes with a machine of `{}`: {what}s need distinct names",
                    machine.name,
                    spec.display(),
                    other.display()
                ));
            }
            modules.push((module.clone(), spec.clone()));
            let m = &machine.name;
            let _ = write!(
                kernels,
                "\n/// The kernel of `{m}` (`{spec}`).\npub mod {module} {{\n    include!({path:?});\n}}\n\
                 crate::interp_kernel!({module}, {abs:?}, {m}State, {m}Input, {m}Signal, {m}Effect);\n",
                spec = spec.display(),
                path = path.display().to_string(),
                abs = spec.display().to_string(),
            );
            let _ = writeln!(differential, "differential_test!({module}, meerkat_tests::{group}::{module}::{m}State);");
        }
    }
    if !failures.is_empty() {
        return Err(failures.join("\n"));
    }
    write_if_changed(&out_dir.join(format!("{group}.rs")), &kernels)?;
    write_if_changed(&out_dir.join(format!("{group}_differential.rs")), &differential)?;
    Ok(())
}

fn write_if_changed(path: &Path, contents: &str) -> Result<(), String> {
    if std::fs::read_to_string(path).is_ok_and(|existing| existing == contents) {
        return Ok(());
    }
    std::fs::write(path, contents).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}
