//! `cargo xtask bench`: what the port itself costs per transfer and per interrupt, counted by
//! callgrind (deterministic for the same binary and inputs, whatever else the machine is
//! doing).
//!
//! The workloads are in videoprt-rs/examples/transfer_cost.rs. Each runs N and 2N operations
//! after a warm-up; the difference divided by N removes set-up, warm-up and tear-down. Each
//! profile is read with [`crate::callgrind`]: the port's own instructions are the inclusive
//! cost of the measured VideoPort entry points minus every simulated kernel routine the port
//! called (inclusive), plus the port's callbacks the kernel ran (the HAL's list callback, the
//! DPC routine), minus the miniport's callbacks. A simulated kernel routine costs far more on
//! ntsim than on Windows, so it is counted by calls, by name, not by instructions.
//!
//! Kernel routines are the simulated kernel's exports (`transfer_cost names`), ntsim's hooks
//! (`Ntsim*`: on Windows the IRQL ones are CR8 accesses, the register ones plain loads and
//! stores) and the HAL's `DMA_OPERATIONS` (`ntsim::hal::*`).

use crate::callgrind::{Classes, PortCost, Profile};
use crate::shell::{self, have};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const PAIRS: u64 = 1000;
const SWEEP_PAIRS: u64 = 200;
const INTERRUPTS: u64 = 1000;
const SWEEP: [u32; 5] = [1, 2, 16, 64, 256];

/// Kernel routines that acquire a spin lock.
fn is_spin_lock_acquisition(name: &str) -> bool {
    name.starts_with("KeAcquireSpinLock")
        || name.starts_with("KeAcquireInStackQueuedSpinLock")
        || name.starts_with("KeTryToAcquireSpinLock")
        || name == "KfAcquireSpinLock"
}

/// Locks the port implements itself (no kernel call): `HighLock::lock`.
fn is_port_lock_acquisition(name: &str) -> bool {
    name.contains("HighLock<") && name.ends_with(">::lock")
}

fn is_pool_allocation(name: &str) -> bool {
    name.starts_with("ExAllocatePool")
}

/// Per-operation figures: the difference of two runs, divided by the operations between them.
#[derive(Default)]
struct PerOp {
    entries: f64,
    own: f64,
    kernel_calls: BTreeMap<String, f64>,
    port_locks: f64,
}

impl PerOp {
    fn new(once: &PortCost, twice: &PortCost, ops: u64) -> PerOp {
        let per = |a: u64, b: u64| (b as f64 - a as f64) / ops as f64;
        let names: BTreeSet<&String> = once
            .kernel_calls
            .keys()
            .chain(twice.kernel_calls.keys())
            .collect();
        let kernel_calls = names
            .into_iter()
            .map(|n| {
                let get = |c: &PortCost| c.kernel_calls.get(n).copied().unwrap_or(0);
                (n.clone(), per(get(once), get(twice)))
            })
            .filter(|(_, v)| *v != 0.0)
            .collect();
        let locks = |c: &PortCost| -> u64 {
            c.port_calls
                .iter()
                .filter(|(n, _)| is_port_lock_acquisition(n))
                .map(|(_, v)| v)
                .sum()
        };
        PerOp {
            entries: per(once.entries, twice.entries),
            own: (twice.own - once.own) as f64 / ops as f64,
            kernel_calls,
            port_locks: per(locks(once), locks(twice)),
        }
    }

    fn kernel(&self, matches: impl Fn(&str) -> bool) -> f64 {
        self.kernel_calls
            .iter()
            .filter(|(n, _)| matches(n))
            .map(|(_, v)| v)
            .sum()
    }

    fn spin_locks(&self) -> f64 {
        self.kernel(is_spin_lock_acquisition) + self.port_locks
    }
}

/// A count per operation: an integer when it is one.
fn count(v: f64) -> String {
    if (v - v.round()).abs() < 0.005 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.2}")
    }
}

/// The workload binary and what classifies its functions.
struct Bench {
    binary: PathBuf,
    kernel_exports: BTreeSet<String>,
}

impl Bench {
    fn classify(&self, entries: &[&str], profile: &Profile) -> PortCost {
        let is_kernel_routine = |n: &str| {
            self.kernel_exports.contains(n)
                || n.starts_with("Ntsim")
                || n.starts_with("Vprt")
                || n.starts_with("ntsim::hal::")
        };
        let is_kernel_internal = |n: &str| n.contains("ntsim::");
        let is_port = |n: &str| n.starts_with("VideoPort") || n.contains("videoprt::");
        let is_entry = |n: &str| entries.contains(&n);
        let is_miniport = |n: &str| n.starts_with("transfer_cost::");
        profile.port_cost(&Classes {
            is_kernel_routine: &is_kernel_routine,
            is_kernel_internal: &is_kernel_internal,
            is_port: &is_port,
            is_entry: &is_entry,
            is_miniport: &is_miniport,
        })
    }

    /// Profiles `args` with `ops` and `2 * ops` operations; returns the figures per operation
    /// and the workload's last line of output (of the larger run).
    fn measure(
        &self,
        entries: &[&str],
        args: &[String],
        ops: u64,
    ) -> Result<(PerOp, String), String> {
        let (once, _) = self.profile(args, ops)?;
        let (twice, output) = self.profile(args, 2 * ops)?;
        let once = self.classify(entries, &once);
        let twice = self.classify(entries, &twice);
        Ok((PerOp::new(&once, &twice, ops), output))
    }

    fn profile(&self, args: &[String], ops: u64) -> Result<(Profile, String), String> {
        let out: PathBuf = std::env::temp_dir().join(format!(
            "videoprt-rs-callgrind-{}-{ops}",
            std::process::id()
        ));
        let output = Command::new("valgrind")
            .arg("--tool=callgrind")
            .arg(format!("--callgrind-out-file={}", out.display()))
            .arg("--compress-strings=no")
            .arg("--compress-pos=no")
            .arg(&self.binary)
            .arg(&args[0])
            .arg(ops.to_string())
            .args(&args[1..])
            .stderr(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("valgrind: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "valgrind run of transfer_cost {} failed ({})",
                args.join(" "),
                output.status
            ));
        }
        let text = std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
        let _ = std::fs::remove_file(&out);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let last = stdout.lines().last().unwrap_or_default().to_string();
        Ok((Profile::parse(&text)?, last))
    }
}

/// The kernel routine calls of one operation, by name, one line each.
fn print_calls(per: &PerOp, unit: &str) {
    println!("  kernel routine calls by the port per {unit}, by name:");
    for (name, n) in &per.kernel_calls {
        println!("    {name:<44} {}", count(*n));
    }
    if per.port_locks != 0.0 {
        println!(
            "    {:<44} {}",
            "(the port's own HighLock, no kernel call)",
            count(per.port_locks)
        );
    }
}

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
    let kernel_exports = kernel_exports(&binary)?;
    let bench = Bench {
        binary,
        kernel_exports,
    };
    shell::step("counting instructions (valgrind --tool=callgrind)");
    let dma = ["VideoPortStartDma", "VideoPortCompleteDma"];
    let (pair, output) = bench.measure(&dma, &["pairs".into()], PAIRS)?;
    let pool_total = pool_allocations(&output, PAIRS * 2)?;
    println!(
        "per StartDma + HwVidExecuteDma + CompleteDma (2 pages at 8 offsets, scatter/gather, no \
         bounce):"
    );
    println!(
        "  instructions, port and simulated kernel together   {}",
        pair.entries.round()
    );
    println!("port's own instructions per pair {}", pair.own.round());
    println!(
        "spin-lock acquisitions per pair {}",
        count(pair.spin_locks())
    );
    println!(
        "pool allocations per pair {}",
        count(pair.kernel(is_pool_allocation))
    );
    println!(
        "  pool allocations per pair, port and simulated HAL together {}",
        count(pool_total)
    );
    print_calls(&pair, "pair");

    let isr = [
        "VideoPortReadRegisterUlong",
        "VideoPortWriteRegisterUlong",
        "VideoPortQueueDpc",
    ];
    let (interrupt, _) = bench.measure(&isr, &["isr".into()], INTERRUPTS)?;
    println!(
        "per interrupt (VideoPortReadRegisterUlong + VideoPortWriteRegisterUlong + \
         VideoPortQueueDpc at DIRQL, then the DPC):"
    );
    println!(
        "port's own instructions per interrupt {}",
        interrupt.own.round()
    );
    println!(
        "spin-lock acquisitions per interrupt {}",
        count(interrupt.spin_locks())
    );
    print_calls(&interrupt, "interrupt");

    println!("port's own instructions per pair by scatter/gather elements:");
    let mut row = String::new();
    for elements in SWEEP {
        let (per, output) =
            bench.measure(&dma, &["pairs".into(), elements.to_string()], SWEEP_PAIRS)?;
        if !output.contains(&format!("{elements}.00 scatter/gather elements")) {
            return Err(format!(
                "the {elements}-element workload did not make {elements}-element lists: {output}"
            ));
        }
        row.push_str(&format!("  {elements}: {}", per.own.round()));
    }
    println!("  elements → instructions{row}");
    Ok(())
}

/// The simulated kernel's exported routine names, from the workload binary (which links ntsim).
fn kernel_exports(binary: &Path) -> Result<BTreeSet<String>, String> {
    let names = shell::output(&binary.to_string_lossy(), &["names"])
        .ok_or("transfer_cost names: no output")?;
    Ok(names.lines().map(str::to_string).collect())
}

/// Pool allocations per transfer from the workload's line "N transfers, M pool allocations ...".
fn pool_allocations(line: &str, transfers: u64) -> Result<f64, String> {
    let number = |word: &str| -> Option<u64> {
        let mut words = line.split_whitespace();
        let at = words
            .clone()
            .position(|w| w.trim_end_matches(',') == word)?;
        words.nth(at.checked_sub(1)?)?.parse().ok()
    };
    let transfers_seen = number("transfers").ok_or_else(|| format!("unexpected output: {line}"))?;
    if transfers_seen != transfers {
        return Err(format!("unexpected output: {line}"));
    }
    let allocations = number("pool").ok_or_else(|| format!("unexpected output: {line}"))?;
    Ok(allocations as f64 / transfers as f64)
}
