//! `VideoPortStartTimer` and `VideoPortStopTimer`: the miniport's `HwTimer`, about once a
//! second.
//!
//! C interface (`video.h`): `VOID VideoPortStartTimer(PVOID HwDeviceExtension)`,
//! `VOID VideoPortStopTimer(PVOID HwDeviceExtension)`, at or below DISPATCH_LEVEL, over the
//! FDO's I/O timer (`IoInitializeTimer` at AddDevice when the miniport has an `HwTimer`,
//! `IoStartTimer`, `IoStopTimer`). `HwTimer(HwDeviceExtension)` then runs at DISPATCH_LEVEL
//! about once a second, while the device is started: stopping or removing the device stops
//! it. A miniport without `HwTimer` may not call either routine (documented); such a call is
//! reported and does nothing.

use super::state;
use crate::device::PortDevice;
use crate::irql::{require_at_most, Irql};
use crate::report::{self, port_code, Misuse};
use core::sync::atomic::Ordering;
use ddk_sys::*;

/// Gives the FDO its I/O timer if the miniport has an `HwTimer`. PASSIVE_LEVEL, at AddDevice.
///
/// # Safety
/// `fdo` is the device's own, live FDO.
pub(crate) unsafe fn attach(device: &PortDevice, fdo: PDEVICE_OBJECT) {
    if device.port.driver().and_then(|d| d.init.HwTimer).is_none() {
        return;
    }
    // SAFETY: a live FDO; the context is the FDO itself, looked up again at every tick.
    let status = unsafe { IoInitializeTimer(fdo, Some(tick), fdo.cast()) };
    device
        .port
        .timer_ready
        .store(status.is_success(), Ordering::Release);
}

/// The FDO's timer routine: HwTimer, if the device is still one of ours and started.
#[ddk_sys::ntapi]
unsafe extern "ntapi" fn tick(fdo: PDEVICE_OBJECT, _context: PVOID) {
    let Some(device) = PortDevice::from_fdo(fdo) else {
        return;
    };
    if device.port.state() != state::STARTED {
        return;
    }
    if let Some(hw_timer) = device.port.driver().and_then(|d| d.init.HwTimer) {
        // SAFETY: the miniport's callback with its own extension, at DISPATCH_LEVEL as
        // documented.
        unsafe { hw_timer(device.hw_extension()) };
    }
}

/// Stops the timer when the hardware stops (no HwTimer while stopped or removed).
pub(crate) fn stop(device: &PortDevice) {
    if device.port.timer_ready.load(Ordering::Acquire) {
        // SAFETY: the FDO is live until REMOVE deletes it, after this.
        unsafe { IoStopTimer(device.fdo()) };
    }
}

fn timer_call(routine: &'static str, hw_extension: PVOID, start: bool) {
    if !require_at_most(routine, Irql::DISPATCH) {
        return;
    }
    let Some(device) = PortDevice::from_hw_extension(routine, hw_extension) else {
        return;
    };
    if !device.port.timer_ready.load(Ordering::Acquire) {
        // No HwTimer (or no timer could be made for it).
        report::misuse(
            routine,
            Misuse::Port {
                code: port_code::MISSING_CALLBACK,
                p2: 4,
                p3: 0,
            },
        );
        return;
    }
    // SAFETY: the device's live FDO, which has its timer.
    unsafe {
        if start {
            IoStartTimer(device.fdo());
        } else {
            IoStopTimer(device.fdo());
        }
    }
}

/// `VideoPortStartTimer`.
///
/// # Safety
/// `HwDeviceExtension` may be anything (it is validated).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortStartTimer(HwDeviceExtension: PVOID) {
    timer_call("VideoPortStartTimer", HwDeviceExtension, true);
}

/// `VideoPortStopTimer`.
///
/// # Safety
/// `HwDeviceExtension` may be anything (it is validated).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortStopTimer(HwDeviceExtension: PVOID) {
    timer_call("VideoPortStopTimer", HwDeviceExtension, false);
}
