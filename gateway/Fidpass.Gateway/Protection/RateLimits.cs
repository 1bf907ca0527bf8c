using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Fidpass.Gateway.Authentication;

namespace Fidpass.Gateway.Protection;

/// <summary>
/// Fixed-window limits, chained: per client IP (everything), per presented credential (keyed by
/// the secret's SHA-256) and, stricter, on public routes: each route family (<c>Fidpass.RateLimit</c>:
/// enrolment, sign-up, card view) has its own bucket per client IP and, when the route names a
/// merchant, per merchant too, so reading cards never blocks enrolling and one shop's traffic never
/// blocks another's. Settings <c>RateLimits:{PerIp|PerCredential|Public}:{PermitLimit|WindowSeconds}</c>
/// and <c>RateLimits:Public:&lt;family&gt;:{PermitLimit|WindowSeconds}</c> (defaults: <c>RateLimits:Public</c>).
/// The client IP is the connection's, or the forwarded one when the connection comes from a configured
/// proxy (<see cref="ForwardedHeadersSetup"/>). A refusal is a 429 with <c>Retry-After</c> in seconds.
/// </summary>
public static class RateLimits
{
    public sealed record Limit(int PermitLimit, int WindowSeconds)
    {
        public FixedWindowRateLimiterOptions Options() => new()
        {
            PermitLimit = PermitLimit,
            Window = TimeSpan.FromSeconds(WindowSeconds),
            QueueLimit = 0,
            AutoReplenishment = true,
        };
    }

    public static Limit Read(IConfiguration configuration, string name, int permits, int windowSeconds)
    {
        var section = configuration.GetSection("RateLimits:" + name);
        return new Limit(
            int.TryParse(section["PermitLimit"], CultureInfo.InvariantCulture, out var p) && p > 0 ? p : permits,
            int.TryParse(section["WindowSeconds"], CultureInfo.InvariantCulture, out var w) && w > 0 ? w : windowSeconds);
    }

    public static IServiceCollection AddGatewayRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var perIp = Read(configuration, "PerIp", 50_000, 10);
        var perCredential = Read(configuration, "PerCredential", 20_000, 10);
        var publicRoutes = Read(configuration, "Public", 20, 60);
        var families = new System.Collections.Concurrent.ConcurrentDictionary<string, Limit>(StringComparer.Ordinal);

        return services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                // Each limiter has its own partitions, keyed by what it counts: no per-request key strings.
                PartitionedRateLimiter.Create<HttpContext, IPAddress>(context =>
                    RateLimitPartition.GetFixedWindowLimiter(ClientIp(context), _ => perIp.Options())),
                PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    RouteRules.For(context) is { Auth: RouteRules.Credential } && GatewayAuthentication.Read(context).Fingerprint is { } fingerprint
                        ? RateLimitPartition.GetFixedWindowLimiter(fingerprint, _ => perCredential.Options())
                        : RateLimitPartition.GetNoLimiter("")),
                PartitionedRateLimiter.Create<HttpContext, PublicBucket>(context =>
                    RouteRules.For(context) is { PublicRateLimit: { } family }
                        ? RateLimitPartition.GetFixedWindowLimiter(
                            new PublicBucket(family, ClientIp(context), context.Request.RouteValues.TryGetValue("slug", out var slug) ? slug as string : null),
                            bucket => families.GetOrAdd(bucket.Family, f => Read(configuration, "Public:" + f, publicRoutes.PermitLimit, publicRoutes.WindowSeconds)).Options())
                        : RateLimitPartition.GetNoLimiter(default(PublicBucket))));

            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = (rejected, _) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
                    ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))
                    : perCredential.WindowSeconds;
                rejected.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                return new ValueTask(GatewayErrors.RateLimited(rejected.HttpContext));
            };
        });
    }

    private static IPAddress ClientIp(HttpContext context) => context.Connection.RemoteIpAddress ?? IPAddress.None;

    /// <summary>One public bucket: a route family, a client address and, on routes that name one, a merchant.</summary>
    private readonly record struct PublicBucket(string Family, IPAddress Client, string? Slug);
}
