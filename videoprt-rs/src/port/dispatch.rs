//! IRP_MJ_CREATE, IRP_MJ_CLEANUP, IRP_MJ_CLOSE and IRP_MJ_DEVICE_CONTROL.
//!
//! A device control becomes a `VIDEO_REQUEST_PACKET` for HwStartIO, called at PASSIVE_LEVEL,
//! one at a time per device:
//! * METHOD_BUFFERED: input and output are the same system buffer;
//! * METHOD_IN_DIRECT / METHOD_OUT_DIRECT: input is the system buffer, output the system
//!   mapping of the IRP's MDL (its byte count is the output length);
//! * METHOD_NEITHER: refused with STATUS_INVALID_PARAMETER for user-mode requests (the
//!   miniport would get unprobed user pointers); kernel-mode requests get the raw buffers.
//!
//! A zero-length buffer is passed as NULL with length 0. The IRP completes with
//! `vp_to_ntstatus(StatusBlock.Status)` and `StatusBlock.Information`; an `Information` larger
//! than the output buffer is reported and clamped, so the I/O manager never copies past it.
//! A device that is not started completes creates and IOCTLs with STATUS_DEVICE_NOT_READY.

use super::pnp::complete;
use super::state;
use crate::device::PortDevice;
use crate::report::{self, port_code, Misuse};
use core::ptr::null_mut;
use ddk_sys::*;

/// IRP_MJ_CREATE, IRP_MJ_CLEANUP, IRP_MJ_CLOSE.
///
/// # Safety
/// Called by the I/O manager.
#[ddk_sys::ntapi]
pub(crate) unsafe extern "ntapi" fn dispatch_create_close(
    fdo: *mut DEVICE_OBJECT,
    irp: *mut IRP,
) -> NTSTATUS {
    let status = match PortDevice::from_fdo(fdo) {
        None => STATUS_NO_SUCH_DEVICE,
        Some(d) => {
            // SAFETY: a live IRP with our location current.
            let major = unsafe { (*IoGetCurrentIrpStackLocation(irp)).MajorFunction };
            if major == IRP_MJ_CREATE && d.port.state() != state::STARTED {
                STATUS_DEVICE_NOT_READY
            } else {
                if major == IRP_MJ_CLEANUP {
                    // The process is closing its last handle: its mappings go with it.
                    d.unmap_process("IRP_MJ_CLEANUP");
                }
                STATUS_SUCCESS
            }
        }
    };
    // SAFETY: we own the IRP.
    unsafe { complete(irp, status, 0) }
}

/// `MmGetSystemAddressForMdlSafe` (a `wdm.h` macro).
///
/// # Safety
/// `mdl` is a locked MDL.
unsafe fn system_address(mdl: *mut MDL) -> PVOID {
    // SAFETY: a locked MDL (contract).
    unsafe {
        if (*mdl).MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL) != 0 {
            return (*mdl).MappedSystemVa;
        }
        MmMapLockedPagesSpecifyCache(
            mdl,
            KernelMode,
            MEMORY_CACHING_TYPE::MmCached,
            null_mut(),
            0,
            MM_PAGE_PRIORITY(
                MM_PAGE_PRIORITY::NormalPagePriority.0 | crate::system::mdl_mapping_no_execute(),
            ),
        )
    }
}

/// IRP_MJ_DEVICE_CONTROL.
///
/// # Safety
/// Called by the I/O manager.
#[ddk_sys::ntapi]
pub(crate) unsafe extern "ntapi" fn dispatch_device_control(
    fdo: *mut DEVICE_OBJECT,
    irp: *mut IRP,
) -> NTSTATUS {
    const R: &str = "IRP_MJ_DEVICE_CONTROL";
    let Some(device) = PortDevice::from_fdo(fdo) else {
        // SAFETY: we own the IRP.
        return unsafe { complete(irp, STATUS_NO_SUCH_DEVICE, 0) };
    };
    let Some(start_io) = device.port.driver().and_then(|d| d.init.HwStartIO) else {
        // SAFETY: we own the IRP.
        return unsafe { complete(irp, STATUS_INVALID_DEVICE_REQUEST, 0) };
    };
    if device.port.state() != state::STARTED {
        // SAFETY: we own the IRP.
        return unsafe { complete(irp, STATUS_DEVICE_NOT_READY, 0) };
    }
    // SAFETY: a live IRP with our location current; we own it until completion.
    unsafe {
        let stack = IoGetCurrentIrpStackLocation(irp);
        let p = (*stack).Parameters.DeviceIoControl;
        let code = p.IoControlCode.0;
        let (mut in_len, mut out_len) = (p.InputBufferLength.0, p.OutputBufferLength.0);
        let (input, output): (PVOID, PVOID) = match METHOD_FROM_CTL_CODE(code) {
            METHOD_BUFFERED => ((*irp).SystemBuffer, (*irp).SystemBuffer),
            METHOD_NEITHER => {
                if (*irp).RequestorMode != KernelMode {
                    return complete(irp, STATUS_INVALID_PARAMETER, 0);
                }
                (p.Type3InputBuffer, (*irp).UserBuffer)
            }
            _ => {
                let mdl = (*irp).MdlAddress;
                let out = if mdl.is_null() {
                    out_len = 0;
                    null_mut()
                } else {
                    out_len = MmGetMdlByteCount(mdl);
                    let va = system_address(mdl);
                    if va.is_null() {
                        return complete(irp, STATUS_INSUFFICIENT_RESOURCES, 0);
                    }
                    va
                };
                ((*irp).SystemBuffer, out)
            }
        };
        if input.is_null() {
            in_len = 0;
        }
        if output.is_null() {
            out_len = 0;
        }
        let mut status_block = STATUS_BLOCK {
            Status: NO_ERROR,
            Information: 0,
        };
        let mut vrp = VIDEO_REQUEST_PACKET {
            IoControlCode: code,
            StatusBlock: &mut status_block,
            InputBuffer: if in_len == 0 { null_mut() } else { input },
            InputBufferLength: in_len,
            OutputBuffer: if out_len == 0 { null_mut() } else { output },
            OutputBufferLength: out_len,
        };
        let lock = device.port.start_io.get();
        KeWaitForSingleObject(lock.cast(), 0, KernelMode, FALSE, null_mut());
        start_io(device.hw_extension(), &mut vrp);
        KeSetEvent(lock, 0, FALSE);
        let mut information = status_block.Information;
        // On success Information counts bytes returned through the output buffer, so it cannot
        // exceed it. On failure nothing is copied back, and miniports commonly report the size
        // they needed there (ERROR_INSUFFICIENT_BUFFER), which is passed on as it is.
        if status_block.Status == NO_ERROR && information > out_len as usize {
            report::misuse(
                R,
                Misuse::Port {
                    code: port_code::INFORMATION_TOO_LARGE,
                    p2: information,
                    p3: out_len as usize,
                },
            );
            information = out_len as usize;
        }
        let status = super::vp_to_ntstatus(status_block.Status);
        (*irp).IoStatus.Status = status;
        (*irp).IoStatus.Information = information;
        IoCompleteRequest(irp, IO_VIDEO_INCREMENT);
        status
    }
}
