//! `KeStallExecutionProcessor`: advances the simulated clock instead of spinning.
//!
//! While a processor spins below DISPATCH_LEVEL on real hardware, interrupts and DPCs preempt
//! it and devices make progress; a driver that polls a register with a stall in between relies
//! on that. So a stall below DISPATCH_LEVEL also runs the machine's pending work (interrupts,
//! DPCs, deferred scatter/gather callbacks, device events), as `Machine::run_until_idle` does.
//! At DISPATCH_LEVEL and above nothing preempts the caller, and a stall only moves the clock.

use crate::machine::{cpu, drain};
use ddk_sys::{DISPATCH_LEVEL, ULONG};

/// `KeStallExecutionProcessor`: returns at once; [`crate::Machine::clock_us`] moves forward.
#[no_mangle]
pub extern "win64" fn KeStallExecutionProcessor(MicroSeconds: ULONG) {
    let cpu = cpu();
    cpu.lock().clock_us += MicroSeconds as u64;
    if cpu.irql() < DISPATCH_LEVEL {
        drain(&cpu);
    }
}
