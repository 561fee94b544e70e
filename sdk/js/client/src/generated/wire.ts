// Generated from sdk/src/wire.rs by `UPDATE_TYPESCRIPT=1 cargo test -p mtls-sdk --lib typescript`.
// Do not edit: change the Rust definitions and run that command.

/** The gateway's `LP-*` headers, lower case as the gateway declares them. */
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

/** The header carrying the id of a request, on every answer of the gateway. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** The realm of the gateway's `WWW-Authenticate` challenges: it tells a gateway 401 from a
 * target's 401 in a forwarded answer. */
export const GATEWAY_REALM = 'mtls-gateway';

/** Every code the gateway's error answers carry in `error.code`. */
export type GatewayErrorCode =
  | 'malformed_request'
  | 'invalid_account'
  | 'payload_too_large'
  | 'request_body_timeout'
  | 'not_found'
  | 'method_not_allowed'
  | 'unsupported_version'
  | 'too_many_items'
  | 'invalid_query_parameter'
  | 'invalid_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'too_many_requests'
  | 'invalid_mapping'
  | 'unknown_service'
  | 'invalid_url'
  | 'site_id_mismatch'
  | 'mapping_not_found'
  | 'duplicate_mapping_name'
  | 'duplicate_mapping_url'
  | 'stale_revision'
  | 'concurrent_update'
  | 'certificate_not_found'
  | 'p12_not_usable'
  | 'invalid_certificate'
  | 'duplicate_certificate_name'
  | 'certificate_in_use'
  | 'concurrent_change'
  | 'rotation_pending'
  | 'pending_version_not_found'
  | 'invalid_activate_at'
  | 'p12_iteration_budget_exceeded'
  | 'p12_inspections_busy'
  | 'certificate_request_not_found'
  | 'certificate_request_completed'
  | 'certificate_request_completing'
  | 'invalid_certificate_request'
  | 'invalid_certificate_pem'
  | 'key_certificate_mismatch'
  | 'invalid_certificate_chain'
  | 'invalid_subject'
  | 'invalid_subject_alt_name'
  | 'unsupported_key_type'
  | 'invalid_private_key'
  | 'passphrase_required'
  | 'wrong_passphrase'
  | 'unsupported_key_encryption'
  | 'random_failure'
  | 'internal_error'
  | 'target_not_allowed'
  | 'transport_error'
  | 'invalid_forward_url'
  | 'invalid_header'
  | 'invalid_method_override'
  | 'invalid_body'
  | 'app_key_not_found'
  | 'audit_unavailable'
  | 'invalid_cursor'
  | 'invalid_since'
  | 'invalid_limit'
  | 'conflict'
  | 'store_unavailable'
  | 'internal';

/** Codes a client gives errors of its own (`status` 0): the gateway never answers them. */
export const CLIENT_ERROR_CODES = {
  invalidArgument: 'invalid_argument',
  networkError: 'network_error',
  unexpectedResponse: 'unexpected_response',
} as const;

/** One of `CLIENT_ERROR_CODES`. */
export type ClientErrorCode =
  | 'invalid_argument'
  | 'network_error'
  | 'unexpected_response';
