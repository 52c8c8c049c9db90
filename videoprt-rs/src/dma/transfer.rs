//! Per-adapter transfer slots: the port's record of each StartDma between the HAL's callback
//! and CompleteDma. A fixed array per adapter, so starting a transfer allocates nothing.
//!
//! State machine of a slot (`state`, changed only by compare-and-swap):
//!
//! ```text
//!   FREE --claim (StartDma)--> PENDING --HAL callback--> ACTIVE --claim (CompleteDma)--> COMPLETING --> FREE
//!                                 \--GetScatterGatherList failed / adapter closing--> FREE
//! ```
//!
//! Invariants: the parameters are written only by the thread that moved the slot out of FREE,
//! before the HAL sees the slot; `list` is non-NULL exactly in ACTIVE and COMPLETING.

use core::cell::UnsafeCell;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, AtomicU8, Ordering};
use ddk_sys::{PEXECUTE_DMA, PMDL, PSCATTER_GATHER_LIST, PVOID};

pub(crate) const FREE: u8 = 0;
pub(crate) const PENDING: u8 = 1;
pub(crate) const ACTIVE: u8 = 2;
pub(crate) const COMPLETING: u8 = 3;

/// What StartDma recorded for the callback and for CompleteDma.
#[derive(Clone, Copy)]
pub(crate) struct TransferParams {
    /// The adapter owning the slot (the HAL callback gets only the slot).
    pub adapter: *const super::adapter::Adapter,
    pub hw_extension: PVOID,
    pub execute: PEXECUTE_DMA,
    pub context: PVOID,
    pub mdl: PMDL,
    pub write_to_device: bool,
}

pub(crate) struct TransferSlot {
    state: AtomicU8,
    list: AtomicPtr<ddk_sys::SCATTER_GATHER_LIST>,
    /// The transfer's MDL, readable without owning the slot (UnlockBuffer checks it).
    mdl: AtomicPtr<ddk_sys::MDL>,
    params: UnsafeCell<TransferParams>,
}

// SAFETY: `params` is written only by the slot's claimer before publication (see invariants);
// everything else is atomic.
unsafe impl Sync for TransferSlot {}

impl TransferSlot {
    pub const fn new() -> Self {
        Self {
            state: AtomicU8::new(FREE),
            list: AtomicPtr::new(null_mut()),
            mdl: AtomicPtr::new(null_mut()),
            params: UnsafeCell::new(TransferParams {
                adapter: core::ptr::null(),
                hw_extension: null_mut(),
                execute: None,
                context: null_mut(),
                mdl: null_mut(),
                write_to_device: false,
            }),
        }
    }

    pub fn state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }

    /// FREE -> PENDING, recording `params`. Returns false if the slot is in use.
    pub fn claim(&self, params: TransferParams) -> bool {
        if self
            .state
            .compare_exchange(FREE, PENDING, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        // SAFETY: this thread owns the slot until it hands it to the HAL.
        unsafe { *self.params.get() = params };
        self.mdl.store(params.mdl, Ordering::Release);
        true
    }

    pub fn mdl(&self) -> PMDL {
        self.mdl.load(Ordering::Acquire)
    }

    pub fn params(&self) -> TransferParams {
        // SAFETY: params are written before the slot leaves FREE and never while it is in use.
        unsafe { *self.params.get() }
    }

    /// PENDING -> ACTIVE with the HAL's list.
    pub fn activate(&self, list: PSCATTER_GATHER_LIST) {
        self.list.store(list, Ordering::Release);
        self.state.store(ACTIVE, Ordering::Release);
    }

    /// ACTIVE -> COMPLETING if this slot holds `list`; exactly one caller wins.
    pub fn claim_for_completion(&self, list: PSCATTER_GATHER_LIST) -> bool {
        self.state() == ACTIVE
            && self.list.load(Ordering::Acquire) == list
            && self
                .state
                .compare_exchange(ACTIVE, COMPLETING, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
    }

    /// Any ACTIVE slot -> COMPLETING, returning its list (used when reclaiming).
    pub fn claim_any_active(&self) -> Option<PSCATTER_GATHER_LIST> {
        self.state
            .compare_exchange(ACTIVE, COMPLETING, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
            .then(|| self.list.load(Ordering::Acquire))
    }

    /// Back to FREE.
    pub fn release(&self) {
        self.list.store(null_mut(), Ordering::Relaxed);
        self.mdl.store(null_mut(), Ordering::Relaxed);
        self.state.store(FREE, Ordering::Release);
    }
}
