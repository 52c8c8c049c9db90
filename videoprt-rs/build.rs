//! Compiles the library's C parts and links them in:
//!
//! * `csrc/probe_guard.c`, the exception guard around MmProbeAndLockPages: Windows kernel
//!   target only (other hosts get the same symbol from ntsim);
//! * `csrc/debug_print.c`, the C-variadic VideoPortDebugPrint: on every target.
//!
//! For the Windows kernel targets both are compiled by clang for x86_64- or i686-pc-windows-msvc and
//! archived by llvm-lib; on other hosts debug_print.c is compiled by the system C compiler
//! through the `cc` crate.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=csrc/probe_guard.c");
    println!("cargo::rerun-if-changed=csrc/debug_print.c");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        cc::Build::new()
            .file("csrc/debug_print.c")
            .warnings(true)
            .extra_warnings(true)
            .warnings_into_errors(true)
            .compile("vprt_debug_print");
        return;
    }
    let clang_target = match std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("x86") => "--target=i686-pc-windows-msvc",
        _ => "--target=x86_64-pc-windows-msvc",
    };
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let library = out.join("vprt_csrc.lib");
    let mut lib_out = std::ffi::OsString::from("/out:");
    lib_out.push(&library);
    let mut archive = Command::new("llvm-lib");
    archive.arg(lib_out);
    for name in ["probe_guard", "debug_print"] {
        let object = out.join(format!("{name}.obj"));
        run(Command::new("clang")
            .arg(clang_target)
            .args([
                "-O2",
                "-c",
                "-fms-extensions",
                "-fno-stack-protector",
                "-ffreestanding",
                "-Wall",
                "-Werror",
            ])
            .arg(format!("csrc/{name}.c"))
            .arg("-o")
            .arg(&object));
        archive.arg(&object);
    }
    run(&mut archive);
    println!("cargo::rustc-link-search=native={}", out.display());
    println!("cargo::rustc-link-lib=static=vprt_csrc");
}

fn run(cmd: &mut Command) {
    let status = cmd.status().unwrap_or_else(|e| {
        panic!(
            "cannot run {:?} ({e}); install clang and llvm (cargo xtask setup does)",
            cmd.get_program()
        )
    });
    assert!(status.success(), "{cmd:?} failed with {status}");
}
