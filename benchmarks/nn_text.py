"""Text: character LSTM language model on the fixed standard-library sources, teacher vs SPN student.

    PYTHONPATH=$PWD python benchmarks/nn_text.py [extra `nn train` args, e.g. --budget 4.0x]

Runs `algodiscover nn train --dataset text` in a subprocess and writes benchmarks/results/nn-text.md and .json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import describe, machine  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main():
    extra = sys.argv[1:]
    info = machine()
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "algodiscover", "nn", "train", "--dataset", "text", "--out", tmp, "--quiet",
               *extra]
        la0 = [round(x, 2) for x in os.getloadavg()]
        t = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t
        if r.returncode:
            raise SystemExit(r.stderr[-800:])
        rep = json.loads((Path(tmp) / "report.json").read_text())
    la1 = [round(x, 2) for x in os.getloadavg()]
    shown = "PYTHONPATH=$PWD python benchmarks/nn_text.py" + (" " + " ".join(extra) if extra else "")
    t, s = rep["teacher"], rep["student"]
    hidden = rep["data"]["hidden"]
    res = {"command": shown, "cli": "algodiscover nn train --dataset text --out DIR " + " ".join(extra),
           "machine": info, "wall_s": round(wall, 1), "load_before": la0, "load_after": la1,
           "teacher_perplexity": t["perplexity"], "student_perplexity": s["perplexity"],
           "perplexity_ratio": rep["perplexity_ratio"], "teacher_multiplications": t["multiplications"],
           "student_multiplications": s["multiplications"], "multiplications_cut": rep["multiplications_cut"],
           "teacher_additions": t["additions"], "student_additions": s["additions"], "ranks": s["ranks"],
           "budget": s["budget"], "distill": rep["distill"], "lambda": rep["lambda"],
           "temperature": rep["temperature"], "schedule": s["schedule"], "teacher_epochs": t["epochs"],
           "data": rep["data"], "deployed": s["deployed"]}
    out = REPO / "benchmarks" / "results"
    (out / "nn-text.json").write_text(json.dumps(res, indent=1))
    files = "\n".join(f"| `{n}` | `{h}` |" for n, h in rep["data"]["files_sha256"].items())
    (out / "nn-text.md").write_text(f"""# nn: character LSTM language model, teacher vs SPN student

Command: `{shown}` (runs `{res['cli']}`).

Machine: {describe(info)}. **Shared machine**: load average {la0[0]} before, {la1[0]} after; wall {res['wall_s']} s
(torch 1 thread).

Model: embedding 32 → LSTM {hidden} → linear to the vocabulary ({rep['data']['vocab_size']} symbols); sequences of
{rep['data']['seq_len']} characters ({rep['data']['n_train_sequences']} training, {rep['data']['n_test_sequences']}
test). Student: SPNLSTM (SPN input and recurrent products) and SPNLinear, budget {s['budget']}, ranks {s['ranks']};
distillation {rep['distill']} (λ = {rep['lambda']}, T = {rep['temperature']}).

| | test perplexity | multiplications per sequence | additions per sequence |
|---|---|---|---|
| teacher | {t['perplexity']:.4f} | {t['multiplications']} | {t['additions']} |
| student | {s['perplexity']:.4f} | {s['multiplications']} | {s['additions']} |

Perplexity ratio student/teacher **{rep['perplexity_ratio']:.4f}** (target ≤ 1.1); multiplications cut
**{100 * rep['multiplications_cut']:.2f} %** (matrix products only: the LSTM gate products f⊙c, i⊙g, o⊙tanh(c),
{t['counts']['separate']['elementwise']} per sequence for both, are reported apart).

Deployed student (int8 ternary): {s['deployed']['note']}: {s['deployed']['perplexity']:.4f} vs
{s['deployed']['training_mode']:.4f}; multiplications counted on one sequence
{s['deployed']['multiplications_counted_on_one_example']}.

Data: {rep['data']['split']}; source {rep['data']['source']}; files and sha256:

| file | sha256 |
|---|---|
{files}
""")
    print(json.dumps({k: res[k] for k in ("teacher_perplexity", "student_perplexity", "perplexity_ratio",
                                          "multiplications_cut", "wall_s")}))


if __name__ == "__main__":
    main()
