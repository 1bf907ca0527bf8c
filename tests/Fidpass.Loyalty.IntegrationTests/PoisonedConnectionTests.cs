using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Fidpass.Loyalty.Members;
using Fidpass.Testing;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Fidpass.Loyalty.IntegrationTests;

/// <summary>Loyalty on a two-connection pool, so a connection that PostgreSQL refused a statement on is
/// soon handed to the next valid request; its errors are kept to explain a failure.</summary>
public sealed class SmallPoolFixture : IAsyncLifetime
{
    public LoyaltyFixture Inner { get; } = new();
    public ErrorLog Errors { get; } = new();

    public async ValueTask InitializeAsync()
    {
        var postgres = await TestServers.CreateDatabaseAsync("loyalty_pool");
        await Inner.InitializeAsync(new NpgsqlConnectionStringBuilder(postgres) { MaxPoolSize = 2 }.ConnectionString,
            host => host.WithServices(services => services.AddSingleton<ILoggerProvider>(Errors)));
    }

    public ValueTask DisposeAsync() => Inner.DisposeAsync();
}

/// <summary>
/// A statement that PostgreSQL refuses while binding its parameters (here a NUL character) must leave
/// nothing behind on its pooled connection: every valid request after it succeeds. With Npgsql's
/// automatic preparation on, the refused statement stayed "prepared" without its row description and
/// the next query of that shape on that connection failed with "Received unexpected backend message
/// DataRow".
/// </summary>
public sealed class PoisonedConnectionTests(SmallPoolFixture pool) : IClassFixture<SmallPoolFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Valid_requests_after_a_query_refused_by_PostgreSQL_all_succeed()
    {
        var merchant = pool.Inner.NewMerchant();
        var members = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            members.Add(await merchant.EnrolAsync());
        }

        var store = pool.Inner.Host.Services.GetRequiredService<IDocumentStore>();
        using var client = merchant.Client();
        var failures = new List<string>();
        for (var round = 0; round < 6; round++)
        {
            await PoisonAsync(store, merchant.Id);
            for (var i = 0; i < 12; i++)
            {
                var member = members[(round + i) % members.Count];
                var response = (i % 4) switch
                {
                    0 => await client.PostAsJsonAsync($"/api/v1/merchants/{merchant.Slug}/members/{member}/adjustments",
                        new { points = 1, reason = "geste commercial" }, Ct),
                    1 => await client.GetAsync($"/api/businesses/{merchant.Slug}/integration/lookup?barcode={member}", Ct),
                    2 => await merchant.ScanAsync($$"""{"barcode":"{{member}}","amount_eur":"4.20"}"""),
                    _ => await client.GetAsync($"/api/v1/merchants/{merchant.Slug}/members?search=Jeanne", Ct),
                };
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Add($"round {round} request {i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
                }
            }
        }

        var unexpected = pool.Errors.Entries.Where(e => !e.Contains("22021", StringComparison.Ordinal)).Take(2);
        Assert.True(failures.Count == 0, string.Join("\n", failures) + "\n" + string.Join("\n-----\n", unexpected));
    }

    /// <summary>
    /// What <c>?search=%00</c> did before query values were checked: the member search, valid once and
    /// then with a NUL, on each connection of the pool (PostgreSQL refuses NUL in text).
    /// </summary>
    private static async Task PoisonAsync(IDocumentStore store, Guid merchantId)
    {
        foreach (var term in new[] { "jeanne", "a\0b", "martin", "c\0d" })
        {
            await using var session = store.QuerySession();
            var search = session.Query<Member>().Where(m => m.MerchantId == merchantId && m.Name.Contains(term, StringComparison.OrdinalIgnoreCase));
            if (term.Contains('\0', StringComparison.Ordinal))
            {
                await Assert.ThrowsAnyAsync<Exception>(() => search.CountAsync(Ct));
            }
            else
            {
                await search.CountAsync(Ct);
            }
        }
    }
}

/// <summary>Keeps the exceptions a service logs, to show why a request failed.</summary>
public sealed class ErrorLog : ILoggerProvider, ILogger
{
    public ConcurrentQueue<string> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => this;

    public void Dispose()
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (exception is not null)
        {
            Entries.Enqueue(exception.ToString());
        }
    }
}
