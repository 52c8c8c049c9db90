//! `cargo xtask bench`: instructions per transfer, counted by callgrind (deterministic for the
//! same binary and inputs, whatever else the machine is doing), and pool allocations per
//! transfer.
//!
//! The workload (videoprt-rs/examples/transfer_cost.rs) runs N and 2N StartDma/CompleteDma
//! pairs; the difference divided by N removes set-up and warm-up. Two runs each: one collecting
//! only inside VideoPortStartDma/VideoPortCompleteDma (the port plus the HAL calls it makes),
//! one only inside ntsim's GetScatterGatherList/PutScatterGatherList (the simulated HAL). The
//! port's own cost is the difference.

use crate::shell::{self, have};
use std::path::{Path, PathBuf};
use std::process::Command;

const TRANSFERS: u64 = 1000;

pub fn run() -> Result<(), String> {
    if !have("valgrind") {
        return Err("valgrind is required: apt-get install valgrind".into());
    }
    shell::step("building the workload (release)");
    shell::cargo(&[
        "build",
        "--release",
        "--quiet",
        "-p",
        "videoprt-rs",
        "--example",
        "transfer_cost",
    ])?;
    let binary = workspace_tests::drivers_dir()
        .parent()
        .expect("target dir")
        .join("release")
        .join("examples")
        .join("transfer_cost");
    let port = [
        "--toggle-collect=VideoPortStartDma",
        "--toggle-collect=VideoPortCompleteDma",
    ];
    let hal = [
        "--toggle-collect=*get_scatter_gather_list*",
        "--toggle-collect=*put_scatter_gather_list*",
    ];
    shell::step("counting instructions (valgrind --tool=callgrind)");
    let per_transfer = |toggles: &[&str]| -> Result<u64, String> {
        let once = instructions(&binary, toggles, TRANSFERS)?;
        let twice = instructions(&binary, toggles, 2 * TRANSFERS)?;
        Ok(twice.saturating_sub(once) / TRANSFERS)
    };
    let with_hal = per_transfer(&port)?;
    let hal_only = per_transfer(&hal)?;
    let allocations =
        shell::output(&binary.to_string_lossy(), &[&TRANSFERS.to_string()]).unwrap_or_default();
    println!("per StartDma + HwVidExecuteDma + CompleteDma (2 pages, scatter/gather, no bounce):");
    println!("  instructions, port and simulated HAL   {with_hal}");
    println!("  instructions, simulated HAL alone      {hal_only}");
    println!(
        "  instructions, videoprt-rs itself       {}",
        with_hal.saturating_sub(hal_only)
    );
    println!("  {}", allocations.trim());
    Ok(())
}

/// Instructions callgrind collected for one run of `binary transfers`.
fn instructions(binary: &Path, toggles: &[&str], transfers: u64) -> Result<u64, String> {
    let out: PathBuf = std::env::temp_dir().join(format!(
        "videoprt-rs-callgrind-{}-{transfers}",
        std::process::id()
    ));
    let status = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .args(toggles)
        .arg(binary)
        .arg(transfers.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("valgrind: {e}"))?;
    if !status.success() {
        return Err(format!("valgrind run failed ({status})"));
    }
    let text = std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let _ = std::fs::remove_file(&out);
    text.lines()
        .find_map(|l| l.strip_prefix("summary: "))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| "no summary line in the callgrind output".into())
}
