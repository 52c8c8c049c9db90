//! `VideoPortLogError`: a hardware error into the system error log.
//!
//! C interface (`video.h`): `VOID VideoPortLogError(PVOID HwDeviceExtension,
//! PVIDEO_REQUEST_PACKET Vrp, VP_STATUS ErrorCode, ULONG UniqueId)`, at or below DIRQL (so
//! from HwInterrupt too). Over `IoAllocateErrorLogEntry` / `IoWriteErrorLogEntry` on the FDO,
//! which run at or below DISPATCH_LEVEL: a call above it is queued (up to
//! [`PENDING`] entries; more are dropped and counted) and written from the port's log DPC.
//!
//! The entry, as the event log shows it: `ErrorCode` IO_ERR_CONTROLLER_ERROR (the miniport's
//! code is its own, not a message id), `UniqueErrorValue` = `UniqueId`, `FinalStatus` = the
//! miniport's VP_STATUS as the port maps it to an NTSTATUS, `MajorFunctionCode` and
//! `IoControlCode` from the VRP when one is given (IRP_MJ_DEVICE_CONTROL), and one ULONG of dump
//! data: the miniport's `ErrorCode` as it passed it.

use crate::device::PortDevice;
use crate::irql::Irql;
use crate::report::{self, port_code, Misuse};
use ddk_sys::*;

/// Entries queued from above DISPATCH_LEVEL at most, per device, until the DPC writes them.
pub(crate) const PENDING: usize = 8;

/// One error waiting for the DPC.
#[derive(Clone, Copy)]
pub(crate) struct Pending {
    error_code: VP_STATUS,
    unique_id: ULONG,
    io_control_code: ULONG,
    has_vrp: bool,
}

/// The errors queued from above DISPATCH_LEVEL.
pub(crate) struct PendingLog {
    entries: [Option<Pending>; PENDING],
    /// Entries that found the queue full.
    pub dropped: u32,
}

impl PendingLog {
    pub(crate) const fn new() -> Self {
        PendingLog {
            entries: [None; PENDING],
            dropped: 0,
        }
    }
}

/// Writes one entry. At or below DISPATCH_LEVEL.
fn write(device: &PortDevice, e: Pending) {
    let size = size_of::<IO_ERROR_LOG_PACKET>() as UCHAR;
    // SAFETY: the device's live FDO; a size the packet fits in.
    let entry =
        unsafe { IoAllocateErrorLogEntry(device.fdo().cast(), size) }.cast::<IO_ERROR_LOG_PACKET>();
    if entry.is_null() {
        return;
    }
    // SAFETY: a fresh, zeroed entry of `size` bytes, written once and handed to the log.
    unsafe {
        let p = &mut *entry;
        p.MajorFunctionCode = if e.has_vrp { IRP_MJ_DEVICE_CONTROL } else { 0 };
        p.ErrorCode = IO_ERR_CONTROLLER_ERROR;
        p.UniqueErrorValue = e.unique_id;
        p.FinalStatus = super::vp_to_ntstatus(e.error_code);
        p.IoControlCode = e.io_control_code;
        p.DumpDataSize = size_of::<ULONG>() as USHORT;
        p.DumpData[0] = e.error_code.0 as ULONG;
        IoWriteErrorLogEntry(entry.cast());
    }
}

/// The log DPC: writes what was queued from above DISPATCH_LEVEL.
///
/// # Safety
/// Called by the kernel with the DPC initialised for `context`, a live PortDevice.
#[ddk_sys::ntapi]
pub(crate) unsafe extern "ntapi" fn log_dpc(
    _dpc: *mut KDPC,
    context: PVOID,
    _a1: PVOID,
    _a2: PVOID,
) {
    // SAFETY: the context is the device the DPC belongs to (contract); removal flushes DPCs
    // before the device goes away.
    let device = unsafe { &*context.cast::<PortDevice>() };
    loop {
        let next = device
            .port
            .log
            .lock()
            .entries
            .iter_mut()
            .find_map(|slot| slot.take());
        match next {
            Some(entry) => write(device, entry),
            None => break,
        }
    }
}

/// `VideoPortLogError`.
///
/// # Safety
/// `Vrp` is NULL or a readable VIDEO_REQUEST_PACKET.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortLogError(
    HwDeviceExtension: PVOID,
    Vrp: PVIDEO_REQUEST_PACKET,
    ErrorCode: VP_STATUS,
    UniqueId: ULONG,
) {
    const ROUTINE: &str = "VideoPortLogError";
    let Some(device) = PortDevice::from_hw_extension(ROUTINE, HwDeviceExtension) else {
        return;
    };
    if device.fdo().is_null() {
        report::misuse(
            ROUTINE,
            Misuse::Port {
                code: port_code::UNKNOWN_DEVICE_OBJECT,
                p2: 0,
                p3: 0,
            },
        );
        return;
    }
    let io_control_code = if Vrp.is_null() {
        0
    } else {
        // SAFETY: a readable VRP (contract).
        unsafe { (*Vrp).IoControlCode }
    };
    let entry = Pending {
        error_code: ErrorCode,
        unique_id: UniqueId,
        io_control_code,
        has_vrp: !Vrp.is_null(),
    };
    if Irql::current() <= Irql::DISPATCH {
        write(device, entry);
        return;
    }
    {
        let mut log = device.port.log.lock();
        match log.entries.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some(entry),
            None => {
                log.dropped = log.dropped.saturating_add(1);
                return;
            }
        }
    }
    // SAFETY: the device's log DPC, initialised at attach; queuing is allowed at any IRQL.
    unsafe {
        KeInsertQueueDpc(
            device.port.log_dpc.get(),
            core::ptr::null_mut(),
            core::ptr::null_mut(),
        )
    };
}
