//! `KeBugCheckEx`.
//!
//! A bug check stops the machine. It cannot panic: Rust aborts any unwind out of an
//! `extern "ntapi"` function (and its callers are compiled assuming none). So ntsim records
//! it, prints the bug check and the violations recorded so far, and **aborts the process**.
//! Test a deliberate bug check in a child process.

use crate::machine::cpu;
use crate::verifier::describe;
use ddk_sys::{ULONG, ULONG_PTR};

/// `KeBugCheckEx`: prints and aborts the process.
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn KeBugCheckEx(
    BugCheckCode: ULONG,
    BugCheckParameter1: ULONG_PTR,
    BugCheckParameter2: ULONG_PTR,
    BugCheckParameter3: ULONG_PTR,
    BugCheckParameter4: ULONG_PTR,
) -> ! {
    eprintln!(
        "ntsim: KeBugCheckEx({BugCheckCode:#x} {}, {BugCheckParameter1:#x}, {BugCheckParameter2:#x}, \
         {BugCheckParameter3:#x}, {BugCheckParameter4:#x}): the machine stops",
        describe(BugCheckCode, BugCheckParameter1 as u32)
    );
    let cpu = cpu();
    for v in cpu.lock().violations.iter() {
        eprintln!("ntsim: earlier violation: {v}");
    }
    std::process::abort()
}

// ---------------------------------------------------------------------------------------------
// Bug check reason callbacks.
// ---------------------------------------------------------------------------------------------

use crate::machine::{Machine, State};
use crate::verifier::{bugcheck, ntsim_code, LeakKind, LeakReport};
use crate::version::OsVersion;
use ddk_sys::{
    BOOLEAN, FALSE, GUID, HIGH_LEVEL, KBUGCHECK_CALLBACK_REASON, KBUGCHECK_REASON_CALLBACK_RECORD,
    KBUGCHECK_SECONDARY_DUMP_DATA, KBUGCHECK_SECONDARY_DUMP_DATA_EX,
    KB_ADD_PAGES_FLAG_ADDITIONAL_RANGES_EXIST, PKBUGCHECK_REASON_CALLBACK_RECORD,
    PKBUGCHECK_REASON_CALLBACK_ROUTINE, PUCHAR, PVOID, TRUE,
};

/// One registered reason callback.
#[derive(Clone)]
pub(crate) struct ReasonRecord {
    record: usize,
    routine: PKBUGCHECK_REASON_CALLBACK_ROUTINE,
    reason: KBUGCHECK_CALLBACK_REASON,
    component: String,
}

/// The reason callbacks registered on a machine, in registration order.
#[derive(Default)]
pub(crate) struct BugCheckCallbacks {
    records: Vec<ReasonRecord>,
}

/// `KBUGCHECK_REASON_CALLBACK_RECORD.State` of a registered record (any non-zero value).
const STATE_REGISTERED: u8 = 1;

/// Size of the system buffer a secondary-dump callback gets (`InBuffer`), and the most any
/// callback may add (`MaximumAllowed`).
pub const SECONDARY_DUMP_BUFFER: u32 = 4096;

/// Parts one multi-part callback may add before ntsim stops asking.
const MAX_PARTS: usize = 16;

fn known_reason(reason: KBUGCHECK_CALLBACK_REASON, os: OsVersion) -> bool {
    match reason {
        KBUGCHECK_CALLBACK_REASON::KbCallbackSecondaryDumpData
        | KBUGCHECK_CALLBACK_REASON::KbCallbackDumpIo
        | KBUGCHECK_CALLBACK_REASON::KbCallbackAddPages => true,
        // Windows Server 2008 (NT 6.0) and later.
        KBUGCHECK_CALLBACK_REASON::KbCallbackSecondaryMultiPartDumpData => {
            os >= OsVersion::new(6, 0, 6001)
        }
        _ => false,
    }
}

/// `KeRegisterBugCheckReasonCallback`: any IRQL. FALSE for a record that is already
/// registered, a NULL record or routine, or a reason this Windows does not know
/// (`KbCallbackSecondaryMultiPartDumpData` before NT 6.0). Only the secondary-dump reasons are
/// ever called back (see [`Machine::bugcheck_secondary_dump`]).
///
/// # Safety
/// `CallbackRecord` is NULL or a writable record that stays valid until deregistered;
/// `Component` is NULL or a NUL-terminated string.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn KeRegisterBugCheckReasonCallback(
    CallbackRecord: PKBUGCHECK_REASON_CALLBACK_RECORD,
    CallbackRoutine: PKBUGCHECK_REASON_CALLBACK_ROUTINE,
    Reason: KBUGCHECK_CALLBACK_REASON,
    Component: PUCHAR,
) -> BOOLEAN {
    let cpu = cpu();
    let mut st = cpu.lock();
    if CallbackRecord.is_null() || CallbackRoutine.is_none() {
        return FALSE;
    }
    if !known_reason(Reason, st.config.os) {
        return FALSE;
    }
    let record = CallbackRecord as usize;
    if st.bugcheck.records.iter().any(|r| r.record == record) {
        return FALSE;
    }
    let component = if Component.is_null() {
        String::new()
    } else {
        // SAFETY: a NUL-terminated string (contract).
        unsafe { core::ffi::CStr::from_ptr(Component.cast()) }
            .to_string_lossy()
            .into_owned()
    };
    // SAFETY: a writable record (contract).
    unsafe {
        let r = &mut *CallbackRecord;
        r.CallbackRoutine = CallbackRoutine;
        r.Component = Component;
        r.Reason = Reason;
        r.State = STATE_REGISTERED;
        r.Checksum = record ^ CallbackRoutine.map_or(0, |f| f as usize);
    }
    st.bugcheck.records.push(ReasonRecord {
        record,
        routine: CallbackRoutine,
        reason: Reason,
        component,
    });
    TRUE
}

/// `KeDeregisterBugCheckReasonCallback`: any IRQL. FALSE if the record is not registered.
///
/// # Safety
/// `CallbackRecord` is NULL or a record passed to `KeRegisterBugCheckReasonCallback`.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn KeDeregisterBugCheckReasonCallback(
    CallbackRecord: PKBUGCHECK_REASON_CALLBACK_RECORD,
) -> BOOLEAN {
    let cpu = cpu();
    let mut st = cpu.lock();
    let record = CallbackRecord as usize;
    let Some(i) = st.bugcheck.records.iter().position(|r| r.record == record) else {
        return FALSE;
    };
    st.bugcheck.records.remove(i);
    // SAFETY: a registered record is valid until deregistered (contract).
    unsafe { (*CallbackRecord).State = 0 };
    TRUE
}

/// Called when memory `[start, start + len)` is freed (a device object): records registered
/// inside it would be called after the memory is gone. Reported and dropped.
pub(crate) fn memory_freed(st: &mut State, routine: &'static str, start: usize, len: usize) {
    let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut st.bugcheck.records)
        .into_iter()
        .partition(|r| r.record >= start && r.record < start + len);
    st.bugcheck.records = kept;
    for r in gone {
        st.report(
            bugcheck::NTSIM_CHECK,
            ntsim_code::IO_MISUSE,
            [r.record as u64, 0, 0],
            routine,
            format!(
                "bug check callback record {:#x} ({}) freed while registered \
                 (KeDeregisterBugCheckReasonCallback first)",
                r.record, r.component
            ),
        );
    }
}

pub(crate) fn leaks(st: &State, report: &mut LeakReport) {
    for r in &st.bugcheck.records {
        report.push(
            LeakKind::BugCheckCallback,
            format!(
                "bug check reason callback record {:#x} ({}, reason {}) never deregistered",
                r.record, r.component, r.reason.0
            ),
        );
    }
}

impl Machine {
    /// Runs every registered secondary-dump callback as a bug check `code` would, at
    /// HIGH_LEVEL, and returns what each added to the dump: (GUID, data), one entry per part.
    /// The machine keeps running (no process abort).
    ///
    /// `KbCallbackSecondaryDumpData`: called once with `OutBuffer` NULL (the size query), then
    /// again with the structure as the callback left it; the data is `OutBufferLength` bytes
    /// (at most `MaximumAllowed`) at `OutBuffer`. `KbCallbackSecondaryMultiPartDumpData`: the
    /// structure carries `BugCheckCode` (parameters 0); called again while the callback sets
    /// `KB_ADD_PAGES_FLAG_ADDITIONAL_RANGES_EXIST`, each call one part.
    pub fn bugcheck_secondary_dump(&self, code: u32) -> Vec<(GUID, Vec<u8>)> {
        assert!(self.is_current(), "enter the machine before a bug check");
        let cpu = cpu();
        let records = cpu.lock().bugcheck.records.clone();
        let old = cpu.irql();
        cpu.set_irql(HIGH_LEVEL);
        let mut out = Vec::new();
        for r in records {
            let Some(routine) = r.routine else { continue };
            let mut in_buffer = vec![0u8; SECONDARY_DUMP_BUFFER as usize];
            let record = r.record as *mut KBUGCHECK_REASON_CALLBACK_RECORD;
            match r.reason {
                KBUGCHECK_CALLBACK_REASON::KbCallbackSecondaryDumpData => {
                    let mut data = KBUGCHECK_SECONDARY_DUMP_DATA {
                        InBuffer: in_buffer.as_mut_ptr().cast(),
                        InBufferLength: SECONDARY_DUMP_BUFFER,
                        MaximumAllowed: SECONDARY_DUMP_BUFFER,
                        Guid: GUID_NULL,
                        OutBuffer: core::ptr::null_mut(),
                        OutBufferLength: 0,
                    };
                    let size = core::mem::size_of_val(&data) as u32;
                    // SAFETY: a registered routine with its record and a valid structure.
                    unsafe { routine(r.reason, record, &mut data as *mut _ as PVOID, size) };
                    if data.OutBuffer.is_null() || data.OutBufferLength == 0 {
                        continue;
                    }
                    // SAFETY: as above; the second call asks for the data itself.
                    unsafe { routine(r.reason, record, &mut data as *mut _ as PVOID, size) };
                    if let Some(bytes) = collect(data.OutBuffer, data.OutBufferLength) {
                        out.push((data.Guid, bytes));
                    }
                }
                KBUGCHECK_CALLBACK_REASON::KbCallbackSecondaryMultiPartDumpData => {
                    // SAFETY: all-zero is a valid structure (NULL pointers, zero numbers).
                    let mut data: KBUGCHECK_SECONDARY_DUMP_DATA_EX = unsafe { core::mem::zeroed() };
                    for _ in 0..MAX_PARTS {
                        data.InBuffer = in_buffer.as_mut_ptr().cast();
                        data.InBufferLength = SECONDARY_DUMP_BUFFER;
                        data.MaximumAllowed = SECONDARY_DUMP_BUFFER;
                        data.OutBuffer = core::ptr::null_mut();
                        data.OutBufferLength = 0;
                        data.Flags = 0;
                        data.BugCheckCode = code;
                        let size = core::mem::size_of_val(&data) as u32;
                        // SAFETY: a registered routine with its record and a valid structure.
                        unsafe { routine(r.reason, record, &mut data as *mut _ as PVOID, size) };
                        if let Some(bytes) = collect(data.OutBuffer, data.OutBufferLength) {
                            out.push((data.Guid, bytes));
                        }
                        if data.Flags & KB_ADD_PAGES_FLAG_ADDITIONAL_RANGES_EXIST == 0 {
                            break;
                        }
                    }
                }
                _ => {}
            }
        }
        cpu.set_irql(old);
        out
    }

    /// The component names of the registered bug check reason callbacks.
    pub fn bugcheck_callbacks(&self) -> Vec<String> {
        self.lock()
            .bugcheck
            .records
            .iter()
            .map(|r| r.component.clone())
            .collect()
    }
}

const GUID_NULL: GUID = GUID {
    Data1: 0,
    Data2: 0,
    Data3: 0,
    Data4: [0; 8],
};

/// `len` bytes (at most [`SECONDARY_DUMP_BUFFER`]) at `at`, or `None` for no data.
fn collect(at: PVOID, len: u32) -> Option<Vec<u8>> {
    if at.is_null() || len == 0 {
        return None;
    }
    let len = len.min(SECONDARY_DUMP_BUFFER) as usize;
    // SAFETY: the callback said `len` bytes at `at` are its dump data (non-paged, readable).
    Some(unsafe { std::slice::from_raw_parts(at.cast::<u8>(), len) }.to_vec())
}
