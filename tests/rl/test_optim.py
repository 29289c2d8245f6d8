"""The trainer's Adam: the same updates and state layout as torch.optim.Adam, without torch._dynamo."""

from __future__ import annotations

import subprocess
import sys

import torch

from vbot_agent.rl.optim import Adam


def _model(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ELU(), torch.nn.Linear(7, 3))


def _train(model: torch.nn.Module, opt, steps: int, seed: int = 1) -> None:
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = torch.randn(16, 5, generator=gen)
        loss = model(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_same_updates_as_torch_adam():
    mine, ref = _model(0), _model(0)
    _train(mine, Adam(mine.parameters(), lr=3e-3), 25)
    _train(ref, torch.optim.Adam(ref.parameters(), lr=3e-3, fused=True), 25)
    for a, b in zip(mine.parameters(), ref.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    assert not torch.equal(next(mine.parameters()), next(_model(0).parameters()))  # it did train


def test_state_dict_is_interchangeable_with_torch_adam():
    """Save mid-way from one implementation, continue in the other: the same parameters at the end."""
    ref = _model(0)
    ref_opt = torch.optim.Adam(ref.parameters(), lr=1e-2, fused=True)
    _train(ref, ref_opt, 10)
    mine = _model(0)
    mine.load_state_dict(ref.state_dict())
    mine_opt = Adam(mine.parameters(), lr=0.5)
    mine_opt.load_state_dict(ref_opt.state_dict())
    assert mine_opt.lr == 1e-2
    _train(ref, ref_opt, 10, seed=2)
    _train(mine, mine_opt, 10, seed=2)
    for a, b in zip(mine.parameters(), ref.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)

    back = _model(0)
    back.load_state_dict(mine.state_dict())
    back_opt = torch.optim.Adam(back.parameters(), lr=1.0, fused=True)
    back_opt.load_state_dict(mine_opt.state_dict())
    _train(back, back_opt, 5, seed=3)
    _train(mine, mine_opt, 5, seed=3)
    for a, b in zip(mine.parameters(), back.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_no_dynamo_import():
    code = ("import sys, torch; from vbot_agent.rl.optim import Adam; m = torch.nn.Linear(3, 2); "
            "o = Adam(m.parameters(), lr=1e-3); m(torch.ones(1, 3)).sum().backward(); o.step(); "
            "o.load_state_dict(o.state_dict()); print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
