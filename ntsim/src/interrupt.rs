//! `KeSynchronizeExecution`: runs the routine at device IRQL.
//!
//! Interrupt objects are not simulated yet; any `KINTERRUPT` pointer is accepted and the
//! routine runs at `DIRQL_MIN` on the calling processor, which is what excludes it from an
//! interrupt service routine on a one-processor machine.

use crate::machine::cpu;
use ddk_sys::*;

/// `KeSynchronizeExecution`.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
pub unsafe extern "system" fn KeSynchronizeExecution(
    _Interrupt: *mut KINTERRUPT,
    SynchronizeRoutine: PKSYNCHRONIZE_ROUTINE,
    SynchronizeContext: PVOID,
) -> BOOLEAN {
    let cpu = cpu();
    let Some(routine) = SynchronizeRoutine else {
        cpu.lock()
            .not_implemented("KeSynchronizeExecution(NULL routine)");
        return FALSE;
    };
    let old = cpu.irql();
    cpu.set_irql(old.max(DIRQL_MIN));
    // SAFETY: the driver's routine and context, called as KeSynchronizeExecution would.
    let result = unsafe { routine(SynchronizeContext) };
    cpu.set_irql(old);
    result
}
