//! Installs what the build and the tests need: the rustup targets (x64 and x86 Windows, the
//! i686 Linux host) and the Debian packages that provide mingw-w64 (DDK headers, dlltool, for
//! x86_64 and i686), gcc-multilib (linking i686 Linux test programs), clang, llvm and Wine
//! (the third-party NT loader the tests load the images with).

use crate::build::WINDOWS_TARGET;
use crate::build_x86::X86_TARGET;
use crate::shell::{self, have};
use std::process::Command;

/// Debian packages and a command each is known to provide.
const DEBIAN_PACKAGES: &[(&str, &str)] = &[
    ("mingw-w64", "x86_64-w64-mingw32-gcc"),
    ("mingw-w64", "x86_64-w64-mingw32-dlltool"),
    ("mingw-w64", "i686-w64-mingw32-gcc"),
    ("mingw-w64", "i686-w64-mingw32-dlltool"),
    ("clang", "clang"),
    ("llvm", "llvm-readobj"),
    ("llvm", "llvm-dlltool"),
];

/// The 32-bit host the ntsim and videoprt-rs suites also run on (`cargo xtask test`).
pub const HOST_32: &str = "i686-unknown-linux-gnu";

/// A file gcc-multilib provides, without which an i686 Linux program cannot be linked.
const MULTILIB_PROBE: &str = "/usr/lib32/crt1.o";

pub fn ensure_all() -> Result<(), String> {
    ensure_rust_targets()?;
    ensure_debian_packages()
}

fn ensure_rust_targets() -> Result<(), String> {
    let installed = shell::output("rustup", &["target", "list", "--installed"])
        .ok_or("rustup is required (https://rustup.rs); it was not found on PATH")?;
    let missing: Vec<&str> = [WINDOWS_TARGET, X86_TARGET, HOST_32]
        .into_iter()
        .filter(|t| !installed.lines().any(|l| l.trim() == *t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    shell::step(&format!(
        "installing the Rust targets {}",
        missing.join(" ")
    ));
    shell::run(
        Command::new("rustup")
            .arg("target")
            .arg("add")
            .args(&missing),
    )
}

fn ensure_debian_packages() -> Result<(), String> {
    let mut missing: Vec<&str> = DEBIAN_PACKAGES
        .iter()
        .filter(|(_, cmd)| !have(cmd))
        .map(|(pkg, _)| *pkg)
        .collect();
    missing.dedup();
    if !std::path::Path::new(MULTILIB_PROBE).exists() {
        missing.push("gcc-multilib");
    }
    if workspace_tests::wine::find().is_err() {
        missing.push(workspace_tests::wine::DEBIAN_PACKAGE);
    }
    if missing.is_empty() {
        return Ok(());
    }
    let install = format!(
        "apt-get install -y --no-install-recommends {}",
        missing.join(" ")
    );
    let is_root = shell::output("id", &["-u"]).is_some_and(|uid| uid.trim() == "0");
    if !is_root {
        return Err(format!(
            "missing Debian packages: {}. Install them with:\n    sudo apt-get update && sudo {install}",
            missing.join(" ")
        ));
    }
    shell::step(&format!(
        "installing Debian packages: {}",
        missing.join(" ")
    ));
    shell::run(Command::new("apt-get").arg("update").arg("-q"))?;
    shell::run(
        Command::new("sh")
            .arg("-c")
            .arg(&install)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    if let Some((pkg, cmd)) = DEBIAN_PACKAGES.iter().find(|(_, cmd)| !have(cmd)) {
        return Err(format!("{pkg} is installed but {cmd} is still not on PATH"));
    }
    if !std::path::Path::new(MULTILIB_PROBE).exists() {
        return Err(format!(
            "gcc-multilib is installed but {MULTILIB_PROBE} is missing"
        ));
    }
    workspace_tests::wine::find().map(drop)
}
