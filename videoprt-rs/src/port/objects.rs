//! The kernel objects a miniport asks the port for, kept per device: pool blocks
//! (`VideoPortAllocatePool`, `VideoPortAllocateBuffer`), events (`VideoPortCreateEvent`) and
//! spin locks (`VideoPortCreateSpinLock`).
//!
//! A handle a miniport passes back is looked up in its device's list before anything uses it,
//! so a foreign, stale, doubly freed or made-up handle is reported and refused, never
//! dereferenced. At device removal whatever the miniport left is reported and freed.
//!
//! Invariants: the records live in non-paged pool (the lists are walked under a spin lock);
//! a record is in exactly one device's list from its creation until it is unlinked, and only
//! the thread that unlinks it frees it; an event's `waiters` count changes only under the lock,
//! and an event with waiters is never unlinked.

use crate::device::PortDevice;
use crate::report::{self, port_code, Misuse};
use crate::slist::{Link, Linked, SList};
use core::cell::UnsafeCell;
use core::sync::atomic::AtomicU32;
use ddk_sys::*;

/// A pool block the miniport owns.
pub(crate) struct PoolBlock {
    next: Link<PoolBlock>,
    /// What the miniport was given.
    pub address: usize,
    pub tag: u32,
    /// From VideoPortAllocateBuffer (true) or VideoPortAllocatePool (false).
    pub buffer: bool,
}

/// An event (`PEVENT` is the record's address).
pub(crate) struct EventObject {
    next: Link<EventObject>,
    pub event: UnsafeCell<KEVENT>,
    /// Threads inside VideoPortWaitForSingleObject on it; changed only under the lock, atomic
    /// so that it is changed through `&EventObject` (a waiter holds a pointer into the record).
    pub waiters: AtomicU32,
}

/// A spin lock (`PSPIN_LOCK` is the record's address).
pub(crate) struct SpinLockObject {
    next: Link<SpinLockObject>,
    pub lock: UnsafeCell<KSPIN_LOCK>,
}

macro_rules! linked {
    ($($t:ty),*) => {$(
        impl Linked for $t {
            fn link(&self) -> &Link<Self> {
                &self.next
            }
        }
    )*};
}
linked!(PoolBlock, EventObject, SpinLockObject);

impl PoolBlock {
    pub(crate) fn new(address: usize, tag: u32, buffer: bool) -> Self {
        PoolBlock {
            next: Link::new(),
            address,
            tag,
            buffer,
        }
    }
}

impl EventObject {
    pub(crate) fn new() -> Self {
        EventObject {
            next: Link::new(),
            // SAFETY: all-zero is valid storage for a KEVENT (initialised once in place).
            event: UnsafeCell::new(unsafe { core::mem::zeroed() }),
            waiters: AtomicU32::new(0),
        }
    }
}

impl SpinLockObject {
    pub(crate) fn new() -> Self {
        SpinLockObject {
            next: Link::new(),
            lock: UnsafeCell::new(0),
        }
    }
}

/// Everything of one device.
pub(crate) struct Objects {
    pub pool: SList<PoolBlock>,
    pub events: SList<EventObject>,
    pub spin_locks: SList<SpinLockObject>,
    /// VideoPortMapMemory's mappings.
    pub maps: SList<super::map_memory::MemoryMapping>,
}

impl Objects {
    pub(crate) const fn new() -> Self {
        Objects {
            pool: SList::new(),
            events: SList::new(),
            spin_locks: SList::new(),
            maps: SList::new(),
        }
    }
}

/// What kind of object a leak or misuse report is about (P2 of [`port_code::OBJECT_LEFT`]).
pub(crate) mod kind {
    pub const POOL: usize = 1;
    pub const BUFFER: usize = 2;
    pub const EVENT: usize = 3;
    pub const SPIN_LOCK: usize = 4;
    pub const MAPPING: usize = 5;
    pub const INT10_BUFFER: usize = 6;
}

/// Reports an object the miniport left, which the port undoes (or leaves to its process).
pub(crate) fn left(routine: &'static str, kind: usize, address: usize) {
    report::misuse(
        routine,
        Misuse::Port {
            code: port_code::OBJECT_LEFT,
            p2: kind,
            p3: address,
        },
    );
}

/// Reports a handle that is not one of this device's live objects of that kind.
pub(crate) fn unknown(routine: &'static str, kind: usize, handle: usize) {
    report::misuse(
        routine,
        Misuse::Port {
            code: port_code::UNKNOWN_OBJECT,
            p2: kind,
            p3: handle,
        },
    );
}

impl PortDevice {
    /// Device removal: reports and frees every pool block, event and spin lock the miniport
    /// left. PASSIVE_LEVEL (paged blocks are freed here).
    pub(crate) fn reclaim_objects(&self) {
        const ROUTINE: &str = "device removal";
        let leave = |kind: usize, address: usize| {
            report::misuse(
                ROUTINE,
                Misuse::Port {
                    code: port_code::OBJECT_LEFT,
                    p2: kind,
                    p3: address,
                },
            );
        };
        loop {
            // Each guard drops before the free (paged pool is freed at PASSIVE_LEVEL).
            let Some(block) = self.port.objects.lock().pool.pop() else {
                break;
            };
            // SAFETY: unlinked above; the record and the block are ours alone now.
            unsafe {
                let b = block.as_ref();
                leave(if b.buffer { kind::BUFFER } else { kind::POOL }, b.address);
                ExFreePoolWithTag(b.address as PVOID, b.tag);
                crate::pool::free(block);
            }
        }
        loop {
            let Some(event) = self.port.objects.lock().events.pop() else {
                break;
            };
            leave(kind::EVENT, event.as_ptr() as usize);
            // SAFETY: unlinked; no miniport call runs during removal, so nobody waits on it.
            unsafe { crate::pool::free(event) };
        }
        loop {
            let Some(lock) = self.port.objects.lock().spin_locks.pop() else {
                break;
            };
            leave(kind::SPIN_LOCK, lock.as_ptr() as usize);
            // SAFETY: unlinked; no miniport call runs during removal.
            unsafe { crate::pool::free(lock) };
        }
    }
}

/// The address of `record`, for comparing with a handle.
pub(crate) fn address_of<T>(record: &T) -> usize {
    record as *const T as usize
}
