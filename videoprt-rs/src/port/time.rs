//! IRQL and time: `VideoPortGetCurrentIrql`, `VideoPortQuerySystemTime`,
//! `VideoPortQueryPerformanceCounter`.
//!
//! C interface (`video.h`):
//! - `UCHAR VideoPortGetCurrentIrql(VOID)`: any IRQL (`KeGetCurrentIrql`).
//! - `VOID VideoPortQuerySystemTime(PLARGE_INTEGER CurrentTime)`: 100 ns units since
//!   1601-01-01 UTC, any IRQL (`KeQuerySystemTime`, on x64 a read of shared user data).
//! - `LONGLONG VideoPortQueryPerformanceCounter(PVOID HwDeviceExtension,
//!   PLONGLONG PerformanceFrequency)`: the HAL's counter (`KeQueryPerformanceCounter`), any
//!   IRQL; the frequency is written when the pointer is not NULL.

use crate::device::PortDevice;
use crate::report;
use ddk_sys::*;

/// `VideoPortGetCurrentIrql`.
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn VideoPortGetCurrentIrql() -> UCHAR {
    KeGetCurrentIrql()
}

/// `VideoPortQuerySystemTime`.
///
/// # Safety
/// `CurrentTime` is NULL (reported) or valid for a write.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortQuerySystemTime(CurrentTime: PLARGE_INTEGER) {
    if CurrentTime.is_null() {
        report::null_argument("VideoPortQuerySystemTime", 1);
        return;
    }
    // SAFETY: valid for a write (contract).
    unsafe { CurrentTime.write(KeQuerySystemTime()) };
}

/// `VideoPortQueryPerformanceCounter`.
///
/// # Safety
/// `PerformanceFrequency` is NULL or valid for a write.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortQueryPerformanceCounter(
    HwDeviceExtension: PVOID,
    PerformanceFrequency: PLONGLONG,
) -> LONGLONG {
    const ROUTINE: &str = "VideoPortQueryPerformanceCounter";
    // Validated for the report only: the counter does not depend on the device.
    let _ = PortDevice::from_hw_extension(ROUTINE, HwDeviceExtension);
    let mut frequency = LARGE_INTEGER::default();
    // SAFETY: a writable local.
    let counter = unsafe { KeQueryPerformanceCounter(&mut frequency) };
    if !PerformanceFrequency.is_null() {
        // SAFETY: valid for a write (contract).
        unsafe { PerformanceFrequency.write(frequency.0) };
    }
    counter.0
}
