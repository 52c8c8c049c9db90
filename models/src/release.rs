//! An adapter's release against its HAL callbacks and completions, built from the port's own
//! `PendingCallbacks` and `TransferSlot` and following the steps of `dma/start.rs`
//! (`execute_trampoline`), `dma/complete.rs` and `dma/adapter.rs` (`Adapter::release`). The
//! HAL is a counter of lists handed back; the adapter's free is a flag the miniport's routine
//! checks while it runs.

use crate::pending::PendingCallbacks;
use crate::transfer::{TransferParams, TransferSlot, FREE};
use ddk_sys::{PSCATTER_GATHER_LIST, PVOID, PVP_DMA_ADAPTER, PVP_SCATTER_GATHER_LIST};
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Notify};
use loom::thread;

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn execute(
    _: PVOID,
    _: PVP_DMA_ADAPTER,
    _: PVP_SCATTER_GATHER_LIST,
    _: PVOID,
) {
}

fn params() -> TransferParams {
    TransferParams {
        execute,
        context: core::ptr::null_mut(),
        write_to_device: false,
    }
}

/// A fake HAL list address for list number `n` (1-based; only compared).
fn list(n: usize) -> PSCATTER_GATHER_LIST {
    (n * 64) as PSCATTER_GATHER_LIST
}

/// What the miniport's HwVidExecuteDma does with the list it is given.
#[derive(Clone, Copy, PartialEq)]
enum Miniport {
    /// Programs the device; completes later (or never).
    Starts,
    /// Completes at once, inside the routine.
    CompletesInside,
}

/// A notification KEVENT: stays signalled, no spurious wake-ups (loom's `Notify` has them).
struct Event {
    signalled: AtomicBool,
    notify: Notify,
}

impl Event {
    fn new() -> Self {
        Self {
            signalled: AtomicBool::new(false),
            notify: Notify::new(),
        }
    }

    fn set(&self) {
        self.signalled.store(true, Ordering::Release);
        self.notify.notify();
    }

    fn wait(&self) {
        while !self.signalled.load(Ordering::Acquire) {
            self.notify.wait();
        }
    }
}

struct Adapter {
    pending: PendingCallbacks,
    drained: Event,
    slots: [TransferSlot; 2],
    /// PutScatterGatherList calls per list number.
    puts: [AtomicUsize; 3],
    /// HwVidExecuteDma calls.
    executes: AtomicUsize,
    /// Set when the release is about to free the record.
    freed: AtomicBool,
}

impl Adapter {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            pending: PendingCallbacks::new(),
            drained: Event::new(),
            slots: [TransferSlot::new(), TransferSlot::new()],
            puts: [
                AtomicUsize::new(0),
                AtomicUsize::new(0),
                AtomicUsize::new(0),
            ],
            executes: AtomicUsize::new(0),
            freed: AtomicBool::new(false),
        })
    }

    fn put_list(&self, l: PSCATTER_GATHER_LIST) {
        self.puts[l as usize / 64].fetch_add(1, Ordering::SeqCst);
    }

    /// StartDma up to the HAL request: claims the slot and counts the callback to come.
    fn start(&self, slot: usize) {
        assert!(self.slots[slot].claim(params(), core::ptr::null_mut()));
        self.pending.enter();
    }

    fn pending_done(&self) {
        if self.pending.leave() {
            self.drained.set();
        }
    }

    /// `execute_trampoline`.
    fn callback(&self, slot: usize, l: PSCATTER_GATHER_LIST, miniport: Miniport) {
        let slot_ref = &self.slots[slot];
        if self.pending.closing() {
            self.put_list(l);
            slot_ref.release();
            self.pending_done();
            return;
        }
        slot_ref.activate(l);
        // The miniport's routine reads the adapter's record (its extension, its handle).
        assert!(
            !self.freed.load(Ordering::SeqCst),
            "HwVidExecuteDma runs on a released adapter"
        );
        self.executes.fetch_add(1, Ordering::SeqCst);
        if miniport == Miniport::CompletesInside {
            self.complete(l);
        }
        assert!(!self.freed.load(Ordering::SeqCst));
        self.pending_done();
    }

    /// VideoPortCompleteDma's claim and put.
    fn complete(&self, l: PSCATTER_GATHER_LIST) {
        if let Some(slot) = self.slots.iter().find(|s| s.claim_for_completion(l)) {
            self.put_list(l);
            slot.release();
        }
    }

    /// `Adapter::release`: wait for queued callbacks, reclaim active lists, free.
    fn release(&self) {
        if self.pending.close() {
            self.drained.wait();
        }
        for slot in &self.slots {
            if let Some(l) = slot.claim_any_active() {
                self.put_list(l);
                slot.release();
            }
        }
        self.freed.store(true, Ordering::SeqCst);
    }

    fn assert_all_back(&self, lists: &[usize]) {
        for &n in lists {
            assert_eq!(
                self.puts[n].load(Ordering::SeqCst),
                1,
                "list {n} handed back to the HAL exactly once"
            );
        }
        for slot in &self.slots {
            assert_eq!(slot.state(), FREE);
        }
    }
}

/// Device removal while the HAL still holds a queued request: whether the callback comes
/// before, during or after the release, its list goes back once and the miniport's routine
/// never runs on the freed record.
#[test]
fn a_deferred_callback_racing_removal() {
    super::tests::model(|| {
        let adapter = Adapter::new();
        adapter.start(0);
        let hal = {
            let adapter = adapter.clone();
            thread::spawn(move || adapter.callback(0, list(1), Miniport::Starts))
        };
        adapter.release();
        hal.join().unwrap();
        adapter.assert_all_back(&[1]);
    });
}

/// VideoPortPutDmaAdapter with two transfers outstanding: one active, which the miniport's
/// DPC completes at the same moment, and one still queued with the HAL.
#[test]
fn put_dma_adapter_with_transfers_pending() {
    super::tests::model(|| {
        let adapter = Adapter::new();
        adapter.start(0);
        adapter.callback(0, list(1), Miniport::Starts);
        adapter.start(1);
        let dpc = {
            let adapter = adapter.clone();
            thread::spawn(move || adapter.complete(list(1)))
        };
        let hal = {
            let adapter = adapter.clone();
            thread::spawn(move || adapter.callback(1, list(2), Miniport::Starts))
        };
        adapter.release();
        dpc.join().unwrap();
        hal.join().unwrap();
        adapter.assert_all_back(&[1, 2]);
        assert!(adapter.executes.load(Ordering::SeqCst) >= 1);
    });
}

/// A miniport that completes inside HwVidExecuteDma while its adapter is released: the list
/// goes back once, by the completion or by the release, never both.
#[test]
fn a_completion_inside_the_callback_racing_release() {
    super::tests::model(|| {
        let adapter = Adapter::new();
        adapter.start(0);
        let hal = {
            let adapter = adapter.clone();
            thread::spawn(move || adapter.callback(0, list(1), Miniport::CompletesInside))
        };
        adapter.release();
        hal.join().unwrap();
        adapter.assert_all_back(&[1]);
    });
}
