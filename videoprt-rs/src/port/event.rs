//! Events: `VideoPortCreateEvent`, `VideoPortDeleteEvent`, `VideoPortSetEvent`,
//! `VideoPortClearEvent`, `VideoPortReadStateEvent`, `VideoPortWaitForSingleObject`.
//!
//! C interface (`video.h`), over `KEVENT` (`KeInitializeEvent`, `KeSetEvent`, `KeClearEvent`,
//! `KeReadStateEvent`, `KeWaitForSingleObject`):
//! - `VP_STATUS VideoPortCreateEvent(PVOID HwDeviceExtension, ULONG EventFlag, PVOID Unused,
//!   PEVENT *ppEvent)`: `EventFlag` = `NOTIFICATION_EVENT` or `SYNCHRONIZATION_EVENT`, OR-ed with
//!   `INITIAL_EVENT_SIGNALED` or `INITIAL_EVENT_NOT_SIGNALED`; NO_ERROR, ERROR_NOT_ENOUGH_MEMORY,
//!   ERROR_INVALID_PARAMETER. At or below DISPATCH_LEVEL.
//! - `VP_STATUS VideoPortDeleteEvent(PVOID HwDeviceExtension, PEVENT pEvent)`: NO_ERROR or
//!   ERROR_INVALID_PARAMETER. At or below DISPATCH_LEVEL.
//! - `LONG VideoPortSetEvent(...)` (the previous state), `VOID VideoPortClearEvent(...)`,
//!   `LONG VideoPortReadStateEvent(...)` (the current state): at or below DISPATCH_LEVEL.
//! - `VP_STATUS VideoPortWaitForSingleObject(PVOID HwDeviceExtension, PVOID Object,
//!   PLARGE_INTEGER Timeout)`: NO_ERROR when the event satisfied the wait, WAIT_TIMEOUT,
//!   ERROR_INVALID_PARAMETER. PASSIVE_LEVEL, or DISPATCH_LEVEL with a zero timeout.
//!
//! Every `PEVENT` is looked up among its device's events first (see `objects.rs`): an unknown,
//! deleted or foreign event is reported and the call refused. Deleting an event a thread waits
//! on is refused too (ERROR_INVALID_PARAMETER), so the waiter never wakes on freed memory.

use super::objects::{self, kind, EventObject};
use crate::device::PortDevice;
use crate::irql::{require_at_most, Irql};
use crate::report::{self, port_code, Misuse};
use core::ptr::null_mut;
use core::sync::atomic::Ordering::Relaxed;
use ddk_sys::*;

/// The checks every event call shares: IRQL, the device, a NULL event.
fn device_for(
    routine: &'static str,
    max: Irql,
    hw_extension: PVOID,
    event: PVOID,
) -> Option<&'static PortDevice> {
    if !require_at_most(routine, max) {
        return None;
    }
    let device = PortDevice::from_hw_extension(routine, hw_extension)?;
    if event.is_null() {
        report::null_argument(routine, 2);
        return None;
    }
    Some(device)
}

/// Runs `f` on the device's event `event` (under the device's object lock, at DISPATCH_LEVEL),
/// or reports it as unknown.
fn with_event<R>(
    routine: &'static str,
    device: &PortDevice,
    event: PVOID,
    f: impl FnOnce(&EventObject) -> R,
) -> Option<R> {
    let objects = device.port.objects.lock();
    // The lock keeps the record linked (and allocated) while `f` runs.
    if let Some(record) = objects
        .events
        .find(|e| objects::address_of(e) == event as usize)
    {
        return Some(f(record));
    }
    drop(objects);
    objects::unknown(routine, kind::EVENT, event as usize);
    None
}

/// `VideoPortCreateEvent`.
///
/// # Safety
/// `ppEvent` is NULL (reported) or valid for a write.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortCreateEvent(
    HwDeviceExtension: PVOID,
    EventFlag: ULONG,
    _Unused: PVOID,
    ppEvent: *mut PEVENT,
) -> VP_STATUS {
    const ROUTINE: &str = "VideoPortCreateEvent";
    let Some(device) = device_for(ROUTINE, Irql::DISPATCH, HwDeviceExtension, ppEvent.cast())
    else {
        return ERROR_INVALID_PARAMETER;
    };
    // SAFETY: valid for a write (contract, NULL refused above).
    unsafe { ppEvent.write(null_mut()) };
    if EventFlag & !(EVENT_TYPE_MASK | INITIAL_EVENT_STATE_MASK) != 0 {
        report::misuse(
            ROUTINE,
            Misuse::Port {
                code: port_code::BAD_ARGUMENT,
                p2: EventFlag as usize,
                p3: (EVENT_TYPE_MASK | INITIAL_EVENT_STATE_MASK) as usize,
            },
        );
        return ERROR_INVALID_PARAMETER;
    }
    let Ok(record) = crate::pool::alloc(EventObject::new()) else {
        return ERROR_NOT_ENOUGH_MEMORY;
    };
    let event_type = if EventFlag & EVENT_TYPE_MASK == NOTIFICATION_EVENT {
        EVENT_TYPE::NotificationEvent
    } else {
        EVENT_TYPE::SynchronizationEvent
    };
    let signaled = EventFlag & INITIAL_EVENT_STATE_MASK == INITIAL_EVENT_SIGNALED;
    // SAFETY: the record is ours and at its final (pool) address.
    unsafe {
        KeInitializeEvent(
            (*record.as_ptr()).event.get(),
            event_type,
            signaled as BOOLEAN,
        )
    };
    device.port.objects.lock().events.push(record);
    // SAFETY: valid for a write (contract).
    unsafe { ppEvent.write(record.as_ptr().cast()) };
    NO_ERROR
}

/// `VideoPortDeleteEvent`.
///
/// # Safety
/// `pEvent` may be anything (it is looked up among the device's events).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortDeleteEvent(
    HwDeviceExtension: PVOID,
    pEvent: PEVENT,
) -> VP_STATUS {
    const ROUTINE: &str = "VideoPortDeleteEvent";
    let Some(device) = device_for(ROUTINE, Irql::DISPATCH, HwDeviceExtension, pEvent.cast()) else {
        return ERROR_INVALID_PARAMETER;
    };
    let mut objects = device.port.objects.lock();
    let mut in_use = 0;
    let record = objects.events.take(|e| {
        let me = objects::address_of(e) == pEvent as usize;
        let waiters = e.waiters.load(Relaxed);
        if me && waiters > 0 {
            in_use = waiters;
        }
        me && waiters == 0
    });
    drop(objects);
    match record {
        Some(record) => {
            // SAFETY: unlinked above, with no waiter: nobody else can reach it.
            unsafe { crate::pool::free(record) };
            NO_ERROR
        }
        None if in_use > 0 => {
            report::misuse(
                ROUTINE,
                Misuse::Port {
                    code: port_code::EVENT_IN_USE,
                    p2: pEvent as usize,
                    p3: in_use as usize,
                },
            );
            ERROR_INVALID_PARAMETER
        }
        None => {
            objects::unknown(ROUTINE, kind::EVENT, pEvent as usize);
            ERROR_INVALID_PARAMETER
        }
    }
}

/// `VideoPortSetEvent`: the event's previous state.
///
/// # Safety
/// `pEvent` may be anything (it is looked up among the device's events).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortSetEvent(HwDeviceExtension: PVOID, pEvent: PEVENT) -> LONG {
    const ROUTINE: &str = "VideoPortSetEvent";
    let Some(device) = device_for(ROUTINE, Irql::DISPATCH, HwDeviceExtension, pEvent.cast()) else {
        return 0;
    };
    // SAFETY: a live event of this device, at DISPATCH_LEVEL under the lock (Wait = FALSE).
    with_event(ROUTINE, device, pEvent.cast(), |e| unsafe {
        KeSetEvent(e.event.get(), 0, FALSE)
    })
    .unwrap_or(0)
}

/// `VideoPortClearEvent`.
///
/// # Safety
/// `pEvent` may be anything (it is looked up among the device's events).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortClearEvent(HwDeviceExtension: PVOID, pEvent: PEVENT) {
    const ROUTINE: &str = "VideoPortClearEvent";
    let Some(device) = device_for(ROUTINE, Irql::DISPATCH, HwDeviceExtension, pEvent.cast()) else {
        return;
    };
    // SAFETY: a live event of this device.
    with_event(ROUTINE, device, pEvent.cast(), |e| unsafe {
        KeClearEvent(e.event.get())
    });
}

/// `VideoPortReadStateEvent`: the event's current state (non-zero = signalled).
///
/// # Safety
/// `pEvent` may be anything (it is looked up among the device's events).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortReadStateEvent(
    HwDeviceExtension: PVOID,
    pEvent: PEVENT,
) -> LONG {
    const ROUTINE: &str = "VideoPortReadStateEvent";
    let Some(device) = device_for(ROUTINE, Irql::DISPATCH, HwDeviceExtension, pEvent.cast()) else {
        return 0;
    };
    // SAFETY: a live event of this device.
    with_event(ROUTINE, device, pEvent.cast(), |e| unsafe {
        KeReadStateEvent(e.event.get())
    })
    .unwrap_or(0)
}

/// `VideoPortWaitForSingleObject`.
///
/// # Safety
/// `Object` may be anything (it is looked up among the device's events); `Timeout` is NULL or
/// readable.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortWaitForSingleObject(
    HwDeviceExtension: PVOID,
    Object: PVOID,
    Timeout: PLARGE_INTEGER,
) -> VP_STATUS {
    const ROUTINE: &str = "VideoPortWaitForSingleObject";
    // SAFETY: NULL or readable (contract).
    let zero_timeout = !Timeout.is_null() && unsafe { Timeout.read() }.0 == 0;
    let max = if zero_timeout {
        Irql::DISPATCH
    } else {
        Irql::PASSIVE
    };
    let Some(device) = device_for(ROUTINE, max, HwDeviceExtension, Object) else {
        return ERROR_INVALID_PARAMETER;
    };
    // Count ourselves in under the lock, so the event cannot be deleted while we wait.
    let Some(event) = with_event(ROUTINE, device, Object, |e| {
        e.waiters.fetch_add(1, Relaxed);
        e.event.get()
    }) else {
        return ERROR_INVALID_PARAMETER;
    };
    // SAFETY: the event stays linked (and allocated) while `waiters` counts us.
    let status = unsafe { KeWaitForSingleObject(event.cast(), 0, KernelMode, FALSE, Timeout) };
    with_event(ROUTINE, device, Object, |e| e.waiters.fetch_sub(1, Relaxed));
    match status {
        STATUS_SUCCESS => NO_ERROR,
        STATUS_TIMEOUT => WAIT_TIMEOUT,
        _ => ERROR_INVALID_PARAMETER,
    }
}
