// Every call the portal makes to the gateway, in one place: the npm package's `MtlsClient`
// (TypeScript compiled to plain JavaScript, no WebAssembly) with the brand's Bearer token on this
// origin, so sign-in, lists and forms work before (and without) the package's WebAssembly.
// Errors reject with the package's `MtlsError` (status, code, message, details, requestId).
import { MtlsClient, MtlsError } from '/pkg/client/index.js';

export { MtlsError };

/** The portal's view of the gateway: one method per thing the page does, for one token. */
export class Gateway {
  /** `token` is the JWT alone (no "Bearer " prefix). */
  constructor(token) {
    this.client = new MtlsClient({ baseUrl: location.origin, auth: { bearer: token } });
  }

  // --- certificates ---
  listCertificates(a, options) { return this.client.listCertificates(a, options); }
  uploadCertificate(a, { file, name, password, displayName }) {
    return this.client.uploadCertificate(a, { file, name, password, ...(displayName ? { displayName } : {}) });
  }
  replaceCertificate(a, { id, file, password, activateAt }) {
    return this.client.replaceCertificateFile(a, { id, file, password, ...(activateAt ? { activateAt } : {}) });
  }
  deleteCertificate(a, id) { return this.client.deleteCertificate(a, id); }
  cancelPending(a, id) { return this.client.cancelPendingCertificate(a, id); }

  // --- mappings ---
  listMappings(a) { return this.client.listMappings(a); }
  createMapping(a, mapping) { return this.client.createMappings(a, [mapping]); }
  updateMapping(a, id, mapping, revision) { return this.client.updateMapping(a, id, mapping, { ifMatch: revision }); }
  deleteMapping(a, id, revision) { return this.client.deleteMapping(a, id, { ifMatch: revision }); }
  listServices() { return this.client.listServices(); }
  probe(a, request) { return this.client.probe(a, request); }

  // --- certificate requests (key held by the gateway) ---
  listRequests(a) { return this.client.listCertificateRequests(a); }
  createRequest(a, request) { return this.client.createCertificateRequest(a, request); }
  deleteRequest(a, id) { return this.client.deleteCertificateRequest(a, id); }
  completeRequest(a, id, { certificatePem, replaceCertificateId }) {
    return this.client.completeCertificateRequest(a, id, { certificatePem, ...(replaceCertificateId ? { replaceCertificateId } : {}) });
  }

  // --- audit trail ---
  audit(a, { cursor, limit }) { return this.client.listAudit(a, { limit, ...(cursor ? { cursor } : {}) }); }
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
