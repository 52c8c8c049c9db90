//! The port core end to end on ntsim: a Rust test miniport loads through DriverEntry →
//! VideoPortInitialize, is started through AddDevice → IRP_MN_START_DEVICE, maps its BAR,
//! answers IOCTLs from a user-mode client, takes an interrupt and a DPC, and is removed and
//! unloaded with nothing left behind.

mod port_support;

use ddk_sys::*;
use ntsim::{Machine, MachineConfig};
use port_support::*;
use videoprt::device::PortDevice;

fn u32_of(b: &[u8]) -> u32 {
    u32::from_le_bytes(b[..4].try_into().unwrap())
}

#[test]
fn miniport_loads_starts_answers_takes_an_interrupt_and_is_removed_clean() {
    let _s = serial();
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let pdo = machine.plug_pci_device(Box::new(TestDevice::default()));
    let driver = machine
        .load_driver("vprstest", driver_entry)
        .expect("DriverEntry");
    let node = machine.start_device(&driver, pdo).expect("START");
    assert!(LOG.lock().unwrap()[0].starts_with("find: irq level 16"));

    // The FDO is the port's, and its extension leads to the miniport's.
    let hw = LAST_HW.load(std::sync::atomic::Ordering::SeqCst) as PVOID;
    let device = PortDevice::from_fdo(node.top()).expect("port FDO");
    assert_eq!(device.hw_extension(), hw);

    let handle = machine.open(&node).expect("create");
    let mut id = [0u8; 4];
    assert_eq!(handle.ioctl(IOCTL_GET_ID, &[], &mut id), Ok(4));
    assert_eq!(u32_of(&id), ID);

    assert_eq!(
        handle.ioctl(IOCTL_SET_SCRATCH, &0xA5u32.to_le_bytes(), &mut []),
        Ok(0)
    );
    assert_eq!(
        machine.with_pci_model(pdo, |d: &mut TestDevice| (d.scratch, d.port0)),
        (0xA5, 0xA5)
    );

    // Doorbell → device event → line up → ISR at DIRQL → DPC at DISPATCH_LEVEL.
    assert_eq!(handle.ioctl(IOCTL_RING, &[], &mut []), Ok(0));
    machine.run_until_idle();
    let mut counts = [0u8; 12];
    assert_eq!(handle.ioctl(IOCTL_COUNTS, &[], &mut counts), Ok(12));
    assert_eq!(
        (u32_of(&counts), u32_of(&counts[4..]), u32_of(&counts[8..])),
        (1, 1, 0xA5)
    );
    // SAFETY: the miniport's extension, read while nothing runs.
    let (isr_irql, dpc_irql) = unsafe {
        let e = &*(hw as *const Extension);
        (e.isr_irql, e.dpc_irql)
    };
    assert!(isr_irql > DISPATCH_LEVEL, "ISR ran at {isr_irql}");
    assert_eq!(dpc_irql, DISPATCH_LEVEL);
    assert_eq!(
        machine.with_pci_model(pdo, |d: &mut TestDevice| d.status),
        0
    );

    // Unknown IOCTL: the miniport's ERROR_INVALID_FUNCTION.
    let unknown = CTL_CODE(FILE_DEVICE_VIDEO, 0x9ff, METHOD_BUFFERED, FILE_ANY_ACCESS);
    assert_eq!(
        handle.ioctl(unknown, &[], &mut []),
        Err(STATUS_INVALID_DEVICE_REQUEST)
    );

    // Power and other PnP IRPs go down and succeed at the bus driver.
    assert_eq!(machine.power(&node, IRP_MN_SET_POWER, 1), STATUS_SUCCESS);
    assert_eq!(
        machine.pnp(&node, IRP_MN_QUERY_CAPABILITIES),
        STATUS_NOT_SUPPORTED
    );
    // Rebalancing is refused.
    assert_eq!(
        machine.pnp(&node, IRP_MN_QUERY_STOP_DEVICE),
        STATUS_UNSUCCESSFUL
    );

    handle.close();
    assert_eq!(machine.remove_device(node), STATUS_SUCCESS);
    machine.unload_driver(driver);
    machine.run_until_idle();
    machine.assert_clean();
}

#[test]
fn many_interrupts_each_get_their_dpc_and_the_device_survives_surprise_removal() {
    let _s = serial();
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let pdo = machine.plug_pci_device(Box::new(TestDevice::default()));
    let driver = machine.load_driver("vprstest", driver_entry).unwrap();
    let node = machine.start_device(&driver, pdo).unwrap();
    let handle = machine.open(&node).unwrap();
    for _ in 0..10 {
        handle.ioctl(IOCTL_RING, &[], &mut []).unwrap();
        machine.run_until_idle();
    }
    let mut counts = [0u8; 12];
    handle.ioctl(IOCTL_COUNTS, &[], &mut counts).unwrap();
    assert_eq!((u32_of(&counts), u32_of(&counts[4..])), (10, 10));
    // A doorbell rung just before removal: its interrupt arrives after the port disconnected.
    handle.ioctl(IOCTL_RING, &[], &mut []).unwrap();
    handle.close();
    assert_eq!(machine.surprise_remove_device(node), STATUS_SUCCESS);
    machine.run_until_idle();
    machine.unload_driver(driver);
    machine.assert_clean();
}

#[test]
fn two_devices_on_one_driver_are_independent() {
    let _s = serial();
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let a = machine.plug_pci_device(Box::new(TestDevice::default()));
    let b = machine.plug_pci_device(Box::new(TestDevice::default()));
    let driver = machine.load_driver("vprstest", driver_entry).unwrap();
    let na = machine.start_device(&driver, a).unwrap();
    let nb = machine.start_device(&driver, b).unwrap();
    let (ha, hb) = (machine.open(&na).unwrap(), machine.open(&nb).unwrap());
    ha.ioctl(IOCTL_SET_SCRATCH, &1u32.to_le_bytes(), &mut [])
        .unwrap();
    hb.ioctl(IOCTL_SET_SCRATCH, &2u32.to_le_bytes(), &mut [])
        .unwrap();
    hb.ioctl(IOCTL_RING, &[], &mut []).unwrap();
    machine.run_until_idle();
    let (mut ca, mut cb) = ([0u8; 12], [0u8; 12]);
    ha.ioctl(IOCTL_COUNTS, &[], &mut ca).unwrap();
    hb.ioctl(IOCTL_COUNTS, &[], &mut cb).unwrap();
    assert_eq!((u32_of(&ca), u32_of(&cb)), (0, 1));
    assert_eq!(machine.with_pci_model(a, |d: &mut TestDevice| d.scratch), 1);
    assert_eq!(machine.with_pci_model(b, |d: &mut TestDevice| d.scratch), 2);
    ha.close();
    hb.close();
    assert_eq!(machine.remove_device(na), STATUS_SUCCESS);
    assert_eq!(machine.remove_device(nb), STATUS_SUCCESS);
    machine.unload_driver(driver);
    machine.assert_clean();
}
