//! The obsolete packet-DMA-by-IOCTL exports return their documented fixed results, through the
//! C ABI, whatever they are given (including pointers that must never be dereferenced).

use core::ptr::{null_mut, NonNull};
use ddk_sys::*;
use videoprt::dma::obsolete::*;

/// Arguments a miniport might pass: NULL, and a dangling non-NULL pointer that would fault if
/// dereferenced (the functions must not look at their arguments).
fn handles() -> [PVOID; 2] {
    [null_mut(), NonNull::<u64>::dangling().as_ptr().cast()]
}

#[test]
fn handle_returning_functions_return_null() {
    for hw in handles() {
        for dma in handles() {
            let dma: PDMA = dma.cast();
            for flags in [
                DMA_FLAGS::VideoPortUnlockAfterDma,
                DMA_FLAGS::VideoPortKeepPagesLocked,
                DMA_FLAGS(77),
            ] {
                assert!(VideoPortDoDma(hw, dma, flags).is_null(), "VideoPortDoDma");
            }
            assert!(
                VideoPortGetDmaContext(hw, dma).is_null(),
                "VideoPortGetDmaContext"
            );
            assert!(VideoPortAssociateEventsWithDmaHandle(hw, dma.cast(), hw, hw).is_null());
        }
    }
}

#[test]
fn context_and_byte_count_setters_change_nothing_observable() {
    let dma: PDMA = NonNull::<u64>::dangling().as_ptr().cast();
    let hw = null_mut();
    VideoPortSetDmaContext(hw, dma, 0x1234 as PVOID);
    assert!(
        VideoPortGetDmaContext(hw, dma).is_null(),
        "a set context must not be returned"
    );
    VideoPortSetBytesUsed(hw, dma, 4096);
    assert_eq!(
        VideoPortGetBytesUsed(hw, dma),
        0,
        "GetBytesUsed is documented to return 0"
    );
}

#[test]
fn status_functions_return_false() {
    for hw in handles() {
        for dma in handles() {
            assert_eq!(VideoPortSignalDmaComplete(hw, dma.cast()), FALSE);
            assert_eq!(
                VideoPortUnmapDmaMemory(hw, dma, null_mut(), dma.cast()),
                FALSE
            );
        }
    }
}

#[test]
fn map_dma_memory_returns_null_and_leaves_outputs_untouched() {
    let mut length: ULONG = 0x1000;
    let mut in_io_space: ULONG = VIDEO_MEMORY_SPACE_IO;
    let mut va: PVOID = 0x5555 as PVOID;
    let handle = VideoPortMapDmaMemory(
        null_mut(),
        null_mut(),
        PHYSICAL_ADDRESS::new(0xF000_0000),
        &mut length,
        &mut in_io_space,
        null_mut(),
        null_mut(),
        &mut va,
    );
    assert!(handle.is_null());
    assert_eq!(
        (length, in_io_space, va),
        (0x1000, VIDEO_MEMORY_SPACE_IO, 0x5555 as PVOID)
    );
}

#[test]
fn get_mdl_returns_the_handle_itself() {
    for dma in handles() {
        assert_eq!(VideoPortGetMdl(null_mut(), dma.cast()), dma);
    }
}
