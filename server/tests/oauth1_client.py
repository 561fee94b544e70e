"""oAuth1 client for the integration tests: signs with requests-oauthlib (oauthlib), not with
the gateway's own signer, so the server is checked against an independent RFC 5849 implementation.

Input (stdin): JSON {"consumerKey", "consumerSecret", "token"?, "tokenSecret"?, "requests": [
  {"method", "url", "json"?, "form"?, "headers"?: {name: value}, "signatureMethod"?:
   "HMAC-SHA1"|"HMAC-SHA256", "replay"?: true, "bodyAfterSigning"?: str}],
   "caFile"?: path of the CA to trust for https}
Output (stdout): JSON list of {"status", "body", "wwwAuthenticate"} in order. With "replay", the
exact prepared request of the previous item is sent again (same nonce and timestamp). With
"bodyAfterSigning", the body is replaced after the signature was made (a tampered request).
"""
import json
import sys

import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256
from requests_oauthlib import OAuth1

spec = json.load(sys.stdin)
session = requests.Session()
if spec.get("caFile"):
    session.verify = spec["caFile"]
results = []
previous = None
for item in spec["requests"]:
    if item.get("replay"):
        prepared = previous
    else:
        method = SIGNATURE_HMAC_SHA256 if item.get("signatureMethod") == "HMAC-SHA256" else SIGNATURE_HMAC_SHA1
        auth = OAuth1(
            spec["consumerKey"],
            client_secret=spec["consumerSecret"],
            resource_owner_key=spec.get("token"),
            resource_owner_secret=spec.get("tokenSecret"),
            signature_method=method,
        )
        request = requests.Request(item["method"], item["url"], auth=auth, headers=item.get("headers", {}))
        if "json" in item:
            request.json = item["json"]
        if "form" in item:
            request.data = item["form"]
        prepared = session.prepare_request(request)
        if "bodyAfterSigning" in item:
            prepared.body = item["bodyAfterSigning"]
            prepared.headers["Content-Length"] = str(len(prepared.body.encode()))
    previous = prepared
    response = session.send(prepared, timeout=60)
    try:
        body = response.json()
    except ValueError:
        body = response.text
    results.append({
        "status": response.status_code,
        "body": body,
        "wwwAuthenticate": response.headers.get("WWW-Authenticate"),
    })
json.dump(results, sys.stdout)
