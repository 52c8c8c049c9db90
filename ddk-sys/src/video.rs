//! The VideoPort interface of `video.h` and `miniport.h`: the types a video miniport passes to
//! and receives from the video port driver.

use crate::basic::*;
use crate::status::{ERROR_CONTINUE, ERROR_INVALID_NAME, ERROR_NO_MORE_DEVICES, VP_STATUS};
#[cfg_attr(target_pointer_width = "32", allow(unused_imports))]
use core::mem::{align_of, offset_of, size_of};

/// `VP_DMA_ADAPTER`: opaque to miniports; only the port looks inside.
#[repr(C)]
pub struct VP_DMA_ADAPTER {
    _opaque: [u8; 0],
}
pub type PVP_DMA_ADAPTER = *mut VP_DMA_ADAPTER;

/// `__DMA_PARAMETERS`, the legacy `PDMA` handle: opaque.
#[repr(C)]
pub struct DMA_PARAMETERS {
    _opaque: [u8; 0],
}
pub type PDMA = *mut DMA_PARAMETERS;

/// `VIDEO_PORT_EVENT` (`PEVENT`): opaque.
#[repr(C)]
pub struct VIDEO_PORT_EVENT {
    _opaque: [u8; 0],
}
pub type PEVENT = *mut VIDEO_PORT_EVENT;

/// `VIDEO_PORT_SPIN_LOCK` (`PSPIN_LOCK`): opaque.
#[repr(C)]
pub struct VIDEO_PORT_SPIN_LOCK {
    _opaque: [u8; 0],
}
pub type PSPIN_LOCK = *mut VIDEO_PORT_SPIN_LOCK;

/// `VideoPortCreateEvent` flags: the event type (bit 0) and its initial state (bit 1).
pub const EVENT_TYPE_MASK: ULONG = 1;
pub const SYNCHRONIZATION_EVENT: ULONG = 0;
pub const NOTIFICATION_EVENT: ULONG = 1;
pub const INITIAL_EVENT_STATE_MASK: ULONG = 2;
pub const INITIAL_EVENT_NOT_SIGNALED: ULONG = 0;
pub const INITIAL_EVENT_SIGNALED: ULONG = 2;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct VP_DEVICE_DESCRIPTION {
    pub ScatterGather: BOOLEAN,
    pub Dma32BitAddresses: BOOLEAN,
    pub Dma64BitAddresses: BOOLEAN,
    pub MaximumLength: ULONG,
}
pub type PVP_DEVICE_DESCRIPTION = *mut VP_DEVICE_DESCRIPTION;

/// Same layout as `SCATTER_GATHER_ELEMENT`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VP_SCATTER_GATHER_ELEMENT {
    pub Address: PHYSICAL_ADDRESS,
    pub Length: ULONG,
    pub Reserved: ULONG_PTR,
}

/// Same layout as `SCATTER_GATHER_LIST`: header, then `NumberOfElements` elements.
#[repr(C)]
#[derive(Debug)]
pub struct VP_SCATTER_GATHER_LIST {
    pub NumberOfElements: ULONG,
    pub Reserved: ULONG_PTR,
    pub Elements: [VP_SCATTER_GATHER_ELEMENT; 0],
}
pub type PVP_SCATTER_GATHER_LIST = *mut VP_SCATTER_GATHER_LIST;

/// `PEXECUTE_DMA` (`HwVidExecuteDma`): runs at DISPATCH_LEVEL.
#[ddk_sys::ntapi]
pub type PEXECUTE_DMA = Option<
    unsafe extern "ntapi" fn(
        HwDeviceExtension: PVOID,
        VpDmaAdapter: PVP_DMA_ADAPTER,
        SGList: PVP_SCATTER_GATHER_LIST,
        Context: PVOID,
    ),
>;

c_enum!(
    /// `VP_LOCK_OPERATION`; the values equal WDM `LOCK_OPERATION`.
    VP_LOCK_OPERATION: u32 { VpReadAccess = 0, VpWriteAccess = 1, VpModifyAccess = 2 }
);
c_enum!(
    /// `DMA_FLAGS` of the obsolete packet-DMA-by-IOCTL family.
    DMA_FLAGS: u32 { VideoPortUnlockAfterDma = 1, VideoPortKeepPagesLocked = 2, VideoPortDmaInitOnly = 3 }
);
c_enum!(
    /// `HW_DMA_RETURN`.
    HW_DMA_RETURN: u32 { DmaAsyncReturn = 0, DmaSyncReturn = 1 }
);
c_enum!(
    /// `VIDEO_SYNCHRONIZE_PRIORITY`.
    VIDEO_SYNCHRONIZE_PRIORITY: u32 { VpLowPriority = 0, VpMediumPriority = 1, VpHighPriority = 2 }
);
c_enum!(
    /// `BUS_DATA_TYPE` (miniport.h).
    BUS_DATA_TYPE: i32 {
        ConfigurationSpaceUndefined = -1, Cmos = 0, EisaConfiguration = 1, Pos = 2,
        CbusConfiguration = 3, PCIConfiguration = 4, VMEConfiguration = 5,
        NuBusConfiguration = 6, PCMCIAConfiguration = 7, MPIConfiguration = 8,
        MPSAConfiguration = 9, PNPISAConfiguration = 10, SgiInternalConfiguration = 11,
        MaximumBusDataType = 12,
    }
);
c_enum!(
    /// `VP_POOL_TYPE` of `VideoPortAllocatePool`.
    VP_POOL_TYPE: u32 {
        VpNonPagedPool = 0, VpPagedPool = 1, VpNonPagedPoolCacheAligned = 4,
        VpPagedPoolCacheAligned = 5,
    }
);
c_enum!(
    /// `VIDEO_DEBUG_LEVEL`.
    VIDEO_DEBUG_LEVEL: u32 { Error = 0, Warn = 1, Trace = 2, Info = 3 }
);

/// `STATUS_BLOCK` (`Status` shares its slot with a pointer; must match `IO_STATUS_BLOCK`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct STATUS_BLOCK {
    pub Status: VP_STATUS,
    pub Information: ULONG_PTR,
}
pub type PSTATUS_BLOCK = *mut STATUS_BLOCK;

#[repr(C)]
#[derive(Debug)]
pub struct VIDEO_REQUEST_PACKET {
    pub IoControlCode: ULONG,
    pub StatusBlock: PSTATUS_BLOCK,
    pub InputBuffer: PVOID,
    pub InputBufferLength: ULONG,
    pub OutputBuffer: PVOID,
    pub OutputBufferLength: ULONG,
}
pub type PVIDEO_REQUEST_PACKET = *mut VIDEO_REQUEST_PACKET;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct VIDEO_ACCESS_RANGE {
    pub RangeStart: PHYSICAL_ADDRESS,
    pub RangeLength: ULONG,
    pub RangeInIoSpace: UCHAR,
    pub RangeVisible: UCHAR,
    pub RangeShareable: UCHAR,
    pub RangePassive: UCHAR,
}
pub type PVIDEO_ACCESS_RANGE = *mut VIDEO_ACCESS_RANGE;

/// `VideoPortCheckForDeviceExistence` flag: match the subsystem vendor and subsystem IDs too.
pub const CDE_USE_SUBSYSTEM_IDS: ULONG = 0x0000_0001;
/// `VideoPortCheckForDeviceExistence` flag: match the revision ID too.
pub const CDE_USE_REVISION: ULONG = 0x0000_0002;

pub const VIDEO_MEMORY_SPACE_MEMORY: ULONG = 0x00;
pub const VIDEO_MEMORY_SPACE_IO: ULONG = 0x01;
pub const VIDEO_MEMORY_SPACE_USER_MODE: ULONG = 0x02;
pub const VIDEO_MEMORY_SPACE_DENSE: ULONG = 0x04;
pub const VIDEO_MEMORY_SPACE_P6CACHE: ULONG = 0x08;

#[ddk_sys::ntapi]
pub type PVIDEO_PORT_GET_PROC_ADDRESS =
    Option<unsafe extern "ntapi" fn(HwDeviceExtension: PVOID, FunctionName: *mut UCHAR) -> PVOID>;

#[repr(C)]
pub struct VIDEO_PORT_CONFIG_INFO {
    pub Length: ULONG,
    pub SystemIoBusNumber: ULONG,
    pub AdapterInterfaceType: INTERFACE_TYPE,
    pub BusInterruptLevel: ULONG,
    pub BusInterruptVector: ULONG,
    pub InterruptMode: KINTERRUPT_MODE,
    pub NumEmulatorAccessEntries: ULONG,
    pub EmulatorAccessEntries: PVOID,
    pub EmulatorAccessEntriesContext: ULONG_PTR,
    pub VdmPhysicalVideoMemoryAddress: PHYSICAL_ADDRESS,
    pub VdmPhysicalVideoMemoryLength: ULONG,
    pub HardwareStateSize: ULONG,
    pub DmaChannel: ULONG,
    pub DmaPort: ULONG,
    pub DmaShareable: UCHAR,
    pub InterruptShareable: UCHAR,
    pub Master: BOOLEAN,
    pub DmaWidth: DMA_WIDTH,
    pub DmaSpeed: DMA_SPEED,
    pub bMapBuffers: BOOLEAN,
    pub NeedPhysicalAddresses: BOOLEAN,
    pub DemandMode: BOOLEAN,
    pub MaximumTransferLength: ULONG,
    pub NumberOfPhysicalBreaks: ULONG,
    pub ScatterGather: BOOLEAN,
    pub MaximumScatterGatherChunkSize: ULONG,
    pub VideoPortGetProcAddress: PVIDEO_PORT_GET_PROC_ADDRESS,
    pub DriverRegistryPath: *mut WCHAR,
    pub SystemMemorySize: ULONGLONG,
}
pub type PVIDEO_PORT_CONFIG_INFO = *mut VIDEO_PORT_CONFIG_INFO;

#[ddk_sys::ntapi]
pub type PVIDEO_HW_FIND_ADAPTER = Option<
    unsafe extern "ntapi" fn(
        HwDeviceExtension: PVOID,
        HwContext: PVOID,
        ArgumentString: *mut WCHAR,
        ConfigInfo: PVIDEO_PORT_CONFIG_INFO,
        Again: *mut UCHAR,
    ) -> VP_STATUS,
>;
#[ddk_sys::ntapi]
pub type PVIDEO_HW_INITIALIZE =
    Option<unsafe extern "ntapi" fn(HwDeviceExtension: PVOID) -> BOOLEAN>;
#[ddk_sys::ntapi]
pub type PVIDEO_HW_INTERRUPT =
    Option<unsafe extern "ntapi" fn(HwDeviceExtension: PVOID) -> BOOLEAN>;
#[ddk_sys::ntapi]
pub type PVIDEO_HW_START_IO = Option<
    unsafe extern "ntapi" fn(
        HwDeviceExtension: PVOID,
        RequestPacket: PVIDEO_REQUEST_PACKET,
    ) -> BOOLEAN,
>;
#[ddk_sys::ntapi]
pub type PVIDEO_HW_RESET_HW = Option<
    unsafe extern "ntapi" fn(HwDeviceExtension: PVOID, Columns: ULONG, Rows: ULONG) -> BOOLEAN,
>;
#[ddk_sys::ntapi]
pub type PVIDEO_HW_TIMER = Option<unsafe extern "ntapi" fn(HwDeviceExtension: PVOID)>;
#[ddk_sys::ntapi]
pub type PVIDEO_HW_START_DMA =
    Option<unsafe extern "ntapi" fn(HwDeviceExtension: PVOID, pDma: PDMA) -> HW_DMA_RETURN>;
#[ddk_sys::ntapi]
pub type PVIDEO_HW_POWER_SET = Option<
    unsafe extern "ntapi" fn(
        HwDeviceExtension: PVOID,
        HwId: ULONG,
        VideoPowerControl: PVOID,
    ) -> VP_STATUS,
>;
pub type PVIDEO_HW_POWER_GET = PVIDEO_HW_POWER_SET;
#[ddk_sys::ntapi]
pub type PVIDEO_HW_GET_CHILD_DESCRIPTOR = Option<
    unsafe extern "ntapi" fn(
        HwDeviceExtension: PVOID,
        ChildEnumInfo: PVOID,
        VideoChildType: *mut u32,
        pChildDescriptor: *mut UCHAR,
        UId: *mut ULONG,
        pUnused: *mut ULONG,
    ) -> VP_STATUS,
>;
#[ddk_sys::ntapi]
pub type PVIDEO_HW_QUERY_INTERFACE =
    Option<unsafe extern "ntapi" fn(HwDeviceExtension: PVOID, QueryInterface: PVOID) -> VP_STATUS>;
#[ddk_sys::ntapi]
pub type PVIDEO_HW_LEGACYRESOURCES = Option<
    unsafe extern "ntapi" fn(
        VendorId: ULONG,
        DeviceId: ULONG,
        LegacyResourceList: *mut PVIDEO_ACCESS_RANGE,
        LegacyResourceCount: *mut ULONG,
    ),
>;
/// `PMINIPORT_DPC_ROUTINE`, queued with `VideoPortQueueDpc`.
#[ddk_sys::ntapi]
pub type PMINIPORT_DPC_ROUTINE =
    Option<unsafe extern "ntapi" fn(HwDeviceExtension: PVOID, Context: PVOID)>;
/// `PMINIPORT_GET_REGISTRY_ROUTINE` (`HwVidQueryNamedValueCallback`), called by
/// `VideoPortGetRegistryParameters` with the value's name and its data.
#[ddk_sys::ntapi]
pub type PMINIPORT_GET_REGISTRY_ROUTINE = Option<
    unsafe extern "ntapi" fn(
        HwDeviceExtension: PVOID,
        Context: PVOID,
        ValueName: *mut WCHAR,
        ValueData: PVOID,
        ValueLength: ULONG,
    ) -> VP_STATUS,
>;
/// `PVIDEO_BUGCHECK_CALLBACK` (`HwVidBugcheckCallback`), registered with
/// `VideoPortRegisterBugcheckCallback`; runs at HIGH_LEVEL during a bug check.
#[ddk_sys::ntapi]
pub type PVIDEO_BUGCHECK_CALLBACK = Option<
    unsafe extern "ntapi" fn(
        HwDeviceExtension: PVOID,
        BugcheckCode: ULONG,
        Buffer: PUCHAR,
        BufferSize: ULONG,
    ),
>;

/// `BUGCHECK_DATA_SIZE_RESERVED`: bytes of `BugcheckDataSize` the port keeps for itself.
pub const BUGCHECK_DATA_SIZE_RESERVED: ULONG = 48;

c_enum!(
    /// `VIDEO_DEVICE_DATA_TYPE` of `VideoPortGetDeviceData`.
    VIDEO_DEVICE_DATA_TYPE: u32 {
        VpMachineData = 0, VpCmosData = 1, VpBusData = 2, VpControllerData = 3, VpMonitorData = 4,
    }
);

/// `PMINIPORT_QUERY_DEVICE_ROUTINE` (`HwVidQueryDeviceCallback`), called by
/// `VideoPortGetDeviceData`.
#[ddk_sys::ntapi]
pub type PMINIPORT_QUERY_DEVICE_ROUTINE = Option<
    unsafe extern "ntapi" fn(
        HwDeviceExtension: PVOID,
        Context: PVOID,
        DeviceDataType: VIDEO_DEVICE_DATA_TYPE,
        Identifier: PVOID,
        IdentifierLength: ULONG,
        ConfigurationData: PVOID,
        ConfigurationDataLength: ULONG,
        ComponentInformation: PVOID,
        ComponentInformationLength: ULONG,
    ) -> VP_STATUS,
>;

/// `PMINIPORT_SYNCHRONIZE_ROUTINE`.
#[ddk_sys::ntapi]
pub type PMINIPORT_SYNCHRONIZE_ROUTINE =
    Option<unsafe extern "ntapi" fn(Context: PVOID) -> BOOLEAN>;

/// `VPOSVERSIONINFO`, filled by `VideoPortGetVersion`; the caller sets `Size` (20).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VPOSVERSIONINFO {
    pub Size: ULONG,
    pub MajorVersion: ULONG,
    pub MinorVersion: ULONG,
    pub BuildNumber: ULONG,
    pub ServicePackMajor: USHORT,
    pub ServicePackMinor: USHORT,
}
pub type PVPOSVERSIONINFO = *mut VPOSVERSIONINFO;

#[repr(C)]
pub struct VIDEO_HW_INITIALIZATION_DATA {
    pub HwInitDataSize: ULONG,
    pub AdapterInterfaceType: INTERFACE_TYPE,
    pub HwFindAdapter: PVIDEO_HW_FIND_ADAPTER,
    pub HwInitialize: PVIDEO_HW_INITIALIZE,
    pub HwInterrupt: PVIDEO_HW_INTERRUPT,
    pub HwStartIO: PVIDEO_HW_START_IO,
    pub HwDeviceExtensionSize: ULONG,
    pub StartingDeviceNumber: ULONG,
    pub HwResetHw: PVIDEO_HW_RESET_HW,
    pub HwTimer: PVIDEO_HW_TIMER,
    pub HwStartDma: PVIDEO_HW_START_DMA,
    pub HwSetPowerState: PVIDEO_HW_POWER_SET,
    pub HwGetPowerState: PVIDEO_HW_POWER_GET,
    pub HwGetVideoChildDescriptor: PVIDEO_HW_GET_CHILD_DESCRIPTOR,
    pub HwQueryInterface: PVIDEO_HW_QUERY_INTERFACE,
    pub HwChildDeviceExtensionSize: ULONG,
    pub HwLegacyResourceList: PVIDEO_ACCESS_RANGE,
    pub HwLegacyResourceCount: ULONG,
    pub HwGetLegacyResources: PVIDEO_HW_LEGACYRESOURCES,
    pub AllowEarlyEnumeration: BOOLEAN,
    pub Reserved: ULONG,
}
pub type PVIDEO_HW_INITIALIZATION_DATA = *mut VIDEO_HW_INITIALIZATION_DATA;

/// `SIZE_OF_NT4_VIDEO_HW_INITIALIZATION_DATA`: the structure up to `HwStartDma`.
pub const SIZE_OF_NT4_VIDEO_HW_INITIALIZATION_DATA: ULONG =
    offset_of!(VIDEO_HW_INITIALIZATION_DATA, HwStartDma) as ULONG;
/// `SIZE_OF_W2K_VIDEO_HW_INITIALIZATION_DATA`: the structure up to `Reserved`.
pub const SIZE_OF_W2K_VIDEO_HW_INITIALIZATION_DATA: ULONG =
    offset_of!(VIDEO_HW_INITIALIZATION_DATA, Reserved) as ULONG;
/// `SIZE_OF_WXP_VIDEO_HW_INITIALIZATION_DATA`: the whole structure.
pub const SIZE_OF_WXP_VIDEO_HW_INITIALIZATION_DATA: ULONG =
    size_of::<VIDEO_HW_INITIALIZATION_DATA>() as ULONG;
/// `SIZE_OF_NT4_VIDEO_PORT_CONFIG_INFO`: the structure up to `Master`.
pub const SIZE_OF_NT4_VIDEO_PORT_CONFIG_INFO: ULONG =
    offset_of!(VIDEO_PORT_CONFIG_INFO, Master) as ULONG;
/// `SIZE_OF_WXP_VIDEO_PORT_CONFIG_INFO`.
pub const SIZE_OF_WXP_VIDEO_PORT_CONFIG_INFO: ULONG = size_of::<VIDEO_PORT_CONFIG_INFO>() as ULONG;

/// `VRB_SG`: the entry type legacy `PDMA` handles pointed at. 8-aligned on x86 too (a
/// `LONGLONG`, which Windows aligns to 8 where an i686 Linux host would not).
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug)]
pub struct VRB_SG {
    pub PhysicalAddress: i64,
    pub Length: ULONG,
}

#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(size_of::<VP_DEVICE_DESCRIPTION>() == 8 && align_of::<VP_DEVICE_DESCRIPTION>() == 4);
    assert!(offset_of!(VP_DEVICE_DESCRIPTION, Dma64BitAddresses) == 2);
    assert!(offset_of!(VP_DEVICE_DESCRIPTION, MaximumLength) == 4);
    assert!(size_of::<VP_SCATTER_GATHER_ELEMENT>() == 24);
    assert!(offset_of!(VP_SCATTER_GATHER_ELEMENT, Length) == 8);
    assert!(offset_of!(VP_SCATTER_GATHER_ELEMENT, Reserved) == 16);
    assert!(
        size_of::<VP_SCATTER_GATHER_LIST>() == 16
            && offset_of!(VP_SCATTER_GATHER_LIST, Elements) == 16
    );
    // The VP list is handed through as the HAL list, so the two layouts must agree.
    assert!(size_of::<VP_SCATTER_GATHER_LIST>() == size_of::<crate::dma::SCATTER_GATHER_LIST>());
    assert!(
        size_of::<VP_SCATTER_GATHER_ELEMENT>() == size_of::<crate::dma::SCATTER_GATHER_ELEMENT>()
    );
    assert!(size_of::<STATUS_BLOCK>() == 16 && offset_of!(STATUS_BLOCK, Information) == 8);
    assert!(size_of::<VIDEO_REQUEST_PACKET>() == 48);
    assert!(offset_of!(VIDEO_REQUEST_PACKET, StatusBlock) == 8);
    assert!(offset_of!(VIDEO_REQUEST_PACKET, InputBuffer) == 16);
    assert!(offset_of!(VIDEO_REQUEST_PACKET, InputBufferLength) == 24);
    assert!(offset_of!(VIDEO_REQUEST_PACKET, OutputBuffer) == 32);
    assert!(offset_of!(VIDEO_REQUEST_PACKET, OutputBufferLength) == 40);
    assert!(
        size_of::<VIDEO_ACCESS_RANGE>() == 16 && offset_of!(VIDEO_ACCESS_RANGE, RangePassive) == 15
    );
    assert!(size_of::<VIDEO_PORT_CONFIG_INFO>() == 128);
    assert!(size_of::<VPOSVERSIONINFO>() == 20 && align_of::<VPOSVERSIONINFO>() == 4);
    assert!(offset_of!(VPOSVERSIONINFO, ServicePackMajor) == 16);
    assert!(offset_of!(VPOSVERSIONINFO, ServicePackMinor) == 18);
    assert!(offset_of!(VIDEO_PORT_CONFIG_INFO, EmulatorAccessEntries) == 32);
    assert!(offset_of!(VIDEO_PORT_CONFIG_INFO, VdmPhysicalVideoMemoryAddress) == 48);
    assert!(offset_of!(VIDEO_PORT_CONFIG_INFO, DmaChannel) == 64);
    assert!(offset_of!(VIDEO_PORT_CONFIG_INFO, Master) == 74);
    assert!(offset_of!(VIDEO_PORT_CONFIG_INFO, DmaWidth) == 76);
    assert!(offset_of!(VIDEO_PORT_CONFIG_INFO, MaximumTransferLength) == 88);
    assert!(offset_of!(VIDEO_PORT_CONFIG_INFO, ScatterGather) == 96);
    assert!(offset_of!(VIDEO_PORT_CONFIG_INFO, MaximumScatterGatherChunkSize) == 100);
    assert!(offset_of!(VIDEO_PORT_CONFIG_INFO, VideoPortGetProcAddress) == 104);
    assert!(offset_of!(VIDEO_PORT_CONFIG_INFO, DriverRegistryPath) == 112);
    assert!(offset_of!(VIDEO_PORT_CONFIG_INFO, SystemMemorySize) == 120);
    assert!(size_of::<VIDEO_HW_INITIALIZATION_DATA>() == 144);
    assert!(offset_of!(VIDEO_HW_INITIALIZATION_DATA, HwFindAdapter) == 8);
    assert!(offset_of!(VIDEO_HW_INITIALIZATION_DATA, HwStartIO) == 32);
    assert!(offset_of!(VIDEO_HW_INITIALIZATION_DATA, HwDeviceExtensionSize) == 40);
    assert!(offset_of!(VIDEO_HW_INITIALIZATION_DATA, HwStartDma) == 64);
    assert!(offset_of!(VIDEO_HW_INITIALIZATION_DATA, HwChildDeviceExtensionSize) == 104);
    assert!(offset_of!(VIDEO_HW_INITIALIZATION_DATA, HwLegacyResourceList) == 112);
    assert!(offset_of!(VIDEO_HW_INITIALIZATION_DATA, AllowEarlyEnumeration) == 136);
    assert!(offset_of!(VIDEO_HW_INITIALIZATION_DATA, Reserved) == 140);
    assert!(size_of::<VRB_SG>() == 16);
};

// Child devices, power management and DDC (video.h, ntddvdeo.h).

c_enum!(
    /// `VIDEO_CHILD_TYPE`: what `HwGetVideoChildDescriptor` reports.
    VIDEO_CHILD_TYPE: u32 { Monitor = 1, NonPrimaryChip = 2, VideoChip = 3, Other = 4 }
);

/// `VIDEO_CHILD_ENUM_INFO`: what the port asks `HwGetVideoChildDescriptor` about.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VIDEO_CHILD_ENUM_INFO {
    pub Size: ULONG,
    pub ChildDescriptorSize: ULONG,
    /// 1, 2, ... for children the miniport enumerates; 0 for an ACPI child (`ACPIHwId`).
    pub ChildIndex: ULONG,
    pub ACPIHwId: ULONG,
    pub ChildHwDeviceExtension: PVOID,
}
pub type PVIDEO_CHILD_ENUM_INFO = *mut VIDEO_CHILD_ENUM_INFO;

/// `VIDEO_ENUM_MORE_DEVICES`: the child at this index exists.
pub const VIDEO_ENUM_MORE_DEVICES: VP_STATUS = ERROR_CONTINUE;
/// `VIDEO_ENUM_NO_MORE_DEVICES`: no child at this index or after it.
pub const VIDEO_ENUM_NO_MORE_DEVICES: VP_STATUS = ERROR_NO_MORE_DEVICES;
/// `VIDEO_ENUM_INVALID_DEVICE`: no child at this index; ask the next one.
pub const VIDEO_ENUM_INVALID_DEVICE: VP_STATUS = ERROR_INVALID_NAME;
/// `DISPLAY_ADAPTER_HW_ID`: the `HwId` (and `UId`) that means the adapter itself.
pub const DISPLAY_ADAPTER_HW_ID: ULONG = 0xFFFF_FFFF;

c_enum!(
    /// `VIDEO_POWER_STATE` (ntddvdeo.h).
    VIDEO_POWER_STATE: u32 {
        VideoPowerUnspecified = 0, VideoPowerOn = 1, VideoPowerStandBy = 2,
        VideoPowerSuspend = 3, VideoPowerOff = 4, VideoPowerHibernate = 5,
        VideoPowerShutdown = 6, VideoPowerMaximum = 7,
    }
);

/// `VIDEO_POWER_MANAGEMENT` (ntddvdeo.h): what HwGetPowerState/HwSetPowerState receive.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VIDEO_POWER_MANAGEMENT {
    pub Length: ULONG,
    pub DPMSVersion: ULONG,
    pub PowerState: VIDEO_POWER_STATE,
}
pub type PVIDEO_POWER_MANAGEMENT = *mut VIDEO_POWER_MANAGEMENT;

#[ddk_sys::ntapi]
pub type PVIDEO_WRITE_CLOCK_LINE =
    Option<unsafe extern "ntapi" fn(HwDeviceExtension: PVOID, Data: UCHAR)>;
#[ddk_sys::ntapi]
pub type PVIDEO_WRITE_DATA_LINE = PVIDEO_WRITE_CLOCK_LINE;
#[ddk_sys::ntapi]
pub type PVIDEO_READ_CLOCK_LINE =
    Option<unsafe extern "ntapi" fn(HwDeviceExtension: PVOID) -> BOOLEAN>;
pub type PVIDEO_READ_DATA_LINE = PVIDEO_READ_CLOCK_LINE;

/// `I2C_CALLBACKS`: the miniport's bit-banging of the DDC lines (1 = released/high).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct I2C_CALLBACKS {
    pub WriteClockLine: PVIDEO_WRITE_CLOCK_LINE,
    pub WriteDataLine: PVIDEO_WRITE_DATA_LINE,
    pub ReadClockLine: PVIDEO_READ_CLOCK_LINE,
    pub ReadDataLine: PVIDEO_READ_DATA_LINE,
}

/// `DDC_CONTROL`: the argument of `VideoPortDDCMonitorHelper` (Windows XP and later).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct DDC_CONTROL {
    pub Size: ULONG,
    pub I2CCallbacks: I2C_CALLBACKS,
    pub EdidSegment: UCHAR,
}
pub type PDDC_CONTROL = *mut DDC_CONTROL;

const _: () = {
    assert!(offset_of!(VIDEO_CHILD_ENUM_INFO, ChildHwDeviceExtension) == 16);
    assert!(size_of::<VIDEO_POWER_MANAGEMENT>() == 12);
};
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(size_of::<VIDEO_CHILD_ENUM_INFO>() == 24);
    assert!(size_of::<I2C_CALLBACKS>() == 32);
    assert!(size_of::<DDC_CONTROL>() == 48);
    assert!(offset_of!(DDC_CONTROL, I2CCallbacks) == 8);
    assert!(offset_of!(DDC_CONTROL, EdidSegment) == 40);
};
#[cfg(target_pointer_width = "32")]
const _: () = {
    assert!(size_of::<VIDEO_CHILD_ENUM_INFO>() == 20);
    assert!(size_of::<I2C_CALLBACKS>() == 16);
    assert!(size_of::<DDC_CONTROL>() == 24);
    assert!(offset_of!(DDC_CONTROL, I2CCallbacks) == 4);
    assert!(offset_of!(DDC_CONTROL, EdidSegment) == 20);
};
