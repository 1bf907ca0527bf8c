namespace Fidpass.Gateway;

/// <summary>Marks the gateway's assembly (for test hosts and assembly scanning).</summary>
public sealed class GatewayApp;
