//! Temporary timing.
fn main() {
    let path = std::env::args().nth(1).unwrap_or_default();
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    if std::env::var("ONLY_PARSE").is_ok() {
        let _ = meerkat_dsl::parse::parse(&text, meerkat_dsl::SourceId(0));
    } else {
        let _ = meerkat_dsl::check_source("x", text.as_str());
    }
}
