//! The export table of `videoprt_rs.sys`, by name: what
//! `VIDEO_PORT_CONFIG_INFO.VideoPortGetProcAddress` answers (on every target), and, on a host,
//! what ntsim's PE loader binds a miniport image's `videoprt_rs.sys` imports to, so they land
//! on the same functions the host-built miniports call. On Windows the linker writes the
//! image's export table from `videoprt_rs.def`; a test holds the two equal.

/// Declares each export by its C name (only the address is taken, never called through these
/// declarations) and generates the name table and the lookup.
macro_rules! export_table {
    ($($name:ident),* $(,)?) => {
        mod symbols {
            #[ddk_sys::ntapi]
            extern "ntapi" {
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
    VideoPortGetAssociatedDeviceID,
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
    VideoPortInt10,
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
    VideoPortQueryServices,
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
