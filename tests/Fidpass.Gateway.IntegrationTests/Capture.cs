using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Fidpass.Gateway.IntegrationTests;

/// <summary>Every log line written by the hosts of a fixture (message, structured values, exception).</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            lines.Enqueue($"{category} scope: {Flatten(state)}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {Flatten(state)} {exception}");

        private static string Flatten(object? state)
        {
            if (state is not IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                return state?.ToString() ?? "";
            }

            var text = new StringBuilder();
            foreach (var (key, value) in pairs)
            {
                text.Append(key).Append('=').Append(value).Append(' ');
            }

            return text.ToString();
        }
    }
}

/// <summary>Every activity (span) finished in this process, with its tags, as text.</summary>
public sealed class CapturedActivities : IDisposable
{
    private readonly ConcurrentQueue<string> _spans = new();
    private readonly ActivityListener _listener;

    public CapturedActivities()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => _spans.Enqueue(
                $"{activity.Source.Name} {activity.DisplayName} " + string.Join(' ', activity.TagObjects.Select(t => $"{t.Key}={t.Value}"))),
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyCollection<string> Spans => _spans;

    public void Dispose() => _listener.Dispose();
}
