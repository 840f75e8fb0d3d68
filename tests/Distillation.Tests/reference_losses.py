#!/usr/bin/python3
"""Reference values for tests/Distillation.Tests/LossReferenceTests.cs, computed independently with PyTorch.

Run with Debian's PyTorch (apt-get install python3-torch): /usr/bin/python3 reference_losses.py
The inputs are closed-form so the C# test builds the same tensors. The formulas here follow the papers'
published code (KL via F.kl_div; RKD as in Park et al.'s repository), not the C# implementation.
"""
import json
import math
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
B, C = 4, 5
s = torch.tensor([[math.sin(3 * i + j) * 2 for j in range(C)] for i in range(B)], requires_grad=True)
t = torch.tensor([[math.cos(2 * i + 1.5 * j) * 3 for j in range(C)] for i in range(B)])
labels = torch.tensor([0, 1, 2, 1])
negatives = [1, 0, 1, 2]
se = torch.tensor([[math.sin(0.7 * i + 0.3 * j) for j in range(3)] for i in range(B)], requires_grad=True)
te = torch.tensor([[math.cos(0.5 * i - 0.2 * j) * 2 for j in range(6)] for i in range(B)])


def value_and_grad(loss, wrt):
    wrt.grad = None
    loss.backward()
    return {"value": loss.item(), "grad": wrt.grad.flatten().tolist()}


def pdist(e, eps=1e-12):  # Park et al., RKD repository
    e_square = e.pow(2).sum(dim=1)
    prod = e @ e.t()
    res = (e_square.unsqueeze(1) + e_square.unsqueeze(0) - 2 * prod).clamp(min=eps).sqrt().clone()
    res[range(len(e)), range(len(e))] = 0
    return res


def rkd_distance(student, teacher):
    with torch.no_grad():
        t_d = pdist(teacher)
        t_d = t_d / t_d[t_d > 0].mean()
    d = pdist(student)
    d = d / d[d > 0].mean()
    return F.smooth_l1_loss(d, t_d, reduction="mean")


def rkd_angle(student, teacher):
    with torch.no_grad():
        td = teacher.unsqueeze(0) - teacher.unsqueeze(1)
        norm_td = F.normalize(td, p=2, dim=2)
        t_angle = torch.bmm(norm_td, norm_td.transpose(1, 2)).view(-1)
    sd = student.unsqueeze(0) - student.unsqueeze(1)
    norm_sd = F.normalize(sd, p=2, dim=2)
    s_angle = torch.bmm(norm_sd, norm_sd.transpose(1, 2)).view(-1)
    return F.smooth_l1_loss(s_angle, t_angle, reduction="mean")


def triplet(student, teacher, margin):
    total = 0
    for a in range(B):
        n = negatives[a]
        pos = ((teacher[a] - student[a]) ** 2).sum()
        neg = ((teacher[a] - student[n]) ** 2).sum()
        total = total + torch.clamp(margin + pos - neg, min=0)
    return total / B


out = {"ce": value_and_grad(F.cross_entropy(s, labels), s)}
for T in [1.0, 4.0, 20.0]:
    out[f"hinton_T{T:g}"] = value_and_grad(F.kl_div(F.log_softmax(s / T, 1), F.softmax(t / T, 1), reduction="batchmean") * T * T, s)
    out[f"softce_T{T:g}"] = value_and_grad(-(F.softmax(t / T, 1) * F.log_softmax(s / T, 1)).sum(1).mean() * T * T, s)
out["logit_mse"] = value_and_grad(F.mse_loss(s, t), s)
out["triplet_m1"] = value_and_grad(triplet(s, t, 1.0), s)
out["triplet_m50"] = value_and_grad(triplet(s, t, 50.0), s)
out["rkd_d"] = value_and_grad(rkd_distance(se, te), se)
out["rkd_a"] = value_and_grad(rkd_angle(se, te), se)
print(json.dumps(out, indent=1))
