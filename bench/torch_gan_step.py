#!/usr/bin/env python3
"""PyTorch peer of `lpom train --model dcgan|wgan-gp --generator paper` for timing (bench/gan_bench.sh).

The same step as Sources/Surfing/GANTrainer.swift with the surfing authors' settings (batch 128,
Adam beta1 = 0.5, beta2 = 0.999, eps = 1e-8, one discriminator/critic update per generator update):

  networks (GenerativeModels.swift, the paper's): G = FC k->1024, BN, ReLU, FC 1024->6272, BN, ReLU,
    unflatten [128, 7, 7], convT 4x4 s2 p1 -> 64, BN, ReLU, convT 4x4 s2 p1 -> 1, sigmoid;
    D = conv 4x4 s2 p1 1->64, lReLU(0.2), conv 64->128, BN (optional), lReLU, flatten,
    FC 6272->1024, BN (optional), lReLU, FC 1024->1. Every dense/conv/convT weight N(0, 0.02^2),
    biases 0, BN gamma 1, beta 0, eps 1e-5, momentum 0.1.
  one step: z ~ U[-1, 1]^k, fake = G(z) (training mode);
    D update: D(real) and D(fake.detach()) as two passes (batch norm sees one kind at a time),
      DCGAN  L_D = mean softplus(-D(x)) + mean softplus(D(G(z)))
      WGAN-GP L_D = mean D(G(z)) - mean D(x) + P, P at x_hat = fake + eps (real - fake) in training
      mode: per-sample (eps per sample, P = lambda mean_i (||grad_x D(x_hat_i)|| - 1)^2) or
      released (eps per pixel, norms over the image height axis, one per (sample, channel, column)),
      by double back-propagation (autograd.grad(create_graph=True));
    G update through the updated D with D's parameters frozen (requires_grad False: only the input
      gradient), DCGAN -mean log sigmoid(D(G(z))), WGAN-GP -mean D(G(z)); the fake batch is G's
      forward from the D update (no second G forward), as lpom does.
Real images: Fashion-MNIST (or MNIST) training images / 255 as float32, batches in a shuffled order.

Warm-up steps (--warmup) are excluded; prints one JSON line: seconds and CPU seconds per generator
step over the --steps timed steps.

Usage: torch_gan_step.py --data-dir data --dataset fashion-mnist --model dcgan|wgan-gp [--threads 1]
       [--steps 20] [--warmup 3] [--latent 10] [--critic-batchnorm on|off] [--gp-style per-sample|released]
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from idx import read_idx  # noqa: E402  (bench/idx.py: the bench scripts' one IDX reader)


def train_images(folder):
    for name in ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"):
        p = os.path.join(folder, name)
        if os.path.exists(p):
            return torch.from_numpy(read_idx(p).astype(np.float32) / 255).reshape(-1, 1, 28, 28)
    raise SystemExit(f"no train-images-idx3-ubyte(.gz) in {folder}")


def generator(k):
    return nn.Sequential(
        nn.Linear(k, 1024), nn.BatchNorm1d(1024), nn.ReLU(),
        nn.Linear(1024, 128 * 7 * 7), nn.BatchNorm1d(128 * 7 * 7), nn.ReLU(),
        nn.Unflatten(1, (128, 7, 7)),
        nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Sigmoid())


def discriminator(batch_norm):
    bn2 = [nn.BatchNorm2d(128)] if batch_norm else []
    bn1 = [nn.BatchNorm1d(1024)] if batch_norm else []
    return nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1), *bn2, nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(128 * 7 * 7, 1024), *bn1, nn.LeakyReLU(0.2),
        nn.Linear(1024, 1))


def initialize(net, std):
    """GenerativeArchitectures.initialize: weights of >= 2 dimensions N(0, std^2), biases 0; BN keeps 1, 0."""
    for m in net.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, std)
            nn.init.zeros_(m.bias)


def penalty(d, real, fake, lam, style):
    """WGAN-GP penalty at x_hat = fake + eps (real - fake) (GANTrainer.interpolate), differentiable in D's parameters."""
    b = real.shape[0]
    eps = torch.rand(b, 1, 1, 1) if style == "per-sample" else torch.rand(real.shape)
    xhat = (fake + eps * (real - fake)).requires_grad_(True)
    g, = torch.autograd.grad(d(xhat).sum(), xhat, create_graph=True)
    if style == "per-sample":
        norms = g.reshape(b, -1).norm(dim=1)
    else:  # the released code: norm over the height axis, one per (sample, channel, column)
        norms = (g * g).sum(dim=2).sqrt()
    return lam * ((norms - 1) ** 2).mean(), norms.mean()


class Step:
    def __init__(self, a):
        self.a = a
        torch.manual_seed(a.seed)
        self.g, self.d = generator(a.latent), discriminator(a.critic_batchnorm == "on")
        initialize(self.g, 0.02)
        initialize(self.d, 0.02)
        self.g.train()
        self.d.train()
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=a.g_lr, betas=(0.5, 0.999), eps=1e-8)
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=a.d_lr, betas=(0.5, 0.999), eps=1e-8)

    def __call__(self, real):
        a, g, d = self.a, self.g, self.d
        z = torch.rand(real.shape[0], a.latent) * 2 - 1
        fake = g(z)
        # Discriminator / critic update: real and fake in two passes.
        self.opt_d.zero_grad(set_to_none=True)
        out_real = d(real)
        loss_real = F.softplus(-out_real).mean() if a.model == "dcgan" else -out_real.mean()
        loss_real.backward()
        out_fake = d(fake.detach())
        loss_fake = F.softplus(out_fake).mean() if a.model == "dcgan" else out_fake.mean()
        if a.model == "wgan-gp":
            p, _ = penalty(d, real, fake.detach(), a.gp_lambda, a.gp_style)
            loss_fake = loss_fake + p
        loss_fake.backward()
        self.opt_d.step()
        # Generator update through the updated discriminator (its parameters frozen).
        for q in d.parameters():
            q.requires_grad_(False)
        self.opt_g.zero_grad(set_to_none=True)
        out = d(fake)
        g_loss = F.softplus(-out).mean() if a.model == "dcgan" else -out.mean()
        g_loss.backward()
        self.opt_g.step()
        for q in d.parameters():
            q.requires_grad_(True)
        return float(g_loss.detach())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default="data")
    ap.add_argument("--dataset", default="fashion-mnist")
    ap.add_argument("--model", choices=["dcgan", "wgan-gp"], default="dcgan")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=20, help="timed generator steps")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    ap.add_argument("--latent", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--critic-batchnorm", choices=["on", "off"], default="on")
    ap.add_argument("--gp-style", choices=["per-sample", "released"], default="per-sample")
    ap.add_argument("--gp-lambda", type=float, default=0.25)
    ap.add_argument("--g-lr", type=float, default=1e-3)
    ap.add_argument("--d-lr", type=float, default=2e-4)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    x = train_images(os.path.join(a.data_dir, a.dataset))
    step = Step(a)
    gen = torch.Generator().manual_seed(a.seed)
    order = torch.randperm(x.shape[0], generator=gen)
    b = a.batch_size
    per_epoch = x.shape[0] // b

    def batch(i):
        i %= per_epoch
        return x[order[i * b:(i + 1) * b]]

    for i in range(a.warmup):
        step(batch(i))
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(a.warmup, a.warmup + a.steps):
        g_loss = step(batch(i))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "model": a.model, "threads": a.threads,
                      "batch": b, "latent": a.latent, "critic_batchnorm": a.critic_batchnorm, "gp_style": a.gp_style,
                      "steps": a.steps, "warmup": a.warmup, "seconds": seconds, "cpu_seconds": cpu,
                      "s_per_step": seconds / a.steps, "cpu_s_per_step": cpu / a.steps, "last_g_loss": g_loss}))


if __name__ == "__main__":
    main()
