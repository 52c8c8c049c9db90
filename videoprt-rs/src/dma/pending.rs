//! The count of an adapter's HAL callbacks still to run, and the adapter's closing flag, in
//! one word: how releasing an adapter (VideoPortPutDmaAdapter, device removal) waits for the
//! scatter/gather callbacks the HAL has queued for it. A queued `GetScatterGatherList` cannot
//! be cancelled, so the release marks the adapter closing and waits; each late callback sees
//! the mark, hands its list straight back and leaves.
//!
//! Protocol (the `models` crate checks its interleavings with loom):
//! - StartDma [`enter`](PendingCallbacks::enter)s before it asks the HAL for a list, and
//!   [`leave`](PendingCallbacks::leave)s itself if the HAL refused the request;
//! - the HAL callback leaves when it no longer touches the adapter: after the miniport's
//!   HwVidExecuteDma has returned, or after handing its list back when it found the adapter
//!   [`closing`](PendingCallbacks::closing);
//! - the release [`close`](PendingCallbacks::close)s, and waits when that says callbacks are
//!   outstanding, until the `leave` that returns true signals it.
//!
//! Invariant: the last `leave` after `close` returns true exactly once, and only when `close`
//! returned true (so a signal is sent exactly when someone waits for it).

#[cfg(not(loom))]
use core::sync::atomic::{AtomicU32, Ordering};
#[cfg(loom)]
use loom::sync::atomic::{AtomicU32, Ordering};

/// The closing flag; the bits below it count callbacks.
const CLOSING: u32 = 1 << 31;

pub(crate) struct PendingCallbacks(AtomicU32);

impl PendingCallbacks {
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Self(AtomicU32::new(0))
    }

    /// Loom's atomics cannot be built in a constant.
    #[cfg(loom)]
    pub fn new() -> Self {
        Self(AtomicU32::new(0))
    }

    /// One more callback is about to be queued with the HAL.
    #[inline]
    pub fn enter(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }

    /// One callback is done with the adapter. True when it was the last one of a closing
    /// adapter: the caller must wake the release waiting for it.
    #[inline]
    pub fn leave(&self) -> bool {
        self.0.fetch_sub(1, Ordering::AcqRel) == CLOSING | 1
    }

    /// Whether the adapter is being released.
    #[inline]
    pub fn closing(&self) -> bool {
        self.0.load(Ordering::Acquire) & CLOSING != 0
    }

    /// Marks the adapter closing. True when callbacks are still outstanding: the caller must
    /// wait for the signal of the last [`leave`](Self::leave).
    pub fn close(&self) -> bool {
        self.0.fetch_or(CLOSING, Ordering::AcqRel) != 0
    }
}
