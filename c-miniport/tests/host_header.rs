//! The host build's types (`include/videoprt_host.h`, used when C miniports are compiled for
//! ntsim) agree with ddk-sys, member for member: every size and offset is compiled as a C11
//! `_Static_assert` against the header with the host C compiler. (ddk-sys itself is checked
//! against mingw-w64's DDK headers by `ddk-sys/tests/layout_vs_mingw.rs`, so the host header is
//! tied to the Windows layout through it.)
//!
//! 64-bit hosts only: it checks videoprt_host.h, the Windows x64 layout.
#![cfg(target_pointer_width = "64")]

use core::mem::{offset_of, size_of};
use ddk_sys::*;
use std::fmt::Write as _;
use std::process::Command;

/// `checks!(out; TYPE { field, ... }, ...)`: the C assertions for the size of each type and the
/// offset of each listed member, with ddk-sys's numbers.
macro_rules! checks {
    ($out:ident; $($ty:ident { $($field:ident),* $(,)? }),* $(,)?) => {$(
        writeln!(
            $out,
            "_Static_assert(sizeof({}) == {}, \"sizeof({}) is {} in ddk-sys\");",
            stringify!($ty), size_of::<$ty>(), stringify!($ty), size_of::<$ty>()
        ).unwrap();
        $(
            writeln!(
                $out,
                "_Static_assert(offsetof({ty}, {f}) == {o}, \"{ty}.{f} is at {o} in ddk-sys\");",
                ty = stringify!($ty), f = stringify!($field), o = offset_of!($ty, $field)
            ).unwrap();
        )*
    )*};
}

fn source() -> String {
    let mut c = String::from(
        "#define VIDEOPRT_RS_HOST 1\n#include <stddef.h>\n#include \"videoprt_rs.h\"\n",
    );
    checks!(c;
        PHYSICAL_ADDRESS {},
        VIDEO_ACCESS_RANGE {
            RangeStart, RangeLength, RangeInIoSpace, RangeVisible, RangeShareable, RangePassive,
        },
        STATUS_BLOCK { Status, Information },
        VIDEO_REQUEST_PACKET {
            IoControlCode, StatusBlock, InputBuffer, InputBufferLength, OutputBuffer,
            OutputBufferLength,
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
        VPOSVERSIONINFO {
            Size, MajorVersion, MinorVersion, BuildNumber, ServicePackMajor, ServicePackMinor,
        },
        VP_DEVICE_DESCRIPTION { ScatterGather, Dma32BitAddresses, Dma64BitAddresses, MaximumLength },
        VP_SCATTER_GATHER_ELEMENT { Address, Length, Reserved },
        VP_SCATTER_GATHER_LIST { NumberOfElements, Reserved, Elements },
        INTERFACE { Size, Version, Context, InterfaceReference, InterfaceDereference },
        INT10_BIOS_ARGUMENTS { Eax, Ebx, Ecx, Edx, Esi, Edi, Ebp, SegDs, SegEs },
        VIDEO_X86_BIOS_ARGUMENTS { Eax, Ebx, Ecx, Edx, Esi, Edi, Ebp },
        VIDEO_PORT_INT10_INTERFACE {
            Size, Version, Context, InterfaceReference, InterfaceDereference,
            Int10AllocateBuffer, Int10FreeBuffer, Int10ReadMemory, Int10WriteMemory,
            Int10CallBios,
        },
    );
    c
}

fn compile(source: &str, tag: &str) -> std::process::Output {
    let dir = std::env::temp_dir().join(format!(
        "videoprt-rs-host-header-{}-{tag}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("check.c");
    std::fs::write(&file, source).unwrap();
    let include = concat!(env!("CARGO_MANIFEST_DIR"), "/include");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .env("LC_ALL", "C")
        .args(["-std=c11", "-fsyntax-only", "-I", include])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("{cc}: {e}"));
    let _ = std::fs::remove_dir_all(&dir);
    out
}

#[test]
fn the_host_header_lays_out_every_type_as_ddk_sys_does() {
    let out = compile(&source(), "all");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The check has teeth: one planted wrong offset is rejected, naming the member.
#[test]
fn a_wrong_number_is_rejected() {
    let planted = source().replacen(
        &format!(
            "offsetof(VIDEO_REQUEST_PACKET, OutputBuffer) == {}",
            offset_of!(VIDEO_REQUEST_PACKET, OutputBuffer)
        ),
        "offsetof(VIDEO_REQUEST_PACKET, OutputBuffer) == 1",
        1,
    );
    let out = compile(&planted, "planted");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("VIDEO_REQUEST_PACKET.OutputBuffer"));
}
