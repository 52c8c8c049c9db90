//! `VideoPortAllocatePool`, `VideoPortFreePool`, and the obsolete `VideoPortAllocateBuffer`
//! and `VideoPortReleaseBuffer`: pool memory for a miniport.
//!
//! C interface (`video.h`):
//! - `PVOID VideoPortAllocatePool(PVOID HwDeviceExtension, VP_POOL_TYPE PoolType,
//!   SIZE_T NumberOfBytes, ULONG Tag)`: NULL on failure. Paged types at or below APC_LEVEL,
//!   non-paged at or below DISPATCH_LEVEL.
//! - `VOID VideoPortFreePool(PVOID HwDeviceExtension, PVOID Ptr)`: same IRQL rules as the
//!   block's type.
//! - `VP_STATUS VideoPortAllocateBuffer(PVOID HwDeviceExtension, ULONG Size, PVOID *Buffer)`:
//!   paged pool, PASSIVE_LEVEL; NO_ERROR or ERROR_NOT_ENOUGH_MEMORY.
//! - `VOID VideoPortReleaseBuffer(PVOID HwDeviceExtension, PVOID Buffer)`: PASSIVE_LEVEL.
//!
//! `VP_POOL_TYPE` maps to the kernel's pool types (non-paged memory is no-execute where the
//! kernel can say so, see [`crate::system`]); the miniport's tag is the pool tag, so its blocks
//! show under its own name in pool dumps (a zero tag, which `ExAllocatePool2` refuses, becomes
//! the port's "Vprs"). Blocks come back zeroed (the documentation promises
//! nothing; zeroed memory never leaks another owner's data). Each block is recorded on its
//! device: a free of anything else (never allocated here, freed twice, another device's) is
//! reported and refused, and blocks left at device removal are reported and freed.

use super::objects::{self, kind, PoolBlock};
use crate::device::PortDevice;
use crate::irql::{require_at_most, Irql};
use crate::report::{self, port_code, Misuse};
use crate::system::{self, PoolKind};
use core::ptr::null_mut;
use ddk_sys::*;

/// Pool tag of VideoPortAllocateBuffer blocks ("VprB").
const BUFFER_TAG: u32 = u32::from_le_bytes(*b"VprB");

/// The kernel pool kind of a `VP_POOL_TYPE`, or `None` for a value video.h does not define.
fn kind_of(pool_type: VP_POOL_TYPE) -> Option<PoolKind> {
    match pool_type {
        VP_POOL_TYPE::VpNonPagedPool => Some(PoolKind::NonPaged),
        VP_POOL_TYPE::VpPagedPool => Some(PoolKind::Paged),
        VP_POOL_TYPE::VpNonPagedPoolCacheAligned => Some(PoolKind::NonPagedCacheAligned),
        VP_POOL_TYPE::VpPagedPoolCacheAligned => Some(PoolKind::PagedCacheAligned),
        _ => None,
    }
}

/// Allocates, records and returns a zeroed block; NULL (nothing recorded) on failure.
fn allocate(device: &PortDevice, kind: PoolKind, size: usize, tag: u32, buffer: bool) -> PVOID {
    let block = system::allocate(kind, size, tag);
    if block.is_null() {
        return null_mut();
    }
    match crate::pool::alloc(PoolBlock::new(block as usize, tag, buffer)) {
        Ok(record) => {
            device.port.objects.lock().pool.push(record);
            block
        }
        Err(_) => {
            // SAFETY: allocated above with this tag, never handed out.
            unsafe { ExFreePoolWithTag(block, tag) };
            null_mut()
        }
    }
}

/// Unlinks and frees the block at `address` if it is one of this device's; reports otherwise.
fn free(routine: &'static str, device: &PortDevice, address: PVOID, buffer: bool) {
    let record = device
        .port
        .objects
        .lock()
        .pool
        .take(|b| b.address == address as usize);
    let Some(record) = record else {
        objects::unknown(
            routine,
            if buffer { kind::BUFFER } else { kind::POOL },
            address as usize,
        );
        return;
    };
    // SAFETY: unlinked above: the record and its block belong to this call alone.
    unsafe {
        ExFreePoolWithTag(address, record.as_ref().tag);
        crate::pool::free(record);
    }
}

/// `VideoPortAllocatePool`.
///
/// # Safety
/// `HwDeviceExtension` may be anything (it is validated).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortAllocatePool(
    HwDeviceExtension: PVOID,
    PoolType: VP_POOL_TYPE,
    NumberOfBytes: SIZE_T,
    Tag: ULONG,
) -> PVOID {
    const ROUTINE: &str = "VideoPortAllocatePool";
    let Some(kind) = kind_of(PoolType) else {
        report::misuse(
            ROUTINE,
            Misuse::Port {
                code: port_code::BAD_ARGUMENT,
                p2: PoolType.0 as usize,
                p3: VP_POOL_TYPE::VpPagedPoolCacheAligned.0 as usize,
            },
        );
        return null_mut();
    };
    let limit = if kind.is_paged() {
        Irql::APC
    } else {
        Irql::DISPATCH
    };
    if !require_at_most(ROUTINE, limit) {
        return null_mut();
    }
    let Some(device) = PortDevice::from_hw_extension(ROUTINE, HwDeviceExtension) else {
        return null_mut();
    };
    if NumberOfBytes == 0 {
        return null_mut();
    }
    // ExAllocatePool2 refuses (bug checks on) a zero tag; such blocks carry the port's.
    let tag = if Tag == 0 { crate::pool::TAG } else { Tag };
    allocate(device, kind, NumberOfBytes, tag, false)
}

/// `VideoPortFreePool`.
///
/// # Safety
/// `Ptr` may be anything (it is looked up among the device's blocks, never dereferenced
/// otherwise).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortFreePool(HwDeviceExtension: PVOID, Ptr: PVOID) {
    const ROUTINE: &str = "VideoPortFreePool";
    if !require_at_most(ROUTINE, Irql::DISPATCH) {
        return;
    }
    let Some(device) = PortDevice::from_hw_extension(ROUTINE, HwDeviceExtension) else {
        return;
    };
    if Ptr.is_null() {
        report::null_argument(ROUTINE, 2);
        return;
    }
    free(ROUTINE, device, Ptr, false);
}

/// `VideoPortAllocateBuffer` (obsolete; paged pool).
///
/// # Safety
/// `Buffer` is NULL (reported) or valid for a write.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortAllocateBuffer(
    HwDeviceExtension: PVOID,
    Size: ULONG,
    Buffer: *mut PVOID,
) -> VP_STATUS {
    const ROUTINE: &str = "VideoPortAllocateBuffer";
    if !require_at_most(ROUTINE, Irql::PASSIVE) {
        return ERROR_INVALID_PARAMETER;
    }
    let Some(device) = PortDevice::from_hw_extension(ROUTINE, HwDeviceExtension) else {
        return ERROR_INVALID_PARAMETER;
    };
    if Buffer.is_null() {
        report::null_argument(ROUTINE, 3);
        return ERROR_INVALID_PARAMETER;
    }
    let block = if Size == 0 {
        null_mut()
    } else {
        allocate(device, PoolKind::Paged, Size as usize, BUFFER_TAG, true)
    };
    // SAFETY: valid for a write (contract; NULL refused above).
    unsafe { Buffer.write(block) };
    if block.is_null() {
        ERROR_NOT_ENOUGH_MEMORY
    } else {
        NO_ERROR
    }
}

/// `VideoPortReleaseBuffer` (obsolete).
///
/// # Safety
/// `Buffer` may be anything (it is looked up among the device's blocks).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortReleaseBuffer(HwDeviceExtension: PVOID, Buffer: PVOID) {
    const ROUTINE: &str = "VideoPortReleaseBuffer";
    if !require_at_most(ROUTINE, Irql::PASSIVE) {
        return;
    }
    let Some(device) = PortDevice::from_hw_extension(ROUTINE, HwDeviceExtension) else {
        return;
    };
    if Buffer.is_null() {
        report::null_argument(ROUTINE, 2);
        return;
    }
    free(ROUTINE, device, Buffer, true);
}
