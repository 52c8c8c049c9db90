//! `cargo xtask fuzz [--time SECONDS] [TARGET...]`: the libFuzzer targets of `fuzz/` (its own
//! cargo workspace, built with nightly and cargo-fuzz), each run for `--time` seconds from its
//! seed corpus (`fuzz/corpus/TARGET`, committed) plus what earlier runs found
//! (`fuzz/target/corpus/TARGET`, where new entries go). One line per target: executions, new
//! corpus entries, crashes. Any crash fails the command and names its artifact.

use crate::shell::{self, workspace_root};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Seconds per target when `cargo xtask test` fuzzes: long enough to replay the corpus and
/// try some thousands of new inputs, short enough for CI.
pub const CI_SECONDS: u64 = 20;

/// What one target's run did.
struct Outcome {
    target: String,
    executions: u64,
    new_entries: u64,
    seconds: u64,
    /// Artifact paths libFuzzer wrote (a crash, a leak, a timeout, out of memory).
    artifacts: Vec<String>,
    /// The run's log (libFuzzer's output).
    log: PathBuf,
}

pub fn run(seconds: u64, requested: &[String]) -> Result<(), String> {
    let fuzz_dir = workspace_root().join("fuzz");
    let available = targets(&fuzz_dir)?;
    let chosen: Vec<String> = if requested.is_empty() {
        available.clone()
    } else {
        for t in requested {
            if !available.contains(t) {
                return Err(format!(
                    "no fuzz target `{t}` (fuzz/fuzz_targets has: {})",
                    available.join(", ")
                ));
            }
        }
        requested.to_vec()
    };
    ensure_nightly()?;
    ensure_cargo_fuzz()?;
    shell::step(&format!(
        "building the fuzz targets with nightly and libFuzzer ({}; the first build takes minutes)",
        chosen.join(", ")
    ));
    for t in &chosen {
        let mut one = nightly_cargo();
        one.args(["fuzz", "build", t]).current_dir(&fuzz_dir);
        shell::run(&mut one)?;
    }
    let mut outcomes = Vec::new();
    for t in &chosen {
        shell::step(&format!("fuzzing {t} for {seconds} s"));
        let outcome = fuzz_one(&fuzz_dir, t, seconds)?;
        println!(
            "{t}: {} executions in {} s, {} new corpus entries, {} crashes",
            outcome.executions,
            outcome.seconds,
            outcome.new_entries,
            outcome.artifacts.len()
        );
        let crashed = !outcome.artifacts.is_empty();
        if crashed {
            print_tail(&outcome.log, 40);
        }
        outcomes.push(outcome);
        if crashed {
            break;
        }
    }
    println!("fuzz summary:");
    for o in &outcomes {
        println!(
            "  {:<12} {:>10} executions  {:>4} new corpus entries  {} crashes",
            o.target,
            o.executions,
            o.new_entries,
            o.artifacts.len()
        );
    }
    let crashes: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| !o.artifacts.is_empty())
        .collect();
    if crashes.is_empty() {
        return Ok(());
    }
    let mut message = String::from("the fuzzer found a crash:");
    for o in crashes {
        for a in &o.artifacts {
            message += &format!(
                "\n  {}: {a} (reproduce: cd fuzz && cargo +nightly fuzz run {} {a}; log {})",
                o.target,
                o.target,
                o.log.display()
            );
        }
    }
    Err(message)
}

/// The targets in fuzz/fuzz_targets, by file stem.
fn targets(fuzz_dir: &Path) -> Result<Vec<String>, String> {
    let dir = fuzz_dir.join("fuzz_targets");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let p = e.path();
            let stem = p.file_stem()?.to_string_lossy().into_owned();
            (p.extension()? == "rs").then_some(stem)
        })
        .collect();
    names.sort();
    Ok(names)
}

/// `cargo +nightly`, through rustup's proxy, without the toolchain choices of the `cargo` that
/// runs xtask (which would override `+nightly` in the tools cargo-fuzz starts).
fn nightly_cargo() -> Command {
    let mut cmd = Command::new("cargo");
    cmd.arg("+nightly");
    for var in [
        "RUSTUP_TOOLCHAIN",
        "CARGO",
        "RUSTC",
        "RUSTDOC",
        "RUSTC_WRAPPER",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn ensure_nightly() -> Result<(), String> {
    let installed = shell::output("rustup", &["toolchain", "list"])
        .ok_or("rustup is required (https://rustup.rs); it was not found on PATH")?;
    if installed.lines().any(|l| l.starts_with("nightly")) {
        return Ok(());
    }
    shell::step("installing the nightly toolchain (rustup, minimal profile)");
    shell::run(Command::new("rustup").args([
        "toolchain",
        "install",
        "nightly",
        "--profile",
        "minimal",
    ]))
}

fn ensure_cargo_fuzz() -> Result<(), String> {
    let present = nightly_cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if present {
        return Ok(());
    }
    shell::step("installing cargo-fuzz (cargo install cargo-fuzz --locked)");
    shell::run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))
}

fn count_files(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |d| d.filter_map(|e| e.ok()).count() as u64)
}

/// Runs `target` for `seconds` from its seeds and earlier finds; libFuzzer's output goes to a
/// log under fuzz/target/logs, and its final statistics are read from it.
fn fuzz_one(fuzz_dir: &Path, target: &str, seconds: u64) -> Result<Outcome, String> {
    let found = fuzz_dir.join("target").join("corpus").join(target);
    let seeds = fuzz_dir.join("corpus").join(target);
    let logs = fuzz_dir.join("target").join("logs");
    for dir in [&found, &seeds, &logs] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let log_path = logs.join(format!("{target}.log"));
    let mut log =
        std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let before = count_files(&found);
    let started = std::time::Instant::now();
    let mut child = nightly_cargo()
        .current_dir(fuzz_dir)
        .args(["fuzz", "run", target])
        // New entries go to the first directory; the committed seeds are only read.
        .arg(&found)
        .arg(&seeds)
        .args([
            "--".to_string(),
            format!("-max_total_time={seconds}"),
            "-print_final_stats=1".into(),
            "-timeout=30".into(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start cargo fuzz run {target}: {e}"))?;
    // libFuzzer writes everything to stderr; stdout (the target's) goes to the log too.
    let stdout = child.stdout.take().expect("piped");
    let copy_stdout = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            lines.push(line);
        }
        lines
    });
    let mut executions = 0;
    let mut new_entries = None;
    let mut artifacts = Vec::new();
    let stderr = child.stderr.take().expect("piped");
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        let _ = writeln!(log, "{line}");
        if let Some(n) = stat(&line, "stat::number_of_executed_units:") {
            executions = n;
        }
        if let Some(n) = stat(&line, "stat::new_units_added:") {
            new_entries = Some(n);
        }
        if let Some(at) = line.find("Test unit written to ") {
            artifacts.push(
                line[at + "Test unit written to ".len()..]
                    .trim()
                    .to_string(),
            );
        }
    }
    for line in copy_stdout.join().unwrap_or_default() {
        let _ = writeln!(log, "{line}");
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() && artifacts.is_empty() {
        // A failure before fuzzing started (a build error, a bad option): show the end of the
        // log, which says why.
        print_tail(&log_path, 30);
        return Err(format!(
            "cargo fuzz run {target} failed ({status}); log: {}",
            log_path.display()
        ));
    }
    let after = count_files(&found);
    Ok(Outcome {
        target: target.to_string(),
        executions,
        new_entries: new_entries.unwrap_or(after.saturating_sub(before)),
        seconds: started.elapsed().as_secs(),
        artifacts,
        log: log_path,
    })
}

/// The last `n` lines of a log, to standard error.
fn print_tail(log: &Path, n: usize) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().take(n).collect();
    for line in tail.into_iter().rev() {
        eprintln!("{line}");
    }
}

/// `N` from a final-statistics line `label N`.
fn stat(line: &str, label: &str) -> Option<u64> {
    line.trim().strip_prefix(label)?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::stat;

    #[test]
    fn reads_libfuzzer_final_statistics() {
        let label = "stat::number_of_executed_units:";
        assert_eq!(
            stat("stat::number_of_executed_units: 21836", label),
            Some(21836)
        );
        assert_eq!(
            stat(
                "stat::new_units_added:          168",
                "stat::new_units_added:"
            ),
            Some(168)
        );
        assert_eq!(stat("#21836\tDONE   cov: 4536 ft: 7365", label), None);
    }
}
