//! `VideoPortGetBusData` and `VideoPortSetBusData`: the device's PCI configuration space.
//!
//! A PnP port reaches config space through the `BUS_INTERFACE_STANDARD` of its PDO's bus
//! driver: queried with IRP_MN_QUERY_INTERFACE at START (before HwFindAdapter, which is where
//! miniports usually read it), kept referenced, and dereferenced when the hardware stops.
//!
//! Only `PCIConfiguration` is served. `SlotNumber` is not used: a PnP device's config space is
//! the one of its own PDO (the slot a legacy miniport would name). The 256-byte PCI header is
//! the limit: an access running past it is cut there, one starting at or beyond it moves
//! nothing. Both return the number of bytes moved; 0 when nothing was (not started, no bus
//! interface, another bus data type, bad arguments). Misuse is reported: an unknown
//! `HwDeviceExtension`, a NULL `Buffer` with a non-zero `Length`, a `BusDataType` outside the
//! `BUS_DATA_TYPE` enumeration, an `Offset` outside config space, a call above DISPATCH_LEVEL.

use crate::device::PortDevice;
use crate::irql::{require_at_most, Irql};
use crate::report::{self, port_code, Misuse};
use ddk_sys::*;

/// Bytes of PCI configuration space (the type-0 header and the device-specific area).
const PCI_CONFIG_BYTES: u32 = 256;

/// Which way an access goes.
#[derive(Clone, Copy)]
enum Access {
    Get,
    Set,
}

/// The checks and the call both exports share.
fn bus_data(
    routine: &'static str,
    access: Access,
    hw_extension: PVOID,
    bus_data_type: BUS_DATA_TYPE,
    buffer: PVOID,
    offset: ULONG,
    length: ULONG,
) -> ULONG {
    if !require_at_most(routine, Irql::DISPATCH) {
        return 0;
    }
    let Some(device) = PortDevice::from_hw_extension(routine, hw_extension) else {
        return 0;
    };
    if bus_data_type.0 < BUS_DATA_TYPE::Cmos.0
        || bus_data_type.0 >= BUS_DATA_TYPE::MaximumBusDataType.0
    {
        report::misuse(
            routine,
            Misuse::Port {
                code: port_code::BAD_ARGUMENT,
                p2: bus_data_type.0 as usize,
                p3: BUS_DATA_TYPE::MaximumBusDataType.0 as usize,
            },
        );
        return 0;
    }
    if bus_data_type != BUS_DATA_TYPE::PCIConfiguration || length == 0 {
        return 0;
    }
    if buffer.is_null() {
        report::null_argument(routine, 4);
        return 0;
    }
    if offset >= PCI_CONFIG_BYTES {
        report::misuse(
            routine,
            Misuse::Port {
                code: port_code::BAD_ARGUMENT,
                p2: offset as usize,
                p3: PCI_CONFIG_BYTES as usize,
            },
        );
        return 0;
    }
    let length = length.min(PCI_CONFIG_BYTES - offset);
    let Some(bus) = *device.port.bus.lock() else {
        return 0;
    };
    let function = match access {
        Access::Get => bus.GetBusData,
        Access::Set => bus.SetBusData,
    };
    match function {
        // SAFETY: the bus driver's routine with its context, referenced until the hardware
        // stops; the miniport's buffer holds `length` bytes (its contract, NULL refused above).
        Some(f) => unsafe { f(bus.Context, PCI_WHICHSPACE_CONFIG, buffer, offset, length) },
        None => 0,
    }
}

/// `VideoPortGetBusData`: reads `Length` bytes of the device's PCI config space at `Offset`
/// into `Buffer`; returns the number of bytes read.
///
/// # Safety
/// `Buffer` is NULL or valid for writes of `Length` bytes.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortGetBusData(
    HwDeviceExtension: PVOID,
    BusDataType: BUS_DATA_TYPE,
    SlotNumber: ULONG,
    Buffer: PVOID,
    Offset: ULONG,
    Length: ULONG,
) -> ULONG {
    let _ = SlotNumber;
    bus_data(
        "VideoPortGetBusData",
        Access::Get,
        HwDeviceExtension,
        BusDataType,
        Buffer,
        Offset,
        Length,
    )
}

/// `VideoPortSetBusData`: writes `Length` bytes from `Buffer` to the device's PCI config
/// space at `Offset`; returns the number of bytes written (read-only registers keep their
/// value, as on the bus).
///
/// # Safety
/// `Buffer` is NULL or valid for reads of `Length` bytes.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortSetBusData(
    HwDeviceExtension: PVOID,
    BusDataType: BUS_DATA_TYPE,
    SlotNumber: ULONG,
    Buffer: PVOID,
    Offset: ULONG,
    Length: ULONG,
) -> ULONG {
    let _ = SlotNumber;
    bus_data(
        "VideoPortSetBusData",
        Access::Set,
        HwDeviceExtension,
        BusDataType,
        Buffer,
        Offset,
        Length,
    )
}

/// `VideoPortGetVgaStatus`: whether the device decodes the legacy VGA I/O addresses (obsolete,
/// kept for old miniports; PASSIVE_LEVEL).
///
/// `VP_STATUS VideoPortGetVgaStatus(PVOID HwDeviceExtension, PULONG VgaStatus)`: for a PCI
/// device, `*VgaStatus` is 1 when its config header says it is VGA-compatible (class 03h,
/// subclass 00h, or the pre-class-code VGA device 00h/01h) and I/O decoding is on (Command
/// bit 0), else 0; NO_ERROR. ERROR_INVALID_FUNCTION for a device with no PCI configuration
/// space (no bus interface: not started, or not PCI).
///
/// # Safety
/// `VgaStatus` is NULL (reported) or valid for a write.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortGetVgaStatus(
    HwDeviceExtension: PVOID,
    VgaStatus: PULONG,
) -> VP_STATUS {
    const ROUTINE: &str = "VideoPortGetVgaStatus";
    if !require_at_most(ROUTINE, Irql::PASSIVE) {
        return ERROR_INVALID_PARAMETER;
    }
    let Some(device) = PortDevice::from_hw_extension(ROUTINE, HwDeviceExtension) else {
        return ERROR_INVALID_PARAMETER;
    };
    if VgaStatus.is_null() {
        report::null_argument(ROUTINE, 2);
        return ERROR_INVALID_PARAMETER;
    }
    let Some(get) = device
        .port
        .bus
        .lock()
        .and_then(|b| b.GetBusData.map(|f| (f, b.Context)))
    else {
        return ERROR_INVALID_FUNCTION;
    };
    let mut header = [0u8; 12];
    // SAFETY: the bus driver's routine with its context; a 12-byte buffer.
    let read = unsafe {
        (get.0)(
            get.1,
            PCI_WHICHSPACE_CONFIG,
            header.as_mut_ptr().cast(),
            0,
            header.len() as ULONG,
        )
    };
    if read as usize != header.len() {
        return ERROR_INVALID_FUNCTION;
    }
    let command = u16::from_le_bytes([header[4], header[5]]);
    let (subclass, base_class) = (header[10], header[11]);
    let vga_class =
        (base_class, subclass) == (0x03, 0x00) || (base_class, subclass) == (0x00, 0x01);
    let decodes = vga_class && command & 1 != 0;
    // SAFETY: valid for a write (contract; NULL refused above).
    unsafe { VgaStatus.write(decodes as ULONG) };
    NO_ERROR
}
