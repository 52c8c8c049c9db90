//! VideoPort DMA services, one file per family:
//!
//! | file | functions |
//! |---|---|
//! | `adapter.rs` | VideoPortGetDmaAdapter, VideoPortPutDmaAdapter |
//! | `start.rs` | VideoPortStartDma |
//! | `complete.rs` | VideoPortCompleteDma |
//! | `lock.rs` | VideoPortLockBuffer, VideoPortUnlockBuffer, VideoPortLockPages, VideoPortUnlockPages |
//! | `common_buffer.rs` | VideoPortAllocateCommonBuffer, VideoPortReleaseCommonBuffer |
//! | `legacy_common_buffer.rs` | VideoPortGetCommonBuffer, VideoPortFreeCommonBuffer, VideoPortAllocateContiguousMemory |
//! | `obsolete.rs` | the fixed-result Windows 2000 functions (VideoPortDoDma, ...) |
//!
//! `hal.rs` calls the HAL adapter's `DMA_OPERATIONS`; `transfer.rs` holds the per-adapter
//! transfer slots that make StartDma allocation-free; `pending.rs` is how releasing an
//! adapter waits for the HAL callbacks queued on it.

pub mod adapter;
pub mod common_buffer;
pub mod complete;
mod hal;
pub mod legacy_common_buffer;
pub mod lock;
pub mod obsolete;
mod pending;
pub mod start;
mod transfer;

use crate::device::PortDevice;
use crate::irql::{self, Irql};
use crate::live::LiveSet;
use crate::sync::SpinLock;
use adapter::{Adapter, AdapterList};
use core::ptr::null_mut;
use core::sync::atomic::AtomicPtr;
use legacy_common_buffer::ContiguousList;
use lock::LockedList;

/// The start of every DMA export: the caller's IRQL within `max`, and `hw_device_extension`
/// one the port handed out. Either failure is reported; `None` tells the export to return.
pub(crate) fn entry(
    routine: &'static str,
    hw_device_extension: ddk_sys::PVOID,
    max: Irql,
) -> Option<&'static PortDevice> {
    entry_at(routine, hw_device_extension, max).map(|(device, _)| device)
}

/// [`entry`], also returning the caller's IRQL (read once).
#[inline]
pub(crate) fn entry_at(
    routine: &'static str,
    hw_device_extension: ddk_sys::PVOID,
    max: Irql,
) -> Option<(&'static PortDevice, Irql)> {
    let irql = irql::at_most(routine, max)?;
    Some((
        PortDevice::from_hw_extension(routine, hw_device_extension)?,
        irql,
    ))
}

/// The DMA resources of one device.
///
/// The adapter and locked-buffer lists are the records; `live_adapters` and `live_mdls` hold
/// the same addresses (adapter records, locked MDLs) for lock-free handle checks (see
/// [`LiveSet`]), changed only together with their list, under its lock.
pub(crate) struct DeviceDma {
    pub adapters: SpinLock<AdapterList>,
    pub live_adapters: LiveSet<Adapter, 8>,
    pub locked: SpinLock<LockedList>,
    pub live_mdls: LiveSet<ddk_sys::MDL, 16>,
    pub contiguous: SpinLock<ContiguousList>,
    /// The implicit adapter of VideoPortGetCommonBuffer, created on first use.
    pub legacy_adapter: AtomicPtr<Adapter>,
}

impl DeviceDma {
    pub const fn new() -> Self {
        Self {
            adapters: SpinLock::new(AdapterList::new()),
            live_adapters: LiveSet::new(),
            locked: SpinLock::new(LockedList::new()),
            live_mdls: LiveSet::new(),
            contiguous: SpinLock::new(ContiguousList::new()),
            legacy_adapter: AtomicPtr::new(null_mut()),
        }
    }

    /// Device removal: releases every adapter (with its transfers and common buffers), then
    /// unlocks every locked buffer and frees contiguous memory. Transfers still outstanding and
    /// buffers still locked are reported; adapters, common buffers and contiguous memory held
    /// until removal are the normal XDDM lifetime (a miniport has no teardown callback).
    pub(crate) fn reclaim_all(&self, device: &PortDevice) {
        const ROUTINE: &str = "device removal";
        self.legacy_adapter
            .store(null_mut(), core::sync::atomic::Ordering::Release);
        device.release_all_adapters(ROUTINE);
        device.unlock_all(ROUTINE);
        loop {
            // The guard must drop before the free, which runs at PASSIVE_LEVEL.
            let Some(block) = self.contiguous.lock().pop() else {
                break;
            };
            // SAFETY: the block is unlinked and was allocated by AllocateContiguousMemory.
            unsafe { legacy_common_buffer::ContiguousBlock::free(block) };
        }
    }
}
