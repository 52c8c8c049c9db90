//! Stack-realigning call thunks for i386 images on a 32-bit x86 host.
//!
//! Windows x86 code keeps the stack 4-byte aligned; the i386 System V ABI that host code is
//! compiled for (`i686-unknown-linux-gnu`) assumes 16 bytes at every call and spills SSE
//! registers with `movaps`, which faults on a misaligned stack. So an i386 image's IAT slot
//! does not hold the host routine's address itself but a thunk's that:
//!
//! 1. saves EBP and EBX, aligns ESP down to 16 bytes;
//! 2. copies [`COPIED_ARGUMENT_BYTES`] bytes of the caller's stack arguments below it (more
//!    than any NT or VideoPort routine takes; the extra bytes are the caller's own frame, read
//!    and never written), leaving ECX and EDX (FASTCALL's register arguments) untouched;
//! 3. calls the routine, which pops its stdcall/fastcall arguments from the copy (or none,
//!    cdecl), so ESP after the call minus ESP before it is the number of bytes the caller
//!    pushed for it;
//! 4. returns to the caller popping exactly that many bytes: the return address moves up by
//!    that amount and a plain `ret` takes it. EAX:EDX (the return value), EBX, EBP, ESI and
//!    EDI are as the routine and the caller's convention expect.
//!
//! The thunks live in their own mapping, written once and then made read-execute (never
//! writable and executable at once), and are unmapped with the image.

use super::map::Mapping;
use super::sections::Protection;
use crate::types::PAGE;
use std::io;

/// Bytes of stack arguments copied for the routine: 32 dwords. The widest routine the x86
/// images import takes 44 bytes (`IoConnectInterrupt`, `ZwCreateFile`); `VideoPortDebugPrint`
/// (cdecl) has room for 30 variadic arguments.
pub(crate) const COPIED_ARGUMENT_BYTES: u32 = 128;

/// One thunk's bytes: a call to `target` on a 16-byte-aligned stack.
fn thunk(target: u32) -> Vec<u8> {
    let mut code = vec![
        0x55, // push ebp
        0x89, 0xe5, // mov ebp, esp
        0x53, // push ebx
        0x83, 0xe4, 0xf0, // and esp, -16
        0x81, 0xec, // sub esp, imm32
    ];
    code.extend(COPIED_ARGUMENT_BYTES.to_le_bytes());
    for offset in (0..COPIED_ARGUMENT_BYTES).step_by(4) {
        code.extend([0x8b, 0x85]); // mov eax, [ebp + 8 + offset]
        code.extend((8 + offset).to_le_bytes());
        code.extend([0x89, 0x84, 0x24]); // mov [esp + offset], eax
        code.extend(offset.to_le_bytes());
    }
    code.extend([0x89, 0xe3]); // mov ebx, esp
    code.push(0xb8); // mov eax, imm32
    code.extend(target.to_le_bytes());
    code.extend([
        0xff, 0xd0, // call eax
        0x89, 0xe1, // mov ecx, esp
        0x29, 0xd9, // sub ecx, ebx            ; bytes the routine popped
        0x8b, 0x5d, 0x04, // mov ebx, [ebp + 4]      ; the return address
        0x89, 0x5c, 0x0d, 0x04, // mov [ebp + ecx + 4], ebx
        0x8d, 0x4c, 0x0d, 0x04, // lea ecx, [ebp + ecx + 4] ; the caller's ESP before `ret`
        0x8b, 0x5d, 0xfc, // mov ebx, [ebp - 4]
        0x8b, 0x6d, 0x00, // mov ebp, [ebp]
        0x89, 0xcc, // mov esp, ecx
        0xc3, // ret
    ]);
    code
}

/// Thunks for a list of targets, in one read-execute mapping.
pub(crate) struct Thunks {
    mapping: Option<Mapping>,
    stride: usize,
    count: usize,
}

impl Thunks {
    /// One thunk per target, in order; [`address`](Self::address) gives each one's entry.
    pub(crate) fn new(targets: &[usize]) -> io::Result<Thunks> {
        // Each thunk padded to 16 bytes with int3.
        let stride = thunk(0).len().next_multiple_of(16);
        if targets.is_empty() {
            return Ok(Thunks {
                mapping: None,
                stride,
                count: 0,
            });
        }
        let len = targets
            .len()
            .checked_mul(stride)
            .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        let mut mapping = Mapping::anywhere(len)?;
        let bytes = mapping
            .bytes_mut()
            .ok_or_else(|| io::Error::other("the thunk mapping is not writable"))?;
        bytes.fill(0xcc);
        for (i, &target) in targets.iter().enumerate() {
            let code = thunk(target as u32); // a 32-bit host: usize is u32
            let at = i * stride;
            if let Some(dst) = bytes.get_mut(at..at + code.len()) {
                dst.copy_from_slice(&code);
            }
        }
        let pages = len.div_ceil(PAGE);
        mapping.protect(&vec![Protection::READ_EXECUTE; pages])?;
        Ok(Thunks {
            mapping: Some(mapping),
            stride,
            count: targets.len(),
        })
    }

    /// The entry of thunk `index`.
    pub(crate) fn address(&self, index: usize) -> Option<usize> {
        if index >= self.count {
            return None;
        }
        let mapping = self.mapping.as_ref()?;
        Some(mapping.base() + index * self.stride)
    }
}
