#!/usr/bin/env python3
"""Re-run a published Choucha draw from its public record alone (issue 18, part 5).

An independent implementation of the algorithm `choucha-draw-v1` (crates/domain/src/draw.rs),
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


def generator(seed, chash):
    return ChaCha20(hashlib.sha256(f"{ALGORITHM}\n{seed}\n{chash}".encode("utf-8")).digest())


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


def run(seed, candidates, quota, stratified, samplers, team_size):
    """candidates: [(uscc, division)]; samplers: [(id, set of USCCs avoided)]."""
    cands = sorted({c[0]: c for c in candidates}.values())
    pool = sorted({s[0]: s for s in samplers}.values())
    chash = candidate_hash([c[0] for c in cands])
    rng = generator(seed, chash)
    if stratified:
        strata = {}
        for c in cands:
            strata.setdefault(c[1], []).append(c)
        alloc = allocate({k: len(v) for k, v in strata.items()}, quota)
        chosen = []
        for k in sorted(strata):
            chosen.extend(choose(rng, strata[k], alloc.get(k, 0)))
    else:
        chosen = choose(rng, cands, quota)
    drawn = []
    for uscc, division in chosen:
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
        if rec.get("algorithm") != ALGORITHM:
            print(f"不支持的算法版本：{rec.get('algorithm')}", file=sys.stderr)
            return 2
        candidates = [(c["uscc"], c["division_code"]) for c in rec["candidates"]]
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
        chash, drawn = run(seed, candidates, quota, stratified, samplers, team_size)
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
