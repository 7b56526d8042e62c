use crate::fmt::format_source;

#[test]
fn scratch() {
    let src = std::fs::read_to_string("/tmp/fmtscratch/in.hcl").unwrap_or_default();
    match format_source(&src) {
        Ok(s) => print!("{s}"),
        Err(e) => print!("ERR {e}"),
    }
}
