//! The export tables of the simulated `ntoskrnl.exe` and `hal.dll`: what a PE image's imports
//! from those modules bind to, and what `MmGetSystemRoutineAddress` finds.
//!
//! Each routine carries the Windows version that first exported it, so a machine that plays an
//! older Windows ([`MachineConfig::os`](crate::MachineConfig::os)) lacks the newer ones, as
//! that Windows would: its loader refuses an image importing one, and the run-time lookup
//! returns NULL.

use crate::version::OsVersion;

/// Declares each routine by its C name (only the address is taken, never called through these
/// declarations: the definitions, with their real prototypes, are elsewhere in this crate).
macro_rules! export_table {
    ($($module:literal $name:ident ($major:literal, $minor:literal, $build:literal);)*) => {
        mod symbols {
            #[ddk_sys::ntapi]
            extern "ntapi" {
                $(pub fn $name();)*
            }
        }

        /// (module, routine, first Windows version, address) for every routine.
        type Entry = (&'static str, &'static str, OsVersion, fn() -> usize);
        static TABLE: &[Entry] = &[$(
                (
                    $module,
                    stringify!($name),
                    OsVersion::new($major, $minor, $build),
                    || symbols::$name as *const () as usize,
                ),
            )*];

        fn table() -> &'static [Entry] {
            TABLE
        }
    };
}

export_table! {
    "ntoskrnl.exe" ExAllocatePool2 (10, 0, 19041);
    "ntoskrnl.exe" ExAllocatePoolWithTag (5, 0, 2195);
    "ntoskrnl.exe" ExFreePoolWithTag (5, 0, 2195);
    "ntoskrnl.exe" IoAllocateDriverObjectExtension (5, 0, 2195);
    "ntoskrnl.exe" IoAllocateErrorLogEntry (5, 0, 2195);
    "ntoskrnl.exe" IoAllocateIrp (5, 0, 2195);
    "ntoskrnl.exe" IoAllocateMdl (5, 0, 2195);
    "ntoskrnl.exe" IoAttachDeviceToDeviceStack (5, 0, 2195);
    "ntoskrnl.exe" IoConnectInterrupt (5, 0, 2195);
    "ntoskrnl.exe" IoCreateDevice (5, 0, 2195);
    "ntoskrnl.exe" IoDeleteDevice (5, 0, 2195);
    "ntoskrnl.exe" IoDetachDevice (5, 0, 2195);
    "ntoskrnl.exe" IoDisconnectInterrupt (5, 0, 2195);
    "ntoskrnl.exe" IoFreeIrp (5, 0, 2195);
    "ntoskrnl.exe" IoFreeMdl (5, 0, 2195);
    "ntoskrnl.exe" IoGetCurrentProcess (5, 0, 2195);
    "ntoskrnl.exe" IoGetDmaAdapter (5, 0, 2195);
    "ntoskrnl.exe" IoGetDriverObjectExtension (5, 0, 2195);
    "ntoskrnl.exe" IoInitializeTimer (5, 0, 2195);
    "ntoskrnl.exe" IoInvalidateDeviceRelations (5, 0, 2195);
    "ntoskrnl.exe" IoOpenDeviceRegistryKey (5, 0, 2195);
    "ntoskrnl.exe" IoStartTimer (5, 0, 2195);
    "ntoskrnl.exe" IoStopTimer (5, 0, 2195);
    "ntoskrnl.exe" IoWriteErrorLogEntry (5, 0, 2195);
    "ntoskrnl.exe" IofCallDriver (5, 0, 2195);
    "ntoskrnl.exe" IofCompleteRequest (5, 0, 2195);
    "ntoskrnl.exe" KeAcquireSpinLockAtDpcLevel (5, 0, 2195);
    "ntoskrnl.exe" KeAcquireSpinLockRaiseToDpc (5, 2, 3790);
    "ntoskrnl.exe" KeBugCheckEx (5, 0, 2195);
    "ntoskrnl.exe" KeClearEvent (5, 0, 2195);
    "ntoskrnl.exe" KeDeregisterBugCheckReasonCallback (5, 2, 3790);
    "ntoskrnl.exe" KeFlushQueuedDpcs (5, 1, 2600);
    "ntoskrnl.exe" KeInitializeDpc (5, 0, 2195);
    "ntoskrnl.exe" KeInitializeEvent (5, 0, 2195);
    "ntoskrnl.exe" KeInsertQueueDpc (5, 0, 2195);
    "ntoskrnl.exe" KeReadStateEvent (5, 0, 2195);
    "ntoskrnl.exe" KeRegisterBugCheckReasonCallback (5, 2, 3790);
    "ntoskrnl.exe" KeReleaseSpinLock (5, 2, 3790);
    "ntoskrnl.exe" KeReleaseSpinLockFromDpcLevel (5, 0, 2195);
    "ntoskrnl.exe" KeRemoveQueueDpc (5, 0, 2195);
    "ntoskrnl.exe" KeSetEvent (5, 0, 2195);
    "ntoskrnl.exe" KeSynchronizeExecution (5, 0, 2195);
    "ntoskrnl.exe" KeWaitForSingleObject (5, 0, 2195);
    "ntoskrnl.exe" MmAllocateContiguousMemorySpecifyCache (5, 0, 2195);
    "ntoskrnl.exe" MmBuildMdlForNonPagedPool (5, 0, 2195);
    "ntoskrnl.exe" MmFreeContiguousMemory (5, 0, 2195);
    "ntoskrnl.exe" MmGetPhysicalAddress (5, 0, 2195);
    "ntoskrnl.exe" MmGetSystemRoutineAddress (5, 0, 2195);
    "ntoskrnl.exe" MmMapIoSpace (5, 0, 2195);
    "ntoskrnl.exe" MmMapLockedPagesSpecifyCache (5, 0, 2195);
    "ntoskrnl.exe" MmProbeAndLockPages (5, 0, 2195);
    "ntoskrnl.exe" MmUnlockPages (5, 0, 2195);
    "ntoskrnl.exe" MmUnmapIoSpace (5, 0, 2195);
    "ntoskrnl.exe" MmUnmapLockedPages (5, 0, 2195);
    "ntoskrnl.exe" ObfDereferenceObject (5, 0, 2195);
    "ntoskrnl.exe" ObfReferenceObject (5, 0, 2195);
    "ntoskrnl.exe" PoCallDriver (5, 0, 2195);
    "ntoskrnl.exe" PoRequestPowerIrp (5, 0, 2195);
    "ntoskrnl.exe" PoSetPowerState (5, 0, 2195);
    "ntoskrnl.exe" PoStartNextPowerIrp (5, 0, 2195);
    "ntoskrnl.exe" PsGetCurrentProcess (5, 0, 2195);
    "ntoskrnl.exe" RtlGetVersion (5, 0, 2195);
    "ntoskrnl.exe" ZwClose (5, 0, 2195);
    "ntoskrnl.exe" ZwCreateFile (5, 0, 2195);
    "ntoskrnl.exe" ZwCreateKey (5, 0, 2195);
    "ntoskrnl.exe" ZwFlushKey (5, 0, 2195);
    "ntoskrnl.exe" ZwOpenKey (5, 0, 2195);
    "ntoskrnl.exe" ZwQueryInformationFile (5, 0, 2195);
    "ntoskrnl.exe" ZwQueryValueKey (5, 0, 2195);
    "ntoskrnl.exe" ZwReadFile (5, 0, 2195);
    "ntoskrnl.exe" ZwSetValueKey (5, 0, 2195);
    "hal.dll" HalGetBusDataByOffset (5, 0, 2195);
    "hal.dll" KeQueryPerformanceCounter (5, 0, 2195);
    "hal.dll" KeStallExecutionProcessor (5, 0, 2195);
    "hal.dll" x86BiosAllocateBuffer (6, 0, 6000);
    "hal.dll" x86BiosCall (6, 0, 6000);
    "hal.dll" x86BiosFreeBuffer (6, 0, 6000);
    "hal.dll" x86BiosReadMemory (6, 0, 6000);
    "hal.dll" x86BiosWriteMemory (6, 0, 6000);
}

/// The address of `module!name` on a machine that is `os`, or `None` if that Windows does not
/// export it (or ntsim does not simulate it). Module names compare case-insensitively, as the
/// Windows loader compares them.
pub fn lookup(module: &str, name: &str, os: OsVersion) -> Option<usize> {
    table()
        .iter()
        .find(|(m, n, since, _)| m.eq_ignore_ascii_case(module) && *n == name && *since <= os)
        .map(|(_, _, _, address)| address())
}

/// Like [`lookup`] in either module: `MmGetSystemRoutineAddress` searches the kernel and the
/// HAL.
pub fn lookup_any(name: &str, os: OsVersion) -> Option<usize> {
    lookup("ntoskrnl.exe", name, os).or_else(|| lookup("hal.dll", name, os))
}

/// Every (module, routine) in the tables.
pub fn names() -> impl Iterator<Item = (&'static str, &'static str)> {
    table().iter().map(|(m, n, _, _)| (*m, *n))
}
