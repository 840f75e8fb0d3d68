"""Rebuilds a student exported by `orchestrator export <trial folder> --format safetensors --out DIR` as a torch.nn
module: DIR/model.json lists its layers in the order they run (nested as the model nests them), DIR/model.safetensors holds their state dict.
A student that was a TorchScript file comes back as TorchScript, DIR/model.pt, with its trained weights.
Needs only PyTorch (no safetensors package). See docs/export.md.

    import orchestrator_model
    model, normalize = orchestrator_model.load("DIR")
    logits = model(normalize(images))   # images: float [B, C, H, W], pixels in [0, 1]
"""
import collections
import json
import os
import struct

import torch

DTYPES = {"F32": torch.float32, "I64": torch.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        payload = f.read()
    return {name: torch.frombuffer(bytearray(payload[start:end]), dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
            for name, entry in header.items() if name != "__metadata__" for start, end in [entry["data_offsets"]]}


class Branches(torch.nn.Module):
    """Parallel paths over one input, summed ("add": a residual block) or concatenated along channels ("concat")."""

    def __init__(self, merge, paths):
        super().__init__()
        self.merge = merge
        for name, path in paths.items():
            self.add_module(name, path)

    def forward(self, x):
        outputs = [path(x) for path in self.children()]  # an empty Sequential is the identity
        return sum(outputs[1:], outputs[0]) if self.merge == "add" else torch.cat(outputs, 1)


class ChannelSlice(torch.nn.Module):
    def __init__(self, start, length):
        super().__init__()
        self.start, self.length = start, length

    def forward(self, x):
        return x[:, self.start:self.start + self.length]


class ChannelShuffle(torch.nn.Module):
    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, x):
        n, c, h, w = x.shape
        return x.view(n, self.groups, c // self.groups, h, w).transpose(1, 2).reshape(n, c, h, w)


def build(layer):
    children = collections.OrderedDict((child["name"], build(child)) for child in layer.get("layers") or [])
    arguments = layer.get("arguments") or {}
    if layer["type"] == "Sequential":
        return torch.nn.Sequential(children)
    if layer["type"] == "Branches":
        return Branches(arguments["merge"], children)
    own = {"ChannelSlice": ChannelSlice, "ChannelShuffle": ChannelShuffle}
    return (own.get(layer["type"]) or getattr(torch.nn, layer["type"]))(**arguments)


def load(directory):
    with open(os.path.join(directory, "model.json")) as f:
        spec = json.load(f)
    if spec["format"] != 2:
        raise ValueError(f"{directory}/model.json is format {spec['format']}; export it again with this version of orchestrator")
    if "torchscript" in spec:  # a TorchScript student, saved with its trained weights
        model = torch.jit.load(os.path.join(directory, spec["torchscript"]))
    else:
        model = build({"type": "Sequential", "layers": spec["layers"]})
        model.load_state_dict(read_safetensors(os.path.join(directory, "model.safetensors")))
    mean = torch.tensor(spec["normalize"]["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(spec["normalize"]["std"]).view(1, -1, 1, 1)
    return model.eval(), lambda images: (images - mean) / std
