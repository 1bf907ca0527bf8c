using Fidpass.Contracts.Merchants;
using MassTransit;

namespace Fidpass.Gateway.Authentication;

/// <summary>
/// Drops a revoked credential from this replica's cache. Registered on a temporary, per-instance
/// queue so every gateway replica receives its own copy (a shared queue would evict on one only).
/// </summary>
public sealed class CredentialRevokedConsumer(CredentialIntrospector introspector) : IConsumer<CredentialRevoked>
{
    public Task Consume(ConsumeContext<CredentialRevoked> context)
    {
        introspector.Revoke(context.Message.CredentialId);
        return Task.CompletedTask;
    }
}
