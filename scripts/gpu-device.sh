#!/usr/bin/env bash
# Sets up a run on the lent GPU machine (no .NET, no datasets, no internet there). Prepare .device/ here first:
#   ../shared/gpu/pack-for-device.sh
#   dotnet publish src/Coordinator -c Release -r linux-x64 --self-contained false -p:TorchBackend=system -o .device/app
#   tar -C .device -cf - app | xz -T2 -6 > .device/app.tar.xz && rm -rf .device/app      # the carried tree must stay under 64 MiB
#   mkdir -p .device/data && tar -C /tmp -cf - fm | xz -9e > .device/data/fm.tar.xz   # fm/ = the four IDX files, unpacked
# then, through the device tool with carry [".device"]:  source scripts/gpu-device.sh && $ORCHESTRATOR bench --device cuda:0
# TorchBackend=system: the managed TorchSharp runs on the machine's own CUDA libtorch (from its PyTorch), see ENVIRONMENT.md.
source .device/env.sh
if [[ -f .device/app.tar.xz && ! -d .device/app ]]; then tar -C .device -xJf .device/app.tar.xz; fi
if [[ ! -d /tmp/datasets/fashion-mnist ]]; then
  mkdir -p /tmp/datasets && tar -C /tmp/datasets -xJf .device/data/fm.tar.xz && mv /tmp/datasets/fm /tmp/datasets/fashion-mnist
fi
export ORCHESTRATOR_DATA_DIR=/tmp/datasets ORCHESTRATOR="dotnet .device/app/orchestrator.dll"
