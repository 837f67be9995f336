"""Unit tests of training/corpus/make_extra_corpus.py (WordNet extra pretraining text)."""
from __future__ import annotations

import json
import os
import random
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "corpus"))
import data as D  # noqa: E402
import make_extra_corpus as M  # noqa: E402

CLINC = "/work/shared/data/clinc150/data_full.json"
LICENCE_TOP = """  1 This software and database is being provided to you, the LICENSEE, by  
  2 Princeton University under the following license.  
  3   
  4 WordNet 3.0 Copyright 2006 by Princeton University.  All rights reserved.  
"""
NOUN = LICENCE_TOP + (
    '00045646 04 n 02 rally 1 rallying 1 003 @ 00036762 n 0000 | the feat of mustering strength; '
    '"he singled to start a rally in the 9th inning"; "what is my credit score"  \n'
    '00046177 04 n 01 running_away 0 003 @ 00030358 n 0000 | the act of leaving; "He singled to start a RALLY in the 9th inning!"  \n'
)
ADJ = '00001740 00 a 01 galore(ip) 0 000 | in great numbers; "apples galore"; "wow"  \n'


def fixture_dir(test: unittest.TestCase, noun=NOUN) -> str:
    d = tempfile.mkdtemp(prefix="wn-")
    test.addCleanup(shutil.rmtree, d)
    for name, text in (("data.noun", noun), ("data.verb", ""), ("data.adj", ADJ), ("data.adv", "")):
        with open(os.path.join(d, name), "w", encoding="utf-8") as f:
            f.write(text)
    with open(os.path.join(d, "clinc.json"), "w", encoding="utf-8") as f:
        json.dump({"val": [["What is my credit score?", "credit_score"]], "oos_val": [], "test": [], "oos_test": []}, f)
    return d


class ParseTest(unittest.TestCase):
    def test_synset_line(self):
        lemma, definition, examples = M.parse_data_line(NOUN.splitlines()[4])
        self.assertEqual(lemma, "rally")
        self.assertEqual(definition, "the feat of mustering strength")
        self.assertEqual(examples, ["he singled to start a rally in the 9th inning", "what is my credit score"])

    def test_licence_lines_and_adjective_marker(self):
        self.assertIsNone(M.parse_data_line(LICENCE_TOP.splitlines()[0]))
        self.assertEqual(M.parse_data_line(ADJ)[0], "galore")
        self.assertEqual(M.parse_data_line(NOUN.splitlines()[5])[0], "running away")


class ExtractTest(unittest.TestCase):
    def test_heldout_removed_dedup_and_short_dropped(self):
        d = fixture_dir(self)
        ex, gl = M.extract(d, M.clinc_heldout(os.path.join(d, "clinc.json")))
        # the CLINC val text is gone; the two spellings of the rally example are one line; "wow" (1 word) dropped
        self.assertEqual(ex, ["apples galore", "he singled to start a rally in the 9th inning"])
        self.assertIn("rally: the feat of mustering strength", gl)
        self.assertIn("galore: in great numbers", gl)

    def test_sample_by_hash_deterministic_and_capped(self):
        lines = [f"line number {i}" for i in range(500)]
        a = M.sample_by_hash(lines, 2000)
        shuffled = lines[:]
        random.Random(1).shuffle(shuffled)
        self.assertEqual(a, M.sample_by_hash(shuffled, 2000))
        self.assertLessEqual(sum(len(s) + 1 for s in a), 2000)
        self.assertGreater(len(a), 50)
        self.assertEqual(a, sorted(a))

    def test_main_writes_licence_header_and_is_deterministic(self):
        d = fixture_dir(self)
        outs = []
        for k in range(2):
            out = os.path.join(d, f"out{k}")
            os.makedirs(out)
            M.main(["--wordnet-dir", d, "--clinc", os.path.join(d, "clinc.json"), "--out-dir", out])
            with open(os.path.join(out, "extra_wordnet_examples.txt"), "rb") as f:
                outs.append(f.read())
        self.assertEqual(outs[0], outs[1])
        text = outs[0].decode()
        self.assertIn("# WordNet 3.0 Copyright 2006 by Princeton University.", text)
        self.assertIn("# This software and database is being provided to you, the LICENSEE", text)
        # the header is comments the training scripts skip; the texts remain
        body = D.read_lines(os.path.join(d, "out0", "extra_wordnet_examples.txt"))
        self.assertEqual(body, ["apples galore", "he singled to start a rally in the 9th inning"])

    def test_missing_licence_is_an_error(self):
        d = fixture_dir(self, noun=NOUN.replace("WordNet 3.0 Copyright 2006", "WordNet"))
        with self.assertRaises(SystemExit):
            M.read_licence(d)


class TrainCorpusOptionTest(unittest.TestCase):
    """train.py: extra_*.txt join the pretraining text only when named by --extra-corpus."""

    def test_default_corpus_excludes_extra_files(self):
        import train as T
        names = T.base_corpus_names(os.path.join(HERE, "corpus"))
        self.assertIn("wiki_sents.txt", names)
        self.assertIn("domain.txt", names)
        self.assertFalse([n for n in names if n.startswith("extra_")], names)

    def test_extra_corpus_paths(self):
        import train as T
        self.assertEqual(T.extra_corpus_paths(["extra_wordnet_examples.txt"]),
                         [os.path.join(HERE, "corpus", "extra_wordnet_examples.txt")])
        with self.assertRaises(SystemExit):
            T.extra_corpus_paths(["extra_nonexistent.txt"])


class ShippedCorpusTest(unittest.TestCase):
    """The committed extra_wordnet_*.txt files: licence kept, no CLINC val/test text, commit-sized."""

    FILES = ("extra_wordnet_examples.txt", "extra_wordnet_glosses.txt")

    def test_licence_and_size(self):
        total = 0
        for fn in self.FILES:
            path = os.path.join(HERE, "corpus", fn)
            with open(path, encoding="utf-8") as f:
                head = f.read(4000)
            self.assertIn("WordNet 3.0 Copyright 2006 by Princeton University.", head, fn)
            self.assertIn("ALL copies", head, fn)
            total += os.path.getsize(path)
        self.assertLess(total, 8_500_000)

    @unittest.skipUnless(os.path.exists(CLINC), "CLINC150 data not present")
    def test_no_clinc_val_test_text(self):
        heldout = M.clinc_heldout(CLINC)
        for fn in self.FILES:
            lines = D.read_lines(os.path.join(HERE, "corpus", fn))
            self.assertFalse([x for x in lines if D.norm_key(x) in heldout], fn)
            self.assertEqual(len(lines), len({D.norm_key(x) for x in lines}), fn)


if __name__ == "__main__":
    unittest.main()
