using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Net.Http.Headers;

namespace Fidpass.ServiceDefaults;

/// <summary>
/// Refuses, before any endpoint runs, the values no endpoint can store: a NUL character in a query,
/// route or JSON string (PostgreSQL refuses it in text and jsonb), a lone UTF-16 surrogate in a JSON
/// string (System.Text.Json cannot turn it into a string), a body that is not UTF-8, and a body over
/// <c>Fidpass:MaxRequestBodyBytes</c> (1 MiB by default, chunked bodies counted as they arrive).
/// Each is a 400 (413 for the size) with a stable code, and nothing is written. Bodies that are not
/// JSON at all are left to the endpoints, which answer them with their own codes.
/// </summary>
public sealed class RequestGuard(RequestDelegate next, IConfiguration configuration)
{
    public const string InvalidCharacter = "invalid_character";
    public const string InvalidEncoding = "invalid_encoding";
    public const string PayloadTooLarge = "payload_too_large";

    private const string InvalidCharacterDetail =
        "La requête contient un caractère interdit (caractère nul U+0000 ou demi-paire UTF-16 isolée).";

    private readonly long _maxBody = long.TryParse(configuration["Fidpass:MaxRequestBodyBytes"], System.Globalization.CultureInfo.InvariantCulture, out var max) && max > 0
        ? max
        : 1024 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        if (HasNul(context))
        {
            await ApiProblems.Refuse(context, StatusCodes.Status400BadRequest, InvalidCharacter, InvalidCharacterDetail);
            return;
        }

        if (context.Request.ContentLength > _maxBody)
        {
            await RefuseTooLarge(context);
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = _maxBody;
        }

        if (IsText(context.Request) && context.Request.ContentLength is not 0)
        {
            context.Request.EnableBuffering();
            var body = await ReadAsync(context.Request.Body, context.RequestAborted);
            if (body is null)
            {
                await RefuseTooLarge(context);
                return;
            }

            context.Request.Body.Position = 0;
            if (!Utf8.IsValid(body))
            {
                await ApiProblems.Refuse(context, StatusCodes.Status400BadRequest, InvalidEncoding,
                    "Le corps de la requête doit être encodé en UTF-8.");
                return;
            }

            if (HasForbiddenJsonString(body))
            {
                await ApiProblems.Refuse(context, StatusCodes.Status400BadRequest, InvalidCharacter, InvalidCharacterDetail);
                return;
            }
        }

        await next(context);
    }

    private Task RefuseTooLarge(HttpContext context) => ApiProblems.Refuse(context, StatusCodes.Status413PayloadTooLarge, PayloadTooLarge,
        $"Le corps de la requête dépasse la taille maximale ({_maxBody} octets).");

    private static bool HasNul(HttpContext context)
    {
        foreach (var (key, values) in context.Request.Query)
        {
            if (key.Contains('\0', StringComparison.Ordinal) || values.Any(v => v?.Contains('\0', StringComparison.Ordinal) == true))
            {
                return true;
            }
        }

        return context.Request.RouteValues.Values.Any(v => v is string s && s.Contains('\0', StringComparison.Ordinal))
            || context.Request.Path.Value?.Contains('\0', StringComparison.Ordinal) == true;
    }

    /// <summary>JSON, text, or a body that does not say: what the endpoints parse as JSON.</summary>
    private static bool IsText(HttpRequest request)
    {
        if (!HttpMethods.IsPost(request.Method) && !HttpMethods.IsPut(request.Method) && !HttpMethods.IsPatch(request.Method)
            && !HttpMethods.IsDelete(request.Method))
        {
            return false;
        }

        if (string.IsNullOrEmpty(request.ContentType))
        {
            return true;
        }

        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type))
        {
            return true;
        }

        return type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || type.MediaType.Value?.EndsWith("+json", StringComparison.OrdinalIgnoreCase) == true
            || type.Type.Equals("text", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The whole body, or null past the size limit.</summary>
    private async Task<byte[]?> ReadAsync(Stream body, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        try
        {
            while ((read = await body.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + read > _maxBody)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }

        return buffer.ToArray();
    }

    /// <summary>True when a JSON string or property name holds a NUL or a lone surrogate. Stops quietly
    /// at the first syntax error: the endpoint refuses malformed JSON itself.</summary>
    private static bool HasForbiddenJsonString(byte[] body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 256 });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName) || !reader.ValueIsEscaped)
                {
                    continue;
                }

                string? value;
                try
                {
                    value = reader.GetString();
                }
                catch (InvalidOperationException)
                {
                    return true;
                }

                if (value?.Contains('\0', StringComparison.Ordinal) == true)
                {
                    return true;
                }
            }
        }
        catch (JsonException)
        {
        }

        return false;
    }
}
