//! A simulated machine with one device whose port extension is set up as AddDevice would, and a
//! tiny "miniport" that records what HwVidExecuteDma receives. Every VideoPort call in the tests
//! goes through the exported C ABI.
#![allow(dead_code)]

use core::ptr::{null_mut, NonNull};
use ddk_sys::*;
use ntsim::{BusAddress, DeviceView, EnterGuard, Machine, MachineConfig, Pdo, Violation};
use std::alloc::Layout;
use std::sync::Mutex;
use videoprt::device::PortDevice;
use videoprt::dma::adapter::{VideoPortGetDmaAdapter, VideoPortPutDmaAdapter};

/// Bytes of HwDeviceExtension the rig's miniport asks for.
pub const HW_EXTENSION_SIZE: u32 = 256;

pub struct Rig {
    pub machine: Machine,
    pub pdo: Pdo,
    extension: *mut u8,
    layout: Layout,
    /// A pointer, not `&'static PortDevice`: the memory is freed in `Drop`, and a reference
    /// held (and protected) across that would make the free undefined behaviour.
    device: Option<NonNull<PortDevice>>,
    _guard: EnterGuard,
}

impl Rig {
    pub fn new(config: MachineConfig) -> Rig {
        Rig::on(&Machine::new(config))
    }

    /// A rig on an existing machine (a fault sweep's, or one shared by threads).
    pub fn on(machine: &Machine) -> Rig {
        let machine = machine.clone();
        let guard = machine.enter();
        let pdo = machine.create_pdo("test bus master");
        let layout =
            Layout::from_size_align(PortDevice::extension_size(HW_EXTENSION_SIZE), 16).unwrap();
        // SAFETY: non-zero size.
        let extension = unsafe { std::alloc::alloc_zeroed(layout) };
        let at = NonNull::new(extension.cast::<PortDevice>()).expect("host allocation");
        // SAFETY: 16-aligned, zeroed, large enough, and freed only after detach (in Drop).
        unsafe { PortDevice::attach(at, pdo.as_ptr(), null_mut(), HW_EXTENSION_SIZE) };
        Rig {
            machine,
            pdo,
            extension,
            layout,
            device: Some(at),
            _guard: guard,
        }
    }

    /// A second device on the same machine (for "foreign handle" cases); detached on drop.
    pub fn second_device(&self) -> SecondDevice {
        let pdo = self.machine.create_pdo("second bus master");
        let layout = self.layout;
        // SAFETY: non-zero size.
        let extension = unsafe { std::alloc::alloc_zeroed(layout) };
        let at = NonNull::new(extension.cast::<PortDevice>()).expect("host allocation");
        // SAFETY: as in `new`.
        unsafe { PortDevice::attach(at, pdo.as_ptr(), null_mut(), HW_EXTENSION_SIZE) };
        SecondDevice {
            device: at,
            extension,
            layout,
        }
    }

    /// The miniport's HwDeviceExtension.
    pub fn hw(&self) -> PVOID {
        let device = self.device.expect("device attached");
        // SAFETY: attached devices stay valid until detached (`remove_device` or `Drop`).
        unsafe { device.as_ref() }.hw_extension()
    }

    pub fn view(&self) -> DeviceView {
        self.machine.device_view(self.pdo)
    }

    pub fn adapter(
        &self,
        scatter_gather: bool,
        dma64: bool,
        maximum_length: u32,
    ) -> PVP_DMA_ADAPTER {
        let mut desc = VP_DEVICE_DESCRIPTION {
            ScatterGather: scatter_gather as u8,
            Dma32BitAddresses: (!dma64) as u8,
            Dma64BitAddresses: dma64 as u8,
            MaximumLength: maximum_length,
        };
        // SAFETY: a valid description.
        let adapter = unsafe { VideoPortGetDmaAdapter(self.hw(), &mut desc) };
        assert!(!adapter.is_null(), "VideoPortGetDmaAdapter failed");
        adapter
    }

    pub fn put_adapter(&self, adapter: PVP_DMA_ADAPTER) {
        // SAFETY: exported C ABI; any arguments are accepted.
        unsafe { VideoPortPutDmaAdapter(self.hw(), adapter) }
    }

    /// Device removal: the port reclaims what is left. Returns the violations reported so far.
    pub fn remove_device(&mut self) -> Vec<Violation> {
        if let Some(device) = self.device.take() {
            // SAFETY: no other call on this device runs or follows; the memory is still live.
            unsafe { device.as_ref().detach() };
        }
        self.machine.take_violations()
    }

    /// The 0xE6 (or port) codes reported so far, draining them.
    pub fn take_codes(&self) -> Vec<(u32, u32)> {
        self.machine
            .take_violations()
            .iter()
            .map(|v| (v.bugcheck, v.code))
            .collect()
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        if let Some(device) = self.device.take() {
            // SAFETY: as in remove_device.
            unsafe { device.as_ref().detach() };
        }
        // SAFETY: allocated in `new` with this layout; the device is detached.
        unsafe { std::alloc::dealloc(self.extension, self.layout) };
    }
}

pub struct SecondDevice {
    /// A pointer, for the same reason as [`Rig`]'s.
    device: NonNull<PortDevice>,
    extension: *mut u8,
    layout: Layout,
}

impl SecondDevice {
    pub fn hw(&self) -> PVOID {
        // SAFETY: the device stays attached and its memory live until `Drop`.
        unsafe { self.device.as_ref() }.hw_extension()
    }
}

impl Drop for SecondDevice {
    fn drop(&mut self) {
        // SAFETY: nothing uses the device afterwards; then its memory goes.
        unsafe {
            self.device.as_ref().detach();
            std::alloc::dealloc(self.extension, self.layout);
        }
    }
}

/// One delivered scatter/gather list.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub adapter: PVP_DMA_ADAPTER,
    pub list: PVP_SCATTER_GATHER_LIST,
    pub elements: Vec<(BusAddress, u32)>,
    pub irql: KIRQL,
    /// `*pLength` as HwVidExecuteDma saw it.
    pub length_seen: u32,
}
// SAFETY: the pointers are only compared and handed back to the port on the test thread.
unsafe impl Send for Delivery {}

/// The context a test passes to StartDma: where its HwVidExecuteDma records deliveries.
pub struct Recorder {
    pub deliveries: Mutex<Vec<Delivery>>,
    /// The `pLength` variable of the StartDma call in flight.
    pub length: Mutex<*mut u32>,
}
// SAFETY: the raw pointer is only read on the test thread while StartDma's variable lives.
unsafe impl Sync for Recorder {}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder {
            deliveries: Mutex::new(Vec::new()),
            length: Mutex::new(null_mut()),
        }
    }

    pub fn take(&self) -> Vec<Delivery> {
        std::mem::take(&mut self.deliveries.lock().unwrap())
    }

    pub fn context(&self) -> PVOID {
        self as *const Recorder as PVOID
    }
}

/// The test miniport's HwVidExecuteDma.
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn record_execute(
    _hw: PVOID,
    adapter: PVP_DMA_ADAPTER,
    list: PVP_SCATTER_GATHER_LIST,
    context: PVOID,
) {
    // SAFETY: the tests pass a live Recorder as the context.
    let recorder = unsafe { &*(context as *const Recorder) };
    // SAFETY: the port passes the list it got from the HAL, valid until CompleteDma.
    let elements = unsafe {
        let n = (*list).NumberOfElements as usize;
        let first = core::ptr::addr_of!((*list).Elements).cast::<VP_SCATTER_GATHER_ELEMENT>();
        (0..n)
            .map(|i| *first.add(i))
            .map(|e| (BusAddress(e.Address.get()), e.Length))
            .collect()
    };
    let length_ptr = *recorder.length.lock().unwrap();
    let length_seen = if length_ptr.is_null() {
        0
    } else {
        // SAFETY: the test's pLength variable outlives the callback (the tests' flow).
        unsafe { *length_ptr }
    };
    recorder.deliveries.lock().unwrap().push(Delivery {
        adapter,
        list,
        elements,
        irql: KeGetCurrentIrql(),
        length_seen,
    });
}

/// Deterministic test bytes.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
