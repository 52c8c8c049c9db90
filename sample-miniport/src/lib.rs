//! Sample video miniport for QEMU's edu device. The miniport itself arrives with its own issue;
//! until then this crate holds nothing that claims to work.
#![cfg_attr(target_os = "windows", no_std)]
