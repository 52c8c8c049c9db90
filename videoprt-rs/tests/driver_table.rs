//! A miniport's registration on kernels without driver-object extensions (Wine 8's ntoskrnl
//! returns STATUS_NOT_IMPLEMENTED for `IoAllocateDriverObjectExtension`): the port keeps it
//! in its own table. One test in its own binary, because the table is process-wide.

mod port_support;

use ddk_sys::*;
use ntsim::{Machine, MachineConfig, OsVersion};
use port_support::*;

#[test]
fn without_driver_object_extensions_the_port_table_holds_sixteen_drivers_and_frees_them() {
    let _s = serial();
    let machine = Machine::new(MachineConfig {
        os: OsVersion::WINDOWS_SERVER_2003_X64,
        driver_object_extensions: false,
        ..MachineConfig::default()
    });
    let _g = machine.enter();

    // Each miniport driver gets its own registration; a device of the first still starts
    // (AddDevice finds the registration in the table).
    let mut drivers: Vec<_> = (0..16)
        .map(|i| {
            machine
                .load_driver(&format!("vprs{i}"), driver_entry)
                .unwrap_or_else(|s| panic!("driver {i}: {s:?}"))
        })
        .collect();
    let pdo = machine.plug_pci_device(Box::new(TestDevice::default()));
    let node = machine.start_device(&drivers[0], pdo).expect("START");

    // The seventeenth has no slot: VideoPortInitialize says so, nothing is half-installed.
    assert_eq!(
        machine.load_driver("vprs16", driver_entry).err(),
        Some(STATUS_INSUFFICIENT_RESOURCES)
    );

    // Unloading one frees its slot for the next.
    machine.unload_driver(drivers.pop().expect("sixteen"));
    let again = machine
        .load_driver("vprs16", driver_entry)
        .expect("a freed slot is reused");
    drivers.push(again);

    assert_eq!(machine.remove_device(node), STATUS_SUCCESS);
    for driver in drivers {
        machine.unload_driver(driver);
    }
    assert_eq!(machine.violations(), vec![]);
    // Every table block went back to the pool at unload.
    machine.assert_clean();
}
