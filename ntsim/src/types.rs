//! Newtypes for the raw integers the simulation hands around: page frame numbers, bus
//! (device-visible) addresses, and the small enums of the harness API.

use core::fmt;

/// Size of a page frame. Matches `ddk_sys::PAGE_SIZE` (x64).
pub const PAGE: usize = ddk_sys::PAGE_SIZE;

/// A physical page frame number: physical address `>> 12`.
///
/// Frames at or above [`Pfn::FOUR_GIB`] lie above 4 GiB and cannot be reached by a 32-bit device.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Pfn(pub u64);

impl Pfn {
    /// The first frame above 4 GiB.
    pub const FOUR_GIB: Pfn = Pfn(0x10_0000);

    /// Physical address of the first byte of this frame.
    pub const fn address(self) -> BusAddress {
        BusAddress(self.0 << 12)
    }
}

impl fmt::Display for Pfn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PFN {:#x}", self.0)
    }
}

/// A physical or bus (logical) address as a device sees it.
///
/// ntsim maps bus addresses 1:1 to physical addresses; the device view decides which of them a
/// device may touch at a given moment.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct BusAddress(pub u64);

impl BusAddress {
    /// The frame holding this address.
    pub const fn pfn(self) -> Pfn {
        Pfn(self.0 >> 12)
    }
    /// Offset of this address inside its page.
    pub const fn page_offset(self) -> usize {
        (self.0 & (PAGE as u64 - 1)) as usize
    }
    /// This address plus `bytes`.
    pub const fn add(self, bytes: u64) -> BusAddress {
        BusAddress(self.0 + bytes)
    }
}

impl fmt::Display for BusAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// Protection of a simulated user-mode allocation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UserProt {
    ReadOnly,
    ReadWrite,
}

/// Where a class of memory gets its page frames.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Placement {
    /// Frames below 4 GiB only.
    Below4G,
    /// Frames above 4 GiB only (contiguous allocations for limited devices still go below).
    Above4G,
    /// A seeded mix of both, decided run by run.
    Interleaved,
}
