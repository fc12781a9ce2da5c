"""StrassenNets for networks (torch): layers whose matrix products are SPNs with a budget of r multiplications.

- layers: :class:`SPNLinear`, :class:`SPNConv2d` (p×p output patches), :class:`SPNLSTM`; :func:`from_dense`;
- :func:`count` (multiplications and additions for one example at inference), :func:`deploy` (int8 ternary
  W_b, W_c computed with additions only except the r products with â, with operation counters);
- :func:`distillation_loss`, :class:`Stage`, :func:`paper_schedule`, :func:`train_staged`;
- experiments: :func:`train_experiment` (``algodiscover nn train``) and :func:`load`.

Imports torch; ``import algodiscover`` does not import this package.
"""

from .count import Counts, LayerCount, count
from .deploy import OpCounter, deploy
from .layers import (NNError, SPNConv2d, SPNLinear, SPNLSTM, exact_spn_conv, freeze_ternary, from_dense,
                     set_quant_mix)
from .train import Stage, distillation_loss, paper_schedule, train_staged


def load(directory):
    """The student saved by ``algodiscover nn train --out DIR`` as an ``nn.Module`` with ``predict``."""
    from .experiment import load as _load
    return _load(directory)


def train_experiment(*args, **kwargs):
    from .experiment import train_experiment as _t
    return _t(*args, **kwargs)


__all__ = ["SPNLinear", "SPNConv2d", "SPNLSTM", "from_dense", "exact_spn_conv", "set_quant_mix", "freeze_ternary",
           "count", "Counts", "LayerCount", "deploy", "OpCounter", "distillation_loss", "Stage", "paper_schedule",
           "train_staged", "load", "train_experiment", "NNError"]
