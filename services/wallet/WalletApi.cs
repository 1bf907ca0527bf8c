namespace Fidpass.Wallet;

/// <summary>Marks this service's assembly (for test hosts and assembly scanning).</summary>
public sealed class WalletApi;
