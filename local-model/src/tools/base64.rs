//! Standard base64 (RFC 4648, `=` padding optional) decoding for secret values given as
//! `key#base64=...`: pure, no dependency for the few bytes a secret holds.

/// Decodes standard base64; `None` when `text` is not valid base64.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let digits = text.trim_end_matches('=');
    if text.len() - digits.len() > 2 || digits.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in digits.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn decodes_padded_and_unpadded_and_refuses_garbage() {
        assert_eq!(decode("c2VjcmV0").as_deref(), Some(&b"secret"[..]));
        assert_eq!(decode("cGFzc3dvcmQ=").as_deref(), Some(&b"password"[..]));
        assert_eq!(decode("cGFzc3dvcmQ").as_deref(), Some(&b"password"[..]));
        assert_eq!(decode("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(decode("").as_deref(), Some(&b""[..]));
        assert_eq!(decode("not base64!"), None);
        assert_eq!(decode("abcde"), None);
        assert_eq!(decode("YQ==="), None);
    }
}
