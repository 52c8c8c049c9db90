//! Kernel handles: the table behind registry key handles ([`crate::registry`]) and file
//! handles ([`crate::file`]), and `ZwClose`.
//!
//! C interface simulated: `ZwClose`. Handles are per machine, never reused (a closed handle
//! stays recognisable as closed, so a second close or a use after close is reported as such),
//! and shaped like Windows kernel handles (`OBJ_KERNEL_HANDLE` handles have the top bit set).
//! Every routine that takes a handle validates it here: an unknown, closed or wrong-kind handle
//! is reported ([`ntsim_code::BAD_HANDLE`]) and the routine returns STATUS_INVALID_HANDLE (or
//! STATUS_OBJECT_TYPE_MISMATCH), as Windows does. Open handles are leaks
//! ([`LeakKind::Handle`]).

use crate::machine::{cpu, Cpu, State};
use crate::verifier::{bugcheck, ntsim_code, LeakKind, LeakReport};
use ddk_sys::*;
use std::collections::{HashMap, HashSet};

/// What a handle refers to.
#[derive(Clone, Debug)]
pub(crate) enum Object {
    /// A registry key: its canonical path and the access granted.
    Key { path: String, access: ACCESS_MASK },
    /// An open file of the machine's file store and the position of the next read.
    File { path: String, position: u64 },
}

impl Object {
    fn describe(&self) -> String {
        match self {
            Object::Key { path, .. } => format!("registry key handle ({path})"),
            Object::File { path, .. } => format!("file handle ({path})"),
        }
    }
}

pub(crate) struct HandleRecord {
    pub object: Object,
    routine: &'static str,
    serial: u64,
}

/// The machine's open handles.
#[derive(Default)]
pub(crate) struct HandleTable {
    open: HashMap<usize, HandleRecord>,
    closed: HashSet<usize>,
    count: usize,
}

/// Kernel handles have the top bit set (0xFFFFFFFF80000000 on x64, 0x80000000 on x86). On a
/// 64-bit host they never collide with a host pointer; on a 32-bit host they may equal one, which
/// is harmless: a handle is only ever looked up in this table, never dereferenced.
const KERNEL_HANDLE_BASE: usize = -0x8000_0000_isize as usize;

/// Which kind of object a routine expects behind a handle.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Key,
    File,
}

impl State {
    /// Opens a new handle to `object`, made by `routine`.
    pub(crate) fn open_handle(&mut self, object: Object, routine: &'static str) -> HANDLE {
        let serial = self.next_serial();
        let t = &mut self.handles;
        t.count += 1;
        let handle = KERNEL_HANDLE_BASE + t.count * 4;
        t.open.insert(
            handle,
            HandleRecord {
                object,
                routine,
                serial,
            },
        );
        handle as HANDLE
    }

    /// The object behind `handle` if it is open and of `kind`; otherwise reports the misuse
    /// and gives the status the routine returns.
    pub(crate) fn handle_object(
        &mut self,
        routine: &'static str,
        handle: HANDLE,
        kind: Kind,
    ) -> Result<&mut Object, NTSTATUS> {
        let h = handle as usize;
        let wanted = match kind {
            Kind::Key => "a registry key",
            Kind::File => "a file",
        };
        let problem = match self.handles.open.get(&h) {
            Some(r) => match (&r.object, kind) {
                (Object::Key { .. }, Kind::Key) | (Object::File { .. }, Kind::File) => None,
                (other, _) => Some((
                    STATUS_OBJECT_TYPE_MISMATCH,
                    format!("handle {h:#x} is a {}, not {wanted}", other.describe()),
                )),
            },
            None if self.handles.closed.contains(&h) => Some((
                STATUS_INVALID_HANDLE,
                format!("handle {h:#x} was already closed (ZwClose); {routine} used it after"),
            )),
            None => Some((
                STATUS_INVALID_HANDLE,
                format!("handle {h:#x} is not an open handle of this machine (never opened here)"),
            )),
        };
        if let Some((status, message)) = problem {
            self.report(
                bugcheck::NTSIM_CHECK,
                ntsim_code::BAD_HANDLE,
                [h as u64, 0, 0],
                routine,
                message,
            );
            return Err(status);
        }
        Ok(&mut self.handles.open.get_mut(&h).expect("checked above").object)
    }
}

/// Reports a malformed argument (position `arg`, 1-based) of `routine`.
pub(crate) fn bad_argument(st: &mut State, routine: &'static str, arg: u64, what: &str) {
    st.report(
        bugcheck::NTSIM_CHECK,
        ntsim_code::BAD_ARGUMENT,
        [arg, 0, 0],
        routine,
        format!("argument {arg}: {what}"),
    );
}

/// True at PASSIVE_LEVEL; otherwise reports the call (IRQL_NOT_LESS_OR_EQUAL) and is false.
pub(crate) fn require_passive(cpu: &Cpu, routine: &'static str) -> bool {
    let irql = cpu.irql();
    if irql == PASSIVE_LEVEL {
        return true;
    }
    cpu.lock().report(
        bugcheck::IRQL_NOT_LESS_OR_EQUAL,
        u32::from(irql),
        [u64::from(PASSIVE_LEVEL), 0, 0],
        routine,
        format!("{routine} at IRQL {irql} (PASSIVE_LEVEL only)"),
    );
    false
}

/// `ZwClose`: closes a registry key or file handle. PASSIVE_LEVEL.
///
/// # Safety
/// None beyond the routine's contract: the handle is only looked up, never dereferenced.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn ZwClose(Handle: HANDLE) -> NTSTATUS {
    const R: &str = "ZwClose";
    let cpu = cpu();
    if !require_passive(&cpu, R) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    let mut st = cpu.lock();
    let h = Handle as usize;
    if st.handles.open.remove(&h).is_some() {
        st.handles.closed.insert(h);
        return STATUS_SUCCESS;
    }
    let message = if st.handles.closed.contains(&h) {
        format!("handle {h:#x} closed twice")
    } else {
        format!("handle {h:#x} is not an open handle of this machine (never opened here)")
    };
    st.report(
        bugcheck::NTSIM_CHECK,
        ntsim_code::BAD_HANDLE,
        [h as u64, 0, 0],
        R,
        message,
    );
    STATUS_INVALID_HANDLE
}

pub(crate) fn leaks(st: &State, report: &mut LeakReport) {
    let mut open: Vec<_> = st.handles.open.iter().collect();
    open.sort_by_key(|(h, _)| **h);
    for (h, r) in open {
        report.push(
            LeakKind::Handle,
            format!(
                "{} {h:#x} from {} (serial {}) never closed (ZwClose)",
                r.object.describe(),
                r.routine,
                r.serial
            ),
        );
    }
}

/// The text of a `UNICODE_STRING`, or why it is malformed.
///
/// # Safety
/// `s` is NULL or points to a `UNICODE_STRING` whose buffer holds `Length` bytes.
pub(crate) unsafe fn read_unicode(s: *const UNICODE_STRING) -> Result<String, &'static str> {
    if s.is_null() {
        return Err("NULL UNICODE_STRING");
    }
    // SAFETY: a valid UNICODE_STRING (contract).
    let (length, buffer) = unsafe { ((*s).Length, (*s).Buffer) };
    if length % 2 != 0 {
        return Err("UNICODE_STRING with an odd Length");
    }
    if length == 0 {
        return Ok(String::new());
    }
    if buffer.is_null() {
        return Err("UNICODE_STRING with a NULL Buffer and a non-zero Length");
    }
    // SAFETY: the buffer holds `length` bytes (contract).
    let units = unsafe { std::slice::from_raw_parts(buffer, usize::from(length) / 2) };
    Ok(String::from_utf16_lossy(units))
}

/// The name an `OBJECT_ATTRIBUTES` gives, and its root directory handle; reports a malformed
/// one (argument position `arg`).
///
/// # Safety
/// `oa` is NULL or points to an `OBJECT_ATTRIBUTES` whose name is NULL or valid.
pub(crate) unsafe fn read_object_attributes(
    st: &mut State,
    routine: &'static str,
    arg: u64,
    oa: *const OBJECT_ATTRIBUTES,
) -> Option<(HANDLE, String)> {
    if oa.is_null() {
        bad_argument(st, routine, arg, "NULL OBJECT_ATTRIBUTES");
        return None;
    }
    // SAFETY: readable (contract).
    let oa = unsafe { *oa };
    if oa.Length as usize != core::mem::size_of::<OBJECT_ATTRIBUTES>() {
        bad_argument(
            st,
            routine,
            arg,
            &format!(
                "OBJECT_ATTRIBUTES.Length is {}, not {} (InitializeObjectAttributes sets it)",
                oa.Length,
                core::mem::size_of::<OBJECT_ATTRIBUTES>()
            ),
        );
        return None;
    }
    // SAFETY: the name is NULL or valid (contract).
    match unsafe { read_unicode(oa.ObjectName) } {
        Ok(name) => Some((oa.RootDirectory, name)),
        Err(what) => {
            bad_argument(st, routine, arg, &format!("ObjectName: {what}"));
            None
        }
    }
}
