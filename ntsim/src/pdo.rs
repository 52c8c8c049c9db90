//! Physical device objects for `IoGetDmaAdapter`.
//!
//! A PDO is a real, zeroed `DEVICE_OBJECT` (Type `IO_TYPE_DEVICE`, Size) owned by the machine
//! and freed with it. PnP and the PCI bus are not simulated yet.

use crate::machine::Machine;
use ddk_sys::DEVICE_OBJECT;

/// `IO_TYPE_DEVICE`.
const IO_TYPE_DEVICE: i16 = 3;

/// A PDO of one machine. Copy it freely; it stays valid as long as the machine.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct Pdo(usize);

impl Pdo {
    /// The `DEVICE_OBJECT` to pass to `IoGetDmaAdapter`.
    pub fn as_ptr(self) -> *mut DEVICE_OBJECT {
        self.0 as *mut DEVICE_OBJECT
    }
    /// The PDO at address `p` (ntsim-internal; `p` must be a PDO of the machine).
    pub(crate) fn from_raw(p: usize) -> Pdo {
        Pdo(p)
    }
}

#[derive(Default)]
pub(crate) struct PdoTable {
    pdos: Vec<(usize, String)>,
}

impl PdoTable {
    pub(crate) fn name(&self, pdo: usize) -> Option<&str> {
        self.pdos
            .iter()
            .find(|(p, _)| *p == pdo)
            .map(|(_, n)| n.as_str())
    }
}

impl Drop for PdoTable {
    fn drop(&mut self) {
        for (p, _) in self.pdos.drain(..) {
            // SAFETY: made by `Box::into_raw` in `create_pdo`, freed only here.
            drop(unsafe { Box::from_raw(p as *mut DEVICE_OBJECT) });
        }
    }
}

impl Machine {
    /// A new PDO named `name` (the name appears in violation messages).
    pub fn create_pdo(&self, name: &str) -> Pdo {
        let layout = std::alloc::Layout::new::<DEVICE_OBJECT>();
        // SAFETY: DEVICE_OBJECT has non-zero size. All-zero bytes are a valid DEVICE_OBJECT
        // (integers, raw pointers, `Option`s of function pointers, unions of those), and the
        // allocation has its layout, so `Box` may own it.
        let mut obj: Box<DEVICE_OBJECT> = unsafe {
            let p = std::alloc::alloc_zeroed(layout).cast::<DEVICE_OBJECT>();
            if p.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            Box::from_raw(p)
        };
        obj.Type = IO_TYPE_DEVICE;
        obj.Size = core::mem::size_of::<DEVICE_OBJECT>() as u16;
        obj.ReferenceCount = 1;
        let ptr = Box::into_raw(obj) as usize;
        self.lock().pdos.pdos.push((ptr, name.to_string()));
        Pdo(ptr)
    }
}
