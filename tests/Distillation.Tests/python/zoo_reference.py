"""Test helper: the KD benchmark zoo as the literature defines it in PyTorch (after CRD's models/ package, which
mdistiller and DKD reuse), written out here so that ZooModelTests can compare this tool's models against it.
usage: zoo_reference.py INPUT.f32 N C H W CLASSES NAME=DIR [NAME=DIR ...]
INPUT.f32 holds N images [N, C, H, W] already normalised. Each DIR holds an export of model NAME (model.safetensors);
its tensors are copied into the reference model in the order the models register them (shapes checked), and the script writes
DIR/reference_logits.f32 (the reference's logits in evaluation mode) and DIR/reference_parameters.txt."""
import json
import os
import struct
import sys

import numpy
import torch
from torch import nn
import torch.nn.functional as F


def conv3x3(i, o, stride=1):
    return nn.Conv2d(i, o, 3, stride, 1, bias=False)


class ResBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1, self.bn1 = conv3x3(inplanes, planes, stride), nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = conv3x3(planes, planes), nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    def __init__(self, depth, filters, channels, classes):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1, self.bn1 = nn.Conv2d(channels, filters[0], 3, padding=1, bias=False), nn.BatchNorm2d(filters[0])
        self.inplanes = filters[0]
        self.layer1 = self.stage(filters[1], n, 1)
        self.layer2 = self.stage(filters[2], n, 2)
        self.layer3 = self.stage(filters[3], n, 2)
        self.fc = nn.Linear(filters[3], classes)

    def stage(self, planes, blocks, stride):
        layers = [ResBlock(self.inplanes, planes, stride)] + [ResBlock(planes, planes) for _ in range(1, blocks)]
        self.inplanes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(F.avg_pool2d(x, 8).flatten(1))


class WideBlock(nn.Module):
    def __init__(self, i, o, stride):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(i), conv3x3(i, o, stride)
        self.bn2, self.conv2 = nn.BatchNorm2d(o), conv3x3(o, o)
        self.equal = i == o
        self.shortcut = None if self.equal else nn.Conv2d(i, o, 1, stride, bias=False)

    def forward(self, x):
        pre = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(pre))))
        return out + (x if self.equal else self.shortcut(pre))


class WideResNet(nn.Module):
    def __init__(self, depth, k, channels, classes):
        super().__init__()
        n = (depth - 4) // 6
        widths = [16, 16 * k, 32 * k, 64 * k]
        self.conv1 = nn.Conv2d(channels, 16, 3, padding=1, bias=False)
        self.blocks = nn.Sequential(*[nn.Sequential(*[WideBlock(widths[s] if b == 0 else widths[s + 1], widths[s + 1], (1 if s == 0 else 2) if b == 0 else 1)
                                                      for b in range(n)]) for s in range(3)])
        self.bn1 = nn.BatchNorm2d(widths[3])
        self.fc = nn.Linear(widths[3], classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.blocks(self.conv1(x))))
        return self.fc(F.avg_pool2d(x, 8).flatten(1))


VGG = {"vgg8": [[64], [128], [256], [512], [512]], "vgg11": [[64], [128], [256, 256], [512, 512], [512, 512]],
       "vgg13": [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]],
       "vgg16": [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
       "vgg19": [[64, 64], [128, 128], [256] * 4, [512] * 4, [512] * 4]}


class Vgg(nn.Module):
    def __init__(self, cfg, channels, classes):
        super().__init__()
        blocks = []
        for widths in cfg:
            layers = []
            for w in widths:
                layers += [nn.Conv2d(channels, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU()]
                channels = w
            blocks.append(nn.Sequential(*layers))
        self.blocks = nn.ModuleList(blocks)
        self.classifier = nn.Linear(512, classes)

    def forward(self, x):
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i < 3:
                x = F.max_pool2d(x, 2, 2)
        return self.classifier(F.adaptive_avg_pool2d(x, 1).flatten(1))


class InvertedResidual(nn.Module):
    def __init__(self, i, o, stride, t):
        super().__init__()
        h = i * t
        self.residual = stride == 1 and i == o
        self.conv = nn.Sequential(nn.Conv2d(i, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU(),
                                  nn.Conv2d(h, h, 3, stride, 1, groups=h, bias=False), nn.BatchNorm2d(h), nn.ReLU(),
                                  nn.Conv2d(h, o, 1, bias=False), nn.BatchNorm2d(o))

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(nn.Module):  # CRD's mobile_half: width 0.5, expansion 6
    def __init__(self, channels, classes, width=0.5, t=6):
        super().__init__()
        c = int(32 * width)
        self.conv1 = nn.Sequential(nn.Conv2d(channels, c, 3, 2, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU())
        blocks = []
        for e, out, n, s in [[1, 16, 1, 1], [t, 24, 2, 1], [t, 32, 3, 2], [t, 64, 4, 2], [t, 96, 3, 1], [t, 160, 3, 2], [t, 320, 1, 1]]:
            layers = []
            for stride in [s] + [1] * (n - 1):
                layers.append(InvertedResidual(c, int(out * width), stride, e))
                c = int(out * width)
            blocks.append(nn.Sequential(*layers))
        self.blocks = nn.Sequential(*blocks)
        self.conv2 = nn.Sequential(nn.Conv2d(c, 1280, 1, bias=False), nn.BatchNorm2d(1280), nn.ReLU())
        self.classifier = nn.Linear(1280, classes)

    def forward(self, x):
        x = self.conv2(self.blocks(self.conv1(x)))
        return self.classifier(F.avg_pool2d(x, x.shape[2], ceil_mode=True).flatten(1))


def shuffle(x, g):
    n, c, h, w = x.shape
    return x.view(n, g, c // g, h, w).permute(0, 2, 1, 3, 4).reshape(n, c, h, w)


class ShuffleUnit(nn.Module):
    def __init__(self, i, o, stride, groups):
        super().__init__()
        mid = o // 4
        self.g = 1 if i == 24 else groups
        self.stride = stride
        self.conv1, self.bn1 = nn.Conv2d(i, mid, 1, groups=self.g, bias=False), nn.BatchNorm2d(mid)
        self.conv2, self.bn2 = nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False), nn.BatchNorm2d(mid)
        self.conv3, self.bn3 = nn.Conv2d(mid, o, 1, groups=groups, bias=False), nn.BatchNorm2d(o)

    def forward(self, x):
        out = shuffle(F.relu(self.bn1(self.conv1(x))), self.g)
        out = self.bn3(self.conv3(F.relu(self.bn2(self.conv2(out)))))
        return F.relu(torch.cat([out, F.avg_pool2d(x, 3, 2, 1)], 1) if self.stride == 2 else out + x)


class ShuffleNetV1(nn.Module):
    def __init__(self, channels, classes, planes=(240, 480, 960), blocks=(4, 8, 4), groups=3):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(channels, 24, 1, bias=False), nn.BatchNorm2d(24)
        i, layers = 24, []
        for p, n in zip(planes, blocks):
            layers.append(nn.Sequential(*[ShuffleUnit(i if b == 0 else p, p - (i if b == 0 else 0), 2 if b == 0 else 1, groups) for b in range(n)]))
            i = p
        self.layers = nn.Sequential(*layers)
        self.linear = nn.Linear(planes[2], classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.linear(F.avg_pool2d(x, 4).flatten(1))


class SplitUnit(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c // 2
        self.conv1, self.bn1 = nn.Conv2d(h, h, 1, bias=False), nn.BatchNorm2d(h)
        self.conv2, self.bn2 = nn.Conv2d(h, h, 3, 1, 1, groups=h, bias=False), nn.BatchNorm2d(h)
        self.conv3, self.bn3 = nn.Conv2d(h, h, 1, bias=False), nn.BatchNorm2d(h)

    def forward(self, x):
        c = x.shape[1] // 2
        x1, x2 = x[:, :c], x[:, c:]
        out = F.relu(self.bn3(self.conv3(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x2))))))))
        return shuffle(torch.cat([x1, out], 1), 2)


class DownUnit(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        m = o // 2
        self.conv1, self.bn1 = nn.Conv2d(i, i, 3, 2, 1, groups=i, bias=False), nn.BatchNorm2d(i)
        self.conv2, self.bn2 = nn.Conv2d(i, m, 1, bias=False), nn.BatchNorm2d(m)
        self.conv3, self.bn3 = nn.Conv2d(i, m, 1, bias=False), nn.BatchNorm2d(m)
        self.conv4, self.bn4 = nn.Conv2d(m, m, 3, 2, 1, groups=m, bias=False), nn.BatchNorm2d(m)
        self.conv5, self.bn5 = nn.Conv2d(m, m, 1, bias=False), nn.BatchNorm2d(m)

    def forward(self, x):
        left = F.relu(self.bn2(self.conv2(self.bn1(self.conv1(x)))))
        right = F.relu(self.bn5(self.conv5(self.bn4(self.conv4(F.relu(self.bn3(self.conv3(x))))))))
        return shuffle(torch.cat([left, right], 1), 2)


class ShuffleNetV2(nn.Module):  # net_size 1
    def __init__(self, channels, classes, widths=(116, 232, 464, 1024), blocks=(3, 7, 3)):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(channels, 24, 3, 1, 1, bias=False), nn.BatchNorm2d(24)
        i, layers = 24, []
        for w, n in zip(widths[:3], blocks):
            layers.append(nn.Sequential(DownUnit(i, w), *[SplitUnit(w) for _ in range(n)]))
            i = w
        self.layers = nn.Sequential(*layers)
        self.conv2, self.bn2 = nn.Conv2d(widths[2], widths[3], 1, bias=False), nn.BatchNorm2d(widths[3])
        self.linear = nn.Linear(widths[3], classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        x = F.relu(self.bn2(self.conv2(x)))
        return self.linear(F.avg_pool2d(x, 4).flatten(1))


def reference(name, channels, classes):
    if name.startswith("resnet"):
        depth, _, width = name[len("resnet"):].partition("x")
        filters = [16, 16, 32, 64] if not width else [8 * int(width), 16 * int(width), 32 * int(width), 64 * int(width)]
        return ResNet(int(depth), filters, channels, classes)
    if name.startswith("wrn-"):
        _, depth, k = name.split("-")
        return WideResNet(int(depth), int(k), channels, classes)
    if name in VGG:
        return Vgg(VGG[name], channels, classes)
    return {"mobilenetv2": MobileNetV2, "shufflenetv1": ShuffleNetV1, "shufflenetv2": ShuffleNetV2}[name](channels, classes)


BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def in_model_order(entries):
    """Parameters in the order the model registers them, then BatchNorm's buffers in the same order: the one order
    both sides agree on (PyTorch interleaves them per module, TorchSharp lists parameters first), names aside."""
    entries = list(entries)
    return [e for e in entries if not e[0].endswith(BUFFERS)] + [e for e in entries if e[0].endswith(BUFFERS)]


def read_safetensors(path):
    dtypes = {"F32": torch.float32, "I64": torch.int64}
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        payload = f.read()
    entries = sorted(((k, v) for k, v in header.items() if k != "__metadata__"), key=lambda e: e[1]["data_offsets"][0])
    return [(k, torch.frombuffer(bytearray(payload[v["data_offsets"][0]:v["data_offsets"][1]]), dtype=dtypes[v["dtype"]]).reshape(v["shape"]))
            for k, v in entries]


def main():
    input_file, n, c, h, w, classes, *models = sys.argv[1:]
    images = torch.from_numpy(numpy.fromfile(input_file, dtype="<f4").reshape(int(n), int(c), int(h), int(w)))
    for entry in models:
        name, directory = entry.split("=", 1)
        model = reference(name, int(c), int(classes))
        theirs = in_model_order(read_safetensors(os.path.join(directory, "model.safetensors")))
        ours = in_model_order(model.state_dict().items())
        if len(theirs) != len(ours):
            sys.exit(f"{name}: the export holds {len(theirs)} tensors, the reference's state dict {len(ours)}")
        for (key, target), (exported, source) in zip(ours, theirs):
            if tuple(target.shape) != tuple(source.shape) or key.rsplit(".", 1)[-1] != exported.rsplit(".", 1)[-1]:
                sys.exit(f"{name}: {key} is {tuple(target.shape)} in the reference, {exported} {tuple(source.shape)} in the export")
            target.copy_(source)
        with torch.no_grad():
            model.eval()(images).numpy().astype("<f4").tofile(os.path.join(directory, "reference_logits.f32"))
        with open(os.path.join(directory, "reference_parameters.txt"), "w") as f:
            f.write(str(sum(p.numel() for p in model.parameters())))


if __name__ == "__main__":
    main()
