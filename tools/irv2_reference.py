#!/usr/bin/python3
"""Independent PyTorch reference of Inception-ResNet-v2, variant `seed` (shared/spec/inception-resnet-v2.md).

The state_dict keys are exactly the spec's checkpoint names:
  - "+BN+ReLU" convs (all of the stem): <name>.conv.weight, <name>.bn.weight|bias|running_mean|running_var
  - branch convs of the blocks/reductions ("ReLU") and concat_proj ("linear"): <name>.weight, <name>.bias
  - the residual / reduction batch norm: <prefix>.bn.*
  - classifier.weight [classes, 2144], classifier.bias
BN eps is 0.001; MaxPool is 3x3 stride 2 without padding; head: AvgPool 8x8 -> flatten -> linear.

Also here: fill_synthetic() (checkpoint tensors from tools/synthetic.py, as host/net/synthetic.c makes
them) and synthetic_input().

Command line: prints the parameter count, the per-stage output shapes and (with --keys) the
state_dict keys with shapes.
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
SPEC_PARAMS = 32473272
SPEC_MACS = 9.258e9


class ConvBN(nn.Module):
    """Conv (no bias) + BatchNorm (eps 0.001) + ReLU; keys <name>.conv.weight, <name>.bn.*."""

    def __init__(self, cin, cout, k, s=1, p=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=s, padding=p, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def conv(cin, cout, k, s=1, p=0):
    """Plain conv with bias; keys <name>.weight, <name>.bias."""
    return nn.Conv2d(cin, cout, k, stride=s, padding=p, bias=True)


def maxpool(x):
    return F.max_pool2d(x, kernel_size=3, stride=2, padding=0)


class Stem(nn.Module):
    """3x299x299 -> 384x35x35."""

    def __init__(self):
        super().__init__()
        self.conv1 = ConvBN(3, 32, 3, s=2)
        self.conv2 = ConvBN(32, 32, 3)
        self.conv3 = ConvBN(32, 64, 3, p=1)
        self.conv4 = ConvBN(64, 96, 3, s=2)
        self.conv5_3x3_a_reduce = ConvBN(160, 64, 1)
        self.conv5_3x3_a = ConvBN(64, 96, 3)
        self.conv5_3x3_b_reduce = ConvBN(160, 64, 1)
        self.conv5_1x7_b = ConvBN(64, 64, (1, 7), p=(0, 3))
        self.conv5_7x1_b = ConvBN(64, 64, (7, 1), p=(3, 0))
        self.conv5_3x3_b = ConvBN(64, 96, 3)
        self.conv6 = ConvBN(192, 192, 3, s=2)

    def forward(self, x):
        x = self.conv1(x)
        x = self.conv2(x)
        x = self.conv3(x)
        x = torch.cat([self.conv4(x), maxpool(x)], 1)
        a = self.conv5_3x3_a(self.conv5_3x3_a_reduce(x))
        b = self.conv5_3x3_b_reduce(x)
        b = self.conv5_3x3_b(self.conv5_7x1_b(self.conv5_1x7_b(b)))
        x = torch.cat([a, b], 1)
        return torch.cat([self.conv6(x), maxpool(x)], 1)


class BlockA(nn.Module):
    """Inception-ResNet-A, 384x35x35 -> 384x35x35."""

    def __init__(self):
        super().__init__()
        self.conv_1x1 = conv(384, 32, 1)
        self.conv_3x3_a_reduce = conv(384, 32, 1)
        self.conv_3x3_a = conv(32, 32, 3, p=1)
        self.conv_3x3_b_reduce = conv(384, 32, 1)
        self.conv_3x3_b1 = conv(32, 48, 3, p=1)
        self.conv_3x3_b2 = conv(48, 64, 3, p=1)
        self.concat_proj = conv(128, 384, 1)
        self.bn = nn.BatchNorm2d(384, eps=BN_EPS)

    def residual(self, x):
        a = F.relu(self.conv_1x1(x))
        b = F.relu(self.conv_3x3_a(F.relu(self.conv_3x3_a_reduce(x))))
        c = F.relu(self.conv_3x3_b_reduce(x))
        c = F.relu(self.conv_3x3_b2(F.relu(self.conv_3x3_b1(c))))
        return self.concat_proj(torch.cat([a, b, c], 1))

    def forward(self, x):
        return F.relu(self.bn(x + self.residual(x)))


class ReductionA(nn.Module):
    """384x35x35 -> 1152x17x17, concat [pool, conv_3x3_a, conv_3x3_b2]."""

    def __init__(self):
        super().__init__()
        self.conv_3x3_a = conv(384, 384, 3, s=2)
        self.conv_3x3_b_reduce = conv(384, 256, 1)
        self.conv_3x3_b1 = conv(256, 256, 3, p=1)
        self.conv_3x3_b2 = conv(256, 384, 3, s=2)
        self.bn = nn.BatchNorm2d(1152, eps=BN_EPS)

    def forward(self, x):
        a = F.relu(self.conv_3x3_a(x))
        b = F.relu(self.conv_3x3_b_reduce(x))
        b = F.relu(self.conv_3x3_b2(F.relu(self.conv_3x3_b1(b))))
        return F.relu(self.bn(torch.cat([maxpool(x), a, b], 1)))


class BlockB(nn.Module):
    """Inception-ResNet-B, 1152x17x17 -> 1152x17x17."""

    def __init__(self):
        super().__init__()
        self.conv_1x1 = conv(1152, 192, 1)
        self.conv_reduce = conv(1152, 128, 1)
        self.conv_1x7 = conv(128, 160, (1, 7), p=(0, 3))
        self.conv_7x1 = conv(160, 192, (7, 1), p=(3, 0))
        self.concat_proj = conv(384, 1152, 1)
        self.bn = nn.BatchNorm2d(1152, eps=BN_EPS)

    def residual(self, x):
        a = F.relu(self.conv_1x1(x))
        b = F.relu(self.conv_reduce(x))
        b = F.relu(self.conv_7x1(F.relu(self.conv_1x7(b))))
        return self.concat_proj(torch.cat([a, b], 1))

    def forward(self, x):
        return F.relu(self.bn(x + self.residual(x)))


class ReductionB(nn.Module):
    """1152x17x17 -> 2144x8x8, concat [conv_3x3_a, conv_3x3_b2, conv_3x3_c, pool]."""

    def __init__(self):
        super().__init__()
        self.conv_3x3_a_reduce = conv(1152, 256, 1)
        self.conv_3x3_a = conv(256, 384, 3, s=2)
        self.conv_3x3_b_reduce = conv(1152, 256, 1)
        self.conv_3x3_b1 = conv(256, 288, 3, p=1)
        self.conv_3x3_b2 = conv(288, 320, 3, s=2)
        self.conv_3x3_c_reduce = conv(1152, 256, 1)
        self.conv_3x3_c = conv(256, 288, 3, s=2)
        self.bn = nn.BatchNorm2d(2144, eps=BN_EPS)

    def forward(self, x):
        a = F.relu(self.conv_3x3_a(F.relu(self.conv_3x3_a_reduce(x))))
        b = F.relu(self.conv_3x3_b_reduce(x))
        b = F.relu(self.conv_3x3_b2(F.relu(self.conv_3x3_b1(b))))
        c = F.relu(self.conv_3x3_c(F.relu(self.conv_3x3_c_reduce(x))))
        return F.relu(self.bn(torch.cat([a, b, c, maxpool(x)], 1)))


class BlockC(nn.Module):
    """Inception-ResNet-C, 2144x8x8 -> 2144x8x8."""

    def __init__(self):
        super().__init__()
        self.conv_1x1 = conv(2144, 192, 1)
        self.conv_reduce = conv(2144, 192, 1)
        self.conv_1x3 = conv(192, 224, (1, 3), p=(0, 1))
        self.conv_3x1 = conv(224, 256, (3, 1), p=(1, 0))
        self.concat_proj = conv(448, 2144, 1)
        self.bn = nn.BatchNorm2d(2144, eps=BN_EPS)

    def residual(self, x):
        a = F.relu(self.conv_1x1(x))
        b = F.relu(self.conv_reduce(x))
        b = F.relu(self.conv_3x1(F.relu(self.conv_1x3(b))))
        return self.concat_proj(torch.cat([a, b], 1))

    def forward(self, x):
        return F.relu(self.bn(x + self.residual(x)))


class InceptionResNetV2Seed(nn.Module):
    """The `seed` variant: stem, 5xA, Reduction-A, 10xB, Reduction-B, 5xC, head."""

    def __init__(self, classes=1000):
        super().__init__()
        self.stem = Stem()
        self.block_a = nn.Sequential(*[BlockA() for _ in range(5)])
        self.reduction_a = ReductionA()
        self.block_b = nn.Sequential(*[BlockB() for _ in range(10)])
        self.reduction_b = ReductionB()
        self.block_c = nn.Sequential(*[BlockC() for _ in range(5)])
        self.classifier = nn.Linear(2144, classes)

    def stages(self):
        """(label, module) in execution order, up to and including reduction_b/block_c."""
        out = [("stem", self.stem)]
        out += [("block_a.%d" % i, m) for i, m in enumerate(self.block_a)]
        out += [("reduction_a", self.reduction_a)]
        out += [("block_b.%d" % i, m) for i, m in enumerate(self.block_b)]
        out += [("reduction_b", self.reduction_b)]
        out += [("block_c.%d" % i, m) for i, m in enumerate(self.block_c)]
        return out

    def head(self, x):
        x = F.avg_pool2d(x, kernel_size=8)  # 2144x8x8 -> 2144x1x1
        x = torch.flatten(x, 1)
        return self.classifier(x)  # dropout 0.2 is the identity at inference

    def forward(self, x, trace=None):
        """trace: optional list; receives (label, tensor) after every stage, then ("pool", ...)
        and ("logits", ...)."""
        for label, m in self.stages():
            x = m(x)
            if trace is not None:
                trace.append((label, x))
        if trace is None:
            return self.head(x)
        pooled = torch.flatten(F.avg_pool2d(x, kernel_size=8), 1)
        trace.append(("pool", pooled))
        logits = self.classifier(pooled)
        trace.append(("logits", logits))
        return logits


def checkpoint_items(model):
    """(key, shape) of every checkpoint tensor (state_dict minus num_batches_tracked), in order."""
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()
            if not k.endswith("num_batches_tracked")]


def synthetic_state(model, seed):
    """{key: float32 numpy array} of the synthetic checkpoint with the given seed."""
    return {k: synthetic.synthetic_tensor(k, seed, shape) for k, shape in checkpoint_items(model)}


def fill_synthetic(model, seed):
    """Load the synthetic checkpoint (host/net/synthetic.c's rule) into model; returns model."""
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
    """Returns (learnable, running_stats): learnable = conv/linear weights and biases + BN
    gamma/beta (model.parameters()); running_stats = BN running_mean + running_var."""
    learnable = sum(p.numel() for p in model.parameters())
    running = sum(b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var")))
    return learnable, running


def main(argv=None):
    p = argparse.ArgumentParser(description="Inception-ResNet-v2 `seed` reference: parameter count and shapes.")
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--keys", action="store_true", help="list the checkpoint keys with shapes")
    p.add_argument("--layers", action="store_true", help="print every conv/linear output shape")
    a = p.parse_args(argv)

    model = InceptionResNetV2Seed(a.classes).eval()
    learnable, running = count_parameters(model)
    items = checkpoint_items(model)
    print("checkpoint tensors: %d" % len(items))
    print("parameters (weights + biases + BN gamma/beta): %d  (spec: %d, %s)"
          % (learnable, SPEC_PARAMS, "match" if learnable == SPEC_PARAMS else "MISMATCH"))
    print("BN running_mean + running_var: %d; all checkpoint values: %d" % (running, learnable + running))
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
    print("multiply-adds per image (convs + classifier): %d = %.3f G  (spec: %.3f G)"
          % (macs[0], macs[0] / 1e9, SPEC_MACS / 1e9))
    if a.layers:
        for name, shape in layer_shapes:
            print("  %-40s %s" % (name, "x".join(str(d) for d in shape)))
    print("per-stage output shapes (batch 1):")
    for label, t in trace:
        print("  %-12s %s" % (label, "x".join(str(d) for d in t.shape[1:])))
    return 0 if learnable == SPEC_PARAMS else 1


if __name__ == "__main__":
    sys.exit(main())
