//! The WDM DMA interface beneath the VideoPort DMA services: `DMA_ADAPTER`, its `DMA_OPERATIONS`
//! table (version 3, 39 entries), `DEVICE_DESCRIPTION` (version 3) and scatter/gather lists.
//!
//! None of the operations can be called by name; drivers reach them through
//! `DmaAdapter->DmaOperations`. `DMA_ADAPTER.Version` is always 1, so which table version an
//! adapter has is known only from the `DEVICE_DESCRIPTION` version that was asked for (and from
//! `DMA_OPERATIONS.Size`).

use crate::basic::*;
use crate::io::{DEVICE_OBJECT, IRP};
use crate::mdl::MDL;
#[cfg_attr(target_pointer_width = "32", allow(unused_imports))]
use core::mem::{offset_of, size_of};

#[repr(C)]
#[derive(Debug)]
pub struct DMA_ADAPTER {
    /// Always 1.
    pub Version: USHORT,
    pub Size: USHORT,
    pub DmaOperations: *const DMA_OPERATIONS,
}
pub type PDMA_ADAPTER = *mut DMA_ADAPTER;

pub const DEVICE_DESCRIPTION_VERSION: ULONG = 0;
pub const DEVICE_DESCRIPTION_VERSION1: ULONG = 1;
pub const DEVICE_DESCRIPTION_VERSION2: ULONG = 2;
pub const DEVICE_DESCRIPTION_VERSION3: ULONG = 3;

/// `DEVICE_DESCRIPTION`, version 3 layout (64 bytes). Versions 0-2 use the first 40 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DEVICE_DESCRIPTION {
    pub Version: ULONG,
    pub Master: BOOLEAN,
    pub ScatterGather: BOOLEAN,
    pub DemandMode: BOOLEAN,
    pub AutoInitialize: BOOLEAN,
    pub Dma32BitAddresses: BOOLEAN,
    pub IgnoreCount: BOOLEAN,
    /// Must be FALSE.
    pub Reserved1: BOOLEAN,
    pub Dma64BitAddresses: BOOLEAN,
    pub BusNumber: ULONG,
    pub DmaChannel: ULONG,
    pub InterfaceType: INTERFACE_TYPE,
    pub DmaWidth: DMA_WIDTH,
    pub DmaSpeed: DMA_SPEED,
    pub MaximumLength: ULONG,
    pub DmaPort: ULONG,
    /// Version 3: bus-master address width in bits (1..=64).
    pub DmaAddressWidth: ULONG,
    pub DmaControllerInstance: ULONG,
    pub DmaRequestLine: ULONG,
    pub DeviceAddress: PHYSICAL_ADDRESS,
}
pub type PDEVICE_DESCRIPTION = *mut DEVICE_DESCRIPTION;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SCATTER_GATHER_ELEMENT {
    /// Logical (device-visible) address of this run.
    pub Address: PHYSICAL_ADDRESS,
    pub Length: ULONG,
    pub Reserved: ULONG_PTR,
}

/// `SCATTER_GATHER_LIST`: a header followed directly by `NumberOfElements` elements.
#[repr(C)]
#[derive(Debug)]
pub struct SCATTER_GATHER_LIST {
    pub NumberOfElements: ULONG,
    pub Reserved: ULONG_PTR,
    pub Elements: [SCATTER_GATHER_ELEMENT; 0],
}
pub type PSCATTER_GATHER_LIST = *mut SCATTER_GATHER_LIST;

impl SCATTER_GATHER_LIST {
    /// Bytes needed for a list of `elements` elements.
    pub const fn size_for(elements: usize) -> usize {
        size_of::<Self>() + elements * size_of::<SCATTER_GATHER_ELEMENT>()
    }
}

c_enum!(
    /// `IO_ALLOCATION_ACTION`, returned by a `DRIVER_CONTROL` routine.
    IO_ALLOCATION_ACTION: u32 { KeepObject = 1, DeallocateObject = 2, DeallocateObjectKeepRegisters = 3 }
);

/// `DRIVER_LIST_CONTROL`: called at DISPATCH_LEVEL with the built scatter/gather list.
#[ddk_sys::ntapi]
pub type PDRIVER_LIST_CONTROL = Option<
    unsafe extern "ntapi" fn(
        DeviceObject: *mut DEVICE_OBJECT,
        Irp: *mut IRP,
        ScatterGather: *mut SCATTER_GATHER_LIST,
        Context: PVOID,
    ),
>;
/// `DRIVER_CONTROL`: AllocateAdapterChannel's callback.
#[ddk_sys::ntapi]
pub type PDRIVER_CONTROL = Option<
    unsafe extern "ntapi" fn(
        DeviceObject: *mut DEVICE_OBJECT,
        Irp: *mut IRP,
        MapRegisterBase: PVOID,
        Context: PVOID,
    ) -> IO_ALLOCATION_ACTION,
>;

/// An operation whose prototype this project never calls; kept only for the table's layout.
#[ddk_sys::ntapi]
pub type PDMA_OPERATION_UNUSED = Option<unsafe extern "ntapi" fn()>;

/// `DMA_OPERATIONS`, version 3 plus the Windows 10 additions: `Size` and 39 entries, 320 bytes.
#[repr(C)]
#[ddk_sys::ntapi]
pub struct DMA_OPERATIONS {
    pub Size: ULONG,
    // Version 1.
    pub PutDmaAdapter: Option<unsafe extern "ntapi" fn(DmaAdapter: *mut DMA_ADAPTER)>,
    pub AllocateCommonBuffer: Option<
        unsafe extern "ntapi" fn(
            DmaAdapter: *mut DMA_ADAPTER,
            Length: ULONG,
            LogicalAddress: *mut PHYSICAL_ADDRESS,
            CacheEnabled: BOOLEAN,
        ) -> PVOID,
    >,
    pub FreeCommonBuffer: Option<
        unsafe extern "ntapi" fn(
            DmaAdapter: *mut DMA_ADAPTER,
            Length: ULONG,
            LogicalAddress: PHYSICAL_ADDRESS,
            VirtualAddress: PVOID,
            CacheEnabled: BOOLEAN,
        ),
    >,
    pub AllocateAdapterChannel: Option<
        unsafe extern "ntapi" fn(
            DmaAdapter: *mut DMA_ADAPTER,
            DeviceObject: *mut DEVICE_OBJECT,
            NumberOfMapRegisters: ULONG,
            ExecutionRoutine: PDRIVER_CONTROL,
            Context: PVOID,
        ) -> crate::status::NTSTATUS,
    >,
    pub FlushAdapterBuffers: Option<
        unsafe extern "ntapi" fn(
            DmaAdapter: *mut DMA_ADAPTER,
            Mdl: *mut MDL,
            MapRegisterBase: PVOID,
            CurrentVa: PVOID,
            Length: ULONG,
            WriteToDevice: BOOLEAN,
        ) -> BOOLEAN,
    >,
    pub FreeAdapterChannel: Option<unsafe extern "ntapi" fn(DmaAdapter: *mut DMA_ADAPTER)>,
    pub FreeMapRegisters: Option<
        unsafe extern "ntapi" fn(
            DmaAdapter: *mut DMA_ADAPTER,
            MapRegisterBase: PVOID,
            NumberOfMapRegisters: ULONG,
        ),
    >,
    pub MapTransfer: Option<
        unsafe extern "ntapi" fn(
            DmaAdapter: *mut DMA_ADAPTER,
            Mdl: *mut MDL,
            MapRegisterBase: PVOID,
            CurrentVa: PVOID,
            Length: *mut ULONG,
            WriteToDevice: BOOLEAN,
        ) -> PHYSICAL_ADDRESS,
    >,
    pub GetDmaAlignment: Option<unsafe extern "ntapi" fn(DmaAdapter: *mut DMA_ADAPTER) -> ULONG>,
    pub ReadDmaCounter: Option<unsafe extern "ntapi" fn(DmaAdapter: *mut DMA_ADAPTER) -> ULONG>,
    pub GetScatterGatherList: Option<
        unsafe extern "ntapi" fn(
            DmaAdapter: *mut DMA_ADAPTER,
            DeviceObject: *mut DEVICE_OBJECT,
            Mdl: *mut MDL,
            CurrentVa: PVOID,
            Length: ULONG,
            ExecutionRoutine: PDRIVER_LIST_CONTROL,
            Context: PVOID,
            WriteToDevice: BOOLEAN,
        ) -> crate::status::NTSTATUS,
    >,
    pub PutScatterGatherList: Option<
        unsafe extern "ntapi" fn(
            DmaAdapter: *mut DMA_ADAPTER,
            ScatterGather: *mut SCATTER_GATHER_LIST,
            WriteToDevice: BOOLEAN,
        ),
    >,
    // Version 2.
    pub CalculateScatterGatherList: Option<
        unsafe extern "ntapi" fn(
            DmaAdapter: *mut DMA_ADAPTER,
            Mdl: *mut MDL,
            CurrentVa: PVOID,
            Length: ULONG,
            ScatterGatherListSize: *mut ULONG,
            pNumberOfMapRegisters: *mut ULONG,
        ) -> crate::status::NTSTATUS,
    >,
    pub BuildScatterGatherList: Option<
        unsafe extern "ntapi" fn(
            DmaAdapter: *mut DMA_ADAPTER,
            DeviceObject: *mut DEVICE_OBJECT,
            Mdl: *mut MDL,
            CurrentVa: PVOID,
            Length: ULONG,
            ExecutionRoutine: PDRIVER_LIST_CONTROL,
            Context: PVOID,
            WriteToDevice: BOOLEAN,
            ScatterGatherBuffer: PVOID,
            ScatterGatherBufferLength: ULONG,
        ) -> crate::status::NTSTATUS,
    >,
    pub BuildMdlFromScatterGatherList: Option<
        unsafe extern "ntapi" fn(
            DmaAdapter: *mut DMA_ADAPTER,
            ScatterGather: *mut SCATTER_GATHER_LIST,
            OriginalMdl: *mut MDL,
            TargetMdl: *mut *mut MDL,
        ) -> crate::status::NTSTATUS,
    >,
    // Version 3 (Windows 8).
    pub GetDmaAdapterInfo: Option<
        unsafe extern "ntapi" fn(
            DmaAdapter: *mut DMA_ADAPTER,
            AdapterInfo: *mut DMA_ADAPTER_INFO,
        ) -> crate::status::NTSTATUS,
    >,
    pub GetDmaTransferInfo: PDMA_OPERATION_UNUSED,
    pub InitializeDmaTransferContext: PDMA_OPERATION_UNUSED,
    pub AllocateCommonBufferEx: PDMA_OPERATION_UNUSED,
    pub AllocateAdapterChannelEx: PDMA_OPERATION_UNUSED,
    pub ConfigureAdapterChannel: PDMA_OPERATION_UNUSED,
    pub CancelAdapterChannel: PDMA_OPERATION_UNUSED,
    pub MapTransferEx: PDMA_OPERATION_UNUSED,
    pub GetScatterGatherListEx: PDMA_OPERATION_UNUSED,
    pub BuildScatterGatherListEx: PDMA_OPERATION_UNUSED,
    pub FlushAdapterBuffersEx: PDMA_OPERATION_UNUSED,
    pub FreeAdapterObject: PDMA_OPERATION_UNUSED,
    pub CancelMappedTransfer: PDMA_OPERATION_UNUSED,
    // Windows 10 additions.
    pub AllocateDomainCommonBuffer: PDMA_OPERATION_UNUSED,
    pub FlushDmaBuffer: PDMA_OPERATION_UNUSED,
    pub JoinDmaDomain: PDMA_OPERATION_UNUSED,
    pub LeaveDmaDomain: PDMA_OPERATION_UNUSED,
    pub GetDmaDomain: PDMA_OPERATION_UNUSED,
    pub AllocateCommonBufferWithBounds: PDMA_OPERATION_UNUSED,
    pub AllocateCommonBufferVector: PDMA_OPERATION_UNUSED,
    pub GetCommonBufferFromVectorByIndex: PDMA_OPERATION_UNUSED,
    pub FreeCommonBufferFromVector: PDMA_OPERATION_UNUSED,
    pub FreeCommonBufferVector: PDMA_OPERATION_UNUSED,
    pub CreateCommonBufferFromMdl: PDMA_OPERATION_UNUSED,
}

pub const DMA_ADAPTER_INFO_VERSION1: ULONG = 1;

/// `DMA_ADAPTER_INFO` with its version-1 payload.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DMA_ADAPTER_INFO {
    pub Version: ULONG,
    pub ReadDmaCounterAvailable: ULONG,
    pub ScatterGatherLimit: ULONG,
    pub DmaAddressWidth: ULONG,
    pub Flags: ULONG,
    pub MinimumTransferUnit: ULONG,
}

#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(size_of::<DMA_ADAPTER>() == 16 && offset_of!(DMA_ADAPTER, DmaOperations) == 8);
    assert!(size_of::<DMA_OPERATIONS>() == 320);
    assert!(offset_of!(DMA_OPERATIONS, PutDmaAdapter) == 8);
    assert!(offset_of!(DMA_OPERATIONS, GetScatterGatherList) == 88);
    assert!(offset_of!(DMA_OPERATIONS, PutScatterGatherList) == 96);
    assert!(offset_of!(DMA_OPERATIONS, BuildMdlFromScatterGatherList) == 120);
    assert!(offset_of!(DMA_OPERATIONS, GetDmaAdapterInfo) == 128);
    assert!(offset_of!(DMA_OPERATIONS, CancelMappedTransfer) == 224);
    assert!(offset_of!(DMA_OPERATIONS, CreateCommonBufferFromMdl) == 312);
    assert!(size_of::<DEVICE_DESCRIPTION>() == 64);
    assert!(offset_of!(DEVICE_DESCRIPTION, Dma64BitAddresses) == 11);
    assert!(offset_of!(DEVICE_DESCRIPTION, BusNumber) == 12);
    assert!(offset_of!(DEVICE_DESCRIPTION, InterfaceType) == 20);
    assert!(offset_of!(DEVICE_DESCRIPTION, MaximumLength) == 32);
    assert!(offset_of!(DEVICE_DESCRIPTION, DmaPort) == 36);
    assert!(offset_of!(DEVICE_DESCRIPTION, DmaAddressWidth) == 40);
    assert!(offset_of!(DEVICE_DESCRIPTION, DmaRequestLine) == 48);
    assert!(offset_of!(DEVICE_DESCRIPTION, DeviceAddress) == 56);
    assert!(size_of::<SCATTER_GATHER_ELEMENT>() == 24);
    assert!(offset_of!(SCATTER_GATHER_ELEMENT, Length) == 8);
    assert!(offset_of!(SCATTER_GATHER_ELEMENT, Reserved) == 16);
    assert!(size_of::<SCATTER_GATHER_LIST>() == 16);
    assert!(offset_of!(SCATTER_GATHER_LIST, Reserved) == 8);
    assert!(offset_of!(SCATTER_GATHER_LIST, Elements) == 16);
    assert!(size_of::<DMA_ADAPTER_INFO>() == 24);
};
