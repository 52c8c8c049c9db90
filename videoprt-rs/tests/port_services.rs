//! Port services a miniport calls outside the start/IOCTL path: VideoPortDebugPrint (the C
//! variadic shim, through the C ABI) and VideoPortGetBusData / VideoPortSetBusData (PCI config
//! space through the PDO's BUS_INTERFACE_STANDARD).

mod port_support;

use core::ffi::c_int;
use ddk_sys::*;
use ntsim::{Machine, MachineConfig};
use port_support::*;
use videoprt::port::debug::VideoPortDebugPrint;

#[test]
fn debug_print_formats_its_arguments_and_maps_the_level() {
    let _s = serial();
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    // SAFETY: each format's conversions match the arguments.
    unsafe {
        VideoPortDebugPrint(
            VIDEO_DEBUG_LEVEL::Warn,
            c"vprs: %d devices, name %s, id %x\n".as_ptr(),
            -7 as c_int,
            c"edu".as_ptr(),
            0x11e8u32,
        );
        VideoPortDebugPrint(VIDEO_DEBUG_LEVEL::Error, c"error %u\n".as_ptr(), 5u32);
        VideoPortDebugPrint(VIDEO_DEBUG_LEVEL::Trace, c"trace\n".as_ptr());
        VideoPortDebugPrint(
            VIDEO_DEBUG_LEVEL::Info,
            c"%s=%08X\n".as_ptr(),
            c"bar0".as_ptr(),
            0xE000_0000u32,
        );
        // Not a VIDEO_DEBUG_LEVEL: printed at the Info level.
        VideoPortDebugPrint(VIDEO_DEBUG_LEVEL(77), c"odd level\n".as_ptr());
        // NULL message: nothing printed.
        VideoPortDebugPrint(VIDEO_DEBUG_LEVEL::Error, core::ptr::null());
    }
    assert_eq!(
        machine.debug_output(),
        vec![
            (1, "vprs: -7 devices, name edu, id 11e8\n".to_string()),
            (0, "error 5\n".to_string()),
            (2, "trace\n".to_string()),
            (3, "bar0=E0000000\n".to_string()),
            (3, "odd level\n".to_string()),
        ]
    );
}

#[test]
fn debug_print_cuts_a_long_message_at_511_bytes() {
    let _s = serial();
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let long = std::ffi::CString::new("x".repeat(2000)).unwrap();
    // SAFETY: one %s for one string.
    unsafe { VideoPortDebugPrint(VIDEO_DEBUG_LEVEL::Info, c"<%s>".as_ptr(), long.as_ptr()) };
    let out = machine.debug_output();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].1.len(), 511);
    assert!(out[0].1.starts_with("<xxx"));
}
