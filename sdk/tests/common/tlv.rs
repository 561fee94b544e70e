//! A small DER/BER tree for tests: parse a DER file, change it, write it back as DER or as BER
//! the way Windows and NSS do (indefinite lengths, chunked OCTET STRINGs). Independent of the
//! crate's own BER code, so it can test it.

/// One element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Primitive { tag: u8, value: Vec<u8> },
    Constructed { tag: u8, children: Vec<Node> },
}

/// How to write a tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Der,
    /// Indefinite lengths everywhere, and OCTET STRINGs / `[0]` IMPLICIT octets longer than
    /// `chunk` bytes split into constructed chunks of that size.
    Ber { chunk: usize },
}

/// Parses one DER element (single-byte tags only, as PKCS#12 uses).
pub fn parse(bytes: &[u8]) -> Option<Node> {
    let (node, used) = parse_at(bytes, 0)?;
    (used == bytes.len()).then_some(node)
}

fn parse_at(bytes: &[u8], depth: usize) -> Option<(Node, usize)> {
    if depth > 40 {
        return None;
    }
    let tag = *bytes.first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let first = *bytes.get(1)? as usize;
    let (len, header) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *bytes.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let value = bytes.get(header..header + len)?;
    let node = if tag & 0x20 != 0 {
        let mut children = Vec::new();
        let mut pos = 0;
        while pos < value.len() {
            let (child, used) = parse_at(&value[pos..], depth + 1)?;
            children.push(child);
            pos += used;
        }
        Node::Constructed { tag, children }
    } else {
        Node::Primitive { tag, value: value.to_vec() }
    };
    Some((node, header + len))
}

pub fn encode(node: &Node, style: Style) -> Vec<u8> {
    let mut out = Vec::new();
    write(node, style, &mut out);
    out
}

fn write(node: &Node, style: Style, out: &mut Vec<u8>) {
    match (node, style) {
        (Node::Primitive { tag, value }, Style::Ber { chunk })
            if (*tag == 0x04 || *tag == 0x80) && value.len() > chunk =>
        {
            out.push(tag | 0x20);
            out.push(0x80);
            for piece in value.chunks(chunk) {
                out.push(0x04);
                write_len(piece.len(), out);
                out.extend_from_slice(piece);
            }
            out.extend_from_slice(&[0, 0]);
        }
        (Node::Primitive { tag, value }, _) => {
            out.push(*tag);
            write_len(value.len(), out);
            out.extend_from_slice(value);
        }
        (Node::Constructed { tag, children }, Style::Ber { .. }) => {
            out.push(*tag);
            out.push(0x80);
            for child in children {
                write(child, style, out);
            }
            out.extend_from_slice(&[0, 0]);
        }
        (Node::Constructed { tag, children }, Style::Der) => {
            let mut inner = Vec::new();
            for child in children {
                write(child, style, &mut inner);
            }
            out.push(*tag);
            write_len(inner.len(), out);
            out.extend_from_slice(&inner);
        }
    }
}

fn write_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Applies `f` to every node, also inside OCTET STRINGs whose value is a PKCS#12 list
/// (AuthenticatedSafe or SafeContents: a SEQUENCE of SEQUENCEs that start with an OID),
/// re-encoding those with `style`. Certificates inside CertBags are left as they are.
pub fn rewrite(node: &mut Node, style: Style, f: &mut dyn FnMut(&mut Node)) {
    f(node);
    match node {
        Node::Constructed { children, .. } => {
            for child in children {
                rewrite(child, style, f);
            }
        }
        Node::Primitive { tag: 0x04, value } => {
            if let Some(mut inner) = parse(value).filter(is_pkcs12_list) {
                rewrite(&mut inner, style, f);
                *value = encode(&inner, style);
            }
        }
        Node::Primitive { .. } => {}
    }
}

/// An INTEGER's value bytes for `n`.
pub fn integer_bytes(n: u64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(7);
    let mut v = bytes[skip..].to_vec();
    if v[0] & 0x80 != 0 {
        v.insert(0, 0);
    }
    v
}

/// Whether an INTEGER node holds `n`.
pub fn is_integer(node: &Node, n: u64) -> bool {
    matches!(node, Node::Primitive { tag: 0x02, value } if *value == integer_bytes(n))
}

fn is_pkcs12_list(node: &Node) -> bool {
    let Node::Constructed { tag: 0x30, children } = node else { return false };
    children.iter().all(|child| {
        matches!(child, Node::Constructed { tag: 0x30, children }
            if matches!(children.first(), Some(Node::Primitive { tag: 0x06, .. })))
    }) && !children.is_empty()
}
