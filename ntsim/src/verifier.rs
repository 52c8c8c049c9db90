//! The verifier's vocabulary: [`Violation`] (a bug check that did not stop the machine), the bug
//! check codes ntsim uses, and [`LeakReport`].
//!
//! Codes are the documented Windows ones where a documented code fits (0xE6 for DMA, 0xC2 for
//! pool, 0x9/0xA for IRQL, 0xF/0x10 for spin locks). Where none fits, ntsim uses its own bug
//! check [`bugcheck::NTSIM_CHECK`] with the subcodes in [`ntsim_code`]; those are *not* Windows
//! codes and a real machine would report such a misuse differently (or not at all).

use core::fmt;

/// Bug check codes.
pub mod bugcheck {
    /// `IRQL_NOT_GREATER_OR_EQUAL`: `KeRaiseIrql` to a lower level.
    pub const IRQL_NOT_GREATER_OR_EQUAL: u32 = 0x09;
    /// `IRQL_NOT_LESS_OR_EQUAL`: `KeLowerIrql` to a higher level, or a routine called above its
    /// maximum IRQL outside the HAL DMA interface.
    pub const IRQL_NOT_LESS_OR_EQUAL: u32 = 0x0A;
    /// `SPIN_LOCK_ALREADY_OWNED`: recursive acquisition on one processor.
    pub const SPIN_LOCK_ALREADY_OWNED: u32 = 0x0F;
    /// `SPIN_LOCK_NOT_OWNED`: release of a lock the processor does not hold.
    pub const SPIN_LOCK_NOT_OWNED: u32 = 0x10;
    /// `BAD_POOL_CALLER`; P1 is one of [`super::pool_code`].
    pub const BAD_POOL_CALLER: u32 = 0xC2;
    /// `IRQL_UNEXPECTED_VALUE`: a DPC routine returned at another IRQL than it was called at.
    pub const IRQL_UNEXPECTED_VALUE: u32 = 0xC8;
    /// `DRIVER_VERIFIER_DMA_VIOLATION`; P1 is one of [`super::dma_code`].
    pub const DRIVER_VERIFIER_DMA_VIOLATION: u32 = 0xE6;
    /// ntsim's own bug check ("NSIM"); P1 is one of [`super::ntsim_code`].
    pub const NTSIM_CHECK: u32 = 0x4E53_494D;
    /// `NO_MORE_IRP_STACK_LOCATIONS`: `IofCallDriver` with no stack location left. P1 IRP.
    pub const NO_MORE_IRP_STACK_LOCATIONS: u32 = 0x35;
    /// `MULTIPLE_IRP_COMPLETE_REQUESTS`: an IRP completed twice (or one ntsim never sent).
    /// P1 the IRP.
    pub const MULTIPLE_IRP_COMPLETE_REQUESTS: u32 = 0x44;
    /// A violation a simulated device model detected ("NSDV"); P1 is the model's own code.
    pub const DEVICE_MODEL_CHECK: u32 = 0x4E53_4456;
}

/// `BAD_POOL_CALLER` (0xC2) parameter 1 values ntsim reports.
pub mod pool_code {
    /// Freeing pool that was already freed. P2 address, P3 serial of the allocation.
    pub const DOUBLE_FREE: u32 = 0x07;
    /// Allocation at an IRQL the pool type does not allow. P2 IRQL, P3 pool type, P4 size.
    pub const ALLOCATE_BAD_IRQL: u32 = 0x08;
    /// Free above DISPATCH_LEVEL. P2 IRQL, P3 address.
    pub const FREE_BAD_IRQL: u32 = 0x09;
    /// Free with a tag that does not match the allocation. P2 address, P3 tag passed, P4 tag
    /// of the allocation.
    pub const WRONG_TAG: u32 = 0x0A;
    /// Free of an address that is not the start of a live pool block. P2 address.
    pub const INVALID_ADDRESS: u32 = 0x46;
    /// `ExAllocatePool2` with a zero tag. P2 flags, P3 size.
    pub const ZERO_TAG: u32 = 0x9B;
}

/// `DRIVER_VERIFIER_DMA_VIOLATION` (0xE6) parameter 1 values ntsim reports.
///
/// Not reported: 0x09 (adapter put with map registers outstanding), because in ntsim map
/// registers are only ever held by scatter/gather lists (MapTransfer is not simulated), which
/// 0x0A already reports.
pub mod dma_code {
    /// Too many common buffers freed / FreeCommonBuffer that matches no allocation.
    pub const COMMON_BUFFER_DOUBLE_FREE: u32 = 0x03;
    /// Too many scatter/gather lists freed (put of an unknown or already put list).
    /// P2 lists allocated on the adapter, P3 lists freed including this one.
    pub const SG_LIST_DOUBLE_FREE: u32 = 0x06;
    /// Adapter released with common buffers outstanding. P2 adapter, P3 count.
    pub const ADAPTER_PUT_WITH_COMMON_BUFFERS: u32 = 0x07;
    /// Adapter released with other items outstanding (queued scatter/gather requests).
    pub const ADAPTER_PUT_WITH_CHANNELS: u32 = 0x08;
    /// Adapter released with scatter/gather lists outstanding. P2 adapter, P3 count.
    pub const ADAPTER_PUT_WITH_SG_LISTS: u32 = 0x0A;
    /// DMA on an unlocked buffer. P2 MDL.
    pub const UNLOCKED_BUFFER: u32 = 0x0E;
    /// Wrong IRQL. P2 1 = not the required IRQL, 2 = above the maximum; P3 expected, P4 current.
    pub const WRONG_IRQL: u32 = 0x13;
    /// Flush of a buffer that is not mapped. P2 MDL, P3 CurrentVa.
    pub const FLUSH_NOT_MAPPED: u32 = 0x16;
    /// Adapter used after it was released (or never came from `IoGetDmaAdapter`). P2 adapter.
    pub const ADAPTER_AFTER_PUT: u32 = 0x18;
    /// NULL `DMA_ADAPTER`.
    pub const NULL_ADAPTER: u32 = 0x19;
    /// Address passed with an MDL lies outside it. P2 VA, P3 MDL.
    pub const ADDRESS_OUTSIDE_MDL: u32 = 0x1B;
    /// Invalid DMA buffer. P2 1 = VA before the MDL, 2 = VA after the MDL; P3 VA, P4 MDL.
    pub const INVALID_DMA_BUFFER: u32 = 0x1F;
    /// Zero-length transfer.
    pub const ZERO_LENGTH: u32 = 0x21;
    /// Buffer too small for the requested length. P2 bytes past the end of the MDL.
    pub const BUFFER_TOO_SMALL: u32 = 0x24;
    /// Unknown `DEVICE_DESCRIPTION` version. P2 version.
    pub const UNKNOWN_DESCRIPTION_VERSION: u32 = 0x25;
    /// IOMMU fault. P2 device object, P3 bus address, P4 [`super::iommu_fault`].
    pub const IOMMU_FAULT: u32 = 0x26;
}

/// Parameter 4 of an IOMMU fault (0xE6/0x26).
pub mod iommu_fault {
    /// The address is not mapped for any adapter of the device right now.
    pub const NOT_MAPPED: u64 = 1;
    /// The device wrote into a mapping that only allows device reads (a to-device transfer).
    pub const WRITE_TO_READ_ONLY: u64 = 2;
}

/// ntsim's own subcodes (bug check [`bugcheck::NTSIM_CHECK`]). Not Windows codes.
pub mod ntsim_code {
    /// A routine or `DMA_OPERATIONS` entry ntsim does not simulate was called.
    pub const NOT_IMPLEMENTED: u32 = 1;
    /// `MmProbeAndLockPages` called directly on a bad range: on Windows it raises an exception,
    /// which the host cannot; use the SEH guard `VprtProbeAndLockPages`. P2 MDL, P3 VA.
    pub const UNGUARDED_PROBE: u32 = 2;
    /// `KeWaitForSingleObject` with no timeout on an event nobody can signal any more.
    pub const WAIT_FOREVER: u32 = 3;
    /// MDL misuse: freeing a locked MDL, locking twice, unlocking an unlocked MDL, unknown MDL.
    /// P2 MDL.
    pub const MDL_MISUSE: u32 = 4;
    /// `PutScatterGatherList`/`FlushAdapterBuffers` with the opposite `WriteToDevice` from the
    /// Get. Windows uses the stored direction silently; ntsim reports it and does the same.
    /// P2 list, P3 direction passed.
    pub const DIRECTION_MISMATCH: u32 = 5;
    /// `IoGetDmaAdapter` with a device object that is not a PDO of this machine. P2 object.
    pub const NOT_A_PDO: u32 = 6;
    /// Memory freed while a DMA mapping still points at it. P2 address.
    pub const FREED_UNDER_DMA: u32 = 7;
    /// An address or frame the machine does not know (MDL PFN array, contiguous free, ...).
    pub const BAD_ADDRESS: u32 = 8;
    /// A thread left the machine (its enter guard dropped) above PASSIVE_LEVEL. P2 IRQL.
    pub const LEFT_AT_RAISED_IRQL: u32 = 9;
    /// A register or port access that no device decodes and no memory backs (an unmapped or
    /// stale `MmMapIoSpace` base, a port no BAR claims). Reads return all ones, writes are
    /// dropped. P2 address, P3 access size.
    pub const UNMAPPED_REGISTER: u32 = 10;
    /// I/O manager or PnP misuse: a device object deleted while attached, an AddDevice that
    /// attached nothing, a REMOVE that left the stack attached, a bad interrupt object, a
    /// driver unloaded with devices. P2 the object.
    pub const IO_MISUSE: u32 = 11;
    /// A driver completed a buffered IOCTL with `Information` larger than the output buffer;
    /// the copy is clamped. P2 Information, P3 output length.
    pub const INFORMATION_TOO_LARGE: u32 = 12;
    /// An interrupt line stayed asserted through 1,000 ISR runs that all claimed it; the
    /// line is masked until the device lowers it. P2 vector.
    pub const INTERRUPT_STORM: u32 = 13;
    /// A request the simulated Windows version does not know: a pool type introduced later
    /// (`NonPagedPoolNx` before Windows 8), a version structure of the wrong size. Windows
    /// either bug checks or fails it; ntsim reports it and fails it. P2 the value, P3 the
    /// simulated version's major.minor (as `major << 8 | minor`).
    pub const NEWER_THAN_KERNEL: u32 = 14;
    /// A handle that is not open on this machine (never opened, already closed) or of the
    /// wrong kind (a file handle given to a registry routine) passed to a `Zw*` routine or
    /// `ZwClose`. Windows returns STATUS_INVALID_HANDLE (or STATUS_OBJECT_TYPE_MISMATCH), and
    /// Driver Verifier stops on it; ntsim reports it and returns the same status. P2 handle.
    pub const BAD_HANDLE: u32 = 15;
    /// A registry or file routine given a malformed argument: a NULL pointer it must write
    /// through or read, an `OBJECT_ATTRIBUTES` of the wrong `Length`, a `UNICODE_STRING` with an
    /// odd length or a NULL buffer. Windows would fault or fail with STATUS_INVALID_PARAMETER;
    /// ntsim reports it and fails. P2 the argument's position (1-based).
    pub const BAD_ARGUMENT: u32 = 16;
    /// `MmMapLockedPagesSpecifyCache(UserMode)` failed outside an exception guard: on Windows
    /// it raises an exception, which the host cannot; use `VprtMapLockedPagesUser`. The call
    /// returned NULL. P2 MDL.
    pub const UNGUARDED_USER_MAPPING: u32 = 17;
    /// A user-mode mapping made or undone in the wrong process: mapped while no client
    /// process is current (DriverEntry, a DPC, PnP), or `MmUnmapLockedPages` of a user view
    /// from another process than the one it was mapped into (Windows requires the owner's
    /// context, e.g. its IRP_MJ_CLEANUP). The call fails. P2 the address or MDL, P3 the
    /// current process.
    pub const WRONG_PROCESS: u32 = 18;
}

/// A bug check the simulation recorded instead of stopping the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Bug check code: 0xE6 for DMA, 0xC2 pool, 0x9/0xA IRQL, ...
    pub bugcheck: u32,
    /// Parameter 1 (the violation code for 0xE6, 0xC2 and ntsim's own check).
    pub code: u32,
    /// Parameters 2 to 4.
    pub params: [u64; 3],
    /// The routine that detected it, e.g. `"PutScatterGatherList"`.
    pub routine: &'static str,
    /// What happened, naming the objects involved and where they were allocated.
    pub message: String,
}

impl Violation {
    /// True for the DMA verifier bug check with parameter 1 `code`.
    pub fn is_dma(&self, code: u32) -> bool {
        self.bugcheck == bugcheck::DRIVER_VERIFIER_DMA_VIOLATION && self.code == code
    }
}

/// A readable name for a bug check and its first parameter.
pub fn describe(bugcheck: u32, code: u32) -> &'static str {
    use crate::verifier::bugcheck as b;
    match (bugcheck, code) {
        (b::IRQL_NOT_GREATER_OR_EQUAL, _) => "IRQL_NOT_GREATER_OR_EQUAL",
        (b::IRQL_NOT_LESS_OR_EQUAL, _) => "IRQL_NOT_LESS_OR_EQUAL",
        (b::SPIN_LOCK_ALREADY_OWNED, _) => "SPIN_LOCK_ALREADY_OWNED",
        (b::SPIN_LOCK_NOT_OWNED, _) => "SPIN_LOCK_NOT_OWNED",
        (b::IRQL_UNEXPECTED_VALUE, _) => "IRQL_UNEXPECTED_VALUE",
        (b::NO_MORE_IRP_STACK_LOCATIONS, _) => "NO_MORE_IRP_STACK_LOCATIONS",
        (b::MULTIPLE_IRP_COMPLETE_REQUESTS, _) => "MULTIPLE_IRP_COMPLETE_REQUESTS",
        (b::DEVICE_MODEL_CHECK, _) => "device model check",
        (b::BAD_POOL_CALLER, pool_code::DOUBLE_FREE) => "BAD_POOL_CALLER: pool freed twice",
        (b::BAD_POOL_CALLER, pool_code::ALLOCATE_BAD_IRQL) => {
            "BAD_POOL_CALLER: allocation at bad IRQL"
        }
        (b::BAD_POOL_CALLER, pool_code::FREE_BAD_IRQL) => "BAD_POOL_CALLER: free at bad IRQL",
        (b::BAD_POOL_CALLER, pool_code::WRONG_TAG) => "BAD_POOL_CALLER: free with wrong tag",
        (b::BAD_POOL_CALLER, pool_code::INVALID_ADDRESS) => {
            "BAD_POOL_CALLER: free of invalid address"
        }
        (b::BAD_POOL_CALLER, pool_code::ZERO_TAG) => "BAD_POOL_CALLER: zero pool tag",
        (b::BAD_POOL_CALLER, _) => "BAD_POOL_CALLER",
        (b::DRIVER_VERIFIER_DMA_VIOLATION, c) => match c {
            dma_code::COMMON_BUFFER_DOUBLE_FREE => "DMA: common buffer freed twice or mismatched",
            dma_code::SG_LIST_DOUBLE_FREE => "DMA: scatter/gather list freed twice or unknown",
            dma_code::ADAPTER_PUT_WITH_COMMON_BUFFERS => {
                "DMA: adapter put with common buffers outstanding"
            }
            dma_code::ADAPTER_PUT_WITH_CHANNELS => "DMA: adapter put with requests outstanding",
            dma_code::ADAPTER_PUT_WITH_SG_LISTS => {
                "DMA: adapter put with scatter/gather lists outstanding"
            }
            dma_code::UNLOCKED_BUFFER => "DMA: buffer not locked",
            dma_code::WRONG_IRQL => "DMA: wrong IRQL",
            dma_code::FLUSH_NOT_MAPPED => "DMA: flush of a buffer that is not mapped",
            dma_code::ADAPTER_AFTER_PUT => "DMA: adapter used after put (or unknown)",
            dma_code::NULL_ADAPTER => "DMA: NULL adapter",
            dma_code::ADDRESS_OUTSIDE_MDL => "DMA: address outside the MDL",
            dma_code::INVALID_DMA_BUFFER => "DMA: invalid DMA buffer",
            dma_code::ZERO_LENGTH => "DMA: zero-length transfer",
            dma_code::BUFFER_TOO_SMALL => "DMA: length runs past the MDL",
            dma_code::UNKNOWN_DESCRIPTION_VERSION => "DMA: unknown DEVICE_DESCRIPTION version",
            dma_code::IOMMU_FAULT => "DMA: IOMMU fault (device touched memory not mapped for it)",
            _ => "DRIVER_VERIFIER_DMA_VIOLATION",
        },
        (b::NTSIM_CHECK, c) => match c {
            ntsim_code::NOT_IMPLEMENTED => "ntsim: not implemented",
            ntsim_code::UNGUARDED_PROBE => {
                "ntsim: MmProbeAndLockPages failed outside an exception guard"
            }
            ntsim_code::WAIT_FOREVER => "ntsim: wait would block forever",
            ntsim_code::MDL_MISUSE => "ntsim: MDL misuse",
            ntsim_code::DIRECTION_MISMATCH => "ntsim: DMA direction differs from the mapping's",
            ntsim_code::NOT_A_PDO => "ntsim: not a PDO of this machine",
            ntsim_code::FREED_UNDER_DMA => "ntsim: memory freed while mapped for DMA",
            ntsim_code::BAD_ADDRESS => "ntsim: unknown address or frame",
            ntsim_code::LEFT_AT_RAISED_IRQL => "ntsim: thread left the machine above PASSIVE_LEVEL",
            ntsim_code::UNMAPPED_REGISTER => "ntsim: register access to an unmapped address",
            ntsim_code::IO_MISUSE => "ntsim: I/O manager or PnP misuse",
            ntsim_code::INFORMATION_TOO_LARGE => "ntsim: IOCTL Information exceeds the buffer",
            ntsim_code::INTERRUPT_STORM => "ntsim: interrupt storm",
            ntsim_code::NEWER_THAN_KERNEL => "ntsim: request unknown to the simulated Windows",
            ntsim_code::BAD_HANDLE => "ntsim: invalid handle",
            ntsim_code::BAD_ARGUMENT => "ntsim: malformed argument to a registry or file routine",
            ntsim_code::UNGUARDED_USER_MAPPING => {
                "ntsim: MmMapLockedPagesSpecifyCache(UserMode) failed outside an exception guard"
            }
            ntsim_code::WRONG_PROCESS => "ntsim: user mapping made or undone in the wrong process",
            _ => "ntsim check",
        },
        _ => "bug check",
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bug check {:#x} ({}) P1={:#x} P2={:#x} P3={:#x} P4={:#x} in {}: {}",
            self.bugcheck,
            describe(self.bugcheck, self.code),
            self.code,
            self.params[0],
            self.params[1],
            self.params[2],
            self.routine,
            self.message
        )
    }
}

/// What kind of object a [`Leak`] is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LeakKind {
    Adapter,
    ScatterGatherList,
    MapRegisters,
    PendingDmaRequest,
    CommonBuffer,
    Mdl,
    LockedPages,
    Pool,
    ContiguousMemory,
    QueuedDpc,
    /// A driver object still loaded.
    Driver,
    /// A device object not deleted.
    DeviceObject,
    /// An interrupt object still connected.
    Interrupt,
    /// A device-memory mapping (`MmMapIoSpace`) not unmapped.
    IoSpaceMapping,
    /// An IRP ntsim sent that never completed.
    Irp,
    /// A reference on a bus interface (IRP_MN_QUERY_INTERFACE) never dereferenced.
    InterfaceReference,
    /// A registry key or file handle never closed (`ZwClose`).
    Handle,
    /// A user-mode view of device memory (`MmMapLockedPagesSpecifyCache(UserMode)`) never
    /// unmapped (`MmUnmapLockedPages`), whether or not its process is still running.
    UserMapping,
    /// A bug check reason callback (`KeRegisterBugCheckReasonCallback`) never deregistered.
    BugCheckCallback,
    /// A real-mode buffer (`x86BiosAllocateBuffer`) never freed (`x86BiosFreeBuffer`).
    BiosBuffer,
}

/// One object still alive.
#[derive(Clone, Debug)]
pub struct Leak {
    pub kind: LeakKind,
    /// The object, its allocating routine and serial number.
    pub description: String,
}

/// Everything the driver allocated and has not released. Empty means no leaks.
#[derive(Clone, Debug, Default)]
pub struct LeakReport {
    pub leaks: Vec<Leak>,
}

impl LeakReport {
    /// True when nothing leaked.
    pub fn is_empty(&self) -> bool {
        self.leaks.is_empty()
    }
    /// Leaks of one kind.
    pub fn count(&self, kind: LeakKind) -> usize {
        self.leaks.iter().filter(|l| l.kind == kind).count()
    }
    pub(crate) fn push(&mut self, kind: LeakKind, description: String) {
        self.leaks.push(Leak { kind, description });
    }
}

impl fmt::Display for LeakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.leaks.is_empty() {
            return write!(f, "no leaks");
        }
        writeln!(f, "{} leaked object(s):", self.leaks.len())?;
        for leak in &self.leaks {
            writeln!(f, "  {:?}: {}", leak.kind, leak.description)?;
        }
        Ok(())
    }
}
