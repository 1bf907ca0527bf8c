using System.Text.Json;

namespace Fidpass.Fuzz.IntegrationTests;

public sealed record Parameter(string Name, string In, string Type, string? Format);

public sealed record Operation(string Method, string Template, IReadOnlyList<Parameter> Parameters, IReadOnlyList<Parameter>? BodyFields)
{
    public bool HasBody => BodyFields is not null;

    public override string ToString() => $"{Method} {Template}";
}

/// <summary>The operations an OpenAPI 3 document declares, with their path and query parameters and
/// the top-level fields of their JSON body (resolving <c>$ref</c>).</summary>
public static class OpenApiOperations
{
    private static readonly string[] Methods = ["get", "post", "put", "patch", "delete"];

    public static IReadOnlyList<Operation> Read(JsonElement document)
    {
        var operations = new List<Operation>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var item in path.Value.EnumerateObject().Where(i => Methods.Contains(i.Name)))
            {
                var parameters = new List<Parameter>();
                if (item.Value.TryGetProperty("parameters", out var declared))
                {
                    foreach (var p in declared.EnumerateArray())
                    {
                        var schema = p.TryGetProperty("schema", out var s) ? Resolve(document, s) : default;
                        parameters.Add(new Parameter(p.GetProperty("name").GetString()!, p.GetProperty("in").GetString()!, TypeOf(schema), FormatOf(schema)));
                    }
                }

                // Path parameters the document leaves out are still in the template.
                foreach (var name in PathParameters(path.Name).Where(n => parameters.All(p => p.Name != n)))
                {
                    parameters.Add(new Parameter(name, "path", "string", null));
                }

                operations.Add(new Operation(item.Name.ToUpperInvariant(), path.Name, parameters, BodyFieldsOf(document, item.Value, item.Name)));
            }
        }

        return operations;
    }

    public static IEnumerable<string> PathParameters(string template) =>
        template.Split('/').Where(s => s.StartsWith('{') && s.EndsWith('}')).Select(s => s[1..^1].Split(':')[0]);

    /// <summary>Null for an operation without a body; empty when the body is declared without fields
    /// (or not declared at all on a write: endpoints that read the raw body).</summary>
    private static List<Parameter>? BodyFieldsOf(JsonElement document, JsonElement operation, string method)
    {
        if (!operation.TryGetProperty("requestBody", out var body))
        {
            return method is "post" or "put" or "patch" ? [] : null;
        }

        var fields = new List<Parameter>();
        if (body.TryGetProperty("content", out var content))
        {
            foreach (var media in content.EnumerateObject())
            {
                if (!media.Value.TryGetProperty("schema", out var schema))
                {
                    continue;
                }

                var resolved = Resolve(document, schema);
                if (resolved.ValueKind == JsonValueKind.Object && resolved.TryGetProperty("properties", out var properties))
                {
                    foreach (var property in properties.EnumerateObject())
                    {
                        var p = Resolve(document, property.Value);
                        fields.Add(new Parameter(property.Name, "body", TypeOf(p), FormatOf(p)));
                    }
                }

                break;
            }
        }

        return fields;
    }

    private static JsonElement Resolve(JsonElement document, JsonElement schema)
    {
        for (var i = 0; i < 10 && schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("$ref", out var reference); i++)
        {
            var target = document;
            foreach (var segment in reference.GetString()!.TrimStart('#', '/').Split('/'))
            {
                if (!target.TryGetProperty(segment, out target))
                {
                    return default;
                }
            }

            schema = target;
        }

        return schema;
    }

    private static string TypeOf(JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Object || !schema.TryGetProperty("type", out var type))
        {
            return "string";
        }

        // OpenAPI 3.1 writes nullable types as ["string", "null"].
        return type.ValueKind == JsonValueKind.Array
            ? type.EnumerateArray().Select(t => t.GetString()).FirstOrDefault(t => t != "null") ?? "string"
            : type.GetString() ?? "string";
    }

    private static string? FormatOf(JsonElement schema) =>
        schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("format", out var f) ? f.GetString() : null;
}
