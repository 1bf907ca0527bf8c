using Fidpass.Contracts.Merchants;
using Fidpass.MerchantToken.Merchants;
using Fidpass.MerchantToken.Sessions;
using Fidpass.ServiceDefaults;
using JasperFx.Events;
using MassTransit;

namespace Fidpass.MerchantToken;

/// <summary>Publishes the stored events other services care about (the event store is the outbox).</summary>
public sealed class MerchantRelay(IPublishEndpoint publisher) : EventRelay(publisher)
{
    public static readonly Type[] RelayedEvents =
        [typeof(MerchantCreated), typeof(DashboardTokenRegenerated), typeof(IntegrationKeyRevoked), typeof(SessionEnded)];

    protected override object? ToMessage(IEvent stored) => stored.Data switch
    {
        MerchantCreated e => new MerchantRegistered(e.MerchantId, e.Slug, e.Name, e.Email, e.At),
        DashboardTokenRegenerated e => new CredentialRevoked(e.RevokedTokenId, e.MerchantId, CredentialKind.DashboardToken, e.At),
        IntegrationKeyRevoked e => new CredentialRevoked(e.KeyId, e.MerchantId, CredentialKind.IntegrationKey, e.At),
        SessionEnded e => new CredentialRevoked(e.SessionId, e.MerchantId, CredentialKind.Session, e.At),
        _ => null,
    };
}
