#!/usr/bin/env python3
"""A semiweak model in plain PyTorch: the ResNet semiweak trains, and a loader for `semiweak export` files.

Needs torch only (no semiweak, no safetensors package):

    import semiweak_model
    model, meta = semiweak_model.load("baseline.safetensors")   # eval mode
    x = semiweak_model.preprocess(images_uint8_nchw, meta)     # pixels/255, then (x - mean) / std
    logits = model(x)                                          # [N, num_classes]
    names = [meta["classes"][i] for i in logits.argmax(1)]

or, from a shell, the architecture and classes of a file:

    python3 deploy/python/semiweak_model.py baseline.safetensors

The network is org.semiweak.model.ModelSpec: a stem ("small": 3x3 conv stride 1 + BatchNorm + ReLU;
"large": 7x7 conv stride 2 + BatchNorm + ReLU + 3x3 max pool stride 2), one stage per width (stage i > 0
halves the resolution in its first block), basic blocks conv-BN-ReLU-conv-BN + shortcut (1x1 conv + BN
when the shape changes), ReLU; global average pooling; a linear head with bias. Convolutions have no
bias; BatchNorm eps 1e-5. The tensor names of the export are this module's state_dict names.
"""
import json
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["SemiweakResNet", "read_safetensors", "load", "preprocess"]


def _conv(cin, cout, kernel, stride, padding):
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)


def _bn(c):
    return nn.BatchNorm2d(c, eps=1e-5, momentum=0.1)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.main = nn.Sequential(_conv(cin, cout, 3, stride, 1), _bn(cout), nn.ReLU(),
                                  _conv(cout, cout, 3, 1, 1), _bn(cout))
        self.shortcut = (nn.Identity() if stride == 1 and cin == cout
                         else nn.Sequential(_conv(cin, cout, 1, stride, 0), _bn(cout)))

    def forward(self, x):
        return F.relu(self.main(x) + self.shortcut(x))


class SemiweakResNet(nn.Module):
    """The semiweak ResNet; forward takes normalized NCHW float images and returns logits."""

    def __init__(self, channels, classes, widths, blocks, stem="small"):
        super().__init__()
        if stem == "small":
            layers = [_conv(channels, widths[0], 3, 1, 1), _bn(widths[0]), nn.ReLU()]
        elif stem == "large":
            layers = [_conv(channels, widths[0], 7, 2, 3), _bn(widths[0]), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
        else:
            raise ValueError("stem must be 'small' or 'large', found %r" % (stem,))
        cin = widths[0]
        for s, (width, n) in enumerate(zip(widths, blocks)):
            for b in range(n):
                layers.append(BasicBlock(cin, width, 2 if s > 0 and b == 0 else 1))
                cin = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(cin, classes)

    def forward(self, x):
        return self.head(self.features(x).mean(dim=(2, 3)))


_JSON_KEYS = ("widths", "blocks", "norm_mean", "norm_std", "classes", "spec")
_INT_KEYS = ("input_channels", "input_size", "num_classes")


def read_safetensors(path):
    """(tensors by name, metadata of strings) of a safetensors file with float32 tensors."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    body = memoryview(data)[8 + n:]
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError("%s: tensor %s is %s; semiweak exports float32 (F32) only" % (path, name, info["dtype"]))
        start, end = info["data_offsets"]
        flat = torch.frombuffer(bytearray(body[start:end]), dtype=torch.float32)
        tensors[name] = flat.reshape(info["shape"])
    return tensors, meta


def metadata(raw):
    """The export's __metadata__ with lists decoded from JSON and sizes as ints."""
    meta = dict(raw)
    if meta.get("format") != "semiweak-resnet":
        raise ValueError("not a semiweak export (metadata format %r, expected 'semiweak-resnet')" % meta.get("format"))
    for k in _JSON_KEYS:
        if k in meta:
            meta[k] = json.loads(meta[k])
    for k in _INT_KEYS:
        meta[k] = int(meta[k])
    return meta


def build(meta):
    """An untrained SemiweakResNet with the architecture of decoded metadata."""
    return SemiweakResNet(meta["input_channels"], meta["num_classes"], meta["widths"], meta["blocks"], meta["stem"])


def load(path):
    """(model in eval mode with the file's weights, decoded metadata) of a `semiweak export` file."""
    tensors, raw = read_safetensors(path)
    meta = metadata(raw)
    model = build(meta)
    # strict: every tensor of the file has a place and every parameter and running statistic is in the
    # file (PyTorch fills in BatchNorm's num_batches_tracked, which the export leaves out).
    model.load_state_dict(tensors, strict=True)
    return model.eval(), meta


def preprocess(images, meta):
    """uint8 images [N, C, H, W] (or [C, H, W]) as the model's input: pixels / 255, then (x - mean) / std."""
    images = torch.as_tensor(images)
    if images.dtype != torch.uint8:
        raise TypeError("preprocess takes uint8 pixels, found %s" % images.dtype)
    if images.dim() == 3:
        images = images.unsqueeze(0)
    c, size = meta["input_channels"], meta["input_size"]
    if tuple(images.shape[1:]) != (c, size, size):
        raise ValueError("the model takes images of shape [N, %d, %d, %d], found %s"
                         % (c, size, size, list(images.shape)))
    mean = torch.tensor(meta["norm_mean"], dtype=torch.float32).reshape(1, c, 1, 1)
    std = torch.tensor(meta["norm_std"], dtype=torch.float32).reshape(1, c, 1, 1)
    return (images.float() / 255.0 - mean) / std


def describe(path):
    model, meta = load(path)
    params = sum(p.numel() for p in model.parameters())
    lines = [
        "%s: semiweak %s, stage %s (commit %s)" % (path, meta.get("semiweak_version"), meta.get("stage"),
                                                   meta.get("commit")),
        "architecture: ResNet, stem %s, widths %s, blocks %s, %d parameters" % (
            meta["stem"], meta["widths"], meta["blocks"], params),
        "input: %d x %d x %d uint8, normalized (x/255 - %s) / %s" % (
            meta["input_channels"], meta["input_size"], meta["input_size"], meta["norm_mean"], meta["norm_std"]),
        "classes (%d):" % meta["num_classes"],
    ]
    lines += ["  %d %s" % (i, name) for i, name in enumerate(meta.get("classes", []))]
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print("usage: python3 semiweak_model.py MODEL.safetensors  (a file written by 'semiweak export')",
              file=sys.stderr)
        sys.exit(2)
    print(describe(sys.argv[1]))
