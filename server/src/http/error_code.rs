//! The closed set of error codes the API answers with (SPEC section 5: `error.code`). The set is
//! the SDK's (`mtls_sdk::wire::ErrorCode`), where each code is spelled once and from which the npm
//! package's client types are generated. `/openapi.json` lists the same set as the enum of
//! `Error.error.code`; a test here holds the two equal, so neither the documentation nor the
//! schemathesis contract can drift.

pub use mtls_sdk::wire::ErrorCode;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn openapi_lists_exactly_these_codes() {
        let document: serde_json::Value = serde_json::from_str(crate::http::ops::OPENAPI_JSON).unwrap();
        let listed = &document["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"];
        let listed: BTreeSet<&str> = listed
            .as_array()
            .expect("Error.error.code in /openapi.json has an enum of the codes")
            .iter()
            .map(|c| c.as_str().expect("codes are strings"))
            .collect();
        let ours: BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            listed.difference(&ours).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "documented but never answered"
        );
        assert_eq!(
            ours.difference(&listed).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "answered but not documented"
        );
    }
}
