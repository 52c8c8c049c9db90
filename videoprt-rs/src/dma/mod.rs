//! VideoPort DMA services.

pub mod obsolete;
