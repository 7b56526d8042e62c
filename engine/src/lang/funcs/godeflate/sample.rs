//! Deterministic test inputs for the compressor: text with the features
//! that steer Go's choices (short and far repeats, long runs, incompressible
//! stretches, multi-byte UTF-8). Terraform was given the same bytes to get
//! the expected outputs in tests.rs, so this generator must not change.

/// xorshift64*: small, fixed, and the same on every platform.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub(super) fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) % n as u64) as usize
    }
}

const WORDS: &[&str] = &[
    "alpha",
    "beta",
    "gamma",
    "delta",
    "server",
    "client",
    "nginx",
    "config",
    "user",
    "group",
    "packages",
    "runcmd",
    "write_files",
    "path",
    "content",
    "owner",
    "root",
    "0644",
    "-",
    ":",
];

/// ASCII text of `len` bytes; `far` makes a quarter of the pieces copies
/// of earlier text up to 40,000 bytes back (past Go's 32 KiB window).
pub(super) fn text(seed: u64, len: usize, far: bool) -> Vec<u8> {
    let mut r = Rng::new(seed);
    let mut out: Vec<u8> = Vec::with_capacity(len + 600);
    while out.len() < len {
        match r.below(20) {
            0..=4 if far && out.len() > 1000 => {
                let back = 1 + r.below(out.len().min(40_000));
                let start = out.len() - back;
                let n = (3 + r.below(300)).min(back);
                out.extend_from_within(start..start + n);
            }
            5 | 6 => {
                let n = 1 + r.below(200);
                out.extend((0..n).map(|_| b'!' + r.below(94) as u8));
            }
            7 => {
                let c = b"ab \n"[r.below(4)];
                let n = 1 + r.below(600);
                out.extend(std::iter::repeat_n(c, n));
            }
            _ => {
                for _ in 0..1 + r.below(12) {
                    out.extend_from_slice(WORDS[r.below(WORDS.len())].as_bytes());
                    out.push(b' ');
                }
                out.push(b'\n');
            }
        }
    }
    out.truncate(len);
    out
}

/// UTF-8 text of at least `chars` characters drawn from 1- to 4-byte ones.
pub(super) fn unicode(seed: u64, chars: usize) -> Vec<u8> {
    const ALPHABET: &[&str] = &[
        "h", "é", "l", "o", " ", "☃", "日本", "😀", "ß", "Ω", "\n", "ñ",
    ];
    let mut r = Rng::new(seed);
    (0..chars)
        .flat_map(|_| ALPHABET[r.below(ALPHABET.len())].bytes())
        .collect()
}
