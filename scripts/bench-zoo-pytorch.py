"""The zoo's KD step in PyTorch, for `orchestrator bench --zoo` to be compared with (scripts/bench-zoo.sh runs both).
usage: bench-zoo-pytorch.py THREADS SECONDS BATCH [BATCH ...] [--device cuda]
The models are the literature's definitions in tests/Distillation.Tests/python/zoo_reference.py; the step is the one
the bench times: the frozen teacher's forward in evaluation mode, the student's forward, 0.1 CE + 0.9 KD at T = 4,
backward, and an SGD step (lr 0.05, momentum 0.9, weight decay 5e-4), on random CIFAR-100-shaped batches."""
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "Distillation.Tests", "python"))
from zoo_reference import reference  # noqa: E402

arguments = sys.argv[1:]
device = arguments[arguments.index("--device") + 1] if "--device" in arguments else "cpu"
threads, seconds, *batches = [a for i, a in enumerate(arguments) if a != "--device" and (i == 0 or arguments[i - 1] != "--device")]
torch.set_num_threads(int(threads))
torch.manual_seed(1)
images, labels = torch.randn(4096, 3, 32, 32, device=device), torch.randint(0, 100, (4096,), device=device)
print(f"PyTorch {torch.__version__} on {device}, torch threads {torch.get_num_threads()}; samples/s")
print("| pair | batch | samples/s |")
print("|---|---:|---:|")
for teacher_name, student_name in [("resnet32x4", "resnet8x4"), ("wrn-40-2", "wrn-16-2")]:
    teacher, student = reference(teacher_name, 3, 100).to(device).eval(), reference(student_name, 3, 100).to(device).train()
    optimizer = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)

    def step(batch):
        index = torch.randint(0, 4096, (batch,), device=device)
        x, y = images[index], labels[index]
        with torch.no_grad():
            t = teacher(x)
        s = student(x)
        kd = F.kl_div(F.log_softmax(s / 4, 1), F.softmax(t / 4, 1), reduction="batchmean") * 16
        loss = 0.1 * F.cross_entropy(s, y) + 0.9 * kd
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    for batch in map(int, batches):
        for _ in range(3):
            step(batch)  # warm-up
        start, steps = time.perf_counter(), 0
        while time.perf_counter() - start < float(seconds) or steps < 3:
            loss = step(batch)
            steps += 1
        loss.item()  # waits for queued GPU work before the clock is read
        print(f"| {teacher_name} -> {student_name} | {batch} | {steps * batch / (time.perf_counter() - start):,.0f} |")
