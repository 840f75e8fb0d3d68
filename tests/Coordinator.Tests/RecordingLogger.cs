using Microsoft.Extensions.Logging;

namespace Orchestrator.Coordinator.Tests;

/// <summary>Keeps what is logged, to assert on what a component reported (its level, message and exception).</summary>
public sealed class RecordingLogger<T> : ILogger<T>
{
    public sealed record Entry(LogLevel Level, string Message, Exception? Exception);

    readonly List<Entry> entries = [];

    public IReadOnlyList<Entry> Entries { get { lock (entries) return entries.ToList(); } }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (entries) entries.Add(new Entry(logLevel, formatter(state, exception), exception));
    }
}
