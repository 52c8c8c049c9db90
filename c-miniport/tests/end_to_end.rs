//! The C edu miniport (edu_miniport.c, compiled for the host against videoprt_host.h) end to
//! end on ntsim, through the same scenarios as the Rust sample: every size of the device buffer
//! at several offsets, both directions, packet and common-buffer DMA, with and without bounce
//! buffers, zero violations and zero leaks; the 28-bit edu default reported; bad requests get
//! the same clear errors.

mod support;

use ntsim::devices::edu;
use ntsim::Placement;
use support::{pattern, Session};

/// Every size 1..=4096 at rotating device and user offsets; byte-exact both ways, both paths.
fn every_size(session: &Session) {
    const DEVICE_OFFSETS: [u32; 4] = [0, 1, 0x7ff, 0xffc];
    for size in 1..=4096usize {
        let device_offset = DEVICE_OFFSETS[size % 4].min(4096 - size as u32);
        let user_offset = (size * 37) % 4096;
        let data = pattern(size, size as u32);
        session
            .write_packet(device_offset, user_offset, &data)
            .unwrap_or_else(|s| panic!("WRITE size {size}: {s:?}"));
        let device = session.device_buffer();
        assert!(
            device[device_offset as usize..][..size] == data[..],
            "device buffer after WRITE, size {size}"
        );
        let back = session
            .read_packet(device_offset, (user_offset + 1) % 4096, size)
            .unwrap();
        assert!(
            back == data,
            "READ returned different bytes, size {size} at {device_offset:#x}"
        );

        let other = pattern(size, 90_000 + size as u32);
        session.write_common(device_offset, &other).unwrap();
        let back = session.read_common(device_offset, size).unwrap();
        assert!(back == other, "common buffer round trip, size {size}");
    }
}

#[test]
fn thirty_two_bit_mask_with_memory_above_4g_bounces_and_is_byte_exact() {
    let mut session = Session::start(u32::MAX as u64, Placement::Above4G);
    every_size(&session);
    let trace = session.machine.take_trace();
    assert!(
        trace.iter().any(|l| l.contains("(bounced)")),
        "pages above 4 GiB must bounce for a 32-bit adapter"
    );
    session.stop();
    assert_eq!(session.machine.violations(), vec![]);
    session.machine.assert_clean();
}

#[test]
fn sixty_four_bit_mask_with_memory_below_4g_needs_no_bounce_and_is_byte_exact() {
    let mut session = Session::start(u64::MAX, Placement::Below4G);
    every_size(&session);
    let trace = session.machine.take_trace();
    assert!(trace.iter().any(|l| l.starts_with("GetScatterGatherList")));
    assert!(
        !trace.iter().any(|l| l.contains("(bounced)")),
        "nothing to bounce below 4 GiB"
    );
    session.stop();
    assert_eq!(session.machine.violations(), vec![]);
    session.machine.assert_clean();
}

#[test]
fn the_28_bit_edu_default_truncates_and_the_verifier_says_so() {
    // Memory above 256 MiB (here: above 4 GiB, bounced below it, but still above 256 MiB).
    let mut session = Session::start(edu::DEFAULT_DMA_MASK, Placement::Above4G);
    let data = pattern(4096, 7);
    let written = session.write_packet(0, 0, &data);
    let back = session.read_packet(0, 0, 4096);
    let violations = session.machine.take_violations();
    let truncated = violations
        .iter()
        .filter(|v| v.code == edu::violation::EDU_DMA_TRUNCATED)
        .count();
    assert!(
        truncated >= 1,
        "the truncation is reported: {violations:#?}"
    );
    assert!(
        violations
            .iter()
            .any(|v| v.bugcheck == 0xE6 && v.code == 0x26),
        "the IOMMU view refuses the truncated address"
    );
    // What the client got is wrong, and the run is not clean: never silent corruption.
    let intact = written.is_ok() && back.as_ref().is_ok_and(|b| *b == data);
    assert!(
        !intact || truncated == 0,
        "truncated DMA must not pass as an intact round trip"
    );
    session.stop();
}

#[test]
fn identify_reports_the_device_and_bad_requests_get_clear_errors() {
    use ddk_sys::*;
    use sample_miniport::ioctl::*;
    let mut session = Session::start(u32::MAX as u64, Placement::Interleaved);
    let mut out = [0u8; 8];
    assert_eq!(
        session.ioctl(IOCTL_EDU_SAMPLE_IDENTIFY, &[], &mut out),
        Ok(8)
    );
    assert_eq!(
        u32::from_le_bytes(out[..4].try_into().unwrap()),
        0x0100_00ed
    );
    assert_eq!(u32::from_le_bytes(out[4..].try_into().unwrap()), 1, "alive");
    assert_eq!(
        session.ioctl(IOCTL_EDU_SAMPLE_IDENTIFY, &[], &mut [0u8; 4]),
        Err(STATUS_BUFFER_TOO_SMALL)
    );

    let invalid = |r: Result<(), NTSTATUS>| assert_eq!(r, Err(STATUS_INVALID_PARAMETER));
    invalid(session.write_packet(4000, 0, &[1; 200]));
    invalid(session.write_packet(0, 0, &[]));
    invalid(session.write_common(4095, &[1, 2]));
    assert_eq!(
        session.read_common(4096, 1).map(drop),
        Err(STATUS_INVALID_PARAMETER)
    );
    // A user pointer that is not the caller's memory: the port refuses to lock it.
    let request = [0u32.to_le_bytes(), 16u32.to_le_bytes()].concat();
    let mut bad = request.clone();
    bad.extend_from_slice(&0x10_0000u64.to_le_bytes());
    assert_eq!(
        session.ioctl(IOCTL_EDU_SAMPLE_WRITE, &bad, &mut []),
        Err(STATUS_INVALID_PARAMETER)
    );
    assert_eq!(
        session.ioctl(IOCTL_EDU_SAMPLE_WRITE, &request, &mut []),
        Err(STATUS_BUFFER_TOO_SMALL),
        "short input"
    );
    assert_eq!(
        session.ioctl(0x0023_0000 | (0x999 << 2), &[], &mut []),
        Err(STATUS_INVALID_DEVICE_REQUEST)
    );
    // The refused lock is reported by the port (that is the point of the check).
    let reports = session.machine.take_violations();
    assert!(
        reports.iter().all(|v| v.routine == "VideoPortLockBuffer"),
        "{reports:#?}"
    );
    session.stop();
    session.machine.assert_clean();
}
