//! One declaration per setting: a [`Setting`] names its environment variable and flag, its help
//! line, its default (as the text a user would type, so it goes through the same parser) and its
//! parser. The module that uses a setting declares it next to the sub-config it builds; the
//! command line, `--help` and the start-up checks are all derived from these declarations
//! ([`crate::config`] assembles them). This module depends on no other of the crate, so every
//! owner can use it without an import cycle.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::PathBuf;

/// Why a value was refused: one or more reasons (a list can hold several bad items).
pub(crate) type Refusals = Vec<String>;

/// A setting of type `T`.
pub struct Setting<T> {
    /// Environment variable, such as `MTLS_LISTEN`.
    pub env: &'static str,
    /// Command-line flag without the leading `--`, such as `listen` (see [`flag_for`]).
    pub flag: &'static str,
    /// One line for `--help`.
    pub help: &'static str,
    /// The default, as text the parser reads; `None`: unset means off, or the owner derives it.
    pub default: Option<&'static str>,
    /// Turns the trimmed, non-empty text into a value.
    pub parse: fn(&Raw<'_>) -> Result<T, Refusals>,
    /// Never echoed: neither in messages nor in `--help`.
    pub secret: bool,
    /// A flag given without a value means `true`.
    pub switch: bool,
}

impl<T> Setting<T> {
    /// A setting without default, not secret, taking a value.
    pub const fn new(
        env: &'static str,
        flag: &'static str,
        help: &'static str,
        parse: fn(&Raw<'_>) -> Result<T, Refusals>,
    ) -> Self {
        Self {
            env,
            flag,
            help,
            default: None,
            parse,
            secret: false,
            switch: false,
        }
    }

    /// With a default, given as the text a user would set.
    pub const fn default(mut self, text: &'static str) -> Self {
        self.default = Some(text);
        self
    }

    /// A secret: its value is never shown.
    pub const fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    /// A boolean that a bare flag turns on.
    pub const fn switch(mut self) -> Self {
        self.switch = true;
        self
    }
}

/// What the command line and `--help` need of a setting, whatever its type.
pub trait Declared: Sync {
    /// See [`Setting::env`].
    fn env(&self) -> &'static str;
    /// See [`Setting::flag`].
    fn flag(&self) -> &'static str;
    /// See [`Setting::help`].
    fn help(&self) -> &'static str;
    /// See [`Setting::default`].
    fn default_text(&self) -> Option<&'static str>;
    /// See [`Setting::secret`].
    fn is_secret(&self) -> bool;
    /// See [`Setting::switch`].
    fn is_switch(&self) -> bool;
}

impl<T> Declared for Setting<T> {
    fn env(&self) -> &'static str {
        self.env
    }
    fn flag(&self) -> &'static str {
        self.flag
    }
    fn help(&self) -> &'static str {
        self.help
    }
    fn default_text(&self) -> Option<&'static str> {
        self.default
    }
    fn is_secret(&self) -> bool {
        self.secret
    }
    fn is_switch(&self) -> bool {
        self.switch
    }
}

/// A raw value being parsed: its text, and how to show it in a message.
pub struct Raw<'a> {
    /// Trimmed, never empty.
    pub text: &'a str,
    secret: bool,
}

impl Raw<'_> {
    /// `part` of this value for a message: quoted and cut short, or "the value" for a secret.
    pub fn shown(&self, part: &str) -> String {
        if self.secret {
            "the value".to_owned()
        } else {
            let short: String = part.chars().take(80).collect();
            format!("{short:?}")
        }
    }

    /// The whole value for a message (see [`Raw::shown`]).
    pub fn shown_whole(&self) -> String {
        self.shown(self.text)
    }
}

/// Reads settings from one source, collecting every problem instead of stopping at the first.
pub struct Settings<'a> {
    lookup: &'a dyn Lookup,
    pub(crate) errors: Vec<ConfigError>,
}

impl<'a> Settings<'a> {
    pub(crate) fn new(lookup: &'a dyn Lookup) -> Self {
        Self {
            lookup,
            errors: Vec::new(),
        }
    }

    /// The trimmed value as given, `None` when unset or empty.
    fn given(&self, env: &str) -> Option<String> {
        self.lookup
            .get(env)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// Whether the setting was given a (non-empty) value.
    pub fn is_set<T>(&self, setting: &Setting<T>) -> bool {
        self.given(setting.env).is_some()
    }

    /// The parsed value, or the parsed default when unset. `None` when unset without a default,
    /// or when the value is refused (the reasons are recorded under the setting's variable).
    pub fn read<T>(&mut self, setting: &Setting<T>) -> Option<T> {
        let text = self
            .given(setting.env)
            .or_else(|| setting.default.map(str::to_owned))?;
        match (setting.parse)(&Raw {
            text: &text,
            secret: setting.secret,
        }) {
            Ok(value) => Some(value),
            Err(reasons) => {
                for reason in reasons {
                    self.refuse(setting.env, reason);
                }
                None
            }
        }
    }

    /// Records a problem with `env` found by a rule over several settings.
    pub fn refuse(&mut self, env: &'static str, reason: impl Into<String>) {
        self.errors.push(ConfigError {
            variable: env,
            reason: reason.into(),
        });
    }
}

// === parsers shared by several settings ===

/// Any text.
pub(crate) fn text(raw: &Raw<'_>) -> Result<String, Refusals> {
    Ok(raw.text.to_owned())
}

/// `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, any case.
pub(crate) fn boolean(raw: &Raw<'_>) -> Result<bool, Refusals> {
    match raw.text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(vec![format!(
            "{} is not a boolean; use true or false",
            raw.shown_whole()
        )]),
    }
}

/// A whole number of `T`'s range; `_` may group digits (`30_000`).
pub(crate) fn whole<T: std::str::FromStr>(raw: &Raw<'_>) -> Result<T, Refusals> {
    raw.text.replace('_', "").parse::<T>().map_err(|_| {
        vec![format!(
            "{} is not a whole number in range",
            raw.shown_whole()
        )]
    })
}

/// A whole number greater than 0.
pub(crate) fn positive<T: std::str::FromStr + PartialOrd + Default>(raw: &Raw<'_>) -> Result<T, Refusals> {
    let n = whole::<T>(raw)?;
    if n <= T::default() {
        return Err(vec!["must be greater than 0".to_owned()]);
    }
    Ok(n)
}

/// A path that names a readable regular file.
pub(crate) fn file(raw: &Raw<'_>) -> Result<PathBuf, Refusals> {
    let path = PathBuf::from(raw.text);
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => match std::fs::File::open(&path) {
            Ok(_) => Ok(path),
            Err(e) => Err(vec![format!("cannot read {}: {e}", path.display())]),
        },
        Ok(_) => Err(vec![format!("{} is not a regular file", path.display())]),
        Err(e) => Err(vec![format!("cannot read {}: {e}", path.display())]),
    }
}

/// Comma-separated CIDRs or IP addresses (an address is its own /32 or /128); every bad item
/// is reported.
pub(crate) fn cidrs(raw: &Raw<'_>) -> Result<Vec<ipnet::IpNet>, Refusals> {
    let mut nets = Vec::new();
    let mut refusals = Vec::new();
    for item in raw.text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if let Ok(net) = item.parse::<ipnet::IpNet>() {
            nets.push(net);
        } else if let Ok(ip) = item.parse::<IpAddr>() {
            nets.push(ipnet::IpNet::from(ip));
        } else {
            refusals.push(format!(
                "{} is not a CIDR (such as 10.0.0.0/8) or an IP address",
                raw.shown(item)
            ));
        }
    }
    if refusals.is_empty() {
        Ok(nets)
    } else {
        Err(refusals)
    }
}

// === problems ===

/// One bad setting: the variable and what is wrong with it (never its value when secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The environment variable name (the flag is derived from it, see [`flag_for`]).
    pub variable: &'static str,
    /// What was found and what was expected.
    pub reason: String,
}

/// The command-line flag of an environment variable: `MTLS_TLS_CERT` → `--tls-cert`,
/// `VAULT_ROLE_ID` → `--vault-role-id`.
pub fn flag_for(variable: &str) -> String {
    let base = variable.strip_prefix("MTLS_").unwrap_or(variable);
    format!("--{}", base.to_ascii_lowercase().replace('_', "-"))
}

// === raw input ===

/// Where raw settings come from: the process environment, or a map in tests.
pub trait Lookup {
    /// The raw value of `variable` (an environment variable name), if set.
    fn get(&self, variable: &str) -> Option<String>;
}

/// The process environment. A value that is not UTF-8 is read with replacement characters, so
/// that its parser refuses it by name.
pub struct ProcessEnvironment;

impl Lookup for ProcessEnvironment {
    fn get(&self, variable: &str) -> Option<String> {
        std::env::var_os(variable).map(|v| v.to_string_lossy().into_owned())
    }
}

impl Lookup for HashMap<String, String> {
    fn get(&self, variable: &str) -> Option<String> {
        HashMap::get(self, variable).cloned()
    }
}

impl Lookup for BTreeMap<&str, &str> {
    fn get(&self, variable: &str) -> Option<String> {
        BTreeMap::get(self, variable).map(|v| (*v).to_owned())
    }
}

impl Lookup for BTreeMap<String, String> {
    fn get(&self, variable: &str) -> Option<String> {
        BTreeMap::get(self, variable).cloned()
    }
}
