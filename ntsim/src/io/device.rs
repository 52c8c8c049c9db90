//! Driver objects, device objects and stacks, and the PnP manager's part in them:
//! `IoCreateDevice`, `IoDeleteDevice`, `IoAttachDeviceToDeviceStack`, `IoDetachDevice`,
//! `IoAllocateDriverObjectExtension`, `IoGetDriverObjectExtension`, and
//! [`Machine::load_driver`], [`Machine::start_device`], [`Machine::remove_device`],
//! [`Machine::unload_driver`].

use super::irp::{call, top_of_stack};
use super::{wide, DeviceRecord, DriverRecord, HostBox};
use crate::machine::{cpu, Machine};
use crate::pdo::Pdo;
use crate::verifier::{bugcheck, ntsim_code};
use ddk_sys::*;
use std::alloc::Layout;

/// `IO_TYPE_DRIVER` and `IO_TYPE_DEVICE`.
const IO_TYPE_DRIVER: i16 = 4;
const IO_TYPE_DEVICE: i16 = 3;

/// A loaded driver. Unload it with [`Machine::unload_driver`].
#[derive(Debug)]
pub struct Driver {
    object: usize,
}

impl Driver {
    /// The `DRIVER_OBJECT`.
    pub fn as_ptr(&self) -> *mut DRIVER_OBJECT {
        self.object as *mut DRIVER_OBJECT
    }
}

/// A started device: the PDO and the stack a driver's AddDevice built on it. A clone names the
/// same device (to try [`Machine::remove_device`] again after a veto, say).
#[derive(Debug, Clone)]
pub struct DeviceNode {
    pub(crate) pdo: Pdo,
}

impl DeviceNode {
    /// The physical device object.
    pub fn pdo(&self) -> Pdo {
        self.pdo
    }
    /// The device object at the top of the stack (the port's FDO).
    pub fn top(&self) -> *mut DEVICE_OBJECT {
        top_of_stack(self.pdo.as_ptr())
    }
}

fn io_misuse(routine: &'static str, object: usize, msg: String) {
    cpu().lock().report(
        bugcheck::NTSIM_CHECK,
        ntsim_code::IO_MISUSE,
        [object as u64, 0, 0],
        routine,
        msg,
    );
}

fn unicode(buffer: &[u16]) -> UNICODE_STRING {
    UNICODE_STRING {
        Length: (buffer.len() * 2) as u16,
        MaximumLength: (buffer.len() * 2) as u16,
        Buffer: buffer.as_ptr() as *mut u16,
    }
}

/// # Safety
/// `s` is NULL or a valid UNICODE_STRING.
unsafe fn read_unicode(s: *const UNICODE_STRING) -> Option<String> {
    if s.is_null() {
        return None;
    }
    // SAFETY: contract; Length is in bytes.
    unsafe {
        let len = (*s).Length as usize / 2;
        if (*s).Buffer.is_null() {
            return Some(String::new());
        }
        Some(String::from_utf16_lossy(std::slice::from_raw_parts(
            (*s).Buffer,
            len,
        )))
    }
}

/// `IoCreateDevice`.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn IoCreateDevice(
    DriverObject: *mut DRIVER_OBJECT,
    DeviceExtensionSize: ULONG,
    DeviceName: PUNICODE_STRING,
    DeviceType: ULONG,
    DeviceCharacteristics: ULONG,
    _Exclusive: BOOLEAN,
    DeviceObject: *mut *mut DEVICE_OBJECT,
) -> NTSTATUS {
    const R: &str = "IoCreateDevice";
    let cpu = cpu();
    if cpu.irql() != PASSIVE_LEVEL {
        io_misuse(
            R,
            DriverObject as usize,
            format!("called at IRQL {}", cpu.irql()),
        );
        return STATUS_INVALID_DEVICE_STATE;
    }
    // SAFETY: a NULL or valid name (contract).
    let name = unsafe { read_unicode(DeviceName) };
    {
        let st = cpu.lock();
        if !st.io.drivers.contains_key(&(DriverObject as usize)) {
            drop(st);
            io_misuse(
                R,
                DriverObject as usize,
                format!("{:#x} is not a loaded driver object", DriverObject as usize),
            );
            return STATUS_INVALID_PARAMETER;
        }
        if name.is_some() && st.io.devices.values().any(|d| d.name == name) {
            return STATUS_OBJECT_NAME_COLLISION;
        }
    }
    let head = size_of::<DEVICE_OBJECT>();
    let extension = (DeviceExtensionSize as usize).div_ceil(16) * 16;
    let layout = Layout::from_size_align(head + extension, 16).expect("device layout");
    // SAFETY: non-zero size; all-zero bytes are a valid DEVICE_OBJECT.
    let dev = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<DEVICE_OBJECT>();
    if dev.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    // SAFETY: fresh allocation of the layout above; the driver object is live.
    unsafe {
        (*dev).Type = IO_TYPE_DEVICE;
        (*dev).Size = (head + DeviceExtensionSize as usize) as u16;
        (*dev).DriverObject = DriverObject;
        (*dev).NextDevice = (*DriverObject).DeviceObject;
        (*DriverObject).DeviceObject = dev;
        (*dev).Flags = DO_DEVICE_INITIALIZING;
        (*dev).DeviceType = DeviceType;
        (*dev).Characteristics = DeviceCharacteristics;
        (*dev).StackSize = 1;
        if DeviceExtensionSize != 0 {
            (*dev).DeviceExtension = dev.cast::<u8>().add(head).cast();
        }
        *DeviceObject = dev;
    }
    cpu.lock().io.devices.insert(
        dev as usize,
        DeviceRecord {
            layout,
            driver: DriverObject as usize,
            name,
            attached_to: 0,
        },
    );
    STATUS_SUCCESS
}

/// `IoDeleteDevice`.
///
/// # Safety
/// `DeviceObject` must be a device object made by `IoCreateDevice`, not used afterwards.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn IoDeleteDevice(DeviceObject: *mut DEVICE_OBJECT) {
    const R: &str = "IoDeleteDevice";
    let cpu = cpu();
    let record = {
        let mut st = cpu.lock();
        st.io.timers.retain(|t| t.device != DeviceObject as usize);
        st.io.devices.remove(&(DeviceObject as usize))
    };
    let Some(record) = record else {
        io_misuse(
            R,
            DeviceObject as usize,
            format!("{:#x} is not a live device object", DeviceObject as usize),
        );
        return;
    };
    if record.attached_to != 0 {
        io_misuse(
            R,
            DeviceObject as usize,
            format!(
                "device {:#x} deleted while still attached to {:#x} (IoDetachDevice first)",
                DeviceObject as usize, record.attached_to
            ),
        );
        // Detach on the driver's behalf, so the stack below never points at freed memory.
        // SAFETY: the lower device is live while something is attached to it.
        unsafe {
            (*(record.attached_to as *mut DEVICE_OBJECT)).AttachedDevice = core::ptr::null_mut()
        };
    }
    // SAFETY: a live device object of ours; unlink it from its driver's list, then free it.
    unsafe {
        if !(*DeviceObject).AttachedDevice.is_null() {
            io_misuse(
                R,
                DeviceObject as usize,
                format!(
                    "device {:#x} deleted while {:#x} is attached to it",
                    DeviceObject as usize,
                    (*DeviceObject).AttachedDevice as usize
                ),
            );
        }
        let driver = (*DeviceObject).DriverObject;
        let mut link: *mut *mut DEVICE_OBJECT = &mut (*driver).DeviceObject;
        while !(*link).is_null() {
            if *link == DeviceObject {
                *link = (*DeviceObject).NextDevice;
                break;
            }
            link = &mut (**link).NextDevice;
        }
        crate::bugcheck::memory_freed(
            &mut cpu.lock(),
            R,
            DeviceObject as usize,
            record.layout.size(),
        );
        std::alloc::dealloc(DeviceObject.cast(), record.layout);
    }
}

/// `IoAttachDeviceToDeviceStack`: attaches on top of `TargetDevice`'s stack, returns the
/// device attached to.
///
/// # Safety
/// Both must be live device objects.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn IoAttachDeviceToDeviceStack(
    SourceDevice: *mut DEVICE_OBJECT,
    TargetDevice: *mut DEVICE_OBJECT,
) -> *mut DEVICE_OBJECT {
    let cpu = cpu();
    let top = top_of_stack(TargetDevice);
    // SAFETY: live device objects (contract).
    unsafe {
        (*top).AttachedDevice = SourceDevice;
        (*SourceDevice).StackSize = (*top).StackSize.max(1) + 1;
    }
    let mut st = cpu.lock();
    if let Some(r) = st.io.devices.get_mut(&(SourceDevice as usize)) {
        r.attached_to = top as usize;
    }
    top
}

/// `IoDetachDevice`: detaches whatever is attached to `TargetDevice`.
///
/// # Safety
/// `TargetDevice` must be a live device object.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn IoDetachDevice(TargetDevice: *mut DEVICE_OBJECT) {
    let cpu = cpu();
    // SAFETY: live device object (contract).
    let above = unsafe { (*TargetDevice).AttachedDevice };
    if above.is_null() {
        io_misuse(
            "IoDetachDevice",
            TargetDevice as usize,
            format!("nothing is attached to {:#x}", TargetDevice as usize),
        );
        return;
    }
    // SAFETY: as above.
    unsafe { (*TargetDevice).AttachedDevice = core::ptr::null_mut() };
    let mut st = cpu.lock();
    if let Some(r) = st.io.devices.get_mut(&(above as usize)) {
        r.attached_to = 0;
    }
}

/// `IoAllocateDriverObjectExtension`. STATUS_NOT_IMPLEMENTED when the machine models a kernel
/// without driver-object extensions ([`crate::MachineConfig::driver_object_extensions`]).
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn IoAllocateDriverObjectExtension(
    DriverObject: *mut DRIVER_OBJECT,
    ClientIdentificationAddress: PVOID,
    DriverObjectExtensionSize: ULONG,
    DriverObjectExtension: *mut PVOID,
) -> NTSTATUS {
    let cpu = cpu();
    let mut st = cpu.lock();
    let extensions_work = st.config.driver_object_extensions;
    let Some(driver) = st.io.drivers.get_mut(&(DriverObject as usize)) else {
        drop(st);
        io_misuse(
            "IoAllocateDriverObjectExtension",
            DriverObject as usize,
            format!("{:#x} is not a loaded driver object", DriverObject as usize),
        );
        // SAFETY: out pointer valid by contract.
        unsafe { *DriverObjectExtension = core::ptr::null_mut() };
        return STATUS_INVALID_PARAMETER;
    };
    if !extensions_work {
        // SAFETY: out pointer valid by contract.
        unsafe { *DriverObjectExtension = core::ptr::null_mut() };
        return STATUS_NOT_IMPLEMENTED;
    }
    let id = ClientIdentificationAddress as usize;
    if driver.client_extensions.iter().any(|e| e.0 == id) {
        // SAFETY: out pointer valid by contract.
        unsafe { *DriverObjectExtension = core::ptr::null_mut() };
        return STATUS_OBJECT_NAME_COLLISION;
    }
    let layout = Layout::from_size_align((DriverObjectExtensionSize as usize).max(1), 16)
        .expect("extension layout");
    // SAFETY: non-zero size.
    let block = unsafe { std::alloc::alloc_zeroed(layout) };
    if block.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    driver.client_extensions.push((id, block as usize, layout));
    // SAFETY: out pointer valid by contract.
    unsafe { *DriverObjectExtension = block.cast() };
    STATUS_SUCCESS
}

/// `IoGetDriverObjectExtension`.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn IoGetDriverObjectExtension(
    DriverObject: *mut DRIVER_OBJECT,
    ClientIdentificationAddress: PVOID,
) -> PVOID {
    let cpu = cpu();
    let st = cpu.lock();
    st.io
        .drivers
        .get(&(DriverObject as usize))
        .and_then(|d| {
            d.client_extensions
                .iter()
                .find(|e| e.0 == ClientIdentificationAddress as usize)
        })
        .map_or(core::ptr::null_mut(), |e| e.1 as PVOID)
}

/// The signature of a driver's entry point.
#[ddk_sys::ntapi]
pub type DriverEntry =
    unsafe extern "ntapi" fn(*mut DRIVER_OBJECT, *mut UNICODE_STRING) -> NTSTATUS;

impl Machine {
    /// Calls `driver_entry` like the I/O manager loading a driver: with a new DRIVER_OBJECT
    /// (name `\Driver\<name>`) and the registry path
    /// `\Registry\Machine\System\CurrentControlSet\Services\<name>`, at PASSIVE_LEVEL. A
    /// failing DriverEntry's objects are freed and its status returned.
    pub fn load_driver(&self, name: &str, driver_entry: DriverEntry) -> Result<Driver, NTSTATUS> {
        let _bound = (!self.is_current()).then(|| self.enter());
        let layout = Layout::new::<DRIVER_OBJECT>();
        // SAFETY: non-zero size; all-zero bytes are a valid DRIVER_OBJECT.
        let object = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<DRIVER_OBJECT>();
        if object.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        let driver_name = HostBox::new(wide(&format!("\\Driver\\{name}")));
        let service = HostBox::new(wide(name));
        let path = HostBox::new(wide(&format!(
            "\\Registry\\Machine\\System\\CurrentControlSet\\Services\\{name}"
        )));
        // SAFETY: the strings live (and do not move) until the driver record drops, after the
        // driver object and everything that points into them.
        let (service_name, path_name) = unsafe { (&*service.as_ptr(), &*path.as_ptr()) };
        let extension = HostBox::new(Box::new(DRIVER_EXTENSION {
            DriverObject: object,
            AddDevice: None,
            Count: 0,
            ServiceKeyName: unicode(service_name),
        }));
        let registry_path = HostBox::new(Box::new(unicode(path_name)));
        // SAFETY: fresh allocation; the strings live as long as the object.
        unsafe {
            (*object).Type = IO_TYPE_DRIVER;
            (*object).Size = size_of::<DRIVER_OBJECT>() as i16;
            (*object).DriverExtension = extension.as_ptr();
            (*object).DriverName = unicode(&*driver_name.as_ptr());
            (*object).DriverInit = Some(driver_entry);
        }
        let path_ptr: *mut UNICODE_STRING = registry_path.as_ptr();
        self.lock().io.drivers.insert(
            object as usize,
            DriverRecord {
                name: name.to_string(),
                extension,
                registry_path,
                strings: vec![driver_name, service, path],
                client_extensions: Vec::new(),
            },
        );
        // SAFETY: the driver's entry point, called as the I/O manager would.
        let status = unsafe { driver_entry(object, path_ptr) };
        let cpu = cpu();
        if cpu.irql() != PASSIVE_LEVEL {
            let irql = cpu.irql();
            cpu.lock().report(
                bugcheck::IRQL_UNEXPECTED_VALUE,
                irql as u32,
                [PASSIVE_LEVEL as u64, object as u64, 0],
                "DriverEntry",
                format!("DriverEntry of '{name}' returned at IRQL {irql}"),
            );
            cpu.set_irql(PASSIVE_LEVEL);
        }
        let driver = Driver {
            object: object as usize,
        };
        if !status.is_success() {
            self.free_driver(&driver);
            return Err(status);
        }
        Ok(driver)
    }

    /// Frees a driver object and what ntsim made for it; reports devices it still has.
    fn free_driver(&self, driver: &Driver) {
        let object = driver.as_ptr();
        // SAFETY: a live driver object of ours.
        let first = unsafe { (*object).DeviceObject };
        if !first.is_null() {
            io_misuse(
                "IopUnloadDriver",
                object as usize,
                format!(
                    "driver object {:#x} unloaded with device object {:#x} not deleted",
                    object as usize, first as usize
                ),
            );
            return;
        }
        let record = self.lock().io.drivers.remove(&(object as usize));
        if let Some(record) = record {
            for (_, block, layout) in record.client_extensions {
                // SAFETY: allocated in IoAllocateDriverObjectExtension with this layout.
                unsafe { std::alloc::dealloc(block as *mut u8, layout) };
            }
            // SAFETY: allocated in load_driver with this layout; no device refers to it.
            unsafe { std::alloc::dealloc(object.cast(), Layout::new::<DRIVER_OBJECT>()) };
        }
    }

    /// PnP start: the driver's AddDevice for `pdo`, then IRP_MN_START_DEVICE with the PDO's
    /// raw and translated resources (a PCI device's BARs and interrupt; none for other PDOs).
    /// When START fails, IRP_MN_REMOVE_DEVICE follows, as the PnP manager sends it, and the
    /// START status is returned.
    pub fn start_device(&self, driver: &Driver, pdo: Pdo) -> Result<DeviceNode, NTSTATUS> {
        let _bound = (!self.is_current()).then(|| self.enter());
        let object = driver.as_ptr();
        // SAFETY: a live driver object of ours.
        let add_device = unsafe { (*(*object).DriverExtension).AddDevice };
        let Some(add_device) = add_device else {
            return Err(STATUS_INVALID_DEVICE_REQUEST);
        };
        // SAFETY: the driver's AddDevice, called at PASSIVE_LEVEL as the PnP manager would.
        let status = unsafe { add_device(object, pdo.as_ptr()) };
        if !status.is_success() {
            return Err(status);
        }
        let top = top_of_stack(pdo.as_ptr());
        if top == pdo.as_ptr() {
            io_misuse(
                "IopAddDevice",
                object as usize,
                "AddDevice succeeded without attaching a device to the PDO".into(),
            );
            return Err(STATUS_UNSUCCESSFUL);
        }
        // SAFETY: a live device object at the top of the stack.
        if unsafe { (*top).Flags } & DO_DEVICE_INITIALIZING != 0 {
            io_misuse(
                "IopAddDevice",
                top as usize,
                format!(
                    "AddDevice left DO_DEVICE_INITIALIZING set on {:#x}",
                    top as usize
                ),
            );
        }
        let (raw, translated) = crate::pci::resources(self, pdo);
        let node = DeviceNode { pdo };
        let result = call(self, top, "IRP_MN_START_DEVICE", |_, s| {
            // SAFETY: the first location of a fresh IRP.
            unsafe {
                (*s).MajorFunction = IRP_MJ_PNP;
                (*s).MinorFunction = IRP_MN_START_DEVICE;
                (*s).Parameters.StartDevice = IO_STACK_START_DEVICE {
                    AllocatedResources: raw.as_ptr() as *mut CM_RESOURCE_LIST,
                    AllocatedResourcesTranslated: translated.as_ptr() as *mut CM_RESOURCE_LIST,
                };
            }
        });
        drop((raw, translated));
        if !result.Status.is_success() {
            self.pnp(&node, IRP_MN_REMOVE_DEVICE);
            self.check_removed(&node);
            return Err(result.Status);
        }
        // As the PnP manager does after a start: the bus relations (child devices).
        self.enumerate_children(pdo.as_ptr() as usize);
        Ok(node)
    }

    /// Sends a PnP IRP with minor function `minor` (no parameters) to the top of the node's
    /// stack and returns its final status. PnP IRPs start with STATUS_NOT_SUPPORTED.
    pub fn pnp(&self, node: &DeviceNode, minor: u8) -> NTSTATUS {
        call(self, node.top(), "IRP_MJ_PNP", |irp, s| {
            // SAFETY: a fresh IRP and its first location.
            unsafe {
                (*irp).IoStatus.Status = STATUS_NOT_SUPPORTED;
                (*s).MajorFunction = IRP_MJ_PNP;
                (*s).MinorFunction = minor;
            }
        })
        .Status
    }

    /// Sends a power IRP (`IRP_MN_SET_POWER` or `IRP_MN_QUERY_POWER`) for device power state
    /// `state` (`PowerDeviceD0` = 1 .. `PowerDeviceD3` = 4) and returns its final status.
    pub fn power(&self, node: &DeviceNode, minor: u8, state: u32) -> NTSTATUS {
        call(self, node.top(), "IRP_MJ_POWER", |_, s| {
            // SAFETY: the first location of a fresh IRP.
            unsafe {
                (*s).MajorFunction = IRP_MJ_POWER;
                (*s).MinorFunction = minor;
                (*s).Parameters.Power = IO_STACK_POWER {
                    SystemContext: PointerAligned(0),
                    // DevicePowerState.
                    Type: PointerAligned(1),
                    State: PointerAligned(state),
                    ShutdownType: PointerAligned(0),
                };
            }
        })
        .Status
    }

    /// PnP removal: IRP_MN_QUERY_REMOVE_DEVICE, then (if that succeeded) IRP_MN_REMOVE_DEVICE.
    /// Returns the status of the last IRP sent. Reports a stack left attached.
    ///
    /// With a user handle still open on the device the PnP manager vetoes the removal
    /// (PNP_VetoOutstandingOpen) before any IRP: STATUS_DEVICE_BUSY, and the device stays.
    pub fn remove_device(&self, node: DeviceNode) -> NTSTATUS {
        let _bound = (!self.is_current()).then(|| self.enter());
        if self.open_handles(&node) > 0 {
            return STATUS_DEVICE_BUSY;
        }
        // Children first, then the parent, for each of the two IRPs.
        let parent = node.pdo.as_ptr() as usize;
        let mut status = self.children_pnp(parent, IRP_MN_QUERY_REMOVE_DEVICE);
        if status.is_success() {
            status = self.pnp(&node, IRP_MN_QUERY_REMOVE_DEVICE);
        }
        if !status.is_success() {
            self.children_pnp(parent, IRP_MN_CANCEL_REMOVE_DEVICE);
            self.pnp(&node, IRP_MN_CANCEL_REMOVE_DEVICE);
            return status;
        }
        self.children_pnp(parent, IRP_MN_REMOVE_DEVICE);
        let status = self.pnp(&node, IRP_MN_REMOVE_DEVICE);
        self.check_removed(&node);
        status
    }

    /// User handles open on the device.
    pub fn open_handles(&self, node: &DeviceNode) -> usize {
        let st = self.lock();
        st.io
            .opens
            .get(&(node.pdo.as_ptr() as usize))
            .copied()
            .unwrap_or(0)
    }

    /// Surprise removal: IRP_MN_SURPRISE_REMOVAL, then IRP_MN_REMOVE_DEVICE; as on Windows, the
    /// REMOVE waits until the last user handle of the device is closed (then
    /// [`crate::UserHandle::close`] sends it, and this returns STATUS_PENDING).
    pub fn surprise_remove_device(&self, node: DeviceNode) -> NTSTATUS {
        let _bound = (!self.is_current()).then(|| self.enter());
        let parent = node.pdo.as_ptr() as usize;
        self.children_pnp(parent, IRP_MN_SURPRISE_REMOVAL);
        self.pnp(&node, IRP_MN_SURPRISE_REMOVAL);
        if self.open_handles(&node) > 0 {
            self.lock().io.removals_pending.insert(parent);
            return STATUS_PENDING;
        }
        self.finish_removal(&node)
    }

    /// IRP_MN_REMOVE_DEVICE to the children, then to the device.
    pub(crate) fn finish_removal(&self, node: &DeviceNode) -> NTSTATUS {
        let parent = node.pdo.as_ptr() as usize;
        self.children_pnp(parent, IRP_MN_REMOVE_DEVICE);
        let status = self.pnp(node, IRP_MN_REMOVE_DEVICE);
        self.check_removed(node);
        status
    }

    fn check_removed(&self, node: &DeviceNode) {
        let top = node.top();
        if top != node.pdo.as_ptr() {
            io_misuse(
                "IopRemoveDevice",
                top as usize,
                format!(
                    "IRP_MN_REMOVE_DEVICE completed with {:#x} still attached to the PDO",
                    top as usize
                ),
            );
        }
    }

    /// Unloads a driver: its DriverUnload routine at PASSIVE_LEVEL, then its objects are freed.
    /// A driver with device objects left, or without DriverUnload, is reported (and a driver
    /// with devices left stays loaded, as on Windows).
    pub fn unload_driver(&self, driver: Driver) {
        let _bound = (!self.is_current()).then(|| self.enter());
        let object = driver.as_ptr();
        // SAFETY: a live driver object of ours.
        let (unload, devices) = unsafe { ((*object).DriverUnload, (*object).DeviceObject) };
        if devices.is_null() {
            match unload {
                // SAFETY: the driver's unload routine, called as the I/O manager would.
                Some(f) => unsafe { f(object) },
                None => io_misuse(
                    "IopUnloadDriver",
                    object as usize,
                    "driver has no DriverUnload routine; unloaded anyway".into(),
                ),
            }
        }
        self.free_driver(&driver);
    }
}
