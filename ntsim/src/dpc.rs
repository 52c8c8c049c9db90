//! Deferred procedure calls: `KeInitializeDpc`, `KeInsertQueueDpc`, `KeRemoveQueueDpc`.
//!
//! Queued DPCs run from [`crate::Machine::run_until_idle`], FIFO, at DISPATCH_LEVEL on the
//! thread that calls it. A KDPC's `DpcData` is non-NULL exactly while it is queued (as on
//! Windows, where it points at the processor's DPC data); ntsim also keeps the queue itself.

use crate::machine::{cpu, Cpu};
use crate::verifier::bugcheck;
use ddk_sys::*;

/// `DpcObject` in `KOBJECTS`.
const DPC_OBJECT: u8 = 19;

/// `KeInitializeDpc`.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn KeInitializeDpc(
    Dpc: *mut KDPC,
    DeferredRoutine: PKDEFERRED_ROUTINE,
    DeferredContext: PVOID,
) {
    // SAFETY: `Dpc` points to writable, non-queued KDPC storage (routine contract).
    unsafe {
        Dpc.write(KDPC {
            Type: DPC_OBJECT,
            Importance: 1,
            Number: 0,
            DpcListEntry: LIST_ENTRY {
                Flink: core::ptr::null_mut(),
                Blink: core::ptr::null_mut(),
            },
            DeferredRoutine,
            DeferredContext,
            SystemArgument1: core::ptr::null_mut(),
            SystemArgument2: core::ptr::null_mut(),
            DpcData: core::ptr::null_mut(),
        })
    };
}

/// `KeInsertQueueDpc`: FALSE if the DPC is already queued.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn KeInsertQueueDpc(
    Dpc: *mut KDPC,
    SystemArgument1: PVOID,
    SystemArgument2: PVOID,
) -> BOOLEAN {
    let cpu = cpu();
    let mut st = cpu.lock();
    if st.dpcs.contains(&(Dpc as usize)) {
        return FALSE;
    }
    // SAFETY: `Dpc` was initialised by KeInitializeDpc (contract); the machine lock serialises
    // queue state changes.
    unsafe {
        (*Dpc).SystemArgument1 = SystemArgument1;
        (*Dpc).SystemArgument2 = SystemArgument2;
        (*Dpc).DpcData = Dpc.cast();
    }
    st.dpcs.push_back(Dpc as usize);
    TRUE
}

/// `KeRemoveQueueDpc`: TRUE if the DPC was queued.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn KeRemoveQueueDpc(Dpc: *mut KDPC) -> BOOLEAN {
    let cpu = cpu();
    let mut st = cpu.lock();
    let Some(pos) = st.dpcs.iter().position(|&d| d == Dpc as usize) else {
        return FALSE;
    };
    st.dpcs.remove(pos);
    // SAFETY: the DPC was queued, so it is a valid KDPC.
    unsafe { (*Dpc).DpcData = core::ptr::null_mut() };
    TRUE
}

/// Runs the first queued DPC at DISPATCH_LEVEL; false if none was queued.
pub(crate) fn run_one(cpu: &Cpu) -> bool {
    let (dpc, routine, ctx, a1, a2) = {
        let mut st = cpu.lock();
        let Some(dpc) = st.dpcs.pop_front() else {
            return false;
        };
        let dpc = dpc as *mut KDPC;
        // SAFETY: a queued KDPC stays valid until it runs (driver contract); dequeued under lock.
        unsafe {
            (*dpc).DpcData = core::ptr::null_mut();
            (
                dpc,
                (*dpc).DeferredRoutine,
                (*dpc).DeferredContext,
                (*dpc).SystemArgument1,
                (*dpc).SystemArgument2,
            )
        }
    };
    let Some(routine) = routine else { return true };
    let old = cpu.irql();
    cpu.set_irql(DISPATCH_LEVEL);
    // SAFETY: the driver supplied this routine for this DPC; it runs at DISPATCH_LEVEL without
    // the machine lock, as a DPC would.
    unsafe { routine(dpc, ctx, a1, a2) };
    let after = cpu.irql();
    if after != DISPATCH_LEVEL {
        let msg = format!(
            "DPC routine {:#x} returned at IRQL {after}",
            routine as usize
        );
        let params = [after as u64, DISPATCH_LEVEL as u64, dpc as u64];
        cpu.lock().report(
            bugcheck::IRQL_UNEXPECTED_VALUE,
            routine as usize as u32,
            params,
            "KiRetireDpcList",
            msg,
        );
    }
    cpu.set_irql(old);
    true
}
