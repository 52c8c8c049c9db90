//! Misbehaving variants of the sample: the verifier catches each. (One test: the switch is
//! process-wide.)

use ntsim::Placement;
use sample_miniport::harness::{pattern, Miniport, Session};
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
