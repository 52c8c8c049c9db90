//! `VideoPortScanRom`: a case-sensitive search for a string in the device's ROM.
//!
//! C interface (`video.h`): `BOOLEAN VideoPortScanRom(PVOID HwDeviceExtension, PUCHAR RomBase,
//! ULONG RomLength, PUCHAR String)`, PASSIVE_LEVEL; obsolete since Windows XP, kept for old
//! miniports. `RomBase` must lie in a range VideoPortGetDeviceBase mapped (with its
//! `RomLength` bytes): anything else is reported and FALSE returned, never read. The ROM is
//! device memory, so it is read as registers, a byte at a time; `String` is a NUL-terminated
//! byte string in the miniport's memory (an empty string is found at once).

use crate::device::PortDevice;
use crate::irql::{require_at_most, Irql};
use crate::report::{self, port_code, Misuse};
use ddk_sys::*;

/// `VideoPortScanRom`.
///
/// # Safety
/// `String` is NULL (reported) or NUL-terminated; `RomBase` may be anything (it is checked
/// against the device's mappings).
#[no_mangle]
pub unsafe extern "win64" fn VideoPortScanRom(
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
