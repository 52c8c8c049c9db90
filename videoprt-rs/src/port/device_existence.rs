//! `VideoPortCheckForDeviceExistence`: whether a PCI device with given IDs is in the machine.
//!
//! C interface (`video.h`): `BOOLEAN VideoPortCheckForDeviceExistence(PVOID HwDeviceExtension,
//! USHORT VendorId, USHORT DeviceId, UCHAR RevisionId, USHORT SubVendorId, USHORT SubSystemId,
//! ULONG Flags)`, PASSIVE_LEVEL. Vendor and device ID always match; `CDE_USE_REVISION` adds the
//! revision ID, `CDE_USE_SUBSYSTEM_IDS` the subsystem vendor and subsystem IDs. Old Windows
//! exported it as `VideoPortCheckForDeviceExistance` too (misspelt); both names are exported.
//!
//! Miniports ask it about devices other than their own (a companion chip, a second head), so
//! the answer cannot come from the PDO's bus interface: the port scans every PCI bus, device
//! and function with the HAL's `HalGetBusDataByOffset`, looked up at run time (see
//! [`crate::system`]); on a kernel without it the answer is FALSE. The scan stops at the first
//! bus the HAL reports as absent (0 bytes read).

use crate::device::PortDevice;
use crate::irql::{require_at_most, Irql};
use crate::report::{self, port_code, Misuse};
use ddk_sys::*;

/// The highest PCI bus number.
const MAX_BUS: ULONG = 255;
/// Devices per bus and functions per device.
const DEVICES: ULONG = 32;
const FUNCTIONS: ULONG = 8;
/// Config space offsets.
const REVISION_ID: usize = 0x08;
const HEADER_TYPE: usize = 0x0E;
const SUBSYSTEM_VENDOR_ID: usize = 0x2C;
const SUBSYSTEM_ID: usize = 0x2E;
/// Header type bit 7: the device has functions beyond 0.
const MULTI_FUNCTION: u8 = 0x80;
/// The vendor ID an empty slot reads as.
const NO_DEVICE: u16 = 0xFFFF;

/// What the caller looks for.
struct Wanted {
    vendor: u16,
    device: u16,
    revision: Option<u8>,
    subsystem: Option<(u16, u16)>,
}

impl Wanted {
    fn matches(&self, header: &[u8; 0x30]) -> bool {
        let word = |at: usize| u16::from_le_bytes([header[at], header[at + 1]]);
        word(0) == self.vendor
            && word(2) == self.device
            && self.revision.is_none_or(|r| header[REVISION_ID] == r)
            && self
                .subsystem
                .is_none_or(|(v, s)| word(SUBSYSTEM_VENDOR_ID) == v && word(SUBSYSTEM_ID) == s)
    }
}

/// `PCI_SLOT_NUMBER.u.AsULONG`: device number in bits 0..5, function in bits 5..8.
fn slot(device: ULONG, function: ULONG) -> ULONG {
    device | function << 5
}

fn check(routine: &'static str, hw_extension: PVOID, wanted: Wanted, flags: ULONG) -> BOOLEAN {
    if !require_at_most(routine, Irql::PASSIVE) {
        return FALSE;
    }
    if PortDevice::from_hw_extension(routine, hw_extension).is_none() {
        return FALSE;
    }
    let known = CDE_USE_SUBSYSTEM_IDS | CDE_USE_REVISION;
    if flags & !known != 0 {
        report::misuse(
            routine,
            Misuse::Port {
                code: port_code::BAD_ARGUMENT,
                p2: flags as usize,
                p3: known as usize,
            },
        );
        return FALSE;
    }
    let Some(read) = crate::system::hal_get_bus_data_by_offset() else {
        return FALSE;
    };
    let mut header = [0u8; 0x30];
    for bus in 0..=MAX_BUS {
        for device in 0..DEVICES {
            for function in 0..FUNCTIONS {
                header.fill(0xFF);
                // SAFETY: the HAL's routine; a buffer of `header.len()` writable bytes.
                let got = unsafe {
                    read(
                        BUS_DATA_TYPE::PCIConfiguration,
                        bus,
                        slot(device, function),
                        header.as_mut_ptr().cast(),
                        0,
                        header.len() as ULONG,
                    )
                };
                if got == 0 {
                    // No such bus: the buses are numbered without gaps.
                    return FALSE;
                }
                if u16::from_le_bytes([header[0], header[1]]) == NO_DEVICE {
                    if function == 0 {
                        break;
                    }
                    continue;
                }
                if got as usize == header.len() && wanted.matches(&header) {
                    return TRUE;
                }
                if function == 0 && header[HEADER_TYPE] & MULTI_FUNCTION == 0 {
                    break;
                }
            }
        }
    }
    FALSE
}

fn wanted(
    vendor: USHORT,
    device: USHORT,
    revision: UCHAR,
    sub_vendor: USHORT,
    subsystem: USHORT,
    flags: ULONG,
) -> Wanted {
    Wanted {
        vendor,
        device,
        revision: (flags & CDE_USE_REVISION != 0).then_some(revision),
        subsystem: (flags & CDE_USE_SUBSYSTEM_IDS != 0).then_some((sub_vendor, subsystem)),
    }
}

/// `VideoPortCheckForDeviceExistence`.
///
/// # Safety
/// Callable with any arguments.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortCheckForDeviceExistence(
    HwDeviceExtension: PVOID,
    VendorId: USHORT,
    DeviceId: USHORT,
    RevisionId: UCHAR,
    SubVendorId: USHORT,
    SubSystemId: USHORT,
    Flags: ULONG,
) -> BOOLEAN {
    check(
        "VideoPortCheckForDeviceExistence",
        HwDeviceExtension,
        wanted(
            VendorId,
            DeviceId,
            RevisionId,
            SubVendorId,
            SubSystemId,
            Flags,
        ),
        Flags,
    )
}

/// `VideoPortCheckForDeviceExistance`: the misspelt name older miniports import; the same
/// routine.
///
/// # Safety
/// Callable with any arguments.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortCheckForDeviceExistance(
    HwDeviceExtension: PVOID,
    VendorId: USHORT,
    DeviceId: USHORT,
    RevisionId: UCHAR,
    SubVendorId: USHORT,
    SubSystemId: USHORT,
    Flags: ULONG,
) -> BOOLEAN {
    check(
        "VideoPortCheckForDeviceExistance",
        HwDeviceExtension,
        wanted(
            VendorId,
            DeviceId,
            RevisionId,
            SubVendorId,
            SubSystemId,
            Flags,
        ),
        Flags,
    )
}
