"""Test helper: the logits PyTorch computes for exported students (ExportTests).
usage: exported_logits.py IMAGES.u8 COUNT C H W DIR [DIR ...]
IMAGES.u8 holds COUNT raw images (uint8, N C H W); each DIR holds an export; writes DIR/pytorch_logits.f32."""
import os
import sys

import numpy
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples", "pytorch"))
import orchestrator_model  # noqa: E402  the loader docs/export.md shows users

images_file, count, c, h, w, *directories = sys.argv[1:]
pixels = numpy.fromfile(images_file, dtype=numpy.uint8).reshape(int(count), int(c), int(h), int(w))
images = torch.from_numpy(pixels).to(torch.float32) / 255
for directory in directories:
    model, normalize = orchestrator_model.load(directory)
    with torch.no_grad():
        logits = model(normalize(images))
    if isinstance(logits, tuple):  # a TorchScript student may return (logits, embedding)
        logits = logits[0]
    logits.numpy().astype("<f4").tofile(os.path.join(directory, "pytorch_logits.f32"))
