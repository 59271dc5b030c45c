//! Fuzz target `park_v5_612`: see `parkrace::tools::fuzz::TARGETS` for what it runs and what crashes it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| parkrace::tools::fuzz::fuzz_one("park_v5_612", data));
