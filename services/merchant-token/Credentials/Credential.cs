namespace Fidpass.MerchantToken.Credentials;

/// <summary>
/// A live credential, keyed by the SHA-256 of its secret so introspection is one primary-key
/// lookup. Written in the same Marten session as the event that creates it and deleted in the one
/// that revokes it, so it never disagrees with the event store. A web session also keeps when it
/// was opened and the id of the dashboard token that opened it (<see cref="OpenedWith"/>): it lives
/// only as long as that token.
/// </summary>
public sealed record Credential(
    string Id, Guid CredentialId, Guid MerchantId, string Slug, string Kind, IReadOnlyList<string> Scopes, DateTimeOffset? ExpiresAt,
    DateTimeOffset? CreatedAt = null, Guid? OpenedWith = null)
{
    public bool IsLiveAt(DateTimeOffset now) => ExpiresAt is null || ExpiresAt > now;
}
