// The npm package's certificate tools (inspectP12, generateCsr, buildP12), loaded on first use:
// the page never imports the WebAssembly at load, so sign-in, lists and forms work before it
// arrives and without it. `onState` hears 'loading', 'ready' or 'failed' (with the error).
//
// The package's browser entry instantiates its WebAssembly while it is imported, so importing it
// is the whole load; a failed import is retried on the next use (a network blip is not final).
const ENTRY = '/pkg/web/index.js';

let loading = null;

/** Resolves to the package's module, loading it once; rejects with the reason it could not. */
export function loadSdk(onState) {
  if (!loading) {
    onState('loading');
    loading = import(ENTRY).then(
      (module) => {
        onState('ready');
        return module;
      },
      (error) => {
        loading = null;
        onState('failed', error);
        throw error;
      },
    );
  }
  return loading;
}
