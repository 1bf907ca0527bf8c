using System.Text;
using System.Text.RegularExpressions;

namespace Fidpass.Deployment.Tests;

/// <summary>deploy/k8s: what an operator applies must be valid Kubernetes and run Fidpass safely.</summary>
public sealed class KubernetesManifestTests
{
    /// <summary>Services whose Marten subscription relays stored events to the bus (DESIGN.md).</summary>
    private static readonly string[] RelayingServices = ["merchant-token", "loyalty", "stripe-terminal", "cashlogy-edge"];

    [Theory]
    [InlineData("local")]
    [InlineData("production")]
    public async Task Overlay_renders_and_every_object_is_valid_against_the_Kubernetes_schemas(string overlay)
    {
        var rendered = await Manifests.Render(overlay);

        Assert.True(rendered.Errors.Count == 0, string.Join('\n', rendered.Errors));
        Assert.True(rendered.Objects.Count > 30, $"{overlay} rendered only {rendered.Objects.Count} objects");
        Assert.All(rendered.Objects, o => Assert.False(string.IsNullOrEmpty(Manifests.Name(o))));
    }

    [Fact]
    public async Task The_validator_rejects_an_invalid_object()
    {
        // Guards the guard: a validator that accepts anything would make the test above meaningless.
        var rendered = await Manifests.Render("local");
        var broken = rendered.Single("Deployment", "loyalty").DeepClone();
        broken["spec"]!["replicas"] = "two";
        var yaml = broken.ToJsonString(); // JSON is YAML

        var (exit, stdout) = await Validate(yaml);

        Assert.Equal(1, exit);
        Assert.Contains("replicas", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("local")]
    [InlineData("production")]
    public async Task Every_host_project_has_a_Deployment_with_probes_limits_and_a_locked_down_pod(string overlay)
    {
        var rendered = await Manifests.Render(overlay);
        var hosts = Repository.HostProjectFolders();
        Assert.True(hosts.Count >= 6, string.Join(", ", hosts));

        foreach (var host in hosts)
        {
            var deployment = rendered.Single("Deployment", host);
            // Images carry their registry (ghcr.io/fidpass by default; an overlay may set another newName).
            Assert.Equal($"ghcr.io/fidpass/{host}", Manifests.Containers(deployment)[0]!["image"]!.GetValue<string>().Split(':')[0]);
            Assert.NotNull(rendered.OfKind("Service").SingleOrDefault(s => Manifests.Name(s) == host));
            Assert.NotNull(rendered.OfKind("PodDisruptionBudget").SingleOrDefault(p => Manifests.Name(p) == host));
        }

        Assert.All(rendered.FidpassDeployments, deployment =>
        {
            var name = Manifests.Name(deployment);
            var pod = deployment["spec"]!["template"]!["spec"]!;
            Assert.True((bool?)pod["securityContext"]?["runAsNonRoot"] == true, $"{name}: runAsNonRoot");
            Assert.Equal("RuntimeDefault", (string?)pod["securityContext"]?["seccompProfile"]?["type"]);
            var container = Manifests.Containers(deployment)[0]!;
            Assert.Equal("/alive", (string?)container["livenessProbe"]?["httpGet"]?["path"]);
            // Not /health: a RabbitMQ outage must not take the pods out of service (the event store absorbs it).
            Assert.Equal("/ready", (string?)container["readinessProbe"]?["httpGet"]?["path"]);
            Assert.NotNull(container["startupProbe"]?["httpGet"]);
            Assert.NotNull(container["resources"]?["limits"]?["cpu"]);
            Assert.NotNull(container["resources"]?["limits"]?["memory"]);
            Assert.NotNull(container["resources"]?["requests"]?["memory"]);
            // Measured use is 219-282 MiB per pod: a request below it lets the scheduler overcommit nodes.
            Assert.True(Mebibytes((string)container["resources"]!["requests"]!["memory"]!) >= 300, $"{name}: memory request below measured use");
            // Requests still routed to a terminating pod are served before SIGTERM.
            Assert.True((int?)container["lifecycle"]?["preStop"]?["sleep"]?["seconds"] >= 5, $"{name}: preStop delay");
            Assert.True((bool?)container["securityContext"]?["readOnlyRootFilesystem"] == true, $"{name}: read-only root");
            Assert.True((bool?)container["securityContext"]?["allowPrivilegeEscalation"] == false, $"{name}: no privilege escalation");
            Assert.Equal(["ALL"], container["securityContext"]!["capabilities"]!["drop"]!.AsArray().Select(c => (string?)c));
            var tmp = container["volumeMounts"]!.AsArray().Single(m => (string?)m!["mountPath"] == "/tmp");
            var volume = pod["volumes"]!.AsArray().Single(v => (string?)v!["name"] == (string?)tmp!["name"]);
            Assert.NotNull(volume!["emptyDir"]);
        });
    }

    private static int Mebibytes(string quantity) =>
        quantity.EndsWith("Gi", StringComparison.Ordinal) ? int.Parse(quantity[..^2], System.Globalization.CultureInfo.InvariantCulture) * 1024
        : int.Parse(quantity.TrimEnd('M', 'i'), System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("local")]
    [InlineData("production")]
    public async Task Every_disruption_budget_lets_one_pod_go_at_a_time(string overlay)
    {
        // minAvailable: 1 on 3-12 replicas let a node drain take all but one pod at once.
        var rendered = await Manifests.Render(overlay);

        Assert.All(rendered.OfKind("PodDisruptionBudget"), pdb =>
        {
            Assert.Null(pdb["spec"]!["minAvailable"]);
            Assert.Equal(1, (int?)pdb["spec"]!["maxUnavailable"]);
        });
    }

    [Theory]
    [InlineData("local")]
    [InlineData("production")]
    public async Task Every_replica_may_run_the_Marten_daemon_and_no_worker_exists_for_it(string overlay)
    {
        // The daemon is elected among a service's replicas (DaemonLeader): no Deployment opts out of the
        // election and none exists only to run it. stripe-terminal-worker runs the Stripe follower.
        var rendered = await Manifests.Render(overlay);

        Assert.All(rendered.FidpassDeployments, d => Assert.False(Manifests.HasEnv(d, "Marten__Daemon"), Manifests.Name(d)));
        var workers = rendered.FidpassDeployments.Select(Manifests.Name).Where(n => n.EndsWith("-worker", StringComparison.Ordinal)).ToList();
        Assert.Equal(["stripe-terminal-worker"], workers);
        Assert.Null(Manifests.Env(rendered.Single("Deployment", "stripe-terminal-worker"), "Stripe__Follower"));
        Assert.Equal("Disabled", Manifests.Env(rendered.Single("Deployment", "stripe-terminal"), "Stripe__Follower"));
        var alert = (await Manifests.YamlFileAsJson("deploy/k8s/components/observability/alerts.yaml")).ToJsonString();
        Assert.Contains("fidpass_daemon_leader", alert, StringComparison.Ordinal);
        Assert.All(RelayingServices, s => Assert.NotNull(rendered.Single("Deployment", s)));
    }

    [Theory]
    [InlineData("local", 1)]
    [InlineData("production", 3)]
    public async Task Stateless_HTTP_replicas_are_autoscaled_and_production_runs_more_of_them(string overlay, int minimum)
    {
        var rendered = await Manifests.Render(overlay);
        var autoscalers = rendered.OfKind("HorizontalPodAutoscaler").ToDictionary(h => (string)h["spec"]!["scaleTargetRef"]!["name"]!);

        foreach (var name in new[] { "gateway", "loyalty", "merchant-token", "stripe-terminal", "web" })
        {
            var deployment = rendered.Single("Deployment", name);
            // The autoscaler owns the count; a replicas field would reset it on every apply.
            Assert.Null(deployment["spec"]!["replicas"]);
            var hpa = autoscalers[name];
            Assert.True((int)hpa["spec"]!["maxReplicas"]! > (int)hpa["spec"]!["minReplicas"]!);
            Assert.Equal("RollingUpdate", (string?)deployment["spec"]!["strategy"]!["type"]);
            if (name is "gateway" or "loyalty")
            {
                Assert.True((int)hpa["spec"]!["minReplicas"]! >= minimum, $"{overlay}: {name} starts with fewer than {minimum} replicas");
            }
        }

        Assert.Equal(5, autoscalers.Count);
    }

    [Theory]
    [InlineData("local")]
    [InlineData("production")]
    public async Task Cashlogy_edge_keeps_one_replica_per_machine_session(string overlay)
    {
        var rendered = await Manifests.Render(overlay);
        var edge = rendered.Single("Deployment", "cashlogy-edge");

        Assert.Equal(1, Manifests.Replicas(edge));
        Assert.Equal("Recreate", (string?)edge["spec"]!["strategy"]!["type"]);
        Assert.DoesNotContain(rendered.OfKind("HorizontalPodAutoscaler"), h => (string?)h["spec"]!["scaleTargetRef"]!["name"] == "cashlogy-edge");
        // A minAvailable: 1 budget on one replica would block every node drain.
        Assert.Null(rendered.Single("PodDisruptionBudget", "cashlogy-edge")["spec"]!["minAvailable"]);
    }

    [Theory]
    [InlineData("local")]
    [InlineData("production")]
    public async Task Credentials_come_from_secrets_by_reference(string overlay)
    {
        var rendered = await Manifests.Render(overlay);
        var sensitive = new Regex("^(ConnectionStrings__|FIDPASS_ADMIN_KEY$|Stripe__.*(Key|Secret)$)", RegexOptions.None, TimeSpan.FromSeconds(1));

        var checkedVariables = 0;
        foreach (var deployment in rendered.FidpassDeployments)
        {
            foreach (var variable in Manifests.Containers(deployment)[0]!["env"]?.AsArray() ?? [])
            {
                if (!sensitive.IsMatch((string)variable!["name"]!))
                {
                    continue;
                }

                checkedVariables++;
                Assert.Null(variable["value"]);
                Assert.NotNull(variable["valueFrom"]?["secretKeyRef"]?["name"]);
            }

            Assert.All(rendered.OfKind("ConfigMap"), cm => Assert.DoesNotContain("Password=", cm.ToJsonString(), StringComparison.OrdinalIgnoreCase));
        }

        Assert.True(checkedVariables >= 10, $"only {checkedVariables} credential variables found");
    }

    [Fact]
    public async Task Production_embeds_no_secret_and_local_secrets_are_obviously_dev_only()
    {
        var production = await Manifests.Render("production");
        Assert.Empty(production.OfKind("Secret"));

        var local = await Manifests.Render("local");
        var values = local.OfKind("Secret")
            .SelectMany(s => (s["data"]?.AsObject() ?? []).Select(kv => (Key: $"{Manifests.Name(s)}/{kv.Key}", Value: Encoding.UTF8.GetString(Convert.FromBase64String((string)kv.Value!)))))
            .ToList();
        Assert.NotEmpty(values);
        Assert.All(values, v => Assert.True(
            v.Value.Length == 0 || v.Value.Contains("dev-only", StringComparison.Ordinal) || v.Value.Contains("dev_only", StringComparison.Ordinal) || v.Value == "fidpass",
            $"{v.Key} does not look like a development value: every local secret must say dev-only"));

        // The secrets the base references are exactly the ones local generates (nothing dangling).
        var referenced = local.FidpassDeployments
            .SelectMany(d => Manifests.Containers(d)[0]!["env"]?.AsArray() ?? [])
            .Select(e => (string?)e!["valueFrom"]?["secretKeyRef"]?["name"])
            .Where(n => n is not null).ToHashSet();
        Assert.Subset(local.OfKind("Secret").Select(Manifests.Name).Select(n => (string?)n).ToHashSet(), referenced);
    }

    [Theory]
    [InlineData("local")]
    [InlineData("production")]
    public async Task Only_the_gateway_and_the_web_space_are_reachable_from_outside(string overlay)
    {
        var rendered = await Manifests.Render(overlay);

        // Only a name for the external broker's metrics port (production) may be something else.
        Assert.All(rendered.OfKind("Service").Where(s => Manifests.Name(s) != "rabbitmq-metrics"),
            s => Assert.Equal("ClusterIP", (string?)s["spec"]!["type"] ?? "ClusterIP"));
        var backends = rendered.OfKind("Ingress")
            .SelectMany(i => i["spec"]!["rules"]!.AsArray())
            .SelectMany(r => r!["http"]!["paths"]!.AsArray())
            .Select(p => (string?)p!["backend"]!["service"]!["name"]).ToList();
        Assert.Equal(["fidpass-not-public", "gateway", "web"], backends.Distinct().Order());
        // The API host routes only what the gateway proxies; probes, metrics and docs stay inside.
        var paths = rendered.OfKind("Ingress").SelectMany(i => i["spec"]!["rules"]!.AsArray())
            .SelectMany(r => r!["http"]!["paths"]!.AsArray().Select(p => (Path: (string)p!["path"]!, Backend: (string?)p["backend"]!["service"]!["name"])))
            .ToList();
        Assert.Equal(["/api/", "/wallet/apple/", "/webhooks/stripe"], paths.Where(p => p.Backend == "gateway").Select(p => p.Path).Order());
        Assert.Equal(["/alive", "/health", "/metrics", "/openapi", "/ready"], paths.Where(p => p.Backend == "fidpass-not-public").Select(p => p.Path).Order());
        Assert.Empty(rendered.OfKind("Endpoints"));
        if (overlay == "production")
        {
            var ingress = Assert.Single(rendered.OfKind("Ingress"));
            Assert.NotEmpty(ingress["spec"]!["tls"]!.AsArray());
        }

        var policies = rendered.OfKind("NetworkPolicy").ToList();
        var deny = policies.Single(p => Manifests.Name(p) == "fidpass-default-deny");
        Assert.Empty(deny["spec"]!["ingress"]?.AsArray() ?? []);
        Assert.Empty(deny["spec"]!["egress"]?.AsArray() ?? []);

        // A rule without "from" admits everyone: only the two public hosts' pods may have one.
        var open = policies.Where(p => (p["spec"]!["ingress"]?.AsArray() ?? []).Any(rule => (rule!["from"]?.AsArray().Count ?? 0) == 0)).ToList();
        Assert.Equal(["gateway", "web"], open.Select(p => (string?)p["spec"]!["podSelector"]!["matchLabels"]!["app.kubernetes.io/name"]).Order());

        // Every other service is admitted from the gateway, nothing else but Prometheus.
        var fromGateway = policies.Single(p => Manifests.Name(p) == "services-ingress-from-gateway");
        var protectedServices = fromGateway["spec"]!["podSelector"]!["matchExpressions"]![0]!["values"]!.AsArray().Select(v => (string?)v).ToHashSet();
        Assert.Equal(Repository.HostProjectFolders().Where(h => h is not "gateway" and not "web").Select(h => (string?)h).ToHashSet(), protectedServices);
    }

    [Theory]
    [InlineData("local")]
    [InlineData("production")]
    public async Task Every_image_is_pinned_and_the_pods_run_as_the_Dockerfile_user(string overlay)
    {
        var rendered = await Manifests.Render(overlay);
        var containers = rendered.OfKind("Deployment").Concat(rendered.OfKind("StatefulSet"))
            .SelectMany(d => Manifests.Containers(d)).ToList();

        Assert.All(containers, c =>
        {
            var image = (string)c!["image"]!;
            Assert.Matches(@"^[\w./-]+:[\w.-]+$", image);
            Assert.False(image.EndsWith(":latest", StringComparison.Ordinal), image);
        });

        var dockerfile = await File.ReadAllLinesAsync(Path.Combine(Repository.Root, "Dockerfile"), TestContext.Current.CancellationToken);
        var user = dockerfile.Last(l => l.StartsWith("USER ", StringComparison.Ordinal))[5..].Trim();
        Assert.Matches("^[0-9]+$", user);
        // Base images are build arguments (production's defaults pinned to exact noble tags: .NET 10 has no Debian images).
        Assert.All(dockerfile.Where(l => l.StartsWith("ARG ", StringComparison.Ordinal) && l.Contains("_IMAGE=", StringComparison.Ordinal)),
            arg => Assert.Matches(@"^ARG \w+_IMAGE=mcr\.microsoft\.com/dotnet/[\w-]+:10\.0\.\d+-noble(-chiseled)?$", arg));
        Assert.All(dockerfile.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)), from => Assert.Matches(@"^FROM (\$\{\w+_IMAGE\}|[\w-]+) AS \w+$", from));
        Assert.All(rendered.FidpassDeployments, d => Assert.Equal(user, d["spec"]!["template"]!["spec"]!["securityContext"]!["runAsUser"]!.ToString()));
    }

    [Theory]
    [InlineData("local")]
    [InlineData("production")]
    public async Task Every_Fidpass_pod_is_scraped_and_the_dashboards_are_shipped_as_a_ConfigMap(string overlay)
    {
        var rendered = await Manifests.Render(overlay);

        Assert.All(rendered.FidpassDeployments, d =>
        {
            var annotations = d["spec"]!["template"]!["metadata"]!["annotations"];
            Assert.Equal("true", (string?)annotations?["prometheus.io/scrape"]);
            Assert.Equal("/metrics", (string?)annotations?["prometheus.io/path"]);
        });

        var dashboards = rendered.Single("ConfigMap", "fidpass-grafana-dashboards");
        Assert.Equal("1", (string?)dashboards["metadata"]!["labels"]!["grafana_dashboard"]);
        foreach (var file in Dashboards.Files())
        {
            Assert.Equal(await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken), (string?)dashboards["data"]![Path.GetFileName(file)]);
        }

        // Mounted by the operator's Prometheus under these documented names, so no hash suffix.
        Assert.NotNull(rendered.OfKind("ConfigMap").SingleOrDefault(c => Manifests.Name(c) == "fidpass-prometheus-rules"));
        Assert.NotNull(rendered.OfKind("ConfigMap").SingleOrDefault(c => Manifests.Name(c) == "fidpass-prometheus-config"));
        Assert.NotNull(rendered.OfKind("Deployment").SingleOrDefault(d => Manifests.Name(d) == "otel-collector"));
    }

    [Theory]
    [InlineData("local")]
    [InlineData("production")]
    public async Task The_gateway_takes_client_addresses_from_the_ingress_controllers_network_only(string overlay)
    {
        // Without a trusted proxy every customer counts as the ingress controller in the per-IP limits.
        var rendered = await Manifests.Render(overlay);
        var settings = ConfigurationKeyTests.Settings(rendered, rendered.Single("Deployment", "gateway"));

        var trusted = settings.Where(s => s.Key.StartsWith("ForwardedHeaders:Known", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(trusted);
        Assert.All(trusted, s =>
        {
            var value = (string)s.Value!;
            if (s.Key.StartsWith("ForwardedHeaders:KnownNetworks:", StringComparison.Ordinal))
            {
                var network = System.Net.IPNetwork.Parse(value);
                // Trusting everyone would let any client choose its own address.
                Assert.True(network.PrefixLength >= 8, $"{s.Key}={value} trusts too much");
            }
            else
            {
                Assert.Matches("^ForwardedHeaders:KnownProxies:[0-9]+$", s.Key);
                Assert.NotNull(System.Net.IPAddress.Parse(value));
            }
        });
    }

    [Fact]
    public async Task The_local_overlay_needs_no_ReadWriteMany_volume_and_keeps_the_web_replicas_with_their_key_ring()
    {
        var rendered = await Manifests.Render("local");

        Assert.All(rendered.OfKind("PersistentVolumeClaim").Concat(rendered.OfKind("StatefulSet").SelectMany(s => s["spec"]!["volumeClaimTemplates"]?.AsArray().Select(t => t!.AsObject()) ?? [])),
            claim => Assert.DoesNotContain("ReadWriteMany", claim["spec"]!["accessModes"]!.AsArray().Select(m => (string?)m)));
        var affinity = rendered.Single("Deployment", "web")["spec"]!["template"]!["spec"]!["affinity"]?["podAffinity"]?["requiredDuringSchedulingIgnoredDuringExecution"]?.AsArray();
        var term = Assert.Single(affinity ?? []);
        Assert.Equal("kubernetes.io/hostname", (string?)term!["topologyKey"]);
        Assert.Equal("web", (string?)term["labelSelector"]!["matchLabels"]!["app.kubernetes.io/name"]);
    }

    [Fact]
    public async Task The_local_overlays_connection_pools_at_full_scale_fit_PostgreSQLs_max_connections()
    {
        var rendered = await Manifests.Render("local");
        var postgres = Manifests.Containers(rendered.Single("StatefulSet", "postgres"))[0]!["args"]!.AsArray().Select(a => (string)a!).ToList();
        var maxConnections = int.Parse(postgres[postgres.IndexOf("-c") + 1].Split('=')[1], System.Globalization.CultureInfo.InvariantCulture);
        var secrets = rendered.OfKind("Secret").ToDictionary(Manifests.Name);
        var autoscaled = rendered.OfKind("HorizontalPodAutoscaler").ToDictionary(h => (string)h["spec"]!["scaleTargetRef"]!["name"]!, h => (int)h["spec"]!["maxReplicas"]!);

        var total = 0;
        var pods = 0;
        foreach (var deployment in rendered.FidpassDeployments)
        {
            var reference = Manifests.Containers(deployment)[0]!["env"]?.AsArray()
                .SingleOrDefault(e => (string?)e!["name"] == "ConnectionStrings__postgres")?["valueFrom"]?["secretKeyRef"];
            if (reference is null)
            {
                continue;
            }

            var connection = Encoding.UTF8.GetString(Convert.FromBase64String((string)secrets[(string)reference["name"]!]["data"]![(string)reference["key"]!]!));
            // Npgsql's default is 100.
            var size = Regex.Match(connection, "Maximum Pool Size=([0-9]+)", RegexOptions.IgnoreCase, TimeSpan.FromSeconds(1));
            var pool = size.Success ? int.Parse(size.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 100;
            var replicas = autoscaled.TryGetValue(Manifests.Name(deployment), out var max) ? max : Manifests.Replicas(deployment);
            // The pool, the daemon's leader lock and cashlogy-edge's machine locks (one connection each, outside the pool).
            total += replicas * (pool + 2);
            pods += replicas;
        }

        Assert.True(pods >= 8, $"only {pods} pods use PostgreSQL");
        // Room left for an operator's psql and a migration.
        Assert.True(total <= maxConnections - 10, $"{pods} pods may open {total} connections; max_connections is {maxConnections}");
    }

    [Fact]
    public async Task The_containers_ingress_routes_exactly_like_the_local_overlays_Ingress()
    {
        // deploy/containers/ingress.conf is what the container smoke test enters through: it must be the
        // local cluster's entry point, host by host and path by path.
        var conf = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "deploy", "containers", "ingress.conf"), TestContext.Current.CancellationToken);
        var servers = Regex.Matches(conf, @"server_name ([\w.-]+);(.*?)\n  \}", RegexOptions.Singleline, TimeSpan.FromSeconds(1))
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        var rendered = await Manifests.Render("local");
        var rules = rendered.OfKind("Ingress").SelectMany(i => i["spec"]!["rules"]!.AsArray()).ToList();

        Assert.Equal(rules.Select(r => (string)r!["host"]!).Order(), servers.Keys.Order());
        foreach (var rule in rules)
        {
            var server = servers[(string)rule!["host"]!];
            var paths = rule["http"]!["paths"]!.AsArray();
            foreach (var path in paths)
            {
                var (route, backend, exact) = ((string)path!["path"]!, (string)path["backend"]!["service"]!["name"]!, (string?)path["pathType"] == "Exact");
                if (backend == "fidpass-not-public")
                {
                    var closed = Regex.Match(server, @"location ~ \^/\(([\w|]+)\)\(/\|\$\) \{ return 503; \}", RegexOptions.None, TimeSpan.FromSeconds(1));
                    Assert.Contains(route.TrimStart('/'), closed.Groups[1].Value.Split('|'));
                }
                else
                {
                    Assert.Contains($"location {(exact ? "= " : "")}{route} {{ proxy_pass http://{backend}:8080; }}", server, StringComparison.Ordinal);
                }
            }

            // Nothing proxied that the Ingress does not route.
            Assert.Equal(paths.Count(p => (string?)p!["backend"]!["service"]!["name"] != "fidpass-not-public"), Regex.Count(server, "proxy_pass"));
        }
    }

    private static async Task<(int Exit, string Stdout)> Validate(string yaml)
    {
        var start = new System.Diagnostics.ProcessStartInfo("node", $"\"{Path.Combine(Manifests.ValidatorFolder, "validate.js")}\"")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.StandardInput.WriteAsync(yaml);
        process.StandardInput.Close();
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await stdout);
    }
}
