//! Every verifier code ntsim reports, each triggered by the misuse it names.

mod common;

use common::*;
use ddk_sys::*;
use ntsim::verifier::{bugcheck, dma_code, ntsim_code, Violation};
use ntsim::{LeakKind, Machine, UserProt, PAGE};

struct Rig {
    m: Machine,
    a: *mut DMA_ADAPTER,
    buf: ntsim::UserBuffer,
    mdl: *mut MDL,
    log: Box<Log>,
}

impl Rig {
    fn new() -> (Rig, ntsim::EnterGuard) {
        let m = machine_with(|_| {});
        let g = m.enter();
        let pdo = m.create_pdo("dev");
        let (a, _) = get_adapter(pdo, desc(true, 64, 0x10000));
        let buf = m.user_alloc(4 * PAGE, UserProt::ReadWrite);
        let mdl = lock_user(&buf, 0, 2 * PAGE, LOCK_OPERATION::IoReadAccess);
        (
            Rig {
                m,
                a,
                buf,
                mdl,
                log: Box::default(),
            },
            g,
        )
    }
    fn ctx(&self) -> Ctx {
        Ctx {
            log: &*self.log,
            tag: 0,
        }
    }
    /// Asserts exactly one violation, of the DMA code given, and returns it.
    fn one(&self, code: u32) -> Violation {
        let v = self.m.take_violations();
        assert_eq!(v.len(), 1, "{v:#?}");
        assert!(v[0].is_dma(code), "expected 0xE6/{code:#x}, got {}", v[0]);
        v[0].clone()
    }
    fn finish(self) {
        unlock_free(self.mdl);
        put_adapter(self.a);
        self.m.user_free(self.buf);
        self.m.assert_clean();
    }
}

#[test]
fn x06_double_put_is_reported_and_not_a_use_after_free() {
    let (r, _g) = Rig::new();
    let ctx = r.ctx();
    assert_eq!(get_sg(r.a, r.mdl, 0, 100, true, &ctx), STATUS_SUCCESS);
    let list = r.log.calls()[0].list;
    put_sg(r.a, list, true);
    let stats = r.m.pool_stats();
    put_sg(r.a, list, true);
    let v = r.one(dma_code::SG_LIST_DOUBLE_FREE);
    assert_eq!(
        v.params[..2],
        [1, 2],
        "1 list allocated, this would be the 2nd free"
    );
    assert!(v.message.contains("already put"), "{v}");
    assert_eq!(r.m.pool_stats(), stats, "nothing was freed twice");
    r.finish();
}

#[test]
fn x06_foreign_list_from_another_adapter() {
    let (r, _g) = Rig::new();
    let (b, _) = get_adapter(r.m.create_pdo("other"), desc(true, 64, 0x10000));
    let ctx = r.ctx();
    assert_eq!(get_sg(r.a, r.mdl, 0, 100, true, &ctx), STATUS_SUCCESS);
    let list = r.log.calls()[0].list;
    put_sg(b, list, true);
    assert!(r
        .one(dma_code::SG_LIST_DOUBLE_FREE)
        .message
        .contains("belongs to"));
    put_sg(r.a, list, true);
    put_adapter(b);
    r.finish();
}

#[test]
fn x03_common_buffer_double_free_and_mismatched_free_free_nothing() {
    let (r, _g) = Rig::new();
    let f = ops(r.a);
    let mut logical = PHYSICAL_ADDRESS::default();
    // SAFETY: live adapter at PASSIVE_LEVEL.
    let va = unsafe { f.AllocateCommonBuffer.unwrap()(r.a, 100, &mut logical, TRUE) };
    // SAFETY: deliberately mismatched length; ntsim validates before touching anything.
    unsafe { f.FreeCommonBuffer.unwrap()(r.a, 200, logical, va, TRUE) };
    assert!(r
        .one(dma_code::COMMON_BUFFER_DOUBLE_FREE)
        .message
        .contains("freed as 200 bytes"));
    assert_eq!(
        r.m.leaks().count(LeakKind::CommonBuffer),
        1,
        "a mismatched free frees nothing"
    );
    // SAFETY: the matching free, then a second one.
    unsafe {
        f.FreeCommonBuffer.unwrap()(r.a, 100, logical, va, TRUE);
        f.FreeCommonBuffer.unwrap()(r.a, 100, logical, va, TRUE);
    }
    r.one(dma_code::COMMON_BUFFER_DOUBLE_FREE);
    r.finish();
}

#[test]
fn x07_x0a_x08_put_adapter_with_outstanding_work_reports_then_reclaims() {
    let m = machine_with(|c| {
        c.total_map_registers = 2;
        c.max_map_registers_per_adapter = 2;
    });
    let _g = m.enter();
    let pdo = m.create_pdo("dev");
    let (a, _) = get_adapter(pdo, desc(true, 64, 0x10000));
    let buf = m.user_alloc(4 * PAGE, UserProt::ReadWrite);
    let mdl = lock_user(&buf, 0, 4 * PAGE, LOCK_OPERATION::IoReadAccess);
    let mut logical = PHYSICAL_ADDRESS::default();
    // SAFETY: live adapter at PASSIVE_LEVEL.
    unsafe { ops(a).AllocateCommonBuffer.unwrap()(a, 100, &mut logical, TRUE) };
    let log = Log::default();
    let ctx = Ctx { log: &log, tag: 0 };
    assert_eq!(
        get_sg(a, mdl, 0, 2 * PAGE as u32, true, &ctx),
        STATUS_SUCCESS
    );
    assert_eq!(
        get_sg(a, mdl, 2 * PAGE, PAGE as u32, true, &ctx),
        STATUS_SUCCESS,
        "queued"
    );
    let leaks = m.leaks();
    assert_eq!(
        [
            LeakKind::CommonBuffer,
            LeakKind::ScatterGatherList,
            LeakKind::PendingDmaRequest
        ]
        .map(|k| leaks.count(k)),
        [1, 1, 1]
    );
    put_adapter(a);
    let codes: Vec<u32> = m.take_violations().iter().map(|v| v.code).collect();
    assert_eq!(
        codes,
        vec![
            dma_code::ADAPTER_PUT_WITH_COMMON_BUFFERS,
            dma_code::ADAPTER_PUT_WITH_CHANNELS,
            dma_code::ADAPTER_PUT_WITH_SG_LISTS
        ]
    );
    m.run_until_idle();
    assert_eq!(
        log.calls().len(),
        1,
        "the queued request died with its adapter"
    );
    assert_eq!(m.free_map_registers(), 2, "registers reclaimed");
    unlock_free(mdl);
    m.assert_clean();
}

#[test]
fn x18_x19_adapter_after_put_null_and_forged() {
    let (r, _g) = Rig::new();
    let ctx = r.ctx();
    let table = ops(r.a);
    // SAFETY: a NULL adapter through a valid table: under test.
    let st = at_dispatch(|| unsafe {
        table.GetScatterGatherList.unwrap()(
            core::ptr::null_mut(),
            core::ptr::null_mut(),
            r.mdl,
            r.buf.as_ptr().cast(),
            100,
            Some(on_list),
            &ctx as *const Ctx as PVOID,
            TRUE,
        )
    });
    assert_eq!(st, STATUS_INVALID_PARAMETER);
    r.one(dma_code::NULL_ADAPTER);
    let mut forged = DMA_ADAPTER {
        Version: 1,
        Size: 16,
        DmaOperations: ops(r.a),
    };
    assert_eq!(
        get_sg(&mut forged, r.mdl, 0, 100, true, &ctx),
        STATUS_INVALID_PARAMETER
    );
    r.one(dma_code::ADAPTER_AFTER_PUT);
    let (b, _) = get_adapter(r.m.create_pdo("b"), desc(true, 64, 0x10000));
    let table = ops(b);
    put_adapter(b);
    // SAFETY: the table is static; the adapter pointer is stale, which is under test.
    assert_eq!(unsafe { table.GetDmaAlignment.unwrap()(b) }, 1);
    assert!(r
        .one(dma_code::ADAPTER_AFTER_PUT)
        .message
        .contains("already released"));
    assert!(r.log.calls().is_empty());
    r.finish();
}

#[test]
fn x0e_unlocked_mdl() {
    let (r, _g) = Rig::new();
    // SAFETY: a fresh MDL over live memory, deliberately not locked.
    let mdl = unsafe {
        IoAllocateMdl(
            r.buf.as_ptr().cast(),
            100,
            FALSE,
            FALSE,
            core::ptr::null_mut(),
        )
    };
    let ctx = r.ctx();
    assert_eq!(
        get_sg(r.a, mdl, 0, 100, true, &ctx),
        STATUS_INVALID_PARAMETER
    );
    assert_eq!(r.one(dma_code::UNLOCKED_BUFFER).params[0], mdl as u64);
    // SAFETY: unlocked MDL from IoAllocateMdl.
    unsafe { IoFreeMdl(mdl) };
    r.finish();
}

#[test]
fn x1f_x24_x21_ranges_outside_the_mdl_and_zero_length() {
    let (r, _g) = Rig::new();
    let ctx = r.ctx();
    let at = |va: usize, len: u32| {
        at_dispatch(|| {
            // SAFETY: valid adapter and MDL; the range is what is under test.
            unsafe {
                ops(r.a).GetScatterGatherList.unwrap()(
                    r.a,
                    core::ptr::null_mut(),
                    r.mdl,
                    va as PVOID,
                    len,
                    Some(on_list),
                    &ctx as *const Ctx as PVOID,
                    TRUE,
                )
            }
        })
    };
    let base = r.buf.as_ptr() as usize;
    assert_eq!(at(base - 1, 10), STATUS_INVALID_PARAMETER);
    assert_eq!(
        r.one(dma_code::INVALID_DMA_BUFFER).params[0],
        1,
        "before the MDL"
    );
    assert_eq!(at(base + 2 * PAGE, 10), STATUS_INVALID_PARAMETER);
    assert_eq!(
        r.one(dma_code::INVALID_DMA_BUFFER).params[0],
        2,
        "after the MDL"
    );
    assert_eq!(at(base + PAGE, PAGE as u32 + 5), STATUS_INVALID_PARAMETER);
    assert_eq!(
        r.one(dma_code::BUFFER_TOO_SMALL).params[0],
        5,
        "5 bytes past the end"
    );
    assert_eq!(at(base, 0), STATUS_INVALID_PARAMETER);
    r.one(dma_code::ZERO_LENGTH);
    assert!(r.log.calls().is_empty());
    r.finish();
}

#[test]
fn x13_wrong_irql_for_get_put_and_common_buffer() {
    let (r, _g) = Rig::new();
    let ctx = r.ctx();
    // SAFETY: valid arguments, called at PASSIVE_LEVEL on purpose.
    let st = unsafe {
        ops(r.a).GetScatterGatherList.unwrap()(
            r.a,
            core::ptr::null_mut(),
            r.mdl,
            r.buf.as_ptr().cast(),
            10,
            Some(on_list),
            &ctx as *const Ctx as PVOID,
            TRUE,
        )
    };
    assert!(!st.is_success());
    assert_eq!(
        r.one(dma_code::WRONG_IRQL).params,
        [1, DISPATCH_LEVEL as u64, PASSIVE_LEVEL as u64]
    );
    let mut logical = PHYSICAL_ADDRESS::default();
    // SAFETY: valid arguments at DISPATCH_LEVEL on purpose.
    let va = at_dispatch(|| unsafe {
        ops(r.a).AllocateCommonBuffer.unwrap()(r.a, 10, &mut logical, TRUE)
    });
    assert!(va.is_null());
    assert_eq!(
        r.one(dma_code::WRONG_IRQL).params,
        [2, PASSIVE_LEVEL as u64, DISPATCH_LEVEL as u64]
    );
    r.finish();
}

#[test]
fn x16_flush_of_a_buffer_that_is_not_mapped() {
    let (r, _g) = Rig::new();
    // SAFETY: valid adapter and MDL; nothing is mapped.
    let ok = unsafe {
        ops(r.a).FlushAdapterBuffers.unwrap()(
            r.a,
            r.mdl,
            core::ptr::null_mut(),
            r.buf.as_ptr().cast(),
            10,
            TRUE,
        )
    };
    assert_eq!(ok, FALSE);
    r.one(dma_code::FLUSH_NOT_MAPPED);
    r.finish();
}

#[test]
fn x25_unknown_description_version_and_slave_dma_not_simulated() {
    let m = machine_with(|_| {});
    let _g = m.enter();
    let pdo = m.create_pdo("dev");
    let mut d = desc(true, 64, 0x1000);
    d.Version = 4;
    assert!(get_adapter(pdo, d).0.is_null());
    let v = m.take_violations();
    assert!(v.len() == 1 && v[0].is_dma(dma_code::UNKNOWN_DESCRIPTION_VERSION));
    let mut d = desc(true, 64, 0x1000);
    d.Master = FALSE;
    assert!(get_adapter(pdo, d).0.is_null());
    let v = m.take_violations();
    assert_eq!(
        (v[0].bugcheck, v[0].code),
        (bugcheck::NTSIM_CHECK, ntsim_code::NOT_IMPLEMENTED)
    );
    // SAFETY: all-zero bytes are a valid (uninitialised) kernel object of this plain-data type.
    let mut fake: DEVICE_OBJECT = unsafe { core::mem::zeroed() };
    let mut d = desc(true, 64, 0x1000);
    let mut n = 0;
    // SAFETY: a zeroed DEVICE_OBJECT the machine did not create: under test.
    assert!(unsafe { IoGetDmaAdapter(&mut fake, &mut d, &mut n) }.is_null());
    assert_eq!(m.take_violations()[0].code, ntsim_code::NOT_A_PDO);
    m.assert_clean();
}

#[test]
fn unsimulated_operations_report_and_fail() {
    let (r, _g) = Rig::new();
    let f = ops(r.a);
    let mut len = 10u32;
    // SAFETY: stubs ignore their arguments.
    let pa = at_dispatch(|| unsafe {
        f.MapTransfer.unwrap()(
            r.a,
            r.mdl,
            core::ptr::null_mut(),
            r.buf.as_ptr().cast(),
            &mut len,
            TRUE,
        )
    });
    assert_eq!(pa.get(), 0);
    // SAFETY: as above.
    let st = at_dispatch(|| unsafe {
        f.AllocateAdapterChannel.unwrap()(
            r.a,
            core::ptr::null_mut(),
            1,
            None,
            core::ptr::null_mut(),
        )
    });
    assert_eq!(st, STATUS_NOT_IMPLEMENTED);
    #[ddk_sys::ntapi]
    type GetInfo =
        unsafe extern "ntapi" fn(*mut DMA_ADAPTER, *mut MDL, u64, u32, BOOLEAN, PVOID) -> NTSTATUS;
    // SAFETY: calling the v3 entry through its real prototype, as a driver would.
    let get_transfer_info: GetInfo = unsafe { core::mem::transmute(f.GetDmaTransferInfo.unwrap()) };
    // SAFETY: as above.
    let st = unsafe { get_transfer_info(r.a, r.mdl, 0, 10, TRUE, core::ptr::null_mut()) };
    assert!(!st.is_success());
    let v = r.m.take_violations();
    let names: Vec<&str> = v.iter().map(|v| v.message.as_str()).collect();
    assert_eq!(
        names,
        [
            "not implemented in ntsim: MapTransfer",
            "not implemented in ntsim: AllocateAdapterChannel",
            "not implemented in ntsim: GetDmaTransferInfo"
        ]
    );
    r.finish();
}

#[test]
fn direction_mismatch_on_put_is_reported_and_the_mapping_direction_wins() {
    let m = machine_with(|c| c.user_memory = ntsim::Placement::Above4G);
    let _g = m.enter();
    let pdo = m.create_pdo("dev32");
    let (a, _) = get_adapter(pdo, desc(true, 32, 0x10000));
    let buf = m.user_alloc(PAGE, UserProt::ReadWrite);
    let mdl = lock_user(&buf, 0, 16, LOCK_OPERATION::IoWriteAccess);
    let log = Log::default();
    let ctx = Ctx { log: &log, tag: 0 };
    assert_eq!(get_sg(a, mdl, 0, 16, false, &ctx), STATUS_SUCCESS);
    let list = log.calls()[0].list;
    device_write(&m.device_view(pdo), list, &[9; 16]);
    put_sg(a, list, true);
    let v = m.take_violations();
    assert_eq!((v.len(), v[0].code), (1, ntsim_code::DIRECTION_MISMATCH));
    assert_eq!(
        &buf.to_vec()[..16],
        &[9; 16],
        "data still copied back, as the stored direction says"
    );
    unlock_free(mdl);
    put_adapter(a);
    m.assert_clean();
}

#[test]
fn violation_display_names_the_call_and_the_object() {
    let (r, _g) = Rig::new();
    let ctx = r.ctx();
    assert_eq!(get_sg(r.a, r.mdl, 0, 100, true, &ctx), STATUS_SUCCESS);
    let list = r.log.calls()[0].list;
    put_sg(r.a, list, true);
    put_sg(r.a, list, true);
    let text = r.m.take_violations()[0].to_string();
    assert!(text.starts_with("bug check 0xe6"), "{text}");
    for part in [
        "P1=0x6",
        "PutScatterGatherList",
        "IoGetDmaAdapter serial",
        "PDO 'dev'",
    ] {
        assert!(text.contains(part), "{part:?} missing from {text}");
    }
    r.finish();
}
