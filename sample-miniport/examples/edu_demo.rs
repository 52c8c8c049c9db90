//! `cargo xtask run` runs this: a miniport on a simulated machine with QEMU's edu device (see
//! `sample_miniport::demo`). By default the shipped `sample_miniport.sys` image, loaded by
//! ntsim's PE loader; `--miniport PATH.sys` runs any edu miniport image, `--miniport host` the
//! host build of the Rust sample. Exits 1 on any mismatch, failed request, violation, leak or
//! load failure, 2 on a bad command line.

use clap::{Parser, ValueEnum};
use ntsim::Placement;
use sample_miniport::demo::{default_image, run, Miniport, Options};
use std::path::PathBuf;
use std::process::ExitCode;

/// Where user buffers and pool get their physical frames.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Memory {
    /// Every frame below 4 GiB.
    Below4g,
    /// Every frame above 4 GiB (32-bit devices need bounce buffers).
    Above4g,
    /// Frames on both sides of 4 GiB.
    Mixed,
}

/// The device the miniport drives.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Device {
    /// QEMU's educational PCI device (1234:11e8), spec docs/specs/edu.rst.
    Edu,
}

/// Runs an edu miniport on a simulated machine through videoprt-rs: DriverEntry,
/// VideoPortInitialize, AddDevice, START, then a user-mode client moving data by packet DMA and
/// by common-buffer DMA, every byte checked; prints a trace and a summary.
#[derive(Parser, Debug)]
#[command(name = "edu_demo", bin_name = "cargo xtask run --", version)]
struct Cli {
    /// The miniport: a PE image (.sys) to load, or `host` for the host build of the Rust
    /// sample. Default: the shipped sample_miniport.sys in target/drivers.
    #[arg(long, value_name = "PATH.sys|host")]
    miniport: Option<String>,
    /// The simulated device.
    #[arg(long, value_enum, default_value = "edu")]
    device: Device,
    /// Bytes per transfer.
    #[arg(long, default_value = "4096", value_parser = number(1, 4096))]
    size: u32,
    /// Offset in the device's 4 KiB buffer (size + offset must fit in it).
    #[arg(long, default_value = "0", value_parser = number(0, 4095))]
    offset: u32,
    /// Offset of the user buffer within its first page, so a transfer spans pages.
    #[arg(long, default_value = "0x234", value_parser = number(0, 4095))]
    user_offset: u32,
    /// The edu device's dma_mask in bits (QEMU's default is 28; the sample needs 32 or more).
    #[arg(long, default_value = "32", value_parser = number(12, 64))]
    dma_mask: u32,
    /// Where user buffers and pool get their frames.
    #[arg(long, value_enum, default_value = "above4g")]
    memory: Memory,
    /// Round trips of each kind.
    #[arg(long, default_value = "16", value_parser = number(1, 1_000_000))]
    rounds: u32,
    /// Print every trace line (otherwise those of the first round only).
    #[arg(long)]
    trace_all: bool,
}

/// A decimal or 0x-hexadecimal number within `min..=max`.
fn number(min: u32, max: u32) -> impl Fn(&str) -> Result<u32, String> + Clone {
    move |text: &str| {
        let value = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => text.parse(),
        }
        .map_err(|_| format!("not a number: {text}"))?;
        if (min..=max).contains(&value) {
            Ok(value)
        } else {
            Err(format!("{value} is outside {min}..={max}"))
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.size + cli.offset > 4096 {
        eprintln!(
            "error: --size {} at --offset {} runs past the device's 4096-byte buffer",
            cli.size, cli.offset
        );
        return ExitCode::from(2);
    }
    let Device::Edu = cli.device;
    let miniport = match cli.miniport.as_deref() {
        Some("host") => Miniport::Host("sample_miniport", sample_miniport::DriverEntry),
        Some(path) => Miniport::Image(PathBuf::from(path)),
        None => Miniport::Image(default_image()),
    };
    let options = Options {
        miniport,
        size: cli.size,
        offset: cli.offset,
        user_offset: cli.user_offset,
        dma_mask_bits: cli.dma_mask,
        memory: match cli.memory {
            Memory::Below4g => Placement::Below4G,
            Memory::Above4g => Placement::Above4G,
            Memory::Mixed => Placement::Interleaved,
        },
        rounds: cli.rounds,
        trace_all: cli.trace_all,
    };
    let summary = run(&options, &mut |line| println!("{line}"));
    println!();
    println!("summary:");
    println!("  miniport          {}", summary.miniport);
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
        println!("result: OK");
        ExitCode::SUCCESS
    } else {
        println!("result: FAILED");
        ExitCode::FAILURE
    }
}
