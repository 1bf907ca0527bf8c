namespace Fidpass.Web;

/// <summary>Marker of the web space's texts: <c>Resources/Strings.resx</c> (French, the neutral language); add <c>Strings.en.resx</c> for English.</summary>
public sealed class Strings;
