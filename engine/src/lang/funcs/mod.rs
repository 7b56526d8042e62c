//! The function library: Terraform's built-in functions with Terraform's
//! results (values, result types and messages). Each function declares
//! typed parameters; [`call`] converts the arguments, short-circuits
//! unknown arguments to an unknown result (see [`Function::deep_unknowns`]),
//! and carries sensitive marks from the arguments to the result, so most
//! implementations only see known, unmarked, converted values.
//!
//! One file per family: `collections`, `sequences`, `sets`, `conversion`,
//! `strings`, `regexes`, `format` (+ `gofmt` for Go's number formatting),
//! `encoding`, `yaml` / `yaml_decode`, `csv`, `crypto`, `numeric`, `cidr`,
//! `datetime`, `filesystem` (+ `paths`). `docs/functions.md` lists every
//! function and its subtleties.
//!
//! Functions never print, never write files and never reach the network;
//! the only outside inputs are files under [`FuncCtx::base_dir`] and the
//! clock/randomness of `timestamp` and `uuid`. `try` and `can` are not here:
//! they take unevaluated expressions, so the evaluator implements them.

use crate::value::{Type, Value, convert::convert};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

mod cidr;
mod collections;
mod conversion;
mod crypto;
mod csv;
mod datetime;
mod encoding;
mod filesystem;
mod format;
mod godeflate;
mod gofmt;
pub mod limits;
mod numeric;
mod paths;
mod regexes;
mod sequences;
mod sets;
mod strings;
#[cfg(test)]
mod testing;
mod textencoding;
mod util;
mod yaml;
mod yaml_decode;

/// What functions may reach beyond their arguments: the module directory
/// (for `file`, `templatefile`) and the template renderer.
pub struct FuncCtx<'a> {
    /// Directory relative paths resolve against (`path.module`).
    pub base_dir: &'a Path,
    /// Renders templates for `templatefile`.
    pub templates: &'a dyn TemplateRenderer,
}

/// Renders a template source with the given variables (the evaluator
/// implements this; functions cannot parse HCL themselves).
pub trait TemplateRenderer {
    /// Renders `src` (read from `path`) with `vars` in scope.
    ///
    /// # Errors
    /// A message describing the parse or evaluation failure, with its location.
    fn render(
        &self,
        src: &str,
        path: &Path,
        vars: &BTreeMap<String, Value>,
    ) -> Result<Value, String>;

    /// The renderer to use while planning, when it differs: one whose
    /// templates see `timestamp()` and `uuid()` as unknown (see [`IMPURE`]).
    fn planning(&self) -> Option<&'static dyn TemplateRenderer> {
        None
    }
}

/// A function call failure. `arg` is the index of the offending argument,
/// so the diagnostic can underline it.
#[derive(Debug, Clone, PartialEq)]
pub struct FuncError {
    /// Index of the argument at fault, when one is.
    pub arg: Option<usize>,
    /// What went wrong, in Terraform's words.
    pub message: String,
}

impl FuncError {
    /// An error not tied to one argument.
    pub fn new(message: impl Into<String>) -> FuncError {
        FuncError {
            arg: None,
            message: message.into(),
        }
    }
    /// An error about argument `i`.
    pub fn arg(i: usize, message: impl Into<String>) -> FuncError {
        FuncError {
            arg: Some(i),
            message: message.into(),
        }
    }
}

/// The implementation of a function: receives converted, known, unmarked arguments.
pub type FuncImpl = fn(&FuncCtx<'_>, Vec<Value>) -> Result<Value, FuncError>;

/// A declared parameter.
#[derive(Debug, Clone)]
pub struct Param {
    /// Name used in error messages (`Invalid value for "list" parameter`).
    pub name: &'static str,
    /// Arguments are converted to this type first (`Type::Dynamic`: as is).
    pub ty: Type,
    /// Whether null is accepted (else "argument must not be null").
    pub allow_null: bool,
    /// Whether the implementation wants to see unknown values (else the
    /// call returns an unknown of the return type).
    pub allow_unknown: bool,
}

impl Param {
    /// A parameter of type `ty` that rejects null and unknown values.
    pub const fn new(name: &'static str, ty: Type) -> Param {
        Param {
            name,
            ty,
            allow_null: false,
            allow_unknown: false,
        }
    }
    /// Accepts null.
    pub const fn nullable(mut self) -> Param {
        self.allow_null = true;
        self
    }
    /// Accepts unknown values.
    pub const fn unknowns(mut self) -> Param {
        self.allow_unknown = true;
        self
    }
}

/// A function's signature and implementation.
pub struct Function {
    /// Fixed parameters.
    pub params: Vec<Param>,
    /// Repeated trailing parameter, if any.
    pub variadic: Option<Param>,
    /// Result type when it does not depend on the arguments (else Dynamic);
    /// used for the unknown result of a call with unknown arguments.
    pub ret: Type,
    /// The implementation.
    pub imp: FuncImpl,
    /// When true, the implementation sees sensitive marks on its arguments
    /// and decides the marks of its result itself (`sensitive`,
    /// `nonsensitive`, `issensitive`); otherwise [`call`] strips them and
    /// marks the whole result.
    pub sees_marks: bool,
    /// When true (the default), a call whose arguments contain an unknown
    /// value anywhere returns an unknown result. Functions that keep their
    /// arguments' structure (`length`, `concat`, `merge`, ...) set it to
    /// false: like cty, they then see nested unknowns and only a wholly
    /// unknown argument makes the result unknown, so `length()` of a list
    /// of not-yet-known ids is still known.
    pub deep_unknowns: bool,
    /// When true, only marks on the arguments themselves are lifted to the
    /// result; marks on elements inside stay where they are (cty's
    /// `AllowMarked` functions: `concat`, `merge`, `lookup`, `to*`...), so
    /// one sensitive map value does not hide the whole map. Otherwise every
    /// mark inside an argument marks the whole result.
    pub shallow_marks: bool,
}

impl Function {
    /// A function whose result is marked when any argument is.
    pub fn new(params: Vec<Param>, variadic: Option<Param>, ret: Type, imp: FuncImpl) -> Function {
        Function {
            params,
            variadic,
            ret,
            imp,
            sees_marks: false,
            deep_unknowns: true,
            shallow_marks: false,
        }
    }
}

fn table() -> &'static BTreeMap<&'static str, Function> {
    static TABLE: OnceLock<BTreeMap<&'static str, Function>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = BTreeMap::new();
        cidr::register(&mut t);
        collections::register(&mut t);
        conversion::register(&mut t);
        crypto::register(&mut t);
        csv::register(&mut t);
        datetime::register(&mut t);
        encoding::register(&mut t);
        filesystem::register(&mut t);
        format::register(&mut t);
        numeric::register(&mut t);
        regexes::register(&mut t);
        sequences::register(&mut t);
        sets::register(&mut t);
        strings::register(&mut t);
        textencoding::register(&mut t);
        yaml::register(&mut t);
        t
    })
}

/// Looks a function up by name.
pub fn lookup(name: &str) -> Option<&'static Function> {
    table().get(name)
}

/// Functions whose result differs on every call. Terraform makes them
/// return unknown values while planning (only apply sees real results);
/// the evaluator should do the same when it evaluates for a plan.
pub const IMPURE: &[&str] = &["timestamp", "uuid"];

/// Every function name, sorted (for "did you mean" suggestions and docs).
pub fn names() -> impl Iterator<Item = &'static str> {
    table().keys().copied()
}

/// Calls function `name` with `args`.
///
/// ```
/// use posture_engine::lang::funcs::{call, FuncCtx, NoTemplates};
/// use posture_engine::value::Value;
/// let ctx = FuncCtx { base_dir: std::path::Path::new("."), templates: &NoTemplates };
/// let n = call(&ctx, "length", vec![Value::from("héllo")]).unwrap();
/// assert_eq!(n, Value::from(5));
/// ```
///
/// # Errors
/// Unknown function, wrong argument count, an argument that does not convert
/// to its parameter's type, or the function's own failure.
pub fn call(ctx: &FuncCtx<'_>, name: &str, args: Vec<Value>) -> Result<Value, FuncError> {
    let f = lookup(name)
        .ok_or_else(|| FuncError::new(format!("There is no function named \"{name}\".")))?;
    let n = args.len();
    if n < f.params.len() {
        let missing = &f.params[n];
        return Err(FuncError::new(format!(
            "Function \"{name}\" expects {}{} argument(s). Missing value for \"{}\".",
            if f.variadic.is_some() {
                "at least "
            } else {
                ""
            },
            f.params.len(),
            missing.name
        )));
    }
    if f.variadic.is_none() && n > f.params.len() {
        return Err(FuncError::arg(
            f.params.len(),
            format!(
                "Function \"{name}\" expects only {} argument(s).",
                f.params.len()
            ),
        ));
    }
    let mut sensitive = false;
    let mut unknown = false;
    // Positions of arguments holding a sensitive value anywhere inside:
    // an error of a call with one of them is redacted (see `redacted`).
    let mut secret_args: Vec<usize> = Vec::new();
    let mut converted = Vec::with_capacity(n);
    for (i, arg) in args.into_iter().enumerate() {
        let p = f
            .params
            .get(i)
            .or(f.variadic.as_ref())
            .ok_or_else(|| FuncError::new("too many arguments"))?;
        if arg.contains_sensitive() {
            secret_args.push(i);
        }
        if f.sees_marks {
            converted.push(arg);
            continue;
        }
        let (arg, marked) = if f.shallow_marks {
            arg.unmark()
        } else {
            arg.unmark_deep()
        };
        sensitive |= marked;
        // An argument's own null or conversion failure depends on it alone:
        // it is redacted only when that argument is sensitive.
        let own = |e: FuncError| {
            if secret_args.last() == Some(&i) {
                redacted(name, &[i], e)
            } else {
                e
            }
        };
        if arg.is_null() && !p.allow_null {
            return Err(own(FuncError::arg(
                i,
                format!(
                    "Invalid value for \"{}\" parameter: argument must not be null.",
                    p.name
                ),
            )));
        }
        let unknown_here = if f.deep_unknowns {
            !arg.is_wholly_known()
        } else {
            arg.is_unknown()
        };
        if unknown_here && !p.allow_unknown {
            unknown = true;
        }
        // cty words a failed primitive conversion by what was given: a
        // string that does not parse "a number is required", anything
        // else "number required".
        let given_string = matches!(arg.unmarked(), Value::String(_));
        let arg = convert(arg, &p.ty).map_err(|e| {
            let why = match (&p.ty, given_string, e.path.is_empty()) {
                (Type::Number, false, true) => "number required".to_string(),
                (Type::Bool, false, true) => "bool required".to_string(),
                _ => e.to_string(),
            };
            own(FuncError::arg(
                i,
                format!("Invalid value for \"{}\" parameter: {why}.", p.name),
            ))
        })?;
        converted.push(arg);
    }
    if unknown {
        return Ok(Value::Unknown(f.ret.clone()).mark_if(sensitive));
    }
    // The implementation's messages quote characters, fragments and
    // offsets of any argument, so with a secret among them none is kept.
    let out = (f.imp)(ctx, converted).map_err(|e| redacted(name, &secret_args, e))?;
    Ok(out.mark_if(sensitive))
}

/// The error of a call to `name` whose arguments at `secret_args` are
/// sensitive: only the function and a (1-based) argument position are
/// named, the argument the error blames when it is a sensitive one.
fn redacted(name: &str, secret_args: &[usize], e: FuncError) -> FuncError {
    let Some(&first) = secret_args.first() else {
        return e;
    };
    let at = e.arg.filter(|i| secret_args.contains(i)).unwrap_or(first);
    FuncError::arg(
        at,
        format!(
            "Invalid value for \"{name}\" argument {}: the argument is sensitive, so its value is not shown.",
            at + 1
        ),
    )
}

/// A [`TemplateRenderer`] that refuses: for contexts where templates are not available.
pub struct NoTemplates;

impl TemplateRenderer for NoTemplates {
    fn render(&self, _: &str, _: &Path, _: &BTreeMap<String, Value>) -> Result<Value, String> {
        Err("templates are not available here".into())
    }
}

#[cfg(test)]
#[path = "sensitive_tests.rs"]
mod sensitive_tests;
