//! `KeBugCheckEx`.
//!
//! A bug check stops the machine. It cannot panic: Rust aborts any unwind out of an
//! `extern "win64"` function (and its callers are compiled assuming none). So ntsim records
//! it, prints the bug check and the violations recorded so far, and **aborts the process**.
//! Test a deliberate bug check in a child process.

use crate::machine::cpu;
use crate::verifier::describe;
use ddk_sys::{ULONG, ULONG_PTR};

/// `KeBugCheckEx`: prints and aborts the process.
#[no_mangle]
pub extern "win64" fn KeBugCheckEx(
    BugCheckCode: ULONG,
    BugCheckParameter1: ULONG_PTR,
    BugCheckParameter2: ULONG_PTR,
    BugCheckParameter3: ULONG_PTR,
    BugCheckParameter4: ULONG_PTR,
) -> ! {
    eprintln!(
        "ntsim: KeBugCheckEx({BugCheckCode:#x} {}, {BugCheckParameter1:#x}, {BugCheckParameter2:#x}, \
         {BugCheckParameter3:#x}, {BugCheckParameter4:#x}): the machine stops",
        describe(BugCheckCode, BugCheckParameter1 as u32)
    );
    let cpu = cpu();
    for v in cpu.lock().violations.iter() {
        eprintln!("ntsim: earlier violation: {v}");
    }
    std::process::abort()
}
