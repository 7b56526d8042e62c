//! Deflate block writer, a port of Go's `huffman_bit_writer.go`
//! (`writeBlock` and what it needs). For every block it prices fixed
//! codes, dynamic codes and a stored block and writes the smallest, with
//! Go's exact tie rules; that choice is where other compressors give
//! other bytes than Terraform.

use super::huffman::{HCode, HuffmanEncoder};
use super::token::{
    END_BLOCK_MARKER, LENGTH_BASE, LENGTH_CODES_START, LENGTH_EXTRA_BITS, MAX_NUM_LIT, OFFSET_BASE,
    OFFSET_CODE_COUNT, OFFSET_EXTRA_BITS, Token, length_code, offset_code,
};

const CODEGEN_CODE_COUNT: usize = 19;
/// Ends the run-length encoded code lengths in `codegen`.
const BAD_CODE: u8 = 255;
/// The largest stored block.
pub(super) const MAX_STORE_BLOCK_SIZE: usize = 65535;

/// The order in which the code length code's lengths are written.
const CODEGEN_ORDER: [usize; CODEGEN_CODE_COUNT] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// How a block was written; kept per block so tests can show which
/// choices an input exercises.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum BlockKind {
    Stored,
    Fixed,
    Dynamic,
}

pub(super) struct BitWriter {
    pub(super) out: Vec<u8>,
    /// The kind of every block `write_block` wrote, in order.
    pub(super) kinds: Vec<BlockKind>,
    bits: u64,
    nbits: u32,
    literal_freq: Vec<i32>,
    offset_freq: Vec<i32>,
    codegen_freq: [i32; CODEGEN_CODE_COUNT],
    codegen: Vec<u8>,
    literal_encoding: HuffmanEncoder,
    offset_encoding: HuffmanEncoder,
    codegen_encoding: HuffmanEncoder,
    fixed_literal: HuffmanEncoder,
    fixed_offset: HuffmanEncoder,
}

impl BitWriter {
    pub(super) fn new() -> Self {
        BitWriter {
            out: Vec::new(),
            kinds: Vec::new(),
            bits: 0,
            nbits: 0,
            literal_freq: vec![0; MAX_NUM_LIT],
            offset_freq: vec![0; OFFSET_CODE_COUNT],
            codegen_freq: [0; CODEGEN_CODE_COUNT],
            codegen: vec![0; MAX_NUM_LIT + OFFSET_CODE_COUNT + 1],
            literal_encoding: HuffmanEncoder::new(MAX_NUM_LIT),
            offset_encoding: HuffmanEncoder::new(OFFSET_CODE_COUNT),
            codegen_encoding: HuffmanEncoder::new(CODEGEN_CODE_COUNT),
            fixed_literal: HuffmanEncoder::fixed_literal(),
            fixed_offset: HuffmanEncoder::fixed_offset(),
        }
    }

    /// Pads the pending bits to a whole byte and emits them.
    pub(super) fn flush(&mut self) {
        while self.nbits > 0 {
            self.out.push(self.bits as u8);
            self.bits >>= 8;
            self.nbits = self.nbits.saturating_sub(8);
        }
        self.bits = 0;
    }

    /// Appends the low `nb` bits of `b`, least significant first.
    fn write_bits(&mut self, b: u32, nb: u32) {
        self.bits |= u64::from(b) << self.nbits;
        self.nbits += nb;
        if self.nbits >= 48 {
            self.out.extend_from_slice(&self.bits.to_le_bytes()[..6]);
            self.bits >>= 48;
            self.nbits -= 48;
        }
    }

    fn write_code(&mut self, c: HCode) {
        self.write_bits(u32::from(c.code), u32::from(c.len));
    }

    /// Raw bytes after a stored block header (the bits are byte-aligned).
    fn write_bytes(&mut self, bytes: &[u8]) {
        debug_assert_eq!(self.nbits % 8, 0);
        self.flush();
        self.out.extend_from_slice(bytes);
    }

    pub(super) fn write_stored_header(&mut self, length: usize, eof: bool) {
        self.write_bits(u32::from(eof), 3);
        self.flush();
        let len = length as u16;
        self.write_bits(u32::from(len), 16);
        self.write_bits(u32::from(!len), 16);
    }

    /// Writes `tokens` as one block, in the smallest of fixed, dynamic and
    /// (when `input`, the bytes the tokens stand for, is known and fits)
    /// stored form.
    pub(super) fn write_block(&mut self, tokens: &[Token], eof: bool, input: Option<&[u8]>) {
        let mut tokens = tokens.to_vec();
        tokens.push(Token::literal(END_BLOCK_MARKER));
        let (num_literals, num_offsets) = self.index_tokens(&tokens);

        let stored = input.filter(|i| i.len() <= MAX_STORE_BLOCK_SIZE);
        let mut extra_bits: i64 = 0;
        if stored.is_some() {
            // Length and distance extra bits cost the same in fixed and
            // dynamic form; Go counts them only to compare with stored.
            for code in LENGTH_CODES_START + 8..num_literals {
                extra_bits += i64::from(self.literal_freq[code])
                    * i64::from(LENGTH_EXTRA_BITS[code - LENGTH_CODES_START]);
            }
            for (freq, bits) in self.offset_freq[..num_offsets]
                .iter()
                .zip(OFFSET_EXTRA_BITS)
                .skip(4)
            {
                extra_bits += i64::from(*freq) * i64::from(bits);
            }
        }

        let mut coding = BlockKind::Fixed;
        let mut size = 3
            + self.fixed_literal.bit_length(&self.literal_freq)
            + self.fixed_offset.bit_length(&self.offset_freq)
            + extra_bits;

        self.generate_codegen(num_literals, num_offsets);
        self.codegen_encoding.generate(&self.codegen_freq, 7);
        let (dynamic_size, num_codegens) = self.dynamic_size(extra_bits);
        if dynamic_size < size {
            size = dynamic_size;
            coding = BlockKind::Dynamic;
        }

        if let Some(input) = stored
            && (((input.len() + 5) * 8) as i64) < size
        {
            self.kinds.push(BlockKind::Stored);
            self.write_stored_header(input.len(), eof);
            self.write_bytes(input);
            return;
        }
        self.kinds.push(coding);

        let (lit, off) = if coding == BlockKind::Fixed {
            self.write_bits(if eof { 3 } else { 2 }, 3);
            (&self.fixed_literal.codes, &self.fixed_offset.codes)
        } else {
            self.write_dynamic_header(num_literals, num_offsets, num_codegens, eof);
            (&self.literal_encoding.codes, &self.offset_encoding.codes)
        };
        let (lit, off) = (lit.clone(), off.clone());
        self.write_tokens(&tokens, &lit, &off);
    }

    /// Counts symbol frequencies of a block and builds its dynamic codes;
    /// returns how many literal/length and distance symbols the header
    /// must describe.
    fn index_tokens(&mut self, tokens: &[Token]) -> (usize, usize) {
        self.literal_freq.fill(0);
        self.offset_freq.fill(0);
        for t in tokens {
            match t.as_literal() {
                Some(lit) => self.literal_freq[lit] += 1,
                None => {
                    self.literal_freq[LENGTH_CODES_START + length_code(t.xlength())] += 1;
                    self.offset_freq[offset_code(t.xoffset())] += 1;
                }
            }
        }
        let mut num_literals = self.literal_freq.len();
        while num_literals > 0 && self.literal_freq[num_literals - 1] == 0 {
            num_literals -= 1;
        }
        let mut num_offsets = self.offset_freq.len();
        while num_offsets > 0 && self.offset_freq[num_offsets - 1] == 0 {
            num_offsets -= 1;
        }
        if num_offsets == 0 {
            // A dynamic header needs at least one distance code.
            self.offset_freq[0] = 1;
            num_offsets = 1;
        }
        self.literal_encoding.generate(&self.literal_freq, 15);
        self.offset_encoding.generate(&self.offset_freq, 15);
        (num_literals, num_offsets)
    }

    /// Run-length encodes the code lengths of both codes (RFC 1951 3.2.7)
    /// into `codegen`, ended by `BAD_CODE`, and counts the symbols used.
    fn generate_codegen(&mut self, num_literals: usize, num_offsets: usize) {
        self.codegen_freq = [0; CODEGEN_CODE_COUNT];
        let cg = &mut self.codegen;
        let freq = &mut self.codegen_freq;
        let lit = self.literal_encoding.codes[..num_literals].iter();
        let off = self.offset_encoding.codes[..num_offsets].iter();
        for (slot, c) in cg.iter_mut().zip(lit.chain(off)) {
            *slot = c.len as u8;
        }
        cg[num_literals + num_offsets] = BAD_CODE;

        // The output never overtakes the input, so it is written in place.
        let mut size = cg[0];
        let mut count: i32 = 1;
        let mut out = 0;
        let mut put = |cg: &mut Vec<u8>, v: u8| {
            cg[out] = v;
            out += 1;
        };
        let mut input = 1;
        while size != BAD_CODE {
            let next = cg[input];
            input += 1;
            if next == size {
                count += 1;
                continue;
            }
            if size != 0 {
                put(cg, size);
                freq[usize::from(size)] += 1;
                count -= 1;
                while count >= 3 {
                    let n = count.min(6);
                    put(cg, 16);
                    put(cg, (n - 3) as u8);
                    freq[16] += 1;
                    count -= n;
                }
            } else {
                while count >= 11 {
                    let n = count.min(138);
                    put(cg, 18);
                    put(cg, (n - 11) as u8);
                    freq[18] += 1;
                    count -= n;
                }
                if count >= 3 {
                    put(cg, 17);
                    put(cg, (count - 3) as u8);
                    freq[17] += 1;
                    count = 0;
                }
            }
            while count > 0 {
                put(cg, size);
                freq[usize::from(size)] += 1;
                count -= 1;
            }
            size = next;
            count = 1;
        }
        put(cg, BAD_CODE);
    }

    /// Bits of the block in dynamic form, header included, and how many
    /// code length code lengths the header lists.
    fn dynamic_size(&self, extra_bits: i64) -> (i64, usize) {
        let mut num_codegens = CODEGEN_CODE_COUNT;
        while num_codegens > 4 && self.codegen_freq[CODEGEN_ORDER[num_codegens - 1]] == 0 {
            num_codegens -= 1;
        }
        let header = 3
            + 5
            + 5
            + 4
            + 3 * num_codegens as i64
            + self.codegen_encoding.bit_length(&self.codegen_freq)
            + i64::from(self.codegen_freq[16]) * 2
            + i64::from(self.codegen_freq[17]) * 3
            + i64::from(self.codegen_freq[18]) * 7;
        let size = header
            + self.literal_encoding.bit_length(&self.literal_freq)
            + self.offset_encoding.bit_length(&self.offset_freq)
            + extra_bits;
        (size, num_codegens)
    }

    fn write_dynamic_header(
        &mut self,
        num_literals: usize,
        num_offsets: usize,
        num_codegens: usize,
        eof: bool,
    ) {
        self.write_bits(if eof { 5 } else { 4 }, 3);
        self.write_bits((num_literals - 257) as u32, 5);
        self.write_bits((num_offsets - 1) as u32, 5);
        self.write_bits((num_codegens - 4) as u32, 4);
        for &sym in &CODEGEN_ORDER[..num_codegens] {
            let len = self.codegen_encoding.codes[sym].len;
            self.write_bits(u32::from(len), 3);
        }
        let mut i = 0;
        loop {
            let sym = self.codegen[i];
            i += 1;
            if sym == BAD_CODE {
                break;
            }
            let code = self.codegen_encoding.codes[usize::from(sym)];
            self.write_code(code);
            let extra = match sym {
                16 => 2,
                17 => 3,
                18 => 7,
                _ => continue,
            };
            let value = self.codegen[i];
            i += 1;
            self.write_bits(u32::from(value), extra);
        }
    }

    fn write_tokens(&mut self, tokens: &[Token], lit: &[HCode], off: &[HCode]) {
        for t in tokens {
            if let Some(l) = t.as_literal() {
                self.write_code(lit[l]);
                continue;
            }
            let length = t.xlength();
            let lc = length_code(length);
            self.write_code(lit[lc + LENGTH_CODES_START]);
            let extra = u32::from(LENGTH_EXTRA_BITS[lc]);
            if extra > 0 {
                self.write_bits(length - LENGTH_BASE[lc], extra);
            }
            let offset = t.xoffset();
            let oc = offset_code(offset);
            self.write_code(off[oc]);
            let extra = u32::from(OFFSET_EXTRA_BITS[oc]);
            if extra > 0 {
                self.write_bits(offset - OFFSET_BASE[oc], extra);
            }
        }
    }
}
