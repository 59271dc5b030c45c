//! Fuzz target `park_v3`: see `parkrace::fuzz::TARGETS` for what it runs and what crashes it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| parkrace::fuzz::fuzz_one("park_v3", data));
