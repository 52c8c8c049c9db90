//! VideoPortRegisterBugcheckCallback: the miniport's data reaches the crash dump for bug check
//! 0xEA only (on NT 6.0+), every bad argument is refused and reported, and removal unhooks.

mod port_support;

use ddk_sys::*;
use ntsim::verifier::LeakKind;
use ntsim::version::OsVersion;
use ntsim::{Machine, MachineConfig};
use port_support::*;
use std::sync::atomic::{AtomicU32, Ordering};
use videoprt::port::bugcheck::*;
use videoprt::report::{port_code, VIDEOPRT_RS_CHECK};

static CALLS: AtomicU32 = AtomicU32::new(0);
static LAST_CODE: AtomicU32 = AtomicU32::new(0);
static LAST_SIZE: AtomicU32 = AtomicU32::new(0);

/// The test miniport's HwVidBugcheckCallback: "MINI" then 0, 1, 2, ... up to BufferSize.
#[ddk_sys::ntapi]
unsafe extern "ntapi" fn hw_bugcheck(_hw: PVOID, code: ULONG, buffer: PUCHAR, size: ULONG) {
    CALLS.fetch_add(1, Ordering::SeqCst);
    LAST_CODE.store(code, Ordering::SeqCst);
    LAST_SIZE.store(size, Ordering::SeqCst);
    // SAFETY: the port hands out `size` writable bytes.
    let bytes = unsafe { std::slice::from_raw_parts_mut(buffer, size as usize) };
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = i as u8;
    }
    bytes[..4].copy_from_slice(b"MINI");
}

fn start(
    os: OsVersion,
) -> (
    Machine,
    ntsim::EnterGuard,
    ntsim::Driver,
    ntsim::DeviceNode,
    PVOID,
) {
    CALLS.store(0, Ordering::SeqCst);
    let machine = Machine::new(MachineConfig {
        os,
        ..MachineConfig::default()
    });
    let g = machine.enter();
    let pdo = machine.plug_pci_device(Box::new(TestDevice::default()));
    let driver = machine
        .load_driver("vprstest", driver_entry)
        .expect("DriverEntry");
    let node = machine.start_device(&driver, pdo).expect("START");
    let hw = LAST_HW.load(Ordering::SeqCst) as PVOID;
    (machine, g, driver, node, hw)
}

fn header(record: &[u8]) -> DumpHeader {
    // SAFETY: the record holds at least the 48-byte header (checked by the caller).
    unsafe { record.as_ptr().cast::<DumpHeader>().read_unaligned() }
}

#[test]
fn bugcheck_0xea_puts_the_miniport_data_in_the_dump_and_other_codes_do_not() {
    let _s = serial();
    let (machine, _g, driver, node, hw) = start(OsVersion::WINDOWS_10_2004);
    let size = BUGCHECK_DATA_SIZE_RESERVED + 16;
    // SAFETY: a live extension and a non-paged callback.
    let status = unsafe { VideoPortRegisterBugcheckCallback(hw, 0xEA, Some(hw_bugcheck), size) };
    assert_eq!(status, NO_ERROR);
    assert_eq!(
        machine.bugcheck_callbacks(),
        vec!["videoprt-rs".to_string()]
    );

    let dump = machine.bugcheck_secondary_dump(0xEA);
    assert_eq!(dump.len(), 1);
    let (guid, record) = &dump[0];
    assert_eq!(*guid, VIDEOPRT_RS_DUMP_GUID);
    assert_eq!(record.len(), size as usize, "the whole BugcheckDataSize");
    let h = header(record);
    assert_eq!(h.signature, SIGNATURE);
    assert_eq!(h.bugcheck_code, 0xEA);
    assert_eq!(h.data_size, 16);
    assert_eq!(&record[48..52], b"MINI");
    assert_eq!(&record[52..64], &(4u8..16).collect::<Vec<_>>()[..]);
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(LAST_CODE.load(Ordering::SeqCst), 0xEA);
    assert_eq!(LAST_SIZE.load(Ordering::SeqCst), 16);

    // Another bug check: nothing from this miniport, and its callback is not called.
    assert!(machine.bugcheck_secondary_dump(0x50).is_empty());
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);

    // Registering again replaces the hook (one record, the new size).
    // SAFETY: as above.
    let status = unsafe { VideoPortRegisterBugcheckCallback(hw, 0xEA, Some(hw_bugcheck), 4000) };
    assert_eq!(status, NO_ERROR);
    assert_eq!(machine.bugcheck_callbacks().len(), 1);
    let dump = machine.bugcheck_secondary_dump(0xEA);
    assert_eq!(dump[0].1.len(), 4000);
    assert_eq!(LAST_SIZE.load(Ordering::SeqCst), 4000 - 48);

    // Unhook with a NULL callback, and with a zero size: no data, no registration.
    // SAFETY: as above.
    unsafe {
        assert_eq!(
            VideoPortRegisterBugcheckCallback(hw, 0xEA, None, 100),
            NO_ERROR
        );
        assert!(machine.bugcheck_callbacks().is_empty());
        assert_eq!(
            VideoPortRegisterBugcheckCallback(hw, 0xEA, Some(hw_bugcheck), 100),
            NO_ERROR
        );
        assert_eq!(
            VideoPortRegisterBugcheckCallback(hw, 0xEA, Some(hw_bugcheck), 0),
            NO_ERROR
        );
    }
    assert!(machine.bugcheck_callbacks().is_empty());
    assert!(machine.bugcheck_secondary_dump(0xEA).is_empty());
    assert!(take_codes(&machine).is_empty());
    assert_eq!(machine.remove_device(node), STATUS_SUCCESS);
    machine.unload_driver(driver);
    machine.assert_clean();
}

#[test]
#[ddk_sys::ntapi]
fn bad_codes_sizes_irql_and_extensions_are_refused_and_reported() {
    let _s = serial();
    let (machine, _g, driver, node, hw) = start(OsVersion::WINDOWS_10_2004);
    let mut local = 0u64;
    let foreign = (&mut local as *mut u64).cast::<core::ffi::c_void>();
    // SAFETY: every call is refused before anything is registered.
    unsafe {
        let cb = Some(hw_bugcheck as unsafe extern "ntapi" fn(PVOID, ULONG, PUCHAR, ULONG));
        assert_eq!(
            VideoPortRegisterBugcheckCallback(hw, 0x50, cb, 100),
            ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            VideoPortRegisterBugcheckCallback(hw, 0xEA, cb, 48),
            ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            VideoPortRegisterBugcheckCallback(hw, 0xEA, cb, 4001),
            ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            VideoPortRegisterBugcheckCallback(foreign, 0xEA, cb, 100),
            ERROR_INVALID_PARAMETER
        );
        let old = KeRaiseIrql(HIGH_LEVEL);
        let at_high = VideoPortRegisterBugcheckCallback(hw, 0xEA, cb, 100);
        KeLowerIrql(old);
        assert_eq!(at_high, ERROR_INVALID_PARAMETER);
    }
    assert_eq!(
        take_codes(&machine),
        vec![
            (VIDEOPRT_RS_CHECK, port_code::BAD_ARGUMENT),
            (VIDEOPRT_RS_CHECK, port_code::BAD_ARGUMENT),
            (VIDEOPRT_RS_CHECK, port_code::BAD_ARGUMENT),
            (VIDEOPRT_RS_CHECK, port_code::UNKNOWN_DEVICE_EXTENSION),
            (0xE6, 0x13),
        ]
    );
    assert!(machine.bugcheck_callbacks().is_empty());
    assert_eq!(machine.remove_device(node), STATUS_SUCCESS);
    machine.unload_driver(driver);
    machine.assert_clean();
}

#[test]
fn removal_unhooks_silently() {
    let _s = serial();
    let (machine, _g, driver, node, hw) = start(OsVersion::WINDOWS_10_2004);
    // SAFETY: a live extension.
    let status = unsafe { VideoPortRegisterBugcheckCallback(hw, 0xEA, Some(hw_bugcheck), 64) };
    assert_eq!(status, NO_ERROR);
    assert_eq!(machine.remove_device(node), STATUS_SUCCESS);
    assert!(machine.bugcheck_callbacks().is_empty());
    assert!(machine.bugcheck_secondary_dump(0xEA).is_empty());
    machine.unload_driver(driver);
    // No report (the normal end of a hook) and nothing leaked.
    machine.assert_clean();
}

#[test]
fn on_nt_5_2_the_code_is_unknown_so_every_bug_check_gets_the_data() {
    let _s = serial();
    let (machine, _g, driver, node, hw) = start(OsVersion::WINDOWS_SERVER_2003_X64);
    // SAFETY: a live extension.
    let status = unsafe { VideoPortRegisterBugcheckCallback(hw, 0xEA, Some(hw_bugcheck), 64) };
    assert_eq!(status, NO_ERROR);
    for code in [0xEA, 0x50] {
        let dump = machine.bugcheck_secondary_dump(code);
        assert_eq!(dump.len(), 1, "bug check {code:#x}");
        assert_eq!(dump[0].0, VIDEOPRT_RS_DUMP_GUID);
        let h = header(&dump[0].1);
        assert_eq!(
            (h.signature, h.bugcheck_code, h.data_size),
            (SIGNATURE, 0, 16)
        );
        assert_eq!(&dump[0].1[48..52], b"MINI");
        assert_eq!(LAST_CODE.load(Ordering::SeqCst), 0xEA);
    }
    assert_eq!(machine.remove_device(node), STATUS_SUCCESS);
    machine.unload_driver(driver);
    machine.assert_clean();
}

#[test]
fn ntsim_reports_a_record_never_deregistered_as_a_leak() {
    let _s = serial();
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    #[ddk_sys::ntapi]
    unsafe extern "ntapi" fn nothing(
        _r: KBUGCHECK_CALLBACK_REASON,
        _rec: *mut KBUGCHECK_REASON_CALLBACK_RECORD,
        _d: PVOID,
        _l: ULONG,
    ) {
    }
    // SAFETY: all-zero is an unregistered record.
    let mut record: Box<KBUGCHECK_REASON_CALLBACK_RECORD> =
        Box::new(unsafe { core::mem::zeroed() });
    // SAFETY: the record outlives its registration (deregistered below).
    let ok = unsafe {
        KeRegisterBugCheckReasonCallback(
            &mut *record,
            Some(nothing),
            KBUGCHECK_CALLBACK_REASON::KbCallbackSecondaryDumpData,
            c"leaky".as_ptr().cast_mut().cast(),
        )
    };
    assert_eq!(ok, TRUE);
    assert_eq!(machine.leaks().count(LeakKind::BugCheckCallback), 1);
    // SAFETY: registered above.
    let first = unsafe { KeDeregisterBugCheckReasonCallback(&mut *record) };
    // SAFETY: a valid record, no longer registered: FALSE.
    let second = unsafe { KeDeregisterBugCheckReasonCallback(&mut *record) };
    assert_eq!((first, second), (TRUE, FALSE));
    machine.assert_clean();
}
