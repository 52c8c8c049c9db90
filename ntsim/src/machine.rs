//! [`Machine`]: one simulated computer, and the binding of host threads to it.
//!
//! State lives behind one mutex. ntsim never holds that lock while it calls driver code (DPC
//! routines, `DRIVER_LIST_CONTROL` callbacks, device events): it takes what it needs, releases
//! the lock, then calls. Each host thread that enters a machine is one simulated processor with
//! its own IRQL, kept in a thread-local (so IRQL changes need no lock).

use crate::config::MachineConfig;
use crate::fault::Faults;
use crate::hal::Hal;
use crate::mdl::MdlRecord;
use crate::memory::{PhysMem, Rng};
use crate::pdo::PdoTable;
use crate::pool::Pool;
use crate::types::{BusAddress, PAGE};
use crate::verifier::{bugcheck, ntsim_code, LeakKind, LeakReport, Violation};
use ddk_sys::{KIRQL, PASSIVE_LEVEL};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// A device event or other deferred harness work, run by [`Machine::run_until_idle`].
pub(crate) type Event = Box<dyn FnOnce(&Machine) + Send>;

/// Contiguous memory from `MmAllocateContiguousMemorySpecifyCache`.
pub(crate) struct ContiguousRecord {
    pub region: crate::memory::RegionId,
    pub bytes: usize,
    pub serial: u64,
}

pub(crate) struct State {
    pub config: MachineConfig,
    pub rng: Rng,
    serial: u64,
    pub mem: PhysMem,
    pub pool: Pool,
    pub mdls: HashMap<usize, MdlRecord>,
    /// Queued KDPC addresses, FIFO.
    pub dpcs: VecDeque<usize>,
    pub events: VecDeque<Event>,
    pub hal: Hal,
    pub pdos: PdoTable,
    pub contiguous: HashMap<usize, ContiguousRecord>,
    pub violations: Vec<Violation>,
    /// Strict mode: the first violation's report, waiting for a harness-side call to panic.
    pub strict_pending: Option<String>,
    pub faults: Faults,
    /// Simulated microseconds (`KeStallExecutionProcessor` advances it).
    pub clock_us: u64,
    /// Trace lines, when tracing is on (see [`Machine::start_trace`]).
    pub trace: Option<Vec<String>>,
    /// I/O manager and PnP: drivers, device objects, IRPs, interrupt objects.
    pub io: crate::io::IoState,
    /// The simulated PCI bus: device models, BARs, MMIO mappings.
    pub pci: crate::pci::PciState,
    /// Open registry key and file handles.
    pub handles: crate::handle::HandleTable,
    /// The registry (per machine: it outlives drivers).
    pub registry: crate::registry::Registry,
    /// Files `ZwCreateFile` can open.
    pub files: crate::file::FileStore,
    /// The System process and the client processes.
    pub processes: crate::process::Processes,
    /// Registered bug check reason callbacks.
    pub bugcheck: crate::bugcheck::BugCheckCallbacks,
    /// The x86 BIOS emulator's real-mode memory and buffers.
    pub(crate) bios: crate::hal::x86bios::Bios,
}

// SAFETY: the raw pointers inside `State` (driver objects, device objects, IRPs, interrupt
// objects, strings) point at memory the machine itself allocated; they are read and written
// only while the machine's mutex is held, from whichever thread holds it.
unsafe impl Send for State {}

impl State {
    pub(crate) fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    /// Records a violation. In strict mode the first one is also printed now and armed to
    /// panic at the next harness-side call.
    pub(crate) fn report(
        &mut self,
        bugcheck: u32,
        code: u32,
        params: [u64; 3],
        routine: &'static str,
        message: String,
    ) {
        let v = Violation {
            bugcheck,
            code,
            params,
            routine,
            message,
        };
        if self.config.strict && self.strict_pending.is_none() {
            eprintln!("ntsim strict mode: {v}");
            self.strict_pending = Some(format!("ntsim strict mode: violation: {v}"));
        }
        self.violations.push(v);
    }

    /// Records a trace line (built only when tracing is on).
    pub(crate) fn trace(&mut self, line: impl FnOnce() -> String) {
        if let Some(trace) = &mut self.trace {
            trace.push(line());
        }
    }

    pub(crate) fn not_implemented(&mut self, routine: &'static str) {
        self.report(
            bugcheck::NTSIM_CHECK,
            ntsim_code::NOT_IMPLEMENTED,
            [0; 3],
            routine,
            format!("not implemented in ntsim: {routine}"),
        );
    }

    fn leaks(&self) -> LeakReport {
        let mut report = LeakReport::default();
        self.hal.leaks(&mut report);
        crate::io::leaks(self, &mut report);
        crate::pci::leaks(self, &mut report);
        crate::mdl::leaks(self, &mut report);
        crate::handle::leaks(self, &mut report);
        crate::bugcheck::leaks(self, &mut report);
        self.bios.leaks(&mut report);
        self.pool.leaks(&mut report);
        for (va, c) in &self.contiguous {
            report.push(
                LeakKind::ContiguousMemory,
                format!(
                    "{} bytes at {va:#x} (MmAllocateContiguousMemorySpecifyCache, serial {})",
                    c.bytes, c.serial
                ),
            );
        }
        for dpc in &self.dpcs {
            report.push(
                LeakKind::QueuedDpc,
                format!("KDPC at {dpc:#x} still queued (KeInsertQueueDpc)"),
            );
        }
        report
    }
}

pub(crate) struct Shared {
    state: Mutex<State>,
    /// Threads currently entered.
    pub entered: AtomicUsize,
    /// Unique for the life of the process (see `NtsimMachineSerial`).
    pub serial: u64,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic never happens while ntsim holds the lock around driver code, so a poisoned
        // lock only means a harness assertion failed elsewhere; the state is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One simulated processor: a host thread bound to a machine.
pub(crate) struct Cpu {
    pub shared: Arc<Shared>,
    pub irql: Cell<KIRQL>,
    /// Unique, non-zero: the value this processor stores in a spin lock it owns.
    pub token: usize,
    /// The current process object (0: the System process); see [`crate::process`].
    pub process: Cell<usize>,
}

impl Cpu {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }
    pub(crate) fn irql(&self) -> KIRQL {
        self.irql.get()
    }
    pub(crate) fn set_irql(&self, irql: KIRQL) {
        self.irql.set(irql);
    }
}

static NEXT_TOKEN: AtomicUsize = AtomicUsize::new(1);

thread_local! {
    static CURRENT: RefCell<Option<Rc<Cpu>>> = const { RefCell::new(None) };
}

/// The calling thread's processor. A routine called on a thread that never entered a machine
/// has no kernel to run in: ntsim says so and aborts (it cannot unwind out of `extern "ntapi"`).
pub(crate) fn cpu() -> Rc<Cpu> {
    match CURRENT.with(|c| c.borrow().clone()) {
        Some(cpu) => cpu,
        None => {
            eprintln!(
                "ntsim: an NT routine was called on a thread that has not entered a machine; \
                 call `let _g = machine.enter();` first"
            );
            std::process::abort()
        }
    }
}

fn current_shared() -> Option<Arc<Shared>> {
    CURRENT.with(|c| c.borrow().as_ref().map(|cpu| cpu.shared.clone()))
}

/// A simulated machine: physical memory, pool, MDLs, DPCs, the HAL DMA adapter and its
/// verifier. Cheap to clone (an `Arc`); all clones are the same machine.
///
/// # Strict mode
/// NT routines are `extern "ntapi"` and cannot unwind, so a violation found inside one cannot
/// fail the test there. With [`MachineConfig::strict`], the first violation is printed at once
/// and the *next harness-side call* panics with it: [`Machine::run_until_idle`], a device view
/// access, [`Machine::assert_clean`], dropping a `Machine` handle, or dropping an enter guard.
pub struct Machine {
    pub(crate) shared: Arc<Shared>,
    /// False for the handles ntsim makes internally while driver code is on the stack, whose
    /// drop must never panic (it would have to unwind through `extern "ntapi"`).
    harness: bool,
}

impl Clone for Machine {
    fn clone(&self) -> Self {
        Machine {
            shared: self.shared.clone(),
            harness: true,
        }
    }
}

/// Keeps the calling thread bound to a machine; see [`Machine::enter`]. Not `Send`.
pub struct EnterGuard {
    previous: Option<Rc<Cpu>>,
    machine: Machine,
}

impl Machine {
    /// A new machine with the given layout.
    pub fn new(config: MachineConfig) -> Machine {
        let state = State {
            rng: Rng::new(config.seed),
            hal: Hal::new(config.total_map_registers),
            config,
            serial: 0,
            mem: PhysMem::new(),
            pool: Pool::default(),
            mdls: HashMap::new(),
            dpcs: VecDeque::new(),
            events: VecDeque::new(),
            pdos: PdoTable::default(),
            contiguous: HashMap::new(),
            violations: Vec::new(),
            strict_pending: None,
            faults: Faults::default(),
            clock_us: 0,
            trace: None,
            io: crate::io::IoState::default(),
            pci: crate::pci::PciState::default(),
            handles: Default::default(),
            registry: crate::registry::Registry::with_hardware_description(),
            files: Default::default(),
            processes: Default::default(),
            bugcheck: Default::default(),
            bios: Default::default(),
        };
        static NEXT_SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            entered: AtomicUsize::new(0),
            serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
        });
        Machine {
            shared,
            harness: true,
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    /// The configuration the machine was made with.
    pub fn config(&self) -> MachineConfig {
        self.lock().config.clone()
    }

    /// An internal handle: dropping it never checks strict mode.
    pub(crate) fn internal(shared: Arc<Shared>) -> Machine {
        Machine {
            shared,
            harness: false,
        }
    }

    /// Binds the calling thread to this machine as a new processor at PASSIVE_LEVEL until the
    /// guard drops (the previous binding, if any, is restored then).
    pub fn enter(&self) -> EnterGuard {
        let cpu = Rc::new(Cpu {
            shared: self.shared.clone(),
            irql: Cell::new(PASSIVE_LEVEL),
            token: NEXT_TOKEN.fetch_add(1, Ordering::Relaxed),
            process: Cell::new(0),
        });
        self.shared.entered.fetch_add(1, Ordering::SeqCst);
        let previous = CURRENT.with(|c| c.borrow_mut().replace(cpu));
        EnterGuard {
            previous,
            machine: self.clone(),
        }
    }

    pub(crate) fn is_current(&self) -> bool {
        current_shared().is_some_and(|s| Arc::ptr_eq(&s, &self.shared))
    }

    /// Panics with the pending strict-mode report, if any.
    pub(crate) fn check_strict(&self) {
        if std::thread::panicking() {
            return;
        }
        let pending = self.lock().strict_pending.take();
        if let Some(msg) = pending {
            panic!("{msg}");
        }
    }

    /// Starts recording a readable trace of DMA activity: adapters and their map registers,
    /// each scatter/gather list (transfer offset in its MDL, length, elements, bounces),
    /// each put, interrupts and device-model events. Lines accumulate until taken.
    pub fn start_trace(&self) {
        self.lock().trace.get_or_insert_with(Vec::new);
    }

    /// The trace lines recorded since the last call.
    pub fn take_trace(&self) -> Vec<String> {
        self.lock()
            .trace
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Runs pending work on the calling thread until nothing is left: interrupts asserted by
    /// device models (the connected ISR at its DIRQL), queued DPCs (at
    /// DISPATCH_LEVEL, FIFO), deferred scatter/gather requests whose map registers are now free
    /// (their callbacks at DISPATCH_LEVEL, FIFO), and posted device events, in that priority.
    /// Returns how many items ran. Binds the thread to this machine for the duration if needed.
    pub fn run_until_idle(&self) -> usize {
        self.check_strict();
        let _bound = (!self.is_current()).then(|| self.enter());
        let ran = drain(&cpu());
        self.check_strict();
        ran
    }

    /// Queues `event` (a device model's action, say) to run from [`Machine::run_until_idle`]
    /// after the DPCs and DMA callbacks already pending, at the caller's IRQL.
    pub fn post_event(&self, event: impl FnOnce(&Machine) + Send + 'static) {
        self.lock().events.push_back(Box::new(event));
    }

    /// Every violation recorded so far.
    pub fn violations(&self) -> Vec<Violation> {
        self.lock().violations.clone()
    }

    /// Every violation recorded so far, clearing the record (and any pending strict panic).
    pub fn take_violations(&self) -> Vec<Violation> {
        let mut st = self.lock();
        st.strict_pending = None;
        std::mem::take(&mut st.violations)
    }

    /// Everything allocated and not released right now.
    pub fn leaks(&self) -> LeakReport {
        self.lock().leaks()
    }

    /// Panics with a readable report unless there are no violations and no leaks.
    pub fn assert_clean(&self) {
        let (violations, leaks) = {
            let mut st = self.lock();
            st.strict_pending = None;
            (st.violations.clone(), st.leaks())
        };
        if violations.is_empty() && leaks.is_empty() {
            return;
        }
        let mut msg = String::from("ntsim: machine is not clean\n");
        if !violations.is_empty() {
            msg += &format!("{} violation(s):\n", violations.len());
            for v in &violations {
                msg += &format!("  {v}\n");
            }
        }
        if !leaks.is_empty() {
            msg += &leaks.to_string();
        }
        panic!("{msg}");
    }

    /// Simulated microseconds elapsed (advanced by `KeStallExecutionProcessor`).
    pub fn clock_us(&self) -> u64 {
        self.lock().clock_us
    }

    /// Physical address behind a simulated virtual address (any live memory of this machine).
    pub fn physical_address(&self, va: *const u8) -> Option<BusAddress> {
        let st = self.lock();
        let (pfn, _) = st.mem.translate(va as usize)?;
        Some(pfn.address().add((va as usize % PAGE) as u64))
    }

    /// Copies physical memory into `buf`, unchecked (for test inspection; devices use a
    /// [`crate::DeviceView`]). Err if a frame is not backed.
    pub fn read_physical(&self, address: BusAddress, buf: &mut [u8]) -> Result<(), BusAddress> {
        self.physical_copy(address, buf.len(), |host, off, n| {
            // SAFETY: `host` is a live host page of this machine (checked under the lock) and
            // `off + n <= PAGE`; `buf[off..]` has at least `n` bytes.
            unsafe {
                std::ptr::copy_nonoverlapping(host as *const u8, buf.as_mut_ptr().add(off), n)
            }
        })
    }

    /// Copies `data` into physical memory, unchecked (for test set-up).
    pub fn write_physical(&self, address: BusAddress, data: &[u8]) -> Result<(), BusAddress> {
        self.physical_copy(address, data.len(), |host, off, n| {
            // SAFETY: as in `read_physical`, with the copy reversed.
            unsafe { std::ptr::copy_nonoverlapping(data.as_ptr().add(off), host as *mut u8, n) }
        })
    }

    fn physical_copy(
        &self,
        address: BusAddress,
        len: usize,
        mut f: impl FnMut(usize, usize, usize),
    ) -> Result<(), BusAddress> {
        let st = self.lock();
        let mut done = 0;
        while done < len {
            let a = address.add(done as u64);
            let (host, _) = st.mem.frame_host(a.pfn()).ok_or(a)?;
            let n = (PAGE - a.page_offset()).min(len - done);
            f(host + a.page_offset(), done, n);
            done += n;
        }
        Ok(())
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        if self.harness {
            self.check_strict();
        }
    }
}

/// Runs pending work on `cpu` until none is left (see [`Machine::run_until_idle`]); never
/// panics, so routines like `KeWaitForSingleObject` can use it with driver code on the stack.
pub(crate) fn drain(cpu: &Cpu) -> usize {
    let machine = Machine::internal(cpu.shared.clone());
    let mut ran = 0;
    loop {
        if crate::io::interrupt::service_one(cpu)
            || crate::dpc::run_one(cpu)
            || crate::io::timer::run_one(cpu)
            || crate::hal::sg::service_one_waiter(cpu)
        {
            ran += 1;
            continue;
        }
        let event = cpu.lock().events.pop_front();
        match event {
            Some(event) => {
                event(&machine);
                ran += 1;
            }
            None => return ran,
        }
    }
}

impl EnterGuard {
    /// The machine this guard is bound to.
    pub fn machine(&self) -> &Machine {
        &self.machine
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let mine = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), self.previous.take()));
        if let Some(cpu) = mine {
            let irql = cpu.irql();
            if irql != PASSIVE_LEVEL && !std::thread::panicking() {
                cpu.lock().report(
                    bugcheck::NTSIM_CHECK,
                    ntsim_code::LEFT_AT_RAISED_IRQL,
                    [irql as u64, 0, 0],
                    "EnterGuard::drop",
                    format!(
                        "the thread left the machine at IRQL {irql}; every raise needs its lower"
                    ),
                );
            }
        }
        self.machine.shared.entered.fetch_sub(1, Ordering::SeqCst);
        self.machine.check_strict();
    }
}
