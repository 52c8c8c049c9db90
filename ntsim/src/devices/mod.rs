//! Device models that plug into ntsim's PCI bus ([`crate::pci::PciDeviceModel`]).

pub mod bochs;
pub mod ddc;
pub mod edu;
pub mod vbe;
