"""Schemathesis hooks for the gateway's contract test (server/tests/openapi_contract.rs).

Loaded with SCHEMATHESIS_HOOKS. Each operation gets the credential its SPEC section 4 row asks
for, so generated requests reach the handlers instead of stopping at authentication:

- /admin/*: the admin token (MTLS_ST_ADMIN_TOKEN);
- the check-mapping endpoints (oAuth1 only): an app key signed per request by requests-oauthlib
  (a stock RFC 5849 client) over the final URL and query, as a real caller would;
- everything else: a Bearer token (MTLS_ST_BEARER) for all accounts (`["*"]`).

Schemathesis still runs its `ignored_auth` check, which strips these credentials and expects 401.
"""

import os

import schemathesis
from requests_oauthlib import OAuth1

OAUTH1_ONLY = ("/mtls/mapping", "/checks/serviceUrlMappings")


class TextOAuth1(OAuth1):
    """requests-oauthlib's signer; it leaves bytes header values, which schemathesis's reports
    cannot serialise, so they become text."""

    def __call__(self, request):
        request = super().__call__(request)
        for name, value in list(request.headers.items()):
            if isinstance(value, bytes):
                request.headers[name] = value.decode()
        return request


@schemathesis.auth(refresh_interval=None)
class GatewayAuth:
    def get(self, case, ctx):
        path = case.path
        if path.startswith("/admin/"):
            return ("header", "Bearer " + os.environ["MTLS_ST_ADMIN_TOKEN"])
        if path.endswith(OAUTH1_ONLY):
            return ("oauth1", None)
        return ("header", "Bearer " + os.environ["MTLS_ST_BEARER"])

    def set(self, case, data, ctx):
        kind, value = data
        if kind == "oauth1":
            auth = TextOAuth1(
                os.environ["MTLS_ST_CONSUMER_KEY"],
                client_secret=os.environ["MTLS_ST_CONSUMER_SECRET"],
                resource_owner_key=os.environ["MTLS_ST_TOKEN"],
                resource_owner_secret=os.environ["MTLS_ST_TOKEN_SECRET"],
            )
            # requests signs the prepared request: method, final URL and query (RFC 5849 3.4.1).
            object.__setattr__(case, "_auth", auth)
        else:
            case.headers = case.headers or {}
            case.headers["Authorization"] = value
