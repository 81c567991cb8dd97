#!/usr/bin/env python3
"""Re-run a published Choucha draw from its public record alone (issue 18, parts 4 and 5).

An independent implementation of the algorithms `choucha-draw-v1` (uniform) and
`choucha-draw-risk-v1` (weighted by risk class) (crates/domain/src/draw.rs and draw/risk.rs),
written from its description in docs/DRAW.md, in plain Python 3 with nothing but the standard
library (ChaCha20 included), so that anyone can check a draw without trusting Choucha's code:

    python3 draw_reference.py record.json

`record.json` is the file the public draw page links to (/public/draws/{id}/record.json). The
script checks the candidate list's hash, the seed commitment (when the record has one), re-runs the
draw and compares every drawn enterprise and team with the published result. Exit status: 0 when
everything matches, 1 when something differs, 2 when the file cannot be read.
"""

import hashlib
import json
import sys

ALGORITHM = "choucha-draw-v1"
RISK_ALGORITHM = "choucha-draw-risk-v1"
RISK_CLASSES = ["A", "B", "C", "D"]
MASK32 = 0xFFFFFFFF


def _rotl(v, c):
    return ((v << c) & MASK32) | (v >> (32 - c))


def _quarter(x, a, b, c, d):
    x[a] = (x[a] + x[b]) & MASK32
    x[d] = _rotl(x[d] ^ x[a], 16)
    x[c] = (x[c] + x[d]) & MASK32
    x[b] = _rotl(x[b] ^ x[c], 12)
    x[a] = (x[a] + x[b]) & MASK32
    x[d] = _rotl(x[d] ^ x[a], 8)
    x[c] = (x[c] + x[d]) & MASK32
    x[b] = _rotl(x[b] ^ x[c], 7)


class ChaCha20:
    """The ChaCha20 keystream (20 rounds, 64-bit block counter from 0, stream 0), read as
    little-endian 64-bit words: the generator `rand_chacha::ChaCha20Rng` with `next_u64`."""

    def __init__(self, key):
        assert len(key) == 32
        self.key = [int.from_bytes(key[i:i + 4], "little") for i in range(0, 32, 4)]
        self.counter = 0
        self.words = []

    def _block(self):
        state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574] + self.key + [
            self.counter & MASK32, (self.counter >> 32) & MASK32, 0, 0]
        x = list(state)
        for _ in range(10):
            _quarter(x, 0, 4, 8, 12)
            _quarter(x, 1, 5, 9, 13)
            _quarter(x, 2, 6, 10, 14)
            _quarter(x, 3, 7, 11, 15)
            _quarter(x, 0, 5, 10, 15)
            _quarter(x, 1, 6, 11, 12)
            _quarter(x, 2, 7, 8, 13)
            _quarter(x, 3, 4, 9, 14)
        self.counter += 1
        self.words.extend((x[i] + state[i]) & MASK32 for i in range(16))

    def next_u64(self):
        if len(self.words) < 2:
            self._block()
        lo, hi = self.words[0], self.words[1]
        del self.words[:2]
        return (hi << 32) | lo


def candidate_hash(usccs):
    h = hashlib.sha256()
    for u in usccs:
        h.update(u.encode("utf-8") + b"\n")
    return h.hexdigest()


def risk_candidate_hash(cands):
    h = hashlib.sha256()
    for uscc, _division, klass in cands:
        h.update(f"{uscc}\t{klass}\n".encode("utf-8"))
    return h.hexdigest()


def generator(algorithm, seed, chash):
    return ChaCha20(hashlib.sha256(f"{algorithm}\n{seed}\n{chash}".encode("utf-8")).digest())


def uniform(rng, n):
    zone = ((2**64 - 1) // n) * n
    while True:
        r = rng.next_u64()
        if r < zone:
            return r % n


def choose(rng, items, k):
    v = list(items)
    k = min(k, len(v))
    for i in range(k):
        j = i + uniform(rng, len(v) - i)
        v[i], v[j] = v[j], v[i]
    return v[:k]


def allocate(sizes, quota):
    """Places per stratum: proportional, largest remainder, ties to the lower division code."""
    total = sum(sizes.values())
    if total == 0:
        return {}
    quota = min(quota, total)
    out, rema, given = {}, [], 0
    for k in sorted(sizes):
        exact = quota * sizes[k]
        out[k] = exact // total
        given += exact // total
        rema.append((exact % total, k))
    rema.sort(key=lambda r: -r[0])  # stable: lower codes first among equal remainders
    for _, k in rema:
        if given >= quota:
            break
        if out[k] < sizes[k]:
            out[k] += 1
            given += 1
    return out


def allocate_weighted(sizes, weights, quota):
    """Places per risk class in proportion to size x weight, capped at the class's size: a class
    that its share fills gets its size and leaves, and the rest is shared again; then the largest
    remainders, ties to the lower class (A first)."""
    out = {}
    open_ = [(k, sizes[k], weights.get(k, 0)) for k in RISK_CLASSES if sizes.get(k, 0) > 0 and weights.get(k, 0) > 0]
    places = min(quota, sum(n for _, n, _ in open_))
    while True:
        total = sum(n * w for _, n, w in open_)
        if not open_ or total == 0:
            return out
        full = [o for o in open_ if places * o[1] * o[2] // total >= o[1]]
        if full:
            for k, n, _ in full:
                out[k] = n
                places -= n
            open_ = [o for o in open_ if o not in full]
            continue
        rema, given = [], 0
        for k, n, w in open_:
            exact = places * n * w
            out[k] = exact // total
            given += exact // total
            rema.append((exact % total, k))
        rema.sort(key=lambda r: -r[0])  # stable: lower classes first among equal remainders
        for _, k in rema[:places - given]:
            out[k] += 1
        return out


def draw_from(rng, members, k, stratified):
    if not stratified:
        return choose(rng, members, k)
    strata = {}
    for c in members:
        strata.setdefault(c[1], []).append(c)
    alloc = allocate({key: len(v) for key, v in strata.items()}, k)
    chosen = []
    for key in sorted(strata):
        chosen.extend(choose(rng, strata[key], alloc.get(key, 0)))
    return chosen


def run(seed, candidates, quota, stratified, samplers, team_size, weights=None):
    """candidates: [(uscc, division, risk class or None)]; samplers: [(id, set of USCCs avoided)];
    weights: {class: weight} for a risk-weighted draw, else None."""
    cands = sorted({c[0]: c for c in candidates}.values())
    pool = sorted({s[0]: s for s in samplers}.values())
    if weights is None:
        chash = candidate_hash([c[0] for c in cands])
        rng = generator(ALGORITHM, seed, chash)
        chosen = draw_from(rng, cands, quota, stratified)
    else:
        if any(c[2] not in RISK_CLASSES for c in cands):
            raise ValueError("按风险等级抽取时每个候选企业都须有风险等级（A、B、C、D）")
        if any(k not in RISK_CLASSES or not 0 <= w <= 1000 for k, w in weights.items()) or not any(weights.values()):
            raise ValueError("风险等级权重须在0至1000之间，且至少一个大于0")
        chash = risk_candidate_hash(cands)
        rng = generator(RISK_ALGORITHM, seed, chash)
        classes = {}
        for c in cands:
            classes.setdefault(c[2], []).append(c)
        alloc = allocate_weighted({k: len(v) for k, v in classes.items()}, weights, quota)
        chosen = []
        for k in RISK_CLASSES:
            if k in classes:
                chosen.extend(draw_from(rng, classes[k], alloc.get(k, 0), stratified))
        if not chosen:
            raise ValueError("权重大于0的风险等级中没有候选企业")
    drawn = []
    for uscc, division, _klass in chosen:
        eligible = [s for s in pool if uscc not in s[1]]
        if len(eligible) < team_size:
            raise ValueError(f"企业{uscc}回避后可选派的抽样人员不足{team_size}人")
        team = [s[0] for s in choose(rng, eligible, team_size)]
        drawn.append({"uscc": uscc, "division_code": division, "team": team})
    return chash, drawn


def main(argv):
    if len(argv) != 2:
        print("用法：python3 draw_reference.py record.json", file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            rec = json.load(f)
        if rec.get("algorithm") not in (ALGORITHM, RISK_ALGORITHM):
            print(f"不支持的算法版本：{rec.get('algorithm')}", file=sys.stderr)
            return 2
        weights = None
        if rec["algorithm"] == RISK_ALGORITHM:
            weights = {k: int(w) for k, w in rec["risk_weights"].items()}
            print("风险等级权重：" + "，".join(f"{k}类 {weights.get(k, 0)}" for k in RISK_CLASSES))
        candidates = [(c["uscc"], c["division_code"], c.get("risk_class")) for c in rec["candidates"]]
        samplers = [(s["id"], set(s.get("conflicts", []))) for s in rec["samplers"]]
        seed, quota = rec["seed"], int(rec["quota"])
        stratified, team_size = bool(rec["stratified"]), int(rec["team_size"])
        published = rec["result"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"无法读取抽取记录：{e}", file=sys.stderr)
        return 2
    ok = True
    commitment = rec.get("seed_commitment")
    if commitment:
        digest = hashlib.sha256(seed.encode("utf-8")).hexdigest()
        if digest != commitment.get("seed_sha256"):
            print(f"种子承诺不符：种子的 SHA-256 为 {digest}，事先公示的是 {commitment.get('seed_sha256')}")
            ok = False
        else:
            print(f"种子承诺相符：种子的 SHA-256 与 {commitment.get('committed_at')} 公示的一致")
    try:
        chash, drawn = run(seed, candidates, quota, stratified, samplers, team_size, weights)
    except ValueError as e:
        print(f"重新抽取失败：{e}")
        return 1
    if chash != rec.get("candidate_hash"):
        print(f"候选名单哈希不符：按名单计算为 {chash}，记录为 {rec.get('candidate_hash')}")
        ok = False
    for i, d in enumerate(drawn, 1):
        print(f"{i}. {d['uscc']}（{d['division_code']}） 抽样组：{'、'.join(d['team'])}")
    if drawn != published:
        print("复核不一致：重新抽取的结果与公布的结果不同")
        ok = False
    if ok:
        print(f"复核一致：{len(candidates)}家候选企业，抽取{len(drawn)}家，与公布的结果完全相同")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
