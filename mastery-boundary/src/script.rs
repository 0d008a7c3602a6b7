//! Sandboxed scripts for file-defined generators and checkers.
//!
//! A quiz file is untrusted code. Scripts run in [rhai] with only the packages quizzes need (no
//! clock, no sleep, no I/O, no modules, no `eval`) and limits on operations, wall-clock time, call
//! depth, expression depth, string and array sizes, so a hostile file can neither hang nor crash
//! the process: it stops with an error within a few milliseconds.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mastery_core::{RandomSource, SplitMix64, Substitutions, Value};

use crate::problem::Problem;
use rhai::packages::{
    ArithmeticPackage, BasicArrayPackage, BasicIteratorPackage, BasicMapPackage, BasicMathPackage, BasicStringPackage,
    LogicPackage, MoreStringPackage, Package,
};
use rhai::{AST, Dynamic, Engine, EvalAltResult, INT, ImmutableString, Position, Scope};

/// The limits every script runs under.
#[derive(Debug, Clone)]
pub struct ScriptLimits {
    /// Operations one evaluation may perform.
    pub max_operations: u64,
    /// Wall-clock time one evaluation may take, on top of the operation limit (an operation can
    /// be an O(n) built-in). It counts from the evaluation's 256th operation and the clock is read
    /// every 256 operations: a short script never reads the clock, so an OS pause cannot fail it.
    pub time_budget: Duration,
    /// Nested function calls.
    pub max_call_levels: usize,
    /// Expression nesting, at global level and inside functions.
    pub max_expr_depth: usize,
    /// Bytes (of UTF-8) in any string a script builds: rhai measures a string's length in bytes,
    /// so text of non-ASCII characters reaches the limit in fewer characters.
    pub max_string_size: usize,
    /// Elements in any array or map a script builds.
    pub max_array_size: usize,
    /// Characters of source.
    pub max_source_len: usize,
}

impl Default for ScriptLimits {
    fn default() -> Self {
        ScriptLimits {
            max_operations: 10_000,
            time_budget: Duration::from_millis(10),
            max_call_levels: 16,
            max_expr_depth: 32,
            max_string_size: 10_000,
            max_array_size: 1_000,
            max_source_len: 10_000,
        }
    }
}

/// How often, in operations, an evaluation reads the clock for its time budget.
const CLOCK_EVERY: u64 = 256;

/// The sandboxed engine a [`Validator`](crate::Validator) compiles quiz scripts with; clones
/// share it.
#[derive(Clone)]
pub struct Scripts {
    /// For scripts with no `/`: rhai's built-in operators run directly.
    fast: Arc<Engine>,
    /// For scripts that may divide: every operator is looked up among registered functions first,
    /// so that the exact `/` runs instead of rhai's truncating one (several times slower per
    /// operator, hence not for every script).
    exact: Arc<Engine>,
    limits: ScriptLimits,
}

impl std::fmt::Debug for Scripts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scripts").field("limits", &self.limits).finish()
    }
}

impl Default for Scripts {
    fn default() -> Self {
        Scripts::new(ScriptLimits::default())
    }
}

thread_local! {
    /// The random source of the generator being evaluated on this thread. Evaluation is
    /// synchronous, so the slot is set, used and cleared within one call; it is seeded from the
    /// quiz's injected source, which keeps seeded quizzes reproducible.
    static DRAWING: RefCell<Option<SplitMix64>> = const { RefCell::new(None) };

    /// When the evaluation running on this thread first read the clock (at operation
    /// [`CLOCK_EVERY`]); the time budget counts from there.
    static CLOCK_STARTED: Cell<Option<Instant>> = const { Cell::new(None) };
}

impl Scripts {
    /// An engine whose every script runs under `limits`.
    pub fn new(limits: ScriptLimits) -> Self {
        let [fast, exact] = sandboxes(&limits);
        Scripts::with_engines(fast, exact, limits)
    }

    fn with_engines(fast: Engine, exact: Engine, limits: ScriptLimits) -> Self {
        Scripts { fast: Arc::new(fast), exact: Arc::new(exact), limits }
    }

    /// Compiles `source` once; the error says what and where (line and column inside the script)
    /// in one text, for a caller with nowhere else to put the position.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn compile(&self, source: &str) -> Result<Script, String> {
        self.compile_located(source).map_err(|error| error.to_string())
    }

    /// Compiles `source` once; the error keeps its position inside the script apart from its
    /// message, for a caller that can say where the script itself was written.
    pub(crate) fn compile_located(&self, source: &str) -> Result<Script, ScriptError> {
        if source.chars().count() > self.limits.max_source_len {
            return Err(ScriptError::new(format!("script is longer than {} characters", self.limits.max_source_len)));
        }
        if source.trim().is_empty() {
            return Err(ScriptError::new("script is empty"));
        }
        // A `/` anywhere (even in a string or a comment) is enough to pick the exact engine.
        let engine = if source.contains('/') { &self.exact } else { &self.fast };
        let ast = engine.compile(source).map_err(|error| {
            let position = error.position();
            ScriptError {
                message: format!(
                    "script does not compile: {}",
                    quiz_words(&lower_first(&error.err_type().to_string()))
                ),
                position: position.line().zip(position.position()),
            }
        })?;
        Ok(Script { engine: Arc::clone(engine), ast: Arc::new(ast), time_budget: self.limits.time_budget })
    }
}

/// Why a script was refused, and where inside it when that is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScriptError {
    pub(crate) message: String,
    /// 1-based line and column (in characters) inside the script.
    pub(crate) position: Option<(usize, usize)>,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        match self.position {
            Some((line, column)) => write!(f, " (script line {line}, column {column})"),
            None => Ok(()),
        }
    }
}

impl ScriptError {
    fn new(message: impl Into<String>) -> Self {
        ScriptError { message: message.into(), position: None }
    }

    /// The problem with `field`, carrying the position inside the script.
    pub(crate) fn problem(self, field: impl Into<String>) -> Problem {
        Problem::new(field, self.message).in_script(self.position)
    }
}

/// The fast and the exact engine, sharing one copy of their packages.
fn sandboxes(limits: &ScriptLimits) -> [Engine; 2] {
    let packages = [
        ArithmeticPackage::new().as_shared_module(),
        LogicPackage::new().as_shared_module(),
        BasicStringPackage::new().as_shared_module(),
        MoreStringPackage::new().as_shared_module(),
        BasicMathPackage::new().as_shared_module(),
        BasicArrayPackage::new().as_shared_module(),
        BasicMapPackage::new().as_shared_module(),
        BasicIteratorPackage::new().as_shared_module(),
    ];
    let fast = sandbox(limits, &packages);
    let mut exact = sandbox(limits, &packages);
    // With fast operators rhai would run its built-in integer `/` (which truncates) before the
    // exact division registered here.
    exact.set_fast_operators(false);
    exact.register_fn("/", divide).register_fn("/=", divide_assign);
    [fast, exact]
}

/// A raw engine (no functions at all) given only the packages quizzes need. Left out on purpose:
/// the language-core package (`sleep`, `exit`, `parse_json`), the time package (`timestamp`, which
/// would make seeded quizzes differ run to run), function-pointer utilities, blobs and bit fields.
/// A raw engine has no print target either, so `print` and `debug` go nowhere.
fn sandbox(limits: &ScriptLimits, packages: &[rhai::Shared<rhai::Module>]) -> Engine {
    let mut engine = Engine::new_raw();
    for package in packages {
        engine.register_global_module(Arc::clone(package));
    }
    engine
        .set_max_operations(limits.max_operations)
        .set_max_call_levels(limits.max_call_levels)
        .set_max_expr_depths(limits.max_expr_depth, limits.max_expr_depth)
        .set_max_string_size(limits.max_string_size)
        .set_max_array_size(limits.max_array_size)
        .set_max_map_size(limits.max_array_size)
        .set_max_modules(0)
        .set_max_variables(64)
        .set_max_functions(16)
        .set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());
    engine.disable_symbol("eval");
    engine.register_fn("rand", draw);
    let budget = limits.time_budget;
    engine.on_progress(move |operations| over_budget(operations, budget));
    engine
}

/// Stops an evaluation past its time budget (rhai's progress callback, run at every operation).
fn over_budget(operations: u64, budget: Duration) -> Option<Dynamic> {
    if !operations.is_multiple_of(CLOCK_EVERY) {
        return None;
    }
    let now = Instant::now();
    CLOCK_STARTED.with(|started| {
        // The operation count restarts with each evaluation, so this resets a stale start too.
        if operations == CLOCK_EVERY {
            started.set(Some(now));
            return None;
        }
        let since = started.get().unwrap_or(now);
        (now.saturating_duration_since(since) > budget).then_some(Dynamic::UNIT)
    })
}

/// Exact `/` on integers: `7 / 2` is 3.5, `6 / 2` stays the integer 3.
fn divide(x: INT, y: INT) -> Result<Dynamic, Box<EvalAltResult>> {
    if y == 0 {
        return Err(EvalAltResult::ErrorArithmetic("division by zero".into(), Position::NONE).into());
    }
    Ok(match (x.checked_rem(y), x.checked_div(y)) {
        (Some(0), Some(quotient)) => Dynamic::from_int(quotient),
        // A fraction, or `INT::MIN / -1`, which no integer holds.
        _ => Dynamic::from_float(x as f64 / y as f64),
    })
}

/// `x /= y` with an integer `y`, as exact as `/` (rhai's built-in truncates integers).
fn divide_assign(x: &mut Dynamic, y: INT) -> Result<(), Box<EvalAltResult>> {
    let quotient = if let Ok(n) = x.as_int() {
        divide(n, y)?
    } else if let Ok(f) = x.as_float() {
        Dynamic::from_float(f / y as f64)
    } else {
        let message = format!("cannot divide {} by a number", type_words(x.type_name()));
        return Err(EvalAltResult::ErrorArithmetic(message, Position::NONE).into());
    };
    *x = quotient;
    Ok(())
}

/// `rand(lo, hi)`: an integer from `lo..=hi`, drawn from the generator's random source.
fn draw(lo: i64, hi: i64) -> Result<i64, Box<EvalAltResult>> {
    DRAWING.with(|slot| match slot.borrow_mut().as_mut() {
        Some(rng) => Ok(rng.integer_in(lo, hi)),
        None => Err("rand(lo, hi) is only available in generators".into()),
    })
}

/// Fills this thread's `rand` slot for one generator evaluation and empties it when dropped, so
/// a generator that panics cannot leave `rand` usable by the next checker on the thread.
struct Drawing;

impl Drawing {
    fn start(rng: SplitMix64) -> Self {
        DRAWING.with(|slot| *slot.borrow_mut() = Some(rng));
        Drawing
    }
}

impl Drop for Drawing {
    fn drop(&mut self) {
        // `try_with`: at thread exit the slot may already be gone, and then there is nothing to clear.
        let _ = DRAWING.try_with(|slot| *slot.borrow_mut() = None);
    }
}

/// A compiled script, bound to the engine that compiled it.
#[derive(Clone)]
pub(crate) struct Script {
    engine: Arc<Engine>,
    ast: Arc<AST>,
    time_budget: Duration,
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Script(..)")
    }
}

impl Script {
    /// Evaluates with the substitutions (and optionally `answer`) in scope.
    pub(crate) fn evaluate(&self, substitutions: Substitutions<'_>, answer: Option<&str>) -> Result<Dynamic, String> {
        let mut scope = Scope::new();
        for (name, value) in substitutions.iter() {
            scope.push_dynamic(name, to_dynamic(value));
        }
        if let Some(answer) = answer {
            scope.push("answer", ImmutableString::from(answer.trim()));
        }
        self.run(&mut scope)
    }

    /// Evaluates as a generator: `rand` draws from a source seeded by `rng`.
    pub(crate) fn generate(&self, rng: &mut dyn RandomSource) -> Result<Value, String> {
        let drawing = Drawing::start(SplitMix64::new(rng.next_u64()));
        let result = self.run(&mut Scope::new());
        drop(drawing);
        from_dynamic(result?)
    }

    fn run(&self, scope: &mut Scope<'_>) -> Result<Dynamic, String> {
        self.engine.eval_ast_with_scope::<Dynamic>(scope, &self.ast).map_err(|error| describe(&error, self.time_budget))
    }
}

/// What went wrong, in the quiz's words, and where inside the script when rhai knows: the text
/// ends with ` (script line L, column C)`, which [`split_position`] takes back apart.
fn describe(error: &EvalAltResult, time_budget: Duration) -> String {
    // An error inside a script-defined function comes wrapped; the inner one says what happened.
    let inner = error.unwrap_inner();
    // A limit is the whole script's: where it happened to be stopped says nothing.
    let limit = |message: String| (message, false);
    let located = |message: String| (message, true);
    let (message, has_place) = match inner {
        EvalAltResult::ErrorTooManyOperations(_) => limit("script ran too long (operation limit reached)".into()),
        EvalAltResult::ErrorTerminated(..) => {
            limit(format!("script ran too long (time budget of {time_budget:?} used up)"))
        }
        EvalAltResult::ErrorStackOverflow(_) => limit("script recursed too deeply".into()),
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            let what = match what.as_str() {
                "Length of string" => "a text",
                "Size of array/BLOB" => "a list",
                "Size of object map" => "a map",
                _ => "a value",
            };
            limit(format!("script built {what} too large"))
        }
        EvalAltResult::ErrorFunctionNotFound(signature, _) => located(not_available(signature)),
        EvalAltResult::ErrorArithmetic(message, _) => located(format!("script failed: {}", lower_first(message))),
        other => {
            let message = other.to_string();
            let first = message.lines().next().unwrap_or_default();
            // rhai ends its text with "(line 1, position 7)"; the position is added below.
            let first = match first.rfind(" (line ") {
                Some(cut) if first.ends_with(')') => &first[..cut],
                _ => first,
            };
            located(format!("script failed: {}", quiz_words(&lower_first(first))))
        }
    };
    let position = [inner.position(), error.position()].into_iter().find(|position| has_place && !position.is_none());
    match position.and_then(|position| position.line().zip(position.position())) {
        Some(position) => ScriptError { message, position: Some(position) }.to_string(),
        None => message,
    }
}

/// A script's failure as [`describe`] wrote it, apart again: the message, and the line and
/// column inside the script when the text ends with them.
pub(crate) fn split_position(text: &str) -> (String, Option<(usize, usize)>) {
    let parsed = text.strip_suffix(')').and_then(|rest| {
        let cut = rest.rfind(" (script line ")?;
        let (line, column) = rest[cut + " (script line ".len()..].split_once(", column ")?;
        Some((cut, (line.parse().ok()?, column.parse().ok()?)))
    });
    match parsed {
        Some((cut, position)) => (text[..cut].to_string(), Some(position)),
        None => (text.to_string(), None),
    }
}

/// A call no quiz function matches, in the quiz's words: rhai's signature `sub_string (&str |
/// ImmutableString | String, i64)` becomes `sub_string(text, integer)`, and an operator says
/// which values it was given.
fn not_available(signature: &str) -> String {
    let (name, arguments) = match signature.split_once(" (") {
        Some((name, rest)) => (name, rest.strip_suffix(')').unwrap_or(rest)),
        None => (signature, ""),
    };
    let types: Vec<&str> =
        arguments.split(", ").filter(|t| !t.is_empty()).map(|t| type_words(t.trim_start_matches("&mut "))).collect();
    let is_operator = !name.is_empty() && !name.chars().any(|c| c.is_alphanumeric() || c == '_');
    match types.as_slice() {
        [left, right] if is_operator => format!("script failed: `{name}` does not work on {left} and {right}"),
        [one] if is_operator => format!("script failed: `{name}` does not work on {one}"),
        _ => format!("script failed: {name}({}) is not available to quiz scripts", types.join(", ")),
    }
}

/// rhai's name of a value's type, in the words of a quiz file.
pub(crate) fn type_words(rhai_type: &str) -> &str {
    match rhai_type {
        "i64" | "INT" => "integer",
        "f64" | "FLOAT" => "decimal number",
        "&str | ImmutableString | String" | "ImmutableString" | "String" | "string" | "&str" => "text",
        "array" | "Array" => "list",
        "map" | "Map" => "map",
        "bool" => "true or false",
        "char" => "character",
        "()" => "nothing",
        "Fn" | "FnPtr" => "function",
        "timestamp" | "Instant" => "timestamp",
        other => other,
    }
}

/// `message` with every rhai type name in it replaced by the quiz's word for it.
pub(crate) fn quiz_words(message: &str) -> String {
    let message = message.replace("&str | ImmutableString | String", "text").replace("'()'", "'nothing'");
    let mut words = String::with_capacity(message.len());
    let mut word = String::new();
    for c in message.chars().chain(std::iter::once('\0')) {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        words.push_str(match word.as_str() {
            "i64" | "f64" | "ImmutableString" | "String" | "string" | "array" | "Array" | "bool" | "char" => {
                type_words(&word)
            }
            _ => &word,
        });
        word.clear();
        if c != '\0' {
            words.push(c);
        }
    }
    words
}

/// rhai's messages start with a capital; ours are lower case.
fn lower_first(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map(|first| first.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

/// A substitution as a script sees it.
fn to_dynamic(value: &Value) -> Dynamic {
    match value {
        Value::Integer(n) => Dynamic::from_int(*n),
        Value::Text(text) => Dynamic::from(ImmutableString::from(&**text)),
    }
}

/// A generator script's result as a substitution value.
fn from_dynamic(value: Dynamic) -> Result<Value, String> {
    if let Ok(n) = value.as_int() {
        return Ok(Value::Integer(n));
    }
    if value.is_string() {
        return Ok(Value::from(value.into_string().unwrap_or_default()));
    }
    Err(format!("generator script must produce an integer or text, got {}", type_words(value.type_name())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_failure_s_position_is_written_once_and_read_back() {
        let scripts = Scripts::new(ScriptLimits::default());
        let script = scripts.compile("let x = 2;\nx / (x - x)").unwrap();
        let failure = script.evaluate(Substitutions::new(&[], &[]), None).unwrap_err();
        assert_eq!(split_position(&failure), ("script failed: division by zero".to_string(), Some((2, 3))));
        // Text that merely looks like the end of a position is left whole.
        for text in ["script failed: (script line x, column 2)", "no position", "(script line 1, column 2"] {
            assert_eq!(split_position(text), (text.to_string(), None));
        }
    }

    fn run_generator(source: &str) -> Result<Value, String> {
        Scripts::default().compile(source)?.generate(&mut SplitMix64::new(1))
    }

    fn evaluate(source: &str) -> Result<Dynamic, String> {
        evaluate_with(&Scripts::default(), source)
    }

    fn evaluate_with(scripts: &Scripts, source: &str) -> Result<Dynamic, String> {
        scripts.compile(source)?.evaluate(Substitutions::new(&[], &[]), Some("an answer"))
    }

    /// Only catches a hang: the machine running the tests may be slow and noisy.
    const HANG: Duration = Duration::from_secs(10);

    /// Runs each source, which must fail with a message containing its expected text, and not hang.
    fn assert_each_stops<T: std::fmt::Debug>(cases: &[(&str, &str)], run: impl Fn(&str) -> Result<T, String>) {
        for (source, expected) in cases {
            let start = Instant::now();
            let error = run(source).unwrap_err();
            assert!(error.contains(expected), "{source}: {error}");
            assert!(start.elapsed() < HANG, "{source} took {:?}", start.elapsed());
        }
    }

    #[test]
    fn rand_draws_from_the_injected_source_reproducibly() {
        let script = Scripts::default().compile("rand(1, 6) * 10").unwrap();
        let draw = |seed| script.generate(&mut SplitMix64::new(seed)).unwrap();
        assert_eq!(draw(5), draw(5));
        let n = draw(5).as_integer().unwrap();
        assert!(n % 10 == 0 && (10..=60).contains(&n));
    }

    #[test]
    fn hostile_scripts_stop_quickly_with_a_clear_error() {
        let cases = [
            ("loop { }", "script ran too long"),
            ("fn f(n) { f(n + 1) } f(0)", "recursed too deeply"),
            ("let s = \"x\"; loop { s += s; }", "too large"),
            ("let a = [1]; loop { a += a; }", "too large"),
            ("let s = \"\"; for i in 0..10000 { s += \"x\"; } s", "script ran too long"),
            ("sleep(20)", "sleep(integer) is not available to quiz scripts"),
            ("sleep(1e300)", "sleep(decimal number) is not available to quiz scripts"),
            ("timestamp()", "timestamp() is not available to quiz scripts"),
            ("exit(1)", "is not available to quiz scripts"),
        ];
        assert_each_stops(&cases, run_generator);
    }

    #[test]
    fn a_checker_that_recurses_or_loops_on_its_answer_stops_with_a_clear_error() {
        let cases = [
            ("fn f(s, a) { f(s + a, a) } f(\"\", answer)", "script recursed too deeply"),
            ("fn f(n) { f(n + 1) } f(answer.len())", "script recursed too deeply"),
            ("while answer != \"\" { } true", "script ran too long"),
        ];
        assert_each_stops(&cases, evaluate);
    }

    #[test]
    fn the_time_budget_stops_a_script_the_operation_limit_would_let_run() {
        // Enough operations to run for seconds, so that only the clock can stop it in time.
        let limits = ScriptLimits { max_operations: 10_000_000, ..ScriptLimits::default() };
        let start = Instant::now();
        let error = evaluate_with(&Scripts::new(limits), "loop { }").unwrap_err();
        assert_eq!(error, "script ran too long (time budget of 10ms used up)");
        assert!(start.elapsed() < HANG, "took {:?}", start.elapsed());
    }

    #[test]
    fn a_short_script_never_reads_the_clock_so_it_cannot_run_out_of_time() {
        let no_time = Scripts::new(ScriptLimits { time_budget: Duration::ZERO, ..ScriptLimits::default() });
        let sum = evaluate_with(&no_time, "let s = 0; for i in 0..50 { s += i; } s").unwrap();
        assert_eq!(sum.as_int(), Ok(1225));
        assert!(evaluate_with(&no_time, "loop { }").unwrap_err().contains("time budget"));
    }

    #[test]
    fn division_is_exact_and_integer_results_stay_integers() {
        let float = |source: &str| evaluate(source).unwrap().as_float().map_err(|t| format!("{source}: {t}"));
        let int = |source: &str| evaluate(source).unwrap().as_int().map_err(|t| format!("{source}: {t}"));
        assert_eq!(float("7 / 2"), Ok(3.5));
        assert_eq!(float("-7 / 2"), Ok(-3.5));
        assert_eq!(float("let n = 7; n / 2"), Ok(3.5));
        assert_eq!(float("7.0 / 2"), Ok(3.5));
        assert_eq!(float("let x = 7; x /= 2; x"), Ok(3.5));
        assert_eq!(float("let x = 7.0; x /= 2; x"), Ok(3.5));
        assert_eq!(int("6 / 2"), Ok(3));
        assert_eq!(int("let n = -6; n / 2"), Ok(-3));
        assert_eq!(int("let x = 6; x /= 2; x"), Ok(3));
        assert_eq!(int("7 % 2"), Ok(1));
        // A script with a `/` anywhere runs on the exact engine, which has every package too.
        assert_eq!(float("abs(-7) / parse_int(\"2\")"), Ok(3.5));
        assert_eq!(int("\"a/b\".len() + max(1, 2)"), Ok(5));
        assert_eq!(float("let n = -9223372036854775807 - 1; n / -1"), Ok(9.223_372_036_854_776e18));
        for source in ["1 / 0", "let n = 0; 5 / n", "let x = 1; x /= 0; x"] {
            assert!(evaluate(source).unwrap_err().starts_with("script failed: division by zero"), "{source}");
        }
    }

    #[test]
    fn what_quizzes_need_is_there() {
        let cases = [
            ("abs(-3) + max(2, 5) + min(2, 5)", "10"),
            ("floor(2.7) + round(2.5) + sqrt(16.0) + ceiling(0.2)", "10.0"),
            ("parse_int(\"12\") + parse_float(\"0.5\")", "12.5"),
            ("let t = \" x \"; t.trim(); \"Abc\".to_upper() + \"abc\".len() + t", "ABC3x"),
            ("\"a,b,c\".split(\",\").len() + \"abc\".index_of(\"c\") + \"abc\".sub_string(1, 1).len()", "6"),
            ("[3, 1, 2].map(|x| x * 2).reduce(|sum, x| sum + x, 0)", "12"),
            ("let a = [3, 1, 2]; a.sort(); a[0]", "1"),
            ("let s = 0; for i in 1..=4 { s += i; } for c in \"ab\" { s += 1; } s", "12"),
            ("let m = #{ a: 1, b: 2 }; m.a + m.keys().len()", "3"),
            ("if 2 > 1 && !false || 1 == 2 { \"yes\" } else { \"no\" }", "yes"),
            ("2 ** 3 + 7 % 4 + to_string(1).len()", "12"),
            ("print(1); debug(2); 3", "3"),
        ];
        for (source, expected) in cases {
            let value = evaluate(source).unwrap_or_else(|e| panic!("{source}: {e}"));
            assert_eq!(value.to_string(), expected, "{source}");
        }
    }

    #[test]
    fn the_string_limit_counts_bytes() {
        let scripts = Scripts::new(ScriptLimits { max_string_size: 10, ..ScriptLimits::default() });
        assert!(evaluate_with(&scripts, "let s = \"\"; for i in 0..10 { s += \"a\"; } s").is_ok());
        let error = evaluate_with(&scripts, "let s = \"\"; for i in 0..6 { s += \"é\"; } s").unwrap_err();
        assert!(error.contains("too large"), "six two-byte characters are 12 bytes: {error}");
    }

    #[test]
    fn the_rand_slot_is_emptied_even_when_a_generator_panics() {
        let limits = ScriptLimits::default();
        let [mut fast, mut exact] = sandboxes(&limits);
        for engine in [&mut fast, &mut exact] {
            engine.register_fn("boom", || -> INT { panic!("a generator panicked") });
        }
        let scripts = Scripts::with_engines(fast, exact, limits);
        let panicking = scripts.compile("rand(1, 2) + boom()").unwrap();
        let generate = std::panic::AssertUnwindSafe(|| panicking.generate(&mut SplitMix64::new(1)));
        let panicked = std::panic::catch_unwind(generate);
        assert!(panicked.is_err());
        let checker = scripts.compile("rand(1, 2)").unwrap();
        let error = checker.evaluate(Substitutions::new(&[], &[]), None).unwrap_err();
        assert!(error.contains("only available in generators"), "{error}");
    }

    #[test]
    fn no_eval_no_modules_no_rand_outside_generators() {
        let scripts = Scripts::default();
        assert!(scripts.compile("eval(\"1\")").is_err());
        let import = scripts.compile("import \"std\" as s; 1");
        assert!(import.is_err() || import.unwrap().evaluate(Substitutions::new(&[], &[]), None).is_err());
        let checker = scripts.compile("rand(1, 2)").unwrap();
        let error = checker.evaluate(Substitutions::new(&[], &[]), None).unwrap_err();
        assert!(error.contains("only available in generators"), "{error}");
    }

    #[test]
    fn syntax_errors_say_where() {
        let error = Scripts::default().compile_located("1 +").unwrap_err();
        assert_eq!(error.message, "script does not compile: script is incomplete");
        assert_eq!(error.position, Some((1, 4)));
    }

    #[test]
    fn a_generator_must_produce_an_integer_or_text() {
        assert_eq!(run_generator("\"a\" + \"b\"").unwrap(), Value::from("ab"));
        let got_fraction = "generator script must produce an integer or text, got decimal number";
        assert_eq!(run_generator("2.5").unwrap_err(), got_fraction);
        assert_eq!(run_generator("7 / 2").unwrap_err(), got_fraction);
        assert_eq!(run_generator("[1]").unwrap_err(), "generator script must produce an integer or text, got list");
    }

    #[test]
    fn messages_use_the_quiz_s_words_not_the_engine_s() {
        let cases = [
            ("\"a\" - 1", "script failed: `-` does not work on text and integer"),
            ("[1] + 1", "script failed: `+` does not work on list and integer"),
            ("-\"a\"", "script failed: `-` does not work on text"),
            ("\"abc\".sub_string(\"x\")", "script failed: sub_string(text, text) is not available to quiz scripts"),
            ("abs(true)", "script failed: abs(true or false) is not available to quiz scripts"),
            (
                "let a = [1]; a[\"x\"]",
                "script failed: data type incorrect: text (expecting integer) (script line 1, column 16)",
            ),
            ("let m = #{a: 1}; m.b.c", "a getter is not registered for type 'nothing' (script line 1, column 22)"),
        ];
        for (source, expected) in cases {
            let error = evaluate(source).unwrap_err();
            assert!(error.contains(expected), "{source}: {error}");
            let mut words = error.split(|c: char| !(c.is_alphanumeric() || c == '_'));
            let engine_words = ["i64", "f64", "ImmutableString", "String", "string", "array", "position"];
            assert!(!words.any(|word| engine_words.contains(&word)) && !error.contains("()"), "{source}: {error}");
        }
        let compiled = Scripts::default().compile_located("for x in 5 { }").unwrap_err();
        assert_eq!(compiled.message, "script does not compile: expecting an iterable value, not a number");
    }
}
