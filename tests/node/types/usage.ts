// Compiled (never run) by types.test.mjs with `tsc --strict`: the package's TypeScript types
// accept the SPEC section 10 signature and describe the report of SPEC section 2.
import { inspectP12 } from 'mtls-sdk';
import type { CertificateInfo, Finding, InspectP12Options, MtlsSdkError, P12Report } from 'mtls-sdk';

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
  const code: string = (error as MtlsSdkError).code;
  void code;
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
