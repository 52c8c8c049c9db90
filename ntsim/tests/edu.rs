//! The edu device model against QEMU's `docs/specs/edu.rst`: registers, the DMA engine through
//! the IOMMU-style view, the DMA mask applied as QEMU applies it, and interrupts.

use ddk_sys::*;
use ntsim::devices::edu::{self, Edu};
use ntsim::verifier::bugcheck;
use ntsim::{Machine, MachineConfig, Pdo, Placement};

#[ddk_sys::ntapi]
extern "ntapi" {
    // ntsim's host stand-ins for READ_REGISTER_* / WRITE_REGISTER_*.
    fn NtsimReadRegister(address: usize, size: u8) -> u64;
    fn NtsimWriteRegister(address: usize, size: u8, value: u64);
}

struct Bench {
    machine: Machine,
    pdo: Pdo,
    bar0: usize,
    _guard: ntsim::EnterGuard,
}

impl Bench {
    fn new(config: MachineConfig, dma_mask: u64) -> Bench {
        let machine = Machine::new(config);
        let guard = machine.enter();
        let pdo = machine.plug_pci_device(Box::new(Edu::new(dma_mask)));
        let (_, base, size) = machine.pci_bar(pdo, 0).expect("BAR0");
        assert_eq!(size, edu::BAR0_SIZE);
        // SAFETY: mapping the device's own BAR.
        let bar0 = unsafe {
            MmMapIoSpace(
                PHYSICAL_ADDRESS::new(base),
                size as usize,
                MEMORY_CACHING_TYPE::MmNonCached,
            )
        };
        assert!(!bar0.is_null());
        Bench {
            machine,
            pdo,
            bar0: bar0 as usize,
            _guard: guard,
        }
    }

    fn read(&self, offset: u64) -> u32 {
        // SAFETY: an address inside the mapped BAR0; ntsim routes it to the model.
        unsafe { NtsimReadRegister(self.bar0 + offset as usize, 4) as u32 }
    }

    fn write(&self, offset: u64, value: u32) {
        // SAFETY: as above.
        unsafe { NtsimWriteRegister(self.bar0 + offset as usize, 4, value.into()) };
    }

    fn edu<R>(&self, f: impl FnOnce(&mut Edu) -> R) -> R {
        self.machine.with_pci_model::<Edu, R>(self.pdo, f)
    }

    /// A common buffer for the device (its own 32-bit adapter) of one page.
    fn common_buffer(&self) -> (*mut DMA_ADAPTER, *mut u8, u64) {
        let mut desc = DEVICE_DESCRIPTION {
            Version: DEVICE_DESCRIPTION_VERSION2,
            Master: TRUE,
            ScatterGather: TRUE,
            Dma32BitAddresses: TRUE,
            InterfaceType: INTERFACE_TYPE::PCIBus,
            MaximumLength: 4096,
            ..Default::default()
        };
        let mut registers = 0;
        let mut logical = PHYSICAL_ADDRESS::default();
        // SAFETY: HAL calls with valid arguments at PASSIVE_LEVEL.
        unsafe {
            let adapter = IoGetDmaAdapter(self.pdo.as_ptr(), &mut desc, &mut registers);
            let va = (*(*adapter).DmaOperations).AllocateCommonBuffer.unwrap()(
                adapter,
                4096,
                &mut logical,
                FALSE,
            );
            (adapter, va.cast(), logical.get())
        }
    }

    fn free_common_buffer(&self, adapter: *mut DMA_ADAPTER, va: *mut u8, logical: u64) {
        // SAFETY: the values of the allocation above.
        unsafe {
            let ops = &*(*adapter).DmaOperations;
            ops.FreeCommonBuffer.unwrap()(
                adapter,
                4096,
                PHYSICAL_ADDRESS::new(logical),
                va.cast(),
                FALSE,
            );
            ops.PutDmaAdapter.unwrap()(adapter);
        }
    }

    fn dma(&self, source: u64, destination: u64, count: u32, command: u64) {
        self.write(edu::reg::DMA_SOURCE, source as u32);
        self.write(edu::reg::DMA_DESTINATION, destination as u32);
        self.write(edu::reg::DMA_COUNT, count);
        self.write(edu::reg::DMA_COMMAND, command as u32);
    }
}

impl Drop for Bench {
    /// Unmaps BAR0, as a driver does before its device goes (Miri checks nothing leaks).
    fn drop(&mut self) {
        // SAFETY: the mapping `new` made, unmapped once with its size.
        unsafe { MmUnmapIoSpace(self.bar0 as PVOID, edu::BAR0_SIZE as usize) };
    }
}

#[test]
fn identification_liveness_and_factorial_follow_the_spec() {
    let b = Bench::new(MachineConfig::default(), edu::DEFAULT_DMA_MASK);
    assert_eq!(b.read(edu::reg::IDENTIFICATION), 0x0100_00ed);
    b.write(edu::reg::LIVENESS, 0x1234_5678);
    assert_eq!(b.read(edu::reg::LIVENESS), !0x1234_5678);
    b.write(edu::reg::FACTORIAL, 10);
    assert_eq!(
        b.read(edu::reg::STATUS) & edu::status::COMPUTING,
        edu::status::COMPUTING,
        "busy until time passes"
    );
    b.machine.run_until_idle();
    assert_eq!(b.read(edu::reg::STATUS) & edu::status::COMPUTING, 0);
    assert_eq!(b.read(edu::reg::FACTORIAL), 3_628_800);
    assert!(b.machine.violations().is_empty());
}

#[test]
fn interrupt_raise_and_acknowledge_keep_the_status_register() {
    let b = Bench::new(MachineConfig::default(), edu::DEFAULT_DMA_MASK);
    b.write(edu::reg::INTERRUPT_RAISE, 0x30);
    b.write(edu::reg::INTERRUPT_RAISE, 0x01);
    assert_eq!(b.read(edu::reg::INTERRUPT_STATUS), 0x31);
    b.write(edu::reg::INTERRUPT_ACK, 0x10);
    assert_eq!(b.read(edu::reg::INTERRUPT_STATUS), 0x21);
    b.write(edu::reg::INTERRUPT_ACK, 0x21);
    assert_eq!(b.read(edu::reg::INTERRUPT_STATUS), 0);
    // No ISR is connected in this bench: the raised line was never serviced, which is fine.
    b.machine.take_violations();
}

#[test]
fn dma_moves_bytes_both_ways_and_raises_interrupt_0x100() {
    let config = MachineConfig {
        contiguous_memory: Placement::Below4G,
        ..MachineConfig::default()
    };
    let b = Bench::new(config, u32::MAX as u64);
    let (adapter, va, logical) = b.common_buffer();
    let data: Vec<u8> = (0..200u32).map(|i| (i * 7) as u8).collect();
    // SAFETY: the common buffer is a page.
    unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), va, data.len()) };
    b.dma(
        logical,
        edu::BUFFER_ADDRESS + 100,
        200,
        edu::command::START | edu::command::IRQ,
    );
    assert_eq!(
        u64::from(b.read(edu::reg::DMA_COMMAND)) & edu::command::START,
        edu::command::START,
        "running"
    );
    b.machine.run_until_idle();
    assert_eq!(
        u64::from(b.read(edu::reg::DMA_COMMAND)) & edu::command::START,
        0,
        "done"
    );
    assert_eq!(b.read(edu::reg::INTERRUPT_STATUS), edu::DMA_INTERRUPT);
    assert_eq!(b.edu(|e| e.buffer()[100..300].to_vec()), data);

    b.write(edu::reg::INTERRUPT_ACK, edu::DMA_INTERRUPT);
    // SAFETY: as above.
    unsafe { core::ptr::write_bytes(va, 0, 4096) };
    b.dma(
        edu::BUFFER_ADDRESS + 150,
        logical + 1000,
        50,
        edu::command::START | edu::command::TO_RAM,
    );
    b.machine.run_until_idle();
    // SAFETY: as above.
    let back = unsafe { std::slice::from_raw_parts(va.add(1000), 50) };
    assert_eq!(back, &data[50..100]);
    assert_eq!(
        b.read(edu::reg::INTERRUPT_STATUS),
        0,
        "no IRQ bit, no interrupt"
    );
    b.free_common_buffer(adapter, va, logical);
    b.machine.take_violations();
}

#[test]
fn default_28_bit_mask_truncates_addresses_above_256_mib_and_says_so() {
    let config = MachineConfig {
        contiguous_memory: Placement::Below4G,
        ..MachineConfig::default()
    };
    let b = Bench::new(config, edu::DEFAULT_DMA_MASK);
    let (adapter, va, logical) = b.common_buffer();
    assert!(
        logical > edu::DEFAULT_DMA_MASK,
        "this layout puts the buffer above 256 MiB ({logical:#x})"
    );
    b.dma(
        edu::BUFFER_ADDRESS,
        logical,
        64,
        edu::command::START | edu::command::TO_RAM,
    );
    b.machine.run_until_idle();
    let record = b.edu(|e| e.dma_log[0]);
    assert_eq!(record.programmed, logical);
    assert_eq!(
        record.used,
        logical & edu::DEFAULT_DMA_MASK,
        "QEMU masks the address"
    );
    let violations = b.machine.take_violations();
    assert!(
        violations
            .iter()
            .any(|v| v.bugcheck == bugcheck::DEVICE_MODEL_CHECK
                && v.code == edu::violation::EDU_DMA_TRUNCATED),
        "the truncation is reported: {violations:#?}"
    );
    assert!(
        !record.ok,
        "the truncated address is not mapped for the device: the IOMMU view refuses it"
    );
    b.free_common_buffer(adapter, va, logical);
}

#[test]
fn dma_outside_the_device_buffer_is_refused_and_reported() {
    let b = Bench::new(MachineConfig::default(), u32::MAX as u64);
    b.dma(0x1000, edu::BUFFER_ADDRESS + 4000, 200, edu::command::START);
    b.machine.run_until_idle();
    let violations = b.machine.take_violations();
    assert_eq!(violations.len(), 1, "{violations:#?}");
    assert_eq!(violations[0].code, edu::violation::EDU_DMA_OUT_OF_BUFFER);
    assert!(b.edu(|e| e.dma_log.is_empty()), "nothing moved");
}
