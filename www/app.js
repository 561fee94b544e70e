// The brand portal (SPEC section 1): a P12 tester that runs the SDK's inspectP12 in this page (the
// file and password stay local), and self-service of certificates (list, upload, replace, delete)
// and mappings (list, add, enable or disable, delete) through the npm package's MtlsClient with
// the brand's Bearer token. Uses only the npm package's browser entry.
//
// Everything shown comes from files or the server, so it is inserted as text, never as HTML.
import { inspectP12, MtlsClient } from '/pkg/web/index.js';

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
  const report = await inspectBytes(await readFile(file), $('tester-password').value);
  $('tester-report').replaceChildren(renderReport(report));
});

const readFile = async (file) => new Uint8Array(await file.arrayBuffer());

// The package fetches its inspector module on the first call, so inspectP12 is async here.
async function inspectBytes(bytes, password) {
  try {
    return await inspectP12(bytes, password);
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

// --- the account, through MtlsClient ---
// The session lives in memory only: the token is never stored.
let session = null; // { account, client }
let certificates = [];

$('account-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const account = $('account-id').value.trim();
  try {
    session = { account, client: new MtlsClient({ baseUrl: location.origin, auth: { bearer: $('account-token').value.trim() } }) };
  } catch (error) {
    session = null;
    return showMessage(describe(error), true);
  }
  if (await refresh()) showMessage(`Signed in to account ${account}: ${certificates.length} certificate(s).`, false);
});

/** Reloads certificates and mappings; false (with the error shown) when the server refused. */
async function refresh() {
  const { account, client } = session;
  let mappings;
  try {
    [certificates, mappings] = await Promise.all([client.listCertificates(account), client.listMappings(account)]);
  } catch (error) {
    $('workspace').hidden = true;
    showMessage(describe(error), true);
    return false;
  }
  renderCertificates();
  renderMappings(mappings);
  $('workspace').hidden = false;
  return true;
}

/** Runs a change, then shows `done(result)` or the server's error, and reloads the lists. */
async function change(action, done) {
  let result;
  try {
    result = await action(session.client, session.account);
  } catch (error) {
    // Reload too: a stale revision (412) or a concurrent change shows the current state.
    await refresh();
    showMessage(describe(error), true);
    return;
  }
  await refresh();
  showMessage(done(result), false);
}

function renderCertificates() {
  const rows = certificates.map((c) => tableRow(
    { id: c.id },
    [c.id, c.name, c.status, c.expirationDate, c.subject, [c.fingerprintSha256, 'fingerprint'], c.version],
    [button(`Delete certificate ${c.name}`, 'Delete', () => change(
      (client, account) => client.deleteCertificate(account, c.id),
      () => `Deleted certificate ${c.name}.`,
    ))],
  ));
  $('certificates').querySelector('tbody').replaceChildren(...rows);
  const options = () => certificates.map((c) => el('option', { value: String(c.id), textContent: `${c.name} (id ${c.id})` }));
  $('replace-id').replaceChildren(...options());
  $('mapping-certificate').replaceChildren(...options());
}

function renderMappings(mappings) {
  const byId = new Map(certificates.map((c) => [c.id, c]));
  const rows = mappings.map((m) => {
    const certificate = byId.get(m.certificationId);
    const active = m.enable && certificate?.status === 'Available';
    const toggle = m.enable ? 'Disable' : 'Enable';
    return tableRow(
      { id: m.id },
      [m.id, m.name, `${m.serviceName} (${m.serviceId})`, m.url, certificate ? certificate.name : `id ${m.certificationId}`,
        m.enable ? 'yes' : 'no', active ? 'yes' : 'no'],
      [
        button(`${toggle} mapping ${m.name}`, toggle, () => change(
          (client, account) => client.updateMapping(account, m.id, { ...m, enable: !m.enable }, { ifMatch: m.revision }),
          () => `${toggle}d mapping ${m.name}.`,
        )),
        button(`Delete mapping ${m.name}`, 'Delete', () => change(
          (client, account) => client.deleteMapping(account, m.id, { ifMatch: m.revision }),
          () => `Deleted mapping ${m.name}.`,
        )),
      ],
    );
  });
  $('mappings').querySelector('tbody').replaceChildren(...rows);
}

$('mapping-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const mapping = {
    name: $('mapping-name').value.trim(),
    serviceId: $('mapping-service').value.trim(),
    url: $('mapping-url').value.trim(),
    certificationId: Number($('mapping-certificate').value),
    enable: $('mapping-enable').checked,
  };
  change((client, account) => client.createMappings(account, [mapping]),
    ([created]) => `Added mapping ${created.name} (id ${created.id}): ${created.serviceName} ${created.url}.`);
});

$('upload-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const upload = { name: $('upload-name').value.trim(), password: $('upload-password').value };
  const displayName = $('upload-display-name').value.trim();
  if (displayName) upload.displayName = displayName;
  checkThenSend($('upload-report'), $('upload-file').files[0], upload.password,
    (client, account, file) => client.uploadCertificate(account, { ...upload, file }),
    (c) => `Uploaded ${c.name} (id ${c.id}).`);
});

$('replace-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const id = Number($('replace-id').value);
  const password = $('replace-password').value;
  checkThenSend($('replace-report'), $('replace-file').files[0], password,
    (client, account, file) => client.replaceCertificateFile(account, { id, password, file }),
    (c) => `Replaced ${c.name} (id ${c.id}): now version ${c.version}, fingerprint ${c.fingerprintSha256}.`);
});

/**
 * Checks the file in this page first (the same rules run on the server): an unusable file is
 * refused with its report and never sent. Then sends it, and shows the outcome in `out`.
 */
async function checkThenSend(out, file, password, send, saved) {
  out.replaceChildren();
  const bytes = await readFile(file);
  const report = await inspectBytes(bytes, password);
  if (!report.usable) {
    out.replaceChildren(renderReport(report));
    return;
  }
  let result;
  try {
    result = await send(session.client, session.account, bytes);
  } catch (error) {
    out.replaceChildren(el('p', { className: 'error', role: 'alert', textContent: describe(error) }));
    if (error.details?.usable === false) out.append(renderReport(error.details));
    return;
  }
  const text = result.successfulySavedCertificates.map(saved).join(' ');
  out.replaceChildren(el('p', { className: 'verdict usable', textContent: text }));
  await refresh();
}

/**
 * An error as the user needs it: the gateway's status, code and message, the mappings that
 * block a delete, and the request id to quote to support.
 */
function describe(error) {
  if (error?.name !== 'MtlsError') return `Error: ${error?.message ?? error}`;
  const users = error.details?.mappings;
  const blocking = Array.isArray(users) && users.length
    ? ` Used by: ${users.map((m) => `${m.name} (id ${m.id})`).join(', ')}.` : '';
  const request = error.requestId ? ` (request ${error.requestId})` : '';
  return `${error.status || 'No answer'} ${error.code}: ${error.message.replace(/\.$/, '')}.${blocking}${request}`;
}

function showMessage(text, isError) {
  const message = $('account-message');
  message.textContent = text;
  message.className = isError ? 'error' : '';
}

function tableRow(dataset, cells, actions) {
  const row = el('tr', { dataset: Object.fromEntries(Object.entries(dataset).map(([k, v]) => [k, String(v)])) });
  for (const cell of cells) {
    const [value, className] = Array.isArray(cell) ? cell : [cell];
    row.append(el('td', { className, textContent: String(value ?? '') }));
  }
  const actionCell = el('td');
  actionCell.append(...actions);
  row.append(actionCell);
  return row;
}

function button(label, text, onClick) {
  const node = el('button', { type: 'button', textContent: text });
  node.setAttribute('aria-label', label);
  node.addEventListener('click', onClick);
  return node;
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
