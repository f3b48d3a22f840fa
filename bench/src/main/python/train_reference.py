#!/usr/bin/env python3
"""Reference PyTorch training loop for TrainBenchmark: the semiweak student ResNet in plain PyTorch.

Same architecture as org.semiweak.model.ModelSpec (small stem: 3x3 conv stride 1 + BatchNorm +
ReLU; basic blocks conv-BN-ReLU-conv-BN + shortcut (1x1 conv + BN when the shape changes), ReLU;
global average pooling; linear head with bias; convolutions without bias; BatchNorm eps 1e-5,
running-average momentum 0.1 = DJL's 0.9), same loss (softmax cross entropy, mean), same optimizer
(SGD, momentum 0.9, Nesterov, weight decay 5e-4 on convolution and linear weights only, cosine
learning rate), same augmentation done on uint8 tensors per batch (random crop of the image padded
by --crop-padding black pixels, horizontal flip with probability 1/2, then normalization), images
drawn in a shuffled order. Reads the first --images Fashion-MNIST training images from --idx.

Prints one JSON line: images per second (wall and per CPU second) over the timed steps, after
--warmup untimed steps. Usage:
  python3 train_reference.py --idx /usr/share/datasets/fashion-mnist --images 10000 --steps 200
"""
import argparse
import gzip
import json
import math
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv(cin, cout, kernel, stride, padding):
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)


def bn(c):
    return nn.BatchNorm2d(c, eps=1e-5, momentum=0.1)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.main = nn.Sequential(conv(cin, cout, 3, stride, 1), bn(cout), nn.ReLU(),
                                  conv(cout, cout, 3, 1, 1), bn(cout))
        self.shortcut = (nn.Identity() if stride == 1 and cin == cout
                         else nn.Sequential(conv(cin, cout, 1, stride, 0), bn(cout)))

    def forward(self, x):
        return F.relu(self.main(x) + self.shortcut(x))


class SmallResNet(nn.Module):
    def __init__(self, channels, classes, widths, blocks):
        super().__init__()
        layers = [conv(channels, widths[0], 3, 1, 1), bn(widths[0]), nn.ReLU()]
        cin = widths[0]
        for s, (width, n) in enumerate(zip(widths, blocks)):
            for b in range(n):
                layers.append(BasicBlock(cin, width, 2 if s > 0 and b == 0 else 1))
                cin = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(cin, classes)

    def forward(self, x):
        return self.head(self.features(x).mean(dim=(2, 3)))


def read_idx_images(path, limit):
    with gzip.open(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 0x803, path
        n = min(n, limit)
        data = f.read(n * rows * cols)
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).reshape(n, 1, rows, cols)


def read_idx_labels(path, limit):
    with gzip.open(path, "rb") as f:
        magic, n = struct.unpack(">II", f.read(8))
        assert magic == 0x801, path
        data = f.read(min(n, limit))
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).long()


def augment(batch, padding, flip, gen):
    """Random crops of the zero-padded uint8 batch and random horizontal flips, per image."""
    b, c, h, w = batch.shape
    padded = F.pad(batch, (padding, padding, padding, padding))
    dy = torch.randint(0, 2 * padding + 1, (b,), generator=gen)
    dx = torch.randint(0, 2 * padding + 1, (b,), generator=gen)
    rows = dy[:, None] + torch.arange(h)[None, :]
    cols = dx[:, None] + torch.arange(w)[None, :]
    if flip:
        flipped = torch.rand(b, generator=gen) < 0.5
        cols = torch.where(flipped[:, None], cols.flip(1), cols)
    return padded[torch.arange(b)[:, None, None, None], torch.arange(c)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--idx", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--images", type=int, default=10000)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--widths", default="16,32,64")
    p.add_argument("--blocks", type=int, default=1)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--crop-padding", type=int, default=2)
    p.add_argument("--no-flip", action="store_true")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    images = read_idx_images(f"{a.idx}/train-images-idx3-ubyte.gz", a.images)
    labels = read_idx_labels(f"{a.idx}/train-labels-idx1-ubyte.gz", a.images)
    n = images.shape[0]
    mean, std = 0.286, 0.353
    widths = [int(w) for w in a.widths.split(",")]
    model = SmallResNet(1, a.classes, widths, [a.blocks] * len(widths))
    decay = [q for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) for q in [m.weight]]
    decay_ids = {id(q) for q in decay}
    no_decay = [q for q in model.parameters() if id(q) not in decay_ids]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0.0}],
                          lr=a.lr, momentum=0.9, nesterov=True)
    total = a.warmup + a.steps
    model.train()
    order = torch.randperm(n, generator=gen)
    position = 0
    t0 = c0 = None
    loss_sum = 0.0
    for step in range(total):
        if step == a.warmup:
            t0, c0 = time.perf_counter(), time.process_time()
        if position + a.batch_size > n:
            order, position = torch.randperm(n, generator=gen), 0
        idx = order[position:position + a.batch_size]
        position += a.batch_size
        x = augment(images[idx], a.crop_padding, not a.no_flip, gen) if a.crop_padding or not a.no_flip else images[idx]
        x = (x.float() / 255.0 - mean) / std
        for g in opt.param_groups:
            g["lr"] = a.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, step / total)))
        loss = F.cross_entropy(model(x), labels[idx])
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()
        value = loss.item()
        if not math.isfinite(value):
            raise SystemExit(f"loss is {value} at step {step}")
        if step >= a.warmup:
            loss_sum += value
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    done = a.steps * a.batch_size
    print(json.dumps({"images": done, "seconds": seconds, "cpu_seconds": cpu, "images_per_second": done / seconds,
                      "images_per_cpu_second": done / cpu, "threads": torch.get_num_threads(),
                      "mean_loss": loss_sum / a.steps, "torch": torch.__version__,
                      "parameters": sum(q.numel() for q in model.parameters())}))


if __name__ == "__main__":
    main()
