//! Bad input to the DMA services, case by case: each returns its documented error (or the
//! port's), is reported with the expected code, and leaves nothing corrupted or leaked.

mod support;

use core::ptr::null_mut;
use ddk_sys::*;
use ntsim::{MachineConfig, UserProt};
use support::*;
use videoprt::dma::common_buffer::{VideoPortAllocateCommonBuffer, VideoPortReleaseCommonBuffer};
use videoprt::dma::complete::VideoPortCompleteDma;
use videoprt::dma::lock::{VideoPortLockBuffer, VideoPortUnlockBuffer};
use videoprt::dma::start::VideoPortStartDma;
use videoprt::report::{port_code, DMA_VIOLATION, VIDEOPRT_RS_CHECK};

const E6: u32 = DMA_VIOLATION;
const VPRS: u32 = VIDEOPRT_RS_CHECK;

/// A rig with an adapter and a locked 3-page user buffer.
struct Setup {
    rig: Rig,
    adapter: PVP_DMA_ADAPTER,
    user: Option<ntsim::UserBuffer>,
    mdl: PVOID,
    recorder: Recorder,
}

impl Setup {
    fn new() -> Setup {
        let rig = Rig::new(MachineConfig::default());
        let adapter = rig.adapter(true, true, 1 << 20);
        let user = rig.machine.user_alloc(3 * PAGE_SIZE, UserProt::ReadWrite);
        // SAFETY: exported C ABI over a live buffer.
        let mdl = unsafe {
            VideoPortLockBuffer(
                rig.hw(),
                user.as_ptr().cast(),
                3 * PAGE_SIZE as u32,
                VP_LOCK_OPERATION::VpModifyAccess,
            )
        };
        assert!(!mdl.is_null());
        Setup {
            rig,
            adapter,
            user: Some(user),
            mdl,
            recorder: Recorder::new(),
        }
    }

    fn start(
        &self,
        hw: PVOID,
        adapter: PVP_DMA_ADAPTER,
        mdl: PVOID,
        offset: u32,
        length: Option<&mut u32>,
        to_device: bool,
    ) -> VP_STATUS {
        let p_length = length.map_or(null_mut(), |l| l as *mut u32);
        // SAFETY: exported C ABI; the port validates every argument.
        unsafe {
            VideoPortStartDma(
                hw,
                adapter,
                mdl,
                offset,
                p_length,
                Some(record_execute),
                self.recorder.context(),
                to_device as u8,
            )
        }
    }

    /// Starts a valid one-page transfer and returns its list.
    fn started(&self, to_device: bool) -> PVP_SCATTER_GATHER_LIST {
        let mut length = PAGE_SIZE as u32;
        assert_eq!(
            self.start(
                self.rig.hw(),
                self.adapter,
                self.mdl,
                0,
                Some(&mut length),
                to_device
            ),
            NO_ERROR
        );
        self.rig.machine.run_until_idle();
        self.recorder
            .take()
            .pop()
            .expect("HwVidExecuteDma ran")
            .list
    }

    fn complete(
        &self,
        adapter: PVP_DMA_ADAPTER,
        list: PVP_SCATTER_GATHER_LIST,
        to_device: bool,
    ) -> VP_STATUS {
        // SAFETY: exported C ABI; the port validates the list before touching it.
        unsafe { VideoPortCompleteDma(self.rig.hw(), adapter, list, to_device as u8) }
    }

    /// Releases everything in order and requires a clean machine with no further reports.
    fn finish(mut self) {
        // SAFETY: exported C ABI.
        unsafe { VideoPortUnlockBuffer(self.rig.hw(), self.mdl) };
        self.rig.put_adapter(self.adapter);
        self.rig.machine.user_free(self.user.take().unwrap());
        assert_eq!(
            self.rig.take_codes(),
            vec![],
            "unexpected reports during teardown"
        );
        assert!(self.rig.remove_device().is_empty());
        self.rig.machine.assert_clean();
    }
}

fn expect(
    setup: &Setup,
    what: &str,
    status: VP_STATUS,
    want_status: VP_STATUS,
    want_codes: &[(u32, u32)],
) {
    assert_eq!(status, want_status, "{what}: status");
    assert_eq!(setup.rig.take_codes(), want_codes, "{what}: reported codes");
    assert!(
        setup.recorder.take().is_empty(),
        "{what}: HwVidExecuteDma must not run"
    );
}

#[test]
fn start_dma_refuses_bad_arguments_without_calling_the_hal() {
    let s = Setup::new();
    let hw = s.rig.hw();
    let mut len = 100u32;
    let garbage = 0x5151_0000usize as PVP_DMA_ADAPTER;
    let garbage_mdl = 0x7777_0000 as PVOID;
    let end = 3 * PAGE_SIZE as u32;
    let check = |what: &str, status: VP_STATUS, code: (u32, u32)| {
        expect(&s, what, status, ERROR_INVALID_PARAMETER, &[code])
    };
    check(
        "unknown HwDeviceExtension",
        s.start(0x1000 as PVOID, s.adapter, s.mdl, 0, Some(&mut len), true),
        (VPRS, port_code::UNKNOWN_DEVICE_EXTENSION),
    );
    check(
        "NULL adapter",
        s.start(hw, null_mut(), s.mdl, 0, Some(&mut len), true),
        (E6, 0x19),
    );
    check(
        "garbage adapter",
        s.start(hw, garbage, s.mdl, 0, Some(&mut len), true),
        (E6, 0x18),
    );
    check(
        "NULL MDL",
        s.start(hw, s.adapter, null_mut(), 0, Some(&mut len), true),
        (VPRS, port_code::UNKNOWN_MDL),
    );
    check(
        "MDL not from LockBuffer",
        s.start(hw, s.adapter, garbage_mdl, 0, Some(&mut len), true),
        (VPRS, port_code::UNKNOWN_MDL),
    );
    check(
        "NULL pLength",
        s.start(hw, s.adapter, s.mdl, 0, None, true),
        (VPRS, port_code::NULL_ARGUMENT),
    );
    check(
        "Offset at the MDL's end",
        s.start(hw, s.adapter, s.mdl, end, Some(&mut len), true),
        (E6, 0x1B),
    );
    check(
        "Offset far past the MDL",
        s.start(hw, s.adapter, s.mdl, u32::MAX, Some(&mut len), true),
        (E6, 0x1B),
    );
    check(
        "zero length",
        s.start(hw, s.adapter, s.mdl, 0, Some(&mut 0), true),
        (E6, 0x21),
    );
    // NULL HwVidExecuteDma.
    let mut len = 100u32;
    // SAFETY: exported C ABI.
    let status =
        unsafe { VideoPortStartDma(hw, s.adapter, s.mdl, 0, &mut len, None, null_mut(), TRUE) };
    expect(
        &s,
        "NULL ExecuteDmaRoutine",
        status,
        ERROR_INVALID_PARAMETER,
        &[(VPRS, port_code::NULL_ARGUMENT)],
    );
    s.finish();
}

#[test]
fn adapter_of_another_device_or_already_put_is_refused() {
    let s = Setup::new();
    let other = s.rig.second_device();
    let mut desc = VP_DEVICE_DESCRIPTION {
        ScatterGather: TRUE,
        Dma64BitAddresses: TRUE,
        ..Default::default()
    };
    // SAFETY: exported C ABI.
    let foreign = unsafe { videoprt::dma::adapter::VideoPortGetDmaAdapter(other.hw(), &mut desc) };
    assert!(!foreign.is_null());
    let mut len = 100u32;
    let status = s.start(s.rig.hw(), foreign, s.mdl, 0, Some(&mut len), true);
    expect(
        &s,
        "adapter of another device",
        status,
        ERROR_INVALID_PARAMETER,
        &[(E6, 0x18)],
    );

    let stale = s.rig.adapter(true, true, 1 << 20);
    s.rig.put_adapter(stale);
    let status = s.start(s.rig.hw(), stale, s.mdl, 0, Some(&mut len), true);
    expect(
        &s,
        "adapter already put",
        status,
        ERROR_INVALID_PARAMETER,
        &[(E6, 0x18)],
    );
    s.rig.put_adapter(stale);
    assert_eq!(
        s.rig.take_codes(),
        vec![(E6, 0x18)],
        "putting an adapter twice"
    );
    drop(other);
    // The second device's idle adapter ended with the device, silently.
    assert_eq!(s.rig.take_codes(), vec![]);
    s.finish();
}

#[test]
fn complete_dma_detects_double_foreign_and_misdirected_completion() {
    let s = Setup::new();
    let list = s.started(true);
    assert_eq!(s.complete(s.adapter, list, true), NO_ERROR);
    expect(&s, "first completion", NO_ERROR, NO_ERROR, &[]);
    let status = s.complete(s.adapter, list, true);
    expect(
        &s,
        "second completion of the same list",
        status,
        ERROR_INVALID_PARAMETER,
        &[(E6, 0x06)],
    );
    let status = s.complete(s.adapter, 0x4242_0000 as PVP_SCATTER_GATHER_LIST, true);
    expect(
        &s,
        "made-up list",
        status,
        ERROR_INVALID_PARAMETER,
        &[(E6, 0x06)],
    );

    let other = s.rig.adapter(true, true, 1 << 20);
    let list = s.started(false);
    let status = s.complete(other, list, false);
    expect(
        &s,
        "list of another adapter",
        status,
        ERROR_INVALID_PARAMETER,
        &[(E6, 0x06)],
    );
    let status = s.complete(s.adapter, list, true);
    expect(
        &s,
        "direction differs from StartDma",
        status,
        ERROR_INVALID_PARAMETER,
        &[(VPRS, port_code::DIRECTION_MISMATCH)],
    );
    let status = s.complete(s.adapter, list, false);
    expect(
        &s,
        "misdirected completion still ended the transfer",
        status,
        ERROR_INVALID_PARAMETER,
        &[(E6, 0x06)],
    );
    s.rig.put_adapter(other);
    s.finish();
}

#[test]
fn every_dma_service_refuses_a_call_above_its_irql_limit() {
    let s = Setup::new();
    let hw = s.rig.hw();
    // SAFETY: raising from PASSIVE; lowered again below.
    let old = unsafe { KeRaiseIrql(DIRQL_MIN + 2) };
    let mut len = 100u32;
    let start = s.start(hw, s.adapter, s.mdl, 0, Some(&mut len), true);
    // SAFETY: exported C ABI; all refused before use.
    let (complete, lock) = unsafe {
        (
            VideoPortCompleteDma(hw, s.adapter, 0x10 as PVP_SCATTER_GATHER_LIST, TRUE),
            VideoPortLockBuffer(
                hw,
                s.user.as_ref().unwrap().as_ptr().cast(),
                10,
                VP_LOCK_OPERATION::VpReadAccess,
            ),
        )
    };
    // SAFETY: restores the level raised above.
    unsafe { KeLowerIrql(old) };
    assert_eq!(
        (start, complete),
        (ERROR_INVALID_PARAMETER, ERROR_INVALID_PARAMETER)
    );
    assert!(lock.is_null());
    assert_eq!(s.rig.take_codes(), vec![(E6, 0x13); 3]);

    // PASSIVE-only services at DISPATCH_LEVEL.
    // SAFETY: raising from PASSIVE; lowered again below.
    let old = unsafe { KeRaiseIrql(DISPATCH_LEVEL) };
    let mut desc = VP_DEVICE_DESCRIPTION::default();
    let mut logical = PHYSICAL_ADDRESS::default();
    // SAFETY: exported C ABI; refused before use.
    let (adapter, buffer) = unsafe {
        (
            videoprt::dma::adapter::VideoPortGetDmaAdapter(hw, &mut desc),
            VideoPortAllocateCommonBuffer(hw, s.adapter, 4096, &mut logical, FALSE, null_mut()),
        )
    };
    // SAFETY: restores the level raised above.
    unsafe { KeLowerIrql(old) };
    assert!(adapter.is_null() && buffer.is_null());
    assert_eq!(s.rig.take_codes(), vec![(E6, 0x13); 2]);
    s.finish();
}

#[test]
fn unlock_buffer_refuses_unknown_mdls_and_buffers_still_in_flight() {
    let s = Setup::new();
    // SAFETY: exported C ABI.
    unsafe { VideoPortUnlockBuffer(s.rig.hw(), 0x6060_0000 as PVOID) };
    assert_eq!(s.rig.take_codes(), vec![(VPRS, port_code::UNKNOWN_MDL)]);
    let list = s.started(true);
    // SAFETY: exported C ABI.
    unsafe { VideoPortUnlockBuffer(s.rig.hw(), s.mdl) };
    assert_eq!(
        s.rig.take_codes(),
        vec![(VPRS, port_code::UNLOCK_WITH_TRANSFERS)]
    );
    assert_eq!(s.complete(s.adapter, list, true), NO_ERROR);
    s.finish();
}

#[test]
fn lock_buffer_returns_null_for_ranges_that_cannot_be_locked() {
    let s = Setup::new();
    let hw = s.rig.hw();
    let user = s.user.as_ref().unwrap();
    let read_only = s.rig.machine.user_alloc(PAGE_SIZE, UserProt::ReadOnly);
    // SAFETY: pointer arithmetic inside the 3-page buffer; the port probes the range itself.
    let near_end: PVOID = unsafe { user.as_ptr().add(2 * PAGE_SIZE) }.cast();
    type Case<'a> = (&'a str, PVOID, u32, VP_LOCK_OPERATION, (u32, u32));
    let cases: Vec<Case> = vec![
        (
            "unmapped user pointer",
            0x10_0000 as PVOID,
            100,
            VP_LOCK_OPERATION::VpReadAccess,
            (VPRS, port_code::PROBE_FAILED),
        ),
        (
            "range running past the buffer",
            near_end,
            2 * PAGE_SIZE as u32,
            VP_LOCK_OPERATION::VpReadAccess,
            (VPRS, port_code::PROBE_FAILED),
        ),
        (
            "read-only pages for write",
            read_only.as_ptr().cast(),
            16,
            VP_LOCK_OPERATION::VpWriteAccess,
            (VPRS, port_code::PROBE_FAILED),
        ),
        (
            "zero length",
            user.as_ptr().cast(),
            0,
            VP_LOCK_OPERATION::VpReadAccess,
            (E6, 0x21),
        ),
        (
            "unknown operation",
            user.as_ptr().cast(),
            16,
            VP_LOCK_OPERATION(7),
            (VPRS, port_code::BAD_ARGUMENT),
        ),
    ];
    for (what, base, length, operation, code) in cases {
        // SAFETY: exported C ABI; the port probes under its guard.
        let mdl = unsafe { VideoPortLockBuffer(hw, base, length, operation) };
        assert!(mdl.is_null(), "{what}: LockBuffer must return NULL");
        assert_eq!(s.rig.take_codes(), vec![code], "{what}");
    }
    // Reading read-only pages is fine.
    // SAFETY: exported C ABI.
    let mdl = unsafe {
        VideoPortLockBuffer(
            hw,
            read_only.as_ptr().cast(),
            16,
            VP_LOCK_OPERATION::VpReadAccess,
        )
    };
    assert!(!mdl.is_null());
    // SAFETY: exported C ABI.
    unsafe { VideoPortUnlockBuffer(hw, mdl) };
    s.rig.machine.user_free(read_only);
    s.finish();
}

#[test]
fn common_buffer_release_must_match_the_allocation_exactly() {
    let s = Setup::new();
    let hw = s.rig.hw();
    let mut logical = PHYSICAL_ADDRESS::default();
    // SAFETY: exported C ABI.
    let va = unsafe {
        VideoPortAllocateCommonBuffer(hw, s.adapter, 6000, &mut logical, FALSE, null_mut())
    };
    assert!(!va.is_null());
    let release = |length: u32, logical: PHYSICAL_ADDRESS, va: PVOID, cache: u8| {
        // SAFETY: exported C ABI; the port matches before freeing.
        unsafe { VideoPortReleaseCommonBuffer(hw, s.adapter, length, logical, va, cache) }
    };
    release(4096, logical, va, FALSE);
    assert_eq!(s.rig.take_codes(), vec![(E6, 0x03)], "partial length");
    release(6000, PHYSICAL_ADDRESS(logical.0 + 4096), va, FALSE);
    assert_eq!(
        s.rig.take_codes(),
        vec![(E6, 0x03)],
        "other logical address"
    );
    release(6000, logical, va, TRUE);
    assert_eq!(s.rig.take_codes(), vec![(E6, 0x03)], "other cache flag");
    release(6000, logical, va, FALSE);
    assert_eq!(s.rig.take_codes(), vec![], "exact release");
    release(6000, logical, va, FALSE);
    assert_eq!(s.rig.take_codes(), vec![(E6, 0x03)], "double release");
    // NULL LogicalAddress.
    // SAFETY: exported C ABI.
    let none = unsafe {
        VideoPortAllocateCommonBuffer(hw, s.adapter, 6000, null_mut(), FALSE, null_mut())
    };
    assert!(none.is_null());
    assert_eq!(s.rig.take_codes(), vec![(VPRS, port_code::NULL_ARGUMENT)]);
    s.finish();
}
