//! `VideoPortQueryServices`: the interfaces the port implements for a miniport.
//!
//! Semantics (Microsoft's page "VideoPortQueryServices function"): PASSIVE_LEVEL; `Interface`
//! points at the structure of the requested service, cast to `INTERFACE`, with `Size` and
//! `Version` set by the caller; on NO_ERROR the port has filled it and taken one reference,
//! which the miniport drops with `InterfaceDereference`.
//!
//! | service | answer |
//! |---|---|
//! | `VideoPortServicesInt10` | `VIDEO_PORT_INT10_INTERFACE` version 1 (`Size` at least 72 bytes; otherwise ERROR_INVALID_PARAMETER), over the HAL's x86 BIOS emulator ([`super::int10`]); ERROR_INVALID_FUNCTION on a kernel without it (NT 5.2) |
//! | `VideoPortServicesAGP` | ERROR_INVALID_FUNCTION: not provided. AGP needs the AGP bus driver's `AGP_BUS_INTERFACE_STANDARD` (reserve/commit of aperture pages, GART programming), which no PCI Express system has and ntsim does not model |
//! | `VideoPortServicesI2C` | ERROR_INVALID_FUNCTION: not provided. It is a bit-banged I2C engine over the miniport's own clock/data line callbacks; it belongs with `VideoPortDDCMonitorHelper` (the child-device work), which would share the engine |
//! | `VideoPortServicesHeadless`, `VideoPortServicesDebugReport`, `VideoPortServicesWCMemoryProtection` | ERROR_INVALID_FUNCTION: not provided (headless terminal, Vista live dumps, protected write-combined memory: none applies to an XDDM miniport on this port) |
//! | any other value | ERROR_INVALID_PARAMETER |
//!
//! Misuse is reported and refused: a raised IRQL, an unknown `HwDeviceExtension`, a NULL
//! `Interface`.

use super::int10;
use crate::device::PortDevice;
use crate::irql::{require_at_most, Irql};
use crate::report;
use crate::system;
use core::mem::size_of;
use ddk_sys::*;

/// `VideoPortQueryServices`.
///
/// # Safety
/// `Interface` is NULL or points to a writable structure of at least the `Size` it states.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortQueryServices(
    HwDeviceExtension: PVOID,
    ServicesType: VIDEO_PORT_SERVICES,
    Interface: *mut INTERFACE,
) -> VP_STATUS {
    const R: &str = "VideoPortQueryServices";
    if !require_at_most(R, Irql::PASSIVE) {
        return ERROR_INVALID_PARAMETER;
    }
    let Some(device) = PortDevice::from_hw_extension(R, HwDeviceExtension) else {
        return ERROR_INVALID_PARAMETER;
    };
    if Interface.is_null() {
        report::null_argument(R, 3);
        return ERROR_INVALID_PARAMETER;
    }
    match ServicesType {
        VIDEO_PORT_SERVICES::VideoPortServicesInt10 => {
            // SAFETY: non-NULL; the header is readable (contract).
            let (size, version) = unsafe { ((*Interface).Size, (*Interface).Version) };
            if usize::from(size) < size_of::<VIDEO_PORT_INT10_INTERFACE>()
                || version != VIDEO_PORT_INT10_INTERFACE_VERSION_1
            {
                return ERROR_INVALID_PARAMETER;
            }
            if system::x86_bios().is_none() {
                return ERROR_INVALID_FUNCTION;
            }
            // SAFETY: the caller says (Size) it is a VIDEO_PORT_INT10_INTERFACE, writable.
            unsafe {
                Interface
                    .cast::<VIDEO_PORT_INT10_INTERFACE>()
                    .write(VIDEO_PORT_INT10_INTERFACE {
                        Size: size,
                        Version: version,
                        Context: HwDeviceExtension,
                        InterfaceReference: Some(int10::int10_reference),
                        InterfaceDereference: Some(int10::int10_dereference),
                        Int10AllocateBuffer: Some(int10::int10_allocate_buffer),
                        Int10FreeBuffer: Some(int10::int10_free_buffer),
                        Int10ReadMemory: Some(int10::int10_read_memory),
                        Int10WriteMemory: Some(int10::int10_write_memory),
                        Int10CallBios: Some(int10::int10_call_bios),
                    })
            };
            device.port.int10.reference();
            NO_ERROR
        }
        VIDEO_PORT_SERVICES::VideoPortServicesAGP
        | VIDEO_PORT_SERVICES::VideoPortServicesI2C
        | VIDEO_PORT_SERVICES::VideoPortServicesHeadless
        | VIDEO_PORT_SERVICES::VideoPortServicesDebugReport
        | VIDEO_PORT_SERVICES::VideoPortServicesWCMemoryProtection => ERROR_INVALID_FUNCTION,
        _ => ERROR_INVALID_PARAMETER,
    }
}
