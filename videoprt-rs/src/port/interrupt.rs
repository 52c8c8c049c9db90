//! Interrupts and deferred work: the ISR trampoline, `VideoPortQueueDpc`,
//! `VideoPortSynchronizeExecution`.
//!
//! C interface (`video.h`):
//! `BOOLEAN VideoPortQueueDpc(PVOID HwDeviceExtension, PMINIPORT_DPC_ROUTINE CallbackRoutine,
//! PVOID Context)`, any IRQL (typically from HwInterrupt);
//! `BOOLEAN VideoPortSynchronizeExecution(PVOID HwDeviceExtension,
//! VIDEO_SYNCHRONIZE_PRIORITY Priority, PMINIPORT_SYNCHRONIZE_ROUTINE SynchronizeRoutine,
//! PVOID Context)`, at or below the device's DIRQL.
//!
//! The interrupt object's service context is the [`PortDevice`]; the trampoline calls
//! HwInterrupt with the miniport's extension at DIRQL. One KDPC per device serves
//! VideoPortQueueDpc: the callback and its context travel in the DPC's system arguments, and
//! queuing while it is already queued returns FALSE (the callback is not queued twice).

use crate::device::PortDevice;
use crate::report::{self, port_code, Misuse};
use core::sync::atomic::Ordering;
use ddk_sys::*;

/// The ISR the port connects: HwInterrupt at DIRQL.
///
/// # Safety
/// Called by the kernel with the context given to IoConnectInterrupt (a live PortDevice).
#[ddk_sys::ntapi]
pub(crate) unsafe extern "ntapi" fn isr_trampoline(
    _interrupt: *mut KINTERRUPT,
    context: PVOID,
) -> BOOLEAN {
    // SAFETY: the context is the device, live while the interrupt is connected.
    let device = unsafe { &*(context as *const PortDevice) };
    match device.port.driver().and_then(|d| d.init.HwInterrupt) {
        // SAFETY: the miniport's ISR with its extension.
        Some(f) => unsafe { f(device.hw_extension()) },
        None => FALSE,
    }
}

/// The KDPC routine: the queued miniport callback at DISPATCH_LEVEL.
///
/// # Safety
/// Called by the kernel for the device's DPC, queued by VideoPortQueueDpc.
#[ddk_sys::ntapi]
pub(crate) unsafe extern "ntapi" fn dpc_trampoline(
    _dpc: *mut KDPC,
    context: PVOID,
    callback: PVOID,
    callback_context: PVOID,
) {
    if callback.is_null() {
        return;
    }
    // SAFETY: the context is the device (set at attach); `callback` is the non-NULL
    // PMINIPORT_DPC_ROUTINE VideoPortQueueDpc stored.
    unsafe {
        let device = &*(context as *const PortDevice);
        let f: unsafe extern "ntapi" fn(PVOID, PVOID) = core::mem::transmute(callback);
        f(device.hw_extension(), callback_context);
    }
}

/// `VideoPortQueueDpc`: TRUE if queued, FALSE if the device's DPC is already queued.
///
/// # Safety
/// Any arguments are accepted.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortQueueDpc(
    HwDeviceExtension: PVOID,
    CallbackRoutine: PMINIPORT_DPC_ROUTINE,
    Context: PVOID,
) -> BOOLEAN {
    const R: &str = "VideoPortQueueDpc";
    let Some(device) = PortDevice::from_hw_extension(R, HwDeviceExtension) else {
        return FALSE;
    };
    let Some(callback) = CallbackRoutine else {
        report::misuse(
            R,
            Misuse::Port {
                code: port_code::NULL_ARGUMENT,
                p2: 2,
                p3: 0,
            },
        );
        return FALSE;
    };
    // SAFETY: the device's DPC, initialised at attach.
    unsafe { KeInsertQueueDpc(device.port.dpc.get(), callback as PVOID, Context) }
}

#[ddk_sys::ntapi]
struct Sync {
    routine: unsafe extern "ntapi" fn(PVOID) -> BOOLEAN,
    context: PVOID,
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn sync_trampoline(context: PVOID) -> BOOLEAN {
    // SAFETY: points at the `Sync` on VideoPortSynchronizeExecution's stack.
    unsafe {
        let s = &*(context as *const Sync);
        (s.routine)(s.context)
    }
}

/// `VideoPortSynchronizeExecution`: runs the routine so that it cannot overlap HwInterrupt.
/// VpLowPriority runs it directly; VpMediumPriority and VpHighPriority run it under the
/// interrupt's lock at its DIRQL (`KeSynchronizeExecution`) when an interrupt is connected,
/// else at DISPATCH_LEVEL (medium) or HIGH_LEVEL (high). Returns the routine's result.
///
/// # Safety
/// Any arguments are accepted.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortSynchronizeExecution(
    HwDeviceExtension: PVOID,
    Priority: VIDEO_SYNCHRONIZE_PRIORITY,
    SynchronizeRoutine: PMINIPORT_SYNCHRONIZE_ROUTINE,
    Context: PVOID,
) -> BOOLEAN {
    const R: &str = "VideoPortSynchronizeExecution";
    let Some(device) = PortDevice::from_hw_extension(R, HwDeviceExtension) else {
        return FALSE;
    };
    let Some(routine) = SynchronizeRoutine else {
        report::misuse(
            R,
            Misuse::Port {
                code: port_code::NULL_ARGUMENT,
                p2: 3,
                p3: 0,
            },
        );
        return FALSE;
    };
    if Priority == VIDEO_SYNCHRONIZE_PRIORITY::VpLowPriority {
        // SAFETY: the miniport's routine and context.
        return unsafe { routine(Context) };
    }
    let interrupt = device.port.interrupt.load(Ordering::Acquire);
    if !interrupt.is_null() {
        let s = Sync {
            routine,
            context: Context,
        };
        // SAFETY: a connected interrupt object; `s` outlives the call.
        return unsafe {
            KeSynchronizeExecution(interrupt, Some(sync_trampoline), &s as *const Sync as PVOID)
        };
    }
    let target = if Priority == VIDEO_SYNCHRONIZE_PRIORITY::VpHighPriority {
        HIGH_LEVEL
    } else {
        DISPATCH_LEVEL
    };
    let current = KeGetCurrentIrql();
    if current >= target {
        // SAFETY: the miniport's routine and context.
        return unsafe { routine(Context) };
    }
    // SAFETY: raising from below `target`, restored right after.
    unsafe {
        let old = KeRaiseIrql(target);
        let r = routine(Context);
        KeLowerIrql(old);
        r
    }
}
