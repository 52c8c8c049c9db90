//! The C edu miniport (edu_miniport.c, compiled for the host against videoprt_host.h) end to
//! end on ntsim, through the same scenarios as the Rust sample (`sample_miniport::harness`),
//! so the C code is held to the same IOCTL layout and the same results.

use sample_miniport::harness;

#[test]
fn thirty_two_bit_mask_with_memory_above_4g_bounces_and_is_byte_exact() {
    harness::thirty_two_bit_mask_with_memory_above_4g_bounces_and_is_byte_exact(
        "c_edu_miniport",
        c_miniport::DriverEntry,
    );
}

#[test]
fn sixty_four_bit_mask_with_memory_below_4g_needs_no_bounce_and_is_byte_exact() {
    harness::sixty_four_bit_mask_with_memory_below_4g_needs_no_bounce_and_is_byte_exact(
        "c_edu_miniport",
        c_miniport::DriverEntry,
    );
}

#[test]
fn the_28_bit_edu_default_truncates_and_the_verifier_says_so() {
    harness::the_28_bit_edu_default_truncates_and_the_verifier_says_so(
        "c_edu_miniport",
        c_miniport::DriverEntry,
    );
}

#[test]
fn identify_reports_the_device_and_bad_requests_get_clear_errors() {
    harness::identify_reports_the_device_and_bad_requests_get_clear_errors(
        "c_edu_miniport",
        c_miniport::DriverEntry,
    );
}

#[test]
fn runs_on_every_supported_kernel() {
    harness::runs_on_every_supported_kernel("c_edu_miniport", c_miniport::DriverEntry);
}
