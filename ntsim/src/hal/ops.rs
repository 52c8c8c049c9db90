//! The `DMA_OPERATIONS` table every ntsim adapter points at (version 3 layout, Size 320).
//!
//! Simulated entries: PutDmaAdapter, AllocateCommonBuffer, FreeCommonBuffer,
//! FlushAdapterBuffers, GetDmaAlignment, GetScatterGatherList, PutScatterGatherList,
//! CalculateScatterGatherList, BuildScatterGatherList, GetDmaAdapterInfo. Every other entry
//! reports `not implemented in ntsim: <name>` and returns an error value (an error NTSTATUS,
//! NULL, FALSE or 0), so an unsimulated path can never pass silently.

use super::{adapter, common_buffer, sg};
use crate::machine::cpu;
use ddk_sys::*;

fn not_implemented(name: &'static str) {
    cpu().lock().not_implemented(name);
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn allocate_adapter_channel(
    _: *mut DMA_ADAPTER,
    _: *mut DEVICE_OBJECT,
    _: ULONG,
    _: PDRIVER_CONTROL,
    _: PVOID,
) -> NTSTATUS {
    not_implemented("AllocateAdapterChannel");
    STATUS_NOT_IMPLEMENTED
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn free_adapter_channel(_: *mut DMA_ADAPTER) {
    not_implemented("FreeAdapterChannel");
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn free_map_registers(_: *mut DMA_ADAPTER, _: PVOID, _: ULONG) {
    not_implemented("FreeMapRegisters");
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn map_transfer(
    _: *mut DMA_ADAPTER,
    _: *mut MDL,
    _: PVOID,
    _: PVOID,
    _: *mut ULONG,
    _: BOOLEAN,
) -> PHYSICAL_ADDRESS {
    not_implemented("MapTransfer");
    PHYSICAL_ADDRESS::new(0)
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn read_dma_counter(_: *mut DMA_ADAPTER) -> ULONG {
    not_implemented("ReadDmaCounter");
    0
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn build_mdl_from_scatter_gather_list(
    _: *mut DMA_ADAPTER,
    _: *mut SCATTER_GATHER_LIST,
    _: *mut MDL,
    _: *mut *mut MDL,
) -> NTSTATUS {
    not_implemented("BuildMdlFromScatterGatherList");
    STATUS_NOT_IMPLEMENTED
}

/// Defines stubs for entries ddk-sys types as `fn()` (never called by this project), each with
/// the table entry (`$entry`) that holds it. Each returns, in RAX/EAX, what its real prototype's
/// caller reads as failure: an NTSTATUS error, or 0 for NULL/FALSE/VOID returns. The parameters
/// are the real prototype's stack slots on x86 (pointers and ULONGs 4 bytes, ULONGLONG and
/// PHYSICAL_ADDRESS 8), because there stdcall makes the callee pop them; on x64 arguments are
/// caller-cleaned, so the slots only have to be no more than the caller passes.
macro_rules! stubs {
    ($($fn_name:ident, $entry:ident ($($slot:ty),*) => $name:literal returns $ret:ident;)*) => {
        $(
            #[ddk_sys::ntapi]
            unsafe extern "ntapi" fn $fn_name($(_: $slot),*) -> stub_return!($ret) {
                not_implemented($name);
                $ret
            }

            #[ddk_sys::ntapi]
            // SAFETY: both are `extern "ntapi"` function pointers of the same size; the entry is
            // only ever called through its real prototype, whose slots `$fn_name` takes.
            const $entry: PDMA_OPERATION_UNUSED = Some(unsafe {
                core::mem::transmute::<
                    unsafe extern "ntapi" fn($($slot),*) -> stub_return!($ret),
                    unsafe extern "ntapi" fn(),
                >($fn_name)
            });
        )*
    };
}

/// A stub's return type: the NTSTATUS of a prototype that returns one (called through that
/// prototype, the types must agree), else a pointer-sized zero (NULL, FALSE, or nothing).
macro_rules! stub_return {
    (FAIL) => {
        NTSTATUS
    };
    (NULL) => {
        usize
    };
}

const FAIL: NTSTATUS = STATUS_NOT_IMPLEMENTED;
const NULL: usize = 0;

// Slots per the WDK's prototypes (wdm.h, DMA_OPERATIONS version 3): `PVOID` a pointer or
// handle, `u32` a ULONG or enum (or a BOOLEAN of an entry nothing calls: on x86 a BOOLEAN
// takes a 4-byte slot too), `BOOLEAN` where a test calls the entry through its prototype,
// `u64` a ULONGLONG or PHYSICAL_ADDRESS by value.
stubs! {
    get_dma_transfer_info, GET_DMA_TRANSFER_INFO (PVOID, PVOID, u64, u32, BOOLEAN, PVOID)
        => "GetDmaTransferInfo" returns FAIL;
    initialize_dma_transfer_context, INITIALIZE_DMA_TRANSFER_CONTEXT (PVOID, PVOID)
        => "InitializeDmaTransferContext" returns FAIL;
    allocate_common_buffer_ex, ALLOCATE_COMMON_BUFFER_EX (PVOID, PVOID, u32, PVOID, u32, u32)
        => "AllocateCommonBufferEx" returns NULL;
    allocate_adapter_channel_ex, ALLOCATE_ADAPTER_CHANNEL_EX
        (PVOID, PVOID, PVOID, u32, u32, PVOID, PVOID, PVOID)
        => "AllocateAdapterChannelEx" returns FAIL;
    configure_adapter_channel, CONFIGURE_ADAPTER_CHANNEL (PVOID, u32, PVOID)
        => "ConfigureAdapterChannel" returns FAIL;
    cancel_adapter_channel, CANCEL_ADAPTER_CHANNEL (PVOID, PVOID, PVOID)
        => "CancelAdapterChannel" returns NULL;
    map_transfer_ex, MAP_TRANSFER_EX
        (PVOID, PVOID, PVOID, u64, u32, PVOID, u32, PVOID, u32, PVOID, PVOID)
        => "MapTransferEx" returns FAIL;
    get_scatter_gather_list_ex, GET_SCATTER_GATHER_LIST_EX
        (PVOID, PVOID, PVOID, PVOID, u64, u32, u32, PVOID, PVOID, u32, PVOID, PVOID, PVOID)
        => "GetScatterGatherListEx" returns FAIL;
    build_scatter_gather_list_ex, BUILD_SCATTER_GATHER_LIST_EX
        (PVOID, PVOID, PVOID, PVOID, u64, u32, u32, PVOID, PVOID, u32, PVOID, u32, PVOID, PVOID,
         PVOID)
        => "BuildScatterGatherListEx" returns FAIL;
    flush_adapter_buffers_ex, FLUSH_ADAPTER_BUFFERS_EX (PVOID, PVOID, PVOID, u64, u32, u32)
        => "FlushAdapterBuffersEx" returns FAIL;
    free_adapter_object, FREE_ADAPTER_OBJECT (PVOID, u32)
        => "FreeAdapterObject" returns NULL;
    cancel_mapped_transfer, CANCEL_MAPPED_TRANSFER (PVOID, PVOID)
        => "CancelMappedTransfer" returns FAIL;
    allocate_domain_common_buffer, ALLOCATE_DOMAIN_COMMON_BUFFER
        (PVOID, PVOID, PVOID, u32, u32, PVOID, u32, PVOID, PVOID)
        => "AllocateDomainCommonBuffer" returns FAIL;
    flush_dma_buffer, FLUSH_DMA_BUFFER (PVOID, PVOID, u32)
        => "FlushDmaBuffer" returns FAIL;
    join_dma_domain, JOIN_DMA_DOMAIN (PVOID, PVOID)
        => "JoinDmaDomain" returns FAIL;
    leave_dma_domain, LEAVE_DMA_DOMAIN (PVOID)
        => "LeaveDmaDomain" returns FAIL;
    get_dma_domain, GET_DMA_DOMAIN (PVOID)
        => "GetDmaDomain" returns NULL;
    allocate_common_buffer_with_bounds, ALLOCATE_COMMON_BUFFER_WITH_BOUNDS
        (PVOID, PVOID, PVOID, u32, u32, PVOID, u32, PVOID)
        => "AllocateCommonBufferWithBounds" returns NULL;
    allocate_common_buffer_vector, ALLOCATE_COMMON_BUFFER_VECTOR
        (PVOID, u64, u64, u32, u32, u32, u32, u64, PVOID)
        => "AllocateCommonBufferVector" returns FAIL;
    get_common_buffer_from_vector_by_index, GET_COMMON_BUFFER_FROM_VECTOR_BY_INDEX
        (PVOID, PVOID, u32, PVOID, PVOID)
        => "GetCommonBufferFromVectorByIndex" returns NULL;
    free_common_buffer_from_vector, FREE_COMMON_BUFFER_FROM_VECTOR (PVOID, PVOID, u32)
        => "FreeCommonBufferFromVector" returns NULL;
    free_common_buffer_vector, FREE_COMMON_BUFFER_VECTOR (PVOID, PVOID)
        => "FreeCommonBufferVector" returns NULL;
    create_common_buffer_from_mdl, CREATE_COMMON_BUFFER_FROM_MDL
        (PVOID, PVOID, PVOID, u32, PVOID, PVOID)
        => "CreateCommonBufferFromMdl" returns FAIL;
}

/// The table. `Size` is the full version-3 size whatever version the driver asked for.
pub(crate) static DMA_OPS: DMA_OPERATIONS = DMA_OPERATIONS {
    Size: core::mem::size_of::<DMA_OPERATIONS>() as ULONG,
    PutDmaAdapter: Some(adapter::put_dma_adapter),
    AllocateCommonBuffer: Some(common_buffer::allocate_common_buffer),
    FreeCommonBuffer: Some(common_buffer::free_common_buffer),
    AllocateAdapterChannel: Some(allocate_adapter_channel),
    FlushAdapterBuffers: Some(sg::flush_adapter_buffers),
    FreeAdapterChannel: Some(free_adapter_channel),
    FreeMapRegisters: Some(free_map_registers),
    MapTransfer: Some(map_transfer),
    GetDmaAlignment: Some(adapter::get_dma_alignment),
    ReadDmaCounter: Some(read_dma_counter),
    GetScatterGatherList: Some(sg::get_scatter_gather_list),
    PutScatterGatherList: Some(sg::put_scatter_gather_list),
    CalculateScatterGatherList: Some(sg::calculate_scatter_gather_list),
    BuildScatterGatherList: Some(sg::build_scatter_gather_list),
    BuildMdlFromScatterGatherList: Some(build_mdl_from_scatter_gather_list),
    GetDmaAdapterInfo: Some(adapter::get_dma_adapter_info),
    GetDmaTransferInfo: GET_DMA_TRANSFER_INFO,
    InitializeDmaTransferContext: INITIALIZE_DMA_TRANSFER_CONTEXT,
    AllocateCommonBufferEx: ALLOCATE_COMMON_BUFFER_EX,
    AllocateAdapterChannelEx: ALLOCATE_ADAPTER_CHANNEL_EX,
    ConfigureAdapterChannel: CONFIGURE_ADAPTER_CHANNEL,
    CancelAdapterChannel: CANCEL_ADAPTER_CHANNEL,
    MapTransferEx: MAP_TRANSFER_EX,
    GetScatterGatherListEx: GET_SCATTER_GATHER_LIST_EX,
    BuildScatterGatherListEx: BUILD_SCATTER_GATHER_LIST_EX,
    FlushAdapterBuffersEx: FLUSH_ADAPTER_BUFFERS_EX,
    FreeAdapterObject: FREE_ADAPTER_OBJECT,
    CancelMappedTransfer: CANCEL_MAPPED_TRANSFER,
    AllocateDomainCommonBuffer: ALLOCATE_DOMAIN_COMMON_BUFFER,
    FlushDmaBuffer: FLUSH_DMA_BUFFER,
    JoinDmaDomain: JOIN_DMA_DOMAIN,
    LeaveDmaDomain: LEAVE_DMA_DOMAIN,
    GetDmaDomain: GET_DMA_DOMAIN,
    AllocateCommonBufferWithBounds: ALLOCATE_COMMON_BUFFER_WITH_BOUNDS,
    AllocateCommonBufferVector: ALLOCATE_COMMON_BUFFER_VECTOR,
    GetCommonBufferFromVectorByIndex: GET_COMMON_BUFFER_FROM_VECTOR_BY_INDEX,
    FreeCommonBufferFromVector: FREE_COMMON_BUFFER_FROM_VECTOR,
    FreeCommonBufferVector: FREE_COMMON_BUFFER_VECTOR,
    CreateCommonBufferFromMdl: CREATE_COMMON_BUFFER_FROM_MDL,
};
