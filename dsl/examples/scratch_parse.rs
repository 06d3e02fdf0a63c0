//! Scratch: check a spec file and print diagnostics.
fn main() {
    let path = std::env::args().nth(1).unwrap_or_default();
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    match meerkat_dsl::check_source(path, text) {
        Ok(p) => {
            print!("{}", p.render_warnings(Default::default()));
            for m in &p.machines {
                println!("ok: {} ({} transitions)", m.name, m.transitions.len());
            }
        }
        Err(e) => print!("{}", e.render(Default::default())),
    }
}
