//! QEMU's Bochs display adapter (PCI 1234:1111: `-device bochs-display`, `-vga std`), modeled
//! from QEMU's `docs/specs/standard-vga.rst` and the Bochs VBE "DISPI" register description.
//!
//! * BAR0: the linear frame buffer, prefetchable 32-bit memory backed by RAM
//!   ([`DeviceMemory`]): kernel and user views alias it, the model reads it as the monitor.
//! * BAR1: not implemented.
//! * BAR2: 4 KiB of MMIO: the EDID blob at 0x000-0x3FF (128 bytes, then zeros), the VGA
//!   ports 0x3C0-0x3DF at 0x400-0x41F (byte or word access, bytes little-endian), the DISPI
//!   registers at 0x500-0x515 as 16-bit words (index × 2).
//! * Legacy ports (`-vga std`, [`BochsConfig::legacy_ports`]): DISPI index 0x1CE and data
//!   0x1CF (16-bit), and the VGA ports 0x3C0-0x3DF.
//!
//! DISPI: ID reads back the version written (0xB0C0-0xB0C5; anything else is ignored);
//! XRES/YRES/BPP are latched while the display is disabled and read back their maxima while
//! ENABLE has GETCAPS set; setting ENABLED checks the mode (BPP 8/15/16/24/32, non-zero and
//! within the maxima, fitting in VRAM) and refuses one that does not (the display stays off
//! and [`Bochs::refusals`] says why); an accepted mode resets the virtual size to the mode
//! and the offsets to 0, and clears the frame buffer unless NOCLEAR is set.
//! VIDEO_MEMORY_64K is read-only.
//!
//! The VGA window implements what a miniport needs: reading 0x3DA resets the attribute
//! controller's flip-flop, and the index write to 0x3C0 latches the palette-address-source
//! bit (0x20), which turns the display on. Other VGA registers just hold what is written.

use crate::pci::{BarKind, BarSpec, DeviceContext, DeviceMemory, PciDeviceModel};

pub const VENDOR_ID: u16 = 0x1234;
pub const DEVICE_ID: u16 = 0x1111;
/// Default VRAM: 16 MiB.
pub const DEFAULT_VRAM: usize = 16 << 20;
pub const MMIO_BAR_SIZE: u64 = 4096;

/// BAR2 layout.
pub mod mmio {
    pub const EDID: u64 = 0x000;
    pub const EDID_END: u64 = 0x400;
    /// VGA port 0x3C0 is at 0x400.
    pub const VGA: u64 = 0x400;
    pub const VGA_END: u64 = 0x420;
    pub const DISPI: u64 = 0x500;
    pub const DISPI_END: u64 = 0x516;
}

/// Legacy DISPI ports.
pub const DISPI_INDEX_PORT: u16 = 0x1CE;
pub const DISPI_DATA_PORT: u16 = 0x1CF;
/// First VGA port (0x3C0-0x3DF).
pub const VGA_PORT: u16 = 0x3C0;

/// DISPI register indexes.
pub mod index {
    pub const ID: u16 = 0x0;
    pub const XRES: u16 = 0x1;
    pub const YRES: u16 = 0x2;
    pub const BPP: u16 = 0x3;
    pub const ENABLE: u16 = 0x4;
    pub const BANK: u16 = 0x5;
    pub const VIRT_WIDTH: u16 = 0x6;
    pub const VIRT_HEIGHT: u16 = 0x7;
    pub const X_OFFSET: u16 = 0x8;
    pub const Y_OFFSET: u16 = 0x9;
    pub const VIDEO_MEMORY_64K: u16 = 0xA;
    /// Number of registers.
    pub const COUNT: u16 = 0xB;
}

/// DISPI ENABLE bits.
pub mod enable {
    pub const ENABLED: u16 = 0x01;
    pub const GETCAPS: u16 = 0x02;
    pub const DAC_8BIT: u16 = 0x20;
    pub const LFB: u16 = 0x40;
    pub const NOCLEAR: u16 = 0x80;
}

/// Interface versions the device accepts in the ID register.
pub const ID_MIN: u16 = 0xB0C0;
pub const ID_MAX: u16 = 0xB0C5;

/// Largest mode the device offers (GETCAPS), before the VRAM bound on YRES.
pub const MAX_XRES: u16 = 2560;
pub const MAX_YRES: u16 = 1600;
pub const MAX_BPP: u16 = 32;

/// Violation codes the model reports (under [`crate::verifier::bugcheck::DEVICE_MODEL_CHECK`]).
pub mod violation {
    /// A BAR2 or port access of a size or alignment the region does not take.
    pub const BOCHS_BAD_ACCESS: u32 = 0x200;
}

/// How the device is configured (QEMU's `vgamem`, `-vga std` versus `bochs-display`).
#[derive(Clone, Debug)]
pub struct BochsConfig {
    /// VRAM in bytes (a power of two, at least 1 MiB is sensible).
    pub vram: usize,
    /// Decode the legacy ports 0x1CE/0x1CF and 0x3C0-0x3DF (`-vga std`).
    pub legacy_ports: bool,
    /// Implement BAR2 (without it, only the legacy ports reach the registers).
    pub mmio_bar: bool,
    /// The EDID's preferred mode: one of [`EDID_TIMINGS`] (by resolution).
    pub preferred: (u16, u16),
}

impl Default for BochsConfig {
    fn default() -> Self {
        BochsConfig {
            vram: DEFAULT_VRAM,
            legacy_ports: true,
            mmio_bar: true,
            preferred: (1024, 768),
        }
    }
}

/// The current display mode, as a monitor would see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode {
    pub enabled: bool,
    pub xres: u16,
    pub yres: u16,
    pub bpp: u16,
    /// Bytes from one scanline to the next (virtual width × bytes per pixel).
    pub stride: usize,
    pub x_offset: u16,
    pub y_offset: u16,
    /// ENABLE had LFB set.
    pub lfb: bool,
}

/// Bytes per pixel of a DISPI BPP value, if the device supports it.
pub fn bytes_per_pixel(bpp: u16) -> Option<usize> {
    match bpp {
        8 => Some(1),
        15 | 16 => Some(2),
        24 => Some(3),
        32 => Some(4),
        _ => None,
    }
}

/// The device state.
pub struct Bochs {
    config: BochsConfig,
    vram: DeviceMemory,
    edid: [u8; 128],
    /// Registers as written (XRES/YRES/BPP latched values).
    regs: [u16; index::COUNT as usize],
    /// The mode in effect while enabled.
    active: Option<Mode>,
    /// Legacy index port value.
    port_index: u16,
    /// VGA: attribute controller flip-flop (false: next 0x3C0 write is an index).
    attr_data_next: bool,
    attr_index: u8,
    attr_regs: [u8; 0x20],
    /// Other VGA ports: last byte written.
    vga_latches: [u8; 0x20],
    status_toggle: bool,
    mode_sets: u32,
    refusals: Vec<String>,
}

impl Bochs {
    pub fn new(config: BochsConfig) -> Bochs {
        let vram = DeviceMemory::new(config.vram);
        let edid = edid_block(config.preferred);
        let mut regs = [0; index::COUNT as usize];
        regs[index::ID as usize] = ID_MAX;
        regs[index::BPP as usize] = 8;
        regs[index::VIDEO_MEMORY_64K as usize] = (vram.len() >> 16).min(0xFFFF) as u16;
        Bochs {
            config,
            vram,
            edid,
            regs,
            active: None,
            port_index: 0,
            attr_data_next: false,
            attr_index: 0,
            attr_regs: [0; 0x20],
            vga_latches: [0; 0x20],
            status_toggle: false,
            mode_sets: 0,
            refusals: Vec::new(),
        }
    }

    /// The frame buffer (BAR0's RAM).
    pub fn vram(&self) -> &DeviceMemory {
        &self.vram
    }

    /// The current mode (`enabled` false and the latched registers when the display is off).
    pub fn mode(&self) -> Mode {
        self.active.unwrap_or_else(|| {
            let r = &self.regs;
            let bpp = r[index::BPP as usize];
            let width = r[index::VIRT_WIDTH as usize].max(r[index::XRES as usize]);
            Mode {
                enabled: false,
                xres: r[index::XRES as usize],
                yres: r[index::YRES as usize],
                bpp,
                stride: width as usize * bytes_per_pixel(bpp).unwrap_or(1),
                x_offset: r[index::X_OFFSET as usize],
                y_offset: r[index::Y_OFFSET as usize],
                lfb: r[index::ENABLE as usize] & enable::LFB != 0,
            }
        })
    }

    /// The bytes a monitor shows: `yres` scanlines of `xres × bytes per pixel` bytes from the
    /// display start (offsets applied), in order. Empty while the display is off.
    pub fn visible_frame(&self) -> Vec<u8> {
        let Some(m) = self.active else {
            return Vec::new();
        };
        let bpp = bytes_per_pixel(m.bpp).expect("checked at enable");
        let row = m.xres as usize * bpp;
        let start = m.y_offset as usize * m.stride + m.x_offset as usize * bpp;
        let mut out = Vec::with_capacity(row * m.yres as usize);
        for y in 0..m.yres as usize {
            let at = start + y * m.stride;
            if at + row > self.vram.len() {
                // Scanned past VRAM (offsets too large): a monitor shows nothing there.
                out.resize(out.len() + row, 0);
            } else {
                out.extend_from_slice(&self.vram.to_vec(at, row));
            }
        }
        out
    }

    /// The EDID block at BAR2+0.
    pub fn edid(&self) -> [u8; 128] {
        self.edid
    }

    /// Accepted mode sets (ENABLED turned on with a valid mode) so far.
    pub fn mode_sets(&self) -> u32 {
        self.mode_sets
    }

    /// Why each refused mode set was refused, oldest first.
    pub fn refusals(&self) -> &[String] {
        &self.refusals
    }

    /// Whether the VGA attribute controller's palette address source bit is set (the display
    /// is on as far as VGA is concerned; a miniport writes 0x20 to 0x3C0).
    pub fn vga_display_enabled(&self) -> bool {
        self.attr_index & 0x20 != 0
    }

    /// YRES maximum: 1600, or less if a 2560-pixel-wide 32-bpp screen would not fit.
    fn max_yres(&self) -> u16 {
        let per_line = MAX_XRES as usize * 4;
        (self.vram.len() / per_line).min(MAX_YRES as usize) as u16
    }

    fn getcaps(&self) -> bool {
        self.regs[index::ENABLE as usize] & enable::GETCAPS != 0
    }

    /// A DISPI register read.
    pub fn dispi_read(&self, reg: u16) -> u16 {
        match reg {
            index::XRES if self.getcaps() => MAX_XRES,
            index::YRES if self.getcaps() => self.max_yres(),
            index::BPP if self.getcaps() => MAX_BPP,
            index::VIRT_WIDTH | index::VIRT_HEIGHT | index::X_OFFSET | index::Y_OFFSET => {
                match self.active {
                    Some(m) => match reg {
                        index::VIRT_WIDTH => {
                            (m.stride / bytes_per_pixel(m.bpp).unwrap_or(1)) as u16
                        }
                        index::X_OFFSET => m.x_offset,
                        index::Y_OFFSET => m.y_offset,
                        _ => self.regs[reg as usize],
                    },
                    None => self.regs[reg as usize],
                }
            }
            r if r < index::COUNT => self.regs[r as usize],
            _ => 0,
        }
    }

    /// A DISPI register write.
    pub fn dispi_write(&mut self, ctx: &mut DeviceContext<'_>, reg: u16, value: u16) {
        let enabled = self.active.is_some();
        match reg {
            // Versions outside 0xB0C0-0xB0C5 are ignored.
            index::ID if (ID_MIN..=ID_MAX).contains(&value) => self.regs[0] = value,
            // Latched only while the display is off.
            index::XRES | index::YRES | index::BPP if !enabled => self.regs[reg as usize] = value,
            index::ENABLE => self.write_enable(ctx, value),
            index::BANK => self.regs[reg as usize] = value,
            index::VIRT_WIDTH => self.set_virtual_width(value),
            index::VIRT_HEIGHT => self.regs[reg as usize] = value,
            index::X_OFFSET | index::Y_OFFSET => {
                self.regs[reg as usize] = value;
                if let Some(m) = &mut self.active {
                    if reg == index::X_OFFSET {
                        m.x_offset = value;
                    } else {
                        m.y_offset = value;
                    }
                }
            }
            // VIDEO_MEMORY_64K is read-only; unknown indexes are ignored.
            _ => {}
        }
    }

    fn set_virtual_width(&mut self, value: u16) {
        self.regs[index::VIRT_WIDTH as usize] = value;
        if let Some(m) = &mut self.active {
            let bpp = bytes_per_pixel(m.bpp).expect("checked at enable");
            let width = value.max(m.xres) as usize;
            if width * bpp * m.yres as usize <= self.vram.len() {
                m.stride = width * bpp;
                self.regs[index::VIRT_HEIGHT as usize] =
                    (self.vram.len() / m.stride).min(0xFFFF) as u16;
            }
        }
    }

    fn write_enable(&mut self, ctx: &mut DeviceContext<'_>, value: u16) {
        let was_enabled = self.active.is_some();
        self.regs[index::ENABLE as usize] = value;
        if value & enable::ENABLED == 0 {
            self.active = None;
            return;
        }
        if was_enabled {
            // Already on: flags change only.
            if let Some(m) = &mut self.active {
                m.lfb = value & enable::LFB != 0;
            }
            return;
        }
        let r = self.regs;
        let (xres, yres, bpp) = (
            r[index::XRES as usize],
            r[index::YRES as usize],
            r[index::BPP as usize],
        );
        let why = match bytes_per_pixel(bpp) {
            None => Some(format!("BPP {bpp} is not one of 8, 15, 16, 24, 32")),
            Some(_) if xres == 0 || yres == 0 => Some(format!("{xres}x{yres} has no pixels")),
            Some(_) if xres > MAX_XRES || yres > MAX_YRES => Some(format!(
                "{xres}x{yres} exceeds the maximum {MAX_XRES}x{MAX_YRES}"
            )),
            Some(b) if xres as usize * yres as usize * b > self.vram.len() => Some(format!(
                "{xres}x{yres}x{bpp} needs {} bytes; VRAM is {} bytes",
                xres as usize * yres as usize * b,
                self.vram.len()
            )),
            Some(_) => None,
        };
        if let Some(why) = why {
            ctx.trace(|| format!("bochs: mode set refused: {why}"));
            self.refusals.push(why);
            self.regs[index::ENABLE as usize] = value & !enable::ENABLED;
            return;
        }
        let b = bytes_per_pixel(bpp).expect("checked");
        let stride = xres as usize * b;
        self.regs[index::VIRT_WIDTH as usize] = xres;
        self.regs[index::VIRT_HEIGHT as usize] = (self.vram.len() / stride).min(0xFFFF) as u16;
        self.regs[index::X_OFFSET as usize] = 0;
        self.regs[index::Y_OFFSET as usize] = 0;
        let mode = Mode {
            enabled: true,
            xres,
            yres,
            bpp,
            stride,
            x_offset: 0,
            y_offset: 0,
            lfb: value & enable::LFB != 0,
        };
        if value & enable::NOCLEAR == 0 {
            self.vram.fill(0, stride * yres as usize, 0);
        }
        self.active = Some(mode);
        self.mode_sets += 1;
        ctx.trace(|| format!("bochs: mode {xres}x{yres}x{bpp} set"));
    }

    /// A VGA port read (0x3C0-0x3DF).
    pub fn vga_read(&mut self, port: u16) -> u8 {
        match port {
            0x3C0 => self.attr_index,
            0x3C1 => self.attr_regs[(self.attr_index & 0x1F) as usize],
            // Input status 1: reading it resets the attribute flip-flop. Display-enable and
            // vertical-retrace bits toggle so polling loops end.
            0x3DA => {
                self.attr_data_next = false;
                self.status_toggle = !self.status_toggle;
                if self.status_toggle {
                    0x09
                } else {
                    0x00
                }
            }
            p if (VGA_PORT..VGA_PORT + 0x20).contains(&p) => {
                self.vga_latches[(p - VGA_PORT) as usize]
            }
            _ => 0xFF,
        }
    }

    /// A VGA port write.
    pub fn vga_write(&mut self, port: u16, value: u8) {
        match port {
            0x3C0 => {
                if self.attr_data_next {
                    self.attr_regs[(self.attr_index & 0x1F) as usize] = value;
                } else {
                    self.attr_index = value & 0x3F;
                }
                self.attr_data_next = !self.attr_data_next;
            }
            p if (VGA_PORT..VGA_PORT + 0x20).contains(&p) => {
                self.vga_latches[(p - VGA_PORT) as usize] = value;
            }
            _ => {}
        }
    }

    fn bad_access(ctx: &mut DeviceContext<'_>, what: String) {
        ctx.report(violation::BOCHS_BAD_ACCESS, format!("bochs: {what}"));
    }
}

impl PciDeviceModel for Bochs {
    fn vendor_id(&self) -> u16 {
        VENDOR_ID
    }

    fn device_id(&self) -> u16 {
        DEVICE_ID
    }

    /// A 4 KiB PCI expansion ROM as a PC option ROM is laid out (PCI Firmware Specification):
    /// the 55h AAh signature, its size in 512-byte blocks, a pointer at 18h to the "PCIR" data
    /// structure naming this vendor, device and class, marked as the last image, and a text
    /// the miniport can look for.
    fn expansion_rom(&self) -> Option<Vec<u8>> {
        Some(option_rom())
    }

    /// With the legacy VGA ports (`-vga std`) a VGA-compatible display controller (03h/00h);
    /// without them (`-device bochs-display`) a display controller of another kind (03h/80h).
    fn class_code(&self) -> (u8, u8, u8) {
        if self.config.legacy_ports {
            (0x03, 0x00, 0x00)
        } else {
            (0x03, 0x80, 0x00)
        }
    }

    fn bars(&self) -> Vec<BarSpec> {
        let mut bars = vec![BarSpec {
            kind: BarKind::Memory32Prefetchable,
            size: self.vram.len() as u64,
        }];
        if self.config.mmio_bar {
            bars.push(BarSpec {
                kind: BarKind::Unused,
                size: 0,
            });
            bars.push(BarSpec {
                kind: BarKind::Memory32,
                size: MMIO_BAR_SIZE,
            });
        }
        bars
    }

    fn has_interrupt(&self) -> bool {
        false
    }

    fn ram(&self, bar: usize) -> Option<DeviceMemory> {
        (bar == 0).then(|| self.vram.clone())
    }

    fn legacy_ports(&self) -> Vec<core::ops::Range<u16>> {
        if self.config.legacy_ports {
            vec![
                DISPI_INDEX_PORT..DISPI_DATA_PORT + 1,
                VGA_PORT..VGA_PORT + 0x20,
            ]
        } else {
            Vec::new()
        }
    }

    fn read(&mut self, ctx: &mut DeviceContext<'_>, bar: usize, offset: u64, size: u8) -> u64 {
        if bar != 2 {
            Self::bad_access(ctx, format!("read of BAR{bar}+{offset:#x}"));
            return u64::MAX;
        }
        match offset {
            o if o < mmio::EDID_END => (0..u64::from(size))
                .map(|i| {
                    let at = (o + i) as usize;
                    u64::from(self.edid.get(at).copied().unwrap_or(0)) << (8 * i)
                })
                .sum(),
            o if (mmio::VGA..mmio::VGA_END).contains(&o) && size <= 2 => (0..u64::from(size))
                .map(|i| {
                    let port = VGA_PORT + (o + i - mmio::VGA) as u16;
                    u64::from(self.vga_read(port)) << (8 * i)
                })
                .sum(),
            o if (mmio::DISPI..mmio::DISPI_END).contains(&o) && size == 2 && o % 2 == 0 => {
                u64::from(self.dispi_read(((o - mmio::DISPI) / 2) as u16))
            }
            o if (mmio::VGA..mmio::VGA_END).contains(&o)
                || (mmio::DISPI..mmio::DISPI_END).contains(&o) =>
            {
                Self::bad_access(ctx, format!("{size}-byte read at BAR2+{o:#x}"));
                u64::MAX
            }
            _ => 0,
        }
    }

    fn write(
        &mut self,
        ctx: &mut DeviceContext<'_>,
        bar: usize,
        offset: u64,
        size: u8,
        value: u64,
    ) {
        if bar != 2 {
            Self::bad_access(ctx, format!("write of BAR{bar}+{offset:#x}"));
            return;
        }
        match offset {
            o if (mmio::VGA..mmio::VGA_END).contains(&o) && size <= 2 => {
                for i in 0..u64::from(size) {
                    let port = VGA_PORT + (o + i - mmio::VGA) as u16;
                    self.vga_write(port, (value >> (8 * i)) as u8);
                }
            }
            o if (mmio::DISPI..mmio::DISPI_END).contains(&o) && size == 2 && o % 2 == 0 => {
                self.dispi_write(ctx, ((o - mmio::DISPI) / 2) as u16, value as u16);
            }
            o if (mmio::VGA..mmio::VGA_END).contains(&o)
                || (mmio::DISPI..mmio::DISPI_END).contains(&o) =>
            {
                Self::bad_access(ctx, format!("{size}-byte write at BAR2+{o:#x}"));
            }
            // EDID and the rest are read-only / unassigned.
            _ => {}
        }
    }

    fn port_read(&mut self, ctx: &mut DeviceContext<'_>, port: u16, size: u8) -> u64 {
        match (port, size) {
            (DISPI_INDEX_PORT, 2) => u64::from(self.port_index),
            (DISPI_DATA_PORT, 2) => u64::from(self.dispi_read(self.port_index)),
            (p, 1) if (VGA_PORT..VGA_PORT + 0x20).contains(&p) => u64::from(self.vga_read(p)),
            _ => {
                Self::bad_access(ctx, format!("{size}-byte read of port {port:#x}"));
                u64::MAX
            }
        }
    }

    fn port_write(&mut self, ctx: &mut DeviceContext<'_>, port: u16, size: u8, value: u64) {
        match (port, size) {
            (DISPI_INDEX_PORT, 2) => self.port_index = value as u16,
            (DISPI_DATA_PORT, 2) => self.dispi_write(ctx, self.port_index, value as u16),
            (p, 1) if (VGA_PORT..VGA_PORT + 0x20).contains(&p) => self.vga_write(p, value as u8),
            (p, 2) if (VGA_PORT..VGA_PORT + 0x1F).contains(&p) => {
                self.vga_write(p, value as u8);
                self.vga_write(p + 1, (value >> 8) as u8);
            }
            _ => Self::bad_access(ctx, format!("{size}-byte write of port {port:#x}")),
        }
    }
}

/// A detailed timing (VESA DMT values): active, front porch, sync, back porch; pixel clock
/// in kHz; sync polarities (true = positive).
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub h: [u16; 4],
    pub v: [u16; 4],
    pub clock_khz: u32,
    pub hsync_positive: bool,
    pub vsync_positive: bool,
}

/// The modes the EDID can prefer, at 60 Hz (VESA DMT).
pub const EDID_TIMINGS: [Timing; 3] = [
    Timing {
        h: [800, 40, 128, 88],
        v: [600, 1, 4, 23],
        clock_khz: 40_000,
        hsync_positive: true,
        vsync_positive: true,
    },
    Timing {
        h: [1024, 24, 136, 160],
        v: [768, 3, 6, 29],
        clock_khz: 65_000,
        hsync_positive: false,
        vsync_positive: false,
    },
    Timing {
        h: [1280, 48, 112, 248],
        v: [1024, 1, 3, 38],
        clock_khz: 108_000,
        hsync_positive: true,
        vsync_positive: true,
    },
];

/// An 18-byte detailed timing descriptor (EDID 1.3 §3.10.2), image size in mm.
fn detailed_timing(t: &Timing, size_mm: (u16, u16)) -> [u8; 18] {
    let [ha, hfp, hsw, hbp] = t.h;
    let [va, vfp, vsw, vbp] = t.v;
    let hblank = hfp + hsw + hbp;
    let vblank = vfp + vsw + vbp;
    let clock = (t.clock_khz / 10) as u16;
    let mut d = [0u8; 18];
    d[0..2].copy_from_slice(&clock.to_le_bytes());
    d[2] = ha as u8;
    d[3] = hblank as u8;
    d[4] = ((ha >> 8) as u8) << 4 | (hblank >> 8) as u8 & 0x0F;
    d[5] = va as u8;
    d[6] = vblank as u8;
    d[7] = ((va >> 8) as u8) << 4 | (vblank >> 8) as u8 & 0x0F;
    d[8] = hfp as u8;
    d[9] = hsw as u8;
    d[10] = (vfp as u8 & 0x0F) << 4 | vsw as u8 & 0x0F;
    d[11] = ((hfp >> 8) as u8 & 3) << 6
        | ((hsw >> 8) as u8 & 3) << 4
        | ((vfp >> 4) as u8 & 3) << 2
        | (vsw >> 4) as u8 & 3;
    d[12] = size_mm.0 as u8;
    d[13] = size_mm.1 as u8;
    d[14] = ((size_mm.0 >> 8) as u8) << 4 | (size_mm.1 >> 8) as u8 & 0x0F;
    // Borders 0; digital separate sync (bits 4-3 = 11) with the polarities.
    d[17] = 0x18 | u8::from(t.vsync_positive) << 2 | u8::from(t.hsync_positive) << 1;
    d
}

/// A display descriptor (tag 0xFC name, 0xFD range limits, 0x10 dummy) with 13 data bytes.
fn display_descriptor(tag: u8, data: &[u8; 13]) -> [u8; 18] {
    let mut d = [0u8; 18];
    d[3] = tag;
    d[5..18].copy_from_slice(data);
    d
}

/// The EDID 1.3 base block: header, vendor "NTS" product 0x1111, digital RGB display with
/// sRGB-like chromaticity, established and standard timings, the preferred mode as the first
/// detailed timing, range limits, a monitor name, and the checksum.
pub fn edid_block(preferred: (u16, u16)) -> [u8; 128] {
    let timing = EDID_TIMINGS
        .iter()
        .find(|t| (t.h[0], t.v[0]) == preferred)
        .copied()
        .unwrap_or(EDID_TIMINGS[1]);
    let mut e = [0u8; 128];
    e[0..8].copy_from_slice(&[0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00]);
    // Manufacturer: three letters, 5 bits each ('A' = 1), big-endian.
    let letter = |c: u8| u16::from(c - b'A' + 1);
    let maker = letter(b'N') << 10 | letter(b'T') << 5 | letter(b'S');
    e[8..10].copy_from_slice(&maker.to_be_bytes());
    e[10..12].copy_from_slice(&DEVICE_ID.to_le_bytes());
    // Serial number 0; week 1 of 2024.
    e[16] = 1;
    e[17] = (2024 - 1990) as u8;
    // EDID 1.3.
    e[18] = 1;
    e[19] = 3;
    // Digital input; image 32 x 24 cm; gamma 2.2; RGB colour, preferred timing in DTD 1.
    e[20] = 0x80;
    e[21] = 32;
    e[22] = 24;
    e[23] = 120;
    e[24] = 0x0A;
    // Chromaticity (sRGB primaries, D65 white), 10-bit fractions.
    let q = |x: f64| (x * 1024.0).round() as u16;
    let [rx, ry, gx, gy, bx, by, wx, wy] =
        [0.640, 0.330, 0.300, 0.600, 0.150, 0.060, 0.3127, 0.3290].map(q);
    let lo = |a: u16, b: u16, c: u16, d: u16| {
        ((a & 3) << 6 | (b & 3) << 4 | (c & 3) << 2 | (d & 3)) as u8
    };
    e[25] = lo(rx, ry, gx, gy);
    e[26] = lo(bx, by, wx, wy);
    for (i, v) in [rx, ry, gx, gy, bx, by, wx, wy].iter().enumerate() {
        e[27 + i] = (v >> 2) as u8;
    }
    // Established timings: 640x480@60, 800x600@60; 1024x768@60.
    e[35] = 0x21;
    e[36] = 0x08;
    e[37] = 0x00;
    // Standard timings: 1280x1024@60 (5:4), 1600x1200@60 (4:3), 1920x1080@60 (16:9); rest unused.
    let standard = [(1280u16, 0b10u8), (1600, 0b00), (1920, 0b11)];
    for i in 0..8 {
        let (b0, b1) = match standard.get(i) {
            Some(&(w, aspect)) => ((w / 8 - 31) as u8, aspect << 6),
            None => (0x01, 0x01),
        };
        e[38 + 2 * i] = b0;
        e[39 + 2 * i] = b1;
    }
    e[54..72].copy_from_slice(&detailed_timing(&timing, (320, 240)));
    // Range limits: 50-75 Hz vertical, 30-80 kHz horizontal, 170 MHz, no secondary timing.
    let mut limits = [0x20u8; 13];
    limits[..7].copy_from_slice(&[50, 75, 30, 80, 17, 0x00, 0x0A]);
    e[72..90].copy_from_slice(&display_descriptor(0xFD, &limits));
    let mut name = [0x20u8; 13];
    name[..12].copy_from_slice(b"ntsim Bochs\n");
    e[90..108].copy_from_slice(&display_descriptor(0xFC, &name));
    e[108..126].copy_from_slice(&display_descriptor(0x10, &[0; 13]));
    // No extensions; checksum makes the 128 bytes sum to 0 mod 256.
    e[126] = 0;
    let sum = e[..127].iter().fold(0u8, |a, b| a.wrapping_add(*b));
    e[127] = sum.wrapping_neg();
    e
}

/// Bytes of the expansion ROM.
pub const ROM_SIZE: usize = 4096;
/// Text inside the expansion ROM.
pub const ROM_TEXT: &[u8] = b"ntsim Bochs display option ROM";

/// The expansion ROM image (see `expansion_rom`).
pub fn option_rom() -> Vec<u8> {
    let mut rom = vec![0u8; ROM_SIZE];
    rom[0] = 0x55;
    rom[1] = 0xAA;
    rom[2] = (ROM_SIZE / 512) as u8;
    // Offset of the PCI data structure.
    rom[0x18..0x1A].copy_from_slice(&0x40u16.to_le_bytes());
    let pcir = &mut rom[0x40..0x58];
    pcir[0..4].copy_from_slice(b"PCIR");
    pcir[4..6].copy_from_slice(&VENDOR_ID.to_le_bytes());
    pcir[6..8].copy_from_slice(&DEVICE_ID.to_le_bytes());
    pcir[0x0A..0x0C].copy_from_slice(&0x18u16.to_le_bytes()); // structure length
    pcir[0x0D] = 0x00; // programming interface
    pcir[0x0E] = 0x00; // subclass: VGA
    pcir[0x0F] = 0x03; // base class: display
    pcir[0x10..0x12].copy_from_slice(&((ROM_SIZE / 512) as u16).to_le_bytes());
    pcir[0x14] = 0x00; // code type: x86
    pcir[0x15] = 0x80; // last image
    rom[0x80..0x80 + ROM_TEXT.len()].copy_from_slice(ROM_TEXT);
    rom
}
