//! Mapping shapes: the API object of SPEC section 3, the stored record, and the parsing of
//! request bodies into validated fields (every field error is a 422 naming the field).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::{InvalidUrl, MappingError};
use crate::services::{self, Service};

/// Longest accepted mapping name, as for certificates.
pub const MAX_NAME_CHARS: usize = 128;
/// Longest accepted URL: generous for real endpoints, small enough to bound cache memory.
pub const MAX_URL_BYTES: usize = 2048;
/// Ids stay below 2^53 so JavaScript keeps them exact (SPEC section 3).
pub const MAX_ID: u64 = (1 << 53) - 1;

/// A mapping as the API shows it (SPEC section 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mapping {
    /// Unique per account, below 2^53.
    pub id: u64,
    /// Unique per account.
    pub name: String,
    /// The certificate presented for this mapping.
    pub certification_id: u64,
    /// Service code, as a string.
    pub service_id: String,
    /// Service name.
    pub service_name: String,
    /// Normalised target URL.
    pub url: String,
    /// Only enabled mappings are used at runtime.
    pub enable: bool,
    /// The account id.
    pub site_id: String,
    /// True only in the answer to a delete.
    pub deleted: bool,
    /// Grows on every change; also the `ETag`.
    pub revision: u64,
}

/// What the store keeps under `records/{id}`; the revision is the store version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoredMapping {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) certification_id: u64,
    pub(crate) service_code: u32,
    pub(crate) url: String,
    pub(crate) enable: bool,
}

impl StoredMapping {
    /// The API view of this record at `revision`.
    pub(crate) fn to_api(&self, account: &str, revision: u64, services: &[(String, u32)]) -> Mapping {
        Mapping {
            id: self.id,
            name: self.name.clone(),
            certification_id: self.certification_id,
            service_id: self.service_code.to_string(),
            service_name: services::name_of(services, self.service_code),
            url: self.url.clone(),
            enable: self.enable,
            site_id: account.to_owned(),
            deleted: false,
            revision,
        }
    }
}

/// Fields a create or update request may carry, each checked on its own; which ones are required
/// is the caller's decision (all but `enable` on create, none on update).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MappingFields {
    pub(crate) name: Option<String>,
    pub(crate) certification_id: Option<u64>,
    pub(crate) service: Option<Service>,
    pub(crate) url: Option<String>,
    pub(crate) enable: Option<bool>,
}

/// Parsing context: the account of the path and the configuration that shapes validity.
pub(crate) struct FieldRules<'a> {
    pub(crate) account: &'a str,
    pub(crate) services: &'a [(String, u32)],
    pub(crate) allow_http: bool,
    /// The service of the mapping being updated (`None` for a create).
    pub(crate) current_service: Option<u32>,
}

impl MappingFields {
    /// Reads and validates the fields present in `item`.
    ///
    /// # Errors
    /// 422 `invalid_mapping` (wrong type or value, naming the field), `unknown_service`,
    /// `invalid_url`, `site_id_mismatch`.
    pub(crate) fn parse(item: &Value, rules: &FieldRules<'_>) -> Result<Self, MappingError> {
        let object = item
            .as_object()
            .ok_or(MappingError::NotAnObject)?;
        let mut fields = Self::default();
        if let Some(name) = present(object, "name") {
            fields.name = Some(parse_name(name)?);
        }
        if let Some(id) = present(object, "certificationId") {
            fields.certification_id = Some(parse_id(id).ok_or(MappingError::InvalidField {
                field: "certificationId",
                rule: "must be the id of a certificate (a positive integer)",
            })?);
        }
        fields.service = parse_service(object, rules)?;
        if let Some(url) = present(object, "url") {
            let url = url.as_str().ok_or(MappingError::InvalidField { field: "url", rule: MUST_BE_A_STRING })?;
            fields.url = Some(normalize(url, rules.allow_http)?);
        }
        if let Some(enable) = present(object, "enable") {
            fields.enable = Some(
                enable.as_bool().ok_or(MappingError::InvalidField { field: "enable", rule: "must be true or false" })?,
            );
        }
        if let Some(site) = present(object, "siteId") {
            let site = match site {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return Err(MappingError::InvalidField { field: "siteId", rule: "must be the account id" }),
            };
            if site != rules.account {
                return Err(MappingError::SiteIdMismatch);
            }
        }
        Ok(fields)
    }

    /// The names of required fields that are missing, for a create.
    pub(crate) fn missing_for_create(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.name.is_none() {
            missing.push("name");
        }
        if self.certification_id.is_none() {
            missing.push("certificationId");
        }
        if self.service.is_none() {
            missing.push("serviceId");
        }
        if self.url.is_none() {
            missing.push("url");
        }
        missing
    }
}

/// Normalises a mapping or lookup URL with the SDK's one implementation.
///
/// # Errors
/// [`InvalidUrl`] saying what is wrong.
pub(crate) fn normalize(url: &str, allow_http: bool) -> Result<String, InvalidUrl> {
    if url.len() > MAX_URL_BYTES {
        return Err(InvalidUrl::TooLong { max: MAX_URL_BYTES });
    }
    mtls_sdk::normalize_url(url, allow_http)
        .map_err(|e| InvalidUrl::Refused { reason: e.to_string() })
}

const MUST_BE_A_STRING: &str = "must be a string";

/// A field counts as given unless absent or `null`.
fn present<'a>(object: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    object.get(field).filter(|v| !v.is_null())
}

fn parse_name(value: &Value) -> Result<String, MappingError> {
    let name = value.as_str().ok_or(MappingError::InvalidField { field: "name", rule: MUST_BE_A_STRING })?;
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS || name.trim().is_empty() {
        return Err(MappingError::NameLength { max: MAX_NAME_CHARS });
    }
    if name.chars().any(char::is_control) {
        return Err(MappingError::InvalidField { field: "name", rule: "must not contain control characters" });
    }
    Ok(name.to_owned())
}

/// A positive id below 2^53, given as a number or a decimal string (LivePerson sends both).
pub(crate) fn parse_id(value: &Value) -> Option<u64> {
    let id = match value {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok()?,
        _ => return None,
    };
    (1..=MAX_ID).contains(&id).then_some(id)
}

/// `serviceId` (code or name) and `serviceName` are both accepted. Given both and disagreeing,
/// an update takes the one that differs from the mapping's current service (a client that read
/// the mapping, changed one of the two and sent the whole object back); otherwise it is a 422.
fn parse_service(
    object: &Map<String, Value>,
    rules: &FieldRules<'_>,
) -> Result<Option<Service>, MappingError> {
    let mut given = Vec::with_capacity(2);
    for field in ["serviceId", "serviceName"] {
        let Some(value) = present(object, field) else { continue };
        let service = services::resolve_json(rules.services, value).ok_or_else(|| {
            MappingError::UnknownService {
                field,
                known: rules.services.iter().map(|(n, _)| n.clone()).collect(),
            }
        })?;
        given.push(service);
    }
    match given.as_slice() {
        [a, b] if a.code != b.code => {
            let changed: Vec<&Service> =
                given.iter().filter(|s| Some(s.code) != rules.current_service).collect();
            match (rules.current_service, changed.as_slice()) {
                (Some(_), [only]) => Ok(Some((*only).clone())),
                _ => Err(MappingError::ConflictingServices),
            }
        }
        _ => Ok(given.into_iter().next()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn services() -> Vec<(String, u32)> {
        vec![("TEST_SERVICE".into(), 0), ("IDP".into(), 1)]
    }

    fn parse(item: Value) -> Result<MappingFields, crate::http::error::ApiError> {
        let services = services();
        MappingFields::parse(&item, &FieldRules { account: "acc", services: &services, allow_http: false, current_service: None })
            .map_err(Into::into)
    }

    #[test]
    fn parses_a_liveperson_style_item() {
        let fields = parse(json!({"certificationId": "17", "serviceId": "1", "url": "HTTPS://A.com:443",
            "name": "m", "enable": true, "siteId": "acc", "deleted": false}))
        .unwrap();
        assert_eq!(fields.certification_id, Some(17));
        assert_eq!(fields.service.as_ref().map(|s| s.name.as_str()), Some("IDP"));
        assert_eq!(fields.url.as_deref(), Some("https://a.com/"));
        assert!(fields.missing_for_create_is_empty());
    }

    #[test]
    fn names_the_field_that_is_wrong() {
        let cases = [
            (json!({"name": ""}), "invalid_mapping"),
            (json!({"name": "x".repeat(129)}), "invalid_mapping"),
            (json!({"name": 5}), "invalid_mapping"),
            (json!({"name": "a\nb"}), "invalid_mapping"),
            (json!({"certificationId": -1}), "invalid_mapping"),
            (json!({"certificationId": 9_007_199_254_740_992_u64}), "invalid_mapping"),
            (json!({"certificationId": "12x"}), "invalid_mapping"),
            (json!({"serviceId": "9"}), "unknown_service"),
            (json!({"serviceName": "NOPE"}), "unknown_service"),
            (json!({"serviceId": "0", "serviceName": "IDP"}), "invalid_mapping"),
            (json!({"url": "http://a.com/"}), "invalid_url"),
            (json!({"url": format!("https://a.com/{}", "x".repeat(3000))}), "invalid_url"),
            (json!({"url": 3}), "invalid_mapping"),
            (json!({"enable": "yes"}), "invalid_mapping"),
            (json!({"siteId": "other"}), "site_id_mismatch"),
            (json!([1]), "invalid_mapping"),
        ];
        for (item, code) in cases {
            let error = parse(item.clone()).unwrap_err();
            assert_eq!((error.status.as_u16(), error.code.as_str()), (422, code), "{item}");
        }
    }

    #[test]
    fn an_update_takes_the_service_field_that_changed() {
        let services = services();
        let rules = FieldRules { account: "acc", services: &services, allow_http: false, current_service: Some(1) };
        let changed_id = MappingFields::parse(&json!({"serviceId": "0", "serviceName": "IDP"}), &rules).unwrap();
        assert_eq!(changed_id.service.map(|s| s.code), Some(0));
        let changed_name = MappingFields::parse(&json!({"serviceId": "1", "serviceName": "TEST_SERVICE"}), &rules).unwrap();
        assert_eq!(changed_name.service.map(|s| s.code), Some(0));
        let same = MappingFields::parse(&json!({"serviceId": 1, "serviceName": "IDP"}), &rules).unwrap();
        assert_eq!(same.service.map(|s| s.code), Some(1));
    }

    #[test]
    fn service_by_name_and_null_fields_are_absent() {
        let fields = parse(json!({"serviceName": "test_service", "url": null, "name": null})).unwrap();
        assert_eq!(fields.service.as_ref().map(|s| s.code), Some(0));
        assert_eq!(fields.missing_for_create(), vec!["name", "certificationId", "url"]);
    }

    impl MappingFields {
        fn missing_for_create_is_empty(&self) -> bool {
            self.missing_for_create().is_empty()
        }
    }
}
