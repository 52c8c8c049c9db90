//! `VideoPortGetDmaAdapter` and `VideoPortPutDmaAdapter`: the port's bus-master adapters.
//!
//! C interface (`video.h`):
//! `PVP_DMA_ADAPTER VideoPortGetDmaAdapter(PVOID HwDeviceExtension, PVP_DEVICE_DESCRIPTION)`,
//! `VOID VideoPortPutDmaAdapter(PVOID HwDeviceExtension, PVP_DMA_ADAPTER)`, both PASSIVE_LEVEL.
//!
//! The opaque `PVP_DMA_ADAPTER` a miniport holds is the address of an [`Adapter`], which wraps
//! the HAL adapter from `IoGetDmaAdapter`, its granted map-register count, the transfer slots
//! and the common buffers allocated through it. A device may hold several adapters (one per
//! concurrent DMA engine). Every incoming handle is looked up in its device's list before use.

use super::common_buffer::{CommonBuffer, CommonBufferList};
use super::hal::HalAdapter;
use super::pending::PendingCallbacks;
use super::transfer::{TransferParams, TransferSlot, ACTIVE, PENDING};
use crate::device::PortDevice;
use crate::irql::{self, Irql};
use crate::live::Lookup;
use crate::pool;
use crate::report::{self, port_code, Misuse};
use crate::slist::{Link, Linked, SList};
use crate::sync::SpinLock;
use core::cell::UnsafeCell;
use core::ptr::{null_mut, NonNull};
use ddk_sys::*;

/// Transfers one adapter may have between StartDma and CompleteDma. A StartDma beyond this
/// returns ERROR_NOT_ENOUGH_MEMORY, like any other shortage of DMA resources.
pub const TRANSFER_SLOTS: usize = 32;

pub struct Adapter {
    next: Link<Adapter>,
    pub(crate) hal: HalAdapter,
    /// Bytes the map registers one transfer may use (from `IoGetDmaAdapter`) span from a page
    /// boundary, at most `u32::MAX`.
    pub(crate) map_bytes: u32,
    /// The miniport's `VP_DEVICE_DESCRIPTION.MaximumLength`, or `u32::MAX` when it gave 0 (no
    /// limit of its own).
    pub(crate) max_chunk: u32,
    /// The device's `HwDeviceExtension`, passed to HwVidExecuteDma.
    pub(crate) hw_extension: PVOID,
    /// The device object the HAL's scatter/gather requests are made for
    /// ([`PortDevice::dma_device_object`], fixed for the device's life).
    pub(crate) dma_device: PDEVICE_OBJECT,
    pub(crate) transfers: [TransferSlot; TRANSFER_SLOTS],
    pub(crate) common_buffers: SpinLock<CommonBufferList>,
    /// HAL callbacks queued and not finished, and whether the adapter is closing.
    pub(crate) pending: PendingCallbacks,
    /// Signalled by the last callback to leave `pending` once the adapter is closing.
    drained: UnsafeCell<KEVENT>,
}

// SAFETY: shared state is atomic or behind spin locks; the event is a kernel object.
unsafe impl Sync for Adapter {}
// SAFETY: as above.
unsafe impl Send for Adapter {}

impl Adapter {
    /// The handle a miniport holds.
    pub fn handle(&self) -> PVP_DMA_ADAPTER {
        self as *const Adapter as PVP_DMA_ADAPTER
    }

    /// A free transfer slot, claimed with `params` for `mdl`, or `None` when all are in use.
    #[inline]
    pub(crate) fn claim_slot(&self, params: TransferParams, mdl: PMDL) -> Option<&TransferSlot> {
        // First fit, the first slot tried on its own: a miniport with one transfer in flight at
        // a time (the usual video DMA engine) claims it with one compare-and-swap.
        let (first, rest) = self.transfers.split_first()?;
        if first.claim(params, mdl) {
            return Some(first);
        }
        rest.iter().find(|slot| slot.claim(params, mdl))
    }

    /// The slot holding `list`, claimed for completion, or `None` if no slot holds it.
    #[inline]
    pub(crate) fn claim_for_completion(&self, list: PSCATTER_GATHER_LIST) -> Option<&TransferSlot> {
        if list.is_null() {
            return None;
        }
        let (first, rest) = self.transfers.split_first()?;
        if first.claim_for_completion(list) {
            return Some(first);
        }
        rest.iter().find(|slot| slot.claim_for_completion(list))
    }

    /// Called when a queued HAL callback is done with the adapter (or was never queued).
    #[inline]
    pub(crate) fn pending_done(&self) {
        if self.pending.leave() {
            // SAFETY: the event was initialised when the adapter was created.
            unsafe { KeSetEvent(self.drained.get(), 0, FALSE) };
        }
    }

    /// Releases everything the adapter holds, then the HAL adapter. The adapter must already be
    /// out of its device's list. PASSIVE_LEVEL.
    ///
    /// Transfers still outstanding are always reported (a device may still be writing).
    /// Common buffers are reported only when the miniport releases the adapter: at device
    /// removal they are the normal end of an XDDM adapter's life, since a video miniport has no
    /// teardown callback in which to release them.
    fn release(adapter: NonNull<Adapter>, routine: &'static str, why: Release) {
        // SAFETY: the adapter is unlinked, so this thread is its last user.
        let this = unsafe { adapter.as_ref() };
        if this.pending.close() {
            // A queued GetScatterGatherList cannot be cancelled; its callback sees `closing`
            // and hands the list straight back, so waiting here ends. A callback already in
            // the miniport's HwVidExecuteDma leaves when that returns.
            // SAFETY: the event lives as long as the adapter; PASSIVE_LEVEL wait.
            unsafe {
                KeWaitForSingleObject(this.drained.get().cast(), 0, KernelMode, FALSE, null_mut());
            }
        }
        let active = this
            .transfers
            .iter()
            .filter(|t| t.state() == ACTIVE)
            .count();
        if active != 0 {
            report::misuse(
                routine,
                Misuse::AdapterReleasedWithLists {
                    adapter: this.handle() as usize,
                    count: active,
                },
            );
            for slot in &this.transfers {
                if let Some(list) = slot.claim_any_active() {
                    let write = slot.params().write_to_device;
                    // SAFETY: the list is outstanding on this adapter and the slot is ours.
                    irql::at_dispatch(|| unsafe { this.hal.put_scatter_gather_list(list, write) });
                    slot.release();
                }
            }
        }
        let buffers = this.common_buffers.lock().iter().count();
        if buffers != 0 && why == Release::ByMiniport {
            report::misuse(
                routine,
                Misuse::AdapterReleasedWithCommonBuffers {
                    adapter: this.handle() as usize,
                    count: buffers,
                },
            );
        }
        loop {
            // The guard must drop before the free: FreeCommonBuffer runs at PASSIVE_LEVEL.
            let Some(buffer) = this.common_buffers.lock().pop() else {
                break;
            };
            // SAFETY: the record holds the exact values of a live allocation on this adapter.
            unsafe { CommonBuffer::free(buffer, &this.hal) };
        }
        // SAFETY: every list and common buffer of the HAL adapter is gone; the record is freed next.
        unsafe { this.hal.put() };
        // SAFETY: `adapter` came from pool::alloc and nothing refers to it any more.
        unsafe { pool::free(adapter) };
    }
}

/// Who releases an adapter.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Release {
    /// VideoPortPutDmaAdapter.
    ByMiniport,
    /// The device goes away.
    DeviceRemoval,
}

/// The adapters of one device.
pub(crate) type AdapterList = SList<Adapter>;

impl Linked for Adapter {
    fn link(&self) -> &Link<Self> {
        &self.next
    }
}

impl PortDevice {
    /// The live adapter behind `handle` on this device, or the reported reason it is not.
    ///
    /// Callers must not release the adapter concurrently (the documented contract of
    /// VideoPortPutDmaAdapter: the adapter is never used again after it).
    #[inline]
    pub(crate) fn adapter(
        &self,
        routine: &'static str,
        handle: PVP_DMA_ADAPTER,
    ) -> Option<&Adapter> {
        if handle.is_null() {
            report::misuse(routine, Misuse::NullAdapter);
            return None;
        }
        let found = match self.dma.live_adapters.lookup(handle.cast()) {
            Lookup::Live => Some(handle.cast::<Adapter>()),
            Lookup::NotLive => None,
            Lookup::Ask => Some(self.adapter_locked(handle)).filter(|a| !a.is_null()),
        };
        match found {
            // SAFETY: the handle is a listed adapter's address (see `live_adapters`); listed
            // adapters are live until released, which callers do not race.
            Some(adapter) => Some(unsafe { &*adapter }),
            None => {
                report::misuse(
                    routine,
                    Misuse::AdapterNotLive {
                        adapter: handle as usize,
                    },
                );
                None
            }
        }
    }

    /// The list walk under the lock, for when more adapters are live than `live_adapters`
    /// holds: the adapter, or NULL. (Cold paths of entry points are `extern "ntapi"`: see
    /// [`report::misuse`].)
    #[cold]
    #[inline(never)]
    #[ddk_sys::ntapi]
    extern "ntapi" fn adapter_locked(&self, handle: PVP_DMA_ADAPTER) -> *mut Adapter {
        self.dma
            .adapters
            .lock()
            .iter()
            .find(|a| core::ptr::eq(a.handle(), handle))
            .map_or(null_mut(), |a| NonNull::from(a).as_ptr())
    }

    /// Creates an adapter from `desc`; the core of VideoPortGetDmaAdapter. PASSIVE_LEVEL.
    pub(crate) fn create_adapter(&self, desc: &VP_DEVICE_DESCRIPTION) -> Option<&Adapter> {
        let mut description = wdm_description(desc);
        let mut map_registers = 0u32;
        // SAFETY: the PDO is live while the device is registered; the out-pointers are valid.
        let hal = NonNull::new(unsafe {
            IoGetDmaAdapter(self.pdo(), &mut description, &mut map_registers)
        })?;
        // SAFETY: `hal` is a fresh adapter from IoGetDmaAdapter, owned by the record from here on.
        let hal = unsafe { HalAdapter::new(hal) };
        let record = Adapter {
            next: Link::new(),
            hal,
            map_bytes: u32::try_from(u64::from(map_registers) * PAGE_SIZE as u64)
                .unwrap_or(u32::MAX),
            max_chunk: match desc.MaximumLength {
                0 => u32::MAX,
                n => n,
            },
            hw_extension: self.hw_extension(),
            dma_device: self.dma_device_object(),
            transfers: [const { TransferSlot::new() }; TRANSFER_SLOTS],
            common_buffers: SpinLock::new(CommonBufferList::new()),
            pending: PendingCallbacks::new(),
            // SAFETY: KEVENT is plain data; KeInitializeEvent below sets it up in place.
            drained: UnsafeCell::new(unsafe { core::mem::zeroed() }),
        };
        let adapter = match pool::alloc(record) {
            Ok(adapter) => adapter,
            Err(record) => {
                // SAFETY: the HAL adapter is fresh: no list or common buffer exists on it.
                unsafe { record.hal.put() };
                return None;
            }
        };
        // SAFETY: the record is not shared yet and its address is now stable.
        unsafe {
            KeInitializeEvent(
                (*adapter.as_ptr()).drained.get(),
                EVENT_TYPE::NotificationEvent,
                FALSE,
            );
            for slot in &(*adapter.as_ptr()).transfers {
                slot.set_owner(adapter.as_ptr());
            }
        };
        let mut adapters = self.dma.adapters.lock();
        adapters.push(adapter);
        self.dma.live_adapters.insert(adapter.as_ptr());
        drop(adapters);
        // SAFETY: listed adapters are live until released.
        Some(unsafe { &*adapter.as_ptr() })
    }

    /// Unlinks and releases the adapter behind `handle`; reports a handle that is not live.
    /// PASSIVE_LEVEL.
    pub(crate) fn put_adapter(&self, routine: &'static str, handle: PVP_DMA_ADAPTER) {
        let mut adapters = self.dma.adapters.lock();
        let unlinked = adapters.take(|a| core::ptr::eq(a.handle(), handle));
        if let Some(adapter) = unlinked {
            self.dma.live_adapters.remove(adapter.as_ptr());
        }
        drop(adapters);
        match unlinked {
            Some(adapter) => Adapter::release(adapter, routine, Release::ByMiniport),
            None => report::misuse(
                routine,
                Misuse::AdapterNotLive {
                    adapter: handle as usize,
                },
            ),
        }
    }

    /// Unlinks and releases every adapter (device removal). PASSIVE_LEVEL.
    pub(crate) fn release_all_adapters(&self, routine: &'static str) {
        loop {
            let mut adapters = self.dma.adapters.lock();
            let Some(adapter) = adapters.pop() else {
                break;
            };
            self.dma.live_adapters.remove(adapter.as_ptr());
            drop(adapters);
            Adapter::release(adapter, routine, Release::DeviceRemoval);
        }
    }
}

/// The WDM description of a PCI bus master with the miniport's capabilities (version 3: the
/// address width is given in bits; the 32/64-bit flags are kept for older HALs that read them).
fn wdm_description(desc: &VP_DEVICE_DESCRIPTION) -> DEVICE_DESCRIPTION {
    let dma64 = desc.Dma64BitAddresses != FALSE;
    DEVICE_DESCRIPTION {
        Version: DEVICE_DESCRIPTION_VERSION3,
        Master: TRUE,
        ScatterGather: (desc.ScatterGather != FALSE) as BOOLEAN,
        Dma32BitAddresses: (!dma64) as BOOLEAN,
        Dma64BitAddresses: dma64 as BOOLEAN,
        InterfaceType: INTERFACE_TYPE::PCIBus,
        MaximumLength: desc.MaximumLength,
        DmaAddressWidth: if dma64 { 64 } else { 32 },
        ..DEVICE_DESCRIPTION::default()
    }
}

/// `VideoPortGetDmaAdapter`: a bus-master adapter for the miniport's device, or NULL.
///
/// # Safety
/// `vp_device_description`, when not NULL, must point to a readable `VP_DEVICE_DESCRIPTION`.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortGetDmaAdapter(
    hw_device_extension: PVOID,
    vp_device_description: PVP_DEVICE_DESCRIPTION,
) -> PVP_DMA_ADAPTER {
    const ROUTINE: &str = "VideoPortGetDmaAdapter";
    let Some(device) = super::entry(ROUTINE, hw_device_extension, Irql::PASSIVE) else {
        return null_mut();
    };
    // SAFETY: the caller guarantees a non-NULL description is readable.
    let Some(desc) = (unsafe { vp_device_description.as_ref() }) else {
        report::misuse(
            ROUTINE,
            Misuse::Port {
                code: port_code::NULL_ARGUMENT,
                p2: 2,
                p3: 0,
            },
        );
        return null_mut();
    };
    device
        .create_adapter(desc)
        .map_or(null_mut(), Adapter::handle)
}

/// `VideoPortPutDmaAdapter`: releases an adapter. Transfers and common buffers still
/// outstanding on it are reported and reclaimed first.
///
/// # Safety
/// Callable with any arguments; no other call may use the adapter concurrently or afterwards.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortPutDmaAdapter(
    hw_device_extension: PVOID,
    vp_dma_adapter: PVP_DMA_ADAPTER,
) {
    const ROUTINE: &str = "VideoPortPutDmaAdapter";
    let Some(device) = super::entry(ROUTINE, hw_device_extension, Irql::PASSIVE) else {
        return;
    };
    if vp_dma_adapter.is_null() {
        report::misuse(ROUTINE, Misuse::NullAdapter);
        return;
    }
    device.put_adapter(ROUTINE, vp_dma_adapter);
}

/// Whether a transfer is still outstanding on `mdl` on any of the device's adapters.
pub(crate) fn transfers_on_mdl(device: &PortDevice, mdl: PMDL) -> usize {
    let adapters = device.dma.adapters.lock();
    adapters
        .iter()
        .flat_map(|a| a.transfers.iter())
        .filter(|t| matches!(t.state(), PENDING | ACTIVE) && t.mdl() == mdl)
        .count()
}
