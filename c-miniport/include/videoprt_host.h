/*
 * videoprt_host.h: the NT and video.h types a C miniport uses, for the host build that runs
 * against videoprt-rs on ntsim (VIDEOPRT_RS_HOST). Never used with the DDK headers.
 *
 * Windows x64 is LLP64: ULONG and LONG are 32-bit, while a Linux `long` is 64-bit, so every
 * type here is spelled with fixed-width integers. BOOLEAN is a byte. PHYSICAL_ADDRESS is the
 * 64-bit LARGE_INTEGER union. Structures are laid out as ddk-sys declares them (and as
 * video.h does on Windows x64); the layouts are asserted below and in the crate's tests.
 * NTAPI, FASTCALL and __cdecl are the Windows x64 calling convention (ms_abi), as on Windows
 * x64: the port on the host speaks it too, so host-built and PE-loaded miniports call the same
 * exports.
 */
#ifndef VIDEOPRT_HOST_H
#define VIDEOPRT_HOST_H

#include <stddef.h>
#include <stdint.h>

#define IN
#define OUT
#define OPTIONAL
#define NTAPI __attribute__((ms_abi))
#define FASTCALL __attribute__((ms_abi))
#define __cdecl __attribute__((ms_abi))
#define VPAPI

#ifndef NULL
#define NULL ((void *)0)
#endif
#define TRUE 1
#define FALSE 0

typedef void VOID;
typedef void *PVOID;
typedef PVOID HANDLE;
typedef uint8_t UCHAR, *PUCHAR;
typedef uint8_t BOOLEAN, *PBOOLEAN;
typedef uint16_t USHORT, *PUSHORT;
typedef char CHAR, *PCHAR, *PSTR;
typedef uint16_t WCHAR, *PWSTR;
typedef uint32_t ULONG, *PULONG;
typedef int32_t LONG, *PLONG;
typedef int64_t LONGLONG, *PLONGLONG;
typedef uint64_t ULONGLONG;
typedef uintptr_t ULONG_PTR, SIZE_T;
typedef LONG VP_STATUS;

typedef union _LARGE_INTEGER {
    struct {
        ULONG LowPart;
        LONG HighPart;
    };
    struct {
        ULONG LowPart;
        LONG HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER, PHYSICAL_ADDRESS, *PPHYSICAL_ADDRESS;

/* winerror.h values a miniport returns as VP_STATUS. */
#define NO_ERROR 0
#define ERROR_INVALID_FUNCTION 1
#define ERROR_NOT_ENOUGH_MEMORY 8
#define ERROR_DEV_NOT_EXIST 55
#define ERROR_INVALID_PARAMETER 87
#define ERROR_INSUFFICIENT_BUFFER 122
#define ERROR_MORE_DATA 234
#define ERROR_BUSY 170
#define ERROR_INVALID_NAME 123
#define ERROR_CONTINUE 1246
#define ERROR_NO_MORE_DEVICES 1248
#define WAIT_TIMEOUT 258

typedef enum _INTERFACE_TYPE {
    InterfaceTypeUndefined = -1,
    Internal,
    Isa,
    Eisa,
    MicroChannel,
    TurboChannel,
    PCIBus,
    VMEBus,
    NuBus,
    PCMCIABus,
    CBus,
    MPIBus,
    MPSABus,
    ProcessorInternal,
    InternalPowerBus,
    PNPISABus,
    PNPBus,
    Vmcs,
    ACPIBus,
    MaximumInterfaceType
} INTERFACE_TYPE;

typedef enum VIDEO_DEBUG_LEVEL { Error, Warn, Trace, Info } VIDEO_DEBUG_LEVEL;
typedef enum _BUS_DATA_TYPE {
    ConfigurationSpaceUndefined = -1,
    Cmos,
    EisaConfiguration,
    Pos,
    CbusConfiguration,
    PCIConfiguration,
    VMEConfiguration,
    NuBusConfiguration,
    PCMCIAConfiguration,
    MPIConfiguration,
    MPSAConfiguration,
    PNPISAConfiguration,
    SgiInternalConfiguration,
    MaximumBusDataType
} BUS_DATA_TYPE;
typedef enum _KINTERRUPT_MODE { LevelSensitive, Latched } KINTERRUPT_MODE;
typedef enum _DMA_WIDTH { Width8Bits, Width16Bits, Width32Bits, Width64Bits, WidthNoWrap } DMA_WIDTH;
typedef enum _DMA_SPEED { Compatible, TypeA, TypeB, TypeC, TypeF } DMA_SPEED;
typedef enum _VP_LOCK_OPERATION { VpReadAccess, VpWriteAccess, VpModifyAccess } VP_LOCK_OPERATION;
typedef enum _VIDEO_SYNCHRONIZE_PRIORITY {
    VpLowPriority,
    VpMediumPriority,
    VpHighPriority
} VIDEO_SYNCHRONIZE_PRIORITY;
typedef enum _DMA_FLAGS {
    VideoPortUnlockAfterDma = 1,
    VideoPortKeepPagesLocked,
    VideoPortDmaInitOnly
} DMA_FLAGS;

/* Opaque handles. */
typedef struct __VP_DMA_ADAPTER *PVP_DMA_ADAPTER;
typedef struct __DMA_PARAMETERS *PDMA;
typedef struct _VIDEO_PORT_EVENT *PEVENT;
typedef struct _VIDEO_PORT_SPIN_LOCK *PSPIN_LOCK;

/* VideoPortCreateEvent flags. */
#define EVENT_TYPE_MASK 1
#define SYNCHRONIZATION_EVENT 0
#define NOTIFICATION_EVENT 1
#define INITIAL_EVENT_STATE_MASK 2
#define INITIAL_EVENT_NOT_SIGNALED 0
#define INITIAL_EVENT_SIGNALED 2

typedef enum _VP_POOL_TYPE {
    VpNonPagedPool = 0,
    VpPagedPool,
    VpNonPagedPoolCacheAligned = 4,
    VpPagedPoolCacheAligned
} VP_POOL_TYPE, *PVP_POOL_TYPE;
typedef struct _IO_RESOURCE_DESCRIPTOR *PIO_RESOURCE_DESCRIPTOR;

typedef struct _VIDEO_ACCESS_RANGE {
    PHYSICAL_ADDRESS RangeStart;
    ULONG RangeLength;
    UCHAR RangeInIoSpace;
    UCHAR RangeVisible;
    UCHAR RangeShareable;
    UCHAR RangePassive;
} VIDEO_ACCESS_RANGE, *PVIDEO_ACCESS_RANGE;

typedef struct _STATUS_BLOCK {
    VP_STATUS Status;
    ULONG_PTR Information;
} STATUS_BLOCK, *PSTATUS_BLOCK;

typedef struct _VIDEO_REQUEST_PACKET {
    ULONG IoControlCode;
    PSTATUS_BLOCK StatusBlock;
    PVOID InputBuffer;
    ULONG InputBufferLength;
    PVOID OutputBuffer;
    ULONG OutputBufferLength;
} VIDEO_REQUEST_PACKET, *PVIDEO_REQUEST_PACKET;

typedef PVOID (NTAPI *PVIDEO_PORT_GET_PROC_ADDRESS)(PVOID HwDeviceExtension, PUCHAR FunctionName);

/* wdm.h's INTERFACE header and video.h's services (VideoPortQueryServices). */
typedef VOID (NTAPI *PINTERFACE_REFERENCE)(PVOID Context);
typedef VOID (NTAPI *PINTERFACE_DEREFERENCE)(PVOID Context);
typedef struct _INTERFACE {
    USHORT Size;
    USHORT Version;
    PVOID Context;
    PINTERFACE_REFERENCE InterfaceReference;
    PINTERFACE_DEREFERENCE InterfaceDereference;
} INTERFACE, *PINTERFACE;

typedef enum _VIDEO_PORT_SERVICES {
    VideoPortServicesAGP = 1,
    VideoPortServicesI2C,
    VideoPortServicesHeadless,
    VideoPortServicesInt10
} VIDEO_PORT_SERVICES;

typedef struct _INT10_BIOS_ARGUMENTS {
    ULONG Eax;
    ULONG Ebx;
    ULONG Ecx;
    ULONG Edx;
    ULONG Esi;
    ULONG Edi;
    ULONG Ebp;
    USHORT SegDs;
    USHORT SegEs;
} INT10_BIOS_ARGUMENTS, *PINT10_BIOS_ARGUMENTS;

#define VIDEO_PORT_INT10_INTERFACE_VERSION_1 1
typedef VP_STATUS (NTAPI *PINT10_ALLOCATE_BUFFER)(PVOID Context, PUSHORT Seg, PUSHORT Off,
                                                  PULONG Length);
typedef VP_STATUS (NTAPI *PINT10_CALL_BIOS)(PVOID Context, PINT10_BIOS_ARGUMENTS BiosArguments);
typedef VP_STATUS (NTAPI *PINT10_FREE_BUFFER)(PVOID Context, USHORT Seg, USHORT Off);
typedef VP_STATUS (NTAPI *PINT10_READ_MEMORY)(PVOID Context, USHORT Seg, USHORT Off,
                                              PVOID Buffer, ULONG Length);
typedef VP_STATUS (NTAPI *PINT10_WRITE_MEMORY)(PVOID Context, USHORT Seg, USHORT Off,
                                               PVOID Buffer, ULONG Length);
typedef struct _VIDEO_PORT_INT10_INTERFACE {
    USHORT Size;
    USHORT Version;
    PVOID Context;
    PINTERFACE_REFERENCE InterfaceReference;
    PINTERFACE_DEREFERENCE InterfaceDereference;
    PINT10_ALLOCATE_BUFFER Int10AllocateBuffer;
    PINT10_FREE_BUFFER Int10FreeBuffer;
    PINT10_READ_MEMORY Int10ReadMemory;
    PINT10_WRITE_MEMORY Int10WriteMemory;
    PINT10_CALL_BIOS Int10CallBios;
} VIDEO_PORT_INT10_INTERFACE, *PVIDEO_PORT_INT10_INTERFACE;

typedef struct _VIDEO_X86_BIOS_ARGUMENTS {
    ULONG Eax;
    ULONG Ebx;
    ULONG Ecx;
    ULONG Edx;
    ULONG Esi;
    ULONG Edi;
    ULONG Ebp;
} VIDEO_X86_BIOS_ARGUMENTS, *PVIDEO_X86_BIOS_ARGUMENTS;

/* HwGetVideoChildDescriptor (video.h). */
#define VIDEO_ENUM_MORE_DEVICES ERROR_CONTINUE
#define VIDEO_ENUM_NO_MORE_DEVICES ERROR_NO_MORE_DEVICES
#define VIDEO_ENUM_INVALID_DEVICE ERROR_INVALID_NAME
typedef struct _VIDEO_CHILD_ENUM_INFO {
    ULONG Size;
    ULONG ChildDescriptorSize;
    ULONG ChildIndex;
    ULONG ACPIHwId;
    PVOID ChildHwDeviceExtension;
} VIDEO_CHILD_ENUM_INFO, *PVIDEO_CHILD_ENUM_INFO;
typedef enum _VIDEO_CHILD_TYPE { Monitor = 1, NonPrimaryChip, VideoChip, Other } VIDEO_CHILD_TYPE,
    *PVIDEO_CHILD_TYPE;

typedef struct _VIDEO_PORT_CONFIG_INFO {
    ULONG Length;
    ULONG SystemIoBusNumber;
    INTERFACE_TYPE AdapterInterfaceType;
    ULONG BusInterruptLevel;
    ULONG BusInterruptVector;
    KINTERRUPT_MODE InterruptMode;
    ULONG NumEmulatorAccessEntries;
    PVOID EmulatorAccessEntries;
    ULONG_PTR EmulatorAccessEntriesContext;
    PHYSICAL_ADDRESS VdmPhysicalVideoMemoryAddress;
    ULONG VdmPhysicalVideoMemoryLength;
    ULONG HardwareStateSize;
    ULONG DmaChannel;
    ULONG DmaPort;
    UCHAR DmaShareable;
    UCHAR InterruptShareable;
    BOOLEAN Master;
    DMA_WIDTH DmaWidth;
    DMA_SPEED DmaSpeed;
    BOOLEAN bMapBuffers;
    BOOLEAN NeedPhysicalAddresses;
    BOOLEAN DemandMode;
    ULONG MaximumTransferLength;
    ULONG NumberOfPhysicalBreaks;
    BOOLEAN ScatterGather;
    ULONG MaximumScatterGatherChunkSize;
    PVIDEO_PORT_GET_PROC_ADDRESS VideoPortGetProcAddress;
    PWSTR DriverRegistryPath;
    ULONGLONG SystemMemorySize;
} VIDEO_PORT_CONFIG_INFO, *PVIDEO_PORT_CONFIG_INFO;

typedef VP_STATUS (NTAPI *PVIDEO_HW_FIND_ADAPTER)(PVOID HwDeviceExtension, PVOID HwContext,
                                                  PWSTR ArgumentString,
                                                  PVIDEO_PORT_CONFIG_INFO ConfigInfo,
                                                  PUCHAR Again);
typedef BOOLEAN (NTAPI *PVIDEO_HW_INITIALIZE)(PVOID HwDeviceExtension);
typedef BOOLEAN (NTAPI *PVIDEO_HW_INTERRUPT)(PVOID HwDeviceExtension);
typedef BOOLEAN (NTAPI *PVIDEO_HW_START_IO)(PVOID HwDeviceExtension,
                                            PVIDEO_REQUEST_PACKET RequestPacket);
typedef BOOLEAN (NTAPI *PVIDEO_HW_RESET_HW)(PVOID HwDeviceExtension, ULONG Columns, ULONG Rows);
typedef VOID (NTAPI *PVIDEO_HW_TIMER)(PVOID HwDeviceExtension);
typedef PVOID PVIDEO_HW_START_DMA;           /* obsolete callbacks: pointer-sized slots */

/* ntddvdeo.h: power management. */
typedef enum _VIDEO_POWER_STATE {
    VideoPowerUnspecified = 0,
    VideoPowerOn = 1,
    VideoPowerStandBy,
    VideoPowerSuspend,
    VideoPowerOff,
    VideoPowerHibernate,
    VideoPowerShutdown,
    VideoPowerMaximum
} VIDEO_POWER_STATE, *PVIDEO_POWER_STATE;
typedef struct _VIDEO_POWER_MANAGEMENT {
    ULONG Length;
    ULONG DPMSVersion;
    ULONG PowerState;
} VIDEO_POWER_MANAGEMENT, *PVIDEO_POWER_MANAGEMENT;

/* Child devices. */
#define DISPLAY_ADAPTER_HW_ID 0xFFFFFFFF
/* VIDEO_CHILD_ENUM_INFO, VIDEO_CHILD_TYPE, VIDEO_ENUM_*: above (HwGetVideoChildDescriptor). */
typedef VP_STATUS (NTAPI *PVIDEO_HW_GET_CHILD_DESCRIPTOR)(PVOID HwDeviceExtension,
    PVIDEO_CHILD_ENUM_INFO ChildEnumInfo, PVIDEO_CHILD_TYPE VideoChildType,
    PUCHAR pChildDescriptor, PULONG UId, PULONG pUnused);
typedef VP_STATUS (NTAPI *PVIDEO_HW_POWER_SET)(PVOID HwDeviceExtension, ULONG HwId,
    PVIDEO_POWER_MANAGEMENT VideoPowerControl);
typedef VP_STATUS (NTAPI *PVIDEO_HW_POWER_GET)(PVOID HwDeviceExtension, ULONG HwId,
    PVIDEO_POWER_MANAGEMENT VideoPowerControl);

/* DDC: the I2C lines a miniport bit-bangs. */
typedef VOID (NTAPI *PVIDEO_WRITE_CLOCK_LINE)(PVOID HwDeviceExtension, UCHAR Data);
typedef VOID (NTAPI *PVIDEO_WRITE_DATA_LINE)(PVOID HwDeviceExtension, UCHAR Data);
typedef BOOLEAN (NTAPI *PVIDEO_READ_CLOCK_LINE)(PVOID HwDeviceExtension);
typedef BOOLEAN (NTAPI *PVIDEO_READ_DATA_LINE)(PVOID HwDeviceExtension);
typedef struct _I2C_CALLBACKS {
    PVIDEO_WRITE_CLOCK_LINE WriteClockLine;
    PVIDEO_WRITE_DATA_LINE WriteDataLine;
    PVIDEO_READ_CLOCK_LINE ReadClockLine;
    PVIDEO_READ_DATA_LINE ReadDataLine;
} I2C_CALLBACKS, *PI2C_CALLBACKS;
typedef PVOID PVIDEO_HW_QUERY_INTERFACE;
typedef PVOID PVIDEO_HW_LEGACYRESOURCES;

typedef struct _VIDEO_HW_INITIALIZATION_DATA {
    ULONG HwInitDataSize;
    INTERFACE_TYPE AdapterInterfaceType;
    PVIDEO_HW_FIND_ADAPTER HwFindAdapter;
    PVIDEO_HW_INITIALIZE HwInitialize;
    PVIDEO_HW_INTERRUPT HwInterrupt;
    PVIDEO_HW_START_IO HwStartIO;
    ULONG HwDeviceExtensionSize;
    ULONG StartingDeviceNumber;
    PVIDEO_HW_RESET_HW HwResetHw;
    PVIDEO_HW_TIMER HwTimer;
    PVIDEO_HW_START_DMA HwStartDma;
    PVIDEO_HW_POWER_SET HwSetPowerState;
    PVIDEO_HW_POWER_GET HwGetPowerState;
    PVIDEO_HW_GET_CHILD_DESCRIPTOR HwGetVideoChildDescriptor;
    PVIDEO_HW_QUERY_INTERFACE HwQueryInterface;
    ULONG HwChildDeviceExtensionSize;
    PVIDEO_ACCESS_RANGE HwLegacyResourceList;
    ULONG HwLegacyResourceCount;
    PVIDEO_HW_LEGACYRESOURCES HwGetLegacyResources;
    BOOLEAN AllowEarlyEnumeration;
    ULONG Reserved;
} VIDEO_HW_INITIALIZATION_DATA, *PVIDEO_HW_INITIALIZATION_DATA;

typedef VOID (NTAPI *PMINIPORT_DPC_ROUTINE)(PVOID HwDeviceExtension, PVOID Context);
typedef BOOLEAN (NTAPI *PMINIPORT_SYNCHRONIZE_ROUTINE)(PVOID Context);
typedef VP_STATUS (NTAPI *PMINIPORT_GET_REGISTRY_ROUTINE)(PVOID HwDeviceExtension, PVOID Context,
    PWSTR ValueName, PVOID ValueData, ULONG ValueLength);
typedef VOID (NTAPI *PVIDEO_BUGCHECK_CALLBACK)(PVOID HwDeviceExtension, ULONG BugcheckCode,
    PUCHAR Buffer, ULONG BufferSize);
#define BUGCHECK_DATA_SIZE_RESERVED 48
typedef enum _VIDEO_DEVICE_DATA_TYPE {
    VpMachineData = 0,
    VpCmosData,
    VpBusData,
    VpControllerData,
    VpMonitorData
} VIDEO_DEVICE_DATA_TYPE, *PVIDEO_DEVICE_DATA_TYPE;
typedef VP_STATUS (NTAPI *PMINIPORT_QUERY_DEVICE_ROUTINE)(PVOID HwDeviceExtension, PVOID Context,
    VIDEO_DEVICE_DATA_TYPE DeviceDataType, PVOID Identifier, ULONG IdentifierLength,
    PVOID ConfigurationData, ULONG ConfigurationDataLength, PVOID ComponentInformation,
    ULONG ComponentInformationLength);
typedef struct _VPOSVERSIONINFO {
    ULONG Size;
    ULONG MajorVersion;
    ULONG MinorVersion;
    ULONG BuildNumber;
    USHORT ServicePackMajor;
    USHORT ServicePackMinor;
} VPOSVERSIONINFO, *PVPOSVERSIONINFO;

typedef struct _VP_DEVICE_DESCRIPTION {
    BOOLEAN ScatterGather;
    BOOLEAN Dma32BitAddresses;
    BOOLEAN Dma64BitAddresses;
    ULONG MaximumLength;
} VP_DEVICE_DESCRIPTION, *PVP_DEVICE_DESCRIPTION;

typedef struct _VP_SCATTER_GATHER_ELEMENT {
    PHYSICAL_ADDRESS Address;
    ULONG Length;
    ULONG_PTR Reserved;
} VP_SCATTER_GATHER_ELEMENT, *PVP_SCATTER_GATHER_ELEMENT;

typedef struct _VP_SCATTER_GATHER_LIST {
    ULONG NumberOfElements;
    ULONG_PTR Reserved;
    VP_SCATTER_GATHER_ELEMENT Elements[];
} VP_SCATTER_GATHER_LIST, *PVP_SCATTER_GATHER_LIST;

typedef VOID (NTAPI *PEXECUTE_DMA)(PVOID HwDeviceExtension, PVP_DMA_ADAPTER VpDmaAdapter,
                                   PVP_SCATTER_GATHER_LIST SGList, PVOID Context);

/* ntddvdeo.h: the standard video IOCTLs and their structures (a display miniport's and its
 * clients' vocabulary). Layouts are Windows x64's; c-miniport/tests/display_layout.rs compares
 * them with mingw-w64's ntddvdeo.h compiled for x86_64-w64-mingw32. */
#define FILE_DEVICE_VIDEO 0x00000023
#define METHOD_BUFFERED 0
#define FILE_ANY_ACCESS 0
#define CTL_CODE(DeviceType, Function, Method, Access) \
    (((ULONG)(DeviceType) << 16) | ((ULONG)(Access) << 14) | ((ULONG)(Function) << 2) | (ULONG)(Method))
#define IOCTL_VIDEO_QUERY_AVAIL_MODES CTL_CODE(FILE_DEVICE_VIDEO, 0x100, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_VIDEO_QUERY_NUM_AVAIL_MODES CTL_CODE(FILE_DEVICE_VIDEO, 0x101, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_VIDEO_QUERY_CURRENT_MODE CTL_CODE(FILE_DEVICE_VIDEO, 0x102, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_VIDEO_SET_CURRENT_MODE CTL_CODE(FILE_DEVICE_VIDEO, 0x103, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_VIDEO_RESET_DEVICE CTL_CODE(FILE_DEVICE_VIDEO, 0x104, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_VIDEO_MAP_VIDEO_MEMORY CTL_CODE(FILE_DEVICE_VIDEO, 0x116, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_VIDEO_UNMAP_VIDEO_MEMORY CTL_CODE(FILE_DEVICE_VIDEO, 0x117, METHOD_BUFFERED, FILE_ANY_ACCESS)

/* VideoPortGetDeviceBase / VideoPortMapMemory InIoSpace flags (video.h). */
#define VIDEO_MEMORY_SPACE_MEMORY 0x00
#define VIDEO_MEMORY_SPACE_IO 0x01
#define VIDEO_MEMORY_SPACE_USER_MODE 0x02
#define VIDEO_MEMORY_SPACE_DENSE 0x04
#define VIDEO_MEMORY_SPACE_P6CACHE 0x08

typedef struct _VIDEO_MEMORY {
    PVOID RequestedVirtualAddress;
} VIDEO_MEMORY, *PVIDEO_MEMORY;

typedef struct _VIDEO_MEMORY_INFORMATION {
    PVOID VideoRamBase;
    ULONG VideoRamLength;
    PVOID FrameBufferBase;
    ULONG FrameBufferLength;
} VIDEO_MEMORY_INFORMATION, *PVIDEO_MEMORY_INFORMATION;

/* VIDEO_MODE.RequestedMode flags. */
#define VIDEO_MODE_MAP_MEM_LINEAR 0x40000000
#define VIDEO_MODE_NO_ZERO_MEMORY 0x80000000

typedef struct _VIDEO_MODE {
    ULONG RequestedMode;
} VIDEO_MODE, *PVIDEO_MODE;

/* VIDEO_MODE_INFORMATION.AttributeFlags. */
#define VIDEO_MODE_COLOR 0x0001
#define VIDEO_MODE_GRAPHICS 0x0002
#define VIDEO_MODE_PALETTE_DRIVEN 0x0004
#define VIDEO_MODE_MANAGED_PALETTE 0x0008
#define VIDEO_MODE_INTERLACED 0x0010
#define VIDEO_MODE_NO_OFF_SCREEN 0x0020
#define VIDEO_MODE_NO_64_BIT_ACCESS 0x0040

typedef struct _VIDEO_MODE_INFORMATION {
    ULONG Length;
    ULONG ModeIndex;
    ULONG VisScreenWidth;
    ULONG VisScreenHeight;
    ULONG ScreenStride;
    ULONG NumberOfPlanes;
    ULONG BitsPerPlane;
    ULONG Frequency;
    ULONG XMillimeter;
    ULONG YMillimeter;
    ULONG NumberRedBits;
    ULONG NumberGreenBits;
    ULONG NumberBlueBits;
    ULONG RedMask;
    ULONG GreenMask;
    ULONG BlueMask;
    ULONG AttributeFlags;
    ULONG VideoMemoryBitmapWidth;
    ULONG VideoMemoryBitmapHeight;
    ULONG DriverSpecificAttributeFlags;
} VIDEO_MODE_INFORMATION, *PVIDEO_MODE_INFORMATION;

typedef struct _VIDEO_NUM_MODES {
    ULONG NumModes;
    ULONG ModeInformationLength;
} VIDEO_NUM_MODES, *PVIDEO_NUM_MODES;

/* Windows x64 layouts (ddk-sys asserts the same numbers against mingw's headers). */
_Static_assert(sizeof(ULONG) == 4 && sizeof(LONG) == 4 && sizeof(BOOLEAN) == 1, "LLP64");
_Static_assert(sizeof(PHYSICAL_ADDRESS) == 8, "PHYSICAL_ADDRESS");
_Static_assert(sizeof(VIDEO_ACCESS_RANGE) == 16, "VIDEO_ACCESS_RANGE");
_Static_assert(sizeof(STATUS_BLOCK) == 16, "STATUS_BLOCK");
_Static_assert(sizeof(VIDEO_REQUEST_PACKET) == 48, "VIDEO_REQUEST_PACKET");
_Static_assert(sizeof(VP_DEVICE_DESCRIPTION) == 8, "VP_DEVICE_DESCRIPTION");
_Static_assert(sizeof(VP_SCATTER_GATHER_ELEMENT) == 24, "VP_SCATTER_GATHER_ELEMENT");
_Static_assert(offsetof(VP_SCATTER_GATHER_LIST, Elements) == 16, "VP_SCATTER_GATHER_LIST");
_Static_assert(offsetof(VIDEO_HW_INITIALIZATION_DATA, HwStartDma) == 64, "NT4 size");
_Static_assert(sizeof(VIDEO_HW_INITIALIZATION_DATA) == 144, "XP size");
_Static_assert(sizeof(VIDEO_PORT_CONFIG_INFO) == 128, "VIDEO_PORT_CONFIG_INFO");
_Static_assert(sizeof(VIDEO_MODE_INFORMATION) == 80, "VIDEO_MODE_INFORMATION");
_Static_assert(sizeof(VIDEO_MEMORY_INFORMATION) == 32, "VIDEO_MEMORY_INFORMATION");
_Static_assert(sizeof(INT10_BIOS_ARGUMENTS) == 32, "INT10_BIOS_ARGUMENTS");
_Static_assert(sizeof(VIDEO_PORT_INT10_INTERFACE) == 72, "VIDEO_PORT_INT10_INTERFACE");
_Static_assert(sizeof(VIDEO_X86_BIOS_ARGUMENTS) == 28, "VIDEO_X86_BIOS_ARGUMENTS");
_Static_assert(sizeof(VIDEO_CHILD_ENUM_INFO) == 24, "VIDEO_CHILD_ENUM_INFO");

/* The miniport's entry point as video.h declares it. */
ULONG NTAPI DriverEntry(PVOID Context1, PVOID Context2);

#endif /* VIDEOPRT_HOST_H */
