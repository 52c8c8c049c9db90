//! videoprt-rs: the video port driver library.
#![cfg_attr(target_os = "windows", no_std)]

#[cfg(not(target_os = "windows"))]
extern crate ntsim as _;
