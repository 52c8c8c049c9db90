//! The kernel image loader (`ntsim::pe`) on a 32-bit x86 host (`i686-unknown-linux-gnu`):
//! the x86 driver images of `target/drivers/x86/` (from `cargo xtask build`) mapped,
//! relocated (HIGHLOW) and bound; the stack-realigning thunks their IAT slots point at,
//! called the ways NT routines are (stdcall, fastcall, cdecl, 64-bit results) and from a
//! stack aligned as Windows x86 code leaves it; and an AMD64 image refused, naming both
//! machines. Running the images end to end on the edu device is sample-miniport's and
//! c-miniport's `end_to_end` tests.
#![cfg(all(target_pointer_width = "32", target_arch = "x86"))]

use ntsim::pe::{self, ErrorKind, ImagePlacement, ImportName};
use std::collections::HashMap;
use std::path::PathBuf;

fn drivers() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/drivers")
}

fn real_image(name: &str) -> Option<Vec<u8>> {
    let path = drivers().join(name);
    match std::fs::read(&path) {
        Ok(b) => Some(b),
        Err(_) => {
            println!(
                "note: {} not found (run `cargo xtask build`); skipped",
                path.display()
            );
            None
        }
    }
}

const X86_IMAGES: [&str; 4] = [
    "videoprt_rs.sys",
    "sample_miniport.sys",
    "c_edu_miniport_gnu.sys",
    "c_edu_miniport_lld.sys",
];

fn read_u32(addr: usize) -> u32 {
    // SAFETY: callers pass addresses inside a loaded, readable section.
    unsafe { std::ptr::read_unaligned(addr as *const u32) }
}

#[test]
fn the_host_machine_is_i386() {
    assert_eq!(pe::Machine::HOST, pe::Machine::I386);
}

#[test]
#[cfg_attr(miri, ignore = "reads target/drivers/x86 and maps the images")]
fn x86_driver_images_map_relocated_and_bound() {
    for name in X86_IMAGES {
        let Some(bytes) = real_image(&format!("x86/{name}")) else {
            continue;
        };
        let parsed = pe::parse(name, &bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.machine(), pe::Machine::I386);
        let ImagePlacement::Relocatable(fixups) = parsed.placement().clone() else {
            panic!("{name}: relocatable");
        };
        let mut given = HashMap::new();
        let image = pe::load(name, &bytes, &mut |dll, symbol| {
            let next = 0x7000_0000 + 0x10 * given.len();
            Some(*given.entry(format!("{dll}!{symbol}")).or_insert(next))
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(image.base() as u64, image.preferred_base(), "{name}: moved");
        // Every absolute address these drivers hold points into themselves: after the
        // HIGHLOW fixups, into the mapping.
        for f in &fixups {
            let value = read_u32(image.base() + f.offset()) as usize;
            assert!(
                image.contains(value),
                "{name}: fixup at {f} holds {value:#x}, outside {:#x}+{:#x}",
                image.base(),
                image.size()
            );
        }
        // Each IAT slot holds its import's thunk, which lies outside the image.
        for (index, i) in image.imports().iter().enumerate() {
            let slot = read_u32(image.base() + i.iat_slot.offset()) as usize;
            assert_eq!(Some(slot), image.iat_value(index));
            assert_ne!(slot, i.address);
            assert!(!image.contains(slot));
        }
        assert!(image
            .sections()
            .iter()
            .all(|s| !s.protection.is_write_execute()));
        println!(
            "x86/{name}: mapped at {:#x} (ImageBase {:#x}), {} HIGHLOW fixups applied, {} imports bound through thunks, {} exports",
            image.base(),
            image.preferred_base(),
            fixups.len(),
            image.imports().len(),
            image.exports().len()
        );
    }
}

#[test]
#[cfg_attr(miri, ignore = "reads target/drivers and maps the image")]
fn an_amd64_image_is_refused_on_the_i686_host_naming_both_machines() {
    let Some(bytes) = real_image("sample_miniport.sys") else {
        return;
    };
    assert_eq!(
        pe::parse("sample_miniport.sys", &bytes).unwrap().machine(),
        pe::Machine::Amd64,
        "parsed on any host"
    );
    let e = pe::load("sample_miniport.sys", &bytes, &mut |_, _| Some(0x1000)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(
        e.to_string(),
        "sample_miniport.sys: machine AMD64 (0x8664) cannot run on this 32-bit host, which loads i386 (0x14c) images only"
    );
}

// ---------------------------------------------------------------------------------------
// The thunks: the x86 sample's imports bound to these routines instead of the port's.
// ---------------------------------------------------------------------------------------

#[ddk_sys::ntapi]
extern "ntapi" fn sum_stdcall(a: u32, b: u32, c: u32, d: u32, e: u32) -> u32 {
    // A hash map: hashbrown's SSE2 group loads spill with movaps, which fault on a stack
    // that is not 16-byte aligned (what made the thunks necessary).
    let mut m = HashMap::new();
    m.insert(a, b);
    m.insert(!a, d);
    a + 2 * b + 3 * c + 4 * d + 5 * e + m.len() as u32
}

#[ddk_sys::ntapi]
extern "ntapi-fastcall" fn sum_fastcall(a: u32, b: u32, c: u32) -> u32 {
    a + 10 * b + 100 * c
}

#[ddk_sys::ntapi]
extern "ntapi-cdecl" fn sum_cdecl(n: u32, a: u32, b: u32) -> u32 {
    n * (a + b)
}

#[ddk_sys::ntapi]
extern "ntapi" fn wide_result(high: u32, low: u32) -> u64 {
    (u64::from(high) << 32) | u64::from(low)
}

#[ddk_sys::ntapi]
extern "ntapi" fn no_arguments() -> u32 {
    0x5a5a
}

/// Calls the stdcall `f(a, b, c, d, e)` with ESP 4 bytes off the 16-byte alignment the i686
/// System V ABI wants at a call (as Windows x86 code may leave it).
///
/// # Safety
/// `f` is a stdcall function of five u32 arguments returning u32.
unsafe fn call_misaligned(f: usize, args: [u32; 5]) -> u32 {
    let result: u32;
    let args_ptr = args.as_ptr();
    // SAFETY: the block keeps the original ESP in EDI (callee-saved, so the thunk and the
    // routine preserve it), aligns ESP to 16 and takes 8 more, pushes the five arguments
    // right to left (so at the callee's entry ESP is 0 mod 16, not the 12 the i686 ABI
    // wants), calls (the callee pops 20 bytes) and restores ESP from EDI. Memory below the
    // original ESP is free for it (i386 has no red zone); `args` holds five u32.
    unsafe {
        core::arch::asm!(
            "mov edi, esp",
            "and esp, -16",
            "sub esp, 8",
            "push dword ptr [{args} + 16]",
            "push dword ptr [{args} + 12]",
            "push dword ptr [{args} + 8]",
            "push dword ptr [{args} + 4]",
            "push dword ptr [{args}]",
            "call {f}",
            "mov esp, edi",
            args = in(reg) args_ptr,
            f = in(reg) f,
            out("edi") _,
            lateout("eax") result,
            clobber_abi("C"),
        );
    }
    result
}

#[test]
#[cfg_attr(miri, ignore = "reads target/drivers and maps the image")]
#[ddk_sys::ntapi]
fn thunks_pass_arguments_pop_them_and_return_both_halves() {
    let Some(bytes) = real_image("x86/sample_miniport.sys") else {
        return;
    };
    let targets = [
        sum_stdcall as *const () as usize,
        sum_fastcall as *const () as usize,
        sum_cdecl as *const () as usize,
        wide_result as *const () as usize,
        no_arguments as *const () as usize,
    ];
    let mut n = 0;
    let image = pe::load(
        "sample_miniport.sys",
        &bytes,
        &mut |_, _: ImportName<'_>| {
            n += 1;
            Some(targets[(n - 1) % targets.len()])
        },
    )
    .unwrap();
    assert!(image.imports().len() >= targets.len());
    let thunk = |i: usize| {
        assert_eq!(image.imports()[i].address, targets[i]);
        image.iat_value(i).unwrap()
    };
    // SAFETY: each thunk calls the routine bound to it with the caller's arguments; the types
    // here are those routines' own.
    unsafe {
        let f: extern "ntapi" fn(u32, u32, u32, u32, u32) -> u32 = core::mem::transmute(thunk(0));
        assert_eq!(f(1, 2, 3, 4, 5), 1 + 4 + 9 + 16 + 25 + 2);
        let f: extern "ntapi-fastcall" fn(u32, u32, u32) -> u32 = core::mem::transmute(thunk(1));
        assert_eq!(f(1, 2, 3), 321, "ECX, EDX and one stack argument");
        let f: extern "ntapi-cdecl" fn(u32, u32, u32) -> u32 = core::mem::transmute(thunk(2));
        assert_eq!(f(3, 4, 5), 27, "cdecl: the caller pops");
        let f: extern "ntapi" fn(u32, u32) -> u64 = core::mem::transmute(thunk(3));
        assert_eq!(
            f(0x1234_5678, 0x9abc_def0),
            0x1234_5678_9abc_def0,
            "EDX:EAX"
        );
        let f: extern "ntapi" fn() -> u32 = core::mem::transmute(thunk(4));
        assert_eq!(f(), 0x5a5a);
        // From a misaligned stack, many times (a wrong pop count would corrupt ESP at once).
        for k in 0..1000 {
            let got = call_misaligned(thunk(0), [k, 1, 1, 1, 1]);
            assert_eq!(got, k + 2 + 3 + 4 + 5 + 2);
        }
    }
}
