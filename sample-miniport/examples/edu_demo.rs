//! `cargo xtask run` runs this: the sample miniport on a simulated machine (see
//! `sample_miniport::demo`). Exits non-zero on any mismatch, failed request, violation or leak.
//!
//! Options: --size BYTES (1..4096), --offset BYTES (in the device buffer), --user-offset BYTES
//! (in the user buffer's first page), --dma-mask BITS, --memory below4g|above4g|mixed,
//! --rounds N, --trace-all.

use ntsim::Placement;
use sample_miniport::demo::{run, Options};
use std::process::ExitCode;

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{flag} needs a value"));
        let number = |v: String| -> Result<u32, String> {
            let parsed = match v.strip_prefix("0x") {
                Some(hex) => u32::from_str_radix(hex, 16),
                None => v.parse(),
            };
            parsed.map_err(|_| format!("{flag}: not a number: {v}"))
        };
        match flag.as_str() {
            "--size" => options.size = number(value()?)?,
            "--offset" => options.offset = number(value()?)?,
            "--user-offset" => options.user_offset = number(value()?)?,
            "--dma-mask" => options.dma_mask_bits = number(value()?)?,
            "--rounds" => options.rounds = number(value()?)?,
            "--memory" => {
                options.memory = match value()?.as_str() {
                    "below4g" => Placement::Below4G,
                    "above4g" => Placement::Above4G,
                    "mixed" => Placement::Interleaved,
                    other => {
                        return Err(format!("--memory: below4g, above4g or mixed, not {other}"))
                    }
                }
            }
            "--trace-all" => options.trace_all = true,
            other => return Err(format!("unknown option {other}")),
        }
    }
    if !(1..=4096).contains(&options.size) || options.offset >= 4096 {
        return Err("--size must be 1..=4096 and --offset below 4096".into());
    }
    Ok(options)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("edu_demo: {message}");
            return ExitCode::from(2);
        }
    };
    let summary = run(&options, &mut |line| println!("{line}"));
    println!();
    println!("summary:");
    println!("  bytes moved       {}", summary.bytes_moved);
    println!("  bytes verified    {}", summary.bytes_verified);
    println!("  mismatches        {}", summary.mismatches);
    println!("  failed requests   {}", summary.failed_requests);
    println!(
        "  DMA transfers     {} (scatter/gather lists), {} bounced element(s)",
        summary.transfers, summary.bounced_elements
    );
    println!("  device interrupts {}", summary.interrupts);
    println!("  verifier violations {}", summary.violations.len());
    for v in &summary.violations {
        println!("    {v}");
    }
    println!("  leaks             {}", summary.leaks.len());
    for l in &summary.leaks {
        println!("    {l}");
    }
    if summary.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
