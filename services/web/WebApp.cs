namespace Fidpass.Web;

/// <summary>Marks this service's assembly (for test hosts).</summary>
public sealed class WebApp;
