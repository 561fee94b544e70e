//! URL normalisation of SPEC section 3, used for storing mappings and for every runtime lookup.
//!
//! Scheme and host are lower-cased, the default port is dropped, an empty path becomes `/`, the
//! path and query are kept byte for byte (the query is part of the key) and the fragment is
//! dropped. A general-purpose URL parser is deliberately not used: it would rewrite the path
//! (dot segments, percent-encoding), and the contract is that the path matches byte for byte.

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// Not of the form `scheme://host...`.
    #[error("not an absolute URL; expected https://host/path")]
    NotAbsolute,
    /// A scheme other than https (or http when allowed).
    #[error("scheme {scheme:?} is not accepted; expected https")]
    UnsupportedScheme {
        /// The scheme found, lower-cased.
        scheme: String,
    },
    /// `user:password@` in the authority: credentials do not belong in a mapping URL.
    #[error("credentials in the URL are not accepted")]
    Userinfo,
    /// Empty or malformed host.
    #[error("invalid host")]
    InvalidHost,
    /// Port not a number in 1..=65535.
    #[error("invalid port")]
    InvalidPort,
    /// Whitespace or control characters anywhere in the URL.
    #[error("URL contains whitespace or control characters")]
    InvalidCharacter,
}

/// Normalises `input`; `allow_http` also accepts plain `http` URLs.
///
/// # Errors
/// [`UrlError`] naming what is wrong with the URL.
pub fn normalize_url(input: &str, allow_http: bool) -> Result<String, UrlError> {
    parse_url(input, allow_http).map(NormalizedUrl::into_string)
}

/// A URL normalised by the rule of [`normalize_url`], with its parts at hand: one parse serves
/// both the mapping lookup (the normalised text) and the request to the target (host, port,
/// request-target).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedUrl {
    text: String,
    /// End of the scheme (before `://`).
    scheme_end: usize,
    /// End of the host (IPv6 hosts keep their brackets).
    host_end: usize,
    /// Start of the path (the text always has one: `/` at least).
    path_start: usize,
    port: u16,
}

impl NormalizedUrl {
    /// The normalised URL (the mapping key).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The normalised URL, owned.
    pub fn into_string(self) -> String {
        self.text
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &str {
        &self.text[..self.scheme_end]
    }

    /// The lower-cased host; an IPv6 literal keeps its brackets.
    pub fn host(&self) -> &str {
        &self.text[self.scheme_end + 3..self.host_end]
    }

    /// The port connected to (the scheme's default when none was given).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Host and, when not the default, `:port`: the value of a `Host` header.
    pub fn authority(&self) -> &str {
        &self.text[self.scheme_end + 3..self.path_start]
    }

    /// `scheme://host[:port]`: the normalised URL up to its path (one target server).
    pub fn base(&self) -> &str {
        &self.text[..self.path_start]
    }

    /// Path and query (starts with `/`): the request-target of an HTTP/1.1 request.
    pub fn path_and_query(&self) -> &str {
        &self.text[self.path_start..]
    }

    /// `scheme://host:port` with the port always written: what messages may name (the path and
    /// query may carry secrets).
    pub fn origin(&self) -> String {
        format!("{}://{}:{}", self.scheme(), self.host(), self.port)
    }
}

/// Parses and normalises `input` (the rule of [`normalize_url`]).
///
/// # Errors
/// [`UrlError`] naming what is wrong with the URL.
pub fn parse_url(input: &str, allow_http: bool) -> Result<NormalizedUrl, UrlError> {
    if input.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(UrlError::InvalidCharacter);
    }
    let (scheme, rest) = input.split_once("://").ok_or(UrlError::NotAbsolute)?;
    if scheme.is_empty() || !scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) {
        return Err(UrlError::NotAbsolute);
    }
    let default_port = if scheme.eq_ignore_ascii_case("https") {
        443
    } else if allow_http && scheme.eq_ignore_ascii_case("http") {
        80
    } else {
        return Err(UrlError::UnsupportedScheme { scheme: scheme.to_ascii_lowercase() });
    };
    // Fragment never reaches the server, so it is not part of the key.
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(authority_end);
    if authority.contains('@') {
        return Err(UrlError::Userinfo);
    }
    let (host, port) = split_host_port(authority)?;
    let mut text = String::with_capacity(input.len() + 1);
    text.push_str(scheme);
    text.make_ascii_lowercase();
    let scheme_end = text.len();
    text.push_str("://");
    let host_start = text.len();
    text.push_str(host);
    text[host_start..].make_ascii_lowercase();
    let host_end = text.len();
    if let Some(port) = port
        && port != default_port
    {
        use std::fmt::Write as _;
        let _ = write!(text, ":{port}");
    }
    let path_start = text.len();
    if !path_and_query.starts_with('/') {
        text.push('/');
    }
    text.push_str(path_and_query);
    Ok(NormalizedUrl { text, scheme_end, host_end, path_start, port: port.unwrap_or(default_port) })
}

/// Whether `host` fits the lengths DNS allows (RFC 1035 section 2.3.4: 253 characters in
/// text form, 63 per label). Longer names can never resolve; refusing them here keeps a
/// hostile URL from travelling into the resolver, logs and error headers.
fn fits_dns(host: &str) -> bool {
    host.len() <= 253 && host.split('.').all(|label| label.len() <= 63)
}

fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), UrlError> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inner, after) = v6.split_once(']').ok_or(UrlError::InvalidHost)?;
        if inner.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(UrlError::InvalidHost);
        }
        let host = &authority[..inner.len() + 2];
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':').ok_or(UrlError::InvalidHost)?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let valid_host = !host.is_empty()
        && (host.starts_with('[')
            || (host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b))
                && fits_dns(host)));
    if !valid_host {
        return Err(UrlError::InvalidHost);
    }
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().ok().filter(|&n| n != 0).ok_or(UrlError::InvalidPort)?)
        }
        Some(_) => return Err(UrlError::InvalidPort),
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_a_normalized_url() {
        let url = parse_url("HTTPS://Api.Brand.COM:8443/Path?Q=1#frag", false).unwrap();
        assert_eq!(url.as_str(), "https://api.brand.com:8443/Path?Q=1");
        assert_eq!((url.scheme(), url.host(), url.port()), ("https", "api.brand.com", 8443));
        assert_eq!(url.authority(), "api.brand.com:8443");
        assert_eq!(url.path_and_query(), "/Path?Q=1");
        assert_eq!(url.base(), "https://api.brand.com:8443");
        assert_eq!(url.origin(), "https://api.brand.com:8443");
        let url = parse_url("https://[::1]?x", false).unwrap();
        assert_eq!((url.host(), url.port(), url.authority()), ("[::1]", 443, "[::1]"));
        assert_eq!(url.path_and_query(), "/?x");
        let url = parse_url("http://A.com:80", true).unwrap();
        assert_eq!((url.scheme(), url.authority(), url.port(), url.path_and_query()), ("http", "a.com", 80, "/"));
    }

    fn norm(s: &str) -> Result<String, UrlError> {
        normalize_url(s, false)
    }

    #[test]
    fn lowercases_scheme_and_host_but_not_path() {
        assert_eq!(norm("HTTPS://Api.Brand.COM/Path/X").unwrap(), "https://api.brand.com/Path/X");
    }

    #[test]
    fn drops_default_port_keeps_others() {
        assert_eq!(norm("https://a.com:443/x").unwrap(), "https://a.com/x");
        assert_eq!(norm("https://a.com:8443/x").unwrap(), "https://a.com:8443/x");
        assert_eq!(normalize_url("http://a.com:80", true).unwrap(), "http://a.com/");
        assert_eq!(normalize_url("http://a.com:443", true).unwrap(), "http://a.com:443/");
    }

    #[test]
    fn empty_path_becomes_slash_and_trailing_slash_is_kept() {
        assert_eq!(norm("https://a.com").unwrap(), "https://a.com/");
        assert_eq!(norm("https://a.com?q=1").unwrap(), "https://a.com/?q=1");
        assert_eq!(norm("https://a.com/x/").unwrap(), "https://a.com/x/");
        assert_ne!(norm("https://a.com/x/").unwrap(), norm("https://a.com/x").unwrap());
    }

    #[test]
    fn query_kept_byte_for_byte_fragment_dropped() {
        assert_eq!(norm("https://a.com/p?B=2&a=%2F#frag").unwrap(), "https://a.com/p?B=2&a=%2F");
        assert_eq!(norm("https://a.com/%7Ex/../y").unwrap(), "https://a.com/%7Ex/../y");
    }

    #[test]
    fn at_signs_and_fragments_outside_the_authority() {
        assert_eq!(norm("https://A.com#frag").unwrap(), "https://a.com/");
        assert_eq!(norm("https://a.com?x=@y").unwrap(), "https://a.com/?x=@y");
        assert_eq!(norm("https://a.com/p@q#@r").unwrap(), "https://a.com/p@q");
        assert_eq!(norm("https://a.com:443?").unwrap(), "https://a.com/?");
        assert_eq!(norm("HTTPS://A.COM:443/Path?Q=%2f").unwrap(), "https://a.com/Path?Q=%2f");
        assert_eq!(norm("https://a.com:/x"), Err(UrlError::InvalidPort));
    }

    #[test]
    fn ipv6_hosts() {
        assert_eq!(norm("https://[::1]:443/").unwrap(), "https://[::1]/");
        assert_eq!(norm("https://[::1]:8443").unwrap(), "https://[::1]:8443/");
        assert_eq!(norm("https://[zz]/"), Err(UrlError::InvalidHost));
    }

    #[test]
    fn refuses_what_is_not_an_https_url() {
        assert_eq!(norm("a.com/x"), Err(UrlError::NotAbsolute));
        assert!(matches!(norm("http://a.com/"), Err(UrlError::UnsupportedScheme { .. })));
        assert!(matches!(norm("ftp://a.com/"), Err(UrlError::UnsupportedScheme { .. })));
        assert_eq!(norm("https://u:p@a.com/"), Err(UrlError::Userinfo));
        assert_eq!(norm("https:///x"), Err(UrlError::InvalidHost));
        assert_eq!(norm("https://a.com:0/"), Err(UrlError::InvalidPort));
        assert_eq!(norm("https://a.com:99999/"), Err(UrlError::InvalidPort));
        assert_eq!(norm("https://a.com:x/"), Err(UrlError::InvalidPort));
        assert_eq!(norm("https://a.com/a b"), Err(UrlError::InvalidCharacter));
        assert_eq!(norm("https://a.c$m/"), Err(UrlError::InvalidHost));
        let label = "a".repeat(63);
        assert!(norm(&format!("https://{label}.com/")).is_ok());
        assert_eq!(norm(&format!("https://{label}a.com/")), Err(UrlError::InvalidHost));
        let name = [label.as_str(); 4].join(".");
        assert_eq!(name.len(), 255);
        assert!(norm(&format!("https://{}/", &name[2..])).is_ok());
        assert_eq!(norm(&format!("https://{name}/")), Err(UrlError::InvalidHost));
    }
}
