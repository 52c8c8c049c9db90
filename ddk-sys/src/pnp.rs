//! The PnP and power parts of `wdm.h` a bus driver of child devices and a power policy owner
//! use: device relations, device IDs, capabilities, power states and the routines over them.

use crate::basic::*;
use crate::io::*;
use crate::status::NTSTATUS;

pub const IRP_MN_QUERY_RESOURCES: UCHAR = 0x0A;
pub const IRP_MN_QUERY_RESOURCE_REQUIREMENTS: UCHAR = 0x0B;
pub const IRP_MN_QUERY_DEVICE_TEXT: UCHAR = 0x0C;
pub const IRP_MN_QUERY_ID: UCHAR = 0x13;
pub const IRP_MN_QUERY_PNP_DEVICE_STATE: UCHAR = 0x14;
pub const IRP_MN_QUERY_BUS_INFORMATION: UCHAR = 0x15;
pub const IRP_MN_WAIT_WAKE: UCHAR = 0x00;
pub const IRP_MN_POWER_SEQUENCE: UCHAR = 0x01;

c_enum!(
    /// `DEVICE_RELATION_TYPE` of IRP_MN_QUERY_DEVICE_RELATIONS.
    DEVICE_RELATION_TYPE: u32 {
        BusRelations = 0, EjectionRelations = 1, PowerRelations = 2, RemovalRelations = 3,
        TargetDeviceRelation = 4, SingleBusRelations = 5, TransportRelations = 6,
    }
);

c_enum!(
    /// `BUS_QUERY_ID_TYPE` of IRP_MN_QUERY_ID.
    BUS_QUERY_ID_TYPE: u32 {
        BusQueryDeviceID = 0, BusQueryHardwareIDs = 1, BusQueryCompatibleIDs = 2,
        BusQueryInstanceID = 3, BusQueryDeviceSerialNumber = 4, BusQueryContainerID = 5,
    }
);

/// `DEVICE_RELATIONS`: `Count` device objects follow (a flexible array of at least one), each
/// referenced by whoever filled it; allocated from paged pool and freed by the PnP manager.
#[repr(C)]
pub struct DEVICE_RELATIONS {
    pub Count: ULONG,
    pub Objects: [*mut DEVICE_OBJECT; 1],
}

/// Bytes of a `DEVICE_RELATIONS` with `count` objects.
pub const fn device_relations_size(count: usize) -> usize {
    let count = if count == 0 { 1 } else { count };
    core::mem::offset_of!(DEVICE_RELATIONS, Objects) + count * size_of::<usize>()
}

/// `Parameters.QueryDeviceRelations`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IO_STACK_QUERY_DEVICE_RELATIONS {
    pub Type: DEVICE_RELATION_TYPE,
}

/// `Parameters.QueryId`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IO_STACK_QUERY_ID {
    pub IdType: BUS_QUERY_ID_TYPE,
}

/// `Parameters.DeviceCapabilities`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IO_STACK_DEVICE_CAPABILITIES {
    pub Capabilities: *mut DEVICE_CAPABILITIES,
}

c_enum!(
    /// `SYSTEM_POWER_STATE`.
    SYSTEM_POWER_STATE: u32 {
        PowerSystemUnspecified = 0, PowerSystemWorking = 1, PowerSystemSleeping1 = 2,
        PowerSystemSleeping2 = 3, PowerSystemSleeping3 = 4, PowerSystemHibernate = 5,
        PowerSystemShutdown = 6, PowerSystemMaximum = 7,
    }
);

c_enum!(
    /// `DEVICE_POWER_STATE`.
    DEVICE_POWER_STATE: u32 {
        PowerDeviceUnspecified = 0, PowerDeviceD0 = 1, PowerDeviceD1 = 2, PowerDeviceD2 = 3,
        PowerDeviceD3 = 4, PowerDeviceMaximum = 5,
    }
);

c_enum!(
    /// `POWER_STATE_TYPE`: which member of `POWER_STATE` a power IRP carries.
    POWER_STATE_TYPE: u32 { SystemPowerState = 0, DevicePowerState = 1 }
);

/// `POWER_STATE`: a union of `SYSTEM_POWER_STATE` and `DEVICE_POWER_STATE`, both 32-bit.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct POWER_STATE(pub u32);

/// `DEVICE_CAPABILITIES` (version 1, 64 bytes). `Flags` holds the C bit fields, from bit 0:
/// DeviceD1, DeviceD2, LockSupported, EjectSupported, Removable, DockDevice, UniqueID,
/// SilentInstall, RawDeviceOK, SurpriseRemovalOK, WakeFromD0..WakeFromD3, HardwareDisabled,
/// NonDynamic, WarmEjectSupported, NoDisplayInUI.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DEVICE_CAPABILITIES {
    pub Size: USHORT,
    pub Version: USHORT,
    pub Flags: ULONG,
    pub Address: ULONG,
    pub UINumber: ULONG,
    pub DeviceState: [DEVICE_POWER_STATE; 7],
    pub SystemWake: SYSTEM_POWER_STATE,
    pub DeviceWake: DEVICE_POWER_STATE,
    pub D1Latency: ULONG,
    pub D2Latency: ULONG,
    pub D3Latency: ULONG,
}

/// `DEVICE_CAPABILITIES` bit fields in `Flags`.
pub mod capability {
    pub const UNIQUE_ID: u32 = 1 << 6;
    pub const SILENT_INSTALL: u32 = 1 << 7;
    pub const RAW_DEVICE_OK: u32 = 1 << 8;
    pub const SURPRISE_REMOVAL_OK: u32 = 1 << 9;
}

/// `PREQUEST_POWER_COMPLETE`: called when a power IRP from `PoRequestPowerIrp` completed.
#[ddk_sys::ntapi]
pub type PREQUEST_POWER_COMPLETE = Option<
    unsafe extern "ntapi" fn(
        DeviceObject: *mut DEVICE_OBJECT,
        MinorFunction: UCHAR,
        PowerState: POWER_STATE,
        Context: PVOID,
        IoStatus: *mut IO_STATUS_BLOCK,
    ),
>;

#[cfg_attr(
    target_os = "windows",
    link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")
)]
#[ddk_sys::ntapi]
extern "ntapi" {
    /// Queues a query of `Type` relations of the device's stack (asynchronous). <= DISPATCH.
    pub fn IoInvalidateDeviceRelations(
        DeviceObject: *mut DEVICE_OBJECT,
        Type: DEVICE_RELATION_TYPE,
    );
    /// `ObReferenceObject` (a macro over this).
    pub fn ObfReferenceObject(Object: PVOID) -> isize;
    /// `ObDereferenceObject` (a macro over this).
    pub fn ObfDereferenceObject(Object: PVOID) -> isize;
    /// Lets the power manager send the next power IRP (a no-op from Windows Vista on).
    pub fn PoStartNextPowerIrp(Irp: *mut IRP);
    /// `IoCallDriver` for power IRPs (the same from Windows Vista on).
    pub fn PoCallDriver(DeviceObject: *mut DEVICE_OBJECT, Irp: *mut IRP) -> NTSTATUS;
    /// Tells the power manager the device's new power state; returns the previous one.
    pub fn PoSetPowerState(
        DeviceObject: *mut DEVICE_OBJECT,
        Type: POWER_STATE_TYPE,
        State: POWER_STATE,
    ) -> POWER_STATE;
    /// Sends a new power IRP to the top of `DeviceObject`'s stack; `CompletionFunction` runs
    /// when it completed. <= DISPATCH.
    pub fn PoRequestPowerIrp(
        DeviceObject: *mut DEVICE_OBJECT,
        MinorFunction: UCHAR,
        PowerState: POWER_STATE,
        CompletionFunction: PREQUEST_POWER_COMPLETE,
        Context: PVOID,
        Irp: *mut *mut IRP,
    ) -> NTSTATUS;
}

const _: () = {
    assert!(size_of::<DEVICE_CAPABILITIES>() == 64);
    assert!(core::mem::offset_of!(DEVICE_CAPABILITIES, DeviceState) == 16);
    assert!(core::mem::offset_of!(DEVICE_CAPABILITIES, D1Latency) == 52);
};
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(core::mem::offset_of!(DEVICE_RELATIONS, Objects) == 8);
    assert!(device_relations_size(2) == 24);
};
#[cfg(target_pointer_width = "32")]
const _: () = {
    assert!(core::mem::offset_of!(DEVICE_RELATIONS, Objects) == 4);
    assert!(device_relations_size(2) == 12);
};
