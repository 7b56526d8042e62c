//! Go's `compress/gzip` + `compress/flate` at the default level, as
//! Terraform's `base64gzip` runs them: the same deflate blocks, bit for
//! bit, so `base64gzip` gives Terraform's string and not only text that
//! decompresses to the same input. Ported from Go 1.25's compressor
//! (Terraform 1.15.5 is built with Go 1.25); only level 6 is here.

mod bitwriter;
mod compressor;
mod huffman;
mod token;

#[cfg(test)]
mod tests;

/// Terraform's `base64gzip` before the base64: `gzip.NewWriter`, one
/// `Write` of `data`, `Flush`, `Close`. Go's header has no name and no
/// time, XFL 0 at the default level and OS 255 (unknown).
pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    gzip_with_kinds(data).0
}

/// `gzip`, and how each deflate block was written (the sync and final
/// empty stored blocks not counted).
fn gzip_with_kinds(data: &[u8]) -> (Vec<u8>, Vec<bitwriter::BlockKind>) {
    let mut c = compressor::Compressor::new();
    c.write(data);
    c.flush();
    c.close();
    let mut out = Vec::with_capacity(c.w.out.len() + 18);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    out.append(&mut c.w.out);
    out.extend_from_slice(&crc32(data).to_le_bytes());
    // ISIZE is the length modulo 2^32 (RFC 1952).
    out.extend_from_slice(&((data.len() as u64 & 0xffff_ffff) as u32).to_le_bytes());
    (out, c.w.kinds)
}

/// CRC-32 (IEEE 802.3, reflected, as gzip's trailer uses).
fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    !data.iter().fold(!0u32, |c, &b| {
        TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
    })
}
