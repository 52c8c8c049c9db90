//! `extern "ntapi"` declarations of the kernel and HAL routines the workspace calls.
//!
//! Windows: imported with `raw-dylib` (`+verbatim`, so the import names `ntoskrnl.exe` and
//! `hal.dll` exactly, not `ntoskrnl.exe.dll`). Other hosts: defined by `ntsim`.
//!
//! Only routines that the NT 5.2 kernel (Windows XP x64 / Server 2003 x64) already exports are
//! declared here, so a static import can never keep the driver from loading on an older
//! Windows. Newer routines are function-pointer types (`PFN_*` below), found at run time with
//! `MmGetSystemRoutineAddress`; the table in `tests/nt_routines.txt` holds every import
//! against the version that introduced it.

use crate::basic::*;
use crate::dma::{DEVICE_DESCRIPTION, DMA_ADAPTER};
use crate::io::*;
use crate::irql::KIRQL;
use crate::mdl::MDL;
use crate::registry::*;
use crate::status::NTSTATUS;
use crate::video::BUS_DATA_TYPE;

#[cfg_attr(
    target_os = "windows",
    link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")
)]
#[ddk_sys::ntapi]
extern "ntapi" {
    // Pool.
    pub fn ExAllocatePoolWithTag(PoolType: POOL_TYPE, NumberOfBytes: SIZE_T, Tag: ULONG) -> PVOID;
    pub fn ExFreePoolWithTag(P: PVOID, Tag: ULONG);

    // Memory descriptor lists and physical memory.
    pub fn IoAllocateMdl(
        VirtualAddress: PVOID,
        Length: ULONG,
        SecondaryBuffer: BOOLEAN,
        ChargeQuota: BOOLEAN,
        Irp: *mut IRP,
    ) -> *mut MDL;
    pub fn IoFreeMdl(Mdl: *mut MDL);
    /// Raises an exception on a bad range: call it only under an exception guard.
    pub fn MmProbeAndLockPages(
        MemoryDescriptorList: *mut MDL,
        AccessMode: KPROCESSOR_MODE,
        Operation: LOCK_OPERATION,
    );
    pub fn MmUnlockPages(MemoryDescriptorList: *mut MDL);
    pub fn MmBuildMdlForNonPagedPool(MemoryDescriptorList: *mut MDL);
    pub fn MmMapLockedPagesSpecifyCache(
        MemoryDescriptorList: *mut MDL,
        AccessMode: KPROCESSOR_MODE,
        CacheType: MEMORY_CACHING_TYPE,
        RequestedAddress: PVOID,
        BugCheckOnFailure: ULONG,
        Priority: MM_PAGE_PRIORITY,
    ) -> PVOID;
    pub fn MmUnmapLockedPages(BaseAddress: PVOID, MemoryDescriptorList: *mut MDL);
    pub fn MmGetPhysicalAddress(BaseAddress: PVOID) -> PHYSICAL_ADDRESS;
    pub fn MmAllocateContiguousMemorySpecifyCache(
        NumberOfBytes: SIZE_T,
        LowestAcceptableAddress: PHYSICAL_ADDRESS,
        HighestAcceptableAddress: PHYSICAL_ADDRESS,
        BoundaryAddressMultiple: PHYSICAL_ADDRESS,
        CacheType: MEMORY_CACHING_TYPE,
    ) -> PVOID;
    pub fn MmFreeContiguousMemory(BaseAddress: PVOID);

    // DMA.
    pub fn IoGetDmaAdapter(
        PhysicalDeviceObject: *mut DEVICE_OBJECT,
        DeviceDescription: *mut DEVICE_DESCRIPTION,
        NumberOfMapRegisters: *mut ULONG,
    ) -> *mut DMA_ADAPTER;

    // Deferred procedure calls.
    pub fn KeInitializeDpc(
        Dpc: *mut KDPC,
        DeferredRoutine: PKDEFERRED_ROUTINE,
        DeferredContext: PVOID,
    );
    pub fn KeInsertQueueDpc(
        Dpc: *mut KDPC,
        SystemArgument1: PVOID,
        SystemArgument2: PVOID,
    ) -> BOOLEAN;
    pub fn KeRemoveQueueDpc(Dpc: *mut KDPC) -> BOOLEAN;

    // Spin locks (`KeAcquireSpinLockRaiseToDpc` and `KeReleaseSpinLock` below).
    pub fn KeAcquireSpinLockAtDpcLevel(SpinLock: *mut KSPIN_LOCK);
    pub fn KeReleaseSpinLockFromDpcLevel(SpinLock: *mut KSPIN_LOCK);

    // Events.
    pub fn KeInitializeEvent(Event: *mut KEVENT, Type: EVENT_TYPE, State: BOOLEAN);
    pub fn KeSetEvent(Event: *mut KEVENT, Increment: LONG, Wait: BOOLEAN) -> LONG;
    pub fn KeClearEvent(Event: *mut KEVENT);
    pub fn KeReadStateEvent(Event: *mut KEVENT) -> LONG;
    pub fn KeWaitForSingleObject(
        Object: PVOID,
        WaitReason: ULONG,
        WaitMode: KPROCESSOR_MODE,
        Alertable: BOOLEAN,
        Timeout: *mut LARGE_INTEGER,
    ) -> NTSTATUS;

    // I/O manager: driver and device objects, IRPs.
    pub fn IoCreateDevice(
        DriverObject: *mut DRIVER_OBJECT,
        DeviceExtensionSize: ULONG,
        DeviceName: PUNICODE_STRING,
        DeviceType: ULONG,
        DeviceCharacteristics: ULONG,
        Exclusive: BOOLEAN,
        DeviceObject: *mut *mut DEVICE_OBJECT,
    ) -> NTSTATUS;
    pub fn IoDeleteDevice(DeviceObject: *mut DEVICE_OBJECT);
    pub fn IoAttachDeviceToDeviceStack(
        SourceDevice: *mut DEVICE_OBJECT,
        TargetDevice: *mut DEVICE_OBJECT,
    ) -> *mut DEVICE_OBJECT;
    pub fn IoDetachDevice(TargetDevice: *mut DEVICE_OBJECT);
    pub fn IoAllocateIrp(StackSize: CCHAR, ChargeQuota: BOOLEAN) -> *mut IRP;
    pub fn IoFreeIrp(Irp: *mut IRP);
    pub fn IoAllocateDriverObjectExtension(
        DriverObject: *mut DRIVER_OBJECT,
        ClientIdentificationAddress: PVOID,
        DriverObjectExtensionSize: ULONG,
        DriverObjectExtension: *mut PVOID,
    ) -> NTSTATUS;
    pub fn IoGetDriverObjectExtension(
        DriverObject: *mut DRIVER_OBJECT,
        ClientIdentificationAddress: PVOID,
    ) -> PVOID;

    // Device memory.
    pub fn MmMapIoSpace(
        PhysicalAddress: PHYSICAL_ADDRESS,
        NumberOfBytes: SIZE_T,
        CacheType: MEMORY_CACHING_TYPE,
    ) -> PVOID;
    pub fn MmUnmapIoSpace(BaseAddress: PVOID, NumberOfBytes: SIZE_T);

    // Processes.
    /// The process whose context the caller runs in (the client's during its own requests).
    pub fn PsGetCurrentProcess() -> PEPROCESS;
    /// What `wdm.h` maps `PsGetCurrentProcess` to; the same answer.
    pub fn IoGetCurrentProcess() -> PEPROCESS;

    pub fn KeFlushQueuedDpcs();

    // The system error log (at or below DISPATCH_LEVEL).
    pub fn IoAllocateErrorLogEntry(IoObject: PVOID, EntrySize: UCHAR) -> PVOID;
    pub fn IoWriteErrorLogEntry(ElEntry: PVOID);

    // I/O timers (once a second, DISPATCH_LEVEL).
    pub fn IoInitializeTimer(
        DeviceObject: *mut DEVICE_OBJECT,
        TimerRoutine: PIO_TIMER_ROUTINE,
        Context: PVOID,
    ) -> NTSTATUS;
    pub fn IoStartTimer(DeviceObject: *mut DEVICE_OBJECT);
    pub fn IoStopTimer(DeviceObject: *mut DEVICE_OBJECT);

    // Interrupts.
    pub fn IoConnectInterrupt(
        InterruptObject: *mut *mut KINTERRUPT,
        ServiceRoutine: PKSERVICE_ROUTINE,
        ServiceContext: PVOID,
        SpinLock: *mut KSPIN_LOCK,
        Vector: ULONG,
        Irql: KIRQL,
        SynchronizeIrql: KIRQL,
        InterruptMode: KINTERRUPT_MODE,
        ShareVector: BOOLEAN,
        ProcessorEnableMask: KAFFINITY,
        FloatingSave: BOOLEAN,
    ) -> NTSTATUS;
    pub fn IoDisconnectInterrupt(InterruptObject: *mut KINTERRUPT);
    pub fn KeSynchronizeExecution(
        Interrupt: *mut KINTERRUPT,
        SynchronizeRoutine: PKSYNCHRONIZE_ROUTINE,
        SynchronizeContext: PVOID,
    ) -> BOOLEAN;

    // The registry and files (PASSIVE_LEVEL only). Handles are closed with `ZwClose`.
    pub fn IoOpenDeviceRegistryKey(
        DeviceObject: *mut DEVICE_OBJECT,
        DevInstKeyType: ULONG,
        DesiredAccess: ACCESS_MASK,
        DeviceRegKey: *mut HANDLE,
    ) -> NTSTATUS;
    pub fn ZwCreateKey(
        KeyHandle: *mut HANDLE,
        DesiredAccess: ACCESS_MASK,
        ObjectAttributes: POBJECT_ATTRIBUTES,
        TitleIndex: ULONG,
        Class: PUNICODE_STRING,
        CreateOptions: ULONG,
        Disposition: *mut ULONG,
    ) -> NTSTATUS;
    pub fn ZwOpenKey(
        KeyHandle: *mut HANDLE,
        DesiredAccess: ACCESS_MASK,
        ObjectAttributes: POBJECT_ATTRIBUTES,
    ) -> NTSTATUS;
    pub fn ZwQueryValueKey(
        KeyHandle: HANDLE,
        ValueName: PUNICODE_STRING,
        KeyValueInformationClass: KEY_VALUE_INFORMATION_CLASS,
        KeyValueInformation: PVOID,
        Length: ULONG,
        ResultLength: *mut ULONG,
    ) -> NTSTATUS;
    pub fn ZwSetValueKey(
        KeyHandle: HANDLE,
        ValueName: PUNICODE_STRING,
        TitleIndex: ULONG,
        Type: ULONG,
        Data: PVOID,
        DataSize: ULONG,
    ) -> NTSTATUS;
    pub fn ZwFlushKey(KeyHandle: HANDLE) -> NTSTATUS;
    pub fn ZwCreateFile(
        FileHandle: *mut HANDLE,
        DesiredAccess: ACCESS_MASK,
        ObjectAttributes: POBJECT_ATTRIBUTES,
        IoStatusBlock: *mut IO_STATUS_BLOCK,
        AllocationSize: *mut LARGE_INTEGER,
        FileAttributes: ULONG,
        ShareAccess: ULONG,
        CreateDisposition: ULONG,
        CreateOptions: ULONG,
        EaBuffer: PVOID,
        EaLength: ULONG,
    ) -> NTSTATUS;
    pub fn ZwReadFile(
        FileHandle: HANDLE,
        Event: HANDLE,
        ApcRoutine: PVOID,
        ApcContext: PVOID,
        IoStatusBlock: *mut IO_STATUS_BLOCK,
        Buffer: PVOID,
        Length: ULONG,
        ByteOffset: *mut LARGE_INTEGER,
        Key: *mut ULONG,
    ) -> NTSTATUS;
    pub fn ZwQueryInformationFile(
        FileHandle: HANDLE,
        IoStatusBlock: *mut IO_STATUS_BLOCK,
        FileInformation: PVOID,
        Length: ULONG,
        FileInformationClass: FILE_INFORMATION_CLASS,
    ) -> NTSTATUS;
    pub fn ZwClose(Handle: HANDLE) -> NTSTATUS;

    // What the running kernel is and offers.
    pub fn RtlGetVersion(lpVersionInformation: PRTL_OSVERSIONINFOW) -> NTSTATUS;
    /// PASSIVE_LEVEL only. NULL when the kernel or HAL does not export `SystemRoutineName`.
    pub fn MmGetSystemRoutineAddress(SystemRoutineName: PUNICODE_STRING) -> PVOID;

    /// Any IRQL. TRUE when registered (FALSE if `CallbackRecord` is already registered or the
    /// kernel does not know `Reason`).
    pub fn KeRegisterBugCheckReasonCallback(
        CallbackRecord: PKBUGCHECK_REASON_CALLBACK_RECORD,
        CallbackRoutine: PKBUGCHECK_REASON_CALLBACK_ROUTINE,
        Reason: KBUGCHECK_CALLBACK_REASON,
        Component: PUCHAR,
    ) -> BOOLEAN;
    /// Any IRQL. FALSE if `CallbackRecord` is not registered.
    pub fn KeDeregisterBugCheckReasonCallback(
        CallbackRecord: PKBUGCHECK_REASON_CALLBACK_RECORD,
    ) -> BOOLEAN;

    pub fn KeBugCheckEx(
        BugCheckCode: ULONG,
        BugCheckParameter1: ULONG_PTR,
        BugCheckParameter2: ULONG_PTR,
        BugCheckParameter3: ULONG_PTR,
        BugCheckParameter4: ULONG_PTR,
    ) -> !;
}

// The FASTCALL routines of `ntoskrnl.exe` (`IofCallDriver` and `IofCompleteRequest` are what
// `IoCallDriver` and `IoCompleteRequest` expand to).
#[cfg_attr(
    target_os = "windows",
    link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")
)]
#[ddk_sys::ntapi]
extern "ntapi-fastcall" {
    pub fn IofCallDriver(DeviceObject: *mut DEVICE_OBJECT, Irp: *mut IRP) -> NTSTATUS;
    pub fn IofCompleteRequest(Irp: *mut IRP, PriorityBoost: CCHAR);
}

// Spin locks. x64 `wdm.h` makes `KeAcquireSpinLock` a macro over the kernel's
// `KeAcquireSpinLockRaiseToDpc`; x86 `wdm.h` makes both macros over the HAL's FASTCALL
// `KfAcquireSpinLock`/`KfReleaseSpinLock` (the x86 kernel exports no
// `KeAcquireSpinLockRaiseToDpc`).
#[cfg(not(all(target_os = "windows", target_arch = "x86")))]
#[cfg_attr(
    target_os = "windows",
    link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")
)]
#[ddk_sys::ntapi]
extern "ntapi" {
    pub fn KeAcquireSpinLockRaiseToDpc(SpinLock: *mut KSPIN_LOCK) -> KIRQL;
    pub fn KeReleaseSpinLock(SpinLock: *mut KSPIN_LOCK, NewIrql: KIRQL);
}

#[cfg(all(target_os = "windows", target_arch = "x86"))]
#[link(name = "hal.dll", kind = "raw-dylib", modifiers = "+verbatim")]
#[ddk_sys::ntapi]
extern "ntapi-fastcall" {
    fn KfAcquireSpinLock(SpinLock: *mut KSPIN_LOCK) -> KIRQL;
    fn KfReleaseSpinLock(SpinLock: *mut KSPIN_LOCK, NewIrql: KIRQL);
}

/// x86: `KfAcquireSpinLock`, as `wdm.h`'s macro.
///
/// # Safety
/// As `KeAcquireSpinLockRaiseToDpc`: `SpinLock` initialised, caller at or below DISPATCH_LEVEL.
#[cfg(all(target_os = "windows", target_arch = "x86"))]
#[inline]
pub unsafe fn KeAcquireSpinLockRaiseToDpc(SpinLock: *mut KSPIN_LOCK) -> KIRQL {
    // SAFETY: forwarded contract.
    unsafe { KfAcquireSpinLock(SpinLock) }
}

/// x86: `KfReleaseSpinLock`, as `wdm.h`'s macro.
///
/// # Safety
/// As `KeReleaseSpinLock`: the lock held by this processor, `NewIrql` what the acquire returned.
#[cfg(all(target_os = "windows", target_arch = "x86"))]
#[inline]
pub unsafe fn KeReleaseSpinLock(SpinLock: *mut KSPIN_LOCK, NewIrql: KIRQL) {
    // SAFETY: forwarded contract.
    unsafe { KfReleaseSpinLock(SpinLock, NewIrql) }
}

#[cfg_attr(
    target_os = "windows",
    link(name = "hal.dll", kind = "raw-dylib", modifiers = "+verbatim")
)]
#[ddk_sys::ntapi]
extern "ntapi" {
    pub fn KeStallExecutionProcessor(MicroSeconds: ULONG);
    /// The HAL's counter; `PerformanceFrequency` (optional) receives its ticks per second.
    pub fn KeQueryPerformanceCounter(PerformanceFrequency: *mut LARGE_INTEGER) -> LARGE_INTEGER;
}

#[ddk_sys::ntapi]
extern "ntapi" {
    /// The project's exception guard around `MmProbeAndLockPages`.
    ///
    /// Windows: a small C function of this project (compiled by clang for the msvc target and
    /// linked statically) that calls `MmProbeAndLockPages` inside `__try`/`__except`. Other
    /// hosts: defined by `ntsim`. Returns STATUS_SUCCESS with the pages locked, or the exception
    /// code (STATUS_ACCESS_VIOLATION for a bad range) with the MDL left unlocked.
    pub fn VprtProbeAndLockPages(
        Mdl: *mut MDL,
        AccessMode: KPROCESSOR_MODE,
        Operation: LOCK_OPERATION,
    ) -> NTSTATUS;

    /// The project's exception guard around `MmMapLockedPagesSpecifyCache(Mdl, UserMode,
    /// CacheType, NULL, FALSE, Priority)`, which raises an exception when the pages cannot be
    /// mapped into the current process.
    ///
    /// Windows: C in the port (`videoprt-rs/csrc/probe_guard.c`, `__try`/`__except`), like
    /// `VprtProbeAndLockPages`. Other hosts:
    /// defined by `ntsim`. Returns STATUS_SUCCESS with the user address in `*UserVa`, or the
    /// exception code with `*UserVa` NULL.
    pub fn VprtMapLockedPagesUser(
        Mdl: *mut MDL,
        CacheType: MEMORY_CACHING_TYPE,
        Priority: MM_PAGE_PRIORITY,
        UserVa: *mut PVOID,
    ) -> NTSTATUS;
}

/// `ExAllocatePool2` (Windows 10 version 2004): never imported statically; see
/// `MmGetSystemRoutineAddress`.
#[ddk_sys::ntapi]
pub type PFN_ExAllocatePool2 =
    unsafe extern "ntapi" fn(Flags: POOL_FLAGS, NumberOfBytes: SIZE_T, Tag: ULONG) -> PVOID;

/// `HalGetBusDataByOffset` (`ntddk.h`): configuration space by bus and slot. Looked up at run
/// time, since not every NT kernel's HAL exports it.
#[ddk_sys::ntapi]
pub type PFN_HalGetBusDataByOffset = unsafe extern "ntapi" fn(
    BusDataType: BUS_DATA_TYPE,
    BusNumber: ULONG,
    SlotNumber: ULONG,
    Buffer: PVOID,
    Offset: ULONG,
    Length: ULONG,
) -> ULONG;

/// `KeInitializeSpinLock` is inline in `wdm.h`: a spin lock starts as zero.
///
/// # Safety
/// `lock` must be valid for writes and not held.
#[inline]
pub unsafe fn KeInitializeSpinLock(lock: *mut KSPIN_LOCK) {
    // SAFETY: the caller guarantees `lock` is valid for writes.
    unsafe { lock.write(0) }
}

/// `ExFreePool`: a macro over `ExFreePoolWithTag(P, 0)`.
///
/// # Safety
/// `p` must come from the pool allocator and not have been freed.
#[inline]
pub unsafe fn ExFreePool(p: PVOID) {
    // SAFETY: forwarded contract.
    unsafe { ExFreePoolWithTag(p, 0) }
}
