//! Hooks for the project's own driver code: what videoprt-rs asks of "the kernel" that no NT
//! routine answers on a host.
//!
//! * `NtsimReportViolation`: the port reports a misuse it detected and refused (on Windows it
//!   goes to the debugger); here it becomes a verifier [`Violation`](crate::Violation), so
//!   tests can assert the code.
//! * `NtsimIsUserAddress`: on x64 Windows the user/kernel split is a fixed address; host
//!   addresses have none, so ntsim answers from its address spaces. Unmapped addresses count
//!   as user space (as a bad pointer below the split would on Windows).
//! * `NtsimMachineSerial`: on Windows a driver's globals belong to one kernel; in a test
//!   process one copy of the driver serves many simulated machines, so what a driver learns
//!   from "the kernel" (its version, its optional routines) is kept per machine, by this
//!   number.

use crate::machine::cpu;
use crate::memory::RegionKind;
use ddk_sys::{BOOLEAN, FALSE, TRUE};
use std::collections::HashSet;
use std::sync::Mutex;

/// Routine names arrive as raw bytes; violations keep `&'static str`, so names are interned.
fn intern(name: String) -> &'static str {
    static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let names = names.get_or_insert_with(HashSet::new);
    if let Some(known) = names.get(name.as_str()) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.into_boxed_str());
    names.insert(leaked);
    leaked
}

/// Records a violation the driver detected (bug check code, P1, P2..P4, routine, message).
///
/// # Safety
/// `routine` and `message` must be valid for reads of their lengths.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn NtsimReportViolation(
    bugcheck: u32,
    code: u32,
    p2: usize,
    p3: usize,
    p4: usize,
    routine: *const u8,
    routine_len: usize,
    message: *const u8,
    message_len: usize,
) {
    // SAFETY: the caller guarantees both ranges are readable.
    let (routine, message) = unsafe {
        (
            String::from_utf8_lossy(std::slice::from_raw_parts(routine, routine_len)).into_owned(),
            String::from_utf8_lossy(std::slice::from_raw_parts(message, message_len)).into_owned(),
        )
    };
    let cpu = cpu();
    let mut st = cpu.lock();
    st.report(
        bugcheck,
        code,
        [p2 as u64, p3 as u64, p4 as u64],
        intern(routine),
        message,
    );
}

/// TRUE unless `va` lies in kernel memory (pool, contiguous, common or bounce buffers).
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn NtsimIsUserAddress(va: usize) -> BOOLEAN {
    let cpu = cpu();
    let st = cpu.lock();
    if st.pci.mapping_at(va).is_some() {
        // MmMapIoSpace views are system space.
        return FALSE;
    }
    match st.mem.region_at(va) {
        Some((_, region)) if !matches!(region.kind, RegionKind::User(_)) => FALSE,
        _ => TRUE,
    }
}

/// A number that identifies the calling thread's machine for the life of the process (never
/// reused, unlike an address).
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn NtsimMachineSerial() -> u64 {
    cpu().shared.serial
}
