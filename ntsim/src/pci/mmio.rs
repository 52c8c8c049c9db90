//! Device memory and port access: `MmMapIoSpace`, `MmUnmapIoSpace`, and the register hooks
//! `NtsimReadRegister`, `NtsimWriteRegister`, `NtsimReadPort`, `NtsimWritePort`.

use super::{with_model, BarKind, Mapping};
use crate::machine::{cpu, Machine};
use crate::memory::RegionKind;
use crate::verifier::{bugcheck, ntsim_code};
use ddk_sys::*;
use std::alloc::Layout;

/// Fill of the host memory behind a mapping: never read by a correct driver.
const MAPPING_FILL: u8 = 0xDB;

/// `MmMapIoSpace`: maps `NumberOfBytes` of a memory BAR. A range not inside one memory BAR of
/// a device on the simulated bus is reported and gets NULL.
///
/// # Safety
/// No pointer arguments; `extern "win64"` for the kernel ABI only.
#[no_mangle]
pub unsafe extern "win64" fn MmMapIoSpace(
    PhysicalAddress: PHYSICAL_ADDRESS,
    NumberOfBytes: SIZE_T,
    _CacheType: MEMORY_CACHING_TYPE,
) -> PVOID {
    let cpu = cpu();
    let mut st = cpu.lock();
    let pa = PhysicalAddress.get();
    let len = NumberOfBytes as u64;
    let found = st.pci.devices.iter().enumerate().find_map(|(i, d)| {
        d.bars.iter().enumerate().find_map(|(b, bar)| {
            (bar.kind != BarKind::Io
                && len > 0
                && pa >= bar.base
                && pa
                    .checked_add(len)
                    .is_some_and(|end| end <= bar.base + bar.size))
            .then(|| (i, b, pa - bar.base))
        })
    });
    let Some((device, bar, offset)) = found else {
        st.report(
            bugcheck::NTSIM_CHECK,
            ntsim_code::BAD_ADDRESS,
            [pa, len, 0],
            "MmMapIoSpace",
            format!("physical range {pa:#x}+{len:#x} is not inside one memory BAR of any device"),
        );
        return core::ptr::null_mut();
    };
    let layout = Layout::from_size_align(NumberOfBytes.div_ceil(16) * 16, 16).expect("layout");
    // SAFETY: non-zero size.
    let va = unsafe { std::alloc::alloc(layout) };
    if va.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    // SAFETY: fresh allocation of layout.size() bytes.
    unsafe { va.write_bytes(MAPPING_FILL, layout.size()) };
    st.pci.mappings.insert(
        va as usize,
        Mapping {
            len: NumberOfBytes,
            device,
            bar,
            offset,
            layout,
        },
    );
    va.cast()
}

/// `MmUnmapIoSpace`: the base and length must be those of a live mapping.
///
/// # Safety
/// `BaseAddress` must not be used afterwards.
#[no_mangle]
pub unsafe extern "win64" fn MmUnmapIoSpace(BaseAddress: PVOID, NumberOfBytes: SIZE_T) {
    let cpu = cpu();
    let mut st = cpu.lock();
    let va = BaseAddress as usize;
    match st.pci.mappings.get(&va) {
        Some(m) if m.len == NumberOfBytes => {
            let m = st.pci.mappings.remove(&va).expect("present");
            // SAFETY: allocated in MmMapIoSpace with this layout, now unknown to ntsim.
            unsafe { std::alloc::dealloc(va as *mut u8, m.layout) };
        }
        other => {
            let msg = match other {
                Some(m) => format!(
                    "MmUnmapIoSpace({va:#x}, {NumberOfBytes:#x}) of a {:#x}-byte mapping",
                    m.len
                ),
                None => format!("{va:#x} is not a live MmMapIoSpace mapping"),
            };
            st.report(
                bugcheck::NTSIM_CHECK,
                ntsim_code::BAD_ADDRESS,
                [va as u64, NumberOfBytes as u64, 0],
                "MmUnmapIoSpace",
                msg,
            );
        }
    }
}

enum Target {
    Model {
        device: usize,
        bar: usize,
        offset: u64,
    },
    Memory,
    Nothing,
}

fn all_ones(size: u8) -> u64 {
    if size >= 8 {
        u64::MAX
    } else {
        (1u64 << (size as u32 * 8)) - 1
    }
}

fn valid_size(size: u8) -> bool {
    matches!(size, 1 | 2 | 4 | 8)
}

fn register_target(address: usize, size: u8) -> Target {
    let cpu = cpu();
    let st = cpu.lock();
    if let Some((&va, m)) = st.pci.mappings.range(..=address).next_back() {
        if address + size as usize <= va + m.len {
            return Target::Model {
                device: m.device,
                bar: m.bar,
                offset: m.offset + (address - va) as u64,
            };
        }
    }
    match st.mem.region_at(address) {
        Some((_, r))
            if !matches!(r.kind, RegionKind::User(_)) && address + size as usize <= r.end() =>
        {
            Target::Memory
        }
        _ => Target::Nothing,
    }
}

fn port_target(port: usize, size: u8) -> Option<(usize, usize, u64)> {
    let cpu = cpu();
    let st = cpu.lock();
    st.pci.devices.iter().enumerate().find_map(|(i, d)| {
        d.bars.iter().enumerate().find_map(|(b, bar)| {
            let p = port as u64;
            (bar.kind == BarKind::Io && p >= bar.base && p + size as u64 <= bar.base + bar.size)
                .then(|| (i, b, p - bar.base))
        })
    })
}

fn unmapped(routine: &'static str, address: usize, size: u8, what: &str) {
    cpu().lock().report(
        bugcheck::NTSIM_CHECK,
        ntsim_code::UNMAPPED_REGISTER,
        [address as u64, size as u64, 0],
        routine,
        format!("{size}-byte {what} at {address:#x}: no device decodes it and no memory backs it"),
    );
}

fn machine() -> Machine {
    Machine::internal(cpu().shared.clone())
}

/// A register read (`READ_REGISTER_*` on a host): from the model behind the mapping, from
/// kernel memory, or all ones and a report.
#[no_mangle]
pub extern "win64" fn NtsimReadRegister(address: usize, size: u8) -> u64 {
    if !valid_size(size) {
        unmapped("NtsimReadRegister", address, size, "read of invalid size");
        return 0;
    }
    match register_target(address, size) {
        Target::Model {
            device,
            bar,
            offset,
        } => {
            let m = machine();
            with_model(&m, device, |model, ctx| model.read(ctx, bar, offset, size)) & all_ones(size)
        }
        // SAFETY: live kernel memory of the machine, `size` bytes inside one region.
        Target::Memory => unsafe {
            match size {
                1 => (address as *const u8).read_volatile() as u64,
                2 => (address as *const u16).read_unaligned() as u64,
                4 => (address as *const u32).read_unaligned() as u64,
                _ => (address as *const u64).read_unaligned(),
            }
        },
        Target::Nothing => {
            unmapped("NtsimReadRegister", address, size, "register read");
            all_ones(size)
        }
    }
}

/// A register write (`WRITE_REGISTER_*` on a host).
#[no_mangle]
pub extern "win64" fn NtsimWriteRegister(address: usize, size: u8, value: u64) {
    if !valid_size(size) {
        unmapped("NtsimWriteRegister", address, size, "write of invalid size");
        return;
    }
    match register_target(address, size) {
        Target::Model {
            device,
            bar,
            offset,
        } => {
            let m = machine();
            with_model(&m, device, |model, ctx| {
                model.write(ctx, bar, offset, size, value & all_ones(size))
            });
        }
        // SAFETY: live kernel memory of the machine, `size` bytes inside one region.
        Target::Memory => unsafe {
            match size {
                1 => (address as *mut u8).write_volatile(value as u8),
                2 => (address as *mut u16).write_unaligned(value as u16),
                4 => (address as *mut u32).write_unaligned(value as u32),
                _ => (address as *mut u64).write_unaligned(value),
            }
        },
        Target::Nothing => unmapped("NtsimWriteRegister", address, size, "register write"),
    }
}

/// A port read (`READ_PORT_*`): from the I/O BAR that decodes `port`, or all ones.
#[no_mangle]
pub extern "win64" fn NtsimReadPort(port: usize, size: u8) -> u64 {
    match port_target(port, size).filter(|_| valid_size(size)) {
        Some((device, bar, offset)) => {
            let m = machine();
            with_model(&m, device, |model, ctx| model.read(ctx, bar, offset, size)) & all_ones(size)
        }
        None => {
            unmapped("NtsimReadPort", port, size, "port read");
            all_ones(size)
        }
    }
}

/// A port write (`WRITE_PORT_*`).
#[no_mangle]
pub extern "win64" fn NtsimWritePort(port: usize, size: u8, value: u64) {
    match port_target(port, size).filter(|_| valid_size(size)) {
        Some((device, bar, offset)) => {
            let m = machine();
            with_model(&m, device, |model, ctx| {
                model.write(ctx, bar, offset, size, value & all_ones(size))
            });
        }
        None => unmapped("NtsimWritePort", port, size, "port write"),
    }
}
