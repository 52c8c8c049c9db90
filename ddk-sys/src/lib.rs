//! Raw declarations of the NT kernel, HAL and VideoPort interfaces used by videoprt-rs.
//!
//! C interface: `wdm.h`, `ntddk.h`, `miniport.h` and `video.h` of the Windows Driver Kit, for the
//! x86_64 (LLP64) and x86 (ILP32) ABIs: pointer-sized fields follow the target's width. Every type is `#[repr(C)]` with fixed-width fields (`u32` for `ULONG`,
//! `u8` for `BOOLEAN`, `#[repr(transparent)]` 32-bit newtypes for C enums so out-of-range values
//! from callers stay representable). Names follow the C headers so that a reader can put the
//! header beside this crate.
//!
//! Layouts are proven twice: `const` asserts next to each type (numbers from the public WDK
//! documentation), and the `layout_vs_mingw` test, which compiles the same numbers against
//! mingw-w64's DDK headers (x86_64, or i686 when the tests run for a 32-bit host; the const
//! asserts hold the x64 numbers and apply to 64-bit targets). Where mingw-w64 is older than the WDK, [`layout::MINGW_DEVIATIONS`]
//! says so, with the reason.
//!
//! Routines, exports and callbacks are declared `extern "ntapi"` under [`ntapi`] (the crate
//! `ntapi`): stdcall on x86, the Windows x64 convention on x86_64 (what `extern "system"` means
//! on Windows x64), also on any other x86_64 host. So code built for the host and code loaded from a PE image (ntsim's loader runs
//! the shipped `.sys` files) call each other directly. On Windows they are imported with
//! `raw-dylib` from `ntoskrnl.exe` and `hal.dll`; on any other host the same symbols are defined
//! by `ntsim`, the user-mode NT simulation, so driver code calls exactly what it would call on
//! Windows.
#![no_std]
#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals)]

// `#[ddk_sys::ntapi]` inside this crate too.
extern crate self as ddk_sys;

pub use ntapi::ntapi;

#[macro_use]
pub mod basic;
pub mod dma;
pub mod int10;
pub mod io;
pub mod irql;
pub mod layout;
mod layout_x86;
pub mod mdl;
pub mod pnp;
pub mod registry;
pub mod resource;
pub mod routines;
pub mod status;
pub mod time;
pub mod video;

pub use basic::*;
pub use dma::*;
pub use int10::*;
pub use io::*;
pub use irql::*;
pub use mdl::*;
pub use pnp::*;
pub use registry::*;
pub use resource::*;
pub use routines::*;
pub use status::*;
pub use time::*;
pub use video::*;
