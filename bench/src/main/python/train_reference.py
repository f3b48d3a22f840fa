#!/usr/bin/env python3
"""Reference PyTorch training loop for TrainBenchmark and AccuracyBenchmark: the semiweak ResNet in plain PyTorch.

Same architecture as org.semiweak.model.ModelSpec (small stem: 3x3 conv stride 1 + BatchNorm +
ReLU; basic blocks conv-BN-ReLU-conv-BN + shortcut (1x1 conv + BN when the shape changes), ReLU;
global average pooling; linear head with bias; convolutions without bias; BatchNorm eps 1e-5,
running-average momentum 0.1 = DJL's 0.9), same loss (softmax cross entropy, mean), same optimizer
(SGD, momentum 0.9, Nesterov, weight decay 5e-4 on convolution and linear weights only, cosine
learning rate), same augmentation done on uint8 tensors per batch (random crop of the image padded
by --crop-padding black pixels, horizontal flip with probability 1/2, then normalization), images
drawn in a shuffled order.

Two modes:
  speed (default): reads the first --images Fashion-MNIST training images from --idx and prints one
    JSON line: images per second (wall and per CPU second) over --steps timed steps, after --warmup
    untimed steps.
      python3 train_reference.py --idx /usr/share/datasets/fashion-mnist --images 10000 --steps 200
  accuracy (--epochs N): trains to completion on the labeled subset that semiweak's data-prep draws
    from the IDX files (--labeled-per-class per class, seeded by --select-seed; or --train-indices),
    with semiweak's per-step schedule (linear warm-up over --warmup-epochs, then cosine to 0, as
    TrainOptions.learningRate), PyTorch's default initialization (or --init he-normal), then evaluates
    in eval mode (BatchNorm running statistics) on the 10,000 test images (or --val-indices, train
    images) and prints one JSON line with "top1".
      python3 train_reference.py --epochs 60 --lr 0.05 --warmup-epochs 2 --seed 1 --threads 1
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


MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def _mix(z):
    z &= MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def seeded_hash(seed, key):
    """org.semiweak.util.SeededRandom.hash(long, String) as an unsigned 64-bit value."""
    h = _mix(seed + GOLDEN)
    for i, ch in enumerate(key):
        h = (_mix(h ^ ord(ch)) + i) & MASK
    return _mix(h)


def _signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


SALT_LABELED = 0x4C4142454C454421


def labeled_subset(images, labels, test_images, per_class, seed, prefix="fashion-mnist"):
    """data-prep's idx labeled subset: train images that are no pixel duplicate of a test image or of an
    earlier train image, then per class the `per_class` with the smallest seeded hash of their id
    (PrepareImages.assignLabeledSubset with IdxSource's select key)."""
    seen = {bytes(t.numpy().tobytes()) for t in test_images}
    keys = []
    for i in range(images.shape[0]):
        px = bytes(images[i].numpy().tobytes())
        if px in seen:
            continue
        seen.add(px)
        image_id = "%s-train-%05d" % (prefix, i)
        keys.append((int(labels[i]), _signed(seeded_hash(seed ^ SALT_LABELED, image_id)), image_id, i))
    keys.sort()
    chosen, count = [], {}
    for label, _, _, i in keys:
        if count.get(label, 0) < per_class:
            count[label] = count.get(label, 0) + 1
            chosen.append(i)
    return sorted(chosen)


def learning_rate(step, base, total, warmup):
    """org.semiweak.train.TrainOptions.learningRate: linear warm-up, then cosine to 0, per step."""
    if step < warmup:
        return base * (step + 1) / warmup
    progress = (step - warmup) / (total - warmup)
    return base * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def he_normal_init(model, gen):
    """ModelWeights.Init.HE_NORMAL (semiweak's scheme before it took PyTorch's defaults): convolutions He-normal (fan in), linear weight uniform +-1/sqrt(fan in),
    linear bias 0 (BatchNorm as PyTorch: gamma 1, beta 0)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fan_in = m.weight[0].numel()
                m.weight.normal_(0, math.sqrt(2.0 / fan_in), generator=gen)
            elif isinstance(m, nn.Linear):
                bound = 1 / math.sqrt(m.weight.shape[1])
                m.weight.uniform_(-bound, bound, generator=gen)
                m.bias.zero_()


def read_indices(path):
    with open(path) as f:
        return [int(line) for line in f if line.strip()]


def evaluate(model, images, labels, mean, std, batch=500):
    model.eval()
    correct = 0
    with torch.no_grad():
        for s in range(0, images.shape[0], batch):
            x = (images[s:s + batch].float() / 255.0 - mean) / std
            correct += (model(x).argmax(1) == labels[s:s + batch]).sum().item()
    model.train()
    return correct / images.shape[0]


def djl_order(model):
    """The model's tensors in the order of the DJL block's parameters (ModelWeights): per convolution its
    weight, per BatchNorm gamma, beta, running mean, running variance, for the head weight and bias."""
    out = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            out.append(m.weight)
        elif isinstance(m, nn.BatchNorm2d):
            out += [m.weight, m.bias, m.running_mean, m.running_var]
        elif isinstance(m, nn.Linear):
            out += [m.weight, m.bias]
    return out


def check(a):
    """Step check: loads initial weights (raw little-endian float32 in DJL order) from --check-weights, trains
    --check-steps steps, each on all --train-indices images as one batch, without augmentation, with the
    per-step cosine schedule (no warm-up), and writes the weights to --check-out in the same format."""
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    all_images = read_idx_images(f"{a.idx}/train-images-idx3-ubyte.gz", 1 << 30)
    all_labels = read_idx_labels(f"{a.idx}/train-labels-idx1-ubyte.gz", 1 << 30)
    train = torch.tensor(read_indices(a.train_indices), dtype=torch.long)
    x = (all_images[train].float() / 255.0 - a.mean) / a.std
    y = all_labels[train]
    widths = [int(w) for w in a.widths.split(",")]
    model = SmallResNet(1, a.classes, widths, [a.blocks] * len(widths))
    tensors = djl_order(model)
    flat = torch.frombuffer(bytearray(open(a.check_weights, "rb").read()), dtype=torch.float32)
    assert flat.numel() == sum(t.numel() for t in tensors), (flat.numel(), sum(t.numel() for t in tensors))
    with torch.no_grad():
        offset = 0
        for t in tensors:
            t.copy_(flat[offset:offset + t.numel()].reshape(t.shape))
            offset += t.numel()
    if a.decay == "weights":
        decay = [q for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) for q in [m.weight]]
    else:
        decay = list(model.parameters())
    decay_ids = {id(q) for q in decay}
    no_decay = [q for q in model.parameters() if id(q) not in decay_ids]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": a.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
                          lr=a.lr, momentum=0.9, nesterov=True)
    model.train()
    losses = []
    for step in range(a.check_steps):
        for g in opt.param_groups:
            g["lr"] = learning_rate(step, a.lr, a.check_steps, 0)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with open(a.check_out, "wb") as f:
        f.write(torch.cat([t.detach().reshape(-1) for t in djl_order(model)]).numpy().astype("<f4").tobytes())
    test_images = read_idx_images(f"{a.idx}/t10k-images-idx3-ubyte.gz", 1 << 30)
    test_labels = read_idx_labels(f"{a.idx}/t10k-labels-idx1-ubyte.gz", 1 << 30)
    top1 = evaluate(model, test_images, test_labels, a.mean, a.std)
    print(json.dumps({"mode": "check", "losses": losses, "test_top1": top1}))


def accuracy(a):
    """Trains to completion on the labeled subset and reports top-1 on the test set (or --val-indices)."""
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    all_images = read_idx_images(f"{a.idx}/train-images-idx3-ubyte.gz", 1 << 30)
    all_labels = read_idx_labels(f"{a.idx}/train-labels-idx1-ubyte.gz", 1 << 30)
    test_images = read_idx_images(f"{a.idx}/t10k-images-idx3-ubyte.gz", 1 << 30)
    test_labels = read_idx_labels(f"{a.idx}/t10k-labels-idx1-ubyte.gz", 1 << 30)
    if a.train_indices:
        train = read_indices(a.train_indices)
    else:
        train = labeled_subset(all_images, all_labels, test_images, a.labeled_per_class, a.select_seed)
    train_t = torch.tensor(train, dtype=torch.long)
    images, labels = all_images[train_t], all_labels[train_t]
    if a.val_indices:
        val = torch.tensor(read_indices(a.val_indices), dtype=torch.long)
        eval_images, eval_labels, split = all_images[val], all_labels[val], "val"
    else:
        eval_images, eval_labels, split = test_images, test_labels, "test"
    n = images.shape[0]
    widths = [int(w) for w in a.widths.split(",")]
    model = SmallResNet(1, a.classes, widths, [a.blocks] * len(widths))
    if a.init == "he-normal":
        he_normal_init(model, gen)
    if a.decay == "weights":
        decay = [q for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) for q in [m.weight]]
    else:
        decay = list(model.parameters())
    decay_ids = {id(q) for q in decay}
    no_decay = [q for q in model.parameters() if id(q) not in decay_ids]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": a.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
                          lr=a.lr, momentum=0.9, nesterov=True)
    per_epoch = -(-n // a.batch_size)
    total = per_epoch * a.epochs
    warmup = min(per_epoch * a.warmup_epochs, total // 2)
    t0 = time.perf_counter()
    model.train()
    loss_sum, loss_count, step = 0.0, 0, 0
    order, position = None, n
    while step < total:
        if a.batching == "epoch":
            # A shuffled pass per epoch, the last batch partial (DataLoader shuffle=True, drop_last=False).
            if position >= n:
                order, position = torch.randperm(n, generator=gen), 0
            idx = order[position:position + a.batch_size]
            position += a.batch_size
        else:
            # semiweak's SampleSchedule: an endless walk over per-epoch permutations, every batch full.
            idx = []
            while len(idx) < a.batch_size:
                if position >= n:
                    order, position = torch.randperm(n, generator=gen), 0
                take = order[position:position + a.batch_size - len(idx)]
                idx.extend(take.tolist())
                position += len(take)
            idx = torch.tensor(idx, dtype=torch.long)
        x = augment(images[idx], a.crop_padding, not a.no_flip, gen) if a.crop_padding or not a.no_flip else images[idx]
        x = (x.float() / 255.0 - a.mean) / a.std
        for g in opt.param_groups:
            g["lr"] = learning_rate(step, a.lr, total, warmup)
        loss = F.cross_entropy(model(x), labels[idx])
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()
        value = loss.item()
        if not math.isfinite(value):
            raise SystemExit(f"loss is {value} at step {step}")
        if step >= total - per_epoch:
            loss_sum += value
            loss_count += 1
        step += 1
    train_seconds = time.perf_counter() - t0
    top1 = evaluate(model, eval_images, eval_labels, a.mean, a.std)
    print(json.dumps({"mode": "accuracy", "seed": a.seed, "split": split, "top1": top1,
                      "eval_images": int(eval_images.shape[0]), "train_images": n, "steps": total,
                      "warmup_steps": warmup, "final_epoch_loss": loss_sum / max(1, loss_count),
                      "train_seconds": train_seconds, "init": a.init, "decay": a.decay, "batching": a.batching,
                      "lr": a.lr, "weight_decay": a.weight_decay, "threads": torch.get_num_threads(),
                      "torch": torch.__version__, "parameters": sum(q.numel() for q in model.parameters())}))


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
    p.add_argument("--epochs", type=int, default=0, help="accuracy mode: train this many epochs, then evaluate")
    p.add_argument("--warmup-epochs", type=int, default=2, help="accuracy mode: linear warm-up (as TrainOptions)")
    p.add_argument("--labeled-per-class", type=int, default=100)
    p.add_argument("--select-seed", type=int, default=42, help="data-prep's seed of the labeled-subset draw")
    p.add_argument("--train-indices", help="file of train-image indices to train on (one a line), instead")
    p.add_argument("--val-indices", help="file of train-image indices to evaluate on instead of the test set")
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--decay", choices=["weights", "all"], default="weights",
                   help="weights: conv and linear weights only; all: every parameter (BatchNorm, bias)")
    p.add_argument("--init", choices=["pytorch", "he-normal"], default="pytorch",
                   help="pytorch: nn.Conv2d/nn.Linear defaults; he-normal: ModelWeights.Init.HE_NORMAL")
    p.add_argument("--batching", choices=["epoch", "walk"], default="epoch",
                   help="epoch: reshuffle each epoch, last batch partial; walk: semiweak's endless walk")
    p.add_argument("--mean", type=float, default=0.286)
    p.add_argument("--std", type=float, default=0.353)
    p.add_argument("--no-mkldnn", action="store_true", help="torch.backends.mkldnn.enabled = False (no oneDNN)")
    p.add_argument("--check-weights", help="step check: initial weights, raw float32 in DJL order")
    p.add_argument("--check-out", help="step check: where to write the trained weights")
    p.add_argument("--check-steps", type=int, default=5)
    a = p.parse_args()
    if a.no_mkldnn:
        torch.backends.mkldnn.enabled = False
    if a.check_weights:
        check(a)
        return
    if a.epochs > 0:
        accuracy(a)
        return

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
