using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Training;

public static class Devices
{
    /// <summary>auto (CUDA when present, else CPU) | cpu | cuda | cuda:N, checked against what this process can use.</summary>
    public static Device Resolve(string name)
    {
        if (name == "auto") return cuda.is_available() ? CUDA : CPU;
        if (name == "cpu") return CPU;
        if (name == "cuda" || name.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
                throw new UserInputException(
                    $"device '{name}': CUDA is not available here (no GPU, or a build with TorchBackend=cpu); use device: cpu, or build with -p:TorchBackend=cuda|system on a GPU machine.");
            int index = name == "cuda" ? 0 : int.TryParse(name[5..], out var i) ? i : -1;
            if (index < 0 || index >= cuda.device_count())
                throw new UserInputException($"device '{name}': this machine has {cuda.device_count()} CUDA device(s), cuda:0..cuda:{cuda.device_count() - 1}.");
            return new Device(DeviceType.CUDA, index);
        }
        throw new UserInputException($"unknown device '{name}'; use auto, cpu, cuda or cuda:N.");
    }
}
