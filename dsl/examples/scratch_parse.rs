fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let sources = vec![meerkat_dsl::span::Source::new(path.clone(), text.clone())];
    match meerkat_dsl::parse::parse(&text, meerkat_dsl::span::SourceId(0)) {
        Ok(f) => println!("ok: {} items", f.items.len()),
        Err(d) => {
            let d: meerkat_dsl::diagnostic::Diagnostics = d.into_iter().collect();
            print!("{}", d.render(&sources, Default::default()));
        }
    }
}
