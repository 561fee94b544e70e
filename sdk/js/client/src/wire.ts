// The gateway's wire names the client depends on. tests/node/client-wire.test.mjs checks them
// against the server's own constants, so a rename on either side fails a test, not a user.

/** `LP-*` headers (SPEC section 6), lower case as the gateway declares them. */
export const LP_HEADERS = {
  forwardUrl: 'lp-forward-url',
  serviceName: 'lp-service-name',
  authorizationOverride: 'lp-authorization-override',
  contentTypeOverride: 'lp-content-type-override',
  methodOverride: 'lp-method-override',
  stopIfCertificateNotFound: 'lp-stop-if-certificate-not-found',
  certificateId: 'lp-certificate-id',
  errorFromTransport: 'lp-error-from-transport',
  messageFromTransport: 'lp-message-from-transport',
} as const;

/** The realm of the gateway's `WWW-Authenticate` challenges: it tells a gateway 401 from a
 * target's 401 in a forwarded answer. */
export const GATEWAY_REALM = 'mtls-gateway';

/** Codes the client itself gives an `MtlsError` (`status` 0); the server never uses them. */
export const CLIENT_ERROR_CODES = {
  /** An argument has the wrong type or an unknown value; the message names the allowed ones. */
  invalidArgument: 'invalid_argument',
  /** The gateway did not answer (connection refused, DNS, TLS, aborted). */
  networkError: 'network_error',
  /** The gateway answered 2xx with a body that is not the JSON the endpoint defines. */
  unexpectedResponse: 'unexpected_response',
} as const;
