"""The SPN engine's contract (issues 10 and 11): determinism per restart for every number of workers
(float32 included), run_restarts, replay, provenance, honest accounting by part, per-step curves,
random data for every gradient strategy.

Expected values come from mathematics (rank 7 for <2,2,2>, the standard algorithm's m*k*n) and from
the engine's own definition (restart j depends on (seed, j) alone), never from a stored output.
"""

from __future__ import annotations

from dataclasses import fields

import pytest

from algodiscover.core.canonical import canonical_key
from algodiscover.core.verify import verify
from algodiscover.errors import ReplayError
from algodiscover.provenance import COMPLETED_BY, PROVENANCE_KEYS
from algodiscover.search import Budget
from algodiscover.search.spn_strategies import STRATEGIES, Strategy, gradient_strategies

spn = pytest.importorskip("algodiscover.search.spn")

# paper's network (float32, random pairs, no repair/polish) on a shorter schedule (every phase scales
# with the steps): the determinism claim is about the float32 arithmetic and the per-restart streams
PAPER_FAST = "paper:steps=400"
# a float32 gradient strategy that proves most restarts quickly (random pairs and parameter noise)
SGD32 = "sgd-penalty:dtype=float32,steps=600,batch=16"


def keyed(schemes):
    return {canonical_key(s): (s.provenance["restart"], s.provenance["step"]) for s in schemes}


def keyed_steps(schemes):
    """{key: step}: paper proves only at its last step, so two restarts of different workers can prove the
    same key at the same step, and which of them is credited with it depends on which worker reports
    first; the schemes and their steps do not."""
    return {canonical_key(s): s.provenance["step"] for s in schemes}


def test_paper_float32_same_trajectories_for_1_and_2_workers():
    assert get_dtype("paper") == "float32"
    got, best = {}, {}
    for w in (1, 2):
        it = spn.search("2x2x2", 7, seed=5, budget=Budget(restarts=32, count=None), workers=w,
                        strategy=PAPER_FAST, data="random")
        got[w] = keyed_steps(it)
        assert it.stats["restarts_done"] == 32
        best[w] = (it.stats["best_continuous"], it.stats["best_residual"], it.stats["restarts_proven"])
    assert got[1] and got[1] == got[2]  # the same schemes at the same step, as many restarts proven
    assert best[1] == best[2]  # the lowest float32 residual over 32 restarts, to the last bit


def test_float32_noise_and_random_pairs_same_schemes_for_1_and_2_workers():
    got = {}
    for w in (1, 2):
        it = spn.search("2x2x2", 7, seed=4, budget=Budget(restarts=12, count=None), workers=w,
                        strategy=SGD32, data="random")
        got[w] = keyed(it)
    assert len(got[1]) >= 3 and got[1] == got[2]


@pytest.mark.slow
def test_paper_full_schedule_same_schemes_for_1_and_2_workers():
    got = {}
    for w in (1, 2):
        got[w] = keyed_steps(spn.search("2x2x2", 7, seed=0, budget=Budget(restarts=32, count=None), workers=w,
                                        strategy="paper", data="random"))
    assert got[1] and got[1] == got[2]


def get_dtype(name):
    return STRATEGIES[name].dtype


def test_a_restart_does_not_depend_on_the_batch_it_shares():
    # restart j trained alone (batch 1) proves what it proves inside a batch of 8, at the same step
    whole = keyed(spn.run_restarts("2x2x2", 7, seed=2, restarts=range(8),
                                   options={"strategy": SGD32, "data": "random"}))
    assert len(whole) >= 2
    for key, (j, step) in list(whole.items())[:2]:
        alone = keyed(spn.run_restarts("2x2x2", 7, seed=2, restarts=[j],
                                       options={"strategy": SGD32, "data": "random"}))
        assert alone.get(key) == (j, step)


def test_run_restarts_split_gives_the_union():
    opts = {"strategy": "als", "steps": 400}
    whole = spn.run_restarts("2x2x2", 7, seed=3, restarts=range(8), options=opts)
    parts = (spn.run_restarts("2x2x2", 7, seed=3, restarts=range(0, 5), options=opts)
             + spn.run_restarts("2x2x2", 7, seed=3, restarts=[5, 6, 7], options=opts))
    assert whole and all(verify(s, symbolic=False).ok for s in whole)
    assert keyed(whole) == keyed(parts)
    assert {s.provenance["restart"] for s in whole} <= set(range(8))
    with pytest.raises(spn.SpnOptionError):
        spn.run_restarts("2x2x2", 7, seed=3, restarts=[0], options={"workers": 2})
    with pytest.raises(spn.SpnOptionError):
        spn.run_restarts("2x2x2", 7, seed=3, restarts=[-1], options=opts)


def test_provenance_is_the_shared_schema_with_every_option_resolved():
    it = spn.search("2x2x2", 7, seed=None, budget=Budget(count=1))
    s = next(iter(it))
    p = s.provenance
    assert all(k in p for k in PROVENANCE_KEYS)
    assert p["engine"] == "spn" and p["strategy"] == "als" and isinstance(p["seed"], int)
    assert p["workers"] == 1 and p["device"] == "cpu" and p["start"]["kind"] == "random"
    assert not p["start"]["published"]
    names = {f.name for f in fields(Strategy)} - {"name"}
    assert names | {"data", "coefficients"} == set(p["options"])
    assert p["options"]["batch"] == 64 and p["options"]["data"] == "exhaustive"
    assert p["completed_by"] and set(p["completed_by"]) <= set(COMPLETED_BY)
    assert p["completed_by"][0] == "als"
    assert isinstance(p["restart"], int) and isinstance(p["step"], int) and p["seconds"] >= 0


def test_paper_is_completed_by_gradient_alone_and_counted_by_part():
    it = spn.search("2x2x2", 7, seed=5, budget=Budget(restarts=8, count=None), workers=1,
                    strategy=SGD32.replace("sgd-penalty", "paper"), data="random")
    got = list(it)
    st = it.stats
    assert all(s.provenance["completed_by"] == ["gradient"] for s in got)
    it = spn.search("2x2x2", 7, seed=5, budget=Budget(restarts=8, count=None), workers=1,
                    strategy=SGD32, data="random")
    got = list(it)
    st = it.stats
    assert got and all(s.provenance["completed_by"] == ["gradient"] for s in got)
    assert set(st["by_part"]) == {"gradient"}
    assert st["restarts_proven"] == sum(st["by_part"].values()) <= st["restarts_done"] == 8
    assert st["proven"] == len(got) == len({canonical_key(s) for s in got})
    assert st["restarts_proven"] >= len({s.provenance["restart"] for s in got})


def test_als_accounting_names_repair_and_polish():
    it = spn.search("2x2x2", 7, seed=0, budget=Budget(restarts=12, count=None), workers=1, strategy="als:steps=400")
    got = list(it)
    st = it.stats
    assert sum(st["by_part"].values()) == st["restarts_proven"] > 0
    assert set(st["by_part"]) <= {"als", "repair", "polish"}
    for s in got:
        cb = s.provenance["completed_by"]
        assert cb[0] == "als" and set(cb[1:]) <= {"repair", "polish"}


def test_replay_returns_the_same_scheme():
    for strategy, data in (("als:steps=400", "exhaustive"), (SGD32, "random")):
        it = spn.search("2x2x2", 7, seed=1, budget=Budget(count=1), workers=1, strategy=strategy, data=data)
        s = next(iter(it))
        back = list(spn.replay(s.provenance))
        assert canonical_key(s) in {canonical_key(b) for b in back}
        assert all(b.provenance["restart"] == s.provenance["restart"] for b in back)


def test_replay_refuses_what_it_cannot_rerun():
    s = next(iter(spn.search("2x2x2", 7, seed=1, budget=Budget(count=1))))
    p = dict(s.provenance)
    with pytest.raises(ReplayError, match="GPU|cuda"):
        list(spn.replay({**p, "device": "cuda"}))
    with pytest.raises(ReplayError, match="old provenance"):
        list(spn.replay({"engine": "spn", "seed": 0, "strategy": "als", "restart": 3, "step": 100}))
    with pytest.raises(ReplayError, match="not an spn"):
        list(spn.replay({**p, "engine": "flip"}))
    with pytest.raises(ReplayError, match="unknown"):
        list(spn.replay({**p, "options": {**p["options"], "warp": 9}}))
    with pytest.raises(ReplayError, match="unknown"):
        list(spn.replay({**p, "strategy": "no-such"}))
    with pytest.raises(ReplayError, match="no recorded value"):
        list(spn.replay({**p, "options": {**p["options"], "lr": None}}))


def test_every_registered_strategy_records_plain_json_options():
    # provenance is written as JSON: an infinite or NaN option would come back as null and not replay
    import json
    import math
    for name, strat in STRATEGIES.items():
        opts = spn.resolved_options(strat, "exhaustive", "ternary")
        assert all(not (isinstance(v, float) and not math.isfinite(v)) for v in opts.values()), name
        json.dumps(opts, allow_nan=False)


def test_replay_through_a_saved_file(tmp_path):
    from algodiscover.formats import load, save
    s = next(iter(spn.search("2x2x2", 7, seed=0, budget=Budget(count=1), strategy=SGD32, data="random")))
    save(s, tmp_path / "s.json")
    back = list(spn.replay(load(tmp_path / "s.json").provenance))
    assert canonical_key(s) in {canonical_key(b) for b in back}


def test_curves_trace_every_step_and_mark_proofs(tmp_path):
    curves = []
    got = list(spn.search("2x2x2", 7, seed=0, budget=Budget(restarts=5, count=None), curves=curves,
                          strategy="als:steps=400"))
    traced = {p["restart"] for p in curves}
    assert traced == set(range(5))
    for j in traced:
        steps = [p["step"] for p in curves if p["restart"] == j]
        assert steps == list(range(1, len(steps) + 1))  # every step, in order
    proven = {(p["restart"], p["step"]) for p in curves if p.get("proven")}
    from_schemes = {(s.provenance["restart"], s.provenance["step"]) for s in got if s.provenance["restart"] in traced}
    assert from_schemes <= proven and proven
    from algodiscover.render.plots import plot_training_curves
    fig = plot_training_curves(curves, tmp_path / "c.png")
    assert len(fig.axes[0].lines) == 5 and fig.axes[0].collections  # 5 lines, proven stars
    assert (tmp_path / "c.png").read_bytes().startswith(b"\x89PNG")


def test_progress_fields():
    seen = []
    it = spn.search("2x2x2", 7, seed=0, budget=Budget(restarts=4, count=None), on_progress=seen.append)
    list(it)
    assert seen and all(p.unit == "restarts" for p in seen)
    assert seen[0].best_residual is not None  # reported only after a check
    last = seen[-1]
    assert last.restarts_done == 4 and last.proven == it.stats["proven"]
    assert last.rate is not None and last.rate > 0
    assert "restarts_proven" in last.extra and "by_part" in last.extra


@pytest.mark.parametrize("name", gradient_strategies())
def test_random_data_for_every_gradient_strategy(name):
    # a few steps on a non-square shape: random pairs, the network's loss, the checks all run
    it = spn.search("2x2x3", 11, seed=0, budget=Budget(restarts=2, count=None), workers=1,
                    strategy=f"{name}:steps=60,batch=2,check_every=20", data="random")
    got = list(it)
    assert it.stats["restarts_done"] == 2
    assert all(verify(s, symbolic=False).ok and s.provenance["options"]["data"] == "random" for s in got)


def test_strategy_keys_are_validated():
    with pytest.raises(spn.SpnOptionError):
        spn.search("2x2x2", 7, strategy="paper:quantizer=nearest")
    with pytest.raises(spn.SpnOptionError):
        spn.search("2x2x2", 7, strategy="paper:noise=-1")
    with pytest.raises(spn.SpnOptionError, match="gradient strategy"):
        spn.search("2x2x2", 7, strategy="als", data="random")


def test_the_whole_batch_path_of_the_gpu_runs_on_the_cpu_too():
    # the vectorised path a GPU takes (one generator for the batch, tensor schedules) is exercised here,
    # with paper's learning-rate decay in the quantization stage (lr_schedule=ste) too
    for spec_, n in ((SGD32, 8), ("paper:steps=150,batch=8", 8)):
        s, strat, spec, data, coefs = spn._prepare("2x2x2", 7, {"strategy": spec_, "data": "random"})
        run = spn._Run(s, 7, 0, Budget(restarts=n, count=None), "cpu", None, None, strat, spec, data,
                       spn.COEFFICIENTS[coefs], None)
        run.slot_exact = False
        got = list(run.iterate())
        assert run.stats["restarts_done"] == n and all(verify(x, symbolic=False).ok for x in got)
        assert run.stats["restarts_proven"] >= 1, spec_


def test_trace_points_with_bad_fields_are_refused():
    from algodiscover.errors import FormatError
    from algodiscover.render.plots import plot_training_curves
    with pytest.raises(FormatError, match="curve point 0"):
        plot_training_curves([{"restart": "x", "step": 1, "residual": 1.0}])
    fig = plot_training_curves([{"restart": 3, "step": s, "residual": 2.0 ** -s, "quantized_fraction": s / 4,
                                 "proven": s == 4} for s in range(1, 5)])
    assert len(fig.axes[0].lines) == 1 and list(fig.axes[0].lines[0].get_xdata()) == [1, 2, 3, 4]
    assert len(fig.axes[0].collections) == 1  # the star where restart 3 was proven


def test_paper_is_defined_by_the_paper_alone():
    # issue 11: no penalty toward the coefficient set, no abandoning, no ALS, repair or polish, no noise,
    # clamp, sparsity or balancing; Adam on the network output with the staged straight-through quantizer
    p = STRATEGIES["paper"]
    assert p.method == "adam" and p.ste and p.staged and p.quantizer in ("round", "twn", "twn-scaled")
    assert p.penalty0 == p.penalty1 == p.magnitude == p.balance == p.balance_every == p.noise == 0
    assert p.clamp == p.sparsity == p.als_every == 0 and p.clip == 0
    assert not (p.repair or p.polish or p.progressive or p.normalize or p.fix_ab)
    assert p.abandon_at == 1.0 and p.give_up == 1.0 and p.frozen_abandon == 0
    # W_a, W_b are quantized first, W_c later, and all three are ternary before the last step
    assert 0 < p.ste_start < p.ste_end and p.stage_shift > 0 and p.ste_end + p.stage_shift <= 1
    # the answer is the ternary weights after the last step: no rounding check of the full-precision
    # phase counts; the learning rate is constant until the quantization stage and decays within it
    assert p.check_every >= p.steps and p.ste_balance == 0
    assert p.lr_schedule == "ste" and p.lr_decay < 1


def test_paper_default_proves_from_random_data_by_gradient_alone():
    # the default constants on <2,2,2>:7 (random pairs), 2 restarts: what is proven is the ternary
    # network weights after the last quantization step (completed_by gradient, step = steps), not ALS,
    # repair or polish
    it = spn.search("2x2x2", 7, seed=0, budget=Budget(restarts=2, count=None, time_limit=120), workers=1,
                    strategy="paper:batch=2", data="random")
    got = list(it)
    st = it.stats
    assert got and all(s.provenance["completed_by"] == ["gradient"] for s in got)
    assert all(s.provenance["step"] == STRATEGIES["paper"].steps for s in got)
    assert set(st["by_part"]) == {"gradient"} and st["polished"] == 0
    assert all(verify(s, symbolic=False).ok for s in got)


def test_quantizer_options_check_the_quantizers_own_values():
    # the TWN quantizer's answer is its ternary values per product row (scale-free), the fixed
    # threshold's is sign(w) [|w| > threshold]: a scaled Strassen is proven by TWN, not by rounding
    from algodiscover.examples import strassen
    import torch
    sch = strassen()
    F = [torch.tensor(M.astype(float))[None] for M in (sch.W_a, sch.W_b, sch.W_c.T)]
    F = [F[0] * 0.4, F[1] * 1.7, F[2] / 0.68]  # the same products, rows off the coefficient set
    for spec, exact in (("paper:quantizer=twn", True), ("paper:quantizer=twn-scaled", True),
                        ("paper", False), ("paper:round_threshold=0.3", True)):
        s, strat, sp, data, coefs = spn._prepare("2x2x2", 7, {"strategy": spec, "data": "random"})
        run = spn._Run(s, 7, 0, Budget(restarts=1), "cpu", None, None, strat, sp, data, spn.COEFFICIENTS[coefs], None)
        run._setup()
        (R, res), = run.candidates(F)
        assert (float(res[0]) == 0) == exact, spec
        assert set(torch.cat([r.flatten() for r in R]).tolist()) <= {-1.0, 0.0, 1.0}


def test_learning_rate_schedules():
    s, strat, sp, data, coefs = spn._prepare("2x2x2", 7, {"strategy": "paper:lr=0.2,lr_decay=0.1,lr_schedule=cosine"})
    run = spn._Run(s, 7, 0, Budget(restarts=1), "cpu", None, None, strat, sp, data, spn.COEFFICIENTS[coefs], None)
    assert run._lr(0.0) == pytest.approx(0.2) and run._lr(1.0) == pytest.approx(0.02)
    assert run._lr(0.5) == pytest.approx(0.11)  # half way along the cosine: the mean of the two ends
    run.strat = strat.with_overrides("lr_schedule=exp")
    assert run._lr(0.5) == pytest.approx(0.2 * 0.1 ** 0.5)
    run.strat = strat.with_overrides("lr_schedule=ste,ste_start=0.8")  # constant, then geometric in the STE stage
    assert run._lr(0.0) == run._lr(0.8) == pytest.approx(0.2) and run._lr(1.0) == pytest.approx(0.02)
    assert run._lr(0.9) == pytest.approx(0.2 * 0.1 ** 0.5)
    for bad in ("lr_schedule=step", "beta1=1", "beta2=-0.1", "twn_factor=0", "round_threshold=1.2"):
        with pytest.raises(spn.SpnOptionError):
            spn.search("2x2x2", 7, strategy="paper:" + bad)


def test_replay_of_a_file_from_before_a_setting_existed_uses_the_old_behaviour():
    # a provenance written before beta1/beta2/lr_schedule/... existed replays with the values the code
    # had then (the dataclass defaults), not with paper's current constants
    from dataclasses import asdict
    opts = {k: v for k, v in asdict(STRATEGIES["paper"]).items() if k != "name"}
    full = spn._replay_strategy("paper", opts)
    assert full == STRATEGIES["paper"]
    for k in ("beta1", "beta2", "lr_schedule", "twn_factor", "round_threshold", "ste_balance"):
        opts.pop(k)
    old = spn._replay_strategy("paper", opts)
    assert (old.beta1, old.beta2, old.lr_schedule, old.round_threshold) == (0.9, 0.999, "exp", 0.5)
    assert old.ste_balance == 0
    assert old.steps == STRATEGIES["paper"].steps  # recorded settings are kept


def test_ste_balance_is_an_exact_reparametrisation():
    # equal max |.| of a_t, b_t, c_t per product: every product c_t (a_t.A)(b_t.B) is unchanged, and a
    # ternary scheme scaled per product comes back ternary
    from algodiscover.examples import strassen
    import torch
    sch = strassen()
    F = [torch.tensor(M.astype(float))[None] for M in (sch.W_a, sch.W_b, sch.W_c.T)]
    lam = torch.tensor([0.4, 2.0, 1.0, 0.7, 3.0, 1.1, 0.5], dtype=torch.float64).view(1, -1, 1)
    mu = torch.tensor([1.7, 0.3, 1.0, 2.2, 0.6, 0.9, 1.5], dtype=torch.float64).view(1, -1, 1)
    G = [F[0] * lam, F[1] * mu, F[2] / (lam * mu)]
    s, strat, sp, data, coefs = spn._prepare("2x2x2", 7, {"strategy": "paper:ste_balance=10"})
    run = spn._Run(s, 7, 0, Budget(restarts=1), "cpu", None, None, strat, sp, data, spn.COEFFICIENTS[coefs], None)
    run._setup()
    H = run.balance_max(G)
    assert float(run.residual(H)[0]) == pytest.approx(0, abs=1e-20)
    assert all(torch.allclose(h, f) for h, f in zip(H, F))
