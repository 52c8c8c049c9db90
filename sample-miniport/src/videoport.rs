//! The VideoPort functions this miniport calls, declared as `video.h` does.
//!
//! Windows: imported with `raw-dylib` from `videoprt_rs.sys` (the only module the image
//! imports from). Other hosts: resolved at link time against videoprt-rs.

use ddk_sys::*;

#[cfg_attr(
    target_os = "windows",
    link(name = "videoprt_rs.sys", kind = "raw-dylib", modifiers = "+verbatim")
)]
#[ddk_sys::ntapi]
extern "ntapi" {
    pub fn VideoPortInitialize(
        Argument1: PVOID,
        Argument2: PVOID,
        HwInitializationData: PVIDEO_HW_INITIALIZATION_DATA,
        HwContext: PVOID,
    ) -> ULONG;
    pub fn VideoPortGetAccessRanges(
        HwDeviceExtension: PVOID,
        NumRequestedResources: ULONG,
        RequestedResources: PVOID,
        NumAccessRanges: ULONG,
        AccessRanges: PVIDEO_ACCESS_RANGE,
        VendorId: PVOID,
        DeviceId: PVOID,
        Slot: *mut ULONG,
    ) -> VP_STATUS;
    pub fn VideoPortGetDeviceBase(
        HwDeviceExtension: PVOID,
        IoAddress: PHYSICAL_ADDRESS,
        NumberOfUchars: ULONG,
        InIoSpace: UCHAR,
    ) -> PVOID;
    pub fn VideoPortReadRegisterUlong(Register: *mut ULONG) -> ULONG;
    pub fn VideoPortWriteRegisterUlong(Register: *mut ULONG, Value: ULONG);
    pub fn VideoPortQueueDpc(
        HwDeviceExtension: PVOID,
        CallbackRoutine: PMINIPORT_DPC_ROUTINE,
        Context: PVOID,
    ) -> BOOLEAN;
    pub fn VideoPortStallExecution(Microseconds: ULONG);
    pub fn VideoPortMoveMemory(Destination: PVOID, Source: PVOID, Length: ULONG);

    pub fn VideoPortGetDmaAdapter(
        HwDeviceExtension: PVOID,
        VpDeviceDescription: PVP_DEVICE_DESCRIPTION,
    ) -> PVP_DMA_ADAPTER;
    pub fn VideoPortLockBuffer(
        HwDeviceExtension: PVOID,
        BaseAddress: PVOID,
        Length: ULONG,
        Operation: VP_LOCK_OPERATION,
    ) -> PVOID;
    pub fn VideoPortUnlockBuffer(HwDeviceExtension: PVOID, Mdl: PVOID);
    pub fn VideoPortStartDma(
        HwDeviceExtension: PVOID,
        VpDmaAdapter: PVP_DMA_ADAPTER,
        Mdl: PVOID,
        Offset: ULONG,
        pLength: *mut ULONG,
        ExecuteDmaRoutine: PEXECUTE_DMA,
        Context: PVOID,
        WriteToDevice: BOOLEAN,
    ) -> VP_STATUS;
    pub fn VideoPortCompleteDma(
        HwDeviceExtension: PVOID,
        VpDmaAdapter: PVP_DMA_ADAPTER,
        VpScatterGather: PVP_SCATTER_GATHER_LIST,
        WriteToDevice: BOOLEAN,
    ) -> VP_STATUS;
    pub fn VideoPortAllocateCommonBuffer(
        HwDeviceExtension: PVOID,
        VpDmaAdapter: PVP_DMA_ADAPTER,
        DesiredLength: ULONG,
        LogicalAddress: PPHYSICAL_ADDRESS,
        CacheEnabled: BOOLEAN,
        Reserved: PVOID,
    ) -> PVOID;
}
