//! `cargo xtask`: the project's one entry point for set-up, builds and tests.
//!
//! - `cargo xtask build`: the Windows kernel images and import libraries, into `target/drivers/`.
//! - `cargo xtask run`: the main job: builds and reports the drivers, then runs the sample
//!   miniport on the simulated machine (see README).
//! - `cargo xtask test`: set-up, the driver build, lints, and every test.
//! - `cargo xtask setup`: only the set-up (rustup target, Debian packages).
//! - `cargo xtask bench`: instructions and pool allocations per transfer (callgrind).

mod bench;
mod build;
mod setup;
mod shell;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::ensure_all(),
        Some("build") => setup::ensure_all().and_then(|()| build::drivers().map(drop)),
        Some("run") => setup::ensure_all().and_then(|()| run(&args[1..])),
        Some("test") => setup::ensure_all().and_then(|()| test(&args[1..])),
        Some("bench") => bench::run(),
        _ => {
            eprintln!("usage: cargo xtask <setup | build | run | test | bench>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The main job: the Windows drivers, built and reported; then the sample miniport moving
/// real bytes through videoprt-rs on the simulated machine (options pass through, see
/// sample-miniport/examples/edu_demo.rs). Fails on any mismatch, violation or leak.
fn run(args: &[String]) -> Result<(), String> {
    build::drivers()?;
    shell::step("the sample miniport on the simulated machine (edu device, ntsim)");
    let mut cargo = vec![
        "run",
        "--quiet",
        "-p",
        "sample-miniport",
        "--example",
        "edu_demo",
        "--",
    ];
    cargo.extend(args.iter().map(String::as_str));
    shell::cargo(&cargo)
}

/// Everything CI checks, in order of cost.
fn test(extra: &[String]) -> Result<(), String> {
    shell::step("formatting (cargo fmt --check)");
    shell::cargo(&["fmt", "--all", "--", "--check"])?;
    build::drivers()?;
    shell::step("lints, host (cargo clippy -D warnings)");
    shell::cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--quiet",
        "--",
        "-D",
        "warnings",
    ])?;
    shell::step("lints, kernel target (cargo clippy -D warnings)");
    shell::cargo(&[
        "clippy",
        "--target",
        build::WINDOWS_TARGET,
        "--quiet",
        "-p",
        "videoprt-rs-driver",
        "-p",
        "videoprt-rs",
        "-p",
        "ddk-sys",
        "-p",
        "sample-miniport",
        "-p",
        "kernel-rt",
        "--",
        "-D",
        "warnings",
    ])?;
    shell::step("tests (cargo test --workspace)");
    let mut args = vec!["test", "--workspace"];
    args.extend(extra.iter().map(String::as_str));
    let totals = shell::cargo_test(&args)?;
    // One closing line for the whole run (cargo prints one per test binary).
    println!("tests: {} passed, {} failed", totals.passed, totals.failed);
    Ok(())
}
