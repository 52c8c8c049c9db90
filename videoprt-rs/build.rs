//! For the Windows kernel target, compiles the C exception guard around MmProbeAndLockPages
//! (csrc/probe_guard.c) with clang and links it into the library. Other hosts get the same
//! symbol from ntsim.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=csrc/probe_guard.c");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let object = out.join("probe_guard.obj");
    let library = out.join("vprt_probe_guard.lib");
    run(Command::new("clang")
        .args([
            "--target=x86_64-pc-windows-msvc",
            "-O2",
            "-c",
            "-fms-extensions",
            "-fno-stack-protector",
            "-ffreestanding",
            "-Wall",
            "-Werror",
            "csrc/probe_guard.c",
            "-o",
        ])
        .arg(&object));
    let mut lib_out = std::ffi::OsString::from("/out:");
    lib_out.push(&library);
    run(Command::new("llvm-lib").arg(lib_out).arg(&object));
    println!("cargo::rustc-link-search=native={}", out.display());
    println!("cargo::rustc-link-lib=static=vprt_probe_guard");
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
