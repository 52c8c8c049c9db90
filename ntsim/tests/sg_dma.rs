//! Scatter/gather DMA against the documented contract: immediate and deferred callbacks,
//! insufficient resources, element merging, bounce buffers, the device view.

mod common;

use common::*;
use ddk_sys::*;
use ntsim::verifier::{dma_code, iommu_fault};
use ntsim::{BusAddress, DmaFaultKind, Placement, UserProt, PAGE};

#[test]
fn callback_runs_before_return_at_dispatch_and_device_reads_the_data() {
    let m = machine_with(|_| {});
    let _g = m.enter();
    let pdo = m.create_pdo("dev");
    let (a, granted) = get_adapter(pdo, desc(true, 64, 0x10000));
    assert_eq!(granted, 17, "BYTES_TO_PAGES(64 KiB) + 1");
    let buf = m.user_alloc(4 * PAGE, UserProt::ReadWrite);
    let data = pattern(3 * PAGE + 100, 7);
    buf.write(50, &data);
    let mdl = lock_user(&buf, 50, data.len(), LOCK_OPERATION::IoReadAccess);
    let log = Log::default();
    let ctx = Ctx { log: &log, tag: 1 };
    assert_eq!(
        get_sg(a, mdl, 0, data.len() as u32, true, &ctx),
        STATUS_SUCCESS
    );
    let calls = log.calls();
    assert_eq!(
        calls.len(),
        1,
        "registers were free: the callback runs before Get returns"
    );
    assert_eq!(calls[0].irql, DISPATCH_LEVEL);
    let list = calls[0].list;
    assert_eq!(device_read(&m.device_view(pdo), list), data);
    assert_eq!(
        m.free_map_registers(),
        256 - 4,
        "span of 3 pages + 100 bytes at offset 50 is 4 pages"
    );
    put_sg(a, list, true);
    assert_eq!(m.free_map_registers(), 256);
    unlock_free(mdl);
    put_adapter(a);
    m.user_free(buf);
    m.assert_clean();
}

#[test]
fn short_on_map_registers_defers_callbacks_until_put_in_fifo_order() {
    let m = machine_with(|c| {
        c.total_map_registers = 8;
        c.max_map_registers_per_adapter = 8;
    });
    let _g = m.enter();
    let pdo = m.create_pdo("dev");
    let (a, granted) = get_adapter(pdo, desc(true, 64, 0x10000));
    assert_eq!(granted, 8);
    let buf = m.user_alloc(16 * PAGE, UserProt::ReadWrite);
    let mdl = lock_user(&buf, 0, 16 * PAGE, LOCK_OPERATION::IoWriteAccess);
    let log = Log::default();
    let ctx: Vec<Ctx> = (0..3).map(|tag| Ctx { log: &log, tag }).collect();
    assert_eq!(
        get_sg(a, mdl, 0, 5 * PAGE as u32, false, &ctx[0]),
        STATUS_SUCCESS
    );
    assert_eq!(
        get_sg(a, mdl, 5 * PAGE, 4 * PAGE as u32, false, &ctx[1]),
        STATUS_SUCCESS
    );
    // One register would fit, but the queue is FIFO: it waits behind the 4-page request.
    assert_eq!(
        get_sg(a, mdl, 9 * PAGE, PAGE as u32, false, &ctx[2]),
        STATUS_SUCCESS
    );
    assert_eq!(log.tags(), vec![0], "only the first request had registers");
    assert_eq!(
        m.run_until_idle(),
        0,
        "nothing can run while registers are held"
    );
    put_sg(a, log.calls()[0].list, false);
    assert_eq!(
        log.tags(),
        vec![0],
        "deferred callbacks run from run_until_idle, not inside Put"
    );
    assert_eq!(m.run_until_idle(), 2);
    let calls = log.calls();
    assert_eq!(log.tags(), vec![0, 1, 2]);
    assert!(calls[1..].iter().all(|c| c.irql == DISPATCH_LEVEL));
    assert_eq!(
        elements(calls[1].list)
            .iter()
            .map(|e| e.Length)
            .sum::<u32>(),
        4 * PAGE as u32
    );
    put_sg(a, calls[1].list, false);
    put_sg(a, calls[2].list, false);
    unlock_free(mdl);
    put_adapter(a);
    m.assert_clean();
}

#[test]
fn more_registers_than_granted_is_insufficient_resources_without_callback() {
    let m = machine_with(|_| {});
    let _g = m.enter();
    let pdo = m.create_pdo("dev");
    let (a, granted) = get_adapter(pdo, desc(true, 64, 2 * PAGE as u32));
    assert_eq!(granted, 3);
    let buf = m.user_alloc(8 * PAGE, UserProt::ReadWrite);
    let mdl = lock_user(&buf, 0, 8 * PAGE, LOCK_OPERATION::IoReadAccess);
    let log = Log::default();
    let ctx = Ctx { log: &log, tag: 0 };
    // 3 pages exactly, but starting mid-page: spans 4 pages.
    assert_eq!(
        get_sg(a, mdl, 10, 3 * PAGE as u32, true, &ctx),
        STATUS_INSUFFICIENT_RESOURCES
    );
    m.run_until_idle();
    assert!(
        log.calls().is_empty(),
        "a refused request is never called back"
    );
    assert_eq!(
        m.pool_stats().outstanding,
        1,
        "only the MDL: no list was allocated"
    );
    unlock_free(mdl);
    put_adapter(a);
    m.assert_clean();
}

#[test]
fn physically_contiguous_pages_merge_and_lengths_add_up() {
    let m = machine_with(|c| c.seed = 42);
    let _g = m.enter();
    let pdo = m.create_pdo("dev");
    let (a, _) = get_adapter(pdo, desc(true, 64, 0x20000));
    let buf = m.user_alloc(24 * PAGE, UserProt::ReadWrite);
    let mdl = lock_user(&buf, 0, 24 * PAGE, LOCK_OPERATION::IoReadAccess);
    let pfns: Vec<u64> = (0..24)
        .map(|i| {
            m.physical_address(buf.as_ptr().wrapping_add(i * PAGE))
                .unwrap()
                .0
                >> 12
        })
        .collect();
    let breaks = pfns.windows(2).filter(|w| w[1] != w[0] + 1).count();
    assert!(
        breaks > 0 && breaks < 23,
        "the scrambler gives some contiguous and some scattered pages: {pfns:x?}"
    );
    let log = Log::default();
    let ctx = Ctx { log: &log, tag: 0 };
    assert_eq!(
        get_sg(a, mdl, 0, 24 * PAGE as u32, true, &ctx),
        STATUS_SUCCESS
    );
    let list = log.calls()[0].list;
    let els = elements(list);
    assert_eq!(
        els.len(),
        breaks + 1,
        "one element per physically contiguous run"
    );
    assert_eq!(
        els.iter().map(|e| e.Length as usize).sum::<usize>(),
        24 * PAGE
    );
    assert_eq!(
        els[0].Address.get(),
        pfns[0] << 12,
        "a 64-bit device gets the real pages, no bounce"
    );
    put_sg(a, list, true);
    unlock_free(mdl);
    put_adapter(a);
    m.assert_clean();
}

#[test]
fn device_without_scatter_gather_always_gets_one_element() {
    let m = machine_with(|c| c.seed = 7);
    let _g = m.enter();
    let pdo = m.create_pdo("dev");
    let (a, _) = get_adapter(pdo, desc(false, 64, 0x10000));
    let buf = m.user_alloc(8 * PAGE, UserProt::ReadWrite);
    let data = pattern(6 * PAGE, 3);
    buf.write(0, &data);
    let mdl = lock_user(&buf, 0, 6 * PAGE, LOCK_OPERATION::IoReadAccess);
    let log = Log::default();
    let ctx = Ctx { log: &log, tag: 0 };
    assert_eq!(
        get_sg(a, mdl, 0, 6 * PAGE as u32, true, &ctx),
        STATUS_SUCCESS
    );
    let list = log.calls()[0].list;
    assert_eq!(elements(list).len(), 1);
    let pa = |i: usize| {
        m.physical_address(buf.as_ptr().wrapping_add(i * PAGE))
            .unwrap()
            .0
    };
    assert!(
        (1..6).any(|i| pa(i) != pa(i - 1) + PAGE as u64),
        "seed 7 scatters these pages"
    );
    assert_ne!(
        elements(list)[0].Address.get(),
        pa(0),
        "so the element is a bounce run"
    );
    assert_eq!(
        device_read(&m.device_view(pdo), list),
        data,
        "the bounce run carries the data"
    );
    put_sg(a, list, true);
    unlock_free(mdl);
    put_adapter(a);
    m.assert_clean();
}

fn high_memory_machine() -> ntsim::Machine {
    machine_with(|c| c.user_memory = Placement::Above4G)
}

#[test]
fn to_device_bounce_for_a_32_bit_device_copies_data_below_4_gib() {
    let m = high_memory_machine();
    let _g = m.enter();
    let pdo = m.create_pdo("dev32");
    let (a, _) = get_adapter(pdo, desc(true, 32, 0x10000));
    let buf = m.user_alloc(4 * PAGE, UserProt::ReadWrite);
    assert!(m.physical_address(buf.as_ptr()).unwrap().0 >= 1 << 32);
    let data = pattern(3 * PAGE, 11);
    buf.write(0, &data);
    let mdl = lock_user(&buf, 0, data.len(), LOCK_OPERATION::IoReadAccess);
    let log = Log::default();
    let ctx = Ctx { log: &log, tag: 0 };
    assert_eq!(
        get_sg(a, mdl, 0, data.len() as u32, true, &ctx),
        STATUS_SUCCESS
    );
    let list = log.calls()[0].list;
    for e in elements(list) {
        assert!(
            e.Address.get() + e.Length as u64 <= 1 << 32,
            "element {:#x} is beyond the device's reach",
            e.Address.get()
        );
    }
    assert_eq!(device_read(&m.device_view(pdo), list), data);
    put_sg(a, list, true);
    unlock_free(mdl);
    put_adapter(a);
    m.assert_clean();
}

#[test]
fn from_device_bounce_is_stale_until_put_the_missing_flush_made_visible() {
    let m = high_memory_machine();
    let _g = m.enter();
    let pdo = m.create_pdo("dev32");
    let (a, _) = get_adapter(pdo, desc(true, 32, 0x10000));
    let buf = m.user_alloc(2 * PAGE, UserProt::ReadWrite);
    let mdl = lock_user(&buf, 0, 2 * PAGE, LOCK_OPERATION::IoWriteAccess);
    let log = Log::default();
    let ctx = Ctx { log: &log, tag: 0 };
    assert_eq!(
        get_sg(a, mdl, 0, 2 * PAGE as u32, false, &ctx),
        STATUS_SUCCESS
    );
    let list = log.calls()[0].list;
    let data = pattern(2 * PAGE, 99);
    device_write(&m.device_view(pdo), list, &data);
    assert_eq!(
        buf.to_vec(),
        vec![0; 2 * PAGE],
        "a driver reading before Put/Flush sees stale data"
    );
    put_sg(a, list, false);
    assert_eq!(buf.to_vec(), data, "Put copies the bounce pages back");
    unlock_free(mdl);
    put_adapter(a);
    m.assert_clean();
}

#[test]
fn flush_adapter_buffers_copies_back_before_put() {
    let m = high_memory_machine();
    let _g = m.enter();
    let pdo = m.create_pdo("dev32");
    let (a, _) = get_adapter(pdo, desc(true, 32, 0x10000));
    let buf = m.user_alloc(PAGE, UserProt::ReadWrite);
    let mdl = lock_user(&buf, 0, 100, LOCK_OPERATION::IoWriteAccess);
    let log = Log::default();
    let ctx = Ctx { log: &log, tag: 0 };
    assert_eq!(get_sg(a, mdl, 0, 100, false, &ctx), STATUS_SUCCESS);
    let list = log.calls()[0].list;
    let data = pattern(100, 5);
    device_write(&m.device_view(pdo), list, &data);
    // SAFETY: the adapter, the MDL and the range of the outstanding list.
    let flushed = at_dispatch(|| unsafe {
        ops(a).FlushAdapterBuffers.unwrap()(
            a,
            mdl,
            core::ptr::null_mut(),
            MmGetMdlVirtualAddress(mdl) as PVOID,
            100,
            FALSE,
        )
    });
    assert_eq!(flushed, TRUE);
    assert_eq!(&buf.to_vec()[..100], &data[..]);
    put_sg(a, list, false);
    unlock_free(mdl);
    put_adapter(a);
    m.assert_clean();
}

/// Two live lists over one buffer in opposite directions (found by the port_calls fuzzer): the
/// device may write through the from-device list although the to-device list maps the same
/// bus addresses read-only; once that list is put back, the read-only one refuses writes again.
#[test]
fn overlapping_lists_grant_the_device_what_either_allows() {
    let m = machine_with(|_| {});
    let _g = m.enter();
    let pdo = m.create_pdo("dev");
    let (a, _) = get_adapter(pdo, desc(true, 64, 0x10000));
    let buf = m.user_alloc(PAGE, UserProt::ReadWrite);
    let mdl = lock_user(&buf, 0, 64, LOCK_OPERATION::IoWriteAccess);
    let view = m.device_view(pdo);
    // Both orders: whichever list the HAL holds first must not decide.
    for to_device_first in [true, false] {
        let log = Log::default();
        let ctx = Ctx { log: &log, tag: 0 };
        for write_to_device in [to_device_first, !to_device_first] {
            assert_eq!(get_sg(a, mdl, 0, 64, write_to_device, &ctx), STATUS_SUCCESS);
        }
        let (first, second) = (log.calls()[0].list, log.calls()[1].list);
        let (to_device, from_device) = if to_device_first {
            (first, second)
        } else {
            (second, first)
        };
        let addr = BusAddress(elements(to_device)[0].Address.get());
        assert_eq!(
            addr.0,
            elements(from_device)[0].Address.get(),
            "no bounce: one bus address"
        );
        assert!(view.write(addr, &[0x5A]).is_ok());
        assert_eq!(buf.to_vec()[0], 0x5A);
        buf.write(0, &[0]);
        put_sg(a, from_device, false);
        assert_eq!(
            view.write(addr, &[1]).unwrap_err().kind,
            DmaFaultKind::WriteToReadOnly
        );
        assert_eq!(m.take_violations().len(), 1);
        put_sg(a, to_device, true);
    }
    unlock_free(mdl);
    put_adapter(a);
    m.assert_clean();
}

#[test]
fn a_64_bit_device_writes_straight_into_memory_above_4_gib() {
    let m = high_memory_machine();
    let _g = m.enter();
    let pdo = m.create_pdo("dev64");
    let (a, _) = get_adapter(pdo, desc(true, 64, 0x10000));
    let buf = m.user_alloc(PAGE, UserProt::ReadWrite);
    let mdl = lock_user(&buf, 0, PAGE, LOCK_OPERATION::IoWriteAccess);
    let log = Log::default();
    let ctx = Ctx { log: &log, tag: 0 };
    assert_eq!(get_sg(a, mdl, 0, PAGE as u32, false, &ctx), STATUS_SUCCESS);
    let list = log.calls()[0].list;
    assert!(
        elements(list)[0].Address.get() >= 1 << 32,
        "no bounce needed"
    );
    device_write(&m.device_view(pdo), list, &pattern(PAGE, 1));
    assert_eq!(
        buf.to_vec(),
        pattern(PAGE, 1),
        "no bounce, so no copy-back is needed"
    );
    put_sg(a, list, false);
    unlock_free(mdl);
    put_adapter(a);
    m.assert_clean();
}

#[test]
fn device_access_after_put_is_an_iommu_fault() {
    let m = machine_with(|_| {});
    let _g = m.enter();
    let pdo = m.create_pdo("dev");
    let (a, _) = get_adapter(pdo, desc(true, 64, 0x10000));
    let buf = m.user_alloc(PAGE, UserProt::ReadWrite);
    let mdl = lock_user(&buf, 0, 64, LOCK_OPERATION::IoReadAccess);
    let log = Log::default();
    let ctx = Ctx { log: &log, tag: 0 };
    assert_eq!(get_sg(a, mdl, 0, 64, true, &ctx), STATUS_SUCCESS);
    let list = log.calls()[0].list;
    let addr = BusAddress(elements(list)[0].Address.get());
    let view = m.device_view(pdo);
    let mut byte = [0u8; 1];
    assert!(view.read(addr, &mut byte).is_ok());
    assert_eq!(
        view.read(addr.add(64), &mut byte).unwrap_err().kind,
        DmaFaultKind::NotMapped,
        "mapping is byte-exact"
    );
    assert_eq!(
        view.write(addr, &[1]).unwrap_err().kind,
        DmaFaultKind::WriteToReadOnly,
        "a to-device list is read-only"
    );
    put_sg(a, list, true);
    let fault = view.read(addr, &mut byte).unwrap_err();
    assert_eq!(fault.kind, DmaFaultKind::NotMapped);
    let v = m.take_violations();
    assert_eq!(v.len(), 3);
    assert!(v.iter().all(|v| v.is_dma(dma_code::IOMMU_FAULT)));
    assert_eq!(
        v[2].params,
        [pdo.as_ptr() as u64, addr.0, iommu_fault::NOT_MAPPED]
    );
    assert_eq!(v[1].params[2], iommu_fault::WRITE_TO_READ_ONLY);
    unlock_free(mdl);
    put_adapter(a);
    m.assert_clean();
}

#[test]
fn another_device_cannot_reach_a_mapping() {
    let m = machine_with(|_| {});
    let _g = m.enter();
    let (pdo, other) = (m.create_pdo("dev"), m.create_pdo("other"));
    let (a, _) = get_adapter(pdo, desc(true, 64, 0x10000));
    let buf = m.user_alloc(PAGE, UserProt::ReadWrite);
    let mdl = lock_user(&buf, 0, 64, LOCK_OPERATION::IoReadAccess);
    let log = Log::default();
    let ctx = Ctx { log: &log, tag: 0 };
    assert_eq!(get_sg(a, mdl, 0, 64, true, &ctx), STATUS_SUCCESS);
    let list = log.calls()[0].list;
    let mut byte = [0u8; 1];
    assert!(m
        .device_view(other)
        .read(BusAddress(elements(list)[0].Address.get()), &mut byte)
        .is_err());
    assert_eq!(m.take_violations().len(), 1);
    put_sg(a, list, true);
    unlock_free(mdl);
    put_adapter(a);
    m.assert_clean();
}

#[test]
fn common_buffer_is_contiguous_below_the_limit_and_shared_with_the_device() {
    let m = machine_with(|c| c.contiguous_memory = Placement::Above4G);
    let _g = m.enter();
    let pdo = m.create_pdo("dev32");
    let (a, _) = get_adapter(pdo, desc(true, 32, 0x10000));
    let mut logical = PHYSICAL_ADDRESS::default();
    // SAFETY: a live adapter at PASSIVE_LEVEL.
    let va = unsafe { ops(a).AllocateCommonBuffer.unwrap()(a, 3 * PAGE as u32, &mut logical, TRUE) }
        as *mut u8;
    assert!(!va.is_null());
    assert!(
        logical.get() + 3 * PAGE as u64 <= 1 << 32,
        "a 32-bit device's common buffer lies below 4 GiB"
    );
    for i in 0..3 {
        assert_eq!(
            m.physical_address(va.wrapping_add(i * PAGE)).unwrap().0,
            logical.get() + (i * PAGE) as u64
        );
    }
    let view = m.device_view(pdo);
    view.write(BusAddress(logical.get() + 10), b"hi").unwrap();
    // SAFETY: the common buffer is 3 pages of live memory.
    assert_eq!(unsafe { core::slice::from_raw_parts(va.add(10), 2) }, b"hi");
    // SAFETY: matching free of the allocation above.
    unsafe { ops(a).FreeCommonBuffer.unwrap()(a, 3 * PAGE as u32, logical, va.cast(), TRUE) };
    assert!(
        view.write(BusAddress(logical.get()), b"x").is_err(),
        "freed: the device loses access"
    );
    assert_eq!(m.take_violations().len(), 1);
    put_adapter(a);
    m.assert_clean();
}

#[test]
fn build_scatter_gather_list_uses_the_callers_buffer_and_checks_its_size() {
    let m = machine_with(|_| {});
    let _g = m.enter();
    let pdo = m.create_pdo("dev");
    let (a, _) = get_adapter(pdo, desc(true, 64, 0x10000));
    let buf = m.user_alloc(4 * PAGE, UserProt::ReadWrite);
    let mdl = lock_user(&buf, 0, 4 * PAGE, LOCK_OPERATION::IoReadAccess);
    let (mut size, mut regs) = (0u32, 0u32);
    // SAFETY: a live adapter, a locked MDL, valid out-parameters.
    let st = unsafe {
        ops(a).CalculateScatterGatherList.unwrap()(
            a,
            mdl,
            buf.as_ptr().add(1).cast(),
            2 * PAGE as u32,
            &mut size,
            &mut regs,
        )
    };
    assert_eq!(st, STATUS_SUCCESS);
    assert_eq!((size as usize, regs), (SCATTER_GATHER_LIST::size_for(3), 3));
    let mut storage = vec![0u64; 64];
    let sp = storage.as_mut_ptr();
    let log = Log::default();
    let ctx = Ctx { log: &log, tag: 0 };
    let before = m.pool_stats();
    let build = |len: u32| {
        at_dispatch(|| {
            // SAFETY: valid adapter, locked MDL, caller buffer of `len` bytes.
            unsafe {
                ops(a).BuildScatterGatherList.unwrap()(
                    a,
                    core::ptr::null_mut(),
                    mdl,
                    buf.as_ptr().add(1).cast(),
                    2 * PAGE as u32,
                    Some(on_list),
                    &ctx as *const Ctx as PVOID,
                    TRUE,
                    sp.cast(),
                    len,
                )
            }
        })
    };
    assert_eq!(build(size - 1), STATUS_BUFFER_TOO_SMALL);
    assert!(log.calls().is_empty());
    assert_eq!(build(size), STATUS_SUCCESS);
    assert_eq!(
        log.calls()[0].list,
        sp as usize,
        "the list is built in place"
    );
    assert_eq!(m.pool_stats(), before, "no pool allocation");
    put_sg(a, log.calls()[0].list, true);
    unlock_free(mdl);
    put_adapter(a);
    m.assert_clean();
}

#[test]
fn adapter_address_width_and_dma_adapter_info() {
    let m = machine_with(|_| {});
    let _g = m.enter();
    let pdo = m.create_pdo("dev");
    let mut d = desc(true, 0, 0x10000);
    d.Version = DEVICE_DESCRIPTION_VERSION3;
    d.DmaAddressWidth = 28;
    let (a, _) = get_adapter(pdo, d);
    let mut info = DMA_ADAPTER_INFO {
        Version: DMA_ADAPTER_INFO_VERSION1,
        ..Default::default()
    };
    // SAFETY: live adapter, valid info.
    let st = unsafe { ops(a).GetDmaAdapterInfo.unwrap()(a, &mut info) };
    assert_eq!(st, STATUS_SUCCESS);
    assert_eq!(info.DmaAddressWidth, 28);
    // SAFETY: as above.
    assert_eq!(unsafe { ops(a).GetDmaAlignment.unwrap()(a) }, 1);
    // Size + 39 entries, pointer-sized: 320 bytes on x64, 160 on x86.
    assert_eq!(ops(a).Size as usize, 40 * core::mem::size_of::<usize>());
    // SAFETY: `a` is a DMA_ADAPTER.
    let version = unsafe { (*a).Version };
    assert_eq!(version, 1, "IoGetDmaAdapter always returns version 1");
    let mut logical = PHYSICAL_ADDRESS::default();
    // SAFETY: live adapter at PASSIVE_LEVEL.
    let va = unsafe { ops(a).AllocateCommonBuffer.unwrap()(a, 100, &mut logical, FALSE) };
    assert!(
        logical.get() + 100 <= 1 << 28,
        "28-bit device: common buffer below 256 MiB"
    );
    // SAFETY: matching free.
    unsafe { ops(a).FreeCommonBuffer.unwrap()(a, 100, logical, va, FALSE) };
    put_adapter(a);
    m.assert_clean();
}
