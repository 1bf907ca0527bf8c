using System.Text.Json;
using Npgsql;

namespace Fidpass.Chaos;

/// <summary>
/// The full rebuild the checker compares the read models with: it reads loyalty's event store
/// (<c>loyalty.mt_events</c>) straight from PostgreSQL and folds each member's stream itself, with
/// its own arithmetic rather than loyalty's code — enrolment first, versions 1, 2, 3… without a gap,
/// every event's NewBalance equal to the running sum of the deltas, no operation id twice — then
/// compares the result with loyalty's stored member document (the inline snapshot the lookup,
/// the search and every later decision read).
/// </summary>
internal static class StoreAudit
{
    internal sealed record RebuiltCredit(Guid OperationId, Guid Member, long Points, long AmountCents, string? PaymentId, string? Source, DateOnly? CapDay);

    internal sealed record RebuiltReversal(Guid OperationId, Guid ReversedOperationId, Guid Member, long Points);

    internal sealed record Rebuilt(Dictionary<Guid, long> Balances, List<RebuiltCredit> Credits, List<RebuiltReversal> Reversals, int Events, List<Violation> Violations);

    public static async Task<Rebuilt> RebuildAsync(string connectionString, IReadOnlyCollection<Guid> members)
    {
        var violations = new List<Violation>();
        var balances = new Dictionary<Guid, long>();
        var credits = new List<RebuiltCredit>();
        var reversals = new List<RebuiltReversal>();
        var operations = new Dictionary<Guid, Guid>();
        var events = 0;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();

        var ids = members.ToArray();
        await using (var read = new NpgsqlCommand(
            "SELECT stream_id, version, type, data::text FROM loyalty.mt_events WHERE stream_id = ANY(@ids) ORDER BY stream_id, version", connection))
        {
            read.Parameters.AddWithValue("ids", ids);
            await using var rows = await read.ExecuteReaderAsync();
            Guid current = Guid.Empty;
            long expectedVersion = 0, balance = 0;
            while (await rows.ReadAsync())
            {
                events++;
                var member = rows.GetGuid(0);
                var version = rows.GetInt64(1);
                var type = Normalise(rows.GetString(2));
                using var json = JsonDocument.Parse(rows.GetString(3));
                var data = json.RootElement;
                if (member != current)
                {
                    if (current != Guid.Empty)
                    {
                        balances[current] = balance;
                    }

                    current = member;
                    expectedVersion = 1;
                    balance = 0;
                    if (type != "memberenrolled")
                    {
                        violations.Add(new Violation("store", member.ToString(), $"STREAM STARTS WITH {type}, not the enrolment"));
                    }
                }

                if (version != expectedVersion)
                {
                    violations.Add(new Violation("store", member.ToString(), $"STREAM GAP: version {version} where {expectedVersion} was expected"));
                }

                expectedVersion = version + 1;
                long? delta = type switch
                {
                    "pointscredited" => Long(data, "Points"),
                    "pointsadjusted" => Long(data, "Delta"),
                    "rewardredeemed" => -Long(data, "Points"),
                    "creditreversed" => -Long(data, "Points"),
                    "pointsexpired" => -Long(data, "Points"),
                    _ => null,
                };
                if (delta is not { } d)
                {
                    continue;
                }

                balance += d;
                var newBalance = Long(data, "NewBalance");
                if (newBalance != balance)
                {
                    violations.Add(new Violation("store", member.ToString(), $"BALANCE CHAIN BROKEN at version {version}: the event says {newBalance}, the deltas sum to {balance}"));
                    balance = newBalance;
                }

                var operation = Guid.Parse(String(data, "OperationId") ?? Guid.Empty.ToString());
                if (operations.TryGetValue(operation, out var first))
                {
                    violations.Add(new Violation(operation.ToString(), member.ToString(), $"OPERATION STORED TWICE (first on member {first})"));
                }

                operations[operation] = member;
                if (type == "pointscredited")
                {
                    credits.Add(new RebuiltCredit(operation, member, d, Long(data, "AmountCents"), String(data, "PaymentId"), String(data, "Source"),
                        String(data, "CapDay") is { } day ? DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture) : null));
                }
                else if (type == "creditreversed")
                {
                    reversals.Add(new RebuiltReversal(operation, Guid.Parse(String(data, "ReversedOperationId") ?? Guid.Empty.ToString()), member, -d));
                }
            }

            if (current != Guid.Empty)
            {
                balances[current] = balance;
            }
        }

        await using (var docs = new NpgsqlCommand("SELECT id, data::text FROM loyalty.mt_doc_member WHERE id = ANY(@ids)", connection))
        {
            docs.Parameters.AddWithValue("ids", ids);
            await using var rows = await docs.ExecuteReaderAsync();
            var seen = new HashSet<Guid>();
            while (await rows.ReadAsync())
            {
                var id = rows.GetGuid(0);
                seen.Add(id);
                using var json = JsonDocument.Parse(rows.GetString(1));
                var stored = Long(json.RootElement, "Points");
                var rebuilt = balances.GetValueOrDefault(id);
                if (stored != rebuilt)
                {
                    violations.Add(new Violation("read model", id.ToString(), $"READ MODEL ≠ REBUILD: the member document says {stored} points, its events {rebuilt}"));
                }
            }

            foreach (var missing in ids.Where(id => !seen.Contains(id)))
            {
                violations.Add(new Violation("read model", missing.ToString(), "READ MODEL MISSING: no member document"));
            }
        }

        foreach (var missing in ids.Where(id => !balances.ContainsKey(id)))
        {
            violations.Add(new Violation("store", missing.ToString(), "NO STREAM for this member"));
        }

        return new Rebuilt(balances, credits, reversals, events, violations);
    }

    /// <summary>For <c>--sabotage</c>: adds points to a member's stored document behind its events' back.</summary>
    public static async Task CorruptAsync(string connectionString, Guid member, long points)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var update = new NpgsqlCommand(
            "UPDATE loyalty.mt_doc_member SET data = jsonb_set(data, '{Points}', to_jsonb((data->>'Points')::bigint + @points)) WHERE id = @id", connection);
        update.Parameters.AddWithValue("id", member);
        update.Parameters.AddWithValue("points", points);
        await update.ExecuteNonQueryAsync();
    }

    /// <summary>"points_credited", "PointsCredited" and the .NET name all read as "pointscredited".</summary>
    private static string Normalise(string type) => type.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();

    private static JsonElement? Property(JsonElement data, string name)
    {
        foreach (var p in data.EnumerateObject())
        {
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return p.Value;
            }
        }

        return null;
    }

    private static long Long(JsonElement data, string name) =>
        Property(data, name) is { ValueKind: JsonValueKind.Number } v ? v.GetInt64() : 0;

    private static string? String(JsonElement data, string name) => Property(data, name) switch
    {
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        { ValueKind: JsonValueKind.Number } v => v.GetRawText(),
        _ => null,
    };
}
