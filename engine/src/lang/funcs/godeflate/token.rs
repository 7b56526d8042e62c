//! LZ77 tokens and the RFC 1951 length/distance code tables, in the
//! packing Go's `compress/flate` uses (token.go), so block statistics and
//! therefore the chosen Huffman codes come out as Go's do.

/// A literal byte (or the end-of-block marker 256), or a match. A match
/// keeps `length - 3` in bits 22..30 and `distance - 1` below, with bit 30
/// set; everything compares below `MATCH_TYPE` only when it is a literal.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Token(u32);

const LENGTH_SHIFT: u32 = 22;
const OFFSET_MASK: u32 = (1 << LENGTH_SHIFT) - 1;
const MATCH_TYPE: u32 = 1 << 30;

/// The end-of-block symbol, counted and written as a literal.
pub(super) const END_BLOCK_MARKER: u16 = 256;
/// The first length symbol of the literal/length alphabet.
pub(super) const LENGTH_CODES_START: usize = 257;
/// Size of the literal/length alphabet (0..=285).
pub(super) const MAX_NUM_LIT: usize = 286;
/// Size of the distance alphabet.
pub(super) const OFFSET_CODE_COUNT: usize = 30;

impl Token {
    pub(super) fn literal(b: u16) -> Token {
        Token(u32::from(b))
    }

    /// `xlength` is the match length minus 3, `xoffset` the distance minus 1.
    pub(super) fn matched(xlength: u32, xoffset: u32) -> Token {
        Token(MATCH_TYPE + (xlength << LENGTH_SHIFT) + xoffset)
    }

    /// The literal (or end marker) when this is no match.
    pub(super) fn as_literal(self) -> Option<usize> {
        (self.0 < MATCH_TYPE).then_some(self.0 as usize)
    }

    /// Length minus 3.
    pub(super) fn xlength(self) -> u32 {
        (self.0 - MATCH_TYPE) >> LENGTH_SHIFT
    }

    /// Distance minus 1.
    pub(super) fn xoffset(self) -> u32 {
        self.0 & OFFSET_MASK
    }
}

/// Extra bits of each length code (symbol 257 + index).
pub(super) const LENGTH_EXTRA_BITS: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];

/// The smallest `length - 3` of each length code.
pub(super) const LENGTH_BASE: [u32; 29] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128,
    160, 192, 224, 255,
];

/// Extra bits of each distance code.
pub(super) const OFFSET_EXTRA_BITS: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// The smallest `distance - 1` of each distance code.
pub(super) const OFFSET_BASE: [u32; 30] = [
    0x0000, 0x0001, 0x0002, 0x0003, 0x0004, 0x0006, 0x0008, 0x000c, 0x0010, 0x0018, 0x0020, 0x0030,
    0x0040, 0x0060, 0x0080, 0x00c0, 0x0100, 0x0180, 0x0200, 0x0300, 0x0400, 0x0600, 0x0800, 0x0c00,
    0x1000, 0x1800, 0x2000, 0x3000, 0x4000, 0x6000,
];

/// The code whose base is the largest not above `x`.
const fn code_of(bases: &[u32], x: u32) -> u32 {
    let mut code = bases.len() - 1;
    while bases[code] > x {
        code -= 1;
    }
    code as u32
}

/// Length code of every `length - 3` (0..=255), as Go's `lengthCodes`.
const LENGTH_CODES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = code_of(&LENGTH_BASE, i as u32) as u8;
        i += 1;
    }
    t
};

/// Distance code of `distance - 1` below 256; larger ones are found from
/// the same table shifted, as Go's `offsetCode` does.
const OFFSET_CODES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = code_of(&OFFSET_BASE, i as u32) as u8;
        i += 1;
    }
    t
};

pub(super) fn length_code(xlength: u32) -> usize {
    LENGTH_CODES[xlength as usize] as usize
}

pub(super) fn offset_code(xoffset: u32) -> usize {
    let n = OFFSET_CODES.len() as u32;
    if xoffset < n {
        OFFSET_CODES[xoffset as usize] as usize
    } else if xoffset >> 7 < n {
        OFFSET_CODES[(xoffset >> 7) as usize] as usize + 14
    } else {
        OFFSET_CODES[(xoffset >> 14) as usize] as usize + 28
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_tables_agree_with_rfc1951_bases() {
        // Every length and distance maps to the code whose range holds it.
        for x in 0..=255u32 {
            let c = length_code(x);
            assert!(LENGTH_BASE[c] <= x, "length {x}");
            assert!(c == 28 || x < LENGTH_BASE[c + 1], "length {x}");
        }
        assert_eq!(length_code(254), 27);
        assert_eq!(length_code(255), 28);
        for x in 0..32768u32 {
            let c = offset_code(x);
            assert!(OFFSET_BASE[c] <= x, "distance {x}");
            assert!(
                x - OFFSET_BASE[c] < 1 << OFFSET_EXTRA_BITS[c],
                "distance {x}"
            );
        }
    }

    #[test]
    fn tokens_round_trip() {
        let t = Token::matched(255, 32767);
        assert_eq!(
            (t.as_literal(), t.xlength(), t.xoffset()),
            (None, 255, 32767)
        );
        assert_eq!(Token::literal(256).as_literal(), Some(256));
    }
}
