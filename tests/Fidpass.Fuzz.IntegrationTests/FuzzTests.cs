using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace Fidpass.Fuzz.IntegrationTests;

/// <summary>
/// Issue 19: every operation of every service's OpenAPI document, read at run time (a new route is
/// covered without anyone adding it here), gets each hostile value in each path parameter, query
/// parameter and body field, and whole bodies that are not what it expects. Every answer must be
/// below 500; a 4xx on a v1 route is problem+json with a <c>code</c> (compatibility routes: their
/// <c>{error, code}</c> body); values no route may store are always refused; when an operation
/// refused everything, the service's stored state (every document and event table) is unchanged;
/// and the service is healthy afterwards.
/// </summary>
public sealed class FuzzTests(FuzzFixture fixture) : IClassFixture<FuzzFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_operation_of_every_service_refuses_hostile_input_with_a_clear_4xx()
    {
        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(fixture.Targets.Values.Select(FuzzAsync));
        var findings = results.SelectMany(r => r.Findings).ToList();
        var summary = string.Join("; ", results.Select(r => $"{r.Service}: {r.Operations} operations, {r.Requests} requests ({r.Accepted} accepted)"));
        TestContext.Current.TestOutputHelper?.WriteLine($"{summary} in {clock.Elapsed.TotalSeconds:F1} s");

        Assert.All(results, r => Assert.True(r.Operations > 0, $"{r.Service}: no operation in its OpenAPI document"));
        Assert.True(findings.Count == 0, $"{findings.Count} findings ({summary}):\n" + string.Join("\n", findings.Take(60)));
    }

    private sealed record Result(string Service, int Operations, int Requests, int Accepted, IReadOnlyList<string> Findings);

    private async Task<Result> FuzzAsync(FuzzTarget target)
    {
        using var client = target.CreateClient();
        var document = JsonDocument.Parse(await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative), Ct)).RootElement;
        var operations = OpenApiOperations.Read(document);
        var findings = new ConcurrentQueue<string>();
        var requests = 0;
        var acceptedRequests = 0;
        await using var database = NpgsqlDataSource.Create(target.Postgres);
        var volatileTables = await VolatileTablesAsync(database, target.Schema);
        var checkedTables = (await FingerprintAsync(database, target.Schema, volatileTables)).Count;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{target.Name}: state read back from {checkedTables} tables (changing by themselves, not checked: {string.Join(", ", volatileTables)})");
        if (checkedTables == 0)
        {
            findings.Enqueue($"{target.Name}: no stored state to read back");
        }

        foreach (var operation in operations)
        {
            var before = await FingerprintAsync(database, target.Schema, volatileTables);
            var accepted = false;
            foreach (var (label, request, neverStorable) in Cases(operation, target.KnownIds))
            {
                requests++;
                using var message = request;
                HttpResponseMessage response;
                try
                {
                    response = await client.SendAsync(message, Ct);
                }
                catch (InvalidOperationException e) when (e.Message.Contains("null characters", StringComparison.Ordinal))
                {
                    // A NUL in the path: Kestrel itself answers 400 before any application code (the
                    // test server refuses to build such a request).
                    continue;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    findings.Enqueue($"{target.Name} {operation} [{label}]: no answer ({e.GetType().Name}: {e.Message})");
                    continue;
                }

                using (response)
                {
                    var status = (int)response.StatusCode;
                    var body = await response.Content.ReadAsStringAsync(Ct);
                    if (status >= 500)
                    {
                        findings.Enqueue($"{target.Name} {operation} [{label}]: {status} {Truncate(body)}");
                    }
                    else if (status is >= 200 and < 300)
                    {
                        accepted = true;
                        acceptedRequests++;
                        if (neverStorable)
                        {
                            findings.Enqueue($"{target.Name} {operation} [{label}]: accepted ({status}) a value no route may store");
                        }
                    }
                    else if (status >= 400 && ErrorBodyProblem(operation.Template, response, body) is { } problem)
                    {
                        findings.Enqueue($"{target.Name} {operation} [{label}]: {status} {problem}: {Truncate(body)}");
                    }
                }
            }

            if (!accepted)
            {
                var after = await FingerprintAsync(database, target.Schema, volatileTables);
                foreach (var table in before.Keys.Union(after.Keys).Where(t => before.GetValueOrDefault(t) != after.GetValueOrDefault(t)))
                {
                    findings.Enqueue($"{target.Name} {operation}: every request was refused, yet {table} changed");
                }
            }
        }

        var health = await client.GetAsync(new Uri("/health", UriKind.Relative), Ct);
        if (health.StatusCode != HttpStatusCode.OK)
        {
            findings.Enqueue($"{target.Name}: /health answers {(int)health.StatusCode} after the fuzzing");
        }

        return new Result(target.Name, operations.Count, requests, acceptedRequests, [.. findings]);
    }

    /// <summary>
    /// 5xx this test found that belong to another part of issue 19, being fixed on its own branch
    /// (stripe-terminal: location names with accents, a newline or 100k characters end up in an HTTP
    /// header to Stripe). Delete an entry as soon as its fix is merged: the test then guards it too.
    /// </summary>
    /// <summary>Why a 4xx body is not what the route family promises, or null when it is.</summary>
    private static string? ErrorBodyProblem(string template, HttpResponseMessage response, string body)
    {
        JsonElement json;
        try
        {
            json = JsonDocument.Parse(body).RootElement;
        }
        catch (JsonException)
        {
            return "error body is not JSON";
        }

        var hasCode = json.ValueKind == JsonValueKind.Object && json.TryGetProperty("code", out var code)
            && code.ValueKind == JsonValueKind.String && code.GetString()!.Length > 0;
        if (template.StartsWith("/api/v1/", StringComparison.Ordinal))
        {
            if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            {
                return $"v1 error is {response.Content.Headers.ContentType?.MediaType}, not problem+json";
            }

            if (!hasCode)
            {
                return "v1 problem without a code";
            }

            return System.Text.RegularExpressions.Regex.IsMatch(json.GetProperty("code").GetString()!, "^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
                ? null
                : "v1 code is not lower_snake_case";
        }

        // Compatibility routes: the historical body; a 401 has only its message.
        return json.ValueKind == JsonValueKind.Object && (hasCode || json.TryGetProperty("error", out _)) ? null : "error body without code or error";
    }

    private static IEnumerable<(string Label, HttpRequestMessage Request, bool NeverStorable)> Cases(Operation operation, IReadOnlyDictionary<string, string> ids)
    {
        var path = operation.Parameters.Where(p => p.In == "path").ToList();
        var query = operation.Parameters.Where(p => p.In == "query").ToList();
        var fields = operation.BodyFields ?? [];

        foreach (var hostile in HostileValues.Values)
        {
            // In a URL, invalid UTF-8 and encoded surrogates are decoded to U+FFFD by the server: storable.
            var urlNeverStorable = hostile.Name == "NUL";
            foreach (var p in path)
            {
                yield return ($"path {p.Name} = {hostile}", Build(operation, ids, (p.Name, hostile.Url), null, null, null), urlNeverStorable);
            }

            foreach (var p in query)
            {
                yield return ($"query {p.Name} = {hostile}", Build(operation, ids, null, (p.Name, hostile.Url), null, null), urlNeverStorable);
            }

            if (operation.HasBody)
            {
                foreach (var f in fields)
                {
                    yield return ($"body {f.Name} = {hostile}", Build(operation, ids, null, null, (f.Name, hostile.Json), null), hostile.NeverStorable);
                }

                if (fields.Count == 0)
                {
                    // A body read raw: the hostile value under a made-up field, and as the whole body.
                    yield return ($"body x = {hostile}", Build(operation, ids, null, null, ("x", hostile.Json), null), hostile.NeverStorable);
                }
            }
        }

        // Query values the document does not declare are still read by some routes.
        yield return ("undeclared query value NUL", Build(operation, ids, null, ("search", "a%00b"), null, null), true);
        if (operation.HasBody)
        {
            foreach (var body in HostileValues.Bodies)
            {
                yield return (body.Name, Build(operation, ids, null, null, null, body.Json), body.NeverStorable);
            }
        }
    }

    private static HttpRequestMessage Build(Operation operation, IReadOnlyDictionary<string, string> ids,
        (string Name, string Url)? pathValue, (string Name, string Url)? queryValue, (string Name, byte[] Json)? field, byte[]? wholeBody)
    {
        var url = new StringBuilder();
        foreach (var segment in operation.Template.Split('/').Skip(1))
        {
            url.Append('/');
            if (!segment.StartsWith('{'))
            {
                url.Append(segment);
                continue;
            }

            var name = segment[1..^1].Split(':')[0];
            var parameter = operation.Parameters.FirstOrDefault(p => p.Name == name);
            url.Append(pathValue?.Name == name ? pathValue.Value.Url : Uri.EscapeDataString(ValidPathValue(name, parameter, ids)));
        }

        var queries = operation.Parameters.Where(p => p.In == "query" && p.Name != queryValue?.Name)
            .Select(p => $"{Uri.EscapeDataString(p.Name)}={Uri.EscapeDataString(Plausible(p) is var v && v.StartsWith('"') ? v.Trim('"') : v)}")
            .ToList();
        if (queryValue is { } q)
        {
            queries.Add($"{Uri.EscapeDataString(q.Name)}={q.Url}");
        }

        if (queries.Count > 0)
        {
            url.Append('?').Append(string.Join('&', queries));
        }

        var request = new HttpRequestMessage(new HttpMethod(operation.Method), new Uri(url.ToString(), UriKind.Relative));
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        if (operation.HasBody)
        {
            var body = wholeBody ?? BodyWith(operation.BodyFields!, field);
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        return request;
    }

    /// <summary>A plausible object with one field replaced by a hostile value.</summary>
    private static byte[] BodyWith(IReadOnlyList<Parameter> fields, (string Name, byte[] Json)? hostile)
    {
        var body = new List<byte> { (byte)'{' };
        var all = fields.Select(f => (f.Name, Value: HostileValues.Utf8(Plausible(f)))).ToList();
        if (hostile is { } h)
        {
            all.RemoveAll(f => f.Name == h.Name);
            all.Add((h.Name, h.Json));
        }

        for (var i = 0; i < all.Count; i++)
        {
            if (i > 0)
            {
                body.Add((byte)',');
            }

            body.AddRange(HostileValues.Utf8(JsonSerializer.Serialize(all[i].Name) + ":"));
            body.AddRange(all[i].Value);
        }

        body.Add((byte)'}');
        return [.. body];
    }

    private static string Plausible(Parameter p) => (p.Type, p.Format) switch
    {
        ("integer", _) => "1",
        ("number", _) => "1",
        ("boolean", _) => "true",
        ("array", _) => "[]",
        ("object", _) => "{}",
        (_, "uuid") => JsonSerializer.Serialize(Guid.NewGuid()),
        _ => "\"fuzz\"",
    };

    private static string ValidPathValue(string name, Parameter? parameter, IReadOnlyDictionary<string, string> ids) =>
        ids.TryGetValue(name, out var known) ? known
        : parameter?.Format == "uuid" || name.EndsWith("Id", StringComparison.Ordinal) ? Guid.NewGuid().ToString()
        : "fuzz";

    /// <summary>Tables that change while nobody calls the service (daemon progress, health polls): not state a request could have changed.</summary>
    private static async Task<HashSet<string>> VolatileTablesAsync(NpgsqlDataSource database, string schema)
    {
        var first = await FingerprintAsync(database, schema, []);
        await Task.Delay(1500, Ct);
        var second = await FingerprintAsync(database, schema, []);
        return [.. first.Keys.Union(second.Keys).Where(t => first.GetValueOrDefault(t) != second.GetValueOrDefault(t))];
    }

    private static async Task<Dictionary<string, string>> FingerprintAsync(NpgsqlDataSource database, string schema, HashSet<string> skip)
    {
        var tables = new List<string>();
        await using (var list = database.CreateCommand(
            "select table_name from information_schema.tables where table_schema = $1 and (table_name like 'mt_doc_%' or table_name in ('mt_events', 'mt_streams'))"))
        {
            list.Parameters.Add(new NpgsqlParameter { Value = schema });
            await using var reader = await list.ExecuteReaderAsync(Ct);
            while (await reader.ReadAsync(Ct))
            {
                tables.Add(reader.GetString(0));
            }
        }

        var prints = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var table in tables.Where(t => !skip.Contains(t)))
        {
            await using var print = database.CreateCommand(
                $"select count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' order by t::text)), '') from \"{schema}\".\"{table}\" t");
            prints[table] = (string)(await print.ExecuteScalarAsync(Ct))!;
        }

        return prints;
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
