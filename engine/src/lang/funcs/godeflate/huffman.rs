//! Length-limited Huffman codes built exactly as Go's `huffman_code.go`
//! builds them: leaves sorted by (frequency, symbol), bit counts from the
//! package-merge style level walk of `bitCounts`, and codes handed out in
//! symbol order within each length. Any other optimal code would be just
//! as valid deflate, but Terraform's bytes depend on this one.

/// One symbol's code, bits already reversed for LSB-first writing.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(super) struct HCode {
    pub(super) code: u16,
    pub(super) len: u16,
}

#[derive(Clone, Copy)]
struct Node {
    literal: u16,
    freq: i32,
}

/// Go's `levelInfo`: the state of the tree under construction at one depth.
#[derive(Clone, Copy, Default)]
struct Level {
    last_freq: i32,
    next_char_freq: i32,
    next_pair_freq: i32,
    needed: i32,
}

/// The deepest level `bitCounts` supports (exclusive), as in Go.
const MAX_BITS_LIMIT: usize = 16;

pub(super) struct HuffmanEncoder {
    pub(super) codes: Vec<HCode>,
}

impl HuffmanEncoder {
    pub(super) fn new(size: usize) -> Self {
        HuffmanEncoder {
            codes: vec![HCode::default(); size],
        }
    }

    /// Deflate's fixed literal/length code (RFC 1951 3.2.6).
    pub(super) fn fixed_literal() -> Self {
        let mut h = HuffmanEncoder::new(super::token::MAX_NUM_LIT);
        for (ch, c) in (0u16..).zip(h.codes.iter_mut()) {
            let (bits, size) = match ch {
                0..=143 => (ch + 48, 8),
                144..=255 => (ch + 400 - 144, 9),
                256..=279 => (ch - 256, 7),
                _ => (ch + 192 - 280, 8),
            };
            *c = HCode {
                code: reverse_bits(bits, size),
                len: size,
            };
        }
        h
    }

    /// Deflate's fixed distance code: 5 bits each.
    pub(super) fn fixed_offset() -> Self {
        let mut h = HuffmanEncoder::new(super::token::OFFSET_CODE_COUNT);
        for (i, c) in (0u16..).zip(h.codes.iter_mut()) {
            *c = HCode {
                code: reverse_bits(i, 5),
                len: 5,
            };
        }
        h
    }

    /// Bits needed to write symbols with these frequencies.
    pub(super) fn bit_length(&self, freq: &[i32]) -> i64 {
        freq.iter()
            .zip(&self.codes)
            .filter(|(f, _)| **f != 0)
            .map(|(f, c)| i64::from(*f) * i64::from(c.len))
            .sum()
    }

    /// Makes the codes the minimal ones of at most `max_bits` bits for
    /// `freq`; symbols of frequency 0 get length 0.
    pub(super) fn generate(&mut self, freq: &[i32], max_bits: i32) {
        let mut list: Vec<Node> = Vec::with_capacity(freq.len() + 1);
        for (i, (&f, c)) in freq.iter().zip(self.codes.iter_mut()).enumerate() {
            if f != 0 {
                list.push(Node {
                    literal: i as u16,
                    freq: f,
                });
            } else {
                c.len = 0;
            }
        }
        if list.len() <= 2 {
            // Go's special case: one bit each, in symbol order.
            for (i, node) in list.iter().enumerate() {
                self.codes[usize::from(node.literal)] = HCode {
                    code: i as u16,
                    len: 1,
                };
            }
            return;
        }
        // (freq, literal) is a total order, so Go's unstable sort and this
        // one agree.
        list.sort_unstable_by_key(|n| (n.freq, n.literal));
        let bit_count = bit_counts(&list, max_bits);
        self.assign(&bit_count, &list);
    }

    /// Gives the `bit_count[n]` most frequent remaining symbols `n`-bit
    /// codes, counting up in symbol order (RFC 1951 3.2.2).
    fn assign(&mut self, bit_count: &[i32], mut list: &[Node]) {
        let mut code: u16 = 0;
        for (n, &bits) in bit_count.iter().enumerate() {
            code <<= 1;
            if n == 0 || bits == 0 {
                continue;
            }
            let split = list.len() - bits as usize;
            let mut chunk = list[split..].to_vec();
            chunk.sort_unstable_by_key(|n| n.literal);
            for node in chunk {
                self.codes[usize::from(node.literal)] = HCode {
                    code: reverse_bits(code, n as u16),
                    len: n as u16,
                };
                code = code.wrapping_add(1);
            }
            list = &list[..split];
        }
    }
}

/// How many symbols get each code length (index = length), for a list of
/// at least 3 symbols sorted by increasing frequency. A port of Go's
/// `bitCounts`, whose tie-breaking decides which symbols get which lengths.
fn bit_counts(sorted: &[Node], max_bits: i32) -> Vec<i32> {
    let n = sorted.len() as i32;
    // A sentinel after the last leaf, as Go appends `maxNode()`.
    let freq_at = |i: i32| -> i32 { sorted.get(i as usize).map_or(i32::MAX, |x| x.freq) };
    let max_bits = max_bits.min(n - 1) as usize;

    // levels[0] is a bogus level whose `needed` stays 0 so level 1's pair
    // frequency is never chosen. One spare entry above the top, which Go's
    // walk never reads but indexes past in principle.
    let mut levels = [Level::default(); MAX_BITS_LIMIT + 1];
    // leaf_counts[i][j]: literals left of the level-j ancestor of the
    // rightmost node at level i.
    let mut leaf_counts = [[0i32; MAX_BITS_LIMIT]; MAX_BITS_LIMIT];
    for level in 1..=max_bits {
        levels[level] = Level {
            last_freq: freq_at(1),
            next_char_freq: freq_at(2),
            next_pair_freq: if level == 1 {
                i32::MAX
            } else {
                freq_at(0) + freq_at(1)
            },
            needed: 0,
        };
        leaf_counts[level][level] = 2;
    }
    // 2n - 2 items at the top level, 2 of them already there.
    levels[max_bits].needed = 2 * n - 4;

    let mut level = max_bits;
    loop {
        let l = levels[level];
        if l.next_pair_freq == i32::MAX && l.next_char_freq == i32::MAX {
            // Out of leaves and pairs: this level is done for good.
            levels[level].needed = 0;
            levels[level + 1].next_pair_freq = i32::MAX;
            level += 1;
            continue;
        }
        let prev_freq = l.last_freq;
        if l.next_char_freq < l.next_pair_freq {
            // The next item on this row is a leaf.
            let count = leaf_counts[level][level] + 1;
            levels[level].last_freq = l.next_char_freq;
            leaf_counts[level][level] = count;
            levels[level].next_char_freq = freq_at(count);
        } else {
            // A pair from the row below, which must make two more.
            levels[level].last_freq = l.next_pair_freq;
            let (below, here) = leaf_counts.split_at_mut(level);
            here[0][..level].copy_from_slice(&below[level - 1][..level]);
            levels[level - 1].needed = 2;
        }
        levels[level].needed -= 1;
        if levels[level].needed == 0 {
            if level == max_bits {
                break;
            }
            levels[level + 1].next_pair_freq = prev_freq + levels[level].last_freq;
            level += 1;
        } else {
            // Replenish the rows below that were stolen from.
            while levels[level - 1].needed > 0 {
                level -= 1;
            }
        }
    }
    debug_assert_eq!(leaf_counts[max_bits][max_bits], n);

    let mut bit_count = vec![0i32; max_bits + 1];
    let counts = &leaf_counts[max_bits];
    for (bits, level) in (1..=max_bits).zip((1..=max_bits).rev()) {
        bit_count[bits] = counts[level] - counts[level - 1];
    }
    bit_count
}

/// The low `len` bits of `code`, reversed.
pub(super) fn reverse_bits(code: u16, len: u16) -> u16 {
    (code << (16 - len)).reverse_bits()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kraft's sum of the lengths is exactly 1 for a complete code.
    fn kraft(codes: &[HCode]) -> f64 {
        codes
            .iter()
            .filter(|c| c.len > 0)
            .map(|c| 0.5f64.powi(i32::from(c.len)))
            .sum()
    }

    #[test]
    fn generate_limits_lengths_and_keeps_the_code_complete() {
        // Fibonacci frequencies would need 20+ bits unlimited.
        let mut freq = vec![0i32; 30];
        let (mut a, mut b) = (1i32, 1i32);
        for f in freq.iter_mut() {
            *f = a;
            (a, b) = (b, a.saturating_add(b));
        }
        let mut h = HuffmanEncoder::new(30);
        h.generate(&freq, 15);
        assert!(h.codes.iter().all(|c| (1..=15).contains(&c.len)));
        assert_eq!(kraft(&h.codes), 1.0);
        // The rarest symbols get the longest codes.
        assert!(h.codes[0].len >= h.codes[29].len);
    }

    #[test]
    fn generate_with_two_symbols_uses_one_bit_in_symbol_order() {
        let mut h = HuffmanEncoder::new(5);
        h.generate(&[0, 7, 0, 1, 0], 15);
        assert_eq!(h.codes[1], HCode { code: 0, len: 1 });
        assert_eq!(h.codes[3], HCode { code: 1, len: 1 });
        assert_eq!(h.codes[0].len, 0);
    }

    #[test]
    fn fixed_codes_are_rfc1951s() {
        let lit = HuffmanEncoder::fixed_literal();
        assert_eq!(lit.codes[0].len, 8);
        assert_eq!(lit.codes[144].len, 9);
        assert_eq!(lit.codes[256], HCode { code: 0, len: 7 });
        // 'a' (97) is 0x30 + 97 = 0b10010001, written reversed.
        assert_eq!(lit.codes[97].code, 0b1000_1001);
    }
}
