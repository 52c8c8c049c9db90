//! A video miniport for QEMU's `edu` PCI device (1234:11e8) that moves real bytes through
//! videoprt-rs: packet DMA (`VideoPortLockBuffer`, then the `VideoPortStartDma` /
//! `VideoPortCompleteDma` loop on `*pLength`) and common-buffer DMA.
//!
//! The same source is `sample_miniport.sys` (importing only from `videoprt_rs.sys`) and, on
//! other hosts, an rlib that tests load into ntsim next to videoprt-rs and ntsim's edu model.
//!
//! | file | what |
//! |---|---|
//! | `hw.rs` | HwFindAdapter, HwInitialize, HwInterrupt and the DMA-done DPC |
//! | `ioctl.rs` | HwStartIO: the IOCTLs of `include/edu_sample.h`, validated |
//! | `dma.rs` | packet DMA and common-buffer DMA on the edu engine |
//! | `edu.rs` | the device's register map (from QEMU's `docs/specs/edu.rst`) |
//! | `extension.rs` | the HwDeviceExtension and register access |
//! | `videoport.rs` | the VideoPort functions this miniport imports |
//!
//! The edu engine reaches addresses inside its `dma_mask` only (28 bits unless the VM sets
//! `dma_mask`). VP_DEVICE_DESCRIPTION can say only "32-bit" or "64-bit", so the sample asks for
//! a 32-bit adapter and needs `-device edu,dma_mask=0xffffffff` (or wider).
#![cfg_attr(target_os = "windows", no_std)]

mod dma;
pub mod edu;
mod extension;
mod hw;
pub mod ioctl;
mod videoport;

#[cfg(not(target_os = "windows"))]
pub mod demo;
#[cfg(not(target_os = "windows"))]
pub mod display;
#[cfg(not(target_os = "windows"))]
pub mod harness;
#[cfg(not(target_os = "windows"))]
pub mod image;
#[cfg(target_os = "windows")]
mod kernel_image;
#[cfg(not(target_os = "windows"))]
pub mod misbehave;

#[cfg(target_os = "windows")]
extern crate kernel_rt as _;
// On any other host the VideoPort functions come from videoprt-rs itself.
#[cfg(not(target_os = "windows"))]
extern crate videoprt as _;

use ddk_sys::*;

/// The miniport's entry point: registers its callbacks with the port.
///
/// On Windows this is the image's `DriverEntry`; on other hosts tests pass it to ntsim's
/// driver loader (it keeps its Rust name there so other test drivers can link beside it).
///
/// # Safety
/// Called by the I/O manager with the driver object and registry path.
#[allow(non_snake_case)] // The WDK name, kept on every host.
#[cfg_attr(target_os = "windows", no_mangle)]
#[cfg_attr(target_os = "windows", link_section = "INIT")]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn DriverEntry(
    driver_object: PDRIVER_OBJECT,
    registry_path: PUNICODE_STRING,
) -> NTSTATUS {
    // SAFETY: VIDEO_HW_INITIALIZATION_DATA is plain data; all-zero is its documented start.
    let mut init: VIDEO_HW_INITIALIZATION_DATA = unsafe { core::mem::zeroed() };
    init.HwInitDataSize = core::mem::size_of::<VIDEO_HW_INITIALIZATION_DATA>() as u32;
    init.AdapterInterfaceType = INTERFACE_TYPE::PCIBus;
    init.HwFindAdapter = Some(hw::find_adapter);
    init.HwInitialize = Some(hw::initialize);
    init.HwInterrupt = Some(hw::interrupt);
    init.HwStartIO = Some(ioctl::start_io);
    init.HwDeviceExtensionSize = core::mem::size_of::<extension::DeviceExtension>() as u32;
    // SAFETY: the port copies what it needs from `init` before returning.
    let status = unsafe {
        videoport::VideoPortInitialize(
            driver_object.cast(),
            registry_path.cast(),
            &mut init,
            core::ptr::null_mut(),
        )
    };
    NTSTATUS(status as i32)
}
