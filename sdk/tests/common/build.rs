//! Builds PFX files the CLIs refuse to write (a key with someone else's certificate, two keys),
//! from parts the CLIs do write: `openssl pkcs8 -topk8` EncryptedPrivateKeyInfo and certificate
//! DER. The files have no MAC and unencrypted certificate bags, which the JDK reads.

use super::tlv::{encode, parse, Node, Style};

const OID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
const OID_CERT_BAG: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x03];
const OID_SHROUDED_KEY_BAG: &[u8] =
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x02];
const OID_X509_CERT: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x16, 0x01];
const OID_LOCAL_KEY_ID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x15];
const OID_FRIENDLY_NAME: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x14];

fn oid(bytes: &[u8]) -> Node {
    Node::Primitive { tag: 0x06, value: bytes.to_vec() }
}

fn seq(children: Vec<Node>) -> Node {
    Node::Constructed { tag: 0x30, children }
}

fn explicit0(child: Node) -> Node {
    Node::Constructed { tag: 0xa0, children: vec![child] }
}

fn octets(value: Vec<u8>) -> Node {
    Node::Primitive { tag: 0x04, value }
}

fn local_key_id(id: u8) -> Node {
    Node::Constructed {
        tag: 0x31,
        children: vec![seq(vec![
            oid(OID_LOCAL_KEY_ID),
            Node::Constructed { tag: 0x31, children: vec![octets(vec![id])] },
        ])],
    }
}

fn friendly_name(name: &str) -> Node {
    let bmp: Vec<u8> = name.encode_utf16().flat_map(u16::to_be_bytes).collect();
    Node::Constructed {
        tag: 0x31,
        children: vec![seq(vec![
            oid(OID_FRIENDLY_NAME),
            Node::Constructed { tag: 0x31, children: vec![Node::Primitive { tag: 0x1e, value: bmp }] },
        ])],
    }
}

/// Like [`pfx`], with only `friendlyName` attributes (no `localKeyId`) on the key and the
/// certificates.
pub fn pfx_named(key: &[u8], key_name: &str, certs: &[(Vec<u8>, &str)]) -> Vec<u8> {
    let cert_bags: Vec<Node> = certs
        .iter()
        .map(|(der, name)| {
            let bag = seq(vec![oid(OID_X509_CERT), explicit0(octets(der.clone()))]);
            seq(vec![oid(OID_CERT_BAG), explicit0(bag), friendly_name(name)])
        })
        .collect();
    let value = parse(key).expect("EncryptedPrivateKeyInfo DER");
    let key_bag = seq(vec![oid(OID_SHROUDED_KEY_BAG), explicit0(value), friendly_name(key_name)]);
    let auth_safe = seq(vec![data(&seq(cert_bags), Style::Der), data(&seq(vec![key_bag]), Style::Der)]);
    let pfx = seq(vec![Node::Primitive { tag: 0x02, value: vec![3] }, data(&auth_safe, Style::Der)]);
    encode(&pfx, Style::Der)
}

fn data(content: &Node, style: Style) -> Node {
    seq(vec![oid(OID_DATA), explicit0(octets(encode(content, style)))])
}

/// A MAC-less PFX holding `keys` (EncryptedPrivateKeyInfo DER, each with an optional localKeyId) and
/// `certs` (DER, each with an optional localKeyId), written in `style`.
pub fn pfx(keys: &[(Vec<u8>, Option<u8>)], certs: &[(Vec<u8>, Option<u8>)], style: Style) -> Vec<u8> {
    let cert_bags: Vec<Node> = certs
        .iter()
        .map(|(der, id)| {
            let bag = seq(vec![oid(OID_X509_CERT), explicit0(octets(der.clone()))]);
            let mut children = vec![oid(OID_CERT_BAG), explicit0(bag)];
            if let Some(id) = id {
                children.push(local_key_id(*id));
            }
            seq(children)
        })
        .collect();
    let key_bags: Vec<Node> = keys
        .iter()
        .map(|(epki, id)| {
            let value = parse(epki).expect("EncryptedPrivateKeyInfo DER");
            let mut children = vec![oid(OID_SHROUDED_KEY_BAG), explicit0(value)];
            if let Some(id) = id {
                children.push(local_key_id(*id));
            }
            seq(children)
        })
        .collect();
    let auth_safe = seq(vec![data(&seq(cert_bags), style), data(&seq(key_bags), style)]);
    let pfx = seq(vec![Node::Primitive { tag: 0x02, value: vec![3] }, data(&auth_safe, style)]);
    encode(&pfx, style)
}

/// One SafeBag for [`pfx_parts`], with the attributes the JDK pairs by.
#[derive(Clone, Debug)]
pub enum Bag {
    /// A pkcs8ShroudedKeyBag holding this EncryptedPrivateKeyInfo DER.
    Key { epki: Vec<u8>, id: Option<u8>, name: Option<&'static str> },
    /// A certBag holding this certificate DER.
    Cert { der: Vec<u8>, id: Option<u8>, name: Option<&'static str> },
    /// A bag whose value is stored as given (for bags a toolkit writes wrongly).
    Raw { bag_id: &'static [u8], value: Vec<u8> },
}

/// OID of pkcs8ShroudedKeyBag, for [`Bag::Raw`].
pub const SHROUDED_KEY_BAG: &[u8] = OID_SHROUDED_KEY_BAG;

impl Bag {
    pub fn key(epki: &[u8]) -> Self {
        Self::Key { epki: epki.to_vec(), id: None, name: None }
    }

    pub fn cert(der: &[u8]) -> Self {
        Self::Cert { der: der.to_vec(), id: None, name: None }
    }

    pub fn id(mut self, value: u8) -> Self {
        match &mut self {
            Self::Key { id, .. } | Self::Cert { id, .. } => *id = Some(value),
            Self::Raw { .. } => {}
        }
        self
    }

    pub fn named(mut self, value: &'static str) -> Self {
        match &mut self {
            Self::Key { name, .. } | Self::Cert { name, .. } => *name = Some(value),
            Self::Raw { .. } => {}
        }
        self
    }

    fn node(&self) -> Node {
        let (mut children, id, name) = match self {
            Self::Key { epki, id, name } => {
                let value = parse(epki).expect("EncryptedPrivateKeyInfo DER");
                (vec![oid(OID_SHROUDED_KEY_BAG), explicit0(value)], id, name)
            }
            Self::Cert { der, id, name } => {
                let bag = seq(vec![oid(OID_X509_CERT), explicit0(octets(der.clone()))]);
                (vec![oid(OID_CERT_BAG), explicit0(bag)], id, name)
            }
            Self::Raw { bag_id, value } => {
                let value = parse(value).expect("bag value DER");
                return seq(vec![oid(bag_id), explicit0(value)]);
            }
        };
        // Both attributes in one SET, as OpenSSL writes them.
        let mut attributes = Vec::new();
        if let Some(name) = name {
            let Node::Constructed { children, .. } = friendly_name(name) else { unreachable!() };
            attributes.extend(children);
        }
        if let Some(id) = id {
            let Node::Constructed { children, .. } = local_key_id(*id) else { unreachable!() };
            attributes.extend(children);
        }
        if !attributes.is_empty() {
            children.push(Node::Constructed { tag: 0x31, children: attributes });
        }
        seq(children)
    }
}

/// A safeContentsBag (RFC 7292 section 4.2.6) nesting `bags`.
pub fn nested(bags: &[Bag]) -> Bag {
    const OID_SAFE_CONTENTS_BAG: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x06];
    Bag::Raw { bag_id: OID_SAFE_CONTENTS_BAG, value: encode(&seq(bags.iter().map(Bag::node).collect()), Style::Der) }
}

/// A MAC-less PFX whose AuthenticatedSafe holds one plain `data` SafeContents per entry of
/// `parts`, each with its bags in the order given (the JDK's pairing depends on the order).
pub fn pfx_parts(parts: &[Vec<Bag>], style: Style) -> Vec<u8> {
    let contents: Vec<Node> =
        parts.iter().map(|bags| data(&seq(bags.iter().map(Bag::node).collect()), style)).collect();
    let pfx = seq(vec![Node::Primitive { tag: 0x02, value: vec![3] }, data(&seq(contents), style)]);
    encode(&pfx, style)
}
