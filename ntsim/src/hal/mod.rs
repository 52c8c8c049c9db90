//! The HAL DMA adapter: `IoGetDmaAdapter` and the `DMA_OPERATIONS` it hands out.
//!
//! Model:
//! * A machine-wide pool of `MachineConfig::total_map_registers` map registers, shared by all
//!   adapters. A scatter/gather list holds `ADDRESS_AND_SIZE_TO_SPAN_PAGES(CurrentVa, Length)`
//!   of them from the moment it is built until it is put. When too few are free the request
//!   waits (FIFO) and its callback runs later from `Machine::run_until_idle`.
//! * Bus addresses equal physical addresses, except where a page lies beyond what the device
//!   can address (or a device without scatter/gather needs one contiguous run): then the
//!   element points at a bounce page below the device's limit (see [`sg`]).
//! * An IOMMU-style device view ([`device_view`]): a device reaches only what is mapped for its
//!   adapters right now, byte-exact: the elements of lists not yet put and live common buffers.
//!
//! Adapter pointers from drivers are never dereferenced: they are looked up in the machine's
//! table first (NULL: 0xE6/0x19; unknown or put: 0xE6/0x18). Adapter objects are kept until the
//! machine drops, so a stale pointer can never alias a newer adapter.

pub mod adapter;
pub mod common_buffer;
pub mod device_view;
pub(crate) mod ops;
pub mod sg;
pub mod x86bios;

use crate::machine::State;
use crate::verifier::{bugcheck, dma_code, LeakKind, LeakReport};
use ddk_sys::{DMA_ADAPTER, KIRQL};
use std::collections::{HashMap, VecDeque};

/// The adapter object: `DMA_ADAPTER` first, as drivers see it.
#[repr(C)]
pub(crate) struct AdapterObject {
    pub header: DMA_ADAPTER,
    pub serial: u64,
}

pub(crate) struct AdapterRecord {
    pub serial: u64,
    pub pdo: usize,
    pub pdo_name: String,
    /// Highest bus address the device can generate.
    pub max_address: u64,
    pub width: u32,
    pub scatter_gather: bool,
    pub granted: u32,
    pub live: bool,
    pub lists_allocated: u64,
    pub lists_freed: u64,
}

/// One byte-exact range a device may touch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Run {
    pub bus: u64,
    pub len: usize,
    /// Host address of the first byte (original page or bounce page).
    pub host: usize,
    pub device_writable: bool,
}

pub(crate) struct Hal {
    pub adapters: HashMap<usize, AdapterRecord>,
    pub total_registers: u32,
    pub free_registers: u32,
    pub lists: HashMap<usize, sg::SgRecord>,
    pub waiters: VecDeque<sg::Request>,
    pub common: HashMap<usize, common_buffer::CommonBufferRecord>,
}

impl Hal {
    pub(crate) fn new(total_registers: u32) -> Self {
        Self {
            adapters: HashMap::new(),
            total_registers,
            free_registers: total_registers,
            lists: HashMap::new(),
            waiters: VecDeque::new(),
            common: HashMap::new(),
        }
    }

    pub(crate) fn describe(&self, adapter: usize) -> String {
        match self.adapters.get(&adapter) {
            Some(a) => format!(
                "adapter {adapter:#x} (IoGetDmaAdapter serial {}, PDO '{}')",
                a.serial, a.pdo_name
            ),
            None => format!("adapter {adapter:#x}"),
        }
    }

    pub(crate) fn leaks(&self, report: &mut LeakReport) {
        for (addr, a) in &self.adapters {
            if a.live {
                report.push(
                    LeakKind::Adapter,
                    format!("{} not put", self.describe(*addr)),
                );
            }
        }
        for (addr, l) in &self.lists {
            let what = format!(
                "list {addr:#x} ({} serial {}, {} map registers) on {}",
                if l.caller_buffer {
                    "BuildScatterGatherList"
                } else {
                    "GetScatterGatherList"
                },
                l.serial,
                l.registers,
                self.describe(l.adapter)
            );
            report.push(LeakKind::ScatterGatherList, what);
        }
        for w in &self.waiters {
            report.push(
                LeakKind::PendingDmaRequest,
                format!(
                    "queued scatter/gather request serial {} on {}",
                    w.serial,
                    self.describe(w.adapter)
                ),
            );
        }
        let held = self.total_registers - self.free_registers;
        if held > 0 {
            report.push(
                LeakKind::MapRegisters,
                format!("{held} map register(s) held"),
            );
        }
        for (va, c) in &self.common {
            report.push(
                LeakKind::CommonBuffer,
                format!(
                    "{} bytes at {va:#x} (AllocateCommonBuffer serial {}) on {}",
                    c.length,
                    c.serial,
                    self.describe(c.adapter)
                ),
            );
        }
    }
}

impl Drop for Hal {
    fn drop(&mut self) {
        for addr in self.adapters.keys() {
            // SAFETY: every key is a `Box<AdapterObject>` leaked by IoGetDmaAdapter and freed
            // only here, when the machine goes away.
            drop(unsafe { Box::from_raw(*addr as *mut AdapterObject) });
        }
    }
}

/// Validates an adapter pointer without dereferencing it. Reports and returns None for NULL
/// (0x19) or an adapter that is not live (0x18).
pub(crate) fn live_adapter(
    st: &mut State,
    adapter: *mut DMA_ADAPTER,
    routine: &'static str,
) -> Option<usize> {
    let key = adapter as usize;
    if adapter.is_null() {
        st.report(
            bugcheck::DRIVER_VERIFIER_DMA_VIOLATION,
            dma_code::NULL_ADAPTER,
            [0; 3],
            routine,
            "NULL DMA_ADAPTER".into(),
        );
        return None;
    }
    match st.hal.adapters.get(&key) {
        Some(a) if a.live => Some(key),
        Some(_) => {
            let msg = format!(
                "{} was already released with PutDmaAdapter",
                st.hal.describe(key)
            );
            st.report(
                bugcheck::DRIVER_VERIFIER_DMA_VIOLATION,
                dma_code::ADAPTER_AFTER_PUT,
                [key as u64, 0, 0],
                routine,
                msg,
            );
            None
        }
        None => {
            let msg = format!("{key:#x} is not a DMA adapter from IoGetDmaAdapter");
            st.report(
                bugcheck::DRIVER_VERIFIER_DMA_VIOLATION,
                dma_code::ADAPTER_AFTER_PUT,
                [key as u64, 0, 0],
                routine,
                msg,
            );
            None
        }
    }
}

/// How a routine's IRQL rule is phrased.
#[derive(Clone, Copy)]
pub(crate) enum IrqlRule {
    Exactly(KIRQL),
    AtMost(KIRQL),
}

/// Checks the IRQL rule; reports 0xE6/0x13 (P2 1 = not the required IRQL, 2 = above maximum).
pub(crate) fn check_irql(
    st: &mut State,
    irql: KIRQL,
    rule: IrqlRule,
    routine: &'static str,
) -> bool {
    let (ok, p2, expected) = match rule {
        IrqlRule::Exactly(e) => (irql == e, 1, e),
        IrqlRule::AtMost(m) => (irql <= m, 2, m),
    };
    if !ok {
        let msg = match rule {
            IrqlRule::Exactly(_) => {
                format!("{routine} called at IRQL {irql}; it must be called at IRQL {expected}")
            }
            IrqlRule::AtMost(_) => {
                format!("{routine} called at IRQL {irql}; the maximum is {expected}")
            }
        };
        let params = [p2, expected as u64, irql as u64];
        st.report(
            bugcheck::DRIVER_VERIFIER_DMA_VIOLATION,
            dma_code::WRONG_IRQL,
            params,
            routine,
            msg,
        );
    }
    ok
}
