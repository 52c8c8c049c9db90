//! IOCTLs from a user-mode client into the sample miniports on ntsim: the Rust edu sample, the
//! C edu sample, the C Bochs display miniport and the C VBE display miniport, each either built
//! for the host and linked with videoprt-rs or as the shipped `.sys` image (from
//! `target/drivers`, both linkers for the C ones) mapped by ntsim's loader with its imports
//! bound to videoprt-rs; loaded, started and opened on a fresh machine per input. The input is a short list of
//! requests: known codes and random ones (any function, METHOD and access), structured
//! payloads (transfers naming a real user buffer, a NULL, a garbage pointer or one past the
//! buffer; common-buffer headers with data; mode numbers; frame-buffer addresses) or raw
//! bytes, and output buffers of any size.
//!
//! Checks, per input: no crash (the port and the miniports never touch memory they do not
//! own: run under AddressSanitizer); a completed edu transfer is byte-exact (the device
//! buffer holds what the client wrote, the client gets what the device holds); after the
//! client closes, the device is removed and the driver unloaded, nothing is left allocated;
//! the only reports are the port refusing a client's bad buffer (misuse reported, never
//! passed on).
#![no_main]

use arbitrary::Arbitrary;
use ddk_sys::*;
use libfuzzer_sys::fuzz_target;
use ntsim::{Placement, UserProt};
use sample_miniport::display::{self, DisplaySession};
use sample_miniport::harness::{Miniport, Session};
use sample_miniport::ioctl::*;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Which {
    RustEdu,
    CEdu,
    CBochs,
    CVbe,
    /// A shipped image (`cargo xtask fuzz` builds them first).
    Image(Shipped),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Shipped {
    RustEdu,
    CEduGnu,
    CEduLld,
    CBochsGnu,
    CBochsLld,
    CVbeGnu,
    CVbeLld,
}

impl Shipped {
    /// The image's file name, and whether it is an edu miniport (else a display one).
    fn file(self) -> (&'static str, bool) {
        match self {
            Shipped::RustEdu => ("sample_miniport.sys", true),
            Shipped::CEduGnu => ("c_edu_miniport_gnu.sys", true),
            Shipped::CEduLld => ("c_edu_miniport_lld.sys", true),
            Shipped::CBochsGnu => ("c_bochs_miniport_gnu.sys", false),
            Shipped::CBochsLld => ("c_bochs_miniport_lld.sys", false),
            Shipped::CVbeGnu => ("c_vbe_miniport_gnu.sys", false),
            Shipped::CVbeLld => ("c_vbe_miniport_lld.sys", false),
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Method {
    Buffered,
    InDirect,
    OutDirect,
    Neither,
}

#[derive(Arbitrary, Debug)]
enum Code {
    /// One of the codes the miniport implements (index into its table).
    Known(u8),
    /// A code of the miniport's own function range (0x900..) or the standard video range
    /// (0x100..), with any method and access.
    Near {
        function: u8,
        high: bool,
        method: Method,
        access: u8,
    },
    /// Anything at all.
    Raw(u32),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Pointer {
    /// Into a user buffer of `len` bytes allocated for this request, `offset` bytes in.
    User {
        offset: u16,
        len: u16,
    },
    Null,
    Garbage(u64),
    /// The last frame buffer address MAP_VIDEO_MEMORY returned (NULL if none yet).
    LastMapping,
}

/// A device offset or length: inside the 4 KiB device buffer, the value that fits the data
/// (the largest that fits, for a transfer), or anything.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Num {
    Small(u16),
    Fit,
    Raw(u32),
}

impl Num {
    fn value(self, fit: u32) -> u32 {
        match self {
            Num::Small(v) => u32::from(v) % 4097,
            Num::Fit => fit,
            Num::Raw(v) => v,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Payload {
    None,
    Raw(Vec<u8>),
    /// `EDU_SAMPLE_TRANSFER`.
    Transfer {
        device_offset: Num,
        length: Num,
        buffer: Pointer,
        seed: u8,
    },
    /// `EDU_SAMPLE_COMMON_HEADER`, then `data` (WRITE_COMMON's input).
    Common {
        device_offset: Num,
        length: Num,
        data: Vec<u8>,
    },
    /// `VIDEO_MODE`.
    Mode(u32),
    /// `VIDEO_MEMORY`.
    Memory(Pointer),
}

#[derive(Arbitrary, Debug)]
enum Request {
    /// A request whose code is the one the miniport pairs with this payload kind (a transfer
    /// for WRITE or READ, a header for the common-buffer pair, a mode for SET_CURRENT_MODE, an
    /// address for MAP or UNMAP), its output buffer the size the request implies, or not.
    Typed {
        payload: Payload,
        /// Which of the codes that fit the payload.
        choice: bool,
        /// The output buffer: the size the request implies, or this many bytes.
        output_len: Option<u16>,
    },
    /// Any code, any payload.
    Any {
        code: Code,
        payload: Payload,
        /// Bytes cut off the end of the payload (a short input).
        trim: u8,
        output_len: u16,
    },
}

impl Request {
    /// (code, payload, bytes to cut off the input, output buffer length).
    fn resolve(&self, edu: bool) -> (u32, &Payload, u8, usize) {
        match self {
            Request::Any {
                code: c,
                payload,
                trim,
                output_len,
            } => {
                let table: &[u32] = if edu { &EDU_CODES } else { &VIDEO_CODES };
                (code(c, table), payload, *trim, *output_len as usize)
            }
            Request::Typed {
                payload,
                choice,
                output_len,
            } => {
                let (code, implied) = match (edu, payload) {
                    (true, Payload::Transfer { .. }) if *choice => (IOCTL_EDU_SAMPLE_READ, 0),
                    (true, Payload::Transfer { .. }) => (IOCTL_EDU_SAMPLE_WRITE, 0),
                    (true, Payload::Common { length, data, .. }) if *choice => (
                        IOCTL_EDU_SAMPLE_READ_COMMON,
                        length.value(data.len() as u32) as usize,
                    ),
                    (true, Payload::Common { .. }) => (IOCTL_EDU_SAMPLE_WRITE_COMMON, 0),
                    (true, _) => (IOCTL_EDU_SAMPLE_IDENTIFY, 8),
                    (false, Payload::Mode(_)) => (display::IOCTL_VIDEO_SET_CURRENT_MODE, 0),
                    (false, Payload::Memory(_)) if *choice => {
                        (display::IOCTL_VIDEO_UNMAP_VIDEO_MEMORY, 0)
                    }
                    (false, Payload::Memory(_)) => (display::IOCTL_VIDEO_MAP_VIDEO_MEMORY, 24),
                    (false, Payload::Raw(_)) if *choice => {
                        (display::IOCTL_VIDEO_QUERY_AVAIL_MODES, 80 * 64)
                    }
                    (false, Payload::Raw(_)) => (display::IOCTL_VIDEO_QUERY_CURRENT_MODE, 80),
                    (false, _) if *choice => (display::IOCTL_VIDEO_RESET_DEVICE, 0),
                    (false, _) => (display::IOCTL_VIDEO_QUERY_NUM_AVAIL_MODES, 8),
                };
                let output = output_len.map_or(implied, usize::from);
                (code, payload, 0, output)
            }
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    which: Which,
    /// A 64-bit edu `dma_mask` instead of 32-bit.
    wide_dma: bool,
    requests: Vec<Request>,
}

const EDU_CODES: [u32; 5] = [
    IOCTL_EDU_SAMPLE_IDENTIFY,
    IOCTL_EDU_SAMPLE_WRITE,
    IOCTL_EDU_SAMPLE_READ,
    IOCTL_EDU_SAMPLE_WRITE_COMMON,
    IOCTL_EDU_SAMPLE_READ_COMMON,
];

const VIDEO_CODES: [u32; 7] = [
    display::IOCTL_VIDEO_QUERY_AVAIL_MODES,
    display::IOCTL_VIDEO_QUERY_NUM_AVAIL_MODES,
    display::IOCTL_VIDEO_QUERY_CURRENT_MODE,
    display::IOCTL_VIDEO_SET_CURRENT_MODE,
    display::IOCTL_VIDEO_RESET_DEVICE,
    display::IOCTL_VIDEO_MAP_VIDEO_MEMORY,
    display::IOCTL_VIDEO_UNMAP_VIDEO_MEMORY,
];

/// Requests per input, and the largest buffers: keeps one input cheap.
const MAX_REQUESTS: usize = 12;
const MAX_BUFFER: usize = 3 * 4096;

fn code(code: &Code, known: &[u32]) -> u32 {
    match *code {
        Code::Known(i) => known[i as usize % known.len()],
        Code::Near {
            function,
            high,
            method,
            access,
        } => {
            let base = if high { 0x900 } else { 0x100 };
            let method = match method {
                Method::Buffered => METHOD_BUFFERED,
                Method::InDirect => METHOD_IN_DIRECT,
                Method::OutDirect => METHOD_OUT_DIRECT,
                Method::Neither => METHOD_NEITHER,
            };
            CTL_CODE(
                FILE_DEVICE_VIDEO,
                base + u32::from(function % 0x20),
                method,
                u32::from(access % 4),
            )
        }
        Code::Raw(c) => c,
    }
}

/// Reports a client's misuse may cause: the port refusing to lock a bad buffer, to map into a
/// process handle the client made up (VIDEO_MEMORY.RequestedVirtualAddress reaches
/// VideoPortMapMemory's `*VirtualAddress`), or to unmap an address it never mapped. Anything else (a leak, a DMA verifier report, a pool report)
/// fails the input.
fn expected_report(v: &ntsim::Violation) -> bool {
    matches!(
        v.routine,
        "VideoPortLockBuffer" | "VideoPortMapMemory" | "VideoPortUnmapMemory"
    )
}

/// A user buffer the request points at; freed after the request.
struct Buffers<'a> {
    machine: &'a ntsim::Machine,
    held: Vec<ntsim::UserBuffer>,
}

impl Buffers<'_> {
    /// The address `p` names, allocating its user buffer (filled with `seed`'s pattern).
    /// Also returns, for a user buffer, its index and the bytes from the address to its end.
    fn address(
        &mut self,
        p: Pointer,
        seed: u8,
        mapping: u64,
    ) -> (u64, Option<(usize, usize, usize)>) {
        match p {
            Pointer::User { offset, len } => {
                // Whole pages, so every byte the port could lock is in the copy we compare.
                let len = (len as usize % MAX_BUFFER).max(1).next_multiple_of(4096);
                let offset = offset as usize % len;
                let b = self.machine.user_alloc(len, UserProt::ReadWrite);
                b.write(0, &sample_miniport::harness::pattern(len, u32::from(seed)));
                let at = b.as_ptr() as u64 + offset as u64;
                let index = self.held.len();
                self.held.push(b);
                (at, Some((index, offset, len - offset)))
            }
            Pointer::Null => (0, None),
            Pointer::Garbage(a) => (a, None),
            Pointer::LastMapping => (mapping, None),
        }
    }
}

impl Drop for Buffers<'_> {
    fn drop(&mut self) {
        for b in self.held.drain(..) {
            self.machine.user_free(b);
        }
    }
}

fn bytes_of(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn run_edu(miniport: &Miniport, wide: bool, requests: &[Request]) {
    let mask = if wide { u64::MAX } else { u32::MAX as u64 };
    let mut session = Session::start(miniport, mask, Placement::Interleaved);
    for r in requests.iter().take(MAX_REQUESTS) {
        let (code, payload, trim, output_len) = r.resolve(true);
        let mut buffers = Buffers {
            machine: &session.machine,
            held: Vec::new(),
        };
        // What to check if the request succeeds: (device offset, user buffer, offset, length).
        let mut transfer = None;
        let mut input = match payload {
            Payload::None => Vec::new(),
            Payload::Raw(b) => b.clone(),
            Payload::Transfer {
                device_offset,
                length,
                buffer,
                seed,
            } => {
                let (at, user) = buffers.address(*buffer, *seed, 0);
                let device_offset = device_offset.value(0);
                let room = user.map_or(16, |u| u.2 as u32);
                let length = length.value(4096u32.saturating_sub(device_offset).min(room).max(1));
                if let Some((index, offset, _)) = user {
                    transfer = Some((device_offset, index, offset, length as usize));
                }
                bytes_of(&[
                    &device_offset.to_le_bytes(),
                    &length.to_le_bytes(),
                    &at.to_le_bytes(),
                ])
            }
            Payload::Common {
                device_offset,
                length,
                data,
            } => {
                let device_offset = device_offset.value(0);
                let length = length.value(data.len() as u32);
                bytes_of(&[&device_offset.to_le_bytes(), &length.to_le_bytes(), data])
            }
            Payload::Mode(m) => m.to_le_bytes().to_vec(),
            Payload::Memory(p) => buffers.address(*p, 0, 0).0.to_le_bytes().to_vec(),
        };
        input.truncate(input.len().saturating_sub(trim as usize));
        input.truncate(MAX_BUFFER);
        let before = session.device_buffer();
        let mut output = vec![0u8; output_len % MAX_BUFFER];
        let result = session.ioctl(code, &input, &mut output);
        let Ok(information) = result else {
            continue;
        };
        assert!(
            information <= output.len(),
            "Information beyond the output buffer"
        );
        let device = session.device_buffer();
        match code {
            IOCTL_EDU_SAMPLE_WRITE => {
                let (offset, index, user_offset, length) =
                    transfer.expect("WRITE succeeded without a real user buffer");
                let user = buffers.held[index].to_vec();
                assert!(
                    device[offset as usize..][..length] == user[user_offset..][..length],
                    "WRITE: the device buffer differs from the client's bytes"
                );
            }
            IOCTL_EDU_SAMPLE_READ => {
                let (offset, index, user_offset, length) =
                    transfer.expect("READ succeeded without a real user buffer");
                let user = buffers.held[index].to_vec();
                assert!(
                    device[offset as usize..][..length] == user[user_offset..][..length],
                    "READ: the client got bytes the device does not hold"
                );
                assert_eq!(before, device, "READ changed the device buffer");
            }
            IOCTL_EDU_SAMPLE_WRITE_COMMON => {
                let offset = u32::from_le_bytes(input[..4].try_into().unwrap()) as usize;
                let length = u32::from_le_bytes(input[4..8].try_into().unwrap()) as usize;
                assert!(
                    device[offset..][..length] == input[8..][..length],
                    "WRITE_COMMON: the device buffer differs from the client's bytes"
                );
            }
            IOCTL_EDU_SAMPLE_READ_COMMON => {
                let offset = u32::from_le_bytes(input[..4].try_into().unwrap()) as usize;
                assert!(
                    output[..information] == device[offset..][..information],
                    "READ_COMMON: the client got bytes the device does not hold"
                );
                assert_eq!(before, device, "READ_COMMON changed the device buffer");
            }
            _ => {}
        }
        drop(buffers);
    }
    session.stop();
    check_clean(&session.machine);
}

/// A display miniport (Bochs or VBE) on a Bochs display: the VBE one sets its modes through
/// INT 10h, the BIOS ntsim's x86 emulator runs.
fn run_display(miniport: &Miniport, requests: &[Request]) {
    let mut session =
        DisplaySession::start(miniport, display::bochs_display()).expect("the display starts");
    let mut mapping = 0u64;
    for r in requests.iter().take(MAX_REQUESTS) {
        let (code, payload, trim, output_len) = r.resolve(false);
        let mut buffers = Buffers {
            machine: &session.machine,
            held: Vec::new(),
        };
        let mut input = match payload {
            Payload::None => Vec::new(),
            Payload::Raw(b) => b.clone(),
            Payload::Transfer {
                device_offset,
                length,
                ..
            } => bytes_of(&[
                &device_offset.value(0).to_le_bytes(),
                &length.value(0).to_le_bytes(),
            ]),
            Payload::Common { data, .. } => data.clone(),
            Payload::Mode(m) => m.to_le_bytes().to_vec(),
            Payload::Memory(p) => buffers.address(*p, 0, mapping).0.to_le_bytes().to_vec(),
        };
        input.truncate(input.len().saturating_sub(trim as usize));
        input.truncate(MAX_BUFFER);
        let mut output = vec![0u8; output_len % MAX_BUFFER];
        let result = session.ioctl(code, &input, &mut output);
        if let Ok(information) = result {
            assert!(
                information <= output.len(),
                "Information beyond the output buffer"
            );
            if code == display::IOCTL_VIDEO_MAP_VIDEO_MEMORY && information >= 24 {
                mapping = u64::from_le_bytes(output[16..24].try_into().unwrap());
            }
        }
        drop(buffers);
    }
    // What a display driver does last (DrvDisableSurface): the miniport frees its mode table
    // there, and a client that skips it leaves the table (reported at removal, by design).
    let _ = session.reset();
    session.stop();
    check_clean(&session.machine);
}

fn check_clean(machine: &ntsim::Machine) {
    let leaks = machine.leaks();
    assert!(leaks.is_empty(), "left after removal and unload:\n{leaks}");
    let violations = machine.take_violations();
    let unexpected: Vec<_> = violations.iter().filter(|v| !expected_report(v)).collect();
    assert!(unexpected.is_empty(), "unexpected reports: {unexpected:#?}");
}

fuzz_target!(|input: Input| {
    match input.which {
        Which::RustEdu => run_edu(
            &Miniport::Host("sample_miniport", sample_miniport::DriverEntry),
            input.wide_dma,
            &input.requests,
        ),
        Which::CEdu => run_edu(
            &Miniport::Host("c_edu_miniport", c_miniport::DriverEntry),
            input.wide_dma,
            &input.requests,
        ),
        Which::CBochs => run_display(
            &Miniport::Host("c_bochs_miniport", c_miniport::BochsDriverEntry),
            &input.requests,
        ),
        Which::CVbe => run_display(
            &Miniport::Host("c_vbe_miniport", c_miniport::VbeDriverEntry),
            &input.requests,
        ),
        Which::Image(shipped) => {
            let (file, edu) = shipped.file();
            let miniport = Miniport::shipped(file);
            if edu {
                run_edu(&miniport, input.wide_dma, &input.requests)
            } else {
                run_display(&miniport, &input.requests)
            }
        }
    }
});
