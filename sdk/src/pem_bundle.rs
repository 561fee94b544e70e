//! Splitting a PEM text into its blocks (RFC 7468): a certificate chain or a key file may hold
//! several, with explanatory text around them as OpenSSL writes it ("Bag Attributes", "subject=").
//!
//! Entry point: [`pem_blocks`]. Each block is decoded with `der::pem`, which checks the base64 and
//! the matching END line; the caller decides which labels it wants.

use zeroize::Zeroizing;

/// One decoded PEM block.
pub(crate) struct PemBlock {
    /// The label between `-----BEGIN ` and `-----`, for example `CERTIFICATE`.
    pub(crate) label: String,
    /// The decoded bytes, zeroized on drop since a block may be a private key.
    pub(crate) der: Zeroizing<Vec<u8>>,
    /// Whether the block carries RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`, as OpenSSL's
    /// "traditional" encrypted keys do); `der::pem` cannot decode those.
    pub(crate) has_headers: bool,
}

/// Why a PEM text could not be split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PemBundleError {
    /// A `-----BEGIN` line without its `-----END` line.
    Unterminated,
    /// A block whose base64 body or framing is malformed; the index counts blocks from 0.
    Malformed { index: usize },
}

const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const DASHES: &str = "-----";

/// Every PEM block of `text`, in order; text outside blocks is ignored.
pub(crate) fn pem_blocks(text: &str) -> Result<Vec<PemBlock>, PemBundleError> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let from_begin = &rest[start..];
        let label_end = from_begin[BEGIN.len()..]
            .find(DASHES)
            .ok_or(PemBundleError::Unterminated)?;
        let label = &from_begin[BEGIN.len()..BEGIN.len() + label_end];
        let end_line = format!("{END}{label}{DASHES}");
        let end = from_begin
            .find(&end_line)
            .ok_or(PemBundleError::Unterminated)?;
        let block_text = &from_begin[..end + end_line.len()];
        let index = blocks.len();
        // Lines trimmed: PEM pasted from YAML or an indented e-mail keeps its content.
        let block_text = block_text
            .lines()
            .map(str::trim)
            .collect::<Vec<_>>()
            .join("\n");
        let has_headers = block_text.lines().any(|line| line.contains(':'));
        let der = if has_headers {
            Zeroizing::new(Vec::new())
        } else {
            let (_, der) = der::pem::decode_vec(block_text.as_bytes())
                .map_err(|_| PemBundleError::Malformed { index })?;
            Zeroizing::new(der)
        };
        blocks.push(PemBlock {
            label: label.to_owned(),
            der,
            has_headers,
        });
        rest = &from_begin[end + end_line.len()..];
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";

    #[test]
    fn splits_blocks_and_ignores_text_around_them() {
        let text = format!("subject=CN=a\n{ONE}issuer=CN=b\n{ONE}");
        let blocks = pem_blocks(&text).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[1].label, "CERTIFICATE");
        assert_eq!(blocks[1].der.as_slice(), &[1, 2, 3]);
    }

    #[test]
    fn reads_windows_line_endings_and_indented_blocks() {
        let crlf = ONE.replace('\n', "\r\n");
        let blocks = pem_blocks(&format!("{crlf}{crlf}")).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].der.as_slice(), &[1, 2, 3]);
        let indented: String = ONE.lines().map(|line| format!("    {line}\n")).collect();
        assert_eq!(pem_blocks(&indented).unwrap()[0].der.as_slice(), &[1, 2, 3]);
    }

    #[test]
    fn reports_unterminated_and_malformed_blocks() {
        assert_eq!(
            pem_blocks("-----BEGIN CERTIFICATE-----\nAQID\n").err(),
            Some(PemBundleError::Unterminated)
        );
        let bad = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert_eq!(
            pem_blocks(bad).err(),
            Some(PemBundleError::Malformed { index: 0 })
        );
        assert!(pem_blocks("no pem here").unwrap().is_empty());
    }
}
