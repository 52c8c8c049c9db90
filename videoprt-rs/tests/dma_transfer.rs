//! Packet DMA end to end through the exported C ABI: LockBuffer, the StartDma/CompleteDma loop
//! on `*pLength`, a bus-master device that walks each scatter/gather list through ntsim's
//! IOMMU-style view, UnlockBuffer, PutDmaAdapter. Data is checked byte for byte.

mod support;

use ddk_sys::*;
use ntsim::{MachineConfig, Placement, UserProt};
use support::*;
use videoprt::dma::complete::VideoPortCompleteDma;
use videoprt::dma::lock::{VideoPortLockBuffer, VideoPortUnlockBuffer};
use videoprt::dma::start::VideoPortStartDma;

#[derive(Clone, Copy, Debug)]
struct Case {
    length: usize,
    offset: usize,
    to_device: bool,
    scatter_gather: bool,
    dma64: bool,
    user_memory: Placement,
    map_registers: u32,
}

impl Case {
    fn config(&self) -> MachineConfig {
        MachineConfig {
            user_memory: self.user_memory,
            max_map_registers_per_adapter: self.map_registers,
            strict: false,
            ..MachineConfig::default()
        }
    }
}

/// What one transfer did, for the assertions.
struct Outcome {
    chunks: Vec<u32>,
    bounced_elements: usize,
    elements: usize,
}

/// Moves `case.length` bytes between a user buffer and a device memory through videoprt-rs,
/// and checks that every byte arrived.
fn transfer(case: Case, seed: u64) -> Outcome {
    let mut rig = Rig::new(case.config());
    let adapter = rig.adapter(case.scatter_gather, case.dma64, 1 << 20);
    let user = rig
        .machine
        .user_alloc(case.offset + case.length, UserProt::ReadWrite);
    let source = pattern(case.length, seed);
    if case.to_device {
        user.write(case.offset, &source);
    }
    let operation = if case.to_device {
        VP_LOCK_OPERATION::VpReadAccess
    } else {
        VP_LOCK_OPERATION::VpWriteAccess
    };
    // SAFETY: exported C ABI; the range lies inside the live user buffer.
    let mdl = unsafe {
        VideoPortLockBuffer(
            rig.hw(),
            user.as_ptr().add(case.offset).cast(),
            case.length as u32,
            operation,
        )
    };
    assert!(!mdl.is_null(), "LockBuffer failed for {case:?}");

    let recorder = Recorder::new();
    let view = rig.view();
    let mut device_memory = if case.to_device {
        Vec::new()
    } else {
        source.clone()
    };
    let mut outcome = Outcome {
        chunks: Vec::new(),
        bounced_elements: 0,
        elements: 0,
    };
    let mut offset = 0usize;
    while offset < case.length {
        let mut length = (case.length - offset) as u32;
        // One raw pointer for both the recorder and StartDma: a second `&mut length` would
        // invalidate the recorder's copy while the port still writes through its own.
        let length_ptr: *mut u32 = &raw mut length;
        *recorder.length.lock().unwrap() = length_ptr;
        // SAFETY: exported C ABI with a locked MDL and live variables.
        let status = unsafe {
            VideoPortStartDma(
                rig.hw(),
                adapter,
                mdl,
                offset as u32,
                length_ptr,
                Some(record_execute),
                recorder.context(),
                case.to_device as u8,
            )
        };
        assert_eq!(status, NO_ERROR, "StartDma at offset {offset} of {case:?}");
        rig.machine.run_until_idle();
        let deliveries = recorder.take();
        assert_eq!(deliveries.len(), 1, "one HwVidExecuteDma per StartDma");
        let delivery = &deliveries[0];
        assert_eq!(
            delivery.irql, DISPATCH_LEVEL,
            "HwVidExecuteDma runs at DISPATCH_LEVEL"
        );
        assert_eq!(
            delivery.length_seen, length,
            "*pLength is written before HwVidExecuteDma runs"
        );
        assert!(length > 0);
        if !case.scatter_gather {
            assert_eq!(
                delivery.elements.len(),
                1,
                "a device without scatter/gather gets one element"
            );
        }
        let listed: u32 = delivery.elements.iter().map(|e| e.1).sum();
        assert_eq!(listed, length, "the list covers exactly *pLength bytes");
        let mut at = offset;
        for &(address, bytes) in &delivery.elements {
            if !case.dma64 {
                assert!(
                    address.0 + u64::from(bytes) <= 1 << 32,
                    "a 32-bit device got address {address:x?}"
                );
            }
            if rig
                .machine
                .physical_address(user.as_ptr().wrapping_add(case.offset + at))
                != Some(address)
            {
                outcome.bounced_elements += 1;
            }
            let range = at..at + bytes as usize;
            if case.to_device {
                let mut chunk = vec![0; bytes as usize];
                view.read(address, &mut chunk)
                    .expect("device reads a mapped element");
                device_memory.extend_from_slice(&chunk);
            } else {
                view.write(address, &device_memory[range])
                    .expect("device writes a mapped element");
            }
            at += bytes as usize;
        }
        outcome.elements += delivery.elements.len();
        // SAFETY: exported C ABI; the list came from HwVidExecuteDma.
        let status =
            unsafe { VideoPortCompleteDma(rig.hw(), adapter, delivery.list, case.to_device as u8) };
        assert_eq!(status, NO_ERROR);
        outcome.chunks.push(length);
        offset += length as usize;
    }
    if case.to_device {
        assert!(
            device_memory == source,
            "device received different bytes for {case:?}"
        );
    } else {
        let landed = &user.to_vec()[case.offset..];
        assert!(
            landed == source,
            "memory received different bytes for {case:?}"
        );
    }
    // SAFETY: exported C ABI; every chunk is complete.
    unsafe { VideoPortUnlockBuffer(rig.hw(), mdl) };
    rig.put_adapter(adapter);
    rig.machine.user_free(user);
    let violations = rig.remove_device();
    assert!(violations.is_empty(), "{case:?}: {violations:#?}");
    rig.machine.assert_clean();
    outcome
}

/// Under Miri, which interprets every byte copied, fewer cases of at most 64 KiB each.
const MIRI_CASES: usize = 3;
const LONGEST: usize = if cfg!(miri) { 1 << 16 } else { 1 << 20 };

fn lengths_and_offsets(seed: u64, count: usize) -> Vec<(usize, usize)> {
    let count = if cfg!(miri) {
        count.min(MIRI_CASES)
    } else {
        count
    };
    let noise = pattern(count * 8, seed);
    (0..count)
        .map(|i| {
            let r = u64::from_le_bytes(noise[i * 8..i * 8 + 8].try_into().unwrap());
            // Sizes spread over 1 B .. 1 MiB on a log scale; offsets anywhere in a page.
            let length = 1usize << (r % 21);
            let length = length + ((r >> 8) as usize) % length;
            let length = length.min(LONGEST);
            (length, ((r >> 32) as usize) % PAGE_SIZE)
        })
        .collect()
}

#[test]
fn scatter_gather_64bit_moves_every_byte_both_ways() {
    for (i, (length, offset)) in lengths_and_offsets(1, 12).into_iter().enumerate() {
        for to_device in [true, false] {
            let case = Case {
                length,
                offset,
                to_device,
                scatter_gather: true,
                dma64: true,
                user_memory: Placement::Interleaved,
                map_registers: 32,
            };
            let outcome = transfer(case, i as u64 + 7);
            assert_eq!(outcome.bounced_elements, 0, "a 64-bit device never bounces");
        }
    }
}

#[test]
fn thirty_two_bit_device_bounces_pages_above_4g_and_still_moves_every_byte() {
    for (i, (length, offset)) in lengths_and_offsets(2, 10).into_iter().enumerate() {
        for to_device in [true, false] {
            let case = Case {
                length,
                offset,
                to_device,
                scatter_gather: true,
                dma64: false,
                user_memory: Placement::Above4G,
                map_registers: 32,
            };
            let outcome = transfer(case, i as u64 + 100);
            assert_eq!(
                outcome.bounced_elements, outcome.elements,
                "every page lies above 4 GiB"
            );
        }
    }
}

#[test]
fn device_without_scatter_gather_gets_one_element_per_chunk() {
    for (i, (length, offset)) in lengths_and_offsets(3, 8).into_iter().enumerate() {
        for to_device in [true, false] {
            let case = Case {
                length,
                offset,
                to_device,
                scatter_gather: false,
                dma64: true,
                user_memory: Placement::Interleaved,
                map_registers: 16,
            };
            transfer(case, i as u64 + 200);
        }
    }
}

#[test]
fn few_map_registers_split_a_large_buffer_into_chunks_that_fit() {
    // Under Miri 40 000 bytes: still ten chunks.
    const LENGTH: usize = if cfg!(miri) { 40_000 } else { 300_000 };
    let case = Case {
        length: LENGTH,
        offset: 1000,
        to_device: true,
        scatter_gather: true,
        dma64: true,
        user_memory: Placement::Interleaved,
        map_registers: 2,
    };
    let outcome = transfer(case, 9);
    // Two registers span at most two pages; the first chunk starts 1000 bytes into its page.
    assert_eq!(outcome.chunks[0] as usize, 2 * PAGE_SIZE - 1000);
    assert!(outcome.chunks.iter().all(|&c| c as usize <= 2 * PAGE_SIZE));
    assert_eq!(
        outcome.chunks.iter().map(|&c| c as usize).sum::<usize>(),
        LENGTH
    );
    assert!(outcome.chunks.len() >= LENGTH / (2 * PAGE_SIZE));
}

#[test]
fn maximum_length_of_the_device_caps_each_chunk() {
    let mut rig = Rig::new(MachineConfig::default());
    let adapter = rig.adapter(true, true, 5000);
    let user = rig.machine.user_alloc(64 * 1024, UserProt::ReadWrite);
    // SAFETY: exported C ABI over a live buffer.
    let mdl = unsafe {
        VideoPortLockBuffer(
            rig.hw(),
            user.as_ptr().cast(),
            64 * 1024,
            VP_LOCK_OPERATION::VpReadAccess,
        )
    };
    let recorder = Recorder::new();
    let mut length = 64 * 1024;
    // SAFETY: as above.
    let status = unsafe {
        VideoPortStartDma(
            rig.hw(),
            adapter,
            mdl,
            0,
            &mut length,
            Some(record_execute),
            recorder.context(),
            TRUE,
        )
    };
    assert_eq!((status, length), (NO_ERROR, 5000));
    let delivery = recorder.take().pop().expect("delivered");
    // SAFETY: as above.
    unsafe {
        assert_eq!(
            VideoPortCompleteDma(rig.hw(), adapter, delivery.list, TRUE),
            NO_ERROR
        );
        VideoPortUnlockBuffer(rig.hw(), mdl);
    }
    rig.put_adapter(adapter);
    rig.machine.user_free(user);
    assert!(rig.remove_device().is_empty());
    rig.machine.assert_clean();
}
