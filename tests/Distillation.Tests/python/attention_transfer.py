"""Test helper: attention transfer as CRD's code (RepDistiller, Attention with p = 2) computes it (AttentionTransferTests).
usage: attention_transfer.py CASES.json OUT.json
Each case: student and teacher feature maps, one [B][C][H][W] list per stage. Writes, per case, the sum over stages of
CRD's at_loss and its gradient with respect to each student map (flattened, row-major), in float64."""
import json
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def at(f, p=2):
    return F.normalize(f.pow(p).mean(1).view(f.size(0), -1))


def at_loss(f_s, f_t):
    s_H, t_H = f_s.shape[2], f_t.shape[2]
    if s_H > t_H:
        f_s = F.adaptive_avg_pool2d(f_s, (t_H, t_H))
    elif s_H < t_H:
        f_t = F.adaptive_avg_pool2d(f_t, (s_H, s_H))
    return (at(f_s) - at(f_t)).pow(2).mean()


cases_file, out_file = sys.argv[1:]
results = []
for case in json.load(open(cases_file)):
    students = [torch.tensor(m, dtype=torch.float64, requires_grad=True) for m in case["student"]]
    teachers = [torch.tensor(m, dtype=torch.float64) for m in case["teacher"]]
    loss = sum(at_loss(s, t) for s, t in zip(students, teachers))
    loss.backward()
    results.append({"value": loss.item(), "grads": [s.grad.flatten().tolist() for s in students]})
json.dump(results, open(out_file, "w"))
