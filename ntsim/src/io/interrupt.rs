//! Interrupt objects: `IoConnectInterrupt`, `IoDisconnectInterrupt`, delivery of device
//! interrupts from [`crate::Machine::run_until_idle`], the `KeSynchronizeExecution` path for
//! connected objects, and `KeFlushQueuedDpcs`.
//!
//! Model: a PCI device model asserts its level-triggered line
//! ([`crate::pci::DeviceContext::raise_interrupt`]). While the line is asserted and an
//! interrupt object is connected to its vector, `run_until_idle` runs the ISR at the object's
//! DIRQL holding the object's lock, again and again (level-triggered), until the line is
//! lowered or every ISR on the vector returns FALSE (the line is then masked until the device
//! lowers it). 1,000 claimed runs with the line still up is an interrupt storm: reported and
//! masked. An ISR only preempts code running below its DIRQL.

use crate::machine::{cpu, Cpu};
use crate::verifier::{bugcheck, ntsim_code};
use ddk_sys::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The simulated `KINTERRUPT`.
#[ddk_sys::ntapi]
pub(crate) struct InterruptObject {
    pub vector: u32,
    pub irql: KIRQL,
    pub sync_irql: KIRQL,
    pub routine: unsafe extern "ntapi" fn(*mut KINTERRUPT, PVOID) -> BOOLEAN,
    pub context: usize,
    /// The interrupt spin lock: 0 when free, else the owning processor's token.
    pub lock: std::sync::Arc<AtomicUsize>,
}

const STORM_LIMIT: u32 = 1000;

/// `IoConnectInterrupt`. The vector must belong to a device on the simulated PCI bus.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn IoConnectInterrupt(
    InterruptObject: *mut *mut KINTERRUPT,
    ServiceRoutine: PKSERVICE_ROUTINE,
    ServiceContext: PVOID,
    _SpinLock: *mut KSPIN_LOCK,
    Vector: ULONG,
    Irql: KIRQL,
    SynchronizeIrql: KIRQL,
    _InterruptMode: KINTERRUPT_MODE,
    _ShareVector: BOOLEAN,
    _ProcessorEnableMask: KAFFINITY,
    _FloatingSave: BOOLEAN,
) -> NTSTATUS {
    let cpu = cpu();
    let Some(routine) = ServiceRoutine else {
        return STATUS_INVALID_PARAMETER;
    };
    if InterruptObject.is_null()
        || Irql < DIRQL_MIN
        || SynchronizeIrql < Irql
        || SynchronizeIrql > HIGH_LEVEL
    {
        return STATUS_INVALID_PARAMETER;
    }
    if cpu.irql() != PASSIVE_LEVEL {
        let irql = cpu.irql();
        cpu.lock().report(
            bugcheck::IRQL_NOT_LESS_OR_EQUAL,
            irql as u32,
            [PASSIVE_LEVEL as u64, 0, 0],
            "IoConnectInterrupt",
            format!("IoConnectInterrupt at IRQL {irql}"),
        );
        return STATUS_INVALID_DEVICE_STATE;
    }
    let mut st = cpu.lock();
    if !st.pci.vector_exists(Vector) {
        return STATUS_INVALID_PARAMETER;
    }
    let object = Box::new(0u64);
    let address = Box::into_raw(object) as usize;
    st.io.interrupts.insert(
        address,
        InterruptObject {
            vector: Vector,
            irql: Irql,
            sync_irql: SynchronizeIrql,
            routine,
            context: ServiceContext as usize,
            lock: std::sync::Arc::new(AtomicUsize::new(0)),
        },
    );
    // SAFETY: out pointer valid by contract.
    unsafe { *InterruptObject = address as *mut KINTERRUPT };
    STATUS_SUCCESS
}

/// `IoDisconnectInterrupt`.
///
/// # Safety
/// `InterruptObject` must come from `IoConnectInterrupt` and not be used afterwards.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn IoDisconnectInterrupt(InterruptObject: *mut KINTERRUPT) {
    let cpu = cpu();
    let mut st = cpu.lock();
    if st
        .io
        .interrupts
        .remove(&(InterruptObject as usize))
        .is_none()
    {
        st.report(
            bugcheck::NTSIM_CHECK,
            ntsim_code::IO_MISUSE,
            [InterruptObject as u64, 0, 0],
            "IoDisconnectInterrupt",
            format!(
                "{:#x} is not a connected interrupt object",
                InterruptObject as usize
            ),
        );
        return;
    }
    drop(st);
    // SAFETY: allocated in IoConnectInterrupt, now unknown to ntsim.
    drop(unsafe { Box::from_raw(InterruptObject.cast::<u64>()) });
}

/// `KeFlushQueuedDpcs`: runs every queued DPC on the calling processor.
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn KeFlushQueuedDpcs() {
    let cpu = cpu();
    while crate::dpc::run_one(&cpu) {}
}

fn acquire(cpu: &Cpu, lock: &AtomicUsize, object: usize, routine: &'static str) -> bool {
    loop {
        match lock.compare_exchange_weak(0, cpu.token, Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => return true,
            Err(owner) if owner == cpu.token => {
                cpu.lock().report(
                    bugcheck::SPIN_LOCK_ALREADY_OWNED,
                    0,
                    [object as u64, 0, 0],
                    routine,
                    format!(
                        "interrupt spin lock of {object:#x} acquired again by its owner (this would deadlock)"
                    ),
                );
                return false;
            }
            Err(_) => std::thread::yield_now(),
        }
    }
}

/// `KeSynchronizeExecution` on a connected interrupt object: `None` if `interrupt` is not one.
#[ddk_sys::ntapi]
pub(crate) fn synchronize(
    cpu: &Cpu,
    interrupt: *mut KINTERRUPT,
    routine: unsafe extern "ntapi" fn(PVOID) -> BOOLEAN,
    context: PVOID,
) -> Option<BOOLEAN> {
    let (sync_irql, lock) = {
        let st = cpu.lock();
        let object = st.io.interrupts.get(&(interrupt as usize))?;
        (object.sync_irql, object.lock.clone())
    };
    let old = cpu.irql();
    if old > sync_irql {
        cpu.lock().report(
            bugcheck::IRQL_NOT_LESS_OR_EQUAL,
            old as u32,
            [sync_irql as u64, interrupt as u64, 0],
            "KeSynchronizeExecution",
            format!("KeSynchronizeExecution at IRQL {old}, above the interrupt's {sync_irql}"),
        );
        return Some(FALSE);
    }
    cpu.set_irql(sync_irql);
    if !acquire(cpu, &lock, interrupt as usize, "KeSynchronizeExecution") {
        cpu.set_irql(old);
        return Some(FALSE);
    }
    // SAFETY: the driver's routine and context, at SynchronizeIrql under the interrupt lock.
    let result = unsafe { routine(context) };
    lock.store(0, Ordering::Release);
    cpu.set_irql(old);
    Some(result)
}

/// Runs the ISRs of one asserted, unmasked line whose DIRQL is above the current IRQL.
/// False if there was none.
pub(crate) fn service_one(cpu: &Cpu) -> bool {
    let current = cpu.irql();
    let (device, isrs) = {
        let st = cpu.lock();
        let mut found = None;
        for (index, vector) in st.pci.asserted_lines() {
            let mut isrs: Vec<_> = st
                .io
                .interrupts
                .iter()
                .filter(|(_, o)| o.vector == vector && o.irql > current)
                .map(|(a, o)| (*a, o.irql, o.routine, o.context, o.lock.clone()))
                .collect();
            if !isrs.is_empty() {
                isrs.sort_by_key(|i| i.0);
                found = Some((index, isrs));
                break;
            }
        }
        match found {
            Some(f) => f,
            None => return false,
        }
    };
    let mut claimed = false;
    for (object, irql, routine, context, lock) in isrs {
        cpu.set_irql(irql);
        if !acquire(cpu, &lock, object, "KiInterruptDispatch") {
            cpu.set_irql(current);
            continue;
        }
        // SAFETY: the driver's ISR and context, at DIRQL under the interrupt lock.
        let result = unsafe { routine(object as *mut KINTERRUPT, context as PVOID) };
        lock.store(0, Ordering::Release);
        let after = cpu.irql();
        if after != irql {
            cpu.lock().report(
                bugcheck::IRQL_UNEXPECTED_VALUE,
                after as u32,
                [irql as u64, object as u64, 0],
                "KiInterruptDispatch",
                format!("ISR of interrupt {object:#x} returned at IRQL {after}, not {irql}"),
            );
        }
        cpu.set_irql(current);
        if result != FALSE {
            claimed = true;
            break;
        }
    }
    let mut st = cpu.lock();
    let storm = st.pci.after_isr(device, claimed, STORM_LIMIT);
    if let Some(vector) = storm {
        st.report(
            bugcheck::NTSIM_CHECK,
            ntsim_code::INTERRUPT_STORM,
            [vector as u64, 0, 0],
            "KiInterruptDispatch",
            format!(
                "vector {vector:#x} stayed asserted through {STORM_LIMIT} claimed ISR runs; masked"
            ),
        );
    }
    true
}
