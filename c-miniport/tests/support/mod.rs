//! A simulated machine with an edu device, videoprt-rs and the C edu miniport loaded the way
//! Windows loads them (DriverEntry -> VideoPortInitialize -> AddDevice -> START), and a
//! user-mode client. Adapted from sample-miniport/tests/support/mod.rs; the requests are the
//! Rust sample's `ioctl` structures, so the C code is checked against the same IOCTL layout.
#![allow(dead_code)]

use ddk_sys::NTSTATUS;
use ntsim::devices::edu::Edu;
use ntsim::{
    DeviceNode, Driver, EnterGuard, Machine, MachineConfig, Pdo, Placement, UserHandle, UserProt,
};
use sample_miniport::ioctl::*;

pub struct Session {
    pub machine: Machine,
    pub pdo: Pdo,
    driver: Option<Driver>,
    node: Option<DeviceNode>,
    client: Option<UserHandle>,
    _cpu: EnterGuard,
}

fn bytes<T: Copy>(value: &T) -> Vec<u8> {
    // SAFETY: T is a plain #[repr(C)] request structure without padding.
    unsafe {
        std::slice::from_raw_parts((value as *const T).cast::<u8>(), core::mem::size_of::<T>())
    }
    .to_vec()
}

impl Session {
    pub fn start(dma_mask: u64, memory: Placement) -> Session {
        let machine = Machine::new(MachineConfig {
            user_memory: memory,
            pool_memory: memory,
            ..MachineConfig::default()
        });
        let cpu = machine.enter();
        machine.start_trace();
        let pdo = machine.plug_pci_device(Box::new(Edu::new(dma_mask)));
        let driver = machine
            .load_driver("c_edu_miniport", c_miniport::DriverEntry)
            .expect("DriverEntry");
        let node = machine
            .start_device(&driver, pdo)
            .expect("IRP_MN_START_DEVICE");
        let client = machine.open(&node).expect("CreateFile");
        Session {
            machine,
            pdo,
            driver: Some(driver),
            node: Some(node),
            client: Some(client),
            _cpu: cpu,
        }
    }

    fn client(&self) -> &UserHandle {
        self.client.as_ref().expect("open")
    }

    /// Packet DMA of `data` from a user buffer (`user_offset` bytes into its first page) to the
    /// device buffer at `device_offset`.
    pub fn write_packet(
        &self,
        device_offset: u32,
        user_offset: usize,
        data: &[u8],
    ) -> Result<(), NTSTATUS> {
        let user = self
            .machine
            .user_alloc(user_offset + data.len(), UserProt::ReadWrite);
        user.write(user_offset, data);
        let request = Transfer {
            device_offset,
            length: data.len() as u32,
            buffer: user.as_ptr() as u64 + user_offset as u64,
        };
        let result = self
            .client()
            .ioctl(IOCTL_EDU_SAMPLE_WRITE, &bytes(&request), &mut [])
            .map(drop);
        self.machine.user_free(user);
        result
    }

    /// Packet DMA of `length` bytes from the device buffer into a fresh user buffer.
    pub fn read_packet(
        &self,
        device_offset: u32,
        user_offset: usize,
        length: usize,
    ) -> Result<Vec<u8>, NTSTATUS> {
        let user = self
            .machine
            .user_alloc(user_offset + length, UserProt::ReadWrite);
        let request = Transfer {
            device_offset,
            length: length as u32,
            buffer: user.as_ptr() as u64 + user_offset as u64,
        };
        let result = self
            .client()
            .ioctl(IOCTL_EDU_SAMPLE_READ, &bytes(&request), &mut []);
        let data = user.to_vec()[user_offset..].to_vec();
        self.machine.user_free(user);
        result.map(|_| data)
    }

    pub fn write_common(&self, device_offset: u32, data: &[u8]) -> Result<(), NTSTATUS> {
        let mut input = bytes(&CommonHeader {
            device_offset,
            length: data.len() as u32,
        });
        input.extend_from_slice(data);
        self.client()
            .ioctl(IOCTL_EDU_SAMPLE_WRITE_COMMON, &input, &mut [])
            .map(drop)
    }

    pub fn read_common(&self, device_offset: u32, length: usize) -> Result<Vec<u8>, NTSTATUS> {
        let mut out = vec![0u8; length];
        let header = CommonHeader {
            device_offset,
            length: length as u32,
        };
        self.client()
            .ioctl(IOCTL_EDU_SAMPLE_READ_COMMON, &bytes(&header), &mut out)
            .map(|n| {
                assert_eq!(n, length, "READ_COMMON returns its bytes");
                out
            })
    }

    pub fn ioctl(&self, code: u32, input: &[u8], output: &mut [u8]) -> Result<usize, NTSTATUS> {
        self.client().ioctl(code, input, output)
    }

    /// The device buffer as the edu model holds it.
    pub fn device_buffer(&self) -> Vec<u8> {
        self.machine
            .with_pci_model::<Edu, _>(self.pdo, |edu| edu.buffer().to_vec())
    }

    /// Closes, removes the device and unloads the driver.
    pub fn stop(&mut self) {
        if let Some(client) = self.client.take() {
            client.close();
        }
        if let Some(node) = self.node.take() {
            let _ = self.machine.remove_device(node);
        }
        if let Some(driver) = self.driver.take() {
            self.machine.unload_driver(driver);
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}
