//! INT 10h services: the VideoPort side (`video.h`: `VIDEO_PORT_INT10_INTERFACE`,
//! `INT10_BIOS_ARGUMENTS`, `VIDEO_X86_BIOS_ARGUMENTS`, `VIDEO_PORT_SERVICES`) and the HAL's x86
//! BIOS emulator underneath it (`X86_BIOS_REGISTERS` and the five `x86Bios*` routines that
//! `hal.dll` exports from Windows Vista on).
//!
//! The HAL routines are never imported: NT 5.2 lacks them, so the port looks them up at run
//! time (`MmGetSystemRoutineAddress`) and calls them through the `PFN_x86Bios*` types below.

use crate::basic::*;
use crate::io::PINTERFACE_REFERENCE;
use crate::status::{NTSTATUS, VP_STATUS};
use core::mem::{offset_of, size_of};

c_enum! {
    /// `VIDEO_PORT_SERVICES`: which interface `VideoPortQueryServices` is asked for.
    VIDEO_PORT_SERVICES: u32 {
        VideoPortServicesAGP = 1,
        VideoPortServicesI2C = 2,
        VideoPortServicesHeadless = 3,
        VideoPortServicesInt10 = 4,
        VideoPortServicesDebugReport = 5,
        VideoPortServicesWCMemoryProtection = 6,
    }
}

/// `VIDEO_PORT_INT10_INTERFACE_VERSION_1`.
pub const VIDEO_PORT_INT10_INTERFACE_VERSION_1: USHORT = 1;

/// `INT10_BIOS_ARGUMENTS`: the registers of an `Int10CallBios`, in and out.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct INT10_BIOS_ARGUMENTS {
    pub Eax: ULONG,
    pub Ebx: ULONG,
    pub Ecx: ULONG,
    pub Edx: ULONG,
    pub Esi: ULONG,
    pub Edi: ULONG,
    pub Ebp: ULONG,
    pub SegDs: USHORT,
    pub SegEs: USHORT,
}
pub type PINT10_BIOS_ARGUMENTS = *mut INT10_BIOS_ARGUMENTS;

/// `VIDEO_X86_BIOS_ARGUMENTS`: the registers of a `VideoPortInt10` (no segment registers).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VIDEO_X86_BIOS_ARGUMENTS {
    pub Eax: ULONG,
    pub Ebx: ULONG,
    pub Ecx: ULONG,
    pub Edx: ULONG,
    pub Esi: ULONG,
    pub Edi: ULONG,
    pub Ebp: ULONG,
}
pub type PVIDEO_X86_BIOS_ARGUMENTS = *mut VIDEO_X86_BIOS_ARGUMENTS;

/// `X86_BIOS_REGISTERS`: the HAL emulator's register block (note the order: not the same as
/// `INT10_BIOS_ARGUMENTS`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct X86_BIOS_REGISTERS {
    pub Eax: ULONG,
    pub Ecx: ULONG,
    pub Edx: ULONG,
    pub Ebx: ULONG,
    pub Ebp: ULONG,
    pub Esi: ULONG,
    pub Edi: ULONG,
    pub SegDs: USHORT,
    pub SegEs: USHORT,
}
pub type PX86_BIOS_REGISTERS = *mut X86_BIOS_REGISTERS;

/// `PINT10_ALLOCATE_BUFFER`.
#[ddk_sys::ntapi]
pub type PINT10_ALLOCATE_BUFFER = Option<
    unsafe extern "ntapi" fn(
        Context: PVOID,
        Seg: *mut USHORT,
        Off: *mut USHORT,
        Length: *mut ULONG,
    ) -> VP_STATUS,
>;
/// `PINT10_FREE_BUFFER`.
#[ddk_sys::ntapi]
pub type PINT10_FREE_BUFFER =
    Option<unsafe extern "ntapi" fn(Context: PVOID, Seg: USHORT, Off: USHORT) -> VP_STATUS>;
/// `PINT10_READ_MEMORY`.
#[ddk_sys::ntapi]
pub type PINT10_READ_MEMORY = Option<
    unsafe extern "ntapi" fn(
        Context: PVOID,
        Seg: USHORT,
        Off: USHORT,
        Buffer: PVOID,
        Length: ULONG,
    ) -> VP_STATUS,
>;
/// `PINT10_WRITE_MEMORY`.
pub type PINT10_WRITE_MEMORY = PINT10_READ_MEMORY;
/// `PINT10_CALL_BIOS`.
#[ddk_sys::ntapi]
pub type PINT10_CALL_BIOS = Option<
    unsafe extern "ntapi" fn(Context: PVOID, BiosArguments: PINT10_BIOS_ARGUMENTS) -> VP_STATUS,
>;

/// `VIDEO_PORT_INT10_INTERFACE`: an `INTERFACE` header and the five INT 10h services.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct VIDEO_PORT_INT10_INTERFACE {
    pub Size: USHORT,
    pub Version: USHORT,
    pub Context: PVOID,
    pub InterfaceReference: PINTERFACE_REFERENCE,
    pub InterfaceDereference: PINTERFACE_REFERENCE,
    pub Int10AllocateBuffer: PINT10_ALLOCATE_BUFFER,
    pub Int10FreeBuffer: PINT10_FREE_BUFFER,
    pub Int10ReadMemory: PINT10_READ_MEMORY,
    pub Int10WriteMemory: PINT10_WRITE_MEMORY,
    pub Int10CallBios: PINT10_CALL_BIOS,
}
pub type PVIDEO_PORT_INT10_INTERFACE = *mut VIDEO_PORT_INT10_INTERFACE;

impl Default for VIDEO_PORT_INT10_INTERFACE {
    /// `Size` and `Version` filled in as a miniport fills them before the query.
    fn default() -> Self {
        VIDEO_PORT_INT10_INTERFACE {
            Size: size_of::<Self>() as USHORT,
            Version: VIDEO_PORT_INT10_INTERFACE_VERSION_1,
            Context: core::ptr::null_mut(),
            InterfaceReference: None,
            InterfaceDereference: None,
            Int10AllocateBuffer: None,
            Int10FreeBuffer: None,
            Int10ReadMemory: None,
            Int10WriteMemory: None,
            Int10CallBios: None,
        }
    }
}

/// `x86BiosCall`: runs real-mode interrupt `InterruptNumber` in the HAL's emulator; FALSE if
/// the emulator failed.
#[ddk_sys::ntapi]
pub type PFN_x86BiosCall =
    unsafe extern "ntapi" fn(InterruptNumber: ULONG, Registers: PX86_BIOS_REGISTERS) -> BOOLEAN;
/// `x86BiosAllocateBuffer`: a buffer in the emulator's real-mode memory.
#[ddk_sys::ntapi]
pub type PFN_x86BiosAllocateBuffer = unsafe extern "ntapi" fn(
    Size: *mut ULONG,
    Segment: *mut USHORT,
    Offset: *mut USHORT,
) -> NTSTATUS;
/// `x86BiosFreeBuffer`.
#[ddk_sys::ntapi]
pub type PFN_x86BiosFreeBuffer =
    unsafe extern "ntapi" fn(Segment: USHORT, Offset: USHORT) -> NTSTATUS;
/// `x86BiosReadMemory` / `x86BiosWriteMemory`.
#[ddk_sys::ntapi]
pub type PFN_x86BiosMemory = unsafe extern "ntapi" fn(
    Segment: USHORT,
    Offset: USHORT,
    Buffer: PVOID,
    Size: ULONG,
) -> NTSTATUS;

const _: () = {
    assert!(size_of::<INT10_BIOS_ARGUMENTS>() == 32);
    assert!(offset_of!(INT10_BIOS_ARGUMENTS, Ebp) == 24);
    assert!(offset_of!(INT10_BIOS_ARGUMENTS, SegEs) == 30);
    assert!(size_of::<VIDEO_X86_BIOS_ARGUMENTS>() == 28);
    assert!(size_of::<X86_BIOS_REGISTERS>() == 32);
    assert!(offset_of!(X86_BIOS_REGISTERS, Ebx) == 12);
    assert!(offset_of!(X86_BIOS_REGISTERS, SegEs) == 30);
};

/// The interface holds pointers: two USHORTs, then eight pointer-sized members.
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(size_of::<VIDEO_PORT_INT10_INTERFACE>() == 72);
    assert!(offset_of!(VIDEO_PORT_INT10_INTERFACE, Context) == 8);
    assert!(offset_of!(VIDEO_PORT_INT10_INTERFACE, Int10AllocateBuffer) == 32);
    assert!(offset_of!(VIDEO_PORT_INT10_INTERFACE, Int10CallBios) == 64);
};
#[cfg(target_pointer_width = "32")]
const _: () = {
    assert!(size_of::<VIDEO_PORT_INT10_INTERFACE>() == 36);
    assert!(offset_of!(VIDEO_PORT_INT10_INTERFACE, Context) == 4);
    assert!(offset_of!(VIDEO_PORT_INT10_INTERFACE, Int10AllocateBuffer) == 16);
    assert!(offset_of!(VIDEO_PORT_INT10_INTERFACE, Int10CallBios) == 32);
};
