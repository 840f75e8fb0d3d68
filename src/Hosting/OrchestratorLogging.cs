using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Orchestrator.Hosting;

/// <summary>
/// How every orchestrator process logs: one line per event on the console (time, level, the logging class's short
/// name, the message), an exception's type, message and stack on the lines after it. The orchestrator's own classes
/// log from Information; Akka, ASP.NET Core and gRPC only from Warning (their Information lines are start-up chatter).
/// <c>ORCHESTRATOR_LOG_LEVEL</c> (Trace, Debug, Information, Warning, Error) sets the orchestrator's level. Akka's lines
/// lose the timestamp, level and thread it puts in front (the line has its own), and its warnings about an address it
/// cannot reach, repeated every few seconds while it cannot, are left out: a node says that no coordinator answers in
/// one line of its own, and the coordinator's scheduler says when a node left.
/// </summary>
public static class OrchestratorLogging
{
    public const string LevelVariable = "ORCHESTRATOR_LOG_LEVEL";

    /// <param name="toStandardError">Every line to stderr (a CLI command whose stdout is its result or its progress view).</param>
    /// <param name="minimum">The orchestrator's own least level shown, unless <c>ORCHESTRATOR_LOG_LEVEL</c> says otherwise.</param>
    public static ILoggingBuilder AddOrchestratorConsole(this ILoggingBuilder logging, bool toStandardError = false, LogLevel minimum = LogLevel.Information)
    {
        var level = Enum.TryParse<LogLevel>(Environment.GetEnvironmentVariable(LevelVariable), ignoreCase: true, out var configured) ? configured : minimum;
        logging.ClearProviders();
        logging.SetMinimumLevel(LogLevel.Warning);
        logging.AddFilter("Orchestrator", level);
        logging.AddConsole(console =>
        {
            console.FormatterName = LineFormatter.Name;
            if (toStandardError) console.LogToStandardErrorThreshold = LogLevel.Trace;
        });
        logging.AddConsoleFormatter<LineFormatter, ConsoleFormatterOptions>();
        return logging;
    }

    /// <summary>A logger factory for code that runs outside a host (a slot worker, a CLI command).</summary>
    public static ILoggerFactory CreateFactory(bool toStandardError = false, LogLevel minimum = LogLevel.Information) =>
        LoggerFactory.Create(logging => logging.AddOrchestratorConsole(toStandardError, minimum));

    sealed class LineFormatter(IOptionsMonitor<ConsoleFormatterOptions> options) : ConsoleFormatter(Name)
    {
        public new const string Name = "orchestrator";

        public override void Write<TState>(in LogEntry<TState> entry, IExternalScopeProvider? scopeProvider, TextWriter writer)
        {
            string message = entry.Formatter(entry.State, entry.Exception);
            if (entry.Category.StartsWith("Akka", StringComparison.Ordinal) || entry.Category == "ActorSystem")
            {
                if (Unreachable.IsMatch(message)) return;
                message = AkkaPrefix.Replace(message, "$2 ($1)", 1);
            }
            if (message.Length == 0 && entry.Exception is null) return;
            string time = options.CurrentValue.UseUtcTimestamp ? DateTime.UtcNow.ToString("HH:mm:ss.fff") : DateTime.Now.ToString("HH:mm:ss.fff");
            string category = entry.Category[(entry.Category.LastIndexOf('.') + 1)..];
            writer.Write($"{time} {Level(entry.LogLevel)} {category}: {message}");
            if (entry.Exception is { } exception) writer.Write($"{Environment.NewLine}{exception}");
            writer.Write(Environment.NewLine);
        }

        /// <summary>"[WARNING][12/07/2026 14:33:58.027Z][Thread 0010][source] message": the source is kept, after the message.</summary>
        static readonly Regex AkkaPrefix = new(@"^\[[A-Z]+\]\[[^\]]*\]\[Thread \d+\]\[([^\]]*)\] ?(.*)$", RegexOptions.Singleline);

        /// <summary>Remoting and joining retrying an address that does not answer: said once, in the orchestrator's words.</summary>
        static readonly Regex Unreachable = new(@"AssociationError|is now gated|Couldn't join seed nodes");

        static string Level(LogLevel level) => level switch
        {
            LogLevel.Trace => "trce",
            LogLevel.Debug => "dbug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            _ => "crit",
        };
    }
}
