using Fidpass.Loyalty.Crediting;
using Fidpass.Loyalty.Members;
using Fidpass.Loyalty.Programs;
using Fidpass.ServiceDefaults;
using Marten;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Fidpass.Loyalty.Expiry;

/// <summary>
/// Makes points expire on their day: every <c>Expiry:Interval</c> (15 minutes by default) it finds the
/// members of programmes with an expiry rule whose points are due and appends one
/// <see cref="PointsExpired"/> per member, which the relay publishes like every member event. One
/// replica runs a pass at a time (an advisory lock taken per pass; a replica that finds it taken
/// skips its turn). Exactly once does not rest on the lock: each expiry is decided on the member's
/// latest state and appended at the stream version it read, so a second pass or a concurrent writer
/// finds nothing due. The clock is the injected <see cref="TimeProvider"/>, so tests move time.
/// </summary>
public sealed partial class ExpiryJob(IDocumentStore store, TimeProvider time, IConfiguration configuration, ILogger<ExpiryJob> logger)
    : BackgroundService
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMinutes(15);

    public static readonly long LockKey = AdvisoryLockSession.Key("fidpass-expiry:loyalty");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = configuration.GetValue("Expiry:Interval", DefaultInterval);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await RunOnceAsync(stoppingToken) is > 0 and var expired)
                {
                    Expired(logger, expired);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                PassFailed(logger, ex);
            }

            await Task.Delay(interval, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>One pass, unless another replica is running one (then null); the number of members whose points expired.</summary>
    public async Task<int?> RunOnceAsync(CancellationToken ct)
    {
        var connectionString = configuration.GetConnectionString(Infrastructure.PostgresConnectionName)
            ?? throw new InvalidOperationException("ConnectionStrings:postgres is not configured.");
        await using var locks = await AdvisoryLockSession.OpenAsync(connectionString, $"fidpass-expiry {Environment.MachineName}", ct);
        // Released with the session at the end of the pass.
        return await locks.TryAcquireAsync(LockKey, ct) ? await ExpireDueAsync(ct) : null;
    }

    /// <summary>Appends every expiry due now; safe to run concurrently with itself and with any writer.</summary>
    public async Task<int> ExpireDueAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var today = CreditDecider.MerchantDay(now);
        IReadOnlyList<LoyaltyProgram> programs;
        await using (var query = store.QuerySession())
        {
            programs = await query.Query<LoyaltyProgram>().Where(p => p.Expiry != null).ToListAsync(ct);
        }

        var expired = 0;
        foreach (var program in programs)
        {
            var rule = program.Expiry!;
            if (rule.DueOn(rule.Since) > today)
            {
                continue;
            }

            foreach (var memberId in await CandidatesAsync(program.Id, rule, today, ct))
            {
                var (_, appended, _) = await MemberWriter.ExecuteAsync(store, program.Id, memberId, async (session, member, token) =>
                {
                    // Read in the writer's session, after the member: a newer append moves the stream
                    // version too, so the expiry is decided again on fresh state.
                    var current = await session.LoadAsync<LoyaltyProgram>(program.Id, token);
                    var lots = await session.LoadAsync<PointLots>(memberId, token);
                    return (Expire.Decide(member, lots, current?.Expiry, now), null);
                }, ct);
                expired += appended is null ? 0 : 1;
            }
        }

        return expired;
    }

    /// <summary>
    /// Members who may be due: a superset (a month's end moves a due day by up to three days, and the
    /// Paris day starts up to two hours before UTC's), narrowed by <see cref="Expire.Decide"/>.
    /// </summary>
    private async Task<IReadOnlyList<Guid>> CandidatesAsync(Guid merchantId, ExpiryRule rule, DateOnly today, CancellationToken ct)
    {
        var bound = today.AddMonths(-rule.Months).AddDays(4);
        await using var query = store.QuerySession();
        if (rule.Policy == ExpiryRule.Inactivity)
        {
            var before = new DateTimeOffset(bound.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            return await query.Query<Member>()
                .Where(m => m.MerchantId == merchantId && !m.Erased && m.Points > 0 && (m.LastActivityAt == null || m.LastActivityAt < before))
                .Select(m => m.Id).ToListAsync(ct);
        }

        return await query.Query<PointLots>()
            .Where(l => l.MerchantId == merchantId && l.OldestEarnedOn != null && l.OldestEarnedOn < bound)
            .Select(l => l.Id).ToListAsync(ct);
    }

    [LoggerMessage(LogLevel.Information, "Points expired for {Members} member(s)")]
    private static partial void Expired(ILogger logger, int members);

    [LoggerMessage(LogLevel.Warning, "Expiry pass failed; the next one retries")]
    private static partial void PassFailed(ILogger logger, Exception exception);
}

public static class ExpiryRegistration
{
    /// <summary>The expiry job, and the clock it and the ledger's writers read (tests replace it).</summary>
    public static IHostApplicationBuilder AddPointsExpiry(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ExpiryJob>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ExpiryJob>());
        return builder;
    }
}
