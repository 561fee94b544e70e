//! BER → DER normalisation, so the typed (DER-only) decoders can read what Windows, NSS and some
//! toolkits write.
//!
//! [`normalize_ber`] is the one place where BER is accepted. It rewrites:
//! - indefinite lengths (`0x80` ... `00 00`) as definite, minimal lengths;
//! - non-minimal length encodings as minimal ones;
//! - constructed (chunked) universal string types (OCTET STRING, BIT STRING and the character
//!   strings, X.690 section 8.7/8.21) as one primitive string.
//!
//! Everything else is copied as it is. Context-specific tags are left constructed even when they
//! hold chunked strings (an IMPLICIT `[0] OCTET STRING` is indistinguishable from an EXPLICIT `[0]`
//! around one OCTET STRING without the schema); the typed layer joins those with
//! [`implicit_octets`].
//!
//! Nesting depth and the amount of output are bounded so hostile input costs little.

/// Why BER could not be normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BerError {
    /// The input ends inside an element.
    Truncated,
    /// A length, tag or end-of-contents marker that BER does not allow.
    Malformed,
    /// Deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Bytes follow the outermost element.
    TrailingData,
}

/// Nesting limit: PKCS#12 files nest about a dozen levels; 64 leaves room and bounds recursion.
const MAX_DEPTH: usize = 64;

/// Normalises one BER element (the whole input) to DER-style definite lengths.
///
/// # Errors
/// [`BerError`] when the input is not one well-formed BER element.
pub(crate) fn normalize_ber(input: &[u8]) -> Result<Vec<u8>, BerError> {
    let mut out = Vec::with_capacity(input.len());
    let mut reader = Reader { input, pos: 0 };
    reader.element(&mut out, 0)?;
    if reader.pos != input.len() {
        return Err(BerError::TrailingData);
    }
    Ok(out)
}

/// The octets of an IMPLICIT-tagged OCTET STRING held as [`der::Any`]: the value of the primitive
/// form, or the joined values of the OCTET STRING chunks of the constructed (BER) form.
///
/// # Errors
/// [`BerError::Malformed`] when a constructed form holds something else than OCTET STRINGs.
pub(crate) fn implicit_octets(any: &der::Any) -> Result<Vec<u8>, BerError> {
    use der::Tagged;
    if !any.tag().is_constructed() {
        return Ok(any.value().to_vec());
    }
    let mut out = Vec::with_capacity(any.value().len());
    let mut reader = Reader { input: any.value(), pos: 0 };
    while reader.pos < reader.input.len() {
        let (tag, constructed) = reader.tag()?;
        if tag.len() != 1 || tag[0] & !0x20 != 0x04 {
            return Err(BerError::Malformed);
        }
        reader.string_content_after_tag(&mut out, constructed, 0)?;
    }
    Ok(out)
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

/// Universal tag numbers of the string types whose constructed form is joined.
fn is_string_type(tag_number: u8) -> bool {
    matches!(tag_number, 3 | 4 | 12 | 18 | 19 | 20 | 21 | 22 | 25 | 26 | 27 | 28 | 30)
}

enum Len {
    Definite(usize),
    Indefinite,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, BerError> {
        let b = *self.input.get(self.pos).ok_or(BerError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    /// Reads identifier octets; returns them and whether the form is constructed.
    fn tag(&mut self) -> Result<(Vec<u8>, bool), BerError> {
        let first = self.byte()?;
        let mut tag = vec![first];
        if first & 0x1f == 0x1f {
            loop {
                let b = self.byte()?;
                tag.push(b);
                if tag.len() > 6 {
                    return Err(BerError::Malformed);
                }
                if b & 0x80 == 0 {
                    break;
                }
            }
        }
        Ok((tag, first & 0x20 != 0))
    }

    fn length(&mut self) -> Result<Len, BerError> {
        let first = self.byte()?;
        if first < 0x80 {
            return self.definite(first as usize);
        }
        if first == 0x80 {
            return Ok(Len::Indefinite);
        }
        let count = (first & 0x7f) as usize;
        if count > 8 || first == 0xff {
            return Err(BerError::Malformed);
        }
        let mut len: u64 = 0;
        for _ in 0..count {
            len = (len << 8) | u64::from(self.byte()?);
        }
        self.definite(usize::try_from(len).map_err(|_| BerError::Truncated)?)
    }

    /// A definite length, checked against what is left of the input.
    fn definite(&self, len: usize) -> Result<Len, BerError> {
        if len > self.input.len() - self.pos {
            return Err(BerError::Truncated);
        }
        Ok(Len::Definite(len))
    }

    fn at_end_of_contents(&self) -> bool {
        self.input.get(self.pos) == Some(&0) && self.input.get(self.pos + 1) == Some(&0)
    }

    /// Copies one element to `out` in normalised form.
    fn element(&mut self, out: &mut Vec<u8>, depth: usize) -> Result<(), BerError> {
        if depth > MAX_DEPTH {
            return Err(BerError::TooDeep);
        }
        let (tag, constructed) = self.tag()?;
        if tag == [0] {
            return Err(BerError::Malformed);
        }
        let universal_string = tag[0] & 0xc0 == 0 && is_string_type(tag[0] & 0x1f);
        let mut content = Vec::new();
        if constructed && universal_string {
            // Chunked string: join the chunks into one primitive string.
            self.string_content_after_tag(&mut content, true, depth)?;
            out.push(tag[0] & !0x20);
            out.extend_from_slice(&tag[1..]);
        } else {
            match self.length()? {
                Len::Definite(len) if !constructed => {
                    content.extend_from_slice(&self.input[self.pos..self.pos + len]);
                    self.pos += len;
                }
                Len::Definite(len) => {
                    let end = self.pos + len;
                    let mut inner = Reader { input: &self.input[..end], pos: self.pos };
                    while inner.pos < end {
                        inner.element(&mut content, depth + 1)?;
                    }
                    self.pos = end;
                }
                Len::Indefinite if constructed => {
                    while !self.at_end_of_contents() {
                        self.element(&mut content, depth + 1)?;
                    }
                    self.pos += 2;
                }
                Len::Indefinite => return Err(BerError::Malformed),
            }
            out.extend_from_slice(&tag);
        }
        write_length(out, content.len());
        out.extend_from_slice(&content);
        Ok(())
    }

    /// After the tag of a string element: appends its octets (joining chunks) to `out`.
    fn string_content_after_tag(
        &mut self,
        out: &mut Vec<u8>,
        constructed: bool,
        depth: usize,
    ) -> Result<(), BerError> {
        if depth > MAX_DEPTH {
            return Err(BerError::TooDeep);
        }
        let len = self.length()?;
        match (constructed, len) {
            (false, Len::Definite(len)) => {
                out.extend_from_slice(&self.input[self.pos..self.pos + len]);
                self.pos += len;
            }
            (false, Len::Indefinite) => return Err(BerError::Malformed),
            (true, Len::Definite(len)) => {
                let end = self.pos + len;
                while self.pos < end {
                    let (_, chunk_constructed) = self.tag()?;
                    self.string_content_after_tag(out, chunk_constructed, depth + 1)?;
                }
                if self.pos != end {
                    return Err(BerError::Malformed);
                }
            }
            (true, Len::Indefinite) => {
                while !self.at_end_of_contents() {
                    let (_, chunk_constructed) = self.tag()?;
                    self.string_content_after_tag(out, chunk_constructed, depth + 1)?;
                }
                self.pos += 2;
            }
        }
        Ok(())
    }
}

/// Appends a minimal DER length.
pub(crate) fn write_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn definite_der_is_unchanged() {
        let der = hex("30 06 02 01 03 04 01 aa");
        assert_eq!(normalize_ber(&der).unwrap(), der);
    }

    #[test]
    fn indefinite_sequence_and_chunked_octet_string_become_der() {
        // SEQUENCE (indefinite) { OCTET STRING (constructed, indefinite) { "ab", "c" } }
        let ber = hex("30 80 24 80 04 02 61 62 04 01 63 00 00 00 00");
        assert_eq!(normalize_ber(&ber).unwrap(), hex("30 05 04 03 61 62 63"));
    }

    #[test]
    fn long_form_lengths_are_made_minimal() {
        let ber = hex("04 81 02 aa bb");
        assert_eq!(normalize_ber(&ber).unwrap(), hex("04 02 aa bb"));
    }

    #[test]
    fn context_specific_constructed_strings_are_joined_by_implicit_octets() {
        let ber = hex("a0 80 04 01 61 04 02 62 63 00 00");
        let der_bytes = normalize_ber(&ber).unwrap();
        assert_eq!(der_bytes, hex("a0 07 04 01 61 04 02 62 63"));
        let any: der::Any = der::Decode::from_der(&der_bytes).unwrap();
        assert_eq!(implicit_octets(&any).unwrap(), b"abc");
    }

    #[test]
    fn malformed_inputs_are_errors_not_panics() {
        assert_eq!(normalize_ber(&hex("30 05 02 01")), Err(BerError::Truncated));
        assert_eq!(normalize_ber(&hex("30 80 02 01 03")), Err(BerError::Truncated));
        assert_eq!(normalize_ber(&hex("04 80 00 00")), Err(BerError::Malformed));
        assert_eq!(normalize_ber(&hex("02 01 03 00")), Err(BerError::TrailingData));
        assert_eq!(normalize_ber(&hex("30 89 ff ff ff ff ff ff ff ff ff")), Err(BerError::Malformed));
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 200).flatten().collect();
        assert_eq!(normalize_ber(&deep), Err(BerError::TooDeep));
    }
}
