//! Compiles the test specs into kernels for the compile, behaviour and differential tests, and the benchmark
//! machine twice more for `benches/kernel.rs`.
//!
//! - Every `../dsl/test_data/ok/*.machine`, every `specs/*.machine` and the small machines of `../machines/`
//!   (sorted), each checked as its own package, with interpreter conversions on, into `$OUT_DIR/kernels/`.
//! - `$OUT_DIR/kernels.rs`: one module per machine including its kernel, plus the `InterpKernel` impl of its
//!   state (`interp_kernel!`, defined in `src/lib.rs`).
//! - `$OUT_DIR/differential.rs`: one `differential_test!` per machine, for `tests/differential.rs`.
//! - `specs/bank.machine` again into `$OUT_DIR/bench_checks_on/` and `$OUT_DIR/bench_checks_off/` (post-transition
//!   invariants on and off, no conversions), for the benchmark.
//!
//! A spec that does not check fails the build with its rendered diagnostics.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use meerkat_codegen::Config;

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

    let kernel_dir = out_dir.join("kernels");
    let mut kernels = String::from("// Written by build.rs: one module per test machine.\n");
    let mut differential = String::from("// Written by build.rs: one differential test per test machine.\n");
    let mut modules: Vec<(String, PathBuf)> = Vec::new();
    for spec in &specs {
        let text = std::fs::read_to_string(spec).map_err(|e| format!("cannot read `{}`: {e}", spec.display()))?;
        let name = spec.to_string_lossy().replace('\\', "/");
        let package = meerkat_dsl::check_source(name, text).map_err(|e| e.render(Default::default()))?;
        let mut config = Config::new();
        config.interp_conversions(true).out_dir(&kernel_dir);
        // Composition routing code names each kernel where `kernels.rs` includes it.
        for machine in &package.machines {
            let module = meerkat_codegen::rust::snake_case(&machine.name);
            config.machine_path(machine.name.clone(), format!("crate::kernels::{module}"));
        }
        let written = config.compile(&[spec]).map_err(|e| e.to_string())?;
        let (written, composition_files) = written.split_at(package.machines.len().min(written.len()));
        for (composition, path) in package.compositions.iter().zip(composition_files) {
            let module = meerkat_codegen::rust::snake_case(&composition.name);
            let _ = write!(
                kernels,
                "\n/// The routing of composition `{name}` (`{spec}`).\npub mod {module} {{\n    include!({path:?});\n}}\n",
                name = composition.name,
                spec = spec.display(),
                path = path.display().to_string(),
            );
        }
        let absolute_spec = manifest_dir.join(spec);
        for (machine, path) in package.machines.iter().zip(written.iter().cloned()) {
            let module = meerkat_codegen::rust::snake_case(&machine.name);
            if let Some((_, other)) = modules.iter().find(|(m, _)| *m == module) {
                return Err(format!(
                    "machine `{}` of `{}` clashes with a machine of `{}`: test machines need distinct names",
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
                abs = absolute_spec.display().to_string(),
            );
            let _ = writeln!(differential, "differential_test!({module}, meerkat_tests::kernels::{module}::{m}State);");
        }
    }
    write_if_changed(&out_dir.join("kernels.rs"), &kernels)?;
    write_if_changed(&out_dir.join("differential.rs"), &differential)?;

    for (dir, checks) in [("bench_checks_on", true), ("bench_checks_off", false)] {
        Config::new()
            .post_transition_invariants(checks)
            .out_dir(out_dir.join(dir))
            .compile(&[BENCH_SPEC])
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn write_if_changed(path: &Path, contents: &str) -> Result<(), String> {
    if std::fs::read_to_string(path).is_ok_and(|existing| existing == contents) {
        return Ok(());
    }
    std::fs::write(path, contents).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}
