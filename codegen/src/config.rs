//! [`Config`]: the front end for `build.rs` files, in the style of prost-build. It reads spec files, checks them
//! as one package, and writes each machine's kernel to `<out_dir>/<snake_case_machine_name>.rs`, only when the
//! content changed, so a consumer can `include!` it. This is the only place in the crate that touches files.
//!
//! The consuming crate depends on `meerkat-kernel`, which every kernel names as `::meerkat_kernel` (and on
//! `serde` unless [`Config::serde`] is off).

use std::fmt;
use std::path::{Path, PathBuf};

use meerkat_dsl::{RenderOptions, Source};

use crate::composition::{CompositionOptions, generate_composition};
use crate::rust::{RustOptions, generate_rust, snake_case};

/// Why [`Config::compile`] failed.
#[derive(thiserror::Error)]
pub enum Error {
    /// A spec file could not be read.
    #[error("cannot read spec file `{}`: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The specs do not check; the message is every diagnostic, rendered with its location and snippet.
    #[error("{rendered}")]
    Check {
        /// The rendered diagnostics and a summary line.
        rendered: String,
    },
    /// Neither [`Config::out_dir`] nor the `OUT_DIR` environment variable (set by cargo for build scripts) says
    /// where to write.
    #[error("no output directory: call `Config::out_dir` or run from a build script (OUT_DIR is not set)")]
    NoOutDir,
    /// Two machines or compositions would be written to the same file (their names snake-case alike).
    #[error("machines `{first}` and `{second}` would both be written to `{}`", path.display())]
    FileNameClash {
        /// The shared file.
        path: PathBuf,
        /// One machine.
        first: String,
        /// The other.
        second: String,
    },
    /// A generated file could not be written.
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
}

// `fn main() -> Result<(), Error>` in a build script prints the error with `Debug`; make that the readable
// rendering rather than a struct dump with escaped newlines.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Compiles spec files into kernel sources for a `build.rs`.
///
/// ```no_run
/// // build.rs
/// fn main() -> Result<(), meerkat_codegen::Error> {
///     meerkat_codegen::Config::new().compile(&["../machines/traffic_light.machine"])?;
///     Ok(())
/// }
/// ```
///
/// and in the crate:
///
/// ```text
/// pub mod traffic_light {
///     include!(concat!(env!("OUT_DIR"), "/traffic_light.rs"));
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    options: RustOptions,
    composition: CompositionOptions,
    out_dir: Option<PathBuf>,
    rerun_if_changed: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl Config {
    /// A configuration with the defaults: invariants checked after every transition, serde derives, no
    /// interpreter conversions, output into `$OUT_DIR`, `cargo:rerun-if-changed` printed for each spec.
    ///
    /// ```
    /// let config = meerkat_codegen::Config::new();
    /// # let _ = config;
    /// ```
    pub fn new() -> Self {
        Config {
            options: RustOptions {
                regenerate_with: "cargo build (written by build.rs through meerkat_codegen::Config; edit the spec)"
                    .to_string(),
                ..RustOptions::default()
            },
            composition: CompositionOptions {
                regenerate_with: "cargo build (written by build.rs through meerkat_codegen::Config; edit the spec)"
                    .to_string(),
                ..CompositionOptions::default()
            },
            out_dir: None,
            rerun_if_changed: true,
        }
    }

    /// The module path where the consuming crate includes a machine's kernel, used by generated composition
    /// routing code. Default: `crate::<snake_case_name>::dsl`.
    ///
    /// ```
    /// let mut config = meerkat_codegen::Config::new();
    /// config.machine_path("MeerkatMachine", "crate::meerkat_machine::dsl");
    /// ```
    pub fn machine_path(&mut self, machine: impl Into<String>, path: impl Into<String>) -> &mut Self {
        self.composition.machine_paths.insert(machine.into(), path.into());
        self
    }

    /// Whether kernels check every invariant after each transition (a violation rejects the input). Default
    /// `true`; `recover_from_state` checks them either way.
    ///
    /// ```
    /// let mut config = meerkat_codegen::Config::new();
    /// config.post_transition_invariants(false);
    /// ```
    pub fn post_transition_invariants(&mut self, enabled: bool) -> &mut Self {
        self.options.post_transition_invariants = enabled;
        self
    }

    /// Whether those checks are incremental: an invariant a transition writes nothing of is not evaluated, and
    /// `m.all(..)` / `m.any(..)` over a map the transition writes by entries is checked on the entries written.
    /// Default `true`; off, every invariant is evaluated in full after each transition.
    ///
    /// ```
    /// let mut config = meerkat_codegen::Config::new();
    /// config.incremental_invariants(false);
    /// ```
    pub fn incremental_invariants(&mut self, enabled: bool) -> &mut Self {
        self.options.incremental_invariants = enabled;
        self
    }

    /// Whether kernels also convert to and from the reference interpreter's values (inherent
    /// `to_interp` methods, `meerkat_dsl::interp::FromInterp` impls), for differential tests. Default `false`; when on, the consuming crate must depend on
    /// `meerkat-dsl`.
    ///
    /// ```
    /// let mut config = meerkat_codegen::Config::new();
    /// config.interp_conversions(true);
    /// ```
    pub fn interp_conversions(&mut self, enabled: bool) -> &mut Self {
        self.options.interp_conversions = enabled;
        self
    }

    /// Whether the data types derive `serde::Serialize` and `serde::Deserialize`. Default `true`; when on, the
    /// consuming crate must depend on `serde` with the `derive` feature.
    ///
    /// ```
    /// let mut config = meerkat_codegen::Config::new();
    /// config.serde(false);
    /// ```
    pub fn serde(&mut self, enabled: bool) -> &mut Self {
        self.options.serde = enabled;
        self
    }

    /// Where to write the kernels. Default: the `OUT_DIR` cargo sets for build scripts.
    ///
    /// ```
    /// let mut config = meerkat_codegen::Config::new();
    /// config.out_dir("target/kernels");
    /// ```
    pub fn out_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Whether [`Config::compile`] prints `cargo:rerun-if-changed=<spec>` for each spec. Default `true` (what a
    /// build script wants); turn it off when calling from anything else.
    ///
    /// ```
    /// let mut config = meerkat_codegen::Config::new();
    /// config.rerun_if_changed(false);
    /// ```
    pub fn rerun_if_changed(&mut self, enabled: bool) -> &mut Self {
        self.rerun_if_changed = enabled;
        self
    }

    /// Reads `specs`, checks them as one package (machine names are unique across it), and writes each
    /// machine's kernel to `<out_dir>/<snake_case_name>.rs` and each composition's routing code to
    /// `<out_dir>/<snake_case_composition>.rs`, leaving files whose content is unchanged untouched. Returns the
    /// paths written, machines first, in package order.
    ///
    /// # Errors
    ///
    /// [`Error::Check`] with every diagnostic rendered (file, line, column and snippet) when a spec does not
    /// check; otherwise IO errors, a missing output directory, or two machines whose file names collide.
    ///
    /// ```no_run
    /// let kernels = meerkat_codegen::Config::new()
    ///     .post_transition_invariants(true)
    ///     .out_dir("target/kernels")
    ///     .compile(&["machines/traffic_light.machine"])?;
    /// assert_eq!(kernels[0].file_name().and_then(|n| n.to_str()), Some("traffic_light.rs"));
    /// # Ok::<(), meerkat_codegen::Error>(())
    /// ```
    pub fn compile(&self, specs: &[impl AsRef<Path>]) -> Result<Vec<PathBuf>, Error> {
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR").map(PathBuf::from).ok_or(Error::NoOutDir)?,
        };
        let mut sources = Vec::with_capacity(specs.len());
        for spec in specs {
            let path = spec.as_ref();
            if self.rerun_if_changed {
                // Talking to cargo on stdout is what a build script's helper is for.
                #[allow(clippy::print_stdout)]
                {
                    println!("cargo:rerun-if-changed={}", path.display());
                }
            }
            let text =
                std::fs::read_to_string(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
            sources.push(Source::new(display_name(path), text));
        }
        let package = meerkat_dsl::check_package(sources).map_err(|error| {
            let errors = error.diagnostics.error_count();
            let mut rendered = error.render(RenderOptions::default());
            if !rendered.ends_with('\n') {
                rendered.push('\n');
            }
            let plural = if errors == 1 { "" } else { "s" };
            rendered.push_str(&format!("error: could not compile the machine specs due to {errors} error{plural}"));
            Error::Check { rendered }
        })?;

        std::fs::create_dir_all(&out_dir).map_err(|source| Error::Write { path: out_dir.clone(), source })?;
        let mut written: Vec<(PathBuf, String)> = Vec::new();
        for machine in &package.machines {
            let path = out_dir.join(format!("{}.rs", snake_case(&machine.name)));
            if let Some((_, first)) = written.iter().find(|(p, _)| *p == path) {
                return Err(Error::FileNameClash { path, first: first.clone(), second: machine.name.clone() });
            }
            let spec_path = package.source_of(machine).map(|s| s.name.clone()).unwrap_or_default();
            let options = RustOptions { spec_path, ..self.options.clone() };
            let code = generate_rust(machine, &options);
            write_if_changed(&path, &code)?;
            written.push((path, machine.name.clone()));
        }
        for composition in &package.compositions {
            let path = out_dir.join(format!("{}.rs", snake_case(&composition.name)));
            if let Some((_, first)) = written.iter().find(|(p, _)| *p == path) {
                return Err(Error::FileNameClash { path, first: first.clone(), second: composition.name.clone() });
            }
            let spec_path =
                package.sources.get(composition.source.0 as usize).map(|s| s.name.clone()).unwrap_or_default();
            let options = CompositionOptions { spec_path, ..self.composition.clone() };
            write_if_changed(&path, &generate_composition(&package, composition, &options))?;
            written.push((path, composition.name.clone()));
        }
        Ok(written.into_iter().map(|(path, _)| path).collect())
    }
}

/// The name diagnostics and headers print for a spec: the path as given, with `/` separators.
fn display_name(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Writes `contents` to `path` unless the file already holds exactly that (keeping its mtime, so cargo does not
/// rebuild what includes it).
fn write_if_changed(path: &Path, contents: &str) -> Result<(), Error> {
    if std::fs::read_to_string(path).is_ok_and(|existing| existing == contents) {
        return Ok(());
    }
    std::fs::write(path, contents).map_err(|source| Error::Write { path: path.to_path_buf(), source })
}
