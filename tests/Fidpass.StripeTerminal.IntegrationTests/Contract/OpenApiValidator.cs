using System.Text.Json.Nodes;

namespace Fidpass.StripeTerminal.IntegrationTests.Contract;

/// <summary>
/// The subset of OpenAPI 3.0 schema rules Stripe's spec uses for the objects we read: <c>type</c>,
/// <c>nullable</c>, <c>enum</c> (unless <c>x-stripeBypassValidation</c>), <c>maxLength</c>,
/// <c>required</c>, <c>properties</c>, <c>additionalProperties</c>, <c>items</c>, <c>anyOf</c>,
/// <c>$ref</c>. Stricter than the spec on one point: a property the schema does not name is an
/// error, so the fake cannot invent fields. (JSON Schema validators of the registry do not know
/// OpenAPI 3.0's <c>nullable</c>; this is small enough to own.)
/// </summary>
public sealed class OpenApiValidator(JsonObject spec)
{
    private readonly JsonObject _schemas = spec["components"]!["schemas"]!.AsObject();

    public static OpenApiValidator Load(string path) => new(JsonNode.Parse(File.ReadAllText(path))!.AsObject());

    public bool Knows(string schema) => _schemas[schema] is JsonObject s && s["x-not-excerpted"] is null;

    public IReadOnlyList<string> Validate(JsonNode? value, string schema)
    {
        var errors = new List<string>();
        Check(value, _schemas[schema]!.AsObject(), schema, errors);
        return errors;
    }

    private void Check(JsonNode? value, JsonObject schema, string path, List<string> errors)
    {
        if (schema["$ref"] is JsonValue reference)
        {
            var name = reference.GetValue<string>()["#/components/schemas/".Length..];
            if (_schemas[name] is not JsonObject target)
            {
                errors.Add($"{path}: $ref {name} is missing from the excerpt");
                return;
            }

            Check(value, target, path, errors);
            return;
        }

        if (schema["x-not-excerpted"] is not null)
        {
            if (value is not (JsonObject or null))
            {
                errors.Add($"{path}: an object was expected");
            }

            return;
        }

        if (value is null)
        {
            if (schema["nullable"]?.GetValue<bool>() != true)
            {
                errors.Add($"{path}: null where the spec does not allow it");
            }

            return;
        }

        if (schema["anyOf"] is JsonArray alternatives)
        {
            var failures = alternatives.Select(a => { var e = new List<string>(); Check(value, a!.AsObject(), path, e); return e; }).ToList();
            if (failures.All(f => f.Count > 0))
            {
                errors.Add($"{path}: matches none of anyOf ({string.Join(" | ", failures.Select(f => f[0]))})");
            }

            return;
        }

        switch (schema["type"]?.GetValue<string>())
        {
            case "string" when value.GetValueKind() != System.Text.Json.JsonValueKind.String:
            case "boolean" when value.GetValueKind() is not (System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False):
            case "integer" when value.GetValueKind() != System.Text.Json.JsonValueKind.Number || !long.TryParse(value.ToJsonString(), out _):
            case "number" when value.GetValueKind() != System.Text.Json.JsonValueKind.Number:
            case "array" when value is not JsonArray:
            case "object" when value is not JsonObject:
                errors.Add($"{path}: {value.GetValueKind()} where the spec says {schema["type"]}");
                return;
            default:
                break;
        }

        if (value is JsonValue scalar && scalar.GetValueKind() == System.Text.Json.JsonValueKind.String)
        {
            var text = scalar.GetValue<string>();
            if (schema["maxLength"] is JsonValue max && text.Length > max.GetValue<int>())
            {
                errors.Add($"{path}: longer than {max}");
            }

            if (schema["enum"] is JsonArray allowed && schema["x-stripeBypassValidation"] is null && !allowed.Any(a => a!.GetValue<string>() == text))
            {
                errors.Add($"{path}: '{text}' is not one of {allowed.ToJsonString()}");
            }
        }

        if (value is JsonArray array && schema["items"] is JsonObject items)
        {
            for (var i = 0; i < array.Count; i++)
            {
                Check(array[i], items, $"{path}[{i}]", errors);
            }
        }

        if (value is JsonObject obj)
        {
            foreach (var required in schema["required"]?.AsArray() ?? [])
            {
                if (!obj.ContainsKey(required!.GetValue<string>()))
                {
                    errors.Add($"{path}: required {required} is missing");
                }
            }

            var properties = schema["properties"]?.AsObject();
            foreach (var (name, child) in obj)
            {
                if (properties?[name] is JsonObject property)
                {
                    Check(child, property, $"{path}.{name}", errors);
                }
                else if (schema["additionalProperties"] is JsonObject additional)
                {
                    Check(child, additional, $"{path}.{name}", errors);
                }
                else
                {
                    errors.Add($"{path}.{name}: not a property of this object in Stripe's spec");
                }
            }
        }
    }
}
