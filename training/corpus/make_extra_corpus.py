#!/usr/bin/env python3
"""Extra English pretraining text from WordNet 3.0 (Debian package ``wordnet-base``).

    apt-get install wordnet-base
    /usr/bin/python3 training/corpus/make_extra_corpus.py

writes, one text per line, lower-cased, deduplicated, sorted (so the output is a
function of the inputs only), each file headed by the WordNet licence as ``#`` lines
(which ``data.read_lines`` skips; the licence asks for the notice on all copies):

- ``extra_wordnet_examples.txt`` — every usage example of WordNet (the quoted sentences
  in the glosses, e.g. "he singled to start a rally in the 9th inning");
- ``extra_wordnet_glosses.txt`` — ``lemma: definition`` for the synsets, a deterministic
  sample (lowest SHA-1 of the line first) capped at ``--gloss-max-bytes`` so the
  shipped corpus stays commit-sized.

Lines whose normalised text (``data.norm_key``) equals a CLINC150 val/test text are
dropped, as the training scripts do for the existing corpus.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from data import norm_key  # noqa: E402

POS_FILES = ("data.noun", "data.verb", "data.adj", "data.adv")
EXAMPLE = re.compile(r'"([^"]*)"')
ADJ_MARKER = re.compile(r"\((?:a|p|ip)\)$")  # syntactic marker on adjective lemmas, e.g. "galore(ip)"
MIN_WORDS = 2  # single words add nothing a gloss line does not already have

NOTICE = "WordNet 3.0 Copyright 2006 by Princeton University."


def read_licence(wordnet_dir: str) -> list[str]:
    """The licence text at the top of data.noun (numbered lines starting with two spaces),
    verbatim but for the line numbers."""
    out = []
    with open(os.path.join(wordnet_dir, "data.noun"), encoding="utf-8") as f:
        for line in f:
            if not line.startswith("  "):
                break
            out.append(re.sub(r"^\s*\d+ ?", "", line).rstrip())
    if not any(NOTICE in re.sub(r"\s+", " ", l) for l in out):
        raise SystemExit(f"licence notice not found at the top of {wordnet_dir}/data.noun")
    return out


def clean(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip().lower()


def parse_data_line(line: str):
    """One synset line of a WordNet ``data.*`` file -> (lemma, definition, [examples]);
    None for the licence lines at the top (they start with two spaces)."""
    if line.startswith("  ") or " | " not in line:
        return None
    head, _, gloss = line.partition(" | ")
    fields = head.split()
    # synset_offset lex_filenum ss_type w_cnt(hex) word lex_id ...
    lemma = ADJ_MARKER.sub("", fields[4]).replace("_", " ")
    examples = [clean(m) for m in EXAMPLE.findall(gloss)]
    definition = "; ".join(p.strip() for p in EXAMPLE.sub("", gloss).split(";") if p.strip())
    return clean(lemma), clean(definition), [e for e in examples if e]


def clinc_heldout(path: str) -> set[str]:
    """norm_key of every CLINC150 val/test text (in-scope and oos)."""
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)
    return {norm_key(t) for split in ("val", "oos_val", "test", "oos_test") for t, _ in raw[split]}


def extract(wordnet_dir: str, heldout: set[str]):
    """-> (examples, glosses): sorted, deduplicated on norm_key, held-out texts removed."""
    examples: dict[str, str] = {}
    glosses: dict[str, str] = {}
    for name in POS_FILES:
        with open(os.path.join(wordnet_dir, name), encoding="utf-8") as f:
            for line in f:
                parsed = parse_data_line(line)
                if parsed is None:
                    continue
                lemma, definition, exs = parsed
                for e in exs:
                    if len(e.split()) >= MIN_WORDS:
                        examples.setdefault(norm_key(e), e)
                if definition:
                    g = f"{lemma}: {definition}"
                    glosses.setdefault(norm_key(g), g)
    ex = sorted(v for k, v in examples.items() if k not in heldout)
    seen = set(examples)
    gl = sorted(v for k, v in glosses.items() if k not in heldout and k not in seen)
    return ex, gl


def sample_by_hash(lines: list[str], max_bytes: int) -> list[str]:
    """Deterministic sample: lines in order of their SHA-1 until max_bytes (UTF-8, with
    newlines) would be exceeded; returned sorted."""
    ranked = sorted(lines, key=lambda s: hashlib.sha1(s.encode("utf-8")).hexdigest())
    out, size = [], 0
    for s in ranked:
        n = len(s.encode("utf-8")) + 1
        if size + n > max_bytes:
            break
        out.append(s)
        size += n
    return sorted(out)


def write_corpus(path: str, lines: list[str], what: str, licence: list[str]) -> None:
    header = [f"# {what}", "# Source: WordNet 3.0 (Princeton University), Debian package wordnet-base,",
              "# extracted by training/corpus/make_extra_corpus.py (lower-cased, deduplicated, CLINC150 val/test",
              "# texts removed). The WordNet licence requires this notice on all copies:", "#"]
    header += [("# " + l).rstrip() for l in licence]
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(header) + "\n")
        for s in lines:
            f.write(s + "\n")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--wordnet-dir", default="/usr/share/wordnet")
    p.add_argument("--clinc", default="/work/shared/data/clinc150/data_full.json", help="CLINC150 data_full.json (val/test texts removed)")
    p.add_argument("--out-dir", default=HERE)
    p.add_argument("--gloss-max-bytes", type=int, default=6_000_000)
    args = p.parse_args(argv)
    licence = read_licence(args.wordnet_dir)
    heldout = clinc_heldout(args.clinc)
    ex, gl = extract(args.wordnet_dir, heldout)
    gl_s = sample_by_hash(gl, args.gloss_max_bytes)
    write_corpus(os.path.join(args.out_dir, "extra_wordnet_examples.txt"), ex, "WordNet 3.0 usage examples, one per line", licence)
    write_corpus(os.path.join(args.out_dir, "extra_wordnet_glosses.txt"), gl_s,
                 f"WordNet 3.0 glosses as 'lemma: definition' (deterministic sample, {len(gl_s)} of {len(gl)})", licence)
    print(f"examples {len(ex)}, glosses {len(gl_s)} of {len(gl)} -> {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
