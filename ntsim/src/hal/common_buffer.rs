//! Common-buffer DMA: `AllocateCommonBuffer`, `FreeCommonBuffer`.
//!
//! A common buffer is physically contiguous, lies entirely below the adapter's address limit
//! (and never crosses 4 GiB), occupies whole pages, and is mapped in the device view for
//! exactly the requested length for its lifetime. Its logical address equals its physical
//! address. It uses no map registers. `CacheEnabled` is ignored, as on x86/x64.

use super::{check_irql, live_adapter, IrqlRule, Run};
use crate::fault::FaultKind;
use crate::machine::{cpu, State};
use crate::memory::{FrameRequest, RegionId, RegionKind};
use crate::types::PAGE;
use crate::verifier::{bugcheck, dma_code};
use ddk_sys::*;

pub(crate) struct CommonBufferRecord {
    pub adapter: usize,
    pub serial: u64,
    pub length: u32,
    pub logical: u64,
    region: RegionId,
    pub run: Run,
}

/// Frees a common buffer (the caller validated it).
pub(crate) fn release(st: &mut State, va: usize) {
    if let Some(rec) = st.hal.common.remove(&va) {
        st.mem.free(rec.region);
    }
}

/// `AllocateCommonBuffer` (PASSIVE_LEVEL). NULL for a zero length or when out of memory below
/// the adapter's limit.
#[ddk_sys::ntapi]
pub(crate) unsafe extern "ntapi" fn allocate_common_buffer(
    DmaAdapter: *mut DMA_ADAPTER,
    Length: ULONG,
    LogicalAddress: *mut PHYSICAL_ADDRESS,
    _CacheEnabled: BOOLEAN,
) -> PVOID {
    const R: &str = "AllocateCommonBuffer";
    let null = core::ptr::null_mut();
    let cpu = cpu();
    let irql = cpu.irql();
    let mut st = cpu.lock();
    if !check_irql(&mut st, irql, IrqlRule::AtMost(PASSIVE_LEVEL), R) {
        return null;
    }
    let Some(a) = live_adapter(&mut st, DmaAdapter, R) else {
        return null;
    };
    if Length == 0 || LogicalAddress.is_null() {
        return null;
    }
    if st.faults.hit(FaultKind::CommonBuffer) {
        return null;
    }
    let limit = st.hal.adapters[&a].max_address;
    let max_pfn = (limit.saturating_add(1) >> 12).saturating_sub(1);
    let req = FrameRequest::contiguous(st.config.contiguous_memory, max_pfn);
    let st = &mut *st;
    let Some(region) = st.mem.alloc(
        &mut st.rng,
        RegionKind::CommonBuffer,
        (Length as usize).div_ceil(PAGE),
        req,
    ) else {
        return null;
    };
    let (va, logical) = (
        st.mem.regions[&region].base,
        st.mem.regions[&region].pfns[0].address().0,
    );
    let serial = st.next_serial();
    let run = Run {
        bus: logical,
        len: Length as usize,
        host: va,
        device_writable: true,
    };
    st.hal.common.insert(
        va,
        CommonBufferRecord {
            adapter: a,
            serial,
            length: Length,
            logical,
            region,
            run,
        },
    );
    // SAFETY: checked non-NULL; valid by contract.
    unsafe { LogicalAddress.write(PHYSICAL_ADDRESS::new(logical)) };
    va as PVOID
}

/// `FreeCommonBuffer` (PASSIVE_LEVEL). Adapter, length, logical and virtual address must match
/// one allocation exactly; otherwise 0xE6/0x03 and nothing is freed.
#[ddk_sys::ntapi]
pub(crate) unsafe extern "ntapi" fn free_common_buffer(
    DmaAdapter: *mut DMA_ADAPTER,
    Length: ULONG,
    LogicalAddress: PHYSICAL_ADDRESS,
    VirtualAddress: PVOID,
    _CacheEnabled: BOOLEAN,
) {
    const R: &str = "FreeCommonBuffer";
    let cpu = cpu();
    let irql = cpu.irql();
    let mut st = cpu.lock();
    check_irql(&mut st, irql, IrqlRule::AtMost(PASSIVE_LEVEL), R);
    let Some(a) = live_adapter(&mut st, DmaAdapter, R) else {
        return;
    };
    let va = VirtualAddress as usize;
    let problem = match st.hal.common.get(&va) {
        None => Some(format!("{va:#x} is not an outstanding common buffer (freed twice, or never allocated)")),
        Some(c) if c.adapter != a => Some(format!("common buffer {va:#x} (serial {}) belongs to {}", c.serial, st.hal.describe(c.adapter))),
        Some(c) if c.length != Length || c.logical != LogicalAddress.get() => Some(format!(
            "common buffer {va:#x} (AllocateCommonBuffer serial {}) is {} bytes at logical {:#x}; freed as {Length} bytes at {:#x}",
            c.serial,
            c.length,
            c.logical,
            LogicalAddress.get()
        )),
        Some(_) => None,
    };
    if let Some(msg) = problem {
        st.report(
            bugcheck::DRIVER_VERIFIER_DMA_VIOLATION,
            dma_code::COMMON_BUFFER_DOUBLE_FREE,
            [1, va as u64, 0],
            R,
            msg,
        );
        return;
    }
    release(&mut st, va);
}
