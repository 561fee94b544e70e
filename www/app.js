// The brand portal: a P12 tester that runs the SDK's inspectP12 in this page (the file and
// password stay local), and certificate list, upload and delete through the REST API of SPEC
// section 5 with the brand's Bearer token. Uses only the npm package's browser entry.
//
// Everything shown comes from files or the server, so it is inserted as text, never as HTML.
import { inspectP12 } from '/pkg/web/index.js';

const $ = (id) => document.getElementById(id);

// --- the SDK is ready once the import above resolved (the module instantiated its wasm) ---
$('tester-run').disabled = false;
$('sdk-status').textContent = 'SDK ready: files are checked in this browser.';
document.body.dataset.sdk = 'ready';

// --- P12 tester ---
$('tester-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('tester-report').replaceChildren(); // a stale verdict must never sit beside new input
  const file = $('tester-file').files[0];
  if (!file) return;
  const report = await inspectFile(file, $('tester-password').value);
  $('tester-report').replaceChildren(renderReport(report));
});

async function inspectFile(file, password) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    return inspectP12(bytes, password);
  } catch (error) {
    // Only bad arguments throw; a bad file gives a report. Show it as a single problem.
    return { usable: false, problems: [{ code: error.code ?? 'error', message: error.message }], warnings: [] };
  }
}

function renderReport(report) {
  const box = el('div', { className: 'report', dataset: { usable: String(report.usable) } });
  box.append(el('p', {
    className: `verdict ${report.usable ? 'usable' : 'unusable'}`,
    textContent: report.usable ? 'Usable: this file and password will work with the gateway.'
      : 'Not usable: see the problems below.',
  }));
  for (const [title, findings, kind] of [['Problems', report.problems, 'problem'], ['Warnings', report.warnings, 'warning']]) {
    if (!findings?.length) continue;
    box.append(el('h4', { textContent: title }));
    const list = el('ul');
    for (const finding of findings) {
      const item = el('li', { className: `finding ${kind}`, dataset: { code: finding.code } });
      item.append(el('code', { textContent: finding.code }), document.createTextNode(`: ${finding.message}`));
      list.append(item);
    }
    box.append(list);
  }
  if (report.certificate) {
    const c = report.certificate;
    box.append(el('h4', { textContent: 'Certificate' }), facts([
      ['Subject', c.subject], ['Issuer', c.issuer], ['Serial number', c.serialNumber],
      ['Valid from', c.notBefore], ['Valid until', c.notAfter], ['SHA-256 fingerprint', c.fingerprintSha256],
      ['Key usage', c.keyUsage.join(', ') || '(not restricted)'],
      ['Extended key usage', c.extendedKeyUsage.join(', ') || '(not restricted)'],
      ['Subject alternative names', c.subjectAltNames.join(', ') || '(none)'],
      ['Chain', report.chain.map((cert) => cert.subject).join(' → ') || '(none)'],
    ]));
  }
  if (report.key) {
    const k = report.key;
    box.append(el('h4', { textContent: 'Key' }), facts([
      ['Algorithm', k.algorithm], ['Size', k.bits == null ? '?' : `${k.bits} bits`], ...(k.curve ? [['Curve', k.curve]] : []),
    ]));
  }
  if (report.container) {
    const p = report.container;
    box.append(el('h4', { textContent: 'Protection' }), facts([
      ['MAC', `${p.macAlgorithm}, ${p.macIterations} iterations`],
      ...p.encryption.map((e) => [`Encryption (${e.bag})`, `${e.algorithm}, ${e.iterations} iterations`]),
    ]));
  }
  return box;
}

// --- certificates through the REST API ---
let session = null; // { account, token }: kept in memory only, never stored

$('account-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  session = { account: $('account-id').value.trim(), token: $('account-token').value.trim() };
  await refreshCertificates();
});

async function refreshCertificates() {
  if (!session) return;
  const result = await api('GET', '/certificates');
  if (!result.ok) return showAccountMessage(result.message, true);
  const rows = result.body.map((certificate) => {
    const remove = el('button', { textContent: 'Delete', type: 'button' });
    remove.addEventListener('click', () => deleteCertificate(certificate));
    const row = el('tr', { dataset: { id: String(certificate.id) } });
    for (const value of [certificate.id, certificate.name, certificate.status, certificate.expirationDate,
      certificate.subject, certificate.version]) {
      row.append(el('td', { textContent: String(value ?? '') }));
    }
    const actions = el('td');
    actions.append(remove);
    row.append(actions);
    return row;
  });
  $('certificates').querySelector('tbody').replaceChildren(...rows);
  $('certificates').hidden = false;
  showAccountMessage(`${rows.length} certificate(s) in account ${session.account}.`, false);
}

async function deleteCertificate(certificate) {
  const result = await api('DELETE', `/certificates/${encodeURIComponent(certificate.id)}`);
  if (!result.ok) return showAccountMessage(result.message, true);
  await refreshCertificates();
  showAccountMessage(`Deleted ${certificate.name}.`, false);
}

$('upload-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const out = $('upload-report');
  out.replaceChildren();
  if (!session) {
    out.replaceChildren(el('p', { className: 'error', textContent: 'Load your account first (account id and token).' }));
    return;
  }
  const file = $('upload-file').files[0];
  const password = $('upload-password').value;
  // The same rules run here and on the server: refuse early, without sending the file.
  const report = await inspectFile(file, password);
  if (!report.usable) {
    out.replaceChildren(renderReport(report));
    return;
  }
  const form = new FormData();
  form.append('file', file, file.name);
  const certificate = { name: $('upload-name').value.trim(), password };
  const displayName = $('upload-display-name').value.trim();
  if (displayName) certificate.displayName = displayName;
  form.append('certificate', JSON.stringify(certificate));
  const result = await api('POST', '/certificates/by-file', form);
  if (!result.ok) {
    out.replaceChildren(el('p', { className: 'error', textContent: result.message }));
    if (result.body?.error?.details?.usable === false) out.append(renderReport(result.body.error.details));
    return;
  }
  const saved = result.body.successfulySavedCertificates ?? [];
  out.replaceChildren(el('p', { className: 'verdict usable', textContent: `Uploaded ${saved.map((c) => `${c.name} (id ${c.id})`).join(', ')}.` }));
  await refreshCertificates();
});

/** Calls `/mtls/account/{a}{path}`; resolves to `{ ok, status, body, message }`. */
async function api(method, path, body) {
  const url = `/mtls/account/${encodeURIComponent(session.account)}${path}`;
  const headers = { Authorization: `Bearer ${session.token}` };
  let response;
  try {
    response = await fetch(url, { method, headers, body });
  } catch (error) {
    return { ok: false, status: 0, body: null, message: `The gateway did not answer: ${error.message}` };
  }
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the status only
  }
  if (response.ok) return { ok: true, status: response.status, body: parsed, message: '' };
  const error = parsed?.error;
  const requestId = parsed?.requestId ?? response.headers.get('x-request-id');
  const message = error ? `${response.status} ${error.code}: ${error.message}` : `${response.status} ${response.statusText}`;
  return { ok: false, status: response.status, body: parsed, message: requestId ? `${message} (request ${requestId})` : message };
}

function showAccountMessage(text, isError) {
  const message = $('account-message');
  message.textContent = text;
  message.className = isError ? 'error' : '';
}

// --- tiny DOM helpers ---
function el(tag, props = {}) {
  const node = document.createElement(tag);
  const { dataset, ...rest } = props;
  for (const [key, value] of Object.entries(rest)) if (value !== undefined) node[key] = value;
  Object.assign(node.dataset, dataset ?? {});
  return node;
}

function facts(pairs) {
  const list = el('dl');
  for (const [term, value] of pairs) list.append(el('dt', { textContent: term }), el('dd', { textContent: String(value) }));
  return list;
}
