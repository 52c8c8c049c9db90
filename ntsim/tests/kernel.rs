//! Kernel services: IRQL, pool, MDLs and probes, DPCs, events, spin locks, strict mode,
//! KeBugCheckEx.

mod common;

use common::*;
use ddk_sys::*;
use ntsim::pool::ExAllocatePool2;
use ntsim::verifier::{bugcheck, ntsim_code, pool_code};
use ntsim::{LeakKind, Placement, UserProt, PAGE};

#[test]
fn irql_raise_lower_and_wrong_direction() {
    let m = machine_with(|_| {});
    let _g = m.enter();
    assert_eq!(KeGetCurrentIrql(), PASSIVE_LEVEL);
    // SAFETY: a raise and its matching lower.
    let old = unsafe { KeRaiseIrql(DISPATCH_LEVEL) };
    assert_eq!((old, KeGetCurrentIrql()), (PASSIVE_LEVEL, DISPATCH_LEVEL));
    // SAFETY: deliberately wrong directions: ntsim reports and leaves IRQL unchanged.
    unsafe {
        KeRaiseIrql(PASSIVE_LEVEL);
        assert_eq!(KeGetCurrentIrql(), DISPATCH_LEVEL);
        KeLowerIrql(old);
        KeLowerIrql(DISPATCH_LEVEL);
    }
    assert_eq!(KeGetCurrentIrql(), PASSIVE_LEVEL);
    let v = m.take_violations();
    assert_eq!(
        v.iter().map(|v| v.bugcheck).collect::<Vec<_>>(),
        [
            bugcheck::IRQL_NOT_GREATER_OR_EQUAL,
            bugcheck::IRQL_NOT_LESS_OR_EQUAL
        ]
    );
    m.assert_clean();
}

#[test]
fn each_thread_has_its_own_irql() {
    let m = machine_with(|_| {});
    let _g = m.enter();
    at_dispatch(|| {
        let m2 = m.clone();
        let other = std::thread::spawn(move || {
            let _g = m2.enter();
            KeGetCurrentIrql()
        });
        assert_eq!(other.join().unwrap(), PASSIVE_LEVEL);
        assert_eq!(KeGetCurrentIrql(), DISPATCH_LEVEL);
    });
    m.assert_clean();
}

#[test]
fn leaving_the_machine_at_raised_irql_is_reported() {
    let m = machine_with(|_| {});
    {
        let _g = m.enter();
        // SAFETY: deliberately never lowered.
        unsafe { KeRaiseIrql(DISPATCH_LEVEL) };
    }
    assert_eq!(m.take_violations()[0].code, ntsim_code::LEFT_AT_RAISED_IRQL);
}

const TAG: u32 = u32::from_le_bytes(*b"Test");

#[test]
fn pool_zeroing_stats_and_misuse() {
    let m = machine_with(|_| {});
    let _g = m.enter();
    // SAFETY: allocations and frees through the pool API; misuse is under test.
    unsafe {
        let p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 100, TAG) as *mut u8;
        assert!(
            core::slice::from_raw_parts(p, 100).iter().all(|&b| b == 0),
            "ExAllocatePool2 zeroes"
        );
        let q = ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_UNINITIALIZED, 100, TAG) as *mut u8;
        assert_ne!(*q, 0, "uninitialised pool is not silently zero");
        let s = m.pool_stats();
        assert_eq!(
            (s.allocations_total, s.outstanding, s.outstanding_bytes),
            (2, 2, 200)
        );
        ExFreePoolWithTag(p.cast(), u32::from_le_bytes(*b"Nope"));
        let v = m.take_violations();
        assert_eq!(
            (v[0].bugcheck, v[0].code),
            (bugcheck::BAD_POOL_CALLER, pool_code::WRONG_TAG)
        );
        assert!(
            v[0].message.contains("'Test'") && v[0].message.contains("'Nope'"),
            "{}",
            v[0]
        );
        assert_eq!(
            m.pool_stats().outstanding,
            2,
            "a wrong-tag free frees nothing"
        );
        ExFreePoolWithTag(p.cast(), TAG);
        ExFreePoolWithTag(p.cast(), TAG);
        assert_eq!(m.take_violations()[0].code, pool_code::DOUBLE_FREE);
        ExFreePool(q.add(8).cast());
        assert_eq!(m.take_violations()[0].code, pool_code::INVALID_ADDRESS);
        assert!(ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, 0).is_null());
        assert_eq!(m.take_violations()[0].code, pool_code::ZERO_TAG);
        at_dispatch(|| assert!(ExAllocatePool2(POOL_FLAG_PAGED, 8, TAG).is_null()));
        assert_eq!(m.take_violations()[0].code, pool_code::ALLOCATE_BAD_IRQL);
        let leaks = m.leaks();
        assert_eq!(leaks.count(LeakKind::Pool), 1);
        assert!(
            leaks
                .to_string()
                .contains("tag 'Test' (ExAllocatePool2, serial"),
            "{leaks}"
        );
        ExFreePool(q.cast());
    }
    let s = m.pool_stats();
    assert_eq!(
        (
            s.allocations_total,
            s.frees_total,
            s.outstanding,
            s.outstanding_bytes
        ),
        (2, 2, 0, 0)
    );
    m.assert_clean();
}

#[test]
fn probe_of_bad_user_ranges_fails_under_the_guard_and_leaves_the_mdl_unlocked() {
    let m = machine_with(|_| {});
    let _g = m.enter();
    let rw = m.user_alloc(2 * PAGE, UserProt::ReadWrite);
    let ro = m.user_alloc(PAGE, UserProt::ReadOnly);
    let kernel = m.user_alloc(PAGE, UserProt::ReadWrite);
    let probe = |va: *mut u8, len: u32, mode, op| {
        // SAFETY: MDLs over arbitrary addresses; the probe is what is under test.
        unsafe {
            let mdl = IoAllocateMdl(va.cast(), len, FALSE, FALSE, core::ptr::null_mut());
            let st = VprtProbeAndLockPages(mdl, mode, op);
            let locked = (*mdl).MdlFlags & MDL_PAGES_LOCKED != 0;
            if locked {
                MmUnlockPages(mdl);
            }
            IoFreeMdl(mdl);
            (st, locked)
        }
    };
    use LOCK_OPERATION as Op;
    assert_eq!(
        probe(rw.as_ptr(), 2 * PAGE as u32, UserMode, Op::IoWriteAccess),
        (STATUS_SUCCESS, true)
    );
    assert_eq!(
        probe(rw.as_ptr(), 2 * PAGE as u32 + 1, UserMode, Op::IoReadAccess),
        (STATUS_ACCESS_VIOLATION, false),
        "one byte past the end"
    );
    assert_eq!(
        probe(ro.as_ptr(), 10, UserMode, Op::IoReadAccess),
        (STATUS_SUCCESS, true)
    );
    assert_eq!(
        probe(ro.as_ptr(), 10, UserMode, Op::IoWriteAccess),
        (STATUS_ACCESS_VIOLATION, false),
        "read-only for write"
    );
    // SAFETY: a plain allocation.
    let pool = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, TAG) as *mut u8;
    assert_eq!(
        probe(pool, 64, UserMode, Op::IoReadAccess),
        (STATUS_ACCESS_VIOLATION, false),
        "kernel address in user mode"
    );
    assert_eq!(
        probe(pool, 64, KernelMode, Op::IoReadAccess),
        (STATUS_SUCCESS, true)
    );
    let freed = kernel.as_ptr();
    m.user_free(kernel);
    assert_eq!(
        probe(freed, 10, UserMode, Op::IoReadAccess),
        (STATUS_ACCESS_VIOLATION, false),
        "freed user memory"
    );
    // SAFETY: freeing the pool block allocated above.
    unsafe { ExFreePoolWithTag(pool.cast(), TAG) };
    m.user_free(rw);
    m.user_free(ro);
    m.assert_clean();
}

#[test]
fn unguarded_probe_of_a_bad_range_is_reported() {
    let m = machine_with(|_| {});
    let _g = m.enter();
    let buf = m.user_alloc(PAGE, UserProt::ReadOnly);
    // SAFETY: a bad probe without the guard: under test.
    unsafe {
        let mdl = IoAllocateMdl(buf.as_ptr().cast(), 10, FALSE, FALSE, core::ptr::null_mut());
        MmProbeAndLockPages(mdl, UserMode, LOCK_OPERATION::IoWriteAccess);
        assert_eq!((*mdl).MdlFlags & MDL_PAGES_LOCKED, 0);
        IoFreeMdl(mdl);
    }
    let v = m.take_violations();
    assert_eq!((v.len(), v[0].code), (1, ntsim_code::UNGUARDED_PROBE));
    m.assert_clean();
}

#[test]
fn mdl_lifecycle_flags_and_misuse() {
    let m = machine_with(|c| c.pool_memory = Placement::Above4G);
    let _g = m.enter();
    let buf = m.user_alloc(3 * PAGE, UserProt::ReadWrite);
    let mdl = lock_user(&buf, 100, 2 * PAGE, LOCK_OPERATION::IoModifyAccess);
    // SAFETY: a locked MDL and ntsim's MM routines.
    unsafe {
        assert_ne!((*mdl).MdlFlags & MDL_WRITE_OPERATION, 0);
        let pfns = core::slice::from_raw_parts(MmGetMdlPfnArray(mdl), 3);
        for (i, pfn) in pfns.iter().enumerate() {
            let pa = m.physical_address(buf.as_ptr().add(i * PAGE)).unwrap();
            assert_eq!(*pfn as u64, pa.0 >> 12);
        }
        let va = MmMapLockedPagesSpecifyCache(
            mdl,
            KernelMode,
            MEMORY_CACHING_TYPE::MmCached,
            core::ptr::null_mut(),
            0,
            MM_PAGE_PRIORITY::NormalPagePriority,
        );
        assert_eq!(
            va,
            buf.as_ptr().add(100).cast(),
            "the host mapping is the buffer itself"
        );
        assert_ne!((*mdl).MdlFlags & MDL_MAPPED_TO_SYSTEM_VA, 0);
        MmUnmapLockedPages(va, mdl);
        IoFreeMdl(mdl);
        assert_eq!(
            m.take_violations()[0].code,
            ntsim_code::MDL_MISUSE,
            "freeing a locked MDL"
        );
        assert_eq!(m.leaks().count(LeakKind::LockedPages), 1);
        unlock_free(mdl);
        MmUnlockPages(mdl);
        assert_eq!(
            m.take_violations()[0].code,
            ntsim_code::MDL_MISUSE,
            "unlocking a freed MDL"
        );
        let pool = ExAllocatePool2(POOL_FLAG_NON_PAGED, 3 * PAGE, TAG);
        assert!(
            MmGetPhysicalAddress(pool).get() >= 1 << 32,
            "pool placed above 4 GiB"
        );
        let np = IoAllocateMdl(pool, 3 * PAGE as u32, FALSE, FALSE, core::ptr::null_mut());
        MmBuildMdlForNonPagedPool(np);
        assert_ne!((*np).MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL, 0);
        assert_eq!((*np).MappedSystemVa, pool);
        IoFreeMdl(np);
        ExFreePoolWithTag(pool, TAG);
    }
    m.user_free(buf);
    m.assert_clean();
}

#[test]
fn locked_pages_survive_user_free_until_unlocked() {
    let m = machine_with(|_| {});
    let _g = m.enter();
    let buf = m.user_alloc(PAGE, UserProt::ReadWrite);
    let va = buf.as_ptr();
    let mdl = lock_user(&buf, 0, PAGE, LOCK_OPERATION::IoWriteAccess);
    let pa = m.physical_address(va).unwrap();
    m.user_free(buf);
    assert!(m.physical_address(va).is_none(), "the user range is gone");
    m.write_physical(pa, b"still here")
        .expect("the locked frame is still backed");
    unlock_free(mdl);
    assert!(
        m.write_physical(pa, b"x").is_err(),
        "released with the last lock"
    );
    m.assert_clean();
}

#[test]
fn contiguous_memory_respects_bounds() {
    let m = machine_with(|c| c.contiguous_memory = Placement::Above4G);
    let _g = m.enter();
    let hi = PHYSICAL_ADDRESS::new(0xFFFF_FFFF);
    // SAFETY: contiguous allocation and free.
    unsafe {
        let p = MmAllocateContiguousMemorySpecifyCache(
            5 * PAGE,
            PHYSICAL_ADDRESS::new(0),
            hi,
            PHYSICAL_ADDRESS::new(0),
            MEMORY_CACHING_TYPE::MmCached,
        );
        let base = MmGetPhysicalAddress(p).get();
        assert!(base + 5 * PAGE as u64 <= 1 << 32);
        for i in 0..5 {
            assert_eq!(
                MmGetPhysicalAddress((p as *mut u8).add(i * PAGE).cast()).get(),
                base + (i * PAGE) as u64
            );
        }
        assert_eq!(m.leaks().count(LeakKind::ContiguousMemory), 1);
        MmFreeContiguousMemory(p);
    }
    m.assert_clean();
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn dpc_routine(_dpc: *mut KDPC, ctx: PVOID, a1: PVOID, _a2: PVOID) {
    // SAFETY: tests pass a live Log.
    let log = unsafe { &*(ctx as *const Log) };
    log.0.lock().unwrap().push(Call {
        tag: a1 as usize,
        list: 0,
        irql: KeGetCurrentIrql(),
    });
}

#[test]
fn dpcs_run_fifo_at_dispatch_from_run_until_idle() {
    let m = machine_with(|_| {});
    let _g = m.enter();
    let log = Log::default();
    let zeroed = || -> KDPC {
        // SAFETY: all-zero bytes are a valid (uninitialised) kernel object of this plain-data type.
        unsafe { core::mem::zeroed() }
    };
    let mut dpcs: Vec<KDPC> = (0..3).map(|_| zeroed()).collect();
    // One pointer for every call: the kernel keeps the queued DPCs' addresses, which a fresh
    // `&mut dpcs[i]` (a borrow of the whole buffer) would invalidate.
    let d = dpcs.as_mut_ptr();
    // SAFETY: DPC objects that outlive their queueing.
    unsafe {
        for i in 0..3 {
            KeInitializeDpc(d.add(i), Some(dpc_routine), &log as *const Log as PVOID);
        }
        assert_eq!(
            KeInsertQueueDpc(d.add(0), 10 as PVOID, core::ptr::null_mut()),
            TRUE
        );
        assert_eq!(
            KeInsertQueueDpc(d.add(0), 11 as PVOID, core::ptr::null_mut()),
            FALSE,
            "already queued"
        );
        assert_eq!(
            KeInsertQueueDpc(d.add(1), 20 as PVOID, core::ptr::null_mut()),
            TRUE
        );
        assert_eq!(
            KeInsertQueueDpc(d.add(2), 30 as PVOID, core::ptr::null_mut()),
            TRUE
        );
        assert_eq!(KeRemoveQueueDpc(d.add(1)), TRUE);
        assert_eq!(KeRemoveQueueDpc(d.add(1)), FALSE);
    }
    assert!(
        log.calls().is_empty(),
        "DPCs never run inside KeInsertQueueDpc"
    );
    assert_eq!(m.leaks().count(LeakKind::QueuedDpc), 2);
    assert_eq!(m.run_until_idle(), 2);
    let calls = log.calls();
    assert_eq!(calls.iter().map(|c| c.tag).collect::<Vec<_>>(), [10, 30]);
    assert!(calls.iter().all(|c| c.irql == DISPATCH_LEVEL));
    assert_eq!(KeGetCurrentIrql(), PASSIVE_LEVEL);
    m.assert_clean();
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn set_event_dpc(_dpc: *mut KDPC, ctx: PVOID, _a1: PVOID, _a2: PVOID) {
    // SAFETY: tests pass a live KEVENT.
    unsafe { KeSetEvent(ctx.cast(), 0, FALSE) };
}

#[test]
fn wait_runs_pending_work_then_reports_a_wait_that_would_block_forever() {
    let m = machine_with(|_| {});
    let _g = m.enter();
    // SAFETY: all-zero bytes are a valid (uninitialised) kernel object of this plain-data type.
    let mut ev: KEVENT = unsafe { core::mem::zeroed() };
    // SAFETY: all-zero bytes are a valid (uninitialised) kernel object of this plain-data type.
    let mut dpc: KDPC = unsafe { core::mem::zeroed() };
    // One pointer for the DPC and the waits: the DPC signals the event while a wait is in
    // the kernel, which a `&mut ev` per wait would forbid.
    let ev: *mut KEVENT = &mut ev;
    // SAFETY: stack objects that outlive the waits.
    unsafe {
        KeInitializeEvent(ev, EVENT_TYPE::SynchronizationEvent, FALSE);
        KeInitializeDpc(&mut dpc, Some(set_event_dpc), ev.cast());
        KeInsertQueueDpc(&mut dpc, core::ptr::null_mut(), core::ptr::null_mut());
        let wait = |ev: *mut KEVENT, t: Option<i64>| {
            let mut t = t.map(PHYSICAL_ADDRESS);
            let tp = t.as_mut().map_or(core::ptr::null_mut(), |t| t as *mut _);
            KeWaitForSingleObject(ev.cast(), 0, KernelMode, FALSE, tp)
        };
        assert_eq!(
            wait(ev, None),
            STATUS_SUCCESS,
            "the queued DPC signals the event"
        );
        assert_eq!(
            wait(ev, Some(0)),
            ntsim::STATUS_TIMEOUT,
            "a synchronization event resets when a wait is satisfied"
        );
        assert_eq!(wait(ev, Some(-10_000)), ntsim::STATUS_TIMEOUT);
        assert_eq!(
            m.clock_us(),
            1000,
            "a 1 ms relative timeout advances the simulated clock"
        );
        assert_eq!(wait(ev, None), STATUS_UNSUCCESSFUL);
    }
    let v = m.take_violations();
    assert_eq!((v.len(), v[0].code), (1, ntsim_code::WAIT_FOREVER));
    m.assert_clean();
}

#[test]
fn spin_lock_irql_and_ownership() {
    let m = machine_with(|_| {});
    let _g = m.enter();
    let mut lock: KSPIN_LOCK = 0;
    // SAFETY: a live spin lock; the misuse is under test.
    unsafe {
        let old = KeAcquireSpinLockRaiseToDpc(&mut lock);
        assert_eq!(KeGetCurrentIrql(), DISPATCH_LEVEL);
        KeAcquireSpinLockAtDpcLevel(&mut lock);
        KeReleaseSpinLock(&mut lock, old);
        assert_eq!(KeGetCurrentIrql(), PASSIVE_LEVEL);
        at_dispatch(|| KeReleaseSpinLockFromDpcLevel(&mut lock));
    }
    let codes: Vec<u32> = m.take_violations().iter().map(|v| v.bugcheck).collect();
    assert_eq!(
        codes,
        [
            bugcheck::SPIN_LOCK_ALREADY_OWNED,
            bugcheck::SPIN_LOCK_NOT_OWNED
        ]
    );
    m.assert_clean();
}

#[test]
#[should_panic(expected = "ntsim strict mode: violation: bug check 0xc2")]
fn strict_mode_fails_at_the_next_harness_call() {
    let m = machine_with(|c| c.strict = true);
    let _g = m.enter();
    // SAFETY: a double free on purpose.
    unsafe {
        let p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, TAG);
        ExFreePoolWithTag(p, TAG);
        ExFreePoolWithTag(p, TAG);
    }
    m.run_until_idle();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "re-runs the test binary to watch it die (Miri cannot spawn processes)"
)]
fn kebugcheckex_prints_and_aborts_the_process() {
    if std::env::var_os("NTSIM_BUGCHECK_CHILD").is_some() {
        let m = machine_with(|_| {});
        let _g = m.enter();
        // SAFETY: KeBugCheckEx never returns; this child process exists to die here.
        unsafe { KeBugCheckEx(0xE6, 0x26, 1, 2, 3) };
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "kebugcheckex_prints_and_aborts_the_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("NTSIM_BUGCHECK_CHILD", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("KeBugCheckEx(0xe6 DMA: IOMMU fault"),
        "{stderr}"
    );
}
