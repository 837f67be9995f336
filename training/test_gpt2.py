"""Unit tests of the training code that need no data:  /usr/bin/python3 -m unittest discover -s training -p 'test_*.py'

* HF-compatible parameter names and Conv1D layout; loading a Hugging Face-style checkpoint
  (GPT2Model naming without "transformer.", GPT2LMHeadModel naming with it, old ``attn.bias``
  buffers) from model.safetensors and from pytorch_model.bin, with vocabulary pruning.
* The safetensors reader/writer (F32, F16, BF16, I64).
* Causal + padding mask: logits of an input alone equal its logits right-padded in a batch.
* Ensembles with fp16 weight storage: logits are the mean of the members' with fp16-rounded
  weights, and the exported ONNX file keeps the weights as fp16 (about half the fp32 file).
"""
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2 import (GPT2, GPT2_VOCAB, GPT2Config, build_id_map, config_from_hf, load_hf_checkpoint,  # noqa: E402
                  load_hf_state_dict, read_safetensors, write_safetensors)

torch.set_num_threads(1)

HF_KEYS_LAYER = ["ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
                 "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
                 "mlp.c_proj.weight", "mlp.c_proj.bias"]


def tiny_full(seed=0):
    torch.manual_seed(seed)
    cfg = GPT2Config(vocab_size=GPT2_VOCAB, n_positions=128, n_embd=32, n_layer=2, n_head=2, num_labels=3,
                     resid_pdrop=0, embd_pdrop=0, attn_pdrop=0, summary_pdrop=0)
    m = GPT2(cfg).eval()
    with torch.no_grad():  # non-trivial layer norms / biases
        for n, p in m.named_parameters():
            if p.dim() == 1:
                p.add_(torch.randn_like(p) * 0.1)
    return m


def hf_config(m):
    c = m.config
    return {"model_type": "gpt2", "n_layer": c.n_layer, "n_embd": c.n_embd, "n_head": c.n_head,
            "n_positions": c.n_positions, "vocab_size": GPT2_VOCAB, "layer_norm_epsilon": 1e-5,
            "activation_function": "gelu_new"}


class TestNames(unittest.TestCase):
    def test_hf_parameter_names_and_shapes(self):
        m = tiny_full()
        sd = m.state_dict()
        self.assertEqual(tuple(sd["transformer.wte.weight"].shape), (GPT2_VOCAB, 32))
        self.assertEqual(tuple(sd["transformer.wpe.weight"].shape), (128, 32))
        for k in HF_KEYS_LAYER:
            self.assertIn(f"transformer.h.1.{k}", sd)
        # Conv1D layout [in, out]
        self.assertEqual(tuple(sd["transformer.h.0.attn.c_attn.weight"].shape), (32, 96))
        self.assertEqual(tuple(sd["transformer.h.0.mlp.c_fc.weight"].shape), (32, 128))
        self.assertEqual(tuple(sd["transformer.h.0.mlp.c_proj.weight"].shape), (128, 32))
        self.assertIn("transformer.ln_f.weight", sd)
        self.assertEqual(tuple(sd["score.weight"].shape), (3, 32))


class TestSafetensors(unittest.TestCase):
    def test_roundtrip_dtypes(self):
        ts = {"a": torch.randn(3, 4), "b": torch.randn(5).half(), "c": torch.arange(7, dtype=torch.long)}
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "x.safetensors")
            write_safetensors(p, ts)
            back = read_safetensors(p)
        for k, v in ts.items():
            self.assertEqual(back[k].dtype, v.dtype)
            self.assertTrue(torch.equal(back[k], v))

    def test_bf16(self):
        x = torch.tensor([1.0, -2.5, 3.140625], dtype=torch.float32)
        raw = (x.view(torch.int32) >> 16).to(torch.int16).numpy().astype("<i2").tobytes()
        header = json.dumps({"__metadata__": {"format": "pt"}, "w": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]}}).encode()
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "b.safetensors")
            with open(p, "wb") as f:
                f.write(len(header).to_bytes(8, "little") + header + raw)
            self.assertTrue(torch.equal(read_safetensors(p)["w"], x))


class TestHFLoad(unittest.TestCase):
    def _check_loaded(self, d, ref):
        hf_cfg, sd = load_hf_checkpoint(d)
        keep = sorted({15496, 2159, 11, 703, 257, 50256, 1000, 42})
        cfg = config_from_hf(hf_cfg, n_positions=64, num_labels=3, dropout=0.0)
        cfg.vocab_size = len(keep) + 1
        m = GPT2(cfg, build_id_map(keep)).eval()
        missing = load_hf_state_dict(m, sd, keep)
        self.assertEqual(missing, [])
        with torch.no_grad():
            m.score.weight.copy_(ref.score.weight)
        ids = torch.tensor([[15496, 2159, 11, 703, 257, 42]])
        am = torch.ones_like(ids)
        with torch.no_grad():
            self.assertTrue(torch.allclose(m(ids, am), ref(ids, am), atol=1e-5))
            # hidden states equal the reference full-vocabulary model
            self.assertTrue(torch.allclose(m.hidden_states(ids, am), ref.hidden_states(ids, am), atol=1e-5))
        # wte pruned, UNK row = mean; wpe truncated to n_positions
        self.assertEqual(tuple(m.transformer.wte.weight.shape), (len(keep) + 1, 32))
        self.assertTrue(torch.allclose(m.transformer.wte.weight[-1], ref.transformer.wte.weight.mean(0), atol=1e-6))
        self.assertEqual(m.transformer.wpe.weight.shape[0], 64)
        self.assertEqual(int(m.id_map[12345]), len(keep))

    def test_safetensors_gpt2model_naming(self):
        ref = tiny_full(1)
        sd = {k[len("transformer."):]: v for k, v in ref.state_dict().items() if k.startswith("transformer.")}
        for i in range(ref.config.n_layer):  # old HF checkpoints carry the causal-mask buffer
            sd[f"h.{i}.attn.bias"] = torch.tril(torch.ones(1, 1, 128, 128))
        with tempfile.TemporaryDirectory() as d:
            write_safetensors(os.path.join(d, "model.safetensors"), sd)
            with open(os.path.join(d, "config.json"), "w") as f:
                json.dump(hf_config(ref), f)
            self._check_loaded(d, ref)

    def test_pytorch_bin_lmhead_naming(self):
        ref = tiny_full(2)
        sd = {k: v for k, v in ref.state_dict().items() if k.startswith("transformer.")}
        sd["lm_head.weight"] = sd["transformer.wte.weight"]
        with tempfile.TemporaryDirectory() as d:
            torch.save(sd, os.path.join(d, "pytorch_model.bin"))
            with open(os.path.join(d, "config.json"), "w") as f:
                json.dump(hf_config(ref), f)
            self._check_loaded(d, ref)


class TestMasking(unittest.TestCase):
    def test_alone_equals_right_padded(self):
        m = tiny_full(3)
        seqs = [[15496, 2159, 11], [703], [257, 42, 1000, 11, 15496, 2159, 703]]
        with torch.no_grad():
            alone = [m(torch.tensor([s]), torch.ones(1, len(s), dtype=torch.long))[0] for s in seqs]
            T = max(map(len, seqs))
            ids = torch.full((3, T), 50256)
            am = torch.zeros((3, T), dtype=torch.long)
            for i, s in enumerate(seqs):
                ids[i, :len(s)] = torch.tensor(s)
                am[i, :len(s)] = 1
            batched = m(ids, am)
        for i in range(3):
            self.assertTrue(torch.allclose(alone[i], batched[i], atol=1e-5))
        self.assertFalse(np.isnan(batched.numpy()).any())


class TestEnsembleFp16(unittest.TestCase):
    def test_half_storage_ensemble(self):
        import copy
        from train import LogitEnsemble, export_onnx, half_storage
        a, b = tiny_full(5), tiny_full(6)
        ids = torch.tensor([[15496, 2159, 11, 703], [15496, 50256, 50256, 50256]])
        am = torch.tensor([[1, 1, 1, 1], [1, 0, 0, 0]])
        ens = LogitEnsemble([a, b])
        h = half_storage(ens)
        rounded = []
        for m in (a, b):
            r = copy.deepcopy(m)
            with torch.no_grad():
                for p in r.parameters():
                    p.copy_(p.half().float())
            rounded.append(r)
        with torch.no_grad():
            expect = (rounded[0](ids, am) + rounded[1](ids, am)) / 2
            got = h(ids, am)
            self.assertTrue(torch.allclose(got, expect, atol=1e-6))
            self.assertFalse(torch.allclose(got, a(ids, am), atol=1e-3))  # really an average of two models
        n_params = sum(p.numel() for p in ens.parameters())
        with tempfile.TemporaryDirectory() as d:
            export_onnx(ens, os.path.join(d, "fp32.onnx"))
            export_onnx(h, os.path.join(d, "fp16.onnx"))
            full = os.path.getsize(os.path.join(d, "fp32.onnx"))
            half = os.path.getsize(os.path.join(d, "fp16.onnx"))
        self.assertGreater(full, n_params * 4)
        self.assertLess(half, full * 0.6)


if __name__ == "__main__":
    unittest.main()
