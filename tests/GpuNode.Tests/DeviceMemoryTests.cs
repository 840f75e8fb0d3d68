using Shouldly;

namespace Orchestrator.GpuNode.Tests;

/// <summary>
/// Which NVML device a slot's CUDA device is. Reading NVML itself needs an NVIDIA driver, which these machines lack:
/// here the test can only check that a CPU node, and a machine without the library, report no device memory.
/// </summary>
public class DeviceMemoryTests
{
    [Theory]
    [InlineData("cuda:1", null, 1u, null)]
    [InlineData("cuda", "", 0u, null)]
    [InlineData("cuda:0", "2,3", 2u, null)] // CUDA numbers only the visible devices
    [InlineData("cuda:1", " 2, 3 ", 3u, null)]
    [InlineData("cuda:0", "GPU-8f6e2a1c-0000-1111-2222-333344445555", 0u, "GPU-8f6e2a1c-0000-1111-2222-333344445555")]
    public void A_cuda_device_maps_to_its_nvml_device_through_cuda_visible_devices(string device, string? visible, uint index, string? uuid) =>
        DeviceMemory.NvmlDevice(device, visible).ShouldBe((index, uuid));

    [Theory]
    [InlineData("cpu", null)]
    [InlineData("cuda:2", "0,1")] // not visible to this process
    public void Other_devices_have_no_nvml_device(string device, string? visible) =>
        DeviceMemory.NvmlDevice(device, visible).ShouldBeNull();

    [Fact]
    public void A_cpu_node_reports_no_device_memory_and_a_missing_driver_is_no_error()
    {
        DeviceMemory.Read("cpu").ShouldBeNull();
        var reading = Should.NotThrow(() => DeviceMemory.Read("cuda:0")); // null without a driver; where there is one, a reading
        if (reading is { } memory) memory.Used.ShouldBeLessThanOrEqualTo(memory.Total);
    }
}
