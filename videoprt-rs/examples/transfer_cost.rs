//! The per-transfer workload that `cargo xtask bench` measures under callgrind: N chunks of
//! VideoPortStartDma / HwVidExecuteDma / VideoPortCompleteDma on one adapter, after a warm-up,
//! with no device behind them. Prints the pool allocations the loop made.
//!
//! Usage: transfer_cost N

use core::ptr::{null_mut, NonNull};
use ddk_sys::*;
use ntsim::{Machine, MachineConfig, UserProt};
use std::alloc::Layout;
use videoprt::device::PortDevice;
use videoprt::dma::adapter::{VideoPortGetDmaAdapter, VideoPortPutDmaAdapter};
use videoprt::dma::complete::VideoPortCompleteDma;
use videoprt::dma::lock::{VideoPortLockBuffer, VideoPortUnlockBuffer};
use videoprt::dma::start::VideoPortStartDma;

/// HwVidExecuteDma: keeps the list for the completion.
unsafe extern "win64" fn keep_list(
    _: PVOID,
    _: PVP_DMA_ADAPTER,
    list: PVP_SCATTER_GATHER_LIST,
    context: PVOID,
) {
    // SAFETY: the context is the loop's list slot.
    unsafe { *(context as *mut PVP_SCATTER_GATHER_LIST) = list };
}

fn main() {
    let transfers: u32 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let machine = Machine::new(MachineConfig::default());
    let _cpu = machine.enter();
    let pdo = machine.create_pdo("bench");
    let layout = Layout::from_size_align(PortDevice::extension_size(64), 16).unwrap();
    // SAFETY: non-zero size; freed after detach below.
    let extension = unsafe { std::alloc::alloc_zeroed(layout) };
    // SAFETY: 16-aligned, zeroed, large enough, valid until detach.
    let device = unsafe {
        PortDevice::attach(
            NonNull::new(extension.cast()).unwrap(),
            pdo.as_ptr(),
            null_mut(),
            64,
        )
    };
    let hw = device.hw_extension();
    let mut desc = VP_DEVICE_DESCRIPTION {
        ScatterGather: TRUE,
        Dma64BitAddresses: TRUE,
        MaximumLength: 1 << 16,
        ..Default::default()
    };
    let user = machine.user_alloc(16 * PAGE_SIZE, UserProt::ReadWrite);
    // SAFETY: exported C ABI, valid arguments throughout.
    unsafe {
        let adapter = VideoPortGetDmaAdapter(hw, &mut desc);
        let mdl = VideoPortLockBuffer(
            hw,
            user.as_ptr().cast(),
            16 * PAGE_SIZE as u32,
            VP_LOCK_OPERATION::VpReadAccess,
        );
        let mut list: PVP_SCATTER_GATHER_LIST = null_mut();
        let mut run = |i: u32| {
            let mut length = 2 * PAGE_SIZE as u32;
            let offset = (i % 8) * 512;
            let context = (&mut list as *mut PVP_SCATTER_GATHER_LIST).cast();
            assert_eq!(
                VideoPortStartDma(
                    hw,
                    adapter,
                    mdl,
                    offset,
                    &mut length,
                    Some(keep_list),
                    context,
                    TRUE
                ),
                NO_ERROR
            );
            assert_eq!(VideoPortCompleteDma(hw, adapter, list, TRUE), NO_ERROR);
        };
        for i in 0..16 {
            run(i);
        }
        let before = machine.pool_stats().allocations_total;
        for i in 0..transfers {
            run(i);
        }
        let allocations = machine.pool_stats().allocations_total - before;
        println!("{transfers} transfers, {allocations} pool allocations (the simulated HAL's scatter/gather lists included)");
        VideoPortUnlockBuffer(hw, mdl);
        VideoPortPutDmaAdapter(hw, adapter);
        device.detach();
        std::alloc::dealloc(extension, layout);
    }
    machine.user_free(user);
    machine.assert_clean();
}
