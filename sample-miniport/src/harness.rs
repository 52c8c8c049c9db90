//! The end-to-end harness for edu miniports (host only, never in a `.sys`): a simulated
//! machine with an edu device, videoprt-rs and a miniport loaded the way Windows loads them
//! (DriverEntry -> VideoPortInitialize -> AddDevice -> START), a user-mode client speaking
//! `include/edu_sample.h`, and the scenarios every edu miniport must pass. The Rust sample and
//! the C miniport (c-miniport/) run the same scenarios with their own DriverEntry. A PE image
//! is the host's machine: an x64 image on a 64-bit host, an x86 one (from
//! `target/drivers/x86/`, see [`host_drivers_dir`]) on a 32-bit host.

use crate::image::MiniportImage;
use crate::ioctl::*;
use ddk_sys::NTSTATUS;
use ntsim::devices::edu;
use ntsim::devices::edu::Edu;
use ntsim::{
    DeviceNode, Driver, EnterGuard, Machine, MachineConfig, OsVersion, Pdo, Placement, UserHandle,
    UserProt,
};
use std::path::PathBuf;

/// A miniport's DriverEntry, as the harness loads it.
#[ddk_sys::ntapi]
pub type DriverEntry =
    unsafe extern "ntapi" fn(*mut ddk_sys::DRIVER_OBJECT, *mut ddk_sys::UNICODE_STRING) -> NTSTATUS;

pub struct Session {
    pub machine: Machine,
    pub pdo: Pdo,
    driver: Option<Driver>,
    /// Unmapped only after the driver is unloaded.
    image: Option<MiniportImage>,
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

/// Which miniport a session runs.
#[derive(Clone, Debug)]
pub enum Miniport {
    /// Built for the host and linked into the test: its name and DriverEntry.
    Host(&'static str, DriverEntry),
    /// A PE image (`.sys`) for ntsim's kernel image loader: the bytes a user ships.
    Image(PathBuf),
}

impl Miniport {
    /// The shipped image `name` (`sample_miniport.sys`, ...) for this host's machine, where
    /// `cargo xtask build` leaves it: see [`host_drivers_dir`].
    pub fn shipped(name: &str) -> Miniport {
        Miniport::Image(host_drivers_dir().join(name))
    }
}

/// Where `cargo xtask build` leaves the images this host can load ([`ntsim::pe::Machine::HOST`]):
/// [`drivers_dir`] itself (AMD64) on a 64-bit host, its `x86/` directory (i386) on a 32-bit
/// one.
pub fn host_drivers_dir() -> PathBuf {
    let dir = drivers_dir();
    if cfg!(target_pointer_width = "32") {
        dir.join("x86")
    } else {
        dir
    }
}

/// Where `cargo xtask build` leaves the x64 kernel images (the x86 ones are in `x86/`).
pub fn drivers_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
            manifest.parent().unwrap_or(&manifest).join("target")
        })
        .join("drivers")
}

/// A miniport loaded into a machine: its driver object, its image if it came from one, and a
/// line saying what it is.
pub struct Loaded {
    pub driver: Driver,
    pub image: Option<MiniportImage>,
    pub description: String,
}

/// Loads `miniport` into `machine` as the I/O manager would (DriverEntry, then, for an image,
/// its INIT section discarded). The error says what failed: the image load (naming the file
/// and the fault) or DriverEntry's status.
pub fn load(machine: &Machine, miniport: &Miniport) -> Result<Loaded, String> {
    match miniport {
        Miniport::Host(name, entry) => {
            let driver = machine
                .load_driver(name, *entry)
                .map_err(|s| format!("{name}: DriverEntry failed: {s:?}"))?;
            Ok(Loaded {
                driver,
                image: None,
                description: format!("{name} (built for this host)"),
            })
        }
        Miniport::Image(path) => {
            let mut image = MiniportImage::load(path, machine.config().os)?;
            let name = path
                .file_stem()
                .map_or_else(|| "miniport".to_string(), |s| s.to_string_lossy().into());
            let driver = machine
                .load_driver(&name, image.driver_entry())
                .map_err(|s| format!("{}: DriverEntry failed: {s:?}", path.display()))?;
            image.discard_init()?;
            let description = image.describe();
            Ok(Loaded {
                driver,
                image: Some(image),
                description,
            })
        }
    }
}

impl Session {
    /// Boots a machine with an edu device (`dma_mask`, user and pool memory from `memory`),
    /// loads the miniport, starts the device and opens it.
    pub fn start(miniport: &Miniport, dma_mask: u64, memory: Placement) -> Session {
        Self::start_on(
            MachineConfig {
                user_memory: memory,
                pool_memory: memory,
                ..MachineConfig::default()
            },
            miniport,
            dma_mask,
        )
    }

    /// [`Session::start`] on a machine made from `config` (another Windows version, say).
    pub fn start_on(config: MachineConfig, miniport: &Miniport, dma_mask: u64) -> Session {
        let machine = Machine::new(config);
        let cpu = machine.enter();
        machine.start_trace();
        let pdo = machine.plug_pci_device(Box::new(Edu::new(dma_mask)));
        let loaded = load(&machine, miniport).unwrap_or_else(|e| panic!("{e}"));
        let node = machine
            .start_device(&loaded.driver, pdo)
            .expect("IRP_MN_START_DEVICE");
        let client = machine.open(&node).expect("CreateFile");
        Session {
            machine,
            pdo,
            driver: Some(loaded.driver),
            image: loaded.image,
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
        self.image = None;
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

/// Every size 1..=4096 at rotating device and user offsets; byte-exact both ways, both paths.
/// Under Miri, which interprets every byte moved, a few sizes at each offset: the smallest,
/// odd ones that cross pages at their user offsets, and the largest.
pub fn every_size(session: &Session) {
    const DEVICE_OFFSETS: [u32; 4] = [0, 1, 0x7ff, 0xffc];
    const MIRI_SIZES: [usize; 8] = [1, 2, 3, 4, 1001, 4094, 4095, 4096];
    let sizes: Vec<usize> = if cfg!(miri) {
        MIRI_SIZES.to_vec()
    } else {
        (1..=4096).collect()
    };
    for size in sizes {
        let device_offset = DEVICE_OFFSETS[size % 4].min(4096 - size as u32);
        let user_offset = (size * 37) % 4096;
        let data = pattern(size, size as u32);
        session
            .write_packet(device_offset, user_offset, &data)
            .unwrap_or_else(|s| panic!("WRITE size {size}: {s:?}"));
        let device = session.device_buffer();
        assert!(
            device[device_offset as usize..][..size] == data[..],
            "device buffer after WRITE, size {size}"
        );
        let back = session
            .read_packet(device_offset, (user_offset + 1) % 4096, size)
            .unwrap();
        assert!(
            back == data,
            "READ returned different bytes, size {size} at {device_offset:#x}"
        );

        let other = pattern(size, 90_000 + size as u32);
        session.write_common(device_offset, &other).unwrap();
        let back = session.read_common(device_offset, size).unwrap();
        assert!(back == other, "common buffer round trip, size {size}");
    }
}

/// 32-bit dma_mask, user memory above 4 GiB: every size byte-exact, pages bounced.
pub fn thirty_two_bit_mask_with_memory_above_4g_bounces_and_is_byte_exact(miniport: &Miniport) {
    let mut session = Session::start(miniport, u32::MAX as u64, Placement::Above4G);
    every_size(&session);
    let trace = session.machine.take_trace();
    assert!(
        trace.iter().any(|l| l.contains("(bounced)")),
        "pages above 4 GiB must bounce for a 32-bit adapter"
    );
    session.stop();
    assert_eq!(session.machine.violations(), vec![]);
    session.machine.assert_clean();
}

/// 64-bit dma_mask, memory below 4 GiB: every size byte-exact, nothing bounced.
pub fn sixty_four_bit_mask_with_memory_below_4g_needs_no_bounce_and_is_byte_exact(
    miniport: &Miniport,
) {
    let mut session = Session::start(miniport, u64::MAX, Placement::Below4G);
    every_size(&session);
    let trace = session.machine.take_trace();
    assert!(trace.iter().any(|l| l.starts_with("GetScatterGatherList")));
    assert!(
        !trace.iter().any(|l| l.contains("(bounced)")),
        "nothing to bounce below 4 GiB"
    );
    session.stop();
    assert_eq!(session.machine.violations(), vec![]);
    session.machine.assert_clean();
}

/// QEMU's 28-bit default: the truncation is reported, never passed as success.
pub fn the_28_bit_edu_default_truncates_and_the_verifier_says_so(miniport: &Miniport) {
    // Memory above 256 MiB (here: above 4 GiB, bounced below it, but still above 256 MiB).
    let mut session = Session::start(miniport, edu::DEFAULT_DMA_MASK, Placement::Above4G);
    let data = pattern(4096, 7);
    let written = session.write_packet(0, 0, &data);
    let back = session.read_packet(0, 0, 4096);
    let violations = session.machine.take_violations();
    let truncated = violations
        .iter()
        .filter(|v| v.code == edu::violation::EDU_DMA_TRUNCATED)
        .count();
    assert!(
        truncated >= 1,
        "the truncation is reported: {violations:#?}"
    );
    assert!(
        violations
            .iter()
            .any(|v| v.bugcheck == 0xE6 && v.code == 0x26),
        "the IOMMU view refuses the truncated address"
    );
    // What the client got is wrong, and the run is not clean: never silent corruption.
    let intact = written.is_ok() && back.as_ref().is_ok_and(|b| *b == data);
    assert!(
        !intact || truncated == 0,
        "truncated DMA must not pass as an intact round trip"
    );
    session.stop();
}

/// IDENTIFY answers; bad requests get their documented errors.
pub fn identify_reports_the_device_and_bad_requests_get_clear_errors(miniport: &Miniport) {
    use ddk_sys::*;
    let mut session = Session::start(miniport, u32::MAX as u64, Placement::Interleaved);
    let mut out = [0u8; 8];
    assert_eq!(
        session.ioctl(IOCTL_EDU_SAMPLE_IDENTIFY, &[], &mut out),
        Ok(8)
    );
    assert_eq!(
        u32::from_le_bytes(out[..4].try_into().unwrap()),
        0x0100_00ed
    );
    assert_eq!(u32::from_le_bytes(out[4..].try_into().unwrap()), 1, "alive");
    assert_eq!(
        session.ioctl(IOCTL_EDU_SAMPLE_IDENTIFY, &[], &mut [0u8; 4]),
        Err(STATUS_BUFFER_TOO_SMALL)
    );

    let invalid = |r: Result<(), NTSTATUS>| assert_eq!(r, Err(STATUS_INVALID_PARAMETER));
    invalid(session.write_packet(4000, 0, &[1; 200]));
    invalid(session.write_packet(0, 0, &[]));
    invalid(session.write_common(4095, &[1, 2]));
    assert_eq!(
        session.read_common(4096, 1).map(drop),
        Err(STATUS_INVALID_PARAMETER)
    );
    // A user pointer that is not the caller's memory: the port refuses to lock it.
    let request = [0u32.to_le_bytes(), 16u32.to_le_bytes()].concat();
    let mut bad = request.clone();
    bad.extend_from_slice(&0x10_0000u64.to_le_bytes());
    assert_eq!(
        session.ioctl(IOCTL_EDU_SAMPLE_WRITE, &bad, &mut []),
        Err(STATUS_INVALID_PARAMETER)
    );
    assert_eq!(
        session.ioctl(IOCTL_EDU_SAMPLE_WRITE, &request, &mut []),
        Err(STATUS_BUFFER_TOO_SMALL),
        "short input"
    );
    assert_eq!(
        session.ioctl(0x0023_0000 | (0x999 << 2), &[], &mut []),
        Err(STATUS_INVALID_DEVICE_REQUEST)
    );
    // The refused lock is reported by the port (that is the point of the check).
    let reports = session.machine.take_violations();
    assert!(
        reports.iter().all(|v| v.routine == "VideoPortLockBuffer"),
        "{reports:#?}"
    );
    session.stop();
    session.machine.assert_clean();
}

/// The kernels a miniport on videoprt_rs must run on, as ntsim models them: the oldest x64
/// Windows (no `ExAllocatePool2`, no `NonPagedPoolNx`, no `MdlMappingNoExecute`), Windows 7,
/// Windows 8, Windows 10 2004, and a kernel without driver-object extensions (Wine 8).
pub fn kernels() -> Vec<(&'static str, MachineConfig)> {
    let on = |os, driver_object_extensions| MachineConfig {
        os,
        driver_object_extensions,
        ..MachineConfig::default()
    };
    vec![
        (
            "Windows Server 2003 x64",
            on(OsVersion::WINDOWS_SERVER_2003_X64, true),
        ),
        ("Windows 7", on(OsVersion::WINDOWS_7, true)),
        ("Windows 8", on(OsVersion::WINDOWS_8, true)),
        ("Windows 10 2004", on(OsVersion::WINDOWS_10_2004, true)),
        (
            "NT 5.2 without driver-object extensions (as Wine)",
            on(OsVersion::WINDOWS_SERVER_2003_X64, false),
        ),
    ]
}

/// On every kernel of [`kernels`]: load, start, move data both ways by both paths (sizes that
/// span one and two pages, at odd offsets), remove and unload; byte-exact, no violation (ntsim
/// reports a pool type or mapping flag the simulated Windows lacks), nothing leaked.
pub fn runs_on_every_supported_kernel(miniport: &Miniport) {
    for (kernel, config) in kernels() {
        let mut session = Session::start_on(config, miniport, u32::MAX as u64);
        for (size, device_offset, user_offset) in [(1, 0, 0), (3000, 0x123, 0x234), (4096, 0, 1)] {
            let data = pattern(size, size as u32);
            session
                .write_packet(device_offset, user_offset, &data)
                .unwrap_or_else(|s| panic!("{kernel}: WRITE {size}: {s:?}"));
            let back = session
                .read_packet(device_offset, user_offset, size)
                .unwrap_or_else(|s| panic!("{kernel}: READ {size}: {s:?}"));
            assert!(back == data, "{kernel}: packet round trip of {size} bytes");
            session.write_common(device_offset, &data).unwrap();
            let back = session.read_common(device_offset, size).unwrap();
            assert!(
                back == data,
                "{kernel}: common-buffer round trip of {size} bytes"
            );
        }
        session.stop();
        assert_eq!(session.machine.violations(), vec![], "{kernel}");
        session.machine.assert_clean();
    }
}

/// `edu_scenarios!(module, miniport [, #[attribute]])`: a test module running every edu
/// scenario above on `miniport` (a [`Miniport`] expression), one `#[test]` each, each with the
/// optional attribute (a `cfg_attr(miri, ignore = ...)`, say).
#[macro_export]
macro_rules! edu_scenarios {
    ($module:ident, $miniport:expr $(, #[$attr:meta])?) => {
        mod $module {
            use $crate::harness::{self, Miniport};

            #[test]
            $(#[$attr])?
            fn thirty_two_bit_mask_with_memory_above_4g_bounces_and_is_byte_exact() {
                harness::thirty_two_bit_mask_with_memory_above_4g_bounces_and_is_byte_exact(
                    &$miniport,
                );
            }

            #[test]
            $(#[$attr])?
            fn sixty_four_bit_mask_with_memory_below_4g_needs_no_bounce_and_is_byte_exact() {
                harness::sixty_four_bit_mask_with_memory_below_4g_needs_no_bounce_and_is_byte_exact(
                    &$miniport,
                );
            }

            #[test]
            $(#[$attr])?
            fn the_28_bit_edu_default_truncates_and_the_verifier_says_so() {
                harness::the_28_bit_edu_default_truncates_and_the_verifier_says_so(&$miniport);
            }

            #[test]
            $(#[$attr])?
            fn identify_reports_the_device_and_bad_requests_get_clear_errors() {
                harness::identify_reports_the_device_and_bad_requests_get_clear_errors(&$miniport);
            }

            #[test]
            $(#[$attr])?
            fn runs_on_every_supported_kernel() {
                harness::runs_on_every_supported_kernel(&$miniport);
            }
        }
    };
}
