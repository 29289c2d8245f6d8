"""Adam for one fixed list of parameters, on torch's fused Adam kernel.

``torch.optim.Optimizer`` imports ``torch._dynamo`` the first time it is used: about a second on
a 2-core machine, as much as importing torch itself, paid by every trainer process (a campaign
starts one per trial). This class calls the same functional kernel (``torch.optim.adam.adam``,
fused) without that import. Its ``state_dict`` has ``torch.optim.Adam``'s layout, so either can
read the other's.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch.optim.adam import adam


class Adam:
    """Adam (Kingma & Ba 2015) without weight decay or AMSGrad, as PPO uses it."""

    def __init__(self, params: Iterable[torch.nn.Parameter], lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.params = list(params)
        self.lr, self.betas, self.eps = lr, betas, eps
        self.exp_avgs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.exp_avg_sqs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        # the fused kernel keeps each step count as a float tensor on the parameter's device
        self.steps = [torch.zeros((), dtype=torch.float32, device=p.device) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        with_grad = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not with_grad:
            return
        steps = [self.steps[i] for i in with_grad]  # the kernel increments them
        adam([self.params[i] for i in with_grad], [self.params[i].grad for i in with_grad],
             [self.exp_avgs[i] for i in with_grad], [self.exp_avg_sqs[i] for i in with_grad], [], steps,
             fused=True, amsgrad=False, beta1=self.betas[0], beta2=self.betas[1], lr=self.lr, weight_decay=0.0,
             eps=self.eps, maximize=False)

    def state_dict(self) -> dict:
        """``torch.optim.Adam``'s layout: per-parameter ``state`` and one ``param_groups`` entry."""
        state = {i: {"step": s.clone(), "exp_avg": m.clone(), "exp_avg_sq": v.clone()}
                 for i, (s, m, v) in enumerate(zip(self.steps, self.exp_avgs, self.exp_avg_sqs))
                 if float(s) > 0}
        group = {"lr": self.lr, "betas": self.betas, "eps": self.eps, "weight_decay": 0.0, "amsgrad": False,
                 "maximize": False, "foreach": None, "capturable": False, "differentiable": False,
                 "fused": True, "decoupled_weight_decay": False, "params": list(range(len(self.params)))}
        return {"state": state, "param_groups": [group]}

    def load_state_dict(self, state_dict: dict) -> None:
        groups = state_dict["param_groups"]
        if len(groups) != 1 or len(groups[0]["params"]) != len(self.params):
            raise ValueError(f"optimizer state for {sum(len(g['params']) for g in groups)} parameters, "
                             f"this model has {len(self.params)}")
        group = groups[0]
        self.lr, self.betas, self.eps = float(group["lr"]), tuple(group["betas"]), float(group["eps"])
        for i, p in enumerate(self.params):
            entry = state_dict["state"].get(i) or state_dict["state"].get(str(i))
            if entry is None:
                self.steps[i].zero_()
                self.exp_avgs[i].zero_()
                self.exp_avg_sqs[i].zero_()
                continue
            for name, mine in (("exp_avg", self.exp_avgs[i]), ("exp_avg_sq", self.exp_avg_sqs[i])):
                if entry[name].shape != p.shape:
                    raise ValueError(f"optimizer {name} of parameter {i} has shape {tuple(entry[name].shape)}, "
                                     f"the parameter {tuple(p.shape)}")
                mine.copy_(entry[name])
            self.steps[i].fill_(float(entry["step"]))
