"""Unit tests of training/train_subset.py (the training-curve subsampling; no torch needed)."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data as D  # noqa: E402
import train_subset as S  # noqa: E402


class SubsampleTest(unittest.TestCase):
    LINES = [f"line {i}" for i in range(200)]

    def test_size_order_and_membership(self):
        kept = S.subsample(self.LINES, 0.25, 13, "train", "x")
        self.assertEqual(len(kept), 50)
        self.assertTrue(set(kept) <= set(self.LINES))
        self.assertEqual(kept, [s for s in self.LINES if s in set(kept)])  # original order

    def test_deterministic_and_seeded(self):
        a = S.subsample(self.LINES, 0.1, 13, "train", "x")
        self.assertEqual(a, S.subsample(self.LINES, 0.1, 13, "train", "x"))
        self.assertNotEqual(a, S.subsample(self.LINES, 0.1, 14, "train", "x"))
        self.assertNotEqual(a, S.subsample(self.LINES, 0.1, 13, "train", "y"))
        # the input order does not matter: the shuffle starts from a sorted order
        self.assertEqual(set(a), set(S.subsample(list(reversed(self.LINES)), 0.1, 13, "train", "x")))

    def test_nested(self):
        prev = set()
        for f in (0.1, 0.25, 0.5, 1.0):
            cur = set(S.subsample(self.LINES, f, 13, "train", "x"))
            self.assertTrue(prev <= cur, f)
            prev = cur
        self.assertEqual(prev, set(self.LINES))

    def test_at_least_one_and_bounds(self):
        self.assertEqual(len(S.subsample(["a", "b", "c"], 0.1, 13, "k")), 1)
        self.assertEqual(S.subsample([], 0.1, 13, "k"), [])
        for bad in (0, -0.5, 1.5):
            with self.assertRaises(ValueError):
                S.subsample(["a"], bad, 13, "k")

    def test_split_is_stratified_and_keeps_val_test(self):
        lines = {"a": [f"a{i}" for i in range(100)], "b": [f"b{i}" for i in range(40)], "c": ["c0", "c1"]}
        full = D.split_lines(lines, 13)
        with tempfile.TemporaryDirectory() as d, S.Patch(0.5, 13, d) as patch:
            part = D.split_lines(lines, 13)
        self.assertEqual(part["val"], full["val"])
        self.assertEqual(part["test"], full["test"])
        for label in lines:
            self.assertEqual(len(part["train"][label]), max(1, round(len(full["train"][label]) * 0.5)))
            self.assertTrue(set(part["train"][label]) <= set(full["train"][label]))
        self.assertEqual(patch.counts["train_lines_total"], sum(map(len, full["train"].values())))
        self.assertEqual(patch.counts["train_lines"], sum(map(len, part["train"].values())))
        self.assertEqual(D.split_lines(lines, 13), full)  # restored on exit

    def test_only_paraphrase_files_are_cut(self):
        d = tempfile.mkdtemp(prefix="subset-")
        self.addCleanup(shutil.rmtree, d)
        os.makedirs(os.path.join(d, "paraphrases"))
        os.makedirs(os.path.join(d, "intents"))
        body = "\n".join(f"p {i}" for i in range(40)) + "\n"
        for sub in ("paraphrases", "intents"):
            with open(os.path.join(d, sub, "x.txt"), "w") as f:
                f.write(body)
        with S.Patch(0.25, 13, d) as patch:
            para = D.read_lines(os.path.join(d, "paraphrases", "x.txt"))
            para_again = D.read_lines(os.path.join(d, "paraphrases", "x.txt"))
            intents = D.read_lines(os.path.join(d, "intents", "x.txt"))
        self.assertEqual(len(para), 10)
        self.assertEqual(para, para_again)
        self.assertEqual(len(intents), 40)
        self.assertEqual(patch.counts["paraphrase_lines"], 10)  # a file read twice counts once
        self.assertEqual(patch.counts["paraphrase_lines_total"], 40)
        self.assertEqual(len(D.read_lines(os.path.join(d, "paraphrases", "x.txt"))), 40)  # restored


if __name__ == "__main__":
    unittest.main()
