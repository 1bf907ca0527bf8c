using System.Diagnostics.Metrics;
using Fidpass.ServiceDefaults;

namespace Fidpass.Wallet;

/// <summary>What the wallet dashboard panels read: pushes by APNs' answer, Google objects written, passes handed out by who asked.</summary>
public static class WalletMetrics
{
    private static readonly Meter Meter = new(Telemetry.FidpassSource);
    private static readonly Counter<long> Pushes = Meter.CreateCounter<long>("fidpass.wallet.pushes", description: "APNs pushes for changed passes, by outcome.");
    private static readonly Counter<long> GoogleUpdates = Meter.CreateCounter<long>("fidpass.wallet.google.updates", description: "Google Wallet objects written, by outcome.");
    private static readonly Counter<long> Passes = Meter.CreateCounter<long>("fidpass.wallet.passes", description: "Passes handed out, by who asked.");

    /// <param name="outcome"><c>sent</c>, <c>gone</c> (410, device unregistered), <c>refused</c> (other 4xx) or <c>failed</c> (APNs unreachable, 429, 5xx: retried).</param>
    public static void Push(string outcome) => Pushes.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <param name="outcome"><c>created</c>, <c>patched</c>, <c>expired</c> (erasure) or <c>failed</c> (Google unreachable or refusing: retried).</param>
    public static void GoogleUpdate(string outcome) => GoogleUpdates.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <param name="channel"><c>card</c> (the customer's card page) or <c>device</c> (an iPhone fetching the update).</param>
    public static void Pass(string channel) => Passes.Add(1, new KeyValuePair<string, object?>("channel", channel));
}
