//! `KeSynchronizeExecution`: runs the routine at device IRQL.
//!
//! For an interrupt object made by `IoConnectInterrupt` (see [`crate::io::interrupt`]) the
//! routine runs at the object's SynchronizeIrql holding its lock, which is what excludes it
//! from the interrupt service routine. Any other pointer is accepted as before: the routine
//! runs at `DIRQL_MIN` on the calling processor.

use crate::machine::cpu;
use ddk_sys::*;

/// `KeSynchronizeExecution`.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn KeSynchronizeExecution(
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
    if let Some(result) =
        crate::io::interrupt::synchronize(&cpu, _Interrupt, routine, SynchronizeContext)
    {
        return result;
    }
    let old = cpu.irql();
    cpu.set_irql(old.max(DIRQL_MIN));
    // SAFETY: the driver's routine and context, called as KeSynchronizeExecution would.
    let result = unsafe { routine(SynchronizeContext) };
    cpu.set_irql(old);
    result
}
