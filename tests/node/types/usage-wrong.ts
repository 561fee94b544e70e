// Must NOT compile: types.test.mjs checks that tsc rejects each marked line, so the types are
// not `any` in disguise.
import { inspectP12 } from 'mtls-sdk';

inspectP12(new Blob([]), 'password'); // expect-error: Node's synchronous inspectP12 cannot read a Blob
inspectP12(new Uint8Array(), 42); // expect-error: number is not a string
inspectP12(new Uint8Array(), 'pw', { now: 'today' }); // expect-error: string is not a Date
const usable: string = inspectP12(new Uint8Array(), 'pw').usable; // expect-error: boolean
void usable;
import type { GatewayErrorCode } from 'mtls-sdk';
const notACode: GatewayErrorCode = 'certificate_used'; // expect-error: not one of the gateway's codes
void notACode;
import { buildP12, generateCsr } from 'mtls-sdk';
void generateCsr({ subject: { commonName: 'a' }, keyType: 'RSA-1024' }); // expect-error: not a key type
void generateCsr({ subject: { organization: 'no common name' } }); // expect-error: commonName missing
const pem: string = generateCsr({ subject: { commonName: 'a' } }); // expect-error: a Promise
buildP12({ privateKeyPem: 'k', certificatePem: 'c', password: 'p', profile: 'rc2' }); // expect-error: profile
void pem;
import { MtlsClient } from 'mtls-sdk';
const client = new MtlsClient({ baseUrl: 'https://gw.example', auth: { bearer: 't' } });
void client.createCertificateRequest('acc', { name: 'r', subject: { commonName: 'c' }, keyType: 'rsa2048' }); // expect-error: not a key type
void client.uploadCertificate('acc', { file: 42, name: 'n', password: 'pw' }); // expect-error: a number is not bytes
void new MtlsClient({ baseUrl: 'https://gw.example', auth: { token: 't' } }); // expect-error: neither bearer nor oauth1
void client.forward('acc', { url: 'https://t.example/', method: 'TRACE' }); // expect-error: not a forward method
client.free(); // expect-error: nothing to free
