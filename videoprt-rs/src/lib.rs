//! videoprt-rs: the video port driver library behind `videoprt_rs.sys`.
//!
//! C interface: the `VideoPort*` exports of `video.h`. Every export is a thin `extern "ntapi"`
//! shim that validates what it can (IRQL, the device extension, handles, pointers, lengths) and
//! maps the result to the documented return value; the decisions live in safe Rust underneath.
//! The same code runs in the Windows kernel and, on any other host, against ntsim.
//!
//! Where to find a function: `dma/` holds the DMA services, one file per family (see
//! [`dma`]); `port/` the port core that hosts the miniport, one file per family (see
//! [`port`]); `device.rs` the port's device extension that precedes every `HwDeviceExtension`.
#![cfg_attr(target_os = "windows", no_std)]

// On any host but Windows, the kernel is ntsim: linking it resolves every NT symbol.
#[cfg(not(target_os = "windows"))]
extern crate ntsim as _;

pub mod device;
pub mod dma;
pub mod exports;
pub mod irql;
mod live;
pub mod pool;
pub mod port;
pub mod report;
mod slist;
pub mod sync;
pub mod system;
