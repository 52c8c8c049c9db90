//! A monitor's DDC2B port: an EDID EEPROM at I2C address 0xA0 behind two open-drain lines,
//! SCL and SDA, that a display adapter drives bit by bit (VESA E-DDC; the I2C bus
//! specification for START, STOP, acknowledge and bit timing).
//!
//! The adapter's model calls [`DdcEeprom::drive`] with the levels its register sets (true =
//! released) and reads the lines back with [`DdcEeprom::scl`]/[`DdcEeprom::sda`]: SDA is low
//! if either side pulls it. The EEPROM samples on SCL's rising edge and changes its output
//! while SCL is low; a START (SDA falling while SCL is high) begins a transfer, a STOP ends
//! it. It acknowledges its address for write (then a one-byte word offset) and for read (then
//! sends bytes from the offset, wrapping at the end of the data, for as long as the master
//! acknowledges). Other addresses, the E-DDC segment pointer 0x60 included (this monitor has
//! a single EDID block), are not acknowledged. The clock is never stretched.

/// EEPROM address (8-bit form, write direction).
pub const ADDRESS: u8 = 0xA0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    /// Receiving a byte (address or data): bits so far.
    Receive {
        bits: u8,
        address: bool,
    },
    /// Acknowledging a byte during the ninth clock; then `reading`.
    Ack {
        reading: bool,
    },
    /// Sending the current byte: bits sent so far.
    Send {
        bits: u8,
    },
    /// The master's acknowledge of a sent byte.
    MasterAck {
        ack: bool,
    },
    /// Not addressed: wait for START or STOP.
    Ignore,
}

/// The EEPROM and the two lines.
pub struct DdcEeprom {
    data: Vec<u8>,
    scl: bool,
    master_sda: bool,
    slave_sda: bool,
    phase: Phase,
    shift: u8,
    offset: usize,
    /// The first data byte of a write sets the offset.
    offset_pending: bool,
    /// Bytes sent to the master.
    pub bytes_read: usize,
    /// Transfers started (STARTs).
    pub starts: usize,
}

impl DdcEeprom {
    /// An EEPROM holding `data` (an EDID: 128 bytes per block).
    pub fn new(data: Vec<u8>) -> Self {
        DdcEeprom {
            data,
            scl: true,
            master_sda: true,
            slave_sda: true,
            phase: Phase::Idle,
            shift: 0,
            offset: 0,
            offset_pending: false,
            bytes_read: 0,
            starts: 0,
        }
    }

    /// The clock line's level.
    pub fn scl(&self) -> bool {
        self.scl
    }

    /// The data line's level.
    pub fn sda(&self) -> bool {
        self.master_sda && self.slave_sda
    }

    fn current_bit(&self, bits: u8) -> bool {
        let byte = self.data.get(self.offset).copied().unwrap_or(0xFF);
        byte >> (7 - bits) & 1 != 0
    }

    /// The master sets its outputs (true = released).
    pub fn drive(&mut self, scl: bool, sda: bool) {
        let (old_scl, old_sda) = (self.scl, self.master_sda);
        self.scl = scl;
        self.master_sda = sda;
        if old_scl && scl && old_sda != sda {
            // SDA changed while SCL is high: START or STOP.
            self.slave_sda = true;
            if !sda {
                self.starts += 1;
                self.phase = Phase::Receive {
                    bits: 0,
                    address: true,
                };
                self.shift = 0;
            } else {
                self.phase = Phase::Idle;
            }
            return;
        }
        if !old_scl && scl {
            self.rising();
        } else if old_scl && !scl {
            self.falling();
        }
    }

    fn rising(&mut self) {
        let line = self.sda();
        match self.phase {
            Phase::Receive { bits, address } if bits < 8 => {
                self.shift = self.shift << 1 | u8::from(line);
                self.phase = Phase::Receive {
                    bits: bits + 1,
                    address,
                };
            }
            Phase::Send { bits } => self.phase = Phase::Send { bits: bits + 1 },
            Phase::MasterAck { .. } => self.phase = Phase::MasterAck { ack: !line },
            _ => {}
        }
    }

    fn falling(&mut self) {
        match self.phase {
            Phase::Receive { bits: 8, address } => {
                let byte = self.shift;
                if address {
                    if byte & 0xFE == ADDRESS {
                        let reading = byte & 1 != 0;
                        self.offset_pending = !reading;
                        self.slave_sda = false;
                        self.phase = Phase::Ack { reading };
                    } else {
                        self.phase = Phase::Ignore;
                    }
                } else {
                    if self.offset_pending {
                        self.offset = usize::from(byte) % self.data.len().max(1);
                        self.offset_pending = false;
                    }
                    self.slave_sda = false;
                    self.phase = Phase::Ack { reading: false };
                }
            }
            Phase::Ack { reading } => {
                if reading {
                    self.slave_sda = self.current_bit(0);
                    self.phase = Phase::Send { bits: 0 };
                } else {
                    self.slave_sda = true;
                    self.shift = 0;
                    self.phase = Phase::Receive {
                        bits: 0,
                        address: false,
                    };
                }
            }
            Phase::Send { bits } if bits < 8 => self.slave_sda = self.current_bit(bits),
            Phase::Send { .. } => {
                self.slave_sda = true;
                self.bytes_read += 1;
                self.phase = Phase::MasterAck { ack: false };
            }
            Phase::MasterAck { ack } => {
                if ack {
                    self.offset = (self.offset + 1) % self.data.len().max(1);
                    self.slave_sda = self.current_bit(0);
                    self.phase = Phase::Send { bits: 0 };
                } else {
                    self.phase = Phase::Ignore;
                }
            }
            _ => {}
        }
    }
}
