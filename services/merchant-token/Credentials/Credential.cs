namespace Fidpass.MerchantToken.Credentials;

/// <summary>
/// A live credential, keyed by the SHA-256 of its secret so introspection is one primary-key
/// lookup. Written in the same Marten session as the event that creates it and deleted in the one
/// that revokes it, so it never disagrees with the event store.
/// </summary>
public sealed record Credential(
    string Id, Guid CredentialId, Guid MerchantId, string Slug, string Kind, IReadOnlyList<string> Scopes, DateTimeOffset? ExpiresAt)
{
    public bool IsLiveAt(DateTimeOffset now) => ExpiresAt is null || ExpiresAt > now;
}
