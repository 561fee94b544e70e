//! Reads a small `multipart/form-data` body (RFC 7578) into named parts, with one size limit over
//! the whole body, turning every failure into the SPEC error body: 400 `malformed_request` for
//! anything that is not a well-formed form, 413 `payload_too_large` past the limit (answered as
//! soon as the limit is crossed, without reading the rest).

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use futures_util::StreamExt as _;
use zeroize::Zeroizing;

use crate::http::error_code::ErrorCode;
use crate::http::error::ApiError;

/// Parts a form may have. Ours have at most three (`file`, `certificate` or `body`, `password`);
/// the margin is for clients that add fields of their own.
pub const MAX_PARTS: usize = 16;

/// The parts of a form by name; the first part of each name wins. Contents are wiped on drop
/// (they hold P12 files and passwords).
pub struct FormParts {
    parts: HashMap<String, Zeroizing<Vec<u8>>>,
}

impl FormParts {
    /// The bytes of part `name`.
    pub fn bytes(&self, name: &str) -> Option<&Zeroizing<Vec<u8>>> {
        self.parts.get(name)
    }

    /// Part `name` as UTF-8 text.
    ///
    /// # Errors
    /// 400 when the part is not UTF-8.
    pub fn text(&self, name: &str) -> Result<Option<Zeroizing<String>>, ApiError> {
        match self.parts.get(name) {
            None => Ok(None),
            Some(bytes) => std::str::from_utf8(bytes)
                .map(|s| Some(Zeroizing::new(s.to_owned())))
                .map_err(|_| malformed(&format!("form part {name:?} must be UTF-8 text"))),
        }
    }
}

/// Reads the form from `payload`, at most `limit` bytes of part contents in all.
///
/// # Errors
/// 400 `malformed_request`; 413 `payload_too_large`.
pub async fn read(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<FormParts, ApiError> {
    let is_form = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    if !is_form {
        return Err(malformed("expected Content-Type: multipart/form-data"));
    }
    let mut multipart = Multipart::new(req.headers(), payload);
    let mut parts: HashMap<String, Zeroizing<Vec<u8>>> = HashMap::new();
    let mut total = 0usize;
    let mut part_count = 0usize;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|_| malformed("the multipart body is malformed"))?;
        part_count += 1;
        if part_count > MAX_PARTS {
            return Err(malformed(&format!("the form has more than {MAX_PARTS} parts")));
        }
        let name = field.name().map(str::to_owned).unwrap_or_default();
        // Names count too: without them, parts with empty content and long distinct names
        // made the form grow past the limit in memory.
        total = total.saturating_add(name.len());
        if total > limit {
            return Err(too_large(limit));
        }
        let mut buf = Zeroizing::new(Vec::new());
        while let Some(chunk) = field.next().await {
            let chunk =
                chunk.map_err(|_| malformed("the multipart body is malformed or truncated"))?;
            total = total.saturating_add(chunk.len());
            if total > limit {
                return Err(too_large(limit));
            }
            buf.extend_from_slice(&chunk);
        }
        parts.entry(name).or_insert(buf);
    }
    Ok(FormParts { parts })
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        format!("the form is larger than {limit} bytes"),
    )
}

fn malformed(message: &str) -> ApiError {
    ApiError::bad_request(ErrorCode::MalformedRequest, message)
}

#[cfg(test)]
mod tests {
    use actix_web::FromRequest as _;
    use actix_web::test::TestRequest;
    use futures_util::FutureExt as _;

    use super::*;

    const BOUNDARY: &str = "b0undary";

    /// Reads `body` delivered whole: every byte is there at once, so the read must finish on its
    /// first poll (a `Pending` here could never be woken: nothing more will arrive).
    fn read_whole(body: &'static [u8], limit: usize) -> Result<FormParts, ApiError> {
        let (req, mut payload) = TestRequest::post()
            .insert_header(("content-type", format!("multipart/form-data; boundary={BOUNDARY}")))
            .set_payload(body)
            .to_http_parts();
        let payload = web::Payload::from_request(&req, &mut payload).now_or_never().unwrap().unwrap();
        read(&req, payload, limit).now_or_never().expect("the read waits for bytes after the end of the body")
    }

    #[test]
    fn reads_a_form_and_keeps_the_first_part_of_each_name() {
        let form = read_whole(
            b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.p12\"\r\n\r\n\x30\x82\r\n\
              --b0undary\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nsecond\r\n\
              --b0undary\r\nContent-Disposition: form-data; name=\"certificate\"\r\n\r\n{\"name\":\"n\"}\r\n--b0undary--\r\n",
            1024,
        )
        .unwrap();
        assert_eq!(form.bytes("file").unwrap().as_slice(), b"\x30\x82");
        assert_eq!(form.text("certificate").unwrap().unwrap().as_str(), "{\"name\":\"n\"}");
    }

    /// A body that ends inside a part, right after a `\r` or in a boundary, is a truncated
    /// form: 400 at once, not a handler waiting forever for bytes that cannot come.
    #[test]
    fn a_body_ending_inside_a_part_is_malformed_not_a_hang() {
        for body in [
            &b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r"[..],
            b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--b0un",
            b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nxyz",
            b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n",
        ] {
            let error = read_whole(body, 1024).err().expect("a truncated form is refused");
            assert_eq!((error.status.as_u16(), error.code.as_str()), (400, "malformed_request"), "{}", String::from_utf8_lossy(body));
        }
    }
}
