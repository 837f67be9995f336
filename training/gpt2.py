"""GPT-2 in plain PyTorch with Hugging Face-compatible parameter names.

Parameter names follow ``transformers.GPT2ForSequenceClassification`` /
``GPT2LMHeadModel`` (``transformer.wte.weight``, ``transformer.h.0.attn.c_attn.weight``
stored Conv1D-style as ``[in, out]``, ``transformer.ln_f``, ``score.weight``), so a
state dict saved by Hugging Face loads here (see :func:`load_hf_state_dict`).

Differences from the reference implementation, all shape-compatible:

* ``id_map`` buffer (int64[50257]): GPT-2 token id -> row of a *pruned* embedding
  table.  ``wte`` only holds the rows the training corpus uses plus one shared UNK
  row; the tokenizer stays the full GPT-2 BPE.  With an identity ``id_map`` and all
  50257 rows this is exactly GPT-2.
* The sequence-classification head reads the hidden state of the last non-pad
  token, ``index = attention_mask.sum(-1) - 1`` (right padding).
* Attention combines the causal mask with the padding mask and uses a large finite
  negative value (no NaN for fully masked rows).
"""
from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

GPT2_VOCAB = 50257
EOS_ID = 50256
NEG = -1e9


@dataclass
class GPT2Config:
    vocab_size: int = GPT2_VOCAB  # rows of the (pruned) wte table
    n_positions: int = 64
    n_embd: int = 256
    n_layer: int = 4
    n_head: int = 4
    n_inner: int | None = None
    layer_norm_epsilon: float = 1e-5
    resid_pdrop: float = 0.1
    embd_pdrop: float = 0.1
    attn_pdrop: float = 0.1
    summary_pdrop: float = 0.1
    num_labels: int = 2
    pad_token_id: int = EOS_ID

    def to_dict(self):
        return asdict(self)


class Conv1D(nn.Module):
    """HF ``Conv1D``: a linear layer whose weight is stored as ``[in, out]``."""

    def __init__(self, nf: int, nx: int):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x):
        return torch.matmul(x, self.weight) + self.bias


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Attention(nn.Module):
    def __init__(self, cfg: GPT2Config):
        super().__init__()
        d = cfg.n_embd
        assert d % cfg.n_head == 0
        self.n_head = cfg.n_head
        self.head_dim = d // cfg.n_head
        self.c_attn = Conv1D(3 * d, d)
        self.c_proj = Conv1D(d, d)
        self.attn_dropout = nn.Dropout(cfg.attn_pdrop)
        self.resid_dropout = nn.Dropout(cfg.resid_pdrop)

    def forward(self, x, mask):
        # x: [B, T, d]; mask: bool [B, 1, T, T] (True = may attend)
        B, T, d = x.shape
        q, k, v = self.c_attn(x).split(d, dim=2)
        q = q.reshape(B, T, self.n_head, self.head_dim).transpose(1, 2)
        k = k.reshape(B, T, self.n_head, self.head_dim).transpose(1, 2)
        v = v.reshape(B, T, self.n_head, self.head_dim).transpose(1, 2)
        att = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(self.head_dim))
        att = torch.where(mask, att, torch.full_like(att, NEG))
        att = torch.softmax(att, dim=-1)
        att = self.attn_dropout(att)
        y = torch.matmul(att, v).transpose(1, 2).reshape(B, T, d)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, cfg: GPT2Config):
        super().__init__()
        inner = cfg.n_inner or 4 * cfg.n_embd
        self.c_fc = Conv1D(inner, cfg.n_embd)
        self.c_proj = Conv1D(cfg.n_embd, inner)
        self.dropout = nn.Dropout(cfg.resid_pdrop)

    def forward(self, x):
        return self.dropout(self.c_proj(gelu_new(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, cfg: GPT2Config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.attn = Attention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.mlp = MLP(cfg)

    def forward(self, x, mask):
        x = x + self.attn(self.ln_1(x), mask)
        x = x + self.mlp(self.ln_2(x))
        return x


class Transformer(nn.Module):
    def __init__(self, cfg: GPT2Config):
        super().__init__()
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.n_positions, cfg.n_embd)
        self.drop = nn.Dropout(cfg.embd_pdrop)
        self.h = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.01)
        # GPT-2 scaled init of residual projections
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * cfg.n_layer))


class GPT2(nn.Module):
    """GPT-2 trunk + tied LM head (pretraining) + ``score`` classification head."""

    def __init__(self, cfg: GPT2Config, id_map: torch.Tensor | None = None):
        super().__init__()
        self.config = cfg
        self.transformer = Transformer(cfg)
        self.score = nn.Linear(cfg.n_embd, cfg.num_labels, bias=False)
        nn.init.normal_(self.score.weight, std=0.02)
        self.summary_dropout = nn.Dropout(cfg.summary_pdrop)
        if id_map is None:
            assert cfg.vocab_size == GPT2_VOCAB, "a pruned vocabulary needs an id_map"
            id_map = torch.arange(GPT2_VOCAB, dtype=torch.long)
        self.register_buffer("id_map", id_map.to(torch.long).clone())

    # -- trunk ---------------------------------------------------------------
    def hidden_states(self, input_ids, attention_mask):
        B, T = input_ids.shape
        t = self.transformer
        pos = torch.arange(T, device=input_ids.device)
        x = t.wte(self.id_map[input_ids]) + t.wpe(pos)[None]
        x = t.drop(x)
        causal = pos[None, :] <= pos[:, None]  # [T(query), T(key)]
        keep = attention_mask.bool()[:, None, None, :]  # [B,1,1,T]
        mask = causal[None, None] & keep  # [B,1,T,T]
        for blk in t.h:
            x = blk(x, mask)
        return t.ln_f(x)

    # -- heads ---------------------------------------------------------------
    def forward(self, input_ids, attention_mask):
        """Sequence-classification logits ``[B, num_labels]``."""
        h = self.hidden_states(input_ids, attention_mask)
        idx = (attention_mask.sum(-1) - 1).clamp(min=0)  # last non-pad token
        last = torch.gather(h, 1, idx[:, None, None].expand(-1, 1, h.shape[-1])).squeeze(1)
        return self.score(self.summary_dropout(last))

    def lm_loss(self, input_ids, attention_mask):
        """Causal-LM loss over the pruned vocabulary (LM head tied to ``wte``)."""
        h = self.hidden_states(input_ids, attention_mask)
        logits = torch.matmul(h[:, :-1], self.transformer.wte.weight.t())
        target = self.id_map[input_ids[:, 1:]]
        valid = attention_mask[:, 1:].bool()
        if bool(valid.all()):
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
        return F.cross_entropy(logits[valid], target[valid])


# ---------------------------------------------------------------------------
# Hugging Face checkpoint loading
# ---------------------------------------------------------------------------
_ST_DTYPES = {
    "F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64,
    "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_,
}


def read_safetensors(path: str) -> dict[str, torch.Tensor]:
    """Minimal safetensors reader: u64 LE header length, JSON header, raw tensor bytes."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            dtype, shape, (start, end) = info["dtype"], info["shape"], info["data_offsets"]
            f.seek(base + start)
            buf = f.read(end - start)
            if dtype == "BF16":
                raw = np.frombuffer(buf, dtype=np.uint16).astype(np.uint32) << 16
                arr = raw.view(np.float32)
            else:
                if dtype not in _ST_DTYPES:
                    raise ValueError(f"unsupported safetensors dtype {dtype} for {name}")
                arr = np.frombuffer(buf, dtype=np.dtype(_ST_DTYPES[dtype]).newbyteorder("<"))
            out[name] = torch.from_numpy(arr.astype(arr.dtype.newbyteorder("="), copy=True).reshape(shape))
    return out


def write_safetensors(path: str, tensors: dict[str, torch.Tensor]):
    """Minimal safetensors writer (used by tests to build HF-style checkpoints)."""
    rev = {v: k for k, v in _ST_DTYPES.items()}
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        a = t.detach().cpu().contiguous().numpy()
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": rev[a.dtype.type], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_hf_checkpoint(init_dir: str) -> tuple[dict, dict[str, torch.Tensor]]:
    """Read ``config.json`` + ``model.safetensors`` (or ``pytorch_model.bin``)."""
    with open(os.path.join(init_dir, "config.json")) as f:
        hf_cfg = json.load(f)
    st = os.path.join(init_dir, "model.safetensors")
    pt = os.path.join(init_dir, "pytorch_model.bin")
    if os.path.exists(st):
        sd = read_safetensors(st)
    elif os.path.exists(pt):
        sd = torch.load(pt, map_location="cpu")
    else:
        raise FileNotFoundError(f"{init_dir}: neither model.safetensors nor pytorch_model.bin")
    # GPT2Model checkpoints (e.g. the official "gpt2") have no "transformer." prefix.
    norm = {}
    for k, v in sd.items():
        if k.startswith("lm_head.") or k.startswith("score."):
            norm[k] = v
        elif k.startswith("transformer."):
            norm[k] = v
        else:
            norm["transformer." + k] = v
    # drop non-parameter buffers of old HF versions
    norm = {k: v for k, v in norm.items() if not (k.endswith(".attn.bias") and v.dim() == 4) and not k.endswith("masked_bias")}
    return hf_cfg, norm


def config_from_hf(hf_cfg: dict, n_positions: int, num_labels: int, dropout: float) -> GPT2Config:
    act = hf_cfg.get("activation_function", "gelu_new")
    if act not in ("gelu_new", "gelu_pytorch_tanh", "gelu"):
        raise ValueError(f"unsupported activation {act}")
    return GPT2Config(
        vocab_size=GPT2_VOCAB,
        n_positions=min(n_positions, hf_cfg.get("n_positions", 1024)),
        n_embd=hf_cfg["n_embd"], n_layer=hf_cfg["n_layer"], n_head=hf_cfg["n_head"],
        n_inner=hf_cfg.get("n_inner"), layer_norm_epsilon=hf_cfg.get("layer_norm_epsilon", 1e-5),
        resid_pdrop=dropout, embd_pdrop=dropout, attn_pdrop=dropout, summary_pdrop=dropout,
        num_labels=num_labels,
    )


def load_hf_state_dict(model: GPT2, sd: dict[str, torch.Tensor], keep_ids: torch.Tensor | None = None) -> list[str]:
    """Copy a HF-named (full-vocabulary) state dict into ``model``.

    ``keep_ids`` (GPT-2 ids in row order) prunes ``wte``: row i of the model gets
    ``wte[keep_ids[i]]``; the extra last (UNK) row gets the mean of all rows.
    ``wpe`` is truncated to ``n_positions``.  ``score``/``lm_head`` are ignored
    (a new head is trained).  Returns the list of model keys not found in ``sd``.
    """
    own = model.state_dict()
    missing = []
    with torch.no_grad():
        for k, p in own.items():
            if k in ("id_map", "score.weight"):
                continue
            if k not in sd:
                missing.append(k)
                continue
            src = sd[k].to(p.dtype)
            if k == "transformer.wte.weight" and keep_ids is not None:
                rows = src[torch.as_tensor(keep_ids, dtype=torch.long)]
                unk = src.mean(0, keepdim=True)
                src = torch.cat([rows, unk], 0)
            elif k == "transformer.wpe.weight":
                src = src[: p.shape[0]]
            if tuple(src.shape) != tuple(p.shape):
                raise ValueError(f"{k}: checkpoint shape {tuple(src.shape)} != model {tuple(p.shape)}")
            p.copy_(src)
    return missing


def build_id_map(keep_ids: list[int]) -> torch.Tensor:
    """GPT-2 id -> compact row; unseen ids -> the last (UNK) row."""
    unk = len(keep_ids)
    m = torch.full((GPT2_VOCAB,), unk, dtype=torch.long)
    m[torch.tensor(keep_ids, dtype=torch.long)] = torch.arange(len(keep_ids))
    return m
