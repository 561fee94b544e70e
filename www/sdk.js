// The npm package's certificate tools (inspectP12, generateCsr, buildP12), loaded on first use:
// the page never imports the WebAssembly at load, so sign-in, lists and forms work before it
// arrives and without it. `onState` hears 'loading', 'ready' or 'failed' (with the error).
//
// The package's browser entry downloads no WebAssembly when imported; `loadWasm(module)` fetches
// and instantiates one module ('inspector' for the tester, 'csr' for the key, CSR and P12
// builder), so the progress shown covers the whole download. A failed load is retried on the
// next use (a network blip is not final).
const ENTRY = '/pkg/web/index.js';

const loading = {};

/** Resolves to the package's entry once `module`'s WebAssembly is ready; rejects with the reason. */
export function loadSdk(module, onState) {
  if (!loading[module]) {
    onState('loading');
    loading[module] = import(ENTRY)
      .then(async (sdk) => {
        await sdk.loadWasm(module);
        onState('ready');
        return sdk;
      })
      .catch((error) => {
        delete loading[module];
        onState('failed', error);
        throw error;
      });
  }
  return loading[module];
}
