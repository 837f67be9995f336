#!/usr/bin/env python3
"""Train, calibrate, export and verify the intent classifier (``npm run train``).

Pipeline: load data -> fixed-seed stratified split of source lines -> placeholder filling
and train-only augmentation -> GPT-2 BPE tokenization (Node, same library as inference)
-> pruned vocabulary -> causal-LM pretraining on training/corpus (unless --init/--no-pretrain)
-> fine-tuning with a small hyperparameter search selected on validation -> out_of_scope
threshold calibration on validation -> test metrics -> ablations (no pretraining, larger
config) -> ONNX export -> onnxruntime-node parity check -> model card.

Run ``/usr/bin/python3 training/train.py --help`` for flags.
"""
from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import math
import os
import platform
import random
import shlex
import shutil
import subprocess
import sys
import time
from collections import Counter

os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
# Passive OpenMP waiting: on a shared 2-core machine spinning threads make training several times slower.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D  # noqa: E402
from gpt2 import EOS_ID, GPT2, GPT2_VOCAB, GPT2Config, build_id_map, config_from_hf, load_hf_checkpoint, load_hf_state_dict  # noqa: E402

HERE = D.HERE
ROOT = D.ROOT
T0 = time.time()


def log(*a):
    print(f"[{time.time() - T0:7.1f}s]", *a, flush=True)


# --------------------------------------------------------------------------- configs
FULL = dict(n_layer=4, n_embd=256, n_head=4, n_positions=64)
LARGE = dict(n_layer=6, n_embd=384, n_head=6, n_positions=64)
SMOKE = dict(n_layer=2, n_embd=64, n_head=2, n_positions=32)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join(ROOT, "models/intent-gpt2"), help="model directory to write")
    p.add_argument("--data", default=os.path.join(HERE, "data"), help="data dir (intents/, out_of_scope/, catalog.json)")
    p.add_argument("--init", default=None, help="HF GPT-2 checkpoint dir (config.json + model.safetensors|pytorch_model.bin)")
    p.add_argument("--no-pretrain", action="store_true", help="skip causal-LM pretraining (random init)")
    p.add_argument("--smoke", action="store_true", help="tiny config, a few steps; exports and checks parity")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--run-dir", default=None, help="logs/checkpoints/parity reference (default training/runs/<time>)")
    p.add_argument("--splits-out", default=None, help="where to write split JSONL (default training/splits, smoke: run dir)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--pretrain-steps", type=int, default=None)
    p.add_argument("--epochs", type=int, default=None, help="max fine-tuning epochs per search point")
    p.add_argument("--grid", default=None, help="search points 'lr:dropout,lr:dropout' (default 4 points)")
    p.add_argument("--ablations", action="store_true", help="also train the no-pretrain and larger-config comparisons")
    p.add_argument("--search", action="store_true", help="hyperparameter search over 3 (lr, dropout) points instead of the selected one")
    p.add_argument("--para-per-epoch", type=int, default=400, help="paraphrase-grammar lines sampled per label per epoch")
    p.add_argument("--layers", type=int, default=None)
    p.add_argument("--width", type=int, default=None)
    p.add_argument("--heads", type=int, default=None)
    p.add_argument("--max-length", type=int, default=None, help="n_positions (inputs are truncated to it)")
    p.add_argument("--token-dropout", type=float, default=0.1, help="fine-tuning: share of input tokens replaced by UNK")
    p.add_argument("--oos-cap", type=float, default=8.0, help="fine-tuning: out_of_scope examples per epoch, x mean in-scope class size")
    p.add_argument("--ema", type=float, default=0.995, help="fine-tuning: EMA decay of the weights (0 = off)")
    p.add_argument("--no-synonyms", action="store_true", help="augmentation without domain synonym swaps")
    p.add_argument("--per-line", type=int, default=2, help="fine-tuning: augmented variants per train line per epoch")
    p.add_argument("--max-vocab", type=int, default=7679, help="embedding rows kept (plus one UNK row)")
    p.add_argument("--extra-corpus", action="append", default=[], metavar="FILE",
                   help="extra pretraining text (repeatable): a training/corpus/extra_*.txt name or a path")
    p.add_argument("--pretrained", default=None, help="reuse a pretrained LM checkpoint (.pt saved by a previous run)")
    p.add_argument("--members", type=int, default=1,
                   help="fine-tune N members from the same pretrained LM (seeds differ; with the refit: N refits) and combine them")
    p.add_argument("--combine", choices=["soup", "ensemble", "best"], default="ensemble",
                   help="how members are combined: weight average (one model), logit average (N models in one graph), best on val")
    p.add_argument("--weights", choices=["auto", "fp32", "fp16"], default="auto",
                   help="ONNX weight storage; fp16 halves the file (cast to fp32 when the session loads); auto = fp16 for ensembles")
    p.add_argument("--no-refit", action="store_true",
                   help="ship the model selected on validation instead of refitting on train+val for the selected number of epochs")
    p.add_argument("--skip-parity", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


# --------------------------------------------------------------------------- batching
def pad_batch(seqs: list[list[int]]):
    T = max(1, max(len(s) for s in seqs))
    ids = torch.full((len(seqs), T), EOS_ID, dtype=torch.long)
    am = torch.zeros((len(seqs), T), dtype=torch.long)
    for i, s in enumerate(seqs):
        if s:
            ids[i, : len(s)] = torch.tensor(s)
            am[i, : len(s)] = 1
        else:  # empty text: one pad token (classified from position 0)
            am[i, 0] = 1
    return ids, am


def length_batches(lengths: list[int], bs: int, rng: random.Random | None):
    """Batches of similar length (less padding); shuffled order when rng is given."""
    idx = list(range(len(lengths)))
    if rng:
        rng.shuffle(idx)
        chunks = [idx[i:i + bs * 20] for i in range(0, len(idx), bs * 20)]
        batches = []
        for c in chunks:
            c.sort(key=lambda i: lengths[i])
            batches += [c[i:i + bs] for i in range(0, len(c), bs)]
        rng.shuffle(batches)
        return batches
    idx.sort(key=lambda i: lengths[i])
    return [idx[i:i + bs] for i in range(0, len(idx), bs)]


@torch.no_grad()
def predict_logits(model, seqs: list[list[int]], bs=128) -> np.ndarray:
    model.eval()
    out = np.zeros((len(seqs), model.config.num_labels), dtype=np.float32)
    for b in length_batches([len(s) for s in seqs], bs, None):
        ids, am = pad_batch([seqs[i] for i in b])
        out[b] = model(ids, am).numpy()
    return out


# --------------------------------------------------------------------------- metrics / calibration
def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def apply_rule(probs: np.ndarray, oos_idx: int, conf: float, margin: float) -> np.ndarray:
    order = np.argsort(-probs, axis=-1, kind="stable")
    top, second = order[:, 0], order[:, 1]
    p1 = probs[np.arange(len(probs)), top]
    p2 = probs[np.arange(len(probs)), second]
    pred = top.copy()
    fallback = (top != oos_idx) & ((p1 < conf) | (p1 - p2 < margin))
    pred[fallback] = oos_idx
    return pred


def metrics(pred: np.ndarray, gold: np.ndarray, labels: list[str]) -> dict:
    oos = labels.index(D.OOS)
    write = np.array([l in D.WRITE_INTENTS for l in labels])
    n = len(gold)
    f1s = []
    for k in range(len(labels)):
        tp = int(((pred == k) & (gold == k)).sum())
        fp = int(((pred == k) & (gold != k)).sum())
        fn = int(((pred != k) & (gold == k)).sum())
        if tp + fp + fn == 0:
            continue
        f1s.append(2 * tp / (2 * tp + fp + fn))
    ins = gold != oos
    false_trig = write[pred] & (pred != gold)
    return {
        "n": int(n),
        "accuracy": float((pred == gold).mean()),
        "macro_f1": float(np.mean(f1s)),
        "in_scope_accuracy": float((pred[ins] == gold[ins]).mean()) if ins.any() else None,
        "oos_recall": float((pred[~ins] == oos).mean()) if (~ins).any() else None,
        "false_trigger_rate": float(false_trig.mean()),
        "false_triggers": int(false_trig.sum()),
        # `nlu eval`'s definition: share of out_of_scope rows predicted as a write intent
        "oos_false_trigger_rate": float(write[pred[~ins]].mean()) if (~ins).any() else None,
    }


CONF_GRID = [0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
MARGIN_GRID = [0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5]


def calibrate(probs, gold, labels, tol=0.005):
    """Pick (confidence, margin): minimise the false-trigger rate of write intents, subject to
    accuracy >= best accuracy over the grid - tol; ties -> higher accuracy, then the more
    conservative (higher) thresholds."""
    oos = labels.index(D.OOS)
    table = []
    for c in CONF_GRID:
        for m in MARGIN_GRID:
            r = metrics(apply_rule(probs, oos, c, m), gold, labels)
            table.append((c, m, r))
    best_acc = max(r["accuracy"] for _, _, r in table)
    ok = [t for t in table if t[2]["accuracy"] >= best_acc - tol - 1e-12]
    min_ft = min(t[2]["false_trigger_rate"] for t in ok)
    cand = [t for t in ok if t[2]["false_trigger_rate"] <= min_ft + 1e-12]
    top_acc = max(t[2]["accuracy"] for t in cand)
    cand = [t for t in cand if t[2]["accuracy"] >= top_acc - 1e-12]
    c, m, r = max(cand, key=lambda t: (t[0], t[1]))
    return {"confidence": c, "margin": m}, r, best_acc


# --------------------------------------------------------------------------- training
def set_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


EXTRA_PREFIX = "extra_"  # training/corpus files written by make_extra_corpus.py; opt-in via --extra-corpus


def base_corpus_names(corpus_dir: str) -> list[str]:
    """The default pretraining text: training/corpus/*.txt except the opt-in extra_*.txt."""
    return sorted(fn for fn in os.listdir(corpus_dir) if fn.endswith(".txt") and not fn.startswith(EXTRA_PREFIX))


def extra_corpus_paths(names: list[str]) -> list[str]:
    """--extra-corpus values -> existing paths (a bare name is looked up in training/corpus)."""
    out = []
    for n in names:
        path = n if os.path.sep in n else os.path.join(HERE, "corpus", n)
        if not os.path.isfile(path):
            raise SystemExit(f"--extra-corpus: {path} not found (run training/corpus/make_extra_corpus.py)")
        out.append(path)
    return out


def pretrain(model: GPT2, corpus_ids: list[list[int]], steps: int, seed: int, bs: int, block: int, lr=1e-3):
    """Causal-LM pretraining on packed blocks of sentences separated by <|endoftext|>."""
    rng = random.Random(seed)
    order = list(range(len(corpus_ids)))
    rng.shuffle(order)
    stream = []
    for i in order:
        stream.extend(corpus_ids[i][: block - 1])
        stream.append(EOS_ID)
    n_blocks = len(stream) // block
    data = torch.tensor(stream[: n_blocks * block]).view(n_blocks, block)
    log(f"pretrain: {len(stream):,} tokens, {n_blocks} blocks of {block}, {steps} steps x {bs} blocks "
        f"(~{steps * bs / max(1, n_blocks):.2f} epochs)")
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.98))
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps)))))
    model.train()
    am = torch.ones((bs, block), dtype=torch.long)
    perm = torch.randperm(n_blocks, generator=torch.Generator().manual_seed(seed))
    pos, t0, losses = 0, time.time(), []
    for step in range(steps):
        if pos + bs > n_blocks:
            perm = torch.randperm(n_blocks, generator=torch.Generator().manual_seed(seed + step))
            pos = 0
        x = data[perm[pos:pos + bs]]
        pos += bs
        loss = model.lm_loss(x, am[: len(x)])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if (step + 1) % max(1, steps // 10) == 0 or step == steps - 1:
            el = time.time() - t0
            log(f"  pretrain step {step + 1}/{steps} loss {np.mean(losses[-20:]):.3f} "
                f"({el:.0f}s, {(step + 1) * bs * block / el:.0f} tok/s)")
    return {"steps": steps, "final_loss": float(np.mean(losses[-20:])), "seconds": time.time() - t0,
            "tokens_seen": steps * bs * block, "corpus_tokens": len(stream)}


PARA_PER_EPOCH = 400  # paraphrase-grammar lines sampled per label per epoch (--para-per-epoch)


def epoch_examples(pool, labels, rng, per_line: int, oos_cap: float):
    """Sample this epoch's training examples: per source line `per_line` variants; the
    out_of_scope class is capped at oos_cap x the mean in-scope class size."""
    by_label: dict[str, list] = {}
    para: dict[str, list] = {}
    for variants in pool:
        if variants[0].get("para"):
            para.setdefault(variants[0]["intent"], []).append(variants)
            continue
        lab = variants[0]["intent"]
        k = min(per_line, len(variants))
        pick = [variants[0]] + rng.sample(variants[1:], k - 1) if k > 1 else [rng.choice(variants)]
        by_label.setdefault(lab, []).extend(pick)
    for lab, entries in para.items():
        for variants in rng.sample(entries, min(PARA_PER_EPOCH, len(entries))):
            by_label.setdefault(lab, []).append(rng.choice(variants))
    ins = [len(v) for k, v in by_label.items() if k != D.OOS]
    cap = int(oos_cap * (sum(ins) / max(1, len(ins))))
    if D.OOS in by_label and len(by_label[D.OOS]) > cap > 0:
        by_label[D.OOS] = rng.sample(by_label[D.OOS], cap)
    rows = [r for v in by_label.values() for r in v]
    rng.shuffle(rows)
    return rows


def finetune(model, pool, val_seqs, val_gold, labels, tok, *, lr, epochs, seed, max_len, bs=32,
             per_line=2, oos_cap=3.0, patience=3, label_smoothing=0.1, token_dropout=0.0, ema=0.0, tag="",
             stop_at=None):
    """Fine-tune with early stopping on validation accuracy; with ``stop_at`` (a refit whose
    validation data is in the training pool) keep the weights of that epoch instead."""
    rng = random.Random(seed)
    lab_idx = {l: i for i, l in enumerate(labels)}
    unk_row = model.transformer.wte.weight.shape[0] - 1
    unk_ids = (model.id_map == unk_row).nonzero()
    unk_id = int(unk_ids[0]) if len(unk_ids) else EOS_ID
    # estimate steps for the schedule
    n_ex = len(epoch_examples(pool, labels, random.Random(seed), per_line, oos_cap))
    steps_total = epochs * math.ceil(n_ex / bs)
    warm = max(1, int(0.06 * steps_total))
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2 or "ln_" in n or "wpe" in n]
    decay = [p for n, p in model.named_parameters() if not (p.dim() < 2 or "ln_" in n or "wpe" in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (steps_total - s) / max(1, steps_total - warm))))
    best = {"val_acc": -1.0, "val_loss": 1e9, "epoch": 0, "state": None}
    hist = []
    t0 = time.time()
    gold_t = torch.tensor(val_gold)
    ema_params = [p.detach().clone() for p in model.parameters()] if ema > 0 else []
    bad = 0
    for ep in range(1, epochs + 1):
        model.train()
        rows = epoch_examples(pool, labels, rng, per_line, oos_cap)
        seqs = [s[:max_len] for s in tok.encode_many([r["text"] for r in rows])]
        ys = torch.tensor([lab_idx[r["intent"]] for r in rows])
        tl, tn = 0.0, 0
        for b in length_batches([len(s) for s in seqs], bs, rng):
            ids, am = pad_batch([seqs[i] for i in b])
            if token_dropout > 0:  # replace random real tokens by an id outside the vocabulary (-> UNK row)
                drop = (torch.rand(ids.shape) < token_dropout) & am.bool()
                ids = torch.where(drop, torch.full_like(ids, unk_id), ids)
            loss = F.cross_entropy(model(ids, am), ys[b], label_smoothing=label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            if ema > 0:
                with torch.no_grad():
                    for pe, p in zip(ema_params, model.parameters()):
                        pe.mul_(ema).add_(p.detach(), alpha=1 - ema)
            tl += loss.item() * len(b)
            tn += len(b)
        if ema > 0:  # evaluate (and keep) the exponential moving average of the weights
            live = [p.detach().clone() for p in model.parameters()]
            with torch.no_grad():
                for pe, p in zip(ema_params, model.parameters()):
                    p.copy_(pe)
        vl = predict_logits(model, val_seqs)
        vloss = float(F.cross_entropy(torch.from_numpy(vl), gold_t).item())
        vacc = float((vl.argmax(-1) == np.array(val_gold)).mean())
        hist.append({"epoch": ep, "train_loss": tl / tn, "val_loss": vloss, "val_acc": vacc})
        improved = vacc > best["val_acc"] + 1e-9 or (abs(vacc - best["val_acc"]) < 1e-9 and vloss < best["val_loss"])
        if stop_at is not None:
            improved = ep == stop_at
        log(f"  {tag} epoch {ep}/{epochs}: train loss {tl / tn:.3f}  val loss {vloss:.3f}  val acc {vacc:.4f}"
            f"{'  *' if improved else ''}  ({time.time() - t0:.0f}s, {len(rows)} ex)")
        if improved:
            best = {"val_acc": vacc, "val_loss": vloss, "epoch": ep, "state": copy.deepcopy(model.state_dict())}
            bad = 0
        else:
            bad += 1
        if ema > 0:
            with torch.no_grad():
                for lp, p in zip(live, model.parameters()):
                    p.copy_(lp)
        if (stop_at is not None and ep >= stop_at) or (stop_at is None and bad >= patience):
            log(f"  {tag} " + (f"stop at epoch {stop_at}" if stop_at is not None else f"early stop (no val improvement for {patience} epochs)"))
            break
    model.load_state_dict(best["state"])
    return {"best_epoch": best["epoch"], "val_acc": best["val_acc"], "val_loss": best["val_loss"],
            "epochs_run": len(hist), "history": hist, "seconds": time.time() - t0}


class LogitEnsemble(torch.nn.Module):
    """N fine-tuned members in one graph; logits are their mean (exports to one ONNX model)."""

    def __init__(self, members):
        super().__init__()
        self.members = torch.nn.ModuleList(members)
        self.config = members[0].config

    def forward(self, input_ids, attention_mask):
        return torch.stack([m(input_ids, attention_mask) for m in self.members]).mean(0)


class _ToFloat(torch.nn.Module):
    def forward(self, x):
        return x.float()


def half_storage(model: torch.nn.Module) -> torch.nn.Module:
    """A copy whose parameters are stored as fp16 and cast to fp32 where used: metrics and the
    parity reference see exactly the shipped (rounded) weights; the ONNX file stores fp16
    initializers behind Cast nodes, which onnxruntime folds into fp32 when the session loads
    (same inference speed, half the file)."""
    import torch.nn.utils.parametrize as P
    h = copy.deepcopy(model).half()
    for mod in list(h.modules()):
        for n, _ in list(mod.named_parameters(recurse=False)):
            P.register_parametrization(mod, n, _ToFloat(), unsafe=True)
    h.fp16_storage = True
    return h.eval()


# --------------------------------------------------------------------------- export / parity
def export_onnx(model: torch.nn.Module, path: str):
    model.eval()
    # torch's constant folding would turn Cast(fp16 initializer) back into an fp32 initializer
    fold = not getattr(model, "fp16_storage", False)
    ids = torch.tensor([[15496, 2159, 11, 703], [15496, EOS_ID, EOS_ID, EOS_ID]])
    am = torch.tensor([[1, 1, 1, 1], [1, 0, 0, 0]])
    torch.onnx.export(
        model, (ids, am), path, opset_version=17, input_names=["input_ids", "attention_mask"],
        output_names=["logits"], do_constant_folding=fold,
        dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                      "logits": {0: "batch"}},
    )


def parity_reference(model: GPT2, texts: list[str], seqs: list[list[int]], path: str, max_len: int):
    """PyTorch logits of each input alone; also checks alone vs right-padded batches in torch."""
    model.eval()
    with torch.no_grad():
        single = [model(*pad_batch([s]))[0].numpy() for s in seqs]
        batched = np.zeros((len(seqs), model.config.num_labels), dtype=np.float32)
        for i in range(0, len(seqs), 16):
            ids, am = pad_batch(seqs[i:i + 16])
            batched[i:i + 16] = model(ids, am).numpy()
    single = np.stack(single)
    d = float(np.abs(single - batched).max())
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"max_length": max_len, "texts": texts, "ids": seqs, "logits": single.tolist()}, f)
    return d


def run_parity(model_dir: str, ref_path: str) -> dict:
    r = subprocess.run(["node", os.path.join(HERE, "parity.mjs"), model_dir, ref_path],
                       cwd=ROOT, capture_output=True, text=True)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    try:
        res = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        res = {"ok": False}
    res["exit_code"] = r.returncode
    return res


# --------------------------------------------------------------------------- main
def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    set_seed(args.seed)
    arch = dict(SMOKE if args.smoke else FULL)
    for k, a in (("n_layer", args.layers), ("n_embd", args.width), ("n_head", args.heads), ("n_positions", args.max_length)):
        if a:
            arch[k] = a
    max_len = arch["n_positions"]
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = args.run_dir or os.path.join(HERE, "runs", f"{stamp}{'-smoke' if args.smoke else ''}")
    os.makedirs(run_dir, exist_ok=True)
    out_dir = os.path.abspath(args.out)
    os.makedirs(out_dir, exist_ok=True)
    log(f"rpa-assistant intent model training  out={out_dir}  run={run_dir}  smoke={args.smoke}  "
        f"torch {torch.__version__} threads={torch.get_num_threads()}")

    # ---- data & splits
    global PARA_PER_EPOCH
    PARA_PER_EPOCH = args.para_per_epoch
    labels, lines, catalog, data_sha = D.load_dataset(args.data, log)
    if args.smoke:
        lines = {l: ls[:40] for l, ls in lines.items()}
    log(f"data: {len(labels)} labels, {sum(map(len, lines.values()))} source lines, sha256 {data_sha[:12]}")
    spl = D.split_lines(lines, args.seed)
    rows = {name: D.filled_split(spl[name], catalog, args.seed, name) for name in ("train", "val", "test")}
    splits_out = args.splits_out or (os.path.join(run_dir, "splits") if args.smoke else os.path.join(HERE, "splits"))
    for name, rs in rows.items():
        D.write_jsonl(os.path.join(splits_out, f"{name}.jsonl"), rs)
    sizes = {name: len(rs) for name, rs in rows.items()}
    sizes_by_label = {name: dict(Counter(r["intent"] for r in rs)) for name, rs in rows.items()}
    log(f"splits (source lines): {sizes} -> {splits_out}")
    pool = D.augment_pool(spl["train"], catalog, args.seed, variants=3 if args.smoke else 8, synonyms=not args.no_synonyms)
    log(f"augmented train pool: {sum(map(len, pool))} texts from {len(pool)} train lines")
    # train-only paraphrase grammar (training/data/paraphrases): sampled per epoch, never in val/test
    para_dir = os.path.join(args.data, "paraphrases")

    def paraphrase_entries(heldout_rows):
        entries = []
        keys = {D.norm_key(r["text"]) for r in heldout_rows}
        if os.path.isdir(para_dir) and not args.smoke:
            for lab in labels:
                fp = os.path.join(para_dir, f"{lab}.txt")
                if not os.path.exists(fp):
                    continue
                for s_ in D.read_lines(fp):
                    rng_ = D.seeded(args.seed, "para", lab, s_)
                    vs = [D.fill(s_, catalog, rng_), D.augment_one(s_, lab, catalog, rng_, not args.no_synonyms)]
                    vs = [v for v in dict.fromkeys(vs) if D.norm_key(v) not in keys]
                    if vs:
                        entries.append([{"text": v, "intent": lab, "para": True} for v in vs])
        return entries

    para_entries = paraphrase_entries(rows["val"] + rows["test"])
    pool += para_entries
    n_para = len(para_entries)
    log(f"paraphrase pool: {n_para} train-only lines, {PARA_PER_EPOCH} per label per epoch")

    # ---- tokenization
    tok = D.NodeTokenizer(os.path.join(HERE, "cache", "tokens.json"))
    corpus_files = []
    corpus_texts = []
    do_pretrain = not (args.init or args.no_pretrain or args.pretrained)
    heldout = {D.norm_key(r["text"]) for r in rows["val"] + rows["test"]}
    # the corpus is the pretraining text and also decides which embedding rows are kept (with --init too)
    # extra_*.txt (make_extra_corpus.py) join only when named by --extra-corpus, as pretraining text only
    for fn in base_corpus_names(os.path.join(HERE, "corpus")):
        ls = D.read_lines(os.path.join(HERE, "corpus", fn))
        ls = [x for x in ls if D.norm_key(x) not in heldout]  # no val/test inputs in the LM corpus
        if args.smoke:
            ls = ls[:300]
        corpus_files.append({"file": f"training/corpus/{fn}", "lines": len(ls)})
        corpus_texts += ls
    extra_texts = []
    for path in extra_corpus_paths(args.extra_corpus):
        ls = [x for x in D.read_lines(path) if D.norm_key(x) not in heldout]
        if args.smoke:
            ls = ls[:300]
        corpus_files.append({"file": os.path.relpath(path, ROOT), "lines": len(ls), "extra": True})
        extra_texts += ls
    unlabeled = [v["text"] for vs in pool for v in vs]  # train-split utterances + their augmented variants (labels unused)
    t = time.time()
    all_texts = corpus_texts + extra_texts + unlabeled + [v["text"] for vs in pool for v in vs] + [r["text"] for r in rows["val"] + rows["test"]]
    tok.encode_many(all_texts)
    log(f"tokenized {len(set(all_texts))} texts in {time.time() - t:.1f}s")
    corpus_ids = tok.encode_many(corpus_texts + unlabeled)
    extra_ids = tok.encode_many(extra_texts)
    val_seqs = [s[:max_len] for s in tok.encode_many([r["text"] for r in rows["val"]])]
    test_seqs = [s[:max_len] for s in tok.encode_many([r["text"] for r in rows["test"]])]
    lab_idx = {l: i for i, l in enumerate(labels)}
    val_gold = [lab_idx[r["intent"]] for r in rows["val"]]
    test_gold = [lab_idx[r["intent"]] for r in rows["test"]]

    # ---- pruned vocabulary
    pre_ckpt = None
    if args.pretrained:
        pre_ckpt = torch.load(args.pretrained, map_location="cpu")
        keep_ids = pre_ckpt["keep_ids"]
        arch = pre_ckpt["arch"]
        max_len = arch["n_positions"]
        log(f"reusing pretrained LM {args.pretrained} ({len(keep_ids)} vocab rows)")
    else:
        # the max_vocab most frequent ids of pretraining corpus + (augmented) train pool; rarer ids
        # (also rare train tokens, so the model sees UNK during fine-tuning) share the UNK row
        cnt = Counter(t for s in corpus_ids for t in s)
        cnt.update(t for vs in pool for s in tok.encode_many([v["text"] for v in vs]) for t in s)
        keep = {EOS_ID} | {t for t, c in sorted(cnt.items(), key=lambda kv: (-kv[1], kv[0]))[: args.max_vocab - 1]}
        keep_ids = sorted(keep)
    id_map = build_id_map(keep_ids)
    # extra text is pretraining-only: it does not choose embedding rows (its rarer ids read as UNK)
    corpus_ids = corpus_ids + extra_ids
    unk_rate = lambda seqs: float(np.mean([id_map[t].item() == len(keep_ids) for s in seqs for t in s]))  # noqa: E731
    log(f"vocabulary: {len(keep_ids)} GPT-2 ids kept (+1 UNK row); UNK rate val {unk_rate(val_seqs):.4f} test {unk_rate(test_seqs):.4f}")

    def new_model(arch_, dropout, hf=None):
        if hf is not None:
            cfg = config_from_hf(hf[0], arch_["n_positions"], len(labels), dropout)
            cfg.vocab_size = len(keep_ids) + 1
            m = GPT2(cfg, id_map)
            missing = load_hf_state_dict(m, hf[1], keep_ids)
            if missing:
                raise SystemExit(f"--init checkpoint lacks {missing[:5]}...")
            return m
        cfg = GPT2Config(vocab_size=len(keep_ids) + 1, num_labels=len(labels), resid_pdrop=dropout,
                         embd_pdrop=dropout, attn_pdrop=dropout, summary_pdrop=dropout, **arch_)
        return GPT2(cfg, id_map)

    hf = None
    if args.init:
        hf = load_hf_checkpoint(args.init)
        log(f"--init {args.init}: HF GPT-2 n_layer={hf[0]['n_layer']} n_embd={hf[0]['n_embd']}; pretraining skipped")
        arch = {"n_layer": hf[0]["n_layer"], "n_embd": hf[0]["n_embd"], "n_head": hf[0]["n_head"],
                "n_positions": min(max_len, hf[0].get("n_positions", 1024))}

    # ---- pretraining
    pre_steps = args.pretrain_steps or (10 if args.smoke else 400)
    pre_bs, pre_block = (8, 32) if args.smoke else (16, 64)

    def pretrained_state(arch_, tag):
        if pre_ckpt is not None and arch_ == pre_ckpt["arch"]:
            return pre_ckpt["state"], pre_ckpt["info"]
        set_seed(args.seed)
        m = new_model(arch_, 0.1)
        info = pretrain(m, corpus_ids, pre_steps, args.seed, pre_bs, min(pre_block, arch_["n_positions"]))
        sd = {k: v for k, v in m.state_dict().items() if not k.startswith("score.")}
        path = os.path.join(run_dir, f"pretrained_lm{tag}.pt")
        torch.save({"arch": arch_, "keep_ids": keep_ids, "state": sd, "info": info}, path)
        log(f"pretrained LM saved to {path}")
        return sd, info

    pre_info, pre_sd = None, None
    if args.init:
        pass
    elif do_pretrain or pre_ckpt is not None:
        log(f"== pretraining causal LM {arch} on {len(corpus_ids)} texts")
        pre_sd, pre_info = pretrained_state(arch, "")

    def init_model(arch_, dropout, sd, seed=None):
        set_seed(args.seed if seed is None else seed)
        if hf is not None:
            return new_model(arch_, dropout, hf)
        m = new_model(arch_, dropout)
        if sd is not None:
            missing, _ = m.load_state_dict(sd, strict=False)
            assert set(missing) <= {"score.weight"}, missing
        return m

    # ---- fine-tuning with hyperparameter search
    if args.grid:
        grid = [tuple(float(x) for x in p.split(":")) for p in args.grid.split(",")]
    elif args.smoke:
        grid = [(3e-3, 0.1)]
    elif args.search:
        grid = [(5e-4, 0.1), (1e-3, 0.1), (5e-4, 0.2)]
    else:
        # selected on validation by the search (`--search`, see the model card's hyperparameter_search)
        grid = [(5e-4, 0.1)]
    epochs = args.epochs or (8 if args.smoke else 10)
    search = []
    best = None
    for lr, drop in grid:
        tag = f"[lr={lr:g} dropout={drop:g}]"
        log(f"== fine-tune {tag}")
        m = init_model(arch, drop, pre_sd)
        r = finetune(m, pool, val_seqs, val_gold, labels, tok, lr=lr, epochs=epochs, seed=args.seed,
                     max_len=max_len, tag=tag, patience=99 if args.smoke else 3,
                     token_dropout=args.token_dropout, per_line=args.per_line, oos_cap=args.oos_cap, ema=args.ema)
        search.append({"lr": lr, "dropout": drop, "best_epoch": r["best_epoch"], "epochs_run": r["epochs_run"],
                       "val_accuracy": r["val_acc"], "val_loss": r["val_loss"], "seconds": round(r["seconds"], 1)})
        if best is None or (r["val_acc"], -r["val_loss"]) > (best[1]["val_acc"], -best[1]["val_loss"]):
            best = (m, r, lr, drop)
    model, fit, best_lr, best_drop = best
    log(f"selected lr={best_lr:g} dropout={best_drop:g} epoch {fit['best_epoch']} (val acc {fit['val_acc']:.4f})")

    # ---- calibration + test
    def evaluate(m, thresholds=None):
        vp = softmax(predict_logits(m, val_seqs))
        tp = softmax(predict_logits(m, test_seqs))
        if thresholds is None:
            thresholds, _, _ = calibrate(vp, np.array(val_gold), labels)
        oos = labels.index(D.OOS)
        res = {"thresholds": thresholds}
        for name, p, g in (("val", vp, val_gold), ("test", tp, test_gold)):
            g = np.array(g)
            res[name] = metrics(apply_rule(p, oos, thresholds["confidence"], thresholds["margin"]), g, labels)
            res[name + "_argmax"] = metrics(p.argmax(-1), g, labels)
        return res

    def train_members(first, first_fit):
        """Fine-tune members 2..N from the same pretrained LM with other seeds (data order, dropout,
        head init), then combine: 'soup' averages the weights (one model, no extra inference cost),
        'ensemble' averages the logits (N models in one ONNX graph), 'best' keeps the best member."""
        members = [(first, first_fit, args.seed)]
        for i in range(1, args.members):
            s_ = args.seed + 1000 * i
            tag = f"[member {i + 1}/{args.members} seed={s_}]"
            log(f"== fine-tune {tag} lr={best_lr:g} dropout={best_drop:g}")
            m = init_model(arch, best_drop, pre_sd, seed=s_)
            r = finetune(m, pool, val_seqs, val_gold, labels, tok, lr=best_lr, epochs=epochs, seed=s_,
                         max_len=max_len, tag=tag, patience=99 if args.smoke else 3,
                         token_dropout=args.token_dropout, per_line=args.per_line, oos_cap=args.oos_cap, ema=args.ema)
            members.append((m, r, s_))
        soup = init_model(arch, best_drop, None)
        states = [m.state_dict() for m, _, _ in members]
        soup.load_state_dict({k: (sum(st[k] for st in states) / len(states)) if states[0][k].is_floating_point() else states[0][k]
                              for k in states[0]})
        ens = LogitEnsemble([m for m, _, _ in members])
        rows_ = []
        for name, m in [(f"member seed={s_}", m) for m, _, s_ in members] + [("soup", soup), ("ensemble", ens)]:
            e = evaluate(m)
            rows_.append({"name": name, "val": e["val"], "test": e["test"], "thresholds": e["thresholds"]})
            log(f"  {name:22s} val {fmt(e['val'])}")
            log(f"  {'':22s} TEST {fmt(e['test'])}")
        if args.combine == "soup":
            chosen, fit_ = soup, first_fit
        elif args.combine == "ensemble":
            chosen, fit_ = ens, first_fit
        else:
            i = max(range(len(members)), key=lambda j: (rows_[j]["val"]["accuracy"], -members[j][1]["val_loss"]))
            chosen, fit_ = members[i][0], members[i][1]
        info = {"members": args.members, "seeds": [s_ for _, _, s_ in members], "combine": args.combine,
                "member_epochs": [r["best_epoch"] for _, r, _ in members],
                "candidates": [{"name": r["name"], "val_accuracy": r["val"]["accuracy"], "test_accuracy": r["test"]["accuracy"],
                                "test_false_trigger_rate": r["test"]["oos_false_trigger_rate"]} for r in rows_]}
        return chosen, fit_, info

    combination = None
    if args.members > 1 and args.no_refit:
        model, fit, combination = train_members(model, fit)

    ev = evaluate(model)
    thresholds = ev["thresholds"]
    log(f"thresholds {thresholds}; val {fmt(ev['val'])}")
    log(f"TEST {fmt(ev['test'])}  (argmax only: acc {ev['test_argmax']['accuracy']:.4f})")
    refit = None
    if not args.no_refit:
        # Refit: with (lr, dropout, epoch count, thresholds) chosen on validation, train again on
        # train + validation source lines, so the shipped model sees every phrasing but test's.
        selected_ev = ev
        rv_lines = {l: spl["train"].get(l, []) + spl["val"].get(l, []) for l in labels}
        rv_pool = D.augment_pool(rv_lines, catalog, args.seed, variants=8, synonyms=not args.no_synonyms)
        rv_pool += paraphrase_entries(rows["test"])
        refits, secs, member_rows = [], 0.0, []
        for i in range(max(1, args.members)):
            s_ = args.seed + 1000 * i
            tag = f"[refit train+val {i + 1}/{max(1, args.members)} seed={s_}]"
            log(f"== {tag} ({sum(map(len, rv_pool))} texts) for {fit['best_epoch']} epochs [lr={best_lr:g} dropout={best_drop:g}]")
            m = init_model(arch, best_drop, pre_sd, seed=s_)
            r = finetune(m, rv_pool, val_seqs, val_gold, labels, tok, lr=best_lr, epochs=epochs, seed=s_,
                         max_len=max_len, tag=tag, stop_at=fit["best_epoch"],
                         token_dropout=args.token_dropout, per_line=args.per_line, oos_cap=args.oos_cap, ema=args.ema)
            refits.append(m)
            secs += r["seconds"]
            if args.members > 1:
                e = evaluate(m, thresholds)
                member_rows.append({"seed": s_, "test": e["test"]})
                log(f"  {tag} TEST {fmt(e['test'])}")
        model = refits[0] if len(refits) == 1 else LogitEnsemble(refits)
        ev = evaluate(model, thresholds)
        refit = {"source_lines": {"train": sum(map(len, spl["train"].values())), "val": sum(map(len, spl["val"].values()))},
                 "members": len(refits), "combine": "mean of logits" if len(refits) > 1 else None, "member_metrics": member_rows or None,
                 "epochs": fit["best_epoch"], "seconds": round(secs, 1),
                 "selected_model": {"val": selected_ev["val"], "test": selected_ev["test"]},
                 "note": "val metrics of the refit model are on data it was trained on; the selection model's are above"}
        log(f"refit TEST {fmt(ev['test'])}  (selection model: {fmt(selected_ev['test'])})")
    fp16 = args.weights == "fp16" or (args.weights == "auto" and isinstance(model, LogitEnsemble))
    if fp16:
        full_test = ev["test"]
        model = half_storage(model)
        ev = evaluate(model, thresholds)
        log(f"fp16 weights TEST {fmt(ev['test'])}  (fp32: {fmt(full_test)})")
    oos = labels.index(D.OOS)
    tpred = apply_rule(softmax(predict_logits(model, test_seqs)), oos, thresholds["confidence"], thresholds["margin"])
    vpred = apply_rule(softmax(predict_logits(model, val_seqs)), oos, thresholds["confidence"], thresholds["margin"])
    with open(os.path.join(run_dir, "val_errors.json"), "w") as f:
        json.dump([{"text": rows["val"][i]["text"], "gold": labels[val_gold[i]], "pred": labels[vpred[i]]}
                   for i in range(len(vpred)) if vpred[i] != val_gold[i]], f, indent=1)
    torch.save({"arch": arch, "keep_ids": keep_ids, "labels": labels, "state": model.state_dict()}, os.path.join(run_dir, "finetuned.pt"))
    errors = [{"text": rows["test"][i]["text"], "gold": labels[test_gold[i]], "pred": labels[tpred[i]]}
              for i in range(len(tpred)) if tpred[i] != test_gold[i]]
    with open(os.path.join(run_dir, "test_errors.json"), "w") as f:
        json.dump(errors, f, indent=1)

    # ---- ablations (same data, same selected lr/dropout, same epochs budget)
    ablations = {}
    if not (args.smoke or not args.ablations or args.init):
        drop = best_drop
        ablations["shipped"] = summarize_run(arch, model, fit, ev, best_lr, drop, pretrained=pre_sd is not None)
        if pre_sd is not None:
            log(f"== ablation: shipped config without pretraining [lr={best_lr:g} dropout={drop:g}]")
            m = init_model(arch, drop, None)
            r = finetune(m, pool, val_seqs, val_gold, labels, tok, lr=best_lr, epochs=epochs, seed=args.seed,
                         max_len=max_len, tag="[no-pretrain]", token_dropout=args.token_dropout, per_line=args.per_line, oos_cap=args.oos_cap, ema=args.ema)
            ablations["no_pretrain"] = summarize_run(arch, m, r, evaluate(m), best_lr, drop, pretrained=False)
            del m
        large = dict(LARGE, n_positions=arch["n_positions"])
        log(f"== ablation: larger config {large}, no pretraining (compare with no_pretrain)")
        m = init_model(large, drop, None)
        r = finetune(m, pool, val_seqs, val_gold, labels, tok, lr=best_lr, epochs=epochs, seed=args.seed,
                     max_len=max_len, tag="[larger]", token_dropout=args.token_dropout, per_line=args.per_line, oos_cap=args.oos_cap, ema=args.ema)
        ablations["larger_no_pretrain"] = summarize_run(large, m, r, evaluate(m), best_lr, drop, pretrained=False)
        del m
        for k, v in ablations.items():
            log(f"  {k:18s} val acc {v['val']['accuracy']:.4f} test acc {v['test']['accuracy']:.4f} "
                f"test FTR {v['test']['false_trigger_rate']:.4f} OOS recall {v['test']['oos_recall']:.4f} params {v['params']:,}")

    # ---- export + parity
    model.eval()
    onnx_path = os.path.join(out_dir, "model.onnx")
    export_onnx(model, onnx_path)
    shutil.copyfile(D.DEFAULT_TOKENIZER_JSON, os.path.join(out_dir, "tokenizer.json"))
    with open(os.path.join(out_dir, "labels.json"), "w") as f:
        json.dump(labels, f, indent=1)
    # parity inputs: val + test texts, plus a few edge cases (long, punctuation, unicode, casing)
    extra = ["hi", "?", "CREATE A PURCHASE ORDER FOR 40 BOXES OF GLOVES FROM ACME NOW PLEASE",
             "ünïcödé façade — 中文 🚀 <|endoftext|>", " ".join(["please check the stock level"] * 20)]
    ptexts = ([r["text"] for r in rows["test"]] + [r["text"] for r in rows["val"]])[: (40 if args.smoke else 300)] + extra
    pseqs = [s[:max_len] for s in tok.encode_many(ptexts)]
    ref_path = os.path.join(run_dir, "parity_reference.json")
    torch_pad_diff = parity_reference(model, ptexts, pseqs, ref_path, max_len)
    log(f"torch: alone vs right-padded batch max abs diff {torch_pad_diff:.2e}; ONNX exported ({os.path.getsize(onnx_path) / 1e6:.2f} MB)")
    n_params = sum(p.numel() for p in model.parameters())
    card = {
        "name": "intent-gpt2" if not args.smoke else "intent-gpt2-smoke",
        "description": "GPT-2 style decoder (HF GPT2ForSequenceClassification layout) fine-tuned to classify "
                       "operations-chat messages into intents; classification reads the last non-pad token.",
        "architecture": {
            "type": "gpt2", "n_layer": arch["n_layer"], "n_embd": arch["n_embd"], "n_head": arch["n_head"],
            "n_positions": max_len, "max_length": max_len, "vocab_rows": len(keep_ids) + 1,
            "tokenizer_vocab_size": GPT2_VOCAB, "activation": "gelu_new", "parameters": n_params,
            "pruned_embedding": "id_map[50257] maps GPT-2 ids to wte rows; unseen ids share one UNK row",
            "ensemble_members": len(getattr(model, "members", [])) or 1,
            "ensemble": "mean of the members' logits, one ONNX graph" if getattr(model, "members", None) else None,
            "weights_storage": "fp16 initializers cast to fp32 at load" if fp16 else "fp32",
            "init": ("HF checkpoint " + args.init) if args.init else ("causal-LM pretraining" if pre_sd is not None else "random"),
        },
        "labels": labels,
        "pad_token_id": EOS_ID,
        "eos_token_id": EOS_ID,
        "tokenization": {
            "tokenizer": "tokenizer.json (GPT-2 byte-level BPE, 50257 ids)",
            "add_special_tokens": False,
            "special_tokens_in_text": "encoded as plain text (added_tokens removed, as src/inference/tokenizer.ts)",
            "truncation": f"keep the first {max_len} ids",
            "padding": "right, with pad_token_id; attention_mask 1 for real tokens",
        },
        "onnx": {"file": "model.onnx", "opset": 17, "inputs": {"input_ids": "int64 [batch, sequence]", "attention_mask": "int64 [batch, sequence]"},
                 "outputs": {"logits": "float32 [batch, num_labels]"}, "bytes": os.path.getsize(onnx_path)},
        "thresholds": thresholds,
        "out_of_scope_rule": "predict out_of_scope when top-1 is out_of_scope, or top-1 probability < thresholds.confidence, "
                             "or top-1 minus top-2 probability < thresholds.margin",
        "thresholds_selection": "grid on validation: minimise write-intent false-trigger rate subject to accuracy >= best grid accuracy - 0.5 pt; "
                                "ties -> higher accuracy, then higher thresholds",
        "write_intents": D.WRITE_INTENTS,
        "false_trigger_rate_definition": "share of all examples predicted as a write intent that is not their gold label",
        "data": {"dir": os.path.relpath(os.path.abspath(args.data), ROOT), "sha256": data_sha, "split_seed": args.seed,
                 "split": "stratified by label over source lines (templates) before placeholder filling: 70/15/15",
                 "split_sizes": sizes, "split_sizes_by_label": sizes_by_label,
                 "train_augmented_pool": sum(map(len, pool)),
                 "augmentation": "train only: catalog entity substitution, " + ("" if args.no_synonyms else "domain synonym swaps (data.SYNONYMS), ")
                                 + "politeness prefixes/suffixes, casing, char swap/drop/dup typos; "
                                 f"each epoch samples {args.per_line} variants per train line, out_of_scope capped at {args.oos_cap:g}x mean in-scope class size; "
                                 f"{args.token_dropout:g} of input tokens replaced by UNK",
                 "splits_written_to": os.path.relpath(os.path.abspath(splits_out), ROOT)},
        "pretraining": ({"corpus": corpus_files + [{"file": "train-split utterances and their augmented variants (unlabeled)", "lines": len(unlabeled)}],
                         "attribution": "training/corpus/ATTRIBUTION.md", **(pre_info or {})} if pre_sd is not None else None),
        "fine_tuning": {"optimizer": "AdamW wd 0.01, linear warmup 6% + linear decay", "batch_size": 32,
                        "label_smoothing": 0.1, "max_epochs": epochs, "ema_decay": args.ema, "token_dropout": args.token_dropout,
                        "variants_per_line_per_epoch": args.per_line, "oos_cap": args.oos_cap, "early_stopping": "val accuracy, patience 3",
                        "selected": {"lr": best_lr, "dropout": best_drop, "epoch": fit["best_epoch"]}},
        "hyperparameter_search": search,
        "members": combination,
        "refit": refit,
        "metrics": {"val": ev["val"], "test": ev["test"], "val_argmax_only": ev["val_argmax"], "test_argmax_only": ev["test_argmax"]},
        "comparisons": ablations or None,
        "parity": None,
        "training_time_seconds": None,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": "npm run train" + ("" if not (argv or sys.argv[1:]) else " -- " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))),
        "environment": {"python": platform.python_version(), "torch": torch.__version__, "threads": args.threads,
                        "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}"},
    }
    write_card(out_dir, card)
    if not args.skip_parity:
        par = run_parity(out_dir, ref_path)
        card["parity"] = {k: par.get(k) for k in ("inputs", "max_abs_diff_single", "max_abs_diff_batched", "argmax_agree", "tokenization_agree", "ok")}
        card["parity"]["torch_alone_vs_batched_max_abs_diff"] = torch_pad_diff
        card["parity"]["tolerance"] = 1e-4
        if not par.get("ok") or par["exit_code"] != 0:
            card["training_time_seconds"] = round(time.time() - T0, 1)
            write_card(out_dir, card)
            log("PARITY CHECK FAILED")
            return 1
    card["training_time_seconds"] = round(time.time() - T0, 1)
    write_card(out_dir, card)
    card["size"] = {"model_onnx_mb": round(os.path.getsize(onnx_path) / 1e6, 2),
                    "tokenizer_json_mb": round(os.path.getsize(os.path.join(out_dir, "tokenizer.json")) / 1e6, 2),
                    "model_dir_mb": round(sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir)) / 1e6, 2),
                    "budget_mb": 25}
    write_card(out_dir, card)
    size = sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir))
    log(f"done in {time.time() - T0:.0f}s: {out_dir} ({size / 1e6:.2f} MB, {n_params:,} parameters)")
    return 0


def fmt(m):
    return (f"acc {m['accuracy']:.4f} macroF1 {m['macro_f1']:.4f} OOS recall {m['oos_recall'] if m['oos_recall'] is None else round(m['oos_recall'], 4)} "
            f"false-trigger {m['false_trigger_rate']:.4f} ({m['false_triggers']})")


def summarize_run(arch, m, r, e, lr, drop, pretrained):
    return {"arch": arch, "params": sum(p.numel() for p in m.parameters()),
            "fp32_megabytes": round(sum(p.numel() for p in m.parameters()) * 4 / 1e6, 2),
            "pretrained": pretrained, "lr": lr, "dropout": drop, "best_epoch": r["best_epoch"],
            "thresholds": e["thresholds"], "val": e["val"], "test": e["test"],
            "test_argmax_only": e["test_argmax"], "fine_tune_seconds": round(r["seconds"], 1)}


def write_card(out_dir, card):
    with open(os.path.join(out_dir, "model_card.json"), "w") as f:
        json.dump(card, f, indent=2)
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write(readme(card))


def pct(x):
    return "n/a" if x is None else f"{100 * x:.2f}%"


def readme(c):
    a, t, v = c["architecture"], c["metrics"]["test"], c["metrics"]["val"]
    L = [f"# {c['name']} — model card", "", c["description"], "",
         "## Files", "", "- `model.onnx` — ONNX opset 17; inputs `input_ids`, `attention_mask` (int64 `[batch, sequence]`, right-padded with "
         f"{c['pad_token_id']}); output `logits` `[batch, {len(c['labels'])}]`",
         "- `tokenizer.json` — the official GPT-2 byte-level BPE (ids identical to reference GPT-2)",
         "- `labels.json` — label of each logit, in order", "- `model_card.json` — everything below, machine-readable", "",
         "## Architecture", "",
         f"GPT-2 decoder, {a['n_layer']} layers, d={a['n_embd']}, {a['n_head']} heads, max_length {a['max_length']} tokens "
         f"(longer inputs keep their first {a['max_length']} ids), {a['parameters']:,} parameters. "
         f"The embedding table is pruned to {a['vocab_rows']} rows ({a['pruned_embedding']}). Init: {a['init']}."
         + (f" {a['ensemble_members']} members ({a['ensemble']}); parameters counted over all members." if a.get("ensemble") else "")
         + (f" Weights: {a['weights_storage']}." if a.get("weights_storage") else "")
         + (f" Size: model.onnx {c['size']['model_onnx_mb']} MB, whole directory {c['size']['model_dir_mb']} MB (budget {c['size']['budget_mb']} MB)." if c.get("size") else ""), "",
         "## Out-of-scope rule", "", f"{c['out_of_scope_rule']}: confidence **{c['thresholds']['confidence']}**, margin **{c['thresholds']['margin']}** "
         f"(chosen on validation: {c['thresholds_selection']}).", "",
         "## Metrics (with the out-of-scope rule)", "", "| split | n | accuracy | macro-F1 | in-scope accuracy | OOS recall | false-trigger rate |", "|---|---|---|---|---|---|---|"]
    if c.get("refit"):  # the refit trained on validation: report the selection model's validation metrics
        v = c["refit"]["selected_model"]["val"]
    for name, m in ((("validation (train-only selection model)" if c.get("refit") else "validation"), v), ("test", t)):
        L.append(f"| {name} | {m['n']} | {pct(m['accuracy'])} | {pct(m['macro_f1'])} | {pct(m['in_scope_accuracy'])} | {pct(m['oos_recall'])} | {pct(m['false_trigger_rate'])} ({m['false_triggers']}) |")
    L += ["", f"False-trigger rate: {c['false_trigger_rate_definition']} (write intents: {', '.join(c['write_intents'])})."
          + (f" `npm run nlu -- eval` reports the share of out-of-scope rows predicted as a write intent: test {pct(t['oos_false_trigger_rate'])}."
             if t.get("oos_false_trigger_rate") is not None else ""), ""]
    if c.get("comparisons"):
        L += ["## Comparisons (same data, same selected hyperparameters)", "",
              "| run | layers × width | params | pretrained | val acc | test acc | test OOS recall | test false-trigger |", "|---|---|---|---|---|---|---|---|"]
        for k, r in c["comparisons"].items():
            L.append(f"| {k} | {r['arch']['n_layer']} × {r['arch']['n_embd']} | {r['params']:,} | {r['pretrained']} | {pct(r['val']['accuracy'])} | "
                     f"{pct(r['test']['accuracy'])} | {pct(r['test']['oos_recall'])} | {pct(r['test']['false_trigger_rate'])} |")
        L.append("")
    if c.get("refit"):
        r = c["refit"]
        sel = r["selected_model"]
        L += ["## Refit on train + validation" + (f", {r['members']}-member ensemble" if r.get("members", 1) > 1 else ""), "",
              f"Hyperparameters, epoch count ({r['epochs']}) and out-of-scope thresholds were chosen with the model trained on train only "
              f"and selected on validation (val accuracy {pct(sel['val']['accuracy'])}, test accuracy {pct(sel['test']['accuracy'])}, "
              f"test false-trigger {pct(sel['test']['false_trigger_rate'])}). The shipped weights were then trained again on train + validation source lines "
              f"({r['source_lines']['train']} + {r['source_lines']['val']}) with those settings"
              + (f", {r['members']} times with different seeds; the model averages their logits in one ONNX graph" if r.get("members", 1) > 1 else "")
              + ". The test split was never used for a choice. The validation row above is the selection model's: the refit trained on validation.", ""]
        if r.get("member_metrics"):
            L += ["| refit member | test accuracy | test OOS recall | test false-trigger |", "|---|---|---|---|"]
            for mm in r["member_metrics"]:
                L.append(f"| seed {mm['seed']} | {pct(mm['test']['accuracy'])} | {pct(mm['test']['oos_recall'])} | {pct(mm['test']['false_trigger_rate'])} |")
            L.append(f"| **ensemble (shipped)** | **{pct(t['accuracy'])}** | {pct(t['oos_recall'])} | {pct(t['false_trigger_rate'])} |")
            L.append("")
    if c.get("hyperparameter_search"):
        L += ["## Hyperparameter search (selected on validation accuracy)", "", "| lr | dropout | best epoch | val accuracy | val loss | seconds |", "|---|---|---|---|---|---|"]
        for s in c["hyperparameter_search"]:
            L.append(f"| {s['lr']:g} | {s['dropout']:g} | {s['best_epoch']} | {pct(s['val_accuracy'])} | {s['val_loss']:.3f} | {s['seconds']} |")
        L.append("")
    d = c["data"]
    L += ["## Data", "", f"`{d['dir']}` (sha256 `{d['sha256'][:16]}…`), split seed {d['split_seed']}: {d['split']}. "
          f"Sizes: train {d['split_sizes']['train']}, val {d['split_sizes']['val']}, test {d['split_sizes']['test']} "
          f"(train augmented pool {d['train_augmented_pool']}). Augmentation: {d['augmentation']}.", ""]
    if c.get("pretraining"):
        p = c["pretraining"]
        L += ["## Pretraining", "", f"Causal LM (tied head over the pruned vocabulary), {p.get('steps')} steps, "
              f"{p.get('tokens_seen', 0):,} tokens seen of a {p.get('corpus_tokens', 0):,}-token corpus: "
              + ", ".join(f"`{x['file']}` ({x['lines']} lines)" for x in p["corpus"]) + ". Attribution: training/corpus/ATTRIBUTION.md "
              "(Wikipedia sentences and CLINC150 training queries from Larson et al. 2019, CC BY 3.0).", ""]
    if c.get("parity"):
        p = c["parity"]
        L += ["## Parity (PyTorch vs onnxruntime-node)", "", f"{p.get('inputs')} inputs, alone and right-padded in batches: max |Δlogit| "
              f"{p.get('max_abs_diff_single')} / {p.get('max_abs_diff_batched')}, argmax agreement {p.get('argmax_agree')}, tolerance {p.get('tolerance')}.", ""]
    L += ["## Reproduce", "", f"`{c['command']}` — {c['training_time_seconds']} s on {c['environment']['machine']} "
          f"(torch {c['environment']['torch']}, {c['environment']['threads']} threads), {c['date']}.", "",
          "## Limitations", "", "Trained on synthetic operations-chat data (English); anything far from it should fall to out_of_scope "
          "but is not guaranteed to. Write intents should still be confirmed by the user before an automation runs.", ""]
    return "\n".join(L)


if __name__ == "__main__":
    sys.exit(main())
