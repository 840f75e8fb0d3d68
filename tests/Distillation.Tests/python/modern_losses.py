"""Test helper: DKD, DIST and logit standardisation as their authors' code computes them (ModernLossTests).
usage: modern_losses.py CASES.json OUT.json
Each case: term (hinton | soft-ce | dkd | dist), T, a and b (DKD's alpha and beta, DIST's beta and gamma),
standardize, student and teacher logits [B][C] and labels [B]. Writes, per case, the loss and its gradient with
respect to the student's logits (row-major), in float64. The formulas follow the papers' published code:
mdistiller's dkd_loss (log of the binary probabilities, -1000 mask), DIST_KD's inter/intra-class relations, and
logit-standardization-KD's normalize (unbiased std, 1e-7)."""
import json
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def normalize(logit):  # Sun et al. 2024
    mean = logit.mean(dim=-1, keepdims=True)
    stdv = logit.std(dim=-1, keepdims=True)
    return (logit - mean) / (1e-7 + stdv)


def kd(s, t, T):  # Hinton et al. 2015, as mdistiller's kd_loss
    log_pred_student = F.log_softmax(s / T, dim=1)
    pred_teacher = F.softmax(t / T, dim=1)
    return F.kl_div(log_pred_student, pred_teacher, reduction="none").sum(1).mean() * T ** 2


def soft_ce(s, t, T):
    return -(F.softmax(t / T, 1) * F.log_softmax(s / T, 1)).sum(1).mean() * T ** 2


def dkd(logits_student, logits_teacher, target, alpha, beta, temperature):  # mdistiller, Zhao et al. 2022
    gt_mask = torch.zeros_like(logits_student).scatter_(1, target.unsqueeze(1), 1).bool()
    other_mask = torch.ones_like(logits_student).scatter_(1, target.unsqueeze(1), 0).bool()
    pred_student = F.softmax(logits_student / temperature, dim=1)
    pred_teacher = F.softmax(logits_teacher / temperature, dim=1)
    pred_student = torch.cat([(pred_student * gt_mask).sum(1, keepdims=True), (pred_student * other_mask).sum(1, keepdims=True)], dim=1)
    pred_teacher = torch.cat([(pred_teacher * gt_mask).sum(1, keepdims=True), (pred_teacher * other_mask).sum(1, keepdims=True)], dim=1)
    log_pred_student = torch.log(pred_student)
    tckd_loss = F.kl_div(log_pred_student, pred_teacher, reduction="sum") * (temperature ** 2) / target.shape[0]
    pred_teacher_part2 = F.softmax(logits_teacher / temperature - 1000.0 * gt_mask, dim=1)
    log_pred_student_part2 = F.log_softmax(logits_student / temperature - 1000.0 * gt_mask, dim=1)
    nckd_loss = F.kl_div(log_pred_student_part2, pred_teacher_part2, reduction="sum") * (temperature ** 2) / target.shape[0]
    return alpha * tckd_loss + beta * nckd_loss


def pearson_correlation(a, b, eps=1e-8):  # DIST_KD, Huang et al. 2022
    a, b = a - a.mean(1).unsqueeze(1), b - b.mean(1).unsqueeze(1)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1) + eps)


def inter_class_relation(y_s, y_t):
    return 1 - pearson_correlation(y_s, y_t).mean()


def intra_class_relation(y_s, y_t):
    return inter_class_relation(y_s.transpose(0, 1), y_t.transpose(0, 1))


def dist(z_s, z_t, beta, gamma, tau):
    y_s, y_t = (z_s / tau).softmax(dim=1), (z_t / tau).softmax(dim=1)
    return beta * tau ** 2 * inter_class_relation(y_s, y_t) + gamma * tau ** 2 * intra_class_relation(y_s, y_t)


cases_file, out_file = sys.argv[1:]
results = []
for case in json.load(open(cases_file)):
    student = torch.tensor(case["student"], dtype=torch.float64, requires_grad=True)
    s, t = student, torch.tensor(case["teacher"], dtype=torch.float64)
    labels = torch.tensor(case["labels"])
    if case["standardize"]:
        s, t = normalize(s), normalize(t)
    T, a, b = case["T"], case["a"], case["b"]
    loss = {"hinton": lambda: kd(s, t, T), "soft-ce": lambda: soft_ce(s, t, T),
            "dkd": lambda: dkd(s, t, labels, a, b, T), "dist": lambda: dist(s, t, a, b, T)}[case["term"]]()
    loss.backward()
    results.append({"value": loss.item(), "grad": student.grad.flatten().tolist()})
json.dump(results, open(out_file, "w"))
