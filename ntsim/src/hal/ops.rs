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

/// Defines stubs for entries ddk-sys types as `fn()` (never called by this project). Each
/// returns, in RAX, what its real prototype's caller reads as failure: an NTSTATUS error, or 0
/// for NULL/FALSE/VOID returns. On x64 (both the Microsoft and the System V convention)
/// arguments are caller-cleaned and passed in registers, so a stub that ignores them is safe
/// to call with the real prototype. On x86 (stdcall: the callee pops its arguments) it would
/// not be, which is why nothing calls them on any host: they stand only for the DMA_OPERATIONS
/// v3 entries this project never uses.
macro_rules! stubs {
    ($($fn_name:ident => $name:literal returns $ret:expr;)*) => {
        $(
            #[ddk_sys::ntapi]
            unsafe extern "ntapi" fn $fn_name() -> usize {
                not_implemented($name);
                $ret
            }
        )*
    };
}

const FAIL: usize = STATUS_NOT_IMPLEMENTED.0 as u32 as usize;
const NULL: usize = 0;

stubs! {
    get_dma_transfer_info => "GetDmaTransferInfo" returns FAIL;
    initialize_dma_transfer_context => "InitializeDmaTransferContext" returns FAIL;
    allocate_common_buffer_ex => "AllocateCommonBufferEx" returns NULL;
    allocate_adapter_channel_ex => "AllocateAdapterChannelEx" returns FAIL;
    configure_adapter_channel => "ConfigureAdapterChannel" returns FAIL;
    cancel_adapter_channel => "CancelAdapterChannel" returns NULL;
    map_transfer_ex => "MapTransferEx" returns FAIL;
    get_scatter_gather_list_ex => "GetScatterGatherListEx" returns FAIL;
    build_scatter_gather_list_ex => "BuildScatterGatherListEx" returns FAIL;
    flush_adapter_buffers_ex => "FlushAdapterBuffersEx" returns FAIL;
    free_adapter_object => "FreeAdapterObject" returns NULL;
    cancel_mapped_transfer => "CancelMappedTransfer" returns FAIL;
    allocate_domain_common_buffer => "AllocateDomainCommonBuffer" returns FAIL;
    flush_dma_buffer => "FlushDmaBuffer" returns FAIL;
    join_dma_domain => "JoinDmaDomain" returns FAIL;
    leave_dma_domain => "LeaveDmaDomain" returns FAIL;
    get_dma_domain => "GetDmaDomain" returns NULL;
    allocate_common_buffer_with_bounds => "AllocateCommonBufferWithBounds" returns NULL;
    allocate_common_buffer_vector => "AllocateCommonBufferVector" returns FAIL;
    get_common_buffer_from_vector_by_index => "GetCommonBufferFromVectorByIndex" returns NULL;
    free_common_buffer_from_vector => "FreeCommonBufferFromVector" returns NULL;
    free_common_buffer_vector => "FreeCommonBufferVector" returns NULL;
    create_common_buffer_from_mdl => "CreateCommonBufferFromMdl" returns FAIL;
}

/// Casts a stub to the table's placeholder type.
#[ddk_sys::ntapi]
const fn unused(f: unsafe extern "ntapi" fn() -> usize) -> PDMA_OPERATION_UNUSED {
    // SAFETY: both are `extern "ntapi"` function pointers of the same size. The entry is only
    // ever called through its real prototype by C-ABI callers; see `stubs!` for why ignoring
    // the arguments and returning a register-sized value is sound on x64.
    Some(unsafe {
        core::mem::transmute::<unsafe extern "ntapi" fn() -> usize, unsafe extern "ntapi" fn()>(f)
    })
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
    GetDmaTransferInfo: unused(get_dma_transfer_info),
    InitializeDmaTransferContext: unused(initialize_dma_transfer_context),
    AllocateCommonBufferEx: unused(allocate_common_buffer_ex),
    AllocateAdapterChannelEx: unused(allocate_adapter_channel_ex),
    ConfigureAdapterChannel: unused(configure_adapter_channel),
    CancelAdapterChannel: unused(cancel_adapter_channel),
    MapTransferEx: unused(map_transfer_ex),
    GetScatterGatherListEx: unused(get_scatter_gather_list_ex),
    BuildScatterGatherListEx: unused(build_scatter_gather_list_ex),
    FlushAdapterBuffersEx: unused(flush_adapter_buffers_ex),
    FreeAdapterObject: unused(free_adapter_object),
    CancelMappedTransfer: unused(cancel_mapped_transfer),
    AllocateDomainCommonBuffer: unused(allocate_domain_common_buffer),
    FlushDmaBuffer: unused(flush_dma_buffer),
    JoinDmaDomain: unused(join_dma_domain),
    LeaveDmaDomain: unused(leave_dma_domain),
    GetDmaDomain: unused(get_dma_domain),
    AllocateCommonBufferWithBounds: unused(allocate_common_buffer_with_bounds),
    AllocateCommonBufferVector: unused(allocate_common_buffer_vector),
    GetCommonBufferFromVectorByIndex: unused(get_common_buffer_from_vector_by_index),
    FreeCommonBufferFromVector: unused(free_common_buffer_from_vector),
    FreeCommonBufferVector: unused(free_common_buffer_vector),
    CreateCommonBufferFromMdl: unused(create_common_buffer_from_mdl),
};
