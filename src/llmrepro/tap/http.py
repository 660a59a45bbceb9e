"""An OpenAI-compatible chat endpoint behind the chat interface (full scale: a local vLLM
server, or a remote service).

The API key is read from the environment variable the params name, at request time. It
is never stored on the object, never put in a message, a log line, an exception or
provenance: `describe()` is what a stage may record.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Sequence

log = logging.getLogger(__name__)


class EndpointError(RuntimeError):
    pass


class OpenAIChat:
    def __init__(self, endpoint, temperature: float = 0.0, top_p: float = 1.0, max_new_tokens: int = 150,
                 retries: int = 3):
        self.base_url = endpoint.base_url.rstrip("/")
        self.model = endpoint.model
        self.key_env = endpoint.api_key_env
        self.timeout = endpoint.timeout_s
        self.temperature, self.top_p, self.max_new_tokens = temperature, top_p, max_new_tokens
        self.retries = retries
        self.requests = 0

    def describe(self) -> dict:
        """What provenance may hold: where and what, and whether a key was set (never the key)."""
        return {"base_url": self.base_url, "model": self.model, "api_key_env": self.key_env,
                "api_key_set": bool(os.environ.get(self.key_env)), "temperature": self.temperature,
                "top_p": self.top_p, "max_new_tokens": self.max_new_tokens}

    def __repr__(self) -> str:
        return f"OpenAIChat({self.base_url!r}, model={self.model!r})"

    def _post(self, body: dict) -> dict:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.key_env)
        if key:
            headers["Authorization"] = "Bearer " + key
        req = urllib.request.Request(self.base_url + "/chat/completions", data=json.dumps(body).encode(),
                                     headers=headers, method="POST")
        last = ""
        for attempt in range(self.retries):
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as r:
                    self.requests += 1
                    return json.loads(r.read().decode())
            except urllib.error.HTTPError as e:
                last = f"HTTP {e.code}"  # the body may echo request headers: never show it
                if e.code < 500 and e.code != 429:
                    break
            except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as e:
                last = type(e).__name__
            log.warning("endpoint %s: attempt %d failed (%s)", self.base_url, attempt + 1, last)
            time.sleep(min(30, 2 ** attempt))
        raise EndpointError(f"{self.base_url}/chat/completions ({self.model}) failed: {last}")

    def chat(self, convs: list[list[dict]], stops=None, seeds: Sequence[int] | None = None) -> list[str]:
        """One request per conversation. `seeds` are not sent: they identify a run, and sibling
        branches of one run must be free to differ."""
        out = []
        for conv in convs:
            body = {"model": self.model, "messages": conv, "temperature": self.temperature, "top_p": self.top_p,
                    "max_tokens": self.max_new_tokens}
            resp = self._post(body)
            try:
                out.append(resp["choices"][0]["message"]["content"] or "")
            except (KeyError, IndexError, TypeError):
                raise EndpointError(f"{self.base_url}: reply without choices[0].message.content") from None
        return out
