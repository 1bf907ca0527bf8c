using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Fidpass.Deployment.Tests;

/// <summary>
/// The settings the manifests give each pod against the keys its code reads: a key nobody reads is
/// a setting that silently does nothing (<c>Fidpass__GatewayUrl</c> left the web calling 127.0.0.1,
/// <c>Fidpass__Role=worker</c> stopped nothing), and a key read with a loopback fallback that
/// production does not set points production at localhost.
/// </summary>
public sealed partial class ConfigurationKeyTests
{
    /// <summary>Read by ASP.NET Core, .NET, OpenTelemetry or the container itself, not by our code.</summary>
    [GeneratedRegex("^(ASPNETCORE_|DOTNET_|OTEL_|HOME$|Logging:)", RegexOptions.IgnoreCase)]
    private static partial Regex FrameworkKey();

    /// <summary>A chain of <c>configuration["…"] ?? …</c> ending on a loopback address.</summary>
    [GeneratedRegex("""((?:\w+\["[^"]+"\]\s*\?\?\s*)+)"http://(?:localhost|127\.0\.0\.1)""")]
    private static partial Regex LoopbackFallback();

    [GeneratedRegex("""\["([^"]+)"\]""")]
    private static partial Regex IndexedKey();

    /// <summary>What production needs that no loopback fallback reveals: what browsers and mail use.</summary>
    private static readonly Dictionary<string, string[]> AlsoNeededInProduction = new()
    {
        ["web"] = ["Gateway:PublicAddress"],
        ["merchant-token"] = ["Smtp:Host", "Smtp:From", "FIDPASS_ADMIN_KEY"],
        ["gateway"] = ["Cors:AllowedOrigins:0"],
    };

    private static string Sources(string app)
    {
        var folder = app == "gateway" ? "gateway/Fidpass.Gateway" : $"services/{app}";
        return string.Join('\n', new[] { folder, "services/ServiceDefaults" }
            .SelectMany(f => Directory.EnumerateFiles(Path.Combine(Repository.Root, f), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .Select(File.ReadAllText));
    }

    /// <summary>Every setting a Deployment gives its first container, as configuration keys (<c>__</c> is <c>:</c>).</summary>
    internal static List<(string Key, JsonNode? Value)> Settings(Manifests.Rendered rendered, JsonNode deployment)
    {
        var container = Manifests.Containers(deployment)[0]!;
        var settings = (container["env"]?.AsArray() ?? []).Select(e => ((string)e!["name"]!, (JsonNode?)e)).ToList();
        foreach (var source in container["envFrom"]?.AsArray() ?? [])
        {
            var map = rendered.Single("ConfigMap", (string)source!["configMapRef"]!["name"]!);
            settings.AddRange((map["data"]?.AsObject() ?? []).Select(kv => (kv.Key, kv.Value)));
        }

        return [.. settings.Select(s => (s.Item1.Replace("__", ":", StringComparison.Ordinal), s.Item2))];
    }

    /// <summary>
    /// Read when: the framework reads it; the key (or the list it is an element of) is a string literal of the code; a connection string
    /// whose name is a literal; or it lies under a <c>GetSection("…")</c> literal and names a literal
    /// or a property there (options records), a sub-section read by a literal, an array index, or a
    /// section handed whole to a library.
    /// </summary>
    public static bool IsRead(string key, string sources)
    {
        if (FrameworkKey().IsMatch(key) || sources.Contains($"\"{key}\"", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var segments = key.Split(':');
        if (segments.Length > 1 && int.TryParse(segments[^1], out _)
            && sources.Contains($"\"{string.Join(':', segments[..^1])}\"", StringComparison.OrdinalIgnoreCase))
        {
            return true; // an element of a list whose key is a literal of the code
        }

        if (segments[0].Equals("ConnectionStrings", StringComparison.OrdinalIgnoreCase))
        {
            return segments.Length == 2 && sources.Contains($"\"{segments[1]}\"", StringComparison.Ordinal);
        }

        for (var length = segments.Length - 1; length >= 1; length--)
        {
            var section = string.Join(':', segments[..length]);
            if (!sources.Contains($"GetSection(\"{section}\")", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var rest = segments[length];
            if (sources.Contains($"LoadFromConfig(builder.Configuration.GetSection(\"{section}\"))", StringComparison.Ordinal)
                || int.TryParse(rest, out _)
                || sources.Contains($"[\"{rest}\"]", StringComparison.OrdinalIgnoreCase)
                || sources.Contains($"GetSection(\"{rest}\")", StringComparison.OrdinalIgnoreCase)
                || Regex.IsMatch(sources, $@"public [\w<>?]+ {Regex.Escape(rest)} {{ get;", RegexOptions.None, TimeSpan.FromSeconds(1)))
            {
                return true;
            }
        }

        return false;
    }

    [Theory]
    [InlineData("local")]
    [InlineData("production")]
    public async Task Every_setting_a_manifest_gives_a_pod_is_read_by_its_code(string overlay)
    {
        var rendered = await Manifests.Render(overlay);

        var unread = rendered.FidpassDeployments
            .SelectMany(d => Settings(rendered, d).Select(s => (Deployment: Manifests.Name(d), s.Key, Sources: Sources(Manifests.AppName(d)!))))
            .Where(s => !IsRead(s.Key, s.Sources))
            .Select(s => $"{s.Deployment}: {s.Key}")
            .ToList();

        Assert.True(unread.Count == 0, "set but read by no code:\n" + string.Join('\n', unread));
    }

    [Fact]
    public async Task Production_sets_every_key_its_code_would_otherwise_point_at_localhost_or_leave_unset()
    {
        var rendered = await Manifests.Render("production");

        var missing = new List<string>();
        foreach (var deployment in rendered.FidpassDeployments)
        {
            var app = Manifests.AppName(deployment)!;
            var sources = Sources(app);
            var set = Settings(rendered, deployment).Where(s => s.Value is not null).Select(s => s.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
            var chains = LoopbackFallback().Matches(sources).Select(m => IndexedKey().Matches(m.Groups[1].Value).Select(k => k.Groups[1].Value).ToList())
                .Concat((AlsoNeededInProduction.GetValueOrDefault(app) ?? []).Select(k => new List<string> { k }));
            if (sources.Contains("builder.AddFidpassMarten(", StringComparison.Ordinal))
            {
                chains = chains.Append(["ConnectionStrings:postgres"]);
            }

            missing.AddRange(chains.Where(chain => !chain.Any(set.Contains)).Select(chain => $"{Manifests.Name(deployment)}: {string.Join(" or ", chain)}"));
        }

        Assert.True(missing.Count == 0, "production leaves these unset:\n" + string.Join('\n', missing));
    }

    [Fact]
    public void The_check_knows_a_key_nobody_reads_from_one_that_is_read()
    {
        // Guards the guard: the two keys the SRE review found, against keys the code really reads.
        Assert.False(IsRead("Fidpass:GatewayUrl", Sources("web")));
        Assert.False(IsRead("Fidpass:Role", Sources("cashlogy-edge")));
        Assert.True(IsRead("Gateway:Address", Sources("web")));
        Assert.True(IsRead("Smtp:Port", Sources("merchant-token")));
        Assert.True(IsRead("Cashlogy:HealthPollInterval", Sources("cashlogy-edge")));
        Assert.True(IsRead("ConnectionStrings:postgres", Sources("loyalty")));
        Assert.True(IsRead("ForwardedHeaders:KnownNetworks:0", Sources("gateway")));
        Assert.False(IsRead("ForwardedHeaders:TrustEveryone", Sources("gateway")));
        Assert.False(IsRead("ConnectionStrings:redis", Sources("loyalty")));
    }
}
