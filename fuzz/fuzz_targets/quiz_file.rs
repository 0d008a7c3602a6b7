//! Fuzz target `quiz_file`: see `mastery_boundary::fuzzing::quiz_file` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mastery_boundary::fuzzing::quiz_file(data));
