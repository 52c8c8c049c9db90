//! Lifetimes around transfers: deferred HwVidExecuteDma under map-register contention, adapter
//! release and device removal with work outstanding, common buffers seen by the device, and the
//! Windows 2000 functions built on the same machinery.

mod support;

use core::ptr::null_mut;
use ddk_sys::*;
use ntsim::{MachineConfig, UserProt};
use support::*;
use videoprt::dma::common_buffer::{VideoPortAllocateCommonBuffer, VideoPortReleaseCommonBuffer};
use videoprt::dma::complete::VideoPortCompleteDma;
use videoprt::dma::legacy_common_buffer::{
    VideoPortAllocateContiguousMemory, VideoPortFreeCommonBuffer, VideoPortGetCommonBuffer,
};
use videoprt::dma::lock::{
    VideoPortLockBuffer, VideoPortLockPages, VideoPortUnlockBuffer, VideoPortUnlockPages,
};
use videoprt::dma::obsolete::VideoPortGetMdl;
use videoprt::dma::start::VideoPortStartDma;
use videoprt::report::{port_code, DMA_VIOLATION, VIDEOPRT_RS_CHECK};

fn lock(rig: &Rig, user: &ntsim::UserBuffer, length: usize) -> PVOID {
    // SAFETY: exported C ABI over a live buffer.
    let mdl = unsafe {
        VideoPortLockBuffer(
            rig.hw(),
            user.as_ptr().cast(),
            length as u32,
            VP_LOCK_OPERATION::VpModifyAccess,
        )
    };
    assert!(!mdl.is_null());
    mdl
}

fn start(
    rig: &Rig,
    adapter: PVP_DMA_ADAPTER,
    mdl: PVOID,
    offset: u32,
    length: &mut u32,
    recorder: &Recorder,
) -> VP_STATUS {
    // SAFETY: exported C ABI with a locked MDL and live variables.
    unsafe {
        VideoPortStartDma(
            rig.hw(),
            adapter,
            mdl,
            offset,
            length,
            Some(record_execute),
            recorder.context(),
            TRUE,
        )
    }
}

fn complete(rig: &Rig, adapter: PVP_DMA_ADAPTER, list: PVP_SCATTER_GATHER_LIST) -> VP_STATUS {
    // SAFETY: exported C ABI.
    unsafe { VideoPortCompleteDma(rig.hw(), adapter, list, TRUE) }
}

#[test]
fn execute_dma_is_deferred_while_another_adapter_holds_the_map_registers() {
    let config = MachineConfig {
        total_map_registers: 8,
        max_map_registers_per_adapter: 8,
        ..MachineConfig::default()
    };
    let mut rig = Rig::new(config);
    let first = rig.adapter(true, true, 1 << 20);
    let second = rig.adapter(true, true, 1 << 20);
    let user = rig.machine.user_alloc(16 * PAGE_SIZE, UserProt::ReadWrite);
    let mdl = lock(&rig, &user, 16 * PAGE_SIZE);
    let recorder = Recorder::new();

    let mut a = 8 * PAGE_SIZE as u32;
    assert_eq!(start(&rig, first, mdl, 0, &mut a, &recorder), NO_ERROR);
    let held = recorder
        .take()
        .pop()
        .expect("registers were free: immediate callback");
    assert_eq!(a, 8 * PAGE_SIZE as u32);

    let mut b = 4 * PAGE_SIZE as u32;
    assert_eq!(
        start(&rig, second, mdl, 8 * PAGE_SIZE as u32, &mut b, &recorder),
        NO_ERROR,
        "queued, not refused"
    );
    assert_eq!(
        b,
        4 * PAGE_SIZE as u32,
        "*pLength is set even when the callback is deferred"
    );
    rig.machine.run_until_idle();
    assert!(
        recorder.take().is_empty(),
        "no registers free yet: HwVidExecuteDma must wait"
    );

    assert_eq!(complete(&rig, first, held.list), NO_ERROR);
    rig.machine.run_until_idle();
    let late = recorder.take();
    assert_eq!(
        late.len(),
        1,
        "freed registers resume the deferred transfer"
    );
    assert_eq!(late[0].adapter, second);
    assert_eq!(late[0].irql, DISPATCH_LEVEL);
    assert_eq!(complete(&rig, second, late[0].list), NO_ERROR);

    // SAFETY: exported C ABI.
    unsafe { VideoPortUnlockBuffer(rig.hw(), mdl) };
    rig.put_adapter(first);
    rig.put_adapter(second);
    rig.machine.user_free(user);
    assert!(rig.remove_device().is_empty());
    rig.machine.assert_clean();
}

#[test]
fn put_dma_adapter_reclaims_transfers_and_common_buffers_it_still_holds() {
    let mut rig = Rig::new(MachineConfig::default());
    let adapter = rig.adapter(true, true, 1 << 20);
    let user = rig.machine.user_alloc(2 * PAGE_SIZE, UserProt::ReadWrite);
    let mdl = lock(&rig, &user, 2 * PAGE_SIZE);
    let recorder = Recorder::new();
    let mut length = 2 * PAGE_SIZE as u32;
    assert_eq!(
        start(&rig, adapter, mdl, 0, &mut length, &recorder),
        NO_ERROR
    );
    let list = recorder.take().pop().unwrap().list;
    let mut logical = PHYSICAL_ADDRESS::default();
    // SAFETY: exported C ABI.
    let va = unsafe {
        VideoPortAllocateCommonBuffer(rig.hw(), adapter, 8192, &mut logical, FALSE, null_mut())
    };
    assert!(!va.is_null());

    rig.put_adapter(adapter);
    assert_eq!(
        rig.take_codes(),
        vec![(DMA_VIOLATION, 0x0A), (DMA_VIOLATION, 0x07)]
    );
    // The reclaimed list is gone: the device can no longer reach those pages.
    let mut byte = [0u8; 1];
    assert!(
        rig.view()
            .read(ntsim::BusAddress(logical.get()), &mut byte)
            .is_err(),
        "common buffer unmapped"
    );
    rig.machine.take_violations();
    assert_eq!(
        complete(&rig, adapter, list),
        ERROR_INVALID_PARAMETER,
        "adapter is gone"
    );
    assert_eq!(rig.take_codes(), vec![(DMA_VIOLATION, 0x18)]);

    // SAFETY: exported C ABI.
    unsafe { VideoPortUnlockBuffer(rig.hw(), mdl) };
    rig.machine.user_free(user);
    assert!(rig.remove_device().is_empty());
    rig.machine.assert_clean();
}

#[test]
fn device_removal_reclaims_everything_the_miniport_left_behind() {
    let mut rig = Rig::new(MachineConfig::default());
    let adapter = rig.adapter(true, false, 1 << 20);
    let _unused = rig.adapter(false, false, 4096);
    let user = rig.machine.user_alloc(4 * PAGE_SIZE, UserProt::ReadWrite);
    let mdl = lock(&rig, &user, 4 * PAGE_SIZE);
    let recorder = Recorder::new();
    let mut length = 4 * PAGE_SIZE as u32;
    assert_eq!(
        start(&rig, adapter, mdl, 0, &mut length, &recorder),
        NO_ERROR
    );
    let mut logical = PHYSICAL_ADDRESS::default();
    // SAFETY: exported C ABI.
    unsafe {
        assert!(!VideoPortAllocateCommonBuffer(
            rig.hw(),
            adapter,
            4096,
            &mut logical,
            TRUE,
            null_mut()
        )
        .is_null());
        let mut actual = 0;
        assert!(
            !VideoPortGetCommonBuffer(rig.hw(), 100, 0, &mut logical, &mut actual, FALSE).is_null()
        );
        assert!(!VideoPortAllocateContiguousMemory(
            rig.hw(),
            3 * 4096,
            PHYSICAL_ADDRESS::new(0xFFFF_FFFF)
        )
        .is_null());
    }
    assert_eq!(rig.take_codes(), vec![]);

    let reports: Vec<(u32, u32)> = rig
        .remove_device()
        .iter()
        .map(|v| (v.bugcheck, v.code))
        .collect();
    // Held until removal is the normal lifetime of adapters, common buffers and contiguous
    // memory; a transfer still in flight and a buffer still locked are real leaks.
    assert_eq!(
        reports,
        vec![
            (DMA_VIOLATION, 0x0A),
            (VIDEOPRT_RS_CHECK, port_code::RECLAIMED)
        ],
        "the outstanding transfer and the locked buffer, nothing else"
    );
    rig.machine.user_free(user);
    rig.machine.assert_clean();
}

#[test]
fn common_buffer_is_shared_between_cpu_and_device_at_its_logical_address() {
    let mut rig = Rig::new(MachineConfig {
        contiguous_memory: ntsim::Placement::Above4G,
        ..MachineConfig::default()
    });
    let adapter = rig.adapter(true, false, 1 << 20);
    let mut logical = PHYSICAL_ADDRESS::default();
    let length = 3 * PAGE_SIZE as u32 + 100;
    // SAFETY: exported C ABI.
    let va = unsafe {
        VideoPortAllocateCommonBuffer(rig.hw(), adapter, length, &mut logical, TRUE, null_mut())
    };
    assert!(!va.is_null());
    assert!(
        logical.get() + u64::from(length) <= 1 << 32,
        "a 32-bit adapter's common buffer lies below 4 GiB"
    );
    let data = pattern(length as usize, 5);
    rig.view()
        .write(ntsim::BusAddress(logical.get()), &data)
        .expect("device writes its common buffer");
    // SAFETY: the buffer is `length` bytes of live memory.
    let seen = unsafe { std::slice::from_raw_parts(va.cast::<u8>(), length as usize) };
    assert_eq!(seen, &data[..], "the CPU sees what the device wrote");

    // SAFETY: exported C ABI with the allocation's exact values.
    unsafe { VideoPortReleaseCommonBuffer(rig.hw(), adapter, length, logical, va, TRUE) };
    let mut byte = [0u8; 1];
    assert!(
        rig.view()
            .read(ntsim::BusAddress(logical.get()), &mut byte)
            .is_err(),
        "released: device cut off"
    );
    rig.machine.take_violations();
    rig.put_adapter(adapter);
    assert!(rig.remove_device().is_empty());
    rig.machine.assert_clean();
}

#[test]
fn windows_2000_common_buffer_works_without_an_adapter_and_frees_with_swapped_arguments() {
    let mut rig = Rig::new(MachineConfig::default());
    let mut logical = PHYSICAL_ADDRESS::default();
    let mut actual = 0u32;
    // SAFETY: exported C ABI.
    let va =
        unsafe { VideoPortGetCommonBuffer(rig.hw(), 5000, 64, &mut logical, &mut actual, TRUE) };
    assert!(!va.is_null(), "no VideoPortGetDmaAdapter call needed");
    assert_eq!(actual, 5000);
    assert!(logical.get() + 5000 <= 1 << 32);
    let data = pattern(5000, 11);
    rig.view()
        .write(ntsim::BusAddress(logical.get()), &data)
        .expect("device reaches it");
    // SAFETY: exported C ABI; FreeCommonBuffer takes Virtual before Logical.
    unsafe {
        VideoPortFreeCommonBuffer(
            rig.hw(),
            5000,
            logical.get() as PVOID,
            PHYSICAL_ADDRESS(va as i64),
            TRUE,
        );
    }
    assert_eq!(
        rig.take_codes(),
        vec![(DMA_VIOLATION, 0x03)],
        "arguments in Release order are refused"
    );
    // SAFETY: as above, now in the documented order.
    unsafe { VideoPortFreeCommonBuffer(rig.hw(), 5000, va, logical, TRUE) };
    assert_eq!(rig.take_codes(), vec![]);
    assert!(
        rig.remove_device().is_empty(),
        "the implicit adapter ends with the device, silently"
    );
    rig.machine.assert_clean();
}

#[test]
fn lock_pages_locks_the_request_buffer_only_for_dma_init_only() {
    let mut rig = Rig::new(MachineConfig::default());
    let user = rig.machine.user_alloc(2 * PAGE_SIZE, UserProt::ReadWrite);
    let mut vrp = VIDEO_REQUEST_PACKET {
        IoControlCode: 0,
        StatusBlock: null_mut(),
        InputBuffer: user.as_ptr().cast(),
        InputBufferLength: 5000,
        OutputBuffer: null_mut(),
        OutputBufferLength: 0,
    };
    for flags in [
        DMA_FLAGS::VideoPortUnlockAfterDma,
        DMA_FLAGS::VideoPortKeepPagesLocked,
    ] {
        // SAFETY: exported C ABI.
        let locked =
            unsafe { VideoPortLockPages(rig.hw(), &mut vrp, null_mut(), null_mut(), flags) };
        assert_eq!(locked, FALSE, "{flags:?} does nothing");
        assert!(vrp.OutputBuffer.is_null());
    }
    // SAFETY: exported C ABI.
    let locked = unsafe {
        VideoPortLockPages(
            rig.hw(),
            &mut vrp,
            null_mut(),
            null_mut(),
            DMA_FLAGS::VideoPortDmaInitOnly,
        )
    };
    assert_eq!(locked, TRUE);
    let handle: PDMA = vrp.OutputBuffer.cast();
    assert!(!handle.is_null() && vrp.OutputBufferLength as usize >= core::mem::size_of::<MDL>());
    // The handle is the MDL: GetMdl returns it, and StartDma accepts it.
    assert_eq!(VideoPortGetMdl(rig.hw(), handle), handle.cast());
    let mdl = handle.cast::<MDL>();
    // SAFETY: a locked MDL the port returned.
    unsafe {
        assert_eq!(MmGetMdlByteCount(mdl), 5000);
        assert_eq!(MmGetMdlVirtualAddress(mdl), user.as_ptr() as usize);
    }
    // SAFETY: exported C ABI.
    assert_eq!(unsafe { VideoPortUnlockPages(rig.hw(), handle) }, TRUE);
    // SAFETY: exported C ABI.
    let second = unsafe { VideoPortUnlockPages(rig.hw(), handle) };
    assert_eq!(second, TRUE, "always TRUE, as documented");
    assert_eq!(
        rig.take_codes(),
        vec![(VIDEOPRT_RS_CHECK, port_code::UNKNOWN_MDL)],
        "the second unlock is reported"
    );
    rig.machine.user_free(user);
    assert!(rig.remove_device().is_empty());
    rig.machine.assert_clean();
}
