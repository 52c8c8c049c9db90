//! The system error log: `IoAllocateErrorLogEntry`, `IoWriteErrorLogEntry`.
//!
//! An entry is allocated zeroed for a device or driver object, filled by the driver and
//! written: the log keeps a copy (see [`Machine::error_log`](crate::Machine::error_log)) and the
//! entry is freed. Both routines at or below DISPATCH_LEVEL. An entry allocated and never
//! written is a leak; writing something that is not an outstanding entry is reported.

use crate::machine::cpu;
use crate::verifier::{bugcheck, ntsim_code};
use ddk_sys::*;
use std::alloc::Layout;

/// A written error-log entry, as the event log would show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorLogEntry {
    /// The device or driver object it was allocated for.
    pub io_object: usize,
    pub major_function: u8,
    pub error_code: NTSTATUS,
    pub unique_error_value: u32,
    pub final_status: NTSTATUS,
    pub io_control_code: u32,
    /// `DumpDataSize` bytes of dump data.
    pub dump_data: Vec<u8>,
}

/// An allocated, not yet written entry.
pub(crate) struct Outstanding {
    pub io_object: usize,
    pub layout: Layout,
}

fn report(routine: &'static str, p2: usize, message: String) {
    cpu().lock().report(
        bugcheck::NTSIM_CHECK,
        ntsim_code::IO_MISUSE,
        [p2 as u64, 0, 0],
        routine,
        message,
    );
}

fn irql_ok(routine: &'static str) -> bool {
    let irql = cpu().irql();
    if irql <= DISPATCH_LEVEL {
        return true;
    }
    cpu().lock().report(
        bugcheck::IRQL_NOT_LESS_OR_EQUAL,
        u32::from(irql),
        [u64::from(DISPATCH_LEVEL), 0, 0],
        routine,
        format!("{routine} at IRQL {irql} (maximum DISPATCH_LEVEL)"),
    );
    false
}

/// `IoAllocateErrorLogEntry`: a zeroed entry of `EntrySize` bytes (at least the packet
/// header), or NULL for a bad object or size (reported) or at a raised IRQL.
///
/// # Safety
/// `IoObject` must be a device or driver object.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn IoAllocateErrorLogEntry(IoObject: PVOID, EntrySize: UCHAR) -> PVOID {
    const R: &str = "IoAllocateErrorLogEntry";
    if !irql_ok(R) {
        return core::ptr::null_mut();
    }
    let object = IoObject as usize;
    let known = {
        let cpu = cpu();
        let st = cpu.lock();
        st.io.devices.contains_key(&object) || st.io.drivers.contains_key(&object)
    };
    if !known {
        report(
            R,
            object,
            format!("{object:#x} is not a device or driver object"),
        );
        return core::ptr::null_mut();
    }
    let size = usize::from(EntrySize);
    if size < size_of::<IO_ERROR_LOG_PACKET>() {
        report(
            R,
            size,
            format!(
                "EntrySize {size} is smaller than IO_ERROR_LOG_PACKET ({})",
                size_of::<IO_ERROR_LOG_PACKET>()
            ),
        );
        return core::ptr::null_mut();
    }
    let Ok(layout) = Layout::from_size_align(size, 8) else {
        return core::ptr::null_mut();
    };
    // SAFETY: a non-zero size.
    let entry = unsafe { std::alloc::alloc_zeroed(layout) };
    if entry.is_null() {
        return core::ptr::null_mut();
    }
    cpu().lock().io.error_log_outstanding.insert(
        entry as usize,
        Outstanding {
            io_object: object,
            layout,
        },
    );
    entry.cast()
}

/// `IoWriteErrorLogEntry`: logs the entry and frees it.
///
/// # Safety
/// `ElEntry` must come from `IoAllocateErrorLogEntry` (anything else is reported).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn IoWriteErrorLogEntry(ElEntry: PVOID) {
    const R: &str = "IoWriteErrorLogEntry";
    if !irql_ok(R) {
        return;
    }
    let Some(outstanding) = cpu()
        .lock()
        .io
        .error_log_outstanding
        .remove(&(ElEntry as usize))
    else {
        report(
            R,
            ElEntry as usize,
            format!(
                "{:#x} is not an error-log entry from IoAllocateErrorLogEntry (or was written already)",
                ElEntry as usize
            ),
        );
        return;
    };
    let packet = ElEntry.cast::<IO_ERROR_LOG_PACKET>();
    // SAFETY: an outstanding entry of `layout.size()` bytes, at least the packet header.
    let entry = unsafe {
        let p = &*packet;
        let room = outstanding.layout.size() - core::mem::offset_of!(IO_ERROR_LOG_PACKET, DumpData);
        let dump = usize::from(p.DumpDataSize).min(room);
        ErrorLogEntry {
            io_object: outstanding.io_object,
            major_function: p.MajorFunctionCode,
            error_code: p.ErrorCode,
            unique_error_value: p.UniqueErrorValue,
            final_status: p.FinalStatus,
            io_control_code: p.IoControlCode,
            dump_data: std::slice::from_raw_parts(
                core::ptr::addr_of!((*packet).DumpData).cast::<u8>(),
                dump,
            )
            .to_vec(),
        }
    };
    cpu().lock().io.error_log.push(entry);
    // SAFETY: allocated with this layout by IoAllocateErrorLogEntry; no longer outstanding.
    unsafe { std::alloc::dealloc(ElEntry.cast(), outstanding.layout) };
}

impl crate::Machine {
    /// Every error-log entry written so far, oldest first.
    pub fn error_log(&self) -> Vec<ErrorLogEntry> {
        self.lock().io.error_log.clone()
    }
}
