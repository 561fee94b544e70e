// Every call the portal makes to the gateway, in one place: plain `fetch` on this origin with the
// brand's Bearer token, no WebAssembly, so sign-in, lists and forms work before (and without)
// the package's WebAssembly. Errors reject with a GatewayError carrying the SPEC 5 error body.

/** The gateway's refusal (or no answer): status, code, message, details and request id. */
export class GatewayError extends Error {
  constructor({ status, code, message, details, requestId }) {
    super(message);
    this.name = 'GatewayError';
    Object.assign(this, { status, code, details, requestId });
  }
}

const enc = encodeURIComponent;

export class Gateway {
  /** `token` is the JWT alone (no "Bearer " prefix). */
  constructor(token) {
    this.authorization = `Bearer ${token}`;
  }

  async call(method, path, { json, form, ifMatch, query } = {}) {
    const headers = { authorization: this.authorization };
    let body;
    if (json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(json);
    } else if (form) {
      body = form;
    }
    if (ifMatch !== undefined) headers['if-match'] = `"${ifMatch}"`;
    const search = query ? `?${new URLSearchParams(query)}` : '';
    let response;
    try {
      response = await fetch(`${path}${search}`, { method, headers, body });
    } catch (error) {
      throw new GatewayError({ status: 0, code: 'no_answer', message: `the gateway did not answer (${error.message})` });
    }
    const text = await response.text();
    let answer = null;
    try {
      answer = text ? JSON.parse(text) : null;
    } catch {
      answer = null;
    }
    if (response.ok) return answer;
    const error = answer?.error ?? {};
    throw new GatewayError({
      status: response.status,
      code: error.code ?? 'http_error',
      message: error.message ?? (response.statusText || 'the gateway refused the request'),
      details: error.details,
      requestId: answer?.requestId ?? response.headers.get('x-request-id') ?? undefined,
    });
  }

  // --- certificates ---
  listCertificates(a, { expiringWithinDays } = {}) {
    const query = expiringWithinDays === undefined ? undefined : { expiringWithinDays: String(expiringWithinDays) };
    return this.call('GET', `/mtls/account/${enc(a)}/certificates`, { query });
  }
  uploadCertificate(a, { file, name, password, displayName }) {
    return this.call('POST', `/mtls/account/${enc(a)}/certificates/by-file`,
      { form: fileForm(file, { name, password, ...(displayName ? { displayName } : {}) }) });
  }
  replaceCertificate(a, { id, file, password, activateAt }) {
    return this.call('PUT', `/mtls/account/${enc(a)}/certificates/by-file`,
      { form: fileForm(file, { id, password, ...(activateAt ? { activateAt } : {}) }) });
  }
  deleteCertificate(a, id) { return this.call('DELETE', `/mtls/account/${enc(a)}/certificates/${enc(id)}`); }
  cancelPending(a, id) { return this.call('DELETE', `/mtls/account/${enc(a)}/certificates/${enc(id)}/pending`); }

  // --- mappings ---
  listMappings(a) { return this.call('GET', `/api/account/${enc(a)}/configuration/ac-common/mtls`); }
  createMapping(a, mapping) {
    return this.call('POST', `/api/account/${enc(a)}/configuration/ac-common/mtls`, { json: [mapping], query: { v: '3.0' } });
  }
  updateMapping(a, id, mapping, revision) {
    return this.call('PUT', `/api/account/${enc(a)}/configuration/ac-common/mtls/${enc(id)}`, { json: mapping, ifMatch: revision });
  }
  deleteMapping(a, id, revision) {
    return this.call('DELETE', `/api/account/${enc(a)}/configuration/ac-common/mtls/${enc(id)}`, { ifMatch: revision });
  }
  listServices() { return this.call('GET', '/mtls/services'); }
  probe(a, request) { return this.call('POST', `/mtls/account/${enc(a)}/probe`, { json: request }); }

  // --- certificate requests (key held by the gateway) ---
  listRequests(a) { return this.call('GET', `/mtls/account/${enc(a)}/certificate-requests`); }
  createRequest(a, request) { return this.call('POST', `/mtls/account/${enc(a)}/certificate-requests`, { json: request }); }
  deleteRequest(a, id) { return this.call('DELETE', `/mtls/account/${enc(a)}/certificate-requests/${enc(id)}`); }
  completeRequest(a, id, { certificatePem, replaceCertificateId }) {
    const json = { certificatePem, ...(replaceCertificateId ? { replaceCertificateId } : {}) };
    return this.call('POST', `/mtls/account/${enc(a)}/certificate-requests/${enc(id)}/certificate`, { json });
  }

  // --- audit trail ---
  audit(a, { cursor, limit }) {
    return this.call('GET', `/mtls/account/${enc(a)}/audit`, { query: { limit: String(limit), ...(cursor ? { cursor } : {}) } });
  }
}

function fileForm(file, certificate) {
  const form = new FormData();
  form.append('file', file);
  form.append('certificate', JSON.stringify(certificate));
  return form;
}

/**
 * What a pasted token says about its caller, read from the JWT payload (not verified here: the
 * gateway verifies it on every call). Accepts a "Bearer " prefix and surrounding spaces.
 * Returns `{ token, subject, accounts }`; `accounts` is null when the token names none.
 */
export function readToken(pasted) {
  const token = pasted.trim().replace(/^bearer\s+/i, '').trim();
  let claims = {};
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    claims = JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, '=')));
  } catch {
    claims = {};
  }
  const accounts = Array.isArray(claims.accounts) ? claims.accounts.filter((a) => typeof a === 'string' && a) : null;
  return { token, subject: typeof claims.sub === 'string' ? claims.sub : null, accounts: accounts?.length ? accounts : null };
}
