//! Device memory and port access: `MmMapIoSpace`, `MmUnmapIoSpace`, and the register hooks
//! `NtsimReadRegister`, `NtsimWriteRegister`, `NtsimReadPort`, `NtsimWritePort`.

use super::{with_model, Mapping, MappingBacking};
use crate::machine::{cpu, Machine};
use crate::memory::RegionKind;
use crate::types::PAGE;
use crate::verifier::{bugcheck, ntsim_code};
use ddk_sys::*;
use std::alloc::Layout;

/// Fill of the host memory behind a mapping: never read by a correct driver.
const MAPPING_FILL: u8 = 0xDB;

/// `MmMapIoSpace`: maps `NumberOfBytes` of a memory BAR. A range not inside one memory BAR of
/// a device on the simulated bus is reported and gets NULL.
///
/// A register BAR gets a placeholder range that only the register hooks understand. A RAM BAR
/// ([`crate::PciDeviceModel::ram`]) gets a real view of its memory: plain loads and stores
/// work, and the model, other kernel views and user views see the same bytes.
///
/// # Safety
/// No pointer arguments; `extern "ntapi"` for the kernel ABI only.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn MmMapIoSpace(
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
            (bar.kind.is_memory()
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
    let (va, backing) = match &st.pci.devices[device].bars[bar].ram {
        Some(ram) => {
            let first = offset as usize / PAGE * PAGE;
            let end = (offset as usize + NumberOfBytes).div_ceil(PAGE) * PAGE;
            let view = ram.map(first, end - first);
            (
                view.base + (offset as usize - first),
                MappingBacking::Ram(view),
            )
        }
        None => {
            let layout =
                Layout::from_size_align(NumberOfBytes.div_ceil(16) * 16, 16).expect("layout");
            // SAFETY: non-zero size.
            let va = unsafe { std::alloc::alloc(layout) };
            if va.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            // SAFETY: fresh allocation of layout.size() bytes.
            unsafe { va.write_bytes(MAPPING_FILL, layout.size()) };
            (va as usize, MappingBacking::Registers(layout))
        }
    };
    st.pci.mappings.insert(
        va,
        Mapping {
            len: NumberOfBytes,
            device,
            bar,
            offset,
            backing,
        },
    );
    va as PVOID
}

/// `MmUnmapIoSpace`: the base and length must be those of a live mapping.
///
/// # Safety
/// `BaseAddress` must not be used afterwards.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn MmUnmapIoSpace(BaseAddress: PVOID, NumberOfBytes: SIZE_T) {
    let cpu = cpu();
    let mut st = cpu.lock();
    let va = BaseAddress as usize;
    match st.pci.mappings.get(&va) {
        Some(m) if m.len == NumberOfBytes => {
            let m = st.pci.mappings.remove(&va).expect("present");
            match m.backing {
                // SAFETY: allocated in MmMapIoSpace with this layout, now unknown to ntsim.
                MappingBacking::Registers(layout) => unsafe {
                    std::alloc::dealloc(va as *mut u8, layout)
                },
                // Dropping the view unmaps it; the RAM and its other views stay.
                MappingBacking::Ram(view) => drop(view),
            }
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

/// Where a port access goes: an I/O BAR (device, BAR, offset) or a legacy port of a device.
enum PortTarget {
    Bar(usize, usize, u64),
    Legacy(usize, u16),
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
            if let MappingBacking::Ram(_) = m.backing {
                // A view of device RAM: the access is a plain load or store.
                return Target::Memory;
            }
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

fn port_target(port: usize, size: u8) -> Option<PortTarget> {
    let cpu = cpu();
    let st = cpu.lock();
    let p = port as u64;
    let bar = st.pci.devices.iter().enumerate().find_map(|(i, d)| {
        d.bars.iter().enumerate().find_map(|(b, bar)| {
            (bar.kind == super::BarKind::Io
                && p >= bar.base
                && p + size as u64 <= bar.base + bar.size)
                .then(|| PortTarget::Bar(i, b, p - bar.base))
        })
    });
    bar.or_else(|| {
        st.pci.devices.iter().enumerate().find_map(|(i, d)| {
            d.legacy
                .iter()
                // The first port decides (a 16-bit access to Bochs' data port 0x1CF is one
                // register, not 0x1CF and 0x1D0).
                .any(|r| p >= u64::from(r.start) && p < u64::from(r.end))
                .then_some(PortTarget::Legacy(i, port as u16))
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
#[ddk_sys::ntapi]
pub extern "ntapi" fn NtsimReadRegister(address: usize, size: u8) -> u64 {
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
#[ddk_sys::ntapi]
pub extern "ntapi" fn NtsimWriteRegister(address: usize, size: u8, value: u64) {
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
#[ddk_sys::ntapi]
pub extern "ntapi" fn NtsimReadPort(port: usize, size: u8) -> u64 {
    match port_target(port, size).filter(|_| valid_size(size)) {
        Some(PortTarget::Bar(device, bar, offset)) => {
            let m = machine();
            with_model(&m, device, |model, ctx| model.read(ctx, bar, offset, size)) & all_ones(size)
        }
        Some(PortTarget::Legacy(device, port)) => {
            let m = machine();
            with_model(&m, device, |model, ctx| model.port_read(ctx, port, size)) & all_ones(size)
        }
        None => {
            unmapped("NtsimReadPort", port, size, "port read");
            all_ones(size)
        }
    }
}

/// A port write (`WRITE_PORT_*`).
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn NtsimWritePort(port: usize, size: u8, value: u64) {
    match port_target(port, size).filter(|_| valid_size(size)) {
        Some(PortTarget::Bar(device, bar, offset)) => {
            let m = machine();
            with_model(&m, device, |model, ctx| {
                model.write(ctx, bar, offset, size, value & all_ones(size))
            });
        }
        Some(PortTarget::Legacy(device, port)) => {
            let m = machine();
            with_model(&m, device, |model, ctx| {
                model.port_write(ctx, port, size, value & all_ones(size))
            });
        }
        None => unmapped("NtsimWritePort", port, size, "port write"),
    }
}
