using Fidpass.MerchantToken.Branding;

namespace Fidpass.MerchantToken.Merchants;

// Events of a merchant's stream (stream id = merchant id). Hashes, never secrets.
public sealed record MerchantCreated(Guid MerchantId, string Slug, string Name, string Email, Guid DashboardTokenId, string DashboardTokenHash, string Origin, DateTimeOffset At);

public sealed record DashboardTokenRegenerated(Guid MerchantId, Guid RevokedTokenId, Guid NewTokenId, string NewTokenHash, DateTimeOffset At);

public sealed record IntegrationKeyIssued(Guid MerchantId, Guid KeyId, string Name, IReadOnlyList<string> Scopes, string KeyHash, DateTimeOffset At);

public sealed record IntegrationKeyRevoked(Guid MerchantId, Guid KeyId, DateTimeOffset At);

public sealed record IntegrationKeySummary(Guid Id, string Name, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>A merchant account, folded from its stream by an inline snapshot (unique index on <see cref="Slug"/>).</summary>
public sealed record Merchant(
    Guid Id, string Slug, string Name, string Email, Guid DashboardTokenId, IReadOnlyList<IntegrationKeySummary> Keys, DateTimeOffset CreatedAt)
{
    public static Merchant Create(MerchantCreated e) => new(e.MerchantId, e.Slug, e.Name, e.Email, e.DashboardTokenId, [], e.At);

    public Merchant Apply(DashboardTokenRegenerated e) => this with { DashboardTokenId = e.NewTokenId };

    public Merchant Apply(IntegrationKeyIssued e) => this with { Keys = [.. Keys, new IntegrationKeySummary(e.KeyId, e.Name, e.Scopes, e.At, null)] };

    public Merchant Apply(IntegrationKeyRevoked e) =>
        this with { Keys = [.. Keys.Select(k => k.Id == e.KeyId ? k with { RevokedAt = e.At } : k)] };

    /// <summary>How customers see the shop; null until the merchant sets it.</summary>
    public ShopBranding? Branding { get; init; }

    public Merchant Apply(BrandingSet e) => this with { Branding = new ShopBranding(e.Name, e.BackgroundColor, e.ForegroundColor, e.LogoPngBase64) };

    public IEnumerable<IntegrationKeySummary> ActiveKeys => Keys.Where(k => k.RevokedAt is null);
}

/// <summary>A refused command: becomes a 4xx with a stable code; nothing is written.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1710", Justification = "A domain refusal, named as the features use it.")]
public sealed class Rejected(int status, string code, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
}
