#!/usr/bin/env python3
"""CLINC150 benchmark of the training pipeline (``npm run bench:clinc``).

Trains the same model/pipeline as ``training/train.py`` on CLINC150 "full"
(``data_full.json``: 150 intents x 100 train + 100 ``oos_train``, oos as a 151st class),
selects the epoch (early stopping) and the out-of-scope thresholds on validation
(``val`` + ``oos_val``), and reports test in-scope accuracy and OOS recall
(``test`` + ``oos_test``) next to Larson et al. (2019), Table 2.

The causal-LM pretraining uses only text that is not in CLINC val/test: the Wikipedia
sentences shipped with CLINC150, the CLINC train/oos_train utterances (unlabeled) and
training/corpus/domain.txt. (The main pipeline's LM is *not* reused: its corpus contains
this project's training utterances, which include CLINC oos_val/oos_test texts.)

Writes bench/results/clinc150.md and bench/results/clinc150.json.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shlex
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as T  # noqa: E402  (sets thread env vars before torch import)
import data as D  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from collections import Counter  # noqa: E402
from gpt2 import EOS_ID, GPT2, GPT2Config, build_id_map  # noqa: E402

log = T.log
ROOT = D.ROOT

LARSON = [  # Larson et al. 2019, Table 2 (data_full, oos-train): in-scope accuracy / OOS recall
    ("FastText", 89.0, 9.7), ("SVM", 91.0, 14.5), ("DialogFlow", 91.7, 14.0), ("Rasa", 91.5, 45.3),
    ("MLP (USE)", 93.5, 47.4), ("BERT", 96.9, 40.3),
]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clinc", default="/work/shared/data/clinc150/data_full.json", help="CLINC150 data_full.json")
    p.add_argument("--out", default=os.path.join(ROOT, "bench/results"), help="results directory")
    p.add_argument("--run-dir", default=None)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--pretrain-steps", type=int, default=300)
    p.add_argument("--no-pretrain", action="store_true")
    p.add_argument("--extra-corpus", action="append", default=[], metavar="FILE",
                   help="extra pretraining text (repeatable): a training/corpus/extra_*.txt name (make_extra_corpus.py) or a path")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--max-vocab", type=int, default=9999)
    p.add_argument("--token-dropout", type=float, default=0.1)
    p.add_argument("--ema", type=float, default=0.995)
    p.add_argument("--layers", type=int, default=T.FULL["n_layer"])
    p.add_argument("--width", type=int, default=T.FULL["n_embd"])
    p.add_argument("--heads", type=int, default=T.FULL["n_head"])
    p.add_argument("--max-length", type=int, default=T.FULL["n_positions"])
    p.add_argument("--note", default=None, help="free-text note about the run conditions, written into the results")
    p.add_argument("--render-only", action="store_true", help="rewrite clinc150.md from an existing clinc150.json (no training)")
    args = p.parse_args(argv)
    if args.render_only:
        with open(os.path.join(args.out, "clinc150.json")) as f:
            o = json.load(f)
        if args.note:
            o["note"] = args.note
            with open(os.path.join(args.out, "clinc150.json"), "w") as f:
                json.dump(o, f, indent=2)
        with open(os.path.join(args.out, "clinc150.md"), "w") as f:
            f.write(markdown(o))
        return 0
    torch.set_num_threads(args.threads)
    T.set_seed(args.seed)
    arch = dict(n_layer=args.layers, n_embd=args.width, n_head=args.heads, n_positions=args.max_length)
    run_dir = args.run_dir or os.path.join(D.HERE, "runs", dt.datetime.now().strftime("%Y%m%d-%H%M%S") + "-clinc")
    os.makedirs(run_dir, exist_ok=True)
    log(f"CLINC150 benchmark  data={args.clinc}  run={run_dir}")

    with open(args.clinc, encoding="utf-8") as f:
        raw = json.load(f)
    def conv(split):
        return [{"text": t, "intent": (D.OOS if l == "oos" else l)} for t, l in split]
    train = conv(raw["train"] + raw["oos_train"])
    val = conv(raw["val"] + raw["oos_val"])
    test = conv(raw["test"] + raw["oos_test"])
    labels = sorted({r["intent"] for r in train} - {D.OOS}) + [D.OOS]
    lab_idx = {l: i for i, l in enumerate(labels)}
    log(f"{len(labels)} labels; train {len(train)}, val {len(val)}, test {len(test)}")

    tok = D.NodeTokenizer(os.path.join(D.HERE, "cache", "tokens.json"))
    heldout = {D.norm_key(r["text"]) for r in val + test}
    corpus = []
    for fn in ("wiki_sents.txt", "clinc150_train_utterances.txt", "domain.txt"):
        corpus += [x for x in D.read_lines(os.path.join(D.HERE, "corpus", fn)) if D.norm_key(x) not in heldout]
    extra, extra_names = [], []
    for path in T.extra_corpus_paths(args.extra_corpus):
        ls = [x for x in D.read_lines(path) if D.norm_key(x) not in heldout]
        extra += ls
        extra_names.append(f"{os.path.relpath(path, ROOT)} ({len(ls)} lines)")
    tok.encode_many(corpus + extra + [r["text"] for r in train + val + test])
    corpus_ids = tok.encode_many(corpus)
    L = arch["n_positions"]
    val_seqs = [s[:L] for s in tok.encode_many([r["text"] for r in val])]
    test_seqs = [s[:L] for s in tok.encode_many([r["text"] for r in test])]
    val_gold = np.array([lab_idx[r["intent"]] for r in val])
    test_gold = np.array([lab_idx[r["intent"]] for r in test])

    cnt = Counter(t for s in corpus_ids for t in s)
    cnt.update(t for s in tok.encode_many([r["text"] for r in train]) for t in s)
    keep_ids = sorted({EOS_ID} | {t for t, _ in sorted(cnt.items(), key=lambda kv: (-kv[1], kv[0]))[: args.max_vocab - 1]})
    id_map = build_id_map(keep_ids)
    log(f"vocabulary {len(keep_ids)} rows (+UNK)")
    # extra text is pretraining-only and does not choose embedding rows, so --extra-corpus
    # changes nothing but the LM's training text (its rarer ids read as UNK)
    if extra:
        corpus_ids = corpus_ids + tok.encode_many(extra)
        log(f"extra pretraining text: {', '.join(extra_names)}")

    def new_model(dropout):
        cfg = GPT2Config(vocab_size=len(keep_ids) + 1, num_labels=len(labels), resid_pdrop=dropout, embd_pdrop=dropout,
                         attn_pdrop=dropout, summary_pdrop=dropout, **arch)
        return GPT2(cfg, id_map)

    t_start = time.time()
    pre_info = None
    T.set_seed(args.seed)
    model = new_model(args.dropout)
    if not args.no_pretrain:
        log(f"== pretraining causal LM {arch} on {len(corpus_ids)} texts")
        lm = new_model(0.1)
        pre_info = T.pretrain(lm, corpus_ids, args.pretrain_steps, args.seed, 16, min(64, L))
        sd = {k: v for k, v in lm.state_dict().items() if not k.startswith("score.")}
        model.load_state_dict(sd, strict=False)
        del lm
    # CLINC texts are already lower-case without placeholders: no augmentation (pool = the texts)
    pool = [[r] for r in train]
    log(f"== fine-tune lr={args.lr:g} dropout={args.dropout:g}")
    fit = T.finetune(model, pool, val_seqs, list(val_gold), labels, tok, lr=args.lr, epochs=args.epochs, seed=args.seed,
                     max_len=L, per_line=1, oos_cap=1e9, token_dropout=args.token_dropout, ema=args.ema, tag="[clinc]")
    train_seconds = time.time() - t_start

    oos = labels.index(D.OOS)
    vp = T.softmax(T.predict_logits(model, val_seqs))
    tp = T.softmax(T.predict_logits(model, test_seqs))
    # thresholds: maximise validation accuracy over all val examples (in-scope + oos)
    best = None
    for c in T.CONF_GRID:
        for m in T.MARGIN_GRID:
            acc = float((T.apply_rule(vp, oos, c, m) == val_gold).mean())
            if best is None or acc > best[0] + 1e-12:
                best = (acc, c, m)
    thr = {"confidence": best[1], "margin": best[2]}

    def report(pred, gold):
        ins = gold != oos
        return {"in_scope_accuracy": float((pred[ins] == gold[ins]).mean()), "oos_recall": float((pred[~ins] == oos).mean()),
                "overall_accuracy": float((pred == gold).mean()),
                "oos_precision": float(((pred == oos) & (gold == oos)).sum() / max(1, (pred == oos).sum()))}

    res = {
        "val": report(T.apply_rule(vp, oos, thr["confidence"], thr["margin"]), val_gold),
        "test": report(T.apply_rule(tp, oos, thr["confidence"], thr["margin"]), test_gold),
        "test_oos_class_only": report(tp.argmax(-1), test_gold),
    }
    log(f"thresholds {thr}; TEST in-scope acc {res['test']['in_scope_accuracy']:.4f} OOS recall {res['test']['oos_recall']:.4f} "
        f"(oos class only: {res['test_oos_class_only']['in_scope_accuracy']:.4f} / {res['test_oos_class_only']['oos_recall']:.4f})")
    n_params = sum(p.numel() for p in model.parameters())
    cmd = "npm run bench:clinc" + ("" if not (argv or sys.argv[1:]) else " -- " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])))
    out = {
        "benchmark": "CLINC150 data_full (Larson et al. 2019)",
        "command": cmd,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "training_seconds": round(train_seconds, 1),
        "total_seconds": round(time.time() - T.T0, 1),
        "environment": {"python": platform.python_version(), "torch": torch.__version__, "threads": args.threads,
                        "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}"},
        "model": {**arch, "vocab_rows": len(keep_ids) + 1, "parameters": n_params, "labels": len(labels)},
        "pretraining": ({"corpus": "training/corpus/wiki_sents.txt + clinc150_train_utterances.txt + domain.txt"
                         + "".join(f" + {x}" for x in extra_names) + " (val/test texts removed)", **pre_info}
                        if pre_info else None),
        "fine_tuning": {"lr": args.lr, "dropout": args.dropout, "max_epochs": args.epochs, "best_epoch": fit["best_epoch"],
                        "history": fit["history"], "augmentation": "none", "token_dropout": args.token_dropout, "ema_decay": args.ema},
        "thresholds": thr,
        "threshold_selection": "grid on val (+oos_val): maximise overall validation accuracy",
        "results": res,
        "larson_2019_table2": [{"model": m, "in_scope_accuracy": a, "oos_recall": r} for m, a, r in LARSON],
        "note": args.note,
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "clinc150.json"), "w") as f:
        json.dump(out, f, indent=2)
    with open(os.path.join(args.out, "clinc150.md"), "w") as f:
        f.write(markdown(out))
    log(f"wrote {args.out}/clinc150.md and .json")
    return 0


def markdown(o):
    r, m = o["results"], o["model"]
    L = ["# CLINC150 benchmark (data_full)", "",
         f"Command: `{o['command']}` — training {o['training_seconds']:.0f} s (total {o['total_seconds']:.0f} s) on "
         f"{o['environment']['machine']}, torch {o['environment']['torch']}, {o['environment']['threads']} threads, {o['date']}.", "",
         f"Model: the rpa-assistant pipeline's GPT-2 ({m['n_layer']} layers, d={m['n_embd']}, {m['n_head']} heads, max_length "
         f"{m['n_positions']}, {m['vocab_rows']} embedding rows, {m['parameters']:,} parameters), "
         + (f"pretrained from scratch as a causal LM for {o['pretraining']['steps']} steps ({o['pretraining']['tokens_seen']:,} tokens) on "
            f"{o['pretraining']['corpus']}, " if o["pretraining"] else "no pretraining, ")
         + f"then fine-tuned on train + oos_train (oos as a class; lr {o['fine_tuning']['lr']}, dropout {o['fine_tuning']['dropout']}, "
         f"best epoch {o['fine_tuning']['best_epoch']} of ≤{o['fine_tuning']['max_epochs']} by validation accuracy). No pretrained weights "
         "from elsewhere (no model hub). Out-of-scope rule thresholds chosen on val + oos_val: "
         f"confidence {o['thresholds']['confidence']}, margin {o['thresholds']['margin']}.", "",
         "| model | in-scope accuracy | OOS recall |", "|---|---|---|"]
    for x in o["larson_2019_table2"]:
        L.append(f"| {x['model']} (Larson et al. 2019) | {x['in_scope_accuracy']:.1f} | {x['oos_recall']:.1f} |")
    L.append(f"| **this pipeline, oos class + threshold rule** | **{100 * r['test']['in_scope_accuracy']:.1f}** | **{100 * r['test']['oos_recall']:.1f}** |")
    L.append(f"| this pipeline, oos class only (argmax) | {100 * r['test_oos_class_only']['in_scope_accuracy']:.1f} | {100 * r['test_oos_class_only']['oos_recall']:.1f} |")
    L += ["", "Larson et al. numbers: Table 2 of the paper, `data_full`, oos-train setting (oos as an extra class). "
          "Their BERT is a pretrained BERT fine-tuned on the task (pretrained on billions of words); this model has "
          f"{m['parameters'] / 1e6:.1f}M parameters and its language-model pretraining saw "
          + (f"{o['pretraining']['tokens_seen']:,} tokens ({o['pretraining']['seconds']:.0f} s on 2 CPU cores)." if o["pretraining"] else "no text (no pretraining).")
          + " Our first row adds the out-of-scope threshold rule (calibrated on val) on top of the oos class; the second row is the oos class alone, like the oos-train setting.", "",
          f"Validation (val + oos_val): in-scope accuracy {100 * r['val']['in_scope_accuracy']:.1f}, OOS recall {100 * r['val']['oos_recall']:.1f}. "
          f"Test OOS precision {100 * r['test']['oos_precision']:.1f}, overall test accuracy {100 * r['test']['overall_accuracy']:.1f}.", "",
          *([f"Note: {o['note']}", ""] if o.get("note") else []),
          "Reference: Stefan Larson et al. 2019. *An Evaluation Dataset for Intent Classification and Out-of-Scope Prediction.* EMNLP-IJCNLP. "
          "Data: https://github.com/clinc/oos-eval (CC BY 3.0).", ""]
    return "\n".join(L)


if __name__ == "__main__":
    sys.exit(main())
