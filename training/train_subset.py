#!/usr/bin/env python3
"""One point of the training curves (``npm run bench:training``, bench/training.ts).

Runs ``training/train.py`` unchanged on a deterministic subsample of the *training* source
lines: the split into train/val/test is the usual one (seed 13 by default, so validation and
test are exactly the shipped model's), then each label's train templates and its train-only
paraphrase-grammar lines (``training/data/paraphrases``) are cut to ``--fraction`` of
themselves (at least one line per label that has any). The cut is seeded and nested: each
label's lines are shuffled once with ``data.seeded(seed, "subsample", ...)`` and a prefix is
kept, so the 10% set is inside the 25% set, which is inside the 50% set.

Everything after the split (augmentation, pretraining text made of the train utterances,
vocabulary, fine-tuning, calibration, export) sees only the kept lines. Arguments after
``--`` go to train.py as they are.

    /usr/bin/python3 training/train_subset.py --fraction 0.25 --result /tmp/r.json -- \
        --out /tmp/m --run-dir /tmp/run --splits-out /tmp/run/splits --no-refit

``--result`` gets a JSON object: the fraction, kept/total line counts, wall seconds, the peak
resident set size of this process (the trainer) and of its largest child (the Node tokenizer
and parity check), and train.py's exit code.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data as D  # noqa: E402


def subsample(lines: list[str], fraction: float, seed: int, *key) -> list[str]:
    """A seeded, nested subsample of ``lines``: ``round(len * fraction)`` of them (at least one
    when there are any), in their original order. For the same key, a smaller fraction's result
    is a subset of a larger one's."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if fraction >= 1 or not lines:
        return list(lines)
    order = sorted(range(len(lines)), key=lambda i: (lines[i], i))
    D.seeded(seed, "subsample", *key).shuffle(order)
    keep = set(order[: max(1, round(len(lines) * fraction))])
    return [s for i, s in enumerate(lines) if i in keep]


def subsample_split(train: dict[str, list[str]], fraction: float, seed: int) -> dict[str, list[str]]:
    """The train part of ``data.split_lines``: each label cut on its own (stratified)."""
    return {label: subsample(ls, fraction, seed, "train", label) for label, ls in train.items()}


class Patch:
    """Installs the subsampling into ``data`` (which train.py calls) and counts what it kept."""

    def __init__(self, fraction: float, seed: int, data_dir: str):
        self.fraction, self.seed = fraction, seed
        self.para_dir = os.path.abspath(os.path.join(data_dir, "paraphrases"))
        self.counts = {"train_lines": 0, "train_lines_total": 0, "paraphrase_lines": 0, "paraphrase_lines_total": 0}
        self._para: dict[str, tuple[int, int]] = {}  # file -> (kept, total); a file read twice counts once
        self._split, self._read = D.split_lines, D.read_lines

    def split_lines(self, lines, seed, *a, **kw):
        spl = self._split(lines, seed, *a, **kw)
        total = sum(map(len, spl["train"].values()))
        spl["train"] = subsample_split(spl["train"], self.fraction, self.seed)
        self.counts["train_lines_total"] = total
        self.counts["train_lines"] = sum(map(len, spl["train"].values()))
        return spl

    def read_lines(self, path):
        ls = self._read(path)
        if os.path.dirname(os.path.abspath(path)) != self.para_dir:
            return ls  # corpus, intents, out_of_scope: read as they are
        kept = subsample(ls, self.fraction, self.seed, "paraphrase", os.path.basename(path))
        self._para[os.path.basename(path)] = (len(kept), len(ls))
        self.counts["paraphrase_lines"] = sum(k for k, _ in self._para.values())
        self.counts["paraphrase_lines_total"] = sum(t for _, t in self._para.values())
        return kept

    def __enter__(self):
        D.split_lines, D.read_lines = self.split_lines, self.read_lines
        return self

    def __exit__(self, *exc):
        D.split_lines, D.read_lines = self._split, self._read


def _train_arg(argv: list[str], name: str, default):
    for i, a in enumerate(argv):
        if a == name and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return default


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    train_argv = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fraction", type=float, required=True, help="share of each label's train lines to keep, (0, 1]")
    p.add_argument("--result", default=None, help="write the point's JSON summary here")
    args = p.parse_args(own)
    if not 0 < args.fraction <= 1:
        p.error("--fraction must be in (0, 1]")
    seed = int(_train_arg(train_argv, "--seed", 13))
    data_dir = _train_arg(train_argv, "--data", os.path.join(HERE, "data"))
    import train as T  # noqa: E402  (imports torch; after argument checks)

    t0 = time.time()
    with Patch(args.fraction, seed, data_dir) as patch:
        code = T.main(train_argv)
    wall = time.time() - t0
    own_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: KiB
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    res = {"fraction": args.fraction, "seed": seed, **patch.counts, "exit_code": int(code or 0),
           "train_seconds": round(wall, 1), "peak_rss_mb": round(own_kb / 1024, 1),
           "peak_rss_children_mb": round(child_kb / 1024, 1), "train_argv": train_argv}
    if args.result:
        with open(args.result, "w") as f:
            json.dump(res, f, indent=2)
    T.log(f"train_subset: {json.dumps(res)}")
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
