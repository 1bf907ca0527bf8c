using System.Globalization;
using Fidpass.Web.Gateway;
using Fidpass.Web.Session;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Localization;

namespace Fidpass.Web;

/// <summary>Hosting of the web space: pages, French resources, the session cookie and the gateway client.</summary>
public static class WebSpace
{
    public const string DataProtectionApplicationName = "Fidpass.Web";

    public static IHostApplicationBuilder AddWebSpace(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddLocalization(o => o.ResourcesPath = "Resources");
        services.AddRazorPages(o =>
        {
            o.Conventions.AuthorizeFolder("/Merchant");
            o.Conventions.AllowAnonymousToPage("/Index");
        }).AddViewLocalization();

        // The session and TempData cookies are encrypted with the Data Protection key ring. Replicas
        // must share it (and the application name) to read each other's cookies: keys live in the
        // directory DataProtection:KeysDirectory (a volume every replica mounts). Without it, each
        // process keeps its own keys and a cookie only works on the replica that issued it.
        var dataProtection = services.AddDataProtection().SetApplicationName(DataProtectionApplicationName);
        if (builder.Configuration["DataProtection:KeysDirectory"] is { Length: > 0 } keys)
        {
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(keys));
        }

        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(o =>
        {
            // The cookie carries the gateway session (fps_…), encrypted; scripts never see it.
            o.Cookie.Name = MerchantSession.CookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.LoginPath = "/";
            o.AccessDeniedPath = "/";
            o.ReturnUrlParameter = "retour";
            o.SlidingExpiration = false;
        });
        services.AddAuthorization();

        // TempData carries a secret shown once after a redirect (a new integration key): encrypted
        // by Data Protection like the session cookie, never readable by scripts, read once then deleted.
        services.Configure<Microsoft.AspNetCore.Mvc.CookieTempDataProviderOptions>(o =>
        {
            o.Cookie.Name = "fidpass_once";
            o.Cookie.HttpOnly = true;
            o.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.IsEssential = true;
        });

        services.AddHttpContextAccessor();
        services.AddHttpClient<GatewayClient>((sp, http) =>
        {
            http.BaseAddress = GatewayClient.Address(sp.GetRequiredService<IConfiguration>());
            http.Timeout = TimeSpan.FromSeconds(10);
        });
        return builder;
    }

    public static WebApplication UseWebSpace(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
        }

        app.UseExceptionHandler("/erreur");
        app.UseStatusCodePagesWithReExecute("/erreur", "?code={0}");
        var contentSecurityPolicy = ContentSecurityPolicy(app.Configuration);
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            // Sign-in links carry a secret in the query: no page ever leaks its URL to another site.
            headers["Referrer-Policy"] = "no-referrer";
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()";
            headers.ContentSecurityPolicy = contentSecurityPolicy;
            context.Response.OnStarting(static state =>
            {
                // Pages and exports show member data: never kept by a browser or a shared cache (static files keep theirs).
                var http = (HttpContext)state;
                if (http.GetEndpoint() is not null && !http.Response.Headers.ContainsKey("Cache-Control"))
                {
                    http.Response.Headers.CacheControl = "no-store";
                }

                return Task.CompletedTask;
            }, context);
            await next(context);
        });
        var french = new CultureInfo("fr-FR");
        app.UseRequestLocalization(new RequestLocalizationOptions
        {
            DefaultRequestCulture = new RequestCulture(french),
            SupportedCultures = [french, new CultureInfo("en")],
            SupportedUICultures = [french, new CultureInfo("en")],
        });
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseMiddleware<SessionEndedHandler>();
        app.UseAuthorization();
        return app;
    }

    /// <summary>
    /// Scripts and everything else from this origin only (no inline script: pages load <c>/js/*.js</c>);
    /// inline style attributes allowed; the browser may call the gateway (public enrolment, live card
    /// balance) and show the shop's logo from it; camera frames and the scanner's worker use <c>blob:</c>.
    /// </summary>
    public static string ContentSecurityPolicy(IConfiguration configuration) =>
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        + $"img-src 'self' data: blob: {GatewayClient.PublicAddress(configuration)}; media-src 'self' blob:; "
        + $"worker-src 'self' blob:; connect-src 'self' {GatewayClient.PublicAddress(configuration)}; manifest-src 'self'; "
        + "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
}
