//! The power manager subset: power IRPs to device stacks, and the routines a power policy
//! owner calls.
//!
//! C interface simulated: `PoStartNextPowerIrp`, `PoCallDriver`, `PoSetPowerState`,
//! `PoRequestPowerIrp` (NT 5.0). On the NT 5.x kernels a driver must call
//! `PoStartNextPowerIrp` for each power IRP or the next is never delivered: a power IRP ntsim
//! sent that completes without it is reported on a machine that plays NT 5.x (from Windows
//! Vista on the call is a no-op and `PoCallDriver` is `IoCallDriver`).
//!
//! [`Machine::system_power`] is the power manager's system transition for a device and its
//! children: going to sleep (or querying), the children first, then the parent; waking
//! (`PowerSystemWorking`), the parent first, then the children.

use super::device::DeviceNode;
use super::irp::{allocate, call, top_of_stack, IofCallDriver};
use crate::machine::{cpu, Machine};
use crate::verifier::{bugcheck, ntsim_code};
use crate::version::OsVersion;
use ddk_sys::*;

fn misuse(routine: &'static str, object: usize, msg: String) {
    cpu().lock().report(
        bugcheck::NTSIM_CHECK,
        ntsim_code::IO_MISUSE,
        [object as u64, 0, 0],
        routine,
        msg,
    );
}

/// `PoStartNextPowerIrp`.
///
/// # Safety
/// `Irp` is a power IRP the caller owns.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn PoStartNextPowerIrp(Irp: *mut IRP) {
    let cpu = cpu();
    let mut st = cpu.lock();
    match st.io.irps.get_mut(&(Irp as usize)) {
        Some(r) => r.power_started_next = true,
        None => {
            drop(st);
            misuse(
                "PoStartNextPowerIrp",
                Irp as usize,
                format!("{:#x} is no IRP ntsim sent", Irp as usize),
            );
        }
    }
}

/// `PoCallDriver`.
///
/// # Safety
/// As `IofCallDriver`.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn PoCallDriver(
    DeviceObject: *mut DEVICE_OBJECT,
    Irp: *mut IRP,
) -> NTSTATUS {
    // SAFETY: forwarded contract.
    unsafe { IofCallDriver(DeviceObject, Irp) }
}

/// `PoSetPowerState`: records the device's state; returns the previous one (D0 / S0 for a
/// device never set).
///
/// # Safety
/// `DeviceObject` is a live device object.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn PoSetPowerState(
    DeviceObject: *mut DEVICE_OBJECT,
    Type: POWER_STATE_TYPE,
    State: POWER_STATE,
) -> POWER_STATE {
    let cpu = cpu();
    let mut st = cpu.lock();
    let previous = st
        .io
        .power_states
        .insert((DeviceObject as usize, Type.0), State.0);
    POWER_STATE(previous.unwrap_or(1))
}

/// A request from `PoRequestPowerIrp` waiting for its IRP.
pub(crate) struct PowerRequest {
    device: usize,
    minor: u8,
    state: POWER_STATE,
    callback: PREQUEST_POWER_COMPLETE,
    context: usize,
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn request_complete(
    _device: *mut DEVICE_OBJECT,
    irp: *mut IRP,
    _context: PVOID,
) -> NTSTATUS {
    let cpu = cpu();
    let request = cpu.lock().io.power_requests.remove(&(irp as usize));
    if let Some(r) = request {
        // SAFETY: the IRP is ours again; the callback is the requester's, with its context.
        unsafe {
            let mut status = (*irp).IoStatus;
            if let Some(f) = r.callback {
                f(
                    r.device as *mut DEVICE_OBJECT,
                    r.minor,
                    r.state,
                    r.context as PVOID,
                    &mut status,
                );
            }
        }
    }
    let mut st = cpu.lock();
    if let Some(record) = st.io.irps.remove(&(irp as usize)) {
        // SAFETY: allocated by `allocate` with this layout; no driver holds it any more.
        unsafe { std::alloc::dealloc(irp.cast(), record.layout) };
    }
    STATUS_MORE_PROCESSING_REQUIRED
}

/// `PoRequestPowerIrp`: IRP_MN_SET_POWER or IRP_MN_QUERY_POWER for a device power state, sent
/// to the top of `DeviceObject`'s stack; `CompletionFunction` runs once it completed.
///
/// # Safety
/// `DeviceObject` is a live device object; `Irp` is NULL or writable.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn PoRequestPowerIrp(
    DeviceObject: *mut DEVICE_OBJECT,
    MinorFunction: UCHAR,
    PowerState: POWER_STATE,
    CompletionFunction: PREQUEST_POWER_COMPLETE,
    Context: PVOID,
    Irp: *mut *mut IRP,
) -> NTSTATUS {
    let cpu = cpu();
    if !matches!(MinorFunction, IRP_MN_SET_POWER | IRP_MN_QUERY_POWER) {
        return STATUS_INVALID_PARAMETER;
    }
    if cpu.irql() > DISPATCH_LEVEL {
        misuse(
            "PoRequestPowerIrp",
            DeviceObject as usize,
            format!("called at IRQL {}", cpu.irql()),
        );
        return STATUS_INVALID_PARAMETER;
    }
    let top = top_of_stack(DeviceObject);
    // SAFETY: a live device object (contract).
    let irp = allocate(&cpu, unsafe { (*top).StackSize }, "PoRequestPowerIrp");
    cpu.lock().io.power_requests.insert(
        irp as usize,
        PowerRequest {
            device: DeviceObject as usize,
            minor: MinorFunction,
            state: PowerState,
            callback: CompletionFunction,
            context: Context as usize,
        },
    );
    // SAFETY: a fresh IRP with a location for `top`; the completion routine hands it back.
    unsafe {
        (*irp).IoStatus.Status = STATUS_NOT_SUPPORTED;
        let s = IoGetNextIrpStackLocation(irp);
        (*s).MajorFunction = IRP_MJ_POWER;
        (*s).MinorFunction = MinorFunction;
        (*s).Parameters.Power = IO_STACK_POWER {
            SystemContext: PointerAligned(0),
            Type: PointerAligned(POWER_STATE_TYPE::DevicePowerState.0),
            State: PointerAligned(PowerState.0),
            ShutdownType: PointerAligned(0),
        };
        IoSetCompletionRoutine(
            irp,
            Some(request_complete),
            core::ptr::null_mut(),
            true,
            true,
            true,
        );
        if !Irp.is_null() {
            *Irp = irp;
        }
        IofCallDriver(top, irp);
    }
    STATUS_PENDING
}

/// Checks that a driver called `PoStartNextPowerIrp` for a completed power IRP (NT 5.x only).
pub(crate) fn check_started_next(machine: &Machine, irp: usize, top: usize) {
    let mut st = machine.lock();
    let nt5 = st.config.os < OsVersion::new(6, 0, 0);
    let started = st.io.irps.get(&irp).is_some_and(|r| r.power_started_next);
    if nt5 && !started {
        st.report(
            bugcheck::NTSIM_CHECK,
            ntsim_code::IO_MISUSE,
            [irp as u64, top as u64, 0],
            "PoStartNextPowerIrp",
            format!(
                "power IRP {irp:#x} to {top:#x} completed without PoStartNextPowerIrp: NT 5.x \
                 would never send the device another power IRP"
            ),
        );
    }
}

impl Machine {
    /// The state a device last told `PoSetPowerState` (`DevicePowerState`: 1 = D0 .. 4 = D3),
    /// or `None`.
    pub fn device_power_state(&self, device: *mut DEVICE_OBJECT) -> Option<u32> {
        self.lock()
            .io
            .power_states
            .get(&(device as usize, POWER_STATE_TYPE::DevicePowerState.0))
            .copied()
    }

    /// A system power IRP (`IRP_MN_SET_POWER` or `IRP_MN_QUERY_POWER`, a `SYSTEM_POWER_STATE`)
    /// to `node`'s children and to `node`, in the power manager's order; the statuses, the
    /// children's first (in their order) then the parent's.
    pub fn system_power(
        &self,
        node: &DeviceNode,
        minor: u8,
        state: SYSTEM_POWER_STATE,
    ) -> Vec<NTSTATUS> {
        let _bound = (!self.is_current()).then(|| self.enter());
        let kids: Vec<usize> = self.children(node).iter().map(|c| c.pdo).collect();
        let send = |device: *mut DEVICE_OBJECT| {
            self.power_irp(device, minor, POWER_STATE_TYPE::SystemPowerState, state.0)
        };
        let wake = minor == IRP_MN_SET_POWER && state == SYSTEM_POWER_STATE::PowerSystemWorking;
        if wake {
            let parent = send(node.top());
            let mut out: Vec<NTSTATUS> = kids.iter().map(|&k| send(k as *mut _)).collect();
            out.push(parent);
            out
        } else {
            let mut out: Vec<NTSTATUS> = kids.iter().map(|&k| send(k as *mut _)).collect();
            out.push(send(node.top()));
            out
        }
    }

    /// One power IRP to the top of `device`'s stack; its final status.
    pub fn power_irp(
        &self,
        device: *mut DEVICE_OBJECT,
        minor: u8,
        kind: POWER_STATE_TYPE,
        state: u32,
    ) -> NTSTATUS {
        let top = top_of_stack(device);
        call(self, top, "IRP_MJ_POWER", |irp, s| {
            // SAFETY: the first location of a fresh IRP.
            unsafe {
                (*irp).IoStatus.Status = STATUS_NOT_SUPPORTED;
                (*s).MajorFunction = IRP_MJ_POWER;
                (*s).MinorFunction = minor;
                (*s).Parameters.Power = IO_STACK_POWER {
                    SystemContext: PointerAligned(0),
                    Type: PointerAligned(kind.0),
                    State: PointerAligned(state),
                    ShutdownType: PointerAligned(0),
                };
            }
        })
        .Status
    }
}
