//! Primitive NT types: integer typedefs, `PHYSICAL_ADDRESS`, `LIST_ENTRY`, `UNICODE_STRING`,
//! and the 32-bit newtypes that stand in for C enums.

use core::ffi::c_void;
#[cfg_attr(target_pointer_width = "32", allow(unused_imports))]
use core::mem::{align_of, offset_of, size_of};

pub type PVOID = *mut c_void;
pub type HANDLE = *mut c_void;
pub type UCHAR = u8;
pub type PUCHAR = *mut UCHAR;
/// `BOOLEAN` is a byte; any non-zero value is TRUE. Never read it as a Rust `bool`.
pub type BOOLEAN = u8;
pub type CCHAR = i8;
pub type CSHORT = i16;
pub type USHORT = u16;
pub type ULONG = u32;
pub type PULONG = *mut ULONG;
pub type LONG = i32;
pub type ULONG_PTR = usize;
pub type SIZE_T = usize;
pub type ULONGLONG = u64;
pub type LONGLONG = i64;
pub type PLONGLONG = *mut LONGLONG;
pub type KSPIN_LOCK = usize;
pub type KAFFINITY = usize;
pub type PFN_NUMBER = usize;
pub type WCHAR = u16;

pub const TRUE: BOOLEAN = 1;
pub const FALSE: BOOLEAN = 0;

pub const PAGE_SIZE: usize = 4096;
pub const PAGE_SHIFT: u32 = 12;

/// Declares a C enum as a transparent 32-bit newtype with named constants.
///
/// A Rust `enum` would be undefined behaviour for values a C caller may legally pass.
#[macro_export]
macro_rules! c_enum {
    ($(#[$m:meta])* $name:ident : $repr:ty { $($(#[$vm:meta])* $variant:ident = $value:expr),* $(,)? }) => {
        $(#[$m])*
        #[repr(transparent)]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
        pub struct $name(pub $repr);
        impl $name {
            $($(#[$vm])* pub const $variant: Self = Self($value);)*
        }
    };
}

/// `PHYSICAL_ADDRESS` (`LARGE_INTEGER`): 8 bytes, 8-aligned, passed by value in a register
/// (x64) or as two stack slots (x86), returned in RAX / EDX:EAX: exactly an `i64` on every
/// Windows target. An i686 Linux host aligns `i64` to 4, so there (only) the type is
/// `align(8)`, to keep the structures holding it at their Windows x86 layout; that form is
/// not used on Windows x86 because rustc passes an over-aligned struct by reference there,
/// which would make `VideoPortGetDeviceBase` `@16` instead of video.h's `@20`.
#[cfg_attr(not(all(target_arch = "x86", not(windows))), repr(transparent))]
#[cfg_attr(all(target_arch = "x86", not(windows)), repr(C, align(8)))]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct PHYSICAL_ADDRESS(pub i64);

impl PHYSICAL_ADDRESS {
    pub const fn new(quad: u64) -> Self {
        Self(quad as i64)
    }
    /// The address as an unsigned bus/physical address.
    pub const fn get(self) -> u64 {
        self.0 as u64
    }
    pub const fn low_part(self) -> u32 {
        self.0 as u32
    }
    pub const fn high_part(self) -> i32 {
        (self.0 >> 32) as i32
    }
}
pub type LARGE_INTEGER = PHYSICAL_ADDRESS;
pub type PLARGE_INTEGER = *mut LARGE_INTEGER;
pub type PPHYSICAL_ADDRESS = *mut PHYSICAL_ADDRESS;

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct LIST_ENTRY {
    pub Flink: *mut LIST_ENTRY,
    pub Blink: *mut LIST_ENTRY,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct UNICODE_STRING {
    /// Length in bytes, not counting a terminator.
    pub Length: u16,
    pub MaximumLength: u16,
    pub Buffer: *mut WCHAR,
}
pub type PUNICODE_STRING = *mut UNICODE_STRING;

/// `RTL_OSVERSIONINFOW`, filled by `RtlGetVersion`. The caller sets `dwOSVersionInfoSize`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RTL_OSVERSIONINFOW {
    pub dwOSVersionInfoSize: u32,
    pub dwMajorVersion: u32,
    pub dwMinorVersion: u32,
    pub dwBuildNumber: u32,
    pub dwPlatformId: u32,
    pub szCSDVersion: [WCHAR; 128],
}
pub type PRTL_OSVERSIONINFOW = *mut RTL_OSVERSIONINFOW;

impl Default for RTL_OSVERSIONINFOW {
    fn default() -> Self {
        Self {
            dwOSVersionInfoSize: size_of::<Self>() as u32,
            dwMajorVersion: 0,
            dwMinorVersion: 0,
            dwBuildNumber: 0,
            dwPlatformId: 0,
            szCSDVersion: [0; 128],
        }
    }
}

/// `RTL_OSVERSIONINFOEXW`: `RTL_OSVERSIONINFOW` plus the service pack, suite and product type.
/// `dwOSVersionInfoSize` is 284.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RTL_OSVERSIONINFOEXW {
    pub dwOSVersionInfoSize: u32,
    pub dwMajorVersion: u32,
    pub dwMinorVersion: u32,
    pub dwBuildNumber: u32,
    pub dwPlatformId: u32,
    pub szCSDVersion: [WCHAR; 128],
    pub wServicePackMajor: u16,
    pub wServicePackMinor: u16,
    pub wSuiteMask: u16,
    pub wProductType: u8,
    pub wReserved: u8,
}

impl Default for RTL_OSVERSIONINFOEXW {
    fn default() -> Self {
        Self {
            dwOSVersionInfoSize: size_of::<Self>() as u32,
            dwMajorVersion: 0,
            dwMinorVersion: 0,
            dwBuildNumber: 0,
            dwPlatformId: 0,
            szCSDVersion: [0; 128],
            wServicePackMajor: 0,
            wServicePackMinor: 0,
            wSuiteMask: 0,
            wProductType: 0,
            wReserved: 0,
        }
    }
}

/// `VER_PLATFORM_WIN32_NT`, the `dwPlatformId` of every NT kernel.
pub const VER_PLATFORM_WIN32_NT: u32 = 2;

c_enum!(
    /// `INTERFACE_TYPE`.
    INTERFACE_TYPE: i32 {
        InterfaceTypeUndefined = -1, Internal = 0, Isa = 1, Eisa = 2, MicroChannel = 3,
        TurboChannel = 4, PCIBus = 5, VMEBus = 6, NuBus = 7, PCMCIABus = 8, CBus = 9,
        MPIBus = 10, MPSABus = 11, ProcessorInternal = 12, InternalPowerBus = 13,
        PNPISABus = 14, PNPBus = 15, Vmcs = 16, ACPIBus = 17,
    }
);
c_enum!(
    /// `DMA_WIDTH` (slave DMA only).
    DMA_WIDTH: u32 { Width8Bits = 0, Width16Bits = 1, Width32Bits = 2, Width64Bits = 3, WidthNoWrap = 4 }
);
c_enum!(
    /// `DMA_SPEED` (slave DMA only).
    DMA_SPEED: u32 { Compatible = 0, TypeA = 1, TypeB = 2, TypeC = 3, TypeF = 4 }
);
c_enum!(
    /// `KINTERRUPT_MODE`.
    KINTERRUPT_MODE: u32 { LevelSensitive = 0, Latched = 1 }
);
c_enum!(
    /// `LOCK_OPERATION` for `MmProbeAndLockPages`.
    LOCK_OPERATION: u32 { IoReadAccess = 0, IoWriteAccess = 1, IoModifyAccess = 2 }
);
c_enum!(
    /// `MEMORY_CACHING_TYPE`.
    MEMORY_CACHING_TYPE: u32 { MmNonCached = 0, MmCached = 1, MmWriteCombined = 2 }
);
c_enum!(
    /// `POOL_TYPE` for the legacy `ExAllocatePoolWithTag`.
    POOL_TYPE: u32 {
        NonPagedPool = 0, PagedPool = 1, NonPagedPoolCacheAligned = 4,
        PagedPoolCacheAligned = 5, NonPagedPoolNx = 512, NonPagedPoolNxCacheAligned = 516,
    }
);
c_enum!(
    /// `MM_PAGE_PRIORITY` (plus the `MdlMapping*` flags that may be OR-ed in).
    MM_PAGE_PRIORITY: u32 { LowPagePriority = 0, NormalPagePriority = 16, HighPagePriority = 32, MdlMappingNoExecute = 0x4000_0000 }
);

/// `KPROCESSOR_MODE` is a `CCHAR`.
pub type KPROCESSOR_MODE = i8;
pub const KernelMode: KPROCESSOR_MODE = 0;
pub const UserMode: KPROCESSOR_MODE = 1;

/// `POOL_FLAGS` for `ExAllocatePool2`.
pub type POOL_FLAGS = u64;
pub const POOL_FLAG_UNINITIALIZED: POOL_FLAGS = 0x2;
pub const POOL_FLAG_NON_PAGED: POOL_FLAGS = 0x40;
pub const POOL_FLAG_NON_PAGED_EXECUTE: POOL_FLAGS = 0x80;
pub const POOL_FLAG_PAGED: POOL_FLAGS = 0x100;

#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(size_of::<PHYSICAL_ADDRESS>() == 8 && align_of::<PHYSICAL_ADDRESS>() == 8);
    assert!(size_of::<LIST_ENTRY>() == 16);
    assert!(size_of::<UNICODE_STRING>() == 16 && offset_of!(UNICODE_STRING, Buffer) == 8);
    assert!(size_of::<INTERFACE_TYPE>() == 4);
    assert!(size_of::<RTL_OSVERSIONINFOW>() == 276);
    assert!(size_of::<RTL_OSVERSIONINFOEXW>() == 284);
    assert!(offset_of!(RTL_OSVERSIONINFOEXW, wServicePackMajor) == 276);
    assert!(offset_of!(RTL_OSVERSIONINFOEXW, wProductType) == 282);
};
