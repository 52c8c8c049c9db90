//! The port's device extension, `PortDevice`, and the registry that maps a miniport's
//! `HwDeviceExtension` back to it.
//!
//! Layout: one allocation (the FDO's device extension) holds the `PortDevice` followed directly
//! by the miniport's `HwDeviceExtension`, so `HwDeviceExtension - size_of::<PortDevice>()` is the
//! port's state. That subtraction is done only after the pointer has been found in the
//! registry of live devices: a foreign, stale or garbage `HwDeviceExtension` is reported and
//! refused, never dereferenced.
//!
//! The registry is a list behind a HIGH_LEVEL lock (entry points an ISR calls look devices up
//! too) plus [`LIVE`], a lock-free [`LiveSet`] of the same addresses that answers the lookups
//! of every entry point (`from_hw_extension`) by comparing addresses only; the list is walked
//! under the lock only when more devices are live than the set has slots.
//!
//! Invariants: a `PortDevice` is in the registry (list and set, changed together under the
//! lock) from [`PortDevice::attach`] until [`PortDevice::detach`]; while registered its memory
//! stays valid and its address is stable.

use crate::dma::DeviceDma;
use crate::live::{LiveSet, Lookup};
use crate::port::PortState;
use crate::report::{self, port_code, Misuse};
use crate::sync::HighLock;
use core::mem::size_of;
use core::ptr::{null_mut, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering::Relaxed};
use ddk_sys::{PDEVICE_OBJECT, PVOID};

/// The port's per-device state, placed immediately before the miniport's `HwDeviceExtension`.
#[repr(C, align(16))]
pub struct PortDevice {
    /// Next device in the registry. Changed only under the `DEVICES` lock, but while other
    /// threads hold `&PortDevice` to this device: so it is interior-mutable (a plain field
    /// written through a raw pointer under a shared reference is undefined behaviour, which
    /// Miri found when one device's detach unlinked its neighbour).
    next: AtomicPtr<PortDevice>,
    /// The physical device object: what `IoGetDmaAdapter` is asked about.
    pdo: PDEVICE_OBJECT,
    /// The port's functional device object, or NULL before one exists.
    fdo: PDEVICE_OBJECT,
    hw_extension_size: u32,
    /// The miniport's `HwDeviceExtension`, right after this struct. Kept as a pointer made from
    /// the whole extension's pointer at attach: one computed from `&self` would carry only the
    /// reference's read-only permission for the `PortDevice`'s own bytes, and the miniport
    /// writes its extension through it (Miri reported that).
    hw_extension: PVOID,
    /// Adapters, transfers, common buffers and locked buffers of this device.
    pub(crate) dma: DeviceDma,
    /// The port core: driver, lower device, resources, mappings, interrupt, DPC.
    pub(crate) port: PortState,
}

struct Registry {
    head: *mut PortDevice,
}
// SAFETY: the registry only stores addresses; it is reachable only through its lock.
unsafe impl Send for Registry {}

/// A HIGH_LEVEL lock: entry points an ISR may call (VideoPortQueueDpc) look devices up too.
static DEVICES: HighLock<Registry> = HighLock::new(Registry { head: null_mut() });

/// Devices a miniport may name by their `HwDeviceExtension` without a lock: the addresses of
/// the registered devices, changed only under the `DEVICES` lock. A video port hosts a few
/// devices; more than this many are still found, through the locked list.
static LIVE: LiveSet<PortDevice, 32> = LiveSet::new();

impl PortDevice {
    /// Bytes the FDO's device extension needs for a miniport extension of `hw_size` bytes.
    pub const fn extension_size(hw_size: u32) -> usize {
        size_of::<PortDevice>() + hw_size as usize
    }

    /// Initialises a `PortDevice` at `at` (the start of a zeroed device extension of
    /// [`extension_size`](Self::extension_size) bytes) and registers it.
    ///
    /// # Safety
    /// `at` must be 16-byte aligned, valid for `extension_size(hw_extension_size)` bytes, and stay
    /// valid until [`detach`](Self::detach). `pdo` must be a live device object.
    pub unsafe fn attach(
        at: NonNull<PortDevice>,
        pdo: PDEVICE_OBJECT,
        fdo: PDEVICE_OBJECT,
        hw_extension_size: u32,
    ) -> &'static PortDevice {
        // SAFETY: the caller guarantees `at` is valid and aligned for a PortDevice.
        unsafe {
            at.as_ptr().write(PortDevice {
                next: AtomicPtr::new(null_mut()),
                pdo,
                fdo,
                hw_extension_size,
                hw_extension: at
                    .as_ptr()
                    .cast::<u8>()
                    .wrapping_add(size_of::<PortDevice>())
                    .cast(),
                dma: DeviceDma::new(),
                port: PortState::new(),
            })
        };
        // SAFETY: initialised above; the address is stable until detach.
        unsafe { (*at.as_ptr()).port.init(at.as_ptr()) };
        let mut registry = DEVICES.lock();
        // SAFETY: `at` was just initialised and is not yet shared.
        unsafe { (*at.as_ptr()).next.store(registry.head, Relaxed) };
        registry.head = at.as_ptr();
        LIVE.insert(at.as_ptr());
        // SAFETY: registered devices stay valid until detach (caller's contract).
        unsafe { &*at.as_ptr() }
    }

    /// Reclaims every DMA resource, pool block, event and spin lock the miniport left behind
    /// (reporting each), unhooks its bug check callback (silently: the normal end of a hook), and removes the device from the
    /// registry. Must run at PASSIVE_LEVEL.
    ///
    /// # Safety
    /// No miniport call on this device may run concurrently or follow; the memory may be freed
    /// once this returns.
    pub unsafe fn detach(&self) {
        self.dma.reclaim_all(self);
        self.reclaim_objects();
        self.port.bugcheck.release();
        let mut registry = DEVICES.lock();
        let me = self as *const PortDevice as *mut PortDevice;
        let next = self.next.load(Relaxed);
        if registry.head == me {
            registry.head = next;
            LIVE.remove(me);
            return;
        }
        let mut cursor = registry.head;
        while !cursor.is_null() {
            // SAFETY: every pointer in the list is a registered, live device (module invariant).
            let device = unsafe { &*cursor };
            if device.next.load(Relaxed) == me {
                device.next.store(next, Relaxed);
                LIVE.remove(me);
                break;
            }
            cursor = device.next.load(Relaxed);
        }
    }

    /// The live device whose functional device object is `fdo`, or `None` (not reported).
    pub fn from_fdo(fdo: PDEVICE_OBJECT) -> Option<&'static PortDevice> {
        let registry = DEVICES.lock();
        let mut cursor = registry.head;
        while !cursor.is_null() {
            // SAFETY: registered devices are live until detach (module invariant).
            unsafe {
                if !fdo.is_null() && (*cursor).fdo == fdo {
                    return Some(&*cursor);
                }
                cursor = (*cursor).next.load(Relaxed);
            }
        }
        None
    }

    /// The port's functional device object (NULL for devices attached without one).
    pub fn fdo(&self) -> PDEVICE_OBJECT {
        self.fdo
    }

    /// The live device whose miniport extension is `hw_extension`, or `None` (reported).
    /// Lock-free and callable at any IRQL; `hw_extension` is compared, never dereferenced,
    /// until it is known to be a registered device's.
    #[inline]
    pub fn from_hw_extension(
        routine: &'static str,
        hw_extension: PVOID,
    ) -> Option<&'static PortDevice> {
        // Pointer arithmetic, not an integer round trip: the result keeps the provenance of the
        // pointer the port gave the miniport (made from the whole extension at attach).
        let candidate = hw_extension
            .cast::<u8>()
            .wrapping_sub(size_of::<PortDevice>())
            .cast::<PortDevice>();
        let found = match LIVE.lookup(candidate) {
            Lookup::Live => candidate,
            Lookup::NotLive => null_mut(),
            Lookup::Ask => Self::from_hw_extension_locked(candidate),
        };
        match NonNull::new(found) {
            // SAFETY: registered devices are live until detach (module invariant), and the
            // caller of an entry point may not detach the device it names meanwhile.
            Some(device) => Some(unsafe { device.as_ref() }),
            None => {
                Self::unknown(&routine, hw_extension);
                None
            }
        }
    }

    /// The registry walk under its lock, for when more devices are live than [`LIVE`] holds.
    /// (Cold paths of entry points are `extern "ntapi"`: see [`report::misuse`].)
    #[cold]
    #[inline(never)]
    #[ddk_sys::ntapi]
    extern "ntapi" fn from_hw_extension_locked(candidate: *mut PortDevice) -> *mut PortDevice {
        let registry = DEVICES.lock();
        let mut cursor = registry.head;
        while !cursor.is_null() {
            if cursor == candidate {
                return cursor;
            }
            // SAFETY: registered devices are live until detach (module invariant).
            cursor = unsafe { (*cursor).next.load(Relaxed) };
        }
        null_mut()
    }

    /// Reports an `HwDeviceExtension` that is no live device's.
    #[cold]
    #[inline(never)]
    #[ddk_sys::ntapi]
    extern "ntapi" fn unknown(routine: &&'static str, hw_extension: PVOID) {
        report::misuse(
            routine,
            Misuse::Port {
                code: port_code::UNKNOWN_DEVICE_EXTENSION,
                p2: hw_extension as usize,
                p3: 0,
            },
        );
    }

    /// The miniport's `HwDeviceExtension`.
    pub fn hw_extension(&self) -> PVOID {
        self.hw_extension
    }

    pub fn hw_extension_size(&self) -> u32 {
        self.hw_extension_size
    }

    pub fn pdo(&self) -> PDEVICE_OBJECT {
        self.pdo
    }

    /// The device object the HAL's scatter/gather requests are made for: the FDO once the port
    /// has one, otherwise the PDO.
    pub fn dma_device_object(&self) -> PDEVICE_OBJECT {
        if self.fdo.is_null() {
            self.pdo
        } else {
            self.fdo
        }
    }
}
