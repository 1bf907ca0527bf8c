using Fidpass.Contracts.Merchants;
using Fidpass.MerchantToken.Branding;
using Fidpass.MerchantToken.Merchants;
using Fidpass.MerchantToken.Sessions;
using Fidpass.ServiceDefaults;
using JasperFx.Events;
using MassTransit;

namespace Fidpass.MerchantToken;

/// <summary>Publishes the stored events other services care about (the event store is the outbox).</summary>
/// <remarks>
/// Takes <see cref="IBus"/> (a singleton), not the scoped <see cref="IPublishEndpoint"/>: the relay is a
/// singleton, and Development's scope validation refuses a scoped dependency in it.
/// </remarks>
public sealed class MerchantRelay(IBus bus) : EventRelay(bus)
{
    public static readonly Type[] RelayedEvents =
        [typeof(MerchantCreated), typeof(DashboardTokenRegenerated), typeof(IntegrationKeyRevoked), typeof(SessionEnded), typeof(BrandingSet)];

    protected override object? ToMessage(IEvent stored) => stored.Data switch
    {
        MerchantCreated e => new MerchantRegistered(e.MerchantId, e.Slug, e.Name, e.Email, e.At),
        DashboardTokenRegenerated e => new CredentialRevoked(e.RevokedTokenId, e.MerchantId, CredentialKind.DashboardToken, e.At),
        IntegrationKeyRevoked e => new CredentialRevoked(e.KeyId, e.MerchantId, CredentialKind.IntegrationKey, e.At),
        SessionEnded e => new CredentialRevoked(e.SessionId, e.MerchantId, CredentialKind.Session, e.At),
        BrandingSet e => new MerchantBrandingChanged(e.MerchantId, e.Slug, e.Name, e.BackgroundColor, e.ForegroundColor, e.LogoPngBase64, e.At),
        _ => null,
    };
}
