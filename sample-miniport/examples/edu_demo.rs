//! `cargo xtask run` runs this: a miniport on a simulated machine with QEMU's edu device (see
//! `sample_miniport::demo`). By default the shipped `sample_miniport.sys` image, loaded by
//! ntsim's PE loader; `--miniport PATH.sys` runs any edu miniport image, `--miniport host` the
//! host build of the Rust sample. Exits 1 on any mismatch, failed request, violation, leak or
//! load failure, 2 on a bad command line.
//!
//! `--device bochs-display` runs the display conversation instead (`sample_miniport::display`)
//! with the shipped `c_bochs_miniport_lld.sys` (or `--miniport PATH.sys|host`): the modes, each
//! mode set, drawn through the client's own mapping and verified against the device, the
//! summary, and the last frame written to `target/bochs-frame.png`.

use clap::{Parser, ValueEnum};
use ntsim::Placement;
use sample_miniport::demo::{default_image, run, Miniport, Options};
use std::path::{Path, PathBuf};
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
    /// QEMU's Bochs display adapter (1234:1111, `-device bochs-display`: 16 MiB of VRAM, no
    /// VGA ports), driven by a display miniport through the standard video IOCTLs. Only
    /// --miniport applies; the edu options are ignored.
    BochsDisplay,
}

/// Runs an edu miniport on a simulated machine through videoprt-rs: DriverEntry,
/// VideoPortInitialize, AddDevice, START, then a user-mode client moving data by packet DMA and
/// by common-buffer DMA, every byte checked; prints a trace and a summary.
#[derive(Parser, Debug)]
#[command(name = "edu_demo", bin_name = "cargo xtask run --", version)]
struct Cli {
    /// The miniport: a PE image (.sys) to load, or `host` for the host build of the sample
    /// (the Rust edu sample; the C display sample for bochs-display). Default: the shipped
    /// sample_miniport.sys (edu) or c_bochs_miniport_lld.sys (bochs-display) in target/drivers.
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
    if let Device::BochsDisplay = cli.device {
        return bochs_display(cli.miniport.as_deref());
    }
    if cli.size + cli.offset > 4096 {
        eprintln!(
            "error: --size {} at --offset {} runs past the device's 4096-byte buffer",
            cli.size, cli.offset
        );
        return ExitCode::from(2);
    }
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

/// `--device bochs-display`: the display conversation, printed; the last frame as a PNG.
fn bochs_display(miniport: Option<&str>) -> ExitCode {
    use sample_miniport::display::{self, DisplaySession};
    let miniport = match miniport {
        #[cfg(target_pointer_width = "64")]
        Some("host") => Miniport::Host("c_bochs_miniport", c_miniport::BochsDriverEntry),
        #[cfg(target_pointer_width = "32")]
        Some("host") => {
            eprintln!("error: the host build of the C display sample is 64-bit only");
            return ExitCode::from(2);
        }
        Some(path) => Miniport::Image(PathBuf::from(path)),
        None => Miniport::Image(
            sample_miniport::harness::drivers_dir().join("c_bochs_miniport_lld.sys"),
        ),
    };
    let config = display::bochs_display();
    println!(
        "machine: QEMU bochs-display (PCI 1234:1111), {} MiB of VRAM, no legacy VGA ports",
        config.vram >> 20
    );
    let mut session = match DisplaySession::start(&miniport, config) {
        Ok(session) => session,
        Err(why) => {
            println!("miniport: {why}");
            println!("result: FAILED");
            return ExitCode::FAILURE;
        }
    };
    println!("miniport: {}", session.description);
    println!("registry (the device's driver key, written by HwFindAdapter):");
    for name in [
        "HardwareInformation.ChipType",
        "HardwareInformation.DacType",
        "HardwareInformation.MemorySize",
        "HardwareInformation.AdapterString",
    ] {
        let shown = match session.machine.registry_value(session.pdo, name) {
            None => "(missing)".to_string(),
            Some(v) if name.ends_with("MemorySize") && v.data.len() == 4 => {
                let bytes = u32::from_le_bytes(v.data[..4].try_into().expect("4 bytes"));
                format!("{bytes} bytes")
            }
            Some(v) => {
                let units: Vec<u16> = v
                    .data
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .take_while(|u| *u != 0)
                    .collect();
                format!("\"{}\"", String::from_utf16_lossy(&units))
            }
        };
        println!("  {name:<34} {shown}");
    }
    println!("child devices (HwGetVideoChildDescriptor, as the PnP manager queried them):");
    let children = session.children();
    for c in &children {
        println!(
            "  {:#x}  device {}  hardware {:?}  compatible {:?}  instance {}",
            c.pdo, c.device_id, c.hardware_ids, c.compatible_ids, c.instance_id
        );
    }
    let monitors: Vec<String> = children
        .iter()
        .flat_map(|c| c.hardware_ids.iter().take(1))
        .filter(|id| id.starts_with("MONITOR\\"))
        .cloned()
        .collect();
    let conversation = display::converse(&session, &mut |line| println!("{line}"));
    let mode_sets = session.bochs(|b| b.mode_sets());
    session.stop();
    let violations = session.machine.violations();
    let leaks = session.machine.leaks();

    let png = sample_miniport::harness::drivers_dir()
        .parent()
        .map_or_else(
            || PathBuf::from("bochs-frame.png"),
            |t| t.join("bochs-frame.png"),
        );
    let mut picture_failed = false;
    if let Some((width, height, frame)) = &conversation.last_frame {
        match write_png(&png, *width, *height, &display::to_rgb(frame)) {
            Ok(()) => println!(
                "frame: {} ({width} x {height}, the last mode's pattern as the device showed it)",
                png.display()
            ),
            Err(why) => {
                picture_failed = true;
                println!("frame: could not write {}: {why}", png.display());
            }
        }
    }

    let verified = conversation.checks.iter().filter(|c| c.ok).count();
    let bytes: usize = conversation
        .checks
        .iter()
        .filter(|c| c.ok)
        .map(|c| (c.mode.screen_stride * c.mode.vis_screen_height) as usize)
        .sum();
    println!();
    println!("summary:");
    println!("  miniport            {}", session.description);
    println!("  monitors            {} {:?}", monitors.len(), monitors);
    println!("  modes listed        {}", conversation.modes.len());
    println!("  modes set           {mode_sets} (as the device counts them)");
    println!(
        "  frames verified     {verified} of {} ({bytes} bytes, byte for byte)",
        conversation.checks.len()
    );
    println!("  mismatches          {}", conversation.mismatches());
    println!("  failed requests     {}", conversation.failures.len());
    for f in &conversation.failures {
        println!("    {f}");
    }
    println!("  verifier violations {}", violations.len());
    for v in &violations {
        println!("    {v}");
    }
    println!("  leaks               {}", leaks.leaks.len());
    for l in &leaks.leaks {
        println!("    {:?}: {}", l.kind, l.description);
    }
    let ok = !conversation.modes.is_empty()
        && !monitors.is_empty()
        && verified == conversation.modes.len()
        && conversation.failures.is_empty()
        && violations.is_empty()
        && leaks.is_empty()
        && !picture_failed;
    if ok {
        println!("result: OK");
        ExitCode::SUCCESS
    } else {
        println!("result: FAILED");
        ExitCode::FAILURE
    }
}

/// An 8-bit RGB PNG of `width x height` pixels.
fn write_png(path: &Path, width: u32, height: u32, rgb: &[u8]) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())
}
