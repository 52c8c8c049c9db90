//! `MachineConfig`: the knobs of a simulated machine.

use crate::types::Placement;
use crate::version::OsVersion;

/// How a [`crate::Machine`] is laid out. `Default` gives a machine with memory on both sides of
/// 4 GiB, 256 map registers shared by all adapters and at most 32 per adapter.
#[derive(Clone, Debug)]
pub struct MachineConfig {
    /// Seed of the frame scrambler. The same seed and the same calls give the same frames.
    pub seed: u64,
    /// Frames for pool (`ExAllocatePool2`, MDLs, scatter/gather lists).
    pub pool_memory: Placement,
    /// Frames for [`crate::Machine::user_alloc`].
    pub user_memory: Placement,
    /// Preferred frames for physically contiguous memory (common buffers, contiguous memory);
    /// always clipped to what the requesting device can address.
    pub contiguous_memory: Placement,
    /// Map registers in the whole machine, shared by every adapter. A transfer holds
    /// `ADDRESS_AND_SIZE_TO_SPAN_PAGES(CurrentVa, Length)` of them from Get until Put.
    pub total_map_registers: u32,
    /// Upper bound on the map registers `IoGetDmaAdapter` grants one adapter.
    pub max_map_registers_per_adapter: u32,
    /// Fail the test at the first violation (see [`crate::Machine`], "Strict mode").
    pub strict: bool,
    /// The Windows version the machine pretends to be: what `RtlGetVersion` reports, which
    /// routines `MmGetSystemRoutineAddress` finds, which pool types exist.
    pub os: OsVersion,
    /// The service pack (major, minor) `RtlGetVersion` reports in an `RTL_OSVERSIONINFOEXW`.
    pub service_pack: (u16, u16),
    /// Whether `IoAllocateDriverObjectExtension` works. `false` models kernels where it is a
    /// stub returning STATUS_NOT_IMPLEMENTED and `IoGetDriverObjectExtension` returns NULL
    /// (Wine 8's ntoskrnl).
    pub driver_object_extensions: bool,
}

impl Default for MachineConfig {
    fn default() -> Self {
        Self {
            seed: 0x6e74_7369_6d00_0001,
            pool_memory: Placement::Interleaved,
            user_memory: Placement::Interleaved,
            contiguous_memory: Placement::Interleaved,
            total_map_registers: 256,
            max_map_registers_per_adapter: 32,
            strict: false,
            os: OsVersion::WINDOWS_10_2004,
            service_pack: (0, 0),
            driver_object_extensions: true,
        }
    }
}
