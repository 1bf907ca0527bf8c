using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Fidpass.Deployment.Tests;

/// <summary>
/// deploy/k8s rendered with <c>kubectl kustomize</c> and validated offline against the Kubernetes
/// schemas by deploy/k8s/validate (npm kubernetes-models). Rendering is cached per overlay.
/// </summary>
internal static class Manifests
{
    public static readonly string[] Overlays = ["local", "production"];

    public static string ValidatorFolder { get; } = Path.Combine(Repository.Root, "deploy", "k8s", "validate");

    public sealed record Rendered(string Overlay, IReadOnlyList<JsonObject> Objects, IReadOnlyList<string> Errors)
    {
        public IEnumerable<JsonObject> OfKind(string kind) => Objects.Where(o => (string?)o["kind"] == kind);

        public JsonObject Single(string kind, string name) =>
            OfKind(kind).SingleOrDefault(o => Name(o) == name)
            ?? throw new Xunit.Sdk.XunitException($"{Overlay}: no {kind} named {name}");

        /// <summary>Deployments of Fidpass itself (services, gateway, their workers), not infrastructure.</summary>
        public IEnumerable<JsonObject> FidpassDeployments =>
            OfKind("Deployment").Where(d => (string?)d["metadata"]?["labels"]?["app.kubernetes.io/part-of"] == "fidpass");
    }

    private static readonly Dictionary<string, Lazy<Task<Rendered>>> Cache =
        Overlays.ToDictionary(o => o, o => new Lazy<Task<Rendered>>(() => RenderAsync(o)));

    private static readonly Lazy<Task> Installed = new(InstallValidatorAsync);

    public static Task<Rendered> Render(string overlay) => Cache[overlay].Value;

    public static string Name(JsonNode? obj) => (string?)obj?["metadata"]?["name"] ?? "";

    public static string? AppName(JsonNode? obj) => (string?)obj?["metadata"]?["labels"]?["app.kubernetes.io/name"];

    public static JsonArray Containers(JsonNode deployment) => deployment["spec"]!["template"]!["spec"]!["containers"]!.AsArray();

    public static int Replicas(JsonNode deployment) => (int?)deployment["spec"]?["replicas"] ?? 1;

    /// <summary>The literal value of an env var of the first container, or null when absent or taken from a secret.</summary>
    public static string? Env(JsonNode deployment, string name) =>
        Containers(deployment)[0]!["env"]?.AsArray().FirstOrDefault(e => (string?)e!["name"] == name)?["value"]?.GetValue<string>();

    public static bool HasEnv(JsonNode deployment, string name) =>
        Containers(deployment)[0]!["env"]?.AsArray().Any(e => (string?)e!["name"] == name) == true;

    private static async Task<Rendered> RenderAsync(string overlay)
    {
        await Installed.Value;
        // stdout only: a kustomize warning on stderr must not end up in the YAML.
        var (kustomizeExit, yaml, kustomizeErrors) = await RunWithInputAsync("kubectl", $"kustomize deploy/k8s/overlays/{overlay}", "");
        Assert.True(kustomizeExit == 0, $"kubectl kustomize {overlay} failed:\n{kustomizeErrors}");

        var (exit, stdout, stderr) = await RunWithInputAsync("node", $"\"{Path.Combine(ValidatorFolder, "validate.js")}\"", yaml);
        Assert.True(stdout.Length > 0, $"the validator printed nothing (exit {exit}):\n{stderr}");
        var result = JsonNode.Parse(stdout)!;
        var objects = result["objects"]!.AsArray().Select(o => o!.AsObject()).ToList();
        var errors = result["errors"]!.AsArray().Select(e => $"{e!["object"]}: {e["message"]}").ToList();
        Assert.True(errors.Count > 0 || exit == 0, $"validator exit {exit} without errors:\n{stderr}");
        return new Rendered(overlay, objects, errors);
    }

    /// <summary>A YAML file as JSON, through the validator's YAML parser (no YAML package in .NET here).</summary>
    public static async Task<JsonNode> YamlFileAsJson(string relativePath)
    {
        await Installed.Value;
        var yaml = await File.ReadAllTextAsync(Path.Combine(Repository.Root, relativePath));
        var (exit, stdout, stderr) = await RunWithInputAsync("node", $"\"{Path.Combine(ValidatorFolder, "validate.js")}\" --yaml-to-json", yaml);
        Assert.True(exit == 0, $"{relativePath} is not valid YAML:\n{stderr}");
        return JsonNode.Parse(stdout)!;
    }

    /// <summary>The validator's npm packages are git-ignored: install them from the lock file once.</summary>
    private static async Task InstallValidatorAsync()
    {
        if (Directory.Exists(Path.Combine(ValidatorFolder, "node_modules", "kubernetes-models"))
            && Directory.Exists(Path.Combine(ValidatorFolder, "node_modules", "yaml")))
        {
            return;
        }

        var start = new ProcessStartInfo("npm", "ci --no-audit --no-fund")
        {
            WorkingDirectory = ValidatorFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var npm = Process.Start(start)!;
        var output = npm.StandardOutput.ReadToEndAsync();
        var error = npm.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await npm.WaitForExitAsync(limit.Token);
        Assert.True(npm.ExitCode == 0, $"npm ci in deploy/k8s/validate failed:\n{await output}{await error}");
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> RunWithInputAsync(string file, string arguments, string input)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = Repository.Root,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(limit.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
