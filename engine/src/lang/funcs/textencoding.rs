//! base64gzip, textencodebase64 and textdecodebase64: bytes other than
//! UTF-8 text, as Terraform's `internal/lang/funcs/encoding.go` makes
//! them. Encodings are looked up by IANA name or alias (case-insensitive)
//! as Go's `ianaindex.IANA` does; errors name the encoding by its IANA
//! name (`ISO_8859-1:1987`), as Terraform's do.

use super::util::{Table, arg_err, p, reg};
use super::{FuncCtx, FuncError};
use crate::value::{Type, Value};
use base64::Engine as _;

pub(super) fn register(t: &mut Table) {
    let s = || Type::String;
    reg(t, "base64gzip", vec![p("str", s())], s(), base64gzip);
    reg(
        t,
        "textencodebase64",
        vec![p("string", s()), p("encoding", s())],
        s(),
        textencodebase64,
    );
    reg(
        t,
        "textdecodebase64",
        vec![p("source", s()), p("encoding", s())],
        s(),
        textdecodebase64,
    );
}

fn base64gzip(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    let s = a[0].as_str().unwrap_or_default();
    // Go's compressor, ported, so the string is Terraform's byte for byte.
    let gz = super::godeflate::gzip(s.as_bytes());
    Ok(Value::String(
        base64::engine::general_purpose::STANDARD.encode(gz),
    ))
}

/// How the bytes of one encoding are made.
#[derive(Clone, Copy)]
enum Codec {
    Utf8,
    /// Big-endian with a byte order mark when encoding; decoding honours a
    /// mark and defaults to big-endian (Go's `unicode.UTF16(BigEndian, UseBOM)`).
    Utf16Bom,
    Utf16(bool),
    Ascii,
    Latin1,
    Latin5,
    /// An encoding encoding_rs implements exactly as Go's x/text does.
    Rs(&'static encoding_rs::Encoding),
    /// A Windows code page: encoding_rs (WHATWG) maps its undefined bytes
    /// to C1 controls, Go's charmap to U+FFFD, so C1 controls are refused.
    Win(&'static encoding_rs::Encoding),
}

fn is_c1(c: char) -> bool {
    ('\u{80}'..='\u{9f}').contains(&c)
}

/// IANA name, its aliases, and the codec.
const ENCODINGS: &[(&str, &[&str], Codec)] = {
    use encoding_rs as e;
    &[
        ("UTF-8", &["csUTF8"], Codec::Utf8),
        ("UTF-16", &["csUTF16"], Codec::Utf16Bom),
        ("UTF-16BE", &["csUTF16BE"], Codec::Utf16(true)),
        ("UTF-16LE", &["csUTF16LE"], Codec::Utf16(false)),
        (
            "US-ASCII",
            &[
                "iso-ir-6",
                "ANSI_X3.4-1968",
                "ANSI_X3.4-1986",
                "ISO_646.irv:1991",
                "ISO646-US",
                "us",
                "IBM367",
                "cp367",
                "csASCII",
            ],
            Codec::Ascii,
        ),
        (
            "ISO_8859-1:1987",
            &[
                "iso-ir-100",
                "ISO_8859-1",
                "ISO-8859-1",
                "latin1",
                "l1",
                "IBM819",
                "CP819",
                "csISOLatin1",
            ],
            Codec::Latin1,
        ),
        (
            "ISO_8859-9:1989",
            &[
                "iso-ir-148",
                "ISO_8859-9",
                "ISO-8859-9",
                "latin5",
                "l5",
                "csISOLatin5",
            ],
            Codec::Latin5,
        ),
        (
            "ISO_8859-2:1987",
            &[
                "iso-ir-101",
                "ISO_8859-2",
                "ISO-8859-2",
                "latin2",
                "l2",
                "csISOLatin2",
            ],
            Codec::Rs(e::ISO_8859_2),
        ),
        (
            "ISO_8859-3:1988",
            &[
                "iso-ir-109",
                "ISO_8859-3",
                "ISO-8859-3",
                "latin3",
                "l3",
                "csISOLatin3",
            ],
            Codec::Rs(e::ISO_8859_3),
        ),
        (
            "ISO_8859-4:1988",
            &[
                "iso-ir-110",
                "ISO_8859-4",
                "ISO-8859-4",
                "latin4",
                "l4",
                "csISOLatin4",
            ],
            Codec::Rs(e::ISO_8859_4),
        ),
        (
            "ISO_8859-5:1988",
            &[
                "iso-ir-144",
                "ISO_8859-5",
                "ISO-8859-5",
                "cyrillic",
                "csISOLatinCyrillic",
            ],
            Codec::Rs(e::ISO_8859_5),
        ),
        (
            "ISO_8859-6:1987",
            &[
                "iso-ir-127",
                "ISO_8859-6",
                "ISO-8859-6",
                "ECMA-114",
                "ASMO-708",
                "arabic",
                "csISOLatinArabic",
            ],
            Codec::Rs(e::ISO_8859_6),
        ),
        (
            "ISO_8859-7:1987",
            &[
                "iso-ir-126",
                "ISO_8859-7",
                "ISO-8859-7",
                "ELOT_928",
                "ECMA-118",
                "greek",
                "greek8",
                "csISOLatinGreek",
            ],
            Codec::Rs(e::ISO_8859_7),
        ),
        (
            "ISO_8859-8:1988",
            &[
                "iso-ir-138",
                "ISO_8859-8",
                "ISO-8859-8",
                "hebrew",
                "csISOLatinHebrew",
            ],
            Codec::Rs(e::ISO_8859_8),
        ),
        (
            "ISO-8859-10",
            &[
                "iso-ir-157",
                "l6",
                "ISO_8859-10:1992",
                "csISOLatin6",
                "latin6",
            ],
            Codec::Rs(e::ISO_8859_10),
        ),
        ("ISO-8859-13", &["csISO885913"], Codec::Rs(e::ISO_8859_13)),
        (
            "ISO-8859-14",
            &[
                "iso-ir-199",
                "ISO_8859-14:1998",
                "ISO_8859-14",
                "latin8",
                "iso-celtic",
                "l8",
                "csISO885914",
            ],
            Codec::Rs(e::ISO_8859_14),
        ),
        (
            "ISO-8859-15",
            &["ISO_8859-15", "Latin-9", "csISO885915"],
            Codec::Rs(e::ISO_8859_15),
        ),
        (
            "ISO-8859-16",
            &[
                "iso-ir-226",
                "ISO_8859-16:2001",
                "ISO_8859-16",
                "latin10",
                "l10",
                "csISO885916",
            ],
            Codec::Rs(e::ISO_8859_16),
        ),
        (
            "windows-1250",
            &["cswindows1250"],
            Codec::Win(e::WINDOWS_1250),
        ),
        (
            "windows-1251",
            &["cswindows1251"],
            Codec::Win(e::WINDOWS_1251),
        ),
        (
            "windows-1252",
            &["cswindows1252"],
            Codec::Win(e::WINDOWS_1252),
        ),
        (
            "windows-1253",
            &["cswindows1253"],
            Codec::Win(e::WINDOWS_1253),
        ),
        (
            "windows-1254",
            &["cswindows1254"],
            Codec::Win(e::WINDOWS_1254),
        ),
        (
            "windows-1255",
            &["cswindows1255"],
            Codec::Win(e::WINDOWS_1255),
        ),
        (
            "windows-1256",
            &["cswindows1256"],
            Codec::Win(e::WINDOWS_1256),
        ),
        (
            "windows-1257",
            &["cswindows1257"],
            Codec::Win(e::WINDOWS_1257),
        ),
        (
            "windows-1258",
            &["cswindows1258"],
            Codec::Win(e::WINDOWS_1258),
        ),
        ("KOI8-R", &["csKOI8R"], Codec::Rs(e::KOI8_R)),
        ("KOI8-U", &["csKOI8U"], Codec::Rs(e::KOI8_U)),
        (
            "IBM866",
            &["cp866", "866", "csIBM866"],
            Codec::Rs(e::IBM866),
        ),
        (
            "macintosh",
            &["mac", "csMacintosh"],
            Codec::Rs(e::MACINTOSH),
        ),
        (
            "Shift_JIS",
            &["MS_Kanji", "csShiftJIS"],
            Codec::Rs(e::SHIFT_JIS),
        ),
        (
            "Extended_UNIX_Code_Packed_Format_for_Japanese",
            &["csEUCPkdFmtJapanese", "EUC-JP"],
            Codec::Rs(e::EUC_JP),
        ),
        ("ISO-2022-JP", &["csISO2022JP"], Codec::Rs(e::ISO_2022_JP)),
        ("EUC-KR", &["csEUCKR"], Codec::Rs(e::EUC_KR)),
        (
            "GBK",
            &["CP936", "MS936", "windows-936", "csGBK"],
            Codec::Rs(e::GBK),
        ),
        ("GB18030", &["csGB18030"], Codec::Rs(e::GB18030)),
        ("Big5", &["csBig5"], Codec::Rs(e::BIG5)),
    ]
};

/// ISO-8859-9 differs from ISO-8859-1 in six positions.
const LATIN5: [(u8, char); 6] = [
    (0xd0, 'Ğ'),
    (0xdd, 'İ'),
    (0xde, 'Ş'),
    (0xf0, 'ğ'),
    (0xfd, 'ı'),
    (0xfe, 'ş'),
];

fn lookup(i: usize, name: &str) -> Result<(&'static str, Codec), FuncError> {
    ENCODINGS
        .iter()
        .find(|(n, aliases, _)| {
            n.eq_ignore_ascii_case(name) || aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
        })
        .map(|(n, _, c)| (*n, *c))
        .ok_or_else(|| {
            arg_err(
                i,
                "encoding",
                format!(
                    "\"{name}\" is not a supported IANA encoding name or alias in this Terraform version"
                ),
            )
        })
}

fn encode(s: &str, codec: Codec) -> Option<Vec<u8>> {
    let utf16 = |be: bool, bom: bool| {
        let mut out = Vec::with_capacity(s.len() * 2 + 2);
        if bom {
            out.extend_from_slice(&[0xfe, 0xff]);
        }
        for u in s.encode_utf16() {
            out.extend_from_slice(&if be { u.to_be_bytes() } else { u.to_le_bytes() });
        }
        out
    };
    match codec {
        Codec::Utf8 => Some(s.as_bytes().to_vec()),
        Codec::Utf16Bom => Some(utf16(true, true)),
        Codec::Utf16(be) => Some(utf16(be, false)),
        Codec::Ascii => s.is_ascii().then(|| s.as_bytes().to_vec()),
        Codec::Latin1 => s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect(),
        Codec::Latin5 => s
            .chars()
            .map(|c| match LATIN5.iter().find(|(_, l)| *l == c) {
                Some((b, _)) => Some(*b),
                None => u8::try_from(u32::from(c))
                    .ok()
                    .filter(|b| !LATIN5.iter().any(|(x, _)| x == b)),
            })
            .collect(),
        Codec::Rs(enc) => {
            let (bytes, _, had_errors) = enc.encode(s);
            (!had_errors).then(|| bytes.into_owned())
        }
        Codec::Win(_) if s.chars().any(is_c1) => None,
        Codec::Win(enc) => encode(s, Codec::Rs(enc)),
    }
}

fn decode(b: &[u8], codec: Codec) -> Option<String> {
    let utf16 = |data: &[u8], be: bool| {
        if !data.len().is_multiple_of(2) {
            return None;
        }
        let units: Vec<u16> = data
            .chunks_exact(2)
            .map(|c| {
                if be {
                    u16::from_be_bytes([c[0], c[1]])
                } else {
                    u16::from_le_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units).ok()
    };
    match codec {
        Codec::Utf8 => String::from_utf8(b.to_vec()).ok(),
        Codec::Utf16Bom => match b {
            [0xff, 0xfe, rest @ ..] => utf16(rest, false),
            [0xfe, 0xff, rest @ ..] => utf16(rest, true),
            _ => utf16(b, true),
        },
        Codec::Utf16(be) => utf16(b, be),
        Codec::Ascii => b
            .is_ascii()
            .then(|| b.iter().map(|&x| char::from(x)).collect()),
        Codec::Latin1 => Some(b.iter().map(|&x| char::from(x)).collect()),
        Codec::Latin5 => Some(
            b.iter()
                .map(|&x| {
                    LATIN5
                        .iter()
                        .find(|(y, _)| *y == x)
                        .map_or(char::from(x), |(_, c)| *c)
                })
                .collect(),
        ),
        Codec::Rs(enc) => enc
            .decode_without_bom_handling_and_without_replacement(b)
            .map(|c| c.into_owned()),
        Codec::Win(enc) => decode(b, Codec::Rs(enc)).filter(|t| !t.chars().any(is_c1)),
    }
}

fn textencodebase64(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    let s = a[0].as_str().unwrap_or_default();
    let (name, codec) = lookup(1, a[1].as_str().unwrap_or_default())?;
    let bytes = encode(s, codec).ok_or_else(|| {
        arg_err(
            0,
            "string",
            format!("the given string contains characters that cannot be represented in {name}"),
        )
    })?;
    Ok(Value::String(
        base64::engine::general_purpose::STANDARD.encode(bytes),
    ))
}

fn textdecodebase64(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    let s = a[0].as_str().unwrap_or_default();
    let (name, codec) = lookup(1, a[1].as_str().unwrap_or_default())?;
    let bytes = go_decode(s).map_err(|offset| {
        arg_err(
            0,
            "source",
            format!("the given value is has an invalid base64 symbol at offset {offset}"),
        )
    })?;
    // Go's decoders turn undefined bytes into U+FFFD, which Terraform
    // then refuses: so does a decoded U+FFFD.
    match decode(&bytes, codec) {
        Some(text) if !text.contains('\u{fffd}') => Ok(Value::String(text)),
        _ => Err(arg_err(
            0,
            "source",
            format!("the given string contains symbols that are not defined for {name}"),
        )),
    }
}

/// Go's `base64.StdEncoding.DecodeString`: padding required, `\r` and
/// `\n` skipped; the error is the offset of the first bad symbol.
fn go_decode(s: &str) -> Result<Vec<u8>, usize> {
    let cfg = base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true);
    let engine = base64::engine::GeneralPurpose::new(&base64::alphabet::STANDARD, cfg);
    let cleaned: String = s.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    engine.decode(cleaned.as_bytes()).map_err(|e| match e {
        base64::DecodeError::InvalidByte(i, _) | base64::DecodeError::InvalidLastSymbol(i, _) => i,
        // A wrong length: Go reports where the incomplete quantum starts.
        _ => cleaned.len() / 4 * 4,
    })
}

#[cfg(test)]
#[path = "textencoding_tests.rs"]
mod tests;
