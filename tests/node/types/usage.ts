// Compiled (never run) by types.test.mjs with `tsc --strict`: the package's TypeScript types
// accept the SPEC section 10 signature and describe the report of SPEC section 2.
import { inspectP12 } from 'mtls-sdk';
import type { CertificateInfo, Finding, GatewayErrorCode, InspectP12Options, MtlsErrorCode, MtlsSdkError, P12Report } from 'mtls-sdk';

const bytes: Uint8Array = new Uint8Array([0x30]);
const options: InspectP12Options = { now: new Date(), maxIterations: 10_000 };
const report: P12Report = inspectP12(bytes, 'password', options);
const withoutOptions: P12Report = inspectP12(bytes, 'password');
const usable: boolean = report.usable && withoutOptions.usable;
const codes: string[] = report.problems.map((problem: Finding) => problem.code);
const leaf: CertificateInfo | null = report.certificate;
const notAfter: string | undefined = leaf?.notAfter;
const bits: number | null | undefined = report.key?.bits;
const iterations: number[] = report.container?.encryption.map((e) => e.iterations) ?? [];
try {
  inspectP12(bytes, 'password');
} catch (error) {
  if (error instanceof MtlsError) {
    const status: number = error.status;
    const code: string = error.code;
    // The gateway's codes (generated from the SDK's Rust definitions) complete and compare.
    const inUse: GatewayErrorCode = 'certificate_in_use';
    const known: boolean = error.code === inUse || error.code === 'network_error';
    const any: MtlsErrorCode = 'wasm_load_failed';
    void [status, code, known, any];
  }
  // The old name, kept as an alias of the one class.
  const old: MtlsSdkError = error as MtlsError;
  void old;
}
void [usable, codes, notAfter, bits, iterations];

// generateCsr and buildP12.
import { buildP12, generateCsr } from 'mtls-sdk';
import type { BuildP12Request, GenerateCsrRequest, GeneratedCsr } from 'mtls-sdk';

async function csrToP12(caResponsePem: string): Promise<Uint8Array> {
  const request: GenerateCsrRequest = {
    subject: { commonName: 'client.example', organization: 'Brand', country: 'US' },
    subjectAltNames: ['client.example', 'IP:192.0.2.1'],
    keyType: 'RSA-2048',
  };
  const generated: GeneratedCsr = await generateCsr(request);
  const csrPem: string = generated.csrPem;
  void csrPem;
  const build: BuildP12Request = {
    privateKeyPem: generated.privateKeyPem,
    certificatePem: caResponsePem,
    password: 'password',
    profile: 'legacy',
    friendlyName: 'brand',
  };
  return buildP12(build);
}
void csrToP12;

// MtlsClient and MtlsError (SPEC sections 10 and 12), from the main entry and from the client alone.
import mtls, { MtlsClient, MtlsError } from 'mtls-sdk';
import { MtlsClient as ClientAlone } from 'mtls-sdk/client';
import type { Certificate, CertificateRequest, ProbeResult, AuditPage, SaveCertificatesResult } from 'mtls-sdk';

async function lifecycle(token: string, file: Blob, pem: string): Promise<void> {
  const client = new MtlsClient({ baseUrl: 'https://gw.example', auth: { bearer: token }, retry: { maxRetries: 5, maxDelayMs: 2_000 } });
  const alone = new ClientAlone({ baseUrl: 'https://gw.example', auth: { oauth1: { consumerKey: 'k', consumerSecret: 's', signatureMethod: 'HMAC-SHA256' } }, retry: false });
  const expiring: Certificate[] = await client.listCertificates('acc', { expiringWithinDays: 30 });
  const soon: boolean = expiring.every((c) => c.expiringSoon && c.daysToExpiry < 30);
  await client.uploadCertificate('acc', { file, name: 'n', password: 'pw' });
  await client.replaceCertificateFile('acc', { file: new ArrayBuffer(1), id: 1, password: 'pw', activateAt: new Date() });
  await client.cancelPendingCertificate('acc', 1);
  const request: CertificateRequest = await alone.createCertificateRequest('acc', { name: 'r', subject: { commonName: 'c' }, keyType: 'P-384' });
  const saved: SaveCertificatesResult = await client.completeCertificateRequest('acc', request.id, { certificatePem: pem, replaceCertificateId: 1 });
  const probe: ProbeResult = await client.probe('acc', { url: 'https://t.example/' });
  const problem: string | undefined = probe.problem?.code;
  const page: AuditPage = await client.listAudit('acc', { limit: 10 });
  const next: string | undefined = page.nextCursor;
  const actions: string[] = page.records.map((r) => r.action);
  void actions;
  try {
    await mtls.MtlsClient.prototype.listServices.call(client);
  } catch (error) {
    if (error instanceof MtlsError) {
      const fields: [number, string, string | null, number | null] = [error.status, error.code, error.requestId, error.retryAfter];
      void fields;
    }
  }
  void [soon, saved, problem, next];
}
void lifecycle;

// Node: the WebAssembly modules load on the first call, synchronously; loadWasm / prefetchWasm
// exist for code shared with browsers.
import { loadWasm, prefetchWasm } from 'mtls-sdk';
import type { WasmModuleName } from 'mtls-sdk';
const moduleName: WasmModuleName = 'inspector';
prefetchWasm([moduleName, 'csr']);
const loaded: Promise<void> = loadWasm();
void loaded;
