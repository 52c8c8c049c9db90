//! INT 10h: `VideoPortInt10` and the services of `VIDEO_PORT_INT10_INTERFACE`
//! (`Int10AllocateBuffer`, `Int10FreeBuffer`, `Int10ReadMemory`, `Int10WriteMemory`,
//! `Int10CallBios`, and the interface's reference counting), over the HAL's x86 BIOS emulator
//! (`x86BiosCall` and friends, found at run time by [`crate::system::x86_bios`]).
//!
//! Semantics (Microsoft's pages on `VideoPortInt10`, `VIDEO_PORT_INT10_INTERFACE` and each
//! `PINT10_*` callback), all PASSIVE_LEVEL:
//! * `VideoPortInt10`: the registers are immediate values (no segment registers); NO_ERROR
//!   when the BIOS ran, ERROR_INVALID_PARAMETER when the emulator failed, ERROR_INVALID_FUNCTION
//!   on a kernel without the emulator (NT 5.2).
//! * `Int10AllocateBuffer`: one block of up to 4096 bytes per interface, in real-mode memory;
//!   `*Length` is 4096 on return whether or not it was allocated; a second block before the
//!   first is freed, a larger request, or the HAL out of buffers is
//!   STATUS_INSUFFICIENT_RESOURCES (the documented value, an NTSTATUS in a VP_STATUS).
//! * `Int10FreeBuffer`: only the block this device holds (else ERROR_INVALID_PARAMETER,
//!   reported).
//! * `Int10ReadMemory` / `Int10WriteMemory`: any real-mode address (the BIOS's tables live in
//!   its ROM, outside the block); a range leaving the 1 MiB is ERROR_INVALID_PARAMETER.
//! * `Int10CallBios`: INT 10h with `INT10_BIOS_ARGUMENTS` (DS and ES included), updated on
//!   return.
//!
//! The interface's `Context` is the miniport's `HwDeviceExtension`, checked on every call like
//! any other. The port counts references (`VideoPortQueryServices` takes the first); a service
//! called, or the interface dereferenced, while no reference is held is reported and refused.
//! XDDM has no teardown callback, so a miniport may keep the interface and its block for the
//! device's life: the port frees the block at stop and removal, without a report.
//!
//! Invariant: `Int10State::buffer` is [`NO_BUFFER`], [`CLAIMED`] while one thread allocates or
//! frees, or [`HELD`] | segment << 16 | offset of the block the HAL gave this device.

use crate::device::PortDevice;
use crate::irql::{require_at_most, Irql};
use crate::port::objects;
use crate::report::{self, port_code, Misuse};
use crate::system::{self, X86Bios};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use ddk_sys::*;

/// Largest block `Int10AllocateBuffer` hands out (and what `*Length` says on return).
pub const INT10_BUFFER_SIZE: ULONG = 4096;

const NO_BUFFER: u64 = 0;
const CLAIMED: u64 = 1;
const HELD: u64 = 1 << 32;

/// A device's INT 10h interface: its references and its block.
pub(crate) struct Int10State {
    references: AtomicU32,
    buffer: AtomicU64,
}

impl Int10State {
    pub(crate) const fn new() -> Self {
        Int10State {
            references: AtomicU32::new(0),
            buffer: AtomicU64::new(NO_BUFFER),
        }
    }

    pub(crate) fn reference(&self) {
        self.references.fetch_add(1, Ordering::AcqRel);
    }

    fn referenced(&self) -> bool {
        self.references.load(Ordering::Acquire) != 0
    }

    /// Drops one reference; false (nothing changed) if none was held.
    fn dereference(&self) -> bool {
        self.references
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |r| r.checked_sub(1))
            .is_ok()
    }
}

fn held(seg: USHORT, off: USHORT) -> u64 {
    HELD | u64::from(seg) << 16 | u64::from(off)
}

/// `STATUS_INSUFFICIENT_RESOURCES` as `Int10AllocateBuffer` returns it.
pub const INT10_NO_BUFFER: VP_STATUS = VP_STATUS(STATUS_INSUFFICIENT_RESOURCES.0);

/// The checks every interface service starts with: PASSIVE_LEVEL, a live device as Context, a
/// reference held, and the emulator present.
fn service(
    routine: &'static str,
    context: PVOID,
) -> Result<(&'static PortDevice, X86Bios), VP_STATUS> {
    if !require_at_most(routine, Irql::PASSIVE) {
        return Err(ERROR_INVALID_PARAMETER);
    }
    let device = PortDevice::from_hw_extension(routine, context).ok_or(ERROR_INVALID_PARAMETER)?;
    if !device.port.int10.referenced() {
        report::misuse(
            routine,
            Misuse::Port {
                code: port_code::INTERFACE_NOT_REFERENCED,
                p2: context as usize,
                p3: 0,
            },
        );
        return Err(ERROR_INVALID_PARAMETER);
    }
    let bios = system::x86_bios().ok_or(ERROR_INVALID_FUNCTION)?;
    Ok((device, bios))
}

/// `InterfaceReference` of the INT 10h interface.
///
/// # Safety
/// None beyond the call itself: `Context` is checked.
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn int10_reference(Context: PVOID) {
    const R: &str = "Int10 InterfaceReference";
    if let Some(device) = PortDevice::from_hw_extension(R, Context) {
        device.port.int10.reference();
    }
}

/// `InterfaceDereference` of the INT 10h interface.
///
/// # Safety
/// None beyond the call itself: `Context` is checked.
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn int10_dereference(Context: PVOID) {
    const R: &str = "Int10 InterfaceDereference";
    if let Some(device) = PortDevice::from_hw_extension(R, Context) {
        if !device.port.int10.dereference() {
            report::misuse(
                R,
                Misuse::Port {
                    code: port_code::INTERFACE_NOT_REFERENCED,
                    p2: Context as usize,
                    p3: 0,
                },
            );
        }
    }
}

/// `Int10AllocateBuffer`.
///
/// # Safety
/// `Seg`, `Off` and `Length` are NULL or valid for their accesses.
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn int10_allocate_buffer(
    Context: PVOID,
    Seg: *mut USHORT,
    Off: *mut USHORT,
    Length: *mut ULONG,
) -> VP_STATUS {
    const R: &str = "Int10AllocateBuffer";
    let (device, bios) = match service(R, Context) {
        Ok(found) => found,
        Err(status) => return status,
    };
    for (position, null) in [
        (2, Seg.is_null()),
        (3, Off.is_null()),
        (4, Length.is_null()),
    ] {
        if null {
            report::null_argument(R, position);
            return ERROR_INVALID_PARAMETER;
        }
    }
    // SAFETY: non-NULL, valid (contract).
    let requested = unsafe { Length.read() };
    // SAFETY: as above; documented: 4096 on return either way.
    unsafe { Length.write(INT10_BUFFER_SIZE) };
    if requested > INT10_BUFFER_SIZE {
        return INT10_NO_BUFFER;
    }
    let slot = &device.port.int10.buffer;
    if slot
        .compare_exchange(NO_BUFFER, CLAIMED, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        return INT10_NO_BUFFER;
    }
    let (mut size, mut seg, mut off) = (INT10_BUFFER_SIZE, 0u16, 0u16);
    // SAFETY: three valid locals; PASSIVE_LEVEL (checked).
    let status = unsafe { (bios.allocate_buffer)(&mut size, &mut seg, &mut off) };
    if !status.is_success() {
        slot.store(NO_BUFFER, Ordering::Release);
        return INT10_NO_BUFFER;
    }
    slot.store(held(seg, off), Ordering::Release);
    // SAFETY: non-NULL, valid (contract).
    unsafe {
        Seg.write(seg);
        Off.write(off);
    }
    NO_ERROR
}

/// `Int10FreeBuffer`.
///
/// # Safety
/// None beyond the call itself: every argument is checked.
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn int10_free_buffer(
    Context: PVOID,
    Seg: USHORT,
    Off: USHORT,
) -> VP_STATUS {
    const R: &str = "Int10FreeBuffer";
    let (device, bios) = match service(R, Context) {
        Ok(found) => found,
        Err(status) => return status,
    };
    let slot = &device.port.int10.buffer;
    if slot
        .compare_exchange(held(Seg, Off), CLAIMED, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        objects::unknown(
            R,
            objects::kind::INT10_BUFFER,
            (usize::from(Seg) << 16) | usize::from(Off),
        );
        return ERROR_INVALID_PARAMETER;
    }
    // SAFETY: the block the HAL gave this device; PASSIVE_LEVEL (checked).
    unsafe { (bios.free_buffer)(Seg, Off) };
    slot.store(NO_BUFFER, Ordering::Release);
    NO_ERROR
}

/// Shared body of `Int10ReadMemory` and `Int10WriteMemory`.
///
/// # Safety
/// `buffer` is NULL or valid for `length` bytes of the access.
unsafe fn copy(
    routine: &'static str,
    context: PVOID,
    seg: USHORT,
    off: USHORT,
    buffer: PVOID,
    length: ULONG,
    write: bool,
) -> VP_STATUS {
    let (_, bios) = match service(routine, context) {
        Ok(found) => found,
        Err(status) => return status,
    };
    if length == 0 {
        return NO_ERROR;
    }
    if buffer.is_null() {
        report::null_argument(routine, 4);
        return ERROR_INVALID_PARAMETER;
    }
    let hal = if write {
        bios.write_memory
    } else {
        bios.read_memory
    };
    // SAFETY: `buffer` holds `length` bytes (contract); PASSIVE_LEVEL (checked).
    if unsafe { hal(seg, off, buffer, length) }.is_success() {
        NO_ERROR
    } else {
        ERROR_INVALID_PARAMETER
    }
}

/// `Int10ReadMemory`.
///
/// # Safety
/// `Buffer` is NULL or valid for writes of `Length` bytes.
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn int10_read_memory(
    Context: PVOID,
    Seg: USHORT,
    Off: USHORT,
    Buffer: PVOID,
    Length: ULONG,
) -> VP_STATUS {
    // SAFETY: forwarded contract.
    unsafe { copy("Int10ReadMemory", Context, Seg, Off, Buffer, Length, false) }
}

/// `Int10WriteMemory`.
///
/// # Safety
/// `Buffer` is NULL or valid for reads of `Length` bytes.
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn int10_write_memory(
    Context: PVOID,
    Seg: USHORT,
    Off: USHORT,
    Buffer: PVOID,
    Length: ULONG,
) -> VP_STATUS {
    // SAFETY: forwarded contract.
    unsafe { copy("Int10WriteMemory", Context, Seg, Off, Buffer, Length, true) }
}

/// Runs INT 10h; ERROR_INVALID_PARAMETER if the emulator could not.
fn call(bios: &X86Bios, regs: &mut X86_BIOS_REGISTERS) -> VP_STATUS {
    // SAFETY: a valid register block; PASSIVE_LEVEL (the callers check).
    if unsafe { (bios.call)(0x10, regs) } != FALSE {
        NO_ERROR
    } else {
        ERROR_INVALID_PARAMETER
    }
}

/// `Int10CallBios`.
///
/// # Safety
/// `BiosArguments` is NULL or a valid, writable `INT10_BIOS_ARGUMENTS`.
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn int10_call_bios(
    Context: PVOID,
    BiosArguments: PINT10_BIOS_ARGUMENTS,
) -> VP_STATUS {
    const R: &str = "Int10CallBios";
    let (_, bios) = match service(R, Context) {
        Ok(found) => found,
        Err(status) => return status,
    };
    if BiosArguments.is_null() {
        report::null_argument(R, 2);
        return ERROR_INVALID_PARAMETER;
    }
    // SAFETY: non-NULL, valid (contract).
    let a = unsafe { BiosArguments.read() };
    let mut regs = X86_BIOS_REGISTERS {
        Eax: a.Eax,
        Ecx: a.Ecx,
        Edx: a.Edx,
        Ebx: a.Ebx,
        Ebp: a.Ebp,
        Esi: a.Esi,
        Edi: a.Edi,
        SegDs: a.SegDs,
        SegEs: a.SegEs,
    };
    let status = call(&bios, &mut regs);
    // SAFETY: as above, writable (contract).
    unsafe {
        BiosArguments.write(INT10_BIOS_ARGUMENTS {
            Eax: regs.Eax,
            Ebx: regs.Ebx,
            Ecx: regs.Ecx,
            Edx: regs.Edx,
            Esi: regs.Esi,
            Edi: regs.Edi,
            Ebp: regs.Ebp,
            SegDs: regs.SegDs,
            SegEs: regs.SegEs,
        })
    };
    status
}

/// `VideoPortInt10`.
///
/// # Safety
/// `BiosArguments` is NULL or a valid, writable `VIDEO_X86_BIOS_ARGUMENTS`.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortInt10(
    HwDeviceExtension: PVOID,
    BiosArguments: PVIDEO_X86_BIOS_ARGUMENTS,
) -> VP_STATUS {
    const R: &str = "VideoPortInt10";
    if !require_at_most(R, Irql::PASSIVE) {
        return ERROR_INVALID_PARAMETER;
    }
    if PortDevice::from_hw_extension(R, HwDeviceExtension).is_none() {
        return ERROR_INVALID_PARAMETER;
    }
    if BiosArguments.is_null() {
        report::null_argument(R, 2);
        return ERROR_INVALID_PARAMETER;
    }
    let Some(bios) = system::x86_bios() else {
        return ERROR_INVALID_FUNCTION;
    };
    // SAFETY: non-NULL, valid (contract).
    let a = unsafe { BiosArguments.read() };
    let mut regs = X86_BIOS_REGISTERS {
        Eax: a.Eax,
        Ecx: a.Ecx,
        Edx: a.Edx,
        Ebx: a.Ebx,
        Ebp: a.Ebp,
        Esi: a.Esi,
        Edi: a.Edi,
        SegDs: 0,
        SegEs: 0,
    };
    let status = call(&bios, &mut regs);
    // SAFETY: as above, writable (contract).
    unsafe {
        BiosArguments.write(VIDEO_X86_BIOS_ARGUMENTS {
            Eax: regs.Eax,
            Ebx: regs.Ebx,
            Ecx: regs.Ecx,
            Edx: regs.Edx,
            Esi: regs.Esi,
            Edi: regs.Edi,
            Ebp: regs.Ebp,
        })
    };
    status
}

impl PortDevice {
    /// Stop and removal: gives the HAL back the block this device still holds. PASSIVE_LEVEL.
    pub(crate) fn release_int10_buffer(&self) {
        let slot = &self.port.int10.buffer;
        let value = slot.swap(NO_BUFFER, Ordering::AcqRel);
        if value & HELD == 0 {
            return;
        }
        if let Some(bios) = system::x86_bios() {
            // SAFETY: the block the HAL gave this device, freed once (swapped out above).
            unsafe { (bios.free_buffer)((value >> 16) as USHORT, value as USHORT) };
        }
    }
}
