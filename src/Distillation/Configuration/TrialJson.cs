using System.Text.Json;

namespace Orchestrator.Distillation.Configuration;

/// <summary>A resolved <see cref="TrialConfig"/> as JSON: how a planned job travels to the node that runs it.</summary>
public static class TrialJson
{
    public static string Write(TrialConfig config) => JsonSerializer.Serialize(config);

    public static TrialConfig Read(string json) =>
        JsonSerializer.Deserialize<TrialConfig>(json) ?? throw new InvalidOperationException("empty trial configuration");
}
