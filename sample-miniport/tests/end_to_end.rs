//! The sample miniport end to end on ntsim, through the edu harness's scenarios (see
//! `sample_miniport::harness`): every size of the device buffer at several offsets, both
//! directions, packet and common-buffer DMA, with and without bounce buffers; the 28-bit edu
//! default shown, not left to chance; bad requests; every supported Windows version.
//!
//! Twice: the host build of the sample, and the shipped `sample_miniport.sys` image (from
//! `cargo xtask build`) loaded by ntsim's kernel image loader: the x64 image on a 64-bit host,
//! the x86 one (`target/drivers/x86/`, i386 code calling the host-built port by stdcall) on a
//! 32-bit (i686) host.

use sample_miniport::edu_scenarios;

edu_scenarios!(
    host_build,
    Miniport::Host("sample_miniport", sample_miniport::DriverEntry)
);
edu_scenarios!(
    pe_image,
    Miniport::shipped("sample_miniport.sys"),
    #[cfg_attr(
        miri,
        ignore = "reads target/drivers/sample_miniport.sys and maps it (file system, mmap)"
    )]
);
