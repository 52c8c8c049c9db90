//! Random sequences of videoprt-rs's exported DMA, pool, event and spin-lock calls on ntsim, made the way a
//! miniport makes them (the exported C ABI), with live, stale (already released), foreign
//! (another device's) and made-up handles and device extensions, at raised IRQLs, with ntsim
//! failing a chosen pool, MDL, adapter, scatter/gather or common-buffer request.
//!
//! Each input gets a fresh machine with two devices attached as AddDevice attaches them (the
//! second one owns the "foreign" adapter and MDL). Checks: no crash (under AddressSanitizer);
//! every transfer that completes is byte-exact (a bus-master device reads or writes each
//! scatter/gather element through ntsim's IOMMU view); after the sequence the IRQL goes back
//! to PASSIVE_LEVEL, the pool blocks still held are freed, and the devices are removed
//! (`PortDevice::detach` reclaims what is left, reporting it): then nothing may be left
//! allocated. Reports of misuse are expected and fine.
#![no_main]

use arbitrary::Arbitrary;
use core::ptr::{null_mut, NonNull};
use ddk_sys::*;
use libfuzzer_sys::fuzz_target;
use ntsim::fault::FaultKind;
use ntsim::{BusAddress, Machine, MachineConfig, Placement, UserBuffer, UserProt};
use std::alloc::Layout;
use std::sync::Mutex;
use videoprt::device::PortDevice;
use videoprt::dma::adapter::{VideoPortGetDmaAdapter, VideoPortPutDmaAdapter};
use videoprt::dma::common_buffer::{VideoPortAllocateCommonBuffer, VideoPortReleaseCommonBuffer};
use videoprt::dma::complete::VideoPortCompleteDma;
use videoprt::dma::lock::{VideoPortLockBuffer, VideoPortUnlockBuffer};
use videoprt::dma::start::VideoPortStartDma;
use videoprt::port::event::{
    VideoPortClearEvent, VideoPortCreateEvent, VideoPortDeleteEvent, VideoPortReadStateEvent,
    VideoPortSetEvent, VideoPortWaitForSingleObject,
};
use videoprt::port::pool::{VideoPortAllocatePool, VideoPortFreePool};
use videoprt::port::spin_lock::{
    VideoPortAcquireSpinLock, VideoPortAcquireSpinLockAtDpcLevel, VideoPortCreateSpinLock,
    VideoPortDeleteSpinLock, VideoPortReleaseSpinLock, VideoPortReleaseSpinLockFromDpcLevel,
};

const HW_EXTENSION_SIZE: u32 = 64;
const MAX_OPS: usize = 24;
const MAX_BUFFER: usize = 5 * 4096;
const MAX_ROUNDS: usize = 64;

/// A handle argument.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Handle {
    /// One this device holds now (by index, wrapping).
    Live(u8),
    /// One it released earlier.
    Stale(u8),
    /// One the other device holds.
    Foreign,
    /// A made-up value.
    Garbage(u64),
    Null,
}

/// The `HwDeviceExtension` argument.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Device {
    Mine,
    Mine2,
    Mine3,
    Other,
    Garbage(u64),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Fault {
    Pool,
    Mdl,
    Adapter,
    ScatterGather,
    CommonBuffer,
}

#[derive(Arbitrary, Debug)]
enum Op {
    GetAdapter {
        dev: Device,
        scatter_gather: bool,
        dma64: bool,
        maximum_length: u32,
    },
    PutAdapter {
        dev: Device,
        adapter: Handle,
    },
    AllocateCommon {
        dev: Device,
        adapter: Handle,
        length: u16,
    },
    ReleaseCommon {
        dev: Device,
        adapter: Handle,
        buffer: Handle,
        /// Pass a wrong length.
        wrong_length: bool,
    },
    Lock {
        dev: Device,
        length: u16,
        offset: u16,
        to_device: bool,
    },
    Unlock {
        dev: Device,
        mdl: Handle,
    },
    /// A whole packet transfer on a live adapter and MDL: the StartDma/CompleteDma loop, the
    /// device moving each element; checked byte for byte.
    Transfer {
        adapter: u8,
        mdl: u8,
    },
    /// One StartDma with any arguments; its list (if delivered) stays outstanding.
    Start {
        dev: Device,
        adapter: Handle,
        mdl: Handle,
        offset: u16,
        length: u16,
        to_device: bool,
    },
    Complete {
        dev: Device,
        adapter: Handle,
        list: Handle,
        to_device: bool,
    },
    AllocatePool {
        dev: Device,
        length: u16,
    },
    FreePool {
        dev: Device,
        block: Handle,
    },
    /// VideoPortCreateEvent with any flags (undefined bits are refused).
    CreateEvent {
        dev: Device,
        flags: u8,
    },
    /// Set, Clear, ReadState, a zero-timeout wait, or Delete, on any event handle.
    Event {
        dev: Device,
        event: Handle,
        what: EventCall,
    },
    CreateSpinLock {
        dev: Device,
    },
    /// Acquire then release (the plain or the at-DPC-level pair) on any lock handle, or
    /// delete it.
    SpinLock {
        dev: Device,
        lock: Handle,
        what: LockCall,
    },
    /// KeRaiseIrql to APC_LEVEL, DISPATCH_LEVEL or a device IRQL.
    Raise(u8),
    /// KeLowerIrql back to where the last Raise started.
    Lower,
    Fault {
        kind: Fault,
        nth: u8,
    },
    /// Runs what is pending (DPCs, deferred scatter/gather callbacks) at PASSIVE_LEVEL.
    Idle,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum EventCall {
    Set,
    Clear,
    ReadState,
    WaitNoTimeout,
    Delete,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum LockCall {
    AcquireRelease,
    AtDpcLevel,
    Delete,
}

#[derive(Arbitrary, Debug)]
struct Input {
    user_memory_high: bool,
    map_registers: u8,
    ops: Vec<Op>,
}

/// Lists HwVidExecuteDma received, in order: (adapter, list, elements, context).
type Delivered = (usize, usize, Vec<(BusAddress, u32)>, usize);
static DELIVERED: Mutex<Vec<Delivered>> = Mutex::new(Vec::new());

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn execute(
    _hw: PVOID,
    adapter: PVP_DMA_ADAPTER,
    list: PVP_SCATTER_GATHER_LIST,
    context: PVOID,
) {
    // SAFETY: the port passes the list the HAL built, valid until CompleteDma.
    let elements = unsafe {
        let n = (*list).NumberOfElements as usize;
        let first = core::ptr::addr_of!((*list).Elements).cast::<VP_SCATTER_GATHER_ELEMENT>();
        (0..n)
            .map(|i| *first.add(i))
            .map(|e| (BusAddress(e.Address.get()), e.Length))
            .collect()
    };
    DELIVERED
        .lock()
        .unwrap()
        .push((adapter as usize, list as usize, elements, context as usize));
}

/// A device as AddDevice attaches it: its port extension in host memory.
struct Attached {
    pdo: ntsim::Pdo,
    device: Option<&'static PortDevice>,
    memory: *mut u8,
    layout: Layout,
}

impl Attached {
    fn new(machine: &Machine, name: &str) -> Attached {
        let pdo = machine.create_pdo(name);
        let layout =
            Layout::from_size_align(PortDevice::extension_size(HW_EXTENSION_SIZE), 16).unwrap();
        // SAFETY: non-zero size.
        let memory = unsafe { std::alloc::alloc_zeroed(layout) };
        let at = NonNull::new(memory.cast::<PortDevice>()).expect("host allocation");
        // SAFETY: 16-aligned, zeroed, large enough, freed only after detach (in Drop).
        let device = unsafe { PortDevice::attach(at, pdo.as_ptr(), null_mut(), HW_EXTENSION_SIZE) };
        Attached {
            pdo,
            device: Some(device),
            memory,
            layout,
        }
    }

    fn hw(&self) -> PVOID {
        self.device.expect("attached").hw_extension()
    }

    /// Device removal: the port reclaims what the miniport left.
    fn detach(&mut self) {
        if let Some(device) = self.device.take() {
            // SAFETY: no other call on this device runs or follows.
            unsafe { device.detach() };
        }
    }
}

impl Drop for Attached {
    fn drop(&mut self) {
        self.detach();
        // SAFETY: allocated in `new` with this layout; the device is detached.
        unsafe { std::alloc::dealloc(self.memory, self.layout) };
    }
}

/// Live and released handles of one kind.
struct Pool<T: Copy> {
    live: Vec<T>,
    stale: Vec<T>,
}

impl<T: Copy> Default for Pool<T> {
    fn default() -> Self {
        Pool {
            live: Vec::new(),
            stale: Vec::new(),
        }
    }
}

impl<T: Copy> Pool<T> {
    fn pick(&self, h: Handle, key: impl Fn(&T) -> usize, foreign: usize) -> (usize, Option<usize>) {
        match h {
            Handle::Live(i) if !self.live.is_empty() => {
                let i = i as usize % self.live.len();
                (key(&self.live[i]), Some(i))
            }
            Handle::Stale(i) if !self.stale.is_empty() => {
                (key(&self.stale[i as usize % self.stale.len()]), None)
            }
            Handle::Live(_) | Handle::Stale(_) | Handle::Null => (0, None),
            Handle::Foreign => (foreign, None),
            Handle::Garbage(g) => (g as usize, None),
        }
    }

    fn release(&mut self, i: usize) -> T {
        let t = self.live.swap_remove(i);
        self.stale.push(t);
        t
    }
}

#[derive(Clone, Copy)]
struct Locked {
    mdl: usize,
    /// Index into the user buffers.
    buffer: usize,
    offset: usize,
    length: usize,
    to_device: bool,
}

#[derive(Clone, Copy)]
struct Common {
    adapter: usize,
    va: usize,
    logical: i64,
    length: u32,
}

struct World {
    machine: Machine,
    mine: Attached,
    other: Attached,
    foreign_adapter: usize,
    foreign_mdl: usize,
    adapters: Pool<usize>,
    mdls: Pool<Locked>,
    commons: Pool<Common>,
    lists: Pool<(usize, usize)>,
    /// (HwDeviceExtension, block).
    blocks: Pool<(usize, usize)>,
    events: Pool<usize>,
    locks: Pool<usize>,
    foreign_event: usize,
    foreign_lock: usize,
    users: Vec<UserBuffer>,
    irqls: Vec<KIRQL>,
    /// The context of the last transfer's StartDma (its delivery is told apart by it).
    token: usize,
}

impl World {
    fn hw(&self, d: Device) -> PVOID {
        match d {
            Device::Mine | Device::Mine2 | Device::Mine3 => self.mine.hw(),
            Device::Other => self.other.hw(),
            Device::Garbage(g) => g as PVOID,
        }
    }

    fn passive(&self) -> bool {
        self.irqls.is_empty()
    }

    /// Takes the lists delivered since the last call into the outstanding set.
    fn collect_deliveries(&mut self) -> Vec<Delivered> {
        let delivered = std::mem::take(&mut *DELIVERED.lock().unwrap());
        for (adapter, list, _, _) in &delivered {
            self.lists.live.push((*adapter, *list));
        }
        delivered
    }

    fn get_adapter(&mut self, hw: PVOID, scatter_gather: bool, dma64: bool, max: u32) {
        let mut desc = VP_DEVICE_DESCRIPTION {
            ScatterGather: scatter_gather as u8,
            Dma32BitAddresses: (!dma64) as u8,
            Dma64BitAddresses: dma64 as u8,
            MaximumLength: max,
        };
        // SAFETY: exported C ABI with a valid description.
        let adapter = unsafe { VideoPortGetDmaAdapter(hw, &mut desc) };
        if !adapter.is_null() && hw == self.mine.hw() {
            self.adapters.live.push(adapter as usize);
        }
    }

    fn lock(&mut self, hw: PVOID, length: usize, offset: usize, to_device: bool) -> usize {
        let buffer = self.users.len();
        let user = self
            .machine
            .user_alloc(offset + length.max(1), UserProt::ReadWrite);
        user.write(0, &pattern(offset + length.max(1), buffer as u64));
        let va = user.as_ptr() as usize + offset;
        self.users.push(user);
        let operation = if to_device {
            VP_LOCK_OPERATION::VpReadAccess
        } else {
            VP_LOCK_OPERATION::VpWriteAccess
        };
        // SAFETY: exported C ABI; the range lies in a live user buffer (or is refused).
        let mdl = unsafe { VideoPortLockBuffer(hw, va as PVOID, length as u32, operation) };
        if !mdl.is_null() && hw == self.mine.hw() {
            self.mdls.live.push(Locked {
                mdl: mdl as usize,
                buffer,
                offset,
                length,
                to_device,
            });
        }
        mdl as usize
    }

    /// The StartDma/CompleteDma loop over a whole locked buffer, the device moving each element.
    fn transfer(&mut self, adapter: usize, locked: Locked) {
        let view = self.machine.device_view(self.mine.pdo);
        let user = self.users[locked.buffer].to_vec();
        let source = user[locked.offset..][..locked.length].to_vec();
        let from_device = pattern(locked.length, 77);
        let mut moved = Vec::new();
        let mut offset = 0usize;
        // At most this many StartDma/CompleteDma rounds (an adapter with a MaximumLength of a
        // few bytes would need thousands): the bytes moved by then are checked.
        let mut rounds = 0;
        while offset < locked.length && rounds < MAX_ROUNDS {
            rounds += 1;
            self.collect_deliveries();
            self.token += 1;
            let token = self.token;
            let mut length = (locked.length - offset) as u32;
            // SAFETY: exported C ABI: a live adapter and MDL of this device, a live variable.
            let status = unsafe {
                VideoPortStartDma(
                    self.mine.hw(),
                    adapter as PVP_DMA_ADAPTER,
                    locked.mdl as PVOID,
                    offset as u32,
                    &mut length,
                    Some(execute),
                    token as PVOID,
                    locked.to_device as u8,
                )
            };
            if status != NO_ERROR {
                return;
            }
            if self.passive() {
                self.machine.run_until_idle();
            }
            let delivered = self.collect_deliveries();
            let Some((_, list, elements, _)) = delivered.into_iter().find(|d| d.3 == token) else {
                // Deferred (no map registers free now): it stays outstanding.
                return;
            };
            let listed: u64 = elements.iter().map(|e| u64::from(e.1)).sum();
            assert_eq!(
                listed,
                u64::from(length),
                "the list covers exactly *pLength"
            );
            let mut at = offset;
            for (address, bytes) in elements {
                let bytes = bytes as usize;
                if locked.to_device {
                    let mut chunk = vec![0; bytes];
                    view.read(address, &mut chunk)
                        .expect("the device reads a listed element");
                    moved.extend_from_slice(&chunk);
                } else {
                    view.write(address, &from_device[at..at + bytes])
                        .expect("the device writes a listed element");
                }
                at += bytes;
            }
            // SAFETY: exported C ABI: the list HwVidExecuteDma got.
            let status = unsafe {
                VideoPortCompleteDma(
                    self.mine.hw(),
                    adapter as PVP_DMA_ADAPTER,
                    list as PVP_SCATTER_GATHER_LIST,
                    locked.to_device as u8,
                )
            };
            assert_eq!(status, NO_ERROR, "CompleteDma of a delivered list");
            self.lists.live.retain(|l| l.1 != list);
            self.lists.stale.push((adapter, list));
            offset += length as usize;
        }
        if locked.to_device {
            assert!(moved == source[..offset], "the device read different bytes");
        } else {
            let landed = self.users[locked.buffer].to_vec();
            assert!(
                landed[locked.offset..][..offset] == from_device[..offset],
                "memory received different bytes"
            );
        }
    }
}

fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn run(input: &Input) {
    let placement = if input.user_memory_high {
        Placement::Above4G
    } else {
        Placement::Interleaved
    };
    let machine = Machine::new(MachineConfig {
        user_memory: placement,
        max_map_registers_per_adapter: u32::from(input.map_registers % 32) + 1,
        ..MachineConfig::default()
    });
    let _cpu = machine.enter();
    DELIVERED.lock().unwrap().clear();
    let mine = Attached::new(&machine, "fuzzed bus master");
    let other = Attached::new(&machine, "other bus master");
    let mut world = World {
        machine: machine.clone(),
        mine,
        other,
        foreign_adapter: 0,
        foreign_mdl: 0,
        adapters: Pool::default(),
        mdls: Pool::default(),
        commons: Pool::default(),
        lists: Pool::default(),
        blocks: Pool::default(),
        events: Pool::default(),
        locks: Pool::default(),
        foreign_event: 0,
        foreign_lock: 0,
        users: Vec::new(),
        irqls: Vec::new(),
        token: 0,
    };
    // The other device's adapter and locked buffer: the foreign handles.
    let other_hw = world.other.hw();
    let mut desc = VP_DEVICE_DESCRIPTION {
        ScatterGather: 1,
        Dma32BitAddresses: 1,
        Dma64BitAddresses: 0,
        MaximumLength: 1 << 16,
    };
    // SAFETY: exported C ABI with a valid description.
    world.foreign_adapter = unsafe { VideoPortGetDmaAdapter(other_hw, &mut desc) } as usize;
    world.foreign_mdl = world.lock(other_hw, 100, 10, true);
    let mut event: PEVENT = null_mut();
    // SAFETY: exported C ABI; a live output variable.
    unsafe { VideoPortCreateEvent(other_hw, 0, null_mut(), &mut event) };
    world.foreign_event = event as usize;
    let mut lock: PSPIN_LOCK = null_mut();
    // SAFETY: as above.
    unsafe { VideoPortCreateSpinLock(other_hw, &mut lock) };
    world.foreign_lock = lock as usize;

    for op in input.ops.iter().take(MAX_OPS) {
        match *op {
            Op::GetAdapter {
                dev,
                scatter_gather,
                dma64,
                maximum_length,
            } => world.get_adapter(world.hw(dev), scatter_gather, dma64, maximum_length),
            Op::PutAdapter { dev, adapter } => {
                let (a, live) = world.adapters.pick(adapter, |a| *a, world.foreign_adapter);
                let hw = world.hw(dev);
                // SAFETY: exported C ABI; any arguments are accepted.
                unsafe { VideoPortPutDmaAdapter(hw, a as PVP_DMA_ADAPTER) };
                if let (Some(i), true, true) = (live, hw == world.mine.hw(), world.passive()) {
                    world.adapters.release(i);
                }
            }
            Op::AllocateCommon {
                dev,
                adapter,
                length,
            } => {
                let (a, _) = world.adapters.pick(adapter, |a| *a, world.foreign_adapter);
                let hw = world.hw(dev);
                let mut logical = PHYSICAL_ADDRESS(0);
                // SAFETY: exported C ABI; a live output variable.
                let va = unsafe {
                    VideoPortAllocateCommonBuffer(
                        hw,
                        a as PVP_DMA_ADAPTER,
                        u32::from(length),
                        &mut logical,
                        FALSE,
                        null_mut(),
                    )
                };
                if !va.is_null() {
                    // SAFETY: the port returned `length` bytes of common buffer.
                    unsafe { core::ptr::write_bytes(va.cast::<u8>(), 0xA5, length as usize) };
                    world.commons.live.push(Common {
                        adapter: a,
                        va: va as usize,
                        logical: logical.0,
                        length: u32::from(length),
                    });
                }
            }
            Op::ReleaseCommon {
                dev,
                adapter,
                buffer,
                wrong_length,
            } => {
                let (_, live) = world.commons.pick(buffer, |c| c.va, 0);
                let common = match (live, buffer) {
                    (Some(i), _) => world.commons.live[i],
                    (None, Handle::Stale(i)) if !world.commons.stale.is_empty() => {
                        world.commons.stale[i as usize % world.commons.stale.len()]
                    }
                    (None, Handle::Garbage(g)) => Common {
                        adapter: g as usize,
                        va: g.rotate_left(17) as usize,
                        logical: g as i64,
                        length: g as u32,
                    },
                    _ => Common {
                        adapter: 0,
                        va: 0,
                        logical: 0,
                        length: 0,
                    },
                };
                let (a, _) = match adapter {
                    Handle::Live(_) => (common.adapter, None),
                    other => world.adapters.pick(other, |a| *a, world.foreign_adapter),
                };
                let hw = world.hw(dev);
                let length = common.length.wrapping_add(u32::from(wrong_length));
                // SAFETY: exported C ABI; any arguments are accepted.
                unsafe {
                    VideoPortReleaseCommonBuffer(
                        hw,
                        a as PVP_DMA_ADAPTER,
                        length,
                        PHYSICAL_ADDRESS(common.logical),
                        common.va as PVOID,
                        FALSE,
                    )
                };
                let exact = hw == world.mine.hw() && a == common.adapter && !wrong_length;
                if let (Some(i), true, true) = (live, exact, world.passive()) {
                    world.commons.release(i);
                }
            }
            Op::Lock {
                dev,
                length,
                offset,
                to_device,
            } => {
                let hw = world.hw(dev);
                world.lock(
                    hw,
                    length as usize % MAX_BUFFER,
                    offset as usize % 4096,
                    to_device,
                );
            }
            Op::Unlock { dev, mdl } => {
                let (m, live) = world.mdls.pick(mdl, |l| l.mdl, world.foreign_mdl);
                let hw = world.hw(dev);
                let outstanding = !world.lists.live.is_empty();
                // SAFETY: exported C ABI; any arguments are accepted.
                unsafe { VideoPortUnlockBuffer(hw, m as PVOID) };
                // With a list outstanding the port may refuse; keep the MDL as live then.
                if let (Some(i), true, false) = (live, hw == world.mine.hw(), outstanding) {
                    if KeGetCurrentIrql() <= DISPATCH_LEVEL {
                        world.mdls.release(i);
                    }
                }
            }
            Op::Transfer { adapter, mdl } => {
                if world.adapters.live.is_empty() || world.mdls.live.is_empty() {
                    continue;
                }
                if KeGetCurrentIrql() > DISPATCH_LEVEL {
                    continue;
                }
                let a = world.adapters.live[adapter as usize % world.adapters.live.len()];
                let m = world.mdls.live[mdl as usize % world.mdls.live.len()];
                if m.length == 0 {
                    continue;
                }
                world.transfer(a, m);
            }
            Op::Start {
                dev,
                adapter,
                mdl,
                offset,
                length,
                to_device,
            } => {
                let (a, _) = world.adapters.pick(adapter, |a| *a, world.foreign_adapter);
                let (m, _) = world.mdls.pick(mdl, |l| l.mdl, world.foreign_mdl);
                let hw = world.hw(dev);
                let mut length = u32::from(length);
                // SAFETY: exported C ABI; a live length variable; the rest is checked.
                unsafe {
                    VideoPortStartDma(
                        hw,
                        a as PVP_DMA_ADAPTER,
                        m as PVOID,
                        u32::from(offset),
                        &mut length,
                        Some(execute),
                        null_mut(),
                        to_device as u8,
                    )
                };
                if world.passive() {
                    world.machine.run_until_idle();
                }
                world.collect_deliveries();
            }
            Op::Complete {
                dev,
                adapter,
                list,
                to_device,
            } => {
                let (l, live) = world.lists.pick(list, |l| l.1, 0);
                let (a, _) = match (adapter, live) {
                    (Handle::Live(_), Some(i)) => (world.lists.live[i].0, None),
                    (h, _) => world.adapters.pick(h, |a| *a, world.foreign_adapter),
                };
                let hw = world.hw(dev);
                // SAFETY: exported C ABI; handles are checked before use.
                let status = unsafe {
                    VideoPortCompleteDma(
                        hw,
                        a as PVP_DMA_ADAPTER,
                        l as PVP_SCATTER_GATHER_LIST,
                        to_device as u8,
                    )
                };
                if let (Some(i), true) = (live, status == NO_ERROR) {
                    world.lists.release(i);
                }
            }
            Op::AllocatePool { dev, length } => {
                let hw = world.hw(dev);
                // SAFETY: exported C ABI.
                let p = unsafe {
                    VideoPortAllocatePool(
                        hw,
                        VP_POOL_TYPE::VpNonPagedPool,
                        length as usize,
                        u32::from_le_bytes(*b"Fuzz"),
                    )
                };
                if !p.is_null() {
                    // SAFETY: the port returned `length` bytes of pool.
                    unsafe { core::ptr::write_bytes(p.cast::<u8>(), 0x5A, length as usize) };
                    if hw == world.mine.hw() || hw == world.other.hw() {
                        world.blocks.live.push((hw as usize, p as usize));
                    }
                }
            }
            Op::FreePool { dev, block } => {
                let (p, live) = world.blocks.pick(block, |b| b.1, 0);
                let hw = world.hw(dev);
                // SAFETY: exported C ABI; the block is checked before use.
                unsafe { VideoPortFreePool(hw, p as PVOID) };
                let owner = live.is_some_and(|i| world.blocks.live[i].0 == hw as usize);
                if let (Some(i), true, true) = (live, owner, KeGetCurrentIrql() <= DISPATCH_LEVEL) {
                    world.blocks.release(i);
                }
            }
            Op::CreateEvent { dev, flags } => {
                let hw = world.hw(dev);
                let mut event: PEVENT = null_mut();
                // SAFETY: exported C ABI; a live output variable.
                let status =
                    unsafe { VideoPortCreateEvent(hw, u32::from(flags), null_mut(), &mut event) };
                assert_eq!(
                    status == NO_ERROR,
                    !event.is_null(),
                    "an event iff NO_ERROR"
                );
                if !event.is_null() && hw == world.mine.hw() {
                    world.events.live.push(event as usize);
                }
            }
            Op::Event { dev, event, what } => {
                let (e, live) = world.events.pick(event, |e| *e, world.foreign_event);
                let hw = world.hw(dev);
                let e = e as PEVENT;
                // SAFETY: exported C ABI; handles are looked up before use.
                unsafe {
                    match what {
                        EventCall::Set => {
                            VideoPortSetEvent(hw, e);
                        }
                        EventCall::Clear => VideoPortClearEvent(hw, e),
                        EventCall::ReadState => {
                            VideoPortReadStateEvent(hw, e);
                        }
                        EventCall::WaitNoTimeout => {
                            let mut zero = PHYSICAL_ADDRESS(0);
                            VideoPortWaitForSingleObject(hw, e.cast(), &mut zero);
                        }
                        EventCall::Delete => {
                            let status = VideoPortDeleteEvent(hw, e);
                            if let (Some(i), NO_ERROR) = (live, status) {
                                world.events.release(i);
                            }
                        }
                    }
                }
            }
            Op::CreateSpinLock { dev } => {
                let hw = world.hw(dev);
                let mut lock: PSPIN_LOCK = null_mut();
                // SAFETY: exported C ABI; a live output variable.
                let status = unsafe { VideoPortCreateSpinLock(hw, &mut lock) };
                assert_eq!(status == NO_ERROR, !lock.is_null(), "a lock iff NO_ERROR");
                if !lock.is_null() && hw == world.mine.hw() {
                    world.locks.live.push(lock as usize);
                }
            }
            Op::SpinLock { dev, lock, what } => {
                let (l, live) = world.locks.pick(lock, |l| *l, world.foreign_lock);
                let hw = world.hw(dev);
                let l = l as PSPIN_LOCK;
                let before = KeGetCurrentIrql();
                // SAFETY: exported C ABI; handles are looked up before use. A refused acquire
                // is followed by a release the port refuses the same way.
                unsafe {
                    match what {
                        LockCall::AcquireRelease => {
                            let mut old = 0u8;
                            VideoPortAcquireSpinLock(hw, l, &mut old);
                            VideoPortReleaseSpinLock(hw, l, old);
                        }
                        LockCall::AtDpcLevel => {
                            VideoPortAcquireSpinLockAtDpcLevel(hw, l);
                            VideoPortReleaseSpinLockFromDpcLevel(hw, l);
                        }
                        LockCall::Delete => {
                            let status = VideoPortDeleteSpinLock(hw, l);
                            if let (Some(i), NO_ERROR) = (live, status) {
                                world.locks.release(i);
                            }
                        }
                    }
                }
                assert_eq!(KeGetCurrentIrql(), before, "the IRQL is back where it was");
            }
            Op::Raise(level) => {
                let to = match level % 3 {
                    0 => APC_LEVEL,
                    1 => DISPATCH_LEVEL,
                    _ => 5 + level % 8,
                };
                let current = KeGetCurrentIrql();
                if to >= current {
                    // SAFETY: raising from the current IRQL; lowered in order below.
                    world.irqls.push(unsafe { KeRaiseIrql(to) });
                }
            }
            Op::Lower => {
                if let Some(back) = world.irqls.pop() {
                    // SAFETY: back to the IRQL the matching raise started from.
                    unsafe { KeLowerIrql(back) };
                }
            }
            Op::Fault { kind, nth } => {
                let kind = match kind {
                    Fault::Pool => FaultKind::PoolAllocation,
                    Fault::Mdl => FaultKind::MdlAllocation,
                    Fault::Adapter => FaultKind::AdapterRequest,
                    Fault::ScatterGather => FaultKind::ScatterGatherList,
                    Fault::CommonBuffer => FaultKind::CommonBuffer,
                };
                world.machine.fail_nth(kind, u64::from(nth % 4) + 1);
            }
            Op::Idle => {
                if world.passive() {
                    world.machine.run_until_idle();
                    world.collect_deliveries();
                }
            }
        }
    }
    // Back to PASSIVE_LEVEL, pending work run, pool handed back; then removal.
    while let Some(back) = world.irqls.pop() {
        // SAFETY: as in Op::Lower.
        unsafe { KeLowerIrql(back) };
    }
    world.machine.run_until_idle();
    world.collect_deliveries();
    for (hw, p) in std::mem::take(&mut world.blocks.live) {
        // SAFETY: exported C ABI; a block this device allocated and has not freed.
        unsafe { VideoPortFreePool(hw as PVOID, p as PVOID) };
    }
    world.mine.detach();
    world.other.detach();
    for user in world.users.drain(..) {
        world.machine.user_free(user);
    }
    world.machine.run_until_idle();
    let leaks = world.machine.leaks();
    assert!(leaks.is_empty(), "left after removal:\n{leaks}");
    world.machine.take_violations();
}

fuzz_target!(|input: Input| run(&input));
