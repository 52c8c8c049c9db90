//! IRPs: `IofCallDriver`, `IofCompleteRequest`, and how ntsim builds, sends and waits for the
//! IRPs of its PnP manager and user-mode client.
//!
//! An IRP is one host allocation: the `IRP`, then `StackCount` stack locations. A new IRP's
//! current location is one past the last, so the first `IofCallDriver` moves it onto the
//! highest location, as on Windows. Completion walks back up, calling each completion routine
//! whose `SL_INVOKE_ON_*` bits match, and stops when one returns
//! STATUS_MORE_PROCESSING_REQUIRED (the driver then owns the IRP and completes it again).

use super::IrpRecord;
use crate::machine::{cpu, drain, Cpu, Machine};
use crate::verifier::{bugcheck, ntsim_code};
use ddk_sys::*;
use std::alloc::Layout;

/// `IO_TYPE_IRP`.
const IO_TYPE_IRP: i16 = 6;

/// Allocates a zeroed IRP with `stack_count` locations, current location one past the last.
pub(crate) fn allocate(cpu: &Cpu, stack_count: i8, what: &'static str) -> *mut IRP {
    let stack_count = stack_count.max(1);
    let size = size_of::<IRP>() + stack_count as usize * size_of::<IO_STACK_LOCATION>();
    let layout = Layout::from_size_align(size, 16).expect("IRP layout");
    // SAFETY: non-zero size; all-zero bytes are a valid IRP and valid stack locations.
    let irp = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<IRP>();
    if irp.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    // SAFETY: freshly allocated, large enough for the IRP and its locations.
    unsafe {
        (*irp).Type = IO_TYPE_IRP;
        (*irp).Size = size as u16;
        (*irp).StackCount = stack_count;
        (*irp).CurrentLocation = stack_count + 1;
        let first = irp.add(1).cast::<IO_STACK_LOCATION>();
        (*irp).Tail.CurrentStackLocation = first.add(stack_count as usize);
    }
    cpu.lock().io.irps.insert(
        irp as usize,
        IrpRecord {
            layout,
            completed: false,
            what,
            power_started_next: false,
        },
    );
    irp
}

/// Frees an IRP made by [`allocate`] once it completed; an IRP a driver never completed stays
/// allocated (and is reported as a leak), because the driver may still hold it.
pub(crate) fn free(cpu: &Cpu, irp: *mut IRP) {
    let mut st = cpu.lock();
    let done = st.io.irps.get(&(irp as usize)).is_some_and(|r| r.completed);
    if done {
        let record = st.io.irps.remove(&(irp as usize)).expect("present");
        // SAFETY: allocated in `allocate` with this layout; complete, so no driver holds it.
        unsafe { std::alloc::dealloc(irp.cast(), record.layout) };
    }
}

/// `IoAllocateIrp`: a zeroed IRP with `StackSize` locations, owned by the caller until it
/// frees it with `IoFreeIrp`.
///
/// # Safety
/// Call on a thread bound to a machine.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn IoAllocateIrp(StackSize: CCHAR, _ChargeQuota: BOOLEAN) -> *mut IRP {
    allocate(&cpu(), StackSize, "IoAllocateIrp")
}

/// `IoFreeIrp`: frees an IRP from `IoAllocateIrp` that its owner holds again (never sent, or
/// back after a completion routine returned STATUS_MORE_PROCESSING_REQUIRED).
///
/// # Safety
/// `Irp` is an IRP the caller owns; it must not be touched afterwards.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn IoFreeIrp(Irp: *mut IRP) {
    let cpu = cpu();
    let mut st = cpu.lock();
    match st.io.irps.remove(&(Irp as usize)) {
        // SAFETY: allocated in `allocate` with this layout; the caller owns it.
        Some(record) => unsafe { std::alloc::dealloc(Irp.cast(), record.layout) },
        None => {
            let msg = format!(
                "IoFreeIrp of {:#x}, which is no IRP ntsim made",
                Irp as usize
            );
            st.report(
                bugcheck::NTSIM_CHECK,
                ntsim_code::IO_MISUSE,
                [Irp as u64, 0, 0],
                "IoFreeIrp",
                msg,
            );
        }
    }
}

/// Sends `irp` (next location already set up) to `device` and waits for its completion,
/// running pending work while it is outstanding. Returns the final `IoStatus`.
pub(crate) fn send_and_wait(
    cpu: &Cpu,
    device: *mut DEVICE_OBJECT,
    irp: *mut IRP,
) -> IO_STATUS_BLOCK {
    // SAFETY: `irp` is a live IRP of ntsim's, set up for `device`'s stack.
    let status = unsafe { IofCallDriver(device, irp) };
    loop {
        let done = cpu
            .lock()
            .io
            .irps
            .get(&(irp as usize))
            .is_none_or(|r| r.completed);
        if done {
            break;
        }
        if drain(cpu) == 0 {
            let msg = format!(
                "IRP {:#x} returned {:#x} and was never completed; nothing left to run",
                irp as usize, status.0
            );
            cpu.lock().report(
                bugcheck::NTSIM_CHECK,
                ntsim_code::WAIT_FOREVER,
                [irp as u64, 0, 0],
                "IofCallDriver",
                msg,
            );
            return IO_STATUS_BLOCK {
                Status: STATUS_UNSUCCESSFUL,
                Information: 0,
            };
        }
    }
    // SAFETY: completed: ntsim owns the IRP again.
    let io_status = unsafe { (*irp).IoStatus };
    if io_status.Status != status && status != STATUS_PENDING {
        let msg = format!(
            "dispatch returned {:#x} but completed the IRP with {:#x}",
            status.0, io_status.Status.0
        );
        cpu.lock().report(
            bugcheck::NTSIM_CHECK,
            ntsim_code::IO_MISUSE,
            [
                irp as u64,
                status.0 as u32 as u64,
                io_status.Status.0 as u32 as u64,
            ],
            "IofCallDriver",
            msg,
        );
    }
    io_status
}

/// The device at the top of the stack `device` belongs to.
pub(crate) fn top_of_stack(device: *mut DEVICE_OBJECT) -> *mut DEVICE_OBJECT {
    let mut top = device;
    // SAFETY: device objects in a stack are live while attached.
    unsafe {
        while !(*top).AttachedDevice.is_null() {
            top = (*top).AttachedDevice;
        }
    }
    top
}

/// Builds an IRP for the stack topped by `top`, lets `setup` fill the first location, sends it
/// and waits. Binds the calling thread to the machine if needed.
pub(crate) fn call(
    machine: &Machine,
    top: *mut DEVICE_OBJECT,
    what: &'static str,
    setup: impl FnOnce(*mut IRP, *mut IO_STACK_LOCATION),
) -> IO_STATUS_BLOCK {
    let _bound = (!machine.is_current()).then(|| machine.enter());
    let cpu = cpu();
    // SAFETY: `top` is a live device object.
    let stack_size = unsafe { (*top).StackSize };
    let irp = allocate(&cpu, stack_size, what);
    // SAFETY: a fresh IRP with at least one location.
    let first = unsafe { IoGetNextIrpStackLocation(irp) };
    setup(irp, first);
    // SAFETY: the location `setup` filled.
    let major = unsafe { (*first).MajorFunction };
    let result = send_and_wait(&cpu, top, irp);
    if major == IRP_MJ_POWER {
        super::power::check_started_next(machine, irp as usize, top as usize);
    }
    free(&cpu, irp);
    result
}

/// `IofCallDriver`: moves to the next lower stack location and calls `DeviceObject`'s
/// dispatch routine for it (ntsim's bus driver for a PDO).
///
/// # Safety
/// `DeviceObject` must be a live device object and `Irp` a live IRP whose next location is
/// set up for it.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi-fastcall" fn IofCallDriver(
    DeviceObject: *mut DEVICE_OBJECT,
    Irp: *mut IRP,
) -> NTSTATUS {
    let cpu = cpu();
    // SAFETY: live IRP (contract).
    unsafe {
        (*Irp).CurrentLocation -= 1;
        if (*Irp).CurrentLocation <= 0 {
            (*Irp).CurrentLocation += 1;
            let msg = format!("IRP {:#x} has no stack location left", Irp as usize);
            cpu.lock().report(
                bugcheck::NO_MORE_IRP_STACK_LOCATIONS,
                Irp as u32,
                [Irp as u64, 0, 0],
                "IofCallDriver",
                msg,
            );
            return STATUS_INVALID_PARAMETER;
        }
        (*Irp).Tail.CurrentStackLocation = (*Irp).Tail.CurrentStackLocation.sub(1);
        let stack = (*Irp).Tail.CurrentStackLocation;
        (*stack).DeviceObject = DeviceObject;
        let driver = (*DeviceObject).DriverObject;
        if driver.is_null() {
            return bus_dispatch(Irp, stack);
        }
        let major = (*stack).MajorFunction as usize;
        let dispatch = if major <= IRP_MJ_MAXIMUM_FUNCTION {
            (*driver).MajorFunction[major]
        } else {
            None
        };
        match dispatch {
            Some(f) => f(DeviceObject, Irp),
            None => {
                (*Irp).IoStatus.Status = STATUS_INVALID_DEVICE_REQUEST;
                (*Irp).IoStatus.Information = 0;
                IofCompleteRequest(Irp, IO_NO_INCREMENT);
                STATUS_INVALID_DEVICE_REQUEST
            }
        }
    }
}

/// ntsim as the bus driver of its PDOs.
///
/// # Safety
/// `irp` is live and `stack` is its current location.
unsafe fn bus_dispatch(irp: *mut IRP, stack: *mut IO_STACK_LOCATION) -> NTSTATUS {
    // SAFETY: contract.
    unsafe {
        let status = match (*stack).MajorFunction {
            IRP_MJ_PNP => match (*stack).MinorFunction {
                IRP_MN_QUERY_INTERFACE => {
                    let q = (*stack).Parameters.QueryInterface;
                    let device = (*stack).DeviceObject;
                    crate::pci::query_interface(&mut cpu().lock(), device, &q)
                        .unwrap_or((*irp).IoStatus.Status)
                }
                IRP_MN_START_DEVICE
                | IRP_MN_QUERY_REMOVE_DEVICE
                | IRP_MN_REMOVE_DEVICE
                | IRP_MN_CANCEL_REMOVE_DEVICE
                | IRP_MN_STOP_DEVICE
                | IRP_MN_QUERY_STOP_DEVICE
                | IRP_MN_CANCEL_STOP_DEVICE
                | IRP_MN_SURPRISE_REMOVAL => STATUS_SUCCESS,
                _ => (*irp).IoStatus.Status,
            },
            IRP_MJ_POWER => STATUS_SUCCESS,
            IRP_MJ_SYSTEM_CONTROL => (*irp).IoStatus.Status,
            _ => STATUS_INVALID_DEVICE_REQUEST,
        };
        (*irp).IoStatus.Status = status;
        IofCompleteRequest(irp, IO_NO_INCREMENT);
        status
    }
}

/// `IofCompleteRequest`: runs the completion routines above the current location.
///
/// # Safety
/// `Irp` must be an IRP the caller owns (it must not be touched afterwards).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi-fastcall" fn IofCompleteRequest(Irp: *mut IRP, _PriorityBoost: CCHAR) {
    let cpu = cpu();
    {
        let mut st = cpu.lock();
        let known = st.io.irps.get(&(Irp as usize)).map(|r| r.completed);
        if known != Some(false) {
            let msg = match known {
                Some(true) => format!("IRP {:#x} completed twice", Irp as usize),
                _ => format!("IRP {:#x} is not an IRP ntsim sent", Irp as usize),
            };
            st.report(
                bugcheck::MULTIPLE_IRP_COMPLETE_REQUESTS,
                Irp as u32,
                [Irp as u64, 0, 0],
                "IofCompleteRequest",
                msg,
            );
            return;
        }
    }
    // SAFETY: a live IRP of ntsim's that the caller owns; locations stay within the IRP.
    unsafe {
        let count = (*Irp).StackCount;
        if (*Irp).IoStatus.Status == STATUS_PENDING {
            let msg = format!("IRP {:#x} completed with STATUS_PENDING", Irp as usize);
            cpu.lock().report(
                bugcheck::NTSIM_CHECK,
                ntsim_code::IO_MISUSE,
                [Irp as u64, 0, 0],
                "IofCompleteRequest",
                msg,
            );
        }
        while (*Irp).CurrentLocation <= count {
            let stack = (*Irp).Tail.CurrentStackLocation;
            let routine = (*stack).CompletionRoutine;
            let context = (*stack).Context;
            let control = (*stack).Control;
            (*stack).CompletionRoutine = None;
            (*stack).Context = core::ptr::null_mut();
            (*stack).Control = 0;
            (*Irp).PendingReturned = u8::from(control & SL_PENDING_RETURNED != 0);
            (*Irp).CurrentLocation += 1;
            (*Irp).Tail.CurrentStackLocation = stack.add(1);
            let status = (*Irp).IoStatus.Status;
            let invoke = routine.is_some()
                && ((status.is_success() && control & SL_INVOKE_ON_SUCCESS != 0)
                    || (!status.is_success() && control & SL_INVOKE_ON_ERROR != 0)
                    || ((*Irp).Cancel != 0 && control & SL_INVOKE_ON_CANCEL != 0));
            let above = (*Irp).CurrentLocation <= count;
            if let (true, Some(f)) = (invoke, routine) {
                let device = if above {
                    (*(*Irp).Tail.CurrentStackLocation).DeviceObject
                } else {
                    core::ptr::null_mut()
                };
                if f(device, Irp, context) == STATUS_MORE_PROCESSING_REQUIRED {
                    return;
                }
            } else if (*Irp).PendingReturned != 0 && above {
                (*(*Irp).Tail.CurrentStackLocation).Control |= SL_PENDING_RETURNED;
            }
        }
    }
    let mut st = cpu.lock();
    if let Some(r) = st.io.irps.get_mut(&(Irp as usize)) {
        r.completed = true;
    }
}
