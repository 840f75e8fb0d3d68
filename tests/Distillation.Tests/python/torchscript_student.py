"""Test helper: untrained students scripted in PyTorch (TorchScriptStudentTests).
usage: torchscript_student.py OUT_DIR
Writes OUT_DIR/student.pt (a small CNN with BatchNorm, dropout and a scalar weight; its forward returns (logits, embedding)),
OUT_DIR/logits-only.pt (the same returning the logits alone) and OUT_DIR/five-classes.pt (5 logits)."""
import os
import sys

import torch
from torch import nn

out = sys.argv[1]


class Student(nn.Module):
    def __init__(self, classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(32, classes)
        self.scale = nn.Parameter(torch.ones(()))  # a scalar weight, as a learned temperature would be

    def forward(self, x):
        embedding = self.features(x)
        return self.head(self.dropout(embedding)) * self.scale, embedding


class LogitsOnly(nn.Module):
    def __init__(self, student: Student):
        super().__init__()
        self.student = student

    def forward(self, x):
        return self.student(x)[0]


torch.manual_seed(0)
student = Student()
torch.jit.script(student).save(os.path.join(out, "student.pt"))
torch.jit.script(LogitsOnly(student)).save(os.path.join(out, "logits-only.pt"))
torch.jit.script(Student(classes=5)).save(os.path.join(out, "five-classes.pt"))
