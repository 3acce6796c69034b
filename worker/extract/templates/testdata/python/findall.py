"""Reads {"patterns": [...], "texts": [...], "timeout": seconds} on stdin and prints, for every
pattern and text, what Python's re gives with invoice2data's reduction to one string per
match: the whole match without groups, else the first group that took part in the match
("" when none). A pattern Python cannot compile gives null; one that takes longer than the
timeout over all texts (Python's re cannot be interrupted) gives "timeout"."""
import json
import multiprocessing as mp
import re
import sys

TEXTS = []


def init(texts):
    global TEXTS
    TEXTS = texts


def run(p):
    try:
        rx = re.compile(p)
    except re.error:
        return None
    row = []
    for t in TEXTS:
        vals = []
        for m in rx.finditer(t):
            if rx.groups == 0:
                vals.append(m.group(0))
                continue
            v = ""
            for i in range(1, rx.groups + 1):
                if m.group(i) is not None:
                    v = m.group(i)
                    break
            vals.append(v)
        row.append(vals)
    return row


def main():
    req = json.load(sys.stdin)
    timeout = req.get("timeout", 2)
    out = []
    pool = mp.Pool(1, init, (req["texts"],))
    for p in req["patterns"]:
        res = pool.apply_async(run, (p,))
        try:
            out.append(res.get(timeout))
        except mp.TimeoutError:
            pool.terminate()
            pool = mp.Pool(1, init, (req["texts"],))
            out.append("timeout")
    pool.terminate()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
