//! The C-runtime symbols a `#![no_std]` Rust kernel image needs on `x86_64-pc-windows-msvc`:
//! `_fltused` (referenced whenever floating point appears), `__CxxFrameHandler3` (named by
//! libcore's unwind tables, which a panic=abort image never runs) and `__chkstk` (the stack
//! probe for frames over a page), and with the `memory-routines` feature the C memory routines.
//!
//! They are defined in assembly so they stay out of the image's export table: a `#[no_mangle]`
//! item of a cdylib would be exported. On other targets this crate is empty.
#![no_std]

#[cfg(target_os = "windows")]
core::arch::global_asm!(
    ".section .rdata,\"dr\"",
    ".globl _fltused",
    "_fltused: .long 0",
    ".text",
    // ExceptionContinueSearch.
    ".globl __CxxFrameHandler3",
    "__CxxFrameHandler3:",
    "  mov eax, 1",
    "  ret",
    // MSVC x64 semantics: rax = frame size; touch each page below rsp; move nothing.
    ".globl __chkstk",
    "__chkstk:",
    "  push rcx",
    "  push rax",
    "  cmp rax, 0x1000",
    "  lea rcx, [rsp + 24]",
    "  jb 2f",
    "1:",
    "  sub rcx, 0x1000",
    "  test qword ptr [rcx], rcx",
    "  sub rax, 0x1000",
    "  cmp rax, 0x1000",
    "  ja 1b",
    "2:",
    "  sub rcx, rax",
    "  test qword ptr [rcx], rcx",
    "  pop rax",
    "  pop rcx",
    "  ret",
);

// Microsoft x64 calling convention: rcx, rdx, r8 = arguments; rdi and rsi are callee-saved.
#[cfg(all(target_os = "windows", feature = "memory-routines"))]
core::arch::global_asm!(
    ".text",
    // void *memcpy(void *dest, const void *src, size_t n)
    ".globl memcpy",
    "memcpy:",
    "  mov rax, rcx",
    "  push rdi",
    "  push rsi",
    "  mov rdi, rcx",
    "  mov rsi, rdx",
    "  mov rcx, r8",
    "  cld",
    "  rep movsb",
    "  pop rsi",
    "  pop rdi",
    "  ret",
    // void *memmove(void *dest, const void *src, size_t n): copies backwards when dest
    // overlaps the end of src.
    ".globl memmove",
    "memmove:",
    "  mov rax, rcx",
    "  push rdi",
    "  push rsi",
    "  mov rdi, rcx",
    "  mov rsi, rdx",
    "  mov rcx, r8",
    "  cmp rdi, rsi",
    "  jbe 3f",
    "  lea rdx, [rsi + rcx]",
    "  cmp rdi, rdx",
    "  jae 3f",
    "  lea rsi, [rsi + rcx - 1]",
    "  lea rdi, [rdi + rcx - 1]",
    "  std",
    "  rep movsb",
    "  cld",
    "  jmp 4f",
    "3:",
    "  cld",
    "  rep movsb",
    "4:",
    "  pop rsi",
    "  pop rdi",
    "  ret",
    // void *memset(void *dest, int c, size_t n)
    ".globl memset",
    "memset:",
    "  push rdi",
    "  mov r9, rcx",
    "  mov rdi, rcx",
    "  movzx eax, dl",
    "  mov rcx, r8",
    "  cld",
    "  rep stosb",
    "  mov rax, r9",
    "  pop rdi",
    "  ret",
    // int memcmp(const void *a, const void *b, size_t n)
    ".globl memcmp",
    "memcmp:",
    "  xor eax, eax",
    "5:",
    "  test r8, r8",
    "  jz 6f",
    "  movzx eax, byte ptr [rcx]",
    "  movzx r9d, byte ptr [rdx]",
    "  sub eax, r9d",
    "  jnz 6f",
    "  inc rcx",
    "  inc rdx",
    "  dec r8",
    "  jmp 5b",
    "6:",
    "  ret",
);
