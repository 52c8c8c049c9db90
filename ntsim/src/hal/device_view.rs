//! The IOMMU-style device view: what a bus-master device can reach.
//!
//! A device may touch exactly the bytes mapped for its adapters at this moment: the elements
//! of scatter/gather lists built and not yet put, and live common buffers. Direction is
//! enforced: a to-device list (`WriteToDevice` TRUE) may only be read by the device. Any other
//! access is an IOMMU fault: 0xE6/0x26 (P2 device object, P3 bus address, P4
//! [`crate::verifier::iommu_fault`]) and an `Err`, with nothing copied. That is how a device
//! touching a buffer after the driver completed the DMA is caught.

use crate::machine::Machine;
use crate::pdo::Pdo;
use crate::types::BusAddress;
use crate::verifier::{bugcheck, dma_code, iommu_fault};
use core::fmt;

/// Why a device access failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DmaFaultKind {
    /// Nothing is mapped at this address for the device.
    NotMapped,
    /// The mapping only lets the device read.
    WriteToReadOnly,
}

/// A rejected device access.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DmaFault {
    /// First byte that was not accessible.
    pub address: BusAddress,
    pub kind: DmaFaultKind,
}

impl fmt::Display for DmaFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            DmaFaultKind::NotMapped => write!(
                f,
                "IOMMU fault: bus address {} is not mapped for the device",
                self.address
            ),
            DmaFaultKind::WriteToReadOnly => write!(
                f,
                "IOMMU fault: device write to read-only mapping at {}",
                self.address
            ),
        }
    }
}

impl std::error::Error for DmaFault {}

/// A device's window onto the bus. Get one with [`Machine::device_view`].
pub struct DeviceView {
    machine: Machine,
    pdo: usize,
}

impl Machine {
    /// The view of the device whose PDO is `pdo`.
    pub fn device_view(&self, pdo: Pdo) -> DeviceView {
        DeviceView {
            machine: self.clone(),
            pdo: pdo.as_ptr() as usize,
        }
    }
}

impl DeviceView {
    /// A view whose machine handle is internal (dropping it never checks strict mode), for
    /// device models called while driver code is on the stack.
    pub(crate) fn internal(machine: Machine, pdo: Pdo) -> DeviceView {
        DeviceView {
            machine,
            pdo: pdo.as_ptr() as usize,
        }
    }

    /// The device reads `buf.len()` bytes at `address` (DMA from memory to the device).
    pub fn read(&self, address: BusAddress, buf: &mut [u8]) -> Result<(), DmaFault> {
        let out = buf.as_mut_ptr() as usize;
        self.access(address, buf.len(), false, |host, off, n| {
            // SAFETY: `host..host+n` is mapped for the device and held alive by its mapping
            // (checked under the machine lock, which is held); `out + off + n <= buf.len()`.
            unsafe { core::ptr::copy_nonoverlapping(host as *const u8, (out + off) as *mut u8, n) }
        })
    }

    /// The device writes `data` at `address` (DMA from the device to memory).
    pub fn write(&self, address: BusAddress, data: &[u8]) -> Result<(), DmaFault> {
        let src = data.as_ptr() as usize;
        self.access(address, data.len(), true, |host, off, n| {
            // SAFETY: as in `read`, copying the other way.
            unsafe { core::ptr::copy_nonoverlapping((src + off) as *const u8, host as *mut u8, n) }
        })
    }

    fn access(
        &self,
        address: BusAddress,
        len: usize,
        write: bool,
        mut copy: impl FnMut(usize, usize, usize),
    ) -> Result<(), DmaFault> {
        self.machine.check_strict();
        let fault = {
            let mut st = self.machine.lock();
            let hal = &st.hal;
            let mine = |adapter: usize| {
                hal.adapters
                    .get(&adapter)
                    .is_some_and(|a| a.live && a.pdo == self.pdo)
            };
            let runs: Vec<super::Run> = hal
                .lists
                .values()
                .filter(|l| mine(l.adapter))
                .flat_map(|l| l.runs.iter().copied())
                .chain(
                    hal.common
                        .values()
                        .filter(|c| mine(c.adapter))
                        .map(|c| c.run),
                )
                .collect();
            // Validate the whole access before copying anything.
            let mut segments = Vec::new();
            let mut done = 0usize;
            let mut fault = None;
            while done < len {
                let a = address.0 + done as u64;
                // Live mappings may overlap (two lists over one buffer, in opposite
                // directions): the device gets what any of them grants, as from an
                // identity-mapped IOMMU page.
                let covering = || {
                    runs.iter()
                        .filter(|r| r.bus <= a && a < r.bus + r.len as u64)
                };
                let Some(run) = covering()
                    .find(|r| !write || r.device_writable)
                    .or_else(|| covering().next())
                else {
                    fault = Some(DmaFault {
                        address: BusAddress(a),
                        kind: DmaFaultKind::NotMapped,
                    });
                    break;
                };
                if write && !run.device_writable {
                    fault = Some(DmaFault {
                        address: BusAddress(a),
                        kind: DmaFaultKind::WriteToReadOnly,
                    });
                    break;
                }
                let n = ((run.bus + run.len as u64 - a) as usize).min(len - done);
                segments.push((run.host + (a - run.bus) as usize, done, n));
                done += n;
            }
            match fault {
                None => {
                    for (host, off, n) in segments {
                        copy(host, off, n);
                    }
                    None
                }
                Some(f) => {
                    let kind = match f.kind {
                        DmaFaultKind::NotMapped => iommu_fault::NOT_MAPPED,
                        DmaFaultKind::WriteToReadOnly => iommu_fault::WRITE_TO_READ_ONLY,
                    };
                    let name = st.pdos.name(self.pdo).unwrap_or("?").to_string();
                    let msg = format!(
                        "device '{name}' {} {len} bytes at {address}: {f}",
                        if write { "wrote" } else { "read" }
                    );
                    let params = [self.pdo as u64, f.address.0, kind];
                    st.report(
                        bugcheck::DRIVER_VERIFIER_DMA_VIOLATION,
                        dma_code::IOMMU_FAULT,
                        params,
                        "device DMA",
                        msg,
                    );
                    Some(f)
                }
            }
        };
        match fault {
            None => Ok(()),
            Some(f) => {
                self.machine.check_strict();
                Err(f)
            }
        }
    }
}
