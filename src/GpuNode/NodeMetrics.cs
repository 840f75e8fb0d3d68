using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Orchestrator.Protocol.V1;

namespace Orchestrator.GpuNode;

/// <summary>
/// A GPU node's instruments, on one Meter (docs/metrics.md): for each slot, whether it is busy and the running trial's
/// latest epoch (progress, samples/s, epoch and step time, loss terms, validation accuracy); for each CUDA device, its memory. Labelled by slot and device, and
/// by loss term (a fixed set), never by trial: a slot runs thousands of trials, one at a time.
/// </summary>
public sealed class NodeMetrics : IDisposable
{
    public const string MeterName = "Orchestrator.GpuNode";

    readonly Meter meter = new(MeterName);
    readonly IReadOnlyList<string> devices;
    readonly ConcurrentDictionary<int, JobProgress?> running = new();

    public NodeMetrics(IReadOnlyList<string> slotDevices)
    {
        devices = slotDevices;
        meter.CreateObservableGauge("orchestrator.node.slot.busy", () => Enumerable.Range(0, devices.Count)
            .Select(slot => new Measurement<long>(running.ContainsKey(slot) ? 1 : 0, Labels(slot))), description: "1 while the slot runs a job.");
        Gauge("orchestrator.node.slot.samples_per_second", m => m.SamplesPerSecond, "Training samples per second of the running trial's last epoch.");
        Gauge("orchestrator.node.slot.epoch", m => m.Epoch, "The running trial's last finished epoch.");
        Gauge("orchestrator.node.slot.epoch.duration", m => m.Seconds, "How long the running trial's last epoch took.", unit: "s");
        Gauge("orchestrator.node.slot.step.duration", m => m.StepSeconds, "Mean time of one optimizer step in the running trial's last epoch.", unit: "s");
        Gauge("orchestrator.node.slot.validation_accuracy", m => m.ValidationAccuracy, "The running trial's validation accuracy after its last epoch.");
        meter.CreateObservableGauge("orchestrator.node.slot.loss", () => running
            .Where(r => r.Value is not null)
            .SelectMany(r => r.Value!.Metrics.LossTerms.Select(t => new Measurement<double>(t.Value, [.. Labels(r.Key), new("term", t.Key)]))),
            description: "The running trial's unweighted loss terms, epoch means.");
        meter.CreateObservableGauge("orchestrator.node.device.memory.used", () => DeviceMemoryReadings(r => r.Used), "By", "CUDA device memory in use (the whole device's, as nvidia-smi shows it).");
        meter.CreateObservableGauge("orchestrator.node.device.memory.total", () => DeviceMemoryReadings(r => r.Total), "By", "CUDA device memory in all.");
    }

    /// <summary>One reading per CUDA device this node's slots use; none on a CPU-only node.</summary>
    IEnumerable<Measurement<long>> DeviceMemoryReadings(Func<(ulong Used, ulong Total), ulong> value) => devices.Distinct()
        .Select(device => (device, Reading: DeviceMemory.Read(device)))
        .Where(d => d.Reading is not null)
        .Select(d => new Measurement<long>((long)value(d.Reading!.Value), new KeyValuePair<string, object?>("device", d.device)));

    void Gauge(string name, Func<EpochMetrics, double> value, string description, string? unit = null) =>
        meter.CreateObservableGauge(name, () => running
            .Where(r => r.Value is not null)
            .Select(r => new Measurement<double>(value(r.Value!.Metrics), Labels(r.Key))), unit, description);

    KeyValuePair<string, object?>[] Labels(int slot) => [new("slot", slot.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("device", devices[slot])];

    public void Started(int slot) => running[slot] = null;

    public void Progress(JobProgress progress)
    {
        if (running.ContainsKey(progress.Slot)) running[progress.Slot] = progress;
    }

    public void Finished(int slot) => running.TryRemove(slot, out _);

    public void Dispose() => meter.Dispose();
}
