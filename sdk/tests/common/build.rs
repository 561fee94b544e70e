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
