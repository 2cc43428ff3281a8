"""Training throughput of the reference client, against NeuroGym stepped one step at a time.

    python benchmarks/bench_training.py                 # throughput (about a minute)
    python benchmarks/bench_training.py criterion --seeds 5 --paradigm sl   # runs to 95%

Throughput, N = 250, one torch thread, measured in the same process:
- RL: environment steps per second while acting (the rollout of a PPO update) and during whole
  PPO updates (rollout + 4 epochs of minibatch BPTT), versus the same network acting in
  NeuroGym's Gymnasium ContextDecisionMaking env one step at a time (one forward per step);
- SL: trials per second of whole training updates (32 fresh trials from `train_sl.batches`,
  then `train_sl.update`: pack, forward, backward, gradient clipping, Adam),
  versus the same update with the trials collected by stepping NeuroGym's env one step at a
  time (one network step per env step, the loss accumulated along the way);
- the share of the time spent in the network (forward, backward, optimiser).
Times are CPU times of this process (one torch thread), so that other jobs on a shared machine
do not distort the ratios.
``criterion`` trains N = 250, delta = 0.1 networks on the default preset and prints, per seed,
whether 95% was reached, the updates, the wall time and the CPU time.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from torch.nn import functional as F

from attractorkit.reference_models.networks import ReLURNN
from attractorkit.reference_models.task import ContextDecisionMaking
from attractorkit.reference_models.train_rl import gae, ppo_loss, rollout
from attractorkit.reference_models.train_sl import batches as sl_batches
from attractorkit.reference_models.train_sl import update as sl_update
from attractorkit.reference_models.training import TrainConfig, adam, train

N = 250
#: CPU time of this process: the reference machine is shared, and wall time would measure the
#: neighbours; with one torch thread, CPU time is the work done
clock = time.process_time


def neurogym_env():
    from neurogym.envs.native.contextdecisionmaking import ContextDecisionMaking as NGym

    env = NGym(use_expl_context=True, sigma=0.5)
    env.seed(0)
    env.reset(seed=0)
    return env


def ours_rl(seconds):
    task = ContextDecisionMaking("default")
    net = ReLURNN(task.n_input, N, 3, critic=True, seed=0)
    cfg = TrainConfig(paradigm="rl")
    opt = adam(net, 1e-4)
    rng, gen = np.random.default_rng(0), torch.Generator().manual_seed(0)
    steps, t_roll, t_net = 0, 0.0, 0.0
    while t_roll < seconds:  # acting only; the forward pass is timed again, outside the count
        t1 = clock()
        data = rollout(net, task, 128, rng, gen, "cpu")
        t_roll += clock() - t1
        steps += data["n_steps"]
        t_net += _net_time(net, data)
    act, act_share = steps / t_roll, t_net / t_roll
    steps, t0, t_net = 0, clock(), 0.0
    while clock() - t0 < seconds:  # whole PPO updates
        data = rollout(net, task, 128, rng, gen, "cpu")
        data["adv"], data["returns"] = gae(data["rewards"], data["values"], data["done"],
                                           data["alive"], 0.99, 0.95)
        for _ in range(4):
            for idx in torch.randperm(128, generator=gen).split(32):
                mb = {k: data[k][idx] for k in ("obs", "actions", "logp", "adv", "returns",
                                                "alive", "length")}
                t1 = clock()
                loss, _ = ppo_loss(net, mb, cfg)
                opt.zero_grad()
                loss.backward()
                opt.step()
                t_net += clock() - t1
        steps += data["n_steps"]
    return act, act_share, steps / (clock() - t0), t_net / (clock() - t0)


def _net_time(net, data):
    """CPU time of the network's part of a rollout (packed forward pass and heads)."""
    packing = data["packing"]
    obs = packing.pack(data["obs"])
    t = clock()
    with torch.no_grad():
        net.forward_packed(obs, packing)
    return clock() - t


def neurogym_rl(seconds):
    env = neurogym_env()
    net = ReLURNN(7, N, 3, critic=True, seed=0)
    gen = torch.Generator().manual_seed(0)
    h = torch.zeros(1, N)
    obs, _ = env.reset(seed=0)
    steps, t_net, t0 = 0, 0.0, clock()
    while clock() - t0 < seconds:
        t1 = clock()
        with torch.no_grad():
            h = net.step(h, torch.from_numpy(obs)[None])
            probs = F.softmax(F.linear(h, net.readout_weight, net.readout_bias), -1)
            F.linear(h, net.value_weight, net.value_bias)
            action = int(torch.multinomial(probs[0], 1, generator=gen))
        t_net += clock() - t1
        obs, _, _, _, info = env.step(action)
        if info["new_trial"]:
            h = torch.zeros(1, N)
        steps += 1
    wall = clock() - t0
    return steps / wall, t_net / wall


def ours_sl(seconds, batch=32):
    """Whole training updates of ``train_sl`` (pack, forward, loss, backward, clip, Adam)."""
    task = ContextDecisionMaking("default")
    net = ReLURNN(task.n_input, N, 3, seed=0)
    opt, cfg = adam(net, 1e-4), TrainConfig(paradigm="sl")
    source = sl_batches(task, batch, np.random.default_rng(0))  # as train_sl.run samples
    trials, t_net, t0 = 0, 0.0, clock()
    while clock() - t0 < seconds:
        b = next(source)
        t1 = clock()
        sl_update(net, opt, b, cfg)
        t_net += clock() - t1
        trials += batch
    wall = clock() - t0
    return trials / wall, t_net / wall


def neurogym_sl(seconds):
    env = neurogym_env()
    net = ReLURNN(7, N, 3, seed=0)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    obs, _ = env.reset(seed=0)
    trials, t_net, t0 = 0, 0.0, clock()
    while clock() - t0 < seconds:
        losses = []
        h = torch.zeros(1, N)
        for _ in range(32):  # a batch of 32 trials, each stepped one step at a time
            while True:
                t1 = clock()
                h = net.step(h, torch.from_numpy(obs)[None])
                logits = F.linear(h, net.readout_weight, net.readout_bias)
                t_net += clock() - t1
                gt = int(env.gt_now)
                obs, _, _, _, info = env.step(gt)
                t1 = clock()
                losses.append(F.cross_entropy(logits, torch.tensor([gt])))
                t_net += clock() - t1
                if info["new_trial"]:
                    h = torch.zeros(1, N)
                    break
        t1 = clock()
        loss = torch.stack(losses).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        t_net += clock() - t1
        trials += 32
    wall = clock() - t0
    return trials / wall, t_net / wall


def throughput(seconds, sl_batch=32):
    torch.set_num_threads(1)
    act, act_share, upd, upd_share = ours_rl(seconds)
    ng, ng_share = neurogym_rl(seconds)
    print(f"RL, N={N}: environment steps per second (one torch thread)")
    print(f"  attractorkit rollout (acting)      {act:12.0f}  network share {act_share:5.1%}")
    print(f"  attractorkit whole PPO updates     {upd:12.0f}  network share {upd_share:5.1%}")
    print(f"  neurogym env, one step at a time   {ng:12.0f}  network share {ng_share:5.1%}")
    print(f"  ratio acting / neurogym            {act / ng:12.1f}x")
    print(f"  ratio whole PPO update / neurogym  {upd / ng:12.1f}x")
    sl, sl_share = ours_sl(seconds, sl_batch)
    ngs, ngs_share = neurogym_sl(seconds)
    print(f"SL, N={N}: trials per second of training (attractorkit: batches of {sl_batch}; "
          "neurogym: 32)")
    print(f"  attractorkit vectorised batches    {sl:12.1f}  network share {sl_share:5.1%}")
    print(f"  neurogym env, one step at a time   {ngs:12.1f}  network share {ngs_share:5.1%}")
    print(f"  ratio                              {sl / ngs:12.1f}x")


def criterion(paradigm, seeds, max_seconds):
    for seed in seeds:
        cfg = TrainConfig.preset("paper", paradigm=paradigm, delta=0.1, seed=seed,
                                 max_seconds=max_seconds)
        r = train(cfg)
        print(json.dumps({"paradigm": paradigm, "seed": seed, "reached": r.reached_criterion,
                          "accuracy": r.accuracy, "updates": r.updates,
                          "trials": int(r.history["trials"][-1]),
                          "wall_s": round(r.wall_time, 1),
                          "cpu_s": round(float(r.history["cpu_s"][-1]), 1)}), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", nargs="?", default="throughput", choices=("throughput", "criterion"))
    p.add_argument("--seconds", type=float, default=8.0, help="time per throughput measurement")
    p.add_argument("--sl-batch", type=int, default=32, help="trials per SL update (ours)")
    p.add_argument("--paradigm", choices=("sl", "rl"), default="sl")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--max-seconds", type=float, default=1800.0)
    a = p.parse_args()
    if a.mode == "throughput":
        throughput(a.seconds, a.sl_batch)
    else:
        criterion(a.paradigm, range(a.first_seed, a.first_seed + a.seeds), a.max_seconds)


if __name__ == "__main__":
    main()
