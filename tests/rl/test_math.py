"""The maths against hand-computed values: GAE, time-limit bootstrap, PPO losses, KL, normaliser."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from tests.rl.conftest import tiny_config
from vbot_agent.rl.checkpoint import load_checkpoint
from vbot_agent.rl.config import PolicyConfig, PPOConfig
from vbot_agent.rl.loop import train
from vbot_agent.rl.networks import ActorCritic
from vbot_agent.rl.normalizer import EmpiricalNormalizer
from vbot_agent.rl.ppo import PPO, gaussian_kl, ppo_losses
from vbot_agent.rl.run_dir import create_run_dir
from vbot_agent.rl.runner import OnPolicyRunner
from vbot_agent.rl.storage import compute_gae


def test_gae_hand_computed():
    # gamma 0.9, lam 0.8; the episode ends at t=1, so t=1 does not look past it.
    rewards = torch.tensor([[1.0], [2.0], [3.0]])
    values = torch.tensor([[0.5], [1.0], [1.5]])
    dones = torch.tensor([[0.0], [1.0], [0.0]])
    adv, ret = compute_gae(rewards, values, dones, torch.tensor([2.0]), gamma=0.9, lam=0.8)
    # t=2: delta = 3 + 0.9*2.0 - 1.5 = 3.3;             A = 3.3
    # t=1: delta = 2 - 1.0 = 1.0 (done: no bootstrap);   A = 1.0
    # t=0: delta = 1 + 0.9*1.0 - 0.5 = 1.4;             A = 1.4 + 0.9*0.8*1.0 = 2.12
    assert adv.squeeze(1).tolist() == pytest.approx([2.12, 1.0, 3.3])
    assert ret.squeeze(1).tolist() == pytest.approx([2.62, 2.0, 4.8])


def test_gae_lambda_one_is_discounted_return():
    rewards = torch.tensor([[1.0], [1.0], [1.0]])
    values = torch.zeros(3, 1)
    adv, _ = compute_gae(rewards, values, torch.zeros(3, 1), torch.tensor([10.0]), gamma=0.5, lam=1.0)
    assert adv[0, 0].item() == pytest.approx(1 + 0.5 + 0.25 + 0.125 * 10)


def test_truncated_step_bootstraps_from_final_obs():
    torch.manual_seed(0)
    model = ActorCritic(3, 2, [8], [8])
    cfg = PPOConfig(num_steps_per_env=1, gamma=0.9)
    ppo = PPO(model, cfg, num_envs=2, device=torch.device("cpu"), generator=torch.Generator().manual_seed(0))
    obs = torch.zeros(2, 3)
    final = torch.ones(2, 3)
    ppo.act(obs)
    ppo.process_step(torch.tensor([1.0, 1.0]), terminated=torch.tensor([False, True]),
                     truncated=torch.tensor([True, False]), final_obs=final)
    v_final = model.value(final[:1]).item()
    # Row 0 hit the time limit: r + gamma * V(final_obs). Row 1 fell: no bootstrap.
    assert ppo.storage.rewards[0].tolist() == pytest.approx([1.0 + 0.9 * v_final, 1.0])
    assert ppo.storage.dones[0].tolist() == [1.0, 1.0]


def test_ppo_losses_hand_computed():
    log_probs = torch.log(torch.tensor([1.0, 1.5, 0.5]))  # ratios 1, 1.5, 0.5 against old log-prob 0
    old = torch.zeros(3)
    adv = torch.tensor([1.0, 2.0, -2.0])
    values, old_values = torch.tensor([1.0, 2.0, 0.0]), torch.tensor([1.0, 1.5, 0.5])
    returns = torch.tensor([2.0, 3.0, -1.0])
    entropy = torch.tensor([0.3, 0.6, 0.9])
    out = ppo_losses(log_probs, old, adv, values, old_values, returns, entropy, clip_param=0.2,
                     use_clipped_value_loss=True)
    # per sample max(-A r, -A clip(r)): max(-1,-1)=-1; max(-3,-2.4)=-2.4; max(1.0,1.6)=1.6
    assert out.surrogate.item() == pytest.approx((-1 - 2.4 + 1.6) / 3)
    # value: max((V-R)^2, (Vold+clip(V-Vold)-R)^2) = max(1,1), max(1,(1.7-3)^2), max(1,(0.3+1)^2)
    assert out.value.item() == pytest.approx((1 + 1.69 + 1.69) / 3)
    assert out.entropy.item() == pytest.approx(0.6)
    assert out.clip_fraction.item() == pytest.approx(2 / 3)
    plain = ppo_losses(log_probs, old, adv, values, old_values, returns, entropy, 0.2, False)
    assert plain.value.item() == pytest.approx(1.0)


def test_gaussian_kl_hand_computed():
    kl = gaussian_kl(torch.zeros(1, 1), torch.ones(1, 1), torch.ones(1, 1), torch.full((1, 1), 2.0))
    assert kl.item() == pytest.approx(math.log(2) + 2 / 8 - 0.5)


def test_policy_densities_match_torch_distributions():
    from torch.distributions import Normal

    torch.manual_seed(0)
    model = ActorCritic(5, 3, [16, 16], [16], activation="elu")
    with torch.no_grad():
        model.log_std.copy_(torch.tensor([-1.0, 0.0, 0.5]))
    obs, actions = torch.randn(64, 5), torch.randn(64, 3)
    log_prob, entropy, _, mean, std = model.evaluate(obs, actions)
    reference = Normal(model.actor(obs), model.log_std.exp().expand(64, 3))
    assert torch.allclose(log_prob, reference.log_prob(actions).sum(-1), atol=1e-5)
    assert torch.allclose(entropy, reference.entropy().sum(-1), atol=1e-6)
    sampled, sampled_log_prob, mean, std = model.act(obs, torch.Generator().manual_seed(1))
    assert torch.allclose(sampled_log_prob, Normal(mean, std).log_prob(sampled).sum(-1), atol=1e-5)


def test_in_place_activations_keep_gradients_exact():
    torch.manual_seed(0)
    model = ActorCritic(4, 2, [8, 8], [8], activation="elu").double()
    actions = torch.randn(6, 2, dtype=torch.float64)
    obs = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda o: model.evaluate(o, actions)[0] + model.evaluate(o, actions)[2], (obs,))


def test_adaptive_schedule_moves_lr_within_bounds():
    model = ActorCritic(3, 2, [8], [8])
    cfg = PPOConfig(schedule="adaptive", learning_rate=1e-3, desired_kl=0.01, max_learning_rate=1.2e-3)
    ppo = PPO(model, cfg, 1, torch.device("cpu"), torch.Generator())
    ppo._adapt_lr(0.05)
    assert ppo.learning_rate == pytest.approx(1e-3 / 1.5)
    ppo._adapt_lr(0.001)
    ppo._adapt_lr(0.001)
    assert ppo.learning_rate == pytest.approx(1.2e-3)  # capped
    assert ppo.optimizer.lr == ppo.learning_rate


def test_linear_schedule():
    cfg = PPOConfig(schedule="linear", learning_rate=1e-3, min_learning_rate=1e-5)
    ppo = PPO(ActorCritic(3, 2, [8], [8]), cfg, 1, torch.device("cpu"), torch.Generator())
    ppo.set_progress(0.25)
    assert ppo.learning_rate == pytest.approx(7.5e-4)
    ppo.set_progress(1.0)
    assert ppo.learning_rate == pytest.approx(1e-5)


def test_normalizer_matches_numpy_over_batches():
    rng = np.random.default_rng(0)
    data = rng.normal(3.0, 2.0, size=(300, 4)).astype(np.float32)
    norm = EmpiricalNormalizer(4, clip=100.0)
    for chunk in np.split(data, [10, 50, 170]):
        norm.update(torch.from_numpy(chunk))
    assert norm.mean.numpy() == pytest.approx(data.mean(0), abs=1e-4)
    assert norm.var.numpy() == pytest.approx(data.var(0), rel=1e-3)
    out = norm(torch.from_numpy(data)).numpy()
    assert out.mean(0) == pytest.approx(np.zeros(4), abs=1e-3)
    norm.frozen = True
    norm.update(torch.full((5, 4), 1e6))
    assert norm.mean.numpy() == pytest.approx(data.mean(0), abs=1e-4)


def test_action_noise_stays_under_its_bound():
    """With a large entropy bonus and nothing to learn, the std climbs every update unless bounded;
    a bounded model is projected back after each step and when it loads a noisier state."""

    def stds_after_updates(max_noise_std):
        torch.manual_seed(0)
        model = ActorCritic(3, 2, [8], [8], max_noise_std=max_noise_std)
        cfg = PPOConfig(num_steps_per_env=4, num_learning_epochs=4, num_mini_batches=1, entropy_coef=1.0,
                        learning_rate=0.05, schedule="fixed")
        ppo = PPO(model, cfg, num_envs=2, device=torch.device("cpu"), generator=torch.Generator().manual_seed(0))
        for _ in range(4):
            obs = torch.zeros(2, 3)
            for _ in range(4):
                ppo.act(obs)
                ppo.process_step(torch.zeros(2), terminated=torch.tensor([False, False]),
                                 truncated=torch.tensor([False, False]), final_obs=obs)
            ppo.compute_returns(obs)
            ppo.update()
        return ppo, model.log_std.exp()

    _, unbounded = stds_after_updates(None)
    assert unbounded.min() > 1.5
    ppo, bounded = stds_after_updates(1.0)
    assert bounded.max() <= 1.0 + 1e-6
    noisy = {k: v.clone() for k, v in ppo.actor_critic.state_dict().items()}
    noisy["log_std"].fill_(math.log(15.0))  # a warm start from a policy whose noise drifted up
    ppo.load_state_dict({"model": noisy}, load_optimizer=False)
    assert ppo.actor_critic.log_std.exp().max().item() == pytest.approx(1.0)


def test_annealed_noise_bound_falls_linearly_to_its_final_value():
    pol = PolicyConfig(init_noise_std=0.8, max_noise_std=1.0, final_noise_std=0.4)
    assert [pol.noise_cap(f) for f in (0.0, 0.5, 1.0, 1.5)] == pytest.approx([1.0, 0.7, 0.4, 0.4])
    assert PolicyConfig(final_noise_std=0.5).noise_cap(0.5) == pytest.approx(0.75)  # from init_noise_std
    assert PolicyConfig(max_noise_std=2.0, final_noise_std=None).noise_cap(0.5) == 2.0  # the constant bound
    assert PolicyConfig(init_noise_std=0.3, final_noise_std=0.4).noise_cap(1.0) == pytest.approx(0.3)  # never up
    for bad in (0.0, -0.1):
        with pytest.raises(ValueError, match="final_noise_std"):
            PolicyConfig(final_noise_std=bad)
    model = ActorCritic(3, 2, [8], [8], max_noise_std=1.0)
    model.set_max_noise_std(pol.noise_cap(0.5))
    assert model.log_std.exp().max().item() == pytest.approx(0.7)


def test_training_follows_the_annealed_noise_bound(run_root):
    cfg = tiny_config(max_env_steps=8 * 8 * 4)
    cfg = replace(cfg, policy=replace(cfg.policy, final_noise_std=0.2))
    run_dir = create_run_dir(run_root, cfg.env_id)
    train(OnPolicyRunner(cfg, run_dir))
    std = load_checkpoint(run_dir / "checkpoints" / "last.pt")["ppo"]["model"]["log_std"].exp()
    assert std.max().item() <= cfg.policy.noise_cap(3 / 4) + 1e-6  # the last update ran at 3/4 of the run


def test_evaluation_keeps_each_course_item_s_points_not_the_section_totals():
    from vbot_agent.rl.evaluate import summarize_episodes

    ep = {"return": np.zeros(4), "success": np.zeros(4), "fall": np.zeros(4), "points": np.array([4.0, 0, 8, 0]),
          "points_max": np.full(4, 20), "points/zone_left": np.array([4.0, 0, 4, 0]),
          "points/zone_centre": np.array([0.0, 0, 4, 0]), "points/section011": np.array([4.0, 0, 8, 0])}
    result = summarize_episodes(ep)
    assert result.points_by_item == {"zone_left": 2.0, "zone_centre": 1.0}
    assert result.to_dict()["points_by_item"] == {"zone_left": 2.0, "zone_centre": 1.0}
