//! The workloads that `cargo xtask bench` measures under callgrind, on one device attached to
//! the port with no miniport driver behind it:
//!
//! - `transfer_cost pairs N [ELEMENTS]`: N chunks of VideoPortStartDma / HwVidExecuteDma /
//!   VideoPortCompleteDma on one adapter, after a warm-up. Without ELEMENTS each chunk is 2
//!   pages long at an offset that cycles through 0..3584 (2 or 3 scatter/gather elements);
//!   with ELEMENTS each chunk is ELEMENTS pages from a page boundary of scattered user memory.
//!   Prints the pool allocations the loop made and the average scatter/gather elements.
//! - `transfer_cost isr N`: N simulated interrupts as a miniport's HwInterrupt makes them, at
//!   the device's DIRQL: VideoPortReadRegisterUlong (status), VideoPortWriteRegisterUlong
//!   (acknowledge), VideoPortQueueDpc; then the DPC runs (the port's DPC routine and the
//!   miniport's callback).
//! - `transfer_cost names`: the simulated kernel's exported routines, one a line (what the
//!   bench counts as kernel routines, with ntsim's hooks and the HAL's DMA_OPERATIONS).
//!
//! Usage: transfer_cost pairs|isr|names [N] [ELEMENTS]

use core::ptr::{null_mut, NonNull};
use ddk_sys::*;
use ntsim::{BarKind, BarSpec, DeviceContext, Machine, MachineConfig, PciDeviceModel, UserProt};
use std::alloc::Layout;
use videoprt::device::PortDevice;
use videoprt::dma::adapter::{VideoPortGetDmaAdapter, VideoPortPutDmaAdapter};
use videoprt::dma::complete::VideoPortCompleteDma;
use videoprt::dma::lock::{VideoPortLockBuffer, VideoPortUnlockBuffer};
use videoprt::dma::start::VideoPortStartDma;
use videoprt::port::interrupt::VideoPortQueueDpc;
use videoprt::port::registers::{VideoPortReadRegisterUlong, VideoPortWriteRegisterUlong};

/// What HwVidExecuteDma keeps for the loop: the list, and the elements seen.
struct Kept {
    list: PVP_SCATTER_GATHER_LIST,
    elements: u64,
}

/// HwVidExecuteDma: keeps the list for the completion.
#[ddk_sys::ntapi]
unsafe extern "ntapi" fn keep_list(
    _: PVOID,
    _: PVP_DMA_ADAPTER,
    list: PVP_SCATTER_GATHER_LIST,
    context: PVOID,
) {
    // SAFETY: the context is the loop's `Kept`; the list is the HAL's, live until completion.
    unsafe {
        let kept = &mut *(context as *mut Kept);
        kept.list = list;
        kept.elements += u64::from((*list).NumberOfElements);
    }
}

/// A device extension and the port's device around it, freed on drop.
struct Device {
    device: &'static PortDevice,
    extension: *mut u8,
    layout: Layout,
}

impl Device {
    fn attach(pdo: PDEVICE_OBJECT) -> Device {
        let layout = Layout::from_size_align(PortDevice::extension_size(64), 16).unwrap();
        // SAFETY: non-zero size; freed in drop, after detach.
        let extension = unsafe { std::alloc::alloc_zeroed(layout) };
        // SAFETY: 16-aligned, zeroed, large enough, valid until detach.
        let device = unsafe {
            PortDevice::attach(NonNull::new(extension.cast()).unwrap(), pdo, null_mut(), 64)
        };
        Device {
            device,
            extension,
            layout,
        }
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        // SAFETY: no call on the device runs any more; the memory is freed after detach.
        unsafe {
            self.device.detach();
            std::alloc::dealloc(self.extension, self.layout);
        }
    }
}

/// The first run of pages of `user` (page index, count) that the HAL describes with exactly
/// `elements` scatter/gather elements: physically contiguous pages merge, never across 4 GiB.
fn window(machine: &Machine, user: *const u8, pages: usize, elements: u32) -> (u32, u32) {
    let pfn = |i: usize| {
        machine
            .physical_address(user.wrapping_add(i * PAGE_SIZE))
            .unwrap()
            .0
            >> 12
    };
    let mut runs = 0;
    for i in 0..pages {
        let joins = i > 0 && pfn(i) == pfn(i - 1) + 1 && pfn(i) % (1 << 20) != 0;
        if !joins {
            runs += 1;
            if runs > elements {
                return (0, i as u32);
            }
        }
    }
    assert_eq!(runs, elements, "the buffer has too few elements");
    (0, pages as u32)
}

#[ddk_sys::ntapi]
fn pairs(transfers: u32, elements: Option<u32>) {
    let machine = Machine::new(MachineConfig {
        max_map_registers_per_adapter: 1024,
        total_map_registers: 2048,
        ..MachineConfig::default()
    });
    let _cpu = machine.enter();
    let pdo = machine.create_pdo("bench");
    let device = Device::attach(pdo.as_ptr());
    let hw = device.device.hw_extension();
    // Runs of scattered user memory are 1 to 3 pages long.
    let pages = elements.map_or(16, |n| 3 * n as usize + 16);
    let user = machine.user_alloc(pages * PAGE_SIZE, UserProt::ReadWrite);
    let chunk = elements.map(|n| window(&machine, user.as_ptr(), pages, n));
    let mut desc = VP_DEVICE_DESCRIPTION {
        ScatterGather: TRUE,
        Dma64BitAddresses: TRUE,
        MaximumLength: if elements.is_some() {
            (pages * PAGE_SIZE) as u32
        } else {
            1 << 16
        },
        ..Default::default()
    };
    let mut kept = Kept {
        list: null_mut(),
        elements: 0,
    };
    // SAFETY: exported C ABI, valid arguments throughout.
    unsafe {
        let adapter = VideoPortGetDmaAdapter(hw, &mut desc);
        assert!(!adapter.is_null());
        let mdl = VideoPortLockBuffer(
            hw,
            user.as_ptr().cast(),
            (pages * PAGE_SIZE) as u32,
            VP_LOCK_OPERATION::VpReadAccess,
        );
        assert!(!mdl.is_null());
        let context = (&mut kept as *mut Kept).cast();
        // Called through pointers, as a miniport image calls its imports.
        let start: unsafe extern "ntapi" fn(
            PVOID,
            PVP_DMA_ADAPTER,
            PVOID,
            ULONG,
            *mut ULONG,
            PEXECUTE_DMA,
            PVOID,
            BOOLEAN,
        ) -> VP_STATUS = std::hint::black_box(VideoPortStartDma);
        let complete: unsafe extern "ntapi" fn(
            PVOID,
            PVP_DMA_ADAPTER,
            PVP_SCATTER_GATHER_LIST,
            BOOLEAN,
        ) -> VP_STATUS = std::hint::black_box(VideoPortCompleteDma);
        let run = |i: u32| {
            let (mut length, offset) = match chunk {
                Some((first, count)) => (count * PAGE_SIZE as u32, first * PAGE_SIZE as u32),
                None => (2 * PAGE_SIZE as u32, (i % 8) * 512),
            };
            let requested = length;
            assert_eq!(
                start(
                    hw,
                    adapter,
                    mdl,
                    offset,
                    &mut length,
                    Some(keep_list),
                    context,
                    TRUE
                ),
                NO_ERROR
            );
            assert_eq!(length, requested, "the chunk was cut");
            let list = (*context.cast::<Kept>()).list;
            assert_eq!(complete(hw, adapter, list, TRUE), NO_ERROR);
        };
        for i in 0..16 {
            run(i);
        }
        let before = machine.pool_stats().allocations_total;
        (*context.cast::<Kept>()).elements = 0;
        for i in 0..transfers {
            run(i);
        }
        let allocations = machine.pool_stats().allocations_total - before;
        println!(
            "{transfers} transfers, {allocations} pool allocations (the simulated HAL's \
             scatter/gather lists included), {:.2} scatter/gather elements each",
            (*context.cast::<Kept>()).elements as f64 / f64::from(transfers.max(1))
        );
        VideoPortUnlockBuffer(hw, mdl);
        VideoPortPutDmaAdapter(hw, adapter);
    }
    drop(device);
    machine.user_free(user);
    machine.assert_clean();
}

/// A device with one status register: bit 0 set, cleared by writing 1.
struct Status;

impl PciDeviceModel for Status {
    fn vendor_id(&self) -> u16 {
        0x1af4
    }
    fn device_id(&self) -> u16 {
        0x10f1
    }
    fn bars(&self) -> Vec<BarSpec> {
        vec![BarSpec {
            kind: BarKind::Memory32,
            size: 4096,
        }]
    }
    fn has_interrupt(&self) -> bool {
        false
    }
    fn read(&mut self, _: &mut DeviceContext<'_>, _: usize, _: u64, _: u8) -> u64 {
        1
    }
    fn write(&mut self, _: &mut DeviceContext<'_>, _: usize, _: u64, _: u8, _: u64) {}
}

/// The miniport's DPC callback.
#[ddk_sys::ntapi]
unsafe extern "ntapi" fn count_dpc(_: PVOID, context: PVOID) {
    // SAFETY: the context is the loop's counter.
    unsafe { *(context as *mut u64) += 1 };
}

#[ddk_sys::ntapi]
fn isr(interrupts: u32) {
    const DIRQL: KIRQL = 5;
    let machine = Machine::new(MachineConfig::default());
    let _cpu = machine.enter();
    let pdo = machine.plug_pci_device(Box::new(Status));
    let (_, bar0, size) = machine.pci_bar(pdo, 0).expect("BAR0");
    let device = Device::attach(pdo.as_ptr());
    let hw = device.device.hw_extension();
    let mut dpcs = 0u64;
    // SAFETY: maps the device's own BAR; unmapped below.
    let base = unsafe {
        MmMapIoSpace(
            PHYSICAL_ADDRESS::new(bar0),
            size as SIZE_T,
            MEMORY_CACHING_TYPE::MmNonCached,
        )
    };
    assert!(!base.is_null());
    let status = base.cast::<u32>();
    // Called through pointers, as a miniport image calls its imports: the compiler may not
    // inline an export into the workload.
    let read: unsafe extern "ntapi" fn(*mut u32) -> u32 =
        std::hint::black_box(VideoPortReadRegisterUlong);
    let write: unsafe extern "ntapi" fn(*mut u32, u32) =
        std::hint::black_box(VideoPortWriteRegisterUlong);
    let queue_dpc: unsafe extern "ntapi" fn(PVOID, PMINIPORT_DPC_ROUTINE, PVOID) -> BOOLEAN =
        std::hint::black_box(VideoPortQueueDpc);
    let mut interrupt = || {
        // SAFETY: what an ISR does at DIRQL with a register from its BAR; then back to
        // PASSIVE_LEVEL and the DPC runs.
        unsafe {
            let old = KeRaiseIrql(DIRQL);
            let bits = read(status);
            write(status, bits);
            assert_eq!(
                queue_dpc(hw, Some(count_dpc), (&mut dpcs as *mut u64).cast()),
                TRUE
            );
            KeLowerIrql(old);
        }
        machine.run_until_idle();
    };
    for _ in 0..16 {
        interrupt();
    }
    for _ in 0..interrupts {
        interrupt();
    }
    assert_eq!(dpcs, 16 + u64::from(interrupts));
    println!("{interrupts} interrupts, {dpcs} DPCs");
    // SAFETY: the mapping made above.
    unsafe { MmUnmapIoSpace(base, size as SIZE_T) };
    drop(device);
    machine.assert_clean();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: u32| -> u32 {
        args.get(i)
            .map(|n| n.parse().expect("a number"))
            .unwrap_or(default)
    };
    match args.first().map(String::as_str) {
        Some("pairs") => pairs(number(1, 1000), args.get(2).map(|_| number(2, 0))),
        Some("isr") => isr(number(1, 1000)),
        Some("names") => {
            for (_, name) in ntsim::kernel_exports::names() {
                println!("{name}");
            }
        }
        // The old command line: a number of pairs.
        Some(n) if n.parse::<u32>().is_ok() => pairs(number(0, 1000), None),
        _ => {
            eprintln!("usage: transfer_cost pairs|isr|names [N] [ELEMENTS]");
            std::process::exit(2);
        }
    }
}
