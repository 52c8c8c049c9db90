//! IRP_MJ_POWER: the adapter's and its children's power states, through the miniport's
//! `HwGetPowerState` (may this state be entered?) and `HwSetPowerState` (enter it).
//!
//! C interface (`video.h`): `VP_STATUS HwGetPowerState(PVOID HwDeviceExtension, ULONG HwId,
//! PVIDEO_POWER_MANAGEMENT VideoPowerControl)` and `HwSetPowerState` alike, at PASSIVE_LEVEL;
//! `HwId` is `DISPLAY_ADAPTER_HW_ID` for the adapter, else the child's `UId`. The port uses
//! `PoStartNextPowerIrp`, `PoCallDriver`, `PoSetPowerState` and `PoRequestPowerIrp`.
//!
//! States: D0 → VideoPowerOn, D1 → VideoPowerStandBy, D2 → VideoPowerSuspend, D3 →
//! VideoPowerOff, except that D3 on the way to hibernation (S4) is VideoPowerHibernate and on
//! the way to shutdown (S5) VideoPowerShutdown. A system state maps to a device state: S0 →
//! D0, S1 → D1, S2 → D2, S3..S5 → D3.
//!
//! The adapter (its FDO), as its stack's power policy owner:
//! * QUERY_POWER (system or device): HwGetPowerState for the video state. A refusal (anything
//!   but NO_ERROR) fails the IRP with STATUS_UNSUCCESSFUL, and it goes no further; otherwise it
//!   goes down.
//! * SET_POWER, system: the port requests the matching device IRP (`PoRequestPowerIrp`),
//!   waits for it, then passes the system IRP down.
//! * SET_POWER, device, powering down: HwSetPowerState, `PoSetPowerState`, then down.
//!   Powering up: down first (the bus powers the slot), then HwSetPowerState(On) and
//!   `PoSetPowerState`. A SET the miniport fails is traced and the IRP still succeeds: a set
//!   power IRP may not fail.
//!
//! A child PDO (the port is its bus driver, and with no function driver above a raw child,
//! its policy owner too): QUERY as above, completed by the port; SET, system or device,
//! calls HwSetPowerState with the child's UId and `PoSetPowerState`. The power manager
//! orders the children before their adapter going down and after it coming up.
//!
//! Every power IRP gets `PoStartNextPowerIrp` before it is completed or passed on; a miniport
//! without the callbacks, or an adapter that is not started, has every state allowed and set
//! without a call.

use super::pnp::complete;
use crate::device::PortDevice;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicU32, Ordering};
use ddk_sys::*;

/// The device's power state and the system transition in progress.
pub struct PowerState {
    /// The system state of the SET_POWER being handled (0 when none).
    system_target: AtomicU32,
}

impl PowerState {
    pub(crate) const fn new() -> Self {
        PowerState {
            system_target: AtomicU32::new(0),
        }
    }
}

/// The device state a system state needs.
pub fn device_state_for(system: SYSTEM_POWER_STATE) -> DEVICE_POWER_STATE {
    match system.0 {
        1 => DEVICE_POWER_STATE::PowerDeviceD0,
        2 => DEVICE_POWER_STATE::PowerDeviceD1,
        3 => DEVICE_POWER_STATE::PowerDeviceD2,
        _ => DEVICE_POWER_STATE::PowerDeviceD3,
    }
}

/// The video power state for device state `device` reached on the way to `system` (0 when no
/// system transition is in progress).
pub fn video_state(device: DEVICE_POWER_STATE, system: u32) -> VIDEO_POWER_STATE {
    match device {
        DEVICE_POWER_STATE::PowerDeviceD0 => VIDEO_POWER_STATE::VideoPowerOn,
        DEVICE_POWER_STATE::PowerDeviceD1 => VIDEO_POWER_STATE::VideoPowerStandBy,
        DEVICE_POWER_STATE::PowerDeviceD2 => VIDEO_POWER_STATE::VideoPowerSuspend,
        _ => match SYSTEM_POWER_STATE(system) {
            SYSTEM_POWER_STATE::PowerSystemHibernate => VIDEO_POWER_STATE::VideoPowerHibernate,
            SYSTEM_POWER_STATE::PowerSystemShutdown => VIDEO_POWER_STATE::VideoPowerShutdown,
            _ => VIDEO_POWER_STATE::VideoPowerOff,
        },
    }
}

/// What a power IRP asks: QUERY or SET, and the device and video states it means.
#[derive(Clone, Copy)]
struct Request {
    minor: u8,
    system: Option<SYSTEM_POWER_STATE>,
    device: DEVICE_POWER_STATE,
    video: VIDEO_POWER_STATE,
}

/// # Safety
/// `irp` is a live power IRP with our location current.
unsafe fn request(irp: *mut IRP, pending_system: u32) -> Request {
    // SAFETY: contract.
    let (minor, p) = unsafe {
        let s = IoGetCurrentIrpStackLocation(irp);
        ((*s).MinorFunction, (*s).Parameters.Power)
    };
    if POWER_STATE_TYPE(p.Type.0) == POWER_STATE_TYPE::SystemPowerState {
        let system = SYSTEM_POWER_STATE(p.State.0);
        let device = device_state_for(system);
        Request {
            minor,
            system: Some(system),
            device,
            video: video_state(device, system.0),
        }
    } else {
        let device = DEVICE_POWER_STATE(p.State.0);
        Request {
            minor,
            system: None,
            device,
            video: video_state(device, pending_system),
        }
    }
}

impl PortDevice {
    /// HwGetPowerState (`get`) or HwSetPowerState for `hw_id`; NO_ERROR when the miniport has
    /// no such callback.
    fn miniport_power(&self, get: bool, hw_id: u32, state: VIDEO_POWER_STATE) -> VP_STATUS {
        let Some(driver) = self.port.driver() else {
            return NO_ERROR;
        };
        if self.port.state() != super::state::STARTED {
            // Not started (or surprise-removed): the miniport's extension describes no running
            // hardware, so there is nothing to ask or to program.
            return NO_ERROR;
        }
        let callback = if get {
            driver.init.HwGetPowerState
        } else {
            driver.init.HwSetPowerState
        };
        let Some(f) = callback else {
            return NO_ERROR;
        };
        let mut control = VIDEO_POWER_MANAGEMENT {
            Length: size_of::<VIDEO_POWER_MANAGEMENT>() as u32,
            DPMSVersion: 0,
            PowerState: state,
        };
        // SAFETY: the miniport's callback with its extension and a live structure.
        let vp = unsafe {
            f(
                self.hw_extension(),
                hw_id,
                (&mut control as *mut VIDEO_POWER_MANAGEMENT).cast(),
            )
        };
        if !get && vp != NO_ERROR {
            crate::report::trace(format_args!(
                "HwSetPowerState(HwId {hw_id:#x}, state {}) returned {:#x}; the set power IRP \
                 succeeds regardless",
                state.0, vp.0
            ));
        }
        vp
    }
}

/// Sets the device-state part of the IRP's record for the power manager.
///
/// # Safety
/// `device` is a live device object.
unsafe fn tell_power_manager(device: *mut DEVICE_OBJECT, state: DEVICE_POWER_STATE) {
    // SAFETY: contract.
    unsafe {
        PoSetPowerState(
            device,
            POWER_STATE_TYPE::DevicePowerState,
            POWER_STATE(state.0),
        )
    };
}

/// Completes a power IRP the port answers itself.
///
/// # Safety
/// We own `irp`.
unsafe fn finish(irp: *mut IRP, status: NTSTATUS) -> NTSTATUS {
    // SAFETY: contract.
    unsafe {
        PoStartNextPowerIrp(irp);
        complete(irp, status, 0)
    }
}

/// Passes a power IRP down.
///
/// # Safety
/// We own `irp`; `lower` is the next lower device.
unsafe fn power_down_the_stack(lower: *mut DEVICE_OBJECT, irp: *mut IRP) -> NTSTATUS {
    // SAFETY: contract.
    unsafe {
        PoStartNextPowerIrp(irp);
        IoSkipCurrentIrpStackLocation(irp);
        PoCallDriver(lower, irp)
    }
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn device_irp_done(
    _device: *mut DEVICE_OBJECT,
    _minor: UCHAR,
    _state: POWER_STATE,
    context: PVOID,
    _status: *mut IO_STATUS_BLOCK,
) {
    // SAFETY: the context is the requester's event, alive until it is set.
    unsafe { KeSetEvent(context.cast(), 0, FALSE) };
}

/// IRP_MJ_POWER.
///
/// # Safety
/// Called by the I/O manager (PASSIVE_LEVEL: the port's devices are DO_POWER_PAGABLE).
#[ddk_sys::ntapi]
pub(crate) unsafe extern "ntapi" fn dispatch_power(
    device: *mut DEVICE_OBJECT,
    irp: *mut IRP,
) -> NTSTATUS {
    if let Some(adapter) = PortDevice::from_fdo(device) {
        // SAFETY: our FDO; we own the IRP.
        return unsafe { adapter_power(adapter, irp) };
    }
    if let Some(parent) = super::child::parent_of(device) {
        // SAFETY: our child PDO; we own the IRP.
        return unsafe { child_power(parent, device, irp) };
    }
    // SAFETY: we own the IRP.
    unsafe { finish(irp, STATUS_NO_SUCH_DEVICE) }
}

/// # Safety
/// See [`dispatch_power`].
unsafe fn adapter_power(adapter: &PortDevice, irp: *mut IRP) -> NTSTATUS {
    let lower = adapter.port.lower.load(Ordering::Acquire);
    let pending = adapter.port.power.system_target.load(Ordering::Acquire);
    // SAFETY: a live power IRP (contract).
    let r = unsafe { request(irp, pending) };
    match (r.minor, r.system) {
        (IRP_MN_QUERY_POWER, _) => {
            if adapter.miniport_power(true, DISPLAY_ADAPTER_HW_ID, r.video) != NO_ERROR {
                // SAFETY: we own the IRP.
                return unsafe { finish(irp, STATUS_UNSUCCESSFUL) };
            }
            // SAFETY: we own the IRP.
            unsafe {
                (*irp).IoStatus.Status = STATUS_SUCCESS;
                power_down_the_stack(lower, irp)
            }
        }
        (IRP_MN_SET_POWER, Some(system)) => {
            adapter
                .port
                .power
                .system_target
                .store(system.0, Ordering::Release);
            // SAFETY: all-zero bytes are a valid KEVENT storage; initialised below. The event
            // outlives the wait; the completion callback only sets it.
            unsafe {
                let mut event: KEVENT = core::mem::zeroed();
                KeInitializeEvent(&mut event, EVENT_TYPE::NotificationEvent, FALSE);
                let status = PoRequestPowerIrp(
                    adapter.pdo(),
                    IRP_MN_SET_POWER,
                    POWER_STATE(r.device.0),
                    Some(device_irp_done),
                    (&mut event as *mut KEVENT).cast(),
                    null_mut(),
                );
                if status == STATUS_PENDING || status.is_success() {
                    KeWaitForSingleObject(
                        (&mut event as *mut KEVENT).cast(),
                        0,
                        KernelMode,
                        FALSE,
                        null_mut(),
                    );
                }
            }
            adapter.port.power.system_target.store(0, Ordering::Release);
            // SAFETY: we own the IRP.
            unsafe {
                (*irp).IoStatus.Status = STATUS_SUCCESS;
                power_down_the_stack(lower, irp)
            }
        }
        (IRP_MN_SET_POWER, None) if r.device == DEVICE_POWER_STATE::PowerDeviceD0 => {
            // Up: the bus first, then the adapter.
            // SAFETY: a PASSIVE_LEVEL dispatch owning the IRP.
            let status = unsafe { super::pnp::forward_and_wait(lower, irp) };
            if status.is_success() {
                adapter.miniport_power(false, DISPLAY_ADAPTER_HW_ID, r.video);
                // SAFETY: our own FDO.
                unsafe { tell_power_manager(adapter.fdo(), r.device) };
            }
            // SAFETY: the IRP is ours again.
            unsafe { finish(irp, status) }
        }
        (IRP_MN_SET_POWER, None) => {
            adapter.miniport_power(false, DISPLAY_ADAPTER_HW_ID, r.video);
            // SAFETY: our own FDO; we own the IRP.
            unsafe {
                tell_power_manager(adapter.fdo(), r.device);
                (*irp).IoStatus.Status = STATUS_SUCCESS;
                power_down_the_stack(lower, irp)
            }
        }
        // SAFETY: we own the IRP.
        _ => unsafe { power_down_the_stack(lower, irp) },
    }
}

/// # Safety
/// See [`dispatch_power`]; `pdo` is a child of `parent`.
unsafe fn child_power(parent: &PortDevice, pdo: *mut DEVICE_OBJECT, irp: *mut IRP) -> NTSTATUS {
    let Some(child) = parent.child(pdo) else {
        // SAFETY: we own the IRP.
        return unsafe { finish(irp, STATUS_NO_SUCH_DEVICE) };
    };
    // SAFETY: a live power IRP (contract).
    let r = unsafe { request(irp, 0) };
    let status = match r.minor {
        IRP_MN_QUERY_POWER => {
            if parent.miniport_power(true, child.uid, r.video) == NO_ERROR {
                STATUS_SUCCESS
            } else {
                STATUS_UNSUCCESSFUL
            }
        }
        IRP_MN_SET_POWER => {
            parent.miniport_power(false, child.uid, r.video);
            // SAFETY: our own child PDO.
            unsafe { tell_power_manager(pdo, r.device) };
            STATUS_SUCCESS
        }
        // SAFETY: we own the IRP; a bus driver keeps the status of what it does not handle.
        _ => unsafe { (*irp).IoStatus.Status },
    };
    // SAFETY: we own the IRP.
    unsafe { finish(irp, status) }
}
