//! Resource behaviour of the DMA services: no pool allocation per transfer in steady state,
//! every allocation failure handled without a leak (fault sweeps through the port), and
//! transfers from several threads at once.

mod support;

use core::ptr::null_mut;
use ddk_sys::*;
use ntsim::{FaultKind, Machine, MachineConfig, UserProt};
use support::*;
use videoprt::dma::common_buffer::{VideoPortAllocateCommonBuffer, VideoPortReleaseCommonBuffer};
use videoprt::dma::complete::VideoPortCompleteDma;
use videoprt::dma::lock::{VideoPortLockBuffer, VideoPortUnlockBuffer};
use videoprt::dma::start::VideoPortStartDma;

/// One StartDma/CompleteDma pair of `length` bytes at `offset`; returns *pLength.
fn one_transfer(
    rig: &Rig,
    adapter: PVP_DMA_ADAPTER,
    mdl: PVOID,
    offset: u32,
    length: u32,
    recorder: &Recorder,
) -> Result<u32, VP_STATUS> {
    let mut chunk = length;
    // SAFETY: exported C ABI with a locked MDL and live variables.
    let status = unsafe {
        VideoPortStartDma(
            rig.hw(),
            adapter,
            mdl,
            offset,
            &mut chunk,
            Some(record_execute),
            recorder.context(),
            TRUE,
        )
    };
    if status != NO_ERROR {
        return Err(status);
    }
    rig.machine.run_until_idle();
    let delivery = recorder.take().pop().expect("HwVidExecuteDma ran");
    // SAFETY: exported C ABI; the list came from HwVidExecuteDma.
    let status = unsafe { VideoPortCompleteDma(rig.hw(), adapter, delivery.list, TRUE) };
    assert_eq!(status, NO_ERROR);
    Ok(chunk)
}

#[test]
fn steady_state_transfers_allocate_nothing_beyond_the_hals_own_list() {
    // Fewer under Miri, which interprets every step; a per-transfer allocation still shows.
    const TRANSFERS: u64 = if cfg!(miri) { 16 } else { 1000 };
    let mut rig = Rig::new(MachineConfig::default());
    let adapter = rig.adapter(true, true, 1 << 20);
    let user = rig.machine.user_alloc(64 * PAGE_SIZE, UserProt::ReadWrite);
    // SAFETY: exported C ABI over a live buffer.
    let mdl = unsafe {
        VideoPortLockBuffer(
            rig.hw(),
            user.as_ptr().cast(),
            64 * PAGE_SIZE as u32,
            VP_LOCK_OPERATION::VpReadAccess,
        )
    };
    let recorder = Recorder::new();
    one_transfer(&rig, adapter, mdl, 0, 8 * PAGE_SIZE as u32, &recorder).unwrap();
    let before = rig.machine.pool_stats();
    for i in 0..TRANSFERS {
        one_transfer(
            &rig,
            adapter,
            mdl,
            (i % 32) as u32 * 100,
            8 * PAGE_SIZE as u32,
            &recorder,
        )
        .unwrap();
    }
    let through_port = rig.machine.pool_stats().allocations_total - before.allocations_total;

    // The same transfers made directly on a HAL adapter: what the HAL itself allocates.
    let hal_only = hal_allocations_for(&rig.machine, &user, TRANSFERS);
    assert_eq!(
        through_port,
        hal_only,
        "videoprt-rs allocated {} pool blocks over {TRANSFERS} transfers of its own",
        through_port.saturating_sub(hal_only)
    );
    assert_eq!(
        rig.machine.pool_stats().outstanding,
        before.outstanding,
        "nothing accumulates"
    );

    // SAFETY: exported C ABI.
    unsafe { VideoPortUnlockBuffer(rig.hw(), mdl) };
    rig.put_adapter(adapter);
    rig.machine.user_free(user);
    assert!(rig.remove_device().is_empty());
    rig.machine.assert_clean();
}

/// Pool allocations of `transfers` GetScatterGatherList/PutScatterGatherList pairs made
/// directly on a HAL adapter of the same kind.
fn hal_allocations_for(machine: &Machine, user: &ntsim::UserBuffer, transfers: u64) -> u64 {
    #[ddk_sys::ntapi]
    unsafe extern "ntapi" fn ignore(
        _: PDEVICE_OBJECT,
        _: PIRP,
        list: PSCATTER_GATHER_LIST,
        context: PVOID,
    ) {
        // SAFETY: the context is the test's list slot.
        unsafe { *(context as *mut PSCATTER_GATHER_LIST) = list };
    }
    let pdo = machine.create_pdo("baseline");
    let mut desc = DEVICE_DESCRIPTION {
        Version: DEVICE_DESCRIPTION_VERSION3,
        Master: TRUE,
        ScatterGather: TRUE,
        Dma64BitAddresses: TRUE,
        InterfaceType: INTERFACE_TYPE::PCIBus,
        MaximumLength: 1 << 20,
        DmaAddressWidth: 64,
        ..Default::default()
    };
    let mut registers = 0;
    // SAFETY: plain HAL calls with valid arguments, at the documented IRQLs.
    unsafe {
        let adapter = IoGetDmaAdapter(pdo.as_ptr(), &mut desc, &mut registers);
        let ops = &*(*adapter).DmaOperations;
        let mdl = IoAllocateMdl(
            user.as_ptr().cast(),
            64 * PAGE_SIZE as u32,
            FALSE,
            FALSE,
            null_mut(),
        );
        MmProbeAndLockPages(mdl, UserMode, LOCK_OPERATION::IoReadAccess);
        let before = machine.pool_stats().allocations_total;
        for i in 0..transfers {
            let mut list: PSCATTER_GATHER_LIST = null_mut();
            let old = KeRaiseIrql(DISPATCH_LEVEL);
            let va = user.as_ptr() as usize + (i % 32) as usize * 100;
            let status = ops.GetScatterGatherList.unwrap()(
                adapter,
                pdo.as_ptr(),
                mdl,
                va as PVOID,
                8 * PAGE_SIZE as u32,
                Some(ignore),
                (&mut list as *mut PSCATTER_GATHER_LIST).cast(),
                TRUE,
            );
            assert!(status.is_success() && !list.is_null());
            ops.PutScatterGatherList.unwrap()(adapter, list, TRUE);
            KeLowerIrql(old);
        }
        let allocations = machine.pool_stats().allocations_total - before;
        MmUnlockPages(mdl);
        IoFreeMdl(mdl);
        ops.PutDmaAdapter.unwrap()(adapter);
        allocations
    }
}

/// A complete miniport-like session; any resource failure must come back as an error return
/// and leave nothing behind once the device is removed.
fn session(machine: &Machine) -> Result<(), String> {
    let rig = Rig::on(machine);
    let mut desc = VP_DEVICE_DESCRIPTION {
        ScatterGather: TRUE,
        Dma32BitAddresses: TRUE,
        MaximumLength: 1 << 16,
        ..Default::default()
    };
    // SAFETY: exported C ABI.
    let adapter = unsafe { videoprt::dma::adapter::VideoPortGetDmaAdapter(rig.hw(), &mut desc) };
    if adapter.is_null() {
        return Err("VideoPortGetDmaAdapter returned NULL".into());
    }
    let user = machine.user_alloc(5 * PAGE_SIZE, UserProt::ReadWrite);
    // SAFETY: exported C ABI over a live buffer.
    let mdl = unsafe {
        VideoPortLockBuffer(
            rig.hw(),
            user.as_ptr().add(10).cast(),
            4 * PAGE_SIZE as u32,
            VP_LOCK_OPERATION::VpReadAccess,
        )
    };
    let result = (|| {
        if mdl.is_null() {
            return Err("VideoPortLockBuffer returned NULL".to_string());
        }
        let recorder = Recorder::new();
        let mut offset = 0;
        while offset < 4 * PAGE_SIZE as u32 {
            let moved = one_transfer(
                &rig,
                adapter,
                mdl,
                offset,
                4 * PAGE_SIZE as u32 - offset,
                &recorder,
            )
            .map_err(|status| format!("VideoPortStartDma returned {status:?}"))?;
            assert_eq!(
                rig.machine.take_violations(),
                vec![],
                "a resource failure is not misuse"
            );
            offset += moved;
        }
        let mut logical = PHYSICAL_ADDRESS::default();
        // SAFETY: exported C ABI.
        let va = unsafe {
            VideoPortAllocateCommonBuffer(rig.hw(), adapter, 3000, &mut logical, FALSE, null_mut())
        };
        if va.is_null() {
            return Err("VideoPortAllocateCommonBuffer returned NULL".into());
        }
        // SAFETY: exported C ABI, exact values.
        unsafe { VideoPortReleaseCommonBuffer(rig.hw(), adapter, 3000, logical, va, FALSE) };
        Ok(())
    })();
    if !mdl.is_null() {
        // SAFETY: exported C ABI.
        unsafe { VideoPortUnlockBuffer(rig.hw(), mdl) };
    }
    rig.put_adapter(adapter);
    machine.user_free(user);
    drop(rig);
    result
}

#[test]
fn every_pool_allocation_failure_is_handled_and_leaves_nothing() {
    let report = ntsim::sweep(FaultKind::PoolAllocation, session);
    // The port's own pool blocks in this session: the adapter, locked-buffer and common-buffer
    // records (MDLs and lists are counted under their own fault kinds).
    assert_eq!(
        report,
        ntsim::SweepReport {
            points: 3,
            errors: 3
        }
    );
}

#[test]
fn every_mdl_adapter_list_and_common_buffer_failure_is_handled_and_leaves_nothing() {
    for kind in [
        FaultKind::MdlAllocation,
        FaultKind::AdapterRequest,
        FaultKind::ScatterGatherList,
        FaultKind::CommonBuffer,
    ] {
        let report = ntsim::sweep(kind, session);
        assert!(report.points >= 1, "{kind:?}: {report:?}");
        assert_eq!(
            report.errors, report.points,
            "{kind:?}: each failure surfaces as an error return"
        );
    }
}

#[test]
fn two_threads_transfer_through_one_device_at_once() {
    let machine = Machine::new(MachineConfig {
        total_map_registers: 24,
        max_map_registers_per_adapter: 16,
        ..MachineConfig::default()
    });
    let mut rig = Rig::on(&machine);
    let hw = rig.hw() as usize;
    let pdo = rig.pdo;
    let adapters = [
        rig.adapter(true, true, 1 << 20) as usize,
        rig.adapter(true, false, 1 << 20) as usize,
    ];
    let threads: Vec<_> = adapters
        .into_iter()
        .enumerate()
        .map(|(t, adapter)| {
            let machine = machine.clone();
            std::thread::spawn(move || {
                let _g = machine.enter();
                let hw = hw as PVOID;
                let adapter = adapter as PVP_DMA_ADAPTER;
                let length = 60 * 1024;
                let user = machine.user_alloc(length, UserProt::ReadWrite);
                let data = pattern(length, t as u64 + 1);
                user.write(0, &data);
                // SAFETY: exported C ABI over a live buffer.
                let mdl = unsafe {
                    VideoPortLockBuffer(
                        hw,
                        user.as_ptr().cast(),
                        length as u32,
                        VP_LOCK_OPERATION::VpReadAccess,
                    )
                };
                assert!(!mdl.is_null());
                let recorder = Recorder::new();
                let view = machine.device_view(pdo);
                // Fewer under Miri, which interprets every byte moved.
                for round in 0..if cfg!(miri) { 3 } else { 50 } {
                    let mut received = Vec::new();
                    let mut offset = 0u32;
                    while (offset as usize) < length {
                        let mut chunk = length as u32 - offset;
                        // SAFETY: as above.
                        let status = unsafe {
                            VideoPortStartDma(
                                hw,
                                adapter,
                                mdl,
                                offset,
                                &mut chunk,
                                Some(record_execute),
                                recorder.context(),
                                TRUE,
                            )
                        };
                        assert_eq!(status, NO_ERROR);
                        let delivery = loop {
                            machine.run_until_idle();
                            if let Some(d) = recorder.take().pop() {
                                break d;
                            }
                            std::thread::yield_now();
                        };
                        for &(address, bytes) in &delivery.elements {
                            let mut part = vec![0; bytes as usize];
                            view.read(address, &mut part).expect("mapped");
                            received.extend_from_slice(&part);
                        }
                        // SAFETY: as above.
                        let status =
                            unsafe { VideoPortCompleteDma(hw, adapter, delivery.list, TRUE) };
                        assert_eq!(status, NO_ERROR);
                        offset += chunk;
                    }
                    assert!(received == data, "thread {t} round {round}: bytes differ");
                }
                // SAFETY: as above.
                unsafe { VideoPortUnlockBuffer(hw, mdl) };
                machine.user_free(user);
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("transfer thread");
    }
    for adapter in adapters {
        rig.put_adapter(adapter as PVP_DMA_ADAPTER);
    }
    assert!(rig.remove_device().is_empty());
    drop(rig);
    machine.assert_clean();
}
