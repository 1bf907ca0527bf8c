using Fidpass.Gateway.Authentication;
using Microsoft.AspNetCore.Http.Features;

namespace Fidpass.Gateway.Protection;

/// <summary>Security headers on every answer (<c>Cache-Control: no-store</c> unless the service chose otherwise) and a request body size limit (<c>Gateway:MaxRequestBodyBytes</c>, 1 MiB by default).</summary>
public sealed class Hardening(RequestDelegate next, IConfiguration configuration)
{
    private readonly long _maxBody = long.TryParse(configuration["Gateway:MaxRequestBodyBytes"], System.Globalization.CultureInfo.InvariantCulture, out var max) && max > 0
        ? max
        : 1024 * 1024;

    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(static state =>
        {
            var headers = ((HttpContext)state).Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";

            // API answers hold member data (cards, balances, e-mails) and credentials: no browser or shared cache keeps them.
            if (!headers.ContainsKey("Cache-Control"))
            {
                headers.CacheControl = "no-store";
            }

            return Task.CompletedTask;
        }, context);

        if (context.Request.ContentLength > _maxBody)
        {
            return GatewayErrors.TooLarge(context, _maxBody);
        }

        // Bodies without a length (chunked) are cut by the server at the same limit.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = _maxBody;
        }

        return next(context);
    }
}
