//! The second layout proof: every size, alignment, member offset, member size and constant value
//! declared in `ddk-sys` is compiled as a C11 `_Static_assert` against mingw-w64's DDK headers
//! with `x86_64-w64-mingw32-gcc -fsyntax-only`, or on a 32-bit host `i686-w64-mingw32-gcc`
//! against mingw-w64's i686 headers.
//!
//! Two translation units, because `video.h` and `ntddk.h`/`wdm.h` cannot be included together:
//! - `wdm`: `<ddk/ntddk.h>`, which includes `<ddk/wdm.h>` (NT, I/O manager, HAL DMA, resource
//!   lists, RtlGetVersion);
//! - `video`: `<ntdef.h>`, `<ddk/miniport.h>`, `<ddk/video.h>`, `<ddk/dderror.h>` (VideoPort).
//!
//! The only skips are the items named in `ddk_sys::layout::MINGW_DEVIATIONS`; a second test
//! proves each of those really fails against mingw-w64 (so a stale entry is caught), and a third
//! proves the check has teeth by planting one wrong offset.
//!
//! One rule is not a skip: the size of a zero-length Rust array field (a flexible array member
//! such as `SCATTER_GATHER_LIST.Elements`) is not compared, because C's `sizeof` cannot be
//! applied to a flexible array member. Its offset is compared.

use ddk_sys::layout::{MingwDeviation, MingwSkip, MINGW_DEVIATIONS};
use ddk_sys::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The compiler of the pointer width this test is built for: the x86_64 host checks the x64
/// layouts, an i686 host (`cargo test --target i686-unknown-linux-gnu`) the x86 ones.
const GCC: &str = if cfg!(target_pointer_width = "64") {
    "x86_64-w64-mingw32-gcc"
} else {
    "i686-w64-mingw32-gcc"
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tu {
    Wdm,
    Video,
}

impl Tu {
    const ALL: [Tu; 2] = [Tu::Wdm, Tu::Video];

    fn name(self) -> &'static str {
        match self {
            Tu::Wdm => "wdm",
            Tu::Video => "video",
        }
    }

    fn prologue(self) -> &'static str {
        match self {
            // NT_PROCESSOR_GROUPS selects the WDK's (Windows 7+) resource descriptor, with
            // `u.Interrupt.Level` and `u.Interrupt.Group` as two USHORTs, as ddk-sys declares it.
            // ntddk.h includes wdm.h and adds RtlGetVersion's RTL_OSVERSIONINFOW.
            Tu::Wdm => {
                "#define NT_PROCESSOR_GROUPS 1\n#include <stddef.h>\n#include <ddk/ntddk.h>\n"
            }
            Tu::Video => {
                "#include <stddef.h>\n#include <ntdef.h>\n#include <ddk/miniport.h>\n\
                 #include <ddk/video.h>\n#include <ddk/dderror.h>\n"
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum What {
    Size,
    Align,
    Offset(String),
    MemberSize(String),
    Value,
}

/// One `_Static_assert`.
#[derive(Clone, Debug)]
struct Check {
    tu: Tu,
    /// The C type or constant.
    owner: &'static str,
    what: What,
    /// The C expression that must equal `rust`.
    c_expr: String,
    rust: i64,
}

impl Check {
    fn label(&self) -> String {
        match &self.what {
            What::Size => format!("sizeof({})", self.owner),
            What::Align => format!("_Alignof({})", self.owner),
            What::Offset(m) => format!("{}.{m} offset", self.owner),
            What::MemberSize(m) => format!("{}.{m} size", self.owner),
            What::Value => self.owner.to_string(),
        }
    }

    fn skip_kind(&self) -> Option<MingwSkip> {
        match &self.what {
            What::Size => Some(MingwSkip::Size),
            What::Align => Some(MingwSkip::Align),
            What::Offset(_) | What::MemberSize(_) => None,
            What::Value => None,
        }
    }

    fn member(&self) -> Option<&str> {
        match &self.what {
            What::Offset(m) | What::MemberSize(m) => Some(m),
            _ => None,
        }
    }

    /// Whether `dev` names this check.
    fn skipped_by(&self, dev: &MingwDeviation) -> bool {
        dev.name == self.owner
            && dev.skip.iter().any(|s| match *s {
                MingwSkip::Undeclared => true,
                MingwSkip::Member(m) => self.member() == Some(m),
                other => self.skip_kind() == Some(other),
            })
    }

    fn deviation(&self) -> Option<&'static MingwDeviation> {
        MINGW_DEVIATIONS.iter().find(|d| self.skipped_by(d))
    }

    fn assertion(&self) -> String {
        format!(
            "_Static_assert((long long)({}) == {}LL, \"{}: rust says {}\");",
            self.c_expr,
            self.rust,
            self.label(),
            self.rust
        )
    }
}

/// The size of the type a (never called) field projection points at.
fn size_of_pointee<T, F>(_: fn(*const T) -> *const F) -> usize {
    core::mem::size_of::<F>()
}

/// `layouts!(checks, Tu; TYPE { field, rust.path => "C.designator", ... }, ...)`: size,
/// alignment, and each field's offset and size. The C type name is the Rust type name.
macro_rules! layouts {
    ($out:ident, $tu:expr; $($ty:ident { $($($f:tt).+ $(=> $c:literal)?),* $(,)? }),* $(,)?) => {$(
        {
            let owner = stringify!($ty);
            $out.push(Check { tu: $tu, owner, what: What::Size, c_expr: format!("sizeof({owner})"),
                rust: core::mem::size_of::<$ty>() as i64 });
            $out.push(Check { tu: $tu, owner, what: What::Align, c_expr: format!("_Alignof({owner})"),
                rust: core::mem::align_of::<$ty>() as i64 });
            $(
                let member: String = None$(.or(Some($c)))?
                    .map(str::to_string)
                    .unwrap_or_else(|| [$(stringify!($f)),+].join("."));
                $out.push(Check { tu: $tu, owner, what: What::Offset(member.clone()),
                    c_expr: format!("offsetof({owner}, {member})"),
                    rust: core::mem::offset_of!($ty, $($f).+) as i64 });
                // SAFETY: the projection is never called; only its pointee type is used.
                let size = size_of_pointee::<$ty, _>(|p| unsafe { core::ptr::addr_of!((*p).$($f).+) });
                if size != 0 {
                    $out.push(Check { tu: $tu, owner, what: What::MemberSize(member.clone()),
                        c_expr: format!("sizeof((({owner} *)0)->{member})"), rust: size as i64 });
                }
            )*
        }
    )*};
}

/// `c_enums!(checks, Tu; TYPE { Enumerator, ... })`: size and alignment of the enum type, and
/// the value of each enumerator.
macro_rules! c_enums {
    ($out:ident, $tu:expr; $($ty:ident { $($v:ident),* $(,)? }),* $(,)?) => {$(
        layouts!($out, $tu; $ty {});
        $(values!($out, $tu; $v = $ty::$v.0);)*
    )*};
}

/// `values!(checks, Tu; NAME, NAME = rust_expr, ...)`: the C constant `NAME` must equal the Rust
/// constant of the same name (or `rust_expr`).
macro_rules! values {
    (@v $name:ident) => { $name };
    (@v $name:ident = $e:expr) => { $e };
    ($out:ident, $tu:expr; $($name:ident $(= $e:expr)?),* $(,)?) => {$(
        $out.push(Check { tu: $tu, owner: stringify!($name), what: What::Value,
            c_expr: stringify!($name).to_string(), rust: values!(@v $name $(= $e)?) as i64 });
    )*};
}

fn all_checks() -> Vec<Check> {
    let mut c = Vec::new();
    let wdm = Tu::Wdm;
    let video = Tu::Video;

    // Scalars and typedefs.
    layouts!(c, wdm;
        PHYSICAL_ADDRESS { 0 => "QuadPart" },
        LARGE_INTEGER { 0 => "QuadPart" },
        NTSTATUS {}, KIRQL {}, BOOLEAN {}, CCHAR {}, CSHORT {}, ULONG_PTR {}, SIZE_T {},
        KSPIN_LOCK {}, KAFFINITY {}, PFN_NUMBER {}, KPROCESSOR_MODE {}, WCHAR {}, HANDLE {},
        LIST_ENTRY { Flink, Blink },
        UNICODE_STRING { Length, MaximumLength, Buffer },
        RTL_OSVERSIONINFOW {
            dwOSVersionInfoSize, dwMajorVersion, dwMinorVersion, dwBuildNumber, dwPlatformId,
            szCSDVersion,
        },
    );
    layouts!(c, wdm;
        RTL_OSVERSIONINFOEXW {
            dwOSVersionInfoSize, dwMajorVersion, dwMinorVersion, dwBuildNumber, dwPlatformId,
            szCSDVersion, wServicePackMajor, wServicePackMinor, wSuiteMask, wProductType,
            wReserved,
        },
    );
    values!(c, wdm; VER_PLATFORM_WIN32_NT);

    // registry.rs
    layouts!(c, wdm;
        ACCESS_MASK {},
        OBJECT_ATTRIBUTES {
            Length, RootDirectory, ObjectName, Attributes, SecurityDescriptor,
            SecurityQualityOfService,
        },
        KEY_VALUE_PARTIAL_INFORMATION { TitleIndex, Type, DataLength, Data },
        FILE_STANDARD_INFORMATION {
            AllocationSize, EndOfFile, NumberOfLinks, DeletePending, Directory,
        },
    );
    c_enums!(c, wdm;
        KEY_VALUE_INFORMATION_CLASS {
            KeyValueBasicInformation, KeyValueFullInformation, KeyValuePartialInformation,
        },
        FILE_INFORMATION_CLASS { FileStandardInformation },
    );
    values!(c, wdm;
        OBJ_CASE_INSENSITIVE, OBJ_KERNEL_HANDLE, REG_NONE, REG_SZ, REG_EXPAND_SZ, REG_BINARY,
        REG_DWORD, REG_MULTI_SZ, REG_OPTION_NON_VOLATILE, REG_CREATED_NEW_KEY,
        REG_OPENED_EXISTING_KEY, KEY_QUERY_VALUE, KEY_SET_VALUE, KEY_CREATE_SUB_KEY,
        KEY_ENUMERATE_SUB_KEYS, KEY_NOTIFY, KEY_READ, KEY_WRITE, KEY_ALL_ACCESS, SYNCHRONIZE,
        GENERIC_READ, FILE_READ_DATA, PLUGPLAY_REGKEY_DEVICE, PLUGPLAY_REGKEY_DRIVER,
        PLUGPLAY_REGKEY_CURRENT_HWPROFILE, FILE_ATTRIBUTE_NORMAL, FILE_SHARE_READ, FILE_OPEN,
        FILE_SYNCHRONOUS_IO_NONALERT, FILE_NON_DIRECTORY_FILE,
        STATUS_INVALID_HANDLE = STATUS_INVALID_HANDLE.0,
        STATUS_END_OF_FILE = STATUS_END_OF_FILE.0,
        STATUS_ACCESS_DENIED = STATUS_ACCESS_DENIED.0,
        STATUS_OBJECT_TYPE_MISMATCH = STATUS_OBJECT_TYPE_MISMATCH.0,
        STATUS_OBJECT_NAME_INVALID = STATUS_OBJECT_NAME_INVALID.0,
        STATUS_OBJECT_PATH_NOT_FOUND = STATUS_OBJECT_PATH_NOT_FOUND.0,
    );
    layouts!(c, video; VP_STATUS {});

    // mdl.rs
    layouts!(c, wdm;
        MDL { Next, Size, MdlFlags, Process, MappedSystemVa, StartVa, ByteCount, ByteOffset },
    );

    // dma.rs
    layouts!(c, wdm;
        DMA_ADAPTER { Version, Size, DmaOperations },
        DMA_OPERATIONS {
            Size, PutDmaAdapter, AllocateCommonBuffer, FreeCommonBuffer, AllocateAdapterChannel,
            FlushAdapterBuffers, FreeAdapterChannel, FreeMapRegisters, MapTransfer,
            GetDmaAlignment, ReadDmaCounter, GetScatterGatherList, PutScatterGatherList,
            CalculateScatterGatherList, BuildScatterGatherList, BuildMdlFromScatterGatherList,
            GetDmaAdapterInfo, GetDmaTransferInfo, InitializeDmaTransferContext,
            AllocateCommonBufferEx, AllocateAdapterChannelEx, ConfigureAdapterChannel,
            CancelAdapterChannel, MapTransferEx, GetScatterGatherListEx, BuildScatterGatherListEx,
            FlushAdapterBuffersEx, FreeAdapterObject, CancelMappedTransfer,
            AllocateDomainCommonBuffer, FlushDmaBuffer, JoinDmaDomain, LeaveDmaDomain,
            GetDmaDomain, AllocateCommonBufferWithBounds, AllocateCommonBufferVector,
            GetCommonBufferFromVectorByIndex, FreeCommonBufferFromVector, FreeCommonBufferVector,
            CreateCommonBufferFromMdl,
        },
        DEVICE_DESCRIPTION {
            Version, Master, ScatterGather, DemandMode, AutoInitialize, Dma32BitAddresses,
            IgnoreCount, Reserved1, Dma64BitAddresses, BusNumber, DmaChannel, InterfaceType,
            DmaWidth, DmaSpeed, MaximumLength, DmaPort, DmaAddressWidth, DmaControllerInstance,
            DmaRequestLine, DeviceAddress,
        },
        SCATTER_GATHER_ELEMENT { Address, Length, Reserved },
        SCATTER_GATHER_LIST { NumberOfElements, Reserved, Elements },
        DMA_ADAPTER_INFO {
            Version,
            ReadDmaCounterAvailable => "V1.ReadDmaCounterAvailable",
            ScatterGatherLimit => "V1.ScatterGatherLimit",
            DmaAddressWidth => "V1.DmaAddressWidth",
            Flags => "V1.Flags",
            MinimumTransferUnit => "V1.MinimumTransferUnit",
        },
    );

    // io.rs
    layouts!(c, wdm;
        DISPATCHER_HEADER { Lock, SignalState, WaitListHead },
        KEVENT { Header },
        KDPC {
            Type, Importance, Number, DpcListEntry, DeferredRoutine, DeferredContext,
            SystemArgument1, SystemArgument2, DpcData,
        },
        KDEVICE_QUEUE_ENTRY { DeviceListEntry, SortKey, Inserted },
        KDEVICE_QUEUE { Type, Size, DeviceListHead, Lock, Busy },
        WAIT_CONTEXT_BLOCK {
            WaitQueueEntry, DeviceRoutine, DeviceContext, NumberOfMapRegisters, DeviceObject,
            CurrentIrp, BufferChainingDpc,
        },
        DEVICE_OBJECT {
            Type, Size, ReferenceCount, DriverObject, NextDevice, AttachedDevice, CurrentIrp,
            Timer, Flags, Characteristics, Vpb, DeviceExtension, DeviceType, StackSize,
            Queue, Queue.ListEntry, Queue.Wcb,
            AlignmentRequirement, DeviceQueue, Dpc, ActiveThreadCount, SecurityDescriptor,
            DeviceLock, SectorSize, Spare1, DeviceObjectExtension, Reserved,
        },
        DRIVER_EXTENSION { DriverObject, AddDevice, Count, ServiceKeyName },
        DRIVER_OBJECT {
            Type, Size, DeviceObject, Flags, DriverStart, DriverSize, DriverSection,
            DriverExtension, DriverName, HardwareDatabase, FastIoDispatch, DriverInit,
            DriverStartIo, DriverUnload, MajorFunction,
        },
        IO_STATUS_BLOCK { Status, Information },
        KBUGCHECK_REASON_CALLBACK_RECORD {
            Entry, CallbackRoutine, Component, Checksum, Reason, State,
        },
        KBUGCHECK_SECONDARY_DUMP_DATA {
            InBuffer, InBufferLength, MaximumAllowed, Guid, OutBuffer, OutBufferLength,
        },
        KBUGCHECK_SECONDARY_DUMP_DATA_EX {
            InBuffer, InBufferLength, MaximumAllowed, Guid, OutBuffer, OutBufferLength, Context,
            Flags, DumpType, BugCheckCode, BugCheckParameter1, BugCheckParameter2,
            BugCheckParameter3, BugCheckParameter4,
        },
        IO_ERROR_LOG_PACKET {
            MajorFunctionCode, RetryCount, DumpDataSize, NumberOfStrings, StringOffset,
            EventCategory, ErrorCode, UniqueErrorValue, FinalStatus, SequenceNumber,
            IoControlCode, DeviceOffset, DumpData,
        },
        IRP {
            Type, Size, MdlAddress, Flags,
            SystemBuffer => "AssociatedIrp.SystemBuffer",
            ThreadListEntry, IoStatus, RequestorMode, PendingReturned, StackCount,
            CurrentLocation, Cancel, CancelIrql, ApcEnvironment, AllocationFlags, UserIosb,
            UserEvent, Overlay, CancelRoutine, UserBuffer, Tail,
            Tail.DriverContext => "Tail.Overlay.DriverContext",
            Tail.Thread => "Tail.Overlay.Thread",
            Tail.AuxiliaryBuffer => "Tail.Overlay.AuxiliaryBuffer",
            Tail.ListEntry => "Tail.Overlay.ListEntry",
            Tail.CurrentStackLocation => "Tail.Overlay.CurrentStackLocation",
            Tail.OriginalFileObject => "Tail.Overlay.OriginalFileObject",
        },
        IO_STACK_LOCATION {
            MajorFunction, MinorFunction, Flags, Control, Parameters,
            Parameters.DeviceIoControl.OutputBufferLength.0
                => "Parameters.DeviceIoControl.OutputBufferLength",
            Parameters.DeviceIoControl.InputBufferLength.0
                => "Parameters.DeviceIoControl.InputBufferLength",
            Parameters.DeviceIoControl.IoControlCode.0
                => "Parameters.DeviceIoControl.IoControlCode",
            Parameters.DeviceIoControl.Type3InputBuffer,
            Parameters.StartDevice.AllocatedResources,
            Parameters.StartDevice.AllocatedResourcesTranslated,
            Parameters.Power.SystemContext.0 => "Parameters.Power.SystemContext",
            Parameters.Power.Type.0 => "Parameters.Power.Type",
            Parameters.Power.State.0 => "Parameters.Power.State",
            Parameters.Power.ShutdownType.0 => "Parameters.Power.ShutdownType",
            Parameters.QueryInterface.InterfaceType,
            Parameters.QueryInterface.Size,
            Parameters.QueryInterface.Version,
            Parameters.QueryInterface.Interface,
            Parameters.QueryInterface.InterfaceSpecificData,
            Parameters.Others,
            DeviceObject, FileObject, CompletionRoutine, Context,
        },
        GUID { Data1, Data2, Data3, Data4 },
        INTERFACE { Size, Version, Context, InterfaceReference, InterfaceDereference },
        BUS_INTERFACE_STANDARD {
            Size, Version, Context, InterfaceReference, InterfaceDereference,
            TranslateBusAddress, GetDmaAdapter, SetBusData, GetBusData,
        },
    );

    // resource.rs
    layouts!(c, wdm;
        CM_PARTIAL_RESOURCE_DESCRIPTOR {
            Type, ShareDisposition, Flags, u,
            u.Port.Start, u.Port.Length,
            u.Interrupt.Level, u.Interrupt.Group, u.Interrupt.Vector, u.Interrupt.Affinity,
            u.Memory.Start, u.Memory.Length,
            u.Dma.Channel, u.Dma.Port, u.Dma.Reserved1,
            u.DevicePrivate => "u.DevicePrivate.Data",
            u.Generic.Start, u.Generic.Length,
        },
        CM_PARTIAL_RESOURCE_LIST { Version, Revision, Count, PartialDescriptors },
        CM_FULL_RESOURCE_DESCRIPTOR { InterfaceType, BusNumber, PartialResourceList },
        CM_RESOURCE_LIST { Count, List },
    );

    // video.rs
    layouts!(c, video;
        VP_DEVICE_DESCRIPTION { ScatterGather, Dma32BitAddresses, Dma64BitAddresses, MaximumLength },
        VP_SCATTER_GATHER_ELEMENT { Address, Length, Reserved },
        VP_SCATTER_GATHER_LIST { NumberOfElements, Reserved, Elements },
        STATUS_BLOCK { Status, Information },
        VIDEO_REQUEST_PACKET {
            IoControlCode, StatusBlock, InputBuffer, InputBufferLength, OutputBuffer,
            OutputBufferLength,
        },
        VIDEO_ACCESS_RANGE {
            RangeStart, RangeLength, RangeInIoSpace, RangeVisible, RangeShareable, RangePassive,
        },
        VIDEO_PORT_CONFIG_INFO {
            Length, SystemIoBusNumber, AdapterInterfaceType, BusInterruptLevel,
            BusInterruptVector, InterruptMode, NumEmulatorAccessEntries, EmulatorAccessEntries,
            EmulatorAccessEntriesContext, VdmPhysicalVideoMemoryAddress,
            VdmPhysicalVideoMemoryLength, HardwareStateSize, DmaChannel, DmaPort, DmaShareable,
            InterruptShareable, Master, DmaWidth, DmaSpeed, bMapBuffers, NeedPhysicalAddresses,
            DemandMode, MaximumTransferLength, NumberOfPhysicalBreaks, ScatterGather,
            MaximumScatterGatherChunkSize, VideoPortGetProcAddress, DriverRegistryPath,
            SystemMemorySize,
        },
        VIDEO_HW_INITIALIZATION_DATA {
            HwInitDataSize, AdapterInterfaceType, HwFindAdapter, HwInitialize, HwInterrupt,
            HwStartIO, HwDeviceExtensionSize, StartingDeviceNumber, HwResetHw, HwTimer,
            HwStartDma, HwSetPowerState, HwGetPowerState, HwGetVideoChildDescriptor,
            HwQueryInterface, HwChildDeviceExtensionSize, HwLegacyResourceList,
            HwLegacyResourceCount, HwGetLegacyResources, AllowEarlyEnumeration, Reserved,
        },
        VRB_SG { PhysicalAddress, Length },
        VPOSVERSIONINFO {
            Size, MajorVersion, MinorVersion, BuildNumber, ServicePackMajor, ServicePackMinor,
        },
        INT10_BIOS_ARGUMENTS { Eax, Ebx, Ecx, Edx, Esi, Edi, Ebp, SegDs, SegEs },
        VIDEO_X86_BIOS_ARGUMENTS { Eax, Ebx, Ecx, Edx, Esi, Edi, Ebp },
        VIDEO_PORT_INT10_INTERFACE {
            Size, Version, Context, InterfaceReference, InterfaceDereference,
            Int10AllocateBuffer, Int10FreeBuffer, Int10ReadMemory, Int10WriteMemory,
            Int10CallBios,
        },
    );
    // VIDEO_PORT_SERVICES: the four values mingw-w64's video.h has (the WDK adds DebugReport
    // and WCMemoryProtection after them). X86_BIOS_REGISTERS is the HAL's, in no mingw header.
    values!(c, video;
        VideoPortServicesAGP = VIDEO_PORT_SERVICES::VideoPortServicesAGP.0,
        VideoPortServicesI2C = VIDEO_PORT_SERVICES::VideoPortServicesI2C.0,
        VideoPortServicesHeadless = VIDEO_PORT_SERVICES::VideoPortServicesHeadless.0,
        VideoPortServicesInt10 = VIDEO_PORT_SERVICES::VideoPortServicesInt10.0,
        VIDEO_PORT_INT10_INTERFACE_VERSION_1,
    );

    // C enums: 4 bytes each, and every enumerator.
    c_enums!(c, wdm;
        INTERFACE_TYPE {
            InterfaceTypeUndefined, Internal, Isa, Eisa, MicroChannel, TurboChannel, PCIBus,
            VMEBus, NuBus, PCMCIABus, CBus, MPIBus, MPSABus, ProcessorInternal, InternalPowerBus,
            PNPISABus, PNPBus, Vmcs, ACPIBus,
        },
        DMA_WIDTH { Width8Bits, Width16Bits, Width32Bits, Width64Bits, WidthNoWrap },
        DMA_SPEED { Compatible, TypeA, TypeB, TypeC, TypeF },
        KINTERRUPT_MODE { LevelSensitive, Latched },
        LOCK_OPERATION { IoReadAccess, IoWriteAccess, IoModifyAccess },
        MEMORY_CACHING_TYPE { MmNonCached, MmCached, MmWriteCombined },
        POOL_TYPE {
            NonPagedPool, PagedPool, NonPagedPoolCacheAligned, PagedPoolCacheAligned,
            NonPagedPoolNx, NonPagedPoolNxCacheAligned,
        },
        MM_PAGE_PRIORITY { LowPagePriority, NormalPagePriority, HighPagePriority, MdlMappingNoExecute },
        EVENT_TYPE { NotificationEvent, SynchronizationEvent },
        IO_ALLOCATION_ACTION { KeepObject, DeallocateObject, DeallocateObjectKeepRegisters },
        KBUGCHECK_CALLBACK_REASON {
            KbCallbackInvalid, KbCallbackReserved1, KbCallbackSecondaryDumpData,
            KbCallbackDumpIo, KbCallbackAddPages, KbCallbackSecondaryMultiPartDumpData,
            KbCallbackRemovePages, KbCallbackTriageDumpData,
        },
    );
    c_enums!(c, video;
        VP_LOCK_OPERATION { VpReadAccess, VpWriteAccess, VpModifyAccess },
        DMA_FLAGS { VideoPortUnlockAfterDma, VideoPortKeepPagesLocked, VideoPortDmaInitOnly },
        HW_DMA_RETURN { DmaAsyncReturn, DmaSyncReturn },
        VIDEO_SYNCHRONIZE_PRIORITY { VpLowPriority, VpMediumPriority, VpHighPriority },
        VIDEO_DEBUG_LEVEL { Error, Warn, Trace, Info },
        VIDEO_DEVICE_DATA_TYPE {
            VpMachineData, VpCmosData, VpBusData, VpControllerData, VpMonitorData,
        },
        VP_POOL_TYPE {
            VpNonPagedPool, VpPagedPool, VpNonPagedPoolCacheAligned, VpPagedPoolCacheAligned,
        },
        BUS_DATA_TYPE {
            ConfigurationSpaceUndefined, Cmos, EisaConfiguration, Pos, CbusConfiguration,
            PCIConfiguration, VMEConfiguration, NuBusConfiguration, PCMCIAConfiguration,
            MPIConfiguration, MPSAConfiguration, PNPISAConfiguration, SgiInternalConfiguration,
            MaximumBusDataType,
        },
    );

    // Constants.
    values!(c, wdm;
        KB_ADD_PAGES_FLAG_ADDITIONAL_RANGES_EXIST,
        TRUE, FALSE, PAGE_SIZE, PAGE_SHIFT, KernelMode, UserMode,
        POOL_FLAG_UNINITIALIZED, POOL_FLAG_NON_PAGED, POOL_FLAG_NON_PAGED_EXECUTE, POOL_FLAG_PAGED,
        PASSIVE_LEVEL, APC_LEVEL, DISPATCH_LEVEL, CLOCK_LEVEL, HIGH_LEVEL,
        DEVICE_DESCRIPTION_VERSION, DEVICE_DESCRIPTION_VERSION1, DEVICE_DESCRIPTION_VERSION2,
        DEVICE_DESCRIPTION_VERSION3, DMA_ADAPTER_INFO_VERSION1,
        MDL_MAPPED_TO_SYSTEM_VA, MDL_PAGES_LOCKED, MDL_SOURCE_IS_NONPAGED_POOL,
        MDL_ALLOCATED_FIXED_SIZE, MDL_PARTIAL, MDL_IO_SPACE, MDL_WRITE_OPERATION,
        DO_BUFFERED_IO, DO_DIRECT_IO, DO_DEVICE_INITIALIZING, DO_POWER_PAGABLE,
        FILE_DEVICE_VIDEO, FILE_DEVICE_SECURE_OPEN, IO_NO_INCREMENT, IO_VIDEO_INCREMENT,
        IRP_MJ_MAXIMUM_FUNCTION,
        IRP_MJ_CREATE, IRP_MJ_CLOSE, IRP_MJ_DEVICE_CONTROL, IRP_MJ_INTERNAL_DEVICE_CONTROL,
        IRP_MJ_SHUTDOWN, IRP_MJ_CLEANUP, IRP_MJ_POWER, IRP_MJ_SYSTEM_CONTROL, IRP_MJ_PNP,
        IRP_MN_START_DEVICE, IRP_MN_QUERY_REMOVE_DEVICE, IRP_MN_REMOVE_DEVICE,
        IRP_MN_CANCEL_REMOVE_DEVICE, IRP_MN_STOP_DEVICE, IRP_MN_QUERY_STOP_DEVICE,
        IRP_MN_CANCEL_STOP_DEVICE, IRP_MN_SURPRISE_REMOVAL,
        SL_PENDING_RETURNED, SL_INVOKE_ON_CANCEL, SL_INVOKE_ON_SUCCESS, SL_INVOKE_ON_ERROR,
        METHOD_BUFFERED, METHOD_IN_DIRECT, METHOD_OUT_DIRECT, METHOD_NEITHER,
        FILE_ANY_ACCESS, FILE_READ_ACCESS, FILE_WRITE_ACCESS,
        CmResourceTypeNull, CmResourceTypePort, CmResourceTypeInterrupt, CmResourceTypeMemory,
        CmResourceTypeDma, CmResourceTypeDeviceSpecific, CmResourceTypeBusNumber,
        CmResourceShareUndetermined, CmResourceShareDeviceExclusive,
        CmResourceShareDriverExclusive, CmResourceShareShared,
        CM_RESOURCE_INTERRUPT_LEVEL_SENSITIVE, CM_RESOURCE_INTERRUPT_LATCHED,
        CM_RESOURCE_PORT_MEMORY, CM_RESOURCE_PORT_IO,
        STATUS_SUCCESS = STATUS_SUCCESS.0,
        STATUS_TIMEOUT = STATUS_TIMEOUT.0,
        STATUS_PENDING = STATUS_PENDING.0,
        STATUS_MORE_PROCESSING_REQUIRED = STATUS_MORE_PROCESSING_REQUIRED.0,
        STATUS_UNSUCCESSFUL = STATUS_UNSUCCESSFUL.0,
        STATUS_NOT_IMPLEMENTED = STATUS_NOT_IMPLEMENTED.0,
        STATUS_INVALID_DEVICE_REQUEST = STATUS_INVALID_DEVICE_REQUEST.0,
        STATUS_ACCESS_VIOLATION = STATUS_ACCESS_VIOLATION.0,
        STATUS_INVALID_PARAMETER = STATUS_INVALID_PARAMETER.0,
        STATUS_NO_MEMORY = STATUS_NO_MEMORY.0,
        STATUS_BUFFER_TOO_SMALL = STATUS_BUFFER_TOO_SMALL.0,
        STATUS_NONE_MAPPED = STATUS_NONE_MAPPED.0,
        STATUS_INSUFFICIENT_RESOURCES = STATUS_INSUFFICIENT_RESOURCES.0,
        STATUS_NOT_SUPPORTED = STATUS_NOT_SUPPORTED.0,
        STATUS_DEVICE_CONFIGURATION_ERROR = STATUS_DEVICE_CONFIGURATION_ERROR.0,
        STATUS_DEVICE_NOT_CONNECTED = STATUS_DEVICE_NOT_CONNECTED.0,
        STATUS_REVISION_MISMATCH = STATUS_REVISION_MISMATCH.0,
        STATUS_DELETE_PENDING = STATUS_DELETE_PENDING.0,
        STATUS_INVALID_DEVICE_STATE = STATUS_INVALID_DEVICE_STATE.0,
        STATUS_BUFFER_OVERFLOW = STATUS_BUFFER_OVERFLOW.0,
        STATUS_DEVICE_BUSY = STATUS_DEVICE_BUSY.0,
        STATUS_NO_SUCH_DEVICE = STATUS_NO_SUCH_DEVICE.0,
        STATUS_OBJECT_NAME_NOT_FOUND = STATUS_OBJECT_NAME_NOT_FOUND.0,
        STATUS_OBJECT_NAME_COLLISION = STATUS_OBJECT_NAME_COLLISION.0,
        STATUS_DEVICE_NOT_READY = STATUS_DEVICE_NOT_READY.0,
        STATUS_DEVICE_DOES_NOT_EXIST = STATUS_DEVICE_DOES_NOT_EXIST.0,
        STATUS_INVALID_USER_BUFFER = STATUS_INVALID_USER_BUFFER.0,
        IRP_MN_QUERY_INTERFACE, PCI_WHICHSPACE_CONFIG, PCI_WHICHSPACE_ROM, IRP_MN_QUERY_CAPABILITIES, IRP_MN_QUERY_DEVICE_RELATIONS,
        IRP_MN_SET_POWER, IRP_MN_QUERY_POWER, IRP_MJ_READ, IRP_MJ_WRITE,
    );
    c.push(Check {
        tu: wdm,
        owner: "CTL_CODE",
        what: What::Value,
        c_expr: "CTL_CODE(FILE_DEVICE_VIDEO, 0x823, METHOD_OUT_DIRECT, FILE_READ_ACCESS | FILE_WRITE_ACCESS)"
            .to_string(),
        rust: CTL_CODE(FILE_DEVICE_VIDEO, 0x823, METHOD_OUT_DIRECT, FILE_READ_ACCESS | FILE_WRITE_ACCESS) as i64,
    });
    values!(c, video;
        BUGCHECK_DATA_SIZE_RESERVED,
        NO_ERROR = NO_ERROR.0,
        ERROR_INVALID_FUNCTION = ERROR_INVALID_FUNCTION.0,
        ERROR_NOT_ENOUGH_MEMORY = ERROR_NOT_ENOUGH_MEMORY.0,
        ERROR_DEV_NOT_EXIST = ERROR_DEV_NOT_EXIST.0,
        ERROR_INVALID_PARAMETER = ERROR_INVALID_PARAMETER.0,
        ERROR_INSUFFICIENT_BUFFER = ERROR_INSUFFICIENT_BUFFER.0,
        ERROR_INVALID_NAME = ERROR_INVALID_NAME.0,
        ERROR_BUSY = ERROR_BUSY.0,
        ERROR_MORE_DATA = ERROR_MORE_DATA.0,
        WAIT_TIMEOUT = WAIT_TIMEOUT.0,
        ERROR_IO_PENDING = ERROR_IO_PENDING.0,
        ERROR_DEVICE_REINITIALIZATION_NEEDED = ERROR_DEVICE_REINITIALIZATION_NEEDED.0,
        ERROR_CONTINUE = ERROR_CONTINUE.0,
        ERROR_NO_MORE_DEVICES = ERROR_NO_MORE_DEVICES.0,
        CDE_USE_SUBSYSTEM_IDS, CDE_USE_REVISION, VIDEO_MEMORY_SPACE_MEMORY, VIDEO_MEMORY_SPACE_IO, VIDEO_MEMORY_SPACE_USER_MODE,
        VIDEO_MEMORY_SPACE_DENSE, VIDEO_MEMORY_SPACE_P6CACHE,
        SIZE_OF_NT4_VIDEO_HW_INITIALIZATION_DATA, SIZE_OF_W2K_VIDEO_HW_INITIALIZATION_DATA,
        SIZE_OF_WXP_VIDEO_HW_INITIALIZATION_DATA, SIZE_OF_NT4_VIDEO_PORT_CONFIG_INFO,
        SIZE_OF_WXP_VIDEO_PORT_CONFIG_INFO,
        EVENT_TYPE_MASK, SYNCHRONIZATION_EVENT, NOTIFICATION_EVENT, INITIAL_EVENT_STATE_MASK,
        INITIAL_EVENT_NOT_SIGNALED, INITIAL_EVENT_SIGNALED,
    );
    c
}

/// C source for `checks` (all in `tu`), and for each line the index of the check on it.
fn render(tu: Tu, checks: &[&Check]) -> (String, Vec<Option<usize>>) {
    let mut src = String::new();
    let mut lines = Vec::new();
    for line in tu.prologue().lines() {
        src.push_str(line);
        src.push('\n');
        lines.push(None);
    }
    for (i, check) in checks.iter().enumerate() {
        assert_eq!(check.tu, tu);
        writeln!(src, "{}", check.assertion()).unwrap();
        lines.push(Some(i));
    }
    (src, lines)
}

/// The compiler on `PATH`; fails (never skips) if it is not installed.
fn find_gcc() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(GCC))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{GCC} is not on PATH; this test needs it. Install it with: apt-get install mingw-w64")
        })
}

/// mingw-w64's `ddk` header directory, wherever this installation keeps it: the directory of
/// the `ddk/wdm.h` that the compiler's own dependency output names.
fn ddk_include_dir(gcc: &Path) -> PathBuf {
    let out = Command::new(gcc)
        .args(["-M", "-xc", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child
                .stdin
                .take()
                .expect("piped stdin")
                .write_all(b"#include <ddk/wdm.h>\n")?;
            child.wait_with_output()
        })
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", gcc.display()));
    let deps = String::from_utf8_lossy(&out.stdout).replace("\\\n", " ");
    deps.split_whitespace()
        .map(Path::new)
        .find(|p| p.ends_with("ddk/wdm.h"))
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| panic!("{} -M does not name ddk/wdm.h:\n{deps}", gcc.display()))
}

/// A fresh, private scratch directory under the system temp dir.
fn scratch_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "ddk-sys-layout-{tag}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

struct GccResult {
    ok: bool,
    stderr: String,
    /// Source lines (1-based) with an error.
    error_lines: Vec<usize>,
}

fn gcc_syntax_check(src: &str, tag: &str) -> GccResult {
    let gcc = find_gcc();
    let dir = scratch_dir(tag);
    let file = dir.join(format!("{tag}.c"));
    std::fs::write(&file, src).expect("write C source");
    let out = Command::new(&gcc)
        .args([
            "-std=c11",
            "-fsyntax-only",
            "-c",
            "-fno-diagnostics-color",
            "-D_WIN32_WINNT=0x0A00",
        ])
        // ntddk.h says `#include <wdm.h>`: the ddk directory itself, searched last.
        .arg("-idirafter")
        .arg(ddk_include_dir(&gcc))
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", gcc.display()));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let error_lines = error_lines(&stderr, &file);
    let _ = std::fs::remove_dir_all(&dir);
    GccResult {
        ok: out.status.success(),
        stderr,
        error_lines,
    }
}

/// Line numbers of `error:` diagnostics located in `file`.
fn error_lines(stderr: &str, file: &Path) -> Vec<usize> {
    let prefix = format!("{}:", file.display());
    let mut lines: Vec<usize> = stderr
        .lines()
        .filter(|l| l.contains(": error:"))
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter_map(|rest| rest.split(':').next()?.parse().ok())
        .collect();
    lines.sort_unstable();
    lines.dedup();
    lines
}

/// Names the checks on the failing lines, then the compiler's own output.
fn explain(checks: &[&Check], line_map: &[Option<usize>], r: &GccResult) -> String {
    let mut s = String::from("failing checks:\n");
    for &l in &r.error_lines {
        match line_map.get(l - 1).copied().flatten() {
            Some(i) => writeln!(
                s,
                "  line {l}: {} (rust says {})",
                checks[i].label(),
                checks[i].rust
            )
            .unwrap(),
            None => writeln!(s, "  line {l}: (header prologue)").unwrap(),
        }
    }
    s + "\ncompiler output:\n" + &r.stderr
}

fn checked(all: &[Check], tu: Tu) -> Vec<&Check> {
    all.iter()
        .filter(|c| c.tu == tu && c.deviation().is_none())
        .collect()
}

#[test]
#[cfg_attr(
    miri,
    ignore = "runs x86_64-w64-mingw32-gcc (Miri cannot spawn processes)"
)]
fn ddk_sys_layouts_match_mingw_headers() {
    let all = all_checks();
    let mut failures = String::new();
    for tu in Tu::ALL {
        let checks = checked(&all, tu);
        let (src, line_map) = render(tu, &checks);
        let r = gcc_syntax_check(&src, tu.name());
        if !r.ok {
            writeln!(
                failures,
                "=== {} translation unit ===\n{}",
                tu.name(),
                explain(&checks, &line_map, &r)
            )
            .unwrap();
        }
    }

    let count = |f: fn(&What) -> bool| {
        all.iter()
            .filter(|c| c.deviation().is_none() && f(&c.what))
            .count()
    };
    let types = count(|w| *w == What::Size);
    let aligns = count(|w| *w == What::Align);
    let offsets = count(|w| matches!(w, What::Offset(_)));
    let member_sizes = count(|w| matches!(w, What::MemberSize(_)));
    let values = count(|w| *w == What::Value);
    let skipped = all.iter().filter(|c| c.deviation().is_some()).count();
    println!(
        "checked against mingw-w64: {types} sizes, {aligns} alignments, {offsets} offsets, \
         {member_sizes} member sizes, {values} constant values ({} asserts); \
         {skipped} skipped by MINGW_DEVIATIONS",
        types + aligns + offsets + member_sizes + values
    );
    assert!(
        failures.is_empty(),
        "ddk-sys disagrees with mingw-w64:\n{failures}"
    );
}

/// Every entry of `MINGW_DEVIATIONS` must name something checked here, and every check it
/// skips must really fail against mingw-w64: a skip whose reason has gone away is an error.
#[test]
#[cfg_attr(
    miri,
    ignore = "runs x86_64-w64-mingw32-gcc (Miri cannot spawn processes)"
)]
fn every_mingw_deviation_is_real() {
    let all = all_checks();
    for dev in MINGW_DEVIATIONS {
        assert!(
            !dev.reason.trim().is_empty(),
            "{}: deviation without a reason",
            dev.name
        );
        for skip in dev.skip {
            let one = MingwDeviation {
                name: dev.name,
                skip: core::slice::from_ref(skip),
                reason: dev.reason,
            };
            assert!(
                all.iter().any(|c| c.skipped_by(&one)),
                "MINGW_DEVIATIONS: {} {:?} names nothing that layout_vs_mingw checks",
                dev.name,
                skip
            );
        }
    }
    for tu in Tu::ALL {
        let skipped: Vec<&Check> = all
            .iter()
            .filter(|c| c.tu == tu && c.deviation().is_some())
            .collect();
        if skipped.is_empty() {
            continue;
        }
        let (src, line_map) = render(tu, &skipped);
        let r = gcc_syntax_check(&src, &format!("{}-deviations", tu.name()));
        let stale: Vec<String> = line_map
            .iter()
            .enumerate()
            .filter_map(|(l, i)| Some((l + 1, (*i)?)))
            .filter(|(l, _)| !r.error_lines.contains(l))
            .map(|(_, i)| skipped[i].label())
            .collect();
        assert!(
            stale.is_empty(),
            "MINGW_DEVIATIONS skips checks that mingw-w64 passes (remove them): {stale:?}"
        );
    }
}

/// The check has teeth: the same source with `MDL.ByteCount` off by 4 must be rejected, naming
/// that field and nothing else.
#[test]
#[cfg_attr(
    miri,
    ignore = "runs x86_64-w64-mingw32-gcc (Miri cannot spawn processes)"
)]
fn a_wrong_offset_is_rejected() {
    let mut all = all_checks();
    let planted = all
        .iter_mut()
        .find(|c| c.owner == "MDL" && c.what == What::Offset("ByteCount".into()))
        .expect("the table checks MDL.ByteCount");
    planted.rust += 4;
    let expected = format!("MDL.ByteCount offset: rust says {}", planted.rust);
    let checks = checked(&all, Tu::Wdm);
    let (src, line_map) = render(Tu::Wdm, &checks);
    let r = gcc_syntax_check(&src, "wdm-planted");
    assert!(!r.ok, "gcc accepted a wrong MDL.ByteCount offset");
    assert!(
        r.stderr.contains(&expected),
        "gcc output does not name the field:\n{}",
        r.stderr
    );
    let failing: Vec<String> = r
        .error_lines
        .iter()
        .filter_map(|&l| line_map[l - 1])
        .map(|i| checks[i].label())
        .collect();
    assert_eq!(failing, ["MDL.ByteCount offset"], "{}", r.stderr);
}
