//! ntsim: the host stand-in for `ntoskrnl.exe` and `hal.dll`.
