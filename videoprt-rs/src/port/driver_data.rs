//! Where the port keeps a miniport driver's registration (its `VIDEO_HW_INITIALIZATION_DATA`,
//! context and registry path) from `VideoPortInitialize` until the driver unloads.
//!
//! C interface: `IoAllocateDriverObjectExtension` / `IoGetDriverObjectExtension`, keyed by the
//! port's client identification address. The extension is freed by the I/O manager with the
//! driver object, so nothing leaks even when a DriverEntry fails after VideoPortInitialize.
//!
//! Some NT kernels implement the rest of the I/O manager but not driver-object extensions
//! (Wine 8's ntoskrnl returns STATUS_NOT_IMPLEMENTED). There, and only there, the block comes
//! from pool and is kept in a port-owned table keyed by the driver object; DriverUnload frees
//! it. Behaviour on Windows is unchanged: the table is never used there.
//!
//! Invariants of the table: a slot is free (`driver == 0`) or owns its pool block; a driver
//! object has at most one slot. A slot whose driver object address is reused by a different
//! image (its DriverInit differs: the earlier driver failed DriverEntry and was never
//! unloaded) is stale and is replaced, so a new driver never sees another's callbacks.

use super::initialize::DriverExtension;
use crate::pool::TAG;
use crate::sync::SpinLock;
use core::ptr::{null_mut, NonNull};
use ddk_sys::*;

/// Drivers the fallback table holds at once (each hosts any number of devices).
const SLOTS: usize = 16;

#[derive(Clone, Copy)]
struct Slot {
    driver: usize,
    /// `DriverObject->DriverInit` when registered: tells a reused driver-object address apart.
    image: usize,
    block: usize,
}

const FREE: Slot = Slot {
    driver: 0,
    image: 0,
    block: 0,
};

static TABLE: SpinLock<[Slot; SLOTS]> = SpinLock::new([FREE; SLOTS]);

/// The identifier of the port's driver-object extension.
static CLIENT_ID: u8 = 0;

fn client_id() -> PVOID {
    &CLIENT_ID as *const u8 as PVOID
}

/// Why no block was handed out.
#[derive(Debug, PartialEq, Eq)]
pub enum RegisterError {
    /// The driver already registered (a second VideoPortInitialize): keep the first.
    AlreadyRegistered,
    /// Out of pool, or the fallback table is full.
    NoMemory,
}

/// Where a registration lives, for the trace and the tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    DriverObjectExtension,
    PortTable,
}

fn image_of(driver: *mut DRIVER_OBJECT) -> usize {
    // SAFETY: a live driver object (callers' contract).
    unsafe { (*driver).DriverInit.map_or(0, |f| f as usize) }
}

/// A zeroed block of `size` bytes for `driver`'s registration. PASSIVE_LEVEL.
///
/// # Safety
/// `driver` must be a live driver object.
pub unsafe fn register(
    driver: *mut DRIVER_OBJECT,
    size: usize,
) -> Result<(NonNull<DriverExtension>, Storage), RegisterError> {
    let Ok(size32) = u32::try_from(size) else {
        return Err(RegisterError::NoMemory);
    };
    let mut block: PVOID = null_mut();
    // SAFETY: a live driver object (contract); the out pointer is valid.
    let status =
        unsafe { IoAllocateDriverObjectExtension(driver, client_id(), size32, &mut block) };
    if status == STATUS_OBJECT_NAME_COLLISION {
        return Err(RegisterError::AlreadyRegistered);
    }
    if status != STATUS_NOT_IMPLEMENTED {
        return match NonNull::new(block.cast::<DriverExtension>()) {
            Some(block) if status.is_success() => Ok((block, Storage::DriverObjectExtension)),
            _ => Err(RegisterError::NoMemory),
        };
    }
    register_in_table(driver, size).map(|block| (block, Storage::PortTable))
}

fn register_in_table(
    driver: *mut DRIVER_OBJECT,
    size: usize,
) -> Result<NonNull<DriverExtension>, RegisterError> {
    let image = image_of(driver);
    let fresh = crate::system::allocate_nonpaged_zeroed(size, TAG);
    let Some(fresh) = NonNull::new(fresh.cast::<DriverExtension>()) else {
        return Err(RegisterError::NoMemory);
    };
    let (result, stale) = {
        let mut table = TABLE.lock();
        if let Some(slot) = table.iter_mut().find(|s| s.driver == driver as usize) {
            if slot.image == image {
                (Err(RegisterError::AlreadyRegistered), None)
            } else {
                let stale = slot.block;
                *slot = Slot {
                    driver: driver as usize,
                    image,
                    block: fresh.as_ptr() as usize,
                };
                (Ok(fresh), Some(stale))
            }
        } else if let Some(slot) = table.iter_mut().find(|s| s.driver == 0) {
            *slot = Slot {
                driver: driver as usize,
                image,
                block: fresh.as_ptr() as usize,
            };
            (Ok(fresh), None)
        } else {
            (Err(RegisterError::NoMemory), None)
        }
    };
    if result.is_err() {
        // SAFETY: allocated above and never published.
        unsafe { ExFreePoolWithTag(fresh.as_ptr().cast(), TAG) };
    }
    if let Some(stale) = stale {
        // SAFETY: the stale slot owned this block and no longer refers to it.
        unsafe { ExFreePoolWithTag(stale as PVOID, TAG) };
    }
    result
}

/// The registration of `driver`, or NULL if it never called VideoPortInitialize.
///
/// # Safety
/// `driver` must be a live driver object.
pub unsafe fn lookup(driver: *mut DRIVER_OBJECT) -> *mut DriverExtension {
    // SAFETY: a live driver object (contract).
    let ext = unsafe { IoGetDriverObjectExtension(driver, client_id()) };
    if !ext.is_null() {
        return ext.cast();
    }
    let image = image_of(driver);
    let table = TABLE.lock();
    table
        .iter()
        .find(|s| s.driver == driver as usize && s.image == image)
        .map_or(null_mut(), |s| s.block as *mut DriverExtension)
}

/// Forgets `driver`'s registration at unload. The I/O manager frees a driver-object extension
/// itself; a table block is freed here.
pub fn release(driver: *mut DRIVER_OBJECT) {
    let block = {
        let mut table = TABLE.lock();
        table
            .iter_mut()
            .find(|s| s.driver == driver as usize)
            .map(|slot| core::mem::replace(slot, FREE).block)
    };
    if let Some(block) = block {
        // SAFETY: the slot owned the block; it is no longer reachable from the table.
        unsafe { ExFreePoolWithTag(block as PVOID, TAG) };
    }
}
