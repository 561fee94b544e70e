//! Services (SPEC section 3): a name and a numeric code, configured by `MTLS_SERVICES`.
//! Wherever a service is given, its name or its code is accepted; this is the one place that
//! turns what a caller sent into a configured service.

use std::collections::HashSet;

use serde_json::Value;

use crate::settings::{Raw, Refusals, Setting};

/// `MTLS_SERVICES`; SPEC section 3: `FAAS` is the name LivePerson's Functions client sends.
pub(crate) const SERVICES: Setting<Vec<(String, u32)>> = Setting::new(
    "MTLS_SERVICES",
    "services",
    "Services as NAME=code pairs, comma separated; names and codes unique.",
    parse_services,
)
.default("TEST_SERVICE=0,IDP=1,WEBHOOKS=2,FAAS=3");

/// Reads `NAME=code,...`: names of 1-64 letters, digits, `_`, `-`, `.` (not all digits), codes
/// whole numbers, both unique; every bad item is reported.
fn parse_services(raw: &Raw<'_>) -> Result<Vec<(String, u32)>, Refusals> {
    let mut services = Vec::new();
    let mut refusals = Vec::new();
    let mut names = HashSet::new();
    let mut codes = HashSet::new();
    for item in raw.text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((name, code)) = item.split_once('=') else {
            refusals.push(format!("{item:?} is not NAME=code"));
            continue;
        };
        let (name, code) = (name.trim(), code.trim());
        if name.is_empty()
            || name.len() > 64
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        {
            refusals.push(format!("service name {name:?} must be 1-64 letters, digits, '_', '-' or '.'"));
            continue;
        }
        if name.chars().all(|c| c.is_ascii_digit()) {
            // A service is given by name or code; an all-digit name would be ambiguous.
            refusals.push(format!("service name {name:?} must not be all digits"));
            continue;
        }
        let Ok(code) = code.parse::<u32>() else {
            refusals.push(format!("service code {code:?} of {name} is not a whole number"));
            continue;
        };
        if !names.insert(name.to_ascii_uppercase()) {
            refusals.push(format!("service name {name} appears twice"));
        }
        if !codes.insert(code) {
            refusals.push(format!("service code {code} appears twice"));
        }
        services.push((name.to_owned(), code));
    }
    if services.is_empty() && refusals.is_empty() {
        refusals.push("no service given; expected NAME=code,...".to_owned());
    }
    if refusals.is_empty() { Ok(services) } else { Err(refusals) }
}

/// A configured service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Service {
    /// Name as configured (for example `IDP`).
    pub name: String,
    /// Numeric code (for example 1).
    pub code: u32,
}

/// Resolves `given` (a name, matched without regard to case, or a code in decimal) against the
/// configured `services`; `None` when no configured service matches.
pub(crate) fn resolve(services: &[(String, u32)], given: &str) -> Option<Service> {
    find(services, given).map(|(name, code)| Service { name: name.clone(), code: *code })
}

/// The code of the service `given` names, as [`resolve`] matches it, without copying its name
/// (the forward reads `LP-service-name` on every request).
pub(crate) fn resolve_code(services: &[(String, u32)], given: &str) -> Option<u32> {
    find(services, given).map(|(_, code)| *code)
}

fn find<'s>(services: &'s [(String, u32)], given: &str) -> Option<&'s (String, u32)> {
    let given = given.trim();
    match given.parse::<u32>() {
        Ok(code) if given.bytes().all(|b| b.is_ascii_digit()) => {
            services.iter().find(|(_, c)| *c == code)
        }
        _ => services.iter().find(|(name, _)| name.eq_ignore_ascii_case(given)),
    }
}

/// Resolves a JSON value (a string name or code, or a number code).
pub(crate) fn resolve_json(services: &[(String, u32)], given: &Value) -> Option<Service> {
    match given {
        Value::String(text) => resolve(services, text),
        Value::Number(n) => n.as_u64().and_then(|c| resolve(services, &c.to_string())),
        _ => None,
    }
}

/// The name of the service with `code`, or the code itself when it is no longer configured
/// (a mapping made before the configuration changed still shows something meaningful).
pub(crate) fn name_of(services: &[(String, u32)], code: u32) -> String {
    services
        .iter()
        .find(|(_, c)| *c == code)
        .map_or_else(|| code.to_string(), |(name, _)| name.clone())
}

/// Every configured code once, in configuration order.
pub(crate) fn codes(services: &[(String, u32)]) -> Vec<u32> {
    let mut codes: Vec<u32> = Vec::with_capacity(services.len());
    for (_, code) in services {
        if !codes.contains(code) {
            codes.push(*code);
        }
    }
    codes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Vec<(String, u32)> {
        vec![
            ("TEST_SERVICE".to_owned(), 0),
            ("IDP".to_owned(), 1),
            ("WEBHOOKS".to_owned(), 2),
            ("FAAS".to_owned(), 3),
        ]
    }

    #[test]
    fn resolves_names_and_codes() {
        let s = defaults();
        assert_eq!(resolve(&s, "IDP"), Some(Service { name: "IDP".into(), code: 1 }));
        assert_eq!(resolve(&s, "idp").map(|s| s.code), Some(1));
        assert_eq!(resolve(&s, "3").map(|s| s.name), Some("FAAS".to_owned()));
        assert_eq!(resolve(&s, "0").map(|s| s.name), Some("TEST_SERVICE".to_owned()));
        assert_eq!(resolve_json(&s, &serde_json::json!(2)).map(|s| s.name), Some("WEBHOOKS".into()));
        assert_eq!(resolve_json(&s, &serde_json::json!("2")).map(|s| s.code), Some(2));
        assert_eq!(resolve_code(&s, " idp "), Some(1));
        assert_eq!(resolve_code(&s, "3"), Some(3));
    }

    #[test]
    fn refuses_what_is_not_configured() {
        let s = defaults();
        assert_eq!(resolve(&s, "7"), None);
        assert_eq!(resolve(&s, "-1"), None);
        assert_eq!(resolve(&s, "+1"), None);
        assert_eq!(resolve(&s, "NOPE"), None);
        assert_eq!(resolve(&s, ""), None);
        assert_eq!(resolve_code(&s, "7"), None);
        assert_eq!(resolve_code(&s, "NOPE"), None);
        assert_eq!(resolve_json(&s, &serde_json::json!(1.5)), None);
        assert_eq!(resolve_json(&s, &serde_json::json!(null)), None);
        assert_eq!(name_of(&s, 9), "9");
        assert_eq!(codes(&[("A".into(), 1), ("B".into(), 1), ("C".into(), 0)]), vec![1, 0]);
    }
}
