using Fidpass.StripeTerminal.Stripe;
using Marten;
using Stripe;
using Stripe.Terminal;

namespace Fidpass.StripeTerminal.Readers;

/// <summary>
/// Stripe sends no webhook when a reader goes offline, so its readers are listed every
/// <c>Stripe:ReaderStatusPollSeconds</c> (one paged list per Stripe account, not one call per
/// reader) and each status is recorded through <see cref="ReaderStatuses"/>, which keeps only real
/// changes. Every replica also reloads the gauge from what the others recorded; only replicas
/// running the follower (<c>Stripe:Follower</c> not <c>Disabled</c>) ask Stripe.
/// </summary>
public sealed class ReaderStatusMonitor(
    IDocumentStore store, ReaderStatuses statuses, StripeClient stripe, IConfiguration configuration, ILogger<ReaderStatusMonitor> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(configuration.GetValue("Stripe:ReaderStatusPollSeconds", 30.0));
        var askStripe = configuration["Stripe:Follower"] is not "Disabled";
        using var timer = new PeriodicTimer(interval);
        do
        {
            try
            {
                if (askStripe)
                {
                    await PollAsync(stoppingToken);
                }

                await statuses.RefreshAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or Marten.Exceptions.MartenCommandException or TimeoutException)
            {
                logger.LogWarning(ex, "Reader status round failed; next round in {Interval}", interval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task PollAsync(CancellationToken ct)
    {
        IReadOnlyList<TerminalReader> known;
        Dictionary<Guid, string?> accounts;
        await using (var session = store.QuerySession())
        {
            known = await session.Query<TerminalReader>().ToListAsync(ct);
            accounts = (await session.Query<MerchantStripeAccount>().ToListAsync(ct)).ToDictionary(a => a.Id, a => a.AccountId);
        }

        foreach (var group in known.GroupBy(r => accounts.GetValueOrDefault(r.MerchantId)))
        {
            var ours = group.ToDictionary(r => r.Id);
            try
            {
                await foreach (var live in stripe.V1.Terminal.Readers.ListAutoPagingAsync(
                    new ReaderListOptions { Limit = 100 }, StripeSetup.Call(group.Key), ct))
                {
                    if (ours.TryGetValue(live.Id, out var reader))
                    {
                        await statuses.ObserveAsync(reader, live.Status, ct);
                    }
                }
            }
            catch (Exception ex) when (ex is StripeException or HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                // One account Stripe cannot answer for must not hide the others' readers.
                logger.LogWarning(ex, "Could not list the readers of Stripe account {Account}", group.Key ?? "platform");
            }
        }
    }
}
