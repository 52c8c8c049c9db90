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
#[cfg_attr(
    miri,
    ignore = "VideoPortDebugPrint is C (csrc/debug_print.c), which Miri cannot run"
)]
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

/// DbgPrint's sizes are Windows x64's (LLP64), whatever the host: `%ld`/`%lx` read 32 bits,
/// `%I64x`/`%llx`/`%Ix` 64; `%wZ` prints a UNICODE_STRING, `%ws` a wide string, `%p` 16 digits.
#[test]
#[cfg_attr(
    miri,
    ignore = "VideoPortDebugPrint is C (csrc/debug_print.c), which Miri cannot run"
)]
fn debug_print_reads_arguments_at_their_windows_sizes() {
    let _s = serial();
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let mut name: Vec<u16> = "edu".encode_utf16().collect();
    let unicode = UNICODE_STRING {
        Length: 6,
        MaximumLength: 6,
        Buffer: name.as_mut_ptr(),
    };
    let wide: Vec<u16> = "wide\0".encode_utf16().collect();
    // SAFETY: each conversion matches its argument at the Windows size of this width.
    unsafe {
        VideoPortDebugPrint(
            VIDEO_DEBUG_LEVEL::Info,
            c"%ld %lx|%I64x %llX %Ix|%wZ %ws|%p|%5.2s|%-4d|%%\n".as_ptr(),
            -3i32,
            0xdead_beefu32,
            0x1234_5678_9abc_def0u64,
            0xffff_0000_0000_0001u64,
            usize::MAX,
            &unicode as *const UNICODE_STRING,
            wide.as_ptr(),
            0x1000usize as *const u8,
            c"abc".as_ptr(),
            7i32,
        );
    }
    // %Ix and %p are pointer-sized: 16 hex digits on x64, 8 on x86.
    let expected = if cfg!(target_pointer_width = "64") {
        "-3 deadbeef|123456789abcdef0 FFFF000000000001 ffffffffffffffff|edu wide|\
         0000000000001000|   ab|7   |%\n"
    } else {
        "-3 deadbeef|123456789abcdef0 FFFF000000000001 ffffffff|edu wide|00001000|   ab|7   |%\n"
    };
    assert_eq!(machine.debug_output(), vec![(3, expected.to_string())]);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "VideoPortDebugPrint is C (csrc/debug_print.c), which Miri cannot run"
)]
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

fn port(code: u32) -> (u32, u32) {
    (videoprt::report::VIDEOPRT_RS_CHECK, code)
}

#[test]
fn bus_data_reads_and_writes_pci_config_space_through_the_bus_interface() {
    use core::ffi::c_void;
    use std::sync::atomic::Ordering;
    use videoprt::port::bus::{VideoPortGetBusData, VideoPortSetBusData};
    use videoprt::report::port_code;

    let _s = serial();
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let pdo = machine.plug_pci_device(Box::new(TestDevice::default()));
    let driver = machine
        .load_driver("vprstest", driver_entry)
        .expect("DriverEntry");
    let node = machine.start_device(&driver, pdo).expect("START");
    let hw = LAST_HW.load(Ordering::SeqCst) as PVOID;
    let pci = BUS_DATA_TYPE::PCIConfiguration;
    let get = |offset: u32, buf: &mut [u8]| {
        // SAFETY: the buffer holds buf.len() bytes.
        unsafe {
            VideoPortGetBusData(
                hw,
                pci,
                0,
                buf.as_mut_ptr().cast(),
                offset,
                buf.len() as u32,
            )
        }
    };

    // Vendor and device IDs, and the whole header as the bus model holds it.
    let mut ids = [0u8; 4];
    assert_eq!(get(0, &mut ids), 4);
    assert_eq!(u16::from_le_bytes([ids[0], ids[1]]), 0x1af4);
    assert_eq!(u16::from_le_bytes([ids[2], ids[3]]), 0x10f0);
    let mut header = [0u8; 256];
    assert_eq!(get(0, &mut header), 256);
    assert_eq!(header.to_vec(), machine.pci_config(pdo, 0, 256).unwrap());

    // A write to the device-specific area reads back; IDs are read-only.
    let mut value = 0xA55A_1234u32.to_le_bytes();
    // SAFETY: 4 readable bytes.
    let n = unsafe { VideoPortSetBusData(hw, pci, 0, value.as_mut_ptr().cast(), 0x40, 4) };
    assert_eq!(n, 4);
    assert_eq!(machine.pci_config(pdo, 0x40, 4).unwrap(), value.to_vec());
    let mut junk = [0xFFu8; 4];
    // SAFETY: 4 readable bytes.
    let n = unsafe { VideoPortSetBusData(hw, pci, 0, junk.as_mut_ptr().cast(), 0, 4) };
    assert_eq!(n, 4);
    assert_eq!(get(0, &mut ids), 4);
    assert_eq!(ids, [0xf4, 0x1a, 0xf0, 0x10]);

    // Cut at the end of config space; other bus types move nothing, unreported.
    let mut tail = [0u8; 16];
    assert_eq!(get(250, &mut tail), 6);
    // SAFETY: as above.
    let cmos =
        unsafe { VideoPortGetBusData(hw, BUS_DATA_TYPE::Cmos, 0, ids.as_mut_ptr().cast(), 0, 4) };
    assert_eq!(cmos, 0);
    assert!(take_codes(&machine).is_empty());

    // Misuse: offset outside config space, NULL buffer, a type outside the enumeration, a
    // foreign extension.
    assert_eq!(get(256, &mut ids), 0);
    // SAFETY: NULL is refused.
    let null = unsafe { VideoPortGetBusData(hw, pci, 0, core::ptr::null_mut(), 0, 4) };
    assert_eq!(null, 0);
    // SAFETY: as above.
    let odd =
        unsafe { VideoPortGetBusData(hw, BUS_DATA_TYPE(99), 0, ids.as_mut_ptr().cast(), 0, 4) };
    assert_eq!(odd, 0);
    let mut not_ours = 0u64;
    // SAFETY: the extension is looked up, never dereferenced.
    let foreign = unsafe {
        VideoPortGetBusData(
            (&mut not_ours as *mut u64).cast::<c_void>(),
            pci,
            0,
            ids.as_mut_ptr().cast(),
            0,
            4,
        )
    };
    assert_eq!(foreign, 0);
    assert_eq!(
        take_codes(&machine),
        vec![
            port(port_code::BAD_ARGUMENT),
            port(port_code::NULL_ARGUMENT),
            port(port_code::BAD_ARGUMENT),
            port(port_code::UNKNOWN_DEVICE_EXTENSION),
        ]
    );

    // Removal dereferences the bus interface: nothing left behind.
    assert_eq!(machine.remove_device(node), STATUS_SUCCESS);
    machine.unload_driver(driver);
    machine.run_until_idle();
    machine.assert_clean();
}
