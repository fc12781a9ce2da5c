"""Training schedules of the SPN engine, by name (``--strategy``), and the coefficient sets.

A strategy is a plain record of switches and schedule constants.  ``--strategy NAME`` picks a
registered one; ``--strategy NAME:key=value,key=value`` overrides single fields, so each part
of a schedule can be switched off or tuned from the command line and from benchmarks, e.g.
``als:repair=0`` or ``penalty:sparsity=0,clamp=0``.

Two optimisers drive the same two-layer sum-product network vec(C) = W_c((W_a vec A) * (W_b vec B)):

* ``adam``: gradient steps on the network's loss (the StrassenNets setting): ``paper`` (the paper and
  nothing else), ``sgd-penalty`` / ``sgd-anneal`` (gradient only: annealed pulls toward the coefficient
  set, magnitude bound and balancing, noise, learning-rate decay, clipping), ``penalty`` (with repair
  and polish).  Data ``exhaustive``
  uses the squared tensor residual (which equals the loss summed over all pairs of basis
  matrices); ``random`` draws Gaussian A, B.  Quantization to the coefficient set is phased in
  with a straight-through estimator, optionally staged (W_a, W_b first, then W_c), optionally with
  a penalty toward the coefficient set, magnitude clamps and sparsity pressure.
* ``als``: alternating regularised least squares.  The residual is linear in each of W_a, W_b,
  W_c, so each step solves exactly for one factor; sparsity (iteratively reweighted L1) and a
  penalty toward the nearest coefficient are added as per-entry ridge terms and annealed.

Both share: rescaling of each product's factors to unit maximum, progressive rounding (freeze
coefficients already at their rounded value), and the least-squares repair at each check
(round two factors, solve the third exactly in least squares, round it).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from fractions import Fraction

from ..errors import AlgoDiscoverError, EngineNotFound


class SpnOptionError(AlgoDiscoverError, ValueError):
    """An option the SPN engine does not know or cannot use."""


@dataclass(frozen=True)
class Strategy:
    name: str
    method: str = "als"             # "als" or "adam"
    steps: int = 1000               # optimisation steps per restart
    batch: int = 64                 # restarts trained at once
    check_every: int = 25           # round, repair and verify every this many steps
    dtype: str = "float64"
    init_scale: float = 0.5
    # -- shared switches
    normalize: bool = True          # rescale a_t, b_t to max |.| = 1 (c_t compensates) once quantization starts
    repair: bool = True             # at checks: round two factors, least-squares the third, round
    progressive: bool = False       # freeze coefficients already within freeze_tol of their rounded value
    freeze_tol: float = 0.05
    freeze_start: float = 0.6       # fraction of the steps after which freezing starts
    freeze_frac: float = 0.0        # > 0: at each check also freeze this fraction of the still-free entries
                                    # (closest to the coefficient set first): forced progressive rounding
    freeze_min: int = 1             # ... at least this many per check
    freeze_res: float = 1e-2        # ... only while the continuous residual is below this
    frozen_abandon: float = 0.0     # > 0: retire a restart with frozen entries whose residual exceeds this
    lm: float = 0.0                 # als: Levenberg-Marquardt weight toward the previous iterate
    pull: float = 0.0               # als: per-entry pull mu/(|x - round(x)| + pull) instead of a uniform mu
    polish: bool = True             # near misses: greedy single-coefficient descent on the rounded candidate
    polish_tol: float = 12.0        # ... tried when the best rounded residual is at most this
    polish_moves: int = 40
    polish_max: int = 128           # ... on at most this many slots per check (the nearest first; large GPU batches)
    polish_tabu: int = 0            # > 0: also take the least bad move when stuck (tabu search of this memory)
    abandon_at: float = 0.3         # fraction of the steps at which a restart far from exact is replaced
    abandon_tol: float = 1.0        # ... when its squared residual is above this
    give_up: float = 1.0            # retire every restart at this fraction of the steps (schedules keep their length)
    # -- als
    ridge: float = 1e-3             # Tikhonov weight toward 0 (keeps the solves well posed) ...
    ridge_end: float = 0.0          # ... decaying geometrically to this at the end (0: constant)
    sparse_start: float = 0.2       # when the L1 pressure starts (fraction of steps)
    sparse0: float = 3e-3           # L1 weight at sparse_start ...
    sparse1: float = 0.1            # ... growing geometrically to this at the end
    l1_eps: float = 0.1             # IRLS smoothing of |x|
    quant_start: float = 0.6        # when the penalty toward the coefficient set starts
    quant0: float = 1e-3            # its weight at quant_start ...
    quant1: float = 1.0             # ... growing geometrically to this at the end
    extrapolate: float = 0.0        # > 0: after each sweep try F + a (F - F_old), a starting here (0: off)
    extrapolate_grow: float = 1.5   # ... a grows by this factor after a successful extrapolation
    extrapolate_max: float = 4.0    # ... up to this
    als_staged: bool = False        # quantize W_a first, then W_b; W_c only through the least-squares repair
    # -- adam
    lr: float = 0.05
    samples: int = 64               # Gaussian pairs per step with data=random
    ste: bool = True                # straight-through quantization
    staged: bool = True             # quantize W_a, W_b first, then W_c
    ste_start: float = 0.5          # STE blend phases in from here ...
    ste_end: float = 0.8            # ... to fully quantized here (W_c: shifted by stage_shift when staged)
    stage_shift: float = 0.1
    fix_ab: bool = False            # staged: from ste_start + stage_shift on, W_a and W_b are fixed at their quantized values
    penalty0: float = 0.0           # penalty toward the coefficient set (adam), geometric from penalty0 ...
    penalty1: float = 0.0           # ... to penalty1 between quant_start and the end
    clamp: float = 0.0              # magnitude clamp (0 = none); coefficients kept in [-clamp, clamp]
    sparsity: float = 0.0           # L1 weight (adam)
    als_every: int = 0              # adam: an exact ALS step every this many steps (0 = never)
    quantizer: str = "round"        # adam STE (ternary): "round" (hard rounding, clamped), "twn" (threshold
                                    # twn_factor * mean|w| per product row) or "twn-scaled" (the same ternary values
                                    # times the TWN scale alpha = mean of the kept |w|, per product row, in the forward
                                    # pass); with "twn"/"twn-scaled" the checked answer is the ternary values themselves
    twn_factor: float = 0.7         # TWN threshold factor (Delta = twn_factor * mean|w| of the row)
    round_threshold: float = 0.5    # quantizer "round": w -> sign(w) [|w| > round_threshold] (0.5: hard rounding, clamped)
    penalty_kind: str = "round"     # penalty0/1: "round" (squared distance to the rounded value)
                                    # or "ternary" (|w| |w-1| |w+1|)
    magnitude: float = 0.0          # adam: weight of sum relu(|w| - bound)^2 (keeps coefficients in range, smoothly)
    balance: float = 0.0            # adam: weight of the balance loss sum_f (|f_t|^2 / geomean - 1)^2 per product
    balance_every: int = 0          # adam: every this many steps rescale a_t, b_t, c_t to equal norms (exact symmetry)
    noise: float = 0.0              # adam: std of Gaussian noise added to every coefficient each step ...
    noise_end: float = 0.7          # ... annealed linearly to 0 at this fraction of the steps
    lr_decay: float = 1.0           # adam: learning rate lr * lr_decay**(step/steps) (1 = constant) ...
    lr_schedule: str = "exp"        # ... "exp" (that geometric decay), "cosine" (from lr to lr * lr_decay along
                                    # half a cosine over the restart's steps) or "ste" (constant lr until ste_start,
                                    # then geometric to lr * lr_decay at the last step: decay in the quantization stage)
    beta1: float = 0.9              # adam: first-moment decay
    beta2: float = 0.999            # adam: second-moment decay
    clip: float = 0.0               # adam: per restart, clip the gradient's norm to this (0 = no clipping)
    ste_balance: int = 0            # adam: from ste_start on, every this many steps rescale each product's three
                                    # factors to equal max |.| (the geometric mean of the three maxima): an exact
                                    # reparametrisation (c_t a_t b_t unchanged), no penalty (0 = never)

    def with_overrides(self, text: str) -> "Strategy":
        if not text:
            return self
        types = {f.name: f.type for f in fields(self)}
        updates = {}
        for item in text.split(","):
            item = item.strip()
            if not item:
                continue
            if "=" not in item:
                raise SpnOptionError(f"strategy override {item!r} is not key=value (e.g. als:repair=0)")
            key, val = (p.strip() for p in item.split("=", 1))
            if key not in types or key == "name":
                raise SpnOptionError(f"unknown strategy setting {key!r}; known: {', '.join(k for k in types if k != 'name')}")
            updates[key] = _convert(key, val, types[key])
        s = replace(self, **updates)
        s.validate()
        return s

    def validate(self) -> None:
        if self.method not in ("als", "adam"):
            raise SpnOptionError(f"strategy method must be 'als' or 'adam', got {self.method!r}")
        if self.steps < 1 or self.batch < 1 or self.check_every < 1:
            raise SpnOptionError("strategy steps, batch and check_every must be at least 1")
        if self.quantizer not in ("round", "twn", "twn-scaled"):
            raise SpnOptionError(f"strategy quantizer must be round, twn or twn-scaled, got {self.quantizer!r}")
        if self.lr_schedule not in ("exp", "cosine", "ste"):
            raise SpnOptionError(f"strategy lr_schedule must be exp, cosine or ste, got {self.lr_schedule!r}")
        if self.ste_balance < 0:
            raise SpnOptionError("strategy ste_balance must be >= 0")
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1) or self.twn_factor <= 0:
            raise SpnOptionError("strategy beta1, beta2 must be in [0, 1) and twn_factor > 0")
        if not 0 < self.round_threshold < 1:
            raise SpnOptionError("strategy round_threshold must be in (0, 1)")
        if self.penalty_kind not in ("round", "ternary"):
            raise SpnOptionError(f"strategy penalty_kind must be round or ternary, got {self.penalty_kind!r}")
        if self.samples < 1 or self.noise < 0 or not self.noise_end > 0 or self.lr_decay <= 0:
            raise SpnOptionError("strategy samples must be >= 1, noise >= 0, noise_end > 0, lr_decay > 0")
        if self.dtype not in ("float32", "float64"):
            raise SpnOptionError(f"strategy dtype must be float32 or float64, got {self.dtype!r}")


def _convert(key: str, val: str, typ):
    typ = typ if isinstance(typ, str) else getattr(typ, "__name__", str(typ))
    try:
        if typ == "bool":
            if val.lower() in ("1", "true", "yes", "on"):
                return True
            if val.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if typ == "int":
            return int(val)
        if typ == "float":
            return float(val)
        return val
    except ValueError:
        raise SpnOptionError(f"strategy setting {key}={val!r} is not a valid {typ}") from None


STRATEGIES: dict[str, Strategy] = {
    # StrassenNets as published (Tschannen, Khanna, Anandkumar 2018) and nothing else: the loss on the
    # network's output for Gaussian random pairs (64 per step; or the exhaustive loss), Adam (betas
    # 0.5/0.99, eps 1e-8), init N(0, 0.1^2), 6000 steps in float32; full precision for the first 85 % at
    # the constant learning rate 0.1, then the quantization stage: the straight-through ternary quantizer
    # (hard rounding to {-1,0,1}, algodiscover.quant) phased in linearly on W_a, W_b over steps 5100-5700
    # and on W_c 180 steps later (5280-5880), fully ternary for the last 120 steps, while the learning
    # rate decays geometrically from 0.1 at step 5100 to 0.1 * 1e-6 at step 6000 (lr_schedule "ste": it
    # halves about every 45 steps, so the weights settle while the quantizer is phased in).  The answer
    # is the ternary weights after the last step, proven exactly once there (check_every = steps: no
    # rounding check of the full-precision phase counts).  No penalty, clamp, rescaling, abandoning
    # (abandon_at 1.0: a restart ends at its last step; abandon_tol 1e30 rather than inf so that the
    # provenance is plain JSON), ALS, repair or polish.  Every constant was chosen by measurement
    # (<2,2,2>:7 random data, 64 restarts, seeds 0/1; benchmarks/spn_paper_sweep.py and
    # benchmarks/results/spn-gradient.md "What the quantization stage needs").
    "paper": Strategy("paper", method="adam", steps=6000, batch=64, lr=0.1, beta1=0.5, beta2=0.99,
                      init_scale=0.1, dtype="float32", repair=False, normalize=False, polish=False,
                      abandon_at=1.0, abandon_tol=1e30, check_every=6000, samples=64, ste=True, staged=True,
                      ste_start=0.85, ste_end=0.95, stage_shift=0.03, quantizer="round",
                      lr_schedule="ste", lr_decay=1e-6),
    # the paper's network with penalty annealing toward the coefficient set, clamps, sparsity and
    # the least-squares repair
    "penalty": Strategy("penalty", method="adam", steps=3000, batch=64, lr=0.05, dtype="float32", ste=False,
                        penalty0=1e-3, penalty1=0.3, quant_start=0.3, clamp=1.5, sparsity=1e-3,
                        abandon_at=0.3, abandon_tol=2.0, check_every=50),
    # gradient only (no ALS, repair or polish), paper's network and loss plus: an annealed pull toward
    # {-1,0,1} (|w||w-1||w+1|, weight 1e-3 -> 1 geometrically from 30 % of the steps), a smooth
    # magnitude bound relu(|w|-1)^2, the three factors of each product rescaled to equal norms every
    # 10 steps (an exact symmetry), Gaussian parameter noise (std 0.01 annealed to 0 at 50 %), Adam's
    # learning rate decaying geometrically 0.1 -> 0.01, per-restart gradient clipping at norm 5,
    # abandoning at 50 % when the tensor residual is above 1.  2000 steps, float64, checks every 25.
    # Measured (<2,2,2>:7 random, 32 restarts, seeds 0/1): lr 0.1 30/32, 32/32; lr 0.05 27/32 (seed 1);
    # <2,3,3>:15 random, 90 s: lr 0.1 one proven, lr 0.05 and 0.2 none.
    "sgd-penalty": Strategy("sgd-penalty", method="adam", steps=2000, batch=64, lr=0.1, lr_decay=0.1,
                            dtype="float64", ste=False, repair=False, polish=False, normalize=False,
                            penalty_kind="ternary", penalty0=1e-3, penalty1=1.0, quant_start=0.3,
                            magnitude=1.0, balance_every=10, noise=0.01, noise_end=0.5, clip=5.0,
                            abandon_at=0.5, abandon_tol=1.0, check_every=25, samples=64),
    # the same pulls with the paper's staged straight-through quantizer over the last 30 % of the steps
    "sgd-anneal": Strategy("sgd-anneal", method="adam", steps=2000, batch=64, lr=0.1, lr_decay=0.1,
                           dtype="float64", ste=True, staged=True, ste_start=0.7, ste_end=0.9, stage_shift=0.05,
                           repair=False, polish=False, normalize=False,
                           penalty_kind="ternary", penalty0=1e-3, penalty1=1.0, quant_start=0.3,
                           magnitude=1.0, balance_every=10, noise=0.01, noise_end=0.5, clip=5.0,
                           abandon_at=0.5, abandon_tol=1.0, check_every=25, samples=64),
    # alternating least squares with annealed sparsity and quantization penalties
    "als": Strategy("als"),
    # the same with progressive rounding (freeze what is already rounded)
    "als-progressive": Strategy("als-progressive", progressive=True),
    # longer restarts with a decaying ridge: better for shapes beyond <2,2,2> (benchmarks/results)
    "als-long": Strategy("als-long", steps=2000, ridge=1e-2, ridge_end=1e-5),
    # W_a quantized first, then W_b; W_c only by the least-squares repair
    "als-staged": Strategy("als-staged", steps=2000, ridge=1e-2, ridge_end=1e-5, als_staged=True),
    # progressive rounding: converge with sparsity pressure (and line extrapolation after each sweep),
    # then freeze the entries nearest to the coefficient set a fraction at a time, each freeze followed
    # by LM-damped exact re-solves
    "als-round": Strategy("als-round", steps=1200, dtype="float32", ridge=3e-2, ridge_end=1e-4, lm=0.1,
                          progressive=True, freeze_start=0.3, freeze_tol=0.02, freeze_frac=0.08, freeze_min=2,
                          freeze_res=0.5, frozen_abandon=0.3, give_up=0.55, sparse_start=0.1, sparse1=0.01,
                          quant_start=0.3, quant0=1e-3, quant1=0.1, pull=0.05, check_every=10,
                          abandon_at=0.4, abandon_tol=0.3, extrapolate=0.5),
}
DEFAULT_STRATEGY = "als"
DEFAULT_LARGE = "als-long"   # measured: <2,2,2>:7 92% vs 89% per restart with als; <2,3,3>:15 8.2% vs 3.1%,
                             # <2,3,4>:20 0.4% vs 0.1% with als-long
SMALL = 8                    # m*k*n up to which "default" means DEFAULT_STRATEGY
DEFAULT_ROUND = "als-round"  # measured: <3,3,3>:23 ~0.4 proven/s vs none with als-long; <2,3,4>:20 6 in 40 s vs 9 in 240 s
ROUND_FROM = 24              # m*k*n from which "default" means DEFAULT_ROUND


def strategy_names() -> list[str]:
    return sorted(STRATEGIES) + ["default"]


def default_strategy(shape=None) -> str:
    """The name ``default`` stands for: by measurement, ``als`` for <2,2,2> and smaller, ``als-round``
    from m*k*n = 24 (<2,3,4>, <3,3,3> and up), else ``als-long``."""
    if shape is None:
        return DEFAULT_STRATEGY
    m, k, n = shape
    if m * k * n >= ROUND_FROM:
        return DEFAULT_ROUND
    return DEFAULT_STRATEGY if m * k * n <= SMALL else DEFAULT_LARGE


def get_strategy(spec: str | None, shape=None) -> Strategy:
    """``None``/``"default"``, a registered name, or ``NAME:key=value,...``."""
    if spec is None:
        spec = "default"
    if not isinstance(spec, str):
        raise SpnOptionError(f"strategy must be a name, got {spec!r}")
    name, _, over = spec.partition(":")
    name = name.strip() or "default"
    if name == "default":
        name = default_strategy(shape)
    if name not in STRATEGIES:
        raise EngineNotFound(f"unknown strategy {name!r} for the spn engine; available: {', '.join(strategy_names())}")
    s = STRATEGIES[name]
    s.validate()
    return s.with_overrides(over)


@dataclass(frozen=True)
class CoefficientSet:
    """Where rounded coefficients live: ``step``-multiples in [-bound, bound]."""

    name: str
    bound: float
    step: int  # denominators: 1 (integers) or 2 (halves)

    def exact(self, value: float):
        """The exact coefficient of an already-projected float."""
        if self.step == 1:
            return int(round(value))
        return Fraction(int(round(value * self.step)), self.step)


COEFFICIENTS = {
    "ternary": CoefficientSet("ternary", 1.0, 1),
    "integer": CoefficientSet("integer", 2.0, 1),
    "half": CoefficientSet("half", 2.0, 2),
}


def gradient_strategies() -> list[str]:
    """The registered strategies trained by gradient (these accept ``--data random``)."""
    return sorted(n for n, s in STRATEGIES.items() if s.method == "adam")
