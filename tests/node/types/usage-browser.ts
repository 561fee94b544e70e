// Compiled (never run) by types.test.mjs with moduleResolution "bundler", as browser bundlers
// resolve the package: the browser entry's types, where each WebAssembly function returns a
// promise (its module is fetched on first use) and `File`/`Blob` are accepted as bytes.
import sdk, { buildP12, generateCsr, inspectP12, loadWasm, prefetchWasm } from 'mtls-sdk';
import type { P12Report, WasmModuleName } from 'mtls-sdk';

export async function page(file: File, certificatePem: string): Promise<number> {
  prefetchWasm();
  prefetchWasm(['inspector', 'csr']);
  const name: WasmModuleName = 'csr';
  await loadWasm(name);
  const report: P12Report = await inspectP12(file, 'password', { maxIterations: 10_000 });
  // @ts-expect-error the browser's inspectP12 is asynchronous
  const synchronous: P12Report = inspectP12(new Uint8Array([0x30]), 'password');
  // @ts-expect-error only "inspector" and "csr" exist
  await loadWasm('x509');
  const { privateKeyPem } = await generateCsr({ subject: { commonName: 'client.example' } });
  const p12: Uint8Array = await buildP12({ privateKeyPem, certificatePem, password: 'password' });
  const viaDefault: Promise<P12Report> = sdk.inspectP12('MA==', 'password');
  void [synchronous, viaDefault];
  return report.usable ? p12.length : 0;
}
