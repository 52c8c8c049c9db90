//! `VideoPortAcquireDeviceLock` and `VideoPortReleaseDeviceLock`: the lock the port holds
//! around every `HwStartIO` call.
//!
//! C interface (`video.h`): `VOID VideoPortAcquireDeviceLock(PVOID HwDeviceExtension)`,
//! `VOID VideoPortReleaseDeviceLock(PVOID HwDeviceExtension)`, PASSIVE_LEVEL. A miniport takes
//! it to keep its own threads or callbacks from running while HwStartIO does (so it must not
//! take it from HwStartIO). The lock is the device's StartIO serialisation event; a release
//! without an acquire is reported and does nothing, so the lock can never be released for
//! someone else.

use crate::device::PortDevice;
use crate::irql::{require_at_most, Irql};
use crate::report::{self, port_code, Misuse};
use core::ptr::null_mut;
use core::sync::atomic::Ordering;
use ddk_sys::*;

/// `VideoPortAcquireDeviceLock`.
///
/// # Safety
/// `HwDeviceExtension` may be anything (it is validated).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortAcquireDeviceLock(HwDeviceExtension: PVOID) {
    const ROUTINE: &str = "VideoPortAcquireDeviceLock";
    if !require_at_most(ROUTINE, Irql::PASSIVE) {
        return;
    }
    let Some(device) = PortDevice::from_hw_extension(ROUTINE, HwDeviceExtension) else {
        return;
    };
    // SAFETY: the device's own synchronization event, live while the device is.
    unsafe {
        KeWaitForSingleObject(
            device.port.start_io.get().cast(),
            0,
            KernelMode,
            FALSE,
            null_mut(),
        )
    };
    device.port.device_lock_held.store(true, Ordering::Release);
}

/// `VideoPortReleaseDeviceLock`.
///
/// # Safety
/// `HwDeviceExtension` may be anything (it is validated).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortReleaseDeviceLock(HwDeviceExtension: PVOID) {
    const ROUTINE: &str = "VideoPortReleaseDeviceLock";
    if !require_at_most(ROUTINE, Irql::PASSIVE) {
        return;
    }
    let Some(device) = PortDevice::from_hw_extension(ROUTINE, HwDeviceExtension) else {
        return;
    };
    if !device.port.device_lock_held.swap(false, Ordering::AcqRel) {
        report::misuse(
            ROUTINE,
            Misuse::Port {
                code: port_code::BAD_ARGUMENT,
                p2: 0,
                p3: 1,
            },
        );
        return;
    }
    // SAFETY: the device's own synchronization event, held by this miniport.
    unsafe { KeSetEvent(device.port.start_io.get(), 0, FALSE) };
}
