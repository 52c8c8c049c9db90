//! The kernel-object families a miniport gets from the port: pool (VideoPortAllocatePool,
//! FreePool, AllocateBuffer, ReleaseBuffer), events, spin locks, IRQL and time, and
//! VideoPortZeroDeviceMemory. Each works as documented, refuses foreign/stale/garbage handles
//! with a report, and what a miniport leaves behind is reported and freed at removal.

mod port_support;

use core::ptr::null_mut;
use ddk_sys::*;
use ntsim::{DeviceNode, Driver, Machine, MachineConfig};
use port_support::*;
use std::sync::atomic::Ordering;
use videoprt::port::event::*;
use videoprt::port::memory::VideoPortZeroDeviceMemory;
use videoprt::port::pool::*;
use videoprt::port::registers::VideoPortReadRegisterUlong;
use videoprt::port::spin_lock::*;
use videoprt::port::time::*;
use videoprt::report::{port_code, VIDEOPRT_RS_CHECK};

fn port(code: u32) -> (u32, u32) {
    (VIDEOPRT_RS_CHECK, code)
}

/// 0xE6/0x13: called above the routine's IRQL limit.
const WRONG_IRQL: (u32, u32) = (0xE6, 0x13);

/// A started test device and its miniport extension.
struct Started {
    machine: Machine,
    driver: Option<Driver>,
    node: Option<DeviceNode>,
    hw: PVOID,
}

fn start() -> (Started, ntsim::EnterGuard) {
    start_with(Box::new(TestDevice::default()), Vec::new())
}

/// Starts the test miniport on `model`, with `others` plugged after it and left unstarted.
fn start_with(
    model: Box<dyn ntsim::PciDeviceModel>,
    others: Vec<Box<dyn ntsim::PciDeviceModel>>,
) -> (Started, ntsim::EnterGuard) {
    let machine = Machine::new(MachineConfig::default());
    let g = machine.enter();
    let pdo = machine.plug_pci_device(model);
    for other in others {
        machine.plug_pci_device(other);
    }
    let driver = machine
        .load_driver("vprstest", driver_entry)
        .expect("DriverEntry");
    let node = machine.start_device(&driver, pdo).expect("START");
    let hw = LAST_HW.load(Ordering::SeqCst) as PVOID;
    (
        Started {
            machine,
            driver: Some(driver),
            node: Some(node),
            hw,
        },
        g,
    )
}

impl Started {
    fn remove(&mut self) {
        if let Some(node) = self.node.take() {
            assert_eq!(self.machine.remove_device(node), STATUS_SUCCESS);
        }
        if let Some(driver) = self.driver.take() {
            self.machine.unload_driver(driver);
        }
    }
}

fn at_dispatch<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: raised and lowered on this thread.
    let old = unsafe { KeRaiseIrql(DISPATCH_LEVEL) };
    let r = f();
    // SAFETY: back to the level before the raise.
    unsafe { KeLowerIrql(old) };
    r
}

#[test]
fn pool_blocks_of_every_type_are_zeroed_tagged_and_freed_once() {
    let _s = serial();
    let (mut s, _g) = start();
    let tag = u32::from_le_bytes(*b"Mini");
    let before = s.machine.pool_stats().outstanding;
    for pool_type in [
        VP_POOL_TYPE::VpNonPagedPool,
        VP_POOL_TYPE::VpPagedPool,
        VP_POOL_TYPE::VpNonPagedPoolCacheAligned,
        VP_POOL_TYPE::VpPagedPoolCacheAligned,
    ] {
        // SAFETY: a live extension.
        let p = unsafe { VideoPortAllocatePool(s.hw, pool_type, 300, tag) }.cast::<u8>();
        assert!(!p.is_null(), "{pool_type:?}");
        // SAFETY: 300 bytes were allocated.
        let bytes = unsafe { std::slice::from_raw_parts_mut(p, 300) };
        assert!(bytes.iter().all(|&b| b == 0), "zeroed");
        bytes.fill(0x5A);
        if pool_type.0 >= 4 {
            assert_eq!(p as usize % 64, 0, "cache aligned");
        }
        // SAFETY: freed once.
        unsafe { VideoPortFreePool(s.hw, p.cast()) };
    }
    assert_eq!(s.machine.pool_stats().outstanding, before);

    // The obsolete pair: paged pool, NO_ERROR.
    let mut buffer: PVOID = null_mut();
    // SAFETY: a live extension and a writable out pointer.
    let status = unsafe { VideoPortAllocateBuffer(s.hw, 64, &mut buffer) };
    assert_eq!(status, NO_ERROR);
    assert!(!buffer.is_null());
    // SAFETY: freed once.
    unsafe { VideoPortReleaseBuffer(s.hw, buffer) };
    assert!(take_codes(&s.machine).is_empty());
    s.remove();
    s.machine.assert_clean();
}

#[test]
fn pool_misuse_is_reported_and_nothing_is_freed_twice() {
    let _s = serial();
    let (mut s, _g) = start();
    let tag = u32::from_le_bytes(*b"Mini");
    // SAFETY: a live extension.
    let p = unsafe { VideoPortAllocatePool(s.hw, VP_POOL_TYPE::VpNonPagedPool, 32, tag) };
    assert!(!p.is_null());
    // SAFETY: each call is refused before anything is touched.
    unsafe {
        VideoPortFreePool(s.hw, p);
        VideoPortFreePool(s.hw, p); // twice
        let mut local = 0u64;
        VideoPortFreePool(s.hw, (&mut local as *mut u64).cast()); // never allocated here
        VideoPortFreePool(s.hw, null_mut());
        VideoPortFreePool((&mut local as *mut u64).cast(), p); // not an extension
        assert!(VideoPortAllocatePool(s.hw, VP_POOL_TYPE(2), 8, tag).is_null());
        let paged_at_dispatch =
            at_dispatch(|| VideoPortAllocatePool(s.hw, VP_POOL_TYPE::VpPagedPool, 8, tag));
        assert!(paged_at_dispatch.is_null());
        assert!(VideoPortAllocatePool(s.hw, VP_POOL_TYPE::VpNonPagedPool, 0, tag).is_null());
        assert_eq!(
            VideoPortAllocateBuffer(s.hw, 8, null_mut()),
            ERROR_INVALID_PARAMETER
        );
    }
    assert_eq!(
        take_codes(&s.machine),
        vec![
            port(port_code::UNKNOWN_OBJECT),
            port(port_code::UNKNOWN_OBJECT),
            port(port_code::NULL_ARGUMENT),
            port(port_code::UNKNOWN_DEVICE_EXTENSION),
            port(port_code::BAD_ARGUMENT),
            WRONG_IRQL,
            port(port_code::NULL_ARGUMENT),
        ]
    );
    s.remove();
    s.machine.assert_clean();
}

#[test]
fn a_block_left_at_removal_is_reported_and_freed() {
    let _s = serial();
    let (mut s, _g) = start();
    // SAFETY: a live extension.
    let p = unsafe {
        VideoPortAllocatePool(
            s.hw,
            VP_POOL_TYPE::VpPagedPool,
            100,
            u32::from_le_bytes(*b"Left"),
        )
    };
    assert!(!p.is_null());
    let mut e: PEVENT = null_mut();
    let mut l: PSPIN_LOCK = null_mut();
    // SAFETY: a live extension and writable out pointers.
    unsafe {
        assert_eq!(VideoPortCreateEvent(s.hw, 0, null_mut(), &mut e), NO_ERROR);
        assert_eq!(VideoPortCreateSpinLock(s.hw, &mut l), NO_ERROR);
    }
    s.remove();
    let left: Vec<_> = s
        .machine
        .take_violations()
        .into_iter()
        .filter(|v| v.bugcheck == VIDEOPRT_RS_CHECK && v.code == port_code::OBJECT_LEFT)
        .map(|v| (v.params[0], v.params[1]))
        .collect();
    assert_eq!(
        left,
        vec![(1, p as u64), (3, e as u64), (4, l as u64)],
        "pool block, event and spin lock, each named"
    );
    // Freed by the port: nothing leaks.
    s.machine.assert_clean();
}

#[test]
fn events_signal_clear_and_wait_as_documented() {
    let _s = serial();
    let (mut s, _g) = start();
    let mut notification: PEVENT = null_mut();
    let mut sync: PEVENT = null_mut();
    let zero = PHYSICAL_ADDRESS(0);
    // SAFETY: a live extension, valid out pointers, and events created here.
    unsafe {
        assert_eq!(
            VideoPortCreateEvent(
                s.hw,
                NOTIFICATION_EVENT | INITIAL_EVENT_SIGNALED,
                null_mut(),
                &mut notification
            ),
            NO_ERROR
        );
        assert_eq!(
            VideoPortCreateEvent(s.hw, SYNCHRONIZATION_EVENT, null_mut(), &mut sync),
            NO_ERROR
        );
        assert_ne!(VideoPortReadStateEvent(s.hw, notification), 0);
        assert_eq!(VideoPortReadStateEvent(s.hw, sync), 0);

        // A notification event stays signalled through waits; clearing it makes a zero
        // timeout time out.
        let mut z = zero;
        assert_eq!(
            VideoPortWaitForSingleObject(s.hw, notification.cast(), &mut z),
            NO_ERROR
        );
        assert_ne!(VideoPortReadStateEvent(s.hw, notification), 0);
        VideoPortClearEvent(s.hw, notification);
        assert_eq!(
            VideoPortWaitForSingleObject(s.hw, notification.cast(), &mut z),
            WAIT_TIMEOUT
        );

        // Setting returns the previous state; a synchronization event is consumed by a wait.
        assert_eq!(VideoPortSetEvent(s.hw, sync), 0);
        assert_ne!(VideoPortSetEvent(s.hw, sync), 0);
        assert_eq!(
            VideoPortWaitForSingleObject(s.hw, sync.cast(), null_mut()),
            NO_ERROR
        );
        assert_eq!(VideoPortReadStateEvent(s.hw, sync), 0);
        // At DISPATCH_LEVEL with a zero timeout: allowed.
        assert_eq!(
            at_dispatch(|| VideoPortWaitForSingleObject(s.hw, sync.cast(), &mut z)),
            WAIT_TIMEOUT
        );
        // A relative timeout expires on the simulated clock.
        let mut ten_ms = PHYSICAL_ADDRESS(-100_000);
        let before = s.machine.clock_us();
        assert_eq!(
            VideoPortWaitForSingleObject(s.hw, sync.cast(), &mut ten_ms),
            WAIT_TIMEOUT
        );
        assert!(s.machine.clock_us() >= before + 10_000);

        assert_eq!(VideoPortDeleteEvent(s.hw, notification), NO_ERROR);
        assert_eq!(VideoPortDeleteEvent(s.hw, sync), NO_ERROR);
    }
    assert!(take_codes(&s.machine).is_empty());
    s.remove();
    s.machine.assert_clean();
}

#[test]
fn event_misuse_is_reported() {
    let _s = serial();
    let (mut s, _g) = start();
    let mut e: PEVENT = null_mut();
    let mut garbage = [0u64; 8];
    let garbage = garbage.as_mut_ptr().cast::<VIDEO_PORT_EVENT>();
    // SAFETY: every misuse is refused before an event is touched.
    unsafe {
        assert_eq!(
            VideoPortCreateEvent(s.hw, 0x10, null_mut(), &mut e),
            ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            VideoPortCreateEvent(s.hw, 0, null_mut(), null_mut()),
            ERROR_INVALID_PARAMETER
        );
        assert_eq!(VideoPortCreateEvent(s.hw, 0, null_mut(), &mut e), NO_ERROR);
        assert_eq!(VideoPortDeleteEvent(s.hw, e), NO_ERROR);
        // Stale (deleted), garbage and NULL events.
        assert_eq!(VideoPortSetEvent(s.hw, e), 0);
        assert_eq!(VideoPortDeleteEvent(s.hw, e), ERROR_INVALID_PARAMETER);
        VideoPortClearEvent(s.hw, garbage);
        assert_eq!(VideoPortReadStateEvent(s.hw, null_mut()), 0);
        assert_eq!(
            VideoPortWaitForSingleObject(s.hw, garbage.cast(), null_mut()),
            ERROR_INVALID_PARAMETER
        );
        // A real event of this device, but a non-zero wait at DISPATCH_LEVEL.
        assert_eq!(VideoPortCreateEvent(s.hw, 0, null_mut(), &mut e), NO_ERROR);
        let mut second = PHYSICAL_ADDRESS(-10_000_000);
        assert_eq!(
            at_dispatch(|| VideoPortWaitForSingleObject(s.hw, e.cast(), &mut second)),
            ERROR_INVALID_PARAMETER
        );
        assert_eq!(VideoPortDeleteEvent(s.hw, e), NO_ERROR);
    }
    assert_eq!(
        take_codes(&s.machine),
        vec![
            port(port_code::BAD_ARGUMENT),
            port(port_code::NULL_ARGUMENT),
            port(port_code::UNKNOWN_OBJECT),
            port(port_code::UNKNOWN_OBJECT),
            port(port_code::UNKNOWN_OBJECT),
            port(port_code::NULL_ARGUMENT),
            port(port_code::UNKNOWN_OBJECT),
            WRONG_IRQL,
        ]
    );
    s.remove();
    s.machine.assert_clean();
}

#[test]
fn spin_locks_raise_to_dispatch_and_refuse_unknown_locks() {
    let _s = serial();
    let (mut s, _g) = start();
    let mut lock: PSPIN_LOCK = null_mut();
    // SAFETY: a live extension, a lock created here, acquire/release pairs.
    unsafe {
        assert_eq!(VideoPortCreateSpinLock(s.hw, &mut lock), NO_ERROR);
        let mut old = 0xFFu8;
        VideoPortAcquireSpinLock(s.hw, lock, &mut old);
        assert_eq!(old, PASSIVE_LEVEL);
        assert_eq!(VideoPortGetCurrentIrql(), DISPATCH_LEVEL);
        VideoPortReleaseSpinLock(s.hw, lock, old);
        assert_eq!(VideoPortGetCurrentIrql(), PASSIVE_LEVEL);
        at_dispatch(|| {
            VideoPortAcquireSpinLockAtDpcLevel(s.hw, lock);
            VideoPortReleaseSpinLockFromDpcLevel(s.hw, lock);
        });
        assert!(take_codes(&s.machine).is_empty());

        // Misuse: an unknown lock is neither taken nor released, and the IRQL comes back.
        let mut fake = 0usize;
        let fake = (&mut fake as *mut usize).cast::<VIDEO_PORT_SPIN_LOCK>();
        VideoPortAcquireSpinLock(s.hw, fake, &mut old);
        assert_eq!(VideoPortGetCurrentIrql(), PASSIVE_LEVEL);
        VideoPortAcquireSpinLockAtDpcLevel(s.hw, lock); // not at DISPATCH_LEVEL
        assert_eq!(VideoPortDeleteSpinLock(s.hw, lock), NO_ERROR);
        assert_eq!(VideoPortDeleteSpinLock(s.hw, lock), ERROR_INVALID_PARAMETER);
        VideoPortAcquireSpinLock(s.hw, lock, &mut old); // deleted
        assert_eq!(old, PASSIVE_LEVEL);
        assert_eq!(
            VideoPortCreateSpinLock(s.hw, null_mut()),
            ERROR_INVALID_PARAMETER
        );
    }
    assert_eq!(
        take_codes(&s.machine),
        vec![
            port(port_code::UNKNOWN_OBJECT),
            port(port_code::BAD_ARGUMENT),
            port(port_code::UNKNOWN_OBJECT),
            port(port_code::UNKNOWN_OBJECT),
            port(port_code::NULL_ARGUMENT),
        ]
    );
    s.remove();
    s.machine.assert_clean();
}

#[test]
fn irql_system_time_and_the_performance_counter_follow_the_machine() {
    let _s = serial();
    let (mut s, _g) = start();
    assert_eq!(VideoPortGetCurrentIrql(), PASSIVE_LEVEL);
    assert_eq!(at_dispatch(|| VideoPortGetCurrentIrql()), DISPATCH_LEVEL);
    let mut t0 = PHYSICAL_ADDRESS(0);
    let mut t1 = PHYSICAL_ADDRESS(0);
    let mut frequency = 0i64;
    // SAFETY: writable locals; a live extension.
    let (c0, c1) = unsafe {
        VideoPortQuerySystemTime(&mut t0);
        let c0 = VideoPortQueryPerformanceCounter(s.hw, &mut frequency);
        KeStallExecutionProcessor(2_000);
        VideoPortQuerySystemTime(&mut t1);
        (c0, VideoPortQueryPerformanceCounter(s.hw, null_mut()))
    };
    // 2026 or later, in 100 ns units since 1601; 2 ms of stall is 20,000 units.
    assert!(t0.0 >= 134_116_992_000_000_000, "{}", t0.0);
    assert_eq!(t1.0 - t0.0, 20_000);
    assert_eq!(frequency, 10_000_000);
    assert_eq!(c1 - c0, 20_000);
    // SAFETY: NULL is refused.
    unsafe { VideoPortQuerySystemTime(null_mut()) };
    assert_eq!(take_codes(&s.machine), vec![port(port_code::NULL_ARGUMENT)]);
    s.remove();
    s.machine.assert_clean();
}

#[test]
fn zero_device_memory_writes_zeros_as_registers() {
    let _s = serial();
    let (mut s, _g) = start();
    // SAFETY: the extension's BAR0 mapping, from HwFindAdapter.
    let bar0 = unsafe { (*s.hw.cast::<Extension>()).bar0 };
    let scratch = bar0.wrapping_add(REG_SCRATCH as usize).cast::<u32>();
    // SAFETY: SCRATCH is a register of the mapped BAR.
    unsafe {
        videoprt::port::registers::VideoPortWriteRegisterUlong(scratch, 0xDEAD_BEEF);
        VideoPortZeroDeviceMemory(scratch.cast(), 4);
        assert_eq!(VideoPortReadRegisterUlong(scratch), 0);
        // Unaligned head and tail: byte writes (the model ignores bytes outside SCRATCH).
        VideoPortZeroDeviceMemory(bar0.wrapping_add(0x11).cast(), 7);
        VideoPortZeroDeviceMemory(null_mut(), 4);
    }
    assert_eq!(take_codes(&s.machine), vec![port(port_code::NULL_ARGUMENT)]);
    s.remove();
    s.machine.assert_clean();
}

#[test]
fn register_buffers_walk_consecutive_registers_and_port_buffers_repeat_one_port() {
    use videoprt::port::registers::*;
    let _s = serial();
    let (mut s, _g) = start();
    // SAFETY: the extension's mappings, from HwFindAdapter.
    let (bar0, ports) = unsafe {
        let e = &*s.hw.cast::<Extension>();
        (e.bar0, e.ports)
    };
    let scratch = bar0.wrapping_add(REG_SCRATCH as usize).cast::<u32>();
    let mut four = [0u32; 4];
    let mut bytes = [0u8; 3];
    // SAFETY: every element lies in the mapped BAR0 (16 bytes from its start) or is the
    // echo port of BAR1; the buffers are locals of the right length.
    unsafe {
        VideoPortWriteRegisterUlong(scratch, 0x1234_5678);
        VideoPortReadRegisterBufferUlong(bar0.cast(), four.as_mut_ptr(), 4);
        // ID, SCRATCH, DOORBELL (reads 0), STATUS: four registers, not ID four times.
        assert_eq!(four, [ID, 0x1234_5678, 0, 0]);
        // The 16-bit halves of ID and SCRATCH, in address order.
        let mut halves = [0u16; 4];
        VideoPortReadRegisterBufferUshort(bar0.cast(), halves.as_mut_ptr(), 4);
        assert_eq!(halves, [0x5253, 0x5650, 0x5678, 0x1234]);
        // Two ULONGs from SCRATCH on: SCRATCH takes the first, DOORBELL rings once.
        let mut two = [0xCAFE_F00Du32, 1];
        VideoPortWriteRegisterBufferUlong(scratch, two.as_mut_ptr(), 2);
        assert_eq!(VideoPortReadRegisterUlong(scratch), 0xCAFE_F00D);
        // Port buffers: three bytes out to the one echo port, three reads of it back.
        let mut out = *b"xyz";
        VideoPortWritePortBufferUchar(ports, out.as_mut_ptr(), 3);
        VideoPortReadPortBufferUchar(ports, bytes.as_mut_ptr(), 3);
    }
    assert_eq!(bytes, *b"zzz");
    let pdo = s.node.as_ref().expect("started").pdo();
    let (doorbells, scratch_now) = s
        .machine
        .with_pci_model(pdo, |d: &mut TestDevice| (d.doorbells, d.scratch));
    assert_eq!((doorbells, scratch_now), (1, 0xCAFE_F00D));
    assert_eq!(take_codes(&s.machine), vec![]);
    s.remove();
    s.machine.assert_clean();
}

static TICKS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// HwTimer: counts, and checks it runs at DISPATCH_LEVEL.
#[ddk_sys::ntapi]
unsafe extern "ntapi" fn count_tick(_hw: PVOID) {
    assert_eq!(KeGetCurrentIrql(), DISPATCH_LEVEL);
    TICKS.fetch_add(1, Ordering::SeqCst);
}

/// The test miniport with an HwTimer.
#[ddk_sys::ntapi]
unsafe extern "ntapi" fn driver_entry_with_timer(
    driver: *mut DRIVER_OBJECT,
    path: *mut UNICODE_STRING,
) -> NTSTATUS {
    let mut data = init_data();
    data.HwTimer = Some(count_tick);
    // SAFETY: DriverEntry's arguments, passed on.
    NTSTATUS(unsafe {
        videoprt::port::initialize::VideoPortInitialize(
            driver.cast(),
            path.cast(),
            &mut data,
            null_mut(),
        )
    } as i32)
}

#[test]
fn hw_timer_runs_once_a_simulated_second_between_start_and_stop() {
    use videoprt::port::timer::{VideoPortStartTimer, VideoPortStopTimer};
    let _s = serial();
    TICKS.store(0, Ordering::SeqCst);
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let pdo = machine.plug_pci_device(Box::new(TestDevice::default()));
    let driver = machine
        .load_driver("vprstimer", driver_entry_with_timer)
        .expect("DriverEntry");
    let node = machine.start_device(&driver, pdo).expect("START");
    let hw = LAST_HW.load(Ordering::SeqCst) as PVOID;

    machine.advance_clock(3_000_000);
    assert_eq!(TICKS.load(Ordering::SeqCst), 0, "not started yet");
    // SAFETY: a live extension of a miniport with HwTimer.
    unsafe { VideoPortStartTimer(hw) };
    machine.advance_clock(3_500_000);
    assert_eq!(TICKS.load(Ordering::SeqCst), 3);
    // SAFETY: as above.
    unsafe { VideoPortStopTimer(hw) };
    machine.advance_clock(5_000_000);
    assert_eq!(TICKS.load(Ordering::SeqCst), 3, "stopped");

    // Started again, then the device goes away: no tick after removal.
    // SAFETY: as above.
    unsafe { VideoPortStartTimer(hw) };
    assert_eq!(machine.remove_device(node), STATUS_SUCCESS);
    machine.advance_clock(5_000_000);
    assert_eq!(TICKS.load(Ordering::SeqCst), 3, "removed");
    machine.unload_driver(driver);
    assert!(take_codes(&machine).is_empty());
    machine.assert_clean();
}

#[test]
fn timer_calls_without_hw_timer_and_device_lock_misuse_are_reported() {
    use videoprt::port::device_lock::{VideoPortAcquireDeviceLock, VideoPortReleaseDeviceLock};
    use videoprt::port::timer::VideoPortStartTimer;
    let _s = serial();
    let (mut s, _g) = start();
    // SAFETY: a live extension; each misuse is refused.
    unsafe {
        VideoPortStartTimer(s.hw); // this miniport has no HwTimer
        VideoPortAcquireDeviceLock(s.hw);
        VideoPortReleaseDeviceLock(s.hw);
        VideoPortReleaseDeviceLock(s.hw); // not held
        at_dispatch(|| VideoPortAcquireDeviceLock(s.hw));
    }
    assert_eq!(
        take_codes(&s.machine),
        vec![
            port(port_code::MISSING_CALLBACK),
            port(port_code::BAD_ARGUMENT),
            WRONG_IRQL,
        ]
    );
    s.remove();
    s.machine.assert_clean();
}

#[test]
fn the_device_lock_keeps_hw_start_io_out() {
    use videoprt::port::device_lock::{VideoPortAcquireDeviceLock, VideoPortReleaseDeviceLock};
    let _s = serial();
    let (mut s, _g) = start();
    let handle = s.machine.open(s.node.as_ref().unwrap()).expect("open");
    let mut id = [0u8; 4];
    // SAFETY: a live extension.
    unsafe { VideoPortAcquireDeviceLock(s.hw) };
    // With the lock held and nobody else to release it, the request cannot reach HwStartIO:
    // ntsim says the wait would block forever.
    let _ = handle.ioctl(IOCTL_GET_ID, &[], &mut id);
    let codes = take_codes(&s.machine);
    assert!(
        codes.contains(&(
            ntsim::verifier::bugcheck::NTSIM_CHECK,
            ntsim::verifier::ntsim_code::WAIT_FOREVER
        )),
        "{codes:?}"
    );
    // SAFETY: held by this thread.
    unsafe { VideoPortReleaseDeviceLock(s.hw) };
    assert_eq!(handle.ioctl(IOCTL_GET_ID, &[], &mut id), Ok(4));
    assert_eq!(u32::from_le_bytes(id), ID);
    handle.close();
    s.remove();
    s.machine.assert_clean();
}

#[test]
fn log_error_writes_the_system_error_log_now_or_from_a_dpc() {
    use videoprt::port::log::VideoPortLogError;
    let _s = serial();
    let (mut s, _g) = start();
    let mut status = STATUS_BLOCK {
        Status: NO_ERROR,
        Information: 0,
    };
    let mut vrp = VIDEO_REQUEST_PACKET {
        IoControlCode: IOCTL_RING,
        StatusBlock: &mut status,
        InputBuffer: null_mut(),
        InputBufferLength: 0,
        OutputBuffer: null_mut(),
        OutputBufferLength: 0,
    };
    // SAFETY: a live extension and a readable VRP.
    unsafe { VideoPortLogError(s.hw, &mut vrp, ERROR_INVALID_PARAMETER, 0x1234) };
    let log = s.machine.error_log();
    assert_eq!(log.len(), 1);
    let fdo = s.node.as_ref().unwrap().top() as usize;
    assert_eq!(log[0].io_object, fdo);
    assert_eq!(log[0].error_code, IO_ERR_CONTROLLER_ERROR);
    assert_eq!(log[0].unique_error_value, 0x1234);
    assert_eq!(log[0].final_status, STATUS_INVALID_PARAMETER);
    assert_eq!(log[0].io_control_code, IOCTL_RING);
    assert_eq!(log[0].major_function, IRP_MJ_DEVICE_CONTROL);
    assert_eq!(
        log[0].dump_data,
        ERROR_INVALID_PARAMETER.0.to_le_bytes().to_vec()
    );

    // From an ISR's IRQL: queued, written by the DPC; a ninth entry before it runs is dropped.
    // SAFETY: raised and lowered on this thread; no VRP.
    unsafe {
        let old = KeRaiseIrql(8);
        for id in 0..9 {
            VideoPortLogError(s.hw, null_mut(), ERROR_BUSY, id);
        }
        KeLowerIrql(old);
    }
    assert_eq!(s.machine.error_log().len(), 1, "not written at DIRQL");
    s.machine.run_until_idle();
    let log = s.machine.error_log();
    assert_eq!(log.len(), 9);
    assert_eq!(
        log[1..]
            .iter()
            .map(|e| e.unique_error_value)
            .collect::<Vec<_>>(),
        (0..8).collect::<Vec<_>>()
    );
    assert!(log[1..]
        .iter()
        .all(|e| e.major_function == 0 && e.io_control_code == 0));

    let mut not_ours = 0u64;
    // SAFETY: the extension is looked up, never dereferenced.
    unsafe {
        VideoPortLogError(
            (&mut not_ours as *mut u64).cast(),
            null_mut(),
            ERROR_BUSY,
            1,
        )
    };
    assert_eq!(
        take_codes(&s.machine),
        vec![port(port_code::UNKNOWN_DEVICE_EXTENSION)]
    );
    s.remove();
    s.machine.assert_clean();
}

#[test]
fn scan_rom_finds_strings_in_mapped_device_memory_only() {
    use videoprt::port::rom::VideoPortScanRom;
    let _s = serial();
    let (mut s, _g) = start();
    // SAFETY: the extension's BAR0 mapping, from HwFindAdapter.
    let (bar0, length) = unsafe {
        let e = &*s.hw.cast::<Extension>();
        (e.bar0, e.bar0_length)
    };
    // SAFETY: SCRATCH is a register of the mapped BAR.
    unsafe {
        videoprt::port::registers::VideoPortWriteRegisterUlong(
            bar0.wrapping_add(REG_SCRATCH as usize).cast(),
            u32::from_le_bytes(*b"ROM!"),
        )
    };
    let scan = |base: *mut u8, len: u32, needle: &core::ffi::CStr| {
        // SAFETY: a NUL-terminated needle; the base is checked by the port.
        unsafe { VideoPortScanRom(s.hw, base, len, needle.as_ptr().cast_mut().cast()) }
    };
    // The ID register reads "SRPV" at offset 0, SCRATCH "ROM!" at 4: found, case-sensitive.
    assert_eq!(scan(bar0, length, c"SRPV"), TRUE);
    assert_eq!(scan(bar0, length, c"PVROM!"), TRUE, "across registers");
    assert_eq!(scan(bar0, length, c"rom!"), FALSE);
    assert_eq!(scan(bar0, 5, c"ROM!"), FALSE, "beyond RomLength");
    assert_eq!(scan(bar0, length, c""), TRUE);
    assert!(take_codes(&s.machine).is_empty());
    // Outside every mapping: refused, not read.
    let mut local = [0u8; 16];
    assert_eq!(scan(local.as_mut_ptr(), 16, c"x"), FALSE);
    assert_eq!(scan(bar0, length + 1, c"x"), FALSE);
    assert_eq!(
        take_codes(&s.machine),
        vec![
            port(port_code::UNKNOWN_MAPPING),
            port(port_code::UNKNOWN_MAPPING)
        ]
    );
    s.remove();
    s.machine.assert_clean();
}

/// The test device with other IDs, class code, revision or expansion ROM.
#[derive(Default)]
struct Variant {
    inner: TestDevice,
    ids: Option<(u16, u16)>,
    class: Option<(u8, u8, u8)>,
    revision: u8,
    rom: Option<Vec<u8>>,
}

impl ntsim::PciDeviceModel for Variant {
    fn vendor_id(&self) -> u16 {
        self.ids.map_or_else(|| self.inner.vendor_id(), |i| i.0)
    }
    fn device_id(&self) -> u16 {
        self.ids.map_or_else(|| self.inner.device_id(), |i| i.1)
    }
    fn bars(&self) -> Vec<ntsim::BarSpec> {
        self.inner.bars()
    }
    fn has_interrupt(&self) -> bool {
        self.inner.has_interrupt()
    }
    fn class_code(&self) -> (u8, u8, u8) {
        self.class.unwrap_or_else(|| self.inner.class_code())
    }
    fn revision_id(&self) -> u8 {
        self.revision
    }
    fn expansion_rom(&self) -> Option<Vec<u8>> {
        self.rom.clone()
    }
    fn read(
        &mut self,
        ctx: &mut ntsim::DeviceContext<'_>,
        bar: usize,
        offset: u64,
        size: u8,
    ) -> u64 {
        self.inner.read(ctx, bar, offset, size)
    }
    fn write(
        &mut self,
        ctx: &mut ntsim::DeviceContext<'_>,
        bar: usize,
        offset: u64,
        size: u8,
        value: u64,
    ) {
        self.inner.write(ctx, bar, offset, size, value)
    }
    fn on_event(&mut self, ctx: &mut ntsim::DeviceContext<'_>, token: u64) {
        self.inner.on_event(ctx, token)
    }
}

#[test]
fn vga_status_follows_the_class_code_and_io_decoding() {
    use videoprt::port::bus::{VideoPortGetVgaStatus, VideoPortSetBusData};
    let _s = serial();
    let vga = |hw: PVOID, status: *mut u32| {
        // SAFETY: a live extension (looked up by the port); NULL or a writable ULONG.
        unsafe { VideoPortGetVgaStatus(hw, status) }
    };
    // A display controller of another subclass: not VGA.
    let (mut s, _g) = start();
    let mut status = 7u32;
    assert_eq!(vga(s.hw, &mut status), NO_ERROR);
    assert_eq!(status, 0);
    s.remove();
    s.machine.assert_clean();
    drop(_g);

    // A VGA-compatible one with I/O decoding on, then off.
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    // A VGA-compatible display controller (03h/00h).
    let pdo = machine.plug_pci_device(Box::new(Variant {
        class: Some((0x03, 0x00, 0x00)),
        ..Variant::default()
    }));
    let driver = machine
        .load_driver("vprsvga", driver_entry)
        .expect("DriverEntry");
    let node = machine.start_device(&driver, pdo).expect("START");
    let hw = LAST_HW.load(Ordering::SeqCst) as PVOID;
    assert_eq!(vga(hw, &mut status), NO_ERROR);
    assert_eq!(status, 1);
    let mut command = 0x0006u16.to_le_bytes(); // memory + bus master, no I/O
                                               // SAFETY: two readable bytes.
    unsafe {
        VideoPortSetBusData(
            hw,
            BUS_DATA_TYPE::PCIConfiguration,
            0,
            command.as_mut_ptr().cast(),
            4,
            2,
        )
    };
    assert_eq!(vga(hw, &mut status), NO_ERROR);
    assert_eq!(status, 0);
    assert_eq!(vga(hw, null_mut()), ERROR_INVALID_PARAMETER);
    assert_eq!(take_codes(&machine), vec![port(port_code::NULL_ARGUMENT)]);
    assert_eq!(machine.remove_device(node), STATUS_SUCCESS);
    machine.unload_driver(driver);
    machine.assert_clean();
}

#[test]
fn rom_image_is_the_start_of_the_expansion_rom_in_a_port_owned_buffer() {
    use videoprt::port::rom::VideoPortGetRomImage;
    let _s = serial();
    // An 8 KiB option ROM: the 55h AAh signature, then a pattern.
    let mut rom: Vec<u8> = (0..8192u32).map(|i| (i * 13 + 7) as u8).collect();
    rom[..2].copy_from_slice(&[0x55, 0xAA]);
    let (mut s, _g) = start_with(
        Box::new(Variant {
            rom: Some(rom.clone()),
            ..Variant::default()
        }),
        Vec::new(),
    );
    let image = |hw: PVOID, length: u32| {
        // SAFETY: the unused arguments as documented; the port checks the extension.
        unsafe { VideoPortGetRomImage(hw, null_mut(), 0, length) }.cast::<u8>()
    };
    let bytes = |p: *const u8, n: usize| {
        // SAFETY: a buffer of at least `n` bytes the port returned and has not freed.
        unsafe { core::slice::from_raw_parts(p, n) }.to_vec()
    };
    let first = image(s.hw, 512);
    assert!(!first.is_null());
    assert_eq!(bytes(first, 512), rom[..512]);
    // A second call replaces the first buffer (freed by the port), whole ROM this time.
    let whole = image(s.hw, 8192);
    assert!(!whole.is_null());
    assert_eq!(bytes(whole, 8192), rom);
    // More than the ROM holds, or Length 0 (which frees the buffer): NULL.
    assert!(image(s.hw, 8193).is_null());
    assert!(image(s.hw, 0).is_null());
    assert!(take_codes(&s.machine).is_empty());
    // Misuse: an unknown extension, the wrong IRQL.
    let mut foreign = [0u8; 64];
    assert!(image(foreign.as_mut_ptr().cast(), 16).is_null());
    assert!(at_dispatch(|| image(s.hw, 16)).is_null());
    assert_eq!(
        take_codes(&s.machine),
        vec![port(port_code::UNKNOWN_DEVICE_EXTENSION), WRONG_IRQL]
    );
    // A buffer the miniport still holds at removal is the port's to free: no leak.
    assert!(!image(s.hw, 64).is_null());
    s.remove();
    s.machine.assert_clean();
}

#[test]
fn rom_image_of_a_device_without_a_rom_is_null() {
    use videoprt::port::rom::VideoPortGetRomImage;
    let _s = serial();
    let (mut s, _g) = start();
    // SAFETY: the unused arguments as documented; a live extension.
    assert!(unsafe { VideoPortGetRomImage(s.hw, null_mut(), 0, 16) }.is_null());
    assert!(take_codes(&s.machine).is_empty());
    s.remove();
    s.machine.assert_clean();
}

#[test]
fn device_existence_finds_any_pci_device_by_its_ids() {
    use videoprt::port::bus::VideoPortGetBusData;
    use videoprt::port::device_existence::{
        VideoPortCheckForDeviceExistance, VideoPortCheckForDeviceExistence,
    };
    let _s = serial();
    // A second display adapter on the bus (QEMU's Bochs IDs), not started.
    let (bochs_vendor, bochs_device) = (0x1234, 0x1111);
    let (mut s, _g) = start_with(
        Box::new(Variant {
            revision: 0x05,
            ..Variant::default()
        }),
        vec![Box::new(Variant {
            ids: Some((bochs_vendor, bochs_device)),
            ..Variant::default()
        })],
    );
    // The miniport's own IDs, as its config space (read through the bus interface) says.
    let mut header = [0u8; 0x30];
    // SAFETY: a writable buffer of the given length.
    let read = unsafe {
        VideoPortGetBusData(
            s.hw,
            BUS_DATA_TYPE::PCIConfiguration,
            0,
            header.as_mut_ptr().cast(),
            0,
            0x30,
        )
    };
    assert_eq!(read, 0x30);
    let word = |at: usize| u16::from_le_bytes([header[at], header[at + 1]]);
    let (vendor, device, revision) = (word(0), word(2), header[8]);
    let (sub_vendor, subsystem) = (word(0x2C), word(0x2E));
    assert_eq!(revision, 0x05);

    let exists = |vendor: u16, device: u16, revision: u8, sub: (u16, u16), flags: u32| {
        // SAFETY: plain values and a live extension.
        let (a, b) = unsafe {
            (
                VideoPortCheckForDeviceExistence(
                    s.hw, vendor, device, revision, sub.0, sub.1, flags,
                ),
                VideoPortCheckForDeviceExistance(
                    s.hw, vendor, device, revision, sub.0, sub.1, flags,
                ),
            )
        };
        assert_eq!(a, b, "both spellings answer alike");
        a
    };
    let own = (sub_vendor, subsystem);
    assert_eq!(
        exists(vendor, device, 0, (0, 0), 0),
        TRUE,
        "the miniport's own"
    );
    assert_eq!(
        exists(bochs_vendor, bochs_device, 0, (0, 0), 0),
        TRUE,
        "another device on the bus"
    );
    assert_eq!(exists(vendor, 0xBEEF, 0, (0, 0), 0), FALSE);
    assert_eq!(exists(0x8086, device, 0, (0, 0), 0), FALSE);
    // Revision and subsystem IDs count only with their flags.
    assert_eq!(exists(vendor, device, 0x05, (0, 0), CDE_USE_REVISION), TRUE);
    assert_eq!(
        exists(vendor, device, 0x06, (0, 0), CDE_USE_REVISION),
        FALSE
    );
    assert_eq!(exists(vendor, device, 0, own, CDE_USE_SUBSYSTEM_IDS), TRUE);
    assert_eq!(
        exists(vendor, device, 0, (own.0, own.1 ^ 1), CDE_USE_SUBSYSTEM_IDS),
        FALSE
    );
    assert_eq!(
        exists(
            vendor,
            device,
            0x05,
            own,
            CDE_USE_REVISION | CDE_USE_SUBSYSTEM_IDS
        ),
        TRUE
    );
    assert_eq!(
        exists(bochs_vendor, bochs_device, 0x05, (0, 0), CDE_USE_REVISION),
        FALSE,
        "the other adapter has another revision"
    );
    assert!(take_codes(&s.machine).is_empty());
    // Misuse: unknown flags, an unknown extension, the wrong IRQL.
    assert_eq!(exists(vendor, device, 0, (0, 0), 4), FALSE);
    let mut foreign = [0u8; 64];
    // SAFETY: plain values; the port checks the extension.
    let r = unsafe {
        VideoPortCheckForDeviceExistence(foreign.as_mut_ptr().cast(), vendor, device, 0, 0, 0, 0)
    };
    assert_eq!(r, FALSE);
    assert_eq!(at_dispatch(|| exists(vendor, device, 0, (0, 0), 0)), FALSE);
    assert_eq!(
        take_codes(&s.machine),
        vec![
            port(port_code::BAD_ARGUMENT),
            port(port_code::BAD_ARGUMENT),
            port(port_code::UNKNOWN_DEVICE_EXTENSION),
            WRONG_IRQL,
            WRONG_IRQL,
        ]
    );
    s.remove();
    s.machine.assert_clean();
}
