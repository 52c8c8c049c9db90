//! IRQL rules of the VideoPort entry points.

use crate::report::{self, Misuse};
use ddk_sys::{KeGetCurrentIrql, KeLowerIrql, KeRaiseIrql, DISPATCH_LEVEL, KIRQL};

/// An interrupt request level.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Irql(pub KIRQL);

impl Irql {
    pub const PASSIVE: Irql = Irql(ddk_sys::PASSIVE_LEVEL);
    pub const APC: Irql = Irql(ddk_sys::APC_LEVEL);
    pub const DISPATCH: Irql = Irql(DISPATCH_LEVEL);

    pub fn current() -> Irql {
        Irql(KeGetCurrentIrql())
    }
}

/// Checks that the caller of `routine` runs at or below `max`; reports the violation
/// (modeled on bug check 0xE6 code 0x13, P2 = 2: above the maximum) when it does not.
pub fn require_at_most(routine: &'static str, max: Irql) -> bool {
    at_most(routine, max).is_some()
}

/// [`require_at_most`], returning the caller's IRQL when it is within `max`, so an entry point
/// reads it once (a CR8 read on Windows).
#[inline]
pub fn at_most(routine: &'static str, max: Irql) -> Option<Irql> {
    let current = Irql::current();
    if current <= max {
        return Some(current);
    }
    wrong_irql(routine, max, current);
    None
}

#[cold]
fn wrong_irql(routine: &'static str, max: Irql, current: Irql) {
    report::misuse(
        routine,
        Misuse::WrongIrql {
            expected_max: max.0,
            current: current.0,
        },
    );
}

/// Runs `f` at DISPATCH_LEVEL, raising first when the caller runs below it (the HAL's
/// scatter/gather routines must be called at DISPATCH_LEVEL; VideoPort callers may be lower).
///
/// The caller must run at or below DISPATCH_LEVEL.
pub fn at_dispatch<R>(f: impl FnOnce() -> R) -> R {
    at_dispatch_from(Irql::current(), f)
}

/// [`at_dispatch`] for a caller that knows its IRQL, `current` (at or below DISPATCH_LEVEL).
#[inline(always)]
pub fn at_dispatch_from<R>(current: Irql, f: impl FnOnce() -> R) -> R {
    if current == Irql::DISPATCH {
        return f();
    }
    // SAFETY: callers are at or below DISPATCH_LEVEL (checked at every entry point), so this
    // raises, and the matching lower restores the caller's level on the same processor.
    let old = unsafe { KeRaiseIrql(DISPATCH_LEVEL) };
    let result = f();
    // SAFETY: restores the level saved by the raise above.
    unsafe { KeLowerIrql(old) };
    result
}
