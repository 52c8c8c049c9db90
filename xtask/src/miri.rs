//! `cargo xtask miri`: the tests of ddk-sys, ntsim, videoprt-rs and the sample miniport under
//! Miri, once with Stacked Borrows and once with Tree Borrows.
//!
//! Each test binary runs on its own (`cargo +nightly miri test -p <crate> --test <file>`, or
//! `--lib` for unit tests), so a binary that stops at undefined behaviour does not hide the
//! others, and the summary says which binary and which model. Miri interprets one thread at a
//! time, so `--jobs` (default: one per CPU) binaries run side by side, each writing its output to
//! `target/miri-logs/<model>-<binary>.log`; a line is printed as each one ends. Tests Miri cannot run
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
use std::sync::Mutex;
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

/// One `cargo miri test` to run: a test binary under one model.
struct Job {
    model: &'static str,
    flags: &'static str,
    package: String,
    test: Option<String>,
}

/// The binaries known to take longest under Miri go first, so that with several jobs the run
/// does not end waiting on one of them.
const SLOWEST: &[&str] = &[
    "ntsim --test stress",
    "videoprt-rs --test port_children",
    "sample-miniport --test end_to_end",
    "videoprt-rs --test dma_transfer",
    "videoprt-rs --test dma_resources",
];

/// What the tests under Miri are built from, beside the toolchain: a result is recorded against
/// these paths' committed contents.
const SOURCES: &[&str] = &[
    "Cargo.lock",
    "ddk-sys",
    "ntapi",
    "ntsim",
    "videoprt-rs",
    "sample-miniport",
    "kernel-rt",
    "c-miniport",
];

/// The record of passes: one line per (model, binary, sources) that passed.
const PASSED: &str = "passed.txt";

pub fn run(filter: Option<&str>, jobs: usize, resume: bool) -> Result<(), String> {
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
    binaries.sort_by_key(|(p, t)| {
        let name = label(p, t.as_deref());
        SLOWEST
            .iter()
            .position(|s| *s == name)
            .unwrap_or(SLOWEST.len())
    });
    // Build once, before the jobs start, so they do not queue on cargo's lock one by one.
    shell::step("building the tests for Miri");
    for (package, _) in PACKAGES {
        shell::run(
            nightly_cargo()
                .args(["miri", "test", "--no-run", "-q", "-p", package])
                .current_dir(&root),
        )?;
    }
    let mut queue = Vec::new();
    for (model, flags) in MODELS {
        for (package, test) in &binaries {
            queue.push(Job {
                model,
                flags,
                package: package.clone(),
                test: test.clone(),
            });
        }
    }
    let logs = root.join("target").join("miri-logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    let mut earlier = Vec::new();
    if resume {
        let fingerprint = sources_fingerprint(&root);
        let recorded = std::fs::read_to_string(logs.join(PASSED)).unwrap_or_default();
        queue.retain(|job| {
            let binary = label(&job.package, job.test.as_deref());
            let done = fingerprint.as_ref().is_some_and(|f| {
                recorded
                    .lines()
                    .any(|l| l == record_line(job.model, &binary, f))
            });
            if done {
                earlier.push(Outcome {
                    model: job.model,
                    binary,
                    passed: true,
                    line: "passed in an earlier run on these sources".into(),
                    seconds: 0,
                });
            }
            !done
        });
        if fingerprint.is_none() {
            println!("--resume: the sources differ from the last commit, so every binary runs");
        }
    }
    let total = queue.len();
    let jobs = jobs.clamp(1, total.max(1));
    shell::step(&format!(
        "{total} Miri runs, {jobs} at a time; each one's output goes to {}",
        logs.strip_prefix(&root).unwrap_or(&logs).display()
    ));
    let started = Instant::now();
    queue.reverse();
    let queue = Mutex::new(queue);
    let outcomes = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let Some(job) = queue.lock().unwrap_or_else(|p| p.into_inner()).pop() else {
                    return;
                };
                let outcome = run_job(&job, &logs, &root);
                let done = {
                    let mut all = outcomes.lock().unwrap_or_else(|p| p.into_inner());
                    all.push(outcome);
                    all.len()
                };
                let all = outcomes.lock().unwrap_or_else(|p| p.into_inner());
                let o = &all[done - 1];
                println!(
                    "[{done}/{total}, {} s] {} {}: {} {}",
                    started.elapsed().as_secs(),
                    o.model,
                    o.binary,
                    if o.passed { "ok" } else { "FAILED" },
                    o.line
                );
            });
        }
    });
    let mut outcomes = outcomes.into_inner().unwrap_or_else(|p| p.into_inner());
    outcomes.extend(earlier);
    outcomes.sort_by(|a, b| (a.model, &a.binary).cmp(&(b.model, &b.binary)));
    println!();
    println!(
        "Miri results ({} s in all, {jobs} at a time):",
        started.elapsed().as_secs()
    );
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
        Err(format!(
            "Miri failed: {} (logs in target/miri-logs)",
            failed.join(", ")
        ))
    }
}

/// Runs one job, its output into its own log file.
fn run_job(job: &Job, logs: &Path, root: &Path) -> Outcome {
    let binary = label(&job.package, job.test.as_deref());
    let file_name = format!(
        "{}-{}.log",
        if job.model.starts_with("Stacked") {
            "sb"
        } else {
            "tb"
        },
        binary.replace(" --test ", "-").replace(" --", "-")
    );
    let mut cargo = nightly_cargo();
    cargo.args(["miri", "test", "-p", &job.package]);
    match &job.test {
        Some(test) => cargo.args(["--test", test]),
        None => cargo.arg("--lib"),
    };
    cargo.env("MIRIFLAGS", job.flags).current_dir(root);
    let begun = Instant::now();
    let before = sources_fingerprint(root);
    let (passed, line) = match run_one(&mut cargo, &logs.join(&file_name)) {
        Ok(result) => result,
        Err(e) => (false, e),
    };
    // Recorded only when the sources were committed and did not change while it ran.
    if let Some(fingerprint) =
        before.filter(|f| passed && sources_fingerprint(root).as_ref() == Some(f))
    {
        use std::io::Write;
        let record = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(logs.join(PASSED));
        if let Ok(mut file) = record {
            let _ = writeln!(file, "{}", record_line(job.model, &binary, &fingerprint));
        }
    }
    Outcome {
        model: job.model,
        binary,
        passed,
        line,
        seconds: begun.elapsed().as_secs(),
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

/// Runs one test binary under Miri, its stdout and stderr into `log`. Returns whether it passed
/// and its `test result:` line, or the first undefined-behaviour / unsupported-operation error.
fn run_one(cargo: &mut Command, log: &Path) -> Result<(bool, String), String> {
    let file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let copy = file.try_clone().map_err(|e| e.to_string())?;
    let status = cargo
        .stdout(Stdio::from(copy))
        .stderr(Stdio::from(file))
        .status()
        .map_err(|e| format!("cannot start cargo miri: {e}"))?;
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let first_error = text
        .lines()
        .find(|line| {
            line.contains("error: Undefined Behavior")
                || line.contains("error: unsupported operation")
                || line.contains("error: memory leaked")
        })
        .map(|line| line.trim().to_string());
    let result = text
        .lines()
        .rfind(|line| line.starts_with("test result:"))
        .map(|line| line.trim().to_string());
    let passed = status.success() && first_error.is_none();
    let line = match (first_error, status.success()) {
        (Some(error), _) => error,
        (None, true) => result.unwrap_or_default(),
        (None, false) => format!("cargo miri test failed ({status}); see {}", log.display()),
    };
    Ok((passed, line))
}

fn record_line(model: &str, binary: &str, fingerprint: &str) -> String {
    format!("{model}\t{binary}\t{fingerprint}")
}

/// The committed object ids of [`SOURCES`] and Miri's version; `None` when any of those paths
/// differs from the commit (uncommitted results are not recorded) or git cannot tell.
fn sources_fingerprint(root: &Path) -> Option<String> {
    let root = root.to_str()?;
    let mut status = vec!["-C", root, "status", "--porcelain", "--"];
    status.extend(SOURCES);
    if !shell::output("git", &status)?.trim().is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    for source in SOURCES {
        let object = format!("HEAD:{source}");
        parts.push(
            shell::output("git", &["-C", root, "rev-parse", &object])?
                .trim()
                .to_string(),
        );
    }
    let version = nightly_cargo().args(["miri", "--version"]).output().ok()?;
    parts.push(String::from_utf8_lossy(&version.stdout).trim().to_string());
    Some(parts.join(" "))
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
