// The brand portal (SPEC sections 1, 12, 13): self-service of certificates, mappings, gateway-held
// certificate requests, probes and the audit trail through `gateway.js` (the package's MtlsClient,
// no WebAssembly: usable at once), and the certificate tools (test a P12, make a key and CSR,
// build a P12) through the package's WebAssembly, loaded on first use by `sdk.js`.
//
// Feedback appears in the region right after the form or table that caused it. Everything shown
// comes from files or the server, so it is inserted as text, never as HTML. The token lives in
// memory only; signing out drops it with every list, form value and report.
import { Gateway, MtlsError, readToken } from './gateway.js';
import { loadSdk } from './sdk.js';

const $ = (id) => document.getElementById(id);
const AUDIT_PAGE = 20;

/** The signed-in state: `{ gateway, account, subject }`, or null. */
let session = null;
let certificates = [];
let mappings = [];
let requests = [];
let services = [];
let auditCursor = null;
/** Object URLs handed out for downloads, revoked on sign-out. */
const downloads = [];

// === sign-in and sign-out ===

$('sign-in-token').addEventListener('input', () => showAccountChoice(readToken($('sign-in-token').value)));

/** One account: chosen. Several: a picker. All (`*`) or none readable: a free account id. */
function showAccountChoice({ accounts }) {
  const named = accounts?.filter((a) => a !== '*') ?? [];
  const all = !accounts || accounts.includes('*');
  $('sign-in-account-choice').hidden = all || named.length < 2;
  $('sign-in-account-free').hidden = !all;
  $('sign-in-account-one').hidden = all || named.length !== 1;
  $('sign-in-account-one').textContent = named.length === 1 ? `Account: ${named[0]}` : '';
  $('sign-in-account-picker').replaceChildren(...named.map((a) => option(a, a)));
}

function chosenAccount({ accounts }) {
  const named = accounts?.filter((a) => a !== '*') ?? [];
  if (!accounts || accounts.includes('*')) return $('sign-in-account-id').value.trim();
  return named.length === 1 ? named[0] : $('sign-in-account-picker').value;
}

$('sign-in-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const out = $('session-feedback');
  const read = readToken($('sign-in-token').value);
  if (!read.token) return fail(out, 'Paste your Bearer token first.', $('sign-in-token'));
  const account = chosenAccount(read);
  if (!account) return fail(out, 'Enter the account id to manage.', $('sign-in-account-id'));
  const gateway = new Gateway(read.token);
  busy(out, 'Signing in…');
  try {
    [certificates, mappings, services] = await Promise.all([
      gateway.listCertificates(account), gateway.listMappings(account), gateway.listServices(),
    ]);
  } catch (error) {
    return fail(out, describe(error), $('sign-in-token'));
  }
  session = { gateway, account, subject: read.subject };
  $('sign-in-form').reset();
  showAccountChoice({ accounts: [] });
  $('sign-in-form').hidden = true;
  $('signed-in').hidden = false;
  $('signed-in-as').textContent = `Signed in${read.subject ? ` as ${read.subject}` : ''} to account ${account}.`;
  $('workspace').hidden = false;
  renderAll();
  succeed(out, `Signed in to account ${account}: ${certificates.length} certificate(s), ${mappings.length} mapping(s).`);
  await Promise.all([loadRequests(), loadAudit(false)]);
});

$('sign-out').addEventListener('click', () => {
  session = null;
  certificates = [];
  mappings = [];
  requests = [];
  services = [];
  auditCursor = null;
  for (const url of downloads.splice(0)) URL.revokeObjectURL(url);
  for (const form of document.querySelectorAll('form')) form.reset();
  editing = null;
  showMappingForm();
  for (const box of document.querySelectorAll('.feedback')) box.replaceChildren();
  for (const body of document.querySelectorAll('table tbody')) body.replaceChildren();
  $('workspace').hidden = true;
  $('signed-in').hidden = true;
  $('sign-in-form').hidden = false;
  showAccountChoice({ accounts: [] });
  $('sign-in-account-free').hidden = true;
  succeed($('session-feedback'), 'Signed out: the token and everything shown were cleared.');
  $('sign-in-token').focus();
});

// === lists ===

/** Reloads certificates and mappings (a change can touch both); false when the server refused. */
async function refresh(out) {
  try {
    [certificates, mappings] = await Promise.all([
      session.gateway.listCertificates(session.account, expiryQuery()), session.gateway.listMappings(session.account),
    ]);
  } catch (error) {
    fail(out, describe(error));
    return false;
  }
  renderAll();
  return true;
}

function expiryQuery() {
  return $('expiry-filter-on').checked ? { expiringWithinDays: Number($('expiry-filter-days').value) || 0 } : {};
}

for (const id of ['expiry-filter-on', 'expiry-filter-days']) {
  $(id).addEventListener('change', () => session && refresh($('certificates-feedback')));
}
$('expiry-filter').addEventListener('submit', (event) => event.preventDefault());

function renderAll() {
  renderCertificates();
  renderMappings();
  renderRequests();
  const available = certificates.map((c) => option(String(c.id), `${c.name} (id ${c.id})`));
  keepSelection($('replace-id'), available);
  keepSelection($('mapping-certificate'), available.map((o) => o.cloneNode(true)));
  keepSelection($('probe-certificate'), [option('', 'As forwarding would choose'), ...available.map((o) => o.cloneNode(true))]);
  keepSelection($('complete-replace-id'), [option('', 'None: a new certificate'), ...available.map((o) => o.cloneNode(true))]);
  const serviceOptions = services.map((s) => option(s.name, `${s.name} (${s.code})`));
  keepSelection($('mapping-service'), serviceOptions);
  keepSelection($('probe-service'), [option('', 'Any (by URL)'), ...serviceOptions.map((o) => o.cloneNode(true))]);
}

/** Days until `c` expires: the server's `daysToExpiry`, else counted from `expirationDate`. */
function daysToExpiry(c) {
  if (Number.isFinite(c.daysToExpiry)) return c.daysToExpiry;
  const at = Date.parse(c.expirationDate);
  return Number.isFinite(at) ? Math.floor((at - Date.now()) / 86_400_000) : null;
}

function renderCertificates() {
  const filter = expiryQuery().expiringWithinDays;
  // The server filters too; this keeps the view right whatever the list answered.
  const shown = certificates.filter((c) => filter === undefined || (daysToExpiry(c) ?? Infinity) <= filter);
  const rows = shown.map((c) => {
    const days = daysToExpiry(c);
    const status = el('td', { dataset: { label: 'Status' } });
    status.append(text(c.status));
    if (days !== null && days < 0) status.append(badge('Expired', 'danger'));
    else if (c.expiringSoon || (c.expiringSoon === undefined && days !== null && days <= 30)) {
      status.append(badge(`Expires in ${plural(days, 'day')}`, 'warning'));
    }
    const expires = el('td', { dataset: { label: 'Expires' } });
    expires.append(text(formatDate(c.expirationDate)));
    if (days !== null) expires.append(el('span', { className: 'sub', textContent: days < 0 ? `${plural(-days, 'day')} ago` : `in ${plural(days, 'day')}` }));
    const version = el('td', { dataset: { label: 'Version' } });
    version.append(text(String(c.version)));
    const actions = [button(`Delete certificate ${c.name}`, 'Delete', () => confirmDeleteCertificate(c))];
    if (c.pending) {
      version.append(el('span', { className: 'sub',
        textContent: `version ${c.pending.version} from ${formatDate(c.pending.activateAt)}` }));
      actions.unshift(button(`Cancel rotation of ${c.name}`, 'Cancel rotation', () => change($('certificates-feedback'),
        () => session.gateway.cancelPending(session.account, c.id),
        () => `Cancelled the staged rotation of ${c.name}: version ${c.version} stays.`)));
    }
    const details = el('td', { dataset: { label: 'Details' } });
    details.append(facts([['Id', c.id], ['Subject', c.subject], ['Issuer', c.issuer], ['SHA-256', c.fingerprintSha256]]));
    return row({ id: c.id }, [cell('Name', c.displayName && c.displayName !== c.name ? `${c.name} (${c.displayName})` : c.name),
      status, expires, version, details], actions);
  });
  $('certificates').querySelector('tbody').replaceChildren(...rows);
  $('certificates-empty').hidden = shown.length > 0;
}

function renderMappings() {
  const byId = new Map(certificates.map((c) => [c.id, c]));
  const rows = mappings.map((m) => {
    const certificate = byId.get(m.certificationId);
    const active = m.enable && certificate?.status === 'Available';
    const toggle = m.enable ? 'Disable' : 'Enable';
    return row({ id: m.id }, [
      cell('Name', m.name), cell('Service', `${m.serviceName} (${m.serviceId})`), cell('URL', m.url, 'url'),
      cell('Certificate', certificate ? certificate.name : `id ${m.certificationId}`),
      cell('Enabled', m.enable ? 'yes' : 'no'), cell('Active', active ? 'yes' : 'no'),
    ], [
      button(`Edit mapping ${m.name}`, 'Edit', () => editMapping(m)),
      button(`${toggle} mapping ${m.name}`, toggle, () => change($('mappings-feedback'),
        () => session.gateway.updateMapping(session.account, m.id, { ...m, enable: !m.enable }, m.revision),
        () => `${toggle}d mapping ${m.name}.`)),
      button(`Probe mapping ${m.name}`, 'Probe', () => probe($('mappings-feedback'), { url: m.url, serviceName: m.serviceName })),
      button(`Delete mapping ${m.name}`, 'Delete', () => confirmAction({
        title: `Delete mapping ${m.name}?`,
        text: `Calls forwarded for ${m.serviceName} to ${m.url} will no longer present a certificate.`,
        confirm: 'Delete mapping',
      }, () => change($('mappings-feedback'),
        () => session.gateway.deleteMapping(session.account, m.id, m.revision),
        () => `Deleted mapping ${m.name}.`))),
    ]);
  });
  $('mappings').querySelector('tbody').replaceChildren(...rows);
  $('mappings-empty').hidden = mappings.length > 0;
}

/**
 * Runs a change, then reloads the lists (also after a refusal: a stale revision or a concurrent
 * change shows the current state) and shows `done(result)` or the server's error in `out`.
 * Resolves to true when the change was made.
 */
async function change(out, action, done, focusOnError) {
  busy(out, 'Working…');
  let result;
  try {
    result = await action();
  } catch (error) {
    await refresh(out);
    fail(out, describe(error), focusOnError);
    return false;
  }
  await refresh(out);
  succeed(out, done(result));
  loadAudit(false);
  return true;
}

// === certificates: upload, replace, stage, delete ===

$('upload-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const out = $('upload-feedback');
  const file = $('upload-file').files[0];
  if (!file || !form.reportValidity()) return;
  const upload = { file, name: $('upload-name').value.trim(), password: $('upload-password').value,
    displayName: $('upload-display-name').value.trim() };
  if (await change(out, () => session.gateway.uploadCertificate(session.account, upload), (answer) => saved(answer, (c) => `Uploaded ${c.name} (id ${c.id}).`))) {
    form.reset();
  } else {
    showReport(out);
  }
});

$('replace-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const out = $('replace-feedback');
  const file = $('replace-file').files[0];
  if (!file || !form.reportValidity()) return;
  const local = $('replace-activate-at').value;
  const replacement = { id: Number($('replace-id').value), file, password: $('replace-password').value,
    activateAt: local ? new Date(local).toISOString() : undefined };
  const done = (answer) => saved(answer, (c) => (c.pending && replacement.activateAt
    ? `Staged version ${c.pending.version} of ${c.name} (id ${c.id}) for ${formatDate(c.pending.activateAt)}; version ${c.version} until then.`
    : `Replaced ${c.name} (id ${c.id}): now version ${c.version}, fingerprint ${c.fingerprintSha256}.`));
  if (await change(out, () => session.gateway.replaceCertificate(session.account, replacement), done)) form.reset();
  else showReport(out);
});

/** The saved certificates of an upload answer, each with the file's warnings. */
function saved(answer, describeOne) {
  const items = answer?.successfulySavedCertificates ?? (answer?.id ? [answer] : []);
  return items.map((c) => {
    const warnings = (c.warnings ?? []).map((w) => ` Warning: ${w.message ?? w.code}${/[.!?]$/.test(w.message ?? '') ? '' : '.'}`).join('');
    return `${describeOne(c)}${warnings}`;
  }).join(' ');
}

/** After a 422 `p12_not_usable`, shows the server's report under its message. */
function showReport(out) {
  const details = lastError?.details;
  if (lastError?.code === 'p12_not_usable' && details && Array.isArray(details.problems)) out.append(renderReport(details));
}

function confirmDeleteCertificate(c) {
  const users = mappings.filter((m) => m.certificationId === c.id);
  confirmAction({
    title: `Delete certificate ${c.name}?`,
    text: users.length
      ? `These mappings present it and would break; the gateway refuses the delete until you repoint or delete them:`
      : 'No mapping uses it. It cannot be recovered once deleted.',
    items: users.map((m) => `${m.name}: ${m.serviceName} ${m.url}`),
    confirm: 'Delete certificate',
  }, () => change($('certificates-feedback'),
    () => session.gateway.deleteCertificate(session.account, c.id),
    () => `Deleted certificate ${c.name}.`));
}

// === mappings: add, edit/repoint, probe ===

/** The mapping being edited, or null when the form adds one. */
let editing = null;

function editMapping(m) {
  editing = m;
  showMappingForm();
  $('mapping-name').value = m.name;
  $('mapping-service').value = m.serviceName;
  $('mapping-url').value = m.url;
  $('mapping-certificate').value = String(m.certificationId);
  $('mapping-enable').checked = m.enable;
  $('mapping-feedback').replaceChildren();
  $('mapping-name').focus();
}

function showMappingForm() {
  $('mapping-form-title').textContent = editing ? `Edit mapping ${editing.name}` : 'Add a mapping';
  $('mapping-submit').textContent = editing ? 'Save mapping' : 'Add mapping';
  $('mapping-cancel').hidden = !editing;
}

$('mapping-cancel').addEventListener('click', () => {
  editing = null;
  $('mapping-form').reset();
  showMappingForm();
  $('mapping-feedback').replaceChildren();
});

$('mapping-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  if (!form.reportValidity()) return;
  const fields = {
    name: $('mapping-name').value.trim(),
    serviceId: $('mapping-service').value,
    url: $('mapping-url').value.trim(),
    certificationId: Number($('mapping-certificate').value),
    enable: $('mapping-enable').checked,
  };
  const was = editing;
  const ok = was
    ? await change($('mapping-feedback'), () => session.gateway.updateMapping(session.account, was.id, repointed(was, fields), was.revision),
      (m) => `Saved mapping ${m.name}: ${m.serviceName} ${m.url} presents ${certificateName(m.certificationId)}.`, $('mapping-name'))
    : await change($('mapping-feedback'), () => session.gateway.createMapping(session.account, fields),
      ([m]) => `Added mapping ${m.name} (id ${m.id}): ${m.serviceName} ${m.url}.`, $('mapping-name'));
  if (ok) {
    editing = null;
    form.reset();
    showMappingForm();
  }
});

/** The mapping with `fields` changed; the old `serviceName` must not contradict a new service. */
function repointed(mapping, fields) {
  const { serviceName, ...rest } = mapping;
  return { ...rest, ...fields };
}

const certificateName = (id) => certificates.find((c) => c.id === id)?.name ?? `certificate ${id}`;

$('probe-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!event.target.reportValidity()) return;
  const request = { url: $('probe-url').value.trim() };
  if ($('probe-service').value) request.serviceName = $('probe-service').value;
  if ($('probe-certificate').value) request.certificationId = Number($('probe-certificate').value);
  if (await probe($('probe-feedback'), request)) event.target.reset();
});

/** Runs a probe and explains its answer in `out`; true when the probe ran (whatever it found). */
async function probe(out, request) {
  busy(out, `Probing ${request.url}…`);
  let answer;
  try {
    answer = await session.gateway.probe(session.account, request);
  } catch (error) {
    fail(out, describe(error));
    return false;
  }
  const box = el('div', { className: 'report', dataset: { ok: String(Boolean(answer.ok)) } });
  box.append(el('p', {
    className: `verdict ${answer.ok ? 'usable' : 'unusable'}`,
    textContent: answer.ok
      ? `Handshake with ${answer.url} succeeded${answer.httpStatus ? `: HEAD answered ${answer.httpStatus}` : ''}.`
      : `Problem with ${answer.url}: ${answer.problem?.code ?? 'unknown'}: ${answer.problem?.message ?? ''}${answer.problem?.reason ? ` (${answer.problem.reason})` : ''}`,
  }));
  const tls = answer.tls ?? {};
  const server = tls.serverCertificate ?? {};
  box.append(facts([
    ['Certificate presented', answer.certificateId == null ? 'none' : certificateName(answer.certificateId)],
    ['Client certificate requested', answer.clientCertificateRequested ? 'yes' : 'no'],
    ['Acceptable issuers', (answer.acceptableIssuers ?? []).join('; ') || '(any)'],
    ['TLS', [tls.version, tls.cipherSuite].filter(Boolean).join(', ') || '(no handshake)'],
    ['Server certificate', server.subject ? `${server.subject}, issued by ${server.issuer}, until ${formatDate(server.notAfter)}` : '(none)'],
  ]));
  out.replaceChildren(box);
  return true;
}

// === certificate requests (gateway-held keys) ===

async function loadRequests() {
  try {
    requests = await session.gateway.listRequests(session.account);
    offer('requests-section', true);
  } catch (error) {
    requests = [];
    if (!offer('requests-section', !isMissing(error))) fail($('requests-feedback'), describe(error));
  }
  renderRequests();
}

/** A gateway without this feature answers its list with 404 `not_found`. */
const isMissing = (error) => error instanceof MtlsError && error.status === 404 && error.code === 'not_found';

/** Shows or hides a section (and its link) by whether this gateway offers it; returns `offered`. */
function offer(sectionId, offered) {
  $(sectionId).hidden = !offered;
  document.querySelector(`nav a[href="#${sectionId}"]`).parentElement.hidden = !offered;
  return offered;
}

function renderRequests() {
  const rows = requests.map((r) => {
    const actions = [];
    if (r.csrPem) {
      const link = download(`${r.name}.csr`, r.csrPem, 'application/pkcs10', `Download CSR`);
      link.setAttribute('aria-label', `Download CSR of ${r.name}`);
      actions.push(link);
    }
    actions.push(button(`Delete request ${r.name}`, 'Delete', () => confirmAction({
      title: `Delete request ${r.name}?`,
      text: r.status === 'Pending'
        ? 'The gateway destroys its private key: a certificate signed for this CSR can then never be used.'
        : 'The request record goes; the certificate made from it stays.',
      confirm: 'Delete request',
    }, async () => {
      const out = $('requests-feedback');
      try {
        await session.gateway.deleteRequest(session.account, r.id);
      } catch (error) {
        return fail(out, describe(error));
      }
      await loadRequests();
      succeed(out, `Deleted request ${r.name}; its key is destroyed.`);
      loadAudit(false);
    })));
    return row({ id: r.id }, [cell('Name', r.name), cell('Status', r.certificateId ? `${r.status} (certificate id ${r.certificateId})` : r.status),
      cell('Key', r.keyAlgorithm), cell('Subject', subjectText(r.subject)), cell('Created', formatDate(r.createdAt))], actions);
  });
  $('requests').querySelector('tbody').replaceChildren(...rows);
  $('requests-empty').hidden = requests.length > 0;
  keepSelection($('complete-request-id'), requests.filter((r) => r.status === 'Pending').map((r) => option(String(r.id), `${r.name} (id ${r.id})`)));
}

/** A request's subject (an object of generateCsr's fields) as `CN=..., O=...`. */
function subjectText(subject) {
  if (typeof subject !== 'object' || subject === null) return String(subject ?? '');
  const short = { commonName: 'CN', organization: 'O', organizationalUnit: 'OU', country: 'C', state: 'ST', locality: 'L', email: 'E' };
  return Object.entries(subject).filter(([, v]) => v).map(([k, v]) => `${short[k] ?? k}=${v}`).join(', ');
}

$('request-create-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  if (!form.reportValidity()) return;
  const out = $('request-create-feedback');
  const subject = { commonName: $('request-common-name').value.trim() };
  if ($('request-organization').value.trim()) subject.organization = $('request-organization').value.trim();
  if ($('request-country').value.trim()) subject.country = $('request-country').value.trim().toUpperCase();
  const request = { name: $('request-name').value.trim(), subject, keyType: $('request-key-type').value };
  const sans = list($('request-sans').value);
  if (sans.length) request.subjectAltNames = sans;
  busy(out, 'The gateway is making the key…');
  let made;
  try {
    made = await session.gateway.createRequest(session.account, request);
  } catch (error) {
    return fail(out, describe(error), $('request-name'));
  }
  form.reset();
  await loadRequests();
  succeed(out, `Created request ${made.name} (id ${made.id}), a ${made.keyAlgorithm} key held by the gateway. Download its CSR for your CA:`);
  out.append(download(`${made.name}.csr`, made.csrPem, 'application/pkcs10', `Download ${made.name}.csr`));
  loadAudit(false);
});

$('request-complete-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const out = $('request-complete-feedback');
  if (!form.reportValidity()) return;
  const file = $('complete-file').files[0];
  const certificatePem = file ? await file.text() : $('complete-pem').value.trim();
  if (!certificatePem) return fail(out, 'Choose the signed chain file or paste its PEM.', $('complete-file'));
  const id = $('complete-request-id').value;
  const replaceCertificateId = $('complete-replace-id').value ? Number($('complete-replace-id').value) : undefined;
  const ok = await change(out, () => session.gateway.completeRequest(session.account, id, { certificatePem, replaceCertificateId }),
    (answer) => saved(answer, (c) => (replaceCertificateId
      ? `Completed: ${c.name} (id ${c.id}) is now version ${c.version}.`
      : `Completed: certificate ${c.name} (id ${c.id}) is stored.`)));
  if (ok) {
    form.reset();
    await loadRequests();
  }
});

// === audit trail ===

/** Loads the newest page (`more` false) or the next older one. */
async function loadAudit(more) {
  if (!session) return;
  const out = $('audit-feedback');
  let page;
  try {
    page = await session.gateway.audit(session.account, { limit: AUDIT_PAGE, cursor: more ? auditCursor : undefined });
  } catch (error) {
    if (offer('audit-section', !isMissing(error))) fail(out, describe(error));
    return;
  }
  offer('audit-section', true);
  const entries = Array.isArray(page) ? page : (page?.records ?? page?.items ?? []);
  auditCursor = Array.isArray(page) ? null : (page?.nextCursor ?? page?.cursor ?? null);
  const rows = entries.map((e) => row({ id: e.id }, [
    cell('When', formatDate(e.at)), cell('Who', [e.actor?.subject, e.actor?.scheme && `(${e.actor.scheme})`].filter(Boolean).join(' ')),
    cell('Action', e.action),
    cell('Resource', [e.resource?.type, e.resource?.name, e.resource?.id != null && `id ${e.resource.id}`].filter(Boolean).join(' ')),
    cell('Request id', e.requestId, 'url'),
  ], null));
  const body = $('audit').querySelector('tbody');
  if (more) body.append(...rows);
  else body.replaceChildren(...rows);
  $('audit-empty').hidden = body.children.length > 0;
  $('audit-more').hidden = !auditCursor;
  out.replaceChildren();
}

$('audit-refresh').addEventListener('click', () => loadAudit(false));
$('audit-more').addEventListener('click', () => loadAudit(true));

// === certificate tools (the package's WebAssembly, on first use) ===

const sdkMessage = {
  idle: 'Not loaded yet: the tools load when you first use one.',
  loading: 'Loading the certificate tools…',
  ready: 'Certificate tools ready: files are checked in this browser.',
};
$('sdk-message').textContent = sdkMessage.idle;

function sdkState(state, error) {
  document.body.dataset.sdk = state;
  $('sdk-progress').hidden = state !== 'loading';
  $('sdk-message').className = state === 'failed' ? 'error' : '';
  $('sdk-message').textContent = state === 'failed'
    ? `The certificate tools could not load (${error?.message ?? error}). Everything else on this page still works; try again in a moment or reload.`
    : sdkMessage[state];
}

/** Loads the tools' `module` (showing progress), then runs `use(sdk)`; shows failures in `out`. */
async function withSdk(out, module, use) {
  let sdk;
  try {
    sdk = await loadSdk(module, sdkState);
  } catch (error) {
    return fail(out, `The certificate tools could not load: ${error?.message ?? error}.`);
  }
  try {
    await use(sdk);
  } catch (error) {
    fail(out, describe(error));
  }
}

$('tester-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const out = $('tester-report');
  out.replaceChildren(); // a stale verdict must never sit beside new input
  const file = $('tester-file').files[0];
  if (!file) return fail(out, 'Choose a P12 or PFX file first.', $('tester-file'));
  withSdk(out, 'inspector', async (sdk) => {
    const bytes = new Uint8Array(await file.arrayBuffer());
    let report;
    try {
      report = await sdk.inspectP12(bytes, $('tester-password').value);
    } catch (error) {
      // Only bad arguments throw; a bad file gives a report. Show it as a single problem.
      report = { usable: false, problems: [{ code: error.code ?? 'error', message: error.message }], warnings: [] };
    }
    out.replaceChildren(renderReport(report));
  });
});

$('csr-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.target;
  if (!form.reportValidity()) return;
  const out = $('csr-feedback');
  const subject = { commonName: $('csr-common-name').value.trim() };
  if ($('csr-organization').value.trim()) subject.organization = $('csr-organization').value.trim();
  const request = { subject, keyType: $('csr-key-type').value };
  const sans = list($('csr-sans').value);
  if (sans.length) request.subjectAltNames = sans;
  busy(out, 'Making the key…');
  withSdk(out, 'csr', async (sdk) => {
    const { csrPem, privateKeyPem } = await sdk.generateCsr(request);
    const base = subject.commonName.replace(/[^\w.-]+/g, '_');
    form.reset();
    succeed(out, 'Made a key and CSR in this browser. Keep the key safe (it was not sent anywhere) and send the CSR to your CA:');
    out.append(download(`${base}.key.pem`, privateKeyPem, 'application/x-pem-file', `Download the private key ${base}.key.pem`),
      download(`${base}.csr`, csrPem, 'application/pkcs10', `Download the CSR ${base}.csr`));
  });
});

$('build-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.target;
  if (!form.reportValidity()) return;
  const out = $('build-feedback');
  const keyFile = $('build-key').files[0];
  const chainFile = $('build-chain').files[0];
  const password = $('build-password').value;
  const profile = $('build-profile').value;
  busy(out, 'Building the P12…');
  withSdk(out, 'csr', async (sdk) => {
    const [privateKeyPem, certificatePem] = await Promise.all([keyFile.text(), chainFile.text()]);
    const p12 = await sdk.buildP12({ privateKeyPem, certificatePem, password, profile });
    const name = chainFile.name.replace(/\.[^.]*$/, '') || 'certificate';
    form.reset();
    succeed(out, `Built a ${profile} P12 in this browser. Upload it above with the password you chose:`);
    out.append(download(`${name}.p12`, p12, 'application/x-pkcs12', `Download ${name}.p12`));
  });
});

function renderReport(report) {
  const box = el('div', { className: 'report', dataset: { usable: String(report.usable) } });
  box.append(el('p', {
    className: `verdict ${report.usable ? 'usable' : 'unusable'}`,
    textContent: report.usable ? 'Usable: this file and password will work with the gateway.'
      : 'Not usable: see the problems below.',
  }));
  for (const [title, findings, kind] of [['Problems', report.problems, 'problem'], ['Warnings', report.warnings, 'warning']]) {
    if (!findings?.length) continue;
    box.append(el('p', { className: 'findings-title', textContent: title }));
    const items = el('ul');
    for (const finding of findings) {
      const item = el('li', { className: `finding ${kind}`, dataset: { code: finding.code } });
      item.append(el('code', { textContent: finding.code }), text(`: ${finding.message}`));
      items.append(item);
    }
    box.append(items);
  }
  const c = report.certificate;
  if (c) {
    box.append(facts([
      ['Subject', c.subject], ['Issuer', c.issuer], ['Serial number', c.serialNumber],
      ['Valid from', c.notBefore], ['Valid until', c.notAfter], ['SHA-256 fingerprint', c.fingerprintSha256],
      ['Key usage', c.keyUsage?.join(', ') || '(not restricted)'],
      ['Extended key usage', c.extendedKeyUsage?.join(', ') || '(not restricted)'],
      ['Subject alternative names', c.subjectAltNames?.join(', ') || '(none)'],
      ['Chain', report.chain?.map((cert) => cert.subject).join(' → ') || '(none)'],
    ]));
  }
  if (report.key) {
    const k = report.key;
    box.append(facts([['Key', `${k.algorithm}${k.bits == null ? '' : `, ${k.bits} bits`}${k.curve ? `, ${k.curve}` : ''}`]]));
  }
  if (report.container) {
    const p = report.container;
    box.append(facts([
      ['MAC', `${p.macAlgorithm}, ${p.macIterations} iterations`],
      ...(p.encryption ?? []).map((e) => [`Encryption (${e.bag})`, `${e.algorithm}, ${e.iterations} iterations`]),
    ]));
  }
  return box;
}

// === confirmation dialog ===

/** Asks before `action` runs, naming what it breaks; focus returns to the opener either way. */
function confirmAction({ title, text: body, items = [], confirm }, action) {
  const dialog = $('confirm');
  const opener = document.activeElement;
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = body;
  $('confirm-list').replaceChildren(...items.map((item) => el('li', { textContent: item })));
  $('confirm-list').hidden = items.length === 0;
  $('confirm-ok').textContent = confirm;
  const close = (confirmed) => {
    $('confirm-ok').onclick = null;
    $('confirm-cancel').onclick = null;
    dialog.onclose = null;
    if (dialog.open) dialog.close();
    if (opener?.isConnected) opener.focus();
    if (confirmed) action();
  };
  $('confirm-ok').onclick = () => close(true);
  $('confirm-cancel').onclick = () => close(false);
  dialog.onclose = () => close(false);
  dialog.showModal();
  $('confirm-cancel').focus();
}

// === feedback ===

let lastError = null;

/**
 * An error as the user needs it: the gateway's status, code and message, the mappings that
 * block a delete, and the request id to quote to support.
 */
function describe(error) {
  lastError = error;
  if (!(error instanceof MtlsError)) return `Error: ${error?.message ?? error}`;
  const users = error.details?.mappings;
  const blocking = Array.isArray(users) && users.length
    ? ` Used by: ${users.map((m) => `${m.name} (id ${m.id})`).join(', ')}; repoint them (Edit) or delete them first.` : '';
  const request = error.requestId ? ` (request ${error.requestId})` : '';
  return `${error.status || 'No answer'} ${error.code}: ${String(error.message).replace(/\.$/, '')}.${blocking}${request}`;
}

function busy(out, message) {
  out.replaceChildren(el('p', { className: 'busy', textContent: message }));
}

function succeed(out, message) {
  out.replaceChildren(el('p', { className: 'ok', textContent: message }));
}

/** Shows `message` as an error in `out` (announced at once) and moves focus to `field`. */
function fail(out, message, field) {
  out.replaceChildren(el('p', { className: 'error', role: 'alert', textContent: message }));
  field?.focus();
}

// === small DOM helpers ===

function el(tag, props = {}) {
  const node = document.createElement(tag);
  const { dataset, role, ...rest } = props;
  for (const [key, value] of Object.entries(rest)) if (value !== undefined) node[key] = value;
  if (role) node.setAttribute('role', role);
  Object.assign(node.dataset, dataset ?? {});
  return node;
}

const text = (value) => document.createTextNode(String(value ?? ''));
const option = (value, label) => el('option', { value, textContent: label });
const badge = (label, kind) => el('span', { className: `badge ${kind}`, textContent: label });
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const list = (value) => value.split(',').map((s) => s.trim()).filter(Boolean);

function cell(label, value, className) {
  return el('td', { className, textContent: String(value ?? ''), dataset: { label } });
}

function row(dataset, cells, actions) {
  const tr = el('tr', { dataset: Object.fromEntries(Object.entries(dataset).map(([k, v]) => [k, String(v)])) });
  tr.append(...cells);
  if (actions) {
    const td = el('td', { className: 'actions', dataset: { label: 'Actions' } });
    td.append(...actions);
    tr.append(td);
  }
  return tr;
}

function button(label, textContent, onClick) {
  const node = el('button', { type: 'button', textContent });
  node.setAttribute('aria-label', label);
  node.addEventListener('click', onClick);
  return node;
}

function facts(pairs) {
  const dl = el('dl');
  for (const [term, value] of pairs) dl.append(el('dt', { textContent: term }), el('dd', { textContent: String(value ?? '') }));
  return dl;
}

/** Replaces a select's options, keeping the chosen value when it is still offered. */
function keepSelection(select, options) {
  const before = select.value;
  select.replaceChildren(...options);
  if (options.some((o) => o.value === before)) select.value = before;
}

/** A download link for `content` made in this page (revoked on sign-out). */
function download(filename, content, type, label) {
  const url = URL.createObjectURL(new Blob([content], { type }));
  downloads.push(url);
  return el('a', { href: url, download: filename, textContent: label, className: 'download' });
}

function formatDate(value) {
  if (!value) return '';
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? String(value) : `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
