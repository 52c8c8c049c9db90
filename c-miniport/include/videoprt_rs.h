/*
 * videoprt_rs.h: every function videoprt_rs.sys exports, as a C miniport calls it.
 *
 * Include this header instead of <ddk/video.h>. On Windows builds (mingw-w64 or any DDK) it
 * includes <ntdef.h>, <ddk/miniport.h> and <ddk/video.h> in that order (and <ddk/dderror.h>, the
 * VP_STATUS codes), then redeclares every
 * export of videoprt_rs.sys. A redeclaration that disagreed with video.h (return type,
 * parameter count or type) would not compile, so this header doubles as a check of the
 * project's prototypes against the DDK's (workspace test c_prototypes_agree_with_ddk_video_h).
 * With VIDEOPRT_RS_HOST defined (the host build that runs on ntsim) the types come from
 * videoprt_host.h instead, with fixed-width integers sized as on Windows x64.
 *
 * The list of functions below is exactly the public EXPORTS of videoprt_rs.def, in its order;
 * the same test fails if the two drift apart. Functions of video.h that videoprt_rs.sys does
 * not export (see README) are not redeclared: a miniport that calls them fails to link
 * rather than loading against an export that does not exist.
 *
 * Known differences from mingw-w64's ddk/video.h, and why:
 *  - VideoPortUnlockBuffer: mingw-w64 declares it as "VideoPortUnLockBuffer" (capital L),
 *    a spelling no videoprt.sys exports; Microsoft's video.h and videoprt.sys use
 *    VideoPortUnlockBuffer. This header declares the exported name and maps the mingw
 *    spelling onto it, so miniports written against either header link.
 *  - VPAPI is DECLSPEC_IMPORT in video.h; here too (unless VIDEOPRT_RS_HOST), so calls go
 *    through the import address table (__imp_ symbols from videoprt_rs.lib or
 *    libvideoprt_rs.a) without thunks.
 *  - NTAPI and FASTCALL mean the one Windows x64 convention; kept as video.h has them so the
 *    declarations stay textually comparable (videoprt_host.h makes them ms_abi on the host).
 */
#ifndef VIDEOPRT_RS_H
#define VIDEOPRT_RS_H

#ifdef VIDEOPRT_RS_HOST
#include "videoprt_host.h"
#else
#ifdef __VIDEO_H__
#error "include videoprt_rs.h instead of <ddk/video.h> (it includes video.h itself)"
#endif
#include <ntdef.h>
#include <ddk/miniport.h>
#include <ddk/video.h>
#include <ddk/dderror.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

VPAPI VOID NTAPI VideoPortAcquireDeviceLock(
    PVOID HwDeviceExtension);
VPAPI VOID NTAPI VideoPortAcquireSpinLock(
    PVOID HwDeviceExtension,
    PSPIN_LOCK SpinLock,
    PUCHAR OldIrql);
VPAPI VOID NTAPI VideoPortAcquireSpinLockAtDpcLevel(
    PVOID HwDeviceExtension,
    PSPIN_LOCK SpinLock);
VPAPI VP_STATUS NTAPI VideoPortAllocateBuffer(
    PVOID HwDeviceExtension,
    ULONG Size,
    PVOID *Buffer);
VPAPI PVOID NTAPI VideoPortAllocateCommonBuffer(
    PVOID HwDeviceExtension,
    PVP_DMA_ADAPTER VpDmaAdapter,
    ULONG DesiredLength,
    PPHYSICAL_ADDRESS LogicalAddress,
    BOOLEAN CacheEnabled,
    PVOID Reserved);
VPAPI PVOID NTAPI VideoPortAllocateContiguousMemory(
    PVOID HwDeviceExtension,
    ULONG NumberOfBytes,
    PHYSICAL_ADDRESS HighestAcceptableAddress);
VPAPI PVOID NTAPI VideoPortAllocatePool(
    PVOID HwDeviceExtension,
    VP_POOL_TYPE PoolType,
    SIZE_T NumberOfBytes,
    ULONG Tag);
VPAPI PDMA NTAPI VideoPortAssociateEventsWithDmaHandle(
    PVOID HwDeviceExtension,
    PVIDEO_REQUEST_PACKET pVrp,
    PVOID MappedUserEvent,
    PVOID DisplayDriverEvent);
VPAPI BOOLEAN NTAPI VideoPortCheckForDeviceExistance(
    PVOID HwDeviceExtension, USHORT VendorId, USHORT DeviceId, UCHAR RevisionId,
    USHORT SubVendorId, USHORT SubSystemId, ULONG Flags);
VPAPI BOOLEAN NTAPI VideoPortCheckForDeviceExistence(
    PVOID HwDeviceExtension, USHORT VendorId, USHORT DeviceId, UCHAR RevisionId,
    USHORT SubVendorId, USHORT SubSystemId, ULONG Flags);
VPAPI VOID NTAPI VideoPortClearEvent(
    PVOID HwDeviceExtension,
    PEVENT pEvent);
VPAPI ULONG NTAPI VideoPortCompareMemory(
    PVOID Source1,
    PVOID Source2,
    SIZE_T Length);
VPAPI VP_STATUS NTAPI VideoPortCompleteDma(
    PVOID HwDeviceExtension,
    PVP_DMA_ADAPTER VpDmaAdapter,
    PVP_SCATTER_GATHER_LIST VpScatterGather,
    BOOLEAN WriteToDevice);
VPAPI VP_STATUS NTAPI VideoPortCreateEvent(
    PVOID HwDeviceExtension,
    ULONG EventFlag,
    PVOID Unused,
    PEVENT *ppEvent);
VPAPI VP_STATUS NTAPI VideoPortCreateSpinLock(
    PVOID HwDeviceExtension,
    PSPIN_LOCK *SpinLock);
VPAPI BOOLEAN NTAPI VideoPortDDCMonitorHelper(
    PVOID HwDeviceExtension,
    PVOID DDCControl,
    PUCHAR EdidBuffer,
    ULONG EdidBufferSize);
VPAPI VOID __cdecl VideoPortDebugPrint(
    VIDEO_DEBUG_LEVEL DebugPrintLevel,
    PSTR DebugMessage,
    ...);
VPAPI VP_STATUS NTAPI VideoPortDeleteEvent(
    PVOID HwDeviceExtension,
    PEVENT pEvent);
VPAPI VP_STATUS NTAPI VideoPortDeleteSpinLock(
    PVOID HwDeviceExtension,
    PSPIN_LOCK SpinLock);
VPAPI PDMA NTAPI VideoPortDoDma(
    PVOID HwDeviceExtension,
    PDMA pDma,
    DMA_FLAGS DmaFlags);
VPAPI VP_STATUS NTAPI VideoPortEnumerateChildren(
    PVOID HwDeviceExtension,
    PVOID Reserved);
VPAPI VP_STATUS NTAPI VideoPortFlushRegistry(
    PVOID HwDeviceExtension);
VPAPI VOID NTAPI VideoPortFreeCommonBuffer(
    PVOID HwDeviceExtension,
    ULONG Length,
    PVOID VirtualAddress,
    PHYSICAL_ADDRESS LogicalAddress,
    BOOLEAN CacheEnabled);
VPAPI VOID NTAPI VideoPortFreeDeviceBase(
    PVOID HwDeviceExtension,
    PVOID MappedAddress);
VPAPI VOID NTAPI VideoPortFreePool(
    PVOID HwDeviceExtension,
    PVOID Ptr);
VPAPI VP_STATUS NTAPI VideoPortGetAccessRanges(
    PVOID HwDeviceExtension,
    ULONG NumRequestedResources,
    PIO_RESOURCE_DESCRIPTOR RequestedResources,
    ULONG NumAccessRanges,
    PVIDEO_ACCESS_RANGE AccessRanges,
    PVOID VendorId,
    PVOID DeviceId,
    PULONG Slot);
VPAPI PVOID NTAPI VideoPortGetAssociatedDeviceExtension(
    PVOID DeviceObject);
VPAPI ULONG NTAPI VideoPortGetAssociatedDeviceID(
    PVOID DeviceObject);
VPAPI ULONG NTAPI VideoPortGetBusData(
    PVOID HwDeviceExtension,
    BUS_DATA_TYPE BusDataType,
    ULONG SlotNumber,
    PVOID Buffer,
    ULONG Offset,
    ULONG Length);
VPAPI ULONG NTAPI VideoPortGetBytesUsed(
    PVOID HwDeviceExtension,
    PDMA pDma);
VPAPI PVOID NTAPI VideoPortGetCommonBuffer(
    PVOID HwDeviceExtension,
    ULONG DesiredLength,
    ULONG Alignment,
    PPHYSICAL_ADDRESS LogicalAddress,
    PULONG pActualLength,
    BOOLEAN CacheEnabled);
VPAPI UCHAR NTAPI VideoPortGetCurrentIrql(VOID);
VPAPI PVOID NTAPI VideoPortGetDeviceBase(
    PVOID HwDeviceExtension,
    PHYSICAL_ADDRESS IoAddress,
    ULONG NumberOfUchars,
    UCHAR InIoSpace);
VPAPI VP_STATUS NTAPI VideoPortGetDeviceData(
    PVOID HwDeviceExtension, VIDEO_DEVICE_DATA_TYPE DeviceDataType,
    PMINIPORT_QUERY_DEVICE_ROUTINE CallbackRoutine, PVOID Context);
VPAPI PVP_DMA_ADAPTER NTAPI VideoPortGetDmaAdapter(
    PVOID HwDeviceExtension,
    PVP_DEVICE_DESCRIPTION VpDeviceDescription);
VPAPI PVOID NTAPI VideoPortGetDmaContext(
    PVOID HwDeviceExtension,
    PDMA pDma);
VPAPI PVOID NTAPI VideoPortGetMdl(
    PVOID HwDeviceExtension,
    PDMA pDma);
VPAPI VP_STATUS NTAPI VideoPortGetRegistryParameters(
    PVOID HwDeviceExtension,
    PWSTR ParameterName,
    UCHAR IsParameterFileName,
    PMINIPORT_GET_REGISTRY_ROUTINE CallbackRoutine,
    PVOID Context);
VPAPI PVOID NTAPI VideoPortGetRomImage(
    PVOID HwDeviceExtension, PVOID Unused1, ULONG Unused2, ULONG Length);
VPAPI VP_STATUS NTAPI VideoPortGetVersion(
    PVOID HwDeviceExtension,
    PVPOSVERSIONINFO pVpOsVersionInfo);
VPAPI VP_STATUS NTAPI VideoPortGetVgaStatus(
    PVOID HwDeviceExtension,
    PULONG VgaStatus);
VPAPI ULONG NTAPI VideoPortInitialize(
    PVOID Argument1,
    PVOID Argument2,
    PVIDEO_HW_INITIALIZATION_DATA HwInitializationData,
    PVOID HwContext);
VPAPI VP_STATUS NTAPI VideoPortInt10(
    PVOID HwDeviceExtension,
    PVIDEO_X86_BIOS_ARGUMENTS BiosArguments);
VPAPI LONG FASTCALL VideoPortInterlockedDecrement(
    PLONG Addend);
VPAPI LONG FASTCALL VideoPortInterlockedExchange(
    PLONG Target,
    LONG Value);
VPAPI LONG FASTCALL VideoPortInterlockedIncrement(
    PLONG Addend);
VPAPI PVOID NTAPI VideoPortLockBuffer(
    PVOID HwDeviceExtension,
    PVOID BaseAddress,
    ULONG Length,
    VP_LOCK_OPERATION Operation);
VPAPI BOOLEAN NTAPI VideoPortLockPages(
    PVOID HwDeviceExtension,
    PVIDEO_REQUEST_PACKET pVrp,
    PEVENT pUEvent,
    PEVENT pDisplayEvent,
    DMA_FLAGS DmaFlags);
VPAPI VOID NTAPI VideoPortLogError(
    PVOID HwDeviceExtension,
    PVIDEO_REQUEST_PACKET Vrp,
    VP_STATUS ErrorCode,
    ULONG UniqueId);
VPAPI PDMA NTAPI VideoPortMapDmaMemory(
    PVOID HwDeviceExtension,
    PVIDEO_REQUEST_PACKET pVrp,
    PHYSICAL_ADDRESS BoardAddress,
    PULONG Length,
    PULONG InIoSpace,
    PVOID MappedUserEvent,
    PVOID DisplayDriverEvent,
    PVOID *VirtualAddress);
VPAPI VP_STATUS NTAPI VideoPortMapMemory(
    PVOID HwDeviceExtension,
    PHYSICAL_ADDRESS PhysicalAddress,
    PULONG Length,
    PULONG InIoSpace,
    PVOID *VirtualAddress);
VPAPI VOID NTAPI VideoPortMoveMemory(
    PVOID Destination,
    PVOID Source,
    ULONG Length);
VPAPI VOID NTAPI VideoPortPutDmaAdapter(
    PVOID HwDeviceExtension,
    PVP_DMA_ADAPTER VpDmaAdapter);
VPAPI LONGLONG NTAPI VideoPortQueryPerformanceCounter(
    PVOID HwDeviceExtension,
    PLONGLONG PerformanceFrequency);
VPAPI VP_STATUS NTAPI VideoPortQueryServices(
    PVOID HwDeviceExtension,
    VIDEO_PORT_SERVICES ServicesType,
    PINTERFACE Interface);
VPAPI VOID NTAPI VideoPortQuerySystemTime(
    PLARGE_INTEGER CurrentTime);
VPAPI BOOLEAN NTAPI VideoPortQueueDpc(
    PVOID HwDeviceExtension,
    PMINIPORT_DPC_ROUTINE CallbackRoutine,
    PVOID Context);
VPAPI VOID NTAPI VideoPortReadPortBufferUchar(
    PUCHAR Port,
    PUCHAR Buffer,
    ULONG Count);
VPAPI VOID NTAPI VideoPortReadPortBufferUlong(
    PULONG Port,
    PULONG Buffer,
    ULONG Count);
VPAPI VOID NTAPI VideoPortReadPortBufferUshort(
    PUSHORT Port,
    PUSHORT Buffer,
    ULONG Count);
VPAPI UCHAR NTAPI VideoPortReadPortUchar(
    PUCHAR Port);
VPAPI ULONG NTAPI VideoPortReadPortUlong(
    PULONG Port);
VPAPI USHORT NTAPI VideoPortReadPortUshort(
    PUSHORT Port);
VPAPI VOID NTAPI VideoPortReadRegisterBufferUchar(
    PUCHAR Register,
    PUCHAR Buffer,
    ULONG Count);
VPAPI VOID NTAPI VideoPortReadRegisterBufferUlong(
    PULONG Register,
    PULONG Buffer,
    ULONG Count);
VPAPI VOID NTAPI VideoPortReadRegisterBufferUshort(
    PUSHORT Register,
    PUSHORT Buffer,
    ULONG Count);
VPAPI UCHAR NTAPI VideoPortReadRegisterUchar(
    PUCHAR Register);
VPAPI ULONG NTAPI VideoPortReadRegisterUlong(
    PULONG Register);
VPAPI USHORT NTAPI VideoPortReadRegisterUshort(
    PUSHORT Register);
VPAPI LONG NTAPI VideoPortReadStateEvent(
    PVOID HwDeviceExtension,
    PEVENT pEvent);
VPAPI VP_STATUS NTAPI VideoPortRegisterBugcheckCallback(
    PVOID HwDeviceExtension,
    ULONG BugcheckCode,
    PVIDEO_BUGCHECK_CALLBACK Callback,
    ULONG BugcheckDataSize);
VPAPI VOID NTAPI VideoPortReleaseBuffer(
    PVOID HwDeviceExtension,
    PVOID Buffer);
VPAPI VOID NTAPI VideoPortReleaseCommonBuffer(
    PVOID HwDeviceExtension,
    PVP_DMA_ADAPTER VpDmaAdapter,
    ULONG Length,
    PHYSICAL_ADDRESS LogicalAddress,
    PVOID VirtualAddress,
    BOOLEAN CacheEnabled);
VPAPI VOID NTAPI VideoPortReleaseDeviceLock(
    PVOID HwDeviceExtension);
VPAPI VOID NTAPI VideoPortReleaseSpinLock(
    PVOID HwDeviceExtension,
    PSPIN_LOCK SpinLock,
    UCHAR NewIrql);
VPAPI VOID NTAPI VideoPortReleaseSpinLockFromDpcLevel(
    PVOID HwDeviceExtension,
    PSPIN_LOCK SpinLock);
VPAPI BOOLEAN NTAPI VideoPortScanRom(
    PVOID HwDeviceExtension,
    PUCHAR RomBase,
    ULONG RomLength,
    PUCHAR String);
VPAPI ULONG NTAPI VideoPortSetBusData(
    PVOID HwDeviceExtension,
    BUS_DATA_TYPE BusDataType,
    ULONG SlotNumber,
    PVOID Buffer,
    ULONG Offset,
    ULONG Length);
VPAPI VOID NTAPI VideoPortSetBytesUsed(
    PVOID HwDeviceExtension,
    PDMA pDma,
    ULONG BytesUsed);
VPAPI VOID NTAPI VideoPortSetDmaContext(
    PVOID HwDeviceExtension,
    PDMA pDma,
    PVOID InstanceContext);
VPAPI LONG NTAPI VideoPortSetEvent(
    PVOID HwDeviceExtension,
    PEVENT pEvent);
VPAPI VP_STATUS NTAPI VideoPortSetRegistryParameters(
    PVOID HwDeviceExtension,
    PWSTR ValueName,
    PVOID ValueData,
    ULONG ValueLength);
VPAPI BOOLEAN NTAPI VideoPortSignalDmaComplete(
    PVOID HwDeviceExtension,
    PDMA pDmaHandle);
VPAPI VOID NTAPI VideoPortStallExecution(
    ULONG Microseconds);
VPAPI VP_STATUS NTAPI VideoPortStartDma(
    PVOID HwDeviceExtension,
    PVP_DMA_ADAPTER VpDmaAdapter,
    PVOID Mdl,
    ULONG Offset,
    PULONG pLength,
    PEXECUTE_DMA ExecuteDmaRoutine,
    PVOID Context,
    BOOLEAN WriteToDevice);
VPAPI VOID NTAPI VideoPortStartTimer(
    PVOID HwDeviceExtension);
VPAPI VOID NTAPI VideoPortStopTimer(
    PVOID HwDeviceExtension);
VPAPI BOOLEAN NTAPI VideoPortSynchronizeExecution(
    PVOID HwDeviceExtension,
    VIDEO_SYNCHRONIZE_PRIORITY Priority,
    PMINIPORT_SYNCHRONIZE_ROUTINE SynchronizeRoutine,
    PVOID Context);
VPAPI VOID NTAPI VideoPortUnlockBuffer(
    PVOID HwDeviceExtension,
    PVOID Mdl);
VPAPI BOOLEAN NTAPI VideoPortUnlockPages(
    PVOID hwDeviceExtension,
    PDMA pDma);
VPAPI BOOLEAN NTAPI VideoPortUnmapDmaMemory(
    PVOID HwDeviceExtension,
    PVOID VirtualAddress,
    HANDLE ProcessHandle,
    PDMA BoardMemoryHandle);
VPAPI VP_STATUS NTAPI VideoPortUnmapMemory(
    PVOID HwDeviceExtension,
    PVOID VirtualAddress,
    HANDLE ProcessHandle);
VPAPI VP_STATUS NTAPI VideoPortVerifyAccessRanges(
    PVOID HwDeviceExtension,
    ULONG NumAccessRanges,
    PVIDEO_ACCESS_RANGE AccessRanges);
VPAPI VP_STATUS NTAPI VideoPortWaitForSingleObject(
    PVOID HwDeviceExtension,
    PVOID Object,
    PLARGE_INTEGER Timeout);
VPAPI VOID NTAPI VideoPortWritePortBufferUchar(
    PUCHAR Port,
    PUCHAR Buffer,
    ULONG Count);
VPAPI VOID NTAPI VideoPortWritePortBufferUlong(
    PULONG Port,
    PULONG Buffer,
    ULONG Count);
VPAPI VOID NTAPI VideoPortWritePortBufferUshort(
    PUSHORT Port,
    PUSHORT Buffer,
    ULONG Count);
VPAPI VOID NTAPI VideoPortWritePortUchar(
    PUCHAR Port,
    UCHAR Value);
VPAPI VOID NTAPI VideoPortWritePortUlong(
    PULONG Port,
    ULONG Value);
VPAPI VOID NTAPI VideoPortWritePortUshort(
    PUSHORT Port,
    USHORT Value);
VPAPI VOID NTAPI VideoPortWriteRegisterBufferUchar(
    PUCHAR Register,
    PUCHAR Buffer,
    ULONG Count);
VPAPI VOID NTAPI VideoPortWriteRegisterBufferUlong(
    PULONG Register,
    PULONG Buffer,
    ULONG Count);
VPAPI VOID NTAPI VideoPortWriteRegisterBufferUshort(
    PUSHORT Register,
    PUSHORT Buffer,
    ULONG Count);
VPAPI VOID NTAPI VideoPortWriteRegisterUchar(
    PUCHAR Register,
    UCHAR Value);
VPAPI VOID NTAPI VideoPortWriteRegisterUlong(
    PULONG Register,
    ULONG Value);
VPAPI VOID NTAPI VideoPortWriteRegisterUshort(
    PUSHORT Register,
    USHORT Value);
VPAPI VOID NTAPI VideoPortZeroDeviceMemory(
    PVOID Destination,
    ULONG Length);
VPAPI VOID NTAPI VideoPortZeroMemory(
    PVOID Destination,
    ULONG Length);

/* mingw-w64's spelling of VideoPortUnlockBuffer (see the list of differences above). */
#define VideoPortUnLockBuffer VideoPortUnlockBuffer

#ifdef __cplusplus
}
#endif

#endif /* VIDEOPRT_RS_H */
