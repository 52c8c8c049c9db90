//! The video BIOS of the Bochs display: INT 10h with the VESA BIOS Extensions (VBE 3.0 core
//! functions 4F00h-4F03h) and VBE/DDC (4F15h), as the HAL's x86 emulator runs it
//! ([`crate::hal::x86bios`]). It programs the [`Bochs`] model through its DISPI registers, the
//! way the real VGA BIOS of QEMU's adapter does.
//!
//! | AX | what |
//! |---|---|
//! | 4F00h | controller information into ES:DI: "VESA", version 3.0, OEM strings and the mode list as far pointers into the ROM at C000h, VRAM in 64 KiB units; 512 bytes when the caller put "VBE2" there, else 256 |
//! | 4F01h | mode information (256 bytes) for mode CX into ES:DI; the linear frame buffer is BAR0 |
//! | 4F02h | sets mode BX (bit 14: linear frame buffer, bit 15: keep VRAM); mode 3 turns the display off (VGA text) |
//! | 4F03h | the current mode in BX (bit 14 set when linear), 3 while the display is off |
//! | 4F15h | BL=0: DDC capabilities (DDC2, BH=1 s per block); BL=1: EDID block DX (only 0 exists) of monitor CX (only 0) into ES:DI |
//! | other 4Fxxh | AX=024Fh (not supported in this hardware configuration) |
//! | AH=00h | AL=03h turns the display off; other legacy modes and functions leave the registers as they were |
//!
//! A failed VBE call (an unknown mode, a buffer outside real memory, a mode the device
//! refuses) returns AX=014Fh. Mode numbers are this BIOS's own (VBE 2.0 onwards: callers take
//! them from the list, not from a fixed table).

use super::bochs::{enable, index, Bochs, EDID_TIMINGS, MAX_XRES, MAX_YRES};
use crate::hal::x86bios::{linear, RealMemory};
use crate::pci::DeviceContext;
use ddk_sys::X86_BIOS_REGISTERS;

/// (VBE mode number, width, height, bits per pixel) of every mode this BIOS knows; those that
/// do not fit the device's VRAM are left out of the list.
pub const MODES: [(u16, u16, u16, u16); 18] = [
    (0x101, 640, 480, 8),
    (0x103, 800, 600, 8),
    (0x105, 1024, 768, 8),
    (0x111, 640, 480, 16),
    (0x114, 800, 600, 16),
    (0x117, 1024, 768, 16),
    (0x11A, 1280, 1024, 16),
    (0x112, 640, 480, 24),
    (0x115, 800, 600, 24),
    (0x118, 1024, 768, 24),
    (0x11B, 1280, 1024, 24),
    (0x140, 640, 480, 32),
    (0x141, 800, 600, 32),
    (0x142, 1024, 768, 32),
    (0x143, 1280, 1024, 32),
    (0x144, 1600, 1200, 32),
    (0x145, 1920, 1080, 32),
    (0x146, 2560, 1600, 32),
];

/// AX on success, on failure, and for an unsupported function.
pub const VBE_OK: u32 = 0x004F;
pub const VBE_FAILED: u32 = 0x014F;
pub const VBE_UNSUPPORTED: u32 = 0x024F;

/// Where the BIOS keeps its tables (segment C000h).
pub const ROM_SEGMENT: u16 = 0xC000;
pub const OEM_STRING: u16 = 0x0100;
pub const VENDOR_NAME: u16 = 0x0120;
pub const PRODUCT_NAME: u16 = 0x0130;
pub const PRODUCT_REV: u16 = 0x0150;
pub const MODE_LIST: u16 = 0x0160;

pub const OEM_STRING_TEXT: &[u8] = b"ntsim Bochs VBE BIOS\0";
pub const VENDOR_NAME_TEXT: &[u8] = b"ntsim\0";
pub const PRODUCT_NAME_TEXT: &[u8] = b"Bochs display (1234:1111)\0";
pub const PRODUCT_REV_TEXT: &[u8] = b"1.0\0";

fn bytes_per_pixel(bpp: u16) -> usize {
    usize::from(bpp).div_ceil(8)
}

/// The modes `bochs` can show (fit its VRAM and the DISPI maxima), in [`MODES`] order.
pub fn available_modes(bochs: &Bochs) -> Vec<(u16, u16, u16, u16)> {
    let vram = bochs.vram().len();
    MODES
        .iter()
        .copied()
        .filter(|&(_, x, y, bpp)| {
            x <= MAX_XRES
                && y <= MAX_YRES
                && usize::from(x) * usize::from(y) * bytes_per_pixel(bpp) <= vram
        })
        .collect()
}

fn far(segment: u16, offset: u16) -> u32 {
    u32::from(segment) << 16 | u32::from(offset)
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Writes the ROM tables: the strings and the mode list (terminated by FFFFh).
fn place_rom(bochs: &Bochs, mem: &mut RealMemory) {
    for (offset, text) in [
        (OEM_STRING, OEM_STRING_TEXT),
        (VENDOR_NAME, VENDOR_NAME_TEXT),
        (PRODUCT_NAME, PRODUCT_NAME_TEXT),
        (PRODUCT_REV, PRODUCT_REV_TEXT),
    ] {
        mem.write_rom(linear(ROM_SEGMENT, offset), text);
    }
    let mut list: Vec<u8> = available_modes(bochs)
        .iter()
        .flat_map(|m| m.0.to_le_bytes())
        .collect();
    list.extend_from_slice(&0xFFFFu16.to_le_bytes());
    mem.write_rom(linear(ROM_SEGMENT, MODE_LIST), &list);
}

/// The caller's ES:DI buffer, as a linear address.
fn es_di(regs: &X86_BIOS_REGISTERS) -> u32 {
    linear(regs.SegEs, regs.Edi as u16)
}

fn set_ax(regs: &mut X86_BIOS_REGISTERS, ax: u32) {
    regs.Eax = regs.Eax & 0xFFFF_0000 | ax;
}

fn set_bx(regs: &mut X86_BIOS_REGISTERS, bx: u16) {
    regs.Ebx = regs.Ebx & 0xFFFF_0000 | u32::from(bx);
}

/// 4F00h: the VbeInfoBlock.
fn controller_info(bochs: &Bochs, regs: &X86_BIOS_REGISTERS, mem: &mut RealMemory) -> u32 {
    let at = es_di(regs);
    let mut signature = [0u8; 4];
    if !mem.read(at, &mut signature) {
        return VBE_FAILED;
    }
    let mut block = vec![0u8; if &signature == b"VBE2" { 512 } else { 256 }];
    block[0..4].copy_from_slice(b"VESA");
    put16(&mut block, 4, 0x0300);
    put32(&mut block, 6, far(ROM_SEGMENT, OEM_STRING));
    // Capabilities: DAC switchable to 8 bits per primary (DISPI's DAC_8BIT).
    put32(&mut block, 10, 1);
    put32(&mut block, 14, far(ROM_SEGMENT, MODE_LIST));
    put16(
        &mut block,
        18,
        (bochs.vram().len() >> 16).min(0xFFFF) as u16,
    );
    put16(&mut block, 20, 0x0100);
    put32(&mut block, 22, far(ROM_SEGMENT, VENDOR_NAME));
    put32(&mut block, 26, far(ROM_SEGMENT, PRODUCT_NAME));
    put32(&mut block, 30, far(ROM_SEGMENT, PRODUCT_REV));
    if mem.write(at, &block) {
        VBE_OK
    } else {
        VBE_FAILED
    }
}

/// (mask size, field position) of red, green, blue and reserved for a direct-colour depth.
fn colour_fields(bpp: u16) -> [(u8, u8); 4] {
    match bpp {
        16 => [(5, 11), (6, 5), (5, 0), (0, 0)],
        24 => [(8, 16), (8, 8), (8, 0), (0, 0)],
        32 => [(8, 16), (8, 8), (8, 0), (8, 24)],
        _ => [(0, 0); 4],
    }
}

/// The ModeInfoBlock (256 bytes) of an available mode.
pub fn mode_info_block(bochs: &Bochs, mode: (u16, u16, u16, u16), frame_buffer: u32) -> Vec<u8> {
    let (_, x, y, bpp) = mode;
    let stride = usize::from(x) * bytes_per_pixel(bpp);
    let frame = stride * usize::from(y);
    let pages = (bochs.vram().len() / frame).clamp(1, 256) - 1;
    let mut b = vec![0u8; 256];
    // Supported, extended information, colour, graphics, linear frame buffer available.
    put16(&mut b, 0, 0x009B);
    // Window A: readable and writable at A000h, 64 KiB, 64 KiB granularity.
    b[2] = 0x07;
    put16(&mut b, 4, 64);
    put16(&mut b, 6, 64);
    put16(&mut b, 8, 0xA000);
    put16(&mut b, 16, stride as u16);
    put16(&mut b, 18, x);
    put16(&mut b, 20, y);
    b[22] = 8;
    b[23] = 16;
    b[24] = 1;
    b[25] = bpp as u8;
    b[26] = 1;
    // Memory model: packed pixel for 8 bpp, direct colour above.
    b[27] = if bpp == 8 { 4 } else { 6 };
    b[29] = pages as u8;
    b[30] = 1;
    let fields = colour_fields(bpp);
    for (i, (size, position)) in fields.iter().enumerate() {
        b[31 + 2 * i] = *size;
        b[32 + 2 * i] = *position;
        b[54 + 2 * i] = *size;
        b[55 + 2 * i] = *position;
    }
    put32(&mut b, 40, frame_buffer);
    put16(&mut b, 50, stride as u16);
    b[52] = pages as u8;
    b[53] = pages as u8;
    put32(&mut b, 62, EDID_TIMINGS[2].clock_khz * 1000);
    b
}

fn find(bochs: &Bochs, number: u16) -> Option<(u16, u16, u16, u16)> {
    available_modes(bochs)
        .into_iter()
        .find(|m| m.0 == number & 0x1FF)
}

/// 4F02h: sets a mode through the DISPI registers.
fn set_mode(bochs: &mut Bochs, ctx: &mut DeviceContext<'_>, bx: u16) -> u32 {
    let number = bx & 0x1FF;
    if number == 0x03 {
        bochs.dispi_write(ctx, index::ENABLE, 0);
        return VBE_OK;
    }
    let Some((_, x, y, bpp)) = find(bochs, number) else {
        return VBE_FAILED;
    };
    let mut flags = enable::ENABLED;
    if bx & 0x4000 != 0 {
        flags |= enable::LFB;
    }
    if bx & 0x8000 != 0 {
        flags |= enable::NOCLEAR;
    }
    bochs.dispi_write(ctx, index::ENABLE, 0);
    bochs.dispi_write(ctx, index::XRES, x);
    bochs.dispi_write(ctx, index::YRES, y);
    bochs.dispi_write(ctx, index::BPP, bpp);
    bochs.dispi_write(ctx, index::ENABLE, flags);
    let m = bochs.mode();
    if m.enabled && (m.xres, m.yres, m.bpp) == (x, y, bpp) {
        VBE_OK
    } else {
        VBE_FAILED
    }
}

/// 4F03h: the current mode, if it is one of the list (3 while the display is off).
fn current_mode(bochs: &Bochs) -> Option<u16> {
    let m = bochs.mode();
    if !m.enabled {
        return Some(0x03);
    }
    available_modes(bochs)
        .iter()
        .find(|&&(_, x, y, bpp)| (x, y, bpp) == (m.xres, m.yres, m.bpp))
        .map(|&(n, ..)| if m.lfb { n | 0x4000 } else { n })
}

/// 4F15h: VBE/DDC.
fn ddc(bochs: &Bochs, regs: &mut X86_BIOS_REGISTERS, mem: &mut RealMemory) -> u32 {
    match regs.Ebx as u8 {
        0x00 => {
            // DDC2 supported; one second per block at most.
            set_bx(regs, 0x0102);
            VBE_OK
        }
        0x01 if regs.Ecx as u16 == 0 && regs.Edx as u16 == 0 => {
            if mem.write(es_di(regs), &bochs.edid()) {
                VBE_OK
            } else {
                VBE_FAILED
            }
        }
        _ => VBE_FAILED,
    }
}

/// Runs INT 10h with `regs` for the Bochs display whose BAR0 is at `frame_buffer`.
pub fn int10(
    bochs: &mut Bochs,
    ctx: &mut DeviceContext<'_>,
    regs: &mut X86_BIOS_REGISTERS,
    mem: &mut RealMemory,
    frame_buffer: u32,
) {
    place_rom(bochs, mem);
    let ax = regs.Eax as u16;
    if ax >> 8 == 0x00 {
        if ax & 0x7F == 0x03 {
            bochs.dispi_write(ctx, index::ENABLE, 0);
        }
        return;
    }
    if ax >> 8 != 0x4F {
        return;
    }
    let status = match ax as u8 {
        0x00 => controller_info(bochs, regs, mem),
        0x01 => match find(bochs, regs.Ecx as u16) {
            Some(mode) => {
                let block = mode_info_block(bochs, mode, frame_buffer);
                if mem.write(es_di(regs), &block) {
                    VBE_OK
                } else {
                    VBE_FAILED
                }
            }
            None => VBE_FAILED,
        },
        0x02 => set_mode(bochs, ctx, regs.Ebx as u16),
        0x03 => match current_mode(bochs) {
            Some(mode) => {
                set_bx(regs, mode);
                VBE_OK
            }
            None => VBE_FAILED,
        },
        0x15 => ddc(bochs, regs, mem),
        _ => VBE_UNSUPPORTED,
    };
    ctx.trace(|| format!("vbe: AX={ax:04X} -> {status:04X}"));
    set_ax(regs, status);
}
