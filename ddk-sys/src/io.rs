//! I/O manager and kernel objects the port core touches: `DRIVER_OBJECT`, `DEVICE_OBJECT`, `IRP`,
//! `IO_STACK_LOCATION`, `KDPC`, `KEVENT`, and the routine types stored in them.
//!
//! Parts of these objects that the port never reads are declared only as far as the layout
//! needs; every offset below is checked.

use crate::basic::*;
use crate::mdl::MDL;
use crate::resource::CM_RESOURCE_LIST;
use crate::status::NTSTATUS;
#[cfg_attr(target_pointer_width = "32", allow(unused_imports))]
use core::mem::{align_of, offset_of, size_of};

/// `KINTERRUPT` is opaque: only the kernel looks inside.
#[repr(C)]
pub struct KINTERRUPT {
    _opaque: [u8; 0],
}
pub type PKINTERRUPT = *mut KINTERRUPT;

/// `EPROCESS`: opaque to drivers (`PsGetCurrentProcess`).
#[repr(C)]
pub struct EPROCESS {
    _opaque: [u8; 0],
}
pub type PEPROCESS = *mut EPROCESS;

#[ddk_sys::ntapi]
pub type PDRIVER_DISPATCH =
    Option<unsafe extern "ntapi" fn(DeviceObject: *mut DEVICE_OBJECT, Irp: *mut IRP) -> NTSTATUS>;
#[ddk_sys::ntapi]
pub type PDRIVER_ADD_DEVICE = Option<
    unsafe extern "ntapi" fn(
        DriverObject: *mut DRIVER_OBJECT,
        PhysicalDeviceObject: *mut DEVICE_OBJECT,
    ) -> NTSTATUS,
>;
#[ddk_sys::ntapi]
pub type PDRIVER_UNLOAD = Option<unsafe extern "ntapi" fn(DriverObject: *mut DRIVER_OBJECT)>;
/// `IO_TIMER_ROUTINE`: called about once a second at DISPATCH_LEVEL after `IoStartTimer`.
#[ddk_sys::ntapi]
pub type PIO_TIMER_ROUTINE =
    Option<unsafe extern "ntapi" fn(DeviceObject: *mut DEVICE_OBJECT, Context: PVOID)>;
#[ddk_sys::ntapi]
pub type PDRIVER_INITIALIZE = Option<
    unsafe extern "ntapi" fn(
        DriverObject: *mut DRIVER_OBJECT,
        RegistryPath: *mut UNICODE_STRING,
    ) -> NTSTATUS,
>;
#[ddk_sys::ntapi]
pub type PDRIVER_STARTIO =
    Option<unsafe extern "ntapi" fn(DeviceObject: *mut DEVICE_OBJECT, Irp: *mut IRP)>;
#[ddk_sys::ntapi]
pub type PDRIVER_CANCEL =
    Option<unsafe extern "ntapi" fn(DeviceObject: *mut DEVICE_OBJECT, Irp: *mut IRP)>;
#[ddk_sys::ntapi]
pub type PIO_COMPLETION_ROUTINE = Option<
    unsafe extern "ntapi" fn(
        DeviceObject: *mut DEVICE_OBJECT,
        Irp: *mut IRP,
        Context: PVOID,
    ) -> NTSTATUS,
>;
#[ddk_sys::ntapi]
pub type PKDEFERRED_ROUTINE = Option<
    unsafe extern "ntapi" fn(
        Dpc: *mut KDPC,
        DeferredContext: PVOID,
        SystemArgument1: PVOID,
        SystemArgument2: PVOID,
    ),
>;
#[ddk_sys::ntapi]
pub type PKSERVICE_ROUTINE =
    Option<unsafe extern "ntapi" fn(Interrupt: *mut KINTERRUPT, ServiceContext: PVOID) -> BOOLEAN>;
#[ddk_sys::ntapi]
pub type PKSYNCHRONIZE_ROUTINE =
    Option<unsafe extern "ntapi" fn(SynchronizeContext: PVOID) -> BOOLEAN>;

/// `DISPATCHER_HEADER`: the common head of waitable kernel objects.
#[repr(C)]
pub struct DISPATCHER_HEADER {
    /// `Type` is the low byte.
    pub Lock: LONG,
    pub SignalState: LONG,
    pub WaitListHead: LIST_ENTRY,
}

/// `KEVENT`.
#[repr(C)]
pub struct KEVENT {
    pub Header: DISPATCHER_HEADER,
}
pub type PKEVENT = *mut KEVENT;

c_enum!(
    /// `EVENT_TYPE`.
    EVENT_TYPE: u32 { NotificationEvent = 0, SynchronizationEvent = 1 }
);

/// `IO_ERROR_LOG_PACKET`: an entry of the system error log (`IoAllocateErrorLogEntry`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct IO_ERROR_LOG_PACKET {
    pub MajorFunctionCode: UCHAR,
    pub RetryCount: UCHAR,
    pub DumpDataSize: USHORT,
    pub NumberOfStrings: USHORT,
    pub StringOffset: USHORT,
    pub EventCategory: USHORT,
    pub ErrorCode: NTSTATUS,
    pub UniqueErrorValue: ULONG,
    pub FinalStatus: NTSTATUS,
    pub SequenceNumber: ULONG,
    pub IoControlCode: ULONG,
    pub DeviceOffset: LARGE_INTEGER,
    /// `DumpDataSize` bytes, of which the first ULONG is declared here.
    pub DumpData: [ULONG; 1],
}
pub type PIO_ERROR_LOG_PACKET = *mut IO_ERROR_LOG_PACKET;

/// `IO_ERR_CONTROLLER_ERROR` (ntiologc.h): "the driver detected a controller error".
pub const IO_ERR_CONTROLLER_ERROR: NTSTATUS = NTSTATUS(0xC004_000Bu32 as i32);

/// `KDPC`.
#[repr(C)]
pub struct KDPC {
    pub Type: UCHAR,
    pub Importance: UCHAR,
    pub Number: USHORT,
    pub DpcListEntry: LIST_ENTRY,
    pub DeferredRoutine: PKDEFERRED_ROUTINE,
    pub DeferredContext: PVOID,
    pub SystemArgument1: PVOID,
    pub SystemArgument2: PVOID,
    pub DpcData: PVOID,
}
pub type PKDPC = *mut KDPC;

#[repr(C)]
pub struct KDEVICE_QUEUE_ENTRY {
    pub DeviceListEntry: LIST_ENTRY,
    pub SortKey: ULONG,
    pub Inserted: BOOLEAN,
}

#[repr(C)]
pub struct KDEVICE_QUEUE {
    pub Type: CSHORT,
    pub Size: CSHORT,
    pub DeviceListHead: LIST_ENTRY,
    pub Lock: KSPIN_LOCK,
    /// Low bit of a 64-bit union with the queue hint.
    pub Busy: BOOLEAN,
}

/// `WAIT_CONTEXT_BLOCK`.
#[repr(C)]
pub struct WAIT_CONTEXT_BLOCK {
    pub WaitQueueEntry: KDEVICE_QUEUE_ENTRY,
    pub DeviceRoutine: PVOID,
    pub DeviceContext: PVOID,
    pub NumberOfMapRegisters: ULONG,
    pub DeviceObject: PVOID,
    pub CurrentIrp: PVOID,
    pub BufferChainingDpc: PKDPC,
}

#[repr(C)]
pub union DEVICE_OBJECT_QUEUE {
    pub ListEntry: core::mem::ManuallyDrop<LIST_ENTRY>,
    pub Wcb: core::mem::ManuallyDrop<WAIT_CONTEXT_BLOCK>,
}

/// `DEVICE_OBJECT` (`MEMORY_ALLOCATION_ALIGNMENT`-aligned in the WDK: 16 bytes on x64).
#[repr(C, align(16))]
pub struct DEVICE_OBJECT {
    pub Type: CSHORT,
    pub Size: USHORT,
    pub ReferenceCount: LONG,
    pub DriverObject: *mut DRIVER_OBJECT,
    pub NextDevice: *mut DEVICE_OBJECT,
    pub AttachedDevice: *mut DEVICE_OBJECT,
    pub CurrentIrp: *mut IRP,
    pub Timer: PVOID,
    pub Flags: ULONG,
    pub Characteristics: ULONG,
    pub Vpb: PVOID,
    pub DeviceExtension: PVOID,
    pub DeviceType: ULONG,
    pub StackSize: CCHAR,
    pub Queue: DEVICE_OBJECT_QUEUE,
    pub AlignmentRequirement: ULONG,
    pub DeviceQueue: KDEVICE_QUEUE,
    pub Dpc: KDPC,
    pub ActiveThreadCount: ULONG,
    pub SecurityDescriptor: PVOID,
    pub DeviceLock: KEVENT,
    pub SectorSize: USHORT,
    pub Spare1: USHORT,
    pub DeviceObjectExtension: PVOID,
    pub Reserved: PVOID,
}
pub type PDEVICE_OBJECT = *mut DEVICE_OBJECT;

pub const DO_BUFFERED_IO: ULONG = 0x0000_0004;
pub const DO_DIRECT_IO: ULONG = 0x0000_0010;
pub const DO_DEVICE_INITIALIZING: ULONG = 0x0000_0080;
pub const DO_POWER_PAGABLE: ULONG = 0x0000_2000;
pub const FILE_DEVICE_VIDEO: ULONG = 0x0000_0023;
pub const FILE_DEVICE_SECURE_OPEN: ULONG = 0x0000_0100;
pub const FILE_DEVICE_SCREEN: ULONG = 0x0000_001C;
pub const FILE_AUTOGENERATED_DEVICE_NAME: ULONG = 0x0000_0080;
pub const IO_NO_INCREMENT: CCHAR = 0;
pub const IO_VIDEO_INCREMENT: CCHAR = 1;

/// `DRIVER_EXTENSION`.
#[repr(C)]
pub struct DRIVER_EXTENSION {
    pub DriverObject: *mut DRIVER_OBJECT,
    pub AddDevice: PDRIVER_ADD_DEVICE,
    pub Count: ULONG,
    pub ServiceKeyName: UNICODE_STRING,
}

pub const IRP_MJ_MAXIMUM_FUNCTION: usize = 0x1b;

/// `DRIVER_OBJECT`.
#[repr(C)]
pub struct DRIVER_OBJECT {
    pub Type: CSHORT,
    pub Size: CSHORT,
    pub DeviceObject: *mut DEVICE_OBJECT,
    pub Flags: ULONG,
    pub DriverStart: PVOID,
    pub DriverSize: ULONG,
    pub DriverSection: PVOID,
    pub DriverExtension: *mut DRIVER_EXTENSION,
    pub DriverName: UNICODE_STRING,
    pub HardwareDatabase: PUNICODE_STRING,
    pub FastIoDispatch: PVOID,
    pub DriverInit: PDRIVER_INITIALIZE,
    pub DriverStartIo: PDRIVER_STARTIO,
    pub DriverUnload: PDRIVER_UNLOAD,
    pub MajorFunction: [PDRIVER_DISPATCH; IRP_MJ_MAXIMUM_FUNCTION + 1],
}
pub type PDRIVER_OBJECT = *mut DRIVER_OBJECT;

/// `IO_STATUS_BLOCK` (`Status` shares its slot with a pointer).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IO_STATUS_BLOCK {
    pub Status: NTSTATUS,
    pub Information: ULONG_PTR,
}

/// The `Tail.Overlay` member of an `IRP` (the `KAPC` alternative is 88 bytes on x64 and 48 on
/// x86, 8 more than the overlay on both, hence the pad).
#[repr(C)]
pub struct IRP_TAIL_OVERLAY {
    pub DriverContext: [PVOID; 4],
    pub Thread: PVOID,
    pub AuxiliaryBuffer: *mut i8,
    pub ListEntry: LIST_ENTRY,
    /// Also `PacketType`.
    pub CurrentStackLocation: *mut IO_STACK_LOCATION,
    pub OriginalFileObject: PVOID,
    _ApcSize: [u32; 2],
}

/// `IRP`. The stack locations follow it in memory, highest index first in use. 8-aligned on
/// x86 too: `Overlay.AllocationSize` is a `LARGE_INTEGER`.
#[repr(C, align(8))]
pub struct IRP {
    pub Type: CSHORT,
    pub Size: USHORT,
    pub MdlAddress: *mut MDL,
    pub Flags: ULONG,
    /// `AssociatedIrp.SystemBuffer` (also `MasterIrp` / `IrpCount`).
    pub SystemBuffer: PVOID,
    pub ThreadListEntry: LIST_ENTRY,
    pub IoStatus: IO_STATUS_BLOCK,
    pub RequestorMode: KPROCESSOR_MODE,
    pub PendingReturned: BOOLEAN,
    pub StackCount: i8,
    pub CurrentLocation: i8,
    pub Cancel: BOOLEAN,
    pub CancelIrql: u8,
    pub ApcEnvironment: i8,
    pub AllocationFlags: UCHAR,
    pub UserIosb: *mut IO_STATUS_BLOCK,
    pub UserEvent: PKEVENT,
    /// `Overlay.AsynchronousParameters` / `Overlay.AllocationSize`.
    pub Overlay: [PVOID; 2],
    pub CancelRoutine: PDRIVER_CANCEL,
    pub UserBuffer: PVOID,
    pub Tail: IRP_TAIL_OVERLAY,
}
pub type PIRP = *mut IRP;

/// `Parameters.StartDevice`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IO_STACK_START_DEVICE {
    pub AllocatedResources: *mut CM_RESOURCE_LIST,
    pub AllocatedResourcesTranslated: *mut CM_RESOURCE_LIST,
}

/// `POINTER_ALIGNMENT` of `wdm.h`: `DECLSPEC_ALIGN(8)` on 64-bit Windows, nothing on x86.
#[cfg_attr(target_pointer_width = "64", repr(C, align(8)))]
#[cfg_attr(target_pointer_width = "32", repr(C))]
#[derive(Clone, Copy)]
pub struct PointerAligned<T: Copy>(pub T);

/// The `Parameters` union of an `IO_STACK_LOCATION` (32 bytes on x64, 16 on x86).
#[repr(C)]
#[derive(Clone, Copy)]
pub union IO_STACK_PARAMETERS {
    pub DeviceIoControl: IO_STACK_DEVICE_IO_CONTROL,
    pub StartDevice: IO_STACK_START_DEVICE,
    pub Power: IO_STACK_POWER,
    pub QueryInterface: IO_STACK_QUERY_INTERFACE,
    pub QueryDeviceRelations: crate::pnp::IO_STACK_QUERY_DEVICE_RELATIONS,
    pub QueryId: crate::pnp::IO_STACK_QUERY_ID,
    pub DeviceCapabilities: crate::pnp::IO_STACK_DEVICE_CAPABILITIES,
    pub Others: [PVOID; 4],
}

/// `Parameters.QueryInterface` (IRP_MN_QUERY_INTERFACE).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IO_STACK_QUERY_INTERFACE {
    pub InterfaceType: *const GUID,
    pub Size: USHORT,
    pub Version: USHORT,
    pub Interface: *mut INTERFACE,
    pub InterfaceSpecificData: PVOID,
}

/// `GUID`.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct GUID {
    pub Data1: ULONG,
    pub Data2: USHORT,
    pub Data3: USHORT,
    pub Data4: [UCHAR; 8],
}

/// `GUID_BUS_INTERFACE_STANDARD` (wdmguid.h): the bus driver's `BUS_INTERFACE_STANDARD`.
pub const GUID_BUS_INTERFACE_STANDARD: GUID = GUID {
    Data1: 0x496b_8280,
    Data2: 0x6f25,
    Data3: 0x11d0,
    Data4: [0xbe, 0xaf, 0x08, 0x00, 0x2b, 0xe2, 0x09, 0x2f],
};

c_enum!(
    /// `KBUGCHECK_CALLBACK_REASON`: what a bug check reason callback is called for.
    KBUGCHECK_CALLBACK_REASON: u32 {
        KbCallbackInvalid = 0, KbCallbackReserved1 = 1, KbCallbackSecondaryDumpData = 2,
        KbCallbackDumpIo = 3, KbCallbackAddPages = 4, KbCallbackSecondaryMultiPartDumpData = 5,
        KbCallbackRemovePages = 6, KbCallbackTriageDumpData = 7,
    }
);

/// `PKBUGCHECK_REASON_CALLBACK_ROUTINE`: runs at HIGH_LEVEL during a bug check.
#[ddk_sys::ntapi]
pub type PKBUGCHECK_REASON_CALLBACK_ROUTINE = Option<
    unsafe extern "ntapi" fn(
        Reason: KBUGCHECK_CALLBACK_REASON,
        Record: *mut KBUGCHECK_REASON_CALLBACK_RECORD,
        ReasonSpecificData: PVOID,
        ReasonSpecificDataLength: ULONG,
    ),
>;

/// `KBUGCHECK_REASON_CALLBACK_RECORD`: owned by the driver (non-paged), filled by
/// `KeRegisterBugCheckReasonCallback`.
#[repr(C)]
pub struct KBUGCHECK_REASON_CALLBACK_RECORD {
    pub Entry: LIST_ENTRY,
    pub CallbackRoutine: PKBUGCHECK_REASON_CALLBACK_ROUTINE,
    pub Component: PUCHAR,
    pub Checksum: ULONG_PTR,
    pub Reason: KBUGCHECK_CALLBACK_REASON,
    pub State: UCHAR,
}
pub type PKBUGCHECK_REASON_CALLBACK_RECORD = *mut KBUGCHECK_REASON_CALLBACK_RECORD;

/// `KBUGCHECK_SECONDARY_DUMP_DATA` (`KbCallbackSecondaryDumpData`).
#[repr(C)]
pub struct KBUGCHECK_SECONDARY_DUMP_DATA {
    pub InBuffer: PVOID,
    pub InBufferLength: ULONG,
    pub MaximumAllowed: ULONG,
    pub Guid: GUID,
    pub OutBuffer: PVOID,
    pub OutBufferLength: ULONG,
}

/// `KBUGCHECK_SECONDARY_DUMP_DATA_EX` (`KbCallbackSecondaryMultiPartDumpData`, Windows Server
/// 2008 and later): as the above, plus the bug check code and parameters.
#[repr(C)]
pub struct KBUGCHECK_SECONDARY_DUMP_DATA_EX {
    pub InBuffer: PVOID,
    pub InBufferLength: ULONG,
    pub MaximumAllowed: ULONG,
    pub Guid: GUID,
    pub OutBuffer: PVOID,
    pub OutBufferLength: ULONG,
    pub Context: PVOID,
    pub Flags: ULONG,
    pub DumpType: ULONG,
    pub BugCheckCode: ULONG,
    pub BugCheckParameter1: ULONG_PTR,
    pub BugCheckParameter2: ULONG_PTR,
    pub BugCheckParameter3: ULONG_PTR,
    pub BugCheckParameter4: ULONG_PTR,
}

/// `KB_ADD_PAGES_FLAG_ADDITIONAL_RANGES_EXIST`: in a multi-part callback's `Flags`, "call me
/// again for another part".
pub const KB_ADD_PAGES_FLAG_ADDITIONAL_RANGES_EXIST: ULONG = 0x8000_0000;

/// `PINTERFACE_REFERENCE` / `PINTERFACE_DEREFERENCE`.
#[ddk_sys::ntapi]
pub type PINTERFACE_REFERENCE = Option<unsafe extern "ntapi" fn(Context: PVOID)>;

/// `PGET_SET_DEVICE_DATA`: returns the number of bytes read or written.
#[ddk_sys::ntapi]
pub type PGET_SET_DEVICE_DATA = Option<
    unsafe extern "ntapi" fn(
        Context: PVOID,
        DataType: ULONG,
        Buffer: PVOID,
        Offset: ULONG,
        Length: ULONG,
    ) -> ULONG,
>;

/// `PTRANSLATE_BUS_ADDRESS`.
#[ddk_sys::ntapi]
pub type PTRANSLATE_BUS_ADDRESS = Option<
    unsafe extern "ntapi" fn(
        Context: PVOID,
        BusAddress: PHYSICAL_ADDRESS,
        Length: ULONG,
        AddressSpace: *mut ULONG,
        TranslatedAddress: *mut PHYSICAL_ADDRESS,
    ) -> BOOLEAN,
>;

/// `PGET_DMA_ADAPTER`.
#[ddk_sys::ntapi]
pub type PGET_DMA_ADAPTER = Option<
    unsafe extern "ntapi" fn(
        Context: PVOID,
        DeviceDescriptor: *mut crate::dma::DEVICE_DESCRIPTION,
        NumberOfMapRegisters: *mut ULONG,
    ) -> *mut crate::dma::DMA_ADAPTER,
>;

/// `INTERFACE`: the header every interface returned by IRP_MN_QUERY_INTERFACE starts with.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct INTERFACE {
    pub Size: USHORT,
    pub Version: USHORT,
    pub Context: PVOID,
    pub InterfaceReference: PINTERFACE_REFERENCE,
    pub InterfaceDereference: PINTERFACE_REFERENCE,
}

/// `BUS_INTERFACE_STANDARD` (`GUID_BUS_INTERFACE_STANDARD`, version 1).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct BUS_INTERFACE_STANDARD {
    pub Size: USHORT,
    pub Version: USHORT,
    pub Context: PVOID,
    pub InterfaceReference: PINTERFACE_REFERENCE,
    pub InterfaceDereference: PINTERFACE_REFERENCE,
    pub TranslateBusAddress: PTRANSLATE_BUS_ADDRESS,
    pub GetDmaAdapter: PGET_DMA_ADAPTER,
    pub SetBusData: PGET_SET_DEVICE_DATA,
    pub GetBusData: PGET_SET_DEVICE_DATA,
}

/// `PCI_WHICHSPACE_CONFIG`: the `DataType` of Get/SetBusData for PCI configuration space.
pub const PCI_WHICHSPACE_CONFIG: ULONG = 0;
/// `PCI_WHICHSPACE_ROM` ('PciR'): the `DataType` of GetBusData for the expansion ROM.
pub const PCI_WHICHSPACE_ROM: ULONG = 0x5269_6350;

/// `Parameters.DeviceIoControl` with the `POINTER_ALIGNMENT` of each `ULONG`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IO_STACK_DEVICE_IO_CONTROL {
    pub OutputBufferLength: PointerAligned<ULONG>,
    pub InputBufferLength: PointerAligned<ULONG>,
    pub IoControlCode: PointerAligned<ULONG>,
    pub Type3InputBuffer: PVOID,
}

/// `Parameters.Power` with the `POINTER_ALIGNMENT` of each field.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IO_STACK_POWER {
    pub SystemContext: PointerAligned<ULONG>,
    pub Type: PointerAligned<ULONG>,
    pub State: PointerAligned<ULONG>,
    pub ShutdownType: PointerAligned<ULONG>,
}

/// `IO_STACK_LOCATION`.
#[repr(C)]
pub struct IO_STACK_LOCATION {
    pub MajorFunction: UCHAR,
    pub MinorFunction: UCHAR,
    pub Flags: UCHAR,
    pub Control: UCHAR,
    pub Parameters: IO_STACK_PARAMETERS,
    pub DeviceObject: *mut DEVICE_OBJECT,
    pub FileObject: PVOID,
    pub CompletionRoutine: PIO_COMPLETION_ROUTINE,
    pub Context: PVOID,
}
pub type PIO_STACK_LOCATION = *mut IO_STACK_LOCATION;

pub const IRP_MJ_CREATE: UCHAR = 0x00;
pub const IRP_MJ_CLOSE: UCHAR = 0x02;
pub const IRP_MJ_READ: UCHAR = 0x03;
pub const IRP_MJ_WRITE: UCHAR = 0x04;
pub const IRP_MJ_DEVICE_CONTROL: UCHAR = 0x0e;
pub const IRP_MJ_INTERNAL_DEVICE_CONTROL: UCHAR = 0x0f;
pub const IRP_MJ_SHUTDOWN: UCHAR = 0x10;
pub const IRP_MJ_CLEANUP: UCHAR = 0x12;
pub const IRP_MJ_POWER: UCHAR = 0x16;
pub const IRP_MJ_SYSTEM_CONTROL: UCHAR = 0x17;
pub const IRP_MJ_PNP: UCHAR = 0x1b;

pub const IRP_MN_START_DEVICE: UCHAR = 0x00;
pub const IRP_MN_QUERY_REMOVE_DEVICE: UCHAR = 0x01;
pub const IRP_MN_REMOVE_DEVICE: UCHAR = 0x02;
pub const IRP_MN_CANCEL_REMOVE_DEVICE: UCHAR = 0x03;
pub const IRP_MN_STOP_DEVICE: UCHAR = 0x04;
pub const IRP_MN_QUERY_STOP_DEVICE: UCHAR = 0x05;
pub const IRP_MN_CANCEL_STOP_DEVICE: UCHAR = 0x06;
pub const IRP_MN_QUERY_DEVICE_RELATIONS: UCHAR = 0x07;
pub const IRP_MN_QUERY_INTERFACE: UCHAR = 0x08;
pub const IRP_MN_QUERY_CAPABILITIES: UCHAR = 0x09;
pub const IRP_MN_SURPRISE_REMOVAL: UCHAR = 0x17;

pub const IRP_MN_SET_POWER: UCHAR = 0x02;
pub const IRP_MN_QUERY_POWER: UCHAR = 0x03;

pub const SL_PENDING_RETURNED: UCHAR = 0x01;
pub const SL_INVOKE_ON_CANCEL: UCHAR = 0x20;
pub const SL_INVOKE_ON_SUCCESS: UCHAR = 0x40;
pub const SL_INVOKE_ON_ERROR: UCHAR = 0x80;

pub const METHOD_BUFFERED: u32 = 0;
pub const METHOD_IN_DIRECT: u32 = 1;
pub const METHOD_OUT_DIRECT: u32 = 2;
pub const METHOD_NEITHER: u32 = 3;
pub const FILE_ANY_ACCESS: u32 = 0;
pub const FILE_READ_ACCESS: u32 = 1;
pub const FILE_WRITE_ACCESS: u32 = 2;

/// `METHOD_FROM_CTL_CODE`: the transfer type of an I/O control code.
pub const fn METHOD_FROM_CTL_CODE(code: u32) -> u32 {
    code & 3
}

/// `CTL_CODE(DeviceType, Function, Method, Access)`.
pub const fn CTL_CODE(device_type: u32, function: u32, method: u32, access: u32) -> u32 {
    (device_type << 16) | (access << 14) | (function << 2) | method
}

// The inline IRP helpers of `wdm.h`. Each works on the IRP's stack locations, which follow the
// IRP in memory; `Tail.CurrentStackLocation` points at the current one and the next lower
// driver's location is the one before it.

/// `IoGetCurrentIrpStackLocation`.
///
/// # Safety
/// `irp` must be a live IRP owned by the caller's dispatch routine.
#[inline]
pub unsafe fn IoGetCurrentIrpStackLocation(irp: *mut IRP) -> *mut IO_STACK_LOCATION {
    // SAFETY: the caller guarantees a live IRP.
    unsafe { (*irp).Tail.CurrentStackLocation }
}

/// `IoGetNextIrpStackLocation`: the location the next lower driver will see.
///
/// # Safety
/// `irp` must be a live IRP with a stack location below the current one.
#[inline]
pub unsafe fn IoGetNextIrpStackLocation(irp: *mut IRP) -> *mut IO_STACK_LOCATION {
    // SAFETY: the caller guarantees a location below the current one exists.
    unsafe { (*irp).Tail.CurrentStackLocation.sub(1) }
}

/// `IoSkipCurrentIrpStackLocation`: the next lower driver gets this driver's location.
///
/// # Safety
/// `irp` must be a live IRP owned by the caller, passed down right after this call.
#[inline]
pub unsafe fn IoSkipCurrentIrpStackLocation(irp: *mut IRP) {
    // SAFETY: the caller owns the IRP; IofCallDriver moves the location back down.
    unsafe {
        (*irp).CurrentLocation += 1;
        (*irp).Tail.CurrentStackLocation = (*irp).Tail.CurrentStackLocation.add(1);
    }
}

/// `IoCopyCurrentIrpStackLocationToNext`: everything but the completion routine and context.
///
/// # Safety
/// `irp` must be a live IRP owned by the caller, with a stack location below the current one.
#[inline]
pub unsafe fn IoCopyCurrentIrpStackLocationToNext(irp: *mut IRP) {
    // SAFETY: both locations lie within the IRP's stack (caller's contract) and are distinct.
    unsafe {
        let cur = IoGetCurrentIrpStackLocation(irp);
        let next = IoGetNextIrpStackLocation(irp);
        (*next).MajorFunction = (*cur).MajorFunction;
        (*next).MinorFunction = (*cur).MinorFunction;
        (*next).Flags = (*cur).Flags;
        (*next).Control = 0;
        (*next).Parameters = (*cur).Parameters;
        (*next).DeviceObject = (*cur).DeviceObject;
        (*next).FileObject = (*cur).FileObject;
        (*next).CompletionRoutine = None;
        (*next).Context = core::ptr::null_mut();
    }
}

/// `IoSetCompletionRoutine`: `routine` runs when the next lower driver completes the IRP.
///
/// # Safety
/// `irp` must be a live IRP owned by the caller, with a stack location below the current one.
#[inline]
pub unsafe fn IoSetCompletionRoutine(
    irp: *mut IRP,
    routine: PIO_COMPLETION_ROUTINE,
    context: PVOID,
    invoke_on_success: bool,
    invoke_on_error: bool,
    invoke_on_cancel: bool,
) {
    let mut control = 0;
    if invoke_on_success {
        control |= SL_INVOKE_ON_SUCCESS;
    }
    if invoke_on_error {
        control |= SL_INVOKE_ON_ERROR;
    }
    if invoke_on_cancel {
        control |= SL_INVOKE_ON_CANCEL;
    }
    // SAFETY: the next location lies within the IRP's stack (caller's contract).
    unsafe {
        let next = IoGetNextIrpStackLocation(irp);
        (*next).CompletionRoutine = routine;
        (*next).Context = context;
        (*next).Control = control;
    }
}

/// `IoMarkIrpPending`.
///
/// # Safety
/// `irp` must be a live IRP owned by the caller's dispatch routine.
#[inline]
pub unsafe fn IoMarkIrpPending(irp: *mut IRP) {
    // SAFETY: the current location belongs to the caller.
    unsafe { (*IoGetCurrentIrpStackLocation(irp)).Control |= SL_PENDING_RETURNED };
}

/// `IoCallDriver`: a macro over `IofCallDriver`.
///
/// # Safety
/// As for `IofCallDriver`: a live device object and an IRP whose next location is set up.
#[inline]
pub unsafe fn IoCallDriver(device: *mut DEVICE_OBJECT, irp: *mut IRP) -> NTSTATUS {
    // SAFETY: forwarded contract.
    unsafe { crate::routines::IofCallDriver(device, irp) }
}

/// `IoCompleteRequest`: a macro over `IofCompleteRequest`.
///
/// # Safety
/// As for `IofCompleteRequest`: the caller owns the IRP and never touches it afterwards.
#[inline]
pub unsafe fn IoCompleteRequest(irp: *mut IRP, boost: CCHAR) {
    // SAFETY: forwarded contract.
    unsafe { crate::routines::IofCompleteRequest(irp, boost) }
}

#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(size_of::<KBUGCHECK_REASON_CALLBACK_RECORD>() == 48);
    assert!(offset_of!(KBUGCHECK_REASON_CALLBACK_RECORD, Reason) == 40);
    assert!(offset_of!(KBUGCHECK_REASON_CALLBACK_RECORD, State) == 44);
    assert!(size_of::<KBUGCHECK_SECONDARY_DUMP_DATA>() == 48);
    assert!(offset_of!(KBUGCHECK_SECONDARY_DUMP_DATA, Guid) == 16);
    assert!(offset_of!(KBUGCHECK_SECONDARY_DUMP_DATA, OutBufferLength) == 40);
    assert!(size_of::<KBUGCHECK_SECONDARY_DUMP_DATA_EX>() == 104);
    assert!(offset_of!(KBUGCHECK_SECONDARY_DUMP_DATA_EX, BugCheckCode) == 64);
    assert!(offset_of!(KBUGCHECK_SECONDARY_DUMP_DATA_EX, BugCheckParameter4) == 96);
    assert!(size_of::<IO_ERROR_LOG_PACKET>() == 0x30);
    assert!(offset_of!(IO_ERROR_LOG_PACKET, ErrorCode) == 0x0C);
    assert!(offset_of!(IO_ERROR_LOG_PACKET, DeviceOffset) == 0x20);
    assert!(offset_of!(IO_ERROR_LOG_PACKET, DumpData) == 0x28);
    assert!(
        size_of::<KDPC>() == 64
            && offset_of!(KDPC, DeferredRoutine) == 24
            && offset_of!(KDPC, DpcData) == 56
    );
    assert!(size_of::<KEVENT>() == 24);
    assert!(size_of::<KDEVICE_QUEUE>() == 40 && offset_of!(KDEVICE_QUEUE, Busy) == 32);
    assert!(size_of::<WAIT_CONTEXT_BLOCK>() == 72);
    assert!(size_of::<DEVICE_OBJECT>() == 336 && align_of::<DEVICE_OBJECT>() == 16);
    assert!(offset_of!(DEVICE_OBJECT, CurrentIrp) == 32);
    assert!(offset_of!(DEVICE_OBJECT, Flags) == 48);
    assert!(offset_of!(DEVICE_OBJECT, DeviceExtension) == 64);
    assert!(offset_of!(DEVICE_OBJECT, DeviceType) == 72);
    assert!(offset_of!(DEVICE_OBJECT, StackSize) == 76);
    assert!(offset_of!(DEVICE_OBJECT, Queue) == 80);
    assert!(offset_of!(DEVICE_OBJECT, AlignmentRequirement) == 152);
    assert!(offset_of!(DEVICE_OBJECT, DeviceQueue) == 160);
    assert!(offset_of!(DEVICE_OBJECT, Dpc) == 200);
    assert!(offset_of!(DEVICE_OBJECT, DeviceLock) == 280);
    assert!(offset_of!(DEVICE_OBJECT, DeviceObjectExtension) == 312);
    assert!(size_of::<DRIVER_EXTENSION>() == 40 && offset_of!(DRIVER_EXTENSION, AddDevice) == 8);
    assert!(size_of::<DRIVER_OBJECT>() == 336);
    assert!(offset_of!(DRIVER_OBJECT, DriverExtension) == 48);
    assert!(offset_of!(DRIVER_OBJECT, DriverName) == 56);
    assert!(offset_of!(DRIVER_OBJECT, DriverUnload) == 104);
    assert!(offset_of!(DRIVER_OBJECT, MajorFunction) == 112);
    assert!(size_of::<IO_STATUS_BLOCK>() == 16);
    assert!(size_of::<IRP>() == 208);
    assert!(offset_of!(IRP, MdlAddress) == 8);
    assert!(offset_of!(IRP, SystemBuffer) == 24);
    assert!(offset_of!(IRP, IoStatus) == 48);
    assert!(offset_of!(IRP, RequestorMode) == 64);
    assert!(offset_of!(IRP, StackCount) == 66);
    assert!(offset_of!(IRP, CurrentLocation) == 67);
    assert!(offset_of!(IRP, UserIosb) == 72);
    assert!(offset_of!(IRP, CancelRoutine) == 104);
    assert!(offset_of!(IRP, UserBuffer) == 112);
    assert!(offset_of!(IRP, Tail) == 120);
    assert!(offset_of!(IRP_TAIL_OVERLAY, Thread) == 32);
    assert!(offset_of!(IRP_TAIL_OVERLAY, CurrentStackLocation) == 64);
    assert!(size_of::<IO_STACK_PARAMETERS>() == 32);
    assert!(offset_of!(IO_STACK_DEVICE_IO_CONTROL, InputBufferLength) == 8);
    assert!(offset_of!(IO_STACK_DEVICE_IO_CONTROL, IoControlCode) == 16);
    assert!(offset_of!(IO_STACK_DEVICE_IO_CONTROL, Type3InputBuffer) == 24);
    assert!(size_of::<IO_STACK_LOCATION>() == 72);
    assert!(size_of::<IO_STACK_QUERY_INTERFACE>() == 32);
    assert!(offset_of!(IO_STACK_QUERY_INTERFACE, Size) == 8);
    assert!(offset_of!(IO_STACK_QUERY_INTERFACE, Version) == 10);
    assert!(offset_of!(IO_STACK_QUERY_INTERFACE, Interface) == 16);
    assert!(offset_of!(IO_STACK_QUERY_INTERFACE, InterfaceSpecificData) == 24);
    assert!(size_of::<GUID>() == 16 && offset_of!(GUID, Data4) == 8);
    assert!(size_of::<INTERFACE>() == 32);
    assert!(offset_of!(INTERFACE, Context) == 8);
    assert!(offset_of!(INTERFACE, InterfaceDereference) == 24);
    assert!(size_of::<BUS_INTERFACE_STANDARD>() == 64);
    assert!(offset_of!(BUS_INTERFACE_STANDARD, TranslateBusAddress) == 32);
    assert!(offset_of!(BUS_INTERFACE_STANDARD, GetDmaAdapter) == 40);
    assert!(offset_of!(BUS_INTERFACE_STANDARD, SetBusData) == 48);
    assert!(offset_of!(BUS_INTERFACE_STANDARD, GetBusData) == 56);
    assert!(offset_of!(IO_STACK_LOCATION, Parameters) == 8);
    assert!(offset_of!(IO_STACK_LOCATION, DeviceObject) == 40);
    assert!(offset_of!(IO_STACK_LOCATION, CompletionRoutine) == 56);
    assert!(offset_of!(IO_STACK_LOCATION, Context) == 64);
};
