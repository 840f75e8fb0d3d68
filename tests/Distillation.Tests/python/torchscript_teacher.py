"""Test helper: a tiny PyTorch CNN trained for one epoch on Fashion-MNIST, scripted, saved and run (TorchScriptTeacherTests).
usage: torchscript_teacher.py DATA_DIR OUT_DIR
DATA_DIR holds fashion-mnist/{train,t10k}-*-idx*-ubyte.gz. Writes OUT_DIR/teacher.pt (returns logits),
OUT_DIR/teacher-embedding.pt (returns (logits, embedding)), OUT_DIR/teacher-stages.pt (returns (logits, embedding,
conv map [B, 8, 28, 28], pooled map [B, 8, 14, 14])), OUT_DIR/five-classes.pt (returns 5 logits),
OUT_DIR/logits.f32: teacher.pt's logits for the first 256 test images, and OUT_DIR/pooled.f32: the pooled maps of the first 4. The teacher normalises like torchvision's
Normalize((0.5,), (0.5,)): a normalisation other than this tool's, stated in the trial file."""
import gzip
import os
import sys

import numpy
import torch
from torch import nn

data_dir, out = sys.argv[1:]


def idx(name, offset):
    with gzip.open(os.path.join(data_dir, "fashion-mnist", name)) as f:
        return numpy.frombuffer(f.read(), dtype=numpy.uint8, offset=offset)


def images(name):
    return torch.from_numpy(idx(name, 16).copy()).to(torch.float32).view(-1, 1, 28, 28) / 255


normalize = lambda x: (x - 0.5) / 0.5  # noqa: E731
train_x, train_y = images("train-images-idx3-ubyte.gz"), torch.from_numpy(idx("train-labels-idx1-ubyte.gz", 8).astype(numpy.int64))
test_x = images("t10k-images-idx3-ubyte.gz")


class Cnn(nn.Module):
    def __init__(self, classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 14 * 14, 32), nn.ReLU())
        self.head = nn.Linear(32, classes)

    def forward(self, x):
        e = self.features(x)
        return self.head(e)

    @torch.jit.export
    def both(self, x):
        e = self.features(x)
        return self.head(e), e


class WithEmbedding(nn.Module):
    def __init__(self, cnn: Cnn):
        super().__init__()
        self.cnn = cnn

    def forward(self, x):
        return self.cnn.both(x)


class WithStages(nn.Module):
    """The same network, returning its two feature maps after the embedding: the stages a feature loss compares."""

    def __init__(self, cnn: Cnn):
        super().__init__()
        self.cnn = cnn

    def forward(self, x):
        conv = self.cnn.features[1](self.cnn.features[0](x))
        pooled = self.cnn.features[2](conv)
        e = self.cnn.features[5](self.cnn.features[4](self.cnn.features[3](pooled)))
        return self.cnn.head(e), e, conv, pooled


torch.manual_seed(0)
model = Cnn()
optimizer = torch.optim.Adam(model.parameters(), lr=0.003)
for start in range(0, len(train_x), 128):  # one epoch
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(normalize(train_x[start:start + 128])), train_y[start:start + 128]).backward()
    optimizer.step()
model.eval()
torch.jit.script(model).save(os.path.join(out, "teacher.pt"))
torch.jit.script(WithEmbedding(model)).save(os.path.join(out, "teacher-embedding.pt"))
torch.jit.script(WithStages(model)).save(os.path.join(out, "teacher-stages.pt"))
torch.jit.script(Cnn(classes=5).eval()).save(os.path.join(out, "five-classes.pt"))
with torch.no_grad():
    model(normalize(test_x[:256])).numpy().astype("<f4").tofile(os.path.join(out, "logits.f32"))
    WithStages(model)(normalize(test_x[:4]))[3].numpy().astype("<f4").tofile(os.path.join(out, "pooled.f32"))
