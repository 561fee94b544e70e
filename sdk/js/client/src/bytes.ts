// Bytes as callers have them: a `Uint8Array` (a Node `Buffer` is one), any other typed array or
// `DataView`, an `ArrayBuffer`, a browser `Blob` or `File`, or a base64 string.
import { invalidArgument } from './error.js';

/** A file or other binary input. A string is base64 (standard alphabet, padding optional). */
export type BytesInput = Uint8Array | ArrayBuffer | ArrayBufferView | Blob | string;

const EXPECTED = 'a Uint8Array, Buffer, ArrayBuffer, Blob/File or base64 string';

/** The bytes of `value`; async because a `Blob` is read asynchronously. */
export async function toBytes(value: unknown, argument: string): Promise<Uint8Array> {
  if (isBlob(value)) return new Uint8Array(await value.arrayBuffer());
  return toBytesSync(value, argument);
}

/** The bytes of anything but a `Blob`, synchronously (Node's synchronous paths use this). */
export function toBytesSync(value: unknown, argument: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string') return fromBase64(value, argument);
  throw invalidArgument(argument, EXPECTED);
}

/** `value` as a `Blob` for a multipart part (a `Blob` or `File` is sent as it is). */
export function toBlob(value: unknown, argument: string, type: string): Blob {
  if (isBlob(value)) return value;
  return new Blob([toBytesSync(value, argument) as Uint8Array<ArrayBuffer>], { type });
}

export function isBlob(value: unknown): value is Blob {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}

/** Standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  // Chunks keep `fromCharCode`'s argument list short on large files.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Decodes base64 (whitespace ignored); anything else is an `invalid_argument`. */
export function fromBase64(text: string, argument: string): Uint8Array {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw invalidArgument(argument, `${EXPECTED} (the string is not base64)`);
  }
  const binary = atob(compact.padEnd(Math.ceil(compact.length / 4) * 4, '='));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
