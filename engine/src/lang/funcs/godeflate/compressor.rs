//! The LZ77 stage of Go's `compress/flate` at its default level 6
//! (deflate.go's `deflate` step): 4-byte hashes in chains over a 32 KiB
//! window, lazy matching, at most 16 Ki tokens a block. Where a block
//! ends and which matches it holds decide the bytes, so the window
//! sliding, the chain walk and the flush points follow Go step by step.

use super::bitwriter::BitWriter;
use super::token::Token;

const WINDOW_SIZE: usize = 1 << 15;
const WINDOW_MASK: usize = WINDOW_SIZE - 1;
const MIN_MATCH_LENGTH: usize = 4;
const MAX_MATCH_LENGTH: usize = 258;
const BASE_MATCH_LENGTH: usize = 3;
const BASE_MATCH_OFFSET: usize = 1;
const MAX_FLATE_BLOCK_TOKENS: usize = 1 << 14;
const HASH_BITS: u32 = 17;
const HASH_SIZE: usize = 1 << HASH_BITS;
const HASH_MASK: u32 = (1 << HASH_BITS) - 1;
/// When stored chain positions get this large, Go rebases them.
const MAX_HASH_OFFSET: i64 = 1 << 24;
const HASH_MUL: u32 = 0x1e35_a7bd;

/// Level 6 of Go's `levels` table.
const GOOD: usize = 8;
const LAZY: usize = 16;
const NICE: usize = 128;
const CHAIN: usize = 128;

/// Lookahead the step wants before it works without a flush.
const MIN_LOOKAHEAD: usize = MIN_MATCH_LENGTH + MAX_MATCH_LENGTH;

pub(super) struct Compressor {
    pub(super) w: BitWriter,
    window: Vec<u8>,
    window_end: usize,
    /// Next byte to process.
    index: usize,
    /// Window index where the queued tokens start; `None` once the window
    /// slid past it (the block then cannot be stored), Go's `math.MaxInt32`.
    block_start: Option<usize>,
    /// `window[index - 1]` still waits for its literal or match decision.
    byte_available: bool,
    tokens: Vec<Token>,
    /// Best match at the previous position (lazy matching).
    length: usize,
    offset: usize,
    /// hash_head[h]: the latest position + hash_offset with hash h;
    /// hash_prev[pos & mask]: the one before it with the same hash.
    hash_head: Vec<u32>,
    hash_prev: Vec<u32>,
    hash_offset: i64,
    /// Head of the chain found at the last inserted position; kept across
    /// positions as Go keeps it.
    chain_head: i64,
    max_insert_index: i64,
    sync: bool,
}

fn hash4(b: &[u8]) -> u32 {
    let v = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    v.wrapping_mul(HASH_MUL) >> (32 - HASH_BITS)
}

/// Bytes `a` and `b` have in common, up to `max`.
fn match_len(a: &[u8], b: &[u8], max: usize) -> usize {
    a[..max]
        .iter()
        .zip(&b[..max])
        .take_while(|(x, y)| x == y)
        .count()
}

impl Compressor {
    pub(super) fn new() -> Self {
        Compressor {
            w: BitWriter::new(),
            window: vec![0; 2 * WINDOW_SIZE],
            window_end: 0,
            index: 0,
            block_start: Some(0),
            byte_available: false,
            tokens: Vec::with_capacity(MAX_FLATE_BLOCK_TOKENS + 1),
            length: MIN_MATCH_LENGTH - 1,
            offset: 0,
            hash_head: vec![0; HASH_SIZE],
            hash_prev: vec![0; WINDOW_SIZE],
            hash_offset: 1,
            chain_head: -1,
            max_insert_index: 0,
            sync: false,
        }
    }

    /// Go's `Writer.Write`: alternately processes the window and refills it.
    pub(super) fn write(&mut self, mut b: &[u8]) {
        while !b.is_empty() {
            self.deflate();
            let n = self.fill(b);
            b = &b[n..];
        }
    }

    /// Go's `Writer.Flush`: everything so far in blocks, then an empty
    /// stored block so the output ends on a byte boundary.
    pub(super) fn flush(&mut self) {
        self.sync = true;
        self.deflate();
        self.w.write_stored_header(0, false);
        self.w.flush();
        self.sync = false;
    }

    /// Go's `Writer.Close`: the rest, then an empty final stored block.
    pub(super) fn close(&mut self) {
        self.sync = true;
        self.deflate();
        self.w.write_stored_header(0, true);
        self.w.flush();
    }

    /// Copies input into the window, first sliding it by 32 KiB when the
    /// processed part is that far along.
    fn fill(&mut self, b: &[u8]) -> usize {
        if self.index >= 2 * WINDOW_SIZE - MIN_LOOKAHEAD {
            self.window.copy_within(WINDOW_SIZE.., 0);
            self.index -= WINDOW_SIZE;
            self.window_end -= WINDOW_SIZE;
            self.block_start = self.block_start.and_then(|s| s.checked_sub(WINDOW_SIZE));
            self.hash_offset += WINDOW_SIZE as i64;
            if self.hash_offset > MAX_HASH_OFFSET {
                let delta = self.hash_offset - 1;
                self.hash_offset -= delta;
                self.chain_head -= delta;
                let rebase = |v: &mut u32| {
                    *v = if i64::from(*v) > delta {
                        (i64::from(*v) - delta) as u32
                    } else {
                        0
                    };
                };
                self.hash_prev.iter_mut().for_each(rebase);
                self.hash_head.iter_mut().for_each(rebase);
            }
        }
        let n = b.len().min(self.window.len() - self.window_end);
        self.window[self.window_end..self.window_end + n].copy_from_slice(&b[..n]);
        self.window_end += n;
        n
    }

    /// Writes the queued tokens as a block ending at window `index`.
    fn write_block(&mut self, index: usize) {
        if index > 0 {
            let input = match self.block_start {
                Some(s) if s <= index => Some(&self.window[s..index]),
                _ => None,
            };
            self.w.write_block(&self.tokens, false, input);
            self.block_start = Some(index);
        }
        self.tokens.clear();
    }

    /// Puts position `index` at the head of its hash chain; returns the
    /// previous head.
    fn insert(&mut self, index: usize) -> u32 {
        let h = (hash4(&self.window[index..index + MIN_MATCH_LENGTH]) & HASH_MASK) as usize;
        let prev = self.hash_head[h];
        self.hash_prev[index & WINDOW_MASK] = prev;
        self.hash_head[h] = (index as i64 + self.hash_offset) as u32;
        prev
    }

    /// The longest match at `pos` longer than `prev_length`, walking the
    /// chain from `prev_head` for at most `CHAIN` candidates.
    fn find_match(
        &self,
        pos: usize,
        prev_head: i64,
        prev_length: usize,
        lookahead: usize,
    ) -> Option<(usize, usize)> {
        let min_match_look = lookahead.min(MAX_MATCH_LENGTH);
        let win = &self.window[..pos + min_match_look];
        let nice = NICE.min(win.len() - pos);
        let mut tries = CHAIN;
        let mut length = prev_length;
        if length >= GOOD {
            tries >>= 2;
        }
        let mut w_end = win[pos + length];
        let w_pos = &win[pos..];
        let min_index = pos as i64 - WINDOW_SIZE as i64;
        let mut found = None;
        let mut i = prev_head;
        while tries > 0 {
            let iu = i as usize;
            if w_end == win[iu + length] {
                let n = match_len(&win[iu..], w_pos, min_match_look);
                // Short matches only pay off when near.
                if n > length && (n > MIN_MATCH_LENGTH || pos - iu <= 4096) {
                    length = n;
                    found = Some((n, pos - iu));
                    if n >= nice {
                        break;
                    }
                    w_end = win[pos + n];
                }
            }
            if i == min_index {
                // hash_prev of this slot has been overwritten already.
                break;
            }
            i = i64::from(self.hash_prev[iu & WINDOW_MASK]) - self.hash_offset;
            if i < min_index || i < 0 {
                break;
            }
            tries -= 1;
        }
        found
    }

    /// Go's `deflate` step for a lazy level: turns the window into tokens
    /// while enough lookahead remains (all of it when syncing), writing a
    /// block whenever 16 Ki tokens are queued and at a sync.
    fn deflate(&mut self) {
        if self.window_end - self.index < MIN_LOOKAHEAD && !self.sync {
            return;
        }
        self.max_insert_index = self.window_end as i64 - (MIN_MATCH_LENGTH as i64 - 1);
        loop {
            let lookahead = self.window_end - self.index;
            if lookahead < MIN_LOOKAHEAD {
                if !self.sync {
                    break;
                }
                if lookahead == 0 {
                    if self.byte_available {
                        let b = self.window[self.index - 1];
                        self.tokens.push(Token::literal(u16::from(b)));
                        self.byte_available = false;
                    }
                    if !self.tokens.is_empty() {
                        self.write_block(self.index);
                    }
                    break;
                }
            }
            if (self.index as i64) < self.max_insert_index {
                self.chain_head = i64::from(self.insert(self.index));
            }
            let prev_length = self.length;
            let prev_offset = self.offset;
            self.length = MIN_MATCH_LENGTH - 1;
            self.offset = 0;
            let min_index = self.index.saturating_sub(WINDOW_SIZE) as i64;

            let head = self.chain_head - self.hash_offset;
            if head >= min_index
                && lookahead > prev_length
                && prev_length < LAZY
                && let Some((l, o)) =
                    self.find_match(self.index, head, MIN_MATCH_LENGTH - 1, lookahead)
            {
                self.length = l;
                self.offset = o;
            }
            if prev_length >= MIN_MATCH_LENGTH && self.length <= prev_length {
                // The previous position's match is at least as good: emit
                // it and hash every position it covers.
                self.tokens.push(Token::matched(
                    (prev_length - BASE_MATCH_LENGTH) as u32,
                    (prev_offset - BASE_MATCH_OFFSET) as u32,
                ));
                let new_index = self.index + prev_length - 1;
                self.index += 1;
                while self.index < new_index {
                    if (self.index as i64) < self.max_insert_index {
                        self.insert(self.index);
                    }
                    self.index += 1;
                }
                self.byte_available = false;
                self.length = MIN_MATCH_LENGTH - 1;
                if self.tokens.len() == MAX_FLATE_BLOCK_TOKENS {
                    self.write_block(self.index);
                }
            } else {
                if self.byte_available {
                    let i = self.index - 1;
                    self.tokens.push(Token::literal(u16::from(self.window[i])));
                    if self.tokens.len() == MAX_FLATE_BLOCK_TOKENS {
                        self.write_block(i + 1);
                    }
                }
                self.index += 1;
                self.byte_available = true;
            }
        }
    }
}
