//! `KeStallExecutionProcessor`: advances the simulated clock instead of spinning.

use crate::machine::cpu;
use ddk_sys::ULONG;

/// `KeStallExecutionProcessor`: returns at once; [`crate::Machine::clock_us`] moves forward.
#[no_mangle]
pub extern "system" fn KeStallExecutionProcessor(MicroSeconds: ULONG) {
    cpu().lock().clock_us += MicroSeconds as u64;
}
