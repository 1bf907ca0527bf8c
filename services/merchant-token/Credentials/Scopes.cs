namespace Fidpass.MerchantToken.Credentials;

/// <summary>What an integration key may do (BRIEF, cross-service agreements).</summary>
public static class Scopes
{
    public static readonly IReadOnlyList<string> All = ["lookup", "scan", "program", "members", "terminal", "cash"];

    public static bool IsKnown(string scope) => All.Contains(scope, StringComparer.Ordinal);
}
