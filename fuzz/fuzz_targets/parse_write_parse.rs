// Parse one element, copy it with XmlWriter::copy, parse the copy: same tree.
// mkdir -p fuzz/corpus/parse_write_parse && cargo +nightly fuzz run parse_write_parse fuzz/corpus/parse_write_parse fuzz/seeds/parse_write_parse
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| jicofo::fuzzing::parse_write_parse(data));
