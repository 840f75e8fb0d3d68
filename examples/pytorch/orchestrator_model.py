"""Rebuilds a student exported by `orchestrator export <trial folder> --format safetensors --out DIR` as a torch.nn
module: DIR/model.json lists its layers in the order they run, DIR/model.safetensors holds their state dict.
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


def load(directory):
    with open(os.path.join(directory, "model.json")) as f:
        spec = json.load(f)
    groups = collections.OrderedDict()  # "body.fc1" -> groups["body"]["fc1"]; "head" stands alone
    for layer in spec["layers"]:
        group, _, child = layer["name"].rpartition(".")
        module = getattr(torch.nn, layer["type"])(**(layer.get("arguments") or {}))
        if group:
            groups.setdefault(group, collections.OrderedDict())[child] = module
        else:
            groups[child] = module
    model = torch.nn.Sequential(collections.OrderedDict(
        (name, torch.nn.Sequential(m) if isinstance(m, collections.OrderedDict) else m) for name, m in groups.items()))
    model.load_state_dict(read_safetensors(os.path.join(directory, "model.safetensors")))
    mean = torch.tensor(spec["normalize"]["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(spec["normalize"]["std"]).view(1, -1, 1, 1)
    return model.eval(), lambda images: (images - mean) / std
