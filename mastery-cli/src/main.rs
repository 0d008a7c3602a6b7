//! The `mastery` binary: everything lives in the library so that it can be tested.

fn main() -> std::process::ExitCode {
    mastery_cli::main_with_args(std::env::args_os())
}
