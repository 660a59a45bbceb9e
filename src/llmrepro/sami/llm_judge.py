"""Full scale: a pairwise judge behind an OpenAI-compatible chat-completions endpoint.

The API key is read from the environment variable that the params name (never from
params, files or the command line); it is sent only in the Authorization header and never
logged, written or put into an error message. As in the paper: temperature 0, a short
comparison then a final "A" or "B", the A/B order randomized, and an answer that names
neither counting one half.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np

SYSTEM = "You compare summaries of Reddit posts for how well they follow a set of summarization principles."
# Our wording; the official judge prompt asks the same question with the same answer format.
TEMPLATE = """Which summary of this Reddit post follows the summarization principles better?

POST
{post}

PRINCIPLES
{constitution}

SUMMARY A: {a}
SUMMARY B: {b}

Compare the two summaries step by step in at most 100 words. Then, on a new line, write
"Final Response: A" or "Final Response: B"."""


class JudgeError(RuntimeError):
    pass


def api_key(env: str) -> str:
    key = os.environ.get(env, "")
    if not key:
        raise JudgeError(f"the judge's API key is read from the environment variable {env}, which is unset or empty")
    return key


def parse(text: str) -> float:
    """1.0 if the judge prefers A, 0.0 for B, 0.5 if the answer names neither (or both)."""
    m = re.findall(r"final response\s*:\s*\**\s*\"?([AB])\b", text, flags=re.I)
    return {"A": 1.0, "B": 0.0}[m[-1].upper()] if m else 0.5


class Client:
    def __init__(self, cfg, opener=urllib.request.urlopen):
        self.cfg, self._opener = cfg, opener
        self._key = api_key(cfg.api_key_env)

    def __repr__(self) -> str:  # never show the key
        return f"Client({self.cfg.base_url!r}, model={self.cfg.model!r})"

    def complete(self, prompt: str) -> str:
        body = json.dumps({"model": self.cfg.model, "temperature": self.cfg.temperature,
                           "max_tokens": self.cfg.max_tokens,
                           "messages": [{"role": "system", "content": SYSTEM},
                                        {"role": "user", "content": prompt}]}).encode()
        req = urllib.request.Request(self.cfg.base_url.rstrip("/") + "/chat/completions", data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {self._key}"})
        try:
            with self._opener(req, timeout=self.cfg.timeout_s) as r:
                return json.loads(r.read())["choices"][0]["message"]["content"]
        except Exception as e:  # the request (and its header) stays out of the message
            raise JudgeError(f"judge request to {self.cfg.base_url} failed: {type(e).__name__}") from None


def compare(client: Client, posts: list[str], constitution: str, a: list[str], b: list[str],
            rng: np.random.Generator) -> np.ndarray:
    """Preference for a over b per post, each shown in a random order."""
    a_first = rng.random(len(posts)) < 0.5
    prompts = [TEMPLATE.format(post=p, constitution=constitution, a=x if f else y, b=y if f else x)
               for p, x, y, f in zip(posts, a, b, a_first)]
    with ThreadPoolExecutor(client.cfg.workers) as pool:
        first = np.array([parse(t) for t in pool.map(client.complete, prompts)])
    return np.where(a_first, first, 1.0 - first)
