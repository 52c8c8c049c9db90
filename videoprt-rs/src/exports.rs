//! The export table of `videoprt_rs.sys`, by name, for a loader that binds a miniport's
//! imports on a host: ntsim's PE loader runs the shipped `.sys` files in the test process, and
//! their imports from `videoprt_rs.sys` must land on the same functions the host-built
//! miniports call. On Windows the linker writes this table from `videoprt_rs.def`; a test
//! holds the two equal.

/// Declares each export by its C name (only the address is taken, never called through these
/// declarations) and generates the name table and the lookup.
macro_rules! export_table {
    ($($name:ident),* $(,)?) => {
        mod symbols {
            extern "win64" {
                $(pub fn $name();)*
            }
        }

        /// Every export's name, as in `videoprt_rs.def` (without the loader entry points
        /// DllInitialize and DllUnload, which no miniport imports).
        pub const NAMES: &[&str] = &[$(stringify!($name),)* "VideoPortDebugPrint"];

        /// The address of the export named `name`, or `None` if `videoprt_rs.sys` has no
        /// such export.
        pub fn lookup(name: &str) -> Option<usize> {
            match name {
                $(stringify!($name) => Some(symbols::$name as *const () as usize),)*
                // Declared with its real, variadic prototype in port::debug.
                "VideoPortDebugPrint" => {
                    Some(crate::port::debug::VideoPortDebugPrint as *const () as usize)
                }
                _ => None,
            }
        }
    };
}

export_table!(
    VideoPortAcquireDeviceLock,
    VideoPortAcquireSpinLock,
    VideoPortAcquireSpinLockAtDpcLevel,
    VideoPortAllocateBuffer,
    VideoPortAllocateCommonBuffer,
    VideoPortAllocateContiguousMemory,
    VideoPortAllocatePool,
    VideoPortAssociateEventsWithDmaHandle,
    VideoPortCheckForDeviceExistance,
    VideoPortCheckForDeviceExistence,
    VideoPortClearEvent,
    VideoPortCompareMemory,
    VideoPortCompleteDma,
    VideoPortCreateEvent,
    VideoPortCreateSpinLock,
    VideoPortDDCMonitorHelper,
    VideoPortDeleteEvent,
    VideoPortDeleteSpinLock,
    VideoPortDoDma,
    VideoPortEnumerateChildren,
    VideoPortFlushRegistry,
    VideoPortFreeCommonBuffer,
    VideoPortFreeDeviceBase,
    VideoPortFreePool,
    VideoPortGetAccessRanges,
    VideoPortGetAssociatedDeviceExtension,
    VideoPortGetBusData,
    VideoPortGetBytesUsed,
    VideoPortGetCommonBuffer,
    VideoPortGetCurrentIrql,
    VideoPortGetDeviceBase,
    VideoPortGetDeviceData,
    VideoPortGetDmaAdapter,
    VideoPortGetDmaContext,
    VideoPortGetMdl,
    VideoPortGetRegistryParameters,
    VideoPortGetRomImage,
    VideoPortGetVersion,
    VideoPortGetVgaStatus,
    VideoPortInitialize,
    VideoPortInterlockedDecrement,
    VideoPortInterlockedExchange,
    VideoPortInterlockedIncrement,
    VideoPortLockBuffer,
    VideoPortLockPages,
    VideoPortLogError,
    VideoPortMapDmaMemory,
    VideoPortMapMemory,
    VideoPortMoveMemory,
    VideoPortPutDmaAdapter,
    VideoPortQueryPerformanceCounter,
    VideoPortQuerySystemTime,
    VideoPortQueueDpc,
    VideoPortReadPortBufferUchar,
    VideoPortReadPortBufferUlong,
    VideoPortReadPortBufferUshort,
    VideoPortReadPortUchar,
    VideoPortReadPortUlong,
    VideoPortReadPortUshort,
    VideoPortReadRegisterBufferUchar,
    VideoPortReadRegisterBufferUlong,
    VideoPortReadRegisterBufferUshort,
    VideoPortReadRegisterUchar,
    VideoPortReadRegisterUlong,
    VideoPortReadRegisterUshort,
    VideoPortReadStateEvent,
    VideoPortRegisterBugcheckCallback,
    VideoPortReleaseBuffer,
    VideoPortReleaseCommonBuffer,
    VideoPortReleaseDeviceLock,
    VideoPortReleaseSpinLock,
    VideoPortReleaseSpinLockFromDpcLevel,
    VideoPortScanRom,
    VideoPortSetBusData,
    VideoPortSetBytesUsed,
    VideoPortSetDmaContext,
    VideoPortSetEvent,
    VideoPortSetRegistryParameters,
    VideoPortSignalDmaComplete,
    VideoPortStallExecution,
    VideoPortStartDma,
    VideoPortStartTimer,
    VideoPortStopTimer,
    VideoPortSynchronizeExecution,
    VideoPortUnlockBuffer,
    VideoPortUnlockPages,
    VideoPortUnmapDmaMemory,
    VideoPortUnmapMemory,
    VideoPortVerifyAccessRanges,
    VideoPortWaitForSingleObject,
    VideoPortWritePortBufferUchar,
    VideoPortWritePortBufferUlong,
    VideoPortWritePortBufferUshort,
    VideoPortWritePortUchar,
    VideoPortWritePortUlong,
    VideoPortWritePortUshort,
    VideoPortWriteRegisterBufferUchar,
    VideoPortWriteRegisterBufferUlong,
    VideoPortWriteRegisterBufferUshort,
    VideoPortWriteRegisterUchar,
    VideoPortWriteRegisterUlong,
    VideoPortWriteRegisterUshort,
    VideoPortZeroDeviceMemory,
    VideoPortZeroMemory,
);
