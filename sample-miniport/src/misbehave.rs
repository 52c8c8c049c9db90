//! Deliberate bugs, for the tests that prove the verifier catches them. Host builds only: the
//! Windows image has no such switch.

use core::sync::atomic::{AtomicU8, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Misbehavior {
    /// Behave.
    None = 0,
    /// Never call VideoPortCompleteDma for a packet chunk.
    SkipCompleteDma = 1,
    /// After VideoPortCompleteDma, start the engine once more on the chunk's last element (the
    /// device is left running on memory the port has unmapped).
    RestartAfterComplete = 2,
}

static MODE: AtomicU8 = AtomicU8::new(Misbehavior::None as u8);

/// Switches every instance of the sample in this process.
pub fn set(mode: Misbehavior) {
    MODE.store(mode as u8, Ordering::SeqCst);
}

pub(crate) fn is(mode: Misbehavior) -> bool {
    MODE.load(Ordering::SeqCst) == mode as u8
}
