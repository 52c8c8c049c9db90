//! The display counterpart of [`crate::harness`] (host only): a simulated machine with QEMU's
//! Bochs display adapter (`ntsim::devices::bochs`), a display miniport loaded as Windows loads
//! it (a host build or a PE image, [`Miniport`]), and a user-mode client that speaks only the
//! standard video IOCTLs of `ntddvdeo.h`: it lists the modes, sets each one, maps the frame
//! buffer into its own process (IOCTL_VIDEO_MAP_VIDEO_MEMORY), draws a pattern through that
//! mapping, and checks what the device shows, byte for byte; then unmaps, resets, closes, and
//! the device is removed. `cargo xtask run -- --device bochs-display` and
//! `c-miniport/tests/display.rs` run this conversation.

use crate::harness::load;
pub use crate::harness::Miniport;
use crate::image::MiniportImage;
use ddk_sys::NTSTATUS;
use ntsim::devices::bochs::{Bochs, BochsConfig};
use ntsim::{DeviceNode, Driver, EnterGuard, Machine, MachineConfig, Pdo, UserHandle};

/// QEMU's `-device bochs-display`: the Bochs adapter without the legacy VGA ports (16 MiB of
/// VRAM, EDID preferring 1024x768).
pub fn bochs_display() -> BochsConfig {
    BochsConfig {
        legacy_ports: false,
        ..BochsConfig::default()
    }
}

/// `FILE_DEVICE_VIDEO` (devioctl.h).
pub const FILE_DEVICE_VIDEO: u32 = 0x23;

/// `CTL_CODE(FILE_DEVICE_VIDEO, function, METHOD_BUFFERED, FILE_ANY_ACCESS)`.
const fn video_ioctl(function: u32) -> u32 {
    (FILE_DEVICE_VIDEO << 16) | (function << 2)
}

pub const IOCTL_VIDEO_QUERY_AVAIL_MODES: u32 = video_ioctl(0x100);
pub const IOCTL_VIDEO_QUERY_NUM_AVAIL_MODES: u32 = video_ioctl(0x101);
pub const IOCTL_VIDEO_QUERY_CURRENT_MODE: u32 = video_ioctl(0x102);
pub const IOCTL_VIDEO_SET_CURRENT_MODE: u32 = video_ioctl(0x103);
pub const IOCTL_VIDEO_RESET_DEVICE: u32 = video_ioctl(0x104);
pub const IOCTL_VIDEO_MAP_VIDEO_MEMORY: u32 = video_ioctl(0x116);
pub const IOCTL_VIDEO_UNMAP_VIDEO_MEMORY: u32 = video_ioctl(0x117);

/// `VIDEO_MODE.RequestedMode` flags.
pub const VIDEO_MODE_MAP_MEM_LINEAR: u32 = 0x4000_0000;
pub const VIDEO_MODE_NO_ZERO_MEMORY: u32 = 0x8000_0000;
/// `VIDEO_MODE_INFORMATION.AttributeFlags`.
pub const VIDEO_MODE_COLOR: u32 = 0x0001;
pub const VIDEO_MODE_GRAPHICS: u32 = 0x0002;

/// `VIDEO_MODE_INFORMATION` (ntddvdeo.h), Windows x64 layout.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VideoModeInformation {
    pub length: u32,
    pub mode_index: u32,
    pub vis_screen_width: u32,
    pub vis_screen_height: u32,
    pub screen_stride: u32,
    pub number_of_planes: u32,
    pub bits_per_plane: u32,
    pub frequency: u32,
    pub x_millimeter: u32,
    pub y_millimeter: u32,
    pub number_red_bits: u32,
    pub number_green_bits: u32,
    pub number_blue_bits: u32,
    pub red_mask: u32,
    pub green_mask: u32,
    pub blue_mask: u32,
    pub attribute_flags: u32,
    pub video_memory_bitmap_width: u32,
    pub video_memory_bitmap_height: u32,
    pub driver_specific_attribute_flags: u32,
}

/// `VIDEO_NUM_MODES`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VideoNumModes {
    pub num_modes: u32,
    pub mode_information_length: u32,
}

/// `VIDEO_MODE`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VideoMode {
    pub requested_mode: u32,
}

/// `VIDEO_MEMORY`: a pointer, 8 bytes on x64.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VideoMemory {
    pub requested_virtual_address: u64,
}

/// `VIDEO_MEMORY_INFORMATION`: the padding after each ULONG is spelled out.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VideoMemoryInformation {
    pub video_ram_base: u64,
    pub video_ram_length: u32,
    pub padding0: u32,
    pub frame_buffer_base: u64,
    pub frame_buffer_length: u32,
    pub padding1: u32,
}

/// The bytes of a request structure.
fn bytes<T: Copy>(value: &T) -> Vec<u8> {
    // SAFETY: T is one of the #[repr(C)] structures above: integers only, padding spelled out.
    unsafe {
        std::slice::from_raw_parts((value as *const T).cast::<u8>(), core::mem::size_of::<T>())
    }
    .to_vec()
}

/// A structure from the first `size_of::<T>()` bytes of `data`.
fn from_bytes<T: Copy + Default>(data: &[u8]) -> T {
    let mut value = T::default();
    let n = core::mem::size_of::<T>().min(data.len());
    // SAFETY: T is one of the integer-only structures above (every bit pattern valid); at most
    // size_of::<T>() bytes are copied into it.
    unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), (&mut value as *mut T).cast(), n) };
    value
}

/// A machine with a Bochs display adapter, a display miniport started on it and a client that
/// opened it.
pub struct DisplaySession {
    pub machine: Machine,
    pub pdo: Pdo,
    /// Which miniport runs (the image, where it was mapped, its imports), for people.
    pub description: String,
    driver: Option<Driver>,
    /// Unmapped only after the driver is unloaded.
    image: Option<MiniportImage>,
    node: Option<DeviceNode>,
    client: Option<UserHandle>,
    _cpu: EnterGuard,
}

impl DisplaySession {
    /// Boots a machine with a Bochs adapter configured as `bochs`, loads the miniport, starts
    /// the device and opens it. The error says what failed.
    pub fn start(miniport: &Miniport, bochs: BochsConfig) -> Result<DisplaySession, String> {
        Self::start_on(miniport, bochs, MachineConfig::default())
    }

    /// [`DisplaySession::start`] on a machine configured as `config` (another Windows
    /// version, for instance).
    pub fn start_on(
        miniport: &Miniport,
        bochs: BochsConfig,
        config: MachineConfig,
    ) -> Result<DisplaySession, String> {
        let machine = Machine::new(config);
        let cpu = machine.enter();
        machine.start_trace();
        let pdo = machine.plug_pci_device(Box::new(Bochs::new(bochs)));
        let loaded = load(&machine, miniport)?;
        let node = match machine.start_device(&loaded.driver, pdo) {
            Ok(node) => node,
            Err(status) => {
                machine.unload_driver(loaded.driver);
                return Err(format!("IRP_MN_START_DEVICE failed: {status:?}"));
            }
        };
        let client = machine
            .open(&node)
            .map_err(|s| format!("CreateFile failed: {s:?}"))?;
        Ok(DisplaySession {
            machine,
            pdo,
            description: loaded.description,
            driver: Some(loaded.driver),
            image: loaded.image,
            node: Some(node),
            client: Some(client),
            _cpu: cpu,
        })
    }

    /// The started device (panics after [`DisplaySession::stop`]).
    pub fn node(&self) -> &DeviceNode {
        self.node.as_ref().expect("the device is started")
    }

    /// The child devices the PnP manager knows under the adapter (its monitor).
    pub fn children(&self) -> Vec<ntsim::ChildDevice> {
        self.machine.children(self.node())
    }

    /// The client's handle (panics after [`DisplaySession::close`]).
    pub fn client(&self) -> &UserHandle {
        self.client.as_ref().expect("the device is open")
    }

    pub fn ioctl(&self, code: u32, input: &[u8], output: &mut [u8]) -> Result<usize, NTSTATUS> {
        self.client().ioctl(code, input, output)
    }

    /// IOCTL_VIDEO_QUERY_NUM_AVAIL_MODES.
    pub fn num_modes(&self) -> Result<VideoNumModes, NTSTATUS> {
        let mut out = [0u8; 8];
        let n = self.ioctl(IOCTL_VIDEO_QUERY_NUM_AVAIL_MODES, &[], &mut out)?;
        assert_eq!(n, 8, "QUERY_NUM_AVAIL_MODES returns a VIDEO_NUM_MODES");
        Ok(from_bytes(&out))
    }

    /// QUERY_NUM_AVAIL_MODES, then IOCTL_VIDEO_QUERY_AVAIL_MODES with a buffer that size.
    pub fn modes(&self) -> Result<Vec<VideoModeInformation>, NTSTATUS> {
        let count = self.num_modes()?;
        let each = count.mode_information_length as usize;
        let mut out = vec![0u8; count.num_modes as usize * each];
        let n = self.ioctl(IOCTL_VIDEO_QUERY_AVAIL_MODES, &[], &mut out)?;
        assert_eq!(
            n,
            out.len(),
            "QUERY_AVAIL_MODES fills the buffer it asked for"
        );
        Ok(out.chunks(each.max(1)).map(from_bytes).collect())
    }

    /// IOCTL_VIDEO_SET_CURRENT_MODE with `requested_mode` (a mode index, maybe with flags).
    pub fn set_mode(&self, requested_mode: u32) -> Result<(), NTSTATUS> {
        let input = bytes(&VideoMode { requested_mode });
        self.ioctl(IOCTL_VIDEO_SET_CURRENT_MODE, &input, &mut [])
            .map(drop)
    }

    /// IOCTL_VIDEO_QUERY_CURRENT_MODE.
    pub fn current_mode(&self) -> Result<VideoModeInformation, NTSTATUS> {
        let mut out = [0u8; core::mem::size_of::<VideoModeInformation>()];
        self.ioctl(IOCTL_VIDEO_QUERY_CURRENT_MODE, &[], &mut out)?;
        Ok(from_bytes(&out))
    }

    /// IOCTL_VIDEO_MAP_VIDEO_MEMORY into the client's own process.
    pub fn map(&self) -> Result<VideoMemoryInformation, NTSTATUS> {
        let input = bytes(&VideoMemory::default());
        let mut out = [0u8; core::mem::size_of::<VideoMemoryInformation>()];
        self.ioctl(IOCTL_VIDEO_MAP_VIDEO_MEMORY, &input, &mut out)?;
        Ok(from_bytes(&out))
    }

    /// IOCTL_VIDEO_UNMAP_VIDEO_MEMORY of what MAP returned at `va`.
    pub fn unmap(&self, va: u64) -> Result<(), NTSTATUS> {
        let input = bytes(&VideoMemory {
            requested_virtual_address: va,
        });
        self.ioctl(IOCTL_VIDEO_UNMAP_VIDEO_MEMORY, &input, &mut [])
            .map(drop)
    }

    /// IOCTL_VIDEO_RESET_DEVICE.
    pub fn reset(&self) -> Result<(), NTSTATUS> {
        self.ioctl(IOCTL_VIDEO_RESET_DEVICE, &[], &mut []).map(drop)
    }

    /// Looks at the Bochs model (what a monitor and the hardware registers show).
    pub fn bochs<R>(&self, f: impl FnOnce(&mut Bochs) -> R) -> R {
        self.machine.with_pci_model::<Bochs, _>(self.pdo, f)
    }

    /// The bytes the monitor shows now.
    pub fn visible_frame(&self) -> Vec<u8> {
        self.bochs(|b| b.visible_frame())
    }

    /// `CloseHandle`: IRP_MJ_CLEANUP, IRP_MJ_CLOSE; the client process exits.
    pub fn close(&mut self) {
        if let Some(client) = self.client.take() {
            client.close();
        }
    }

    /// A new client opens the device (after [`DisplaySession::close`]).
    pub fn reopen(&mut self) -> Result<(), NTSTATUS> {
        self.close();
        let node = self.node.as_ref().expect("the device is started");
        self.client = Some(self.machine.open(node)?);
        Ok(())
    }

    /// Closes, removes the device and unloads the driver.
    pub fn stop(&mut self) {
        self.close();
        if let Some(node) = self.node.take() {
            let _ = self.machine.remove_device(node);
        }
        if let Some(driver) = self.driver.take() {
            self.machine.unload_driver(driver);
        }
        self.image = None;
    }
}

impl Drop for DisplaySession {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The pattern a client draws in `mode` (32 bpp, B, G, R, unused per pixel): `yres` rows of
/// `xres` pixels, red across, green down, blue a checkerboard that depends on `seed`, and a
/// white one-pixel border, so a wrong stride, offset or size shows.
pub fn pattern(mode: &VideoModeInformation, seed: u32) -> Vec<u8> {
    let (w, h) = (mode.vis_screen_width, mode.vis_screen_height);
    let mut out = Vec::with_capacity(w as usize * h as usize * 4);
    for y in 0..h {
        for x in 0..w {
            let border = x == 0 || y == 0 || x + 1 == w || y + 1 == h;
            let pixel: [u8; 4] = if border {
                [0xFF, 0xFF, 0xFF, 0]
            } else {
                let red = (x * 255 / w.max(1)) as u8;
                let green = (y * 255 / h.max(1)) as u8;
                let blue = if ((x >> 5) ^ (y >> 5) ^ seed) & 1 == 1 {
                    0xC0
                } else {
                    0x20
                };
                [blue, green, red, 0]
            };
            out.extend_from_slice(&pixel);
        }
    }
    out
}

/// FNV-1a (64-bit) of `data`: the frame checksum the run prints.
pub fn checksum(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// What one mode of the conversation showed.
#[derive(Clone, Debug)]
pub struct ModeCheck {
    pub mode: VideoModeInformation,
    /// What IOCTL_VIDEO_MAP_VIDEO_MEMORY returned.
    pub memory: VideoMemoryInformation,
    /// Checksum of what the client drew, and of what the device shows.
    pub drawn: u64,
    pub shown: u64,
    /// The device shows exactly what was drawn, in the mode that was set.
    pub ok: bool,
    /// Why not, if not.
    pub problem: Option<String>,
}

/// The whole conversation.
#[derive(Clone, Debug, Default)]
pub struct Conversation {
    pub modes: Vec<VideoModeInformation>,
    pub checks: Vec<ModeCheck>,
    /// Requests that failed, with their status.
    pub failures: Vec<String>,
    /// The last frame drawn and shown: (width, height, B G R x bytes).
    pub last_frame: Option<(u32, u32, Vec<u8>)>,
}

impl Conversation {
    pub fn mismatches(&self) -> usize {
        self.checks.iter().filter(|c| !c.ok).count()
    }
}

/// Sets `mode`, maps the frame buffer, draws [`pattern`] through the client's own mapping,
/// compares the device's visible frame byte for byte, and unmaps.
pub fn check_mode(
    session: &DisplaySession,
    mode: &VideoModeInformation,
    seed: u32,
) -> Result<(ModeCheck, Vec<u8>), String> {
    let name = format!("{}x{}", mode.vis_screen_width, mode.vis_screen_height);
    session
        .set_mode(mode.mode_index)
        .map_err(|s| format!("SET_CURRENT_MODE {} ({name}): {s:?}", mode.mode_index))?;
    let mut problems = Vec::new();
    match session.current_mode() {
        Ok(current) if current == *mode => {}
        Ok(current) => problems.push(format!(
            "QUERY_CURRENT_MODE says {}x{} (mode {})",
            current.vis_screen_width, current.vis_screen_height, current.mode_index
        )),
        Err(s) => problems.push(format!("QUERY_CURRENT_MODE: {s:?}")),
    }
    let hw = session.bochs(|b| b.mode());
    if !hw.enabled
        || u32::from(hw.xres) != mode.vis_screen_width
        || u32::from(hw.yres) != mode.vis_screen_height
        || hw.bpp != 32
        || !hw.lfb
    {
        problems.push(format!("the device is in {hw:?}"));
    }
    let memory = session
        .map()
        .map_err(|s| format!("MAP_VIDEO_MEMORY in {name}: {s:?}"))?;
    let row = mode.vis_screen_width as usize * 4;
    let stride = mode.screen_stride as usize;
    let height = mode.vis_screen_height as usize;
    let needed = stride * (height - 1) + row;
    let drawn = pattern(mode, seed);
    match session
        .client()
        .mapping(memory.frame_buffer_base as usize, needed)
    {
        Some(view) => {
            for (y, line) in drawn.chunks(row).enumerate() {
                view.write(y * stride, line);
            }
        }
        None => problems.push(format!(
            "MAP_VIDEO_MEMORY returned {:#x} ({} bytes), which the client cannot use for {needed} bytes",
            memory.frame_buffer_base, memory.frame_buffer_length
        )),
    }
    let shown = session.visible_frame();
    if shown != drawn {
        let first = shown
            .iter()
            .zip(&drawn)
            .position(|(a, b)| a != b)
            .unwrap_or(shown.len().min(drawn.len()));
        problems.push(format!(
            "the device shows {} bytes that differ from the {} drawn (first at byte {first})",
            shown.len(),
            drawn.len()
        ));
    }
    session
        .unmap(memory.frame_buffer_base)
        .map_err(|s| format!("UNMAP_VIDEO_MEMORY in {name}: {s:?}"))?;
    let check = ModeCheck {
        mode: *mode,
        memory,
        drawn: checksum(&drawn),
        shown: checksum(&shown),
        ok: problems.is_empty(),
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
    };
    Ok((check, shown))
}

/// The conversation a display driver has with the miniport: list the modes, then for each
/// [`check_mode`]; finally IOCTL_VIDEO_RESET_DEVICE. `out` gets a line per step.
pub fn converse(session: &DisplaySession, out: &mut dyn FnMut(&str)) -> Conversation {
    let mut conversation = Conversation::default();
    let modes = match session.modes() {
        Ok(modes) => modes,
        Err(status) => {
            conversation
                .failures
                .push(format!("QUERY_AVAIL_MODES: {status:?}"));
            return conversation;
        }
    };
    out(&format!("modes ({}):", modes.len()));
    for m in &modes {
        out(&format!(
            "  {:>2}: {:>4} x {:<4} {} bpp, stride {:>5}, {} Hz, {} x {} mm, R/G/B masks {:06x}/{:06x}/{:06x}",
            m.mode_index,
            m.vis_screen_width,
            m.vis_screen_height,
            m.bits_per_plane,
            m.screen_stride,
            m.frequency,
            m.x_millimeter,
            m.y_millimeter,
            m.red_mask,
            m.green_mask,
            m.blue_mask
        ));
    }
    conversation.modes = modes.clone();
    for (i, mode) in modes.iter().enumerate() {
        match check_mode(session, mode, i as u32) {
            Ok((check, shown)) => {
                out(&format!(
                    "set mode {:>2} ({} x {}): frame buffer mapped at {:#x} ({} bytes), drew {} bytes, checksum {:016x} drawn, {:016x} shown: {}",
                    mode.mode_index,
                    mode.vis_screen_width,
                    mode.vis_screen_height,
                    check.memory.frame_buffer_base,
                    check.memory.frame_buffer_length,
                    shown.len(),
                    check.drawn,
                    check.shown,
                    match &check.problem {
                        None => "verified".to_string(),
                        Some(why) => format!("MISMATCH: {why}"),
                    }
                ));
                conversation.last_frame =
                    Some((mode.vis_screen_width, mode.vis_screen_height, shown));
                conversation.checks.push(check);
            }
            Err(why) => {
                out(&format!("FAILED: {why}"));
                conversation.failures.push(why);
            }
        }
    }
    match session.reset() {
        Ok(()) => out("RESET_DEVICE: display off"),
        Err(status) => conversation
            .failures
            .push(format!("RESET_DEVICE: {status:?}")),
    }
    conversation
}

/// `width x height` frame of B, G, R, x pixels as RGB bytes (for a PNG).
pub fn to_rgb(frame: &[u8]) -> Vec<u8> {
    frame
        .chunks_exact(4)
        .flat_map(|p| [p[2], p[1], p[0]])
        .collect()
}
