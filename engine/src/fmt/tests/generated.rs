//! Formatting random, valid HCL: blocks, attributes, every kind of
//! expression, comments and heredocs, laid out with random whitespace and
//! line breaks. Checks what must hold for any input: fmt succeeds, its output
//! parses (checked inside `format_source`), a second run changes nothing, and
//! scrambling the output's whitespace formats back to the same text.

use super::scramble;
use crate::fmt::format_source;

/// A deterministic generator of HCL source (an LCG: failures reproduce).
struct Gen {
    state: u64,
    /// Suffix that keeps attribute and object keys unique, as HCL requires.
    names: usize,
}

impl Gen {
    fn pick(&mut self, n: usize) -> usize {
        self.state = self
            .state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.state >> 33) as usize % n
    }

    fn choose<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.pick(items.len())]
    }

    /// Whitespace that may appear between two tokens.
    fn ws(&mut self) -> &'static str {
        self.choose(&["", " ", " ", "  ", "\t"])
    }

    /// Whitespace that may separate tokens that would otherwise merge.
    fn ws1(&mut self) -> &'static str {
        self.choose(&[" ", " ", "  ", "\t"])
    }

    /// A line break followed by random indentation.
    fn nl(&mut self) -> String {
        format!("\n{}", self.choose(&["", "  ", "    ", "\t", "      "]))
    }

    fn name(&mut self) -> String {
        self.names += 1;
        let base = self.choose(&[
            "a",
            "name",
            "replicas",
            "image_tag",
            "x",
            "labels",
            "long_name",
        ]);
        format!("{base}{}", self.names)
    }

    fn expr(&mut self, depth: usize) -> String {
        let leaf = depth == 0 || self.pick(3) == 0;
        if leaf {
            return match self.pick(6) {
                0 => self.choose(&["1", "42", "3.14", "1e3"]).to_string(),
                1 => format!("var{}{}", self.ws(), ".name").replace(' ', ""),
                2 => format!("local.m[{}\"k\"{}]", self.ws(), self.ws()),
                3 => self.choose(&["true", "null", "x"]).to_string(),
                4 => format!("\"text {}\"", self.choose(&["a  b", "$${raw}", "x = y"])),
                _ => format!("a[{}*{}].b", self.ws(), self.ws()),
            };
        }
        let d = depth - 1;
        match self.pick(13) {
            0 => {
                let op = self.choose(&["+", "-", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||"]);
                // A space before `-` keeps `x-1` from being one identifier.
                format!(
                    "{}{}{op}{}{}",
                    self.expr(d),
                    self.ws1(),
                    self.ws(),
                    self.expr(d)
                )
            }
            1 => format!("{}{}{}", self.choose(&["-", "!"]), self.ws(), self.expr(d)),
            2 => format!(
                "{}{}?{}{}{}:{}{}",
                self.expr(d),
                self.ws1(),
                self.ws(),
                self.expr(d),
                self.ws1(),
                self.ws(),
                self.expr(d)
            ),
            3 => self.list("[", "]", d, false),
            4 => self.list("{", "}", d, true),
            5 => {
                let f = self.choose(&["merge", "f", "provider::k8s::quote"]);
                let args = self.list("(", ")", d, false);
                format!("{f}{args}")
            }
            6 => format!(
                "[for{}v{}in{}{}{}:{}{}{}]",
                self.ws1(),
                self.ws1(),
                self.ws1(),
                self.expr(d),
                self.ws(),
                self.ws(),
                self.expr(d),
                self.ws()
            ),
            7 => format!(
                "{{for k,{}v in {}:{}k=>{}{}}}",
                self.ws(),
                self.expr(d),
                self.ws(),
                self.ws(),
                self.expr(d)
            ),
            8 => format!("({}{}{})", self.ws(), self.expr(d), self.ws()),
            9 => format!(
                "\"pre-${{{}{}{}}}-post\"",
                self.ws(),
                self.expr(d),
                self.ws()
            ),
            10 => format!(
                "\"%{{{}if {}{}~}}yes%{{{}else{}}}no%{{~{}endif{}}}\"",
                self.ws(),
                self.expr(d),
                self.ws(),
                self.ws(),
                self.ws(),
                self.ws(),
                self.ws()
            ),
            11 => format!(
                "f({}{}{}...{})",
                self.ws(),
                self.expr(d),
                self.ws(),
                self.ws()
            ),
            _ => format!("\"${{{}{}{}}}\"", self.ws(), self.expr(d), self.ws()),
        }
    }

    /// A tuple, object or argument list, on one line or spread over lines.
    fn list(&mut self, open: &str, close: &str, depth: usize, object: bool) -> String {
        let n = self.pick(4);
        let multi_line = self.pick(2) == 0;
        let mut items = Vec::new();
        for _ in 0..n {
            let value = self.expr(depth);
            items.push(if object {
                let key = self.name();
                format!("{key}{}={}{value}", self.ws(), self.ws())
            } else {
                value
            });
        }
        if multi_line {
            let mut s = open.to_string();
            for item in items {
                s.push_str(&self.nl());
                s.push_str(&item);
                s.push(',');
                match self.pick(6) {
                    0 => s.push_str(" # note"),
                    1 => {
                        s.push_str(&self.nl());
                        s.push_str("// a comment line");
                    }
                    2 => s.push_str(&self.nl()),
                    _ => {}
                }
            }
            s.push_str(&self.nl());
            s.push_str(close);
            s
        } else {
            let sep = format!(",{}", self.ws());
            format!(
                "{open}{}{}{}{close}",
                self.ws(),
                items.join(&sep),
                self.ws()
            )
        }
    }

    fn body(&mut self, depth: usize) -> String {
        let mut s = String::new();
        for _ in 0..1 + self.pick(5) {
            s.push_str(&self.nl());
            match self.pick(8) {
                0 if depth > 0 => {
                    let inner = self.body(depth - 1);
                    s.push_str(&format!(
                        "{}{}\"{}\"{}{{{inner}{}}}",
                        self.choose(&["resource", "spec", "k8s_namespace"]),
                        self.ws1(),
                        self.name(),
                        self.ws(),
                        self.nl()
                    ));
                }
                1 => s.push_str(self.choose(&["# comment", "// comment", "/* block */", ""])),
                3 => {
                    let value = self.expr(0);
                    s.push_str(&format!(
                        "one{}{{{}{}={}{value}{}}}",
                        self.ws1(),
                        self.ws(),
                        self.name(),
                        self.ws(),
                        self.ws()
                    ));
                }
                2 => {
                    let marker = self.choose(&["<<EOT", "<<-EOT"]);
                    s.push_str(&format!(
                        "{}{}={}{marker}\n  body ${{{}x{}}}  \nEOT",
                        self.name(),
                        self.ws(),
                        self.ws(),
                        self.ws(),
                        self.ws()
                    ));
                }
                _ => {
                    let value = self.expr(depth + 1);
                    s.push_str(&format!(
                        "{}{}={}{value}",
                        self.name(),
                        self.ws(),
                        self.ws()
                    ));
                    if self.pick(3) == 0 {
                        s.push_str(&format!("{}# trailing", self.ws()));
                    }
                }
            }
        }
        s
    }
}

#[test]
fn random_valid_hcl_formats_idempotently_and_ignores_whitespace() {
    let mut generator = Gen { state: 1, names: 0 };
    let mut formatted = 0;
    let mut failures = Vec::new();
    for case in 0..400 {
        let src = generator.body(3);
        let once = match format_source(&src) {
            Ok(once) => once,
            Err(e) => {
                failures.push(format!("case {case}: {e}\n{src}"));
                continue;
            }
        };
        formatted += 1;
        match format_source(&once) {
            Ok(twice) if twice == once => {}
            other => failures.push(format!("case {case} not idempotent:\n{once}\n{other:?}")),
        }
        let messy = scramble(&once, case);
        match format_source(&messy) {
            Ok(again) if again == once => {}
            other => failures.push(format!(
                "case {case} whitespace changed the result:\n{once}\n--- scrambled\n{messy}\n{other:?}"
            )),
        }
        if failures.len() > 3 {
            break;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_eq!(formatted, 400);
}
