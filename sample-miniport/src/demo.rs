//! The end-to-end run behind `cargo xtask run`: a simulated machine with QEMU's edu device,
//! videoprt-rs and this miniport loaded through DriverEntry -> VideoPortInitialize -> AddDevice
//! -> START, and a user-mode client round-tripping data through packet DMA and common-buffer
//! DMA, every byte checked. Host only (it drives ntsim).

pub use crate::harness::Miniport;
use crate::ioctl::*;
use ntsim::devices::edu::Edu;
use ntsim::{Machine, MachineConfig, Placement, UserProt};
use std::fmt::Write as _;

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// The miniport: the shipped image by default.
    pub miniport: Miniport,
    /// Bytes per transfer (1..=4096).
    pub size: u32,
    /// Offset in the device buffer.
    pub offset: u32,
    /// Offset of the user buffer within its first page (so a transfer spans pages).
    pub user_offset: u32,
    /// The edu device's `dma_mask`, in bits (QEMU's default is 28).
    pub dma_mask_bits: u32,
    /// Where user buffers (and pool) get their frames.
    pub memory: Placement,
    /// Round trips of each kind.
    pub rounds: u32,
    /// Print every trace line (otherwise those of the first round only).
    pub trace_all: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            miniport: Miniport::Image(default_image()),
            size: 4096,
            offset: 0,
            user_offset: 0x234,
            dma_mask_bits: 32,
            memory: Placement::Above4G,
            rounds: 16,
            trace_all: false,
        }
    }
}

/// The shipped `sample_miniport.sys` for this host's machine, where `cargo xtask build`
/// leaves it (the x86 image on a 32-bit host).
pub fn default_image() -> std::path::PathBuf {
    crate::harness::host_drivers_dir().join("sample_miniport.sys")
}

/// What the run measured.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Which miniport ran (the image, where it was mapped, what its imports were bound to), or
    /// why it could not be loaded.
    pub miniport: String,
    /// Whether the miniport loaded and its device started.
    pub started: bool,
    pub bytes_moved: u64,
    pub bytes_verified: u64,
    pub mismatches: u32,
    pub failed_requests: u32,
    pub transfers: u32,
    pub bounced_elements: u32,
    pub interrupts: u32,
    pub violations: Vec<String>,
    pub leaks: Vec<String>,
}

impl Summary {
    pub fn ok(&self) -> bool {
        self.started
            && self.mismatches == 0
            && self.failed_requests == 0
            && self.violations.is_empty()
            && self.leaks.is_empty()
    }
}

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn as_bytes<T: Copy>(value: &T) -> &[u8] {
    // SAFETY: T is a plain #[repr(C)] request structure without padding.
    unsafe { std::slice::from_raw_parts((value as *const T).cast(), core::mem::size_of::<T>()) }
}

/// Runs the scenario, printing through `out` (trace, progress) as it goes.
pub fn run(options: &Options, out: &mut dyn FnMut(&str)) -> Summary {
    let mut summary = Summary::default();
    let length = options
        .size
        .clamp(1, 4096)
        .min(4096 - options.offset.min(4095));
    let mask = if options.dma_mask_bits >= 64 {
        u64::MAX
    } else {
        (1u64 << options.dma_mask_bits) - 1
    };
    let config = MachineConfig {
        user_memory: options.memory,
        pool_memory: options.memory,
        ..MachineConfig::default()
    };
    let machine = Machine::new(config);
    let _cpu = machine.enter();
    machine.start_trace();
    let flush_trace =
        |machine: &Machine, print: bool, summary: &mut Summary, out: &mut dyn FnMut(&str)| {
            for line in machine.take_trace() {
                summary.transfers += line.starts_with("GetScatterGatherList") as u32;
                summary.bounced_elements += line.matches("(bounced)").count() as u32;
                summary.interrupts += line.starts_with("edu: interrupt") as u32;
                if print {
                    out(&format!("  trace | {line}"));
                }
            }
        };

    out(&format!(
        "machine: edu device (dma_mask {} bits), user memory {:?}; {} bytes per transfer at device offset {:#x}, user buffers {:#x} into a page; {} round(s)",
        options.dma_mask_bits, options.memory, length, options.offset, options.user_offset % 4096, options.rounds
    ));
    out("trace legend: each GetScatterGatherList is one VideoPortStartDma (offset = Offset, length = *pLength),");
    out("              each PutScatterGatherList the matching VideoPortCompleteDma");
    let pdo = machine.plug_pci_device(Box::new(Edu::new(mask)));
    let loaded = match crate::harness::load(&machine, &options.miniport) {
        Ok(loaded) => loaded,
        Err(why) => {
            out(&format!("miniport: load failed: {why}"));
            summary.miniport = format!("load failed: {why}");
            return summary;
        }
    };
    out(&format!("miniport: {}", loaded.description));
    summary.miniport = loaded.description.clone();
    let driver = loaded.driver;
    let _image = loaded.image;
    let node = match machine.start_device(&driver, pdo) {
        Ok(node) => node,
        Err(status) => {
            summary
                .violations
                .push(format!("IRP_MN_START_DEVICE failed: {status:?}"));
            return summary;
        }
    };
    flush_trace(&machine, true, &mut summary, out);
    summary.started = true;
    let client = machine.open(&node).expect("the device opens");

    let mut identity = Identity::default();
    // SAFETY: Identity is plain data.
    let bytes =
        unsafe { std::slice::from_raw_parts_mut((&mut identity as *mut Identity).cast::<u8>(), 8) };
    match client.ioctl(IOCTL_EDU_SAMPLE_IDENTIFY, &[], bytes) {
        Ok(_) => out(&format!(
            "IDENTIFY: identification {:#010x}, liveness {}",
            identity.identification,
            if identity.alive == 1 { "ok" } else { "FAILED" }
        )),
        Err(status) => {
            summary.failed_requests += 1;
            out(&format!("IDENTIFY failed: {status:?}"));
        }
    }

    for round in 0..options.rounds {
        let print = round == 0 || options.trace_all;
        let data = pattern(length as usize, round + 1);
        // Packet DMA: user buffer -> device, then device -> a second user buffer.
        let skip = (options.user_offset % 4096) as usize;
        let source = machine.user_alloc(skip + length as usize, UserProt::ReadWrite);
        source.write(skip, &data);
        let back = machine.user_alloc(skip + length as usize, UserProt::ReadWrite);
        let mut line = format!("round {round}: packet");
        for (code, buffer) in [
            (IOCTL_EDU_SAMPLE_WRITE, &source),
            (IOCTL_EDU_SAMPLE_READ, &back),
        ] {
            let request = Transfer {
                device_offset: options.offset,
                length,
                buffer: buffer.as_ptr() as u64 + skip as u64,
            };
            match client.ioctl(code, as_bytes(&request), &mut []) {
                Ok(_) => summary.bytes_moved += u64::from(length),
                Err(status) => {
                    summary.failed_requests += 1;
                    let _ = write!(line, " [request {code:#x} failed: {status:?}]");
                }
            }
            flush_trace(&machine, print, &mut summary, out);
        }
        let packet_ok = back.to_vec()[skip..] == data[..];
        machine.user_free(source);
        machine.user_free(back);

        // Common-buffer DMA: request data -> common buffer -> device, and back.
        let header = CommonHeader {
            device_offset: options.offset,
            length,
        };
        let mut input = as_bytes(&header).to_vec();
        let common_data = pattern(length as usize, 1000 + round);
        input.extend_from_slice(&common_data);
        let mut returned = vec![0u8; length as usize];
        for result in [
            client.ioctl(IOCTL_EDU_SAMPLE_WRITE_COMMON, &input, &mut []),
            client.ioctl(
                IOCTL_EDU_SAMPLE_READ_COMMON,
                as_bytes(&header),
                &mut returned,
            ),
        ] {
            match result {
                Ok(_) => summary.bytes_moved += u64::from(length),
                Err(status) => {
                    summary.failed_requests += 1;
                    let _ = write!(line, " [common request failed: {status:?}]");
                }
            }
        }
        flush_trace(&machine, print, &mut summary, out);
        let common_ok = returned == common_data;
        for ok in [packet_ok, common_ok] {
            if ok {
                summary.bytes_verified += u64::from(length);
            } else {
                summary.mismatches += 1;
            }
        }
        let _ = write!(
            line,
            " {}, common buffer {}",
            if packet_ok { "ok" } else { "MISMATCH" },
            if common_ok { "ok" } else { "MISMATCH" }
        );
        if print
            || !(packet_ok && common_ok)
            || (round + 1) % 16 == 0
            || round + 1 == options.rounds
        {
            out(&line);
        }
    }

    client.close();
    let _ = machine.remove_device(node);
    machine.unload_driver(driver);
    flush_trace(&machine, options.trace_all, &mut summary, out);
    summary.violations = machine.violations().iter().map(|v| v.to_string()).collect();
    summary.leaks = machine
        .leaks()
        .leaks
        .iter()
        .map(|l| l.description.clone())
        .collect();
    summary
}
