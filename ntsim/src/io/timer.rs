//! I/O timers: `IoInitializeTimer`, `IoStartTimer`, `IoStopTimer`.
//!
//! The I/O manager calls a device's running timer routine about once a second at
//! DISPATCH_LEVEL. Here the second is of the simulated clock: whenever the machine runs its
//! pending work (`run_until_idle`, a stall or a wait below DISPATCH_LEVEL, and
//! [`Machine::advance_clock`](crate::Machine::advance_clock)), every running timer whose tick is
//! due runs, once per elapsed second. One timer per device object, as on Windows; deleting the
//! device deletes its timer.

use crate::machine::{cpu, Cpu};
use crate::verifier::{bugcheck, ntsim_code};
use ddk_sys::*;

/// Microseconds between two ticks of an I/O timer.
pub const TICK_US: u64 = 1_000_000;

#[ddk_sys::ntapi]
pub(crate) struct IoTimer {
    pub device: usize,
    routine: unsafe extern "ntapi" fn(*mut DEVICE_OBJECT, PVOID),
    context: usize,
    running: bool,
    /// Clock value of the next tick while running.
    next_us: u64,
}

fn misuse(routine: &'static str, device: usize, message: String) {
    cpu().lock().report(
        bugcheck::NTSIM_CHECK,
        ntsim_code::IO_MISUSE,
        [device as u64, 0, 0],
        routine,
        message,
    );
}

/// `IoInitializeTimer`: STATUS_SUCCESS, or STATUS_INVALID_PARAMETER for a device that is not
/// live or a NULL routine (reported). A second call replaces the routine (stopped).
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn IoInitializeTimer(
    DeviceObject: *mut DEVICE_OBJECT,
    TimerRoutine: PIO_TIMER_ROUTINE,
    Context: PVOID,
) -> NTSTATUS {
    const R: &str = "IoInitializeTimer";
    let device = DeviceObject as usize;
    let cpu = cpu();
    let mut st = cpu.lock();
    if !st.io.devices.contains_key(&device) {
        drop(st);
        misuse(
            R,
            device,
            format!("{device:#x} is not a live device object"),
        );
        return STATUS_INVALID_PARAMETER;
    }
    let Some(routine) = TimerRoutine else {
        drop(st);
        misuse(R, device, "NULL TimerRoutine".into());
        return STATUS_INVALID_PARAMETER;
    };
    st.io.timers.retain(|t| t.device != device);
    st.io.timers.push(IoTimer {
        device,
        routine,
        context: Context as usize,
        running: false,
        next_us: 0,
    });
    STATUS_SUCCESS
}

fn set_running(routine: &'static str, device: *mut DEVICE_OBJECT, running: bool) {
    let cpu = cpu();
    let mut st = cpu.lock();
    let now = st.clock_us;
    match st
        .io
        .timers
        .iter_mut()
        .find(|t| t.device == device as usize)
    {
        Some(timer) => {
            if running && !timer.running {
                timer.next_us = now + TICK_US;
            }
            timer.running = running;
        }
        None => {
            drop(st);
            misuse(
                routine,
                device as usize,
                format!(
                    "device {:#x} has no timer (IoInitializeTimer first)",
                    device as usize
                ),
            );
        }
    }
}

/// `IoStartTimer`: the first tick comes one second from now.
///
/// # Safety
/// `DeviceObject` must be a device object with an initialised timer.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn IoStartTimer(DeviceObject: *mut DEVICE_OBJECT) {
    set_running("IoStartTimer", DeviceObject, true);
}

/// `IoStopTimer`.
///
/// # Safety
/// `DeviceObject` must be a device object with an initialised timer.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn IoStopTimer(DeviceObject: *mut DEVICE_OBJECT) {
    set_running("IoStopTimer", DeviceObject, false);
}

/// Runs one due tick, if any, at DISPATCH_LEVEL without the machine lock; true if one ran.
pub(crate) fn run_one(cpu: &Cpu) -> bool {
    let due = {
        let mut st = cpu.lock();
        let now = st.clock_us;
        st.io
            .timers
            .iter_mut()
            .find(|t| t.running && t.next_us <= now)
            .map(|t| {
                t.next_us += TICK_US;
                (t.routine, t.device, t.context)
            })
    };
    let Some((routine, device, context)) = due else {
        return false;
    };
    let old = cpu.irql();
    cpu.set_irql(DISPATCH_LEVEL);
    // SAFETY: the driver registered this routine for this live device; timer routines run at
    // DISPATCH_LEVEL, as the I/O manager calls them.
    unsafe { routine(device as *mut DEVICE_OBJECT, context as PVOID) };
    cpu.set_irql(old);
    true
}

impl crate::Machine {
    /// Moves the simulated clock forward by `us` and runs what became due (I/O timer ticks
    /// among it) on the calling thread, as if the processor had idled that long.
    pub fn advance_clock(&self, us: u64) {
        let _bound = (!self.is_current()).then(|| self.enter());
        let cpu = cpu();
        cpu.lock().clock_us += us;
        crate::machine::drain(&cpu);
    }
}
