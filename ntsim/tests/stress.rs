//! Volume, concurrency and fault sweeps.

mod common;

use common::*;
use ddk_sys::*;
use ntsim::pool::ExAllocatePool2;
use ntsim::{fault, FaultKind, Machine, UserProt, PAGE};

/// Transfers of the volume test, and per thread of the two-thread test: under Miri, which
/// runs these some thousand times slower, fewer (the same paths, each still many times).
const TRANSFERS: usize = if cfg!(miri) { 100 } else { 10_000 };
const PER_THREAD: usize = if cfg!(miri) { 20 } else { 500 };

#[test]
fn ten_thousand_transfers_end_with_zero_leaks_and_one_allocation_each() {
    let m = machine_with(|c| c.user_memory = ntsim::Placement::Interleaved);
    let _g = m.enter();
    let pdo = m.create_pdo("dev32");
    let (a, _) = get_adapter(pdo, desc(true, 32, 0x10000));
    let buf = m.user_alloc(16 * PAGE, UserProt::ReadWrite);
    let data = pattern(16 * PAGE, 3);
    buf.write(0, &data);
    let mdl = lock_user(&buf, 0, 16 * PAGE, LOCK_OPERATION::IoReadAccess);
    let view = m.device_view(pdo);
    let log = Log::default();
    let ctx = Ctx { log: &log, tag: 0 };
    let before = m.pool_stats();
    for i in 0..TRANSFERS {
        let offset = (i * 977) % (8 * PAGE);
        let len = 1 + (i * 7919) % (8 * PAGE);
        assert_eq!(
            get_sg(a, mdl, offset, len as u32, true, &ctx),
            STATUS_SUCCESS
        );
        let list = log
            .0
            .lock()
            .unwrap()
            .pop()
            .expect("immediate callback")
            .list;
        if i % 97 == 0 {
            assert_eq!(
                device_read(&view, list),
                &data[offset..offset + len],
                "transfer {i}"
            );
        }
        put_sg(a, list, true);
    }
    let after = m.pool_stats();
    assert_eq!(
        after.allocations_total - before.allocations_total,
        TRANSFERS as u64,
        "one list allocation per transfer"
    );
    assert_eq!(
        (after.outstanding, after.outstanding_bytes),
        (before.outstanding, before.outstanding_bytes)
    );
    assert_eq!(m.free_map_registers(), 256);
    unlock_free(mdl);
    put_adapter(a);
    m.user_free(buf);
    m.assert_clean();
}

#[test]
fn two_threads_drive_one_machine() {
    let m = machine_with(|c| {
        c.total_map_registers = 12;
        c.max_map_registers_per_adapter = 8;
    });
    let pdo = m.create_pdo("dev");
    let lock = Box::into_raw(Box::new(0 as KSPIN_LOCK)) as usize;
    let counter = Box::into_raw(Box::new(0u64)) as usize;
    let threads: Vec<_> = (0..2u8)
        .map(|t| {
            let m = m.clone();
            std::thread::spawn(move || {
                let _g = m.enter();
                let (a, _) = get_adapter(pdo, desc(true, 64, 0x8000));
                let buf = m.user_alloc(8 * PAGE, UserProt::ReadWrite);
                let data = pattern(8 * PAGE, t);
                buf.write(0, &data);
                let mdl = lock_user(&buf, 0, 8 * PAGE, LOCK_OPERATION::IoReadAccess);
                let view = m.device_view(pdo);
                let log = Log::default();
                let ctx = Ctx {
                    log: &log,
                    tag: t as usize,
                };
                for i in 0..PER_THREAD {
                    let (offset, len) = ((i * 131) % PAGE, 1 + (i * 4099) % (6 * PAGE));
                    assert_eq!(
                        get_sg(a, mdl, offset, len as u32, true, &ctx),
                        STATUS_SUCCESS
                    );
                    // The other thread may hold registers: wait for ours by running pending work.
                    let list = loop {
                        if let Some(c) = log.0.lock().unwrap().pop() {
                            break c.list;
                        }
                        m.run_until_idle();
                        std::thread::yield_now();
                    };
                    assert_eq!(device_read(&view, list), &data[offset..offset + len]);
                    put_sg(a, list, true);
                    // SAFETY: the lock and counter outlive both threads.
                    unsafe {
                        let old = KeAcquireSpinLockRaiseToDpc(lock as *mut KSPIN_LOCK);
                        *(counter as *mut u64) += 1;
                        KeReleaseSpinLock(lock as *mut KSPIN_LOCK, old);
                    }
                }
                m.run_until_idle();
                unlock_free(mdl);
                put_adapter(a);
                m.user_free(buf);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // SAFETY: both threads are done; reclaim the boxes.
    let total = unsafe {
        drop(Box::from_raw(lock as *mut KSPIN_LOCK));
        *Box::from_raw(counter as *mut u64)
    };
    assert_eq!(
        total,
        2 * PER_THREAD as u64,
        "the spin lock excluded the other processor"
    );
    m.assert_clean();
}

/// A driver-like scenario that handles every failure by undoing what it did.
fn scenario(m: &Machine) -> Result<(), &'static str> {
    let pdo = m.create_pdo("dev");
    let (a, _) = get_adapter(pdo, desc(true, 32, 0x10000));
    if a.is_null() {
        return Err("no adapter");
    }
    let result = (|| {
        let mut logical = PHYSICAL_ADDRESS::default();
        // SAFETY: live adapter at PASSIVE_LEVEL.
        let common = unsafe { ops(a).AllocateCommonBuffer.unwrap()(a, 256, &mut logical, TRUE) };
        if common.is_null() {
            return Err("no common buffer");
        }
        let inner = (|| {
            let ctx_mem = ExAllocatePool2(
                POOL_FLAG_NON_PAGED,
                core::mem::size_of::<Ctx>(),
                0x7874_6378,
            );
            if ctx_mem.is_null() {
                return Err("no context");
            }
            let log = Log::default();
            let ctx = ctx_mem as *mut Ctx;
            // SAFETY: fresh pool of the right size.
            unsafe { ctx.write(Ctx { log: &log, tag: 0 }) };
            let buf = m.user_alloc(3 * PAGE, UserProt::ReadWrite);
            let r = (|| {
                // SAFETY: a range inside the live user buffer.
                let mdl = unsafe {
                    IoAllocateMdl(
                        buf.as_ptr().cast(),
                        3 * PAGE as u32,
                        FALSE,
                        FALSE,
                        core::ptr::null_mut(),
                    )
                };
                if mdl.is_null() {
                    return Err("no MDL");
                }
                // SAFETY: a fresh MDL over the live buffer.
                let st =
                    unsafe { VprtProbeAndLockPages(mdl, UserMode, LOCK_OPERATION::IoReadAccess) };
                assert_eq!(st, STATUS_SUCCESS);
                // SAFETY: `ctx` is live for the transfer.
                let st = get_sg(a, mdl, 0, 3 * PAGE as u32, true, unsafe { &*ctx });
                let r = if st == STATUS_SUCCESS {
                    put_sg(a, log.calls()[0].list, true);
                    Ok(())
                } else {
                    assert!(log.calls().is_empty(), "a failed Get never calls back");
                    Err("no list")
                };
                unlock_free(mdl);
                r
            })();
            m.user_free(buf);
            // SAFETY: freeing the context block.
            unsafe { ExFreePoolWithTag(ctx_mem, 0x7874_6378) };
            r
        })();
        // SAFETY: matching free of the common buffer.
        unsafe { ops(a).FreeCommonBuffer.unwrap()(a, 256, logical, common, TRUE) };
        inner
    })();
    put_adapter(a);
    result
}

#[test]
fn fault_sweeps_every_failure_point_ends_clean() {
    for kind in [
        FaultKind::AdapterRequest,
        FaultKind::CommonBuffer,
        FaultKind::PoolAllocation,
        FaultKind::MdlAllocation,
        FaultKind::ScatterGatherList,
    ] {
        let report = fault::sweep(kind, scenario);
        assert_eq!(
            report.points, 1,
            "{kind:?}: the scenario makes one request of each kind"
        );
        assert_eq!(
            report.errors, 1,
            "{kind:?}: the failure surfaced as an error"
        );
    }
}

#[test]
#[should_panic(expected = "left the machine dirty")]
fn a_sweep_catches_a_leak_on_the_failure_path() {
    fault::sweep(FaultKind::MdlAllocation, |m| {
        // SAFETY: plain pool and MDL allocations; the leak on failure is deliberate.
        unsafe {
            let p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 0x6b61_656c);
            let mdl = IoAllocateMdl(p, 16, FALSE, FALSE, core::ptr::null_mut());
            if mdl.is_null() {
                return Err("forgot to free the pool block");
            }
            IoFreeMdl(mdl);
            ExFreePoolWithTag(p, 0);
        }
        let _ = m;
        Ok(())
    });
}
