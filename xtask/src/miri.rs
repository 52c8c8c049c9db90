//! `cargo xtask miri`: the tests of ddk-sys, ntsim, videoprt-rs and the sample miniport under
//! Miri, once with Stacked Borrows and once with Tree Borrows.
//!
//! Each test binary runs on its own (`cargo +nightly miri test -p <crate> --test <file>`, or
//! `--lib` for unit tests), one at a time, so a binary that stops at undefined behaviour does not
//! hide the others, and the summary says which binary and which model. Tests Miri cannot run
//! (C built by the cc crate, mmap/mprotect, spawning processes) are `#[cfg_attr(miri, ignore =
//! "...")]` in the test files, with the reason; the README lists them.
//!
//! Flags: `-Zmiri-permissive-provenance` because ntsim models physical and bus addresses as
//! integers and turns some back into pointers (its memory is the test process's own), which Miri
//! supports with exposed provenance; it would otherwise warn at every such cast. Isolation stays
//! on (no host clock or file system is needed), leaks are checked.

use crate::shell;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// The packages whose tests run under Miri, and the tests of each: `lib` for the unit tests.
/// c-miniport is not here: every one of its tests calls the C miniport, which Miri cannot run.
const PACKAGES: &[(&str, &str)] = &[
    ("ddk-sys", "ddk-sys"),
    ("ntsim", "ntsim"),
    ("videoprt-rs", "videoprt-rs"),
    ("sample-miniport", "sample-miniport"),
];

/// The one package with unit tests (`videoprt-rs/src/live.rs`).
const UNIT_TESTS: &[&str] = &["videoprt-rs"];

const TOOLCHAIN: &str = "nightly";

/// The two aliasing models, and the flags of each pass.
const MODELS: &[(&str, &str)] = &[
    ("Stacked Borrows", "-Zmiri-permissive-provenance"),
    (
        "Tree Borrows",
        "-Zmiri-permissive-provenance -Zmiri-tree-borrows",
    ),
];

struct Outcome {
    model: &'static str,
    binary: String,
    passed: bool,
    line: String,
    seconds: u64,
}

pub fn run(filter: Option<&str>) -> Result<(), String> {
    ensure_miri()?;
    shell::step("Miri's standard library (cargo miri setup)");
    shell::run(nightly_cargo().args(["miri", "setup"]))?;
    let root = shell::workspace_root();
    let mut binaries: Vec<(String, Option<String>)> = Vec::new();
    for (package, dir) in PACKAGES {
        if UNIT_TESTS.contains(package) {
            binaries.push((package.to_string(), None));
        }
        for test in test_files(&root.join(dir).join("tests"))? {
            binaries.push((package.to_string(), Some(test)));
        }
    }
    if let Some(filter) = filter {
        binaries.retain(|(p, t)| label(p, t.as_deref()).contains(filter));
    }
    let started = Instant::now();
    let mut outcomes = Vec::new();
    for (model, flags) in MODELS {
        for (package, test) in &binaries {
            let binary = label(package, test.as_deref());
            shell::step(&format!("Miri, {model}: {binary}"));
            let mut cargo = nightly_cargo();
            cargo.args(["miri", "test", "-p", package]);
            match test {
                Some(test) => cargo.args(["--test", test]),
                None => cargo.arg("--lib"),
            };
            cargo.env("MIRIFLAGS", flags);
            let begun = Instant::now();
            let (passed, line) = run_one(&mut cargo)?;
            outcomes.push(Outcome {
                model,
                binary,
                passed,
                line,
                seconds: begun.elapsed().as_secs(),
            });
        }
    }
    println!();
    println!("Miri results ({} s in all):", started.elapsed().as_secs());
    for o in &outcomes {
        println!(
            "  {:<15} {:<36} {:>5} s  {} {}",
            o.model,
            o.binary,
            o.seconds,
            if o.passed { "ok    " } else { "FAILED" },
            o.line
        );
    }
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.passed)
        .map(|o| format!("{} under {}", o.binary, o.model))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("Miri failed: {}", failed.join(", ")))
    }
}

fn label(package: &str, test: Option<&str>) -> String {
    match test {
        Some(test) => format!("{package} --test {test}"),
        None => format!("{package} --lib"),
    }
}

/// The integration test files of a package (Cargo's automatic targets: `tests/*.rs`).
fn test_files(dir: &Path) -> Result<Vec<String>, String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut names = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.extension().is_some_and(|e| e == "rs") {
            if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                names.push(stem.to_string());
            }
        }
    }
    names.sort();
    Ok(names)
}

/// Runs one test binary under Miri, passing its output through. Returns whether it passed and
/// its `test result:` line, or the first undefined-behaviour / unsupported-operation error.
fn run_one(cargo: &mut Command) -> Result<(bool, String), String> {
    use std::io::{BufRead, BufReader, Write};
    let mut child = cargo
        .current_dir(shell::workspace_root())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start cargo miri: {e}"))?;
    let stderr = child.stderr.take().expect("piped");
    let mut first_error = None;
    let mut err = std::io::stderr().lock();
    for line in BufReader::new(stderr).lines() {
        let line = line.map_err(|e| e.to_string())?;
        let _ = writeln!(err, "{line}");
        if first_error.is_none()
            && (line.contains("error: Undefined Behavior")
                || line.contains("error: unsupported operation")
                || line.contains("error: memory leaked"))
        {
            first_error = Some(line.trim().to_string());
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let line = match (&first_error, status.success()) {
        (Some(error), _) => error.clone(),
        (None, true) => String::new(),
        (None, false) => format!("cargo miri test failed ({status})"),
    };
    Ok((status.success() && first_error.is_none(), line))
}

/// `cargo` of the nightly toolchain, whatever toolchain started xtask.
fn nightly_cargo() -> Command {
    let mut cmd = Command::new("rustup");
    cmd.args(["run", TOOLCHAIN, "cargo"]);
    // The rustup proxy that started xtask names its own toolchain here.
    cmd.env_remove("RUSTUP_TOOLCHAIN");
    cmd.env_remove("CARGO");
    cmd.env_remove("RUSTC");
    cmd.env_remove("RUSTDOC");
    cmd
}

/// Installs the nightly toolchain's `miri` and `rust-src` components when they are missing.
fn ensure_miri() -> Result<(), String> {
    let cannot = |what: &str| {
        format!(
            "{what}; Miri needs rustup (https://rustup.rs) and a nightly toolchain with the \
             miri and rust-src components:\n    rustup toolchain install {TOOLCHAIN} \
             --profile minimal --component miri,rust-src"
        )
    };
    let toolchains = shell::output("rustup", &["toolchain", "list"])
        .ok_or_else(|| cannot("rustup was not found on PATH"))?;
    if !toolchains.lines().any(|l| l.starts_with(TOOLCHAIN)) {
        shell::step(&format!(
            "installing the {TOOLCHAIN} toolchain with miri and rust-src"
        ));
        return shell::run(Command::new("rustup").args([
            "toolchain",
            "install",
            TOOLCHAIN,
            "--profile",
            "minimal",
            "--component",
            "miri,rust-src",
        ]))
        .map_err(|e| cannot(&e));
    }
    let installed = shell::output(
        "rustup",
        &["component", "list", "--installed", "--toolchain", TOOLCHAIN],
    )
    .ok_or_else(|| cannot("cannot list the nightly toolchain's components"))?;
    let missing: Vec<&str> = ["miri", "rust-src"]
        .into_iter()
        .filter(|c| !installed.lines().any(|l| l.starts_with(c)))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    shell::step(&format!(
        "installing {} for the {TOOLCHAIN} toolchain",
        missing.join(" and ")
    ));
    let mut args = vec!["component", "add", "--toolchain", TOOLCHAIN];
    args.extend(&missing);
    shell::run(Command::new("rustup").args(&args)).map_err(|e| cannot(&e))
}
