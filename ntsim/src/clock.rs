//! `KeStallExecutionProcessor` (advances the simulated clock instead of spinning),
//! `KeQueryPerformanceCounter` and the system time behind `KeQuerySystemTime`.
//!
//! While a processor spins below DISPATCH_LEVEL on real hardware, interrupts and DPCs preempt
//! it and devices make progress; a driver that polls a register with a stall in between relies
//! on that. So a stall below DISPATCH_LEVEL also runs the machine's pending work (interrupts,
//! DPCs, deferred scatter/gather callbacks, device events), as `Machine::run_until_idle` does.
//! At DISPATCH_LEVEL and above nothing preempts the caller, and a stall only moves the clock.

use crate::machine::{cpu, drain};
use ddk_sys::{DISPATCH_LEVEL, LARGE_INTEGER, PHYSICAL_ADDRESS, ULONG};

/// `KeStallExecutionProcessor`: returns at once; [`crate::Machine::clock_us`] moves forward.
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn KeStallExecutionProcessor(MicroSeconds: ULONG) {
    let cpu = cpu();
    cpu.lock().clock_us += MicroSeconds as u64;
    if cpu.irql() < DISPATCH_LEVEL {
        drain(&cpu);
    }
}

/// The simulated system time at clock 0: 2026-01-01 00:00 UTC, in 100 ns units since 1601.
pub const SYSTEM_TIME_AT_BOOT: i64 = 134_116_992_000_000_000;

/// Ticks per second of `KeQueryPerformanceCounter` (as many HALs report: 10 MHz).
pub const PERFORMANCE_FREQUENCY: i64 = 10_000_000;

/// The hook behind `ddk_sys::KeQuerySystemTime` (an inline read of shared user data on x64
/// Windows): the boot time plus the simulated clock.
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn NtsimQuerySystemTime() -> i64 {
    SYSTEM_TIME_AT_BOOT + cpu().lock().clock_us as i64 * 10
}

/// `KeQueryPerformanceCounter`: the simulated clock at [`PERFORMANCE_FREQUENCY`].
///
/// # Safety
/// `PerformanceFrequency` is NULL or valid for a write.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn KeQueryPerformanceCounter(
    PerformanceFrequency: *mut LARGE_INTEGER,
) -> LARGE_INTEGER {
    if !PerformanceFrequency.is_null() {
        // SAFETY: valid for a write (contract).
        unsafe { PerformanceFrequency.write(PHYSICAL_ADDRESS(PERFORMANCE_FREQUENCY)) };
    }
    PHYSICAL_ADDRESS(cpu().lock().clock_us as i64 * (PERFORMANCE_FREQUENCY / 1_000_000))
}
