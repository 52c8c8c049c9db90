//! The C edu miniport (edu_miniport.c) end to end on ntsim, through the same scenarios as the
//! Rust sample (`sample_miniport::harness`), so the C code is held to the same IOCTL layout and
//! the same results. Three times: compiled for the host against videoprt_host.h, and the two
//! shipped images, `c_edu_miniport_gnu.sys` (GNU ld) and `c_edu_miniport_lld.sys` (lld-link),
//! loaded by ntsim's kernel image loader.
//!
//! On a 32-bit (i686) host the images are the x86 ones (`target/drivers/x86/`, i386 code
//! calling the host-built port through stdcall) and there is no host build of the C source.

use sample_miniport::edu_scenarios;

#[cfg(target_pointer_width = "64")]
edu_scenarios!(
    host_build,
    Miniport::Host("c_edu_miniport", c_miniport::DriverEntry)
);
edu_scenarios!(gnu_ld_image, Miniport::shipped("c_edu_miniport_gnu.sys"));
edu_scenarios!(lld_link_image, Miniport::shipped("c_edu_miniport_lld.sys"));
