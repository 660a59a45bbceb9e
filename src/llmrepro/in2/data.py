"""IN2-lite: seeded synthetic long contexts, and VaL-lite probes on them.

A context is a sequence of N records `a b c`, three tokens from disjoint ranges
(A, B, C), each drawn without replacement so no key occurs twice (VaL drops
examples whose key repeats). Questions follow the context; training puts the loss
on answer tokens only.

Three probe styles mirror VaL probing. A question is a style token and a key; the
answer starts right after the key (no separator), so retrieval is the induction
pattern "find the key in the context, read its neighbour":
- forward (database probe): `Q_FWD a -> b`, the token after the key;
- backward (code probe): `Q_BWD c -> b`, the token before the key (a function's
  name precedes its body);
- bi-directional (document probe): `Q_BI b -> a c`, a fragment to the rest of its record.
IN2's integration items need two records: `Q_INT a_i a_j -> b_j b_i`.

Where the queried record sits is the whole experiment: `position_weights` gives
the "natural" distribution (most answers at the ends) or IN2's uniform one.

Stage 1 starts with dense copy warm-up rows (a random sequence, then a style token
and the same sequence or its reversal, loss on every copied token): they teach content-based
look-up in both directions far faster than sparse questions do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BOS, EOS, PAD = 1, 2, 3  # as factory.build configures them; 0 is unused
Q = {"forward": 4, "backward": 5, "bidirectional": 6, "integration": 7}
STYLES = ("forward", "backward", "bidirectional")
FIRST_KEY = 8
IGNORE = -100  # labels the loss skips
QUERY_LEN = {"forward": 3, "backward": 3, "bidirectional": 4, "integration": 5}  # prompt + answer tokens


@dataclass(frozen=True)
class Vocab:
    keys: int  # tokens per role (A, B, C)

    @property
    def size(self) -> int:
        return FIRST_KEY + 3 * self.keys

    def role(self, r: int) -> int:
        """First token id of role r (0 = A, 1 = B, 2 = C)."""
        return FIRST_KEY + r * self.keys

    def tokenizer(self, out_dir=None):
        """A word-level tokenizer with exactly these ids (`A0 B5 C17`, `<q_forward>`), saved
        with each checkpoint so it loads, and reads, like any other model."""
        from llmrepro.data.tokenizer import word_level

        words = [f"{r}{i}" for r in "ABC" for i in range(self.keys)]
        tok = word_level(words, out_dir, extra=[f"<q_{s}>" for s in Q])
        if tok.convert_tokens_to_ids(["<bos>", "<pad>", "<q_forward>", "A0", "C0"]) != [
                BOS, PAD, Q["forward"], self.role(0), self.role(2)]:
            raise RuntimeError("the word-level tokenizer's ids differ from the id layout of in2.data")
        return tok


def context(rng: np.random.Generator, vocab: Vocab, n: int) -> np.ndarray:
    """n records as an (n, 3) array of token ids; no token repeats within a role."""
    if n > vocab.keys:
        raise ValueError(f"{n} records need at least {n} keys per role, the vocabulary has {vocab.keys}")
    return np.stack([vocab.role(r) + rng.choice(vocab.keys, n, replace=False) for r in range(3)], axis=1)


def query(style: str, rec: np.ndarray, rec2: np.ndarray | None = None) -> tuple[list[int], list[int]]:
    """(prompt, answer) token lists for one question about record `rec` (and `rec2`)."""
    a, b, c = (int(x) for x in rec)
    if style == "forward":
        return [Q[style], a], [b]
    if style == "backward":
        return [Q[style], c], [b]
    if style == "bidirectional":
        return [Q[style], b], [a, c]
    if style == "integration":
        a2, b2 = int(rec2[0]), int(rec2[1])
        return [Q[style], a, a2], [b2, b]
    raise ValueError(f"unknown probe style {style!r}")


def position_weights(n: int, p_ends: float, ends: int) -> np.ndarray:
    """Where supervised answers sit among n records: with probability p_ends in the
    first or last `ends` records (uniformly), otherwise anywhere (uniformly).
    p_ends = 0 is IN2's uniform distribution."""
    w = np.full(n, (1.0 - p_ends) / n)
    k = min(ends, n // 2)
    if k and p_ends:
        slots = np.r_[np.arange(k), np.arange(n - k, n)]
        w[slots] += p_ends / len(slots)
    else:
        w += p_ends / n
    return w / w.sum()


@dataclass(frozen=True)
class Mix:
    """One training distribution: record counts, questions per context, probe styles,
    where answers sit, and the share of integration questions."""

    n_min: int
    n_max: int
    queries: int  # questions after each context, about distinct records
    p_ends: float = 0.0
    ends: int = 3
    integration: float = 0.0  # fraction of questions that are integration items
    styles: tuple[str, ...] = STYLES  # one-record styles, drawn uniformly

    @property
    def max_len(self) -> int:
        return 1 + 3 * self.n_max + self.queries * max(QUERY_LEN.values())


def sequence(rng: np.random.Generator, vocab: Vocab, n: int, mix: Mix) -> tuple[list[int], list[int], list[int]]:
    """One training row: ids, labels (answers only) and the queried record positions."""
    recs = context(rng, vocab, n)
    styles = [("integration" if rng.random() < mix.integration else mix.styles[rng.integers(len(mix.styles))])
              for _ in range(mix.queries)]
    need = sum(2 if s == "integration" else 1 for s in styles)
    w = position_weights(n, mix.p_ends, mix.ends)
    need = min(need, int((w > 0).sum()))
    pos = list(rng.choice(n, size=need, replace=False, p=w))
    ids = [BOS, *recs.ravel().tolist()]
    labels = [IGNORE] * len(ids)
    used = []
    for s in styles:
        if s == "integration" and len(pos) < 2:
            s = STYLES[0]  # too few records left for two: fall back to a one-record question
        if not pos:
            break
        i = pos.pop()
        j = pos.pop() if s == "integration" else None
        prompt, answer = query(s, recs[i], None if j is None else recs[j])
        ids += prompt + answer
        labels += [IGNORE] * len(prompt) + answer
        used += [i] if j is None else [i, j]
    return ids, labels, used


def pad(rows: list[tuple[list[int], list[int]]], length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad (ids, labels) rows to `length` (default: the longest row)."""
    length = length or max(len(x) for x, _ in rows)
    ids = np.full((len(rows), length), PAD, dtype=np.int64)
    labels = np.full((len(rows), length), IGNORE, dtype=np.int64)
    for r, (x, y) in enumerate(rows):
        if len(x) > length:
            raise ValueError(f"a row of {len(x)} tokens does not fit the padded length {length}")
        ids[r, :len(x)] = x
        labels[r, :len(y)] = y
    return ids, labels


def batch(rng: np.random.Generator, vocab: Vocab, ns: np.ndarray, mix: Mix, length: int) -> dict[str, np.ndarray]:
    """Rows with record counts `ns`, right-padded to `length`; also the relative
    positions of the supervised records, for auditing the arms' distributions."""
    rows, rel = [], []
    for n in ns:
        x, y, used = sequence(rng, vocab, int(n), mix)
        rows.append((x, y))
        rel += [(i + 0.5) / n for i in used]
    ids, labels = pad(rows, length)
    return {"input_ids": ids, "labels": labels, "rel_pos": np.asarray(rel)}


def budget_batch(rng: np.random.Generator, vocab: Vocab, mix: Mix, budget: int, max_rows: int) -> dict:
    """Rows drawn (record counts uniform in [mix.n_min, mix.n_max]) until the next one
    would take the step past `budget` tokens: every arm gets the same tokens per step
    whatever its context lengths (shorter contexts buy more rows)."""
    rows, rel, tokens = [], [], 0
    while len(rows) < max_rows:
        n = int(rng.integers(mix.n_min, mix.n_max + 1))
        x, y, used = sequence(rng, vocab, n, mix)
        if tokens + len(x) > budget:
            break
        rows.append((x, y))
        rel += [(i + 0.5) / n for i in used]
        tokens += len(x)
    if not rows:
        raise ValueError(f"a budget of {budget} tokens per step does not fit one row of up to {mix.max_len}")
    ids, labels = pad(rows)
    return {"input_ids": ids, "labels": labels, "rel_pos": np.asarray(rel), "tokens": tokens}


@dataclass
class ProbeSet:
    """Held-out VaL-lite probes: `per_position` contexts of n records for every record
    position, one question each. All rows have the same length, so no padding."""

    style: str
    n: int
    ids: np.ndarray  # (M, L) prompt: BOS, context, question
    answers: np.ndarray  # (M, k) gold answer tokens
    position: np.ndarray  # (M,) queried record index


def probe_set(rng: np.random.Generator, vocab: Vocab, style: str, n: int, per_position: int) -> ProbeSet:
    ids, ans, pos = [], [], []
    for i in range(n):
        for _ in range(per_position):
            recs = context(rng, vocab, n)
            prompt, answer = query(style, recs[i])
            ids.append([BOS, *recs.ravel().tolist(), *prompt])
            ans.append(answer)
            pos.append(i)
    return ProbeSet(style, n, np.asarray(ids, dtype=np.int64), np.asarray(ans, dtype=np.int64),
                    np.asarray(pos, dtype=np.int64))


def integration_set(rng: np.random.Generator, vocab: Vocab, n: int, count: int) -> ProbeSet:
    """Held-out integration questions about two records at uniformly random positions
    (`position` is the first record's)."""
    ids, ans, pos = [], [], []
    for _ in range(count):
        recs = context(rng, vocab, n)
        i, j = rng.choice(n, 2, replace=False)
        prompt, answer = query("integration", recs[i], recs[j])
        ids.append([BOS, *recs.ravel().tolist(), *prompt])
        ans.append(answer)
        pos.append(i)
    return ProbeSet("integration", n, np.asarray(ids, dtype=np.int64), np.asarray(ans, dtype=np.int64),
                    np.asarray(pos, dtype=np.int64))


def score(style: str, pred: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Per-example score with VaL's metric for the style: exact match for the
    single-token forward and backward answers; word-set recall of the gold record
    for the bi-directional one (VaL's document metric); both tokens, in order, for
    an integration answer."""
    pred, gold = np.atleast_2d(pred), np.atleast_2d(gold)
    if style == "integration":
        return (pred == gold).all(axis=1).astype(float)
    if style == "bidirectional":
        return np.array([len(set(g.tolist()) & set(p.tolist())) / len(set(g.tolist())) for p, g in zip(pred, gold)])
    return (pred[:, 0] == gold[:, 0]).astype(float)


def buckets(position: np.ndarray, n: int, n_buckets: int) -> np.ndarray:
    """Bucket of each record position: n records split into n_buckets equal spans
    of relative position (VaL: spans of 50 of 800 documents)."""
    return (np.asarray(position) * n_buckets) // n


def copy_batch(rng: np.random.Generator, vocab: Vocab, rows: int, len_min: int, len_max: int,
               length: int) -> dict[str, np.ndarray]:
    """Copy warm-up rows: BOS, a random key sequence of random length, then Q_FWD and
    the same sequence, or Q_BWD and its reversal; loss on every copied token. Random
    lengths keep a fixed-offset shortcut from solving it."""
    out = []
    for _ in range(rows):
        k = int(rng.integers(len_min, len_max + 1))
        seq = (FIRST_KEY + rng.choice(3 * vocab.keys, k, replace=False)).tolist()
        fwd = rng.random() < 0.5
        copy = seq if fwd else seq[::-1]
        out.append(([BOS, *seq, Q["forward" if fwd else "backward"], *copy], [IGNORE] * (k + 2) + copy))
    ids, labels = pad(out, length)
    return {"input_ids": ids, "labels": labels}
