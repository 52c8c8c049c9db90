//! A user-mode client of a device: `CreateFile`, `DeviceIoControl`, `CloseHandle`, as the I/O
//! manager turns them into IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL, IRP_MJ_CLEANUP and
//! IRP_MJ_CLOSE.
//!
//! `DeviceIoControl` honours the transfer type of the code (`METHOD_FROM_CTL_CODE`):
//! * METHOD_BUFFERED: one system buffer of max(in, out) bytes holds the input; after
//!   completion `Information` bytes (clamped to the output length, which is reported if
//!   exceeded) are copied back to the user's output buffer.
//! * METHOD_IN_DIRECT / METHOD_OUT_DIRECT: the input goes through the system buffer; the
//!   output buffer is described by a locked MDL (`Irp->MdlAddress`), probed for read or write.
//! * METHOD_NEITHER: the raw user pointers (`Type3InputBuffer`, `Irp->UserBuffer`).
//!
//! User buffers are probed as `NtDeviceIoControlFile` does: a non-NULL pointer (or a non-zero
//! length) must describe live user memory of the machine, writable for output, or the call
//! fails with STATUS_ACCESS_VIOLATION before any IRP is built.

use super::irp::call;
use super::DeviceNode;
use crate::machine::{cpu, Machine};
use crate::memory::RegionKind;
use crate::pool::{self, PoolOwner};
use crate::process::ProcessScope;
use crate::types::UserProt;
use crate::verifier::{bugcheck, ntsim_code};
use ddk_sys::*;

/// An open handle to a device, held by its own client process (see [`crate::process`]):
/// the process is current while the handle's requests are dispatched, and exits when the
/// handle is closed with [`UserHandle::close`].
pub struct UserHandle {
    machine: Machine,
    node_pdo: crate::Pdo,
    process: usize,
    process_id: u64,
}

/// A client's window on a user-mode view of device memory (from
/// [`UserHandle::mapping`]): what the application reads and writes with plain pointers.
/// Each access first checks that the view is still mapped in the client's process and
/// panics otherwise (the application would fault).
pub struct UserMapping {
    machine: Machine,
    process: usize,
    va: usize,
    len: usize,
}

impl UserMapping {
    /// The user address of the first byte.
    pub fn as_ptr(&self) -> *mut u8 {
        self.va as *mut u8
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn check(&self, offset: usize, len: usize) {
        assert!(
            offset.checked_add(len).is_some_and(|e| e <= self.len),
            "access {offset:#x}+{len:#x} past the {:#x}-byte user mapping",
            self.len
        );
        let st = self.machine.lock();
        let live = st
            .pci
            .user_view_at(self.va + offset, len.max(1))
            .is_some_and(|(_, v)| v.process == self.process);
        assert!(
            live,
            "user address {:#x} is no longer mapped in the client's process (the \
             application would fault)",
            self.va + offset
        );
    }

    /// Copies `data` to `offset` (a store through the user view).
    pub fn write(&self, offset: usize, data: &[u8]) {
        self.check(offset, data.len());
        // SAFETY: inside a live user view (checked); views are real shared host mappings.
        unsafe {
            core::ptr::copy_nonoverlapping(data.as_ptr(), self.as_ptr().add(offset), data.len())
        };
    }

    /// Copies `buf.len()` bytes from `offset` (loads through the user view).
    pub fn read(&self, offset: usize, buf: &mut [u8]) {
        self.check(offset, buf.len());
        // SAFETY: as in `write`.
        unsafe {
            core::ptr::copy_nonoverlapping(self.as_ptr().add(offset), buf.as_mut_ptr(), buf.len())
        };
    }

    /// The whole mapping's bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = vec![0; self.len];
        self.read(0, &mut v);
        v
    }
}

/// Pool tag of the I/O manager's system buffers ("Io  ").
const IO_TAG: u32 = u32::from_le_bytes(*b"Io  ");

impl Machine {
    /// `CreateFile` on the device: IRP_MJ_CREATE to the top of its stack.
    pub fn open(&self, node: &DeviceNode) -> Result<UserHandle, NTSTATUS> {
        let _bound = (!self.is_current()).then(|| self.enter());
        let (process, process_id) = self.lock().processes.create();
        let _scope = ProcessScope::enter(process);
        let status = call(self, node.top(), "IRP_MJ_CREATE", |irp, s| {
            // SAFETY: a fresh IRP and its first location.
            unsafe {
                (*irp).RequestorMode = UserMode;
                (*s).MajorFunction = IRP_MJ_CREATE;
            }
        })
        .Status;
        if !status.is_success() {
            self.lock().processes.exit(process);
            return Err(status);
        }
        *self
            .lock()
            .io
            .opens
            .entry(node.pdo.as_ptr() as usize)
            .or_default() += 1;
        Ok(UserHandle {
            machine: self.clone(),
            node_pdo: node.pdo,
            process,
            process_id,
        })
    }
}

fn probe(machine: &Machine, ptr: *const u8, len: u32, write: bool) -> bool {
    if len == 0 {
        return true;
    }
    if ptr.is_null() {
        return false;
    }
    let st = machine.lock();
    match st.mem.region_at(ptr as usize) {
        Some((_, r)) => match r.kind {
            RegionKind::User(prot) => {
                (ptr as usize + len as usize) <= r.end() && (!write || prot == UserProt::ReadWrite)
            }
            _ => false,
        },
        None => false,
    }
}

impl UserHandle {
    fn top(&self) -> *mut DEVICE_OBJECT {
        super::irp::top_of_stack(self.node_pdo.as_ptr())
    }

    /// `DeviceIoControl` with host buffers: they are copied through user memory of the machine
    /// (so the driver sees real user addresses), then [`UserHandle::ioctl_raw`]. Returns
    /// `Information` on success.
    pub fn ioctl(&self, code: u32, input: &[u8], output: &mut [u8]) -> Result<usize, NTSTATUS> {
        let m = &self.machine;
        let in_buf = (!input.is_empty()).then(|| {
            let b = m.user_alloc(input.len(), UserProt::ReadWrite);
            b.write(0, input);
            b
        });
        let out_buf = (!output.is_empty()).then(|| m.user_alloc(output.len(), UserProt::ReadWrite));
        // SAFETY: both buffers are live user allocations of the given lengths.
        let result = unsafe {
            self.ioctl_raw(
                code,
                in_buf.as_ref().map_or(core::ptr::null(), |b| b.as_ptr()),
                input.len() as u32,
                out_buf
                    .as_ref()
                    .map_or(core::ptr::null_mut(), |b| b.as_ptr()),
                output.len() as u32,
            )
        };
        if let Some(b) = out_buf {
            output.copy_from_slice(&b.to_vec()[..output.len()]);
            m.user_free(b);
        }
        if let Some(b) = in_buf {
            m.user_free(b);
        }
        result
    }

    /// `DeviceIoControl` with raw user pointers (for NULL, bad and short buffers). Returns
    /// `Information` on success, the final status otherwise (for a warning status such as
    /// STATUS_BUFFER_OVERFLOW the buffered output is still copied).
    ///
    /// # Safety
    /// Pointers the simulated user space does not hold are refused (probed like the I/O
    /// manager does); a pointer it does hold must be valid for the given length.
    pub unsafe fn ioctl_raw(
        &self,
        code: u32,
        input: *const u8,
        input_len: u32,
        output: *mut u8,
        output_len: u32,
    ) -> Result<usize, NTSTATUS> {
        let m = &self.machine;
        let _bound = (!m.is_current()).then(|| m.enter());
        let _scope = ProcessScope::enter(self.process);
        let method = METHOD_FROM_CTL_CODE(code);
        if method != METHOD_NEITHER
            && (!probe(m, input, input_len, false) || !probe(m, output, output_len, true))
        {
            return Err(STATUS_ACCESS_VIOLATION);
        }
        let cpu = cpu();
        // The system buffer: input for every method but NEITHER, output too for BUFFERED.
        let system_len = match method {
            METHOD_BUFFERED => input_len.max(output_len),
            METHOD_NEITHER => 0,
            _ => input_len,
        } as usize;
        let system = if system_len > 0 {
            let mut st = cpu.lock();
            let a = pool::alloc(
                &mut st,
                system_len,
                IO_TAG,
                PoolOwner::Driver,
                "IopXxxControlFile",
            )
            .expect("ntsim: out of simulated memory for a system buffer");
            drop(st);
            if input_len > 0 {
                // SAFETY: the input was probed; the system buffer has at least input_len bytes.
                unsafe { core::ptr::copy_nonoverlapping(input, a as *mut u8, input_len as usize) };
            }
            a as *mut u8
        } else {
            core::ptr::null_mut()
        };
        let mut mdl: *mut MDL = core::ptr::null_mut();
        if (method == METHOD_IN_DIRECT || method == METHOD_OUT_DIRECT) && output_len > 0 {
            // SAFETY: a probed user range.
            mdl = unsafe {
                IoAllocateMdl(
                    output.cast(),
                    output_len,
                    FALSE,
                    FALSE,
                    core::ptr::null_mut(),
                )
            };
            let op = if method == METHOD_IN_DIRECT {
                LOCK_OPERATION::IoReadAccess
            } else {
                LOCK_OPERATION::IoWriteAccess
            };
            // SAFETY: a fresh MDL over the user range.
            let status = unsafe { VprtProbeAndLockPages(mdl, UserMode, op) };
            if !status.is_success() {
                // SAFETY: unlocked MDL of ours.
                unsafe { IoFreeMdl(mdl) };
                self.free_system(system);
                return Err(status);
            }
        }
        let result = call(m, self.top(), "IRP_MJ_DEVICE_CONTROL", |irp, s| {
            // SAFETY: a fresh IRP and its first location.
            unsafe {
                (*irp).RequestorMode = UserMode;
                (*irp).SystemBuffer = system.cast();
                (*irp).MdlAddress = mdl;
                (*irp).UserBuffer = output.cast();
                (*s).MajorFunction = IRP_MJ_DEVICE_CONTROL;
                (*s).Parameters.DeviceIoControl = IO_STACK_DEVICE_IO_CONTROL {
                    OutputBufferLength: PointerAligned(output_len),
                    InputBufferLength: PointerAligned(input_len),
                    IoControlCode: PointerAligned(code),
                    Type3InputBuffer: input as PVOID,
                };
            }
        });
        let error = (result.Status.0 as u32) >> 30 == 3;
        if method == METHOD_BUFFERED && !error && output_len > 0 {
            let mut n = result.Information;
            if n > output_len as usize {
                cpu.lock().report(
                    bugcheck::NTSIM_CHECK,
                    ntsim_code::INFORMATION_TOO_LARGE,
                    [n as u64, output_len as u64, 0],
                    "IopCompleteRequest",
                    format!(
                        "IOCTL {code:#x} completed with Information {n} for a {output_len}-byte output buffer; copy clamped"
                    ),
                );
                n = output_len as usize;
            }
            // SAFETY: the output was probed writable for output_len >= n bytes; the system
            // buffer holds at least output_len bytes.
            unsafe { core::ptr::copy_nonoverlapping(system, output, n) };
        }
        if !mdl.is_null() {
            // SAFETY: locked above; unlocking also drops any system mapping of it.
            unsafe {
                MmUnlockPages(mdl);
                IoFreeMdl(mdl);
            }
        }
        self.free_system(system);
        if result.Status.is_success() {
            Ok(result.Information)
        } else {
            Err(result.Status)
        }
    }

    fn free_system(&self, system: *mut u8) {
        if !system.is_null() {
            // SAFETY: allocated above with this tag.
            unsafe { ExFreePoolWithTag(system.cast(), IO_TAG) };
        }
    }

    /// The client's process object (what `PsGetCurrentProcess` returns while the handle's
    /// requests are dispatched).
    pub fn process(&self) -> usize {
        self.process
    }

    /// The client's process id.
    pub fn process_id(&self) -> u64 {
        self.process_id
    }

    /// The user views of device memory mapped into the client's process: (user address,
    /// length), by address.
    pub fn mappings(&self) -> Vec<(usize, usize)> {
        let st = self.machine.lock();
        st.pci
            .user_views
            .iter()
            .filter(|(_, v)| v.process == self.process)
            .map(|(va, v)| (*va, v.len))
            .collect()
    }

    /// `[va, va + len)` of a user view mapped into the client's process (say the address
    /// IOCTL_VIDEO_MAP_VIDEO_MEMORY returned), to read and write as the application would;
    /// `None` if no live view of this process holds the whole range.
    pub fn mapping(&self, va: usize, len: usize) -> Option<UserMapping> {
        let st = self.machine.lock();
        let (_, v) = st.pci.user_view_at(va, len.max(1))?;
        (v.process == self.process).then(|| UserMapping {
            machine: self.machine.clone(),
            process: self.process,
            va,
            len,
        })
    }

    /// `CloseHandle`: IRP_MJ_CLEANUP, then IRP_MJ_CLOSE; then the client process exits. A
    /// user view the driver left mapped in it stays a leak ([`crate::LeakKind::UserMapping`]).
    /// The last handle of a surprise-removed device lets its IRP_MN_REMOVE_DEVICE go.
    pub fn close(self) {
        let m = &self.machine;
        let _bound = (!m.is_current()).then(|| m.enter());
        let scope = ProcessScope::enter(self.process);
        for major in [IRP_MJ_CLEANUP, IRP_MJ_CLOSE] {
            call(&self.machine, self.top(), "IRP_MJ_CLOSE", |irp, s| {
                // SAFETY: a fresh IRP and its first location.
                unsafe {
                    (*irp).RequestorMode = UserMode;
                    (*s).MajorFunction = major;
                }
            });
        }
        drop(scope);
        let pdo = self.node_pdo.as_ptr() as usize;
        let remove = {
            let mut st = self.machine.lock();
            st.processes.exit(self.process);
            let open = st.io.opens.entry(pdo).or_default();
            *open = open.saturating_sub(1);
            *open == 0 && st.io.removals_pending.remove(&pdo)
        };
        if remove {
            // The last handle of a surprise-removed device: now IRP_MN_REMOVE_DEVICE.
            self.machine
                .finish_removal(&super::DeviceNode { pdo: self.node_pdo });
        }
    }
}
