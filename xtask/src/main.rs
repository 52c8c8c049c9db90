//! `cargo xtask`: the project's one entry point for set-up, builds and tests.
//!
//! - `cargo xtask build`: the Windows kernel images and import libraries, into `target/drivers/`.
//! - `cargo xtask run`: the main job: builds and reports the drivers, then runs the sample
//!   miniport on the simulated machine (see README).
//! - `cargo xtask test`: set-up, the driver build, lints, every test, and each fuzz target
//!   briefly.
//! - `cargo xtask setup`: only the set-up (rustup target, Debian packages).
//! - `cargo xtask bench`: instructions and pool allocations per transfer (callgrind).
//! - `cargo xtask miri`: the tests under Miri, Stacked Borrows and Tree Borrows.
//! - `cargo xtask fuzz`: the libFuzzer targets of `fuzz/` (nightly, cargo-fuzz), for a while each.

mod bench;
mod build;
mod build_x86;
mod callgrind;
mod fuzz;
mod miri;
mod setup;
mod shell;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// The project's one entry point: set-up, the Windows driver builds, the simulated run, the
/// tests.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install what the build and the tests need (rustup target; Debian packages as root).
    Setup,
    /// Build the kernel images and import libraries into target/drivers/.
    Build,
    /// The main job: build the drivers, then run a miniport on the simulated machine.
    ///
    /// By default the shipped target/drivers/sample_miniport.sys image, loaded by ntsim's
    /// kernel image loader. Options after `--` go to the simulated run; see
    /// `cargo xtask run -- --help` (e.g. `--miniport PATH.sys`, `--size`, `--dma-mask`).
    Run {
        /// Options of the simulated run (after `--`).
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "OPTIONS"
        )]
        options: Vec<String>,
    },
    /// Formatting, the driver build, lints, every test and each fuzz target briefly (what CI
    /// runs).
    Test {
        /// Extra arguments for `cargo test` (a test name filter, say).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        cargo_test_args: Vec<String>,
    },
    /// Instructions and pool allocations per transfer, counted by callgrind (needs valgrind).
    Bench,
    /// The ddk-sys, ntsim, videoprt-rs and sample-miniport tests under Miri, with Stacked
    /// Borrows and again with Tree Borrows (installs nightly's miri and rust-src if missing).
    Miri {
        /// Only the test binaries whose name ("videoprt-rs --test dma_transfer") contains this.
        filter: Option<String>,
        /// How many binaries Miri runs at once (default: one per CPU). Each is single-threaded.
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// Skip the binaries that passed under a model in an earlier run on the same committed
        /// sources and the same Miri (recorded in target/miri-logs/passed.txt).
        #[arg(long)]
        resume: bool,
    },
    /// Run the libFuzzer targets of fuzz/ (installs nightly and cargo-fuzz if missing), each
    /// from its corpus for --time seconds; fails on any crash, naming its artifact.
    Fuzz {
        /// Seconds per target.
        #[arg(long, default_value_t = 60, value_name = "SECONDS")]
        time: u64,
        /// Targets to run (default: every file in fuzz/fuzz_targets).
        targets: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Setup => setup::ensure_all(),
        Command::Build => setup::ensure_all().and_then(|()| build::drivers().map(drop)),
        Command::Run { options } => match setup::ensure_all().and_then(|()| run(&options)) {
            // The simulated run printed its own verdict; pass its exit code on.
            Ok(code) => return code,
            Err(message) => Err(message),
        },
        Command::Test { cargo_test_args } => {
            setup::ensure_all().and_then(|()| test(&cargo_test_args))
        }
        Command::Bench => bench::run(),
        Command::Miri {
            filter,
            jobs,
            resume,
        } => miri::run(
            filter.as_deref(),
            jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            resume,
        ),
        Command::Fuzz { time, targets } => {
            // The ioctl target also drives the shipped miniport images.
            let images = targets.is_empty() || targets.iter().any(|t| t == "ioctl");
            let built = if images {
                setup::ensure_all().and_then(|()| build::drivers().map(drop))
            } else {
                Ok(())
            };
            built.and_then(|()| fuzz::run(time, &targets))
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

/// The main job: the Windows drivers, built and reported; then a miniport moving real bytes
/// through videoprt-rs on the simulated machine (sample-miniport/examples/edu_demo.rs, which
/// validates `options` and fails on any mismatch, violation, leak or load failure). Its exit
/// code is the job's.
fn run(options: &[String]) -> Result<ExitCode, String> {
    let asks_for_help = options.iter().any(|o| o == "--help" || o == "-h");
    if !asks_for_help {
        build::drivers()?;
        let display = options
            .windows(2)
            .any(|w| w[0] == "--device" && w[1] == "bochs-display")
            || options.iter().any(|o| o == "--device=bochs-display");
        shell::step(if display {
            "a display miniport on the simulated machine (Bochs display adapter, ntsim)"
        } else {
            "a miniport on the simulated machine (edu device, ntsim)"
        });
    }
    let mut cargo = vec![
        "run",
        "--quiet",
        "-p",
        "sample-miniport",
        "--example",
        "edu_demo",
        "--",
    ];
    cargo.extend(options.iter().map(String::as_str));
    shell::cargo_status(&cargo).map(|code| ExitCode::from(code.clamp(0, 255) as u8))
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
    shell::step("lints, 32-bit kernel target (cargo clippy -D warnings)");
    shell::cargo(&[
        "clippy",
        "--target",
        build_x86::X86_TARGET,
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
    // The port's logic at 32 bits: ddk-sys (its layouts against mingw-w64's i686 headers),
    // kernel-rt (the x86 assembly the i686 images ship), ntsim and videoprt-rs built for a
    // 32-bit host, so nothing assumes 64-bit pointers; and the shipped x86 images
    // (target/drivers/x86/, built above) loaded by ntsim and run end to end on its edu
    // device: sample_miniport.sys (sample-miniport) and the C edu miniport from both linkers
    // (c-miniport), i386 code calling the host-built port by stdcall.
    shell::step(&format!(
        "tests at 32 bits (cargo test --target {} -p ddk-sys -p kernel-rt -p ntsim -p videoprt-rs -p sample-miniport -p c-miniport)",
        setup::HOST_32
    ));
    let mut args = vec![
        "test",
        "--target",
        setup::HOST_32,
        "-p",
        "ddk-sys",
        "-p",
        "kernel-rt",
        "-p",
        "ntsim",
        "-p",
        "videoprt-rs",
        "-p",
        "sample-miniport",
        "-p",
        "c-miniport",
    ];
    args.extend(extra.iter().map(String::as_str));
    let totals_32 = shell::cargo_test(&args)?;
    // A filtered run is someone chasing one test: no fuzzing then.
    if extra.is_empty() {
        fuzz::run(fuzz::CI_SECONDS, &[])?;
    }
    // One closing line for the whole run (cargo prints one per test binary).
    println!(
        "tests: {} passed, {} failed; at 32 bits: {} passed, {} failed",
        totals.passed, totals.failed, totals_32.passed, totals_32.failed
    );
    Ok(())
}
