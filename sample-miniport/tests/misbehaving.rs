//! Misbehaving variants of the sample: the verifier catches each, whether the miniport is a
//! host build or a PE image. (One test: the host build's switch is process-wide.) The PE half
//! runs on 64-bit hosts only: the broken variant is built as an x64 image alone.

use ntsim::Placement;
use sample_miniport::harness::{drivers_dir, pattern, Miniport, Session};
use sample_miniport::misbehave::{self, Misbehavior};

#[test]
fn skipped_completion_and_a_device_left_running_are_caught() {
    // CompleteDma never called: the list is still outstanding when the device goes away.
    misbehave::set(Misbehavior::SkipCompleteDma);
    let mut session = Session::start(
        &Miniport::Host("sample_miniport", sample_miniport::DriverEntry),
        u32::MAX as u64,
        Placement::Above4G,
    );
    session.write_packet(0, 100, &pattern(3000, 1)).unwrap();
    session.stop();
    misbehave::set(Misbehavior::None);
    let violations = session.machine.take_violations();
    assert!(
        violations
            .iter()
            .any(|v| v.bugcheck == 0xE6 && v.code == 0x0A),
        "the port reports the transfer still outstanding at removal: {violations:#?}"
    );
    session.machine.assert_clean();
    drop(session);
    let host_codes = codes(&violations);

    // The same fault in a PE image (the C miniport built to skip CompleteDma, by lld-link):
    // reported the same way. Not under Miri: the image is read from target/drivers and mapped
    // with mmap, neither of which Miri can do. 64-bit hosts only: no x86 build of the broken
    // variant is made.
    if !cfg!(miri) && cfg!(target_pointer_width = "64") {
        let broken = drivers_dir().join("test/c_edu_miniport_skip_complete_dma.sys");
        let mut session = Session::start(
            &Miniport::Image(broken),
            u32::MAX as u64,
            Placement::Above4G,
        );
        session.write_packet(0, 100, &pattern(3000, 1)).unwrap();
        session.stop();
        let violations = session.machine.take_violations();
        assert_eq!(
            codes(&violations),
            host_codes,
            "the PE image's fault is reported as the host build's: {violations:#?}"
        );
        session.machine.assert_clean();
        drop(session);
    }

    // The engine runs again after CompleteDma: it touches memory no longer mapped for it.
    misbehave::set(Misbehavior::RestartAfterComplete);
    let mut session = Session::start(
        &Miniport::Host("sample_miniport", sample_miniport::DriverEntry),
        u32::MAX as u64,
        Placement::Above4G,
    );
    let _ = session.write_packet(0, 0, &pattern(4096, 2));
    session.machine.run_until_idle();
    misbehave::set(Misbehavior::None);
    session.stop();
    let violations = session.machine.take_violations();
    assert!(
        violations
            .iter()
            .any(|v| v.bugcheck == 0xE6 && v.code == 0x26),
        "device access after CompleteDma is an IOMMU violation: {violations:#?}"
    );
}

/// (bug check, code) of each violation, in order, without duplicates.
fn codes(violations: &[ntsim::Violation]) -> Vec<(u32, u32)> {
    let mut codes: Vec<(u32, u32)> = violations.iter().map(|v| (v.bugcheck, v.code)).collect();
    codes.dedup();
    codes
}
