//! Handle checks without locks (issue 15): a made-up, foreign or stale `HwDeviceExtension`,
//! adapter, MDL or list is refused and reported exactly as before, never read; more devices,
//! adapters and locked buffers than the lock-free tables hold are still found; and two threads
//! starting and completing transfers on one adapter, or racing to complete one list, move the
//! right bytes and complete each list once.

mod support;

use core::ptr::null_mut;
use ddk_sys::*;
use ntsim::{BusAddress, MachineConfig, UserProt};
use std::sync::{Arc, Barrier};
use support::*;
use videoprt::dma::complete::VideoPortCompleteDma;
use videoprt::dma::lock::{VideoPortLockBuffer, VideoPortUnlockBuffer};
use videoprt::dma::start::VideoPortStartDma;
use videoprt::port::interrupt::VideoPortQueueDpc;
use videoprt::report::{port_code, DMA_VIOLATION, VIDEOPRT_RS_CHECK};

const E6: u32 = DMA_VIOLATION;
const VPRS: u32 = VIDEOPRT_RS_CHECK;
const UNKNOWN_EXTENSION: (u32, u32) = (VPRS, port_code::UNKNOWN_DEVICE_EXTENSION);
const UNKNOWN_MDL: (u32, u32) = (VPRS, port_code::UNKNOWN_MDL);
const ADAPTER_NOT_LIVE: (u32, u32) = (E6, 0x18);
const LIST_NOT_OUTSTANDING: (u32, u32) = (E6, 0x06);

fn lock(rig: &Rig, user: &ntsim::UserBuffer, len: usize) -> PVOID {
    // SAFETY: exported C ABI over a live buffer.
    let mdl = unsafe {
        VideoPortLockBuffer(
            rig.hw(),
            user.as_ptr().cast(),
            len as u32,
            VP_LOCK_OPERATION::VpModifyAccess,
        )
    };
    assert!(!mdl.is_null());
    mdl
}

fn start(
    hw: PVOID,
    adapter: PVP_DMA_ADAPTER,
    mdl: PVOID,
    length: &mut u32,
    recorder: &Recorder,
) -> VP_STATUS {
    // SAFETY: exported C ABI; the port validates every argument.
    unsafe {
        VideoPortStartDma(
            hw,
            adapter,
            mdl,
            0,
            length,
            Some(record_execute),
            recorder.context(),
            TRUE,
        )
    }
}

fn complete(hw: PVOID, adapter: PVP_DMA_ADAPTER, list: PVP_SCATTER_GATHER_LIST) -> VP_STATUS {
    // SAFETY: exported C ABI; the port validates the list before touching it.
    unsafe { VideoPortCompleteDma(hw, adapter, list, TRUE) }
}

/// One whole transfer of `len` bytes; returns the list the miniport saw (already completed).
fn round_trip(
    rig: &Rig,
    hw: PVOID,
    adapter: PVP_DMA_ADAPTER,
    mdl: PVOID,
    len: u32,
) -> PVP_SCATTER_GATHER_LIST {
    let recorder = Recorder::new();
    let mut length = len;
    assert_eq!(start(hw, adapter, mdl, &mut length, &recorder), NO_ERROR);
    assert_eq!(length, len);
    rig.machine.run_until_idle();
    let list = recorder.take().pop().expect("HwVidExecuteDma ran").list;
    assert_eq!(complete(hw, adapter, list), NO_ERROR);
    list
}

/// An address no host process maps: above 47 bits on x86_64, in the first 64 KiB on x86
/// (Linux's `mmap_min_addr`).
#[cfg(target_pointer_width = "64")]
const UNMAPPED: usize = 0xdead_0000_0000;
#[cfg(target_pointer_width = "32")]
const UNMAPPED: usize = 0xdead;

#[test]
fn made_up_device_extensions_are_refused_without_being_read() {
    let rig = Rig::new(MachineConfig::default());
    let adapter = rig.adapter(true, true, 1 << 20);
    let on_stack = [0u64; 64];
    let bogus: [usize; 7] = [
        // Nothing is mapped there: reading the "port extension" before it would fault.
        0x10,
        0x1000,
        UNMAPPED,
        usize::MAX & !0xf,
        on_stack.as_ptr() as usize + 256,
        rig.hw() as usize + 16,
        rig.hw() as usize - 16,
    ];
    let recorder = Recorder::new();
    for hw in bogus {
        let mut length = 100;
        let status = start(hw as PVOID, adapter, null_mut(), &mut length, &recorder);
        assert_eq!(status, ERROR_INVALID_PARAMETER, "StartDma with {hw:#x}");
        assert_eq!(
            complete(hw as PVOID, adapter, null_mut()),
            ERROR_INVALID_PARAMETER
        );
        // SAFETY: exported C ABI; the extension is checked before anything else.
        let queued = unsafe { VideoPortQueueDpc(hw as PVOID, None, null_mut()) };
        assert_eq!(queued, FALSE);
        assert_eq!(
            rig.take_codes(),
            vec![UNKNOWN_EXTENSION; 3],
            "each refusal is reported ({hw:#x})"
        );
    }
    assert!(recorder.take().is_empty());
    rig.put_adapter(adapter);
    assert_eq!(rig.take_codes(), vec![]);
}

#[test]
fn a_removed_device_is_refused_after_it_is_gone() {
    let rig = Rig::new(MachineConfig::default());
    let gone = rig.second_device().hw();
    // The second device was detached and its memory freed when it dropped.
    let recorder = Recorder::new();
    let mut length = 100;
    let status = start(
        gone,
        0x1000 as PVP_DMA_ADAPTER,
        null_mut(),
        &mut length,
        &recorder,
    );
    assert_eq!(status, ERROR_INVALID_PARAMETER);
    assert_eq!(rig.take_codes(), vec![UNKNOWN_EXTENSION]);
}

#[test]
fn more_devices_than_the_lock_free_table_holds_are_all_found() {
    let rig = Rig::new(MachineConfig::default());
    // The table has 32 slots (shared by every test of this process): 40 more devices overflow
    // it, and each must still be found, its transfers run, and its handles stay its own.
    let others: Vec<SecondDevice> = (0..40).map(|_| rig.second_device()).collect();
    let user = rig.machine.user_alloc(PAGE_SIZE, UserProt::ReadWrite);
    let recorder = Recorder::new();
    for (i, other) in others.iter().enumerate().rev().step_by(7) {
        let mut desc = VP_DEVICE_DESCRIPTION {
            ScatterGather: TRUE,
            Dma64BitAddresses: TRUE,
            MaximumLength: 1 << 16,
            ..Default::default()
        };
        // SAFETY: exported C ABI.
        let adapter =
            unsafe { videoprt::dma::adapter::VideoPortGetDmaAdapter(other.hw(), &mut desc) };
        assert!(!adapter.is_null(), "device {i}");
        // SAFETY: exported C ABI over a live buffer.
        let mdl = unsafe {
            VideoPortLockBuffer(
                other.hw(),
                user.as_ptr().cast(),
                PAGE_SIZE as u32,
                VP_LOCK_OPERATION::VpModifyAccess,
            )
        };
        assert!(!mdl.is_null(), "device {i}");
        round_trip(&rig, other.hw(), adapter, mdl, 512);
        // Another device's adapter and MDL are foreign here.
        let mut length = 512;
        let status = start(rig.hw(), adapter, mdl, &mut length, &recorder);
        assert_eq!(status, ERROR_INVALID_PARAMETER);
        assert_eq!(rig.take_codes(), vec![ADAPTER_NOT_LIVE]);
        // SAFETY: exported C ABI.
        unsafe {
            VideoPortUnlockBuffer(other.hw(), mdl);
            videoprt::dma::adapter::VideoPortPutDmaAdapter(other.hw(), adapter);
        }
    }
    let gone: Vec<PVOID> = others.iter().map(SecondDevice::hw).collect();
    drop(others);
    for hw in gone {
        let mut length = 512;
        assert_eq!(
            start(hw, null_mut(), null_mut(), &mut length, &recorder),
            ERROR_INVALID_PARAMETER
        );
    }
    assert_eq!(rig.take_codes(), vec![UNKNOWN_EXTENSION; 40]);
    assert!(recorder.take().is_empty());
    rig.machine.user_free(user);
    assert_eq!(rig.take_codes(), vec![]);
}

#[test]
fn more_adapters_and_locked_buffers_than_the_tables_hold_are_all_found() {
    let rig = Rig::new(MachineConfig {
        total_map_registers: 1024,
        ..MachineConfig::default()
    });
    // 8 adapter slots and 16 MDL slots per device: 12 adapters and 24 buffers overflow both.
    let adapters: Vec<PVP_DMA_ADAPTER> =
        (0..12).map(|_| rig.adapter(true, true, 1 << 16)).collect();
    let users: Vec<ntsim::UserBuffer> = (0..24)
        .map(|_| rig.machine.user_alloc(PAGE_SIZE, UserProt::ReadWrite))
        .collect();
    let mdls: Vec<PVOID> = users.iter().map(|u| lock(&rig, u, PAGE_SIZE)).collect();
    for (i, &adapter) in adapters.iter().enumerate() {
        for &mdl in mdls.iter().skip(i % 3).step_by(5) {
            round_trip(&rig, rig.hw(), adapter, mdl, 256);
        }
    }
    // Release every other one; the released handles are stale, the others still live.
    for (i, &adapter) in adapters.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
        rig.put_adapter(adapter);
        // SAFETY: exported C ABI.
        unsafe { VideoPortUnlockBuffer(rig.hw(), mdls[i]) };
    }
    let recorder = Recorder::new();
    for (i, &adapter) in adapters.iter().enumerate() {
        let live = i % 2 == 1;
        let mut length = 256;
        let status = start(rig.hw(), adapter, mdls[1], &mut length, &recorder);
        if live {
            assert_eq!(status, NO_ERROR, "adapter {i}");
            rig.machine.run_until_idle();
            let list = recorder.take().pop().expect("delivered").list;
            assert_eq!(complete(rig.hw(), adapter, list), NO_ERROR);
        } else {
            assert_eq!(status, ERROR_INVALID_PARAMETER, "stale adapter {i}");
            assert_eq!(rig.take_codes(), vec![ADAPTER_NOT_LIVE]);
        }
        let mut length = 256;
        let status = start(rig.hw(), adapters[1], mdls[i], &mut length, &recorder);
        if live {
            assert_eq!(status, NO_ERROR, "mdl {i}");
            rig.machine.run_until_idle();
            let list = recorder.take().pop().expect("delivered").list;
            assert_eq!(complete(rig.hw(), adapters[1], list), NO_ERROR);
        } else {
            assert_eq!(status, ERROR_INVALID_PARAMETER, "stale mdl {i}");
            assert_eq!(rig.take_codes(), vec![UNKNOWN_MDL]);
        }
    }
    for (i, &adapter) in adapters.iter().enumerate().filter(|(i, _)| i % 2 == 1) {
        rig.put_adapter(adapter);
        // SAFETY: exported C ABI.
        unsafe { VideoPortUnlockBuffer(rig.hw(), mdls[i]) };
    }
    for &mdl in &mdls[12..] {
        // SAFETY: exported C ABI.
        unsafe { VideoPortUnlockBuffer(rig.hw(), mdl) };
    }
    assert_eq!(rig.take_codes(), vec![]);
    for user in users {
        rig.machine.user_free(user);
    }
}

/// Pointers handed between test threads (only compared or passed back to the port).
#[derive(Clone, Copy)]
struct Handles {
    hw: usize,
    adapter: usize,
}

#[test]
fn two_threads_start_and_complete_on_one_adapter() {
    // Fewer under Miri, which interprets every step (the race needs a few rounds, not 300).
    const ROUNDS: usize = if cfg!(miri) { 12 } else { 300 };
    let rig = Rig::new(MachineConfig::default());
    let adapter = rig.adapter(true, true, 1 << 16);
    let handles = Handles {
        hw: rig.hw() as usize,
        adapter: adapter as usize,
    };
    let users: Vec<ntsim::UserBuffer> = (0..2u64)
        .map(|t| {
            let user = rig.machine.user_alloc(3 * PAGE_SIZE, UserProt::ReadWrite);
            user.write(0, &pattern(3 * PAGE_SIZE, t + 1));
            user
        })
        .collect();
    let mdls: Vec<usize> = users
        .iter()
        .map(|u| lock(&rig, u, 3 * PAGE_SIZE) as usize)
        .collect();
    let start_line = Arc::new(Barrier::new(2));
    let threads: Vec<_> = (0..2usize)
        .map(|t| {
            let machine = rig.machine.clone();
            let view = rig.view();
            let mdl = mdls[t];
            let start_line = start_line.clone();
            std::thread::spawn(move || {
                let _cpu = machine.enter();
                let data = pattern(3 * PAGE_SIZE, t as u64 + 1);
                let recorder = Recorder::new();
                start_line.wait();
                for i in 0..ROUNDS {
                    let (offset, len) = ((i * 97) % PAGE_SIZE, 1 + (i * 613) % (2 * PAGE_SIZE));
                    let mut length = len as u32;
                    // SAFETY: exported C ABI; the buffers outlive the threads.
                    let status = unsafe {
                        VideoPortStartDma(
                            handles.hw as PVOID,
                            handles.adapter as PVP_DMA_ADAPTER,
                            mdl as PVOID,
                            offset as u32,
                            &mut length,
                            Some(record_execute),
                            recorder.context(),
                            TRUE,
                        )
                    };
                    assert_eq!(status, NO_ERROR, "thread {t} round {i}");
                    let delivery = loop {
                        if let Some(d) = recorder.take().pop() {
                            break d;
                        }
                        machine.run_until_idle();
                        std::thread::yield_now();
                    };
                    let mut seen = Vec::new();
                    for (address, n) in &delivery.elements {
                        let mut chunk = vec![0; *n as usize];
                        view.read(BusAddress(address.0), &mut chunk)
                            .expect("mapped");
                        seen.extend_from_slice(&chunk);
                    }
                    assert_eq!(
                        seen,
                        &data[offset..offset + length as usize],
                        "thread {t} round {i}"
                    );
                    let list = delivery.list;
                    let hw = handles.hw as PVOID;
                    let adapter = handles.adapter as PVP_DMA_ADAPTER;
                    assert_eq!(complete(hw, adapter, list), NO_ERROR);
                    // A second completion is refused, whatever the other thread does meanwhile.
                    assert_eq!(complete(hw, adapter, list), ERROR_INVALID_PARAMETER);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    rig.machine.run_until_idle();
    assert_eq!(rig.take_codes(), vec![LIST_NOT_OUTSTANDING; 2 * ROUNDS]);
    for mdl in mdls {
        // SAFETY: exported C ABI.
        unsafe { VideoPortUnlockBuffer(rig.hw(), mdl as PVOID) };
    }
    rig.put_adapter(adapter);
    for user in users {
        rig.machine.user_free(user);
    }
    assert_eq!(rig.take_codes(), vec![]);
    rig.machine.assert_clean();
}

#[test]
fn racing_completions_of_one_list_complete_it_exactly_once() {
    // Fewer under Miri, which interprets every step.
    const ROUNDS: usize = if cfg!(miri) { 12 } else { 200 };
    let rig = Rig::new(MachineConfig::default());
    let adapter = rig.adapter(true, true, 1 << 16);
    let user = rig.machine.user_alloc(PAGE_SIZE, UserProt::ReadWrite);
    let mdl = lock(&rig, &user, PAGE_SIZE);
    let handles = Handles {
        hw: rig.hw() as usize,
        adapter: adapter as usize,
    };
    for round in 0..ROUNDS {
        let recorder = Recorder::new();
        let mut length = 512;
        assert_eq!(
            start(rig.hw(), adapter, mdl, &mut length, &recorder),
            NO_ERROR
        );
        rig.machine.run_until_idle();
        let list = recorder.take().pop().expect("delivered").list as usize;
        let start_line = Arc::new(Barrier::new(2));
        let racers: Vec<_> = (0..2)
            .map(|_| {
                let machine = rig.machine.clone();
                let start_line = start_line.clone();
                std::thread::spawn(move || {
                    let _cpu = machine.enter();
                    start_line.wait();
                    complete(
                        handles.hw as PVOID,
                        handles.adapter as PVP_DMA_ADAPTER,
                        list as PVP_SCATTER_GATHER_LIST,
                    )
                })
            })
            .collect();
        let results: Vec<VP_STATUS> = racers.into_iter().map(|r| r.join().unwrap()).collect();
        let won = results.iter().filter(|&&s| s == NO_ERROR).count();
        let refused = results
            .iter()
            .filter(|&&s| s == ERROR_INVALID_PARAMETER)
            .count();
        assert_eq!(
            (won, refused),
            (1, 1),
            "round {round}: exactly one completion wins"
        );
        assert_eq!(rig.take_codes(), vec![LIST_NOT_OUTSTANDING]);
    }
    // SAFETY: exported C ABI.
    unsafe { VideoPortUnlockBuffer(rig.hw(), mdl) };
    rig.put_adapter(adapter);
    rig.machine.user_free(user);
    assert_eq!(rig.take_codes(), vec![]);
    rig.machine.assert_clean();
}
