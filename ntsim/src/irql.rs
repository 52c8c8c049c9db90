//! IRQL of the simulated processors: the hooks behind `ddk_sys::KeGetCurrentIrql`,
//! `KeRaiseIrql` and `KeLowerIrql` (inline CR8 accesses on x64 Windows).
//!
//! Each entered host thread is one processor with its own IRQL. A raise to a lower level is
//! reported as IRQL_NOT_GREATER_OR_EQUAL, a lower to a higher level as IRQL_NOT_LESS_OR_EQUAL;
//! in both cases the IRQL is left unchanged.

use crate::machine::cpu;
use crate::verifier::bugcheck;
use ddk_sys::{HIGH_LEVEL, KIRQL};

/// `KeGetCurrentIrql` on the calling processor.
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn NtsimGetCurrentIrql() -> KIRQL {
    cpu().irql()
}

/// `KeRaiseIrql`: returns the previous IRQL.
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn NtsimRaiseIrql(new_irql: KIRQL) -> KIRQL {
    let cpu = cpu();
    let old = cpu.irql();
    if new_irql < old || new_irql > HIGH_LEVEL {
        let msg = format!("KeRaiseIrql from {old} to {new_irql}");
        cpu.lock().report(
            bugcheck::IRQL_NOT_GREATER_OR_EQUAL,
            old as u32,
            [new_irql as u64, 0, 0],
            "KeRaiseIrql",
            msg,
        );
        return old;
    }
    cpu.set_irql(new_irql);
    old
}

/// `KeLowerIrql`.
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn NtsimLowerIrql(new_irql: KIRQL) {
    let cpu = cpu();
    let old = cpu.irql();
    if new_irql > old {
        let msg = format!("KeLowerIrql from {old} to {new_irql}");
        cpu.lock().report(
            bugcheck::IRQL_NOT_LESS_OR_EQUAL,
            old as u32,
            [new_irql as u64, 0, 0],
            "KeLowerIrql",
            msg,
        );
        return;
    }
    cpu.set_irql(new_irql);
}
