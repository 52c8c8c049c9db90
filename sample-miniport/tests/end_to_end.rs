//! The sample miniport end to end on ntsim, through the edu harness's scenarios (see
//! `sample_miniport::harness`): every size of the device buffer at several offsets, both
//! directions, packet and common-buffer DMA, with and without bounce buffers; the 28-bit edu
//! default shown, not left to chance; bad requests; every supported Windows version.
//!
//! Twice: the host build of the sample, and the shipped `sample_miniport.sys` image (from
//! `cargo xtask build`) loaded by ntsim's kernel image loader.

use sample_miniport::harness::{self, Miniport};

macro_rules! scenarios {
    ($module:ident, $miniport:expr $(, #[$under_miri:meta])?) => {
        mod $module {
            use super::*;

            #[test]
            $(#[$under_miri])?
            fn thirty_two_bit_mask_with_memory_above_4g_bounces_and_is_byte_exact() {
                harness::thirty_two_bit_mask_with_memory_above_4g_bounces_and_is_byte_exact(
                    &$miniport,
                );
            }

            #[test]
            $(#[$under_miri])?
            fn sixty_four_bit_mask_with_memory_below_4g_needs_no_bounce_and_is_byte_exact() {
                harness::sixty_four_bit_mask_with_memory_below_4g_needs_no_bounce_and_is_byte_exact(
                    &$miniport,
                );
            }

            #[test]
            $(#[$under_miri])?
            fn the_28_bit_edu_default_truncates_and_the_verifier_says_so() {
                harness::the_28_bit_edu_default_truncates_and_the_verifier_says_so(&$miniport);
            }

            #[test]
            $(#[$under_miri])?
            fn identify_reports_the_device_and_bad_requests_get_clear_errors() {
                harness::identify_reports_the_device_and_bad_requests_get_clear_errors(&$miniport);
            }

            #[test]
            $(#[$under_miri])?
            fn runs_on_every_supported_kernel() {
                harness::runs_on_every_supported_kernel(&$miniport);
            }
        }
    };
}

scenarios!(
    host_build,
    Miniport::Host("sample_miniport", sample_miniport::DriverEntry)
);
scenarios!(
    pe_image,
    Miniport::shipped("sample_miniport.sys"),
    #[cfg_attr(
        miri,
        ignore = "reads target/drivers/sample_miniport.sys and maps it (file system, mmap)"
    )]
);
