// The XEP-0114 machine fed arbitrary server bytes in arbitrary chunks and times.
// mkdir -p fuzz/corpus/component_machine && cargo +nightly fuzz run component_machine fuzz/corpus/component_machine fuzz/seeds/component_machine
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| jicofo::fuzzing::component_machine(data));
