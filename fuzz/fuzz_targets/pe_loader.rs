//! Arbitrary bytes into `ntsim::pe::load`: any input must end in an image or a `LoadError`,
//! never a crash. The resolver provides short names and refuses long ones, so both the
//! binding and the "not provided" paths are explored. PE32 (i386) inputs (seeds
//! `valid_pe32.sys`, `sample_miniport_x86.sys`) are parsed in full, then refused for mapping on
//! this 64-bit host.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntsim::pe::{self, ImportName};

fuzz_target!(|data: &[u8]| {
    let mut next = 0x1000usize;
    let mut resolve = |_dll: &str, symbol: ImportName<'_>| {
        let provided = match symbol {
            ImportName::Name(n) => n.len() < 24,
            ImportName::Ordinal(o) => o < 0x8000,
        };
        next += 8;
        provided.then_some(next)
    };
    match pe::load("fuzz.sys", data, &mut resolve) {
        Ok(mut image) => {
            assert!(image.contains(image.entry_point()));
            let _ = image.export("DriverEntry");
            let _ = image.discard_init();
        }
        Err(e) => assert!(e.to_string().starts_with("fuzz.sys: ")),
    }
});
