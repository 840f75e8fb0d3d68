"""Test helper: FitNets' hint loss as CRD's code (RepDistiller: ConvReg + HintLoss) and mdistiller's FitNet compute it
(HintTests), with the regressor's spatial adaptation replaced by average pooling of the larger map, as orchestrator does.
usage: hint.py CASES.json OUT.json
Each case: per stage the student's and teacher's maps [B][C][H][W] and the regressor's conv weight [Ct][Cs], conv bias
[Ct], BN weight and bias [Ct]. The regressor runs in training mode (batch statistics). Writes, per case, the sum over
stages of mse(relu(bn(conv(s))), t) and its gradients with respect to each student map and each conv weight
(flattened, row-major), in float64."""
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


class ConvReg(nn.Module):
    """CRD's ConvReg for maps of one size: a 1x1 convolution, BatchNorm, ReLU."""

    def __init__(self, s_C, t_C):
        super().__init__()
        self.conv = nn.Conv2d(s_C, t_C, kernel_size=1)
        self.bn = nn.BatchNorm2d(t_C)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


def hint_loss(f_s, f_t):
    s_H, t_H = f_s.shape[2], f_t.shape[2]
    if s_H > t_H:
        f_s = F.adaptive_avg_pool2d(f_s, (t_H, t_H))
    elif s_H < t_H:
        f_t = F.adaptive_avg_pool2d(f_t, (s_H, s_H))
    return F.mse_loss(f_s, f_t)


cases_file, out_file = sys.argv[1:]
results = []
for case in json.load(open(cases_file)):
    students, regressors, loss = [], [], 0
    for stage in case["stages"]:
        s = torch.tensor(stage["student"], requires_grad=True)
        t = torch.tensor(stage["teacher"])
        reg = ConvReg(s.shape[1], t.shape[1]).train()
        with torch.no_grad():
            reg.conv.weight.copy_(torch.tensor(stage["conv_weight"]).view_as(reg.conv.weight))
            reg.conv.bias.copy_(torch.tensor(stage["conv_bias"]))
            reg.bn.weight.copy_(torch.tensor(stage["bn_weight"]))
            reg.bn.bias.copy_(torch.tensor(stage["bn_bias"]))
        loss = loss + hint_loss(reg(s), t)
        students.append(s)
        regressors.append(reg)
    loss.backward()
    results.append({"value": loss.item(), "grads": [s.grad.flatten().tolist() for s in students],
                    "weight_grads": [r.conv.weight.grad.flatten().tolist() for r in regressors]})
json.dump(results, open(out_file, "w"))
