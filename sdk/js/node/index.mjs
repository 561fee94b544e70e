// Node entry of `mtls-sdk` for `import`: the CommonJS entry beside it, so `require` and `import`
// share one instance of each WebAssembly module and of the client (one `MtlsError` class for
// `instanceof`). Node finds the names through its CommonJS export detection.
export * from './index.cjs';
export { default } from './index.cjs';
