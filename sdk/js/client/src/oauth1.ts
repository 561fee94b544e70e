// OAuth 1.0 request signing (RFC 5849 section 3), byte for byte what the SDK's Rust signer
// (`oauth1_authorization`) produces for the same inputs; tests/node/client-oauth1.test.mjs
// computes both on shared vectors.

/** `oauth_signature_method`s the gateway accepts. */
export type OAuth1SignatureMethod = 'HMAC-SHA1' | 'HMAC-SHA256';

/** An app key (`POST /admin/app-keys`). The secrets sign requests and are never sent. */
export interface OAuth1Credentials {
  consumerKey: string;
  consumerSecret: string;
  token?: string;
  tokenSecret?: string;
  /** Default `HMAC-SHA1`, what existing clients send. */
  signatureMethod?: OAuth1SignatureMethod;
}

/** Everything a signature depends on; the nonce and timestamp are the caller's. */
export interface OAuth1Request {
  method: string;
  url: string | URL;
  /** The body's parameters when it is `application/x-www-form-urlencoded`; none otherwise. */
  formParameters?: [string, string][];
  credentials: OAuth1Credentials;
  nonce: string;
  /** Seconds since the Unix epoch. */
  timestamp: number;
}

/**
 * The `Authorization: OAuth ...` value for a request. Async because browsers compute HMAC with
 * WebCrypto; Node uses `node:crypto`.
 */
export async function oauth1Authorization(request: OAuth1Request): Promise<string> {
  const { credentials } = request;
  const method = credentials.signatureMethod ?? 'HMAC-SHA1';
  const protocol: [string, string][] = [
    ['oauth_consumer_key', credentials.consumerKey],
    ['oauth_nonce', request.nonce],
    ['oauth_signature_method', method],
    ['oauth_timestamp', String(request.timestamp)],
  ];
  if (credentials.token) protocol.push(['oauth_token', credentials.token]);
  protocol.push(['oauth_version', '1.0']);

  const base = signatureBaseString(request.method, new URL(request.url), request.formParameters ?? [], protocol);
  const key = `${percentEncode(credentials.consumerSecret)}&${percentEncode(credentials.tokenSecret ?? '')}`;
  const signature = await hmacBase64(method === 'HMAC-SHA256' ? 'SHA-256' : 'SHA-1', key, base);
  const fields = protocol.map(([name, value]) => `${name}="${percentEncode(value)}"`);
  fields.push(`oauth_signature="${percentEncode(signature)}"`);
  return `OAuth ${fields.sort().join(', ')}`;
}

/** RFC 5849 section 3.6: every byte but `A-Z a-z 0-9 - . _ ~` as upper-case `%XX` of UTF-8. */
export function percentEncode(value: string): string {
  // A lone surrogate cannot be UTF-8; Rust strings never hold one (U+FFFD instead).
  const text = typeof value.toWellFormed === 'function' ? value.toWellFormed() : value;
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** RFC 5849 section 3.4.1: `METHOD&base-uri&normalized-parameters`, each part encoded. */
function signatureBaseString(method: string, url: URL, form: [string, string][], protocol: [string, string][]): string {
  // Section 3.4.1.2: scheme and host lower case (WHATWG URL does that), the port only when it is
  // not the scheme's default (`port` is empty then), the path, no query or fragment.
  const baseUri = `${url.protocol}//${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`;
  const parameters = [...new URLSearchParams(url.search), ...form, ...protocol]
    .map(([name, value]) => [percentEncode(name), percentEncode(value)] as const)
    // Encoded parameters are ASCII, so code-unit order is byte order (section 3.4.1.3.2).
    .sort(([n1, v1], [n2, v2]) => (n1 < n2 ? -1 : n1 > n2 ? 1 : v1 < v2 ? -1 : v1 > v2 ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  return `${method.toUpperCase()}&${percentEncode(baseUri)}&${percentEncode(parameters)}`;
}

interface NodeCrypto {
  createHmac(algorithm: string, key: string): { update(data: string): { digest(encoding: 'base64'): string } };
}

async function hmacBase64(hash: 'SHA-1' | 'SHA-256', key: string, message: string): Promise<string> {
  // Node: `node:crypto`, reached without an import statement so that the same file loads in a
  // browser (and in CommonJS); `getBuiltinModule` exists from Node 20.16.
  const nodeCrypto = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
    .process?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
  if (nodeCrypto) {
    return nodeCrypto.createHmac(hash === 'SHA-1' ? 'sha1' : 'sha256', key).update(message).digest('base64');
  }
  const encoder = new TextEncoder();
  const cryptoKey = await crypto.subtle.importKey('raw', encoder.encode(key), { name: 'HMAC', hash }, false, ['sign']);
  const signature = new Uint8Array(await crypto.subtle.sign('HMAC', cryptoKey, encoder.encode(message)));
  return btoa(String.fromCharCode(...signature));
}
