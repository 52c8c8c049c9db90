//! Installs what the build and the tests need: the Windows rustup target and the Debian
//! packages that provide mingw-w64 (DDK headers, dlltool), clang, llvm and Wine (the
//! third-party NT loader the tests load the images with).

use crate::build::WINDOWS_TARGET;
use crate::shell::{self, have};
use std::process::Command;

/// Debian packages and a command each is known to provide.
const DEBIAN_PACKAGES: &[(&str, &str)] = &[
    ("mingw-w64", "x86_64-w64-mingw32-gcc"),
    ("mingw-w64", "x86_64-w64-mingw32-dlltool"),
    ("clang", "clang"),
    ("llvm", "llvm-readobj"),
    ("llvm", "llvm-dlltool"),
];

pub fn ensure_all() -> Result<(), String> {
    ensure_rust_target()?;
    ensure_debian_packages()
}

fn ensure_rust_target() -> Result<(), String> {
    let installed = shell::output("rustup", &["target", "list", "--installed"])
        .ok_or("rustup is required (https://rustup.rs); it was not found on PATH")?;
    if installed.lines().any(|l| l.trim() == WINDOWS_TARGET) {
        return Ok(());
    }
    shell::step(&format!("installing the Rust target {WINDOWS_TARGET}"));
    shell::run(Command::new("rustup").args(["target", "add", WINDOWS_TARGET]))
}

fn ensure_debian_packages() -> Result<(), String> {
    let mut missing: Vec<&str> = DEBIAN_PACKAGES
        .iter()
        .filter(|(_, cmd)| !have(cmd))
        .map(|(pkg, _)| *pkg)
        .collect();
    missing.dedup();
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
    workspace_tests::wine::find().map(drop)
}
