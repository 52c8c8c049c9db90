//! `IoGetDmaAdapter` and the adapter-wide operations: `PutDmaAdapter`, `GetDmaAlignment`,
//! `GetDmaAdapterInfo`.
//!
//! Address limit: `Dma64BitAddresses` (versions 0-2) gives 64 bits; version 3 uses
//! `DmaAddressWidth` (1..=64; 0 is taken as 32); otherwise `Dma32BitAddresses`, or
//! scatter/gather on PCI (which implies 32-bit), gives 32 bits; anything else 24 bits (ISA).
//! Granted map registers: `min(BYTES_TO_PAGES(MaximumLength) + 1, max_map_registers_per_adapter)`.
//! Slave (system DMA controller) devices are not simulated: `IoGetDmaAdapter` returns NULL and
//! reports "not implemented".

use super::{check_irql, live_adapter, ops::DMA_OPS, sg, AdapterObject, AdapterRecord, IrqlRule};
use crate::fault::FaultKind;
use crate::machine::cpu;
use crate::verifier::{bugcheck, dma_code, ntsim_code};
use ddk_sys::*;

/// `IoGetDmaAdapter`.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn IoGetDmaAdapter(
    PhysicalDeviceObject: *mut DEVICE_OBJECT,
    DeviceDescription: *mut DEVICE_DESCRIPTION,
    NumberOfMapRegisters: *mut ULONG,
) -> *mut DMA_ADAPTER {
    const R: &str = "IoGetDmaAdapter";
    let null = core::ptr::null_mut();
    if PhysicalDeviceObject.is_null()
        || DeviceDescription.is_null()
        || NumberOfMapRegisters.is_null()
    {
        return null;
    }
    let cpu = cpu();
    let irql = cpu.irql();
    let mut st = cpu.lock();
    if !check_irql(&mut st, irql, IrqlRule::Exactly(PASSIVE_LEVEL), R) {
        return null;
    }
    let pdo = PhysicalDeviceObject as usize;
    let Some(pdo_name) = st.pdos.name(pdo).map(str::to_string) else {
        let msg = format!("{pdo:#x} is not a PDO of this machine (use Machine::create_pdo)");
        st.report(
            bugcheck::NTSIM_CHECK,
            ntsim_code::NOT_A_PDO,
            [pdo as u64, 0, 0],
            R,
            msg,
        );
        return null;
    };
    // SAFETY: non-NULL and valid by contract. Versions 0-2 only promise the first 40 bytes, so
    // the version-3 fields are read only for version 3.
    let d = unsafe { &*DeviceDescription };
    if d.Version > DEVICE_DESCRIPTION_VERSION3 {
        let msg = format!(
            "DEVICE_DESCRIPTION version {} is not supported (maximum 3)",
            d.Version
        );
        st.report(
            bugcheck::DRIVER_VERIFIER_DMA_VIOLATION,
            dma_code::UNKNOWN_DESCRIPTION_VERSION,
            [d.Version as u64, 0, 0],
            R,
            msg,
        );
        return null;
    }
    if d.Master == FALSE {
        st.not_implemented("IoGetDmaAdapter for a slave (system DMA controller) device");
        return null;
    }
    if st.faults.hit(FaultKind::AdapterRequest) {
        return null;
    }
    let width = if d.Version == DEVICE_DESCRIPTION_VERSION3 {
        match d.DmaAddressWidth {
            0 => 32,
            w => w.min(64),
        }
    } else if d.Dma64BitAddresses != FALSE {
        64
    } else if d.Dma32BitAddresses != FALSE
        || (d.ScatterGather != FALSE && d.InterfaceType == INTERFACE_TYPE::PCIBus)
    {
        32
    } else {
        24
    };
    let max_address = if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    };
    let granted = ((BYTES_TO_PAGES(d.MaximumLength as usize) + 1) as u32)
        .min(st.config.max_map_registers_per_adapter);
    let serial = st.next_serial();
    let object = Box::new(AdapterObject {
        header: DMA_ADAPTER {
            Version: 1,
            Size: core::mem::size_of::<AdapterObject>() as USHORT,
            DmaOperations: &DMA_OPS,
        },
        serial,
    });
    let addr = Box::into_raw(object) as usize;
    st.hal.adapters.insert(
        addr,
        AdapterRecord {
            serial,
            pdo,
            pdo_name,
            max_address,
            width,
            scatter_gather: d.ScatterGather != FALSE,
            granted,
            live: true,
            lists_allocated: 0,
            lists_freed: 0,
        },
    );
    st.trace(|| {
        format!(
            "IoGetDmaAdapter: {width}-bit bus master, {}, {granted} map registers granted",
            if d.ScatterGather != FALSE {
                "scatter/gather"
            } else {
                "no scatter/gather"
            }
        )
    });
    // SAFETY: checked non-NULL; valid by contract.
    unsafe { NumberOfMapRegisters.write(granted) };
    addr as *mut DMA_ADAPTER
}

/// `PutDmaAdapter`: reports what the driver left outstanding (common buffers 0x07, queued
/// requests 0x08, scatter/gather lists 0x0A), then reclaims it so nothing is reported twice.
#[ddk_sys::ntapi]
pub(crate) unsafe extern "ntapi" fn put_dma_adapter(DmaAdapter: *mut DMA_ADAPTER) {
    const R: &str = "PutDmaAdapter";
    let cpu = cpu();
    let irql = cpu.irql();
    let mut st = cpu.lock();
    check_irql(&mut st, irql, IrqlRule::AtMost(DISPATCH_LEVEL), R);
    let Some(a) = live_adapter(&mut st, DmaAdapter, R) else {
        return;
    };
    let name = st.hal.describe(a);
    let commons: Vec<usize> = st
        .hal
        .common
        .iter()
        .filter(|(_, c)| c.adapter == a)
        .map(|(va, _)| *va)
        .collect();
    let lists: Vec<usize> = st
        .hal
        .lists
        .iter()
        .filter(|(_, l)| l.adapter == a)
        .map(|(p, _)| *p)
        .collect();
    let waiting = st.hal.waiters.iter().filter(|w| w.adapter == a).count();
    let e6 = bugcheck::DRIVER_VERIFIER_DMA_VIOLATION;
    if !commons.is_empty() {
        let msg = format!(
            "{name} released with {} common buffer(s) outstanding",
            commons.len()
        );
        st.report(
            e6,
            dma_code::ADAPTER_PUT_WITH_COMMON_BUFFERS,
            [a as u64, commons.len() as u64, 0],
            R,
            msg,
        );
    }
    if waiting > 0 {
        let msg = format!("{name} released with {waiting} scatter/gather request(s) still queued");
        st.report(
            e6,
            dma_code::ADAPTER_PUT_WITH_CHANNELS,
            [a as u64, waiting as u64, 0],
            R,
            msg,
        );
    }
    if !lists.is_empty() {
        let msg = format!(
            "{name} released with {} scatter/gather list(s) outstanding",
            lists.len()
        );
        st.report(
            e6,
            dma_code::ADAPTER_PUT_WITH_SG_LISTS,
            [a as u64, lists.len() as u64, 0],
            R,
            msg,
        );
    }
    for va in commons {
        super::common_buffer::release(&mut st, va);
    }
    for list in lists {
        sg::release(&mut st, list);
    }
    sg::drop_waiters(&mut st, a);
    if let Some(rec) = st.hal.adapters.get_mut(&a) {
        rec.live = false;
    }
}

/// `GetDmaAlignment`: 1 (no alignment requirement).
#[ddk_sys::ntapi]
pub(crate) unsafe extern "ntapi" fn get_dma_alignment(DmaAdapter: *mut DMA_ADAPTER) -> ULONG {
    let cpu = cpu();
    let mut st = cpu.lock();
    live_adapter(&mut st, DmaAdapter, "GetDmaAlignment");
    1
}

/// `GetDmaAdapterInfo` (version 1 only).
#[ddk_sys::ntapi]
pub(crate) unsafe extern "ntapi" fn get_dma_adapter_info(
    DmaAdapter: *mut DMA_ADAPTER,
    AdapterInfo: *mut DMA_ADAPTER_INFO,
) -> NTSTATUS {
    const R: &str = "GetDmaAdapterInfo";
    let cpu = cpu();
    let irql = cpu.irql();
    let mut st = cpu.lock();
    if !check_irql(&mut st, irql, IrqlRule::AtMost(DISPATCH_LEVEL), R) {
        return STATUS_UNSUCCESSFUL;
    }
    let Some(a) = live_adapter(&mut st, DmaAdapter, R) else {
        return STATUS_INVALID_PARAMETER;
    };
    if AdapterInfo.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: non-NULL and valid by contract.
    let info = unsafe { &mut *AdapterInfo };
    if info.Version != DMA_ADAPTER_INFO_VERSION1 {
        return STATUS_NOT_SUPPORTED;
    }
    let rec = &st.hal.adapters[&a];
    info.ReadDmaCounterAvailable = 0;
    info.ScatterGatherLimit = if rec.scatter_gather { rec.granted } else { 1 };
    info.DmaAddressWidth = rec.width;
    info.Flags = 0;
    info.MinimumTransferUnit = 1;
    STATUS_SUCCESS
}

impl crate::Machine {
    /// Map registers free in the machine right now.
    pub fn free_map_registers(&self) -> u32 {
        self.lock().hal.free_registers
    }
}
