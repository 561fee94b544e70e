//! The store's settings (`MTLS_STORE` and the settings of the chosen store), declared and
//! validated here; [`crate::config::Config`] builds them at start.

use std::fmt;
use std::path::PathBuf;

use base64::Engine;

use crate::settings::{self, Declared, Raw, Refusals, Setting, Settings};

/// `embedded` or `vault` (also `openbao`).
pub const STORE: Setting<StoreKind> = Setting::new(
    "MTLS_STORE",
    "store",
    "Store: embedded or vault.",
    store_kind,
)
.default("embedded");
/// Embedded store directory.
pub const DATA_DIR: Setting<PathBuf> = Setting::new(
    "MTLS_DATA_DIR",
    "data-dir",
    "Embedded store directory.",
    data_dir,
)
.default("./data");
/// Embedded store encryption key (secret).
pub const DATA_KEY: Setting<String> = Setting::new(
    "MTLS_DATA_KEY",
    "data-key",
    "Embedded store key: base64 of 32 random bytes (`head -c 32 /dev/urandom | base64`); unset: a \
     key file `data.key` (mode 0600) is generated in the data dir.",
    data_key,
)
.secret();
/// Vault address(es).
pub const VAULT_ADDR: Setting<Vec<String>> = Setting::new(
    "VAULT_ADDR",
    "vault-addr",
    "Vault/OpenBao address (http or https URL).",
    vault_addresses,
);
/// Vault token (secret).
pub const VAULT_TOKEN: Setting<String> = Setting::new(
    "VAULT_TOKEN",
    "vault-token",
    "Vault token (or use AppRole).",
    settings::text,
)
.secret();
/// AppRole role id.
pub const VAULT_ROLE_ID: Setting<String> = Setting::new(
    "VAULT_ROLE_ID",
    "vault-role-id",
    "AppRole role id (with --vault-secret-id); takes precedence over --vault-token.",
    settings::text,
);
/// AppRole secret id (secret).
pub const VAULT_SECRET_ID: Setting<String> = Setting::new(
    "VAULT_SECRET_ID",
    "vault-secret-id",
    "AppRole secret id.",
    settings::text,
)
.secret();
/// Mount path of the AppRole auth method.
pub const VAULT_APPROLE_MOUNT: Setting<String> = Setting::new(
    "VAULT_APPROLE_MOUNT",
    "vault-approle-mount",
    "Mount path of the AppRole auth method.",
    vault_path,
)
.default("approle");
/// Extra CA certificate (PEM) to verify Vault's HTTPS certificate.
pub const VAULT_CACERT: Setting<PathBuf> = Setting::new(
    "VAULT_CACERT",
    "vault-cacert",
    "Extra CA certificate (PEM) to verify Vault's HTTPS certificate.",
    settings::file,
);
/// Vault Enterprise namespace.
pub const VAULT_NAMESPACE: Setting<String> = Setting::new(
    "VAULT_NAMESPACE",
    "vault-namespace",
    "Vault Enterprise namespace.",
    settings::text,
);
/// KV v2 mount: Vault's default in dev servers and most installations.
pub const VAULT_MOUNT: Setting<String> = Setting::new(
    "MTLS_VAULT_MOUNT",
    "vault-mount",
    "KV v2 mount.",
    vault_path,
)
.default("secret");
/// Key prefix inside the mount: keeps the gateway's keys apart from other users of the mount.
pub const VAULT_PREFIX: Setting<String> = Setting::new(
    "MTLS_VAULT_PREFIX",
    "vault-prefix",
    "Key prefix inside the mount.",
    vault_prefix,
)
.default("mtls");

/// Which store `MTLS_STORE` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// The data dir.
    Embedded,
    /// Vault or OpenBao.
    Vault,
}

/// Which store, and how to reach it.
#[derive(Clone)]
pub enum StoreConfig {
    /// `MTLS_STORE=embedded`.
    Embedded {
        /// `MTLS_DATA_DIR`.
        data_dir: PathBuf,
        /// `MTLS_DATA_KEY` (secret, base64 of 32 bytes, checked); a key file is generated in
        /// the data dir when absent.
        data_key: Option<String>,
    },
    /// `MTLS_STORE=vault`.
    Vault {
        /// `VAULT_ADDR`: one or more nodes of one cluster, comma-separated in the variable
        /// (each an `http` or `https` URL, checked; no trailing `/`).
        addresses: Vec<String>,
        /// `VAULT_TOKEN` or AppRole.
        auth: VaultAuth,
        /// `MTLS_VAULT_MOUNT` (no surrounding `/`).
        mount: String,
        /// `MTLS_VAULT_PREFIX` (no surrounding `/`; may be empty).
        prefix: String,
        /// `VAULT_CACERT`: extra CA to verify an HTTPS Vault.
        ca_cert: Option<PathBuf>,
        /// `VAULT_NAMESPACE`.
        namespace: Option<String>,
    },
}

/// How to log in to Vault.
#[derive(Clone)]
pub enum VaultAuth {
    /// `VAULT_TOKEN`.
    Token(String),
    /// `VAULT_ROLE_ID` and `VAULT_SECRET_ID`, against the AppRole method at `mount`.
    AppRole {
        /// Role id.
        role_id: String,
        /// Secret id (secret).
        secret_id: String,
        /// `VAULT_APPROLE_MOUNT` (default `approle`).
        mount: String,
    },
}

impl StoreConfig {
    /// The store's settings, for the command line and `--help`.
    pub const SETTINGS: &[&dyn Declared] = &[
        &STORE,
        &DATA_DIR,
        &DATA_KEY,
        &VAULT_ADDR,
        &VAULT_TOKEN,
        &VAULT_ROLE_ID,
        &VAULT_SECRET_ID,
        &VAULT_APPROLE_MOUNT,
        &VAULT_CACERT,
        &VAULT_NAMESPACE,
        &VAULT_MOUNT,
        &VAULT_PREFIX,
    ];

    /// Reads the store's settings; only those of the chosen store are read and checked.
    pub fn from_settings(s: &mut Settings<'_>) -> Option<Self> {
        match s.read(&STORE)? {
            StoreKind::Embedded => Self::embedded(s),
            StoreKind::Vault => Self::vault(s),
        }
    }

    fn embedded(s: &mut Settings<'_>) -> Option<Self> {
        let data_dir = s.read(&DATA_DIR);
        let data_key = s.read(&DATA_KEY);
        let data_key_refused = s.is_set(&DATA_KEY) && data_key.is_none();
        if data_key_refused {
            return None;
        }
        Some(Self::Embedded {
            data_dir: data_dir?,
            data_key,
        })
    }

    fn vault(s: &mut Settings<'_>) -> Option<Self> {
        if !s.is_set(&VAULT_ADDR) {
            s.refuse(
                VAULT_ADDR.env,
                format!("missing: {}=vault needs the Vault address", STORE.env),
            );
        }
        let addresses = s.read(&VAULT_ADDR);
        let token = s.read(&VAULT_TOKEN);
        let role_id = s.read(&VAULT_ROLE_ID);
        let secret_id = s.read(&VAULT_SECRET_ID);
        let approle_mount = s.read(&VAULT_APPROLE_MOUNT);
        // AppRole wins over a token: an ambient VAULT_TOKEN (from a developer's shell) must not
        // silently replace the role the deployment configured.
        let auth = match (role_id, secret_id, token) {
            (Some(role_id), Some(secret_id), _) => approle_mount.map(|mount| VaultAuth::AppRole {
                role_id,
                secret_id,
                mount,
            }),
            (Some(_), None, _) => {
                s.refuse(
                    VAULT_SECRET_ID.env,
                    format!("missing: {} is set, AppRole needs both", VAULT_ROLE_ID.env),
                );
                None
            }
            (None, Some(_), _) => {
                s.refuse(
                    VAULT_ROLE_ID.env,
                    format!(
                        "missing: {} is set, AppRole needs both",
                        VAULT_SECRET_ID.env
                    ),
                );
                None
            }
            (None, None, Some(token)) => Some(VaultAuth::Token(token)),
            (None, None, None) => {
                s.refuse(
                    VAULT_TOKEN.env,
                    format!(
                        "missing: {}=vault needs {}, or {} and {}",
                        STORE.env, VAULT_TOKEN.env, VAULT_ROLE_ID.env, VAULT_SECRET_ID.env
                    ),
                );
                None
            }
        };
        let mount = s.read(&VAULT_MOUNT);
        let prefix = s.read(&VAULT_PREFIX);
        let ca_cert = s.read(&VAULT_CACERT);
        let ca_cert_refused = s.is_set(&VAULT_CACERT) && ca_cert.is_none();
        let namespace = s.read(&VAULT_NAMESPACE);
        if ca_cert_refused {
            return None;
        }
        Some(Self::Vault {
            addresses: addresses?,
            auth: auth?,
            mount: mount?,
            prefix: prefix?,
            ca_cert,
            namespace,
        })
    }
}

fn store_kind(raw: &Raw<'_>) -> Result<StoreKind, Refusals> {
    match raw.text.to_ascii_lowercase().as_str() {
        "embedded" => Ok(StoreKind::Embedded),
        "vault" | "openbao" => Ok(StoreKind::Vault),
        _ => Err(vec![format!(
            "{} is not a store; use embedded or vault",
            raw.shown_whole()
        )]),
    }
}

fn data_dir(raw: &Raw<'_>) -> Result<PathBuf, Refusals> {
    let data_dir = PathBuf::from(raw.text);
    if data_dir.exists() && !data_dir.is_dir() {
        return Err(vec![format!(
            "{} exists and is not a directory",
            data_dir.display()
        )]);
    }
    Ok(data_dir)
}

fn data_key(raw: &Raw<'_>) -> Result<String, Refusals> {
    if decode_data_key(raw.text).is_none() {
        return Err(vec![
            "must be standard base64 of exactly 32 bytes (make one with \
                         `head -c 32 /dev/urandom | base64`)"
                .to_owned(),
        ]);
    }
    Ok(raw.text.to_owned())
}

fn vault_addresses(raw: &Raw<'_>) -> Result<Vec<String>, Refusals> {
    parse_vault_addresses(raw.text)
        .map_err(|reason| vec![format!("{} {reason}", raw.shown_whole())])
}

fn vault_path(raw: &Raw<'_>) -> Result<String, Refusals> {
    path_setting(raw, false)
}

/// A prefix given as `/` means "the mount's root".
fn vault_prefix(raw: &Raw<'_>) -> Result<String, Refusals> {
    path_setting(raw, true)
}

/// A Vault path such as a mount or prefix: segments of letters, digits, `_`, `-`, `.`, without
/// surrounding `/`. The empty string is only allowed when `may_be_empty`.
fn path_setting(raw: &Raw<'_>, may_be_empty: bool) -> Result<String, Refusals> {
    let value = raw.text.trim_matches('/').to_owned();
    let valid_segment = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    };
    if (value.is_empty() && may_be_empty)
        || (!value.is_empty() && value.split('/').all(valid_segment))
    {
        Ok(value)
    } else {
        Err(vec![format!(
            "{} is not a path of letters, digits, '_', '-', '.' separated by '/'",
            raw.shown(&value)
        )])
    }
}

/// Splits `VAULT_ADDR` into node addresses: one or more `http(s)` URLs of one cluster,
/// comma-separated (spaces around commas allowed), each without a trailing `/`, all with the same
/// scheme (one TLS setting, `VAULT_CACERT`, serves them all), none repeated. `Err` is the reason,
/// to follow the shown value in the start-up message.
pub fn parse_vault_addresses(text: &str) -> Result<Vec<String>, String> {
    let mut addresses: Vec<String> = Vec::new();
    for part in text.split(',').map(str::trim) {
        let url = reqwest::Url::parse(part)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
            .ok_or_else(|| {
                "is not an http(s) URL such as https://vault:8200, or several of them separated by \
                 commas (nodes of one cluster)"
                    .to_owned()
            })?;
        if let Some(first) = addresses.first()
            && !first.starts_with(&format!("{}:", url.scheme()))
        {
            return Err("mixes http and https nodes; use one scheme for every node".to_owned());
        }
        let address = part.trim_end_matches('/').to_owned();
        if addresses.contains(&address) {
            return Err("names a node twice".to_owned());
        }
        addresses.push(address);
    }
    Ok(addresses)
}

/// Decodes `MTLS_DATA_KEY`: standard base64 (padding optional) of exactly 32 bytes.
pub fn decode_data_key(text: &str) -> Option<zeroize::Zeroizing<[u8; 32]>> {
    let text = text.trim();
    let bytes = zeroize::Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .ok()?,
    );
    let array: [u8; 32] = bytes.as_slice().try_into().ok()?;
    Some(zeroize::Zeroizing::new(array))
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Embedded { data_dir, data_key } => f
                .debug_struct("Embedded")
                .field("data_dir", data_dir)
                .field("data_key", &data_key.as_ref().map(|_| "<set>"))
                .finish(),
            Self::Vault {
                addresses,
                auth,
                mount,
                prefix,
                ca_cert,
                namespace,
            } => f
                .debug_struct("Vault")
                .field("addresses", addresses)
                .field("auth", auth)
                .field("mount", mount)
                .field("prefix", prefix)
                .field("ca_cert", ca_cert)
                .field("namespace", namespace)
                .finish(),
        }
    }
}

impl fmt::Debug for VaultAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(_) => f.write_str("Token(<set>)"),
            Self::AppRole { role_id, mount, .. } => f
                .debug_struct("AppRole")
                .field("role_id", role_id)
                .field("secret_id", &"<set>")
                .field("mount", mount)
                .finish(),
        }
    }
}
