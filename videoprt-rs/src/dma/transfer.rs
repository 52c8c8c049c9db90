//! Per-adapter transfer slots: the port's record of each StartDma between the HAL's callback
//! and CompleteDma. A fixed array per adapter, so starting a transfer allocates nothing and
//! takes no lock.
//!
//! State machine of a slot (`state`, moved out of FREE only by compare-and-swap):
//!
//! ```text
//!   FREE --claim (StartDma)--> PENDING --HAL callback--> ACTIVE --CompleteDma, after PutScatterGatherList--> FREE
//!                                 \--GetScatterGatherList failed / adapter closing--> FREE
//! ```
//!
//! ACTIVE means the HAL's list is with the device (its pages mapped for it) until the list is
//! put back. CompleteDma claims an ACTIVE slot by a compare-and-swap of `list` itself (the
//! list → NULL): `list` is non-NULL exactly while the slot is ACTIVE and unclaimed, so among
//! any number of concurrent completions of the same list exactly one wins, and a completion of
//! a list that was already completed can never take a slot that has meanwhile been reused for
//! another transfer (it would compare against that transfer's list). (A list the HAL allocates
//! at the address of one already completed is, to the port, the same list: the pointer is all
//! a miniport passes.)
//!
//! Invariants: the parameters and `mdl` are written only by the thread that moved the slot out
//! of FREE, before the HAL sees the slot; `owner` is written once, before the adapter is
//! shared; `mdl` is meaningful only while the slot is PENDING or ACTIVE (readers check the
//! state first).

use core::cell::UnsafeCell;
use core::ptr::null_mut;
// The `models` crate compiles this file with loom's atomics to check its interleavings.
#[cfg(not(loom))]
use core::sync::atomic::{AtomicPtr, AtomicU8, Ordering};
use ddk_sys::{PMDL, PSCATTER_GATHER_LIST, PVOID, PVP_DMA_ADAPTER, PVP_SCATTER_GATHER_LIST};
#[cfg(loom)]
use loom::sync::atomic::{AtomicPtr, AtomicU8, Ordering};

pub(crate) const FREE: u8 = 0;
pub(crate) const PENDING: u8 = 1;
pub(crate) const ACTIVE: u8 = 2;

/// A miniport's `HwVidExecuteDma` (the non-NULL `PEXECUTE_DMA`).
#[ddk_sys::ntapi]
pub(crate) type ExecuteDma =
    unsafe extern "ntapi" fn(PVOID, PVP_DMA_ADAPTER, PVP_SCATTER_GATHER_LIST, PVOID);

/// What StartDma recorded for the callback and for CompleteDma.
#[derive(Clone, Copy)]
pub(crate) struct TransferParams {
    pub execute: ExecuteDma,
    pub context: PVOID,
    pub write_to_device: bool,
}

/// The placeholder of a slot that never held a transfer; never called (a slot's parameters are
/// read only after a StartDma wrote them).
#[ddk_sys::ntapi]
unsafe extern "ntapi" fn no_execute(
    _: PVOID,
    _: PVP_DMA_ADAPTER,
    _: PVP_SCATTER_GATHER_LIST,
    _: PVOID,
) {
}

pub(crate) struct TransferSlot {
    state: AtomicU8,
    /// The HAL's list while ACTIVE and unclaimed; NULL otherwise.
    list: AtomicPtr<ddk_sys::SCATTER_GATHER_LIST>,
    /// The transfer's MDL, readable without owning the slot (UnlockBuffer checks it).
    mdl: AtomicPtr<ddk_sys::MDL>,
    /// The adapter owning the slot (the HAL callback gets only the slot).
    owner: UnsafeCell<*const super::adapter::Adapter>,
    params: UnsafeCell<TransferParams>,
}

// SAFETY: `params` is written only by the slot's claimer before publication and `owner` only
// before the adapter is shared (see invariants); everything else is atomic.
unsafe impl Sync for TransferSlot {}

/// What a slot holds before its first transfer.
const UNUSED: TransferParams = TransferParams {
    execute: no_execute,
    context: null_mut(),
    write_to_device: false,
};

impl TransferSlot {
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Self {
            state: AtomicU8::new(FREE),
            list: AtomicPtr::new(null_mut()),
            mdl: AtomicPtr::new(null_mut()),
            owner: UnsafeCell::new(core::ptr::null()),
            params: UnsafeCell::new(UNUSED),
        }
    }

    /// Loom's atomics cannot be built in a constant.
    #[cfg(loom)]
    pub fn new() -> Self {
        Self {
            state: AtomicU8::new(FREE),
            list: AtomicPtr::new(null_mut()),
            mdl: AtomicPtr::new(null_mut()),
            owner: UnsafeCell::new(core::ptr::null()),
            params: UnsafeCell::new(UNUSED),
        }
    }

    /// Records the adapter owning this slot.
    ///
    /// # Safety
    /// Only while the adapter is not yet shared with any other thread or the HAL.
    pub unsafe fn set_owner(&self, adapter: *const super::adapter::Adapter) {
        // SAFETY: nobody else can see the slot yet (caller's contract).
        unsafe { *self.owner.get() = adapter };
    }

    /// The adapter owning this slot.
    pub fn owner(&self) -> *const super::adapter::Adapter {
        // SAFETY: written once before the adapter was shared, read-only since.
        unsafe { *self.owner.get() }
    }

    pub fn state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }

    /// FREE -> PENDING, recording `params` and `mdl`. Returns false if the slot is in use.
    #[inline]
    pub fn claim(&self, params: TransferParams, mdl: PMDL) -> bool {
        if self
            .state
            .compare_exchange(FREE, PENDING, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        // SAFETY: this thread owns the slot until it hands it to the HAL.
        unsafe { *self.params.get() = params };
        self.mdl.store(mdl, Ordering::Release);
        true
    }

    pub fn mdl(&self) -> PMDL {
        self.mdl.load(Ordering::Acquire)
    }

    #[inline]
    pub fn params(&self) -> TransferParams {
        // SAFETY: params are written before the slot leaves FREE and never while it is in use.
        unsafe { *self.params.get() }
    }

    /// PENDING -> ACTIVE with the HAL's list; from here CompleteDma can claim it.
    #[inline]
    pub fn activate(&self, list: PSCATTER_GATHER_LIST) {
        self.state.store(ACTIVE, Ordering::Release);
        self.list.store(list, Ordering::Release);
    }

    /// Claims this ACTIVE slot for completion if it holds `list` unclaimed; exactly one caller
    /// wins. The slot stays ACTIVE (its pages are mapped) until the winner releases it.
    #[inline]
    pub fn claim_for_completion(&self, list: PSCATTER_GATHER_LIST) -> bool {
        if list.is_null() || self.list.load(Ordering::Relaxed) != list {
            return false;
        }
        if self
            .list
            .compare_exchange(list, null_mut(), Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        true
    }

    /// Claims this slot for completion whatever list it holds, returning the list (used when
    /// reclaiming).
    pub fn claim_any_active(&self) -> Option<PSCATTER_GATHER_LIST> {
        let list = self.list.swap(null_mut(), Ordering::AcqRel);
        (!list.is_null()).then_some(list)
    }

    /// Back to FREE (from PENDING, or from ACTIVE by the winner of the completion claim).
    #[inline]
    pub fn release(&self) {
        self.state.store(FREE, Ordering::Release);
    }
}
