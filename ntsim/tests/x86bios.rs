//! The HAL's x86 BIOS emulator routines (`x86Bios*`) and the VBE BIOS of the Bochs display
//! behind INT 10h: real-mode memory and its buffers, each VBE function against the device's
//! registers, the failures (bad ranges, unknown modes and functions, IRQL, NULL pointers,
//! injected faults) and the Windows versions that have the routines.

use ddk_sys::*;
use ntsim::devices::bochs::{Bochs, BochsConfig};
use ntsim::devices::vbe;
use ntsim::hal::x86bios::{
    x86BiosAllocateBuffer, x86BiosCall, x86BiosFreeBuffer, x86BiosReadMemory, x86BiosWriteMemory,
};
use ntsim::verifier::{bugcheck, ntsim_code};
use ntsim::{kernel_exports, FaultKind, LeakKind, Machine, MachineConfig, OsVersion, Pdo};

fn allocate(size: u32) -> Result<(u16, u16, u32), NTSTATUS> {
    let (mut size, mut seg, mut off) = (size, 0u16, 0u16);
    // SAFETY: three valid locals.
    let status = unsafe { x86BiosAllocateBuffer(&mut size, &mut seg, &mut off) };
    if status == STATUS_SUCCESS {
        Ok((seg, off, size))
    } else {
        Err(status)
    }
}

fn write(seg: u16, off: u16, data: &[u8]) -> NTSTATUS {
    // SAFETY: `data` is readable for its length.
    unsafe { x86BiosWriteMemory(seg, off, data.as_ptr().cast_mut().cast(), data.len() as u32) }
}

fn read(seg: u16, off: u16, len: usize) -> Result<Vec<u8>, NTSTATUS> {
    let mut out = vec![0u8; len];
    // SAFETY: `out` is writable for its length.
    let status = unsafe { x86BiosReadMemory(seg, off, out.as_mut_ptr().cast(), len as u32) };
    if status == STATUS_SUCCESS {
        Ok(out)
    } else {
        Err(status)
    }
}

/// INT 10h with AX, BX, CX, DX and ES:DI; the registers after the call.
fn int10(ax: u32, bx: u32, cx: u32, dx: u32, es_di: (u16, u16)) -> X86_BIOS_REGISTERS {
    let mut regs = X86_BIOS_REGISTERS {
        Eax: ax,
        Ebx: bx,
        Ecx: cx,
        Edx: dx,
        Edi: u32::from(es_di.1),
        SegEs: es_di.0,
        ..Default::default()
    };
    // SAFETY: a valid register block.
    assert_eq!(unsafe { x86BiosCall(0x10, &mut regs) }, TRUE);
    regs
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn bochs_machine(config: BochsConfig) -> (Machine, Pdo) {
    let machine = Machine::new(MachineConfig::default());
    let pdo = machine.plug_pci_device(Box::new(Bochs::new(config)));
    (machine, pdo)
}

#[test]
fn buffers_come_from_the_window_in_pages_and_must_be_freed_exactly() {
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    assert_eq!(allocate(100), Ok((0x2000, 0, 4096)));
    assert_eq!(allocate(8192), Ok((0x2100, 0, 8192)));
    assert_eq!(x86BiosFreeBuffer(0x2000, 0), STATUS_SUCCESS);
    // First fit: the freed page is reused; a second page does not fit before 0x2100.
    assert_eq!(allocate(4096), Ok((0x2000, 0, 4096)));
    assert_eq!(allocate(4097), Ok((0x2300, 0, 8192)));
    // Not an allocation's start, or already freed.
    assert_eq!(x86BiosFreeBuffer(0x2000, 0x10), STATUS_INVALID_PARAMETER);
    assert_eq!(x86BiosFreeBuffer(0x2001, 0), STATUS_INVALID_PARAMETER);
    assert_eq!(x86BiosFreeBuffer(0x2100, 0), STATUS_SUCCESS);
    assert_eq!(x86BiosFreeBuffer(0x2100, 0), STATUS_INVALID_PARAMETER);
    assert_eq!(allocate(0), Err(STATUS_INVALID_PARAMETER));
    assert_eq!(allocate(64 * 1024 + 1), Err(STATUS_INSUFFICIENT_RESOURCES));
    // 16 pages in all: pages 0, 3 and 4 taken; 13 left, in runs of 2 and 11.
    assert_eq!(allocate(12 * 4096), Err(STATUS_INSUFFICIENT_RESOURCES));
    assert_eq!(allocate(11 * 4096), Ok((0x2500, 0, 11 * 4096)));
    assert_eq!(allocate(2 * 4096), Ok((0x2100, 0, 2 * 4096)));
    assert_eq!(allocate(1), Err(STATUS_INSUFFICIENT_RESOURCES));
    assert_eq!(machine.bios_buffers().len(), 4);
    let leaks = machine.leaks();
    assert_eq!(leaks.count(LeakKind::BiosBuffer), 4, "{leaks}");
    for (seg, _) in machine.bios_buffers() {
        assert_eq!(x86BiosFreeBuffer(seg, 0), STATUS_SUCCESS);
    }
    machine.assert_clean();
}

#[test]
fn memory_reads_back_what_was_written_and_rom_and_the_1_mib_limit_hold() {
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
    assert_eq!(write(0x2000, 0x10, &data), STATUS_SUCCESS);
    assert_eq!(read(0x2001, 0, 300), Ok(data.clone()));
    assert_eq!(machine.real_memory(0x2000, 0x10, 300), data);
    // Segment:offset wraps into the next segment's bytes, as real mode addresses them.
    assert_eq!(read(0x1FFF, 0x20, 4), Ok(data[..4].to_vec()));
    // ROM (C000h onwards) ignores writes; the part below it is written.
    let rom_before = read(0xC000, 0, 16).unwrap();
    assert_eq!(write(0xBFFF, 0x08, &[0xAA; 16]), STATUS_SUCCESS);
    assert_eq!(read(0xBFFF, 0x08, 8), Ok(vec![0xAA; 8]));
    assert_eq!(read(0xC000, 0, 16), Ok(rom_before));
    // The last byte of the 1 MiB is readable; one more is not.
    assert!(read(0xF000, 0xFFFF, 1).is_ok());
    assert_eq!(read(0xF000, 0xFFFF, 2), Err(STATUS_INVALID_PARAMETER));
    assert_eq!(write(0xFFFF, 0xFFFF, &[1]), STATUS_INVALID_PARAMETER);
    // Zero bytes: nothing to do.
    // SAFETY: nothing is read through the NULL pointer for 0 bytes.
    let zero = unsafe { x86BiosReadMemory(0x2000, 0, core::ptr::null_mut(), 0) };
    assert_eq!(zero, STATUS_SUCCESS);
    machine.assert_clean();
}

#[test]
fn null_pointers_and_raised_irql_are_reported_and_fail() {
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let (mut seg, mut off) = (0u16, 0u16);
    // SAFETY: NULL Size: refused before any access.
    let s = unsafe { x86BiosAllocateBuffer(core::ptr::null_mut(), &mut seg, &mut off) };
    assert_eq!(s, STATUS_INVALID_PARAMETER);
    // SAFETY: NULL Buffer with a length: refused.
    let s = unsafe { x86BiosReadMemory(0x2000, 0, core::ptr::null_mut(), 4) };
    assert_eq!(s, STATUS_INVALID_PARAMETER);
    // SAFETY: NULL registers: refused.
    assert_eq!(unsafe { x86BiosCall(0x10, core::ptr::null_mut()) }, FALSE);
    let codes: Vec<(u32, u32, u64)> = machine
        .take_violations()
        .iter()
        .map(|v| (v.bugcheck, v.code, v.params[0]))
        .collect();
    assert_eq!(
        codes,
        vec![
            (bugcheck::NTSIM_CHECK, ntsim_code::BAD_ARGUMENT, 1),
            (bugcheck::NTSIM_CHECK, ntsim_code::BAD_ARGUMENT, 3),
            (bugcheck::NTSIM_CHECK, ntsim_code::BAD_ARGUMENT, 2),
        ]
    );
    // SAFETY: raising and lowering around the calls.
    let old = unsafe { KeRaiseIrql(DISPATCH_LEVEL) };
    let mut regs = X86_BIOS_REGISTERS::default();
    // SAFETY: valid registers.
    assert_eq!(unsafe { x86BiosCall(0x10, &mut regs) }, FALSE);
    assert_eq!(x86BiosFreeBuffer(0x2000, 0), STATUS_UNSUCCESSFUL);
    // SAFETY: as above.
    unsafe { KeLowerIrql(old) };
    let v = machine.take_violations();
    assert_eq!(v.len(), 2);
    assert!(v
        .iter()
        .all(|v| v.bugcheck == bugcheck::IRQL_NOT_LESS_OR_EQUAL
            && v.code == u32::from(DISPATCH_LEVEL)));
    machine.assert_clean();
}

#[test]
fn without_a_video_bios_int10_is_an_iret_and_other_interrupts_are_not_emulated() {
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let regs = int10(0x4F00, 0x1234, 5, 6, (0x2000, 0));
    assert_eq!(
        (regs.Eax, regs.Ebx, regs.Ecx, regs.Edx),
        (0x4F00, 0x1234, 5, 6)
    );
    let (machine2, _) = bochs_machine(BochsConfig::default());
    drop(_g);
    let _g = machine2.enter();
    let mut regs = X86_BIOS_REGISTERS::default();
    // SAFETY: valid registers.
    assert_eq!(unsafe { x86BiosCall(0x13, &mut regs) }, FALSE);
    // SAFETY: valid registers.
    assert_eq!(unsafe { x86BiosCall(0x15, &mut regs) }, FALSE);
    machine2.assert_clean();
}

#[test]
fn vbe_controller_info_points_at_the_rom_tables_and_lists_the_modes_that_fit() {
    for (vram, expect_last) in [(16 << 20, 0x146u16), (4 << 20, 0x142), (1 << 20, 0x112)] {
        let (machine, pdo) = bochs_machine(BochsConfig {
            vram,
            ..Default::default()
        });
        let _g = machine.enter();
        let (seg, off, _) = allocate(512).unwrap();
        assert_eq!(write(seg, off, b"VBE2"), STATUS_SUCCESS);
        let regs = int10(0x4F00, 0, 0, 0, (seg, off));
        assert_eq!(regs.Eax & 0xFFFF, vbe::VBE_OK);
        let info = read(seg, off, 512).unwrap();
        assert_eq!(&info[0..4], b"VESA");
        assert_eq!(u16_at(&info, 4), 0x0300);
        assert_eq!(u16_at(&info, 18) as usize, vram >> 16);
        let string = |far: u32, len: usize| read((far >> 16) as u16, far as u16, len).unwrap();
        assert_eq!(
            string(u32_at(&info, 6), vbe::OEM_STRING_TEXT.len()),
            vbe::OEM_STRING_TEXT
        );
        assert_eq!(
            string(u32_at(&info, 26), vbe::PRODUCT_NAME_TEXT.len()),
            vbe::PRODUCT_NAME_TEXT
        );
        let list_ptr = u32_at(&info, 14);
        let raw = string(list_ptr, 64);
        let list: Vec<u16> = raw
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|&m| m != 0xFFFF)
            .collect();
        let expected: Vec<u16> = machine.with_pci_model(pdo, |b: &mut Bochs| {
            vbe::available_modes(b).iter().map(|m| m.0).collect()
        });
        assert_eq!(list, expected);
        assert_eq!(list.last(), Some(&expect_last));
        // Every listed mode fits the VRAM.
        for m in vbe::MODES.iter().filter(|m| list.contains(&m.0)) {
            assert!(usize::from(m.1) * usize::from(m.2) * usize::from(m.3).div_ceil(8) <= vram);
        }
        // Without "VBE2" only 256 bytes are written.
        assert_eq!(write(seg, off, &[0x5A; 512]), STATUS_SUCCESS);
        assert_eq!(int10(0x4F00, 0, 0, 0, (seg, off)).Eax, vbe::VBE_OK);
        let info = read(seg, off, 512).unwrap();
        assert_eq!(&info[0..4], b"VESA");
        assert_eq!(&info[256..], &[0x5A; 256][..]);
        // A buffer that leaves real memory fails.
        assert_eq!(
            int10(0x4F00, 0, 0, 0, (0xFFFF, 0xFFF0)).Eax,
            vbe::VBE_FAILED
        );
        assert_eq!(x86BiosFreeBuffer(seg, off), STATUS_SUCCESS);
        machine.assert_clean();
    }
}

#[test]
fn vbe_sets_every_mode_through_the_dispi_registers_and_reports_it_back() {
    let (machine, pdo) = bochs_machine(BochsConfig::default());
    let _g = machine.enter();
    let bar0 = machine.pci_bar(pdo, 0).unwrap().1 as u32;
    let (seg, off, _) = allocate(256).unwrap();
    let modes = machine.with_pci_model(pdo, |b: &mut Bochs| vbe::available_modes(b));
    assert_eq!(modes.len(), vbe::MODES.len());
    for (number, x, y, bpp) in modes {
        let regs = int10(0x4F01, 0, u32::from(number), 0, (seg, off));
        assert_eq!(regs.Eax, vbe::VBE_OK, "4F01 {number:#x}");
        let info = read(seg, off, 256).unwrap();
        let stride = u32::from(x) * u32::from(bpp).div_ceil(8);
        assert_eq!(
            u16_at(&info, 0) & 0x99,
            0x99,
            "supported, colour, graphics, LFB"
        );
        assert_eq!(
            (u16_at(&info, 18), u16_at(&info, 20), info[25]),
            (x, y, bpp as u8)
        );
        assert_eq!(u32::from(u16_at(&info, 16)), stride);
        assert_eq!(u32::from(u16_at(&info, 50)), stride);
        assert_eq!(u32_at(&info, 40), bar0);
        if bpp == 32 {
            // 8:8:8 with red at bit 16.
            assert_eq!(&info[31..39], &[8, 16, 8, 8, 8, 0, 8, 24]);
        }
        // Set it, linear, keeping VRAM.
        let regs = int10(0x4F02, u32::from(number) | 0xC000, 0, 0, (0, 0));
        assert_eq!(regs.Eax, vbe::VBE_OK, "4F02 {number:#x}");
        let mode = machine.with_pci_model(pdo, |b: &mut Bochs| b.mode());
        assert!(mode.enabled && mode.lfb);
        assert_eq!((mode.xres, mode.yres, mode.bpp), (x, y, bpp));
        assert_eq!(mode.stride as u32, stride);
        let regs = int10(0x4F03, 0, 0, 0, (0, 0));
        assert_eq!((regs.Eax, regs.Ebx as u16), (vbe::VBE_OK, number | 0x4000));
    }
    // Banked (bit 14 clear): the display runs without the LFB flag.
    assert_eq!(int10(0x4F02, 0x101, 0, 0, (0, 0)).Eax, vbe::VBE_OK);
    assert_eq!(int10(0x4F03, 0, 0, 0, (0, 0)).Ebx as u16, 0x101);
    // Mode 3 (VGA text) turns the VBE display off; so does legacy AH=00h AL=03h.
    assert_eq!(int10(0x4F02, 0x03, 0, 0, (0, 0)).Eax, vbe::VBE_OK);
    assert_eq!(int10(0x4F03, 0, 0, 0, (0, 0)).Ebx as u16, 0x03);
    assert_eq!(int10(0x4F02, 0x4142, 0, 0, (0, 0)).Eax, vbe::VBE_OK);
    assert_eq!(int10(0x0003, 0, 0, 0, (0, 0)).Eax, 0x0003);
    assert!(!machine.with_pci_model(pdo, |b: &mut Bochs| b.mode().enabled));
    // Unknown modes fail and change nothing.
    let sets = machine.with_pci_model(pdo, |b: &mut Bochs| b.mode_sets());
    assert_eq!(int10(0x4F01, 0, 0x150, 0, (seg, off)).Eax, vbe::VBE_FAILED);
    assert_eq!(int10(0x4F02, 0x4150, 0, 0, (0, 0)).Eax, vbe::VBE_FAILED);
    assert_eq!(
        machine.with_pci_model(pdo, |b: &mut Bochs| b.mode_sets()),
        sets
    );
    // A function this BIOS does not implement; the upper halves of the registers survive.
    let regs = int10(0x1234_4F05, 0xABCD_0000, 0, 0, (0, 0));
    assert_eq!(regs.Eax, 0x1234_0000 | vbe::VBE_UNSUPPORTED);
    assert_eq!(x86BiosFreeBuffer(seg, off), STATUS_SUCCESS);
    machine.assert_clean();
}

#[test]
fn vbe_clears_the_frame_unless_told_to_keep_it() {
    let (machine, pdo) = bochs_machine(BochsConfig::default());
    let _g = machine.enter();
    let fill =
        |m: &Machine| m.with_pci_model(pdo, |b: &mut Bochs| b.vram().fill(0, 640 * 480 * 4, 0x77));
    fill(&machine);
    assert_eq!(int10(0x4F02, 0xC140, 0, 0, (0, 0)).Eax, vbe::VBE_OK);
    let frame = machine.with_pci_model(pdo, |b: &mut Bochs| b.visible_frame());
    // Whole-slice comparisons (one memcmp) rather than a loop over 1.2 MB: cheap under Miri.
    assert!(frame == vec![0x77; frame.len()], "the frame was kept");
    fill(&machine);
    assert_eq!(int10(0x4F02, 0x4141, 0, 0, (0, 0)).Eax, vbe::VBE_OK);
    let frame = machine.with_pci_model(pdo, |b: &mut Bochs| b.visible_frame());
    assert!(frame == vec![0; frame.len()], "the frame was cleared");
    machine.assert_clean();
}

#[test]
fn vbe_ddc_reads_the_monitors_edid() {
    let (machine, pdo) = bochs_machine(BochsConfig {
        preferred: (1280, 1024),
        ..Default::default()
    });
    let _g = machine.enter();
    let regs = int10(0x4F15, 0x00, 0, 0, (0, 0));
    assert_eq!((regs.Eax, regs.Ebx & 0xFFFF), (vbe::VBE_OK, 0x0102));
    let (seg, off, _) = allocate(128).unwrap();
    assert_eq!(int10(0x4F15, 0x01, 0, 0, (seg, off)).Eax, vbe::VBE_OK);
    let edid = machine.with_pci_model(pdo, |b: &mut Bochs| b.edid());
    assert_eq!(read(seg, off, 128), Ok(edid.to_vec()));
    assert_eq!(&edid[0..8], &[0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0]);
    // The preferred timing is 1280 wide (detailed timing 1 at byte 54).
    assert_eq!(u16::from(edid[56]) | u16::from(edid[58] >> 4) << 8, 1280);
    // Only block 0 of monitor 0 exists; other subfunctions fail.
    assert_eq!(int10(0x4F15, 0x01, 0, 1, (seg, off)).Eax, vbe::VBE_FAILED);
    assert_eq!(int10(0x4F15, 0x01, 1, 0, (seg, off)).Eax, vbe::VBE_FAILED);
    assert_eq!(int10(0x4F15, 0x02, 0, 0, (seg, off)).Eax, vbe::VBE_FAILED);
    assert_eq!(x86BiosFreeBuffer(seg, off), STATUS_SUCCESS);
    machine.assert_clean();
}

#[test]
fn injected_faults_fail_one_call_or_allocation() {
    let (machine, _) = bochs_machine(BochsConfig::default());
    let _g = machine.enter();
    machine.fail_nth(FaultKind::BiosCall, 2);
    let mut regs = X86_BIOS_REGISTERS {
        Eax: 0x4F03,
        ..Default::default()
    };
    // SAFETY: valid registers (each call).
    unsafe {
        assert_eq!(x86BiosCall(0x10, &mut regs), TRUE);
        regs.Eax = 0x4F03;
        assert_eq!(x86BiosCall(0x10, &mut regs), FALSE);
        assert_eq!(regs.Eax, 0x4F03, "a failed call leaves the registers");
        assert_eq!(x86BiosCall(0x10, &mut regs), TRUE);
    }
    assert_eq!(machine.faults_injected(FaultKind::BiosCall), 1);
    machine.fail_nth(FaultKind::BiosBuffer, 1);
    assert_eq!(allocate(16), Err(STATUS_INSUFFICIENT_RESOURCES));
    let (seg, _, _) = allocate(16).unwrap();
    assert_eq!(x86BiosFreeBuffer(seg, 0), STATUS_SUCCESS);
    machine.assert_clean();
}

#[test]
fn the_routines_exist_from_vista_on_only() {
    for name in [
        "x86BiosCall",
        "x86BiosAllocateBuffer",
        "x86BiosFreeBuffer",
        "x86BiosReadMemory",
        "x86BiosWriteMemory",
    ] {
        assert_eq!(
            kernel_exports::lookup("hal.dll", name, OsVersion::WINDOWS_SERVER_2003_X64),
            None
        );
        assert!(kernel_exports::lookup("hal.dll", name, OsVersion::new(6, 0, 6000)).is_some());
        assert!(kernel_exports::lookup_any(name, OsVersion::WINDOWS_7).is_some());
        assert_eq!(
            kernel_exports::lookup("ntoskrnl.exe", name, OsVersion::WINDOWS_7),
            None
        );
    }
}
