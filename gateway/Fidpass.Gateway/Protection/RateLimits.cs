using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Fidpass.Gateway.Authentication;

namespace Fidpass.Gateway.Protection;

/// <summary>
/// Fixed-window limits, chained: per client IP (everything), per presented credential (keyed by
/// the secret's SHA-256) and, stricter, per IP on public routes that create something (enrolment, sign-up). Settings <c>RateLimits:{PerIp|PerCredential|Public}:{PermitLimit|WindowSeconds}</c>.
/// A refusal is a 429 with <c>Retry-After</c> in seconds.
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
                PartitionedRateLimiter.Create<HttpContext, IPAddress>(context =>
                    RouteRules.For(context) is { PublicRateLimit: true }
                        ? RateLimitPartition.GetFixedWindowLimiter(ClientIp(context), _ => publicRoutes.Options())
                        : RateLimitPartition.GetNoLimiter(IPAddress.None)));

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
}
