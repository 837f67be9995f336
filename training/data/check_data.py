#!/usr/bin/python3
"""Sanity checks for training/data (standard library only). Exit code 1 on errors.

Checks: 16 intent files with the fixed labels, placeholder names exist in catalog.json,
no braces in the literal-only out_of_scope/ files, no duplicate utterances within or across
files (case/whitespace/punctuation-insensitive), and prints line counts.
Usage: /usr/bin/python3 training/data/check_data.py
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LABELS = [
    "procurement.create_order", "procurement.order_status", "procurement.cancel_order",
    "procurement.list_orders", "procurement.approve_order", "customs.file_declaration",
    "customs.declaration_status", "customs.classify_goods", "storage.receive_goods",
    "storage.stock_level", "storage.transfer_stock", "automation.list_jobs",
    "assistant.help", "assistant.greet", "assistant.thanks", "out_of_scope",
]
PH_RE = re.compile(r"\{([a-z_]+)\}")


def read(path):
    with open(path, encoding="utf-8") as f:
        return [l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")]


def key(s):
    s = s.lower()
    s = re.sub(r"[^\w{}#@\-\s]", "", s)  # punctuation-insensitive
    s = re.sub(r"\s+", " ", s).strip()
    return s if re.search(r"\w", s) else None  # symbol/emoji-only lines: compare raw text


def main():
    errors = []
    catalog = json.load(open(os.path.join(HERE, "catalog.json"), encoding="utf-8"))
    for k, v in catalog.items():
        if len(set(v)) != len(v):
            errors.append("catalog %s has duplicate values" % k)
    files = {}
    idir = os.path.join(HERE, "intents")
    present = sorted(f[:-4] for f in os.listdir(idir) if f.endswith(".txt"))
    if present != sorted(LABELS):
        errors.append("intent files mismatch: %s" % sorted(set(present) ^ set(LABELS)))
    for lab in LABELS:
        files["intents/%s.txt" % lab] = (lab, read(os.path.join(idir, lab + ".txt")))
    odir = os.path.join(HERE, "out_of_scope")
    for fn in sorted(os.listdir(odir)):
        if fn.endswith(".txt"):
            files["out_of_scope/" + fn] = ("out_of_scope", read(os.path.join(odir, fn)))

    seen = {}
    for path, (lab, lines) in files.items():
        n_ph = 0
        for line in lines:
            names = PH_RE.findall(line)
            if names:
                n_ph += 1
            if path.startswith("out_of_scope/") and ("{" in line or "}" in line):
                errors.append("%s: braces not allowed in literal file: %r" % (path, line))
            for n in names:
                if n not in catalog:
                    errors.append("%s: unknown placeholder {%s} in %r" % (path, n, line))
            if line.count("{") != line.count("}"):
                errors.append("%s: unbalanced braces: %r" % (path, line))
            k = key(line) or line
            if k in seen:
                plab, ppath = seen[k]
                kind = "CONTRADICTORY" if plab != lab else "duplicate"
                errors.append("%s %r in %s (also in %s)" % (kind, line, path, ppath))
            else:
                seen[k] = (lab, path)
        print("%-45s %5d lines  %4d with placeholders" % (path, len(lines), n_ph))
    print("total: %d lines" % sum(len(v[1]) for v in files.values()))
    for e in errors:
        print("ERROR:", e)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
