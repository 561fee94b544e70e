use std::collections::BTreeSet;

use super::*;
use crate::{CsrError, PrivateKeyError};

fn is_snake_case(code: &str) -> bool {
    code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !code.starts_with('_')
        && !code.ends_with('_')
}

#[test]
fn codes_are_distinct_snake_case() {
    let codes: BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(codes.len(), ErrorCode::ALL.len(), "a code is spelled twice");
    for code in codes {
        assert!(is_snake_case(code), "{code}");
    }
    assert_eq!(serde_json::to_value(ErrorCode::MalformedRequest).unwrap(), "malformed_request");
}

/// A client's own codes must never be a gateway answer's, or a caller could not tell the two
/// apart.
#[test]
fn client_codes_are_snake_case_and_never_gateway_codes() {
    for client in ClientErrorCode::ALL {
        assert!(is_snake_case(client.as_str()), "{}", client.as_str());
        assert_eq!(ErrorCode::from_sdk(client.as_str()), None, "{} is a gateway code", client.as_str());
    }
}

#[test]
fn header_names_are_lower_case_lp_headers_each_listed_once() {
    let names: BTreeSet<&str> = LP_HEADERS.iter().map(|(_, name)| *name).collect();
    let keys: BTreeSet<&str> = LP_HEADERS.iter().map(|(key, _)| *key).collect();
    assert_eq!(names.len(), LP_HEADERS.len());
    assert_eq!(keys.len(), LP_HEADERS.len());
    for name in names {
        assert!(name.starts_with(LP_PREFIX), "{name}");
        assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{name}");
    }
}

/// Every code the CSR builder can give is one of the gateway's, so a certificate request never
/// answers a code outside the set.
#[test]
fn every_csr_error_code_is_a_gateway_code() {
    let errors = [
        CsrError::InvalidSubject { field: "country", problem: String::new() },
        CsrError::InvalidSubjectAltName { value: String::new(), problem: "" },
        CsrError::UnsupportedKeyType { key_type: String::new() },
        CsrError::UnsupportedPublicKey,
        CsrError::Key(PrivateKeyError::NotFound { found: String::new() }),
        CsrError::Key(PrivateKeyError::Malformed { label: String::new(), reason: "" }),
        CsrError::Key(PrivateKeyError::PassphraseRequired),
        CsrError::Key(PrivateKeyError::UnsupportedEncryption { what: String::new() }),
        CsrError::Key(PrivateKeyError::WrongPassphrase),
        CsrError::Key(PrivateKeyError::UnsupportedAlgorithm { algorithm: String::new() }),
        CsrError::Random,
        CsrError::Internal { stage: "" },
    ];
    for error in errors {
        assert!(ErrorCode::from_sdk(error.code()).is_some(), "{}", error.code());
        assert_eq!(ErrorCode::from(&error).as_str(), error.code());
    }
}
