//! `videoprt_rs.sys`: the kernel-mode export driver.
//!
//! Everything with a decision in it lives in the `videoprt` library (videoprt-rs/), which also
//! runs on the host against ntsim. This crate adds only what a kernel image needs: the entry
//! points the loader calls, the panic handler, and the few symbols the compiler expects a C
//! runtime to provide. The export list is `videoprt_rs.def`.
#![cfg_attr(target_os = "windows", no_std)]

#[cfg(target_os = "windows")]
mod kernel_image;

// Pulls the exported VideoPort functions into the image.
extern crate videoprt as _;
// `_fltused`, `__CxxFrameHandler3`, `__chkstk`.
extern crate kernel_rt as _;
