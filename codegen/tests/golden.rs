//! Golden tests of the Rust back end: each `tests/golden/<name>.machine` is generated with the default options
//! and must equal `tests/golden/<name>.rs` byte for byte. The golden files are `expect-test` files, the
//! workspace's one golden-file harness: a mismatch fails with a diff, and
//! `UPDATE_EXPECT=1 cargo test -p meerkat-codegen --test golden` is the only way these files are rewritten. The
//! files double as readable examples of generated kernels.

// Tests report failures by panicking.
#![allow(clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use expect_test::expect_file;
use meerkat_codegen::{RustOptions, generate_rust};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("golden")
}

/// The generated source of a golden spec, named as the regen command would name it.
fn generate(spec: &Path) -> String {
    let text = std::fs::read_to_string(spec).unwrap_or_else(|e| panic!("cannot read {}: {e}", spec.display()));
    let name = format!("codegen/tests/golden/{}", spec.file_name().map(|n| n.to_string_lossy()).unwrap_or_default());
    let package = meerkat_dsl::check_source(name.clone(), text)
        .unwrap_or_else(|e| panic!("{name} does not check:\n{}", e.render(Default::default())));
    let options = RustOptions { spec_path: name, ..RustOptions::default() };
    package.machines.iter().map(|m| generate_rust(m, &options)).collect::<Vec<_>>().join("\n")
}

#[test]
fn generated_kernels_match_golden_files() {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("tests/golden exists")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "machine"))
        .collect();
    specs.sort();
    assert!(specs.len() >= 2, "expected golden specs in {}", golden_dir().display());
    for spec in specs {
        expect_file![spec.with_extension("rs")].assert_eq(&generate(&spec));
    }
}

#[test]
fn generation_is_deterministic() {
    for name in ["door.machine", "vault.machine"] {
        let spec = golden_dir().join(name);
        assert_eq!(generate(&spec), generate(&spec), "{name}");
    }
}

// The golden files are real kernels: they compile here, and a short run checks they behave.
#[allow(dead_code)]
mod door {
    include!("golden/door.rs");
}

#[allow(dead_code)]
mod vault {
    include!("golden/vault.rs");
}

#[test]
fn golden_kernels_run() {
    use door::{DoorAuthority, DoorEffect, DoorInput, DoorMutator, DoorPhase, DoorTransitionError};

    let mut door = DoorAuthority::new();
    let opened = door.apply(DoorInput::Push).expect("a closed, unlocked door opens");
    assert_eq!(opened.transition_name(), "Opened");
    assert_eq!(opened.effects(), &[DoorEffect::Moved { phase: DoorPhase::Open, openings: 1 }]);
    door.apply(DoorInput::Pull).expect("an open door closes");
    door.apply(DoorInput::Lock).expect("a closed door locks");
    assert_eq!(door.apply(DoorInput::Push).expect("a locked door rattles").transition_name(), "Rattled");
    let before = door.state().clone();
    let error = door.apply(DoorInput::Lock).expect_err("a locked door does not lock again");
    assert!(matches!(error, DoorTransitionError::GuardRejected { .. }), "{error:?}");
    assert_eq!(door.state(), &before);

    use vault::{Owner, VaultAuthority, VaultInput, VaultTransitionError};
    let mut vault = VaultAuthority::new();
    let put = |name: &str, amount| VaultInput::Put { name: name.into(), owner: Owner("ann".into()), amount };
    vault.apply(put("a", 100)).expect("a deposit is stored");
    let before = vault.state().clone();
    let error = vault.apply(put("b", u64::MAX)).expect_err("the fee overflows the total");
    assert_eq!(error, VaultTransitionError::ArithmeticOverflow { transition: "Put" });
    assert_eq!(vault.state(), &before, "every write of the failed deposit is undone");
}

/// Properties are the model checker's, never the kernel's: a machine generates the same kernel, byte for byte,
/// with or without its `property` and `reachable` declarations.
#[test]
fn properties_leave_the_kernel_unchanged() {
    let base = "machine Jug {
        phases { initial Pouring }
        state { gallons: u64 = 0 }
        input Fill
        input Empty
        on Fill from Pouring -> stay when gallons < 5 { gallons += 1 }
        on Empty from Pouring -> stay { gallons = 0 }
        invariant within_capacity = gallons <= 5
        PROPERTIES
    }";
    let kernel = |properties: &str| {
        let text = base.replace("PROPERTIES", properties);
        let package = meerkat_dsl::check_source("jug.machine", &text)
            .unwrap_or_else(|e| panic!("the spec does not check:\n{}", e.render(Default::default())));
        generate_rust(&package.machines[0], &RustOptions::default())
    };
    let with = kernel("property never_three = gallons != 3\n reachable full = gallons == 5");
    assert!(!with.contains("never_three") && !with.contains("full"), "a property reached the kernel:\n{with}");
    assert_eq!(with, kernel(""));
}
