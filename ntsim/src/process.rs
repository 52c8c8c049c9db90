//! Processes: the System process and one process per user-mode client, and
//! `PsGetCurrentProcess` / `IoGetCurrentProcess`.
//!
//! Each [`UserHandle`](crate::UserHandle) is opened by its own client process, which exits
//! when the handle is closed (after IRP_MJ_CLEANUP and IRP_MJ_CLOSE). While the I/O manager
//! dispatches one of the client's requests (CREATE, DEVICE_CONTROL, CLEANUP, CLOSE) that
//! process is current on the dispatching processor, as on Windows, where those requests
//! run in the caller's thread; everywhere else (DriverEntry, PnP, DPCs, device events) the
//! System process is current. User-mode views of device memory belong to the process that
//! was current when they were made.
//!
//! A process object is opaque (`PEPROCESS`); ntsim compares its address only.

use crate::machine::{cpu, Cpu, State};
use ddk_sys::*;

/// The opaque object a `PEPROCESS` points at.
#[repr(C)]
struct ProcessObject {
    id: u64,
    _reserved: [u64; 7],
}

struct ProcessRecord {
    object: Box<ProcessObject>,
    exited: bool,
}

/// The machine's processes.
pub(crate) struct Processes {
    system: Box<ProcessObject>,
    clients: Vec<ProcessRecord>,
    next_id: u64,
}

impl Default for Processes {
    fn default() -> Self {
        Processes {
            system: Box::new(ProcessObject {
                id: 4,
                _reserved: [0; 7],
            }),
            clients: Vec::new(),
            next_id: 0x100,
        }
    }
}

impl Processes {
    /// The System process object.
    pub(crate) fn system(&self) -> usize {
        &*self.system as *const ProcessObject as usize
    }

    /// A new client process: (object address, process id).
    pub(crate) fn create(&mut self) -> (usize, u64) {
        let id = self.next_id;
        self.next_id += 4;
        let object = Box::new(ProcessObject {
            id,
            _reserved: [0; 7],
        });
        let at = &*object as *const ProcessObject as usize;
        self.clients.push(ProcessRecord {
            object,
            exited: false,
        });
        (at, id)
    }

    fn find(&self, process: usize) -> Option<&ProcessRecord> {
        self.clients
            .iter()
            .find(|p| &*p.object as *const ProcessObject as usize == process)
    }

    /// The id of a process object of this machine.
    pub(crate) fn id(&self, process: usize) -> Option<u64> {
        if process == self.system() {
            return Some(self.system.id);
        }
        self.find(process).map(|p| p.object.id)
    }

    pub(crate) fn exit(&mut self, process: usize) {
        if let Some(p) = self
            .clients
            .iter_mut()
            .find(|p| &*p.object as *const ProcessObject as usize == process)
        {
            p.exited = true;
        }
    }

    pub(crate) fn exited(&self, process: usize) -> bool {
        self.find(process).is_some_and(|p| p.exited)
    }
}

/// The current process of `cpu` (the System process unless a client's request is being
/// dispatched); `st` is its machine's state, locked by the caller.
pub(crate) fn current(cpu: &Cpu, st: &State) -> usize {
    match cpu.process.get() {
        0 => st.processes.system(),
        p => p,
    }
}

/// Makes `process` current on the calling processor until dropped (restoring the previous).
pub(crate) struct ProcessScope {
    previous: usize,
}

impl ProcessScope {
    pub(crate) fn enter(process: usize) -> ProcessScope {
        let previous = cpu().process.replace(process);
        ProcessScope { previous }
    }
}

impl Drop for ProcessScope {
    fn drop(&mut self) {
        cpu().process.set(self.previous);
    }
}

/// `PsGetCurrentProcess`: the process whose request the calling thread is running — the
/// client's while its CREATE/DEVICE_CONTROL/CLEANUP/CLOSE is dispatched, the System process
/// otherwise.
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn PsGetCurrentProcess() -> PEPROCESS {
    let cpu = cpu();
    let st = cpu.lock();
    current(&cpu, &st) as PEPROCESS
}

/// `IoGetCurrentProcess` (what `wdm.h` maps `PsGetCurrentProcess` to): the same answer.
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn IoGetCurrentProcess() -> PEPROCESS {
    PsGetCurrentProcess()
}
