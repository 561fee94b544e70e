// Node CommonJS entry of `mtls-sdk` (`require('mtls-sdk')`): the WebAssembly functions and the
// API client (which needs no WebAssembly) in one object, also as `default`.
'use strict';
module.exports = { ...require('./mtls_sdk.js'), ...require('../client/cjs/index.js') };
module.exports.default = module.exports;
