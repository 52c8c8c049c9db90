//! AddDevice and the PnP, power and WMI dispatch routines.
//!
//! * AddDevice: an FDO (`\Device\VideoRsN`, FILE_DEVICE_VIDEO) whose extension is the
//!   [`PortDevice`] followed by the miniport's `HwDeviceExtension`, attached to the PDO stack.
//! * IRP_MN_START_DEVICE: forwarded down and waited for; then the translated and raw resources
//!   become the access ranges and `VIDEO_PORT_CONFIG_INFO`, HwFindAdapter runs, the interrupt
//!   is connected (ISR → HwInterrupt at DIRQL) and HwInitialize runs. Any failure undoes what
//!   the start did (interrupt, mappings, claims) and fails the IRP with the mapped status.
//! * IRP_MN_QUERY_STOP_DEVICE fails (resource rebalancing is not supported, so STOP never
//!   follows); SURPRISE_REMOVAL and STOP disconnect the hardware; REMOVE also reclaims every
//!   DMA resource ([`PortDevice::detach`]), deletes the child PDOs, passes the IRP down,
//!   detaches and deletes the FDO.
//! * IRP_MN_QUERY_DEVICE_RELATIONS (BusRelations): the children ([`super::child`]).
//!   Every other PnP IRP, and every WMI IRP, goes down unchanged; power IRPs are
//!   [`super::power`]'s. IRPs to a child PDO are answered by [`super::child::dispatch_pnp`].

use super::state;
use crate::device::PortDevice;
use crate::report::{self, port_code, Misuse};
use core::ptr::null_mut;
use core::sync::atomic::{AtomicU32, Ordering};
use ddk_sys::*;

static NEXT_DEVICE_NUMBER: AtomicU32 = AtomicU32::new(0);

/// `\Device\VideoRs<n>` as UTF-16 in `buf`; returns the length in characters.
fn device_name(n: u32, buf: &mut [u16; 32]) -> usize {
    let prefix = "\\Device\\VideoRs";
    let mut len = 0;
    for c in prefix.bytes() {
        buf[len] = c as u16;
        len += 1;
    }
    let mut digits = [0u8; 10];
    let mut d = 0;
    let mut v = n;
    loop {
        digits[d] = b'0' + (v % 10) as u8;
        d += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    while d > 0 {
        d -= 1;
        buf[len] = digits[d] as u16;
        len += 1;
    }
    len
}

/// AddDevice.
///
/// # Safety
/// Called by the PnP manager with a live driver object and PDO.
#[ddk_sys::ntapi]
pub(crate) unsafe extern "ntapi" fn add_device(
    driver: *mut DRIVER_OBJECT,
    pdo: *mut DEVICE_OBJECT,
) -> NTSTATUS {
    // SAFETY: a live driver object.
    let ext = unsafe { super::driver_data::lookup(driver) };
    if ext.is_null() {
        return STATUS_UNSUCCESSFUL;
    }
    // SAFETY: the extension lives as long as the driver object.
    let hw_size = unsafe { (*ext).init.HwDeviceExtensionSize };
    let mut name_buf = [0u16; 32];
    let len = device_name(
        NEXT_DEVICE_NUMBER.fetch_add(1, Ordering::Relaxed),
        &mut name_buf,
    );
    let mut name = UNICODE_STRING {
        Length: (len * 2) as u16,
        MaximumLength: (len * 2) as u16,
        Buffer: name_buf.as_mut_ptr(),
    };
    let mut fdo: *mut DEVICE_OBJECT = null_mut();
    // SAFETY: valid arguments; the out pointer is live.
    let status = unsafe {
        IoCreateDevice(
            driver,
            PortDevice::extension_size(hw_size) as u32,
            &mut name,
            FILE_DEVICE_VIDEO,
            FILE_DEVICE_SECURE_OPEN,
            FALSE,
            &mut fdo,
        )
    };
    if !status.is_success() {
        return status;
    }
    // SAFETY: IoCreateDevice zeroed an extension of the requested size, 16-byte aligned, that
    // lives until IoDeleteDevice (after detach, at REMOVE).
    let device = unsafe {
        let at = core::ptr::NonNull::new_unchecked((*fdo).DeviceExtension.cast::<PortDevice>());
        PortDevice::attach(at, pdo, fdo, hw_size)
    };
    device.port.driver.store(ext, Ordering::Release);
    // SAFETY: both device objects are live.
    let lower = unsafe { IoAttachDeviceToDeviceStack(fdo, pdo) };
    if lower.is_null() {
        // SAFETY: nothing else knows the device yet.
        unsafe {
            device.detach();
            IoDeleteDevice(fdo);
        }
        return STATUS_NO_SUCH_DEVICE;
    }
    device.port.lower.store(lower, Ordering::Release);
    // SAFETY: our own live FDO.
    unsafe { super::timer::attach(device, fdo) };
    // SAFETY: our own FDO, not yet visible to I/O.
    unsafe {
        (*fdo).Flags |= DO_BUFFERED_IO | DO_POWER_PAGABLE;
        (*fdo).Flags &= !DO_DEVICE_INITIALIZING;
    }
    STATUS_SUCCESS
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn signal_completion(
    _device: *mut DEVICE_OBJECT,
    _irp: *mut IRP,
    context: PVOID,
) -> NTSTATUS {
    // SAFETY: the context is the waiting dispatch routine's event, alive until it is set.
    unsafe { KeSetEvent(context.cast(), 0, FALSE) };
    STATUS_MORE_PROCESSING_REQUIRED
}

/// Sends `irp` down and waits until the lower drivers completed it; the IRP is ours again.
///
/// # Safety
/// PASSIVE_LEVEL dispatch routine owning `irp`; `lower` is the next lower device.
pub(crate) unsafe fn forward_and_wait(lower: *mut DEVICE_OBJECT, irp: *mut IRP) -> NTSTATUS {
    // SAFETY: all-zero bytes are a valid KEVENT storage; initialised below.
    let mut event: KEVENT = unsafe { core::mem::zeroed() };
    // SAFETY: the event outlives the wait; the IRP has a location below ours.
    unsafe {
        KeInitializeEvent(&mut event, EVENT_TYPE::NotificationEvent, FALSE);
        IoCopyCurrentIrpStackLocationToNext(irp);
        IoSetCompletionRoutine(
            irp,
            Some(signal_completion),
            (&mut event as *mut KEVENT).cast(),
            true,
            true,
            true,
        );
        let status = IoCallDriver(lower, irp);
        if status == STATUS_PENDING {
            KeWaitForSingleObject(
                (&mut event as *mut KEVENT).cast(),
                0,
                KernelMode,
                FALSE,
                null_mut(),
            );
        }
        (*irp).IoStatus.Status
    }
}

/// Passes `irp` down untouched.
///
/// # Safety
/// A dispatch routine owning `irp`; `lower` is the next lower device.
unsafe fn pass_down(lower: *mut DEVICE_OBJECT, irp: *mut IRP) -> NTSTATUS {
    // SAFETY: forwarded contract.
    unsafe {
        IoSkipCurrentIrpStackLocation(irp);
        IoCallDriver(lower, irp)
    }
}

/// Completes `irp` with `status`.
///
/// # Safety
/// A dispatch routine owning `irp`.
pub(crate) unsafe fn complete(irp: *mut IRP, status: NTSTATUS, information: usize) -> NTSTATUS {
    // SAFETY: forwarded contract.
    unsafe {
        (*irp).IoStatus.Status = status;
        (*irp).IoStatus.Information = information;
        IoCompleteRequest(irp, IO_NO_INCREMENT);
    }
    status
}

/// IRP_MJ_SYSTEM_CONTROL: down the stack unchanged (a child PDO completes it as it is).
///
/// # Safety
/// Called by the I/O manager.
#[ddk_sys::ntapi]
pub(crate) unsafe extern "ntapi" fn dispatch_pass_down(
    fdo: *mut DEVICE_OBJECT,
    irp: *mut IRP,
) -> NTSTATUS {
    match PortDevice::from_fdo(fdo) {
        // SAFETY: our own device's lower device.
        Some(d) => unsafe { pass_down(d.port.lower.load(Ordering::Acquire), irp) },
        // SAFETY: we own the IRP; a bus driver keeps the status of IRPs it does not handle.
        None if super::child::parent_of(fdo).is_some() => unsafe {
            let status = (*irp).IoStatus.Status;
            let information = (*irp).IoStatus.Information;
            complete(irp, status, information)
        },
        // SAFETY: we own the IRP.
        None => unsafe { complete(irp, STATUS_NO_SUCH_DEVICE, 0) },
    }
}

/// IRP_MJ_PNP.
///
/// # Safety
/// Called by the I/O manager.
#[ddk_sys::ntapi]
pub(crate) unsafe extern "ntapi" fn dispatch_pnp(
    fdo: *mut DEVICE_OBJECT,
    irp: *mut IRP,
) -> NTSTATUS {
    let Some(device) = PortDevice::from_fdo(fdo) else {
        if let Some(parent) = super::child::parent_of(fdo) {
            // SAFETY: one of our child PDOs; we own the IRP.
            return unsafe { super::child::dispatch_pnp(parent, fdo, irp) };
        }
        // SAFETY: we own the IRP.
        return unsafe { complete(irp, STATUS_NO_SUCH_DEVICE, 0) };
    };
    let lower = device.port.lower.load(Ordering::Acquire);
    // SAFETY: the I/O manager passes a live IRP with our location current.
    let stack = unsafe { IoGetCurrentIrpStackLocation(irp) };
    // SAFETY: as above.
    let minor = unsafe { (*stack).MinorFunction };
    // SAFETY: throughout, we own `irp` until it is passed down or completed.
    unsafe {
        match minor {
            IRP_MN_START_DEVICE => {
                let mut status = forward_and_wait(lower, irp);
                if status.is_success() {
                    let p = (*stack).Parameters.StartDevice;
                    status = device.start(p.AllocatedResources, p.AllocatedResourcesTranslated);
                }
                complete(irp, status, 0)
            }
            IRP_MN_QUERY_STOP_DEVICE => complete(irp, STATUS_UNSUCCESSFUL, 0),
            IRP_MN_STOP_DEVICE | IRP_MN_SURPRISE_REMOVAL => {
                device.stop_hardware();
                if minor == IRP_MN_SURPRISE_REMOVAL {
                    device.port.set_state(state::GONE);
                }
                (*irp).IoStatus.Status = STATUS_SUCCESS;
                pass_down(lower, irp)
            }
            IRP_MN_QUERY_REMOVE_DEVICE
            | IRP_MN_CANCEL_REMOVE_DEVICE
            | IRP_MN_CANCEL_STOP_DEVICE => {
                (*irp).IoStatus.Status = STATUS_SUCCESS;
                pass_down(lower, irp)
            }
            IRP_MN_QUERY_DEVICE_RELATIONS
                if (*stack).Parameters.QueryDeviceRelations.Type
                    == DEVICE_RELATION_TYPE::BusRelations =>
            {
                super::child::bus_relations(device, irp);
                pass_down(lower, irp)
            }
            IRP_MN_REMOVE_DEVICE => {
                device.delete_children();
                device.stop_hardware();
                device.detach();
                (*irp).IoStatus.Status = STATUS_SUCCESS;
                let status = pass_down(lower, irp);
                IoDetachDevice(lower);
                IoDeleteDevice(fdo);
                status
            }
            _ => pass_down(lower, irp),
        }
    }
}

/// Asks the stack below for its `BUS_INTERFACE_STANDARD` (IRP_MN_QUERY_INTERFACE); the
/// interface comes back referenced.
///
/// # Safety
/// PASSIVE_LEVEL; `lower` is the live next-lower device.
unsafe fn query_bus_interface(lower: *mut DEVICE_OBJECT) -> Option<BUS_INTERFACE_STANDARD> {
    // SAFETY: all-zero bytes are a valid BUS_INTERFACE_STANDARD (NULL pointers, no callbacks)
    // and a valid KEVENT storage.
    let (mut interface, mut event): (BUS_INTERFACE_STANDARD, KEVENT) =
        unsafe { (core::mem::zeroed(), core::mem::zeroed()) };
    // SAFETY: `lower` is live (contract).
    let irp = unsafe { IoAllocateIrp((*lower).StackSize, FALSE) };
    if irp.is_null() {
        return None;
    }
    // SAFETY: our own IRP with a location for `lower`; the event and the interface outlive
    // the wait, and the completion routine hands the IRP back before it is freed.
    unsafe {
        KeInitializeEvent(&mut event, EVENT_TYPE::NotificationEvent, FALSE);
        (*irp).IoStatus.Status = STATUS_NOT_SUPPORTED;
        let next = IoGetNextIrpStackLocation(irp);
        (*next).MajorFunction = IRP_MJ_PNP;
        (*next).MinorFunction = IRP_MN_QUERY_INTERFACE;
        (*next).Parameters.QueryInterface = IO_STACK_QUERY_INTERFACE {
            InterfaceType: &GUID_BUS_INTERFACE_STANDARD,
            Size: size_of::<BUS_INTERFACE_STANDARD>() as u16,
            Version: 1,
            Interface: (&mut interface as *mut BUS_INTERFACE_STANDARD).cast(),
            InterfaceSpecificData: null_mut(),
        };
        IoSetCompletionRoutine(
            irp,
            Some(signal_completion),
            (&mut event as *mut KEVENT).cast(),
            true,
            true,
            true,
        );
        if IoCallDriver(lower, irp) == STATUS_PENDING {
            KeWaitForSingleObject(
                (&mut event as *mut KEVENT).cast(),
                0,
                KernelMode,
                FALSE,
                null_mut(),
            );
        }
        let status = (*irp).IoStatus.Status;
        IoFreeIrp(irp);
        status.is_success().then_some(interface)
    }
}

impl PortDevice {
    /// Undoes a start: disconnects the interrupt, flushes the DPC, unmaps every device base,
    /// drops claimed ranges and resources. PASSIVE_LEVEL.
    pub(crate) fn stop_hardware(&self) {
        super::timer::stop(self);
        self.unmap_memory_all("device stop/removal");
        let interrupt = self.port.interrupt.swap(null_mut(), Ordering::AcqRel);
        if !interrupt.is_null() {
            // SAFETY: connected by `start`, disconnected once (swapped out above).
            unsafe { IoDisconnectInterrupt(interrupt) };
        }
        // SAFETY: the DPC was initialised at attach; flushing waits for a running one.
        unsafe {
            KeRemoveQueueDpc(self.port.dpc.get());
            KeFlushQueuedDpcs();
        }
        self.unmap_all();
        super::rom::free_rom_image(self);
        self.release_int10_buffer();
        let bus = self.port.bus.lock().take();
        if let Some(dereference) = bus.and_then(|b| b.InterfaceDereference) {
            // SAFETY: the reference the bus driver took when it returned the interface.
            unsafe { dereference(bus.map_or(null_mut(), |b| b.Context)) };
        }
        self.port.claims.lock().clear();
        self.port.resources.lock().clear();
        if self.port.state() != state::GONE {
            self.port.set_state(state::ADDED);
        }
    }

    /// The start sequence after the lower drivers started the device.
    ///
    /// # Safety
    /// `raw` and `translated` are NULL or the CM_RESOURCE_LISTs of the START IRP.
    pub(crate) unsafe fn start(
        &self,
        raw: *const CM_RESOURCE_LIST,
        translated: *const CM_RESOURCE_LIST,
    ) -> NTSTATUS {
        let Some(driver) = self.port.driver() else {
            return STATUS_INVALID_DEVICE_STATE;
        };
        if self.port.state() != state::ADDED {
            return STATUS_INVALID_DEVICE_STATE;
        }
        // SAFETY: forwarded contract.
        let parsed = unsafe { super::resources::Resources::parse(raw, translated) };
        let resources = match parsed {
            Ok(r) => r,
            Err(status) => return status,
        };
        let interrupt = resources.interrupt;
        let (bus_number, interface) = (resources.bus_number, resources.interface);
        *self.port.resources.lock() = resources;
        // Config space for VideoPortGet/SetBusData; a bus without the interface leaves it out.
        // SAFETY: PASSIVE_LEVEL START handling; the lower device is live while attached.
        *self.port.bus.lock() =
            unsafe { query_bus_interface(self.port.lower.load(Ordering::Acquire)) };

        // SAFETY: all-zero bytes are a valid VIDEO_PORT_CONFIG_INFO.
        let mut config: VIDEO_PORT_CONFIG_INFO = unsafe { core::mem::zeroed() };
        config.Length = size_of::<VIDEO_PORT_CONFIG_INFO>() as u32;
        config.SystemIoBusNumber = bus_number;
        config.AdapterInterfaceType = interface;
        if let Some(i) = interrupt {
            config.BusInterruptLevel = i.raw_level;
            config.BusInterruptVector = i.raw_vector;
            config.InterruptMode = i.mode;
            config.InterruptShareable = i.shareable as u8;
        }
        config.DriverRegistryPath = super::initialize::DriverExtension::registry_path(
            self.port.driver.load(Ordering::Acquire),
        );
        config.VideoPortGetProcAddress = Some(super::proc_address::get_proc_address);
        let mut again: UCHAR = 0;
        let find = driver
            .init
            .HwFindAdapter
            .expect("checked by VideoPortInitialize");
        self.port.set_state(state::FINDING);
        // SAFETY: the miniport's HwFindAdapter with its extension and a valid config.
        let vp = unsafe {
            find(
                self.hw_extension(),
                driver.hw_context,
                null_mut(),
                &mut config,
                &mut again,
            )
        };
        self.port.set_state(state::ADDED);
        if vp != NO_ERROR {
            self.stop_hardware();
            let status = super::vp_to_ntstatus(vp);
            return if status.is_success() {
                STATUS_UNSUCCESSFUL
            } else {
                status
            };
        }
        if let (Some(i), Some(_)) = (interrupt, driver.init.HwInterrupt) {
            if config.BusInterruptLevel != 0 || config.BusInterruptVector != 0 {
                let mut object: *mut KINTERRUPT = null_mut();
                // SAFETY: the ISR's context is this device, which outlives the connection
                // (disconnected in stop_hardware before detach).
                let status = unsafe {
                    IoConnectInterrupt(
                        &mut object,
                        Some(super::interrupt::isr_trampoline),
                        self as *const PortDevice as PVOID,
                        null_mut(),
                        i.vector,
                        i.level,
                        i.level,
                        i.mode,
                        u8::from(config.InterruptShareable != 0),
                        i.affinity,
                        FALSE,
                    )
                };
                if !status.is_success() {
                    self.stop_hardware();
                    return status;
                }
                self.port.interrupt.store(object, Ordering::Release);
            }
        }
        let init = driver
            .init
            .HwInitialize
            .expect("checked by VideoPortInitialize");
        // SAFETY: the miniport's HwInitialize with its extension.
        if unsafe { init(self.hw_extension()) } == FALSE {
            self.stop_hardware();
            return STATUS_UNSUCCESSFUL;
        }
        self.port.set_state(state::STARTED);
        STATUS_SUCCESS
    }
}

/// `VideoPortGetAssociatedDeviceExtension`: the `HwDeviceExtension` of the adapter a device
/// object belongs to: the adapter's own FDO, or a child PDO the port made for it (a monitor
/// or other child). Anything else is reported and gets NULL.
///
/// # Safety
/// Any value is accepted; it is looked up, never dereferenced.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortGetAssociatedDeviceExtension(DeviceObject: PVOID) -> PVOID {
    let device = PortDevice::from_fdo(DeviceObject.cast())
        .or_else(|| super::child::parent_of(DeviceObject.cast()));
    match device {
        Some(d) => d.hw_extension(),
        None => {
            report::misuse(
                "VideoPortGetAssociatedDeviceExtension",
                Misuse::Port {
                    code: port_code::UNKNOWN_DEVICE_OBJECT,
                    p2: DeviceObject as usize,
                    p3: 0,
                },
            );
            null_mut()
        }
    }
}
