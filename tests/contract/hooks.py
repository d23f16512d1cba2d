"""schemathesis hooks of tests/test_api_contract.py (SCHEMATHESIS_HOOKS).

* one more check: every error answer is JSON ``{"message": ...}`` whose
  messages are Chinese (the run sends no Accept-Language);
* nothing is filtered out: huge record ids answer 404 and malformed ``q``
  texts (lone surrogates, exponents, deep nesting) 400 (core/web/inputs.py).
"""

from __future__ import annotations

import json
import re

import schemathesis
from schemathesis.core.failures import Failure

CJK = re.compile(r"[\u4e00-\u9fff]")


def _texts(message):
    if isinstance(message, dict):
        return [t for v in message.values() for t in _texts(v)]
    if isinstance(message, list):
        return [t for v in message for t in _texts(v)]
    return [str(message)]


@schemathesis.check
def chinese_json_errors(ctx, response, case):
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise Failure(operation=case.operation.label, title="Error answer is not JSON",
                      message=f"{response.status_code}: {response.content[:200]!r}") from None
    if not isinstance(body, dict) or "message" not in body:
        raise Failure(operation=case.operation.label, title="Error answer has no message",
                      message=f"{response.status_code}: {str(body)[:200]}")
    english = [t for t in _texts(body["message"]) if not CJK.search(t)]
    if english:
        raise Failure(operation=case.operation.label, title="Error message is not Chinese",
                      message=f"{response.status_code}: {english[:3]}")
    return None
