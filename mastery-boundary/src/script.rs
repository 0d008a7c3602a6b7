//! Sandboxed scripts for file-defined generators and checkers.
//!
//! A quiz file is untrusted code. Scripts run in [rhai] with no I/O, no modules, no `eval`, and
//! limits on operations, call depth, expression depth, string and array sizes, so a hostile file
//! can neither hang nor crash the process: it stops with an error in well under a millisecond.

use std::cell::RefCell;
use std::sync::Arc;

use mastery_core::{RandomSource, SplitMix64, Substitutions, Value};
use rhai::{AST, Dynamic, Engine, EvalAltResult, ImmutableString, Scope};

/// The limits every script runs under.
#[derive(Debug, Clone)]
pub struct ScriptLimits {
    /// Operations one evaluation may perform.
    pub max_operations: u64,
    /// Nested function calls.
    pub max_call_levels: usize,
    /// Expression nesting, at global level and inside functions.
    pub max_expr_depth: usize,
    /// Characters in any string a script builds.
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
            max_call_levels: 16,
            max_expr_depth: 32,
            max_string_size: 10_000,
            max_array_size: 1_000,
            max_source_len: 10_000,
        }
    }
}

/// A configured, shareable script engine.
#[derive(Clone)]
pub struct Scripts {
    engine: Arc<Engine>,
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
}

impl Scripts {
    /// An engine with the given limits.
    pub fn new(limits: ScriptLimits) -> Self {
        let mut engine = Engine::new();
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
        // A script has no terminal: printing goes nowhere rather than to the learner's screen.
        engine.on_print(|_| {}).on_debug(|_, _, _| {});
        engine.register_fn("rand", draw);
        Scripts { engine: Arc::new(engine), limits }
    }

    /// The limits in force.
    pub fn limits(&self) -> &ScriptLimits {
        &self.limits
    }

    /// Compiles `source` once; the error says what and where (line and column inside the script).
    pub fn compile(&self, source: &str) -> Result<Script, String> {
        if source.chars().count() > self.limits.max_source_len {
            return Err(format!("script is longer than {} characters", self.limits.max_source_len));
        }
        if source.trim().is_empty() {
            return Err("script is empty".into());
        }
        let ast = self.engine.compile(source).map_err(|error| {
            let position = error.position();
            match (position.line(), position.position()) {
                (Some(line), Some(column)) => {
                    format!("script does not compile: {} (script line {line}, column {column})", error.err_type())
                }
                _ => format!("script does not compile: {}", error.err_type()),
            }
        })?;
        Ok(Script { engine: Arc::clone(&self.engine), ast: Arc::new(ast) })
    }
}

/// `rand(lo, hi)`: an integer from `lo..=hi`, drawn from the generator's random source.
fn draw(lo: i64, hi: i64) -> Result<i64, Box<EvalAltResult>> {
    DRAWING.with(|slot| match slot.borrow_mut().as_mut() {
        Some(rng) => Ok(rng.integer_in(lo, hi)),
        None => Err("rand(lo, hi) is only available in generators".into()),
    })
}

/// A compiled script.
#[derive(Clone)]
pub struct Script {
    engine: Arc<Engine>,
    ast: Arc<AST>,
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Script(..)")
    }
}

impl Script {
    /// Evaluates with the substitutions (and optionally `answer`) in scope.
    pub fn evaluate(&self, substitutions: Substitutions<'_>, answer: Option<&str>) -> Result<Dynamic, String> {
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
    pub fn generate(&self, rng: &mut dyn RandomSource) -> Result<Value, String> {
        let seeded = SplitMix64::new(rng.next_u64());
        let result = DRAWING.with(|slot| {
            *slot.borrow_mut() = Some(seeded);
            let result = self.run(&mut Scope::new());
            *slot.borrow_mut() = None;
            result
        })?;
        from_dynamic(result)
    }

    fn run(&self, scope: &mut Scope<'_>) -> Result<Dynamic, String> {
        self.engine.eval_ast_with_scope::<Dynamic>(scope, &self.ast).map_err(|error| describe(&error))
    }
}

fn describe(error: &EvalAltResult) -> String {
    match error {
        EvalAltResult::ErrorTooManyOperations(_) => "script ran too long (operation limit reached)".into(),
        EvalAltResult::ErrorStackOverflow(_) => "script recursed too deeply".into(),
        EvalAltResult::ErrorDataTooLarge(what, _) => format!("script built a value too large ({what})"),
        other => format!("script failed: {}", other.to_string().lines().next().unwrap_or_default()),
    }
}

/// A substitution as a script sees it.
pub(crate) fn to_dynamic(value: &Value) -> Dynamic {
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
    Err(format!("generator script must produce an integer or text, got {}", value.type_name()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn run_generator(source: &str) -> Result<Value, String> {
        Scripts::default().compile(source)?.generate(&mut SplitMix64::new(1))
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
            ("loop { }", "operation limit"),
            ("fn f(n) { f(n + 1) } f(0)", "recursed too deeply"),
            ("let s = \"x\"; loop { s += s; }", "too large"),
            ("let a = [1]; loop { a += a; }", "too large"),
        ];
        for (source, expected) in cases {
            let start = Instant::now();
            let error = run_generator(source).unwrap_err();
            assert!(error.contains(expected), "{source}: {error}");
            assert!(start.elapsed() < Duration::from_secs(2), "{source} took {:?}", start.elapsed());
        }
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
        let error = Scripts::default().compile("1 +").unwrap_err();
        assert!(error.starts_with("script does not compile:") && error.contains("script line 1"), "{error}");
    }

    #[test]
    fn a_generator_must_produce_an_integer_or_text() {
        assert_eq!(run_generator("\"a\" + \"b\"").unwrap(), Value::from("ab"));
        assert_eq!(run_generator("2.5").unwrap_err(), "generator script must produce an integer or text, got f64");
    }
}
