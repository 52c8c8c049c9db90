//! The port core's bad-input table: each case returns its documented error or is reported,
//! and the machine stays consistent (nothing leaks once the device is gone).

mod port_support;

use core::ptr::null_mut;
use ddk_sys::*;
use ntsim::verifier::{bugcheck, ntsim_code};
use ntsim::{Machine, MachineConfig};
use port_support::*;
use std::sync::atomic::Ordering;
use videoprt::port::initialize::VideoPortInitialize;
use videoprt::port::memory::*;
use videoprt::port::registers::*;
use videoprt::port::resources::*;
use videoprt::report::{port_code, VIDEOPRT_RS_CHECK};

fn port(code: u32) -> (u32, u32) {
    (VIDEOPRT_RS_CHECK, code)
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn entry_with(
    driver: *mut DRIVER_OBJECT,
    path: *mut UNICODE_STRING,
) -> NTSTATUS {
    let mut data = init_data();
    match FAULT.load(Ordering::SeqCst) {
        10 => data.HwInitDataSize = 0x30,
        11 => data.HwFindAdapter = None,
        12 => data.HwStartIO = None,
        13 => data.HwInitialize = None,
        _ => {}
    }
    // SAFETY: DriverEntry's arguments.
    NTSTATUS(
        unsafe { VideoPortInitialize(driver.cast(), path.cast(), &mut data, null_mut()) } as i32,
    )
}

#[test]
fn video_port_initialize_rejects_bad_sizes_and_missing_callbacks() {
    let _s = serial();
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    for (fault, status, code) in [
        (10, STATUS_REVISION_MISMATCH, port_code::BAD_INIT_DATA_SIZE),
        (11, STATUS_INVALID_PARAMETER, port_code::MISSING_CALLBACK),
        (12, STATUS_INVALID_PARAMETER, port_code::MISSING_CALLBACK),
        (13, STATUS_INVALID_PARAMETER, port_code::MISSING_CALLBACK),
    ] {
        FAULT.store(fault, Ordering::SeqCst);
        assert_eq!(machine.load_driver("bad", entry_with).unwrap_err(), status);
        assert_eq!(take_codes(&machine), vec![port(code)]);
    }
    // NULL arguments.
    // SAFETY: exported C ABI; NULLs are refused.
    let r = unsafe { VideoPortInitialize(null_mut(), null_mut(), null_mut(), null_mut()) };
    assert_eq!(r, STATUS_INVALID_PARAMETER.0 as u32);
    assert_eq!(take_codes(&machine), vec![port(port_code::NULL_ARGUMENT)]);
    // The NT4 and Windows 2000 sizes are accepted.
    FAULT.store(FAULT_NONE, Ordering::SeqCst);
    let d = machine.load_driver("good", driver_entry).unwrap();
    machine.unload_driver(d);
    machine.assert_clean();
}

#[test]
fn hw_find_adapter_failure_fails_start_cleanly() {
    let _s = serial();
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let pdo = machine.plug_pci_device(Box::new(TestDevice::default()));
    let driver = machine.load_driver("vprstest", driver_entry).unwrap();
    FAULT.store(FAULT_FIND_FAILS, Ordering::SeqCst);
    assert_eq!(
        machine.start_device(&driver, pdo).unwrap_err(),
        STATUS_DEVICE_DOES_NOT_EXIST
    );
    FAULT.store(FAULT_INIT_FAILS, Ordering::SeqCst);
    assert_eq!(
        machine.start_device(&driver, pdo).unwrap_err(),
        STATUS_UNSUCCESSFUL
    );
    // After both failures the same PDO starts fine.
    FAULT.store(FAULT_NONE, Ordering::SeqCst);
    let node = machine.start_device(&driver, pdo).unwrap();
    assert_eq!(machine.remove_device(node), STATUS_SUCCESS);
    machine.unload_driver(driver);
    machine.assert_clean();
}

#[test]
fn device_base_outside_the_resources_is_refused_and_fails_start() {
    let _s = serial();
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let pdo = machine.plug_pci_device(Box::new(TestDevice::default()));
    let driver = machine.load_driver("vprstest", driver_entry).unwrap();
    FAULT.store(FAULT_MAP_OUTSIDE, Ordering::SeqCst);
    assert_eq!(
        machine.start_device(&driver, pdo).unwrap_err(),
        STATUS_INVALID_PARAMETER
    );
    assert_eq!(take_codes(&machine), vec![port(port_code::RANGE_NOT_OWNED)]);
    machine.unload_driver(driver);
    machine.assert_clean();
}

#[test]
fn resource_calls_outside_find_adapter_and_bad_claims_are_refused() {
    let _s = serial();
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let pdo = machine.plug_pci_device(Box::new(TestDevice::default()));
    let (_, bar0, size) = machine.pci_bar(pdo, 0).unwrap();
    let driver = machine.load_driver("vprstest", driver_entry).unwrap();
    let node = machine.start_device(&driver, pdo).unwrap();
    let hw = LAST_HW.load(Ordering::SeqCst) as PVOID;
    let mut ranges = [VIDEO_ACCESS_RANGE::default(); 2];
    // SAFETY: exported C ABI throughout; every bad input is refused.
    unsafe {
        let r = VideoPortGetAccessRanges(
            hw,
            0,
            null_mut(),
            2,
            ranges.as_mut_ptr(),
            null_mut(),
            null_mut(),
            null_mut(),
        );
        assert_eq!(r, ERROR_INVALID_PARAMETER);
        assert_eq!(
            take_codes(&machine),
            vec![port(port_code::NOT_IN_FIND_ADAPTER)]
        );

        // GetDeviceBase: outside, wrong space, zero length, user mode, foreign extension.
        let outside = PHYSICAL_ADDRESS::new(bar0 + size);
        assert!(VideoPortGetDeviceBase(hw, outside, 4, 0).is_null());
        assert!(VideoPortGetDeviceBase(hw, PHYSICAL_ADDRESS::new(bar0), 4, 1).is_null());
        assert!(VideoPortGetDeviceBase(hw, PHYSICAL_ADDRESS::new(bar0 + size - 2), 4, 0).is_null());
        assert!(VideoPortGetDeviceBase(hw, PHYSICAL_ADDRESS::new(bar0), 0, 0).is_null());
        assert!(VideoPortGetDeviceBase(hw, PHYSICAL_ADDRESS::new(bar0), 4, 2).is_null());
        let mut bogus = [0u8; 64];
        assert!(VideoPortGetDeviceBase(
            bogus.as_mut_ptr().cast(),
            PHYSICAL_ADDRESS::new(bar0),
            4,
            0
        )
        .is_null());
        assert_eq!(
            take_codes(&machine),
            vec![
                port(port_code::RANGE_NOT_OWNED),
                port(port_code::RANGE_NOT_OWNED),
                port(port_code::RANGE_NOT_OWNED),
                port(port_code::BAD_ARGUMENT),
                port(port_code::BAD_ARGUMENT),
                port(port_code::UNKNOWN_DEVICE_EXTENSION),
            ]
        );

        // A sub-range maps; freeing it twice, or freeing a foreign address, is reported.
        let base = VideoPortGetDeviceBase(hw, PHYSICAL_ADDRESS::new(bar0 + 4), 8, 0);
        assert!(!base.is_null());
        assert_eq!(VideoPortReadRegisterUlong(base.cast()), 0);
        VideoPortFreeDeviceBase(hw, base);
        VideoPortFreeDeviceBase(hw, base);
        VideoPortFreeDeviceBase(hw, bogus.as_mut_ptr().cast());
        assert_eq!(
            take_codes(&machine),
            vec![
                port(port_code::UNKNOWN_MAPPING),
                port(port_code::UNKNOWN_MAPPING)
            ]
        );

        // Register access through the unmapped base: reported by ntsim, all ones, nothing
        // written anywhere.
        assert_eq!(VideoPortReadRegisterUlong(base.cast()), u32::MAX);
        VideoPortWriteRegisterUlong(base.cast(), 7);
        VideoPortWritePortUchar(0x1234 as *mut u8, 1);
        let codes = take_codes(&machine);
        assert_eq!(
            codes,
            vec![(bugcheck::NTSIM_CHECK, ntsim_code::UNMAPPED_REGISTER); 3]
        );
        assert_eq!(
            machine.with_pci_model(pdo, |d: &mut TestDevice| d.scratch),
            0
        );

        // Buffer variants and memory helpers with NULL buffers do nothing and are reported.
        VideoPortReadRegisterBufferUlong(base.cast(), null_mut(), 4);
        VideoPortZeroMemory(null_mut(), 16);
        VideoPortMoveMemory(null_mut(), bogus.as_mut_ptr().cast(), 16);
        assert_eq!(
            VideoPortCompareMemory(bogus.as_mut_ptr().cast(), null_mut(), 3),
            0
        );
        assert_eq!(
            take_codes(&machine),
            vec![port(port_code::NULL_ARGUMENT); 4]
        );
        let mut a = *b"abcdef";
        let b = *b"abcxef";
        assert_eq!(
            VideoPortCompareMemory(a.as_mut_ptr().cast(), b.as_ptr() as PVOID, 6),
            3
        );
        // One pointer for both (overlapping) ranges: a second `as_mut_ptr` would reborrow `a`
        // and invalidate the first.
        let p = a.as_mut_ptr();
        VideoPortMoveMemory(p.add(1).cast(), p.cast(), 4);
        assert_eq!(&a, b"aabcdf");
        let mut x = 5i32;
        assert_eq!(VideoPortInterlockedExchange(&mut x, 9), 5);
        assert_eq!(VideoPortInterlockedIncrement(&mut x), 10);
        assert_eq!(VideoPortInterlockedDecrement(&mut x), 9);
    }
    assert_eq!(machine.remove_device(node), STATUS_SUCCESS);
    machine.unload_driver(driver);
    machine.assert_clean();
}

#[test]
fn overlapping_or_foreign_claims_are_refused() {
    let mut r = Resources::new();
    r.ranges[0] = Range {
        raw: 0x1000,
        translated: 0x1000,
        length: 0x1000,
        io: false,
        translated_io: false,
        shareable: false,
    };
    r.count = 1;
    let range = |start: u64, len: u32, share: u8| VIDEO_ACCESS_RANGE {
        RangeStart: PHYSICAL_ADDRESS::new(start),
        RangeLength: len,
        RangeInIoSpace: 0,
        RangeVisible: 0,
        RangeShareable: share,
        RangePassive: 0,
    };
    assert!(check_claim(&r, &[range(0x1000, 0x100, 0), range(0x1100, 0x100, 0)]).is_ok());
    let overlap = check_claim(&r, &[range(0x1000, 0x200, 0), range(0x1100, 0x100, 0)]);
    assert!(matches!(
        overlap,
        Err(videoprt::report::Misuse::Port {
            code: port_code::OVERLAPPING_RANGES,
            ..
        })
    ));
    assert!(check_claim(&r, &[range(0x1000, 0x200, 1), range(0x1100, 0x100, 1)]).is_ok());
    let foreign = check_claim(&r, &[range(0x2000, 0x10, 0)]);
    assert!(matches!(
        foreign,
        Err(videoprt::report::Misuse::Port {
            code: port_code::RANGE_NOT_OWNED,
            ..
        })
    ));
}

#[test]
fn ioctls_with_short_null_bad_or_lying_buffers() {
    let _s = serial();
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let pdo = machine.plug_pci_device(Box::new(TestDevice::default()));
    let driver = machine.load_driver("vprstest", driver_entry).unwrap();
    let node = machine.start_device(&driver, pdo).unwrap();
    let h = machine.open(&node).unwrap();
    // Short and missing buffers: the miniport's ERROR_INSUFFICIENT_BUFFER.
    let mut two = [0u8; 2];
    assert_eq!(
        h.ioctl(IOCTL_GET_ID, &[], &mut two),
        Err(STATUS_BUFFER_TOO_SMALL)
    );
    assert_eq!(
        h.ioctl(IOCTL_GET_ID, &[], &mut []),
        Err(STATUS_BUFFER_TOO_SMALL)
    );
    assert_eq!(
        h.ioctl(IOCTL_SET_SCRATCH, &[1], &mut []),
        Err(STATUS_BUFFER_TOO_SMALL)
    );
    let mut eleven = [0u8; 11];
    assert_eq!(
        h.ioctl(IOCTL_COUNTS, &[], &mut eleven),
        Err(STATUS_BUFFER_TOO_SMALL)
    );
    // SAFETY: pointers the simulated user space does not hold are refused by the probe.
    unsafe {
        // NULL or bad user pointers never reach the driver.
        assert_eq!(
            h.ioctl_raw(IOCTL_GET_ID, null_mut(), 0, null_mut(), 4),
            Err(STATUS_ACCESS_VIOLATION)
        );
        assert_eq!(
            h.ioctl_raw(IOCTL_SET_SCRATCH, 0x10 as *const u8, 4, null_mut(), 0),
            Err(STATUS_ACCESS_VIOLATION)
        );
        // NULL with zero lengths is a valid request: the miniport sees NULL buffers.
        assert_eq!(
            h.ioctl_raw(IOCTL_GET_ID, null_mut(), 0, null_mut(), 0),
            Err(STATUS_BUFFER_TOO_SMALL)
        );
    }
    // METHOD_NEITHER from user mode is refused by the port.
    assert_eq!(
        h.ioctl(IOCTL_NEITHER, &[1, 2, 3, 4], &mut [0; 4]),
        Err(STATUS_INVALID_PARAMETER)
    );
    // A miniport claiming more bytes than the buffer holds: reported and clamped.
    let mut out = [0u8; 8];
    assert_eq!(h.ioctl(IOCTL_LIAR, &[], &mut out), Ok(8));
    assert_eq!(
        take_codes(&machine),
        vec![port(port_code::INFORMATION_TOO_LARGE)]
    );
    h.close();
    assert_eq!(machine.remove_device(node), STATUS_SUCCESS);
    machine.unload_driver(driver);
    machine.assert_clean();
}
