#!/usr/bin/env python3
"""Real out-of-domain queries for the intent model: CLINC150's *test* queries of its 150 everyday
intents (banking, travel, kitchen, small talk, ...; Larson et al. 2019, CC BY 3.0), all labelled
out_of_scope for this bot. Dropped: the CLINC intents that overlap ours (greeting, order,
order_status, thank_you, what_can_i_ask_you) and any text that occurs in training/data.

    /usr/bin/python3 training/eval/clinc_ood.py > /tmp/clinc_ood.jsonl
    npm run --silent nlu -- eval /tmp/clinc_ood.jsonl     # OOS recall = share kept out of scope

The data stays in ../shared (not copied into the repo); CLINC150's train split only feeds
pretraining and out-of-scope negatives, so these test queries were never trained on.
"""
import glob
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SRC = os.environ.get("CLINC150", os.path.join(ROOT, "..", "shared", "data", "clinc150", "data_full.json"))
OVERLAP = {"greeting", "order", "order_status", "thank_you", "what_can_i_ask_you"}


def norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.lower().strip())


def main() -> int:
    data = json.load(open(SRC, encoding="utf-8"))
    seen = set()
    for f in glob.glob(os.path.join(ROOT, "training", "data", "**", "*.txt"), recursive=True):
        seen.update(norm(line) for line in open(f, encoding="utf-8"))
    n = 0
    for text, label in data["test"]:
        if label in OVERLAP or norm(text) in seen:
            continue
        sys.stdout.write(json.dumps({"text": text, "intent": "out_of_scope"}) + "\n")
        n += 1
    print(f"{n} queries", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
