//! Fault injection: fail the Nth future request of one kind, and [`sweep`] every failure point
//! of a scenario.
//!
//! Each kind counts its own requests: a failure injected into `ScatterGatherList` does not
//! move the `PoolAllocation` counter, so a sweep visits exactly the points of one kind.

use crate::config::MachineConfig;
use crate::machine::Machine;
use std::fmt::Debug;

/// A class of request that can be made to fail.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FaultKind {
    /// `ExAllocatePool2` / `ExAllocatePoolWithTag` returns NULL.
    PoolAllocation,
    /// `IoAllocateMdl` returns NULL.
    MdlAllocation,
    /// `IoGetDmaAdapter` returns NULL.
    AdapterRequest,
    /// `GetScatterGatherList` cannot allocate its list: STATUS_INSUFFICIENT_RESOURCES, no callback.
    ScatterGatherList,
    /// `AllocateCommonBuffer` returns NULL.
    CommonBuffer,
    /// `MmMapLockedPagesSpecifyCache(UserMode)` cannot map the pages: on Windows it raises
    /// an exception (STATUS_INSUFFICIENT_RESOURCES), so `VprtMapLockedPagesUser` returns
    /// that status (a direct call returns NULL and is reported as unguarded).
    UserMapping,
    /// `x86BiosCall` fails (returns FALSE): the emulator could not run the interrupt.
    BiosCall,
    /// `x86BiosAllocateBuffer` returns STATUS_INSUFFICIENT_RESOURCES.
    BiosBuffer,
}

const KINDS: usize = 8;

impl FaultKind {
    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Default)]
pub(crate) struct Faults {
    seen: [u64; KINDS],
    fail_at: [Option<u64>; KINDS],
    injected: [u64; KINDS],
}

impl Faults {
    /// Counts one request of `kind`; true if this one must fail.
    pub(crate) fn hit(&mut self, kind: FaultKind) -> bool {
        let i = kind.index();
        self.seen[i] += 1;
        if self.fail_at[i] == Some(self.seen[i]) {
            self.fail_at[i] = None;
            self.injected[i] += 1;
            return true;
        }
        false
    }
}

impl Machine {
    /// Fails the `n`th (1-based) request of `kind` from now on. Replaces an earlier
    /// `fail_nth` of the same kind that has not fired yet.
    pub fn fail_nth(&self, kind: FaultKind, n: u64) {
        assert!(n >= 1, "fail_nth counts from 1");
        let mut st = self.lock();
        let i = kind.index();
        st.faults.fail_at[i] = Some(st.faults.seen[i] + n);
    }

    /// Requests of `kind` seen so far (failed ones included).
    pub fn fault_requests(&self, kind: FaultKind) -> u64 {
        self.lock().faults.seen[kind.index()]
    }

    /// Failures of `kind` injected so far.
    pub fn faults_injected(&self, kind: FaultKind) -> u64 {
        self.lock().faults.injected[kind.index()]
    }
}

/// What a [`sweep`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepReport {
    /// Requests of the kind in one unfailed run: the number of failure points visited.
    pub points: u64,
    /// Runs in which the scenario returned `Err` (it saw the failure).
    pub errors: u64,
}

/// Runs `scenario` on a fresh default machine to count the requests of `kind`, then once per
/// request on a fresh machine with that request failing. The thread is entered for each run.
///
/// Every run must end clean (no violations, no leaks; see [`Machine::assert_clean`]) whether
/// the scenario returns `Ok` or `Err`: handling the failure gracefully is the point. The
/// unfailed run must return `Ok`. Panics with the failing point otherwise.
pub fn sweep<E: Debug>(
    kind: FaultKind,
    scenario: impl Fn(&Machine) -> Result<(), E>,
) -> SweepReport {
    sweep_with(MachineConfig::default(), kind, scenario)
}

/// [`sweep`] with a given machine configuration.
pub fn sweep_with<E: Debug>(
    config: MachineConfig,
    kind: FaultKind,
    scenario: impl Fn(&Machine) -> Result<(), E>,
) -> SweepReport {
    let baseline = Machine::new(config.clone());
    let points = {
        let _g = baseline.enter();
        if let Err(e) = scenario(&baseline) {
            panic!("fault sweep: the scenario failed without any injected fault: {e:?}");
        }
        baseline.assert_clean();
        baseline.fault_requests(kind)
    };
    let mut errors = 0;
    for n in 1..=points {
        let machine = Machine::new(config.clone());
        let _g = machine.enter();
        machine.fail_nth(kind, n);
        let result = scenario(&machine);
        assert_eq!(
            machine.faults_injected(kind),
            1,
            "fault sweep: {kind:?} request {n} of {points} was never made"
        );
        if result.is_err() {
            errors += 1;
        }
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| machine.assert_clean()));
        if let Err(panic) = outcome {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("fault sweep: failing {kind:?} request {n} of {points} (result {result:?}) left the machine dirty:\n{msg}");
        }
    }
    SweepReport { points, errors }
}
