#!/usr/bin/python3
"""Independent PyTorch reference of Inception-ResNet-v2, variant `tf` (shared/spec/inception-resnet-v2.md).

The layout and state_dict keys are those of timm's `inception_resnet_v2` (timm/models/
inception_resnet_v2.py, the port of the TF-slim weights), written here from the spec without
importing timm:
  - BasicConv2d = Conv2d (no bias) + BatchNorm2d (eps 0.001) + ReLU:
      <name>.conv.weight, <name>.bn.weight|bias|running_mean|running_var
  - nn.Sequential members are numbered: mixed_5b.branch1.0, mixed_5b.branch1.1, ...
  - residual blocks: the 1x1 projection `conv2d` (weight + bias, linear);
      Block35 (repeat.0-9):   out = ReLU(x + 0.17 * conv2d(cat))
      Block17 (repeat_1.0-19): out = ReLU(x + 0.10 * conv2d(cat))
      Block8  (repeat_2.0-8):  out = ReLU(x + 0.20 * conv2d(cat))
      block8 (the last one):   out = x + 1.0 * conv2d(cat), no ReLU
  - mixed_5b.branch3 = AvgPool 3x3 s1 p1 (count_include_pad=False) then BasicConv2d (key .1)
  - MaxPool is 3x3 stride 2 without padding (maxpool_3a, maxpool_5a, mixed_6a.branch2,
    mixed_7a.branch3: no parameters, hence no keys)
  - head: global average pool of conv2d_7b's 1536x8x8; classif.weight [classes, 1536], classif.bias.

Also here: fill_synthetic() (checkpoint tensors from tools/synthetic.py, as host/net/synthetic.c makes
them) and synthetic_input().

Command line: prints the parameter count (and how it is counted), the multiply-adds, the
per-stage output shapes and (with --keys) the state_dict keys with shapes.
"""

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synthetic  # noqa: E402

BN_EPS = 0.001
SPEC_PARAMS = 55843464
SPEC_MACS = 13.18e9
FEATURES = 1536


class BasicConv2d(nn.Module):
    """timm's BasicConv2d: conv (no bias) + BN (eps 0.001) + ReLU; keys <name>.conv.weight, <name>.bn.*."""

    def __init__(self, cin, cout, k, s=1, p=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=s, padding=p, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def maxpool():
    return nn.MaxPool2d(3, stride=2)


class Mixed5b(nn.Module):
    """192x35x35 -> 320x35x35: [branch0 96, branch1 64, branch2 96, branch3 64]."""

    def __init__(self):
        super().__init__()
        self.branch0 = BasicConv2d(192, 96, 1)
        self.branch1 = nn.Sequential(BasicConv2d(192, 48, 1), BasicConv2d(48, 64, 5, p=2))
        self.branch2 = nn.Sequential(BasicConv2d(192, 64, 1), BasicConv2d(64, 96, 3, p=1),
                                     BasicConv2d(96, 96, 3, p=1))
        self.branch3 = nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
                                     BasicConv2d(192, 64, 1))

    def forward(self, x):
        return torch.cat([self.branch0(x), self.branch1(x), self.branch2(x), self.branch3(x)], 1)


class Block35(nn.Module):
    """Inception-ResNet-A (timm Block35), 320x35x35 -> 320x35x35."""

    def __init__(self, scale):
        super().__init__()
        self.scale = scale
        self.branch0 = BasicConv2d(320, 32, 1)
        self.branch1 = nn.Sequential(BasicConv2d(320, 32, 1), BasicConv2d(32, 32, 3, p=1))
        self.branch2 = nn.Sequential(BasicConv2d(320, 32, 1), BasicConv2d(32, 48, 3, p=1),
                                     BasicConv2d(48, 64, 3, p=1))
        self.conv2d = nn.Conv2d(128, 320, 1)

    def branches(self, x):
        return torch.cat([self.branch0(x), self.branch1(x), self.branch2(x)], 1)

    def forward(self, x):
        return F.relu(self.conv2d(self.branches(x)) * self.scale + x)


class Mixed6a(nn.Module):
    """Reduction-A, 320x35x35 -> 1088x17x17: [branch0 384, branch1 384, maxpool 320]."""

    def __init__(self):
        super().__init__()
        self.branch0 = BasicConv2d(320, 384, 3, s=2)
        self.branch1 = nn.Sequential(BasicConv2d(320, 256, 1), BasicConv2d(256, 256, 3, p=1),
                                     BasicConv2d(256, 384, 3, s=2))
        self.branch2 = maxpool()

    def forward(self, x):
        return torch.cat([self.branch0(x), self.branch1(x), self.branch2(x)], 1)


class Block17(nn.Module):
    """Inception-ResNet-B (timm Block17), 1088x17x17 -> 1088x17x17."""

    def __init__(self, scale):
        super().__init__()
        self.scale = scale
        self.branch0 = BasicConv2d(1088, 192, 1)
        self.branch1 = nn.Sequential(BasicConv2d(1088, 128, 1),
                                     BasicConv2d(128, 160, (1, 7), p=(0, 3)),
                                     BasicConv2d(160, 192, (7, 1), p=(3, 0)))
        self.conv2d = nn.Conv2d(384, 1088, 1)

    def branches(self, x):
        return torch.cat([self.branch0(x), self.branch1(x)], 1)

    def forward(self, x):
        return F.relu(self.conv2d(self.branches(x)) * self.scale + x)


class Mixed7a(nn.Module):
    """Reduction-B, 1088x17x17 -> 2080x8x8: [branch0 384, branch1 288, branch2 320, maxpool 1088]."""

    def __init__(self):
        super().__init__()
        self.branch0 = nn.Sequential(BasicConv2d(1088, 256, 1), BasicConv2d(256, 384, 3, s=2))
        self.branch1 = nn.Sequential(BasicConv2d(1088, 256, 1), BasicConv2d(256, 288, 3, s=2))
        self.branch2 = nn.Sequential(BasicConv2d(1088, 256, 1), BasicConv2d(256, 288, 3, p=1),
                                     BasicConv2d(288, 320, 3, s=2))
        self.branch3 = maxpool()

    def forward(self, x):
        return torch.cat([self.branch0(x), self.branch1(x), self.branch2(x), self.branch3(x)], 1)


class Block8(nn.Module):
    """Inception-ResNet-C (timm Block8), 2080x8x8 -> 2080x8x8; no_relu for the final block8."""

    def __init__(self, scale=1.0, no_relu=False):
        super().__init__()
        self.scale = scale
        self.no_relu = no_relu
        self.branch0 = BasicConv2d(2080, 192, 1)
        self.branch1 = nn.Sequential(BasicConv2d(2080, 192, 1),
                                     BasicConv2d(192, 224, (1, 3), p=(0, 1)),
                                     BasicConv2d(224, 256, (3, 1), p=(1, 0)))
        self.conv2d = nn.Conv2d(448, 2080, 1)

    def branches(self, x):
        return torch.cat([self.branch0(x), self.branch1(x)], 1)

    def forward(self, x):
        out = self.conv2d(self.branches(x)) * self.scale + x
        return out if self.no_relu else F.relu(out)


class InceptionResNetV2TF(nn.Module):
    """The `tf` variant (timm's InceptionResnetV2): stem, mixed_5b, 10x Block35, mixed_6a,
    20x Block17, mixed_7a, 9x Block8, block8, conv2d_7b, global average pool, classif."""

    def __init__(self, classes=1000):
        super().__init__()
        self.conv2d_1a = BasicConv2d(3, 32, 3, s=2)
        self.conv2d_2a = BasicConv2d(32, 32, 3)
        self.conv2d_2b = BasicConv2d(32, 64, 3, p=1)
        self.maxpool_3a = maxpool()
        self.conv2d_3b = BasicConv2d(64, 80, 1)
        self.conv2d_4a = BasicConv2d(80, 192, 3)
        self.maxpool_5a = maxpool()
        self.mixed_5b = Mixed5b()
        self.repeat = nn.Sequential(*[Block35(0.17) for _ in range(10)])
        self.mixed_6a = Mixed6a()
        self.repeat_1 = nn.Sequential(*[Block17(0.10) for _ in range(20)])
        self.mixed_7a = Mixed7a()
        self.repeat_2 = nn.Sequential(*[Block8(0.20) for _ in range(9)])
        self.block8 = Block8(1.0, no_relu=True)
        self.conv2d_7b = BasicConv2d(2080, FEATURES, 1)
        self.classif = nn.Linear(FEATURES, classes)

    def stages(self):
        """(label, module) in execution order, up to and including conv2d_7b."""
        out = [(n, getattr(self, n)) for n in ("conv2d_1a", "conv2d_2a", "conv2d_2b", "maxpool_3a",
                                                "conv2d_3b", "conv2d_4a", "maxpool_5a", "mixed_5b")]
        out += [("repeat.%d" % i, m) for i, m in enumerate(self.repeat)]
        out += [("mixed_6a", self.mixed_6a)]
        out += [("repeat_1.%d" % i, m) for i, m in enumerate(self.repeat_1)]
        out += [("mixed_7a", self.mixed_7a)]
        out += [("repeat_2.%d" % i, m) for i, m in enumerate(self.repeat_2)]
        out += [("block8", self.block8), ("conv2d_7b", self.conv2d_7b)]
        return out

    def forward(self, x, trace=None):
        """trace: optional list; receives (label, tensor) after every stage, then ("pool", ...)
        and ("logits", ...)."""
        for label, m in self.stages():
            x = m(x)
            if trace is not None:
                trace.append((label, x))
        pooled = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)  # 1536x8x8 -> 1536
        logits = self.classif(pooled)  # timm's head_drop is the identity at inference
        if trace is not None:
            trace.append(("pool", pooled))
            trace.append(("logits", logits))
        return logits


def checkpoint_items(model):
    """(key, shape) of every checkpoint tensor (state_dict minus num_batches_tracked), in order."""
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()
            if not k.endswith("num_batches_tracked")]


def synthetic_state(model, seed):
    """{key: float32 numpy array}: synthetic_fill(key, seed, *synthetic_range(key, fan_in)) with
    fan_in = prod(shape[1:]) for ndim >= 2 (host/net/synthetic.c's rule)."""
    return {k: synthetic.synthetic_tensor(k, seed, shape) for k, shape in checkpoint_items(model)}


def fill_synthetic(model, seed):
    """Load the synthetic checkpoint of seed into model (every key but num_batches_tracked)."""
    tensors = synthetic_state(model, seed)
    sd = model.state_dict()
    with torch.no_grad():
        for k, arr in tensors.items():
            sd[k].copy_(torch.from_numpy(arr))  # float32 -> model dtype
    return model


def synthetic_input(batch, input_seed, size=299):
    """synthetic_fill("input", input_seed, -1, 1) reshaped to (batch, 3, size, size), float32."""
    n = batch * 3 * size * size
    return synthetic.synthetic_fill("input", input_seed, -1.0, 1.0, n).reshape(batch, 3, size, size)


def count_parameters(model):
    """Returns (learnable, running, bn_channels): learnable = conv/linear weights and biases + BN
    gamma/beta (model.parameters(), the rule of timm's and the spec's 55,843,464);
    running = BN running_mean + running_var; bn_channels = BN channels (= gamma count)."""
    learnable = sum(p.numel() for p in model.parameters())
    running = sum(b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var")))
    bn = sum(m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    return learnable, running, bn


def main(argv=None):
    p = argparse.ArgumentParser(description="Inception-ResNet-v2 `tf` reference: parameter count and shapes.")
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--keys", action="store_true", help="list the checkpoint keys with shapes")
    p.add_argument("--layers", action="store_true", help="print every conv/linear output shape")
    a = p.parse_args(argv)

    model = InceptionResNetV2TF(a.classes).eval()
    learnable, running, bn = count_parameters(model)
    items = checkpoint_items(model)
    spec = SPEC_PARAMS + (a.classes - 1000) * (FEATURES + 1)
    print("checkpoint tensors: %d (BN layers: %d, BN channels: %d)"
          % (len(items), sum(1 for k, _ in items if k.endswith("bn.running_var")), bn))
    print("parameters (weights + biases + BN gamma/beta): %d  (spec: %d, %s)"
          % (learnable, spec, "match" if learnable == spec else "MISMATCH"))
    print("  without BN gamma (TF-slim/Keras store no gamma: scale=False): %d" % (learnable - bn))
    print("  with BN running_mean + running_var (%d): %d; Keras-style total (no gamma, with running stats): %d"
          % (running, learnable + running, learnable - bn + running))
    if a.keys:
        for k, s in items:
            print("  %s %s" % (k, list(s)))

    macs = [0]
    layer_shapes = []

    def hook(mod, inp, out, name):
        if isinstance(mod, nn.Conv2d):
            kh, kw = mod.kernel_size
            macs[0] += out.numel() * (mod.in_channels // mod.groups) * kh * kw
        else:
            macs[0] += out.numel() * mod.in_features
        layer_shapes.append((name, tuple(out.shape[1:])))

    for name, mod in model.named_modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            mod.register_forward_hook(lambda m, i, o, n=name: hook(m, i, o, n))

    trace = []
    with torch.no_grad():
        model(torch.zeros(1, 3, 299, 299), trace=trace)
    print("multiply-adds per image (convs + classifier): %d = %.3f G  (spec: %.2f G)"
          % (macs[0], macs[0] / 1e9, SPEC_MACS / 1e9))
    if a.layers:
        for name, shape in layer_shapes:
            print("  %-40s %s" % (name, "x".join(str(d) for d in shape)))
    print("per-stage output shapes (batch 1):")
    for label, t in trace:
        print("  %-12s %s" % (label, "x".join(str(d) for d in t.shape[1:])))
    return 0 if learnable == spec else 1


if __name__ == "__main__":
    sys.exit(main())
