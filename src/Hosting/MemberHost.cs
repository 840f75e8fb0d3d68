using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Hosting;

public static class MemberHost
{
    /// <summary>
    /// A generic host running one cluster member, configured by <paramref name="configure"/>, logging as
    /// <see cref="OrchestratorLogging"/> says (to stderr when <paramref name="logToStandardError"/>).
    /// </summary>
    public static IHost Build(Action<AkkaConfigurationBuilder> configure, bool logToStandardError = false, LogLevel minimum = LogLevel.Information)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.AddOrchestratorConsole(logToStandardError, minimum);
        builder.Services.AddAkka(NodeSettings.SystemName, configure);
        return builder.Build();
    }
}
