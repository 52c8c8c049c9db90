//! The device's ROM: `VideoPortGetRomImage` copies it, `VideoPortScanRom` searches it.
//!
//! C interface (`video.h`): `PVOID VideoPortGetRomImage(PVOID HwDeviceExtension, PVOID Unused1,
//! ULONG Unused2, ULONG Length)`, PASSIVE_LEVEL: a port-owned buffer holding the first `Length`
//! bytes of the PCI expansion ROM, read through the bus driver (`GetBusData` with
//! `PCI_WHICHSPACE_ROM`), never through the legacy C0000h window. One buffer per device: each
//! call frees the previous one before returning a new one, `Length` 0 frees it and returns
//! NULL, and the port frees it when the hardware stops. NULL when the pool is exhausted, the
//! device has no bus interface or no ROM, or the ROM is shorter than `Length`.
//!
//! `BOOLEAN VideoPortScanRom(PVOID HwDeviceExtension, PUCHAR RomBase,
//! ULONG RomLength, PUCHAR String)`, PASSIVE_LEVEL; obsolete since Windows XP, kept for old
//! miniports. `RomBase` must lie in a range VideoPortGetDeviceBase mapped (with its
//! `RomLength` bytes): anything else is reported and FALSE returned, never read. The ROM is
//! device memory, so it is read as registers, a byte at a time; `String` is a NUL-terminated
//! byte string in the miniport's memory (an empty string is found at once).

use crate::device::PortDevice;
use crate::irql::{require_at_most, Irql};
use crate::pool::TAG;
use crate::report::{self, port_code, Misuse};
use core::ptr::null_mut;
use core::sync::atomic::Ordering;
use ddk_sys::*;

/// Frees the device's ROM image buffer, if there is one.
pub(crate) fn free_rom_image(device: &PortDevice) {
    let old = device.port.rom_image.swap(null_mut(), Ordering::AcqRel);
    if !old.is_null() {
        // SAFETY: allocated by VideoPortGetRomImage with the port's tag; swapped out, so
        // freed once.
        unsafe { ExFreePoolWithTag(old, TAG) };
    }
}

/// `VideoPortGetRomImage`.
///
/// # Safety
/// Callable with any arguments; `Unused1` and `Unused2` are ignored, as documented.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortGetRomImage(
    HwDeviceExtension: PVOID,
    Unused1: PVOID,
    Unused2: ULONG,
    Length: ULONG,
) -> PVOID {
    const ROUTINE: &str = "VideoPortGetRomImage";
    let _ = (Unused1, Unused2);
    if !require_at_most(ROUTINE, Irql::PASSIVE) {
        return null_mut();
    }
    let Some(device) = PortDevice::from_hw_extension(ROUTINE, HwDeviceExtension) else {
        return null_mut();
    };
    free_rom_image(device);
    if Length == 0 {
        return null_mut();
    }
    let Some((get, context)) = device
        .port
        .bus
        .lock()
        .and_then(|b| b.GetBusData.map(|f| (f, b.Context)))
    else {
        return null_mut();
    };
    let buffer = crate::system::allocate_nonpaged_zeroed(Length as usize, TAG);
    if buffer.is_null() {
        return null_mut();
    }
    // SAFETY: the bus driver's routine with its context; `buffer` holds `Length` bytes.
    let read = unsafe { get(context, PCI_WHICHSPACE_ROM, buffer, 0, Length) };
    if read != Length {
        // SAFETY: allocated above with the port's tag, never published.
        unsafe { ExFreePoolWithTag(buffer, TAG) };
        return null_mut();
    }
    let old = device.port.rom_image.swap(buffer, Ordering::AcqRel);
    if !old.is_null() {
        // A concurrent call published its buffer meanwhile; this call's result replaces it,
        // as a later call would have.
        // SAFETY: allocated by VideoPortGetRomImage with the port's tag; swapped out.
        unsafe { ExFreePoolWithTag(old, TAG) };
    }
    buffer
}

/// `VideoPortScanRom`: a case-sensitive search for a string in mapped device ROM.
///
/// # Safety
/// `String` is NULL (reported) or NUL-terminated; `RomBase` may be anything (it is checked
/// against the device's mappings).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortScanRom(
    HwDeviceExtension: PVOID,
    RomBase: PUCHAR,
    RomLength: ULONG,
    String: PUCHAR,
) -> BOOLEAN {
    const ROUTINE: &str = "VideoPortScanRom";
    if !require_at_most(ROUTINE, Irql::PASSIVE) {
        return FALSE;
    }
    let Some(device) = PortDevice::from_hw_extension(ROUTINE, HwDeviceExtension) else {
        return FALSE;
    };
    if String.is_null() {
        report::null_argument(ROUTINE, 4);
        return FALSE;
    }
    let rom = RomBase as usize;
    let length = RomLength as usize;
    if !device.port.mappings.lock().covers(rom, length) {
        report::misuse(
            ROUTINE,
            Misuse::Port {
                code: port_code::UNKNOWN_MAPPING,
                p2: rom,
                p3: length,
            },
        );
        return FALSE;
    }
    // The needle, at most as long as the ROM (a longer one cannot match).
    let mut needle_len = 0;
    // SAFETY: NUL-terminated (contract); read only up to the terminator or RomLength + 1.
    while needle_len <= length && unsafe { String.add(needle_len).read() } != 0 {
        needle_len += 1;
    }
    if needle_len > length {
        return FALSE;
    }
    // SAFETY: every address read lies in the mapped ROM range (checked above).
    let byte = |at: usize| unsafe { super::registers::read_register((rom + at) as *const u8) };
    for start in 0..=(length - needle_len) {
        // SAFETY: `i < needle_len`, inside the string measured above.
        if (0..needle_len).all(|i| byte(start + i) == unsafe { String.add(i).read() }) {
            return TRUE;
        }
    }
    FALSE
}
