using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Fidpass.StripeTerminal.IntegrationTests;

/// <summary>Keeps every log line of the host (message, state values, exception), to search it for secrets.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private const int Capacity = 200_000;
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Add(string line)
    {
        _lines.Enqueue(line);
        while (_lines.Count > Capacity && _lines.TryDequeue(out _))
        {
        }
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(' ', pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            owner.Add($"{logLevel} {category}: {formatter(state, exception)} {values} {exception}");
        }
    }
}
