using System.Runtime.InteropServices;

namespace Orchestrator.GpuNode;

/// <summary>
/// Memory in use and in all on a CUDA device, read through NVML (libnvidia-ml.so.1, which the NVIDIA driver installs;
/// TorchSharp exposes no allocator statistics). The reading is the whole device's, as nvidia-smi shows it. Where the
/// library or a device is missing there is simply no reading: a CPU-only node has none.
/// </summary>
public static class DeviceMemory
{
    const string Library = "libnvidia-ml.so.1";

    [StructLayout(LayoutKind.Sequential)]
    struct Memory
    {
        public ulong Total, Free, Used;
    }

    [DllImport(Library, EntryPoint = "nvmlInit_v2")]
    static extern int Init();

    [DllImport(Library, EntryPoint = "nvmlDeviceGetHandleByIndex_v2")]
    static extern int HandleByIndex(uint index, out nint device);

    [DllImport(Library, EntryPoint = "nvmlDeviceGetHandleByUUID")]
    static extern int HandleByUuid([MarshalAs(UnmanagedType.LPUTF8Str)] string uuid, out nint device);

    [DllImport(Library, EntryPoint = "nvmlDeviceGetMemoryInfo")]
    static extern int MemoryInfo(nint device, out Memory memory);

    static readonly Lazy<bool> Initialised = new(() =>
    {
        try
        {
            return Init() == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    });

    /// <summary>(used, total) bytes of <paramref name="device"/> ("cuda:N"), or null where it cannot be read.</summary>
    public static (ulong Used, ulong Total)? Read(string device)
    {
        if (NvmlDevice(device, Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES")) is not { } selector || !Initialised.Value) return null;
        nint handle;
        int found = selector.Uuid is { } uuid ? HandleByUuid(uuid, out handle) : HandleByIndex(selector.Index, out handle);
        return found == 0 && MemoryInfo(handle, out var memory) == 0 ? (memory.Used, memory.Total) : null;
    }

    /// <summary>
    /// Which NVML device a TorchSharp device is. CUDA numbers only the devices CUDA_VISIBLE_DEVICES lists (by index or
    /// UUID), NVML numbers all of them; both number in PCI bus order when CUDA_DEVICE_ORDER=PCI_BUS_ID (the deployment
    /// sets it). Null for a device that is not CUDA or not visible.
    /// </summary>
    public static (uint Index, string? Uuid)? NvmlDevice(string device, string? visibleDevices)
    {
        if (!device.StartsWith("cuda", StringComparison.Ordinal)) return null;
        int cudaIndex = device.Contains(':') ? int.Parse(device[(device.IndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture) : 0;
        if (string.IsNullOrWhiteSpace(visibleDevices)) return ((uint)cudaIndex, null);
        var visible = visibleDevices.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (cudaIndex >= visible.Length) return null;
        string entry = visible[cudaIndex];
        return uint.TryParse(entry, out uint index) ? (index, null) : (0, entry);
    }
}
